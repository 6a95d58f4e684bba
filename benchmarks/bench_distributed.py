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

Configurations: one process with 1 thread and with 2 threads; ``LocalCluster`` of 1 worker x 1
thread and of 2 workers x 1 thread, started by :func:`wordvec.distributed.connect` (as ``--cluster
local``). Each run is a fresh process. The cluster's start (about 1.5 s) is timed apart and not in
the throughput: a cluster is started once for many jobs; the first job on it is what is timed,
so each worker's one-off loading of the compiled kernels is in it. Throughput is corpus tokens /
wall seconds of the job. Every result is checked against the one-process result (the same
words and counts; the same matrix, bit for bit: a SHA-256 of its arrays, computed after the
timing).

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
from _common import BENCH_CORPUS, REPO, bench_lock, plain_corpus, run_record, shown, table  # noqa: E402

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
    from wordvec import distributed as wd
    t0 = time.perf_counter()
    with wd.connect("local", workers=n, threads_per_worker=1) as client:
        client.wait_for_workers(n)
        out["start_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if part == "vocab":
            v = wd.count_words(shards, client, min_count=5)
            out["seconds"] = time.perf_counter() - t0
            out.update(tokens=v.raw_tokens, words=len(v), check=vocab_digest(v))
        else:
            m, v = wd.count_cooccurrence(shards, client, window=window, memory_gb=4.0,
                                         threads=1, min_count=5)
            out["seconds"] = time.perf_counter() - t0
            out.update(tokens=v.raw_tokens, words=len(v), nnz=int(m.nnz), check=digest(m))
    return out
""".replace("REPO", repr(REPO))


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
    ap.add_argument("--parts", default="vocab,cooccur")
    args = ap.parse_args()
    parts = args.parts.split(",")
    print(run_record(tools=("dask", "distributed"), corpus=args.corpus), flush=True)
    os.makedirs(SCRATCH, exist_ok=True)
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


if __name__ == "__main__":
    main()
