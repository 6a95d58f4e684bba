"""Data-parallel word2vec on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread),
no mocks of the cluster.

Quality: the bundled corpus in 4 shards, skip-gram dim 100, 3 epochs, on one machine (2 threads)
and on the cluster (2 replicas averaged every 200,000 words). Measured (MEN rho on 1,542 pairs,
analogy accuracy on 5,725 questions): one machine 0.287 / 6.8 % (seed 2: 0.283 / 7.2 %), the
cluster 0.279 / 6.8 %. The test asks the cluster for MEN within 0.03 and analogies within 1
point of one machine. Two broken variants of the same run are checked to fail that bar, so the
check can tell: plain averaging without the replicas' rate scaled by their number (the wrong
learning rate: each word's update divided by 2, measured 0.145 / 4.5 %), and no averaging (the
model replaced by the first replica each round: half the data's updates lost).
"""


import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402
from cluster_helpers import Killer, quality, write_shards  # noqa: E402

import wordvec  # noqa: E402
from wordvec import distributed as wd  # noqa: E402
from wordvec import distributed_train as dt  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.errors import WordvecError  # noqa: E402
from wordvec.word2vec import Word2Vec  # noqa: E402

PARAMS = {"arch": "sg", "dim": 100, "epochs": 3, "min_count": 5, "seed": 1}
SYNC = 200_000


@pytest.fixture(scope="module")
def client():
    with wd.connect("local", workers=2, threads_per_worker=1) as c:
        yield c


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return write_shards(tmp_path_factory.mktemp("train-shards"), 4)


def close_to(got, ref):
    return got[0] >= ref[0] - 0.03 and got[1] >= ref[1] - 0.01


@pytest.fixture(scope="module")
def single(shards):
    return quality(Word2Vec(**PARAMS, threads=2).fit(shards).wv)


def test_same_quality_as_one_machine_and_broken_averaging_fails(client, shards, single, tmp_path,
                                                                monkeypatch):
    lines = []
    model = dt.train_word2vec(shards, client, PARAMS, sync_every=SYNC, log=lines.append)
    got = quality(model.wv)
    stats = model.history[-1]
    assert close_to(got, single), (got, single)
    assert stats["words"] == PARAMS["epochs"] * stats["vocab_tokens"]  # every word, every epoch
    assert stats["cluster"]["rounds"] >= 8 and not stats["cluster"]["lost_workers"] and not lines
    assert stats["cluster"]["sync_bytes_per_replica"] == 2 * len(model.vocab) * 100 * 4
    # a normal model folder
    model.save(tmp_path / "m")
    v = wordvec.load(tmp_path / "m")
    assert v.words == model.vocab.words and v.meta["kind"] == "sg"
    again = wordvec.load_model(tmp_path / "m")
    assert (again.C == model.C).all()

    # the wrong learning rate: replicas at the schedule's rate, then averaged
    plain = quality(dt.train_word2vec(shards, client, PARAMS, sync_every=SYNC, lr_scale=1).wv)
    assert not close_to(plain, single), (plain, single)
    # no averaging: the first replica to come back replaces the model
    class First(dt.WeightedMean):
        def add(self, arrays, weight):
            if self.sums is None:
                self.sums = [np.array(a, copy=True) for a in arrays]

        def finish(self):
            out, self.sums = self.sums, None
            return out
    monkeypatch.setattr(dt, "WeightedMean", First)
    first = quality(dt.train_word2vec(shards, client, PARAMS, sync_every=SYNC).wv)
    assert not close_to(first, single), (first, single)


def test_a_worker_killed_during_a_round_is_survived(client, shards, tmp_path):
    """SIGKILL one worker while it trains a round: the round is averaged over the other replica,
    a line says so, its shards go to the other worker, and every word is still trained."""
    params = {**PARAMS, "epochs": 2, "dim": 50}
    lines = []
    with Killer(client, "wordvec-train-2-") as killer:
        model = dt.train_word2vec(shards, client, params, sync_every=100_000, log=lines.append)
    assert killer.pid is not None, "no training round was seen running"
    stats = model.history[-1]
    assert stats["cluster"]["lost_workers"] == [killer.addr]
    assert len(lines) == 1 and "lost worker" in lines[0] and killer.addr in lines[0]
    assert stats["words"] == params["epochs"] * stats["vocab_tokens"]
    model.save(tmp_path / "after-kill")
    v = wordvec.load(tmp_path / "after-kill")
    assert len(v) == len(model.vocab)
    men, _ = quality(v)
    assert men > 0.1  # trained, not the initial noise (~0)


def test_cli_train_cluster_local(shards, tmp_path):
    out = tmp_path / "cbow"
    r = CliRunner().invoke(cli, ["train", *shards[:2], "--cluster", "local", "--workers", "2",
                                 "--model", "cbow", "--dim", "20", "--epochs", "1",
                                 "--sync-every", "300000", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "cbow:" in r.output and "saved to" in r.output
    v = wordvec.load(out)
    assert v.meta["kind"] == "cbow" and v.dim == 20
    assert v.meta["stats"]["cluster"]["workers"] == 2


@pytest.mark.parametrize("args, message", [
    (["--cluster", "local", "--model", "fasttext", "--cbow-mean", "1"],
     "does not apply to --model fasttext"),
    (["--sync-every", "1000"], "add --cluster"),
    (["--cluster", "local", "--continue", "x"], "cannot be combined with --cluster"),
])
def test_cli_refusals_one_line(shards, tmp_path, args, message):
    r = CliRunner().invoke(cli, ["train", shards[0], "-o", str(tmp_path / "m"), *args])
    assert r.exit_code != 0 and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1


def test_bad_settings_refused_before_connecting(shards):
    with pytest.raises(WordvecError, match="sync-every"):
        dt.train_word2vec(shards, "local", PARAMS, sync_every=0)
    with pytest.raises(WordvecError, match="lr_scale"):
        dt.train_word2vec(shards, "local", PARAMS, lr_scale=0)
