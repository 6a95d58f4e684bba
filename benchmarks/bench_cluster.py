"""Word classes (``wordvec cluster``, issue 13): time, memory and inertia against word2vec C's
``-classes`` and scikit-learn's ``MiniBatchKMeans`` / ``KMeans``, and purity on word groups.

    python benchmarks/bench_cluster.py [--parts w2v big purity] [--word2vec-c PATH/word2vec]
        [--k 500] [--runs 3] [--threads 2] [--big-n 1000000] [--big-dim 300]
        [--real-model PATH] [--kmeans-iters 20] [--purity-model PATH] [--purity-seeds 10]
        [--corpus ../shared/corpora/bench-en.txt.xz]

Every timed run (each a fresh process) holds the lock file ``/tmp/wordvec-bench.lock`` (flock),
so it never overlaps another benchmark on this machine; untimed work does not. Runs alternate
(the tool order rotates every round) after a warm-up round on a small slice (page cache,
Numba's cached compilation, imports). Run ``r`` uses seed ``r`` for every tool that takes one.

**Inertia**, for every tool the same function of its labels alone (:func:`inertia`): the sum over
words of ``1 - cos(word, c_j)``, ``c_j`` the normalised sum of the unit vectors of the word's
class, which is the best centroid of a class under cosine; so tools whose own centroids are
something else (scikit-learn's Euclidean means, word2vec C's normalised raw-vector means) are
scored at their classes' best. wordvec's own reported inertia is checked against it.

**w2v** (needs ``--word2vec-c``): word2vec C clusters only right after training, so its
clustering time is (a run with ``-classes K``) - (the same run without), both with ``-threads 1``
(deterministic training: the vectors of every run without ``-classes`` are compared byte for
byte, and so are the classes files), alternating, ``--runs`` of each after a warm-up run. The runs
write binary vectors (``-binary 1``: exact floats, and a write as short as the classes file's,
so the difference holds no text formatting). Settings: CBOW (its default), ``-size 100 -window 5
-negative 5 -hs 0 -sample 1e-3 -min-count 5 -iter 1`` (one epoch: the training is not what is
measured, and a shorter one makes the difference less noisy) on the whole corpus. On those same
vectors (``</s>`` included, as word2vec C clusters it): wordvec (1 and 2 threads; its default
rounds and 10, word2vec C's), MiniBatchKMeans and KMeans, same k.

**big**: a synthetic 1 M x 300 set (a mixture on the sphere, :func:`synthetic`; the benchmark
corpus has only about 156 k distinct words) and, with ``--real-model``, real vectors (every word
of a model trained at min-count 1): wordvec (default rounds), MiniBatchKMeans (batch 1,024,
``n_init=1``, its other defaults) and KMeans (Lloyd, ``n_init=1``, ``max_iter=--kmeans-iters``),
``--threads`` for all (NUMBA/OMP/OpenBLAS/MKL thread variables set the same). Time is the fit
alone (scikit-learn's includes normalising the rows, in place; wordvec normalises inside); peak
RSS is the process's, with the RSS after loading the input beside it.

**purity**: ``benchmarks/data/cluster-groups.txt`` (``group word`` lines), the words of it in a
skip-gram model trained with ``wordvec train`` defaults on the whole corpus (cached in the temp
folder), clustered alone with k = the number of groups over ``--purity-seeds`` seeds; purity
(each class counted as its most common group) and scikit-learn's adjusted Rand index, and the
words that land outside their group's class.
"""

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, HERE, REPO, bench_lock, plain_corpus, run_json, run_record, shown, spread, table  # noqa: E402

SCRATCH = os.path.join(tempfile.gettempdir(), "wordvec-bench")
GROUPS = os.path.join(HERE, "data", "cluster-groups.txt")
THREAD_VARS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
W2V_ARGS = ["-cbow", "1", "-size", "100", "-window", "5", "-negative", "5", "-hs", "0",
            "-sample", "1e-3", "-min-count", "5", "-iter", "1", "-threads", "1", "-binary", "1",
            "-debug", "0"]

