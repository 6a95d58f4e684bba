"""Bias tests: wordvec's WEAT against WEFE and against a plain transcription of the paper's
formulas, on the same vectors: agreement of effect sizes and p-values, and time per test.

    flock /tmp/wordvec-bench.lock python benchmarks/bench_bias.py
        [--corpus bundled] [--corpus ../shared/corpora/bench-en.txt.xz] [--runs 3]
        [--wefe-iterations 1000] [--no-wefe]

For each corpus a skip-gram model is trained with ``wordvec train CORPUS --threads 1 --seed 1``
(cached in the temp folder; the write-up says whether it was trained now), then every bundled
test of ``wordvec bias weat --list`` is run on it by

- **wordvec**: ``wordvec.bias.weat_test`` with its defaults (effect size with the population
  std; p-value exact when there are at most 1,000,000 partitions, else 100,000 sampled,
  ``>=``);
- **paper**: this file's own transcription of Caliskan, Bryson & Narayanan (2017), written from
  the paper, not from wordvec's code: cosines from the raw vectors in float64, ``s(w, A, B)``,
  the effect size with the std of ``s`` over X u Y (ddof 0 and ddof 1 both shown), and the
  one-sided p-value by enumerating every partition with ``itertools.combinations`` (counting
  ``>`` as the paper writes, and ``>=``), or drawing 100,000 random partitions when there are
  more than 1,000,000; and, to explain WEFE's p-values, the same count (100,000) of draws
  made as WEFE 1.0.1 makes them (below);
- **WEFE** (``wefe.metrics.WEAT().run_query``), on a gensim ``KeyedVectors`` holding the same
  float32 vectors, looking words up as wordvec does (as given, then lowercased:
  ``preprocessors=[{}, {"lowercase": True}]``, ``strategy="first"``), no lost-words limit
  (``lost_vocabulary_threshold=1.0``); effect size alone, then with its approximate p-value
  (``--wefe-iterations``, right-sided). WEFE's "permutations" are ``rng.choice(pool, size=n)``:
  n words drawn *with replacement* from X u Y (numpy's default), not partitions, unseeded.

WEFE 1.0.1 pins ``numpy<=1.26.4`` and ``scipy<1.13``, so ``pip install wefe`` would downgrade
both; it is installed beside wordvec's own versions with ``pip install --no-deps wefe pandas
plotly semantic-version requests`` (its WEAT runs unchanged on NumPy 2), and is not in the
``bench`` extra.

All three look the words up in the same vocabulary; the used-word counts are compared. Times
are in-process, after a warm-up call of each (Numba's cached kernel loaded, imports done), the
fastest of ``--runs``; model loading is not timed. wordvec's time includes its p-value; WEFE's
"d only" does not, and its "d + p" uses ``--wefe-iterations`` sampled partitions, so the
like-for-like row is wordvec with the same number of sampled partitions (``exact_limit=0``).
"""

import argparse
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import REPO, run_record, shown, table  # noqa: E402

EXACT_LIMIT = 1_000_000
SAMPLED = 100_000


# ---- the paper's formulas, transcribed ---------------------------------------------------------
def find(vocab, word):
    """The form of ``word`` in ``vocab`` (a dict word -> row): as given, else lowercased."""
    if word in vocab:
        return word
    if word.lower() in vocab:
        return word.lower()
    return None


def paper_sets(vocab, matrix, lists):
    """The four lists as float64 row matrices of the words found (each form once)."""
    out, used = [], []
    for words in lists:
        forms = []
        for w in words:
            f = find(vocab, w)
            if f is not None and f not in forms:
                forms.append(f)
        used.append(forms)
        out.append(np.array([matrix[vocab[f]] for f in forms], dtype=np.float64))
    return out, used


def cos(u, v):
    return float(u @ v) / (math.sqrt(float(u @ u)) * math.sqrt(float(v @ v)))


def s_word(w, A, B):
    """s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)."""
    return (sum(cos(w, a) for a in A) / len(A)) - (sum(cos(w, b) for b in B) / len(B))


