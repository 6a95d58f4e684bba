"""Sentence and document vectors from word vectors: the mean, and SIF.

One text is one line. Its words are its whitespace-separated tokens (``str.split``; with
``lowercase``, of the lowercased line). A word without a vector is skipped (a fastText model
builds vectors for unseen words from their character n-grams, so few are); a text left with no
word gets a zero vector, and :attr:`SentenceEncoder.empty` lists it.

- ``mean``: the average of the text's word vectors. With ``unit``, the average of their unit
  vectors, words of zero norm skipped: fastText's ``print-sentence-vectors`` (and
  ``get_sentence_vector`` of its Python module) for an unsupervised model.
- ``sif``: smooth inverse frequency (Arora, Liang & Ma 2017, "A Simple but Tough-to-Beat
  Baseline for Sentence Embeddings"): each word vector weighted by ``a / (a + p(w))``, ``p(w)``
  the word's share of the model's word counts (0 for a word outside the vocabulary, so weight
  1), summed and divided by the number of words; then the projection on the first singular
  vector ``u`` of the matrix of all the collection's text vectors is removed: ``v - (u . v) u``.
  ``u`` is fitted once, on the collection (:meth:`SentenceEncoder.fit`), and kept, so a query is
  embedded exactly as the texts were. It is the top eigenvector of ``X^T X`` (no centring, as
  the paper's reference code's truncated SVD), summed in float64 block by block, so the
  collection never needs to fit in memory; its sign is fixed (largest component positive).

Text vectors are written as ``.npy`` files, one float32 row per line of the input, in order
(:func:`write_npy`); rows are produced block by block, so memory stays bounded however many
texts there are.
"""

from __future__ import annotations

import io
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from .errors import WordvecError
from .vectors import Vectors

METHODS = ("mean", "sif")
DEFAULT_SIF_A = 1e-3
BLOCK_LINES = 1 << 15  # texts embedded per kernel call
_NO_VECTOR = -1


# ---- kernel ----------------------------------------------------------------------------------
@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _weighted_means(M, X, scale, skip, ids, starts, out, used):
    """out[t] = mean over the usable words i of text t of scale[i] * row(i), where row(i) is
    M[i] for i < len(M), else X[i - len(M)] (vectors built for unseen words); ids < 0 and
    words with skip[i] are left out. used[t] = how many words were averaged."""
    V = M.shape[0]
    d = M.shape[1]
    for t in prange(starts.shape[0] - 1):
        o = out[t]
        for k in range(d):
            o[k] = 0.0
        c = 0
        for j in range(starts[t], starts[t + 1]):
            i = ids[j]
            if i < 0 or skip[i]:
                continue
            w = scale[i]
            row = M[i] if i < V else X[i - V]
            for k in range(d):
                o[k] += w * row[k]
            c += 1
        if c > 0:
            inv = np.float32(1.0 / c)
            for k in range(d):
                o[k] *= inv
        used[t] = c


# ---- reading texts ---------------------------------------------------------------------------
def iter_text_lines(source, lowercase=False):
    """Yield the lines of ``source`` (a path, ``-`` for stdin, or an iterable of str) without
    their line ends. Files are read as UTF-8 (invalid bytes become U+FFFD, as corpora are read);
    a NUL byte means a binary file and is refused."""
    if not isinstance(source, (str, os.PathLike)):
        for n, text in enumerate(source, 1):
            if not isinstance(text, str):
                raise WordvecError(f"text {n} is a {type(text).__name__}, not a str")
            yield text.lower() if lowercase else text
        return
    path = os.fspath(source)
    from .corpus import _OPENERS, _read_error
    if path != "-" and not os.path.isfile(path):
        raise WordvecError(f"no such file of texts: {path!r}")
    try:
        if path == "-":
            raw = sys.stdin.buffer
        else:
            ext = os.path.splitext(path)[1].lower()
            raw = _OPENERS.get(ext, open)(path, "rb")
    except OSError as e:
        raise WordvecError(_read_error(path, e)) from None
    try:
        n = 0
        while True:
            try:
                line = raw.readline()
            except (OSError, EOFError, ValueError) as e:
                raise WordvecError(_read_error(path, e)) from None
            except Exception as e:  # lzma / zlib / bz2 errors of a corrupt compressed file
                raise WordvecError(_read_error(path, e)) from None
            if not line:
                break
            n += 1
            if b"\x00" in line:
                raise WordvecError(f"{path}:{n}: a NUL byte: a binary file, not text")
            text = line.decode("utf-8", "replace").rstrip("\n").removesuffix("\r")
            yield text.lower() if lowercase else text
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _blocks(lines, size=BLOCK_LINES):
    block = []
    for line in lines:
        block.append(line)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