CHILD = f"""
import sys, time
sys.path.insert(0, {REPO!r})
import numpy as np

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def main(tool, path, k, seed, iters, labels_out):
    k, seed, iters = int(k), int(seed), int(iters)
    X = np.load(path)
    out = {{}}
    if tool == "wordvec":
        import wordvec
        from wordvec.vectors import Vectors
        v = Vectors([f"w{{i}}" for i in range(len(X))], X)
        out["rss_loaded_mb"] = rss_mb()
        t0 = time.perf_counter()
        c = wordvec.cluster(v, k, seed=seed, iters=iters)
        out["seconds"] = time.perf_counter() - t0
        labels = c.labels
        out.update(own_inertia=c.inertia, rounds=c.iterations, converged=c.converged,
                   phases=c.seconds)
    else:
        from sklearn.cluster import KMeans, MiniBatchKMeans
        out["rss_loaded_mb"] = rss_mb()
        t0 = time.perf_counter()
        norms = np.sqrt(np.einsum("ij,ij->i", X, X))
        norms[norms == 0] = 1
        X /= norms[:, None]
        if tool == "minibatch":
            m = MiniBatchKMeans(k, random_state=seed, n_init=1).fit(X)
            out["steps"] = int(m.n_steps_)
        else:
            m = KMeans(k, n_init=1, max_iter=iters, random_state=seed, algorithm="lloyd").fit(X)
        out["seconds"] = time.perf_counter() - t0
        labels = m.labels_
        out.update(rounds=int(m.n_iter_))
    np.save(labels_out, np.asarray(labels, dtype=np.int32))
    return out
"""


def inertia(X, labels, k, block=1 << 17):
    """Sum over words of 1 - cos(word, normalised sum of its class's unit vectors), in float64;
    a zero vector counts 1 (wordvec's definition). Classes sums accumulated block by block."""
    n, d = X.shape
    labels = np.asarray(labels, dtype=np.int64)
    sums = np.zeros((k, d))
    for a in range(0, n, block):
        U = np.asarray(X[a:a + block], dtype=np.float64)
        nrm = np.sqrt(np.einsum("ij,ij->i", U, U))
        U = np.divide(U, nrm[:, None], out=np.zeros_like(U), where=nrm[:, None] > 0)
        lab = labels[a:a + block]
        order = np.argsort(lab, kind="stable")
        cut = np.flatnonzero(np.diff(lab[order])) + 1
        starts = np.concatenate(([0], cut))
        sums[lab[order][starts]] += np.add.reduceat(U[order], starts, axis=0)
    return float(n - np.sqrt(np.einsum("ij,ij->i", sums, sums)).sum())


def synthetic(n, d, seed=1, centres=2000):
    """n x d float32 vectors, a mixture on the sphere: ``centres`` random directions pulled
    towards one shared direction (word vectors share a mean direction), Zipf-like weights
    (1 / (rank + 10)), each point its centre plus Gaussian noise of a per-centre scale from 0.8
    to 2.0 (cosine to its centre about 0.45 to 0.8), times a log-normal norm."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal(d)
    shared /= np.linalg.norm(shared)
    C = rng.standard_normal((centres, d))
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    C += 0.5 * shared
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    w = 1.0 / (np.arange(centres) + 10.0)
    which = rng.choice(centres, size=n, p=w / w.sum())
    scale = rng.uniform(0.8, 2.0, size=centres)
    X = np.empty((n, d), dtype=np.float32)
    for a in range(0, n, 100_000):
        b = min(n, a + 100_000)
        c = which[a:b]
        block = C[c] + scale[c, None] * rng.standard_normal((b - a, d)) / np.sqrt(d)
        block *= rng.lognormal(0.0, 0.3, size=(b - a, 1))
        X[a:b] = block
    return X


def cached(path, make):
    if not os.path.exists(path):
        tmp = path + ".part.npy"
        np.save(tmp, make())
        os.replace(tmp, path)
    return path


def child(tool, path, k, seed, iters, threads, work, tag):
    labels_out = os.path.join(work, f"labels-{tag}-{tool}-{threads}t-{iters}-s{seed}.npy")
    env = {v: str(threads) for v in THREAD_VARS}
    with bench_lock():
        t0 = time.perf_counter()
        out = run_json(CHILD, "kmeans" if tool == "kmeans" else tool, path, k, seed, iters,
                       labels_out, env=env)
        out["process"] = time.perf_counter() - t0
    out["labels"] = labels_out
    return out


def compare(path, configs, k, runs, work, tag, warm_rows=20_000):
    """Run each config (name, tool, threads, iters) ``runs`` times alternating; return
    {name: [results]} with each run's inertia by :func:`inertia`."""
    X = np.load(path, mmap_mode="r")
    warm = os.path.join(work, f"warm-{tag}.npy")
    np.save(warm, np.asarray(X[:min(len(X), max(warm_rows, k))]))
    for _name, tool, threads, iters in configs:
        child(tool, warm, k, 1, min(iters, 2), threads, work, "warm")
    results = {c[0]: [] for c in configs}
    for r in range(1, runs + 1):
        order = configs[(r - 1) % len(configs):] + configs[:(r - 1) % len(configs)]
        for name, tool, threads, iters in order:
            out = child(tool, path, k, r, iters, threads, work, tag)
            out["inertia"] = inertia(X, np.load(out["labels"]), k)
            print(f"  {tag} round {r}: {name}: {out['seconds']:.2f} s, inertia "
                  f"{out['inertia']:,.2f}, {out['peak_rss_mb']:,.0f} MB", file=sys.stderr)
            results[name].append(out)
    return results


