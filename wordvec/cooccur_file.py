"""Co-occurrence matrices on disk: the ``.npz`` that ``wordvec cooccur`` writes and GloVe/LSA read.

The file holds the CSR arrays (``data``, ``indices``, ``indptr``, ``shape``), the vocabulary
(``words``, ``counts``), a ``format`` tag and the counting ``params`` as JSON; no pickle.
Everything read is checked before a kernel sees it (:func:`validate_cooccurrence`): every
member's ``.npy`` header before it is read, dtypes, shapes, ``indptr`` monotone and ending at
the number of entries, every index in range, finite non-negative counts; a matrix handed in
from Python goes through the same checks (:func:`validate_pair`).

A *blocks folder* (``wordvec cooccur --cluster ... --blocks-dir``, :mod:`wordvec.distributed`)
holds the same matrix cut into row blocks: ``blocks.json`` (format, shape, each block's file,
rows and non-zeros, the counting params), ``vocab.txt`` and ``block-00000.npz``... (each the CSR
arrays of rows ``lo:hi``, all columns, and its ``rows``). :func:`read_blocks_index` and
:func:`iter_blocks` check it as thoroughly: the index's every field and that the blocks tile the
rows 0..V in order, file names of the listed form only (no path leaves the folder), the
vocabulary as :meth:`Vocabulary.load <wordvec.vocab.Vocabulary.load>` checks it, and each block
as a file's matrix (headers before reading, no pickle, dtypes, shape, rows, structure, ranges,
values, its listed non-zeros). :func:`load_blocks` stacks them into the matrix the gathered
``.npz`` holds; :func:`load_cooccurrence` takes either.
"""

import os
import re

import numpy as np
import scipy.sparse as sp

from .errors import WordvecError
from .io_util import atomic_write
from .vocab import BAD_WORD, Vocabulary

FORMAT = "wordvec-cooccur-1"

_NPZ_KEYS = ("format", "data", "indices", "indptr", "shape", "words", "counts")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_MAX_COUNT = float(np.finfo(np.float32).max)
_MAX_RATIO = 1100  # deflate never expands data more than ~1032x: a bigger claim is a lie


def _read_npz(path, keys=_NPZ_KEYS + ("params",)):
    """``{key: ndarray}`` of an ``.npz``, every member's header checked before it is read.

    No pickle, and no allocation from a header's word: a member's shape must match its bytes.
    ``keys``: the members to read (``params`` may be absent; the others must be there).
    """
    import lzma
    import warnings
    import zipfile
    import zlib

    from .native import read_npy_header
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
        size = os.path.getsize(path)
    except OSError as e:
        raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
    if magic not in _ZIP_MAGIC:
        what = "an empty file" if not magic else "not a zip archive: a corrupt or other file"
        raise WordvecError(f"{path}: not a co-occurrence .npz ({what}; "
                           "'wordvec cooccur' writes one)")
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            for key in keys:
                info = infos.get(key + ".npy")
                if info is None:
                    if key == "params":
                        continue
                    raise WordvecError(f"{path}: not a wordvec co-occurrence file "
                                       f"(no {key!r} array in it)")
                what = f"{path}: field {key!r}"
                if info.file_size > max(info.compress_size, 1) * _MAX_RATIO or \
                        info.compress_size > size:
                    raise WordvecError(f"{what}: corrupt archive entry (sizes do not add up)")
                with zf.open(info) as m:
                    shape, dtype = read_npy_header(m, info.file_size, what)
                with zf.open(info) as m, warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # (the header was checked)
                    out[key] = np.lib.format.read_array(m, allow_pickle=False)
    except WordvecError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile,
            NotImplementedError, RuntimeError, zlib.error, lzma.LZMAError) as e:
        raise WordvecError(f"{path}: corrupt co-occurrence file ({str(e)[:80]})") from None
    return out


def _bad(source, message):
    raise WordvecError(f"{source}: {message}")


