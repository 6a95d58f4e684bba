"""Word maps (``wordvec plot``, issue 13): which t-SNE, measured, and how well labels are placed.

    python benchmarks/bench_plot.py [--model PATH] [--tokens 5000000] [--sizes 5000 2000 500]
        [--runs 3] [--threads 2] [--methods ...] [--labels 100 300] [--corpus ...]

Without ``--model`` a skip-gram model is trained first (``wordvec train`` with its defaults on
the first ``--tokens`` tokens of the benchmark corpus) and cached in the temp folder.

**Projections.** The ``--sizes`` most frequent words' unit vectors are projected to 2-D by each
method, every run in a fresh process, the methods alternating (their order rotating), after one
warm-up round at the smallest size (page cache, Numba's compilation for UMAP), all with the
same seed and ``--threads`` (also as OMP_NUM_THREADS, NUMBA_NUM_THREADS and the BLAS's: the
thread count of scikit-learn's t-SNE gradient is OpenMP's, not its ``n_jobs``):

- ``pca``: wordvec's own (``wordvec.plotting.project``: SVD of the centred unit vectors);
- ``sklearn``: scikit-learn ``TSNE`` at its defaults (perplexity 30, PCA initialisation, learning
  rate "auto", 1,000 iterations of which 250 exaggerated, Barnes-Hut);
- ``sklearn-random``: the same from a random start (scikit-learn's default before 1.2);
- ``opentsne``: openTSNE ``TSNE`` at its defaults (perplexity 30, PCA initialisation, 250
  exaggerated + 500 iterations; gradients "auto": Barnes-Hut, as scikit-learn, below 10,000
  points);
- ``opentsne-fft``: the same with FFT-interpolated gradients (its choice for large data);
- ``opentsne-1000``: openTSNE with 750 + 250 iterations, scikit-learn's count;
- ``umap``: umap-learn ``UMAP`` at its defaults (15 neighbours, min_dist 0.1; a seed makes it
  single-threaded);
- ``wordvec-tsne``: what ``wordvec plot --method tsne`` runs (``project(..., "tsne")``).

Reported per method and size: the fastest projection time (the fit only; the process's wall time
with imports beside it), and from the first run's coordinates: trustworthiness (scikit-learn's
``trustworthiness``, 10 neighbours: are the points near in 2-D near in the vectors?), kNN
preservation (the share of each word's 10 nearest words by cosine that are among its 10
nearest in 2-D), the Spearman correlation of cosine distances and 2-D distances over 20,000
random pairs (global layout: do far words stay far?), and whether every run gave the same
coordinates (``repeatable``: max |difference| between runs).

**Labels.** ``wordvec.plot`` of the ``--labels`` most frequent words (PCA, default size and font)
with its label placement, without it (each label right of its point) and with adjustText
(``adjust_text`` at its defaults over the unplaced labels): pairs of overlapping labels and
labels over a point other than their own (from the renderer's bounding boxes), labels partly
outside the axes, and the placement's time.

Every timed child holds ``/tmp/wordvec-bench.lock`` (``flock``), so it never overlaps another
benchmark's timed run on this machine.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, REPO, bench_lock, plain_corpus, run_json, run_record, shown, table  # noqa: E402

PROJECT = f"""
import sys, time
sys.path.insert(0, {REPO!r})
import numpy as np

def pca(X, seed, threads):
    from wordvec.plotting import pca_2d
    return pca_2d(X)[0]

def sklearn(X, seed, threads):
    from sklearn.manifold import TSNE
    return TSNE(2, random_state=seed, n_jobs=threads, init="pca",
                learning_rate="auto").fit_transform(X)

def sklearn_random(X, seed, threads):
    from sklearn.manifold import TSNE
    return TSNE(2, random_state=seed, n_jobs=threads, init="random",
                learning_rate="auto").fit_transform(X)

def _opentsne(X, seed, threads, **kw):
    import openTSNE
    return np.asarray(openTSNE.TSNE(2, random_state=seed, n_jobs=threads, initialization="pca",
                                    **kw).fit(X))

def opentsne(X, seed, threads):
    return _opentsne(X, seed, threads)

def opentsne_fft(X, seed, threads):
    return _opentsne(X, seed, threads, negative_gradient_method="fft")

def opentsne_1000(X, seed, threads):
    return _opentsne(X, seed, threads, n_iter=750)

def umap(X, seed, threads):
    import umap
    return umap.UMAP(random_state=seed, n_jobs=threads).fit_transform(X)

def wordvec_tsne(X, seed, threads):
    from wordvec.plotting import tsne_2d
    return tsne_2d(X, seed=seed)

def main(model, n, method, seed, threads):
    import wordvec
    v = wordvec.load(model)
    X = np.asarray(v.unit[:int(n)], dtype=np.float64)
    fn = globals()[method.replace("-", "_")]
    t0 = time.perf_counter()
    Y = np.asarray(fn(X, int(seed), int(threads)), dtype=np.float64)
    return {{"seconds": time.perf_counter() - t0, "coords": Y.tolist()}}
"""

LABELS = f"""
import sys, time, warnings
sys.path.insert(0, {REPO!r})