def report(results, n, extra_rows=(), base=None):
    rows = []
    base = base or next(iter(results))
    t0 = min(o["seconds"] for o in results[base])
    i0 = np.mean([o["inertia"] for o in results[base]])
    for name, outs in list(results.items()):
        sec = min(o["seconds"] for o in outs)
        iner = [o["inertia"] for o in outs]
        rows.append([name, f"{sec:.2f}", f"{min(o['process'] for o in outs):.2f}",
                     f"{sec / t0:.2f}x", spread(iner, digits=1),
                     spread([1 - x / n for x in iner], digits=4),
                     f"{np.mean(iner) / i0:.4f}",
                     "/".join(str(o["rounds"]) for o in outs),
                     f"{max(o['peak_rss_mb'] for o in outs):,.0f}",
                     f"{max(o['rss_loaded_mb'] for o in outs):,.0f}"])
    rows += list(extra_rows)
    print(table(["tool", "fit s (fastest)", "process s", f"time / {base}", "inertia",
                 "mean cosine", f"inertia / {base}", "rounds", "peak RSS MB",
                 "RSS loaded MB"], rows))
    for name, outs in results.items():
        if "own_inertia" in outs[0]:
            worst = max(abs(o["own_inertia"] - o["inertia"]) / o["inertia"] for o in outs)
            print(f"  {name}: its own inertia vs ours: relative difference at most {worst:.1e}")


# ---- word2vec C -------------------------------------------------------------------------------
def w2v_run(binary, corpus, out, classes):
    cmd = [binary, "-train", corpus, "-output", out, *W2V_ARGS]
    if classes:
        cmd += ["-classes", str(classes)]
    with bench_lock():
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "PEAK_KB %M", *cmd], capture_output=True,
                              text=True)
        wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"word2vec failed: {proc.stderr[-2000:]}")
    peak = [int(x.split()[1]) / 1024 for x in proc.stderr.splitlines() if x.startswith("PEAK_KB ")]
    return wall, peak[-1] if peak else float("nan")


def part_w2v(args, work):
    corpus = plain_corpus(args.corpus, tokens=args.tokens)
    k = args.k
    print(f"\n### word2vec C -classes {k} vs wordvec and scikit-learn on its vectors\n")
    print(f"word2vec settings: {' '.join(W2V_ARGS)} (-classes {k} in the clustering runs)\n")
    vec0 = os.path.join(work, "w2v-vectors-warm.bin")
    w2v_run(args.word2vec_c, corpus, vec0, 0)  # warm-up: page cache
    times = {"plain": [], "classes": []}
    peaks = {"plain": [], "classes": []}
    vecs, cls = [], []
    for r in range(1, args.runs + 1):
        for kind in (("plain", "classes") if r % 2 else ("classes", "plain")):
            out = os.path.join(work, f"w2v-{kind}-{r}.{'bin' if kind == 'plain' else 'txt'}")
            wall, peak = w2v_run(args.word2vec_c, corpus, out, k if kind == "classes" else 0)
            print(f"  w2v round {r}: {kind} {wall:.2f} s, {peak:,.0f} MB", file=sys.stderr)
            times[kind].append(wall)
            peaks[kind].append(peak)
            (vecs if kind == "plain" else cls).append(out)
    same_vec = all(filecmp.cmp(vec0, v, shallow=False) for v in vecs)
    same_cls = all(filecmp.cmp(cls[0], c, shallow=False) for c in cls[1:])
    print(table(["word2vec C run", "wall s, each run in order", "fastest", "mean", "peak RSS MB"],
                [[kind, ", ".join(f"{t:.2f}" for t in times[kind]), f"{min(times[kind]):.2f}",
                  f"{np.mean(times[kind]):.2f}", f"{max(peaks[kind]):,.0f}"]
                 for kind in ("plain", "classes")]))
    w2v_fast = min(times["classes"]) - min(times["plain"])
    w2v_mean = np.mean(times["classes"]) - np.mean(times["plain"])
    print(f"\nclustering time of word2vec C = classes - plain: {w2v_fast:.2f} s (fastest runs), "
          f"{w2v_mean:.2f} s (means)")
    print(f"vectors of the {1 + len(vecs)} runs without -classes identical byte for byte: "
          f"{'yes' if same_vec else 'NO'}; classes files of the {len(cls)} runs identical: "
          f"{'yes' if same_cls else 'NO'}")

    import wordvec
    from wordvec.clustering import read_classes
    v = wordvec.load(vec0)
    X = np.ascontiguousarray(v.matrix, dtype=np.float32)
    path = cached(os.path.join(work, "w2v-vectors.npy"), lambda: X)
    classes = read_classes(cls[0])
    labels = np.array([classes[w] for w in v.words])
    n, d = X.shape
    iters = args.wordvec_iters
    print(f"\n{n:,} words x {d} (min-count 5 on {shown(corpus)}, </s> included), k = {k}; "
          f"{args.runs} runs each, seeds 1..{args.runs}; word2vec C runs 10 rounds from "
          "a round-robin start, deterministic\n")
    w2v_inertia = inertia(X, labels, k)
    configs = [(f"wordvec {t}t {it} rounds", "wordvec", t, it)
               for t in (1, 2) for it in (iters, 10)]
    configs += [("MiniBatchKMeans 2t", "minibatch", 2, 0),
                (f"KMeans 2t max_iter {args.kmeans_w2v_iters}", "kmeans", 2, args.kmeans_w2v_iters)]
    results = compare(path, configs, k, args.runs, work, "w2v")
    t0 = min(o["seconds"] for o in results[configs[0][0]])
    i0 = np.mean([o["inertia"] for o in results[configs[0][0]]])
    extra = [["word2vec C 1t (classes - plain)", f"{w2v_fast:.2f}", "-", f"{w2v_fast / t0:.2f}x",
              f"{w2v_inertia:.1f}", f"{1 - w2v_inertia / n:.4f}", f"{w2v_inertia / i0:.4f}", "10",
              f"{max(peaks['classes']):,.0f}", "-"]]
    report(results, n, extra)


