"""The native model format: a folder with a JSON header, a vocabulary and ``.npy`` arrays.

```
vectors/                  (the folder ``wordvec train`` writes; name it as you like)
  model.json              {"format": "wordvec", "format_version": 1, "kind", "class", "params",
                           "stats", "vocab_size", "dim", "arrays": {name: file}, "wordvec_version"}
  vocab.txt               "word count" lines, row order of the matrix
  vectors.npy             float32 (vocab_size, dim): the word vectors
  <name>.npy              further arrays a model needs (e.g. fastText's n-gram rows)
```

No pickle anywhere: arrays load with ``allow_pickle=False`` and memory mapping, so a large model
opens instantly. Writing goes to a temporary folder renamed into place.

Loading trusts nothing it reads: the header's field types, each ``.npy`` header (plain numeric
dtype, shape against the header and against the file's size) before the array is mapped, finite
values (one pass over the mapped arrays, in blocks), and vocab.txt (one ``word count`` line per
row, counts >= 0, no repeated word). Anything wrong is one :class:`WordvecError` naming the
folder and the file or field.
"""

import importlib
import json
import os
import warnings

import numpy as np

from . import __version__
from .errors import WordvecError
from .io_util import atomic_dir

HEADER = "model.json"
FORMAT_VERSION = 1

# classes a native file may name; a subclass adds itself with ``register``
_CLASSES = {"Vectors": "wordvec.vectors:Vectors", "FastTextVectors": "wordvec.vectors:FastTextVectors"}


def register(name, dotted):
    """Let native files name a Vectors subclass (``"wordvec.module:Class"``)."""
    _CLASSES[name] = dotted


def is_native(path):
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, HEADER))


def save(vectors, path, arrays=None, *, fields=None, force=False, inputs=()):
    """Save ``vectors`` (a Vectors or subclass) and extra ``arrays`` ({name: ndarray}).

    ``vectors.meta`` supplies ``kind``, ``params`` and ``stats``; a subclass contributes its own
    arrays and header fields through ``native_state()`` -> ``(fields, arrays)``.
    """
    own_fields, own_arrays = (vectors.native_state() if hasattr(vectors, "native_state")
                              else ({}, {}))
    fields = {**own_fields, **(fields or {})}
    all_arrays = {"vectors": vectors.matrix, **own_arrays, **(arrays or {})}
    meta = vectors.meta
    header = {
        "format": "wordvec",
        "format_version": FORMAT_VERSION,
        "wordvec_version": __version__,
        "kind": meta.get("kind", "vectors"),
        "class": type(vectors).__name__,
        "vocab_size": len(vectors),
        "dim": vectors.dim,
        "params": meta.get("params", {}),
        "stats": meta.get("stats", {}),
        "fields": fields,
        "arrays": {name: f"{name}.npy" for name in all_arrays},
    }
    for i, w in enumerate(vectors.words):
        if not isinstance(w, str) or "\n" in w or "\r" in w:
            raise WordvecError(f"cannot write a native model: word {i + 1} ({str(w)[:40]!r}) "
                               "contains a line break (vocab.txt holds one word a line)")
    counts = vectors.counts if vectors.counts is not None else np.zeros(len(vectors), np.int64)
    with atomic_dir(path, force=force, inputs=inputs) as tmp:
        for name, arr in all_arrays.items():
            np.save(os.path.join(tmp, f"{name}.npy"), np.ascontiguousarray(arr), allow_pickle=False)
        with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8") as f:
            for w, c in zip(vectors.words, counts.tolist()):
                f.write(f"{w} {c}\n")
        with open(os.path.join(tmp, HEADER), "w", encoding="utf-8") as f:
            json.dump(header, f, indent=1, default=_json_default)
            f.write("\n")


MAX_HEADER_BYTES = 64 << 20  # a model.json is a few kB; a bigger one is not a header
_SCAN_BYTES = 16 << 20  # the finiteness scan of an array reads this much at a time


