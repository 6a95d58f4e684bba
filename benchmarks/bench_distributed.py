"""Counting on a Dask cluster (issue 15, benchmark a): vocabulary and co-occurrence throughput
of one process against a ``LocalCluster`` of 1 and 2 workers.

    python benchmarks/bench_distributed.py [--corpus ../shared/corpora/bench-en.txt.xz]
        [--shards 16] [--runs 3] [--tokens N] [--window 10] [--parts vocab,cooccur]

The corpus (uncompressed, one paragraph a line) is split into ``--shards`` files of about equal
size, whole lines each, cached in the temp folder (``wordvec-bench/<corpus>-<N>shards``); every
configuration reads the same shard files.

- **vocab**: the words at min-count 5. One process: :func:`wordvec.encode.count_words` on the
  shards (it has no threads: one). Cluster: :func:`wordvec.distributed.count_words`.
- **cooccur**: what ``wordvec cooccur -o`` does before it writes the file: the vocabulary, then
  the matrix in memory (window ``--window``, 1/d weights, symmetric, min-count 5, ``--memory`` 4).
  One process: :func:`wordvec.encode.encode` (count and encode in one read), then
  :func:`wordvec.cooccur.count_cooccurrence` with 1 and 2 threads. Cluster:
  :func:`wordvec.distributed.count_cooccurrence` (the vocabulary pass, then a task a shard with 1
  thread; row blocks summed on the workers, gathered into the whole matrix in the client).

- **lsa** (``--parts lsa``): PPMI-SVD LSA (wordvec's defaults: window 5 unweighted, cds 0.75,
  dim 300, 6 iterations, 20 oversamples, W + C) of the first ``--lsa-tokens`` tokens of the corpus
  (co-occurrences counted once, cached as an ``.npz`` and as a blocks folder of 4 row blocks),
  on one process of 2 threads (:mod:`wordvec.svd`) and on 2 workers x 1 thread from the blocks
  folder (:mod:`wordvec.distributed_lsa`) with ``svd_compressed`` and with wordvec's subspace
  iteration on dask arrays, seeds 1..``--runs``, alternating. Quality: the 300 singular values
  against ARPACK's (``scipy.sparse.linalg.svds``, computed once, cached), and Spearman's rho
  on WS-353, MEN and SimLex-999 (:func:`wordvec.evaluate.evaluate_similarity`) as mean [min,
  max] over the seeds. Time: PPMI and SVD, the cluster's start apart.

Configurations (vocab, cooccur): one process with 1 thread and with 2 threads; ``LocalCluster`` of 1 worker x 1
thread and of 2 workers x 1 thread, started by :func:`wordvec.distributed.connect` (as ``--cluster
local``). Each run is a fresh process. The cluster's start (about 1.5 s) is timed apart and not in
the throughput: a cluster is started once for many jobs; the first job on it is what is timed,
so each worker's one-off loading of the compiled kernels is in it. Throughput is corpus tokens /
wall seconds of the job. Every result is checked against the one-process result (the same
words and counts; the same matrix, bit for bit: a SHA-256 of its arrays, computed after the
timing). For the cluster runs, the task stream (``distributed.get_task_stream``) gives the
seconds the workers spent in each kind of task (count, merge, finish, cooccur, add...) and in
moving inputs between workers.

Every timed run holds ``/tmp/wordvec-bench.lock`` (flock), so it never overlaps another
benchmark on this machine (do not start this script under ``flock`` on that file: it takes the
lock itself). Configurations alternate run by run (the order rotates every round) after one
untimed warm-up round on two shards (page cache, Numba's cached compilation). The table shows
the fastest of ``--runs`` runs, with the slowest beside it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, bench_lock, plain_corpus, run_record, shown, spread, table  # noqa: E402

SCRATCH = os.path.join(tempfile.gettempdir(), "wordvec-bench")
CONFIGS = (("one process, 1 thread", "single", 1), ("one process, 2 threads", "single", 2),
           ("LocalCluster 1 worker x 1 thread", "cluster", 1),
           ("LocalCluster 2 workers x 1 thread", "cluster", 2))

CHILD = r"""
import hashlib, json, sys, time
sys.path.insert(0, REPO)

def digest(m):
    h = hashlib.sha256()
    for a in (m.indptr, m.indices, m.data):
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]

def vocab_digest(v):
    h = hashlib.sha256("\n".join(v.words).encode())
    h.update(v.counts.tobytes())
    return h.hexdigest()[:16]

