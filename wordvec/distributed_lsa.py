"""LSA on a Dask cluster: the PPMI matrix as a row-partitioned ``dask.array`` and its truncated
SVD by wordvec's subspace iteration written on dask arrays (``pip install 'wordvec[dask]'``).

The input is a counted co-occurrence matrix (``wordvec train --model lsa --cooccur ... --cluster
ADDRESS``): a blocks folder (``wordvec cooccur --cluster ... --blocks-dir``), whose blocks the
workers read themselves (the folder must be at the same path on every worker, as shards are),
each checked there as :func:`wordvec.cooccur_file.read_block` checks it; or a ``.npz``, read and
checked by the client and cut into row blocks of about equal non-zeros sent to the workers.
Faults: a worker lost during the job takes its blocks with it; Dask reads a folder's blocks
again and recomputes what depended on them, but blocks sent from an ``.npz`` cannot be made
again (the job then fails with Dask's error): on a cluster whose workers may go, give a folder.

PPMI, as :func:`wordvec.lsa.ppmi` computes it on one machine: each block's row sums are its own;
the column sums are the sum of every block's column sums (added two at a time on the workers);
each block's PPMI is then :func:`wordvec.lsa.ppmi_rows` on the worker that holds the block. The
values are those of one machine up to the last bits of the column sums (added in another order).

SVD: the PPMI blocks are the row chunks of a ``dask.array`` (scipy.sparse chunks, one column
chunk). The default (``method="subspace"``) is :mod:`wordvec.svd`'s randomized subspace
iteration on it: the same Gaussian ``m x (dim + oversample)`` start for a seed, ``--svd-iter``
products with ``A Aᵀ`` each followed by a tall-skinny QR (``dask.array.linalg.tsqr``; one machine
normalises with LU, which spans the same columns), a last product and the Rayleigh–Ritz step on
the small ``Qᵀ A Aᵀ Q``; ``V = Aᵀ U / s`` for W + C. Every product with the matrix runs where its
blocks are: ``Aᵀ Q`` is a sum of the blocks' ``A_iᵀ Q_i`` (added up on the workers), ``A Z`` a block
of rows per block; only ``n x (dim + oversample)`` dense pieces travel. The client gathers ``U``,
``s`` and ``V`` and makes the vectors as on one machine (:func:`wordvec.lsa.word_vectors`): the
result is one machine's LSA up to float32 rounding (tested).

``method="svd_compressed"`` runs ``dask.array.linalg.svd_compressed`` (Halko et al.'s range
finder, ``iterator="QR"``: ``"power"`` without re-orthonormalising loses the smaller singular
directions in float32) with the same iterations, oversamples and seed. Measured on the PPMI
matrix of 5 M tokens of the benchmark corpus (31,267 words, dim 300, 3 seeds; benchmarks/README.md,
"Scaling out on Dask"): its 300 singular values are a little closer to ARPACK's (mean relative
error 0.0133 against 0.0156), its word similarities the same within the seeds' spread (WS-353
0.545 against 0.550, MEN 0.613 / 0.612, SimLex 0.230 / 0.236), and it took 1.4x as long (22.0
against 15.8 s on 2 workers). The subspace iteration is the default: as good, faster, and the
vectors do not change with ``--cluster``.
"""

import os
import time

import numpy as np

from . import distributed as wd
from . import progress as report
from .errors import WordvecError


# ---- tasks ----------------------------------------------------------------------------------
def _read_block(file, lo, hi, nnz, n):
    from .cooccur_file import read_block
    wd.tune_process()
    return read_block(file, lo, hi, nnz, n)


def _column_sums(block):
    return np.asarray(block.sum(axis=0), dtype=np.float64).ravel()


def _add(a, b):
    return a + b


def _ppmi_block(block, col_sum, cds, shift):
    """One row block's PPMI given the whole matrix's column sums (as :func:`wordvec.lsa.ppmi`)."""
    from .lsa import ppmi_rows, ppmi_terms
    wd.tune_process()
    row_sum = np.asarray(block.sum(axis=1), dtype=np.float64).ravel()
    return ppmi_rows(block, *ppmi_terms(row_sum, col_sum, cds, shift))


def _nnz(block):
    return int(block.nnz)