def _json_error(e):
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return str(e) or type(e).__name__


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def read_header(path):
    """The model.json of a native folder as a dict, its fields checked (one-line errors)."""
    full = os.path.join(path, HEADER)
    try:
        if os.path.getsize(full) > MAX_HEADER_BYTES:
            raise WordvecError(f"{path}: {HEADER} is too large to be a model header")
        with open(full, "rb") as f:
            header = json.loads(f.read().decode("utf-8"))
    except WordvecError:
        raise
    except OSError as e:
        raise WordvecError(f"{path}: cannot read {HEADER}: {e.strerror or e}") from None
    except (ValueError, RecursionError) as e:
        raise WordvecError(f"{path}: {HEADER} is not valid JSON ({_json_error(e)})") from None
    if not isinstance(header, dict) or header.get("format") != "wordvec":
        raise WordvecError(f"{path}: {HEADER} is not a wordvec model header")
    version = header.get("format_version", 0)
    if not _is_int(version):
        raise WordvecError(f"{path}: {HEADER}: field 'format_version' must be an integer, "
                           f"not {_short(version)}")
    if version > FORMAT_VERSION:
        raise WordvecError(f"{path}: written by a newer wordvec (format {version})")
    for key in ("vocab_size", "dim"):
        value = header.get(key)
        if not _is_int(value) or value < 0:
            raise WordvecError(f"{path}: {HEADER}: field {key!r} must be an integer >= 0, "
                               f"not {_short(value)}")
    for key in ("params", "stats", "fields"):
        if not isinstance(header.get(key, {}), dict):
            raise WordvecError(f"{path}: {HEADER}: field {key!r} must be a JSON object, "
                               f"not {_short(header[key])}")
    for key in ("class", "kind", "wordvec_version"):
        if not isinstance(header.get(key, ""), str):
            raise WordvecError(f"{path}: {HEADER}: field {key!r} must be a string, "
                               f"not {_short(header[key])}")
    arrays = header.get("arrays", {})
    if not isinstance(arrays, dict):
        raise WordvecError(f"{path}: {HEADER}: field 'arrays' must be a JSON object of "
                           f"array names and file names, not {_short(arrays)}")
    for name, fname in arrays.items():
        if not isinstance(fname, str) or not _plain_file_name(fname):
            raise WordvecError(f"{path}: {HEADER}: arrays[{name!r}] must be a plain file name "
                               f"in the model folder, not {_short(fname)}")
    return header


def _short(value, width=40):
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


def _plain_file_name(name):
    return (bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name
            and "\x00" not in name and os.path.basename(name) == name)


def read_npy_header(f, size, what):
    """Check the header of the ``.npy`` stream ``f`` (at its start) holding ``size`` bytes.

    Returns ``(shape, dtype)``. Refuses what is not a ``.npy`` array, object (pickled) and
    structured dtypes, and shapes that need more (or fewer) bytes than there are, all as one
    :class:`WordvecError` naming ``what``; nothing is allocated from the header's word.
    """
    fmt = np.lib.format
    try:
        with warnings.catch_warnings():  # (e.g. "created on Python 2": no line of its own)
            warnings.simplefilter("ignore")
            return _npy_header(f, size, what, fmt)
    except WordvecError:
        raise
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 - numpy parses the header text with tokenize and
        # ast (seen: ValueError, SyntaxError, tokenize.TokenError): all mean "not a .npy"
        raise WordvecError(f"{what}: not a .npy array file ({_json_error(e)[:80]})") from None


def _npy_header(f, size, what, fmt):
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(f)
    else:
        raise WordvecError(f"{what}: unsupported .npy version {version[0]}.{version[1]}")
    offset = f.tell()
    if dtype.hasobject:
        raise WordvecError(f"{what}: holds Python objects, which wordvec never loads "
                           "(not a plain numeric array)")
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufcSU":
        raise WordvecError(f"{what}: unsupported array type {dtype.str!r} "
                           "(expected a plain numeric array)")
    count = 1
    for d in shape:
        count *= int(d)
    need = count * dtype.itemsize
    if offset + need != size:
        raise WordvecError(f"{what}: truncated or corrupt array: its header promises shape "
                           f"{tuple(shape)} ({need:,} bytes of data), the file holds "
                           f"{max(size - offset, 0):,}")
    return tuple(int(d) for d in shape), dtype


