"""word2vec benchmark: wordvec vs gensim 4 ``Word2Vec`` (``corpus_file``) vs the word2vec C tool.

Same corpus and settings for every tool (negative sampling, dim 100, window 5, negative 5,
sample 1e-4, min_count 5, 5 epochs, 2 threads by default; alpha 0.025 sg / 0.05 cbow, the tools'
own defaults; the final rate too: gensim's 1e-4, ours 1e-4 sg and alpha / 10 cbow). Each tool
trains ``--seeds`` times (default 3) with seeds 1, 2, ... (word2vec C
has no seed option: its runs differ by thread timing only); quality is reported as the mean
[min, max] over those runs, speed from the fastest run, peak RSS as the largest. Each run is a
fresh subprocess, so peak RSS is that tool's alone (our and gensim's
process's own high-water mark ``VmHWM`` when training ends, before evaluation; the C tool's
through ``/usr/bin/time``); tools alternate run by run. Wall time covers reading the corpus, building
the vocabulary and training (evaluation excluded); for us the training part alone is shown too.
Evaluation is the same code for all (``wordvec.evaluate``): Google analogies restricted to the
30k most frequent words (3CosAdd), semantic / syntactic, and Spearman rho on WS-353, SimLex-999 and MEN.

    python benchmarks/bench_word2vec.py                       # bench-en, sg and cbow: the lead's run
    python benchmarks/bench_word2vec.py --corpus ../shared/corpora/small-en.txt.xz --model sg
    python benchmarks/bench_word2vec.py --seeds 1 --model sg              # one run per tool
    python benchmarks/bench_word2vec.py --threads 1,2 --peers gensim      # thread scaling
    python benchmarks/bench_word2vec.py --repeat 5 --peers gensim         # memory vs corpus length
    python benchmarks/bench_word2vec.py --word2vec-c ~/word2vec/bin/word2vec

Reference figures (whole bench-en, 2 threads, quoted in issue 3) are printed below the table.
The write-up starts with a run record (date, commit, machine, versions, corpus checksum).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    BENCH_CORPUS,
    VERDICTS,
    count_tokens,
    fmt,
    mean_range,
    plain_corpus,
    quality_vs,
    ratio,
    run_json,
    run_record,
    shown,
    spread,
    table,
)

PEERS = ("gensim", "gensim-iter", "word2vec-c")
SIMS = ("EN-WS-353-ALL", "EN-SIMLEX-999", "EN-MEN-TR-3k")

# quoted in issue 3 (whole bench-en, 2 threads): wall s, peak RSS MB, analogy %, WS, SimLex, MEN
QUOTED = {
    ("gensim 4.4 corpus_file (quoted)", "sg"): (152, 177, 37.7, 0.601, 0.333, 0.645),
    ("gensim 4.4 corpus_file (quoted)", "cbow"): (52, 177, 38.8, 0.569, 0.327, 0.631),
    ("word2vec C (quoted)", "sg"): (333, 562, 23.4, 0.539, 0.335, 0.588),
    ("word2vec C (quoted)", "cbow"): (107, 562, 25.4, 0.549, 0.306, 0.595),
}

CHILD = r'''
import os
import subprocess
import tempfile
import time
import numpy as np

SIMS = ("EN-WS-353-ALL", "EN-SIMLEX-999", "EN-MEN-TR-3k")

def _eval(vectors):
    from wordvec.evaluate import benchmark
    r = benchmark(vectors, restrict=30000)
    a = r["analogy"]["questions-words"]
    return {"analogy": a["accuracy"], "semantic": a["semantic"], "syntactic": a["syntactic"],
            "analogy_questions": a["questions"], "analogy_total": a["total"],
            "sim": {k: [r["similarity"][k]["spearman"], r["similarity"][k]["pairs"],
                        r["similarity"][k]["total"]] for k in SIMS}}


def _number(text):
    """An --wordvec-extra value: int or float when it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(tool, model, corpus, threads, epochs, dim, extra, c_path, min_count="5", seed="1"):
    threads, epochs, dim, min_count, seed = int(threads), int(epochs), int(dim), int(min_count), int(seed)
    alpha = 0.025 if model == "sg" else 0.05
    info = {}
    t0 = time.perf_counter()
    if tool == "wordvec":
        import wordvec
        kw = dict(arg.split("=", 1) for arg in extra.split(",") if arg)
        kw = {k: (v == "1" if k in ("shared_negatives", "cbow_mean") else _number(v))
              for k, v in kw.items()}
        settings = dict(min_count=min_count, loss="ns", dim=dim, window=5, negative=5,
                        sample=1e-4, epochs=epochs, alpha=alpha, threads=threads,
                        seed=seed)
        vec = wordvec.train(corpus, model=model, progress=False, **{**settings, **kw})
        wall = time.perf_counter() - t0
        s = vec.meta["stats"]
        info["train_seconds"] = s["wall_seconds"]
        info["effective_wps"] = s["effective_words_per_second"]
        info["encode_seconds"] = s.get("encode_seconds")
    elif tool in ("gensim", "gensim-iter"):
        from gensim.models import Word2Vec
        from gensim.models.word2vec import LineSentence
        from wordvec.vectors import Vectors
        # corpus_file mode (the fast one), or the ordinary iterable mode (its learning rate
        # decays over the whole epoch; in corpus_file mode each worker counts only its share)
        source = ({"corpus_file": corpus} if tool == "gensim"
                  else {"sentences": LineSentence(corpus)})
        m = Word2Vec(**source, sg=1 if model == "sg" else 0, vector_size=dim, window=5,
                     negative=5, hs=0, sample=1e-4, min_count=min_count, epochs=epochs, alpha=alpha,
                     min_alpha=1e-4, workers=threads, seed=seed)
        wall = time.perf_counter() - t0
        wv = m.wv
        vec = Vectors(list(wv.index_to_key), np.asarray(wv.vectors, dtype=np.float32))
    else:
        from wordvec.formats import load_vectors
        out = tempfile.mktemp(prefix="w2v-c-", suffix=".bin")
        timer = ["/usr/bin/time", "-f", "%M", "-o", out + ".rss"] if os.path.exists("/usr/bin/time") else []
        cmd = [*timer, c_path, "-train", corpus, "-output", out, "-cbow", "0" if model == "sg" else "1",
               "-size", str(dim), "-window", "5", "-negative", "5", "-hs", "0", "-sample", "1e-4",
               "-min-count", str(min_count), "-iter", str(epochs), "-alpha", str(alpha),
               "-threads", str(threads), "-binary", "1"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        vec = load_vectors(out)
        os.unlink(out)
        if timer:  # the tool's own peak (a child's ru_maxrss would include ours: see peak_rss_mb)
            with open(out + ".rss") as f:
                info["tool_rss_mb"] = int(f.read().split()[-1]) / 1024
            os.unlink(out + ".rss")
    info["wall"] = wall
    # peak memory of the training alone (evaluation below allocates its own big temporaries)
    info["train_rss_mb"] = peak_rss_mb()
    info["vocab"] = len(vec)
    info.update(_eval(vec))
    return info
'''


def _mean(values):
    m = mean_range(values)
    return None if m is None else m[0]


def rss(r):
    """Peak RSS of the training (before evaluation); the C tool's own."""
    return r.get("tool_rss_mb") or r.get("train_rss_mb") or r["peak_rss_mb"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS, help="corpus (.txt or .xz); default bench-en")
    ap.add_argument("--model", choices=("sg", "cbow", "both"), default="both")
    ap.add_argument("--threads", default="2", help="thread count(s), e.g. 2 or 1,2")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--min-count", type=int, default=5,
                    help="with --repeat k, use 5*k to keep the vocabulary of the single corpus")
    ap.add_argument("--seeds", "--runs", type=int, default=3, dest="seeds",
                    help="runs per tool, seeds 1..N, alternating tools (quality: mean and range)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="use the corpus repeated k times (memory must not grow with it)")
    ap.add_argument("--peers", default="gensim", help="comma list of " + ", ".join(PEERS)
                    + " ('' for ours only); word2vec-c needs --word2vec-c")
    ap.add_argument("--word2vec-c", default="", help="path of the word2vec C binary")
    ap.add_argument("--wordvec-extra", default="",
                    help="extra wordvec parameters, e.g. shared_negatives=1")
    ap.add_argument("--tokens", type=int, default=None,
                    help="only the first lines of the corpus holding this many tokens (a slice)")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            ap.error(f"unknown peer {p!r}")
    if args.word2vec_c and "word2vec-c" not in peers:
        peers.append("word2vec-c")
    if "word2vec-c" in peers and not os.access(args.word2vec_c, os.X_OK):
        ap.error("peer word2vec-c needs --word2vec-c PATH (an executable)")
    tools = ["wordvec", *peers]
    models = ("sg", "cbow") if args.model == "both" else (args.model,)
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(run_record(tools=["gensim"] if any(p.startswith("gensim") for p in peers) else [],
                     corpus=args.corpus,
                     c_tools={"word2vec C": args.word2vec_c if "word2vec-c" in peers else ""},
                     seeds=args.seeds), flush=True)
    corpus = plain_corpus(os.path.abspath(args.corpus), repeat=args.repeat, tokens=args.tokens)
    tokens = count_tokens(corpus)
    print(f"corpus {shown(corpus)}: {tokens:,} tokens; settings: negative sampling, dim {args.dim}, "
          f"window 5, negative 5, sample 1e-4, min_count {args.min_count}, epochs {args.epochs}, threads "
          f"{args.threads}{', ' + args.wordvec_extra if args.wordvec_extra else ''}", flush=True)
    results = {}
    for run in range(args.seeds):
        seed = run + 1
        for model in models:
            for threads in thread_counts:
                for t in tools:
                    r = run_json(CHILD, t, model, corpus, threads, args.epochs, args.dim,
                                 args.wordvec_extra, args.word2vec_c or "-", args.min_count, seed)
                    results.setdefault((t, model, threads), []).append(r)
                    print(f"run {run + 1} (seed {seed}) {t} {model} {threads}t: {r['wall']:.1f} s, "
                          f"{rss(r):.0f} MB, vocab {r['vocab']:,}, analogy {fmt(r['analogy'], True)} %",
                          flush=True)
    rows = []
    best = {}  # per tool: speed of the fastest run, largest peak RSS, mean quality
    for (t, model, threads), runs in results.items():
        r = min(runs, key=lambda x: x["wall"])
        means = {k: _mean([x[k] for x in runs]) for k in ("analogy", "semantic", "syntactic")}
        sims = {k: [x["sim"][k][0] for x in runs] for k in SIMS}
        best[t, model, threads] = {"wall": r["wall"], "rss": max(rss(x) for x in runs), **means,
                                   "sim": {k: _mean(v) for k, v in sims.items()}}
        train = f" ({r['train_seconds']:.1f})" if "train_seconds" in r else ""
        eff = f"{r['effective_wps'] / 1e3:.0f} k" if r.get("effective_wps") else "-"
        rows.append((t, model, threads, f"{r['wall']:.1f}{train}",
                     f"{tokens * args.epochs / r['wall'] / 1e3:.0f} k", eff,
                     f"{best[t, model, threads]['rss']:.0f} MB",
                     f"{spread([x['analogy'] for x in runs], True)} ({fmt(means['semantic'], True)} / "
                     f"{fmt(means['syntactic'], True)})",
                     *(spread(sims[k]) for k in SIMS)))
    for (name, model), (wall, mb, an, ws, sl, men) in QUOTED.items():
        if model in models:
            rows.append((name, model, 2, wall, "-", "-", f"{mb} MB", an, ws, sl, men))
    print()
    print(table(["tool", "model", "threads", "wall s (train)", "words/s", "effective w/s",
                 "peak RSS", "analogy % (sem / syn)", "WS-353", "SimLex", "MEN"], rows))
    if args.seeds > 1:
        print(f"quality: mean [min, max] over {args.seeds} seeds, sem / syn as means; wall time and "
              "words/s: the fastest run; peak RSS: the largest")
    print()
    print(VERDICTS)
    for (t, model, threads), p in best.items():
        ours = best.get(("wordvec", model, threads))
        if t == "wordvec" or ours is None:
            continue
        print(f"wordvec / {t} ({model}, {threads} threads, quality as means): speed "
              f"{ratio(p['wall'], ours['wall'])}, peak RSS {ratio(ours['rss'], p['rss'])}, "
              + quality_vs(results["wordvec", model, threads], results[t, model, threads]))
    for model in models:
        one, two = best.get(("wordvec", model, 1)), best.get(("wordvec", model, 2))
        if one and two:
            print(f"wordvec {model}: 2 threads vs 1 thread: {ratio(one['wall'], two['wall'])} faster")
    print("targets (issue 3): sg-ns and cbow-ns speed >= 1.3x gensim; analogy >= gensim - 1.0 "
          "point; each rho >= gensim - 0.02; peak RSS <= 1.5x gensim")


if __name__ == "__main__":
    main()
