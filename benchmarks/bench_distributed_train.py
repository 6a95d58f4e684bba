"""Training on a Dask cluster (issue 15, benchmarks b and c): data-parallel training on a
``LocalCluster`` of 2 workers x 1 thread against one process of 2 threads, the choice of
``--sync-every``, and the cost of one averaging round per MB.

    python benchmarks/bench_distributed_train.py [--corpus ../shared/corpora/bench-en.txt.xz]
        [--shards 16] [--runs 3] [--parts sg,sync,bytes,glove] [--tokens N]

The corpus (uncompressed) is cut into ``--shards`` files of whole lines, as in
``bench_distributed.py`` (the same cached shards).

- **sg** (benchmark b): skip-gram with bench_word2vec.py's settings (negative sampling, dim 100,
  window 5, negative 5, sample 1e-4, min-count 5, 5 epochs, alpha 0.025 -> 1e-4). One process:
  :func:`wordvec.train` on the whole (uncompressed) corpus, 2 threads. Cluster:
  :func:`wordvec.distributed_train.train_word2vec` on the shards with the default
  ``--sync-every``. Seeds 1..``--runs``, configurations alternating. Time: the whole job (the
  one process: encoding and training; the cluster: counting the vocabulary, encoding the
  shards on the workers, training), the cluster's start apart (a cluster serves many jobs).
- **glove** (benchmark b): GloVe (wordvec's defaults: dim 100, x_max 100, 25 epochs) from the
  co-occurrences of the corpus counted once (window 10, 1/d; cached as an ``.npz`` and as a
  blocks folder of 8 row blocks): one process of 2 threads from the ``.npz``, the cluster from
  the blocks folder with :mod:`wordvec.distributed_glove` (when that module is there).
- **sync**: skip-gram as in *sg* on the cluster with ``--sync-every`` in ``--sync-values``, seeds
  1..``--sync-seeds``: wall time, rounds, the time not spent training (wall minus the workers'
  mean training compute, from the task stream), quality.
- **bytes** (benchmark c): the cost of one averaging round, without training: the driver
  broadcasts (W, C) of V x dim float32 each to 2 workers, each returns a copy (as a replica
  does), the driver averages them; for models of 8 to 512 MB (W + C), median of 5 rounds after one
  warm-up, with the data relayed by the scheduler (Dask's default) and sent directly between
  driver and workers (what the training rounds do). Gives the seconds per MB moved on this
  machine's loopback network.

- **plain**: the same skip-gram without Dask, to tell what a worker costs from what two
  processes cost: one process of 2 threads on all the shards; two plain processes of 1 thread
  at once, each on half the shards; one process of 1 thread on half the shards alone. Training
  seconds from the model's statistics (encoding apart), ``--runs`` rounds alternating.

Quality: Google analogies (restricted to the 30,000 most frequent words, 3CosAdd) and Spearman's
rho on WS-353, SimLex-999 and MEN (:func:`wordvec.evaluate.benchmark`), as mean [min, max] over
the seeds. Every run is a fresh process holding ``/tmp/wordvec-bench.lock``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, bench_lock, plain_corpus, run_record, shown, spread, table  # noqa: E402
from bench_distributed import split_shards  # noqa: E402

SCRATCH = os.path.join(tempfile.gettempdir(), "wordvec-bench")
SIMS = ("EN-WS-353-ALL", "EN-SIMLEX-999", "EN-MEN-TR-3k")
SG = dict(arch="sg", loss="ns", dim=100, window=5, negative=5, sample=1e-4, min_count=5,
          epochs=5, alpha=0.025, min_alpha=1e-4)

CHILD = r"""
import json, sys, time
sys.path.insert(0, REPO)
import numpy as np

SIMS = SIMS_
SG = SG_

def quality(vectors):
    from wordvec.evaluate import benchmark
    r = benchmark(vectors, restrict=30000)
    a = r["analogy"]["questions-words"]
    return {"analogy": a["accuracy"], **{k: r["similarity"][k]["spearman"] for k in SIMS}}