class _Ids(dict):
    """word -> row; a word seen for the first time that is not in the vocabulary gets the next
    extra row if a vector can be built for it (fastText), else -1."""

    def __init__(self, vectors):
        super().__init__(vectors.index)
        self.vectors = vectors
        self.extra_words = []
        self.base = len(vectors)
        self.builds = type(vectors).oov_vector is not Vectors.oov_vector  # fastText builds them

    def __missing__(self, word):
        i = _NO_VECTOR
        if self.builds:
            try:
                self.vectors.oov_vector(word)
            except KeyError:
                pass
            else:
                i = self.base + len(self.extra_words)
                self.extra_words.append(word)
        self[word] = i
        return i


# ---- the encoder -----------------------------------------------------------------------------
@dataclass
class SentenceEncoder:
    """Turns texts into vectors with a model's word vectors (see the module's description).

    ``counts`` (for ``sif``): the words' corpus counts, aligned with ``vectors.words``; by default
    the model's own (native and fastText models carry them; word2vec and GloVe text files do not:
    pass a :class:`wordvec.vocab.Vocabulary` or ``{word: count}``).
    """

    vectors: object
    method: str = "mean"
    unit: bool = False
    sif_a: float = DEFAULT_SIF_A
    lowercase: bool = False
    counts: object = None
    component: np.ndarray | None = None
    empty: list = field(default_factory=list)  # texts (0-based) of the last call with no vector
    texts: int = 0  # how many texts the last call embedded

    def __post_init__(self):
        if self.method not in METHODS:
            raise WordvecError(f"unknown method {self.method!r}: choose one of {', '.join(METHODS)}")
        if not (isinstance(self.sif_a, (int, float)) and math.isfinite(self.sif_a) and self.sif_a > 0):
            raise WordvecError(f"sif_a must be a positive number (got {self.sif_a!r})")
        if self.method == "sif" and self.unit:
            raise WordvecError("unit word vectors are an option of the mean, not of sif")
        if self.component is not None:
            c = np.asarray(self.component, dtype=np.float64)
            if c.shape != (self.vectors.dim,) or not np.all(np.isfinite(c)):
                raise WordvecError(f"the fitted component must be {self.vectors.dim} finite numbers")
            self.component = c
        self._ids = _Ids(self.vectors)
        self._scale, self._skip = self._word_weights()
        self._extra = np.zeros((0, self.vectors.dim), dtype=np.float32)

    @property
    def dim(self):
        return self.vectors.dim

    @property
    def fitted(self):
        return self.method != "sif" or self.component is not None

    # ---- weights -----------------------------------------------------------------------------
    def _word_weights(self):
        V = len(self.vectors)
        m = self.vectors.matrix
        if self.unit:
            norms = np.empty(V, dtype=np.float64)
            for s in range(0, V, 1 << 16):
                b = np.asarray(m[s:s + (1 << 16)], dtype=np.float64)
                norms[s:s + len(b)] = np.sqrt((b * b).sum(axis=1))
            skip = norms == 0
            scale = np.where(skip, 0.0, 1.0 / np.where(skip, 1.0, norms))
            return scale.astype(np.float32), skip
        skip = np.zeros(V, dtype=np.bool_)
        if self.method == "mean":
            return np.ones(V, dtype=np.float32), skip
        counts = self._model_counts()
        total = float(counts.sum())
        if total <= 0:
            raise WordvecError("sif needs word counts, and this model's counts add up to 0")
        p = counts / total
        return (self.sif_a / (self.sif_a + p)).astype(np.float32), skip

    def _model_counts(self):
        V = len(self.vectors)
        c = self.counts
        if c is None:
            c = self.vectors.counts
            if c is None:
                raise WordvecError("sif weighs words by their frequency, and this model has no word "
                                   "counts (word2vec and GloVe text files carry none): pass the "
                                   "vocabulary with its counts (--counts FILE: 'word count' lines)")
            return np.asarray(c, dtype=np.float64)
        if isinstance(c, (str, os.PathLike)):
            from .vocab import Vocabulary
            c = Vocabulary.load(c)
        if hasattr(c, "words") and hasattr(c, "counts"):
            c = dict(zip(c.words, np.asarray(c.counts).tolist()))
        if isinstance(c, dict):
            out = np.zeros(V, dtype=np.float64)
            found = 0
            for w, i in self.vectors.index.items():
                n = c.get(w)
                if n is not None:
                    out[i] = n
                    found += 1
            if not found:
                raise WordvecError("none of the model's words has a count in the counts given")
            return out
        c = np.asarray(c, dtype=np.float64)
        if c.shape != (V,) or not np.all(np.isfinite(c)) or np.any(c < 0):
            raise WordvecError(f"counts: expected {V:,} counts >= 0, one per word of the model")
        return c

    # ---- embedding ---------------------------------------------------------------------------
    def _raw_block(self, block):
        """Weighted means of a block of texts (before any component removal), and the number of
        words each averaged."""
        ids_of = self._ids.__getitem__
        starts = np.zeros(len(block) + 1, dtype=np.int64)
        flat = []
        for t, text in enumerate(block):
            toks = text.lower().split() if self.lowercase else text.split()
            flat.extend(map(ids_of, toks))
            starts[t + 1] = len(flat)
        self._grow_extra()
        ids = np.asarray(flat, dtype=np.int64) if flat else np.zeros(0, dtype=np.int64)
        out = np.empty((len(block), self.dim), dtype=np.float32)
        used = np.zeros(len(block), dtype=np.int64)
        m = self.vectors.matrix
        if isinstance(m, np.memmap) or not m.flags.c_contiguous or m.dtype != np.float32:
            m = np.ascontiguousarray(m, dtype=np.float32)
        _weighted_means(m, self._extra, self._scale, self._skip, ids, starts, out, used)
        return out, used

    def _grow_extra(self):
        """Vectors (and weights) for the unseen words met so far, built by the model."""
        have = len(self._extra)
        new = self._ids.extra_words[have:]
        if not new:
            return
        rows = np.stack([np.asarray(self.vectors.oov_vector(w), dtype=np.float32) for w in new])
        self._extra = np.concatenate([self._extra, rows])
        if self.unit:
            norms = np.linalg.norm(rows.astype(np.float64), axis=1)
            skip = norms == 0
            scale = np.where(skip, 0.0, 1.0 / np.where(skip, 1.0, norms)).astype(np.float32)
        else:
            skip = np.zeros(len(new), dtype=np.bool_)
            scale = np.ones(len(new), dtype=np.float32)  # mean: 1; sif: a / (a + 0) = 1
        self._scale = np.concatenate([self._scale, scale])
        self._skip = np.concatenate([self._skip, skip])

    def iter_blocks(self, texts, *, fit_gram=None):
        """Yield ``(block_vectors, used)`` for blocks of texts, the component (if fitted) removed.
        With ``fit_gram`` (a float64 ``dim x dim`` array), add each block's ``X^T X`` to it
        before removal (the statistics :meth:`fit` needs)."""
        self.empty = []
        self.texts = 0
        for block in _blocks(iter_text_lines(texts) if isinstance(texts, (str, os.PathLike))
                             else texts):
            out, used = self._raw_block(block)
            if fit_gram is not None:
                x = out.astype(np.float64)
                fit_gram += x.T @ x
            if self.component is not None:
                remove_component(out, self.component)
            self.empty.extend((np.flatnonzero(used == 0) + self.texts).tolist())
            self.texts += len(block)
            yield out, used

    def fit(self, texts):
        """Fit what the method needs on a collection (``sif``: its first singular vector)."""
        if self.method != "sif":
            return self
        self.component = None
        gram = np.zeros((self.dim, self.dim), dtype=np.float64)
        for _ in self.iter_blocks(texts, fit_gram=gram):
            pass
        self.component = top_direction(gram)
        return self

    def transform(self, texts):
        """The vectors of ``texts`` (an iterable of str, or a path to one-text-a-line file) as a
        float32 array; :attr:`empty` lists the texts that had no word with a vector."""
        if not self.fitted:
            raise WordvecError("sif must be fitted on a collection first (fit or fit_transform)")
        parts = [out for out, _ in self.iter_blocks(texts)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def fit_transform(self, texts):
        """Fit on ``texts`` and return their vectors. For ``sif``, the whole collection is held
        once in memory (use :func:`write_npy` for collections larger than memory)."""
        if self.method != "sif":
            return self.transform(texts)
        if isinstance(texts, (str, os.PathLike)):
            self.fit(texts)
            return self.transform(texts)
        texts = list(texts)
        self.component = None
        gram = np.zeros((self.dim, self.dim), dtype=np.float64)
        parts = [out for out, _ in self.iter_blocks(texts, fit_gram=gram)]
        self.component = top_direction(gram)
        X = np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)
        remove_component(X, self.component)
        return X

    # ---- state ---------------------------------------------------------------------------------
    def state(self):
        """What embeds a query the way the collection was embedded (JSON-ready)."""
        return {"method": self.method, "unit": self.unit, "sif_a": self.sif_a,
                "lowercase": self.lowercase,
                "component": None if self.component is None else [float(x) for x in self.component]}

    @classmethod
    def from_state(cls, vectors, state, counts=None):
        try:
            return cls(vectors, method=state["method"], unit=bool(state["unit"]),
                       sif_a=float(state["sif_a"]), lowercase=bool(state["lowercase"]),
                       counts=counts, component=state["component"])
        except (KeyError, TypeError, ValueError) as e:
            raise WordvecError(f"the stored sentence-vector settings are damaged ({e})") from None


