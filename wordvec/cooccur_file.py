"""Co-occurrence matrices on disk: the ``.npz`` that ``wordvec cooccur`` writes and GloVe/LSA read.

The file holds the CSR arrays (``data``, ``indices``, ``indptr``, ``shape``), the vocabulary
(``words``, ``counts``), a ``format`` tag and the counting ``params`` as JSON; no pickle.
Everything read is checked before a kernel sees it (:func:`validate_cooccurrence`): every
member's ``.npy`` header before it is read, dtypes, shapes, ``indptr`` monotone and ending at
the number of entries, every index in range, finite non-negative counts; a matrix handed in
from Python goes through the same checks (:func:`validate_pair`).
"""

import os

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
    """Read an ``.npz`` written by :func:`save_cooccurrence` -> ``(csr_matrix, Vocabulary)``.

    Every field is checked before use: the arrays' types and shapes, the CSR structure and
    index ranges (:func:`validate_cooccurrence`), the words and counts, and ``params`` (a JSON
    object). Anything wrong is one :class:`WordvecError` naming the file and the field.
    """
    import json
    path = os.fspath(path)
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
        if not isinstance(params, dict):
            raise WordvecError(f"{path}: field 'params' must be a JSON object, not "
                               f"{type(params).__name__}")
        window = params.get("window", 1)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise WordvecError(f"{path}: field 'params': window must be an integer >= 1, "
                               f"not {window!r}"[:200])
        for key in ("symmetric", "distance_weighting"):
            if not isinstance(params.get(key, True), bool):
                raise WordvecError(f"{path}: field 'params': {key} must be true or false, "
                                   f"not {params[key]!r}"[:200])
    return (m, vocab, params) if with_params else (m, vocab)


def read_settings(path):
    """The counting settings (window, symmetric, distance_weighting) recorded in a saved matrix.

    ``{}`` when the file has none or cannot be read (loading it reports what is wrong).
    """
    import json
    try:
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
