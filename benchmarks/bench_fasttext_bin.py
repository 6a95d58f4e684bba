"""Loading a large fastText .bin: time and peak memory, wordvec against fastText and gensim.

    python benchmarks/bench_fasttext_bin.py [--bin MODEL.bin] [--runs 3]
        [--fasttext-cmd fasttext] [--dim 300] [--bucket 2000000] [--corpus ...]

Without ``--bin``, a model is first trained by the ``fasttext`` command (skip-gram, ``--dim``,
``--bucket``, one epoch, 2 threads) on the benchmark corpus and cached in the temp folder: the
file is then as fastText itself writes it. Each loader runs in a fresh process, the tools
alternating, after one untimed warm-up round (so every run reads the file from the page cache):

- ``wordvec vectors``: ``wordvec.load(bin)`` (what every query command does with ``-m``);
- ``wordvec model``: ``wordvec.load_model(bin)``, the trainable model (both matrices in memory);
- ``fasttext``: ``fasttext.load_model(bin)`` (fasttext-wheel, the pip build of fastText 0.9.2);
- ``gensim vectors``: ``gensim.models.fasttext.load_facebook_vectors(bin)``.

Each then answers for one known and one unseen word (checked equal to fastText's to 1e-5).
Reported: the minimum load time and the largest peak RSS (``VmHWM``) over runs, and ratios to
fastText's.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, plain_corpus, run_json, run_record, shown, table  # noqa: E402

WORDS = ["the", "unbelievablenessly"]

LOADERS = {
    "wordvec vectors": f"""
import sys, time
sys.path.insert(0, {REPO!r})
def main(path):
    import wordvec
    t0 = time.perf_counter()
    v = wordvec.load(path)
    vecs = [v[w] if w in v else v.oov_vector(w) for w in {WORDS!r}]
    return {{"seconds": time.perf_counter() - t0, "words": len(v),
             "vecs": [x.tolist() for x in vecs]}}
""",
    "wordvec model": f"""
import sys, time
sys.path.insert(0, {REPO!r})
def main(path):
    import wordvec
    t0 = time.perf_counter()
    m = wordvec.load_model(path)
    v = m.wv
    vecs = [v[w] if w in v else v.oov_vector(w) for w in {WORDS!r}]
    return {{"seconds": time.perf_counter() - t0, "words": len(v),
             "vecs": [x.tolist() for x in vecs]}}
""",
    "fasttext": f"""
import time
def main(path):
    import fasttext
    fasttext.FastText.eprint = lambda *a, **k: None
    t0 = time.perf_counter()
    m = fasttext.load_model(path)
    vecs = [m.get_word_vector(w) for w in {WORDS!r}]
    return {{"seconds": time.perf_counter() - t0, "words": len(m.words),
             "vecs": [x.tolist() for x in vecs]}}
""",
    "gensim vectors": f"""
import time
def main(path):
    from gensim.models.fasttext import load_facebook_vectors
    t0 = time.perf_counter()
    kv = load_facebook_vectors(path)
    vecs = [kv[w] for w in {WORDS!r}]
    return {{"seconds": time.perf_counter() - t0, "words": len(kv.index_to_key),
             "vecs": [x.tolist() for x in vecs]}}
""",
}


def make_model(args):
    corpus = plain_corpus(args.corpus)
    folder = os.path.join(tempfile.gettempdir(), "wordvec-bench")
    prefix = os.path.join(folder, f"ft-d{args.dim}-b{args.bucket}")
    if not os.path.exists(prefix + ".bin"):
        print(f"training {shown(prefix)}.bin with {args.fasttext_cmd} ...", file=sys.stderr)
        subprocess.run([args.fasttext_cmd, "skipgram", "-input", corpus, "-output", prefix,
                        "-dim", str(args.dim), "-bucket", str(args.bucket), "-epoch", "1",
                        "-thread", "2", "-verbose", "0"], check=True)
    return prefix + ".bin"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", help="an existing fastText .bin (default: train one)")
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--fasttext-cmd", default="fasttext")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--bucket", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    args = ap.parse_args()
    path = args.bin or make_model(args)
    print(run_record(["fasttext", "gensim"]))
    print(f"model: {shown(path)}, {os.path.getsize(path) / 1e9:.2f} GB\n")
    results = {t: [] for t in args.tools}
    for r in range(args.runs + 1):
        for tool in args.tools:
            t0 = time.perf_counter()
            out = run_json(LOADERS[tool], path)
            out["process_seconds"] = time.perf_counter() - t0
            if r:  # (round 0 is the warm-up)
                results[tool].append(out)
    ref = results.get("fasttext")
    rows = []
    for tool, runs in results.items():
        load = min(o["seconds"] for o in runs)
        proc = min(o["process_seconds"] for o in runs)
        rss = max(o["peak_rss_mb"] for o in runs)
        same = "-"
        if ref:
            import numpy as np
            diff = max(float(np.abs(np.subtract(a, b)).max())
                       for a, b in zip(runs[0]["vecs"], ref[0]["vecs"]))
            same = "yes" if diff < 1e-5 else f"NO ({diff:.1e})"
        row = [tool, f"{load:.2f}", f"{proc:.2f}", f"{rss:,.0f}"]
        if ref:
            row += [f"{load / min(o['seconds'] for o in ref):.2f}x",
                    f"{rss / max(o['peak_rss_mb'] for o in ref):.2f}x", same]
        rows.append(row)
    headers = ["loader", "load s", "process s", "peak RSS MB"]
    if ref:
        headers += ["load / fastText", "RSS / fastText", "vectors = fastText's"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