def remove_component(X, u):
    """``X -= (X @ u) u^T`` in place (float32 rows, float64 ``u``), block by block."""
    u32 = np.asarray(u, dtype=np.float32)
    for s in range(0, len(X), 1 << 16):
        b = X[s:s + (1 << 16)]
        b -= np.outer(b @ u32, u32)
    return X


def top_direction(gram):
    """The unit eigenvector of the largest eigenvalue of the symmetric ``gram`` (``X^T X``),
    its sign fixed so that its largest-magnitude component is positive; zeros if ``gram`` is 0."""
    d = gram.shape[0]
    if not np.any(gram):
        return np.zeros(d)
    vals, vecs = np.linalg.eigh(gram)
    u = vecs[:, -1].copy()
    if u[int(np.argmax(np.abs(u)))] < 0:
        u = -u
    return u


def embed(vectors, texts, method="mean", *, unit=False, sif_a=DEFAULT_SIF_A, lowercase=False,
          counts=None):
    """The vectors of ``texts`` (a list of str, or a one-text-a-line file) as a float32 array of
    one row per text: ``method`` ``mean`` (``unit``: of unit word vectors, as fastText) or
    ``sif``, fitted on these texts. A text with no word that has a vector gets a zero row.
    ``vectors`` may be a path (anything ``wordvec.load`` reads)."""
    if isinstance(vectors, (str, os.PathLike)):
        from .formats import load_vectors
        vectors = load_vectors(vectors)
    return SentenceEncoder(vectors, method=method, unit=unit, sif_a=sif_a, lowercase=lowercase,
                           counts=counts).fit_transform(texts)


