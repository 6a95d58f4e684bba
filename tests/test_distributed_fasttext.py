"""Data-parallel fastText on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread),
no mocks of the cluster.

Quality: the bundled corpus in 4 shards, fastText skip-gram dim 50, 200,000 buckets, 2 epochs, on
one machine (2 threads) and on the cluster (2 replicas, sparse sync every 200,000 words).
Measured (MEN rho on 1,542 pairs, analogy accuracy on 5,725 questions): one machine 0.166 /
25.0 % (seed 2: 0.168 / 24.4 %), the cluster 0.184 / 29.2 % (whole-matrix sync: the same). The
test asks the cluster for MEN within 0.03 and analogies within 2 points of one machine. Two
broken variants of the same run are checked to fail that bar: plain averaging without the
replicas' rate scaled by their number (measured 0.091 / 4.9 %), and a sparse sync that loses the
n-gram rows' deltas (only the word rows and C averaged: 0.124 / 0.8 %).
"""


import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402
from cluster_helpers import Killer, quality, write_shards  # noqa: E402

import wordvec  # noqa: E402
from wordvec import distributed as wd  # noqa: E402
from wordvec import distributed_fasttext as dft  # noqa: E402
from wordvec import distributed_rounds as dr  # noqa: E402
from wordvec import distributed_train as dt  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.errors import WordvecError  # noqa: E402
from wordvec.fasttext import FastText  # noqa: E402

PARAMS = {"arch": "sg", "dim": 50, "epochs": 2, "bucket": 200_000, "min_count": 5, "seed": 1}
SYNC = 200_000
UNSEEN = "kingliest"  # not in the corpus; its n-grams are


@pytest.fixture(scope="module")
def client():
    with wd.connect("local", workers=2, threads_per_worker=1) as c:
        yield c


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return write_shards(tmp_path_factory.mktemp("fasttext-shards"), 4)


def close_to(got, ref):
    return got[0] >= ref[0] - 0.03 and got[1] >= ref[1] - 0.02


def test_sparse_deltas_are_whole_matrix_averaging():
    """Adding each replica's row deltas times its share of the words is the weighted mean of
    the whole replicas; averaging a row over the replicas that touched it is not."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((40, 6)).astype(np.float32)
    C = rng.standard_normal((9, 6)).astype(np.float32)
    words = [3_000, 5_000, 2_000]
    replicas, deltas = [], []
    for k in range(3):
        Wk, Ck = W.copy(), C.copy()
        touched = np.sort(rng.choice(40, size=10 + 5 * k, replace=False)).astype(np.int32)
        Wk[touched] += rng.standard_normal((len(touched), 6)).astype(np.float32)
        Ck[k::3] -= np.float32(0.5)
        replicas.append((Wk, Ck))
        allc = np.arange(9, dtype=np.int32)
        deltas.append([dft.row_delta(Wk, touched, W[touched]),
                       dft.row_delta(Ck, allc, C[allc])])
        assert len(deltas[-1][0][0]) == len(touched) and len(deltas[-1][1][0]) == 3
    whole = dr.average_replicas(replicas, words)
    got = [W.copy(), C.copy()]
    changed = dft.add_deltas(got, deltas, words)
    for a, b in zip(got, whole):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
    untouched = np.setdiff1d(np.arange(40), changed[0])
    assert len(untouched) and (got[0][untouched] == W[untouched]).all()  # left alone, exactly
    # the other "sparse average": a row moves as far as its replicas' mean step
    per_row = W.copy()
    for r in changed[0]:
        steps = [(w, Wk[r] - W[r]) for (Wk, _), w, d in zip(replicas, words, deltas)
                 if r in d[0][0]]
        per_row[r] += sum(w * s for w, s in steps) / sum(w for w, _ in steps)
    assert not np.allclose(per_row, whole[0], atol=1e-3)


class _Scatter:  # what the driver's rounds use of a client, without a cluster
    def scatter(self, data, **kw):
        return list(data)


def test_replicas_hold_the_drivers_model_bit_for_bit(shards, monkeypatch):
    """The workers' side and the driver's side of sparse sync, in this process (two replicas,
    two runs of the worker cache): at the start of every round each replica holds exactly the
    driver's model, so no row a replica changed went untold."""
    from types import SimpleNamespace

    from wordvec.corpus import MAX_SENTENCE_LENGTH
    from wordvec.encode import count_words
    from wordvec.params import FASTTEXT
    p = FASTTEXT.resolve({**PARAMS, "dim": 8, "bucket": 5_000, "epochs": 1})
    files = shards[:2]
    vocab = count_words(files, min_count=5)
    box = {}
    monkeypatch.setattr(distributed, "get_worker", lambda: SimpleNamespace(address=box["a"]))
    runs = {"w0": "check-0", "w1": "check-1"}
    sizes, sentences = {}, 0
    for i, a in enumerate(runs):
        box["a"] = a
        _, _, sizes[i], n = dt.prepare_shard(runs[a], i, files[i], vocab, False,
                                             MAX_SENTENCE_LENGTH, 1)
        sentences += n
    per_epoch = int(sum(s.sum() for s in sizes.values()))
    totals = {"sentences": sentences, "tokens": per_epoch - sentences,
              "raw_tokens": vocab.raw_tokens, "epochs": 1}
    family = dft._FastTextRounds(vocab, p, totals)
    c = _Scatter()
    try:
        for rnd in range(3):
            results = []
            for i, a in enumerate(runs):
                box["a"] = a
                sync, _ = family.payloads(c, [a])  # bring it up to date, train nothing
                dft.train_fasttext_replica(runs[a], sync[a], [], files, vocab, p, 1, False,
                                           MAX_SENTENCE_LENGTH, totals, "sparse")
                rep = dt._CACHE[(runs[a], "fasttext")]
                assert (rep.W == family.W).all() and (rep.C == family.C).all(), (rnd, a)
                sync, _ = family.payloads(c, [a])
                assert all(len(rows) == 0 for rows, _ in sync[a][2])  # nothing new
                j0, j1 = 4 * rnd, 4 * rnd + 4
                piece = (i, 0, j0, j1, 0.1, 0.09)
                results.append(dft.train_fasttext_replica(
                    runs[a], sync[a], [piece], files, vocab, p, 1, False, MAX_SENTENCE_LENGTH,
                    totals, "sparse"))
                assert results[-1][2] == int(sizes[i][j0:j1].sum())
                changed_w = results[-1][1][0][0]
                assert len(changed_w) and changed_w.max() >= len(vocab) + 1  # n-gram rows too
            for r in results:
                assert family.add(r)[1] == ()  # (combined, its arrays let go of)
            family.finish()
        # a replica that does not hold the model a message updates (its worker restarted at
        # the same address) says so, and the driver drops it as a lost worker
        box["a"] = "w0"
        stale = dft.train_fasttext_replica(runs["w0"], (99, 100, []), [(0, 0, 0, 1, 0.1, 0.1)],
                                           files, vocab, p, 1, False, MAX_SENTENCE_LENGTH,
                                           totals, "sparse")
        assert stale[1] is None and stale[2] == 0
        assert family.lost([stale]) == ([], ["w0"])
    finally:
        for run in runs.values():
            dt.drop_run(run)


