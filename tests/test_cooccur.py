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
