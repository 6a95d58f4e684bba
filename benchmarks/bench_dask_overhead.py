"""Why a counting task runs slower on a Dask worker than in a plain process (issue 15).

    python benchmarks/bench_dask_overhead.py [--corpus ../shared/corpora/bench-en.txt.xz]
        [--shard-tokens 1200000] [--runs 4] [--variants plain,dask-default,...]

One shard (the first ``--shard-tokens`` tokens of the corpus, about 1/16 of the benchmark corpus,
cached in the temp folder) is counted by the two task functions of :mod:`wordvec.distributed`:
``count_shard`` (vocabulary) and ``cooccur_shard`` (co-occurrences, window 10, the shard's own
vocabulary at min-count 5, 4 row blocks, 1 thread). Each variant is a fresh process that runs
each function ``--runs`` times in a row. Measured *inside* the function's process: wall and CPU
seconds and minor page faults of the call (a worker's scheduling and the result's transfer are
not in them; the client's round trip is shown beside them). The first run (imports, Numba's
cached compilation loaded) is shown apart from the best of the others.

Variants:

- ``plain``: the functions called in a plain Python process.
- ``plain-trim``: the same with ``MALLOC_TRIM_THRESHOLD_=65536`` in its environment (what Dask's
  nanny gives every worker by default), wordvec's tuning of the process switched off.
- ``plain-trim-tuned``: the same with wordvec's tuning (``tune_process``: ``mallopt`` at the
  first task), as on a worker started by ``dask worker``.
- ``dask-default``: a ``LocalCluster`` of 1 worker x 1 thread with Dask's own settings, wordvec's
  tuning switched off (wordvec before issue 15's fix).
- ``dask-wordvec``: 1 worker x 1 thread started by :func:`wordvec.distributed.connect` (wordvec's
  worker environment, ``worker_environ``, and its tuning).
- ``dask-2x1``: 2 workers x 1 thread started by ``connect``, two copies of the task at once;
  against it ``plain-2proc``: two plain processes at once (what two workers share on 2 cores).

Every timed process holds ``/tmp/wordvec-bench.lock`` (flock) so it never overlaps another
benchmark on this machine; variants alternate run by run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, bench_lock, plain_corpus, run_record, shown, table  # noqa: E402

VARIANTS = ("plain", "plain-trim", "plain-trim-tuned", "dask-default", "dask-wordvec",
            "plain-2proc", "dask-2x1")

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, REPO)
import numpy as np

def timed(untuned, fn, *args):
    import resource
    if untuned:  # wordvec's tuning of the process off: what Dask's settings alone give
        from wordvec import distributed as wd
        wd._tuned[:] = [True]
    r = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    c = time.process_time()
    fn(*args)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r.ru_minflt
    return seconds, cpu, faults

def setup(shard):
    from wordvec import distributed as wd
    from wordvec.encode import count_words
    vocab = count_words([shard], min_count=5)
    bounds = wd.row_bounds(vocab.counts, 4, 10)
    return vocab, bounds

def jobs(shard, vocab, bounds):
    from wordvec import distributed as wd
    from wordvec.corpus import MAX_SENTENCE_LENGTH as MAXLEN
    return {"vocab": (wd.count_shard, shard),
            "cooccur": (wd.cooccur_shard, shard, vocab, bounds, False, MAXLEN, 10, True, True,
                        4.0, 1)}

def main(variant, shard, runs, copies):
    runs, copies = int(runs), int(copies)
    untuned = variant in ("plain-trim", "dask-default")
    vocab, bounds = setup(shard)
    out = {k: [] for k in ("vocab", "cooccur")}
    cpu = {k: [] for k in ("vocab", "cooccur")}
    faults = {k: [] for k in ("vocab", "cooccur")}
    trip = {k: [] for k in ("vocab", "cooccur")}
    if variant.startswith("plain"):
        for _ in range(runs):
            for name, (fn, *args) in jobs(shard, vocab, bounds).items():
                w, c, f = timed(untuned, fn, *args)
                out[name].append(w)
                cpu[name].append(c)
                faults[name].append(f)
        return {"inside": out, "cpu": cpu, "faults": faults}
    import logging
    import dask
    import distributed
    from wordvec import distributed as wd
    if variant == "dask-default":
        cm = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        ctx = distributed.Client(cm)
    else:
        cm = None
        ctx = wd.connect("local", workers=copies, threads_per_worker=1)
    with ctx as client:
        env = client.run(lambda: {k: os.environ.get(k) for k in (
            "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS",
            "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
        for _ in range(runs):
            for name, (fn, *args) in jobs(shard, vocab, bounds).items():
                t = time.perf_counter()
                futs = [client.submit(timed, untuned, fn, *args, pure=False, workers=[w])
                        for w in list(client.scheduler_info()["workers"])[:copies]]
                res = client.gather(futs)
                trip[name].append(time.perf_counter() - t)
                out[name].append(max(r[0] for r in res))
                cpu[name].append(max(r[1] for r in res))
                faults[name].append(max(r[2] for r in res))
    if cm is not None:
        cm.close()
    return {"inside": out, "cpu": cpu, "faults": faults, "round_trip": trip,
            "worker_env": next(iter(env.values()))}
""".replace("REPO", repr(REPO))


