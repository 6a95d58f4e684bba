"""Co-occurrence counting: exact against brute force, spilled == in memory, .npz round trip."""

import random
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from wordvec.cooccur import count_cooccurrence, load_cooccurrence, save_cooccurrence
from wordvec.encode import EncodedCorpus
from wordvec.errors import WordvecError
from wordvec.vocab import Vocabulary

V = 40


@pytest.fixture(scope="module")
def sentences():
    rng = random.Random(7)
    sents = [[min(int(rng.expovariate(0.12)), V - 1) for _ in range(rng.randint(0, 25))]
             for _ in range(400)]
    sents.append([3, 3, 3, 3])  # repeated word: self-pairs
    sents.append([5])           # single word: no pairs
    return sents


@pytest.fixture(scope="module")
def corpus(sentences):
    vocab = Vocabulary([f"w{i}" for i in range(V)], list(range(1000, 1000 - V, -1)))
    return EncodedCorpus.from_arrays(vocab, sentences)


def brute_force(sentences, window, symmetric, weighted):
    """Pure-Python count with exact fractions, then rounded once to float64."""
    cells = {}
    for s in sentences:
        for j, centre in enumerate(s):
            for k in range(max(0, j - window), j):  # left context at distance j - k
                w = Fraction(1, j - k) if weighted else Fraction(1)
                cells[centre, s[k]] = cells.get((centre, s[k]), 0) + w
                if symmetric:  # s[j] is the right context of centre s[k]
                    cells[s[k], centre] = cells.get((s[k], centre), 0) + w
    m = np.zeros((V, V))
    for (r, c), v in cells.items():
        m[r, c] = float(v)
    return m


@pytest.mark.parametrize("window", [1, 2, 5, 10])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_counts_equal_brute_force_exactly(corpus, sentences, window, symmetric, weighted):
    m = count_cooccurrence(corpus, window=window, symmetric=symmetric,
                           distance_weighting=weighted, threads=1, progress=False)
    assert isinstance(m, sp.csr_matrix)
    assert m.shape == (V, V) and m.dtype == np.float64
    assert m.has_sorted_indices
    expected = brute_force(sentences, window, symmetric, weighted)
    assert np.array_equal(m.toarray(), expected)
    assert m.nnz == np.count_nonzero(expected)  # no explicit zeros stored


def test_symmetric_matrix_is_symmetric(corpus):
    m = count_cooccurrence(corpus, window=4, progress=False)
    assert (m != m.T).nnz == 0