def check_finite(array, what, label="row", first=0):
    """Raise WordvecError naming ``what`` and the first row that holds NaN or infinity (rows
    numbered from ``first + 1``).

    Memory-mapped arrays are scanned in blocks of a few MB, so this reads the file once. A block
    is checked by one float64 sum (NaN or infinity anywhere makes it non-finite; finite float32
    values cannot overflow it), without a temporary array of the block's size; only a bad block
    is searched for its first bad row.
    """
    if array.dtype.kind not in "fc" or array.size == 0:
        return
    rows = array.reshape(len(array), -1) if array.ndim > 1 else array.reshape(-1, 1)  # (0-d too)
    step = max(1, _SCAN_BYTES // max(1, rows.shape[1] * array.dtype.itemsize))
    for start in range(0, len(rows), step):
        block = rows[start:start + step]
        with np.errstate(over="ignore", invalid="ignore"):
            total = block.sum(dtype=np.complex128 if block.dtype.kind == "c" else np.float64)
        if np.isfinite(total):
            continue
        ok = np.isfinite(block).all(axis=1)
        if not ok.all():
            bad = first + start + int(np.argmin(ok))
            raise WordvecError(f"{what}: {label} {bad + 1} holds NaN or infinity")


def _regular(full, what):
    """Refuse what is not a regular file (a FIFO would hang, a device never end)."""
    if os.path.exists(full) and not os.path.isfile(full):
        raise WordvecError(f"{what}: not a regular file")


def _load_array(path, name, fname, mmap):
    full = os.path.join(path, fname)
    what = f"{path}: {fname}"
    _regular(full, what)
    try:
        with open(full, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            shape, dtype = read_npy_header(f, size, what)
    except FileNotFoundError:
        raise WordvecError(f"{path}: array {name!r} is missing ({fname} not found)") from None
    except IsADirectoryError:
        raise WordvecError(f"{what}: a folder, not an array file") from None
    except OSError as e:
        raise WordvecError(f"{what}: cannot read: {e.strerror or e}") from None
    if dtype.kind not in "biuf":
        raise WordvecError(f"{what}: array type {dtype.str!r} is not numeric")
    try:
        # a zero-size array cannot be memory-mapped
        mode = "r" if mmap and 0 not in shape else None
        with warnings.catch_warnings():  # (the header was checked; numpy may still warn)
            warnings.simplefilter("ignore")
            array = np.load(full, mmap_mode=mode, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise WordvecError(f"{what}: corrupt array ({str(e)[:80]})") from None
    if array.shape != shape or array.dtype != dtype:  # pragma: no cover - changed underneath
        raise WordvecError(f"{what}: the array changed while it was read")
    return array


def check_vectors_shape(path, header):
    """Check (cheaply: the .npy header only) that the vectors array is what ``header`` says."""
    fname = header.get("arrays", {}).get("vectors")
    if fname is None:
        raise WordvecError(f"{path}: no vectors array in the model ({HEADER} lists none)")
    what = f"{path}: {fname}"
    _regular(os.path.join(path, fname), what)
    try:
        with open(os.path.join(path, fname), "rb") as f:
            shape, dtype = read_npy_header(f, os.fstat(f.fileno()).st_size, what)
    except FileNotFoundError:
        raise WordvecError(f"{path}: array 'vectors' is missing ({fname} not found)") from None
    except OSError as e:
        raise WordvecError(f"{what}: cannot read: {e.strerror or e}") from None
    if dtype.kind != "f" or shape != (header["vocab_size"], header["dim"]):
        raise WordvecError(f"{what}: vectors of shape {shape} ({dtype}), but {HEADER} says "
                           f"{header['vocab_size']:,} words x {header['dim']} dims of floats "
                           "(truncated or corrupt model)")


def _read_vocab(path, vocab_size):
    """``(words, counts)`` from vocab.txt: one ``word count`` line per row, checked."""
    what = f"{path}: vocab.txt"
    _regular(os.path.join(path, "vocab.txt"), what)
    words, counts, seen = [], [], {}
    try:
        # only a line feed ends a line (a word may hold any other character)
        with open(os.path.join(path, "vocab.txt"), "rb") as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise WordvecError(f"{what}: line {lineno}: not UTF-8 text (a binary or "
                                       "corrupt file)") from None
                if lineno > vocab_size:
                    raise WordvecError(f"{what}: line {lineno}: more lines than the "
                                       f"{vocab_size:,} words {HEADER} promises (truncated "
                                       "or corrupt model)")
                line = line[:-1] if line.endswith("\n") else line
                line = line[:-1] if line.endswith("\r") else line
                w, sep, c = line.rpartition(" ")
                if not sep or not (c.isascii() and c.isdigit()) or len(c) > 19:
                    raise WordvecError(f"{what}: line {lineno}: expected 'word count' with a "
                                       f"count >= 0, got {line[:60]!r}")
                count = int(c)
                if count >= 2**63:
                    raise WordvecError(f"{what}: line {lineno}: count {c} is too large")
                if w in seen:
                    raise WordvecError(f"{what}: line {lineno}: the word {w[:60]!r} is also on "
                                       f"line {seen[w]}")
                seen[w] = lineno
                words.append(w)
                counts.append(count)
    except FileNotFoundError:
        raise WordvecError(f"{path}: vocab.txt is missing") from None
    except OSError as e:
        raise WordvecError(f"{what}: cannot read: {e.strerror or e}") from None
    if len(words) != vocab_size:
        raise WordvecError(f"{what}: {len(words):,} lines, but {HEADER} promises "
                           f"{vocab_size:,} words (truncated or corrupt model)")
    return words, counts


def load(path, mmap=True):
    """Load a native model folder; arrays are memory-mapped unless ``mmap=False``.

    Everything read is checked before use: the header's fields and types, each array's type and
    shape against the header, finite values, and vocab.txt (one ``word count`` line per row).
    """
    header = read_header(path)
    n, dim = header["vocab_size"], header["dim"]
    files = header.get("arrays", {})
    if "vectors" not in files:
        raise WordvecError(f"{path}: no vectors array in the model ({HEADER} lists none)")
    arrays = {name: _load_array(path, name, fname, mmap) for name, fname in files.items()}
    matrix = arrays.pop("vectors")
    vfile = f"{path}: {files['vectors']}"
    if matrix.dtype.kind != "f":
        raise WordvecError(f"{vfile}: the vectors must be floating point, not {matrix.dtype}")
    if matrix.shape != (n, dim):
        raise WordvecError(f"{vfile}: vectors of shape {matrix.shape}, but {HEADER} says "
                           f"{n:,} words x {dim} dims (truncated or corrupt model)")
    words, counts = _read_vocab(path, n)
    check_finite(matrix, vfile, "row")
    for name, array in arrays.items():
        check_finite(array, f"{path}: {files[name]}", "row")
    cls = _resolve(header.get("class", "Vectors"), path)
    meta = {"kind": header.get("kind"), "params": header.get("params", {}),
            "stats": header.get("stats", {}), "header": header}
    try:
        if hasattr(cls, "from_native"):
            return cls.from_native(words, matrix, counts, meta, header.get("fields", {}), arrays)
        vectors = cls(words, matrix, counts=counts, meta=meta)
    except WordvecError as e:
        raise WordvecError(f"{path}: {e}") from None
    vectors.arrays = arrays
    return vectors


def _resolve(name, path):
    dotted = _CLASSES.get(name)
    if dotted is None:
        raise WordvecError(f"{path}: unknown vectors class {name!r} in {HEADER}")
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
