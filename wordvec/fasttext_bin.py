"""facebook fastText's binary model format (``.bin``), read and written.

A ``.bin`` (fastText 0.9.x, format version 12; 11 is read too) is, all little-endian:

- ``int32`` magic 793712314, ``int32`` version;
- the arguments: ``int32`` dim, ws, epoch, minCount, neg, wordNgrams, loss (1 hs, 2 ns,
  3 softmax, 4 ova), model (1 cbow, 2 sg, 3 supervised), bucket, minn, maxn, lrUpdateRate, then
  ``float64`` t (the sub-sampling threshold);
- the dictionary: ``int32`` size, nwords, nlabels, ``int64`` ntokens, pruneidx_size (-1 unless
  the model was pruned by quantization), then per entry the word's bytes, a NUL, ``int64``
  count and ``int8`` type (0 word, 1 label); then the pruned-index pairs;
- ``bool`` quantized input, the input matrix (``int64`` rows, ``int64`` cols, float32 data:
  nwords word rows then ``bucket`` n-gram rows), ``bool`` quantized output, the output matrix
  (nwords rows).

fastText's end-of-line word ``</s>`` is an ordinary dictionary entry (usually the first); its
row has no n-grams. A known word's vector is the mean of its own row and its n-gram rows
(``nwords + hash % bucket``, :mod:`wordvec.subwords`); an unseen word's, the mean of its
n-gram rows.

Reading (:func:`load_vectors`): an uncompressed file is memory-mapped, not copied. Its arrays are
checked (shapes against the file size, every value finite) block by block, the word vectors are
computed block by block, and the mapped pages read for that are dropped after each block, so
loading holds one ``vocabulary x dim`` matrix (the word vectors) and never the input matrix:
the n-gram rows stay in the file and are read when an unseen word asks for them. Compressed
files and ``.zip`` members are read into memory once (no second copy). :func:`load_model` gives
a trainable :class:`wordvec.fasttext.FastText` (its matrices in memory), so a loaded model can
be trained further, as gensim's ``load_facebook_model`` allows.

Refused with one line: supervised classifiers, quantized ``.ftz`` models, other versions, and
any file whose sizes, counts or values do not add up. Nothing is allocated from a header
before it is checked against the file's size.

Writing (:func:`save_model`): a wordvec fastText model (skip-gram or CBOW, negative sampling or
hierarchical softmax) as fastText 0.9.2 writes it, readable by ``fasttext.load_model`` and the
``fasttext`` command. The words are written in the model's order, ``</s>`` last.
"""

from __future__ import annotations

import io
import lzma
import math
import mmap
import os
import struct
import zipfile
import zlib

import numpy as np
from numba import njit

from .errors import WordvecError

MAGIC = 793712314
VERSION = 12
READ_VERSIONS = (11, 12)
EOS = "</s>"
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
ARCHS = {1: "cbow", 2: "sg", 3: "supervised"}
_ARGS = struct.Struct("<12id")
_DICT = struct.Struct("<3i2q")
_MATRIX = struct.Struct("<2q")
MAX_WORD_BYTES = 1 << 20  # as formats.MAX_WORD_BYTES: a longer "word" is garbage
# what a compressed stream or a zip member raises on corrupt data
_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile,
                NotImplementedError)
_BLOCK_BYTES = 64 << 20  # checked / averaged per block before the mapped pages are dropped


def is_fasttext_bin(head: bytes) -> bool:
    """True if ``head`` (a file's first bytes) starts with fastText's magic number."""
    return len(head) >= 4 and struct.unpack("<i", head[:4])[0] == MAGIC