def test_asymmetric_plus_transpose_is_symmetric(corpus):
    left = count_cooccurrence(corpus, window=3, symmetric=False, progress=False)
    both = count_cooccurrence(corpus, window=3, symmetric=True, progress=False)
    np.testing.assert_allclose((left + left.T).toarray(), both.toarray(), rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("weighted", [True, False])
def test_spilled_and_merged_equals_in_memory(corpus, threads, weighted):
    ref = count_cooccurrence(corpus, window=6, distance_weighting=weighted, threads=1,
                             progress=False)
    assert ref.count_stats["spills"] == 0
    tiny = count_cooccurrence(corpus, window=6, distance_weighting=weighted, threads=threads,
                              memory_gb=1e-6, progress=False)
    assert tiny.count_stats["spills"] >= 2  # really went through disk
    assert np.array_equal(tiny.indptr, ref.indptr)
    assert np.array_equal(tiny.indices, ref.indices)
    assert np.array_equal(tiny.data, ref.data)  # bit-identical, not merely close


def test_long_window_is_deterministic(corpus):
    a = count_cooccurrence(corpus, window=30, threads=1, progress=False)
    b = count_cooccurrence(corpus, window=30, threads=2, memory_gb=1e-6, progress=False)
    assert np.array_equal(a.data, b.data) and np.array_equal(a.indices, b.indices)
    ref = brute_force([list(s) for s in _sents(corpus)], 30, True, True)
    np.testing.assert_allclose(a.toarray(), ref, rtol=1e-8)


def _sents(corpus):
    return [corpus.ids[corpus.offsets[i]:corpus.offsets[i + 1]].tolist()
            for i in range(corpus.n_sentences)]


def test_windows_do_not_cross_sentences():
    vocab = Vocabulary(["a", "b"], [2, 2])
    c = EncodedCorpus.from_arrays(vocab, [[0], [1], [0], [1]])
    m = count_cooccurrence(c, window=5, progress=False)
    assert m.nnz == 0


def test_bad_parameters(corpus):
    with pytest.raises(WordvecError, match="window"):
        count_cooccurrence(corpus, window=0, progress=False)
    with pytest.raises(WordvecError, match="memory"):
        count_cooccurrence(corpus, memory_gb=0, progress=False)


def test_save_load_round_trip(tmp_path, corpus):
    m = count_cooccurrence(corpus, window=5, progress=False)
    path = tmp_path / "cooc.npz"
    save_cooccurrence(path, m, corpus.vocab)
    m2, vocab = load_cooccurrence(path)
    assert vocab.words == corpus.vocab.words
    assert np.array_equal(vocab.counts, corpus.vocab.counts)
    assert np.array_equal(m2.toarray(), m.toarray()) and m2.dtype == np.float64
    with np.load(path, allow_pickle=False) as z:  # readable without pickle
        assert "data" in z and "words" in z


def test_load_errors(tmp_path, corpus):
    with pytest.raises(WordvecError, match="no such"):
        load_cooccurrence(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(WordvecError, match="corrupt"):
        load_cooccurrence(bad)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(WordvecError, match="not a wordvec co-occurrence"):
        load_cooccurrence(other)
    m = count_cooccurrence(corpus, window=2, progress=False)
    good = tmp_path / "good.npz"
    save_cooccurrence(good, m, corpus.vocab)
    truncated = tmp_path / "trunc.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WordvecError):
        load_cooccurrence(truncated)


def test_save_refuses_mismatched_vocabulary(tmp_path, corpus):
    m = count_cooccurrence(corpus, window=2, progress=False)
    with pytest.raises(WordvecError, match="does not match"):
        save_cooccurrence(tmp_path / "x.npz", m, Vocabulary(["a"], [1]))
    assert not (tmp_path / "x.npz").exists()


def test_growing_hash_table_equals_brute_force(monkeypatch):
    """Many distinct pairs, a tiny dense block and a table that must double several times."""
    import wordvec.cooccur as co
    monkeypatch.setattr(co, "INITIAL_SLOTS", 1 << 10)
    monkeypatch.setattr(co, "HOT_WORDS", 4)
    monkeypatch.setattr(co, "DENSE_MAX_BYTES", 8 * 2000)
    rng = random.Random(3)
    n = 500
    sents = [[rng.randrange(n) for _ in range(rng.randint(1, 30))] for _ in range(300)]
    vocab = Vocabulary([f"x{i}" for i in range(n)], [1] * n)
    c = EncodedCorpus.from_arrays(vocab, sents)
    m = co.count_cooccurrence(c, window=4, threads=2, memory_gb=0.01, progress=False)
    assert m.count_stats["hash_slots"] > 1 << 10  # grew
    assert m.count_stats["spills"] == 0
    global V
    saved, V = V, n
    try:
        expected = brute_force(sents, 4, True, True)
    finally:
        V = saved
    assert np.array_equal(m.toarray(), expected)


class _Collect:
    """A sink that keeps every batch (copies: the batches are views of reused buffers)."""

    def __init__(self):
        self.bound, self.batches = None, []

    def start(self, bound):
        self.bound = bound

    def add(self, rows, cols, vals):
        assert rows.dtype == cols.dtype == np.int32 and vals.dtype == np.float32
        self.batches.append((rows.copy(), cols.copy(), vals.copy()))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("memory_gb", [4.0, 1e-6])
def test_streamed_non_zeros_are_the_matrix(corpus, monkeypatch, threads, memory_gb):
    """GloVe's stream (no matrix built) hands over exactly the matrix's entries, each once,
    rounded to float32, spilled or not; batches of whole rows within the batch size."""
    from wordvec import cooccur as co
    monkeypatch.setattr(co, "EMIT_BATCH", 64)  # several batches (a row has at most V = 40)
    monkeypatch.setattr(co, "MIN_WINDOW", 3)  # spilled chunks read 3 pairs at a time
    monkeypatch.setattr(co, "WINDOWS_BYTES", 0)
    refills = []
    real_refill = co._Windows.refill

    def refill(self):
        refills.append(1)
        real_refill(self)
    monkeypatch.setattr(co._Windows, "refill", refill)
    ref = count_cooccurrence(corpus, window=5, threads=1, progress=False)
    sink = _Collect()
    stats = co.stream_cooccurrence(corpus, sink, window=5, threads=threads, memory_gb=memory_gb,
                                   progress=False)
    if memory_gb < 1:
        assert stats["spills"] >= 2 and len(refills) > 20  # windows ran dry mid-row too
    assert len(sink.batches) > 2 and all(len(b[0]) <= 64 for b in sink.batches)
    rows = np.concatenate([b[0] for b in sink.batches])
    cols = np.concatenate([b[1] for b in sink.batches])
    vals = np.concatenate([b[2] for b in sink.batches])
    assert stats["nonzeros"] == len(rows) == ref.nnz <= sink.bound
    got = sp.csr_matrix((vals, (rows, cols)), shape=ref.shape)  # duplicates would be summed
    assert got.nnz == ref.nnz
    assert np.array_equal(got.toarray(), ref.toarray().astype(np.float32))
    per_batch = [set(b[0].tolist()) for b in sink.batches]  # whole rows: no row in two batches
    assert sum(map(len, per_batch)) == len(set().union(*per_batch))


@pytest.mark.parametrize("memory_gb", [0.5, 1.0, 4.0, 16.0])
@pytest.mark.parametrize("nparts", [1, 2, 8])
def test_budget_bounds_the_accumulators_with_their_transients(memory_gb, nparts):
    """--memory is the whole step's soft limit: dense block plus every thread's table at its
    largest, a doubling's old half included, stay within ACCUMULATOR_SHARE of it."""
    from wordvec import cooccur as co
    n_words = 60_000
    dense_cells, first, most = co._plan(n_words, memory_gb, nparts, min_slots=1000)
    peak = dense_cells * 8 + nparts * most * 16 * 1.5
    assert peak <= memory_gb * (1 << 30) * co.ACCUMULATOR_SHARE
    assert most * 16 * 1.5 * nparts > memory_gb * (1 << 30) * co.ACCUMULATOR_SHARE / 4  # used
    assert first <= most
