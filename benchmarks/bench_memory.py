"""Where the memory goes: peak resident memory of word2vec training, ours vs gensim, split into
private (anonymous) and file-backed pages.

    python benchmarks/bench_memory.py [--corpus PATH] [--model cbow] [--tokens N] [--runs 2]

Each tool trains in its own fresh process (same settings as bench_word2vec: negative sampling,
dim 100, window 5, negative 5, sample 1e-4, min_count 5, 5 epochs, 2 threads). This script reads
``/proc/PID/status`` of that process every 20 ms: ``RssAnon`` (private memory: Python objects,
arrays, heaps), ``RssFile`` (pages of files mapped in: shared libraries' code, memory-mapped
data; clean ones the kernel can drop and re-read at any time) and, at the end, ``VmHWM`` (the
peak of their sum, which is what "peak RSS" means elsewhere). Rows:

- ``import``: the interpreter with the tool's modules imported, nothing trained;
- ``+ kernels`` (ours): a first training of a tiny corpus, so Numba has loaded its compiled
  kernels from the on-disk cache (LLVM and its code pages come in here);
- ``train``: the whole run on the corpus. Peaks of anon and file are taken separately, so
  their sum can exceed VmHWM slightly.
Runs alternate between the tools; each figure is the largest over ``--runs``.
"""

import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, plain_corpus, run_record, shown, table  # noqa: E402

SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-4, min_count=5, epochs=5, threads=2)

OURS = """
import sys, wordvec
if sys.argv[1] != "import":
    import tempfile, os
    tiny = os.path.join(tempfile.mkdtemp(), "tiny.txt")
    open(tiny, "w").write("the cat sat on the mat\\n" * 50)
    wordvec.train(tiny, model=sys.argv[3], min_count=1, epochs=1, threads=1, progress=False)
    if sys.argv[1] == "train":
        wordvec.train(sys.argv[2], model=sys.argv[3], loss="ns", progress=False, seed=1,
                      alpha=0.025 if sys.argv[3] == "sg" else 0.05, min_alpha=1e-4, **{S})
"""
GENSIM = """
import sys
from gensim.models import Word2Vec
if sys.argv[1] == "train":
    S = {S}
    Word2Vec(corpus_file=sys.argv[2], sg=1 if sys.argv[3] == "sg" else 0, vector_size=S["dim"],
             window=S["window"], negative=S["negative"], hs=0, sample=S["sample"],
             min_count=S["min_count"], epochs=S["epochs"], workers=S["threads"], seed=1,
             alpha=0.025 if sys.argv[3] == "sg" else 0.05, min_alpha=1e-4)
"""


def _status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("RssAnon", "RssFile", "VmHWM"):
                    out[key] = int(rest.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return out


def measure(code, stage, corpus, model):
    """Run ``code`` in a fresh interpreter; return peak anon, peak file and VmHWM (MB)."""
    proc = subprocess.Popen([sys.executable, "-c", code, stage, corpus, model], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = {"RssAnon": 0.0, "RssFile": 0.0, "VmHWM": 0.0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for k, v in _status(proc.pid).items():
                peak[k] = max(peak[k], v)
            time.sleep(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    done.set()
    t.join()
    if proc.returncode:
        raise SystemExit(f"{stage} run failed:\n{err[-2000:]}")
    return peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--model", choices=("sg", "cbow"), default="cbow")
    ap.add_argument("--tokens", type=int, default=None, help="only the first N tokens' lines")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args(argv)
    print(run_record(tools=["gensim"], corpus=args.corpus, seeds=args.runs), flush=True)
    corpus = plain_corpus(os.path.abspath(args.corpus), tokens=args.tokens)
    settings = ", ".join(f"{k} {v}" for k, v in SETTINGS.items())
    print(f"corpus {shown(corpus)}; {args.model}, negative sampling, {settings}\n", flush=True)
    codes = {"wordvec": OURS.replace("{S}", repr(SETTINGS)),
             "gensim": GENSIM.replace("{S}", repr(SETTINGS))}
    stages = {"wordvec": ("import", "kernels", "train"), "gensim": ("import", "train")}
    best = {}
    for _ in range(args.runs):
        for tool, code in codes.items():
            for stage in stages[tool]:
                p = measure(code, stage, corpus, args.model)
                old = best.setdefault((tool, stage), p)
                for k in p:
                    old[k] = max(old[k], p[k])
    names = {"import": "import", "kernels": "+ kernels", "train": "train"}
    rows = [[tool, names[stage], f"{p['RssAnon']:.0f}", f"{p['RssFile']:.0f}", f"{p['VmHWM']:.0f}"]
            for (tool, stage), p in best.items()]
    print(table(["tool", "stage", "peak anon MB", "peak file MB", "peak RSS (VmHWM) MB"], rows))
    ours, theirs = best["wordvec", "train"], best["gensim", "train"]
    print(f"\nwordvec / gensim, training: peak RSS {ours['VmHWM'] / theirs['VmHWM']:.2f}x, "
          f"private (anon) {ours['RssAnon'] / theirs['RssAnon']:.2f}x, "
          f"file-backed {ours['RssFile'] / theirs['RssFile']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