def paper_weat(X, Y, A, B, seed=1):
    sx = [s_word(x, A, B) for x in X]
    sy = [s_word(y, A, B) for y in Y]
    both = sx + sy
    n, nx = len(both), len(sx)
    mean_x, mean_y = sum(sx) / nx, sum(sy) / len(sy)
    mu = sum(both) / n
    var0 = sum((v - mu) ** 2 for v in both) / n
    var1 = sum((v - mu) ** 2 for v in both) / (n - 1)
    stat = sum(sx) - sum(sy)
    total = sum(both)
    # S(Xi, Yi) = sum_{Xi} s - sum_{Yi} s = 2 sum_{Xi} s - total
    count = math.comb(n, nx)
    if count <= EXACT_LIMIT:
        gt = ge = 0
        for idx in itertools.combinations(range(n), nx):
            si = 2 * sum(both[i] for i in idx) - total
            gt += si > stat
            ge += si >= stat - 1e-12
        p_gt, p_ge, how = gt / count, ge / count, "exact"
    else:
        rng = np.random.default_rng(seed)
        arr = np.array(both)
        gt = ge = 0
        for _ in range(SAMPLED // 1000):
            perm = np.argsort(rng.random((1000, n)), axis=1)[:, :nx]
            si = 2 * arr[perm].sum(axis=1) - total
            gt += int((si > stat).sum())
            ge += int((si >= stat - 1e-12).sum())
        p_gt, p_ge, how = (1 + gt) / (1 + SAMPLED), (1 + ge) / (1 + SAMPLED), "sampled"
    # what WEFE 1.0.1 draws instead of partitions: n words *with replacement* from X u Y
    # (``rng.choice(pool, size=n)``), the first |X| as X_i, the rest as Y_i; counted with >
    rng = np.random.default_rng(seed)
    arr = np.array(both)
    hits = 0
    for _ in range(SAMPLED // 1000):
        draw = arr[rng.integers(0, n, size=(1000, n))]
        si = draw[:, :nx].sum(axis=1) - draw[:, nx:].sum(axis=1)
        hits += int((si > stat).sum())
    return {"p_repl": (1 + hits) / (1 + SAMPLED), "d0": (mean_x - mean_y) / math.sqrt(var0),
            "d1": (mean_x - mean_y) / math.sqrt(var1), "stat": stat, "p_gt": p_gt, "p_ge": p_ge, "p_method": how}


# ---- the peer ----------------------------------------------------------------------------------
def wefe_model(vectors):
    from gensim.models import KeyedVectors
    from wefe.word_embedding_model import WordEmbeddingModel
    kv = KeyedVectors(vectors.dim)
    kv.add_vectors(list(vectors.words), np.asarray(vectors.matrix, dtype=np.float32))
    return WordEmbeddingModel(kv, "wordvec vectors")


def wefe_run(model, lists, names, iterations=None):
    import logging

    from wefe.metrics import WEAT
    from wefe.query import Query
    logging.disable(logging.WARNING)
    q = Query([lists[0], lists[1]], [lists[2], lists[3]], list(names[:2]), list(names[2:]))
    kw = dict(preprocessors=[{}, {"lowercase": True}], strategy="first",
              lost_vocabulary_threshold=1.0)
    if iterations:
        kw.update(calculate_p_value=True, p_value_iterations=iterations,
                  p_value_test_type="right-sided", p_value_method="approximate")
    return WEAT().run_query(q, model, **kw)


def wefe_used(model, lists):
    from wefe.preprocessing import get_embeddings_from_set
    out = []
    for words in lists:
        _, emb = get_embeddings_from_set(model, words, [{}, {"lowercase": True}], "first")
        out.append(len(emb))
    return out


# ---- driver ------------------------------------------------------------------------------------
def fastest(fn, runs):
    best, out = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def model_for(corpus):
    """A skip-gram model of ``corpus`` ('bundled' or a path), trained with --threads 1 --seed 1
    unless cached; returns (path, note)."""
    folder = os.path.join(tempfile.gettempdir(), "wordvec-bench", "bias")
    os.makedirs(folder, exist_ok=True)
    base = "bundled" if corpus == "bundled" else os.path.basename(corpus).split(".")[0]
    out = os.path.join(folder, f"{base}.sg.seed1")
    if os.path.exists(os.path.join(out, "model.json")):
        return out, "cached: trained earlier by the same command"
    cmd = [sys.executable, "-m", "wordvec.cli", "train", "--threads", "1", "--seed", "1",
           "-o", out]
    if corpus != "bundled":
        cmd.insert(4, corpus)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
    return out, f"trained now in {time.perf_counter() - t0:.1f} s"


def one_test(v, name, vocab, matrix, wm, args):
    """(agreement row, timing row or None, |d wordvec - WEFE|, |d wordvec - paper|)."""
    from wordvec import bias
    from wordvec.errors import WordvecError
    t = bias.WEAT_TESTS[name]
    lists = [bias.read_word_list(p) for p in t.paths()]
    names = t.targets + t.attributes
    n = args.wefe_iterations
    try:
        bias.weat_test(v, name)  # warm-up
    except WordvecError as e:
        why = str(e).split("list ")[1].split(" with a vector")[0].replace("has ", "")
        d_wf = "-" if wm is None else f"{float(wefe_run(wm, lists, names)['effect_size']):+.6f}"
        return [name, f"wordvec refuses: {why}", "-", d_wf] + ["-"] * 8, None, 0.0, 0.0
    t_wv, r = fastest(lambda: bias.weat_test(v, name), args.runs)
    used = [len(ws.words) for ws in r.targets + r.attributes]
    t_wv_n, r_n = fastest(lambda: bias.weat_test(v, name, exact_limit=0, permutations=n),
                          args.runs)
    (X, Y, A, B), _ = paper_sets(vocab, matrix, lists)
    t_pp, pp = fastest(lambda: paper_weat(X, Y, A, B), 1)
    row_used = "+".join(map(str, used[:2])) + " x " + "+".join(map(str, used[2:]))
    if wm is not None:
        wefe_run(wm, lists, names)  # warm-up
        t_wf, wf = fastest(lambda: wefe_run(wm, lists, names), args.runs)
        t_wfp, wfp = fastest(lambda: wefe_run(wm, lists, names, n), 1)
        wused = wefe_used(wm, lists)
        d_wf, p_wf = float(wf["effect_size"]), float(wfp["p_value"])
        if wused != used:
            row_used += f" (WEFE {'+'.join(map(str, wused))})"
    else:
        d_wf = p_wf = t_wf = t_wfp = math.nan
    dd_wf, dd_pp = abs(r.effect_size - d_wf), abs(r.effect_size - pp["d0"])
    agree = [name, row_used, f"{r.effect_size:+.6f}", f"{d_wf:+.6f}", f"{pp['d0']:+.6f}",
             f"{pp['d1']:+.4f}", f"{dd_wf:.1e}", f"{dd_pp:.1e}", f"{r.p_value:.4g} ({r.p.method})",
             f"{pp['p_ge']:.4g} / {pp['p_gt']:.4g} ({pp['p_method']})", f"{p_wf:.4g}",
             f"{pp['p_repl']:.4g}"]
    timing = [name, f"{1e3 * t_wv:.2f}", f"{1e3 * t_wv_n:.2f}", f"{r_n.p_value:.4g}",
              f"{1e3 * t_wf:.2f}", f"{1e3 * t_wfp:,.0f}", f"{t_wf / t_wv:.1f}x",
              f"{t_wfp / t_wv_n:,.0f}x", f"{1e3 * t_pp:,.1f}"]
    return agree, timing, dd_wf, dd_pp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", action="append",
                    help="'bundled' (the default) or a corpus file; repeat for several")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wefe-iterations", type=int, default=1000)
    ap.add_argument("--no-wefe", action="store_true")
    args = ap.parse_args()
    import wordvec
    from wordvec import bias

    print(run_record(tools=() if args.no_wefe else ("gensim", "scikit-learn", "wefe")))
    for corpus in args.corpus or ["bundled"]:
        path, note = model_for(corpus)
        v = wordvec.load(path)
        shown_corpus = "the bundled corpus" if corpus == "bundled" else shown(corpus)
        print(f"\nmodel: `wordvec train {'' if corpus == 'bundled' else shown(corpus) + ' '}"
              f"--threads 1 --seed 1` ({shown_corpus}): {len(v):,} words x {v.dim}; {note}\n")
        vocab = {w: i for i, w in enumerate(v.words)}
        matrix = np.asarray(v.matrix)
        wm = None if args.no_wefe else wefe_model(v)
        agree, timing, max_wf, max_pp = [], [], 0.0, 0.0
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # WEFE on a list with no word left
            for name in bias.WEAT_TESTS:
                a, t, dd_wf, dd_pp = one_test(v, name, vocab, matrix, wm, args)
                agree.append(a)
                if t:
                    timing.append(t)
                    max_wf = max_wf if math.isnan(dd_wf) else max(max_wf, dd_wf)
                    max_pp = max(max_pp, dd_pp)
        n = f"{args.wefe_iterations:,}"
        print("agreement (d: effect size; p: one-sided p-value):")
        print(table(["test", "words used X+Y x A+B", "d wordvec", "d WEFE", "d paper ddof 0",
                     "d paper ddof 1", "|d wv - WEFE|", "|d wv - paper 0|", "p wordvec (>=)",
                     "p paper >= / >", f"p WEFE ({n})", "p paper, WEFE's draws"], agree))
        print(f"\nmax |effect size difference|: wordvec vs WEFE {max_wf:.1e}, wordvec vs the "
              f"paper transcription (ddof 0) {max_pp:.1e}\n")
        print(f"time per test in ms (fastest of {args.runs}; WEFE d + p and paper: one run):")
        print(table(["test", "wordvec d + p (default)", f"wordvec d + p ({n} sampled)",
                     f"its p ({n})", "WEFE d only", f"WEFE d + p ({n})",
                     "WEFE d only / wordvec default", f"WEFE d + p / wordvec ({n})",
                     "paper transcription (d + p)"], timing))


if __name__ == "__main__":
    main()
