"""GloVe (Pennington, Socher & Manning 2014): AdaGrad on weighted least squares of log counts.

For each non-zero co-occurrence ``X[i, j]`` the loss is
``f(X) (w_i · w̃_j + b_i + b̃_j − log X)²`` with ``f(x) = min(1, (x / x_max) ** power)``.
Training follows Stanford's ``glove`` tool: parameters initialised uniform in (−0.5, 0.5) / dim,
AdaGrad squared-gradient sums initialised to 1, per-coordinate gradients clipped to ±100,
initial learning rate ``alpha``, the reported loss the mean of ``0.5 f(X) diff²`` per entry.

Bounded memory, as Stanford's pipeline: the non-zeros are never held in memory. Counting
streams them (:func:`wordvec.cooccur.stream_cooccurrence`; a loaded matrix is streamed row
block by row block) into a scratch file of 12-byte records (row int32, column int32, count
float32), shuffled on the way — Stanford's ``shuffle`` step — in two passes holding one bucket
at a time (:class:`_Entries`). Each epoch then visits jobs of ``STEP_BLOCKS`` blocks of
records in a fresh random order, on the shared job runner (:func:`wordvec.training.run_jobs`):
a job reads its records from the file into its thread's buffer (the operating system's page
cache keeps the file, not this process) and trains on them; threads update the shared
parameters without locks (Hogwild), each in a Numba ``nogil`` kernel, and an epoch starts when
the last one has ended. Training holds the parameters and one buffer per thread.
"""

import math
import os
import shutil
import tempfile
import time

import numpy as np
from numba import njit

from . import diskio
from . import scratch as scratch_names
from .errors import WordvecError
from .model import Model
from .params import GLOVE
from .prefetch import prefetch_row
from .rng import next_u53
from .training import check_trainable
from .vectors import Vectors

BLOCK = 1 << 14  # entries per shuffled block
STEP_BLOCKS = 32  # blocks per kernel call (a signal stops the threads within one call)
RECORD = 12  # bytes per non-zero in the scratch file: row int32, column int32, count float32
BUCKET_BYTES = 64 << 20  # the shuffle holds one bucket of about this size at a time
MATRIX_BATCH = 1 << 20  # non-zeros of a loaded matrix streamed at a time
SCRATCH_PREFIX = "wordvec-glove-"
SCRATCH_PATTERN = SCRATCH_PREFIX + "{tag}-[A-Za-z0-9_]+"  # for scratch.clean_stale
GRAD_CLIP = 100.0
AHEAD = 4  # entries ahead whose rows are prefetched
_MAGIC = np.int32(0x5F3759DF)
# fast-math without "no NaNs / no infinities", so the divergence guard (isfinite) stays
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


# ---- kernels ----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _shuffle(rec, state):
    """Fisher–Yates shuffle of the records (rows of ``rec``), random stream ``state``."""
    for i in range(rec.shape[0] - 1, 0, -1):
        j = np.int64(next_u53(state) % np.uint64(i + 1))
        for k in range(rec.shape[1]):
            rec[i, k], rec[j, k] = rec[j, k], rec[i, k]