def test_sparse_sync_is_the_whole_matrix_sync_on_the_cluster(client, shards):
    """A round with rows sent as they change, and with whole matrices sent both ways: the same
    model (up to float32 rounding), at a fraction of the bytes. (Later rounds train from
    models a rounding apart, and fastText's sigmoid table turns that into visibly different
    numbers: 6e-4 after two rounds; the quality is the same, see the module docstring.)"""
    params = {**PARAMS, "dim": 16, "bucket": 20_000, "epochs": 1}
    runs = {s: dft.train_fasttext(shards[:2], client, params, sync_every=60_000, sync=s,
                                  max_rounds=1) for s in dft.SYNCS}
    sparse, full = runs["sparse"], runs["full"]
    np.testing.assert_allclose(sparse.W, full.W, rtol=0, atol=1e-5)
    np.testing.assert_allclose(sparse.C, full.C, rtol=0, atol=1e-5)
    s, f = sparse.history[-1]["cluster"], full.history[-1]["cluster"]
    assert s["rounds"] == f["rounds"] == 1
    whole = dft.sync_bytes(len(sparse.vocab), 16, 20_000)
    assert s["sync_bytes_per_replica"] == f["sync_bytes_per_replica"] == whole
    assert f["bytes_down_per_replica_round"] == f["bytes_up_per_replica_round"] == whole
    assert 0 < s["bytes_up_per_replica_round"] < whole
    assert s["bytes_down_per_replica_round"] == 0  # (the replicas made the first model)


@pytest.fixture(scope="module")
def single(shards):
    model = FastText(**PARAMS, threads=2).fit(shards)
    return (*quality(model.wv), model.history[-1])


