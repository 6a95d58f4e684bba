"""Before/after: the same ``wordvec train`` runs from two source trees, alternating, as ratios.

    python benchmarks/bench_versions.py --old ../wordvec-old [--new .] [--runs 3]
        [--corpus ../shared/corpora/bench-en.txt.xz --tokens 5000000] [--models sg cbow ...]

``--old`` is another checkout of wordvec (``git worktree add ../wordvec-old <commit>``). Each
model is trained ``--runs`` times by each tree, old and new alternating (after one untimed
warm-up run each, so Numba's compilation is not timed), on the same corpus slice with the same
settings and threads, each in a fresh process. Reported: the minimum over runs of the process
wall time and of the training time the model records (``wall_seconds``; GloVe's and LSA's
totals), and new / old ratios (above 1.00: the new tree is slower).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _common import REPO, SHARED, plain_corpus, run_record, shown

MODELS = {
    "sg": ["--model", "sg"],
    "cbow": ["--model", "cbow"],
    "sg-hs": ["--model", "sg", "--loss", "hs"],
    "cbow-hs": ["--model", "cbow", "--loss", "hs"],
    "fasttext": ["--model", "fasttext"],
    "fasttext-cbow": ["--model", "fasttext", "--arch", "cbow"],
    "glove": ["--model", "glove"],
    "lsa": ["--model", "lsa"],
}


def run(tree, corpus, args, out, cache):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree), "NUMBA_CACHE_DIR": cache}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "wordvec.cli", "train", corpus, "-q", "-o", out,
                           "--force", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{tree}: wordvec train {' '.join(args)} failed: {proc.stderr.strip()}")
    with open(os.path.join(out, "model.json")) as f:
        stats = json.load(f)["stats"]
    if "train_seconds" in stats:  # GloVe: counting + fitting
        train = stats.get("count_seconds", 0) + stats["train_seconds"]
    else:
        train = stats["wall_seconds"]
    return wall, train


def _commit_of(tree):
    try:
        out = subprocess.run(["git", "-C", tree, "describe", "--always", "--dirty=+dirty"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = "?"
    return f"{shown(tree)} ({out})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="the other checkout (the 'before')")
    ap.add_argument("--new", default=REPO, help="this checkout by default")
    ap.add_argument("--corpus", default=os.path.join(SHARED, "corpora", "bench-en.txt.xz"))
    ap.add_argument("--tokens", type=int, default=5_000_000, help="first N tokens of the corpus")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    a = ap.parse_args()
    print(run_record(corpus=a.corpus))
    folder = os.path.join(tempfile.gettempdir(), "wordvec-bench")
    os.makedirs(folder, exist_ok=True)
    corpus = plain_corpus(a.corpus, folder=folder, tokens=a.tokens)
    print(f"corpus: first {a.tokens:,} tokens of {shown(a.corpus)}; {a.threads} threads; "
          f"min of {a.runs} alternating runs each; old = {_commit_of(a.old)}, new = {_commit_of(a.new)}")
    print()
    print("| model | old wall s | new wall s | ratio | old train s | new train s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        caches = {t: os.path.join(tmp, f"numba-{i}") for i, t in enumerate((a.old, a.new))}
        for name in a.models:
            args = MODELS[name] + ["--threads", str(a.threads)]
            res = {a.old: [], a.new: []}
            for tree in (a.old, a.new):  # warm-up: compile
                run(tree, corpus, args, os.path.join(tmp, "out"), caches[tree])
            for _ in range(a.runs):
                for tree in (a.old, a.new):
                    res[tree].append(run(tree, corpus, args, os.path.join(tmp, "out"),
                                         caches[tree]))
            ow, ot = (min(x[i] for x in res[a.old]) for i in (0, 1))
            nw, nt = (min(x[i] for x in res[a.new]) for i in (0, 1))
            print(f"| {name} | {ow:.2f} | {nw:.2f} | {nw / ow:.3f} | {ot:.2f} | {nt:.2f} | "
                  f"{nt / ot:.3f} |", flush=True)


if __name__ == "__main__":
    main()