def validate_cooccurrence(matrix, n, source):
    """Check a word–word co-occurrence matrix before a kernel sees it; returns a canonical CSR.

    ``matrix``: a scipy.sparse matrix (or array) of shape ``(n, n)``. Checked: numeric finite
    values >= 0, integer index arrays, ``indptr`` from 0, monotone, ending at ``nnz``, column
    indices in ``[0, n)``. Duplicate or unsorted entries of a row are summed and sorted.
    ``source`` (a file name, or a description) starts every error message.
    """
    if not sp.issparse(matrix):
        if isinstance(matrix, np.ndarray) and matrix.ndim == 2:
            _check_values(np.asarray(matrix), source)
            matrix = sp.csr_matrix(matrix)
        else:
            _bad(source, f"not a sparse co-occurrence matrix ({type(matrix).__name__})")
    shape = tuple(matrix.shape)
    if shape != (n, n):
        _bad(source, f"a co-occurrence matrix of shape {shape} does not match a vocabulary "
                     f"of {n:,} words")
    fmt = matrix.format
    if fmt in ("csr", "csc"):
        _check_compressed(matrix.data, matrix.indices, matrix.indptr, n, n, source)
    elif fmt == "coo":
        _check_values(matrix.data, source)
        for c in (matrix.row, matrix.col):
            if len(c) != len(matrix.data):
                _bad(source, "coordinate arrays do not match the values")
            _check_index(c, n, "row/column index", source)
    else:  # dok, lil, dia, bsr: let scipy check its own structure, then check the CSR
        try:
            if fmt == "bsr":
                matrix.check_format(full_check=True)
        except (ValueError, TypeError) as e:
            _bad(source, f"corrupt sparse matrix ({e})")
    m = sp.csr_matrix(matrix)
    if fmt != "csr":
        _check_compressed(m.data, m.indices, m.indptr, n, n, source)
    return _canonical(m, source)


def validate_pair(cooccur, source="cooccur=(matrix, vocabulary)"):
    """``(csr, Vocabulary)`` from a ``(matrix, Vocabulary)`` pair given from Python, checked."""
    if not (isinstance(cooccur, tuple) and len(cooccur) == 2
            and isinstance(cooccur[1], Vocabulary)):
        raise WordvecError(f"{source}: expected a file name or a (sparse matrix, Vocabulary) "
                           "pair")
    matrix, vocab = cooccur
    return validate_cooccurrence(matrix, len(vocab), source), vocab


def _canonical(m, source):
    """``m`` (a checked CSR) with float values, sorted and summed duplicate cells, no zeros."""
    if m.data.dtype.kind != "f":
        m.data = m.data.astype(np.float64)
    copied = False
    if not m.has_canonical_format:
        m, copied = m.copy(), True  # (never change the caller's matrix)
        m.sum_duplicates()  # sorts each row's columns and adds up repeated cells
        _check_values(m.data, source)  # a sum of large finite values may overflow
    if m.nnz and not m.data.all():  # stored zeros: no co-occurrence (and log(0) in PPMI)
        m = m if copied else m.copy()
        m.eliminate_zeros()
    return m


def _check_values(data, source):
    if not isinstance(data, np.ndarray):
        _bad(source, "co-occurrence values are not an array")
    if data.dtype.kind not in "biuf":
        _bad(source, f"field 'data': values must be numbers, not {data.dtype}")
    if data.dtype.kind == "f" and data.size and not np.isfinite(data).all():
        i = int(np.argmin(np.isfinite(data)))
        _bad(source, f"field 'data': value {i + 1} is {data[i]} (NaN or infinity)")
    if data.size and data.min() < 0:
        i = int(np.argmin(data))
        _bad(source, f"field 'data': value {i + 1} is negative ({data[i]})")
    if data.size and float(data.max()) > _MAX_COUNT:  # (GloVe trains in float32)
        i = int(np.argmax(data))
        _bad(source, f"field 'data': value {i + 1} ({data[i]}) is beyond float32's range")


