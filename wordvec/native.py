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
"""

import importlib
import json
import os

import numpy as np

from . import __version__
from .errors import WordvecError
from .io_util import atomic_dir

HEADER = "model.json"
FORMAT_VERSION = 1

# classes a native file may name; a subclass adds itself with ``register``
_CLASSES = {"Vectors": "wordvec.vectors:Vectors", "FastTextVectors": "wordvec.fasttext:FastTextVectors"}


def register(name, dotted):
    """Let native files name a Vectors subclass (``"wordvec.module:Class"``)."""
    _CLASSES[name] = dotted


def is_native(path):
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, HEADER))


def save(vectors, path, arrays=None):
    """Save ``vectors`` (a Vectors or subclass) and extra ``arrays`` ({name: ndarray}).

    ``vectors.meta`` supplies ``kind``, ``params`` and ``stats``; a subclass contributes its own
    arrays and header fields through ``native_state()`` -> ``(fields, arrays)``.
    """
    fields, own_arrays = vectors.native_state() if hasattr(vectors, "native_state") else ({}, {})
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
    counts = vectors.counts if vectors.counts is not None else np.zeros(len(vectors), np.int64)
    with atomic_dir(path) as tmp:
        for name, arr in all_arrays.items():
            np.save(os.path.join(tmp, f"{name}.npy"), np.ascontiguousarray(arr), allow_pickle=False)
        with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8") as f:
            for w, c in zip(vectors.words, counts.tolist()):
                f.write(f"{w} {c}\n")
        with open(os.path.join(tmp, HEADER), "w", encoding="utf-8") as f:
            json.dump(header, f, indent=1, default=_json_default)
            f.write("\n")


def read_header(path):
    try:
        with open(os.path.join(path, HEADER), encoding="utf-8") as f:
            header = json.load(f)
    except (OSError, ValueError) as e:
        raise WordvecError(f"{path}: cannot read {HEADER}: {e}") from None
    if not isinstance(header, dict) or header.get("format") != "wordvec":
        raise WordvecError(f"{path}: {HEADER} is not a wordvec model header")
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise WordvecError(f"{path}: written by a newer wordvec (format {header['format_version']})")
    return header


def load(path, mmap=True):
    """Load a native model folder; arrays are memory-mapped unless ``mmap=False``."""
    header = read_header(path)
    arrays = {}
    for name, fname in header.get("arrays", {}).items():
        full = os.path.join(path, os.path.basename(fname))
        try:
            arrays[name] = np.load(full, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:
            raise WordvecError(f"{path}: array {name!r} is missing or corrupt ({e})") from None
    if "vectors" not in arrays:
        raise WordvecError(f"{path}: no vectors array in the model")
    words, counts = [], []
    try:
        with open(os.path.join(path, "vocab.txt"), encoding="utf-8") as f:
            for line in f:
                w, _, c = line.rstrip("\n").rpartition(" ")
                words.append(w)
                counts.append(int(c))
    except (OSError, ValueError) as e:
        raise WordvecError(f"{path}: vocab.txt is missing or corrupt ({e})") from None
    matrix = arrays.pop("vectors")
    if matrix.ndim != 2 or matrix.shape[0] != len(words) or len(words) != header.get("vocab_size"):
        raise WordvecError(
            f"{path}: truncated or corrupt model: {len(words)} words in vocab.txt, "
            f"vectors of shape {matrix.shape}, header says {header.get('vocab_size')}")
    cls = _resolve(header.get("class", "Vectors"), path)
    meta = {"kind": header.get("kind"), "params": header.get("params", {}),
            "stats": header.get("stats", {}), "header": header}
    if hasattr(cls, "from_native"):
        return cls.from_native(words, matrix, counts, meta, header.get("fields", {}), arrays)
    vectors = cls(words, matrix, counts=counts, meta=meta)
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
