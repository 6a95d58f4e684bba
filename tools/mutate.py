#!/usr/bin/env python3
"""Mutation testing of wordvec's mathematics: does the test suite notice a broken formula?

Run on demand (not in CI; it takes minutes)::

    python tools/mutate.py                 # every mutation
    python tools/mutate.py -k glove        # mutations whose name contains "glove"
    python tools/mutate.py --list          # list them
    python tools/mutate.py --kernels       # only those of the training kernels

Each mutation is a small text substitution in one source file (``old`` must occur exactly once,
or ``nth`` picks one occurrence, or ``all`` replaces every one). In turn, the script applies it,
points Numba at a FRESH empty cache folder (``WORDVEC_NUMBA_CACHE_DIR``, honoured by
tests/conftest.py, so no stale compiled kernel hides the change; the folder is removed after),
runs the tests relevant to that file with ``pytest -x``, restores the file byte for byte (also
on Ctrl-C), and records "caught" (some test failed) or "missed" (all passed). A mutation that
does not apply (its ``old`` text is gone) is reported as stale, so the list cannot rot unseen.
The selected tests are first run once unmutated (a failing suite would "catch" everything).
The summary gives the score overall and for the training kernels; the exit status is 1 if any
mutation was missed or stale.

Use the same interpreter as the tests (e.g. ``.venv/bin/python tools/mutate.py``).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = "tests/test_kernels_reference.py"
PROPS = "tests/test_training_properties.py"


@dataclass
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: list
    kernel: bool = False  # a mutation of the training kernels' mathematics
    nth: int = 0  # replace only the nth occurrence (1-based); 0: ``old`` must be unique
    all: bool = False  # replace every occurrence
    why: str = ""
    extra: list = field(default_factory=list)


W2V = "wordvec/w2v_kernels.py"
FT = "wordvec/ft_kernels.py"
GL = "wordvec/glove.py"
W2V_TESTS = [REF, PROPS, "tests/test_word2vec.py"]
FT_TESTS = [REF, PROPS, "tests/test_fasttext.py"]
GL_TESTS = [REF, PROPS, "tests/test_glove.py"]

MUTATIONS = [
    # ---- word2vec kernels ------------------------------------------------------------------
    Mutation("w2v-no-negatives-sg", W2V, "for _ in range(negative):", "for _ in range(0):",
             W2V_TESTS, kernel=True, nth=1, why="skip-gram (per pair) draws no noise words"),
    Mutation("w2v-no-negatives-shared", W2V, "for _ in range(negative):", "for _ in range(0):",
             W2V_TESTS, kernel=True, nth=2, why="default skip-gram draws no noise words"),
    Mutation("w2v-no-negatives-cbow", W2V, "for _ in range(negative):", "for _ in range(0):",
             W2V_TESTS, kernel=True, nth=3, why="CBOW draws no noise words"),
    Mutation("w2v-lr-no-decay", W2V, "lr = current_lr(progress, schedule)",
             "lr = np.float32(schedule[0])", W2V_TESTS, kernel=True, all=True,
             why="kernels ignore the learning-rate decay"),
    Mutation("w2v-progress-not-counted", W2V, "progress[slot] += b - a", "progress[slot] += 0",
             W2V_TESTS, kernel=True, all=True, why="kernels never advance the schedule"),
    Mutation("w2v-cbow-sum-not-mean", W2V, "if cbow_mean and cw > 0:", "if False and cw > 0:",
             W2V_TESTS, kernel=True, why="CBOW sums the context instead of averaging"),
    Mutation("w2v-cbow-error-divided", W2V,
             "_axpy(np.float32(1.0), err, W[sen[j]], dim)",
             "_axpy(np.float32(1.0) / np.float32(cw), err, W[sen[j]], dim)",
             W2V_TESTS, kernel=True, nth=1, why="CBOW-NS divides the error among the context rows"),
    Mutation("w2v-cbow-centre-in-context", W2V,
             "    for j in range(lo, hi):\n        if j != i:\n            _axpy(np.float32(1.0), W[sen[j]], h, dim)",
             "    for j in range(lo, hi):\n        if True:\n            _axpy(np.float32(1.0), W[sen[j]], h, dim)",
             W2V_TESTS, kernel=True, why="CBOW's hidden vector includes the centre word"),
    Mutation("w2v-no-window-shrink", W2V, "reduced = window - next_below(rng, window)",
             "reduced = window", W2V_TESTS, kernel=True, all=True,
             why="the dynamic window never shrinks"),
    Mutation("w2v-window-off-by-one", W2V, "reduced = window - next_below(rng, window)",
             "reduced = window - next_below(rng, window + 1)", W2V_TESTS, kernel=True, nth=2,
             why="default skip-gram's reach in 0..window instead of 1..window"),
    Mutation("w2v-gradient-sign", W2V, "gs[q] = (labels[q] - SIGMOID[_slot(f)]) * lr",
             "gs[q] = (SIGMOID[_slot(f)] - labels[q]) * lr", W2V_TESTS, kernel=True, nth=2,
             why="default skip-gram climbs the loss (gradient sign)"),
    Mutation("w2v-no-input-update-sg", W2V,
             "                count += m\n                _axpy(np.float32(1.0), err, row, dim)",
             "                count += m\n                pass", W2V_TESTS, kernel=True,
             why="per-pair skip-gram NS never updates the input rows"),
    Mutation("w2v-shared-output-not-written", W2V,
             "        _axpy(np.float32(1.0), gout[q], C[targets[q]], dim)",
             "        _axpy(np.float32(0.5), gout[q], C[targets[q]], dim)", W2V_TESTS,
             kernel=True, why="the window batch applies half the output-row gradient"),
    Mutation("w2v-hs-path-truncated", W2V, "for p in range(hoff[w], hoff[w + 1]):",
             "for p in range(hoff[w], hoff[w + 1] - 1):", W2V_TESTS, kernel=True, all=True,
             why="hierarchical softmax skips the last node of the path"),
    Mutation("w2v-subsample-inverted", W2V, "next_float(rng) < keep[w]", "next_float(rng) > keep[w]",
             W2V_TESTS + FT_TESTS[2:], kernel=True, why="subsampling keeps with 1 - p"),
    Mutation("w2v-negative-equal-target-kept", W2V, "                    if t != w:\n"
             "                        targets[m] = t", "                    if True:\n"
             "                        targets[m] = t", W2V_TESTS, kernel=True, nth=1,
             why="per-pair skip-gram trains the target as its own noise word"),
    Mutation("w2v-sigmoid-table-shift", W2V,
             "x = (np.arange(TABLE_SIZE, dtype=np.float64) + 0.5)",
             "x = (np.arange(TABLE_SIZE, dtype=np.float64) + 1.5)", W2V_TESTS + [FT_TESTS[2]],
             kernel=True, why="sigmoid table off by one bin"),
    # ---- fastText kernels ------------------------------------------------------------------
    Mutation("ft-lr-no-decay", FT, "lr = current_lr(progress, schedule)",
             "lr = np.float32(schedule[0])", FT_TESTS, kernel=True, all=True,
             why="fastText kernels ignore the learning-rate decay"),
    Mutation("ft-cbow-sum-not-mean", FT, "inv = np.float32(1.0) / np.float32(nr)",
             "inv = np.float32(1.0)", FT_TESTS, kernel=True, why="fastText CBOW sums the rows"),
    Mutation("ft-mean-rows-sum", FT, "inv = np.float32(1.0) / np.float32(b - a)",
             "inv = np.float32(1.0) / np.float32(b - a + 1)", FT_TESTS, kernel=True,
             why="the subword mean divides by one row too many"),
    Mutation("ft-sg-stale-hidden", FT, "h[k] += ov * err[k]", "h[k] += np.float32(0.0) * err[k]",
             FT_TESTS, kernel=True, why="skip-gram does not refresh the centre's mean between pairs"),
    Mutation("ft-sg-overlap-ignored", FT, "h[k] += ov * err[k]", "h[k] += err[k]", FT_TESTS,
             kernel=True, why="repeated n-gram rows ignored in the refreshed mean"),
    Mutation("ft-sg-word-row-only", FT, "_spread(W, rows, ra, rb, acc, dim)",
             "_spread(W, rows, ra, ra + 1, acc, dim)", FT_TESTS, kernel=True,
             why="skip-gram updates only the word row, not its n-grams"),
    Mutation("ft-cbow-no-spread", FT, "_spread(W, rows, roff[c], roff[c + 1], err, dim)",
             "_spread(W, rows, roff[c], roff[c] + 1, err, dim)", FT_TESTS, kernel=True,
             why="CBOW updates only the context word rows, not their n-grams"),
    Mutation("ft-no-negatives", FT, "for d in range(negative + 1):", "for d in range(1):",
             FT_TESTS, kernel=True, why="fastText draws no noise words"),
    Mutation("ft-no-redraw", FT, "while t == target and tries < MAX_REDRAW:", "while False:",
             FT_TESTS, kernel=True, why="a noise word equal to the target is dropped, not redrawn"),
    Mutation("ft-no-window-shrink", FT, "reduced = window - next_below(rng, window)",
             "reduced = window", FT_TESTS, kernel=True, all=True, why="fixed window"),
    Mutation("ft-hs-gradient-sign", FT, "g = (label - _sig(f, sig, sig_m, sig_s)) * lr",
             "g = (_sig(f, sig, sig_m, sig_s) - label) * lr", FT_TESTS, kernel=True, nth=1,
             why="hierarchical softmax gradient sign"),
    Mutation("ft-output-update-from-err", FT, "        _axpy(g, h, c, dim)\n        count += 1\n"
             "    return loss, count", "        _axpy(g, err, c, dim)\n        count += 1\n"
             "    return loss, count", FT_TESTS, kernel=True,
             why="NS output rows move along the gradient instead of the hidden vector"),
    Mutation("ft-ns-exponent-ignored", "wordvec/fasttext.py", 'power=p["ns_exponent"]',
             "power=0.75", FT_TESTS, kernel=True, why="noise drawn from counts^0.75, not ^0.5"),
    # ---- shared training machinery ---------------------------------------------------------
    Mutation("lr-ignores-min-alpha", "wordvec/training.py",
             "return np.float32(schedule[0] - (schedule[0] - schedule[1]) * frac)",
             "return np.float32(schedule[0] * (1.0 - frac))", W2V_TESTS, kernel=True,
             why="the schedule decays to 0, not to min_alpha"),
    Mutation("lr-constant", "wordvec/training.py", "frac = min(done / schedule[2], 1.0)",
             "frac = min(done / schedule[2], 0.0)", W2V_TESTS, kernel=True, nth=1,
             why="current_lr (inlined in every kernel) never decays"),
    Mutation("schedule-too-long", "wordvec/training.py", "total = int(corpus.n_tokens) * epochs",
             "total = int(corpus.n_tokens) * (epochs + 1)", W2V_TESTS, kernel=True,
             why="the lr never reaches min_alpha"),
    Mutation("rng-below-biased", "wordvec/rng.py",
             "return np.int64((next_u32(state) * np.uint64(n)) >> np.uint64(32))",
             "return np.int64((next_u32(state) * np.uint64(n)) >> np.uint64(33))",
             W2V_TESTS, kernel=True, why="uniform draws cover only half their range"),
    Mutation("alias-draw-inverted", "wordvec/rng.py", "if next_float(state) < prob[i]:",
             "if next_float(state) >= prob[i]:", W2V_TESTS, kernel=True,
             why="alias draws take the wrong branch"),
    Mutation("noise-power-1", "wordvec/vocab.py", "def noise_alias(self, power=0.75):",
             "def noise_alias(self, power=1.0):", W2V_TESTS, kernel=True,
             why="noise distribution counts^1 instead of counts^0.75"),
    Mutation("alias-table-broken", "wordvec/vocab.py",
             "scaled[g] = scaled[g] + scaled[s] - 1.0", "scaled[g] = scaled[g] - 1.0",
             W2V_TESTS, kernel=True, why="Vose's alias table loses mass"),
    Mutation("subsample-formula", "wordvec/vocab.py",
             "p = (np.sqrt(f / threshold) + 1.0) * threshold / f", "p = np.sqrt(threshold / f)",
             W2V_TESTS, kernel=True, why="word2vec.c's keep probability replaced by sqrt(t/f)"),
    Mutation("w2v-output-init-random", "wordvec/word2vec.py",
             "C = np.zeros((rows, dim), dtype=np.float32)",
             "C = np.full((rows, dim), 0.5, dtype=np.float32)", W2V_TESTS, kernel=True,
             why="output weights not zero-initialised (all equal: collapse)"),
    Mutation("rng-same-every-epoch", "wordvec/training.py", "rng = seed_state(seed, epoch, j)",
             "rng = seed_state(seed, j)", W2V_TESTS, kernel=True,
             why="every epoch replays the same windows, noise words and subsampling"),
    Mutation("w2v-input-init-scale", "wordvec/word2vec.py", "np.float32(2.0 / dim)",
             "np.float32(1.0 / dim)", W2V_TESTS, kernel=True,
             why="input rows initialised in [-1/2dim, 1/2dim)"),
    Mutation("ft-keep-formula", "wordvec/fasttext.py", "np.minimum(np.sqrt(ratio) + ratio, 1.0)",
             "np.minimum(np.sqrt(ratio), 1.0)", FT_TESTS, kernel=True,
             why="fastText's keep probability loses its t/f term"),
    # ---- GloVe -----------------------------------------------------------------------------
    Mutation("glove-f-is-one", GL, "fx = one if x >= x_max else np.float32((x / x_max) ** power)",
             "fx = one", GL_TESTS, kernel=True, why="GloVe's weighting f(x) = 1"),
    Mutation("glove-f-power-ignored", GL,
             "fx = one if x >= x_max else np.float32((x / x_max) ** power)",
             "fx = one if x >= x_max else np.float32(x / x_max)", GL_TESTS, kernel=True,
             why="f(x) = x/x_max (power ignored)"),
    Mutation("glove-no-log", GL, "diff = dot + bw[r] + bc[c] - np.float32(np.log(x))",
             "diff = dot + bw[r] + bc[c] - np.float32(np.log1p(x))", GL_TESTS, kernel=True,
             why="fits log(1 + X) instead of log X"),
    Mutation("glove-no-adagrad", GL, "W[r, k] = lw[k] - g * t", "W[r, k] = lw[k] - g",
             GL_TESTS, kernel=True, why="plain SGD for the word vectors"),
    Mutation("glove-gradsq-not-accumulated", GL, "GC[c, k] = v + g * g", "GC[c, k] = v",
             GL_TESTS, kernel=True, why="AdaGrad sums for context vectors never grow"),
    Mutation("glove-no-clip", GL, "g = min(max(fdiff * lc[k], -clip), clip)", "g = fdiff * lc[k]",
             GL_TESTS, kernel=True, why="gradient clipping ignored"),
    Mutation("glove-context-grad-uses-new-w", GL, "g = min(max(fdiff * lw[k], -clip), clip)",
             "g = min(max(fdiff * W[r, k], -clip), clip)", GL_TESTS, kernel=True,
             why="context gradient from the already-updated word vector"),
    Mutation("glove-bias-no-adagrad", GL, "bw[r] -= fdiff / np.sqrt(gbw[r])", "bw[r] -= fdiff",
             GL_TESTS, kernel=True, why="plain SGD for the word biases"),
    Mutation("glove-bias-gradsq", GL, "gbc[c] += fdiff * fdiff", "gbc[c] += fdiff",
             GL_TESTS, kernel=True, why="context-bias AdaGrad sum adds fdiff, not fdiff^2"),
    Mutation("glove-sum-is-word", GL, "out = W + C", "out = W", GL_TESTS,
             why="vectors 'sum' returns W only"),
    # ---- outside the kernels ---------------------------------------------------------------
    Mutation("atomic-write-direct", "wordvec/io_util.py",
             '    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=folder)',
             '    fd, tmp = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), target',
             ["tests/test_formats.py", "tests/test_cli_train.py", "tests/test_vocab.py",
              "tests/test_outputs.py"],
             why="atomic_write writes straight to the target"),
    Mutation("glove-counts-always-weighted", GL,
             "distance_weighting=distance_weighting, memory_gb=memory_gb,",
             "distance_weighting=True, memory_gb=memory_gb,", ["tests/test_cli_train.py", GL_TESTS[2]],
             why="GloVe's --no-distance-weighting does not reach the counter"),
    Mutation("cli-cooccur-always-symmetric", "wordvec/cli.py",
             "m = count_cooccurrence(enc, window=window, symmetric=symmetric,",
             "m = count_cooccurrence(enc, window=window, symmetric=True,",
             ["tests/test_cli_train.py", "tests/test_cli.py"],
             why="'wordvec cooccur --asymmetric' counts both sides"),
    Mutation("lowercase-token-lists", "wordvec/encode.py",
             "s = [w.lower() for w in s] if lowercase else list(s)", "s = list(s)",
             ["tests/test_cli_train.py", "tests/test_corpus.py", "tests/test_vocab.py"],
             why="encode(lowercase=True) ignored for token lists"),
    Mutation("lowercase-files", "wordvec/encode.py", "        if lowercase:\n            text = text.lower()",
             "        if False:\n            text = text.lower()",
             ["tests/test_cli_train.py", "tests/test_corpus.py", "tests/test_vocab.py"],
             why="--lowercase ignored for text files"),
    Mutation("native-newer-format-accepted", "wordvec/native.py",
             "    if version > FORMAT_VERSION:",
             "    if version > FORMAT_VERSION + 1:",
             ["tests/test_cli_train.py", "tests/test_formats.py", "tests/test_cli.py"],
             why="a model of a newer format is read as if it were ours"),
    Mutation("cooccur-always-symmetric", "wordvec/cooccur.py", "elif symmetric:", "elif True:",
             ["tests/test_cooccur.py", "tests/test_cli_train.py"],
             why="asymmetric counting counts right contexts too"),
]


def apply(m, text):
    n = text.count(m.old)
    if n == 0 or (m.nth == 0 and not m.all and n != 1) or (m.nth and m.nth > n):
        return None
    if m.all:
        return text.replace(m.old, m.new)
    if m.nth == 0:
        return text.replace(m.old, m.new, 1)
    at = -1
    for _ in range(m.nth):
        at = text.index(m.old, at + 1)
    return text[:at] + m.new + text[at + len(m.old):]


WHOLE_SUITE = False  # --whole-suite: every mutation against all of tests/


def existing(tests):
    """The test files that exist (all of tests/ if none does, or with --whole-suite)."""
    if WHOLE_SUITE:
        return ["tests"]
    return [t for t in tests if (ROOT / t).exists()] or ["tests"]


def run_one(m, python, verbose):
    path = ROOT / m.path
    original = path.read_bytes()
    mutated = apply(m, original.decode("utf-8"))
    if mutated is None:
        return "stale", 0.0
    cache = tempfile.mkdtemp(prefix="wordvec-mutate-numba-")
    # NUMBA_CACHE_DIR too, for a tree without tests/conftest.py (e.g. an older checkout)
    env = {**os.environ, "WORDVEC_NUMBA_CACHE_DIR": cache, "NUMBA_CACHE_DIR": cache,
           "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.perf_counter()
    try:
        path.write_text(mutated, encoding="utf-8")
        cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *existing(m.tests)]
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        path.write_bytes(original)
        shutil.rmtree(cache, ignore_errors=True)
    if verbose:
        print(out.stdout[-3000:], out.stderr[-2000:], sep="\n")
    if out.returncode == 0:
        return "missed", time.perf_counter() - t0
    if out.returncode in (1, 2):  # tests failed / collection failed (e.g. import error)
        first = next((ln for ln in out.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))),
                     "")
        return "caught " + first.split(" ", 1)[-1].split(" - ")[0], time.perf_counter() - t0
    return f"error (pytest exit {out.returncode})", time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", default="", help="only mutations whose name contains this")
    ap.add_argument("--kernels", action="store_true", help="only the training kernels' mutations")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs pytest")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the first run of the selected tests without any mutation")
    ap.add_argument("--whole-suite", action="store_true",
                    help="run all of tests/ for every mutation (slow; e.g. to score an old suite)")
    args = ap.parse_args()
    global WHOLE_SUITE
    WHOLE_SUITE = args.whole_suite
    todo = [m for m in MUTATIONS if args.k in m.name and (m.kernel or not args.kernels)]
    if args.list:
        for m in todo:
            print(f"{m.name:34s} {'kernel ' if m.kernel else '       '}{m.path}: {m.why}")
        return 0
    if not todo:
        print("no mutation matches")
        return 1
    if not args.no_baseline:  # a suite that fails unmutated would "catch" every mutation
        files = sorted({t for m in todo for t in existing(m.tests)})
        out = subprocess.run([args.python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                              *files], cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stdout[-3000:])
            print("the tests fail WITHOUT any mutation: fix them first", file=sys.stderr)
            return 2
    results = []
    for m in todo:
        status, secs = run_one(m, args.python, args.verbose)
        results.append((m, status))
        print(f"{status.split()[0]:7s} {m.name:34s} {secs:6.1f}s  {m.why}"
              + (f"  [{status.split(maxsplit=1)[1]}]" if status.startswith("caught ") and
                 len(status.split()) > 1 else ""), flush=True)
    caught = sum(s.startswith("caught") for _, s in results)
    kern = [(m, s) for m, s in results if m.kernel]
    kcaught = sum(s.startswith("caught") for _, s in kern)
    print(f"\nscore: {caught}/{len(results)} caught; training kernels: {kcaught}/{len(kern)}")
    for m, s in results:
        if not s.startswith("caught"):
            print(f"  {s.split()[0]}: {m.name} ({m.path}): {m.why}")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
