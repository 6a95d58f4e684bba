"""GloVe on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread), no mocks of the
cluster.

Quality: the co-occurrences of the bundled corpus (window 10, 14,694 words, 5.7 M non-zeros) in
a blocks folder of 4 row blocks, GloVe dim 50, 15 epochs, on one machine (2 threads) and on the
cluster (2 replicas combined every 1,000,000 entries). Measured (MEN rho, analogy accuracy, mean
AdaGrad increment of the word biases): one machine 0.176 / 3.8 % / 18.26 (seed 2: 0.172 /
3.7 %), the cluster 0.186 / 3.7 % / 17.2 (in this test's run: 0.187 / 3.7 % / 17.5). The test
asks the cluster for MEN within 0.03 and analogies within 1 point of one machine, and for the
biases' AdaGrad sums (mean of ``gbw - 1`` and of ``gbc - 1``) within 15 % of one machine's.
Broken variants of the same run are checked to fail that bar, so the check can tell: plain
averaging (``combine="mean"``: every update divided by the number of replicas; measured 0.113 /
1.9 %), the AdaGrad sums averaged instead of added up (``"sum-vectors-mean-sums"``: they grow
half as fast, 8.9), and no averaging (the first replica replaces the model: the other worker's
rows are never trained; 0.079 / 1.2 %). Figures and the other variants: wordvec/distributed_glove.py.
"""

import lzma
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402
from cluster_helpers import Killer  # noqa: E402
from cluster_helpers import quality as vector_quality  # noqa: E402

import wordvec  # noqa: E402
from wordvec import distributed as wd  # noqa: E402
from wordvec import distributed_glove as dg  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.cooccur import count_cooccurrence  # noqa: E402
from wordvec.cooccur_file import save_cooccurrence  # noqa: E402
from wordvec.encode import encode  # noqa: E402
from wordvec.errors import WordvecError  # noqa: E402
from wordvec.glove import GloVe  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "wordvec" / "data" / "gutenberg-pd.txt.xz"
COUNTING = {"window": 10, "symmetric": True, "distance_weighting": True}
EPOCHS = 15
PARAMS = {"dim": 50, "epochs": EPOCHS, "seed": 1}
SYNC = 1_000_000


@pytest.fixture(scope="module")
def client():
    with wd.connect("local", workers=2, threads_per_worker=1) as c:
        yield c


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    """The bundled corpus's co-occurrences: (blocks folder, .npz, a text slice)."""
    folder = tmp_path_factory.mktemp("glove-cluster")
    text = folder / "slice.txt"
    lines = lzma.open(BUNDLED, "rt", encoding="utf-8").read().splitlines(keepends=True)
    text.write_text("".join(lines[:4000]), encoding="utf-8")
    with encode([str(BUNDLED)], min_count=5) as enc:
        m = count_cooccurrence(enc, progress=False, **COUNTING)
        vocab = enc.vocab
    npz = folder / "cooc.npz"
    save_cooccurrence(npz, m, vocab, params=COUNTING)
    bounds = wd.row_bounds(vocab.counts, 4, COUNTING["window"])
    blocks = folder / "cooc-blocks"
    wd.save_blocks(blocks, ((b, m[lo:hi]) for b, (lo, hi) in
                            enumerate(zip(bounds[:-1], bounds[1:]))), bounds, vocab, COUNTING)
    return str(blocks), str(npz), str(text)


def quality(model):
    return vector_quality(model.wv)


def adagrad(model):
    """The mean AdaGrad increments of the word and the context biases."""
    return float(np.mean(model.gbw - 1)), float(np.mean(model.gbc - 1))


def close_to(got, ref, sums=None, ref_sums=None):
    ok = got[0] >= ref[0] - 0.03 and got[1] >= ref[1] - 0.01
    if sums is not None:
        ok = ok and all(abs(a / b - 1) <= 0.15 for a, b in zip(sums, ref_sums))
    return ok


@pytest.fixture(scope="module")
def single(counted):
    model = GloVe(cooccur=counted[0], threads=2, **PARAMS).fit(None)
    return quality(model), adagrad(model)