# ---- reading --------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _scan_entries(buf, pos, n, max_word, starts, ends, counts, types, k0):
    """Parse dictionary entries ``k0..n-1`` from ``buf[pos:]``: ``word NUL int64 int8``.

    Returns ``(k, pos, status)``: entries parsed so far, where the next one starts, and 0 (all
    ``n`` parsed), 1 (``buf`` ends inside an entry) or 2 (a word longer than ``max_word`` bytes,
    or empty)."""
    size = buf.shape[0]
    k = k0
    while k < n:
        lim = min(size, pos + max_word + 1)
        end = pos
        while end < lim and buf[end] != 0:
            end += 1
        if end == lim:
            return k, pos, 1 if lim == size else 2
        if end == pos:
            return k, pos, 2
        if end + 10 > size:
            return k, pos, 1
        c = np.int64(0)
        for b in range(8):
            c |= np.int64(buf[end + 1 + b]) << np.int64(8 * b)
        starts[k] = pos
        ends[k] = end
        counts[k] = c
        types[k] = buf[end + 9]
        pos = end + 10
        k += 1
    return k, pos, 0


class _Source:
    """The bytes of a ``.bin``: a memory map of a plain file, or a stream read as needed."""

    def __init__(self, path, f):
        self.path, self.f, self.pos = path, f, 0
        self.mm = None
        self.size = None
        if isinstance(f, io.BufferedReader):
            try:
                size = os.fstat(f.fileno()).st_size
                if size > 0:
                    self.mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                    self.size = size
            except (OSError, ValueError):
                self.mm = None
        self.buf = np.frombuffer(self.mm, dtype=np.uint8) if self.mm is not None else None
        self._pending = bytearray()  # stream: bytes read but not consumed

    def fail(self, message):
        raise WordvecError(f"{self.path}: {message}")

    def truncated(self, what):
        self.fail(f"truncated fastText model: the file ends inside {what}")

    def take(self, n, what):
        """The next ``n`` bytes (bytes)."""
        if self.buf is not None:
            if self.pos + n > self.size:
                self.truncated(what)
            out = self.mm[self.pos:self.pos + n]
            self.pos += n
            return out
        while len(self._pending) < n:
            chunk = self.f.read(max(n - len(self._pending), 1 << 16))
            if not chunk:
                self.truncated(what)
            self._pending += chunk
        out = bytes(self._pending[:n])
        del self._pending[:n]
        self.pos += n
        return out

    def entries(self, n):
        """The dictionary's ``n`` entries: (word bytes list, counts int64, types uint8)."""
        if self.buf is not None:  # (n was checked against the file's size)
            starts, ends = np.empty(n, np.int64), np.empty(n, np.int64)
            counts, types = np.empty(n, np.int64), np.empty(n, np.uint8)
            k, pos, status = _scan_entries(self.buf, self.pos, n, MAX_WORD_BYTES, starts, ends,
                                           counts, types, 0)
            self._entry_status(status, k)
            words = [self.mm[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
            self.pos = pos
            return words, counts, types
        # a stream: entries parsed as they arrive, in batches (nothing sized from the header)
        batch = 1 << 16
        starts, ends = np.empty(batch, np.int64), np.empty(batch, np.int64)
        counts, types = np.empty(batch, np.int64), np.empty(batch, np.uint8)
        words, all_counts, all_types = [], [], []
        while len(words) < n:
            data = np.frombuffer(bytes(self._pending), dtype=np.uint8)
            want = min(batch, n - len(words))
            k, pos, status = _scan_entries(data, 0, want, MAX_WORD_BYTES, starts, ends, counts,
                                           types, 0)
            raw = bytes(data[:pos])
            words.extend(raw[a:b] for a, b in zip(starts[:k].tolist(), ends[:k].tolist()))
            all_counts.append(counts[:k].copy())
            all_types.append(types[:k].copy())
            del self._pending[:pos]
            self.pos += pos
            if status == 2:
                self._entry_status(status, len(words))
            if status == 1:
                chunk = self.f.read(1 << 20)
                if not chunk:
                    self.truncated(f"the dictionary (entry {len(words) + 1} of {n:,})")
                self._pending += chunk
        return (words, np.concatenate(all_counts or [np.zeros(0, np.int64)]),
                np.concatenate(all_types or [np.zeros(0, np.uint8)]))

    def _entry_status(self, status, k):
        if status == 1:
            self.truncated(f"the dictionary (entry {k + 1})")
        if status == 2:
            self.fail(f"dictionary entry {k + 1} is empty or longer than {MAX_WORD_BYTES:,} "
                      "bytes: not a fastText model, or a corrupt one")

    def matrix(self, rows, cols, what):
        """A ``rows x cols`` float32 matrix: a read-only view of the map, or read from the
        stream into one array."""
        n = rows * cols * 4
        if self.buf is not None:
            if self.pos + n > self.size:
                self.fail(f"truncated fastText model: {what} needs {n:,} bytes, the file holds "
                          f"{self.size - self.pos:,} after its header")
            out = np.frombuffer(self.mm, dtype="<f4", count=rows * cols, offset=self.pos)
            self.pos += n
            return out.reshape(rows, cols)
        try:
            out = np.empty((rows, cols), dtype="<f4")
        except (MemoryError, ValueError):
            self.fail(f"not enough memory for {what} ({rows:,} x {cols:,})")
        flat = out.reshape(-1).view(np.uint8)
        have = min(len(self._pending), n)
        flat[:have] = np.frombuffer(bytes(self._pending[:have]), dtype=np.uint8)
        del self._pending[:have]
        view = memoryview(flat)
        while have < n:
            got = self.f.readinto(view[have:min(n, have + (16 << 20))])
            if not got:
                self.truncated(what)
            have += got
        self.pos += n
        return out

    def at_end(self):
        if self.buf is not None:
            return self.pos == self.size
        return not self._pending and not self.f.read(1)

    def drop_pages(self):
        """Forget the mapped pages read so far (they are clean file pages, read again if
        needed): keeps the reading out of the process's resident memory."""
        if self.mm is not None and hasattr(mmap, "MADV_DONTNEED"):
            try:
                self.mm.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):  # pragma: no cover - an old kernel
                pass


class FastTextBin:
    """What a ``.bin`` holds, checked: ``args`` (dict), ``words`` (str, ``</s>`` included at
    its place), ``counts``, ``ntokens``, ``W`` (input matrix: word rows, then ``bucket`` n-gram
    rows) and ``C`` (output matrix), both float32 (read-only views of the file when it is
    memory-mapped)."""

    def __init__(self, path, version, args, words, raw_words, counts, ntokens, W, C, source):
        self.path, self.version, self.args = path, version, args
        self.words, self.raw_words, self.counts, self.ntokens = words, raw_words, counts, ntokens
        self.W, self.C, self._source = W, C, source

    @property
    def nwords(self):
        return len(self.words)

    @property
    def eos(self):
        """Index of ``</s>`` in :attr:`words`, or -1."""
        try:
            return self.words.index(EOS)
        except ValueError:
            return -1

    def params(self):
        """The model's settings as wordvec's fastText parameters."""
        return {**_params(self.args), "eos": self.eos >= 0}


def read(path, f=None, check_input=True) -> FastTextBin:
    """Read and check the ``.bin`` at ``path`` (or from the binary stream ``f``); without
    ``check_input`` the input matrix's values are left for the caller to check (sizes are
    always checked)."""
    path = os.fspath(path)
    own = f is None
    if own:
        try:
            f = open(path, "rb")
        except OSError as e:
            raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return _read(path, _Source(path, f), check_input)
    except _READ_ERRORS as e:
        raise WordvecError(f"{path}: corrupt or unreadable fastText model ({e})") from None
    finally:
        if own:
            f.close()


def describe(path, f):
    """What the header of the ``.bin`` in the stream ``f`` says (its words, ``</s>``
    included, and settings), without reading the dictionary or the matrices."""
    src = _Source(os.fspath(path), f)
    try:
        version, args = _header(src)
        size, nwords, ntokens, prune = _dict_header(src, args)
    except _READ_ERRORS as e:
        raise WordvecError(f"{path}: corrupt or unreadable fastText model ({e})") from None
    return {"words": nwords, "dim": args["dim"], "kind": "fasttext", "fasttext_version": version,
            "params": _params(args)}


def _params(args):
    """fastText's arguments as wordvec's fastText parameters."""
    return {"arch": args["model"], "loss": args["loss"], "dim": args["dim"], "window": args["ws"],
            "epochs": args["epoch"], "min_count": args["minCount"], "negative": args["neg"],
            "minn": args["minn"], "maxn": args["maxn"], "bucket": args["bucket"],
            "sample": args["t"]}


def _header(src):
    magic, version = struct.unpack("<2i", src.take(8, "the header"))
    if magic != MAGIC:
        src.fail("not a fastText model (wrong magic number)")
    if version not in READ_VERSIONS:
        newer = " (newer than fastText 0.9.2's)" if version > VERSION else ""
        src.fail(f"fastText model format version {version}{newer} is not supported "
                 f"(wordvec reads versions {READ_VERSIONS[0]}-{READ_VERSIONS[-1]})")
    vals = _ARGS.unpack(src.take(_ARGS.size, "the model's arguments"))
    names = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket",
             "minn", "maxn", "lrUpdateRate")
    args = dict(zip(names, vals[:12]))
    args["t"] = vals[12]
    if args["model"] not in ARCHS or args["loss"] not in LOSSES:
        src.fail(f"unknown fastText model type {args['model']} / loss {args['loss']}: a corrupt "
                 "file, or one of a newer fastText")
    if args["model"] == 3:
        src.fail("a supervised fastText classifier: wordvec reads unsupervised word-vector "
                 "models (skipgram, cbow)")
    args["model"] = ARCHS[args["model"]]
    args["loss"] = LOSSES[args["loss"]]
    from .params import MAX_NGRAM
    checks = [(args["dim"] >= 1, "dim"), (args["ws"] >= 1, "ws"), (args["epoch"] >= 1, "epoch"),
              (args["minCount"] >= 1, "minCount"), (args["neg"] >= 0, "neg"),
              (args["wordNgrams"] >= 1, "wordNgrams"), (args["bucket"] >= 0, "bucket"),
              (0 <= args["maxn"] <= MAX_NGRAM, "maxn"),
              (args["maxn"] == 0 or 1 <= args["minn"] <= args["maxn"], "minn"),
              (math.isfinite(args["t"]) and args["t"] >= 0, "t")]
    for ok, name in checks:
        if not ok:
            src.fail(f"corrupt fastText model: argument {name} = {args[name]!r} is out of range")
    return version, args


