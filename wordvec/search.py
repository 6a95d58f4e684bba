"""Semantic search over a collection of texts: an index folder, exact and approximate search.

An index (``wordvec index TEXTS -o INDEX``) is a folder that wordvec writes whole (atomically)
and reads back only after checking every file:

- ``index.json``: the format, how the texts were embedded (:class:`SentenceEncoder` state: the
  method, its options and the fitted SIF component), the model's identity (its path and a
  fingerprint of its words and vectors: a query must be embedded by the same model), the row
  count and dimension, and the approximate index's settings and checksum if there is one;
- ``vectors.npy``: one unit-length float32 row per text (a text with no known word: a zero row,
  never returned);
- ``texts.txt`` and ``offsets.npy``: the texts, one a line (UTF-8), and the byte offset of each
  line's start (``rows + 1`` int64, increasing, the last the file's size), so a hit is printed
  without reading the whole file;
- ``counts.npy`` (``sif`` only): the word counts the weights came from, one per model word;
- ``ann.bin`` (``--ann`` only): an HNSW graph (faiss ``IndexHNSWFlat``, inner product) over the
  rows that are not zero, with their row numbers as ids.

- ``codes.npy``, ``scales.npy``, ``errors.npy``: each row quantised to int8 (``code * scale``,
  the scale the row's largest magnitude / 127) and the length of what that loses,
  ``|row - code * scale|``, for the exact search's first pass.

**Exact search** returns exactly the ``n`` rows of highest cosine, and their float32 scores, but
reads a quarter of the bytes: a Numba kernel scores every row from its int8 code (``scale *
code . q``, on all cores); for a unit query ``q`` that score is within the row's recorded error
of the true one (Cauchy-Schwarz: ``|q . (x - code * scale)| <= |x - code * scale|``). The best
candidates by that score are scored again from the float32 rows; with ``t`` the ``n``-th best
true score among them, every other row whose bound (score + error) reaches ``t`` is scored
again too, so no row that could be in the top ``n`` is missed. Memory stays bounded: the codes
are memory-mapped and scanned in place; one float per row and query is held.

**Approximate search** (``--ann``) asks an HNSW graph (Malkov & Yashunin 2018) built by faiss
(faiss-cpu). Measured against hnswlib at 1 M x 300 (``benchmarks/bench_search.py``): the same
recall and latency at every ef, graph builds within 1.3x of each other (either faster, by
machine), but faiss installs from a wheel while hnswlib needs a C++ compiler; usearch, tried
once, was 3x slower per query. The graph file
is checked against the SHA-256 recorded in ``index.json`` before faiss reads it, since a
damaged graph file could crash a native library.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .errors import WordvecError
from .sentences import SentenceEncoder, _normalise_rows, iter_text_lines, read_npy_rows, write_npy

INDEX_FORMAT = "wordvec-index"
INDEX_VERSION = 1
BLOCK_ROWS = 1 << 16
ANN_DEFAULTS = {"M": 16, "ef_construction": 200, "ef": 160}  # ef 160: recall@10 0.96 at 1 M rows
_FINGERPRINT_ROWS = 4096


# ---- the model's identity --------------------------------------------------------------------
def fingerprint(vectors):
    """A SHA-256 of the model's words, shape and a sample of its vectors: what a query must be
    embedded with to be comparable with the index."""
    h = hashlib.sha256()
    h.update(f"{len(vectors)} {vectors.dim}\n".encode())
    for w in vectors.words:
        h.update(w.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    n = len(vectors)
    rows = np.unique(np.linspace(0, n - 1, min(n, _FINGERPRINT_ROWS)).astype(np.int64)) if n else []
    h.update(np.ascontiguousarray(np.asarray(vectors.matrix[rows], dtype="<f4")).tobytes())
    ngrams = getattr(vectors, "ngrams", None)
    if ngrams is not None and len(ngrams):
        r = np.unique(np.linspace(0, len(ngrams) - 1, min(len(ngrams), _FINGERPRINT_ROWS)).astype(np.int64))
        h.update(np.ascontiguousarray(np.asarray(ngrams[r], dtype="<f4")).tobytes())
    return h.hexdigest()


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


# ---- building ----------------------------------------------------------------------------------
def build_index(vectors, texts, output, *, method="sif", unit=False, sif_a=1e-3, lowercase=False,
                counts=None, model_path=None, ann=False, ann_params=None, threads=None,
                force=False, inputs=(), progress=None):
    """Embed every line of ``texts`` (a path, or ``-`` for stdin) and write the index folder
    ``output``. Returns the :class:`Index`."""
    from . import outputs
    from .io_util import atomic_dir

    encoder = SentenceEncoder(vectors, method=method, unit=unit, sif_a=sif_a, lowercase=lowercase,
                              counts=counts)
    params = dict(ANN_DEFAULTS, **(ann_params or {}))
    if ann:
        _require_faiss()
    with atomic_dir(output, kind="index", force=force, inputs=inputs) as tmp:
        target = outputs.resolve(output)
        t0 = time.perf_counter()
        offsets = [0]
        with open(os.path.join(tmp, "texts.txt"), "wb") as out_texts:
            def lines():
                pos = 0
                for text in iter_text_lines(texts):
                    raw = text.encode("utf-8", "surrogatepass").replace(b"\n", b" ") + b"\n"
                    out_texts.write(raw)
                    pos += len(raw)
                    offsets.append(pos)
                    yield text
            with open(os.path.join(tmp, "vectors.npy"), "w+b") as f:
                rows = write_npy(encoder, lines(), f, normalise=True, on_block=progress)
        if rows == 0:
            raise WordvecError(f"no texts in {texts!r}: nothing to index (one text a line)")
        np.save(os.path.join(tmp, "offsets.npy"), np.asarray(offsets, dtype=np.int64))
        _write_codes(read_npy_rows(os.path.join(tmp, "vectors.npy"), vectors.dim, rows), tmp)
        files = ["texts.txt", "vectors.npy", "offsets.npy", "codes.npy", "scales.npy", "errors.npy"]
        if method == "sif":
            np.save(os.path.join(tmp, "counts.npy"), encoder._model_counts())
            files.append("counts.npy")
        embed_seconds = time.perf_counter() - t0
        header = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "rows": rows,
                  "dim": vectors.dim, "encoder": encoder.state(), "empty": len(encoder.empty),
                  "model": {"path": None if model_path in (None, "-") else os.path.abspath(model_path),
                            "words": len(vectors), "dim": vectors.dim,
                            "fingerprint": fingerprint(vectors)},
                  "texts": None if texts == "-" else os.path.abspath(os.fspath(texts)),
                  "embed_seconds": round(embed_seconds, 3), "ann": None}
        if ann:
            t1 = time.perf_counter()
            X = read_npy_rows(os.path.join(tmp, "vectors.npy"), vectors.dim, rows)
            _build_hnsw(X, os.path.join(tmp, "ann.bin"), params, threads)
            header["ann"] = {"library": "faiss", "space": "ip", **params,
                             "sha256": _sha256_file(os.path.join(tmp, "ann.bin")),
                             "build_seconds": round(time.perf_counter() - t1, 3)}
            files.append("ann.bin")
        with open(os.path.join(tmp, "index.json"), "w", encoding="utf-8") as f:
            json.dump(header, f, indent=1)
            f.write("\n")
        files.append("index.json")
        for name in files:
            outputs.record(os.path.join(tmp, name), "index", os.path.join(target, name))
    return Index.open(output), encoder


def _write_codes(X, folder):
    """int8 codes of the unit rows of ``X``, their scales and the norm of what is lost."""
    n, d = X.shape
    scales = np.zeros(n, dtype=np.float32)
    errors = np.zeros(n, dtype=np.float32)
    codes = np.lib.format.open_memmap(os.path.join(folder, "codes.npy"), mode="w+", dtype=np.int8,
                                      shape=(n, d))
    for s in range(0, n, BLOCK_ROWS):
        x = np.asarray(X[s:s + BLOCK_ROWS], dtype=np.float32)
        m = np.abs(x).max(axis=1) if d else np.zeros(len(x), dtype=np.float32)
        sc = (m / 127).astype(np.float32)
        safe = np.where(sc > 0, sc, 1).astype(np.float32)
        c = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
        codes[s:s + len(x)] = c
        scales[s:s + len(x)] = sc
        lost = x.astype(np.float64) - c.astype(np.float64) * sc[:, None]
        errors[s:s + len(x)] = np.sqrt((lost * lost).sum(axis=1))
    codes.flush()
    del codes
    np.save(os.path.join(folder, "scales.npy"), scales)
    # rounded up, so the float32 value is never below the float64 error
    np.save(os.path.join(folder, "errors.npy"), np.nextafter(errors, np.float32(np.inf)))


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _code_scores(codes, scales, Q, out):
    """out[j, i] = scales[i] * (codes[i] . Q[j]); -inf for rows of scale 0 (zero rows)."""
    n, d = codes.shape
    m = Q.shape[0]
    for i in prange(n):
        sc = scales[i]
        if sc == 0:
            for j in range(m):
                out[j, i] = -np.inf
            continue
        c = codes[i]
        for j in range(m):
            q = Q[j]
            acc = np.float32(0.0)
            for k in range(d):
                acc += np.float32(c[k]) * q[k]
            out[j, i] = acc * sc


# ---- the approximate index ---------------------------------------------------------------------
def _require_faiss():
    try:
        import faiss  # noqa: F401
    except ImportError:
        raise WordvecError("--ann needs faiss: pip install 'wordvec[search]'") from None


def _build_hnsw(X, path, params, threads=None):
    import faiss
    n, d = X.shape
    graph = faiss.IndexHNSWFlat(d, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = int(params["ef_construction"])
    index = faiss.IndexIDMap(graph)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads or os.cpu_count() or 1)
    try:
        for s in range(0, n, BLOCK_ROWS):
            block = np.ascontiguousarray(X[s:s + BLOCK_ROWS], dtype=np.float32)
            live = np.flatnonzero(np.any(block != 0, axis=1))  # texts with no known word: left out
            if len(live):
                index.add_with_ids(np.ascontiguousarray(block[live]), (live + s).astype(np.int64))
    finally:
        faiss.omp_set_num_threads(before)
    faiss.write_index(index, path)


# ---- reading and searching ----------------------------------------------------------------------
@dataclass
class Hit:
    row: int  # 0-based line of the indexed texts
    score: float  # cosine similarity
    text: str

    def to_dict(self):
        return {"line": self.row + 1, "score": round(self.score, 6), "text": self.text}


class Index:
    """An index folder opened for searching; every file is checked first."""

    def __init__(self, path, header, vectors, offsets, codes, scales, errors):
        self.path = path
        self.header = header
        self.vectors = vectors  # (rows, dim) unit rows, memory-mapped
        self.offsets = offsets
        self.codes, self.scales, self.errors = codes, scales, errors  # int8 codes of the rows
        self._ann = None
        self._encoded_with = None  # (vectors, encoder) of the last check: a model is checked once

    @property
    def rows(self):
        return self.header["rows"]

    @property
    def dim(self):
        return self.header["dim"]

    @classmethod
    def open(cls, path):
        path = os.fspath(path)
        meta = os.path.join(path, "index.json")
        if not os.path.isdir(path):
            raise WordvecError(f"no index at {path!r}: build one with 'wordvec index TEXTS -o {path}'")
        try:
            with open(meta, "rb") as f:
                raw = f.read(1 << 24)
            header = json.loads(raw.decode("utf-8"))
        except FileNotFoundError:
            raise WordvecError(f"{path!r} is not a wordvec index (no index.json)") from None
        except OSError as e:
            raise WordvecError(f"{meta}: cannot read: {e.strerror or e}") from None
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise WordvecError(f"{meta}: not valid JSON: the index is damaged") from None
        _check_header(header, meta)
        rows, dim = header["rows"], header["dim"]
        vectors = read_npy_rows(os.path.join(path, "vectors.npy"), dim, rows)
        offsets = _read_offsets(os.path.join(path, "offsets.npy"), rows,
                                os.path.join(path, "texts.txt"))
        codes, scales, errors = _read_codes(path, rows, dim)
        return cls(path, header, vectors, offsets, codes, scales, errors)

    # ---- the model -----------------------------------------------------------------------------
    def encoder(self, vectors):
        """The encoder that embeds queries as the texts were, after checking that ``vectors`` is
        the model the index was built with (once per model object: checking takes a few ms)."""
        if self._encoded_with is not None and self._encoded_with[0] is vectors:
            return self._encoded_with[1]
        want = self.header["model"]
        if len(vectors) != want["words"] or vectors.dim != want["dim"] or \
                fingerprint(vectors) != want["fingerprint"]:
            raise WordvecError(f"this index was built with another model ({want['words']:,} words x "
                               f"{want['dim']} dims, from {want['path'] or 'stdin'}); search it "
                               "with that model (-m)")
        counts = None
        if self.header["encoder"]["method"] == "sif":
            counts = _read_counts(os.path.join(self.path, "counts.npy"), len(vectors))
        encoder = SentenceEncoder.from_state(vectors, self.header["encoder"], counts=counts)
        self._encoded_with = (vectors, encoder)
        return encoder

    # ---- searching -------------------------------------------------------------------------------
    def search_vectors(self, Q, n=10, ann=False, ef=None):
        """For each row of ``Q`` (query vectors), the best ``n`` rows as (rows, scores) arrays,
        best first. Zero query vectors get no hits."""
        Q = np.ascontiguousarray(np.atleast_2d(np.asarray(Q, dtype=np.float32)))
        if Q.shape[1] != self.dim:
            raise WordvecError(f"queries of dimension {Q.shape[1]}, the index holds {self.dim}")
        Q = _normalise_rows(Q.copy())
        n = max(0, min(int(n), self.rows))
        live = np.flatnonzero(np.any(Q != 0, axis=1))
        results = [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)) for _ in range(len(Q))]
        if n == 0 or len(live) == 0:
            return results
        if ann:
            found = self._search_ann(Q[live], n, ef)
        else:
            found = exact_top(self.vectors, self.codes, self.scales, self.errors, Q[live], n)
        for j, q in enumerate(live.tolist()):
            rows, scores = found[j]
            keep = scores > -np.inf
            results[q] = (rows[keep], scores[keep])
        return results

    def _search_ann(self, Q, n, ef):
        info = self.header.get("ann")
        if not info:
            raise WordvecError(f"{self.path!r} has no approximate index: rebuild it with "
                               "'wordvec index --ann', or search it exactly")
        if self._ann is None:
            _require_faiss()
            import faiss
            file = os.path.join(self.path, "ann.bin")
            if not os.path.isfile(file) or _sha256_file(file) != info["sha256"]:
                raise WordvecError(f"{file}: missing or changed since the index was built "
                                   "(its checksum differs): rebuild the index")
            if info.get("library") != "faiss":
                raise WordvecError(f"{file}: an approximate index of {info.get('library')!r}, "
                                   "which this wordvec does not read: rebuild the index")
            try:
                index = faiss.read_index(file)
            except RuntimeError as e:
                raise WordvecError(f"{file}: faiss cannot read it ({str(e).splitlines()[0]}): "
                                   "rebuild the index") from None
            if index.d != self.dim or index.ntotal > self.rows:
                raise WordvecError(f"{file}: {index.ntotal:,} rows x {index.d} dims, the index "
                                   f"holds {self.rows:,} x {self.dim}: rebuild the index")
            self._ann = index
        k = min(n, self._ann.ntotal)
        if k == 0:
            return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)) for _ in Q]
        import faiss
        params = faiss.SearchParametersHNSW(efSearch=max(int(ef or info.get("ef", ANN_DEFAULTS["ef"])), k))
        scores, labels = self._ann.search(np.ascontiguousarray(Q, dtype=np.float32), k, params=params)
        # inner products of unit rows: cosines; -1 ids pad a short list; zero rows are not in it
        out = []
        for lab, sc in zip(labels, scores):
            keep = (lab >= 0) & (lab < self.rows)
            out.append((lab[keep].astype(np.int64), sc[keep].astype(np.float32)))
        return out

    def text(self, row):
        s, e = int(self.offsets[row]), int(self.offsets[row + 1])
        with open(os.path.join(self.path, "texts.txt"), "rb") as f:
            f.seek(s)
            return f.read(e - s).decode("utf-8", "replace").rstrip("\n")

    def search(self, vectors, queries, n=10, ann=False, ef=None):
        """Embed ``queries`` (str or list of str) with ``vectors`` (the index's model) and return,
        per query, a list of :class:`Hit`, best first."""
        single = isinstance(queries, str)
        queries = [queries] if single else list(queries)
        Q = self.encoder(vectors).transform(queries)
        found = self.search_vectors(Q, n, ann=ann, ef=ef)
        hits = [[Hit(int(r), float(s), self.text(int(r))) for r, s in zip(rows, scores)]
                for rows, scores in found]
        return hits[0] if single else hits


QUERY_BATCH = 16  # queries scored per pass over the codes
BLAS_QUERIES = 32  # from this many queries on, exact search scores the float32 rows by BLAS
BLAS_GROUP = 256  # queries a pass over the float32 rows serves
_CANDIDATES = 64  # at least this many candidates re-scored from float32 rows per query
_SLACK = np.float32(1e-4)  # float32 rounding of the code scores, with a wide margin


def exact_top(X, codes, scales, errors, Q, n):
    """For each row of ``Q`` (unit queries), the ``n`` rows of ``X`` of highest ``X @ q`` (rows of
    scale 0, zero rows, never), found from the int8 ``codes`` and checked with ``errors`` (see
    the module's description): ``[(rows, scores)]``, best first.

    From ``BLAS_QUERIES`` queries on, the float32 rows themselves are scored instead, by blocks
    of a matrix product (``_blas_top``): one pass over 4 bytes a value serves many queries, and
    a BLAS matrix product outruns the int8 kernel's query-by-query dot products."""
    N = len(X)
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    if len(Q) >= BLAS_QUERIES:
        return _blas_top(X, scales, Q, n)
    out = []
    for s in range(0, len(Q), QUERY_BATCH):
        batch = Q[s:s + QUERY_BATCH]
        approx = np.empty((len(batch), N), dtype=np.float32)
        _code_scores(codes, scales, batch, approx)
        for q, a in zip(batch, approx):
            out.append(_refine(X, errors, q, a, n))
    return out


def _blas_top(X, scales, Q, n):
    """Exact top ``n`` of ``X @ q`` for every row of ``Q``: row blocks of ``X`` scored against
    ``BLAS_QUERIES``-query groups by one matrix product each, every query's best ``n`` kept in a
    heap by :func:`_keep_best` (rows of scale 0 never); the rows kept are scored again as
    ``_refine`` scores them, so a query gets the same scores alone or in a batch."""
    N = len(X)
    valid = scales > 0
    n = min(n, int(valid.sum()))
    out = []
    for s in range(0, len(Q), BLAS_GROUP):
        group = Q[s:s + BLAS_GROUP]
        best_s = np.full((len(group), max(n, 1)), -np.inf, dtype=np.float32)
        best_i = np.full((len(group), max(n, 1)), -1, dtype=np.int64)
        if n > 0:
            S = np.empty((len(group), BLOCK_ROWS), dtype=np.float32)
            for a in range(0, N, BLOCK_ROWS):
                block = np.asarray(X[a:a + BLOCK_ROWS], dtype=np.float32)
                scores = S[:, :len(block)]
                np.matmul(group, block.T, out=scores)
                _keep_best(scores, valid, a, best_s, best_i)
        for q, rows in zip(group, best_i):
            rows = np.sort(rows[rows >= 0])
            exact = np.asarray(X[rows], dtype=np.float32) @ q if len(rows) else np.zeros(0, np.float32)
            order = np.argsort(-exact, kind="stable")
            out.append((rows[order].astype(np.int64), exact[order]))
    return out


@njit(cache=True, nogil=True, fastmath=True, parallel=True)
def _keep_best(S, valid, offset, best_s, best_i):
    """Fold the scores ``S`` (queries x rows ``offset``...) into each query's heap of its best
    ``n`` (``best_s``/``best_i``, the worst at the root: the lowest score, of equal scores the
    later row), valid rows only; a row replaces the root only if strictly better, so of equal
    scores the earlier row stays."""
    m, rows = S.shape
    n = best_s.shape[1]
    for j in prange(m):
        hs = best_s[j]
        hi = best_i[j]
        for r in range(rows):
            v = S[j, r]
            if v > hs[0] and valid[offset + r]:
                row = offset + r
                # sift down from the root
                p = 0
                while True:
                    c = 2 * p + 1
                    if c >= n:
                        break
                    if c + 1 < n and (hs[c + 1] < hs[c] or (hs[c + 1] == hs[c] and hi[c + 1] > hi[c])):
                        c += 1
                    if hs[c] < v or (hs[c] == v and hi[c] > row):
                        hs[p] = hs[c]
                        hi[p] = hi[c]
                        p = c
                    else:
                        break
                hs[p] = v
                hi[p] = row


def _refine(X, errors, q, approx, n):
    live = int(np.count_nonzero(approx > -np.inf))
    n = min(n, live)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    c = min(live, max(4 * n, _CANDIDATES))
    cand = np.argpartition(-approx, c - 1)[:c] if c < len(approx) else np.arange(len(approx))
    cand = np.sort(cand[approx[cand] > -np.inf])
    exact = np.asarray(X[cand], dtype=np.float32) @ q
    tau = np.partition(exact, len(exact) - n)[len(exact) - n]  # the n-th best true score so far
    bound = approx + errors + _SLACK  # no row's true score is above its bound
    more = np.flatnonzero(bound >= tau)
    more = more[~np.isin(more, cand, assume_unique=True)]
    if len(more):
        exact = np.concatenate([exact, np.asarray(X[more], dtype=np.float32) @ q])  # (more: sorted)
        cand = np.concatenate([cand, more])
    best = np.argsort(-exact, kind="stable")[:n]
    return cand[best].astype(np.int64), exact[best]


# ---- validation -----------------------------------------------------------------------------------
def _check_header(h, meta):
    def bad(what):
        raise WordvecError(f"{meta}: {what}: the index is damaged or not a wordvec index")
    if not isinstance(h, dict) or h.get("format") != INDEX_FORMAT:
        bad("not a wordvec index header")
    if h.get("version") != INDEX_VERSION:
        raise WordvecError(f"{meta}: index version {h.get('version')!r}; this wordvec reads version "
                           f"{INDEX_VERSION}")
    for key in ("rows", "dim"):
        v = h.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > 2**40:
            bad(f"{key} is {v!r}")
    if h["dim"] > 100_000:
        bad(f"dim is {h['dim']}")
    m = h.get("model")
    if not isinstance(m, dict) or not isinstance(m.get("fingerprint"), str) or \
            not isinstance(m.get("words"), int) or m.get("dim") != h["dim"] or \
            not (m.get("path") is None or isinstance(m.get("path"), str)):
        bad("the model's identity is missing")
    e = h.get("encoder")
    if not isinstance(e, dict) or e.get("method") not in ("mean", "sif"):
        bad("the text-vector settings are missing")
    c = e.get("component")
    if e["method"] == "sif" and (not isinstance(c, list) or len(c) != h["dim"] or
                                 not all(isinstance(x, (int, float)) and np.isfinite(x) for x in c)):
        bad("the SIF component is missing or not finite")
    a = h.get("ann")
    if a is not None and (not isinstance(a, dict) or not isinstance(a.get("sha256"), str)):
        bad("the approximate index's settings are damaged")


def _read_offsets(path, rows, texts_path):
    from .sentences import _npy_check
    offsets = _npy_check(path, np.int64, (rows + 1,))
    try:
        size = os.path.getsize(texts_path)
    except OSError:
        raise WordvecError(f"{texts_path}: missing: the index is damaged") from None
    if offsets[0] != 0 or offsets[-1] != size or np.any(np.diff(offsets) < 1):
        raise WordvecError(f"{path}: the offsets do not match texts.txt ({size:,} bytes): the "
                           "index is damaged")
    return offsets


def _read_codes(folder, rows, dim):
    from .sentences import _npy_check
    codes = _npy_check(os.path.join(folder, "codes.npy"), np.int8, (rows, dim), mmap=True)
    scales = _npy_check(os.path.join(folder, "scales.npy"), np.float32, (rows,))
    errors = _npy_check(os.path.join(folder, "errors.npy"), np.float32, (rows,))
    if not (np.all(np.isfinite(scales)) and np.all(scales >= 0) and np.all(np.isfinite(errors))
            and np.all(errors >= 0)):
        raise WordvecError(f"{folder}: scales.npy or errors.npy holds negative or non-finite "
                           "values: the index is damaged")
    return codes, scales, errors


def _read_counts(path, words):
    from .sentences import _npy_check
    c = _npy_check(path, np.float64, (words,))
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise WordvecError(f"{path}: expected {words:,} finite counts >= 0: the index is damaged")
    return c
