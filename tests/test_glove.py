"""GloVe trainer: loss decreases, planted topics are learned, files round trip, bad input refused."""

import os

import numpy as np
import pytest

from wordvec import native
from wordvec.cooccur import count_cooccurrence, save_cooccurrence
from wordvec.encode import encode
from wordvec.errors import WordvecError
from wordvec.glove import train_glove

TOPICS = 6
PER_TOPIC = 6


def topic_sentences(n=4000, seed=0):
    """Each sentence: 6 words of one topic, 1 of another topic and 2 of 30 shared noise words.

    The stray word matters: GloVe fits only non-zero counts, so topics that never co-occur
    would have nothing pushing them apart; small cross-topic counts do.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = int(rng.integers(TOPICS))
        s = [f"t{t}w{k}" for k in rng.integers(PER_TOPIC, size=6)]
        s.append(f"t{(t + int(rng.integers(1, TOPICS))) % TOPICS}w{int(rng.integers(PER_TOPIC))}")
        s += [f"noise{k}" for k in rng.integers(30, size=2)]
        rng.shuffle(s)
        out.append(s)
    return out


@pytest.fixture(scope="module")
def corpus():
    c = encode(topic_sentences(), min_count=1)
    yield c
    c.close()


@pytest.fixture(scope="module")
def model(corpus):
    return train_glove(corpus, dim=16, window=5, epochs=40, x_max=10.0, threads=2, seed=3,
                       progress=False)


def test_meta_and_shape(model, corpus):
    assert model.matrix.shape == (len(corpus.vocab), 16)
    assert model.matrix.dtype == np.float32
    meta = model.meta
    assert meta["kind"] == "glove"
    assert meta["params"]["x_max"] == 10.0 and meta["params"]["vectors"] == "sum"
    stats = meta["stats"]
    assert len(stats["loss"]) == 40
    assert stats["nonzeros"] > 0 and stats["updates"] == 40 * stats["nonzeros"]
    assert "count_seconds" in stats and "train_seconds" in stats


def test_loss_decreases(model):
    loss = model.meta["stats"]["loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert all(b <= a * 1.01 for a, b in zip(loss, loss[1:]))


def test_planted_topics_are_neighbours(model):
    hits = total = 0
    for t in range(TOPICS):
        for k in range(PER_TOPIC):
            near = [w for w, _ in model.most_similar(f"t{t}w{k}", topn=PER_TOPIC - 1)]
            hits += sum(w.startswith(f"t{t}w") for w in near)
            total += len(near)
    assert hits / total > 0.95


def test_vector_modes(corpus):
    kw = dict(dim=8, window=3, epochs=2, threads=1, seed=5, progress=False)
    s = train_glove(corpus, vectors="sum", **kw).matrix
    w = train_glove(corpus, vectors="word", **kw).matrix
    c = train_glove(corpus, vectors="concat", **kw).matrix
    assert c.shape == (s.shape[0], 16)
    np.testing.assert_array_equal(c[:, :8], w)
    np.testing.assert_allclose(c[:, :8] + c[:, 8:], s, rtol=1e-6)


def test_single_thread_is_reproducible(corpus):
    kw = dict(dim=8, window=3, epochs=3, threads=1, seed=11, progress=False)
    a = train_glove(corpus, **kw)
    b = train_glove(corpus, **kw)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    assert a.meta["stats"]["loss"] == b.meta["stats"]["loss"]
    c = train_glove(corpus, **dict(kw, seed=12))
    assert not np.array_equal(a.matrix, c.matrix)


def test_from_cooccurrence_file(tmp_path, corpus):
    path = tmp_path / "cooc.npz"
    m = count_cooccurrence(corpus, window=4, progress=False)
    save_cooccurrence(path, m, corpus.vocab, {"window": 4, "symmetric": True})
    kw = dict(dim=8, epochs=3, threads=1, seed=2, progress=False)
    from_file = train_glove(None, cooccur=str(path), **kw)
    counted = train_glove(corpus, window=4, **kw)
    assert from_file.words == corpus.vocab.words
    assert from_file.meta["params"]["window"] == 4
    np.testing.assert_array_equal(from_file.matrix, counted.matrix)


def test_native_round_trip(tmp_path, model):
    path = tmp_path / "glove-model"
    native.save(model, path)
    back = native.load(path)
    assert back.words == model.words
    np.testing.assert_array_equal(np.asarray(back.matrix), model.matrix)
    assert back.meta["kind"] == "glove"
    assert back.meta["stats"]["loss"] == model.meta["stats"]["loss"]
    assert back.most_similar("t0w0", topn=3) == model.most_similar("t0w0", topn=3)


def test_divergence_is_reported(corpus):
    with pytest.raises(WordvecError, match="diverged"):
        train_glove(corpus, dim=8, window=3, epochs=5, alpha=1e30, threads=1, progress=False)


@pytest.mark.parametrize("bad", [
    {"dim": 0}, {"dim": 2.5}, {"window": 0}, {"x_max": 0}, {"x_max": -1.0}, {"power": 0},
    {"alpha": 0}, {"alpha": -0.1}, {"epochs": 0}, {"threads": 0}, {"vectors": "both"},
    {"memory_gb": 0},
])
def test_bad_parameters(corpus, bad):
    with pytest.raises(WordvecError):
        train_glove(corpus, progress=False, **bad)


def test_needs_corpus_or_file(tmp_path):
    with pytest.raises(WordvecError, match="corpus or a co-occurrence file"):
        train_glove(None, progress=False)
    with pytest.raises(WordvecError, match="no such"):
        train_glove(None, cooccur=str(tmp_path / "missing.npz"), progress=False)


def test_no_pairs_refused():
    c = encode([["alone"], ["alone"], ["solo"]], min_count=1)
    try:
        with pytest.raises(WordvecError, match="no co-occurrences"):
            train_glove(c, progress=False)
    finally:
        c.close()


def test_shuffled_entries_file_is_a_permutation(tmp_path, monkeypatch):
    """The scratch file GloVe trains from holds every entry once, in an order that is a
    seeded shuffle (same seed, same order; another seed, another), through several buckets;
    the folder goes with close()."""
    from wordvec import glove as G
    from wordvec.rng import seed_state
    monkeypatch.setattr(G, "BUCKET_BYTES", 12 * 500)  # 2,000 entries: at least 4 buckets
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 50, 2000).astype(np.int32)
    cols = rng.integers(0, 50, 2000).astype(np.int32)
    vals = np.arange(1, 2001, dtype=np.float32)  # unique: identifies each entry

    def build(seed):
        e = G._Entries(seed_state(seed), tmpdir=str(tmp_path))
        e.start(len(rows))
        assert len(e.sizes) >= 4
        for lo in range(0, 2000, 300):  # several batches
            e.add(rows[lo:lo + 300], cols[lo:lo + 300], vals[lo:lo + 300])
        assert e.finish() == 2000
        rec = np.fromfile(e.path, dtype=np.int32).reshape(-1, 3)
        e.close()
        assert not os.path.exists(e.folder)
        return rec

    a, b, c = build(1), build(1), build(2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    v = a[:, 2].copy().view(np.float32)
    order = np.argsort(v)
    assert np.array_equal(v[order], vals)  # each entry once
    assert np.array_equal(a[order, 0], rows) and np.array_equal(a[order, 1], cols)
    # shuffled across the whole file, not within batches: entries of the first batch land
    # everywhere (a within-batch shuffle would keep them in the first 300 records)
    where = np.flatnonzero(v <= 300)
    assert where.max() > 1500 and where.min() < 500
    assert os.listdir(tmp_path) == []


def test_records_outside_the_vocabulary_are_refused_by_the_kernel():
    """The records come back from disk: the kernel skips and counts an out-of-range row or
    column instead of writing outside the arrays."""
    from wordvec import glove as G
    f32 = np.float32
    W, C = np.zeros((2, 3), f32), np.zeros((2, 3), f32)
    bw, bc = np.zeros(2, f32), np.zeros(2, f32)
    GW, GC, gbw, gbc = np.ones((2, 3), f32), np.ones((2, 3), f32), np.ones(2, f32), np.ones(2, f32)
    rows = np.array([0, 2, -1, 1], np.int32)
    cols = np.array([1, 0, 1, 5], np.int32)
    vals = np.array([5.0, 5.0, 5.0, 5.0], f32)
    cost, bad, outside = G._epoch(rows, cols, vals, W, C, bw, bc, GW, GC, gbw, gbc, f32(100),
                                  f32(0.75), f32(0.05), f32(100))
    assert outside == 3 and bad == 0
    assert bw[0] != 0 and bw[1] == 0 and bc[1] != 0 and bc[0] == 0  # only (0, 1) trained


def test_training_leaves_no_scratch(tmp_path, monkeypatch, corpus):
    """The shuffled entries live in TMPDIR only while training runs."""
    import tempfile
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    train_glove(corpus, dim=8, epochs=2, threads=2, progress=False)
    assert [n for n in os.listdir(tmp_path) if n.startswith("wordvec-glove-")] == []