def test_same_quality_as_one_machine_and_broken_combinations_fail(client, counted, single,
                                                                 tmp_path, monkeypatch):
    blocks = counted[0]
    ref, ref_sums = single
    lines = []
    model = dg.train_glove(blocks, client, PARAMS, sync_every=SYNC, log=lines.append)
    got, sums = quality(model), adagrad(model)
    stats = model.history[-1]
    assert close_to(got, ref, sums, ref_sums), (got, ref, sums, ref_sums)
    assert stats["words"] == EPOCHS * stats["nonzeros"]  # every entry, every epoch
    cl = stats["cluster"]
    assert cl["rounds"] >= 2 * EPOCHS and not cl["lost_workers"] and not lines
    assert cl["sync_bytes_per_replica"] == (2 * len(model.vocab) * 50 + 2 * len(model.vocab)) * 8
    assert len(stats["loss"]) == EPOCHS and stats["loss"][-1] < stats["loss"][0]
    # a normal model folder
    model.save(tmp_path / "m")
    v = wordvec.load(tmp_path / "m")
    assert v.words == model.vocab.words and v.meta["kind"] == "glove"
    again = wordvec.load_model(tmp_path / "m")
    assert (again.GC == model.GC).all() and again.params["window"] == 10

    def run(**kw):
        m = dg.train_glove(blocks, client, PARAMS, sync_every=SYNC, **kw)
        return quality(m), adagrad(m)

    # plain averaging: every replica's update divided by 2
    plain = run(combine="mean")
    assert not close_to(*plain, ref, ref_sums), plain
    # the AdaGrad sums averaged, not added up: they grow half as fast
    half = run(combine="sum-vectors-mean-sums")
    assert not close_to(*half, ref, ref_sums), half
    # no averaging: the first replica to come back replaces the model
    class First:
        def __init__(self, base, how):
            self.first = None

        def add(self, replica, weight):
            if self.first is None:
                self.first = [np.array(a, copy=True) for a in replica]

        def finish(self):
            return self.first
    monkeypatch.setattr(dg, "Combination", First)
    first = run()
    assert not close_to(*first, ref, ref_sums), first


def test_npz_and_in_memory_matrix_train_alike(client, counted):
    """The same entries, parts and shuffles whatever the source: an .npz and a (matrix,
    vocabulary) pair are cut into the same row blocks on the driver."""
    from wordvec.cooccur_file import load_cooccurrence
    params = {"dim": 8, "epochs": 1, "seed": 3}
    a = dg.train_glove(counted[1], client, params, sync_every=3_000_000)
    b = dg.train_glove(load_cooccurrence(counted[1]), client, params, sync_every=3_000_000)
    assert a.history[-1]["nonzeros"] == b.history[-1]["nonzeros"] > 5_000_000
    assert a.params["cooccur"] == counted[1] and b.params["cooccur"] is None
    assert a.history[-1]["cluster"]["row_blocks"] == 4  # two a worker thread
    np.testing.assert_allclose(a.W, b.W, rtol=0, atol=1e-5)


def test_a_worker_killed_during_a_round_is_survived(client, counted, tmp_path):
    """SIGKILL one worker while it trains a round: the round is combined from the other
    replica, a line says so, its row blocks go to the other worker (read there from the
    folder), and every entry is still trained once an epoch."""
    params = {"dim": 20, "epochs": 2, "seed": 1}
    lines = []
    with Killer(client, "wordvec-train-2-") as killer:
        model = dg.train_glove(counted[0], client, params, sync_every=300_000, log=lines.append)
    assert killer.pid is not None, "no training round was seen running"
    stats = model.history[-1]
    assert stats["cluster"]["lost_workers"] == [killer.addr]
    assert len(lines) == 1 and "lost worker" in lines[0] and killer.addr in lines[0]
    assert "row blocks" in lines[0]
    assert stats["words"] == params["epochs"] * stats["nonzeros"]
    model.save(tmp_path / "after-kill")
    assert len(wordvec.load(tmp_path / "after-kill")) == len(model.vocab)


