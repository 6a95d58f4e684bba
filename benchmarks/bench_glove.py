"""GloVe benchmark: wordvec's one-call pipeline against Stanford GloVe's published figures.

    python benchmarks/bench_glove.py [--corpus PATH] [--threads 2] [--epochs 25] [--seeds 3]
        [--memory 4] [--check-memory 1] [--no-check] [--json OUT]

Settings as the GloVe issue: min_count 5, symmetric window 10 with 1/d weights, dim 100,
x_max 100, power 0.75, alpha 0.05, 25 iterations, 2 threads. One child process encodes the
corpus, counts co-occurrences, trains and evaluates (Google analogies restricted to the 30k most
frequent words, WS-353, SimLex-999, MEN); peak RSS is that process's, read before evaluation.
That child runs ``--seeds`` times (default 3) with seeds 1, 2, ...: quality is reported as the
mean [min, max] over the runs, times from the fastest run, peak RSS as the largest.
A second child checks bounded-memory counting: the matrix counted under ``--check-memory`` GB
(which must spill to disk on bench-en) is compared, array by array, with the one counted with
an unlimited budget (no spill).

With ``--stanford BUILD`` (Stanford GloVe built from its sources with its own makefile) each
seed runs its whole pipeline beside ours (shuffle and glove take the seed), timed step by step
with its peak RSS from /usr/bin/time, and evaluated by the same code. Without it, the figures of
Stanford GloVe v0.2 (``-O3 -march=native``) on bench-en are quoted from the issue: vocab_count 1 s,
cooccur 19 s (``-memory 4.0``), shuffle 15 s, glove 799 s (25 iterations, 40.9 M non-zeros),
834 s end to end, peak RSS 1.2 GB; analogy 22.0 % (semantic 20.2, syntactic 22.3), WS-353 0.401,
SimLex 0.199, MEN 0.461.

The write-up starts with a run record (date, commit, machine, versions, corpus checksum).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    BENCH_CORPUS,
    HERE,
    VERDICTS,
    mean_range,
    peak_rss_mb,
    plain_corpus,
    ratio,
    run_json,
    run_record,
    shown,
    spread,
    table,
    verdict,
)

STANFORD = {"encode_s": 1.0, "count_s": 19.0 + 15.0, "train_s": 799.0, "total_s": 834.0,
            "nonzeros": 40.9e6, "peak_rss_mb": 1.2 * 1024, "analogy": 22.0, "semantic": 20.2,
            "syntactic": 22.3, "ws353": 0.401, "simlex": 0.199, "men": 0.461}
CHILD = f"import sys\nsys.path.insert(0, {HERE!r})\nfrom bench_glove import {{}} as main\n"
SIMS = (("ws353", "EN-WS-353-ALL"), ("simlex", "EN-SIMLEX-999"), ("men", "EN-MEN-TR-3k"))


def evaluate(vectors):
    """{"analogy" %, "semantic", "syntactic", "coverage", "ws353", "simlex", "men"}."""
    from wordvec import evaluate as ev

    res = ev.benchmark(vectors, restrict=30000)
    a = res["analogy"]["questions-words"]

    def pct(x):
        return None if x is None else round(100 * x, 2)

    out = {"analogy": pct(a["accuracy"]), "semantic": pct(a["semantic"]),
           "syntactic": pct(a["syntactic"]), "coverage": f"{a['questions']}/{a['total']}"}
    for short, name in SIMS:
        r = res["similarity"][name]
        out[short] = None if r["spearman"] is None else round(r["spearman"], 4)
        out[short + "_coverage"] = f"{r['pairs']}/{r['total']}"
    return out


# ---- children (each in its own process) -------------------------------------------------------
def train_child(corpus, params_json, seed="1"):
    import time

    from wordvec.encode import encode
    from wordvec.glove import train_glove

    p = json.loads(params_json)
    t0 = time.perf_counter()
    enc = encode(corpus, min_count=p["min_count"])
    encode_s = time.perf_counter() - t0
    vectors = train_glove(enc, dim=p["dim"], window=p["window"], symmetric=True,
                          x_max=p["x_max"], power=p["power"], alpha=p["alpha"],
                          epochs=p["epochs"], threads=p["threads"], seed=int(seed),
                          memory_gb=p["memory"], progress=p["progress"])
    total_s = time.perf_counter() - t0
    rss = peak_rss_mb()
    st = vectors.meta["stats"]
    out = {"tokens": enc.n_tokens, "vocab": len(enc.vocab), "encode_s": encode_s,
           "count_s": st["count_seconds"], "train_s": st["train_seconds"], "total_s": total_s,
           "nonzeros": st["nonzeros"], "spills": st.get("count_spills"),
           "loss": st["loss"], "peak_rss_mb": rss}
    enc.close()
    out.update(evaluate(vectors))
    return out


def stanford_child(build, corpus, params_json, seed="1"):
    """Stanford's pipeline (vocab_count, cooccur, shuffle, glove) from ``build``, each step timed
    and its peak RSS read by /usr/bin/time; the vectors evaluated as ours."""
    import shutil
    import subprocess
    import tempfile
    import time

    from wordvec.formats import load_vectors

    p = json.loads(params_json)
    folder = tempfile.mkdtemp(prefix="stanford-glove-")
    f = lambda name: os.path.join(folder, name)  # noqa: E731
    steps = [
        ("vocab_count", ["-min-count", str(p["min_count"])], corpus, "vocab.txt"),
        ("cooccur", ["-memory", str(p["memory"]), "-vocab-file", f("vocab.txt"),
                     "-window-size", str(p["window"])], corpus, "cooc.bin"),
        ("shuffle", ["-memory", str(p["memory"]), "-seed", str(seed)], f("cooc.bin"),
         "cooc.shuf.bin"),
        ("glove", ["-input-file", f("cooc.shuf.bin"), "-vocab-file", f("vocab.txt"),
                   "-save-file", f("vectors"), "-gradsq-file", f("gradsq"), "-vector-size",
                   str(p["dim"]), "-threads", str(p["threads"]), "-alpha", str(p["power"]),
                   "-x-max", str(p["x_max"]), "-eta", str(p["alpha"]), "-iter",
                   str(p["epochs"]), "-binary", "0", "-model", "2", "-seed", str(seed)], None, None),
    ]
    out = {"seconds": {}, "peak_rss_mb": 0.0}
    try:
        for tool, flags, stdin, stdout in steps:
            t = time.perf_counter()
            with open(stdin or os.devnull, "rb") as src, \
                    open(f(stdout) if stdout else os.devnull, "wb") as dst:
                subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f("rss"),
                                os.path.join(build, tool), "-verbose", "0", *flags],
                               stdin=src, stdout=dst, check=True)
            out["seconds"][tool] = time.perf_counter() - t
            with open(f("rss")) as r:
                out["peak_rss_mb"] = max(out["peak_rss_mb"], int(r.read().split()[-1]) / 1024)
        out["nonzeros"] = os.path.getsize(f("cooc.bin")) // 16  # (int, int, double) records
        sec = out["seconds"]
        out.update(encode_s=sec["vocab_count"], count_s=sec["cooccur"] + sec["shuffle"],
                   train_s=sec["glove"], total_s=sum(sec.values()))
        out.update(evaluate(load_vectors(f("vectors.txt"))))  # its <unk> row is never asked
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def check_child(corpus, params_json):
    import time

    import numpy as np

    from wordvec.cooccur import count_cooccurrence
    from wordvec.encode import encode

    p = json.loads(params_json)
    enc = encode(corpus, min_count=p["min_count"])
    rss_encode = peak_rss_mb()
    kw = dict(window=p["window"], symmetric=True, threads=p["threads"], progress=False)
    t = time.perf_counter()
    bounded = count_cooccurrence(enc, memory_gb=p["check_memory"], **kw)
    bounded_s = time.perf_counter() - t
    rss_bounded = peak_rss_mb()
    t = time.perf_counter()
    free = count_cooccurrence(enc, memory_gb=1024.0, **kw)  # hash tables never reach this
    free_s = time.perf_counter() - t
    same = (bounded.shape == free.shape and np.array_equal(bounded.indptr, free.indptr)
            and np.array_equal(bounded.indices, free.indices)
            and np.array_equal(bounded.data, free.data))
    enc.close()
    return {"identical": bool(same), "nnz": int(free.nnz), "bounded_s": bounded_s,
            "bounded_spills": bounded.count_stats["spills"], "free_s": free_s,
            "free_spills": free.count_stats["spills"], "rss_encode_mb": rss_encode,
            "rss_bounded_mb": rss_bounded}


# ---- report --------------------------------------------------------------------------------
def report(runs, check, args, stanford=()):
    r = min(runs, key=lambda x: x["total_s"])  # times from the fastest run
    rss = max(x["peak_rss_mb"] for x in runs)
    print(f"\ncorpus {shown(args.corpus)}: {r['tokens']:,} tokens, {r['vocab']:,} words (min_count "
          f"{args.min_count}); window {args.window} symmetric, dim {args.dim}, x_max "
          f"{args.x_max}, power {args.power}, {args.epochs} iterations, {args.threads} threads\n")
    s = STANFORD
    if stanford:
        s = {k: (mean_range([x[k] for x in stanford]) or [None])[0] for k in STANFORD}
        s["peak_rss_mb"] = max(x["peak_rss_mb"] for x in stanford)
        for k in ("encode_s", "count_s", "train_s", "total_s"):  # times: the fastest run
            s[k] = min(x[k] for x in stanford)
    rows = [
        ("encoding / vocab_count s", f"{r['encode_s']:.1f}", f"{s['encode_s']:.1f}",
         ratio(r["encode_s"], s["encode_s"])),
        ("counting s (Stanford: cooccur + shuffle)", f"{r['count_s']:.1f}", f"{s['count_s']:.1f}",
         ratio(r["count_s"], s["count_s"])),
        ("training s", f"{r['train_s']:.1f}", f"{s['train_s']:.1f}",
         ratio(r["train_s"], s["train_s"])),
        ("end to end s", f"{r['total_s']:.1f}", f"{s['total_s']:.1f}",
         ratio(r["total_s"], s["total_s"])),
        ("non-zeros", f"{r['nonzeros']:,}", f"{s['nonzeros']:,.0f}",
         ratio(r["nonzeros"], s["nonzeros"])),
        ("peak RSS MB", f"{rss:.0f}", f"{s['peak_rss_mb']:.0f}", ratio(rss, s["peak_rss_mb"])),
    ]
    who = (f"Stanford GloVe ({len(stanford)} runs)" if stanford
           else "Stanford GloVe (quoted, issue 5)")
    print(table(["", "wordvec", who, "ratio"], rows))
    print()
    rows = []
    for key, label, fmt in (("analogy", "analogy % (30k)", ".2f"), ("semantic", "  semantic", ".2f"),
                            ("syntactic", "  syntactic", ".2f"), ("ws353", "WS-353 rho", ".3f"),
                            ("simlex", "SimLex-999 rho", ".3f"), ("men", "MEN rho", ".3f")):
        values = [x.get(key) for x in runs]
        m = mean_range(values)
        diff = "-" if m is None else format(m[0] - s[key], "+" + fmt)
        if stanford and m is not None:
            diff += f" ({verdict(values, [x.get(key) for x in stanford])})"
        theirs = (spread([x.get(key) for x in stanford], digits=int(fmt[1])) if stanford
                  else format(s[key], fmt))
        rows.append((label, spread(values, digits=int(fmt[1])), theirs, diff))
    print(table(["quality", "wordvec", who, "difference"], rows))
    if stanford:
        print(VERDICTS)
    if len(runs) > 1:
        print(f"wordvec: mean [min, max] over {len(runs)} seeds (the difference is the mean's); "
              "times: the fastest run; peak RSS: the largest")
    print(f"analogy questions scored {r['coverage']}; WS-353 pairs {r['ws353_coverage']}, "
          f"SimLex {r['simlex_coverage']}, MEN {r['men_coverage']}")
    for seed, x in enumerate(runs, 1):
        print(f"loss per epoch (seed {seed}): " + " ".join(f"{v:.4f}" for v in x["loss"]))
    if check:
        print(f"\nbounded counting (--memory {args.check_memory} GB): {check['bounded_s']:.1f} s, "
              f"{check['bounded_spills']} spilled chunks, peak RSS {check['rss_bounded_mb']:.0f} MB "
              f"(after encoding {check['rss_encode_mb']:.0f} MB); unlimited budget: "
              f"{check['free_s']:.1f} s, {check['free_spills']} spills; {check['nnz']:,} non-zeros; "
              f"matrices identical: {'YES' if check['identical'] else 'NO'}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--x-max", type=float, default=100.0)
    ap.add_argument("--power", type=float, default=0.75)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory", type=float, default=4.0, help="counting budget, GB (as -memory 4.0)")
    ap.add_argument("--check-memory", type=float, default=1.0,
                    help="budget of the bounded-vs-unbounded identity check, GB")
    ap.add_argument("--no-check", action="store_true", help="skip the identity check")
    ap.add_argument("--seeds", type=int, default=3, help="training runs, seeds 1..N")
    ap.add_argument("--progress", action="store_true", help="show progress bars (stderr)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--tokens", type=int, default=None,
                    help="only the first lines of the corpus holding this many tokens (a slice)")
    ap.add_argument("--stanford", default="",
                    help="Stanford GloVe's build folder (vocab_count, cooccur, shuffle, glove): "
                         "run it beside ours, seed by seed, instead of quoting its figures")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    params = json.dumps({"min_count": args.min_count, "window": args.window, "dim": args.dim,
                         "x_max": args.x_max, "power": args.power, "alpha": args.alpha,
                         "epochs": args.epochs, "threads": args.threads, "memory": args.memory,
                         "check_memory": args.check_memory, "progress": args.progress})
    build = os.path.abspath(args.stanford) if args.stanford else ""
    if build and not os.access(os.path.join(build, "glove"), os.X_OK):
        ap.error("--stanford: no glove executable in that folder")
    print(run_record(corpus=args.corpus, seeds=args.seeds,
                     c_tools={"Stanford glove": os.path.join(build, "glove") if build else ""}),
          flush=True)
    corpus = plain_corpus(os.path.abspath(args.corpus), tokens=args.tokens)
    runs, stanford = [], []
    for seed in range(1, args.seeds + 1):  # alternating
        runs.append(run_json(CHILD.format("train_child"), corpus, params, seed))
        if build:
            stanford.append(run_json(CHILD.format("stanford_child"), build, corpus, params, seed))
    check = None if args.no_check else run_json(CHILD.format("check_child"), corpus, params)
    report(runs, check, args, stanford)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"wordvec": runs, "check": check, "stanford": stanford or STANFORD}, f,
                      indent=1)
    return 0 if check is None or check["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