def main(model, n, how):
    import wordvec
    from wordvec.plotting import label_report
    v = wordvec.load(model)
    words = v.words[:int(n)]
    t0 = time.perf_counter()
    fig = wordvec.plot(v, words, place_labels=(how == "wordvec"))
    seconds = time.perf_counter() - t0
    if how == "adjustText":
        from adjustText import adjust_text
        ax = fig.axes[0]
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adjust_text(fig.wordvec_labels, ax=ax)
        seconds += time.perf_counter() - t1
    out = label_report(fig)
    out["seconds"] = seconds
    return out
"""

METHODS = ["pca", "sklearn", "sklearn-random", "opentsne", "opentsne-fft", "opentsne-1000", "umap", "wordvec-tsne"]
K = 10


def make_model(args):
    corpus = plain_corpus(args.corpus, tokens=args.tokens)
    path = os.path.join(tempfile.gettempdir(), "wordvec-bench", f"plot-sg-{args.tokens}")
    if not os.path.exists(path):
        print(f"training {shown(path)} ...", file=sys.stderr)
        with bench_lock():  # not timed, but it would slow another benchmark's timed run
            subprocess.run([sys.executable, "-m", "wordvec.cli", "train", corpus, "-o", path,
                            "-q", "--threads", str(args.threads)], check=True, cwd=REPO,
                           stdout=sys.stderr)  # its summary names the temp folder: not the write-up
    return path, corpus


def knn(D, k):
    """Indices of each row's k nearest (its own excluded) under the distance matrix D."""
    D = D.copy()
    np.fill_diagonal(D, np.inf)
    return np.argpartition(D, k, axis=1)[:, :k]


def quality(X, Y, seed=1):
    from scipy.stats import spearmanr
    from sklearn.manifold import trustworthiness
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    trust = trustworthiness(X, Y, n_neighbors=K)
    dx = 1.0 - X @ X.T  # cosine distance (unit vectors)
    sq = (Y * Y).sum(1)
    dy = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * Y @ Y.T, 0))
    nx, ny = knn(dx, K), knn(dy, K)
    kept = np.mean([len(np.intersect1d(a, b)) / K for a, b in zip(nx, ny)])
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(X), (2, 20000))
    keep = i != j
    rho = spearmanr(dx[i[keep], j[keep]], dy[i[keep], j[keep]]).statistic
    return trust, kept, rho


def projections(args, model):
    results = {(m, n): [] for n in args.sizes for m in args.methods}
    warm = min(args.sizes)
    # scikit-learn's t-SNE gradient runs on OpenMP's thread count, not n_jobs: the same for all
    threads_env = {v: str(args.threads) for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS",
                                                  "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    for r in range(args.runs + 1):
        order = args.methods[r % len(args.methods):] + args.methods[:r % len(args.methods)]
        for n in ([warm] if r == 0 else args.sizes):
            for m in order:
                with bench_lock():
                    t0 = time.perf_counter()
                    out = run_json(PROJECT, model, n, m, args.seed, args.threads, env=threads_env)
                    out["process"] = time.perf_counter() - t0
                print(f"  round {r}: {m} {n} words: {out['seconds']:.2f} s", file=sys.stderr)
                if r:
                    results[(m, n)].append(out)
    import wordvec
    vectors = wordvec.load(model)
    rows = []
    for n in args.sizes:
        X = np.asarray(vectors.unit[:n], dtype=np.float64)
        for m in args.methods:
            runs = results[(m, n)]
            ys = [np.asarray(o["coords"]) for o in runs]
            trust, kept, rho = quality(X, ys[0], args.seed)
            diff = max((float(np.abs(y - ys[0]).max()) for y in ys[1:]), default=None)
            rows.append([m, f"{n:,}", f"{min(o['seconds'] for o in runs):.2f}",
                         f"{min(o['process'] for o in runs):.2f}", f"{trust:.4f}", f"{kept:.3f}",
                         f"{rho:.3f}",
                         "-" if diff is None else "yes" if diff == 0 else f"no ({diff:.2g})"])
    print(f"projections: the most frequent words' unit vectors, seed {args.seed}, {args.threads} "
          f"threads, fastest of {args.runs} runs\n")
    print(table(["method", "words", "fit s", "process s", f"trustworthiness@{K}",
                 f"kNN kept@{K}", "distance rho", "repeatable"], rows))
    print()


def labels(args, model):
    hows = ["none", "wordvec", "adjustText"]
    rows = []
    for n in args.labels:
        for how in hows:
            with bench_lock():
                out = run_json(LABELS, model, n, how)
            rows.append([f"{n:,}", how, f"{out['seconds']:.2f}", f"{out['overlapping_pairs']:,}",
                         f"{out['labels_over_points']:,}", f"{out['outside']:,}",
                         f"{out['leaders']:,}"])
    print("labels: wordvec.plot of the most frequent words, PCA, default size (10x8 in, "
          "100 dpi) and font\n")
    print(table(["words", "placement", "plot s", "overlapping label pairs",
                 "labels over another point", "labels outside the axes", "leader lines"], rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="vectors to project (default: train a skip-gram model)")
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--tokens", type=int, default=5_000_000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 2000, 500])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    ap.add_argument("--labels", type=int, nargs="*", default=[100, 300])
    args = ap.parse_args()
    model, corpus = (args.model, None) if args.model else make_model(args)
    print(run_record(["scikit-learn", "opentsne", "umap", "matplotlib", "adjusttext"],
                     corpus=corpus))
    print(f"model: {shown(model)}\n")
    if args.methods and args.sizes:
        projections(args, model)
    if args.labels:
        labels(args, model)


if __name__ == "__main__":
    main()