def _child(variant, shard, runs, copies=1, env=None):
    wrapper = CHILD + "\nprint(json.dumps(main(*sys.argv[1:])))\n"
    return subprocess.Popen([sys.executable, "-c", wrapper, variant, shard, str(runs), str(copies)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, **(env or {})})


def _result(proc):
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"child failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def run_variant(variant, shard, runs):
    with bench_lock():
        if variant == "plain-2proc":
            procs = [_child("plain", shard, runs) for _ in range(2)]
            rs = [_result(p) for p in procs]
            return {m: {k: [max(a, b) for a, b in zip(rs[0][m][k], rs[1][m][k])]
                        for k in rs[0][m]} for m in ("inside", "cpu", "faults")}
        env = {"MALLOC_TRIM_THRESHOLD_": "65536"} if variant.startswith("plain-trim") else None
        copies = 2 if variant == "dask-2x1" else 1
        return _result(_child(variant, shard, runs, copies, env))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--shard-tokens", type=int, default=1_200_000)
    ap.add_argument("--runs", type=int, default=4, help="task runs per variant and round")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of all variants (alternating)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    variants = args.variants.split(",")
    print(run_record(tools=("dask", "distributed"), corpus=args.corpus), flush=True)
    folder = os.path.join(tempfile.gettempdir(), "wordvec-bench")
    shard = plain_corpus(args.corpus, folder=folder, tokens=args.shard_tokens)
    results = {v: [] for v in variants}
    for _ in range(args.rounds):
        for v in variants:
            results[v].append(run_variant(v, shard, args.runs))
    base = {}
    rows = []

    def later(v, task, m):  # the best of the runs after the first, over the rounds
        return min(min(r[m][task][1:] if args.runs > 1 else r[m][task]) for r in results[v]
                   if m in r)

    for task in ("vocab", "cooccur"):
        for v in variants:
            first = min(r["inside"][task][0] for r in results[v])
            best, cpu = later(v, task, "inside"), later(v, task, "cpu")
            faults = later(v, task, "faults")
            trip = later(v, task, "round_trip") if "round_trip" in results[v][0] else None
            if v == "plain":
                base[task] = (best, cpu)
            vs = (f"{best / base[task][0]:.2f}x / {cpu / base[task][1]:.2f}x" if task in base
                  else "-")
            rows.append([task, v, f"{first:.2f}", f"{best:.2f}", f"{cpu:.2f}", vs,
                         f"{faults:,}", f"{trip:.2f}" if trip else "-"])
    print(f"shard: the first {args.shard_tokens:,} tokens of {shown(args.corpus)}; "
          f"{args.runs} runs a process, {args.rounds} round(s); times inside the task")
    print(table(["task", "variant", "first run s", "later: wall s", "CPU s", "vs plain (wall / CPU)",
                 "page faults", "client round trip s"], rows))
    for v in variants:
        env = results[v][0].get("worker_env")
        if env:
            print(f"{v} worker environment: {env}")


if __name__ == "__main__":
    main()
