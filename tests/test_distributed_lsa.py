"""LSA on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread), no mocks: the PPMI
row blocks built on the workers from a blocks folder (or an .npz) against one machine's PPMI,
the SVD by dask's svd_compressed against one machine's LSA, the CLI, and a corrupt block
refused on the worker that reads it."""

import lzma
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402

from wordvec import distributed as wd  # noqa: E402
from wordvec import distributed_lsa as dl  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.cooccur import count_cooccurrence  # noqa: E402
from wordvec.cooccur_file import save_cooccurrence  # noqa: E402
from wordvec.encode import encode  # noqa: E402
from wordvec.errors import WordvecError  # noqa: E402
from wordvec.formats import load_vectors  # noqa: E402
from wordvec.lsa import LSA, ppmi, train_lsa  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "wordvec" / "data" / "gutenberg-pd.txt.xz"
PARAMS = {"window": 5, "symmetric": True, "distance_weighting": False}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lsa")
    text = folder / "corpus.txt"
    lines = lzma.open(BUNDLED, "rt", encoding="utf-8").read().splitlines(keepends=True)
    text.write_text("".join(lines[:6000]), encoding="utf-8")
    with encode([str(text)], min_count=5) as enc:
        m = count_cooccurrence(enc, window=5, distance_weighting=False, progress=False)
        vocab = enc.vocab
    npz = folder / "cooc.npz"
    save_cooccurrence(npz, m, vocab, params=PARAMS)
    bounds = wd.row_bounds(vocab.counts, 5, 5)
    blocks = folder / "cooc-blocks"
    wd.save_blocks(blocks, ((b, m[lo:hi]) for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))),
                   bounds, vocab, PARAMS)
    return m, vocab, npz, blocks


@pytest.mark.parametrize("source", ["blocks", "npz"])
def test_ppmi_blocks_are_one_machines_ppmi(client, counted, source):
    m, vocab, npz, blocks = counted
    v, futures, bounds, stats = dl.ppmi_on_cluster(client, blocks if source == "blocks" else npz,
                                                   cds=0.75, shift=2.0)
    assert v.words == vocab.words and bounds[0] == 0 and bounds[-1] == len(vocab)
    got = sp.vstack(client.gather(futures)).tocsr()
    want = ppmi(m, cds=0.75, shift=2.0)
    assert got.dtype == np.float32 and stats["matrix_nnz"] == got.nnz
    # the same entries; values up to the last bits of the column sums (added in another order)
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.data, want.data, rtol=2e-6, atol=1e-6)


def _similarities(W, top=400):
    U = W[:top] / np.linalg.norm(W[:top], axis=1, keepdims=True)
    S = U @ U.T
    return S[np.triu_indices(top, 1)]


def test_lsa_on_the_cluster_matches_one_machine(client, counted):
    _, vocab, _, blocks = counted
    kw = dict(dim=20, svd_iter=6, seed=3, progress=False)
    one = LSA(cooccur=str(blocks), **kw).fit(None, progress=False)
    many = LSA(cooccur=str(blocks), **kw)
    many.cluster = client
    many.fit(None, progress=False)
    s1, s2 = (np.array(x.wv.meta["stats"]["singular_values"]) for x in (one, many))
    np.testing.assert_allclose(s2, s1, rtol=2e-3)
    assert many.wv.meta["stats"]["svd"] == "dask subspace"
    assert many.wv.words == one.wv.words == vocab.words
    # one machine's vectors up to float32 rounding (the same iteration and random start): the
    # similarities among the frequent words agree far better than one machine's with another
    # seed do (0.982 here: the last of 20 singular values are close together)
    other = LSA(cooccur=str(blocks), **{**kw, "seed": 4}).fit(None, progress=False)
    ref = _similarities(one.wv.matrix)
    r_seed = np.corrcoef(ref, _similarities(other.wv.matrix))[0, 1]
    r = np.corrcoef(ref, _similarities(many.wv.matrix))[0, 1]
    assert r > 0.9999 and r_seed < 0.99, (r, r_seed)
    np.testing.assert_allclose(many.wv.matrix, one.wv.matrix, atol=2e-3 * np.abs(one.wv.matrix).max())


@pytest.mark.parametrize("method", ["subspace", "svd_compressed"])
def test_svd_on_dask_arrays_against_one_machine(client, counted, method):
    """wordvec's subspace iteration on dask arrays (the default: a QR where one machine uses LU,
    the same Gaussian start) gives one machine's singular values and vectors up to float32
    rounding; dask's svd_compressed the same singular values, to the SVD's accuracy."""
    from wordvec.svd import truncated_svd
    m, vocab, _, blocks = counted
    v, futures, bounds, _ = dl.ppmi_on_cluster(client, blocks)
    U1, s1, V1, _ = truncated_svd(ppmi(m), 12, seed=5, right=True)
    U2, s2, V2, info = dl.svd_on_cluster(client, futures, bounds, len(vocab), 12, seed=5,
                                         right=True, method=method)
    assert info["method"] == f"dask {method}" and U2.shape == U1.shape and V2.shape == V1.shape
    if method == "svd_compressed":  # another random start: the top values agree
        np.testing.assert_allclose(s2[:8], s1[:8], rtol=5e-3)
        return
    np.testing.assert_allclose(s2, s1, rtol=1e-4)
    np.testing.assert_allclose(np.abs(np.sum(U1 * U2, axis=0)), 1, atol=1e-3)  # same directions
    np.testing.assert_allclose(U2, U1, atol=2e-3)  # (signs fixed the same way)
    np.testing.assert_allclose(V2, V1, atol=2e-3)


def test_cli_lsa_on_a_local_cluster(counted, tmp_path):
    _, vocab, npz, blocks = counted
    out = tmp_path / "lsa"
    r = CliRunner().invoke(cli, ["train", "--model", "lsa", "--cooccur", str(blocks), "--dim", "8",
                                 "--cluster", "local", "--workers", "2", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    v = load_vectors(str(out))
    assert v.words == vocab.words and v.dim == 8
    for args, message in [
        (["--model", "fasttext", "--cooccur", str(npz), "--cluster", "local"],
         "does not apply to --model fasttext"),
        (["--model", "lsa", "--cluster", "local"], "give --cooccur"),
        (["--model", "lsa", "--cooccur", str(npz), "--cluster", "local", "--svd", "arpack"],
         "one machine only"),
        (["--model", "lsa", "--cooccur", str(npz), "--workers", "2"], "--cluster local"),
    ]:
        r = CliRunner().invoke(cli, ["train", *args, "-o", str(tmp_path / "x"), "-q"])
        assert r.exit_code == 1 and message in r.output, (args, r.output)


def test_a_corrupt_block_is_refused_on_the_worker(client, counted, tmp_path):
    blocks = counted[3]
    folder = tmp_path / "bad"
    shutil.copytree(blocks, folder)
    with np.load(folder / "block-00002.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["data"] = -arrays["data"]
    with open(folder / "block-00002.npz", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(WordvecError, match="block-00002.npz.*negative"):
        train_lsa(None, cooccur=str(folder), cluster=client, dim=5, progress=False)
