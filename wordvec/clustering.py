"""Word classes: spherical (cosine) k-means over word vectors, and word2vec C's classes files.

:func:`cluster` groups the words of a model into ``k`` classes by k-means on their
unit-normalised vectors: each word belongs to the centroid of highest cosine similarity, and each
centroid is the normalised sum of its words' unit vectors (spherical k-means, Dhillon & Modha
2001). It is the clustering of word2vec C's ``-classes`` option, which also compares words with
normalised centroids by dot product (it sums the raw vectors, not unit ones, and runs 10 rounds
from a round-robin assignment).

- **Seeding**: greedy k-means++ (Arthur & Vassilvitskii 2007; ``2 + ln k`` candidates per
  centroid, the one that lowers the potential most kept, as scikit-learn does) with the squared
  distance of unit vectors, ``2 - 2 cos``, on a uniform sample of :func:`seed_sample_size`
  words (all of them when there are few), so seeding stays cheap for a million words. Its
  passes run on one core unless they are large (see :func:`kmeans_plus_plus`).
- **Rounds** (Lloyd): the similarities of a block of words to every centroid are one BLAS
  matrix product on all cores (never an N x k matrix: blocks of :data:`BLOCK_ELEMENTS`
  scores), and NumPy's argmax takes each row's best; a Numba kernel sums each class's unit
  vectors on all cores, split over columns, so every sum is added in word order whatever the
  thread count. A class left empty takes the word farthest from its centroid. The rounds stop
  when no word changes class, or after ``iters`` (default 20; word2vec C runs 10).
  Memory: the matrix as given (a memory-mapped float32 model is read in place, not copied),
  about 20 bytes per word (norm, classes, similarity), the centroids, one block of scores and
  the seeding sample.
- **Inertia**: ``sum over words of (1 - cos(word, its centroid))`` with the final centroids (the
  normalised sums of the final classes); the squared Euclidean distance of unit vectors is twice
  that. It equals ``N - sum_j |s_j|`` (``s_j`` the sum of class j's unit vectors), computed so.
- **Class numbers** follow the vocabulary: class 0 holds the most frequent word, class 1 the most
  frequent word not in class 0, and so on; so a model's classes read the same whatever the seed
  numbered them.

A classes file has one ``word class`` line per word, as word2vec C's ``-classes`` writes; ours is
sorted by class (as its ``demo-classes.sh`` sorts it with ``sort -k 2 -n``), words of a class in
vocabulary order. :func:`read_classes` reads any such file, in any order.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

from .errors import WordvecError
from .rng import next_below, next_u53, seed_state

DEFAULT_ITERS = 20
BLOCK_ELEMENTS = 1 << 22  # similarities held at once (rows x k, float32): 16 MB
PARALLEL_MIN = 1 << 22  # values (words x dims) from which the Numba passes use every core
_SEED_BLOCK = 1024  # rows per partial sum of the seeding (fixed, so draws ignore the thread count)
MAX_CLASS = 2**31 - 1


# ---- kernels -------------------------------------------------------------------------------
@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _squared_norms(X, out):
    """out[i] = |X[i]|^2 in float64."""
    n, d = X.shape
    for i in prange(n):
        x = X[i]
        s = 0.0
        for t in range(d):
            v = np.float64(x[t])
            s += v * v
        out[i] = s


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _gather_unit(X, inv, rows, out):
    """out[j] = X[rows[j]] * inv[rows[j]]: the unit vectors of the chosen rows."""
    d = X.shape[1]
    for j in prange(rows.shape[0]):
        r = rows[j]
        w = np.float32(inv[r])
        x = X[r]
        o = out[j]
        for t in range(d):
            o[t] = x[t] * w


@njit(inline="always", nogil=True, fastmath=True)
def _trial_block(U, cands, ntry, best, dists, psum, b):
    """Rows of block ``b``: for each of the ``ntry`` candidate rows ``cands``, the squared
    distance ``2 - 2 cos`` to the nearest chosen row if that candidate were chosen too (into
    ``dists``), and their sum over the block (into ``psum[b]``)."""
    m, d = U.shape
    for q in range(ntry):
        psum[b, q] = 0.0
    for i in range(b * _SEED_BLOCK, min(m, (b + 1) * _SEED_BLOCK)):
        u = U[i]
        for q in range(ntry):
            c = U[cands[q]]
            dot = np.float32(0.0)
            for t in range(d):
                dot += u[t] * c[t]
            dist = min(best[i], max(0.0, 2.0 - 2.0 * np.float64(dot)))
            dists[q, i] = dist
            psum[b, q] += dist


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _trials_parallel(U, cands, ntry, best, dists, psum):
    """:func:`_trial_block` for every block, on all cores."""
    for b in prange(psum.shape[0]):
        _trial_block(U, cands, ntry, best, dists, psum, b)


@njit(cache=True, nogil=True)
def _draw(best, bsum, taken, state):
    """A row drawn with probability proportional to ``best`` (its squared distance to the
    nearest chosen row), via the block sums ``bsum`` added in order; -1 if every row is at
    distance 0."""
    m = best.shape[0]
    nb = bsum.shape[0]
    total = 0.0
    for b in range(nb):
        total += bsum[b]
    if not total > 0.0:
        return -1
    r = np.float64(next_u53(state)) * (1.0 / 9007199254740992.0) * total
    acc = 0.0
    b = 0
    while b < nb - 1 and acc + bsum[b] <= r:
        acc += bsum[b]
        b += 1
    i = b * _SEED_BLOCK
    end = min(m, (b + 1) * _SEED_BLOCK) - 1
    while i < end and acc + best[i] <= r:
        acc += best[i]
        i += 1
    # rounding may stop on a row at distance 0: take the nearest one before (or after) it
    j = i
    while j >= 0 and best[j] <= 0.0:
        j -= 1
    if j < 0:
        j = i
        while j < m and best[j] <= 0.0:
            j += 1
    return j if j < m else -1


@njit(cache=True, nogil=True)
def _candidates(best, bsum, taken, state, cands):
    """Draw the candidates of the next row into ``cands``; returns how many (0: every row left
    coincides with a chosen one)."""
    ntry = 0
    for q in range(cands.shape[0]):
        c = _draw(best, bsum, taken, state)
        if c < 0:
            break
        cands[q] = c
        ntry += 1
    return ntry


@njit(cache=True, nogil=True)
def _choose(ntry, cands, taken, best, bsum, dists, psum):
    """Keep the candidate that leaves the smallest sum of distances (block sums added in
    order), or, when there is none, the first row not chosen yet; update ``best``, ``bsum``."""
    m = best.shape[0]
    nb = bsum.shape[0]
    if ntry == 0:
        pick = 0
        while pick < m - 1 and taken[pick]:
            pick += 1
        taken[pick] = True
        best[pick] = 0.0
        for b in range(nb):
            bsum[b] = 0.0
        return pick
    keep = 0
    low = np.inf
    for q in range(ntry):
        tot = 0.0
        for b in range(nb):
            tot += psum[b, q]
        if tot < low:
            low = tot
            keep = q
    for i in range(m):
        best[i] = dists[keep, i]
    for b in range(nb):
        bsum[b] = psum[b, keep]
    pick = cands[keep]
    taken[pick] = True
    best[pick] = 0.0
    return pick


@njit(cache=True, nogil=True)
def _uniform(state, m):
    return next_below(state, m)


@njit(cache=True, nogil=True, fastmath=True)
def _kmeanspp_serial(U, k, state, chosen, taken, best, bsum, cands, dists, psum):
    """Greedy k-means++ on one core: the loop of :func:`kmeans_plus_plus` in one kernel."""
    for c in range(1, k):
        ntry = _candidates(best, bsum, taken, state, cands)
        if ntry > 0:
            for b in range(psum.shape[0]):
                _trial_block(U, cands, ntry, best, dists, psum, b)
        chosen[c] = _choose(ntry, cands, taken, best, bsum, dists, psum)


def default_trials(k):
    """Candidates per chosen row of greedy k-means++: ``2 + ln k`` (as scikit-learn)."""
    return 2 + int(np.log(max(k, 1)))


def kmeans_plus_plus(U, k, seed, trials=None, parallel=None):
    """Row numbers of ``k`` rows of the unit rows ``U`` (m x d) chosen by greedy k-means++:
    the first uniformly; then, for each next one, ``trials`` candidates are drawn with
    probability proportional to their squared distance ``2 - 2 cos`` to the nearest row chosen
    so far (k-means++, Arthur & Vassilvitskii 2007), and the one that lowers the sum of those
    distances most is kept (their "greedy" variant, scikit-learn's default;
    ``trials=1`` is plain k-means++). A row that coincides with a chosen one is never drawn;
    when all do, the first row not chosen is taken.

    Distances are summed over fixed blocks of rows, then the blocks in order, so the choice is
    the same on one core or all. ``parallel`` (default: when a pass is at least 4 M
    multiplications) spreads each pass over the cores; small passes run on one core, where a
    parallel loop per chosen row would spend more on waking and waiting for threads (on a busy
    machine, far more) than it saves.
    """
    m, d = U.shape
    trials = default_trials(k) if trials is None else int(trials)
    state = seed_state(seed, 0x6B6D)
    nb = (m + _SEED_BLOCK - 1) // _SEED_BLOCK
    chosen = np.empty(k, dtype=np.int64)
    taken = np.zeros(m, dtype=np.bool_)
    best = np.zeros(m)
    cands = np.zeros(trials, dtype=np.int64)
    dists = np.empty((trials, m))
    psum = np.zeros((nb, trials))
    chosen[0] = _uniform(state, m)
    taken[chosen[0]] = True
    best[:] = np.maximum(0.0, 2.0 - 2.0 * (U @ U[chosen[0]]).astype(np.float64))
    best[chosen[0]] = 0.0
    bsum = np.array([best[b * _SEED_BLOCK:(b + 1) * _SEED_BLOCK].sum() for b in range(nb)])
    if parallel is None:
        parallel = m * d * trials >= 1 << 26
    if not parallel:
        _kmeanspp_serial(U, k, state, chosen, taken, best, bsum, cands, dists, psum)
        return chosen
    for c in range(1, k):
        ntry = _candidates(best, bsum, taken, state, cands)
        if ntry > 0:
            _trials_parallel(U, cands, ntry, best, dists, psum)
        chosen[c] = _choose(ntry, cands, taken, best, bsum, dists, psum)
    return chosen


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _class_sums(X, inv, labels, sums):
    """sums[c] = sum of the unit vectors X[i] * inv[i] of class c, in float64. The rows are put
    in class order first (a counting sort, stable), then each class is added up by one thread,
    its words in row order: one pass over X, and the same bits whatever the thread count."""
    n, d = X.shape
    k = sums.shape[0]
    start = np.zeros(k + 1, dtype=np.int64)
    for i in range(n):
        start[labels[i] + 1] += 1
    for c in range(k):
        start[c + 1] += start[c]
    order = np.empty(n, dtype=np.int64)
    fill = start[:k].copy()
    for i in range(n):
        c = labels[i]
        order[fill[c]] = i
        fill[c] += 1
    for c in prange(k):
        row = sums[c]
        for t in range(d):
            row[t] = 0.0
        for j in range(start[c], start[c + 1]):
            i = order[j]
            w = inv[i]
            if w == 0.0:
                continue
            x = X[i]
            for t in range(d):
                row[t] += np.float64(x[t]) * w


# ---- the algorithm -------------------------------------------------------------------------
def seed_sample_size(n, k):
    """How many words the k-means++ seeding looks at: all up to 20,000, else
    ``max(20,000, 4 k)`` (at most ``n``). Measured on the vectors of a 5 M-token corpus (31,268
    words x 100, k = 500; benchmarks/README.md): 20,000 words seed as well as all of them
    (inertia after 20 rounds within 0.1 %), 5,000 0.7 % worse."""
    return int(min(n, max(20_000, 4 * k)))


@dataclass
class Clusters:
    """The result of :func:`cluster`.

    ``words`` (the words clustered, in the model's order), ``labels`` (int32 class per word),
    ``centroids`` (float32, k x dim, unit rows; a zero row for a class left empty), ``sizes``
    (words per class), ``inertia`` (sum over words of 1 - cosine to their centroid),
    ``iterations`` (rounds run after seeding), ``converged`` (the last round moved no word),
    ``history`` (the inertia of the classes before each round, and at the end), ``moves`` (words
    that changed class in each round), ``seconds`` (time spent seeding and in the rounds, all
    starts together) and ``starts`` (the final inertia of each start, with ``restarts``).
    """

    words: list
    labels: np.ndarray
    centroids: np.ndarray
    sizes: np.ndarray
    inertia: float
    iterations: int
    converged: bool
    history: list = field(default_factory=list)
    moves: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    starts: list = field(default_factory=list)

    @property
    def k(self):
        return int(self.centroids.shape[0])

    def __len__(self):
        return len(self.words)

    def __repr__(self):
        return (f"Clusters({len(self.words):,} words in {self.k:,} classes, inertia "
                f"{self.inertia:.6g}, {self.iterations} rounds"
                f"{'' if self.converged else ', not converged'})")

    def classes(self) -> dict:
        """``{word: class}``, as :func:`read_classes` gives it back from the file."""
        return dict(zip(self.words, self.labels.tolist()))

    def members(self, c) -> list:
        """The words of class ``c``, most frequent first."""
        return [self.words[i] for i in np.flatnonzero(self.labels == int(c))]

    def save(self, path, *, force=False, inputs=()):
        """Write the classes file (``word class`` lines sorted by class); see :func:`write_classes`."""
        write_classes(self, path, force=force, inputs=inputs)


def cluster(vectors, k, *, top=None, seed=1, iters=DEFAULT_ITERS, sample=None, trials=None,
            restarts=1) -> Clusters:
    """Spherical k-means of the words of ``vectors`` (a :class:`~wordvec.vectors.Vectors` or a
    path that :func:`wordvec.load` reads) into ``k`` classes.

    ``top`` clusters only the ``top`` most frequent words; ``seed`` makes the result
    reproducible; ``iters`` bounds the rounds after seeding (they stop earlier when no word moves);
    ``sample`` is how many words the k-means++ seeding looks at (default:
    :func:`seed_sample_size`). Zero vectors stay in the class they are put in and count 1 each
    in the inertia. ``restarts`` runs the whole k-means (seeding and rounds) that many times
    from different seeds and keeps the run of lowest inertia (scikit-learn's ``n_init``); the
    first run is the one ``restarts=1`` gives.
    """
    if isinstance(vectors, (str, os.PathLike)):
        from .formats import load_vectors
        vectors = load_vectors(vectors, limit=top)
    k = _whole("k", k, 1)
    iters = _whole("iters", iters, 0)
    restarts = _whole("restarts", restarts, 1)
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise WordvecError(f"seed must be an integer >= 0 (got {seed!r})")
    words = list(vectors.words)
    X = vectors.matrix
    if top is not None:
        top = _whole("top", top, 1)
        words, X = words[:top], X[:top]
    n = len(words)
    if n == 0:
        raise WordvecError("no words to cluster")
    if k > n:
        raise WordvecError(f"k = {k:,} classes but only {n:,} words to cluster"
                           + (f" (the top {top:,})" if top is not None and top <= n else "")
                           + ": choose k <= the number of words")
    m = seed_sample_size(n, k) if sample is None else min(n, _whole("sample", sample, 1))
    if m < k:
        raise WordvecError(f"sample = {m:,} words cannot seed {k:,} classes: give sample >= k")
    X = np.asarray(X)
    if X.dtype != np.float32 or not X.flags.c_contiguous:
        X = np.ascontiguousarray(X, dtype=np.float32)
    times = {}
    sq = np.empty(n, dtype=np.float64)
    _squared_norms(X, sq)
    if not np.isfinite(sq).all():
        i = int(np.flatnonzero(~np.isfinite(sq))[0])
        raise WordvecError(f"the vector of {words[i]!r} (row {i + 1}) holds a value that is not a "
                           "finite number (or is too large)")
    inv = np.zeros(n, dtype=np.float64)
    np.divide(1.0, np.sqrt(sq), out=inv, where=sq > 0)
    del sq

    # below PARALLEL_MIN a pass takes well under a millisecond on one core, and waking the other
    # threads for each costs more (measured: 14,694 x 100, k 50, 20 rounds: 0.05 s on one
    # core, 0.17 s on two, and seconds when another process keeps the second core busy)
    threads = numba.get_num_threads()
    if n * X.shape[1] < PARALLEL_MIN:
        numba.set_num_threads(1)
    try:
        return _restarts(X, inv, words, k, m, seed, iters, trials, restarts, times)
    finally:
        numba.set_num_threads(threads)


def _restarts(X, inv, words, k, m, seed, iters, trials, restarts, times):
    best = None
    starts = []
    for r in range(restarts):
        # run 0 is `seed` itself (what restarts=1 gives); the others, seeds derived from (seed, r)
        run_seed = int(seed) if r == 0 else int(np.random.SeedSequence([int(seed), r]).generate_state(1)[0])
        result = _kmeans(X, inv, words, k, m, run_seed, iters, trials, times)
        starts.append(result.inertia)
        if best is None or result.inertia < best.inertia:
            best = result
    best.starts = starts
    best.seconds = times
    return best


def _kmeans(X, inv, words, k, m, seed, iters, trials, times):
    """One spherical k-means from one seed: k-means++ over ``m`` sampled rows, then at most
    ``iters`` rounds; ``times`` accumulates the seconds of seeding and rounds."""
    n = X.shape[0]
    t0 = time.perf_counter()
    # seeding: k-means++ over a sample (or all words)
    if m < n:
        rows = np.sort(np.random.default_rng([int(seed), 0x5EED]).choice(n, size=m, replace=False))
    else:
        rows = np.arange(n)
    rows = rows.astype(np.int64)
    U = np.empty((m, X.shape[1]), dtype=np.float32)
    _gather_unit(X, inv, rows, U)
    chosen = kmeans_plus_plus(U, k, seed, trials=None if trials is None else _whole("trials", trials, 1))
    centroids = np.ascontiguousarray(U[chosen])
    del U
    times["seed"] = times.get("seed", 0.0) + time.perf_counter() - t0

    t0 = time.perf_counter()
    labels = np.empty(n, dtype=np.int32)
    sims = np.empty(n, dtype=np.float32)
    _assign(X, inv, centroids, labels, sims)
    sums = np.empty((k, X.shape[1]), dtype=np.float64)
    new = np.empty_like(labels)
    history, moves = [], []
    converged = False
    for _ in range(iters):
        _relocate_empty(labels, sims, inv, k)
        _class_sums(X, inv, labels, sums)
        norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
        history.append(float(n - norms.sum()))
        centroids = _normalised(sums, norms, centroids)
        _assign(X, inv, centroids, new, sims)
        moves.append(int(np.count_nonzero(new != labels)))
        labels, new = new, labels
        if moves[-1] == 0:
            converged = True
            break
    _class_sums(X, inv, labels, sums)
    norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
    inertia = float(n - norms.sum())
    history.append(inertia)
    centroids = _normalised(sums, norms, np.zeros((k, X.shape[1]), dtype=np.float32))
    times["rounds"] = times.get("rounds", 0.0) + time.perf_counter() - t0
    labels, centroids, sizes = _renumber(labels, centroids, k)
    return Clusters(words, labels, centroids, sizes, max(inertia, 0.0), len(moves), converged,
                    history, moves)


def _whole(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise WordvecError(f"{name} must be an integer >= {lo} (got {value!r})")
    return int(value)


def _assign(X, inv, centroids, labels, sims):
    """Each word's most similar centroid: a BLAS product per block of rows (both cores), then
    NumPy's argmax (the first of equal ones) on one core. A parallel Numba kernel there measured
    slower: its threads and BLAS's take turns every block and spin while waiting for each other."""
    n = X.shape[0]
    k = centroids.shape[0]
    rows = max(64, min(n, BLOCK_ELEMENTS // max(k, 1)))
    S = np.empty((rows, k), dtype=np.float32)
    best = np.empty(rows, dtype=np.intp)
    CT = centroids.T
    for a in range(0, n, rows):
        b = min(n, a + rows)
        s, j = S[: b - a], best[: b - a]
        np.matmul(X[a:b], CT, out=s)
        np.argmax(s, axis=1, out=j)
        labels[a:b] = j
        sims[a:b] = s[np.arange(b - a), j] * inv[a:b]


def _normalised(sums, norms, previous):
    """Unit centroids from class sums (of those norms); a class whose sum is zero keeps its
    ``previous`` centroid."""
    out = previous.copy()
    nz = norms > 0
    out[nz] = (sums[nz] / norms[nz, None]).astype(np.float32)
    return out


def _relocate_empty(labels, sims, inv, k):
    """Give each empty class the word farthest from its centroid (lowest cosine) among words of
    classes that keep at least one word; zero vectors are never moved."""
    sizes = np.bincount(labels, minlength=k)
    empty = np.flatnonzero(sizes == 0)
    if len(empty) == 0:
        return
    order = np.lexsort((np.arange(len(sims)), sims))  # farthest first, ties by row
    order = order[inv[order] > 0]
    e = 0
    for i in order:
        if e == len(empty):
            break
        c = labels[i]
        if sizes[c] > 1:
            sizes[c] -= 1
            labels[i] = empty[e]
            sizes[empty[e]] += 1
            e += 1


def _renumber(labels, centroids, k):
    """Number the classes by their first word (vocabulary order); empty classes last."""
    first = np.full(k, len(labels), dtype=np.int64)
    np.minimum.at(first, labels, np.arange(len(labels)))
    order = np.argsort(first, kind="stable")
    rank = np.empty(k, dtype=np.int32)
    rank[order] = np.arange(k, dtype=np.int32)
    labels = rank[labels]
    sizes = np.bincount(labels, minlength=k).astype(np.int64)
    return labels, np.ascontiguousarray(centroids[order]), sizes


# ---- classes files -------------------------------------------------------------------------
def write_classes(clusters, path, *, force=False, inputs=()):
    """Write ``word class`` lines sorted by class, the words of a class in vocabulary order
    (atomically; only over a classes file wordvec wrote, or any file with ``force``)."""
    from .io_util import atomic_write
    from .vocab import check_words

    check_words(clusters.words, "a classes file")
    order = np.argsort(clusters.labels, kind="stable")
    words, labels = clusters.words, clusters.labels.tolist()
    with atomic_write(path, "w", kind="classes", force=force, inputs=inputs, encoding="utf-8") as f:
        for i in order.tolist():
            f.write(f"{words[i]} {labels[i]}\n")


_ASCII_WS_CHARS = " \t\n\r\v\f"
_ASCII_WS = re.compile(f"[{_ASCII_WS_CHARS}]+")


def read_classes(path) -> dict:
    """``{word: class}`` from a classes file: ``word class`` lines, as word2vec C's ``-classes``
    and ``wordvec cluster`` write them, in any order.

    Checked line by line: UTF-8 text, two fields separated by ASCII whitespace, a class of plain
    digits from 0 to 2**31 - 1, each word once. Blank lines are skipped. Errors name the file and
    line, in one line.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise WordvecError(f"no such classes file: {path!r}")
    out, seen = {}, {}
    try:
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                if b"\x00" in raw:
                    raise WordvecError(f"{path}:{n}: a NUL byte: a binary file, not a classes file")
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise WordvecError(f"{path}:{n}: not UTF-8 text (a binary or differently "
                                       "encoded file?)") from None
                parts = _ASCII_WS.split(line.strip(_ASCII_WS_CHARS))
                if parts == [""]:
                    continue
                if len(parts) != 2:
                    raise WordvecError(f"{path}:{n}: expected 'word class', got "
                                       f"{line.strip()[:60]!r}")
                w, c = parts
                if not (c.isascii() and c.isdigit()) or len(c) > 10 or int(c) > MAX_CLASS:
                    raise WordvecError(f"{path}:{n}: class {c[:20]!r} is not an integer from 0 "
                                       f"to {MAX_CLASS:,}")
                if w in seen:
                    raise WordvecError(f"{path}:{n}: the word {w[:60]!r} is also on line {seen[w]}")
                seen[w] = n
                out[w] = int(c)
    except OSError as e:
        raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
    if not out:
        raise WordvecError(f"classes file {path!r} is empty")
    return out
