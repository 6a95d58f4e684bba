"""Counting + encoding speed: wordvec's one-read ``encode`` vs gensim's ``build_vocab``.

    python benchmarks/bench_vocab.py [--corpus PATH] [--repeat 1] [--runs 2]

Both read the same uncompressed file (min_count 5). gensim's ``build_vocab(corpus_file=...)``
only counts; wordvec counts *and* writes the int32-encoded corpus that training then reads, so
the comparison is conservative for us. Each tool runs in its own process, alternating. The
write-up starts with a run record (date, commit, machine, versions, corpus checksum).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, plain_corpus, ratio, run_json, run_record, shown, table  # noqa: E402

OURS = """
import time
def main(path):
    t = time.perf_counter()
    from wordvec.encode import encode
    with encode(path, min_count=5) as c:
        n, v = c.raw_tokens, len(c.vocab)
    return {"seconds": time.perf_counter() - t, "tokens": n, "vocab": v}
"""

OURS_COUNT = """
import time
def main(path):
    t = time.perf_counter()
    from wordvec.encode import count_words
    v = count_words(path, min_count=5)
    return {"seconds": time.perf_counter() - t, "tokens": v.raw_tokens, "vocab": len(v)}
"""

GENSIM = """
import time, logging
def main(path):
    t = time.perf_counter()
    from gensim.models import Word2Vec
    m = Word2Vec(min_count=5, workers=2)
    m.build_vocab(corpus_file=path)
    return {"seconds": time.perf_counter() - t, "tokens": m.corpus_total_words, "vocab": len(m.wv)}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    print(run_record(tools=("gensim",), corpus=args.corpus), flush=True)
    path = plain_corpus(args.corpus, args.repeat)
    tools = {"wordvec encode (count + encode)": OURS, "wordvec count only": OURS_COUNT,
             "gensim build_vocab": GENSIM}
    results = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, code in tools.items():
            results[name].append(run_json(code, path))
    best = {name: min(rs, key=lambda r: r["seconds"]) for name, rs in results.items()}
    g = best["gensim build_vocab"]
    rows = []
    for name, r in best.items():
        rows.append([name, f"{r['seconds']:.2f}", f"{r['tokens'] / r['seconds'] / 1e6:.2f}",
                     f"{r['peak_rss_mb']:.0f}", f"{r['vocab']:,}", ratio(g["seconds"], r["seconds"])])
    print(f"corpus: {shown(args.corpus)} x{args.repeat} ({g['tokens']:,} tokens), min_count 5, best of {args.runs}")
    print(table(["tool", "wall s", "M tokens/s", "peak RSS MB", "vocab", "speed vs gensim"], rows))


if __name__ == "__main__":
    main()