# ---- .npy files written block by block ------------------------------------------------------
_HEADER_BYTES = 128
_REWRITE_BYTES = 1 << 24  # rows re-read at once by the in-place SIF pass


def _npy_header(rows, dim):
    """A version 1.0 ``.npy`` header of exactly :data:`_HEADER_BYTES` bytes, so it can be
    rewritten in place once the row count is known."""
    d = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}"
    pad = _HEADER_BYTES - 10 - len(d) - 1
    if pad < 0:
        raise WordvecError("too many rows for one .npy header")
    return b"\x93NUMPY\x01\x00" + (_HEADER_BYTES - 10).to_bytes(2, "little") + \
        d.encode("latin1") + b" " * pad + b"\n"


def write_npy(encoder, texts, f, *, normalise=False, fit=True, on_block=None):
    """Write the vectors of ``texts`` to the binary file ``f`` (opened ``w+b``, seekable) as an
    ``.npy`` array: one float32 row per text, rows written block by block. With ``fit`` a
    ``sif`` encoder is fitted on the same pass (its component removed afterwards by a second
    pass over the file, in place); with ``normalise`` the rows are made unit length (zero rows
    stay zero). ``on_block(n)`` is called after each block of n texts (progress). Returns the
    number of rows."""
    dim = encoder.dim
    start = f.tell()
    f.write(_npy_header(0, dim))
    gram = None
    late = encoder.method == "sif" and (fit or encoder.component is None)
    if late:
        if not fit:
            raise WordvecError("sif must be fitted on a collection first")
        encoder.component = None
        gram = np.zeros((dim, dim), dtype=np.float64)
    rows = 0
    for out, _ in encoder.iter_blocks(texts, fit_gram=gram):
        if normalise and not late:
            _normalise_rows(out)
        f.write(np.ascontiguousarray(out, dtype="<f4").tobytes())
        rows += len(out)
        if on_block:
            on_block(len(out))
    if late:
        encoder.component = top_direction(gram)
        row_bytes = 4 * dim
        block = max(1, _REWRITE_BYTES // row_bytes)
        for s in range(0, rows, block):
            n = min(block, rows - s)
            f.seek(start + _HEADER_BYTES + s * row_bytes)
            x = np.frombuffer(f.read(n * row_bytes), dtype="<f4").reshape(n, dim).copy()
            remove_component(x, encoder.component)
            if normalise:
                _normalise_rows(x)
            f.seek(start + _HEADER_BYTES + s * row_bytes)
            f.write(x.tobytes())
    f.seek(start)
    f.write(_npy_header(rows, dim))
    f.seek(0, io.SEEK_END)
    return rows


def _normalise_rows(x):
    n = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64)).astype(np.float32)
    n[n == 0] = 1.0
    x /= n[:, None]
    return x