# ---- the job --------------------------------------------------------------------------------
def _counts_on_cluster(client, cooccur, blocks_per_thread=2):
    """-> (vocab, params, futures of the canonical count blocks, row bounds)."""
    from .cooccur_file import is_blocks_dir, load_cooccurrence, read_blocks_index
    path = os.fspath(cooccur)
    if is_blocks_dir(path) or os.path.isdir(path):
        path = os.path.abspath(path)  # (the workers open it at the same path)
        vocab, blocks, params = read_blocks_index(path)
        futures = [wd._submit(client, _read_block, f, lo, hi, nnz, len(vocab), name=f"read-{i}")
                   for i, (f, lo, hi, nnz) in enumerate(blocks)]
        bounds = np.array([0] + [hi for _, _, hi, _ in blocks], dtype=np.int64)
        return vocab, params, futures, bounds
    from .svd import _chunk_bounds
    matrix, vocab, params = load_cooccurrence(path, with_params=True)  # checked
    n_blocks = blocks_per_thread * max(1, sum(client.nthreads().values()))
    bounds = _chunk_bounds(matrix.indptr, n_blocks)
    bounds = np.unique(np.concatenate([[0], bounds, [matrix.shape[0]]])).astype(np.int64)
    futures = [client.scatter(matrix[int(lo):int(hi)]) for lo, hi in zip(bounds[:-1], bounds[1:])]
    return vocab, params, futures, bounds


def ppmi_on_cluster(client, cooccur, cds=0.75, shift=1.0):
    """-> (vocab, futures of the PPMI row blocks (CSR float32), row bounds, stats)."""
    from .lsa import _check_ppmi_params
    _check_ppmi_params(cds, shift)
    vocab, params, counts, bounds = _counts_on_cluster(client, cooccur)
    sums = [wd._submit(client, _column_sums, c, name=f"colsum-{i}") for i, c in enumerate(counts)]
    col_sum, = wd._reduce_groups(client, [sums], _add, (), None, "colsum-add")
    sums = None
    blocks = [wd._submit(client, _ppmi_block, c, col_sum, cds, shift, name=f"ppmi-{i}")
              for i, c in enumerate(counts)]
    counts = None
    nnz = sum(client.gather([wd._submit(client, _nnz, b, name=f"nnz-{i}")
                             for i, b in enumerate(blocks)]))
    stats = {"cooccur_loaded": True, "matrix_nnz": int(nnz), "row_blocks": len(blocks),
             "matrix_shape": [len(vocab), len(vocab)], "cooccur_params": params}
    return vocab, blocks, bounds, stats


def dask_matrix(blocks, bounds, n_cols):
    """The row blocks (futures of CSR float32) as one ``dask.array`` (scipy.sparse chunks)."""
    import dask
    import dask.array as da
    import scipy.sparse as sp
    meta = sp.csr_matrix((0, n_cols), dtype=np.float32)
    parts = [da.from_delayed(dask.delayed(b), shape=(int(hi - lo), n_cols), dtype=np.float32,
                             meta=meta)
             for b, lo, hi in zip(blocks, bounds[:-1], bounds[1:])]
    return da.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]


METHODS = ("svd_compressed", "subspace")


def svd_on_cluster(client, blocks, bounds, n_cols, k, n_iter=6, oversample=20, seed=1,
                   right=False, method="subspace"):
    """The ``k`` largest singular triplets of the matrix whose row blocks are the futures
    ``blocks`` (rows ``bounds[i]:bounds[i+1]``, ``n_cols`` columns, CSR float32) -> ``(U, s,
    V or None, info)`` as :func:`wordvec.svd.truncated_svd` returns them (numpy, signs fixed
    the same way).

    ``method``: ``"subspace"`` (the default: wordvec's subspace iteration of :mod:`wordvec.svd`
    on dask arrays, ``Q <- orth(A Aᵀ Q)`` from a Gaussian ``m x (k + oversample)`` start, a
    tall-skinny QR where one machine uses LU, then the Rayleigh–Ritz step on ``Qᵀ A Aᵀ Q``) or
    ``"svd_compressed"`` (``dask.array.linalg.svd_compressed``, ``iterator="QR"``; see the
    module's notes for the comparison).
    """
    import dask.array as da

    from .svd import _flip_signs
    m = int(bounds[-1])
    if k >= min(m, n_cols):
        raise WordvecError(f"the SVD dimension ({k}) must be smaller than both sides of the "
                           f"matrix ({m} x {n_cols})")
    if method not in METHODS:
        raise WordvecError(f"unknown cluster SVD {method!r}: use one of {', '.join(METHODS)}")
    A = dask_matrix(blocks, bounds, n_cols)
    t0 = time.perf_counter()
    # (this client explicitly: another one made in this process may be Dask's default)
    if method == "svd_compressed":
        u, s, v = da.linalg.svd_compressed(A, k, iterator="QR", n_power_iter=int(n_iter),
                                           n_oversamples=int(oversample), seed=int(seed))
        U, s, Vt = client.gather(client.compute([u, s, v if right else u[:0]]))
        V = Vt.T if right else None
    else:
        U, s, V = _subspace(client, A, k, int(n_iter), int(oversample), int(seed), right)
    U = np.ascontiguousarray(U, dtype=np.float32)
    V = np.ascontiguousarray(V, dtype=np.float32) if right else None
    U, V = _flip_signs(U, V)
    info = {"method": f"dask {method}", "n_iter": int(n_iter), "oversample": int(oversample),
            "seconds": round(time.perf_counter() - t0, 3)}
    return U, np.asarray(s, dtype=np.float64), V, info