def _check_index(arr, limit, what, source):
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        _bad(source, f"{what} array: must be 1-D integers, not {arr.dtype} of shape "
                     f"{arr.shape}")
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= limit:
            bad = lo if lo < 0 else hi
            i = int(np.flatnonzero(arr == bad)[0])
            _bad(source, f"{what} {bad} (entry {i + 1}) is outside 0..{limit - 1}")


def _check_compressed(data, indices, indptr, n_rows, n_cols, source):
    data, indices, indptr = (np.asarray(a) for a in (data, indices, indptr))
    if data.ndim != 1:
        _bad(source, f"field 'data' must be a 1-D array, not of shape {data.shape}")
    _check_values(data, source)
    if indptr.ndim != 1 or indptr.dtype.kind not in "iu":
        _bad(source, f"field 'indptr' must be a 1-D integer array, not {indptr.dtype} of shape "
                     f"{indptr.shape}")
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        _bad(source, f"field 'indices' must be a 1-D integer array, not {indices.dtype} of "
                     f"shape {indices.shape}")
    if len(indptr) != n_rows + 1:
        _bad(source, f"field 'indptr' has {len(indptr):,} entries, expected {n_rows + 1:,} "
                     "(rows + 1)")
    if indptr[0] != 0:
        _bad(source, f"field 'indptr' starts at {indptr[0]}, not 0")
    if indptr.max() > len(indices):
        _bad(source, f"field 'indptr' holds {indptr.max()}, beyond the {len(indices):,} indices")
    steps = np.diff(indptr.astype(np.int64))  # (unsigned differences would wrap)
    if steps.size and steps.min() < 0:
        row = int(np.argmin(steps))
        _bad(source, f"field 'indptr' decreases at row {row + 1} (not a valid CSR matrix)")
    if not indptr[-1] == len(indices) == len(data):
        _bad(source, f"field 'indptr' ends at {indptr[-1]}, but there are {len(indices):,} indices "
                     f"and {len(data):,} values")
    _check_index(indices, n_cols, "field 'indices': column index", source)


def save_cooccurrence(path, matrix, vocab, params=None, *, force=False, inputs=()):
    """Write ``matrix`` (CSR) and ``vocab`` to an ``.npz`` (no pickle), atomically."""
    m = sp.csr_matrix(matrix)
    if m.shape != (len(vocab), len(vocab)):
        raise WordvecError(f"co-occurrence matrix of shape {m.shape} does not match a "
                           f"vocabulary of {len(vocab)} words")
    for i, w in enumerate(vocab.words):  # what load_cooccurrence refuses is not written
        if not isinstance(w, str) or not w or BAD_WORD.search(w):
            raise WordvecError(f"cannot write {os.fspath(path)}: word {i + 1} ({w!r:.40}) is "
                               "empty or contains whitespace or NUL")
    m = _canonical(m, "the co-occurrence matrix to save") if m.nnz else m
    words = np.array(vocab.words, dtype=str) if len(vocab) else np.zeros(0, dtype="<U1")
    import json
    with atomic_write(os.fspath(path), "wb", kind="cooccur", force=force, inputs=inputs) as f:
        np.savez(f, format=np.array(FORMAT), data=m.data, indices=m.indices, indptr=m.indptr,
                 shape=np.array(m.shape, dtype=np.int64), words=words,
                 counts=np.asarray(vocab.counts, dtype=np.int64),
                 params=np.array(json.dumps(params or {})))