def task_seconds(stream, prefix):
    # compute seconds of the tasks named wordvec-<prefix>-..., per worker
    per = {}
    for t in stream:
        if not str(t["key"]).startswith("wordvec-" + prefix):
            continue
        for ss in t["startstops"]:
            if ss["action"] == "compute":
                per[t["worker"]] = per.get(t["worker"], 0.0) + ss["stop"] - ss["start"]
    return per

def sg(kind, seed, corpus, shards, sync_every):
    seed = int(seed)
    out = {}
    if kind == "single":
        import wordvec
        t0 = time.perf_counter()
        p = {k: v for k, v in SG.items() if k != "arch"}
        vec = wordvec.train(corpus, model="sg", progress=False, threads=2, seed=seed, **p)
        out["seconds"] = time.perf_counter() - t0
        out["train_seconds"] = vec.meta["stats"]["wall_seconds"]
        out.update(quality(vec))
        return out
    from distributed import get_task_stream
    from wordvec import distributed as wd
    from wordvec import distributed_train as dt
    t0 = time.perf_counter()
    with wd.connect("local", workers=2, threads_per_worker=1) as client:
        client.wait_for_workers(2)
        out["start_seconds"] = time.perf_counter() - t0
        with get_task_stream(client) as stream:
            t0 = time.perf_counter()
            kw = {} if sync_every == "default" else {"sync_every": int(sync_every)}
            model = dt.train_word2vec(json.loads(shards), client, {**SG, "seed": seed}, **kw)
            out["seconds"] = time.perf_counter() - t0
    st = model.history[-1]
    out["rounds"] = st["cluster"]["rounds"]
    out["sync_every"] = st["cluster"]["sync_every"]
    out["sync_bytes"] = st["cluster"]["sync_bytes_per_replica"]
    per = task_seconds(stream.data, "train")
    out["train_compute"] = sum(per.values()) / max(len(per), 1)
    out["encode_compute"] = sum(task_seconds(stream.data, "encode").values())
    out.update(quality(model.wv))
    return out

