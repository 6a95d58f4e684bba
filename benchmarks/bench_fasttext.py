"""fastText benchmark: wordvec vs facebook fastText (fasttext-wheel) vs gensim 4 ``FastText``.

Same corpus and settings for all three (skip-gram, dim 100, window 5, negative 5, minn 3, maxn 6,
bucket 2,000,000, epochs 5, min_count 5, sample 1e-4, lr 0.05, 2 threads). Each tool trains
``--seeds`` times (default 3) with seeds 1, 2, ... (fasttext-wheel's ``train_unsupervised``
takes no seed: its runs differ by thread timing only); quality is reported as the mean [min, max]
over those runs, speed from the fastest run, peak RSS as the largest. Each run is a fresh
subprocess (peak RSS is that process's own), tools alternate run by run. Wall time covers reading
the corpus, building the vocabulary and training (evaluation excluded). Evaluation is the same
code for all (``wordvec.evaluate``): Google analogies restricted to the 30k most frequent words
(3CosAdd), and WS-353 / SimLex-999 / MEN where unseen words are scored through their character
n-grams for every tool (each peer's own n-gram vectors), with the number of pairs scored.

    python benchmarks/bench_fasttext.py                          # bench-en, the lead's run
    python benchmarks/bench_fasttext.py --corpus ../shared/corpora/small-en.txt.xz --seeds 1

Reference figures (whole bench-en, 2 threads, measured by the issue's author) are printed too.
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

TOOLS = ("wordvec", "fasttext", "fasttext-bin", "gensim")
SIMS = ("EN-WS-353-ALL", "EN-SIMLEX-999", "EN-MEN-TR-3k")

# quoted in issue 4 (whole bench-en, 2 threads): wall s, peak RSS MB, analogy %, WS, SimLex, MEN
PEERS = {
    "fastText 0.9.2 upstream (quoted)": (409, 1000, 63.1, 0.587, 0.327, 0.692),
    "gensim 4.4 FastText (quoted)": (256, 994, 57.5, 0.479, 0.264, 0.633),
}

CHILD = r'''
import json
import time
import numpy as np

def _eval(vectors):
    from wordvec.evaluate import benchmark
    r = benchmark(vectors, restrict=30000)
    a = r["analogy"]["questions-words"]
    sims = {k: r["similarity"][k] for k in ("EN-WS-353-ALL", "EN-SIMLEX-999", "EN-MEN-TR-3k")}
    return {"analogy": a["accuracy"], "semantic": a["semantic"], "syntactic": a["syntactic"],
            "analogy_questions": a["questions"], "analogy_total": a["total"],
            "sim": {k: [v["spearman"], v["pairs"], v["total"]] for k, v in sims.items()}}

def _peer_vectors(words, matrix, lookup):
    from wordvec.vectors import Vectors

    class PeerVectors(Vectors):
        def oov_vector(self, word):
            return lookup(word)

    return PeerVectors(words, np.asarray(matrix, dtype=np.float32))

def main(tool, corpus, threads, epochs, dim, bucket, extra, arch, ft_extra, seed="1", ft_bin=""):
    threads, epochs, dim, bucket, seed = int(threads), int(epochs), int(dim), int(bucket), int(seed)
    t0 = time.perf_counter()
    info = {}

    def parse(text):
        kw = dict(arg.split("=", 1) for arg in text.split(",") if arg)
        return {k: json.loads(v) if v[:1].isdigit() or v[:1] == "-" else v for k, v in kw.items()}

    if tool == "wordvec":
        import wordvec
        kw = {"seed": seed, **parse(extra)}
        vec = wordvec.train(corpus, model="fasttext", min_count=5, progress=False, arch=arch,
                            dim=dim, window=5, negative=5, sample=1e-4, epochs=epochs,
                            alpha=0.05, minn=3, maxn=6, bucket=bucket, threads=threads, **kw)
        wall = time.perf_counter() - t0
        info["train_seconds"] = vec.meta["stats"]["wall_seconds"]
        info["vocab"] = len(vec)
    elif tool in ("fasttext", "fasttext-bin"):
        import fasttext
        if tool == "fasttext":
            m = fasttext.train_unsupervised(corpus, model="skipgram" if arch == "sg" else "cbow",
                                            dim=dim, ws=5, neg=5, minn=3, maxn=6, bucket=bucket,
                                            epoch=epochs, minCount=5, t=1e-4, lr=0.05,
                                            thread=threads, verbose=0, **parse(ft_extra))
            wall = time.perf_counter() - t0
        else:  # a fastText binary (e.g. built from upstream's sources), timed and measured alone
            import os, subprocess, tempfile
            folder = tempfile.mkdtemp(prefix="ft-bin-")
            out, rss = os.path.join(folder, "model"), os.path.join(folder, "rss")
            flags = [f"-{k}" if i % 2 == 0 else str(v) for k, v in parse(ft_extra).items()
                     for i in (0, 1)]
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss, ft_bin,
                            "skipgram" if arch == "sg" else "cbow", "-input", corpus, "-output",
                            out, "-dim", str(dim), "-ws", "5", "-neg", "5", "-minn", "3", "-maxn",
                            "6", "-bucket", str(bucket), "-epoch", str(epochs), "-minCount", "5",
                            "-t", "1e-4", "-lr", "0.05", "-thread", str(threads), "-verbose", "0",
                            "-seed", str(seed), *flags], check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            with open(rss) as f:
                info["tool_rss_mb"] = int(f.read().split()[-1]) / 1024
            m = fasttext.load_model(out + ".bin")
            for name in ("model.bin", "model.vec", "rss"):
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
        words = m.words
        matrix = np.stack([m.get_word_vector(w) for w in words])

        def lookup(word):
            if not m.get_subwords(word)[1].size:
                raise KeyError(word)
            return m.get_word_vector(word)

        vec = _peer_vectors(words, matrix, lookup)
        info["vocab"] = len(words)
    else:
        from gensim.models import FastText
        m = FastText(corpus_file=corpus, sg=int(arch == "sg"), vector_size=dim, window=5,
                     negative=5, min_n=3, max_n=6, bucket=bucket, epochs=epochs, min_count=5,
                     sample=1e-4, alpha=0.05, min_alpha=0.0, workers=threads, seed=seed)
        wall = time.perf_counter() - t0
        wv = m.wv

        def lookup(word):
            return wv.get_vector(word)  # KeyError when the word has no n-grams

        vec = _peer_vectors(list(wv.index_to_key), wv.vectors, lookup)
        info["vocab"] = len(wv.index_to_key)
    info["wall"] = wall
    info.update(_eval(vec))
    return info
'''


def _mean(values):
    m = mean_range(values)
    return None if m is None else m[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS, help="corpus (.txt or .xz); default bench-en")
    ap.add_argument("--seeds", "--runs", type=int, default=3, dest="seeds",
                    help="runs per tool, seeds 1..N, alternating tools (quality: mean and range)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--bucket", type=int, default=2_000_000)
    ap.add_argument("--arch", choices=("sg", "cbow"), default="sg",
                    help="skip-gram (the issue's setting) or CBOW, for all tools")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma list of " + ", ".join(TOOLS))
    ap.add_argument("--wordvec-extra", default="",
                    help="extra wordvec parameters, e.g. ns_exponent=0.75")
    ap.add_argument("--fasttext-extra", default="",
                    help="extra fasttext.train_unsupervised parameters, e.g. lrUpdateRate=50")
    ap.add_argument("--tokens", type=int, default=None,
                    help="only the first lines of the corpus holding this many tokens (a slice)")
    ap.add_argument("--fasttext-bin", default="",
                    help="tool fasttext-bin: a fastText executable, e.g. built from upstream's "
                         "sources with its own makefile (timed and measured with /usr/bin/time)")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    tools = [t for t in args.tools.split(",") if t]
    if args.fasttext_bin and "fasttext-bin" not in tools:
        tools.append("fasttext-bin")
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}")
    if "fasttext-bin" in tools and not os.access(args.fasttext_bin, os.X_OK):
        ap.error("tool fasttext-bin needs --fasttext-bin PATH (an executable)")
    print(run_record(tools=[t.removesuffix("-bin") for t in tools if t != "wordvec"],
                     corpus=args.corpus, seeds=args.seeds,
                     c_tools={"fastText binary": args.fasttext_bin}), flush=True)
    corpus = plain_corpus(os.path.abspath(args.corpus), tokens=args.tokens)
    tokens = count_tokens(corpus)
    print(f"corpus {shown(corpus)}: {tokens:,} tokens; settings: {args.arch} dim {args.dim} ws 5 neg 5 "
          f"minn 3 maxn 6 bucket {args.bucket:,} epochs {args.epochs} min_count 5 t 1e-4 lr 0.05 "
          f"threads {args.threads}", flush=True)
    results = {t: [] for t in tools}
    for run in range(args.seeds):
        seed = run + 1
        for t in tools:
            r = run_json(CHILD, t, corpus, args.threads, args.epochs, args.dim, args.bucket,
                         args.wordvec_extra, args.arch, args.fasttext_extra, seed,
                         os.path.abspath(args.fasttext_bin) if args.fasttext_bin else "")
            r["peak_rss_mb"] = r.get("tool_rss_mb") or r["peak_rss_mb"]  # a binary's own
            results[t].append(r)
            print(f"run {run + 1} (seed {seed}) {t}: {r['wall']:.1f} s, {r['peak_rss_mb']:.0f} MB, "
                  f"analogy {fmt(r['analogy'], True)} %", flush=True)
    rows = []
    best = {}  # per tool: speed of the fastest run, largest peak RSS, mean quality
    for t in tools:
        runs = results[t]
        r = min(runs, key=lambda x: x["wall"])
        sims = {k: [x["sim"][k][0] for x in runs] for k in SIMS}
        best[t] = {"wall": r["wall"], "peak_rss_mb": max(x["peak_rss_mb"] for x in runs),
                   **{k: _mean([x[k] for x in runs]) for k in ("analogy", "semantic", "syntactic")},
                   "sim": {k: _mean(v) for k, v in sims.items()}}
        b = best[t]
        # the questions and pairs scored are the same in every run (the vocabulary is)
        rows.append((t, f"{r['wall']:.1f}", f"{tokens * args.epochs / r['wall'] / 1e3:.0f} k",
                     f"{b['peak_rss_mb']:.0f} MB",
                     f"{spread([x['analogy'] for x in runs], True)} ({fmt(b['semantic'], True)} / "
                     f"{fmt(b['syntactic'], True)})",
                     f"{r['analogy_questions']}/{r['analogy_total']}",
                     *(f"{spread(sims[k])} ({r['sim'][k][1]}/{r['sim'][k][2]})" for k in SIMS)))
    for name, (wall, rss, an, ws, sl, men) in PEERS.items():
        rows.append((name, wall, "-", f"{rss} MB", an, "-", ws, sl, men))
    print()
    print(table(["tool", "wall s", "words/s", "peak RSS", "analogy % (sem / syn)", "questions",
                 "WS-353 (pairs)", "SimLex (pairs)", "MEN (pairs)"], rows))
    if args.seeds > 1:
        print(f"quality: mean [min, max] over {args.seeds} seeds, sem / syn as means; wall time and "
              "words/s: the fastest run; peak RSS: the largest")
    if "wordvec" in best:
        ours = best["wordvec"]
        print()
        print(VERDICTS)
        for t in tools:
            if t == "wordvec":
                continue
            p = best[t]
            print(f"wordvec / {t} (quality as means): wall {ratio(ours['wall'], p['wall'])}, peak RSS "
                  f"{ratio(ours['peak_rss_mb'], p['peak_rss_mb'])}, "
                  + quality_vs(results["wordvec"], results[t]))
        print("targets (issue 4): wall <= 0.75x gensim and <= 0.5x fastText; analogy >= "
              "fastText - 1.0 point; each rho >= fastText - 0.02")


if __name__ == "__main__":
    main()