def _npy_check(path, dtype, shape, mmap=False):
    """The array of the ``.npy`` file ``path``, after checking its header (``dtype``, C order,
    ``shape``; ``None`` in ``shape`` takes any length) and that the file holds exactly that many
    bytes; memory-mapped with ``mmap``. Nothing is unpickled."""
    path = os.fspath(path)
    dtype = np.dtype(dtype)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                found, fortran, kind = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                found, fortran, kind = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            offset = f.tell()
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        raise WordvecError(f"{path}: missing") from None
    except OSError as e:
        raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise WordvecError(f"{path}: not a valid .npy file ({e})") from None
    if kind.hasobject or kind.newbyteorder("=") != dtype.newbyteorder("=") or \
            kind.byteorder not in ("=", "|", "<") or fortran or len(found) != len(shape):
        raise WordvecError(f"{path}: expected a {len(shape)}-D {dtype} array, found {kind} of "
                           f"shape {found}")
    if any(w is not None and w != f for w, f in zip(shape, found)):
        raise WordvecError(f"{path}: shape {found} does not match the expected "
                           f"{tuple('?' if w is None else w for w in shape)}")
    count = int(np.prod(found, dtype=np.int64))
    if size != offset + dtype.itemsize * count:
        raise WordvecError(f"{path}: {size:,} bytes, but its header promises {found} {dtype}: "
                           "truncated or padded")
    if count == 0 or not mmap:
        with open(path, "rb") as f:
            f.seek(offset)
            data = np.frombuffer(f.read(dtype.itemsize * count), dtype=kind)
        return data.reshape(found).astype(dtype, copy=False)
    return np.memmap(path, dtype=kind, mode="r", offset=offset, shape=found)


def read_npy_rows(path, dim=None, rows=None):
    """A float32 ``.npy`` matrix, memory-mapped, its dtype and shape checked (and ``dim`` /
    ``rows`` if given) before anything reads it."""
    return _npy_check(path, np.float32, (rows, dim), mmap=True)