def part_big(args, work):
    k = args.k
    sets = [("synthetic", cached(os.path.join(SCRATCH, f"cluster-synthetic-{args.big_n}x"
                                                       f"{args.big_dim}-seed1.npy"),
                                 lambda: synthetic(args.big_n, args.big_dim)))]
    if args.real_model:
        import wordvec

        def real():
            return np.ascontiguousarray(wordvec.load(args.real_model).matrix, dtype=np.float32)
        name = os.path.basename(os.path.normpath(args.real_model))
        sets.append(("real", cached(os.path.join(SCRATCH, f"cluster-real-{name}.npy"), real)))
    configs = [(f"wordvec {args.threads}t", "wordvec", args.threads, args.wordvec_iters),
               (f"MiniBatchKMeans {args.threads}t", "minibatch", args.threads, 0)]
    if args.kmeans_iters:
        configs.append((f"KMeans {args.threads}t max_iter {args.kmeans_iters}", "kmeans",
                        args.threads, args.kmeans_iters))
    for label, path in sets:
        X = np.load(path, mmap_mode="r")
        n, d = X.shape
        what = ("synthetic: a mixture of 2,000 directions on the sphere (bench_cluster.synthetic, "
                "seed 1)" if label == "synthetic" else
                f"real: every word of the model {shown(args.real_model)}")
        print(f"\n### {n:,} x {d}, k = {k}: {what}\n")
        print(f"{args.runs} runs each, seeds 1..{args.runs}, {args.threads} threads; input "
              f"{X.nbytes / 2**20:,.0f} MB as float32\n")
        results = compare(path, configs, k, args.runs, work, label)
        report(results, n)