def test_cli_glove_on_the_cluster(counted, tmp_path):
    """From a blocks folder, and from a corpus counted on the cluster first."""
    out = tmp_path / "glove"
    r = CliRunner().invoke(cli, ["train", "--model", "glove", "--cooccur", counted[0],
                                 "--cluster", "local", "--workers", "2", "--dim", "10",
                                 "--epochs", "1", "--sync-every", "3000000", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "glove:" in r.output and "saved to" in r.output
    v = wordvec.load(out)
    assert v.meta["kind"] == "glove" and v.dim == 10 and len(v) == 14694
    assert v.meta["stats"]["cluster"]["workers"] == 2
    assert v.meta["params"]["cooccur"] == os.path.abspath(counted[0])
    out = tmp_path / "from-corpus"
    r = CliRunner().invoke(cli, ["train", counted[2], "--model", "glove", "--cluster", "local",
                                 "--workers", "2", "--dim", "10", "--epochs", "2", "--window",
                                 "5", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    v = wordvec.load(out)
    assert v.meta["params"]["window"] == 5 and v.meta["params"]["cooccur"] is None
    assert v.meta["stats"]["cluster"]["sync_every"] == dg.SYNC_EVERY  # (a small matrix)
    with encode([counted[2]], min_count=5) as enc:  # the matrix one machine counts
        m = count_cooccurrence(enc, window=5, progress=False)
        assert v.words == enc.vocab.words
    assert v.meta["stats"]["nonzeros"] == m.nnz


@pytest.mark.parametrize("args, message", [
    (["--cooccur", "{blocks}", "{text}"], "not both"),
    (["--cooccur", "{missing}"], "no such co-occurrence"),
    (["--cooccur", "{blocks}", "--continue", "x"], "cannot be combined with --cluster"),
    (["--cooccur", "{blocks}", "--format", "fasttext-bin"], "fasttext-bin"),
    (["--cooccur", "{blocks}", "--negative", "5"], "does not apply to --model glove"),
    (["--cooccur", "{blocks}", "-o", "{user_file}"], "--force"),
    (["--cooccur", "{blocks}", "-o", "{user_folder}"], "not a wordvec model"),
])
def test_cli_refusals_one_line_before_any_work(counted, tmp_path, args, message):
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine\n")
    user_folder = tmp_path / "photos"
    user_folder.mkdir()
    (user_folder / "a.jpg").write_text("x")
    names = {"blocks": counted[0], "text": counted[2], "missing": str(tmp_path / "nope.npz"),
             "user_file": str(user_file), "user_folder": str(user_folder)}
    args = [a.format(**names) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "m")]
    t0 = time.monotonic()
    r = CliRunner().invoke(cli, ["train", "--model", "glove", "--cluster", "local", *args])
    assert r.exit_code != 0 and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert time.monotonic() - t0 < 5  # refused before a cluster was started
    assert user_file.read_text() == "mine\n" and os.listdir(user_folder) == ["a.jpg"]
    assert not (tmp_path / "m").exists()


def test_bad_settings_refused_before_connecting(counted):
    with pytest.raises(WordvecError, match="sync-every"):
        dg.train_glove(counted[0], "local", PARAMS, sync_every=0)
    with pytest.raises(WordvecError, match="combine"):
        dg.train_glove(counted[0], "local", PARAMS, combine="median")
    with pytest.raises(WordvecError, match="give one of them"):
        dg.train_glove(None, "local", PARAMS)
    with pytest.raises(WordvecError, match="not a co-occurrence blocks folder"):
        dg.train_glove(os.path.dirname(counted[0]), "local", PARAMS)


def test_a_corrupt_block_is_refused_on_the_worker(client, counted, tmp_path):
    """A block is checked where it is read, before a kernel sees it: one error naming it."""
    folder = tmp_path / "bad"
    shutil.copytree(counted[0], folder)
    with np.load(folder / "block-00002.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["indices"][5] = 10**6  # a column outside the vocabulary
    with open(folder / "block-00002.npz", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(WordvecError, match="block-00002.npz.*column"):
        dg.train_glove(str(folder), client, {"dim": 4, "epochs": 1})