def load_cooccurrence(path, with_params=False):
    """Read an ``.npz`` written by :func:`save_cooccurrence` -> ``(csr_matrix, Vocabulary)``
    (or a folder of row blocks, ``wordvec cooccur --cluster --blocks-dir``: :func:`load_blocks`).

    Every field is checked before use: the arrays' types and shapes, the CSR structure and
    index ranges (:func:`validate_cooccurrence`), the words and counts, and ``params`` (a JSON
    object). Anything wrong is one :class:`WordvecError` naming the file and the field.
    """
    import json
    path = os.fspath(path)
    if os.path.isdir(path):
        return load_blocks(path, with_params=with_params)
    if not os.path.isfile(path):
        raise WordvecError(f"no such co-occurrence file: {path!r}")
    z = _read_npz(path)
    fmt = z["format"]
    if fmt.dtype.kind != "U" or fmt.ndim != 0 or str(fmt) != FORMAT:
        raise WordvecError(f"{path}: not a wordvec co-occurrence file (its format field is "
                           f"not {FORMAT!r})")
    shape = z["shape"]
    if shape.dtype.kind not in "iu" or shape.shape != (2,):
        raise WordvecError(f"{path}: field 'shape' must be two integers")
    words = z["words"]
    if words.dtype.kind != "U" or words.ndim != 1:
        raise WordvecError(f"{path}: field 'words' must be a list of strings, not "
                           f"{words.dtype} of shape {words.shape}")
    n = len(words)
    if tuple(int(x) for x in shape) != (n, n):
        raise WordvecError(f"{path}: field 'shape' {tuple(shape.tolist())} does not match the "
                           f"{n:,} words (corrupt co-occurrence file)")
    counts = z["counts"]
    if counts.dtype.kind not in "iu" or counts.shape != (n,):
        raise WordvecError(f"{path}: field 'counts' must be {n:,} integers, not {counts.dtype} "
                           f"of shape {counts.shape}")
    if n and (counts.min() < 0 or counts.max() > np.iinfo(np.int64).max):
        i = int(np.argmin(counts)) if counts.min() < 0 else int(np.argmax(counts))
        raise WordvecError(f"{path}: field 'counts': count {counts[i]} of word {i + 1} is out "
                           "of range")
    word_list = words.tolist()
    for i, w in enumerate(word_list):
        if not w or BAD_WORD.search(w):
            raise WordvecError(f"{path}: field 'words': word {i + 1} ({w[:40]!r}) is empty or "
                               "contains whitespace")
    try:
        vocab = Vocabulary(word_list, counts.astype(np.int64))
    except WordvecError as e:
        raise WordvecError(f"{path}: field 'words': {e}") from None
    data = z["data"]
    if data.dtype.kind != "f":
        raise WordvecError(f"{path}: field 'data' must hold floating-point values, "
                           f"not {data.dtype}")
    _check_compressed(data, z["indices"], z["indptr"], n, n, path)
    m = _canonical(sp.csr_matrix((data, z["indices"], z["indptr"]), shape=(n, n)), path)
    params = {}
    if "params" in z:
        raw = z["params"]
        if raw.dtype.kind != "U" or raw.ndim != 0:
            raise WordvecError(f"{path}: field 'params' must be a JSON text")
        try:
            params = json.loads(str(raw))
        except (ValueError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)[:80]
            raise WordvecError(f"{path}: field 'params' is not valid JSON ({why})") from None
        _check_params(params, path)
    return (m, vocab, params) if with_params else (m, vocab)


def _check_params(params, source):
    """The counting settings recorded with a matrix: a JSON object of known types."""
    if not isinstance(params, dict):
        raise WordvecError(f"{source}: field 'params' must be a JSON object, not "
                           f"{type(params).__name__}")
    window = params.get("window", 1)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise WordvecError(f"{source}: field 'params': window must be an integer >= 1, "
                           f"not {window!r}"[:200])
    for key in ("symmetric", "distance_weighting"):
        if not isinstance(params.get(key, True), bool):
            raise WordvecError(f"{source}: field 'params': {key} must be true or false, "
                               f"not {params[key]!r}"[:200])


def read_settings(path):
    """The counting settings (window, symmetric, distance_weighting) recorded in a saved matrix.

    ``{}`` when the file has none or cannot be read (loading it reports what is wrong).
    """
    import json
    try:
        if os.path.isdir(path):
            params = read_blocks_index(path)[2]
        else:
            z = _read_npz(os.fspath(path), keys=("params",))
            params = json.loads(str(z["params"])) if "params" in z else {}
    except (WordvecError, OSError, ValueError, KeyError, RecursionError):
        return {}
    if not isinstance(params, dict):
        return {}
    out = {}
    if isinstance(params.get("window"), int) and not isinstance(params.get("window"), bool):
        out["window"] = params["window"]
    for key in ("symmetric", "distance_weighting"):
        if isinstance(params.get(key), bool):
            out[key] = params[key]
    return out


