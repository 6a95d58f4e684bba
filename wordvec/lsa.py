"""LSA: count-based word vectors from a weighted sparse matrix and a truncated SVD.

Two modes (``matrix=``):

``"ppmi"`` (default; Levy, Goldberg & Dagan 2015, "Improving distributional similarity with
lessons learned from word embeddings")
    word–context counts ``#(w, c)`` from :func:`wordvec.cooccur.count_cooccurrence` (symmetric
    window, unweighted by default), then positive PMI with context-distribution smoothing and
    an optional shift::

        PPMI(w, c) = max(0, log( #(w,c) · Σ_c' #(c')^α / (#(w) · #(c)^α) ) − log k)

    with ``α = cds`` and ``k = shift``; computed on the non-zero counts only (a zero count stays
    zero), never as a dense V x V. Truncated SVD ``M ≈ U Σ Vᵀ``; word vectors ``U Σ^eig``,
    or ``U Σ^eig + V Σ^eig`` (W + C) with ``add_context``.

``"tfidf"`` (classic LSA; Deerwester et al. 1990, Dumais 1991)
    a term–document matrix (a document is a line of the corpus, or a block of ``doc_lines``
    lines; empty documents are dropped), weighted by

    - ``tfidf``: ``(1 + ln tf) · ln(D / df)`` (sublinear term frequency times inverse
      document frequency, D = number of documents), or
    - ``log-entropy``: ``ln(1 + tf) · g_w`` with ``g_w = 1 + Σ_d p_wd ln p_wd / ln D`` and
      ``p_wd = tf_wd / Σ_d tf_wd`` (1 for a word concentrated in one document, 0 for a word
      spread evenly over all of them),

    then a truncated SVD; word vectors ``U Σ^eig`` (``eig`` defaults to 1 here: U·Σ).

Defaults. ``dim=300``: Levy et al. found 300–500 SVD dimensions right for PPMI (low-rank
approximation of a V x V matrix needs more dimensions than SGNS's 100 to keep the similarity
structure); 300 keeps the SVD fast and the model the size of a common 300-d embedding.
``window=5``: the skip-gram default, so both families see the same contexts in the
benchmark; the WS-353/MEN relatedness targets favour wider windows than hyperwords' 2.
``eig=0.5`` and ``cds=0.75``: the values Levy et al. recommend. SVD: randomized subspace
iteration, 6 iterations (:mod:`wordvec.svd`: chosen by measurement against ARPACK and
scikit-learn; see there). ``memory_gb=2``: the co-occurrence counter fills its whole budget on
a large corpus, and 2 GB keeps the LSA peak well below 4 GB (GloVe's default is 4).

A sentence of the encoded corpus is a line, or a 10,000-token piece of a longer line, so in
tf-idf mode a one-line corpus (text8) becomes documents of 10,000 tokens.
"""

import os
import time

import numpy as np
import scipy.sparse as sp

from . import progress as report
from .errors import WordvecError
from .model import Model
from .params import LSA as LSA_PARAMS
from .svd import truncated_svd
from .vectors import Vectors

MATRICES = ("ppmi", "tfidf")
WEIGHTINGS = ("tfidf", "log-entropy")
BLOCK_NNZ = 1 << 22  # entries processed at a time (bounds temporary memory)


# ---- PPMI -----------------------------------------------------------------------------------
def ppmi(counts, cds=0.75, shift=1.0):
    """Positive (shifted) PMI of a word–context count matrix, with context smoothing ``cds``.

    ``counts`` is a scipy.sparse matrix (rows = words, columns = contexts). Returns a CSR float32
    matrix holding only the positive entries. Memory: the result plus one block of entries.
    """
    _check_ppmi_params(cds, shift)
    C = sp.csr_matrix(counts)
    C.sum_duplicates()
    if C.nnz and C.data.min() < 0:
        raise WordvecError("co-occurrence counts must be non-negative")
    row_sum = np.asarray(C.sum(axis=1), dtype=np.float64).ravel()
    col_sum = np.asarray(C.sum(axis=0), dtype=np.float64).ravel()
    return ppmi_rows(C, *ppmi_terms(row_sum, col_sum, cds, shift))