def _dict_header(src, args):
    size, nwords, nlabels, ntokens, prune = _DICT.unpack(src.take(_DICT.size, "the dictionary"))
    if not (0 <= nwords and 0 <= nlabels and size == nwords + nlabels and ntokens >= 0):
        src.fail(f"corrupt fastText model: dictionary of {size} entries, {nwords} words and "
                 f"{nlabels} labels")
    if nlabels:
        src.fail("a fastText model with labels (a classifier): wordvec reads word-vector models")
    if prune < -1 or nwords + args["bucket"] >= 2**31:
        src.fail(f"corrupt fastText model: {nwords:,} words and {args['bucket']:,} buckets, "
                 f"pruned index {prune}")
    if src.size is not None and size * 10 > src.size:
        src.fail(f"truncated or corrupt fastText model: {size:,} dictionary entries cannot fit "
                 f"in {src.size:,} bytes")
    return size, nwords, ntokens, prune


def _read(path, src, check_input=True) -> FastTextBin:
    version, args = _header(src)
    size, nwords, ntokens, prune = _dict_header(src, args)
    raw, counts, types = src.entries(size)
    if np.any(types != 0) or np.any(counts < 0):
        src.fail("corrupt fastText model: a dictionary entry has a negative count or is not "
                 "a word")
    quantized = ("a quantized fastText model (.ftz): wordvec cannot read quantized matrices; "
                 "use the model's .bin, or its .vec (word vectors only)")
    if prune != -1:  # (only quantization prunes the dictionary)
        src.fail(quantized)
    if src.take(1, "the input matrix") != b"\x00":
        src.fail(quantized)
    words = [w.decode("utf-8", "surrogateescape") for w in raw]
    if len(set(words)) != len(words):
        src.fail("corrupt fastText model: a word appears twice in the dictionary")
    W = _read_matrix(src, nwords + args["bucket"], args["dim"], "the input matrix")
    qout = src.take(1, "the output matrix")
    if qout not in (b"\x00", b"\x01"):
        src.fail("corrupt fastText model: bad output-matrix flag")
    C = _read_matrix(src, nwords, args["dim"], "the output matrix")
    if not src.at_end():
        src.fail("corrupt fastText model: data after the output matrix")
    if check_input:
        _check_finite(src, W, "input matrix")
    _check_finite(src, C, "output matrix")
    return FastTextBin(src.path, int(version), args, words, raw, counts, int(ntokens), W, C, src)