def main(part, kind, n, window, shards_json):
    n, window = int(n), int(window)
    shards = json.loads(shards_json)
    out = {}
    if kind == "single":
        t0 = time.perf_counter()
        if part == "vocab":
            from wordvec.encode import count_words
            v = count_words(shards, min_count=5)
            out["seconds"] = time.perf_counter() - t0
            out.update(tokens=v.raw_tokens, words=len(v), check=vocab_digest(v))
        else:
            from wordvec.cooccur import count_cooccurrence
            from wordvec.encode import encode
            with encode(shards, min_count=5) as enc:
                m = count_cooccurrence(enc, window=window, memory_gb=4.0, threads=n,
                                       progress=False)
                out["seconds"] = time.perf_counter() - t0
                out.update(tokens=enc.raw_tokens, words=len(enc.vocab), nnz=int(m.nnz),
                           check=digest(m))
        return out
    from distributed import get_task_stream
    from wordvec import distributed as wd
    t0 = time.perf_counter()
    with wd.connect("local", workers=n, threads_per_worker=1) as client:
        client.wait_for_workers(n)
        out["start_seconds"] = time.perf_counter() - t0
        with get_task_stream(client) as stream:
            t0 = time.perf_counter()
            if part == "vocab":
                v = wd.count_words(shards, client, min_count=5)
                out["seconds"] = time.perf_counter() - t0
                out.update(tokens=v.raw_tokens, words=len(v), check=vocab_digest(v))
            else:
                m, v = wd.count_cooccurrence(shards, client, window=window, memory_gb=4.0,
                                             threads=1, min_count=5)
                out["seconds"] = time.perf_counter() - t0
                out.update(tokens=v.raw_tokens, words=len(v), nnz=int(m.nnz))
    if part != "vocab":
        out["check"] = digest(m)  # (after the timing)
    # where the workers' time went: seconds per kind of task (wordvec-<kind>-...), and moving
    # data between workers
    tasks = {}
    for t in stream.data:
        kind = str(t["key"]).split("-")[1] if str(t["key"]).startswith("wordvec-") else "other"
        for ss in t["startstops"]:
            what = kind if ss["action"] == "compute" else ss["action"]
            tasks[what] = tasks.get(what, 0.0) + ss["stop"] - ss["start"]
    out["tasks"] = tasks
    return out
""".replace("REPO", repr(REPO))


LSA_CHILD = r"""
import json, sys, time
sys.path.insert(0, REPO)
import numpy as np

def quality(words, W):
    from wordvec.evaluate import dataset_path, evaluate_similarity
    from wordvec.vectors import Vectors
    v = Vectors(words, W)
    return {name: evaluate_similarity(v, dataset_path(name))["spearman"]
            for name in ("EN-WS-353-ALL", "EN-MEN-TR-3k", "EN-SIMLEX-999")}