def test_same_quality_as_one_machine_and_broken_variants_fail(client, shards, single, tmp_path,
                                                              monkeypatch):
    lines = []
    model = dft.train_fasttext(shards, client, PARAMS, sync_every=SYNC, log=lines.append)
    got = quality(model.wv)
    stats = model.history[-1]
    assert close_to(got, single), (got, single)
    # every word (and </s>) of every epoch, then fastText's partial extra epoch
    assert stats["words"] == PARAMS["epochs"] * stats["vocab_tokens"] + stats["extra_words"]
    assert 0 < stats["extra_words"] < stats["vocab_tokens"]
    one = single[2]  # the same corpus as one machine sees it (fastText's token count)
    assert (stats["sentences"], stats["corpus_tokens"]) == (one["sentences"], one["corpus_tokens"])
    assert stats["vocab_tokens"] == one["vocab_tokens"] + one["sentences"]  # (with </s>)
    assert abs(stats["words"] - one["words"]) < 0.02 * one["words"]
    cluster = stats["cluster"]
    assert cluster["rounds"] >= 8 and not cluster["lost_workers"] and not lines
    assert cluster["sync"] == "sparse"
    assert cluster["sync_bytes_per_replica"] == (2 * (len(model.vocab) + 1) + 200_000) * 50 * 4
    assert 0 < cluster["bytes_up_per_replica_round"] < cluster["sync_bytes_per_replica"] / 2
    assert 0 < cluster["bytes_down_per_replica_round"] < cluster["sync_bytes_per_replica"] / 2

    # a normal fastText model folder: vectors for unseen words from the n-gram rows
    assert UNSEEN not in model.vocab.index
    oov = model.wv[UNSEEN]
    assert np.isfinite(oov).all() and np.linalg.norm(oov) > 0
    model.save(tmp_path / "ft")
    v = wordvec.load(tmp_path / "ft")
    assert v.meta["kind"] == "fasttext" and v.words == model.vocab.words
    np.testing.assert_array_equal(v[UNSEEN], oov)
    again = wordvec.load_model(tmp_path / "ft")
    assert (again.W == model.W).all() and (again.C == model.C).all()
    r = CliRunner().invoke(cli, ["similar", UNSEEN, "-m", str(tmp_path / "ft"), "-n", "3"])
    assert r.exit_code == 0 and f"nearest to {UNSEEN}" in r.output, r.output

    # the wrong learning rate: replicas at the schedule's rate, then averaged
    plain = quality(dft.train_fasttext(shards, client, PARAMS, sync_every=SYNC,
                                       lr_scale=1).wv)
    assert not close_to(plain, single), (plain, single)

    # a sparse sync that loses the n-gram rows: only the word rows (and C) are averaged
    add = dft.RowSums.add
    vt = len(model.vocab) + 1  # (words and </s>)

    def words_only(self, delta, words):
        (r, d), c = delta
        return add(self, [(r[r < vt], d[r < vt]), c], words)
    monkeypatch.setattr(dft.RowSums, "add", words_only)
    lossy = quality(dft.train_fasttext(shards, client, PARAMS, sync_every=SYNC).wv)
    assert not close_to(lossy, single), (lossy, single)


def test_cli_train_fasttext_cluster_local(shards, tmp_path):
    out = tmp_path / "ft-cbow"
    r = CliRunner().invoke(cli, ["train", *shards[:2], "--cluster", "local", "--workers", "2",
                                 "--model", "fasttext", "--arch", "cbow", "--dim", "20",
                                 "--bucket", "20000", "--epochs", "1", "--sync-every", "300000",
                                 "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "fasttext:" in r.output and "saved to" in r.output
    v = wordvec.load(out)
    assert v.meta["kind"] == "fasttext" and v.dim == 20
    assert v.meta["params"]["arch"] == "cbow" and v.meta["params"]["bucket"] == 20_000
    assert v.meta["stats"]["cluster"]["workers"] == 2
    assert np.linalg.norm(v[UNSEEN]) > 0
    r = CliRunner().invoke(cli, ["similar", "king", UNSEEN, "-m", str(out), "-n", "3"])
    assert r.exit_code == 0 and "nearest to king" in r.output, r.output


def test_bad_settings_refused_before_connecting(shards):
    with pytest.raises(WordvecError, match="sync must be"):
        dft.train_fasttext(shards, "local", PARAMS, sync="some")
    with pytest.raises(WordvecError, match="sync-every"):
        dft.train_fasttext(shards, "local", PARAMS, sync_every=0)
    with pytest.raises(WordvecError, match="minn"):
        dft.train_fasttext(shards, "local", {**PARAMS, "minn": 7, "maxn": 6})


def test_a_worker_killed_during_a_round_is_survived(client, shards, tmp_path):
    """SIGKILL one worker while it trains a round: its replica is gone, the round is averaged
    over the other one, its shards go to the other worker (which trains them on its replica),
    and every word is still trained."""
    params = {**PARAMS, "epochs": 1, "dim": 20, "bucket": 20_000, "oov_length": False}
    lines = []
    with Killer(client, "wordvec-train-2-") as killer:
        model = dft.train_fasttext(shards, client, params, sync_every=100_000, log=lines.append)
    assert killer.pid is not None, "no training round was seen running"
    stats = model.history[-1]
    assert stats["cluster"]["lost_workers"] == [killer.addr]
    assert len(lines) == 1 and "lost worker" in lines[0]
    assert stats["words"] == stats["vocab_tokens"]
    men, _ = quality(model.wv)
    assert men > 0.05  # trained, not the initial noise