def _read_matrix(src, rows, cols, what):
    m, n = _MATRIX.unpack(src.take(_MATRIX.size, what))
    if (m, n) != (rows, cols):
        src.fail(f"corrupt fastText model: {what} is {m:,} x {n:,}, the header says "
                 f"{rows:,} x {cols:,}")
    return src.matrix(rows, cols, what)


def _check_finite(src, arr, what):
    from .native import check_finite
    step = max(1, _BLOCK_BYTES // (arr.shape[1] * 4))
    for a in range(0, len(arr), step):
        check_finite(arr[a:a + step], f"{src.path}: {what}", first=a)
        src.drop_pages()


def _sweep(ft, visit):
    """Read the input matrix once, in order, block by block: each block is checked (finite)
    and handed to ``visit(first_row, block)``, then its mapped pages are dropped. (Reading in
    order matters: the kernel maps a whole neighbourhood of pages at each fault, so random
    reads of a memory-mapped 2 GB matrix make all of it resident.)"""
    from .native import check_finite
    W = ft.W
    step = _chunk_rows(W.shape[1])
    for a in range(0, len(W), step):
        block = W[a:a + step]
        check_finite(block, f"{ft.path}: input matrix", first=a)
        visit(a, block)
        ft._source.drop_pages()


def _chunk_rows(dim):
    return max(1, _BLOCK_BYTES // (dim * 4))


@njit(cache=True, nogil=True)
def _number_rows(offsets, rows, keep, shift):
    """Rows of :func:`wordvec.subwords.subword_csr` (words numbered ``0..len(keep)-1``, n-grams
    after them) renumbered as in fastText's matrix: own row ``keep[i]``, n-grams ``+ shift``."""
    for i in range(offsets.shape[0] - 1):
        rows[offsets[i]] = keep[i]
        for p in range(offsets[i] + 1, offsets[i + 1]):
            rows[p] += shift


@njit(cache=True, nogil=True)
def _by_block(offsets, rows, block_rows, n_blocks):
    """The (row, word) pairs of a CSR, grouped by ``row // block_rows`` (a counting sort):
    ``(starts int64[n_blocks+1], rows int32[...], words int32[...])``."""
    n = rows.shape[0]
    starts = np.zeros(n_blocks + 1, np.int64)
    for p in range(n):
        starts[rows[p] // block_rows + 1] += 1
    for b in range(n_blocks):
        starts[b + 1] += starts[b]
    pos = starts[:-1].copy()
    out_rows = np.empty(n, np.int32)
    out_words = np.empty(n, np.int32)
    for i in range(offsets.shape[0] - 1):
        for p in range(offsets[i], offsets[i + 1]):
            b = rows[p] // block_rows
            q = pos[b]
            out_rows[q] = rows[p]
            out_words[q] = i
            pos[b] = q + 1
    return starts, out_rows, out_words


@njit(cache=True, nogil=True)
def _add_rows(block, first, rows, words, lo, hi, out):
    """``out[words[p]] += block[rows[p] - first]`` for the pairs ``lo..hi-1`` (all inside)."""
    dim = block.shape[1]
    for p in range(lo, hi):
        src = block[rows[p] - first]
        dst = out[words[p]]
        for k in range(dim):
            dst[k] += src[k]


@njit(cache=True, nogil=True)
def _divide(offsets, out):
    """Sums of rows to means, as fastText: times ``1 / count`` in float32."""
    for i in range(out.shape[0]):
        n = offsets[i + 1] - offsets[i]
        if n > 0:
            inv = np.float32(1.0) / np.float32(n)
            for k in range(out.shape[1]):
                out[i, k] *= inv


def _word_matrix(ft, keep):
    """The vectors of the words ``keep`` (indices into ``ft.words``), as fastText computes them:
    the mean of each word's own row and its n-gram rows. The input matrix is read once, in
    order (:func:`_sweep`, which also checks it), each word's rows added as their block
    passes; rows are added in the matrix's order rather than fastText's (a difference of a
    float32 rounding or so)."""
    from .subwords import subword_csr
    a = ft.args
    dim = a["dim"]
    offsets, rows = subword_csr([ft.words[i] for i in keep], a["minn"], a["maxn"],
                                max(a["bucket"], 1), include_word=True)
    _number_rows(offsets, rows, np.asarray(keep, dtype=np.int32), np.int32(ft.nwords - len(keep)))
    block_rows = _chunk_rows(dim)
    n_blocks = -(-len(ft.W) // block_rows)
    starts, pair_rows, pair_words = _by_block(offsets, rows, block_rows, n_blocks)
    del rows
    try:
        out = np.zeros((len(keep), dim), dtype=np.float32)
    except MemoryError:
        raise WordvecError(f"{ft.path}: not enough memory for {len(keep):,} x {dim} word "
                           "vectors") from None

    def visit(first, block):
        b = first // block_rows
        _add_rows(block, first, pair_rows, pair_words, starts[b], starts[b + 1], out)

    _sweep(ft, visit)
    _divide(offsets, out)
    return out


def load_vectors(path, f=None, limit=None):
    """:class:`~wordvec.vectors.FastTextVectors` of a fastText ``.bin`` (``</s>`` left out);
    see the module doc for memory."""
    from .vectors import FastTextVectors
    ft = read(path, f, check_input=False)  # (checked while the word vectors are computed)
    keep = [i for i, w in enumerate(ft.words) if w != EOS]
    if limit is not None:
        keep = keep[:limit]
    matrix = _word_matrix(ft, keep)
    a = ft.args
    ngrams = ft.W[ft.nwords:] if a["maxn"] > 0 else None
    meta = {"kind": "fasttext", "params": ft.params(),
            "stats": {"source_format": "fasttext-bin", "source": os.path.abspath(path),
                      "fasttext_version": ft.version, "ntokens": ft.ntokens}}
    return FastTextVectors([ft.words[i] for i in keep], matrix, ngrams, a["minn"],
                           a["maxn"], a["bucket"], counts=ft.counts[keep], meta=meta)


def load_model(path, f=None):
    """A trainable :class:`wordvec.fasttext.FastText` from a fastText ``.bin``: its settings,
    vocabulary (with counts) and both matrices (in memory), ``</s>`` moved after the words where
    wordvec keeps it. A hierarchical-softmax model's output rows follow fastText's tree, which is
    not wordvec's: they start again from zero (a note in the history says so)."""
    from .fasttext import FastText
    from .model import Model
    from .vocab import Vocabulary
    ft = read(path, f, check_input=False)  # (checked while it is copied)
    p = ft.params()
    if p["loss"] not in ("ns", "hs"):
        raise WordvecError(f"{path}: a fastText model with loss {p['loss']!r}: wordvec trains "
                           "with ns or hs (its vectors load with -m)")
    model = FastText.__new__(FastText)
    try:
        Model.__init__(model, **p)
    except WordvecError as e:
        raise WordvecError(f"{path}: {e}") from None
    eos = ft.eos
    n = ft.nwords
    order = np.array([i for i in range(n) if i != eos] + ([eos] if eos >= 0 else []),
                     dtype=np.int64)
    where = np.empty(n, dtype=np.int64)  # fastText's row i goes to wordvec's row where[i]
    where[order] = np.arange(n)
    v = n - (1 if eos >= 0 else 0)
    model.vocab = Vocabulary([ft.words[i] for i in order[:v]], ft.counts[order[:v]])
    dim = p["dim"]
    try:
        W = np.empty((n + p["bucket"], dim), dtype=np.float32)
        C = np.zeros((model._output_rows(n), dim), dtype=np.float32)
    except MemoryError:
        raise WordvecError(f"{path}: not enough memory to load the model for training") from None

    def visit(first, block):
        last = first + len(block)
        if first < n:  # word rows, moved
            k = min(last, n) - first
            W[where[first:first + k]] = block[:k]
        if last > n:
            lo = max(first, n)
            W[lo:last] = block[lo - first:]

    _sweep(ft, visit)
    note = {"source_format": "fasttext-bin", "source": os.path.abspath(path),
            "fasttext_version": ft.version, "ntokens": ft.ntokens,
            "sentences": int(ft.counts[eos]) if eos >= 0 else 0}
    if p["loss"] == "ns":
        C[:] = ft.C[order]
    else:
        note["output_reset"] = ("fastText's hierarchical-softmax tree is not wordvec's: the "
                                "output rows start from zero")
    ft._source.drop_pages()
    model.W, model.C = W, C
    model.history, model._runs, model._resume = [note], 1, None
    return model


# ---- writing --------------------------------------------------------------------------------
def save_model(model, path, *, force=False, inputs=()):
    """Write the wordvec fastText ``model`` (a :class:`wordvec.fasttext.FastText`) as a
    fastText 0.9.2 ``.bin``, atomically (see :func:`wordvec.io_util.atomic_write`)."""
    from .fasttext import FastText
    from .io_util import atomic_write
    from .vocab import BAD_WORD
    if not isinstance(model, FastText) or getattr(model, "W", None) is None:
        raise WordvecError("only a trained wordvec fastText model can be written as a fastText "
                           ".bin (other vectors: use the word2vec formats)")
    p = model.params
    words = list(model.vocab.words)
    for i, w in enumerate(words):
        if not isinstance(w, str) or not w or BAD_WORD.search(w):
            raise WordvecError(f"cannot write a fastText .bin: word {i + 1} ({str(w)[:40]!r}) "
                               "is empty or contains whitespace or NUL")
    raw = [w.encode("utf-8", "surrogateescape") for w in words]
    if EOS in model.vocab.index:
        raise WordvecError(f"cannot write a fastText .bin: the vocabulary holds {EOS!r}, "
                           "fastText's end-of-line word")
    counts = [int(c) for c in model.vocab.counts]
    vt = model.word_rows
    stats = model.history[-1] if model.history else {}
    if vt > len(words):
        raw.append(EOS.encode())
        counts.append(int(stats.get("sentences") or 0) or max(1, min(counts, default=1)))
    nwords = len(raw)
    dim, bucket = p["dim"], p["bucket"]
    if model.W.shape != (nwords + bucket, dim):
        raise WordvecError(f"the model's input matrix is {model.W.shape}, not "
                           f"({nwords + bucket}, {dim})")
    ntokens = int(stats.get("corpus_tokens") or sum(counts)) + (counts[-1] if vt > len(words) else 0)
    loss = {"hs": 1, "ns": 2}[p["loss"]]
    arch = {"cbow": 1, "sg": 2}[p["arch"]]
    with atomic_write(path, "wb", kind="vectors", force=force, inputs=inputs) as out:
        out.write(struct.pack("<2i", MAGIC, VERSION))
        out.write(_ARGS.pack(dim, p["window"], p["epochs"], p["min_count"], p["negative"], 1,
                             loss, arch, bucket, p["minn"], p["maxn"], 100, float(p["sample"])))
        out.write(_DICT.pack(nwords, nwords, 0, ntokens, -1))
        out.write(b"".join(w + b"\0" + struct.pack("<qb", c, 0) for w, c in zip(raw, counts)))
        out.write(b"\x00")
        _write_matrix(out, model.W)
        out.write(b"\x00")
        if p["loss"] == "ns":
            _write_matrix(out, model.C)
        else:  # fastText's output has nwords rows over its own tree: not ours (see load_model)
            _write_matrix(out, np.zeros((nwords, dim), dtype=np.float32))


def _write_matrix(out, M):
    out.write(_MATRIX.pack(M.shape[0], M.shape[1]))
    step = max(1, (16 << 20) // max(1, M.shape[1] * 4))
    for a in range(0, len(M), step):
        out.write(np.ascontiguousarray(M[a:a + step], dtype="<f4").tobytes())
