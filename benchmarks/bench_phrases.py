"""Phrases: wordvec against word2phrase (word2vec C) and gensim ``Phrases``: time, memory and
agreement, same corpus and settings.

    python benchmarks/bench_phrases.py --word2phrase PATH/word2phrase [--runs 2]
        [--corpus ../shared/corpora/bench-en.txt.xz] [--tokens N] [--no-gensim]

Settings: word2phrase's (``-threshold 100 -min-count 5``), no connector words (word2phrase has
none), one pass. Every tool learns from the corpus and writes it back with the phrases joined,
in its own fresh process; runs alternate (tool order rotates), one warm-up round first (Numba's
compilation and the page cache). gensim runs with word2phrase's score (``N`` = corpus words)
through its custom-scorer hook, so all three compute the same formula; gensim learns from
``LineSentence`` and writes ``frozen[sentence]`` line by line.

Reported: the fastest wall time and largest peak RSS per tool, ratios to wordvec, and agreement
of the outputs: the phrase types each output holds (tokens joined by the tool: containing ``_``
and not tokens of the input), their overlap, and the share of lines written identically.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, plain_corpus, run_record, shown, table  # noqa: E402

THRESHOLD, MIN_COUNT = 100, 5

GENSIM = f"""
import sys, time
from gensim.models.phrases import Phrases
from gensim.models.word2vec import LineSentence
def scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count
src, out = sys.argv[1], sys.argv[2]
ph = Phrases(LineSentence(src, max_sentence_length=10**9), min_count={MIN_COUNT},
             threshold={THRESHOLD}, scoring=scorer, connector_words=frozenset())
frozen = ph.freeze()
with open(out, "w", encoding="utf-8") as f:
    for s in LineSentence(src, max_sentence_length=10**9):
        f.write(" ".join(frozen[s]) + "\\n")
"""


def _peak_of(time_stderr):
    for line in time_stderr.splitlines()[::-1]:
        if line.startswith("PEAK_KB "):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_tool(tool, corpus, out, args):
    if tool == "wordvec":
        cmd = [sys.executable, "-m", "wordvec.cli", "phrases", corpus, "-o", out, "--force",
               "--no-connectors", "--threshold", str(THRESHOLD), "--min-count", str(MIN_COUNT)]
    elif tool == "word2phrase":
        cmd = [args.word2phrase, "-train", corpus, "-output", out, "-threshold", str(THRESHOLD),
               "-min-count", str(MIN_COUNT), "-debug", "0"]
    else:
        cmd = [sys.executable, "-c", GENSIM, corpus, out]
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "PEAK_KB %M", *cmd], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{tool} failed: {proc.stderr[-2000:]}")
    return wall, _peak_of(proc.stderr)


def phrase_types(path, input_vocab):
    types = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            for t in line.split():
                if "_" in t and t not in input_vocab:
                    types[t] = types.get(t, 0) + 1
    return types


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--tokens", type=int, help="only the first lines holding this many tokens")
    ap.add_argument("--word2phrase", help="path of word2vec C's word2phrase (built with its makefile)")
    ap.add_argument("--no-gensim", action="store_true")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    corpus = plain_corpus(args.corpus, tokens=args.tokens)
    tools = ["wordvec"] + (["word2phrase"] if args.word2phrase else []) + \
        ([] if args.no_gensim else ["gensim"])
    print(run_record(["gensim"], corpus=corpus, c_tools={"word2phrase": args.word2phrase}))
    print(f"\nsettings: threshold {THRESHOLD}, min-count {MIN_COUNT}, no connector words, "
          "one pass\n")
    work = tempfile.mkdtemp(prefix="wordvec-bench-phrases-")
    outs = {t: os.path.join(work, f"{t}.txt") for t in tools}
    times = {t: [] for t in tools}
    peaks = {t: [] for t in tools}
    for r in range(args.runs + 1):
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for tool in order:
            wall, peak = run_tool(tool, corpus, outs[tool], args)
            print(f"  round {r}{' (warm-up)' if r == 0 else ''}: {tool} {wall:.1f} s, "
                  f"{peak:,.0f} MB", file=sys.stderr)
            if r:
                times[tool].append(wall)
                peaks[tool].append(peak)
    base = min(times["wordvec"])
    rows = [[t, f"{min(times[t]):.2f}", f"{max(peaks[t]):,.0f}", f"{min(times[t]) / base:.2f}x"]
            for t in tools]
    print(table(["tool", "wall s (fastest)", "peak RSS MB", "time / wordvec"], rows))

    vocab = set()
    with open(corpus, encoding="utf-8", errors="replace") as f:
        for line in f:
            vocab.update(line.split())
    found = {t: phrase_types(outs[t], vocab) for t in tools}
    print("\nphrase types in each output (tokens it joined):")
    rows = []
    for i, a in enumerate(tools):
        for b in tools[i + 1:]:
            sa, sb = set(found[a]), set(found[b])
            rows.append([f"{a} / {b}", f"{len(sa):,}", f"{len(sb):,}", f"{len(sa & sb):,}",
                         f"{len(sa - sb):,}", f"{len(sb - sa):,}",
                         f"{len(sa & sb) / max(len(sa | sb), 1):.4f}"])
    print(table(["pair", "types a", "types b", "both", "only a", "only b", "Jaccard"], rows))
    lines = {}
    for t in tools:
        with open(outs[t], encoding="utf-8", errors="replace") as f:
            lines[t] = [ln.split() for ln in f]
    rows = []
    for i, a in enumerate(tools):
        for b in tools[i + 1:]:
            n = min(len(lines[a]), len(lines[b]))
            same = sum(lines[a][k] == lines[b][k] for k in range(n))
            rows.append([f"{a} / {b}", f"{len(lines[a]):,}", f"{len(lines[b]):,}",
                         f"{same / max(n, 1):.5f}"])
    print("\nlines written identically (as token lists):")
    print(table(["pair", "lines a", "lines b", "same"], rows))
    for i, a in enumerate(tools):
        for b in tools[i + 1:]:
            only_a = sorted(set(found[a]) - set(found[b]), key=lambda t: -found[a][t])[:8]
            only_b = sorted(set(found[b]) - set(found[a]), key=lambda t: -found[b][t])[:8]
            print(f"\nmost frequent only in {a} vs {b}: "
                  + ", ".join(f"{t} ({found[a][t]})" for t in only_a))
            print(f"most frequent only in {b} vs {a}: "
                  + ", ".join(f"{t} ({found[b][t]})" for t in only_b))
    print(f"\n(outputs kept in {shown(work)})")


if __name__ == "__main__":
    main()