# ---- a folder of row blocks -------------------------------------------------------------------
BLOCKS_FORMAT = "wordvec-cooccur-blocks-1"
BLOCKS_INDEX = "blocks.json"
_BLOCK_NAME = re.compile(r"^block-[0-9]{5,9}\.npz$")
_MAX_INDEX_BYTES = 64 << 20
_BLOCK_KEYS = ("format", "data", "indices", "indptr", "shape", "rows")


def is_blocks_dir(path):
    """True for a folder holding a ``blocks.json`` (a blocks folder, to be checked on reading)."""
    try:
        return os.path.isdir(path) and os.path.isfile(os.path.join(path, BLOCKS_INDEX))
    except (TypeError, ValueError):
        return False


def read_blocks_index(path):
    """``(vocab, blocks, params)`` of a blocks folder, checked: ``blocks`` is a list of
    ``(file path, lo, hi, nnz)`` whose rows tile ``0..len(vocab)`` in order."""
    import json

    from .vocab import Vocabulary
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise WordvecError(f"no such co-occurrence folder: {path!r}")
    index = os.path.join(path, BLOCKS_INDEX)
    where = f"{index}"
    if not os.path.isfile(index):
        raise WordvecError(f"{path}: not a co-occurrence blocks folder (no {BLOCKS_INDEX} in it; "
                           "'wordvec cooccur --cluster ... --blocks-dir' writes one)")
    try:
        if os.path.getsize(index) > _MAX_INDEX_BYTES:
            raise WordvecError(f"{where}: too large for a blocks index")
        with open(index, "rb") as f:
            meta = json.loads(f.read().decode("utf-8"))
    except WordvecError:
        raise
    except OSError as e:
        raise WordvecError(f"{where}: cannot read: {e.strerror or e}") from None
    except (ValueError, RecursionError) as e:  # (UnicodeDecodeError is a ValueError)
        why = "nested too deeply" if isinstance(e, RecursionError) else str(e)[:80]
        raise WordvecError(f"{where}: not valid JSON ({why})") from None
    if not isinstance(meta, dict) or meta.get("format") != BLOCKS_FORMAT:
        raise WordvecError(f"{where}: not a wordvec blocks index (its format is not "
                           f"{BLOCKS_FORMAT!r})")
    shape = meta.get("shape")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in shape)
            or shape[0] != shape[1]):
        raise WordvecError(f"{where}: field 'shape' must be [V, V], V >= 0, not {shape!r}"[:200])
    n = shape[0]
    params = meta.get("params", {})
    _check_params(params, where)
    listed = meta.get("blocks")
    if not isinstance(listed, list):
        raise WordvecError(f"{where}: field 'blocks' must be a list")
    blocks, expect = [], 0
    for i, b in enumerate(listed):
        what = f"{where}: block {i + 1}"
        if not isinstance(b, dict):
            raise WordvecError(f"{what}: must be an object")
        name, rows, nnz = b.get("file"), b.get("rows"), b.get("nnz")
        if not isinstance(name, str) or not _BLOCK_NAME.match(name):
            raise WordvecError(f"{what}: file {name!r} is not a block file name "
                               f"(block-00000.npz...)"[:200])
        if (not isinstance(rows, list) or len(rows) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in rows)):
            raise WordvecError(f"{what}: field 'rows' must be [lo, hi], not {rows!r}"[:200])
        lo, hi = rows
        if lo != expect or not lo < hi <= n:
            raise WordvecError(f"{what}: rows [{lo}, {hi}] do not continue the blocks before it "
                               f"(expected [{expect}, ...] within 0..{n}): blocks must tile the "
                               "rows in order")
        if isinstance(nnz, bool) or not isinstance(nnz, int) or nnz < 0:
            raise WordvecError(f"{what}: field 'nnz' must be a count, not {nnz!r}"[:200])
        blocks.append((os.path.join(path, name), lo, hi, nnz))
        expect = hi
    if expect != n:
        raise WordvecError(f"{where}: the blocks cover rows 0..{expect}, not all {n:,} rows")
    if len({b[0] for b in blocks}) != len(blocks):
        raise WordvecError(f"{where}: a block file is listed twice")
    vocab = Vocabulary.load(os.path.join(path, "vocab.txt"))
    if len(vocab) != n:
        raise WordvecError(f"{path}: vocab.txt holds {len(vocab):,} words, the matrix has "
                           f"{n:,} rows")
    for i, w in enumerate(vocab.words):
        if BAD_WORD.search(w):
            raise WordvecError(f"{path}/vocab.txt: word {i + 1} ({w[:40]!r}) contains whitespace "
                               "or NUL")
    return vocab, blocks, params