def glove(kind, seed, npz, blocks, sync_every):
    seed = int(seed)
    out = {}
    if kind == "single":
        import wordvec
        t0 = time.perf_counter()
        vec = wordvec.train(None, model="glove", cooccur=npz, progress=False, threads=2,
                            seed=seed)
        out["seconds"] = time.perf_counter() - t0
        out.update(quality(vec))
        return out
    from wordvec import distributed as wd
    from wordvec import distributed_glove as dg
    t0 = time.perf_counter()
    with wd.connect("local", workers=2, threads_per_worker=1) as client:
        client.wait_for_workers(2)
        out["start_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        kw = {} if sync_every == "default" else {"sync_every": int(sync_every)}
        model = dg.train_glove(blocks, client, {"seed": seed}, **kw)
        out["seconds"] = time.perf_counter() - t0
    out["rounds"] = model.history[-1]["cluster"]["rounds"]
    out.update(quality(model.wv))
    return out

def sync_cost(sizes_mb):
    from wordvec import distributed as wd
    from wordvec.distributed_rounds import average_replicas
    def replica(weights):
        return tuple(np.array(a, dtype=np.float32, copy=True) for a in weights)
    res = {}
    with wd.connect("local", workers=2, threads_per_worker=1) as c:
        c.wait_for_workers(2)
        addrs = sorted(c.nthreads())
        for mb in json.loads(sizes_mb):
            rows = int(mb * 1e6 / (2 * 100 * 4))
            W = np.random.default_rng(0).random((rows, 100), dtype=np.float32)
            C = W.copy()
            for direct in (False, True):  # through the scheduler (Dask's default) / direct
                times = []
                for rep in range(6):
                    t0 = time.perf_counter()
                    sc = c.scatter([W, C], broadcast=True, hash=False, direct=direct)
                    fs = [c.submit(replica, sc, workers=[a], allow_other_workers=False,
                                   pure=False) for a in addrs]
                    got = c.gather(fs, direct=direct)
                    W2, C2 = average_replicas(got, [1, 1])
                    times.append(time.perf_counter() - t0)
                    del sc, fs, got
                res[f"{mb} {'direct' if direct else 'scheduler'}"] = times[1:]
    return res

if __name__ == "__main__":
    what = sys.argv[1]
    fn = {"sg": sg, "glove": glove, "bytes": sync_cost}[what]
    print(json.dumps(fn(*sys.argv[2:])))
""".replace("REPO", repr(REPO)).replace("SIMS_", repr(SIMS)).replace("SG_", repr(SG))

CONFIGS = (("one process, 2 threads", "single"), ("LocalCluster 2 workers x 1 thread", "cluster"))


def child(*args):
    with bench_lock():
        proc = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True,
                              text=True, cwd=REPO)
    if proc.returncode:
        raise SystemExit(f"{args[:3]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def quality_cells(rs):
    return [spread([r["analogy"] for r in rs], pct=True),
            *(spread([r[k] for r in rs], digits=3) for k in SIMS)]


def mean(xs):
    return sum(xs) / len(xs)


def compare(one, two):
    """The cluster runs ``two`` against the one-process runs ``one``: time ratio (fastest
    runs) and the differences of the mean scores."""
    fastest = min(r["seconds"] for r in two) / min(r["seconds"] for r in one)
    analogy = 100 * (mean([r["analogy"] for r in two]) - mean([r["analogy"] for r in one]))
    sims = ", ".join(f"{k} {mean([r[k] for r in two]) - mean([r[k] for r in one]):+.3f}"
                     for k in SIMS)
    return f"cluster / one process, time (fastest): {fastest:.2f}x; analogy {analogy:+.2f} points; {sims}"


def bench_sg(args, plain, shards):
    results = {label: [] for label, _ in CONFIGS}
    for seed in range(1, args.runs + 1):
        order = CONFIGS if seed % 2 else CONFIGS[::-1]
        for label, kind in order:
            r = child("sg", kind, seed, plain, json.dumps(shards), "default")
            results[label].append(r)
            print(f"  sg seed {seed} {label}: {r['seconds']:.1f} s, analogy "
                  f"{100 * r['analogy']:.1f}", file=sys.stderr, flush=True)
    rows = []
    for label, kind in CONFIGS:
        rs = results[label]
        secs = [r["seconds"] for r in rs]
        rows.append([label, f"{min(secs):.1f} [{max(secs):.1f}]",
                     f"{min(r['start_seconds'] for r in rs):.1f}" if kind == "cluster" else "-",
                     str(rs[0].get("rounds", "-")), *quality_cells(rs)])
    one, two = (results[label] for label, _ in CONFIGS)
    print(f"\nsg (benchmark b): {shown(args.corpus)} in {args.shards} shards; "
          f"{', '.join(f'{k} {v}' for k, v in SG.items())}; seeds 1..{args.runs}; "
          "wall: fastest [slowest]; quality: mean [min, max]")
    print(table(["configuration", "wall s", "cluster start s", "rounds", "analogy %",
                 "WS-353", "SimLex", "MEN"], rows))
    print(compare(one, two)
          + f"; sync bytes per replica per round {two[0]['sync_bytes'] / 1e6:.1f} MB each way"
          + f"; per worker: training compute {mean([r['train_compute'] for r in two]):.1f} s, "
            f"encoding {mean([r['encode_compute'] for r in two]) / 2:.1f} s")


def bench_sync(args, shards):
    values = [int(v) for v in args.sync_values.split(",")]
    results = {v: [] for v in values}
    for seed in range(1, args.sync_seeds + 1):
        for v in (values if seed % 2 else values[::-1]):
            r = child("sg", "cluster", seed, "-", json.dumps(shards), v)
            results[v].append(r)
            print(f"  sync {v:,} seed {seed}: {r['seconds']:.1f} s, {r['rounds']} rounds, "
                  f"analogy {100 * r['analogy']:.1f}", file=sys.stderr, flush=True)
    rows = []
    for v in values:
        rs = results[v]
        other = [r["seconds"] - r["train_compute"] for r in rs]
        rows.append([f"{v:,}", str(rs[0]["rounds"]), f"{min(r['seconds'] for r in rs):.1f}",
                     f"{mean([r['train_compute'] for r in rs]):.1f}", f"{mean(other):.1f}",
                     f"{mean(other) / rs[0]['rounds']:.2f}", *quality_cells(rs)])
    print(f"\nsync (choosing --sync-every): skip-gram as above on 2 workers x 1 thread; seeds "
          f"1..{args.sync_seeds}; 'not training': wall minus the workers' mean training compute "
          "(vocabulary, encoding, broadcasts, gathers, averaging, waiting)")
    print(table(["sync every (words a replica)", "rounds", "wall s (fastest)",
                 "training compute s", "not training s", "per round s", "analogy %", "WS-353",
                 "SimLex", "MEN"], rows))


PLAIN = r"""
import json, sys
sys.path.insert(0, REPO)
import wordvec
shards, threads, seed = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
p = {k: v for k, v in SG_.items() if k != "arch"}
v = wordvec.train(shards, model="sg", progress=False, threads=threads, seed=seed, **p)
s = v.meta["stats"]
print(json.dumps({"train": s["wall_seconds"], "words": s["words"]}))
""".replace("REPO", repr(REPO)).replace("SG_", repr(SG))


def bench_plain(args, shards):
    code = PLAIN
    half = len(shards) // 2

    def start(files, threads, seed):
        return subprocess.Popen([sys.executable, "-c", code, json.dumps(files), str(threads),
                                 str(seed)], stdout=subprocess.PIPE, text=True, cwd=REPO)

    def result(proc):
        out = proc.communicate()[0]
        if proc.returncode:
            raise SystemExit("a plain skip-gram run failed")
        return json.loads(out.strip().splitlines()[-1])

    rows = {"one process, 2 threads, all shards": [],
            "two processes of 1 thread at once, half the shards each": [],
            "one process, 1 thread, half the shards alone": []}
    keys = list(rows)
    for seed in range(1, args.runs + 1):
        with bench_lock():
            rows[keys[0]].append([result(start(shards, 2, seed))])
            a, b = start(shards[:half], 1, seed), start(shards[half:], 1, seed)
            rows[keys[1]].append([result(a), result(b)])
            rows[keys[2]].append([result(start(shards[:half], 1, seed))])
        print(f"  plain seed {seed}: " + "; ".join(
            f"{k}: {', '.join(str(r['train']) for r in rows[k][-1])} s" for k in keys),
            file=sys.stderr, flush=True)
    table_rows = []
    for k in keys:
        secs = [r["train"] for run in rows[k] for r in run]
        words = rows[k][0][0]["words"]
        table_rows.append([k, f"{min(secs):.1f} [{max(secs):.1f}]", f"{words:,}",
                           f"{words / min(secs) / 1e6:.2f}"])
    print(f"\nplain: skip-gram as in sg without Dask; training seconds, fastest [slowest] of "
          f"{args.runs} run(s) (each process of a pair counted)")
    print(table(["configuration", "train s", "words a process", "M words/s a process"],
                table_rows))


def bench_bytes(args):
    sizes = [float(s) for s in args.bytes_mb.split(",")]
    r = child("bytes", json.dumps(sizes))
    rows = []
    for mb in sizes:
        for path in ("scheduler", "direct"):
            ts = sorted(r[f"{mb} {path}"])
            med = ts[len(ts) // 2]
            moved = mb * 2 * 2  # to each of 2 workers and back
            rows.append([f"{mb:g}", path, f"{moved:g}", f"{med:.3f}", f"{1000 * med / moved:.2f}",
                         f"{moved / med:.0f}"])
    print("\nbytes (benchmark c): one averaging round without training, 2 workers: broadcast "
          "(W, C), each worker returns a copy, the driver averages; median of 5 rounds; "
          "'scheduler': the data relayed by the scheduler (Dask's default), 'direct': straight "
          "between driver and workers (what training rounds use)")
    print(table(["model MB (W + C)", "path", "MB moved (2 workers, both ways)", "s per round",
                 "ms per MB moved", "MB/s"], rows))


def glove_inputs(args, plain):
    """The co-occurrences of the corpus (window 10, 1/d, min-count 5), counted once: an .npz
    and a blocks folder of 8 row blocks, cached."""
    base = os.path.join(SCRATCH, f"{os.path.basename(plain)}-glove-cooc")
    npz, blocks = base + ".npz", base + "-blocks"
    if not os.path.exists(npz):
        with bench_lock():
            subprocess.run([sys.executable, "-m", "wordvec", "cooccur", plain, "-o", npz,
                            "--window", "10", "--quiet"], check=True, cwd=REPO)
    if not os.path.exists(os.path.join(blocks, "vocab.txt")):
        with bench_lock():
            subprocess.run([sys.executable, "-m", "wordvec", "cooccur", plain, "--cluster",
                            "local", "--workers", "2", "--window", "10", "--row-blocks", "8",
                            "--blocks-dir", blocks, "--quiet"], check=True, cwd=REPO)
    return npz, blocks


def bench_glove(args, plain):
    npz, blocks = glove_inputs(args, plain)
    results = {label: [] for label, _ in CONFIGS}
    for seed in range(1, args.runs + 1):
        for label, kind in (CONFIGS if seed % 2 else CONFIGS[::-1]):
            r = child("glove", kind, seed, npz, blocks, "default")
            results[label].append(r)
            print(f"  glove seed {seed} {label}: {r['seconds']:.1f} s, analogy "
                  f"{100 * r['analogy']:.1f}", file=sys.stderr, flush=True)
    rows = []
    for label, _ in CONFIGS:
        rs = results[label]
        secs = [r["seconds"] for r in rs]
        rows.append([label, f"{min(secs):.1f} [{max(secs):.1f}]",
                     str(rs[0].get("rounds", "-")), *quality_cells(rs)])
    one, two = (results[label] for label, _ in CONFIGS)
    print(f"\nglove (benchmark b): co-occurrences of {shown(args.corpus)} (window 10, 1/d, "
          f"min-count 5), wordvec's GloVe defaults; seeds 1..{args.runs}")
    print(table(["configuration", "wall s", "rounds", "analogy %", "WS-353", "SimLex", "MEN"],
                rows))
    print(compare(one, two))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tokens", type=int, help="only the corpus's first lines up to N tokens")
    ap.add_argument("--parts", default="sg,sync,bytes", help="sg, sync, bytes, glove, plain")
    ap.add_argument("--sync-values", default="250000,1000000,4000000,16000000")
    ap.add_argument("--sync-seeds", type=int, default=2)
    ap.add_argument("--bytes-mb", default="8,32,128,512")
    args = ap.parse_args()
    parts = args.parts.split(",")
    print(run_record(tools=("dask", "distributed"), corpus=args.corpus), flush=True)
    os.makedirs(SCRATCH, exist_ok=True)
    plain = plain_corpus(args.corpus, folder=SCRATCH, tokens=args.tokens)
    shards = split_shards(plain, args.shards, SCRATCH)
    if "bytes" in parts:
        bench_bytes(args)
    if "sg" in parts:
        bench_sg(args, plain, shards)
    if "sync" in parts:
        bench_sync(args, shards)
    if "glove" in parts:
        bench_glove(args, plain)
    if "plain" in parts:
        bench_plain(args, shards)


if __name__ == "__main__":
    main()