@njit(cache=True, nogil=True)
def _scatter(rows, cols, vals, n_buckets, state, out, counts):
    """Records of the entries grouped by a bucket drawn uniformly for each; bucket sizes in
    ``counts``. ``out`` is (n, 3) int32: row, column, the count's float32 bits."""
    n = rows.shape[0]
    pick = np.empty(n, dtype=np.int32)
    counts[:] = 0
    for e in range(n):
        b = np.int32(next_u53(state) % np.uint64(n_buckets))
        pick[e] = b
        counts[b] += 1
    at = np.zeros(n_buckets, dtype=np.int64)
    for b in range(1, n_buckets):
        at[b] = at[b - 1] + counts[b - 1]
    bits = vals.view(np.int32)
    for e in range(n):
        b = pick[e]
        i = at[b]
        out[i, 0] = rows[e]
        out[i, 1] = cols[e]
        out[i, 2] = bits[e]
        at[b] = i + 1


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _epoch(rows, cols, vals, W, C, bw, bc, GW, GC, gbw, gbc, x_max, power, eta, clip):
    """One job: train on the entries ``(rows[e], cols[e], vals[e])``; returns (cost sum, count
    of non-finite updates skipped, count of entries whose row or column is out of range).

    AdaGrad's 1/sqrt(gradsq) comes from the bit-level initial guess plus two Newton steps
    (relative error ~5e-6), which vectorises where sqrt-and-divide does not. Rows are indexed
    in place (``W[r, k]``), never taken as views: a view per entry costs reference counting
    that two threads then fight over.

    As Stanford's ``glove`` since v0.2 (2019): a vector's gradient is clipped to ``clip``, then
    scaled by ``eta``; a bias takes the unscaled weighted error ``fx * diff`` over the root of
    its own AdaGrad sum (GloVe 1.0 scaled it by ``eta`` too, moving the biases ~20x slower).
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
    outside = 0
    one = np.float32(1.0)
    ce = clip * eta
    n_words = W.shape[0]
    for e in range(n):
        if e + AHEAD < n:  # start fetching a later entry's rows: random reads, memory-bound
            ra = rows[e + AHEAD]
            ca = cols[e + AHEAD]
            if ra >= 0 and ra < n_words and ca >= 0 and ca < n_words:
                prefetch_row(W, ra)
                prefetch_row(GW, ra)
                prefetch_row(C, ca)
                prefetch_row(GC, ca)
        r = rows[e]
        c = cols[e]
        x = vals[e]
        if r < 0 or r >= n_words or c < 0 or c >= n_words:  # the records come from disk
            outside += 1
            continue
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
        fe = fdiff * eta  # clip(g, +-clip) * eta == clip(g * eta, +-clip * eta): one multiply
        for k in range(dim):
            yw[k] = _MAGIC - (GWi[r, k] >> 1)
            yc[k] = _MAGIC - (GCi[c, k] >> 1)
        for k in range(dim):
            v = GW[r, k]
            t = fw[k]
            t = t * (three_halves - half * v * t * t)
            t = t * (three_halves - half * v * t * t)
            g = min(max(fe * lc[k], -ce), ce)
            W[r, k] = lw[k] - g * t
            GW[r, k] = v + g * g
        for k in range(dim):
            v = GC[c, k]
            t = fc[k]
            t = t * (three_halves - half * v * t * t)
            t = t * (three_halves - half * v * t * t)
            g = min(max(fe * lw[k], -ce), ce)
            C[c, k] = lc[k] - g * t
            GC[c, k] = v + g * g
        bw[r] -= fdiff / np.sqrt(gbw[r])
        bc[c] -= fdiff / np.sqrt(gbc[c])
        gbw[r] += fdiff * fdiff
        gbc[c] += fdiff * fdiff
    return cost, bad, outside


# ---- the model ------------------------------------------------------------------------------
class _Entries:
    """The non-zeros, shuffled, in a private scratch file of 12-byte records.

    Two passes in bounded memory: each batch handed to :meth:`add` is split among ``K`` bucket
    files, a bucket drawn uniformly at random for every entry (``K`` from the bound given to
    :meth:`start`, so that a bucket is about ``BUCKET_BYTES``); :meth:`finish` then loads one
    bucket at a time, shuffles it (Fisher–Yates) and appends it to ``entries.bin``, deleting the
    bucket. Together that is a uniformly random order of all entries (for the seed's stream),
    holding one batch or one bucket in memory. The folder (in ``TMPDIR``, private, named with
    the owner tag so a later run removes it if this process is killed) goes with :meth:`close`.
    """

    def __init__(self, state, tmpdir=None):
        tmp = tmpdir or tempfile.gettempdir()
        scratch_names.clean_stale(tmp, SCRATCH_PATTERN)
        self.hint = diskio.scratch_hint(tmp)
        self.folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{scratch_names.tag()}-", dir=tmp)
        self.path = os.path.join(self.folder, "entries.bin")
        self.state = state
        self.n = 0
        self.sizes = None
        self._out = None

    def start(self, bound):
        k = max(1, math.ceil(bound * RECORD / BUCKET_BYTES))
        self.sizes = np.zeros(k, dtype=np.int64)
        self._counts = np.zeros(k, dtype=np.int64)

    def _bucket(self, b):
        return os.path.join(self.folder, f"bucket{b}.bin")

    def add(self, rows, cols, vals):
        n, k = len(rows), len(self.sizes)
        if self._out is None or len(self._out) < n:
            self._out = np.empty((n, 3), dtype=np.int32)
        out = self._out[:n]
        _scatter(rows, cols, vals, k, self.state, out, self._counts)
        at = 0
        with diskio.writing(f"the shuffled co-occurrences in {self.folder}", self.hint):
            for b, m in enumerate(self._counts.tolist()):
                if m:
                    with open(self._bucket(b), "ab") as f:
                        out[at:at + m].tofile(f)
                    at += m
        self.sizes += self._counts
        self.n += n

    def finish(self):
        """Shuffle each bucket into ``entries.bin``; returns the number of entries."""
        self._out = None
        with diskio.writing(f"the shuffled co-occurrences in {self.folder}", self.hint):
            with open(self.path, "wb") as dst:
                for b, m in enumerate(self.sizes.tolist()):
                    if not m:
                        continue
                    rec = np.fromfile(self._bucket(b), dtype=np.int32)
                    if rec.shape[0] != 3 * m:
                        raise WordvecError(f"{self._bucket(b)}: scratch file changed under us")
                    rec = rec.reshape(m, 3)
                    _shuffle(rec, self.state)
                    rec.tofile(dst)
                    del rec
                    os.remove(self._bucket(b))
        if os.path.getsize(self.path) != self.n * RECORD:
            raise WordvecError(f"{self.path}: scratch file changed under us")
        return self.n

    def reader(self):
        """A new unbuffered handle on ``entries.bin`` (one per thread: each seeks its own)."""
        return open(self.path, "rb", buffering=0)

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def _stream_matrix(matrix, sink):
    """Hand a CSR matrix's positive entries to ``sink`` a block of rows at a time.

    ``matrix`` has been checked (:func:`wordvec.cooccur_file.validate_cooccurrence`).
    """
    m = matrix.tocsr()
    if m.shape[0] >= 2**31:
        raise WordvecError(f"a vocabulary of {m.shape[0]:,} words is too large for GloVe")
    sink.start(m.nnz)
    indptr = m.indptr
    r = 0
    while r < m.shape[0]:
        # the rows from r whose entries fit in a batch (at least one row)
        end = int(np.searchsorted(indptr, indptr[r] + MATRIX_BATCH, side="right")) - 1
        end = min(max(end, r + 1), m.shape[0])
        lo, hi = int(indptr[r]), int(indptr[end])
        rows = np.repeat(np.arange(r, end, dtype=np.int32), np.diff(indptr[r:end + 1]))
        cols = m.indices[lo:hi].astype(np.int32)
        vals = m.data[lo:hi].astype(np.float32)
        keep = vals > 0
        if not keep.all():
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        if len(rows):
            sink.add(rows, cols, vals)
        r = end


def init_state(n, dim, seed):
    """The state GloVe starts from for ``n`` words: ``(W, C, bw, bc, GW, GC, gbw, gbc)``, the
    parameters uniform in (-0.5, 0.5) / dim and the AdaGrad sums 1, as Stanford's ``glove``
    (one machine and the cluster, :mod:`wordvec.distributed_glove`, start alike)."""
    rng = np.random.default_rng([seed, 0x610E])
    W, C = _uniform(rng, (n, dim), dim), _uniform(rng, (n, dim), dim)
    bw, bc = _uniform(rng, n, dim), _uniform(rng, n, dim)
    GW, GC = np.ones((n, dim), np.float32), np.ones((n, dim), np.float32)
    return W, C, bw, bc, GW, GC, np.ones(n, np.float32), np.ones(n, np.float32)


def kernel_constants(p):
    """The constants :func:`_epoch` takes after the state: x_max, power, eta (alpha), clip."""
    f32 = np.float32
    return f32(p["x_max"]), f32(p["power"]), f32(p["alpha"]), f32(GRAD_CLIP)


def check_job(cost, bad, outside, alpha, where):
    """Raise for what :func:`_epoch` reports: entries outside the vocabulary (``where`` names
    their source) or non-finite updates (divergence)."""
    if outside:
        raise WordvecError(f"{where} holds {outside:,} entries outside the vocabulary "
                           "(changed under us?)")
    if bad or not np.isfinite(cost):
        raise WordvecError(f"GloVe diverged ({bad:,} non-finite updates): lower --alpha "
                           f"(now {alpha}) or --x-max")


def _uniform(rng, shape, dim):
    a = rng.random(shape, dtype=np.float32)  # in place: no temporary copies
    a -= np.float32(0.5)
    a /= np.float32(dim)
    return a


class GloVe(Model):
    """GloVe: co-occurrence counts (of a corpus, or a saved ``cooccur`` matrix) fitted by AdaGrad.

    State: word and context vectors ``W``, ``C``, biases ``bw``, ``bc`` and their AdaGrad sums
    of squared gradients ``GW``, ``GC``, ``gbw``, ``gbc`` (all saved, so training continues
    with its accumulators). Continuing counts the new text's co-occurrences and fits them.
    Each epoch visits jobs of ``STEP_BLOCKS`` blocks of the (once shuffled) non-zeros in a fresh
    random order, on the shared job runner (:func:`wordvec.training.run_jobs`), reading them
    from the scratch file (:class:`_Entries`), which is removed when training ends.
    """

    schema = GLOVE
    family = "glove"
    state = ("W", "C", "bw", "bc", "GW", "GC", "gbw", "gbc")

    def _init_state(self, enc):
        p = self.params
        self._matrix = None
        if p["cooccur"] is not None:
            self._matrix = self._load_matrix(enc)
            self.vocab = self._matrix[1]
        elif enc is None:
            raise WordvecError("GloVe needs a corpus or a co-occurrence file (--cooccur)")
        else:  # no co-occurrence at all: fail now, not after counting
            check_trainable(enc, "nothing to train: no co-occurrences")
        for name, a in zip(self.state, init_state(len(self.vocab), p["dim"], p["seed"])):
            setattr(self, name, a)

    def _grow(self, n_old):
        p, n = self.params, len(self.vocab)
        rng = np.random.default_rng([p["seed"], 0x610E, self.runs, n_old])
        k, dim = n - n_old, p["dim"]
        self.W = np.concatenate([self.W, _uniform(rng, (k, dim), dim)])
        self.C = np.concatenate([self.C, _uniform(rng, (k, dim), dim)])
        self.bw = np.concatenate([self.bw, _uniform(rng, k, dim)])
        self.bc = np.concatenate([self.bc, _uniform(rng, k, dim)])
        for name in ("GW", "GC", "gbw", "gbc"):
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.ones((k,) + a.shape[1:], np.float32)]))

    def _load_matrix(self, enc):
        from .cooccur_file import load_cooccurrence, validate_pair
        cooccur = self.params["cooccur"]
        t0 = time.perf_counter()
        if isinstance(cooccur, (str, os.PathLike)):
            matrix, vocab, cparams = load_cooccurrence(cooccur, with_params=True)  # checked
        else:  # a (matrix, Vocabulary) pair from Python: checked as a file's would be
            matrix, vocab = validate_pair(cooccur)
            cooccur, cparams = "<in-memory matrix>", {}
        if enc is not None and list(enc.vocab.words) != list(vocab.words):
            raise WordvecError(f"{cooccur}: its vocabulary differs from the corpus's")
        for key in ("window", "symmetric", "distance_weighting"):
            if key in cparams:
                self.params[key] = cparams[key]
        return matrix, vocab, {"cooccur_file": os.fspath(cooccur),
                               "load_seconds": round(time.perf_counter() - t0, 3)}

    def _setup(self, enc, epochs):
        from .cooccur import stream_cooccurrence
        from .training import Plan
        p = self.params
        t0 = time.perf_counter()
        matrix = getattr(self, "_matrix", None)
        self._matrix = None
        if matrix is None and p["cooccur"] is not None:
            matrix = self._load_matrix(None)
        if matrix is not None:
            matrix, vocab, stats = matrix
            if list(vocab.words) != list(self.vocab.words):
                raise WordvecError("the co-occurrence matrix's vocabulary differs from the model's")
        from .rng import seed_state
        entries = self._entries = _Entries(
            seed_state(p["seed"], 0x610E, *([self.runs] if self.runs else [])))
        counting = matrix is None
        if not counting:
            _stream_matrix(matrix, entries)
            del matrix
        else:
            stats = {}
            check_trainable(enc, "nothing to train: no co-occurrences")
            counted = stream_cooccurrence(enc, entries, window=p["window"],
                                          symmetric=p["symmetric"],
                                          distance_weighting=p["distance_weighting"],
                                          memory_gb=p["memory_gb"], threads=p["threads"],
                                          progress=self._progress)
            stats.update({f"count_{k}": v for k, v in counted.items() if k != "nonzeros"})
        nnz = entries.finish()
        if counting:
            stats["count_seconds"] = round(time.perf_counter() - t0, 3)
        if nnz == 0:
            raise WordvecError("no co-occurrences to train on (every sentence has a single word?)")
        stats["nonzeros"] = nnz
        self._setup_stats = stats
        n_blocks = (nnz + BLOCK - 1) // BLOCK
        bounds = np.append(np.arange(0, n_blocks, STEP_BLOCKS), n_blocks).astype(np.int64)
        sizes = np.minimum(bounds[1:] * BLOCK, nnz) - bounds[:-1] * BLOCK
        seed, runs, n_jobs = p["seed"], self.runs, len(bounds) - 1

        def order(epoch):
            return np.random.default_rng([seed, 0x610E, runs, epoch]).permutation(n_jobs)

        consts = kernel_constants(p)
        W, C, bw, bc, GW, GC, gbw, gbc = (getattr(self, k) for k in self.state)
        alpha = p["alpha"]
        readers = self._readers = {}  # slot -> (file, record buffer): one per thread
        job_records = STEP_BLOCKS * BLOCK

        def job(first, last, rng, progress, slot, schedule):
            if slot not in readers:
                readers[slot] = (entries.reader(), np.empty((job_records, 3), dtype=np.int32))
            f, buf = readers[slot]
            n = min(last * BLOCK, nnz) - first * BLOCK
            rec = buf[:n]
            diskio.read_exactly(f, first * BLOCK * RECORD, rec, f"scratch file {entries.path}")
            vals = rec.view(np.float32)[:, 2]
            cost, bad, outside = _epoch(rec[:, 0], rec[:, 1], vals, W, C, bw, bc, GW, GC, gbw,
                                        gbc, *consts)
            check_job(cost, bad, outside, alpha, "the shuffled co-occurrence scratch file")
            progress[slot] += n
            return cost, n, n, n

        return job, None, {"alpha": alpha, "min_alpha": alpha, "weights": (W, C),
                           "desc": "glove", "plan": Plan(bounds, sizes, order), "unit": "pair",
                           "epoch_barrier": True}

    def _run(self, enc, epochs, *, progress, checkpoint, phase, corpus):
        self._progress = progress
        self._entries, self._readers = None, {}
        try:
            stats = super()._run(enc, epochs, progress=progress, checkpoint=checkpoint,
                                 phase=phase, corpus=corpus)
        finally:
            for f, _ in self._readers.values():
                f.close()
            self._readers = {}
            if self._entries is not None:
                self._entries.close()
                self._entries = None
        stats.update(self._setup_stats)
        stats["loss"] = stats["loss_per_epoch"]
        stats["train_seconds"] = stats["wall_seconds"]
        stats["updates"] = stats["words"]
        return stats

    def _vectors(self):
        mode = self.params["vectors"]
        out = (self.W + self.C if mode == "sum" else self.W if mode == "word"
               else np.hstack([self.W, self.C]))
        return Vectors(self.vocab.words, out.astype(np.float32), counts=self.vocab.counts)

    def _state_arrays(self):
        return {name: getattr(self, name) for name in self.state}

    def _from_saved(self, vectors, arrays, header):
        missing = [k for k in self.state if k not in arrays]
        if missing:
            raise WordvecError("it holds GloVe's vectors but not its training state (saved by "
                               "wordvec 0.1?): it can be queried, not trained further")
        n, dim = len(vectors), self.params["dim"]
        for name in self.state:
            a = arrays[name]
            want = (n, dim) if name in ("W", "C", "GW", "GC") else (n,)
            if a.shape != want or a.dtype.kind != "f":
                raise WordvecError(f"{name}.npy of shape {a.shape} does not fit {n} words x "
                                   f"{dim} dims")
            setattr(self, name, np.array(a, dtype=np.float32))


def train_glove(corpus, *, progress=True, cooccur=None, **params):
    """Train GloVe vectors on an EncodedCorpus, or on a saved co-occurrence ``.npz``.

    ``cooccur`` names a file written by ``wordvec cooccur``, or is a ``(sparse matrix,
    Vocabulary)`` pair, checked like a file's contents (then ``corpus`` may be None and the
    vocabulary comes from the file; ``window``/``symmetric`` are those it was counted with).
    ``vectors``: ``"sum"`` (W + W̃, the default), ``"word"`` (W) or ``"concat"`` ([W, W̃]).
    Parameters: :data:`wordvec.params.GLOVE`. Returns :class:`~wordvec.vectors.Vectors` with
    ``meta`` = kind, params, stats.
    """
    if corpus is None and cooccur is None:
        raise WordvecError("GloVe needs a corpus or a co-occurrence file (--cooccur)")
    model = GloVe(cooccur=cooccur, **params)
    model.fit(corpus if cooccur is None else None, progress=progress)
    if cooccur is not None and corpus is not None and model.vocab.words != corpus.vocab.words:
        raise WordvecError(f"{cooccur}: its vocabulary differs from the corpus's")
    return model.wv