def read_block(file, lo, hi, nnz, n):
    """One row block of a blocks folder, checked -> canonical CSR float64 (hi - lo) x n."""
    if os.path.islink(file) or not os.path.isfile(file):
        raise WordvecError(f"{file}: missing (or not a plain file), though the index lists it")
    z = _read_npz(file, keys=_BLOCK_KEYS)
    fmt = z["format"]
    if fmt.dtype.kind != "U" or fmt.ndim != 0 or str(fmt) != BLOCKS_FORMAT:
        raise WordvecError(f"{file}: not a wordvec co-occurrence block (its format field is "
                           f"not {BLOCKS_FORMAT!r})")
    for key, want in (("shape", (hi - lo, n)), ("rows", (lo, hi))):
        a = z[key]
        if a.dtype.kind not in "iu" or a.shape != (2,) or tuple(int(x) for x in a) != want:
            raise WordvecError(f"{file}: field {key!r} must be {list(want)} as the index says, "
                               f"not {a.tolist() if a.size <= 4 else a.shape}")
    data = z["data"]
    if data.dtype.kind != "f":
        raise WordvecError(f"{file}: field 'data' must hold floating-point values, "
                           f"not {data.dtype}")
    _check_compressed(data, z["indices"], z["indptr"], hi - lo, n, file)
    if len(data) != nnz:
        raise WordvecError(f"{file}: {len(data):,} non-zeros, the index says {nnz:,}")
    return _canonical(sp.csr_matrix((data, z["indices"], z["indptr"]), shape=(hi - lo, n)), file)


def iter_blocks(path, index=None):
    """``(lo, hi, csr)`` for each row block of a blocks folder in row order, each checked as it
    is read (one block in memory at a time). ``index``: :func:`read_blocks_index`'s result."""
    vocab, blocks, _ = index or read_blocks_index(path)
    for file, lo, hi, nnz in blocks:
        yield lo, hi, read_block(file, lo, hi, nnz, len(vocab))


def load_blocks(path, with_params=False):
    """A blocks folder as ``(csr_matrix, Vocabulary)`` (and its params with ``with_params``):
    the matrix the gathered ``.npz`` holds (same values, columns and rows)."""
    path = os.fspath(path)
    index = read_blocks_index(path)
    vocab, blocks, params = index
    n = len(vocab)
    indptr = np.zeros(n + 1, dtype=np.int64)
    data, indices = [], []
    for lo, hi, m in iter_blocks(path, index):
        indptr[lo + 1:hi + 1] = m.indptr[1:] + indptr[lo]
        data.append(m.data)
        indices.append(m.indices.astype(np.int32))
    nnz = int(indptr[-1])
    data = np.concatenate(data) if data else np.zeros(0)
    indices = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    if data.dtype != np.float64:
        data = data.astype(np.float64)
    m = sp.csr_matrix((data, indices, indptr.astype(np.int32 if nnz < 2**31 else np.int64)),
                      shape=(n, n))
    return (m, vocab, params) if with_params else (m, vocab)