def main(kind, seed, npz, blocks, ref_out):
    from wordvec.cooccur_file import load_cooccurrence
    from wordvec.lsa import ppmi, word_vectors
    from wordvec.svd import truncated_svd
    seed = int(seed)
    out = {}
    if kind in ("one", "arpack"):
        counts, vocab = load_cooccurrence(npz)
        t0 = time.perf_counter()
        M = ppmi(counts, cds=0.75, shift=1.0)
        out["ppmi_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        U, s, V, _ = truncated_svd(M, 300, method="randomized" if kind == "one" else "arpack",
                                   n_iter=6, oversample=20, seed=seed, threads=2, right=True)
        out["svd_seconds"] = time.perf_counter() - t0
        if kind == "arpack":
            np.save(ref_out, s)
    else:
        from wordvec import distributed as wd
        from wordvec import distributed_lsa as dl
        t0 = time.perf_counter()
        with wd.connect("local", workers=2, threads_per_worker=1) as client:
            client.wait_for_workers(2)
            out["start_seconds"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            vocab, blocks_f, bounds, _ = dl.ppmi_on_cluster(client, blocks, cds=0.75, shift=1.0)
            out["ppmi_seconds"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            U, s, V, _ = dl.svd_on_cluster(client, blocks_f, bounds, len(vocab), 300, 6, 20, seed,
                                           right=True, method=kind)
            out["svd_seconds"] = time.perf_counter() - t0
    out["s"] = [float(x) for x in s]
    out["quality"] = quality(vocab.words, word_vectors(U, s, V, 0.5))
    out["words"] = len(vocab)
    return out
""".replace("REPO", repr(REPO))
LSA_CONFIGS = (("one process, 2 threads (wordvec.svd)", "one"),
               ("2 workers x 1 thread, svd_compressed", "svd_compressed"),
               ("2 workers x 1 thread, subspace iteration", "subspace"))


def lsa_inputs(corpus_tokens, args):
    """The co-occurrences of the LSA slice, counted once: (.npz, blocks folder), cached."""
    from wordvec import distributed as wd
    from wordvec.cooccur import count_cooccurrence
    from wordvec.cooccur_file import save_cooccurrence
    from wordvec.encode import encode
    plain = plain_corpus(args.corpus, folder=SCRATCH, tokens=corpus_tokens)
    base = os.path.join(SCRATCH, f"{os.path.basename(plain)}-lsa-w5")
    npz, blocks = base + ".npz", base + "-blocks"
    if not (os.path.exists(npz) and os.path.isdir(blocks)):
        params = {"window": 5, "symmetric": True, "distance_weighting": False}
        with bench_lock():  # (not timed, but minutes of both cores)
            with encode([plain], min_count=5) as enc:
                m = count_cooccurrence(enc, window=5, distance_weighting=False, progress=False)
                vocab = enc.vocab
        save_cooccurrence(npz, m, vocab, params=params, force=True)
        bounds = wd.row_bounds(vocab.counts, 4, 5)
        wd.save_blocks(blocks, ((b, m[lo:hi]) for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))),
                       bounds, vocab, params, force=True)
    return npz, blocks, base + "-arpack-s.npy"


def run_lsa(kind, seed, npz, blocks, ref):
    wrapper = LSA_CHILD + "\nprint(json.dumps(main(*sys.argv[1:])))\n"
    with bench_lock():
        proc = subprocess.run([sys.executable, "-c", wrapper, kind, str(seed), npz, blocks, ref],
                              capture_output=True, text=True, cwd=REPO)
    if proc.returncode:
        raise SystemExit(f"lsa {kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_lsa(args):
    import numpy as np
    npz, blocks, ref = lsa_inputs(args.lsa_tokens, args)
    if not os.path.exists(ref):
        print("  ARPACK reference ...", file=sys.stderr, flush=True)
        arpack = run_lsa("arpack", 1, npz, blocks, ref)
    else:
        arpack = None
    s_ref = np.load(ref)
    results = {label: [] for label, _ in LSA_CONFIGS}
    for r in range(args.runs):
        order = LSA_CONFIGS[r % len(LSA_CONFIGS):] + LSA_CONFIGS[:r % len(LSA_CONFIGS)]
        for label, kind in order:
            out = run_lsa(kind, r + 1, npz, blocks, ref)
            results[label].append(out)
            print(f"  run {r + 1} lsa {label}: SVD {out['svd_seconds']:.1f} s", file=sys.stderr,
                  flush=True)
    rows = []
    for label, _ in LSA_CONFIGS:
        rs = results[label]
        errs = [np.abs(np.array(x["s"]) - s_ref) / s_ref for x in rs]
        q = {k: [x["quality"][k] for x in rs] for k in rs[0]["quality"]}
        rows.append([label, f"{min(x['ppmi_seconds'] for x in rs):.1f}",
                     f"{min(x['svd_seconds'] for x in rs):.1f}",
                     spread([float(e.mean()) for e in errs], digits=4),
                     spread([float(e.max()) for e in errs], digits=4),
                     spread([float(e[:10].max()) for e in errs], digits=5),
                     *(spread(q[k]) for k in q)])
    words = results[LSA_CONFIGS[0][0]][0]["words"]
    print(f"\nlsa: the first {args.lsa_tokens:,} tokens of {shown(args.corpus)}, {words:,} words, "
          f"window 5 unweighted, dim 300, 6 iterations, 20 oversamples, W + C; seeds 1..{args.runs}"
          + (f"; ARPACK (reference): SVD {arpack['svd_seconds']:.1f} s, WS-353 "
             f"{arpack['quality']['EN-WS-353-ALL']:.3f}, MEN {arpack['quality']['EN-MEN-TR-3k']:.3f}, "
             f"SimLex {arpack['quality']['EN-SIMLEX-999']:.3f}" if arpack else
             " (ARPACK reference singular values from the cache)"))
    print(table(["configuration", "PPMI s", "SVD s", "mean rel err of s", "max rel err",
                 "max rel err top 10", "WS-353", "MEN", "SimLex"], rows))


def split_shards(path, n, folder):
    """``path`` (plain text) cut into ``n`` files of about equal size, whole lines each, cached
    in ``folder``/<name>-<n>shards; returns their paths in order."""
    out = os.path.join(folder, f"{os.path.basename(path)}-{n}shards")
    names = [os.path.join(out, f"shard-{i:02d}.txt") for i in range(n)]
    if all(os.path.exists(p) for p in names) and os.path.exists(os.path.join(out, "done")):
        return names
    os.makedirs(out, exist_ok=True)
    size = os.path.getsize(path)
    with open(path, "rb") as src:
        for i, name in enumerate(names):
            limit = size * (i + 1) // n
            with open(name, "wb") as dst:
                while src.tell() < limit or i == n - 1:
                    line = src.readline()
                    if not line:
                        break
                    dst.write(line)
    open(os.path.join(out, "done"), "w").close()
    return names


def run(part, kind, n, window, shards):
    wrapper = CHILD + "\nprint(json.dumps(main(*sys.argv[1:])))\n"
    with bench_lock():
        proc = subprocess.run([sys.executable, "-c", wrapper, part, kind, str(n), str(window),
                               json.dumps(shards)], capture_output=True, text=True, cwd=REPO)
    if proc.returncode:
        raise SystemExit(f"{part} {kind} {n} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tokens", type=int, help="only the corpus's first lines up to N tokens")
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--parts", default="vocab,cooccur", help="vocab, cooccur, lsa")
    ap.add_argument("--lsa-tokens", type=int, default=5_000_000)
    args = ap.parse_args()
    parts = args.parts.split(",")
    print(run_record(tools=("dask", "distributed"), corpus=args.corpus), flush=True)
    os.makedirs(SCRATCH, exist_ok=True)
    if "lsa" in parts:
        parts.remove("lsa")
        bench_lsa(args)
        if not parts:
            return
    plain = plain_corpus(args.corpus, folder=SCRATCH, tokens=args.tokens)
    shards = split_shards(plain, args.shards, SCRATCH)
    for part in parts:  # warm-up: page cache, Numba's cache, imports
        for _, kind, n in CONFIGS:
            run(part, kind, n, args.window, shards[:2])
    results = {(part, c[0]): [] for part in parts for c in CONFIGS}
    for r in range(args.runs):
        order = CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]
        for part in parts:
            for label, kind, n in order:
                out = run(part, kind, n, args.window, shards)
                results[(part, label)].append(out)
                print(f"  run {r + 1} {part:8s} {label}: {out['seconds']:.2f} s", file=sys.stderr,
                      flush=True)
    what = f"the first {args.tokens:,} tokens of " if args.tokens else ""
    print(f"corpus: {what}{shown(args.corpus)} in {args.shards} shards; min-count 5; cooccur "
          f"window {args.window}, 1/d, symmetric; fastest of {args.runs} runs [slowest]")
    for part in parts:
        rows, speed = [], {}
        ref = results[(part, CONFIGS[0][0])][0]
        for label, kind, _ in CONFIGS:
            rs = results[(part, label)]
            best = min(rs, key=lambda x: x["seconds"])
            worst = max(x["seconds"] for x in rs)
            speed[label] = best["tokens"] / best["seconds"]
            same = all(x["check"] == ref["check"] for x in rs)
            start = (f"{min(x['start_seconds'] for x in rs):.1f}" if kind == "cluster" else "-")
            rows.append([label, f"{best['seconds']:.2f} [{worst:.2f}]",
                         f"{speed[label] / 1e6:.2f}", start, "yes" if same else "NO"])
        one, two = speed[CONFIGS[2][0]], speed[CONFIGS[3][0]]
        print(f"\n{part}: {ref['tokens']:,} tokens, {ref['words']:,} words"
              + (f", {ref['nnz']:,} non-zeros" if "nnz" in ref else ""))
        print(table(["configuration", "wall s", "M tokens/s", "cluster start s",
                     "identical to one process"], rows))
        print(f"2 workers / 1 worker: {two / one:.2f}x (issue target >= 1.7x); "
              f"2 workers / one process of 2 threads: {two / speed[CONFIGS[1][0]]:.2f}x")
        cluster = [(label, min(results[(part, label)], key=lambda x: x["seconds"]))
                   for label, kind, _ in CONFIGS if kind == "cluster"]
        kinds = sorted({k for _, r in cluster for k in r["tasks"]},
                       key=lambda k: -max(r["tasks"].get(k, 0) for _, r in cluster))
        print(f"\n{part}, the fastest cluster runs: seconds the workers spent, by task kind "
              "(compute; 'transfer': fetching inputs from another worker), summed over workers")
        print(table(["configuration", "job wall s", *kinds],
                    [[label, f"{r['seconds']:.2f}", *(f"{r['tasks'].get(k, 0):.2f}" for k in kinds)]
                     for label, r in cluster]))


if __name__ == "__main__":
    main()