def _subspace(client, A, k, n_iter, oversample, seed, right):
    import dask.array as da
    m, n = A.shape
    l = min(k + oversample, min(m, n))
    rng = np.random.default_rng(seed)
    Q = da.from_array(rng.standard_normal((m, l), dtype=np.float32), chunks=(A.chunks[0], (l,)))
    Q, _ = da.linalg.tsqr(Q)
    for _ in range(n_iter):  # (n_iter + 1 products with A Aᵀ in all, as on one machine)
        Q, _ = da.linalg.tsqr(A.dot(A.T.dot(Q)))
        Q = client.persist(Q)
    Y = A.dot(A.T.dot(Q))
    M = client.compute(Q.T.dot(Y)).result().astype(np.float64)
    M = (M + M.T) / 2
    lam, W = np.linalg.eigh(M)
    order = np.argsort(lam)[::-1][:k]
    s = np.sqrt(np.maximum(lam[order], 0.0))
    W = W[:, order].astype(np.float32)
    Ud = client.persist(Q.dot(W))
    U = client.compute(Ud).result()
    V = None
    if right:
        inv = np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0).astype(np.float32)
        V = client.compute(A.T.dot(Ud)).result() * inv
    return U, s, V


def fit(cooccur, cluster, p, progress=False, workers=None):
    """LSA (PPMI mode) of a counted matrix on a cluster, with the resolved LSA parameters
    ``p`` -> ``(vocab, word vectors, stats)``, as :func:`wordvec.lsa._fit` returns them."""
    from .lsa import check_dim, word_vectors
    if p["matrix"] != "ppmi":
        raise WordvecError("--cluster: LSA runs on a cluster with the ppmi matrix only")
    if p["svd"] != "randomized":
        raise WordvecError("--cluster: the SVD on a cluster is the randomized one; "
                           f"--svd {p['svd']} runs on one machine only")
    if cooccur is None or not isinstance(cooccur, (str, os.PathLike)):
        raise WordvecError("--cluster: LSA on a cluster reads a counted matrix: give --cooccur "
                           "(a blocks folder from 'wordvec cooccur --cluster ... --blocks-dir', "
                           "or an .npz)")
    t_start = time.perf_counter()
    with wd.connect(cluster, workers=workers, threads_per_worker=1) as client:
        t0 = time.perf_counter()
        report.say(progress, f"PPMI (cds {p['cds']}, shift log {p['shift']}) of {cooccur} on "
                             f"the cluster")
        vocab, blocks, bounds, stats = ppmi_on_cluster(client, cooccur, p["cds"], p["shift"])
        stats["weight_seconds"] = round(time.perf_counter() - t0, 3)
        stats["cluster_workers"] = len(client.nthreads())
        if stats["matrix_nnz"] == 0:
            raise WordvecError("the weighted ppmi matrix has no positive entries: lower --shift "
                               "or use a larger corpus")
        dim = p["dim"]
        check_dim(dim, (len(vocab), len(vocab)))
        report.say(progress, f"SVD (randomized, on the cluster) of a {len(vocab):,} x {len(vocab):,} "
                             f"matrix in {len(blocks)} row blocks, {stats['matrix_nnz']:,} "
                             f"non-zeros, to {dim} dimensions")
        U, s, V, info = svd_on_cluster(client, blocks, bounds, len(vocab), dim, p["svd_iter"],
                                       p["oversample"], p["seed"], right=bool(p["add_context"]))
    stats["svd_seconds"] = info["seconds"]
    stats["svd"] = info["method"]
    W = word_vectors(U, s, V if p["add_context"] else None, p["eig"])
    stats["singular_values"] = [round(float(x), 4) for x in s[:10]]
    stats["singular_value_last"] = round(float(s[-1]), 4)
    stats["wall_seconds"] = round(time.perf_counter() - t_start, 3)
    return vocab, W, stats