# ---- purity ------------------------------------------------------------------------------------
def read_groups(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                group, word = line
                pairs.append((group, word))
    return pairs


def purity(groups, labels):
    total = 0
    for c in np.unique(labels):
        _, counts = np.unique(groups[labels == c], return_counts=True)
        total += counts.max()
    return total / len(labels)


def misplaced(words, groups, labels):
    """Words whose class's most common group is not theirs, as 'word (group -> class's group)'."""
    out = []
    for c in np.unique(labels):
        g, counts = np.unique(groups[labels == c], return_counts=True)
        major = g[counts.argmax()]
        out += [(w, gr, major) for w, gr, lab in zip(words, groups, labels)
                if lab == c and gr != major]
    return out


def part_purity(args, work):
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.metrics import adjusted_rand_score

    import wordvec
    from wordvec.vectors import Vectors
    model = args.purity_model or os.path.join(SCRATCH, "cluster-sg")
    if not os.path.exists(model):
        corpus = plain_corpus(args.corpus)
        with bench_lock():  # untimed, but minutes on every core: not during another's timing
            subprocess.run([sys.executable, "-m", "wordvec.cli", "train", corpus, "-o", model],
                           check=True, cwd=REPO, stdout=sys.stderr)  # its summary names the temp folder
    v = wordvec.load(model)
    pairs = read_groups(GROUPS)
    kept = [(g, w) for g, w in pairs if w in v.index]
    missing = [w for g, w in pairs if w not in v.index]
    names = sorted({g for g, _ in pairs})
    k = len(names)
    words = [w for _, w in kept]
    truth = np.array([g for g, _ in kept])
    X = np.stack([v.matrix[v.index[w]] for w in words]).astype(np.float32)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    print(f"\n### Purity: {len(words)} words of {k} groups ({shown(GROUPS)}) in {shown(model)} "
          f"({len(v):,} words x {v.dim}), k = {k}, seeds 1..{args.purity_seeds}\n")
    print("words per group: " + ", ".join(f"{g} {int((truth == g).sum())}" for g in names)
          + (f"; not in the model: {', '.join(missing)}" if missing else ""))
    tools = {
        "wordvec": lambda s: wordvec.cluster(Vectors(words, X), k, seed=s).labels,
        "wordvec --restarts 10": lambda s: wordvec.cluster(Vectors(words, X), k, seed=s, restarts=10).labels,
        "MiniBatchKMeans": lambda s: MiniBatchKMeans(k, random_state=s, n_init=1).fit(U).labels_,
        "KMeans": lambda s: KMeans(k, n_init=1, random_state=s).fit(U).labels_,
        "KMeans n_init=10": lambda s: KMeans(k, n_init=10, random_state=s).fit(U).labels_,
    }
    rows, wrong = [], {}
    for name, fit in tools.items():
        pur, ari, iner, counts = [], [], [], {}
        for s in range(1, args.purity_seeds + 1):
            labels = np.asarray(fit(s))
            pur.append(purity(truth, labels))
            ari.append(adjusted_rand_score(truth, labels))
            iner.append(inertia(X, labels, k))
            for w, g, m in misplaced(words, truth, labels):
                counts.setdefault((w, g), []).append(m)
        wrong[name] = counts
        rows.append([name, spread(pur, digits=3), spread(ari, digits=3), spread(iner, digits=2),
                     f"{sum(len(c) for c in counts.values()) / args.purity_seeds:.1f}"])
    print(table(["tool", "purity", "adjusted Rand", "inertia", "misplaced words per seed"], rows))
    for name in ("wordvec", "KMeans"):
        print(f"\n{name}: words outside their group's class (seeds out of {args.purity_seeds}; "
              "the group of the class they joined):")
        for (w, g), ms in sorted(wrong[name].items(), key=lambda t: (-len(t[1]), t[0][1], t[0][0])):
            joined = sorted(set(ms), key=ms.count, reverse=True)
            print(f"  {w} ({g}): {len(ms)}, in {'/'.join(joined)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", nargs="+", default=["w2v", "big", "purity"],
                    choices=["w2v", "big", "purity"])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--tokens", type=int, help="w2v part: only the first lines holding this many tokens")
    ap.add_argument("--word2vec-c", help="path of word2vec C's word2vec (built with its makefile)")
    ap.add_argument("--k", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--wordvec-iters", type=int, default=20, help="wordvec's rounds (its default)")
    ap.add_argument("--big-n", type=int, default=1_000_000)
    ap.add_argument("--big-dim", type=int, default=300)
    ap.add_argument("--real-model", help="big part: also every word of this model")
    ap.add_argument("--kmeans-iters", type=int, default=20,
                    help="big part: KMeans's max_iter (0: no KMeans)")
    ap.add_argument("--kmeans-w2v-iters", type=int, default=300,
                    help="w2v part: KMeans's max_iter (scikit-learn's default 300)")
    ap.add_argument("--purity-model", help="default: wordvec train defaults on the whole corpus, cached")
    ap.add_argument("--purity-seeds", type=int, default=10)
    args = ap.parse_args()
    if "w2v" in args.parts and not args.word2vec_c:
        ap.error("the w2v part needs --word2vec-c PATH")
    os.makedirs(SCRATCH, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wordvec-bench-cluster-")
    print(run_record(["scikit-learn"], corpus=plain_corpus(args.corpus),
                     c_tools={"word2vec": args.word2vec_c}))
    if "w2v" in args.parts:
        part_w2v(args, work)
    if "big" in args.parts:
        part_big(args, work)
    if "purity" in args.parts:
        part_purity(args, work)
    print(f"\n(scratch files in {shown(work)})")


if __name__ == "__main__":
    main()