def ppmi_terms(row_sum, col_sum, cds, shift):
    """The log row sums, smoothed log column sums and offset PPMI needs (``ppmi_rows``' inputs),
    from a whole matrix's row and column sums (float64)."""
    with np.errstate(divide="ignore"):
        log_row = np.log(row_sum)
        log_col = cds * np.log(col_sum)
    smooth_total = float(np.sum(col_sum[col_sum > 0] ** cds))
    if smooth_total <= 0:
        raise WordvecError("the co-occurrence matrix is empty: no word pairs to weight")
    offset = np.log(smooth_total) - np.log(float(shift))
    return log_row, log_col, offset


def ppmi_rows(C, log_row, log_col, offset):
    """The PPMI of the rows of ``C`` (a canonical CSR of counts, non-negative) given the log of
    their sums ``log_row``, the smoothed log column sums ``log_col`` (cds times the log of the
    whole matrix's column sums) and ``offset`` (log of the smoothed total, minus log shift) ->
    CSR float32 of the positive entries. :func:`ppmi` of a whole matrix, or of its row blocks
    one at a time (:mod:`wordvec.distributed_lsa`, with the column sums of all blocks)."""
    n_rows = C.shape[0]
    kept_per_row = np.zeros(n_rows, dtype=np.int64)
    data_parts, index_parts = [], []
    indptr = C.indptr
    r0 = 0
    while r0 < n_rows:
        r1 = int(np.searchsorted(indptr, indptr[r0] + BLOCK_NNZ, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n_rows)
        a, b = indptr[r0], indptr[r1]
        rows = np.repeat(np.arange(r0, r1), np.diff(indptr[r0:r1 + 1]))
        cols = C.indices[a:b]
        val = np.log(C.data[a:b].astype(np.float64)) - log_row[rows] - log_col[cols] + offset
        keep = val > 0
        data_parts.append(val[keep].astype(np.float32))
        index_parts.append(cols[keep].astype(np.int32))
        kept_per_row[r0:r1] = np.bincount(rows[keep] - r0, minlength=r1 - r0)
        r0 = r1
    out_indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(kept_per_row, out=out_indptr[1:])
    data = np.concatenate(data_parts) if data_parts else np.zeros(0, np.float32)
    indices = np.concatenate(index_parts) if index_parts else np.zeros(0, np.int32)
    return sp.csr_matrix((data, indices, out_indptr), shape=C.shape)


def _check_ppmi_params(cds, shift):
    if not cds > 0:
        raise WordvecError(f"cds (context-distribution smoothing) must be > 0, got {cds}")
    if cds > 1:
        raise WordvecError(f"cds must be at most 1 (1 = no smoothing), got {cds}")
    if not shift >= 1:
        raise WordvecError(f"shift (PMI shifted by log shift) must be at least 1, got {shift}")


# ---- term–document --------------------------------------------------------------------------
def term_document(ids, offsets, vocab_size, doc_lines=1):
    """Term–document counts (CSR float32, vocab_size x D) from encoded ids and line offsets.

    A document is ``doc_lines`` consecutive sentences; documents without words are dropped.
    Built block by block (``np.unique`` over ``doc * V + word`` keys), so temporary memory is
    bounded by a block and the result by its non-zeros.
    """
    if doc_lines < 1:
        raise WordvecError(f"doc_lines must be at least 1, got {doc_lines}")
    offsets = np.asarray(offsets, dtype=np.int64)
    doc_off = offsets[::doc_lines]
    if doc_off[-1] != offsets[-1]:
        doc_off = np.append(doc_off, offsets[-1])
    doc_off = np.unique(doc_off)  # drops empty documents (repeated offsets)
    n_docs = len(doc_off) - 1
    if n_docs < 1:
        raise WordvecError("the corpus has no documents with in-vocabulary words")
    V = int(vocab_size)
    nnz_per_doc = np.zeros(n_docs, dtype=np.int64)
    word_parts, count_parts = [], []
    d0 = 0
    while d0 < n_docs:
        d1 = int(np.searchsorted(doc_off, doc_off[d0] + BLOCK_NNZ, side="right")) - 1
        d1 = min(max(d1, d0 + 1), n_docs)
        a, b = doc_off[d0], doc_off[d1]
        docs = np.repeat(np.arange(d1 - d0, dtype=np.int64), np.diff(doc_off[d0:d1 + 1]))
        keys, counts = np.unique(docs * V + np.asarray(ids[a:b], dtype=np.int64),
                                 return_counts=True)
        nnz_per_doc[d0:d1] = np.bincount(keys // V, minlength=d1 - d0)
        word_parts.append((keys % V).astype(np.int32))
        count_parts.append(counts.astype(np.float32))
        d0 = d1
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(nnz_per_doc, out=indptr[1:])
    doc_word = sp.csr_matrix((np.concatenate(count_parts), np.concatenate(word_parts), indptr),
                             shape=(n_docs, V))
    return doc_word.T.tocsr()


def weight_term_document(X, weighting="tfidf"):
    """Weight a term–document count matrix (terms x documents): ``tfidf`` or ``log-entropy``."""
    if weighting not in WEIGHTINGS:
        raise WordvecError(f"unknown weighting {weighting!r}: use one of {', '.join(WEIGHTINGS)}")
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    n_docs = X.shape[1]
    if n_docs < 2:
        raise WordvecError(f"{weighting} weighting needs at least 2 documents, got {n_docs}")
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    tf = X.data.astype(np.float64)
    if weighting == "tfidf":
        df = np.diff(X.indptr).astype(np.float64)
        with np.errstate(divide="ignore"):
            idf = np.log(n_docs / df)
        X.data = ((1.0 + np.log(tf)) * idf[rows]).astype(np.float32)
    else:
        gf = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
        p = tf / gf[rows]
        ent = np.bincount(rows, weights=p * np.log(p), minlength=X.shape[0])
        g = 1.0 + ent / np.log(n_docs)
        X.data = (np.log1p(tf) * g[rows]).astype(np.float32)
    X.eliminate_zeros()
    return X


# ---- the model ------------------------------------------------------------------------------
def train_lsa(corpus=None, *, progress=True, cooccur=None, cluster=None, workers=None, **params):
    """Train LSA word vectors on an :class:`~wordvec.encode.EncodedCorpus`.

    ``corpus`` may be ``None`` when ``cooccur`` names a saved co-occurrence ``.npz`` or is a
    ``(csr_matrix, Vocabulary)`` pair (PPMI mode only; its vocabulary is used). Parameters:
    :data:`wordvec.params.LSA`. ``eig`` defaults to 0.5 for PPMI and 1.0 (U·Σ) for tf-idf.
    ``add_context`` (W + C: U·Σ^eig + V·Σ^eig) defaults to on for PPMI: on bench-en it gave
    better similarity than W alone (WS-353 0.616 vs 0.580, SimLex 0.333 vs 0.285, MEN 0.708 vs
    0.666) for 0.3 analogy points (benchmarks/README.md); ``add_context=False`` gives U·Σ^eig.
    ``symmetric`` counts contexts on both sides (else left only); ``memory_gb`` is the
    co-occurrence counter's budget in GB (it uses all of it on a large corpus, so it bounds the
    peak). Returns :class:`~wordvec.vectors.Vectors` with ``meta`` = {"kind": "lsa", "params",
    "stats"}; stats hold the counting / weighting / SVD seconds, matrix sizes and the top
    singular values. ``cluster`` (``"local"``, a scheduler address or a
    ``distributed.Client``; ``workers`` for a local one): PPMI and SVD on a Dask cluster, from
    ``cooccur`` (:mod:`wordvec.distributed_lsa`).
    """
    if corpus is None and cooccur is None:
        raise WordvecError("LSA needs a corpus or a co-occurrence file (cooccur=...)")
    if cooccur is not None and corpus is not None and params.get("matrix", "ppmi") == "ppmi":
        corpus = None  # the matrix's vocabulary is used
    model = LSA(cooccur=cooccur, **params)
    model.cluster, model.workers = cluster, workers
    return model.fit(corpus, progress=progress).wv


class LSA(Model):
    """LSA: a PPMI (or tf-idf) matrix and its truncated SVD. Its state is the vectors alone:
    the SVD is one step, so "continuing" on more text (:meth:`train`) refits on that text
    with the same settings."""

    schema = LSA_PARAMS
    family = "lsa"
    cluster = None  # a Dask cluster for the PPMI and the SVD (wordvec.distributed_lsa)
    workers = None  # (with cluster="local": how many worker processes)

    def _init_state(self, enc):
        if enc is None and self.params["cooccur"] is None:
            raise WordvecError("LSA needs a corpus or a co-occurrence file (cooccur=...)")

    def _run(self, enc, epochs, *, progress, checkpoint, phase, corpus):
        if checkpoint is not None:
            raise WordvecError("LSA has no checkpoints: its SVD is a single step")
        if self.cluster is not None:
            from .distributed_lsa import fit
            if enc is not None:
                raise WordvecError("--cluster: LSA on a cluster reads a counted matrix "
                                   "(--cooccur), not a corpus")
            vocab, self.W, stats = fit(self.params["cooccur"], self.cluster, self.params,
                                       progress, workers=self.workers)
            self.params["cooccur"] = os.fspath(self.params["cooccur"])
            self.vocab = vocab
            return stats
        vocab, self.W, stats = _fit(enc, self.params, progress)
        self.vocab = vocab
        return stats

    def train(self, corpus, *, epochs=None, new_words=True, progress=False, checkpoint=None,
              min_count=None):
        """Refit on ``corpus`` with the same settings (an SVD does not continue)."""
        if min_count is not None:
            self.params["min_count"] = min_count
        history, runs = self.history, self.runs
        self.fit(corpus, progress=progress, checkpoint=checkpoint)
        self.history, self._runs = (history + self.history)[-20:], runs + 1
        return self.history[-1]

    def _vectors(self):
        return Vectors(self.vocab.words, self.W, counts=self.vocab.counts)

    def _state_arrays(self):
        return {}

    def _from_saved(self, vectors, arrays, header):
        self.W = np.array(vectors.matrix, dtype=np.float32)


def _fit(corpus, p, progress):
    """The LSA pipeline with resolved parameters ``p``: ``(vocab, vectors, stats)``."""
    t_start = time.perf_counter()
    add_context = p["add_context"]
    vocab, M, stats = lsa_matrix(corpus, matrix=p["matrix"], cooccur=p["cooccur"],
                                 window=p["window"], distance_weighting=p["distance_weighting"],
                                 cds=p["cds"], shift=p["shift"], weighting=p["weighting"],
                                 doc_lines=p["doc_lines"], symmetric=p["symmetric"],
                                 memory_gb=p["memory_gb"], threads=p["threads"],
                                 progress=progress)
    if isinstance(p["cooccur"], tuple):
        p["cooccur"] = "<in-memory matrix>"
    elif p["cooccur"] is not None:
        p["cooccur"] = os.fspath(p["cooccur"])
    dim, svd = p["dim"], p["svd"]
    check_dim(dim, M.shape)
    report.say(progress, f"SVD ({svd}) of a {M.shape[0]:,} x {M.shape[1]:,} matrix, "
                   f"{M.nnz:,} non-zeros, to {dim} dimensions")
    t0 = time.perf_counter()
    try:
        U, s, V, info = truncated_svd(M, dim, method=svd, n_iter=p["svd_iter"],
                                      oversample=p["oversample"], seed=p["seed"],
                                      threads=p["threads"], right=bool(add_context),
                                      progress=report.shown(progress))
    except BaseException:
        report.clear_all()  # an error or a signal: its message must be the only line
        raise
    del M
    W = word_vectors(U, s, V if add_context else None, p["eig"])
    stats["svd_seconds"] = round(time.perf_counter() - t0, 3)
    stats["singular_values"] = [round(float(x), 4) for x in s[:10]]
    stats["singular_value_last"] = round(float(s[-1]), 4)
    stats["wall_seconds"] = round(time.perf_counter() - t_start, 3)
    return vocab, W, stats


def lsa_matrix(corpus=None, *, matrix="ppmi", cooccur=None, window=5, distance_weighting=False,
               cds=0.75, shift=1.0, weighting="tfidf", doc_lines=1, symmetric=True,
               memory_gb=2.0, threads=None, progress=True):
    """The weighted sparse matrix LSA factorises: ``(vocab, csr float32, stats)``.

    PPMI (words x contexts) or weighted term–document (words x documents); parameters as in
    :func:`train_lsa`. ``stats`` holds ``count_seconds``, ``weight_seconds`` and sizes.
    """
    if matrix not in MATRICES:
        raise WordvecError(f"unknown LSA matrix {matrix!r}: use one of {', '.join(MATRICES)}")
    if threads is not None:
        _check_int("threads", threads, 1)
    if corpus is None and cooccur is None:
        raise WordvecError("LSA needs a corpus or a co-occurrence file (cooccur=...)")
    stats = {}
    if matrix == "ppmi":
        _check_int("window", window, 1)
        _check_ppmi_params(cds, shift)
        if not memory_gb > 0:
            raise WordvecError(f"the co-occurrence memory budget must be > 0 GB, got {memory_gb}")
        vocab, M = _ppmi_matrix(corpus, cooccur, window, symmetric, distance_weighting, cds,
                                shift, memory_gb, threads, progress, stats)
    else:
        if cooccur is not None:
            raise WordvecError("a co-occurrence file applies to the ppmi matrix only, not tfidf")
        if corpus is None:
            raise WordvecError("tf-idf LSA needs a corpus")
        if weighting not in WEIGHTINGS:
            raise WordvecError(
                f"unknown weighting {weighting!r}: use one of {', '.join(WEIGHTINGS)}")
        _check_int("doc_lines", doc_lines, 1)
        vocab, M = _tfidf_matrix(corpus, weighting, doc_lines, progress, stats)
    if M.nnz == 0:
        hint = "lower --shift or " if matrix == "ppmi" else ""
        raise WordvecError(f"the weighted {matrix} matrix has no positive entries: "
                           f"{hint}use a larger corpus")
    return vocab, M, stats


def check_dim(dim, shape):
    """Refuse a dimension the SVD of a ``shape`` matrix cannot give."""
    if dim >= min(shape):
        what = "vocabulary size" if shape[0] <= shape[1] else "number of documents"
        raise WordvecError(f"dim ({dim}) must be smaller than the {what} ({min(shape)}); "
                           f"lower --dim or use a larger corpus")


def word_vectors(U, s, V=None, eig=0.5):
    """``U Σ^eig``, plus ``V Σ^eig`` when ``V`` is given (W + C); float32."""
    scale = (np.asarray(s, dtype=np.float64) ** eig).astype(np.float32)
    W = U * scale
    if V is not None:
        W += V * scale
    if not np.all(np.isfinite(W)):
        raise WordvecError("the SVD produced non-finite values; check the input matrix")
    return np.ascontiguousarray(W, dtype=np.float32)


def _ppmi_matrix(corpus, cooccur, window, symmetric, distance_weighting, cds, shift, memory_gb,
                 threads, progress, stats):
    t0 = time.perf_counter()
    if cooccur is not None:
        if not isinstance(cooccur, (str, os.PathLike)):
            from .cooccur_file import validate_pair

            counts, vocab = validate_pair(cooccur)  # checked as a file's would be
        else:
            from .cooccur_file import load_cooccurrence

            counts, vocab = load_cooccurrence(cooccur)
        stats["cooccur_loaded"] = True
    else:
        from .cooccur import count_cooccurrence
        from .training import check_trainable

        # no co-occurrence at all: fail now, not after counting
        check_trainable(corpus, "nothing to train: no co-occurrences")
        vocab = corpus.vocab
        counts = count_cooccurrence(corpus, window=window, symmetric=bool(symmetric),
                                    distance_weighting=distance_weighting, memory_gb=memory_gb,
                                    threads=threads, progress=progress)
    if counts.shape != (len(vocab), len(vocab)):
        raise WordvecError(f"co-occurrence matrix of shape {counts.shape} does not match a "
                           f"vocabulary of {len(vocab):,} words")
    stats["count_seconds"] = round(time.perf_counter() - t0, 3)
    stats["cooccur_nnz"] = int(counts.nnz)
    t0 = time.perf_counter()
    report.say(progress, f"PPMI (cds {cds}, shift log {shift}) over {counts.nnz:,} co-occurrences")
    M = ppmi(counts, cds=cds, shift=shift)
    del counts
    stats["weight_seconds"] = round(time.perf_counter() - t0, 3)
    stats["matrix_nnz"] = int(M.nnz)
    stats["matrix_shape"] = list(M.shape)
    return vocab, M


def _tfidf_matrix(corpus, weighting, doc_lines, progress, stats):
    vocab = corpus.vocab
    t0 = time.perf_counter()
    X = term_document(corpus.ids, corpus.offsets, len(vocab), doc_lines)
    stats["count_seconds"] = round(time.perf_counter() - t0, 3)
    stats["documents"] = int(X.shape[1])
    stats["termdoc_nnz"] = int(X.nnz)
    t0 = time.perf_counter()
    report.say(progress, f"{weighting} weighting of {X.shape[1]:,} documents, {X.nnz:,} non-zeros")
    M = weight_term_document(X, weighting)
    del X
    stats["weight_seconds"] = round(time.perf_counter() - t0, 3)
    stats["matrix_nnz"] = int(M.nnz)
    stats["matrix_shape"] = list(M.shape)
    return vocab, M


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise WordvecError(f"{name} must be an integer >= {minimum}, got {value!r}")
