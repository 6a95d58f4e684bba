"""GloVe (Pennington, Socher & Manning 2014): AdaGrad on weighted least squares of log counts.

For each non-zero co-occurrence ``X[i, j]`` the loss is
``f(X) (w_i · w̃_j + b_i + b̃_j − log X)²`` with ``f(x) = min(1, (x / x_max) ** power)``.
Training follows Stanford's ``glove`` tool: parameters initialised uniform in (−0.5, 0.5) / dim,
AdaGrad squared-gradient sums initialised to 1, per-coordinate gradients clipped to ±100,
initial learning rate ``alpha``, the reported loss the mean of ``0.5 f(X) diff²`` per entry.

The non-zeros are copied once into flat arrays (row int32, column int32, count float32) and
shuffled (Fisher–Yates, seeded) — Stanford's ``shuffle`` step; each epoch then visits blocks of
entries in a fresh random order, split between threads that update the shared parameters
without locks (Hogwild), each in a Numba ``nogil`` kernel.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .errors import WordvecError
from .training import bar_disable, check_trainable, close_bar
from .vectors import Vectors

BLOCK = 1 << 14  # entries per shuffled block
STEP_BLOCKS = 32  # blocks per kernel call (a signal stops the threads within one call)
GRAD_CLIP = 100.0
VECTOR_MODES = ("sum", "word", "concat")
_MAGIC = np.int32(0x5F3759DF)
# fast-math without "no NaNs / no infinities", so the divergence guard (isfinite) stays
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


# ---- kernels ----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _shuffle(rows, cols, vals, state):
    """Fisher–Yates shuffle of the three arrays in unison (xorshift64* stream in ``state``)."""
    x = state[0]
    for i in range(rows.shape[0] - 1, 0, -1):
        x ^= x >> np.uint64(12)
        x ^= x << np.uint64(25)
        x ^= x >> np.uint64(27)
        r = (x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)
        j = np.int64(r % np.uint64(i + 1))
        rows[i], rows[j] = rows[j], rows[i]
        cols[i], cols[j] = cols[j], cols[i]
        vals[i], vals[j] = vals[j], vals[i]
    state[0] = x


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _epoch(rows, cols, vals, blocks, W, C, bw, bc, GW, GC, gbw, gbc, x_max, power, eta, clip):
    """One thread's share of an epoch: the entries of ``blocks``; returns (cost sum, bad count).

    AdaGrad's 1/sqrt(gradsq) comes from the bit-level initial guess plus two Newton steps
    (relative error ~5e-6), which vectorises where sqrt-and-divide does not. Rows are indexed
    in place (``W[r, k]``), never taken as views: a view per entry costs reference counting
    that two threads then fight over.
    """
    dim = W.shape[1]
    n = rows.shape[0]
    lw = np.empty(dim, dtype=np.float32)
    lc = np.empty(dim, dtype=np.float32)
    yw = np.empty(dim, dtype=np.int32)
    yc = np.empty(dim, dtype=np.int32)
    fw = yw.view(np.float32)
    fc = yc.view(np.float32)
    GWi = GW.view(np.int32)
    GCi = GC.view(np.int32)
    half = np.float32(0.5)
    three_halves = np.float32(1.5)
    cost = 0.0
    bad = 0
    one = np.float32(1.0)
    for bi in range(blocks.shape[0]):
        start = blocks[bi] * BLOCK
        end = min(start + BLOCK, n)
        for e in range(start, end):
            r = rows[e]
            c = cols[e]
            x = vals[e]
            for k in range(dim):
                lw[k] = W[r, k]
                lc[k] = C[c, k]
            dot = np.float32(0.0)
            for k in range(dim):
                dot += lw[k] * lc[k]
            diff = dot + bw[r] + bc[c] - np.float32(np.log(x))
            fx = one if x >= x_max else np.float32((x / x_max) ** power)
            fdiff = fx * diff
            if not np.isfinite(fdiff):
                bad += 1
                continue
            cost += 0.5 * np.float64(fdiff) * np.float64(diff)
            fdiff *= eta
            for k in range(dim):
                yw[k] = _MAGIC - (GWi[r, k] >> 1)
                yc[k] = _MAGIC - (GCi[c, k] >> 1)
            for k in range(dim):
                v = GW[r, k]
                t = fw[k]
                t = t * (three_halves - half * v * t * t)
                t = t * (three_halves - half * v * t * t)
                g = min(max(fdiff * lc[k], -clip), clip)
                W[r, k] = lw[k] - g * t
                GW[r, k] = v + g * g
            for k in range(dim):
                v = GC[c, k]
                t = fc[k]
                t = t * (three_halves - half * v * t * t)
                t = t * (three_halves - half * v * t * t)
                g = min(max(fdiff * lw[k], -clip), clip)
                C[c, k] = lc[k] - g * t
                GC[c, k] = v + g * g
            bw[r] -= fdiff / np.sqrt(gbw[r])
            bc[c] -= fdiff / np.sqrt(gbc[c])
            gbw[r] += fdiff * fdiff
            gbc[c] += fdiff * fdiff
    return cost, bad


# ---- orchestration --------------------------------------------------------------------------
def _check(name, value, ok, what):
    if not ok:
        raise WordvecError(f"{name} must be {what} (got {value!r})")


def _validate(dim, window, x_max, power, alpha, epochs, threads, vectors, memory_gb):
    _check("dim", dim, isinstance(dim, (int, np.integer)) and dim >= 1, "a positive integer")
    _check("window", window, isinstance(window, (int, np.integer)) and window >= 1,
           "a positive integer")
    _check("x_max", x_max, x_max > 0, "positive")
    _check("power", power, power > 0, "positive")
    _check("alpha", alpha, alpha > 0, "positive")
    _check("epochs", epochs, isinstance(epochs, (int, np.integer)) and epochs >= 1,
           "a positive integer")
    _check("threads", threads, threads is None or (isinstance(threads, (int, np.integer))
                                                    and threads >= 1), "a positive integer")
    _check("vectors", vectors, vectors in VECTOR_MODES, "one of " + ", ".join(VECTOR_MODES))
    _check("memory", memory_gb, memory_gb > 0, "a positive number of GB")


def _entries(matrix):
    """CSR -> (rows int32, cols int32, vals float32) of the positive entries.

    ``matrix`` has been checked (:func:`wordvec.cooccur_file.validate_cooccurrence`): the kernels
    index the vectors with these rows and columns unchecked.
    """
    m = matrix.tocsr()
    if m.shape[0] >= 2**31:
        raise WordvecError(f"a vocabulary of {m.shape[0]:,} words is too large for GloVe")
    counts = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), counts)
    cols = m.indices.astype(np.int32, copy=True)
    vals = m.data.astype(np.float32)
    keep = vals > 0
    if not keep.all():
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    return rows, cols, vals


def train_glove(corpus, *, progress=True, cooccur=None, dim=100, window=10, symmetric=True,
                x_max=100.0, power=0.75, alpha=0.05, epochs=25, threads=None, seed=1,
                vectors="sum", memory_gb=4.0, distance_weighting=True, tmpdir=None):
    """Train GloVe vectors on an EncodedCorpus, or on a saved co-occurrence ``.npz``.

    ``cooccur`` names a file written by ``wordvec cooccur``, or is a ``(sparse matrix,
    Vocabulary)`` pair, checked like a file's contents (then ``corpus`` may be None and the
    vocabulary comes from the file; ``window``/``symmetric`` are those it was counted with).
    ``vectors``: ``"sum"`` (W + W̃, the default), ``"word"`` (W) or ``"concat"`` ([W, W̃]).
    Returns :class:`~wordvec.vectors.Vectors` with ``meta`` = kind, params, stats.
    """
    from .cooccur import count_cooccurrence
    from .cooccur_file import load_cooccurrence, validate_pair
    _validate(dim, window, x_max, power, alpha, epochs, threads, vectors, memory_gb)
    n_threads = int(threads or os.cpu_count() or 1)
    stats = {}
    t0 = time.perf_counter()
    if cooccur is not None:
        if isinstance(cooccur, (str, os.PathLike)):
            matrix, vocab, cparams = load_cooccurrence(cooccur, with_params=True)  # checked
        else:  # a (matrix, Vocabulary) pair from Python: checked as a file's would be
            matrix, vocab = validate_pair(cooccur)
            cooccur, cparams = "<in-memory matrix>", {}
        if corpus is not None and list(corpus.vocab.words) != list(vocab.words):
            raise WordvecError(f"{cooccur}: its vocabulary differs from the corpus's")
        window = cparams.get("window", window)
        symmetric = cparams.get("symmetric", symmetric)
        distance_weighting = cparams.get("distance_weighting", distance_weighting)
        stats["cooccur_file"] = os.fspath(cooccur)
        stats["load_seconds"] = round(time.perf_counter() - t0, 3)
    else:
        if corpus is None:
            raise WordvecError("GloVe needs a corpus or a co-occurrence file (--cooccur)")
        # no co-occurrence at all: fail now, not after counting
        check_trainable(corpus, "nothing to train: no co-occurrences")
        vocab = corpus.vocab
        matrix = count_cooccurrence(corpus, window=window, symmetric=symmetric,
                                    distance_weighting=distance_weighting, memory_gb=memory_gb,
                                    threads=n_threads, progress=progress, tmpdir=tmpdir)
        stats["count_seconds"] = round(time.perf_counter() - t0, 3)
        stats.update({f"count_{k}": v for k, v in getattr(matrix, "count_stats", {}).items()})
    n_words = len(vocab)
    rows, cols, vals = _entries(matrix)
    del matrix
    nnz = len(rows)
    if nnz == 0:
        raise WordvecError("no co-occurrences to train on (every sentence has a single word?)")
    stats["nonzeros"] = nnz

    t1 = time.perf_counter()
    from .rng import seed_state
    state = seed_state(seed, 0x610E)
    _shuffle(rows, cols, vals, state)
    rng = np.random.default_rng([seed, 0x610E])
    W = ((rng.random((n_words, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim))
    C = ((rng.random((n_words, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim))
    bw = ((rng.random(n_words, dtype=np.float32) - np.float32(0.5)) / np.float32(dim))
    bc = ((rng.random(n_words, dtype=np.float32) - np.float32(0.5)) / np.float32(dim))
    GW = np.ones((n_words, dim), dtype=np.float32)
    GC = np.ones((n_words, dim), dtype=np.float32)
    gbw = np.ones(n_words, dtype=np.float32)
    gbc = np.ones(n_words, dtype=np.float32)
    n_blocks = (nnz + BLOCK - 1) // BLOCK
    f32 = np.float32
    consts = (f32(x_max), f32(power), f32(alpha), f32(GRAD_CLIP))
    losses = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=epochs, unit="epoch", desc="glove", leave=False, disable=bar_disable())
    stop = threading.Event()  # set on an error or a signal: the threads end within a step

    def run(share):
        # a thread's share of an epoch in steps of STEP_BLOCKS blocks, so that a signal stops
        # the training within a fraction of a second (the same blocks in the same order)
        cost, bad = 0.0, 0
        for i in range(0, len(share), STEP_BLOCKS):
            if stop.is_set():
                break
            c, b = _epoch(rows, cols, vals, share[i:i + STEP_BLOCKS], W, C, bw, bc, GW, GC,
                          gbw, gbc, *consts)
            cost += c
            bad += b
        return cost, bad

    pool = ThreadPoolExecutor(max_workers=n_threads)
    ok = False
    try:
        for epoch in range(epochs):
            order = rng.permutation(n_blocks).astype(np.int64)
            shares = np.array_split(order, n_threads)
            results = list(pool.map(run, shares))
            cost = sum(r[0] for r in results)
            bad = sum(r[1] for r in results)
            loss = cost / nnz
            if bad or not np.isfinite(loss) or not np.isfinite(W[0, 0]):
                raise WordvecError(
                    f"GloVe diverged in epoch {epoch + 1} (loss {loss}, {bad} non-finite "
                    f"updates): lower --alpha (now {alpha}) or --x-max")
            losses.append(round(float(loss), 6))
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.5f}")
                bar.update(1)
        ok = True
    finally:
        stop.set()
        while True:  # wait for the threads (each ends within a step) before anything goes
            try:
                pool.shutdown(wait=True)
                break
            except KeyboardInterrupt:  # a second Ctrl-C: the clean-up still waits
                pass
        close_bar(bar, ok)  # after an error or a signal the message is the only line
    stats["train_seconds"] = round(time.perf_counter() - t1, 3)
    stats["loss"] = losses
    stats["threads"] = n_threads
    stats["updates"] = nnz * epochs
    if vectors == "sum":
        out = W + C
    elif vectors == "word":
        out = W
    else:
        out = np.hstack([W, C])
    params = {"dim": dim, "window": window, "symmetric": bool(symmetric),
              "distance_weighting": bool(distance_weighting), "x_max": x_max, "power": power,
              "alpha": alpha, "epochs": epochs, "seed": seed, "vectors": vectors,
              "memory_gb": memory_gb}
    meta = {"kind": "glove", "params": params, "stats": stats}
    return Vectors(vocab.words, out.astype(np.float32), counts=vocab.counts, meta=meta)
