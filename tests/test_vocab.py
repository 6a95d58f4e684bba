import collections

import numpy as np
import pytest

from wordvec import rng
from wordvec.encode import EncodedCorpus, count_words, encode
from wordvec.errors import WordvecError
from wordvec.vocab import Vocabulary, build_alias

TEXT = "b a c a b a d e e e e e\nz a\n"


def test_count_words_order_and_min_count(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(TEXT)
    v = count_words(p, min_count=2)
    # counts: e5 a4 b2 ; ties broken by the word
    assert v.words == ["e", "a", "b"]
    assert v.counts.tolist() == [5, 4, 2]
    assert v.raw_tokens == 14
    v1 = count_words(p, min_count=1)
    assert v1.words == ["e", "a", "b", "c", "d", "z"]
    assert count_words(p, min_count=1, max_vocab=2).words == ["e", "a"]


def test_pruning_keeps_frequent_words_exact(tmp_path, monkeypatch):
    import wordvec.encode as enc
    monkeypatch.setattr(enc, "FLUSH_TOKENS", 50)
    words = [f"rare{i}" for i in range(400)]
    text = " ".join(w + " common" for w in words) + "\n"
    p = tmp_path / "c.txt"
    p.write_text(text)
    v = count_words(p, min_count=1, max_words_table=100)
    assert v.counts[v.index["common"]] == 400  # frequent word never pruned
    assert len(v) < 200  # table stayed bounded


def test_pruned_words_are_reported(tmp_path):
    # one chunk of 401 distinct words against a table of 100: the 400 seen once are dropped
    text = " ".join(f"rare{i} common" for i in range(400)) + "\n"
    p = tmp_path / "c.txt"
    p.write_text(text)
    v = count_words(p, min_count=1, max_words_table=100)
    assert v.words == ["common"] and v.raw_tokens == 800
    assert v.pruned_words == 400
    with encode(p, min_count=1, max_words_table=100) as c:
        assert c.pruned_words == c.vocab.pruned_words == 400
        assert c.n_tokens == 400 and c.raw_tokens == 800  # the pruned words' tokens are gone
    assert count_words(p, min_count=1).pruned_words == 0
    with encode(p, min_count=1) as c:
        assert c.pruned_words == c.vocab.pruned_words == 0 and c.n_tokens == 800


def test_save_load_roundtrip_and_foreign_vocab_files(tmp_path):
    v = Vocabulary(["the", "of", "naïve"], [10, 5, 2])
    v.save(tmp_path / "v.txt")
    w = Vocabulary.load(tmp_path / "v.txt")
    assert w.words == v.words and w.counts.tolist() == [10, 5, 2]
    # word2vec -save-vocab and GloVe vocab_count write the same "word count" lines
    (tmp_path / "glove.txt").write_text("the 1061396\nof 593677\n")
    assert Vocabulary.load(tmp_path / "glove.txt").counts.tolist() == [1061396, 593677]
    (tmp_path / "bad.txt").write_text("the ten\n")
    with pytest.raises(WordvecError, match="not an integer"):
        Vocabulary.load(tmp_path / "bad.txt")


def test_keep_probabilities_formula():
    v = Vocabulary(["a", "b"], [900, 100])
    p = v.keep_probabilities(1e-3)
    t = 1e-3 * 1000
    expected = [(np.sqrt(f / t) + 1) * t / f for f in (900, 100)]
    assert np.allclose(p, np.minimum(expected, 1.0))
    assert (v.keep_probabilities(0) == 1).all()


def test_alias_sampler_matches_distribution():
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])
    prob, alias = build_alias(p)

    state = rng.seed_state(7)
    from numba import njit

    @njit
    def draw_many(prob, alias, state, n):
        out = np.zeros(prob.shape[0], dtype=np.int64)
        for _ in range(n):
            out[rng.draw_alias(prob, alias, state)] += 1
        return out

    counts = draw_many(prob, alias, state, 200_000)
    assert np.allclose(counts / counts.sum(), p, atol=0.005)


def test_noise_distribution_is_unigram_to_075():
    v = Vocabulary(["a", "b", "c"], [81, 16, 1])
    prob, alias = v.noise_alias()
    n = len(prob)
    # reconstruct each word's probability from the alias table
    recon = prob / n
    for i in range(n):
        recon[alias[i]] += (1 - prob[i]) / n
    w = np.array([81, 16, 1]) ** 0.75
    assert np.allclose(recon, w / w.sum(), atol=1e-6)


def test_huffman_codes_are_prefix_free_and_optimal():
    counts = np.array([45, 13, 12, 16, 9, 5])
    order = np.argsort(-counts, kind="stable")
    v = Vocabulary([str(i) for i in order], counts[order])
    offsets, codes, points = v.huffman()
    words = [tuple(codes[offsets[i]:offsets[i + 1]]) for i in range(len(v))]
    for i, a in enumerate(words):
        for j, b in enumerate(words):
            if i != j:
                assert a != b[: len(a)]  # no code is a prefix of another
    # textbook example: optimal total cost is 224 (per 100 symbols)
    assert sum(len(c) * n for c, n in zip(words, v.counts)) == 224
    assert points.min() >= 0 and points.max() == len(v) - 2  # inner nodes; root first
    assert all(points[offsets[i]] == len(v) - 2 for i in range(len(v)))


def test_encode_matches_naive_and_drops_oov(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(TEXT)
    with encode(p, min_count=2) as c:
        assert c.vocab.words == ["e", "a", "b"]
        sents = [[c.vocab.words[i] for i in s] for s in c.sentences()]
        assert sents == [["b", "a", "a", "b", "a", "e", "e", "e", "e", "e"], ["a"]]
        assert c.raw_tokens == 14 and c.n_tokens == 11
        folder = c.folder
    import os
    assert not os.path.exists(folder)  # scratch removed on close


def test_encode_matches_bruteforce_on_random_text(tmp_path):
    rs = np.random.RandomState(0)
    lines = [" ".join(f"w{x}" for x in rs.zipf(1.5, size=rs.randint(0, 40)) % 300) for _ in range(500)]
    p = tmp_path / "c.txt"
    p.write_text("\n".join(lines) + "\n")
    counts = collections.Counter(" ".join(lines).split())
    with encode(p, min_count=3) as c:
        for w, i in c.vocab.index.items():
            assert c.vocab.counts[i] == counts[w]
        expected = [[w for w in line.split() if counts[w] >= 3] for line in lines if line.split()]
        got = [[c.vocab.words[i] for i in s] for s in c.sentences()]
        assert got == expected


def test_encode_from_token_lists_and_from_arrays():
    sents = [["a", "b", "a"], ["b", "c"], ["a"]]
    with encode(sents, min_count=1) as c:
        assert c.vocab.words == ["a", "b", "c"]
        assert [list(s) for s in c.sentences()] == [[0, 1, 0], [1, 2], [0]]
    c2 = EncodedCorpus.from_arrays(c.vocab, [[0, 1], [2]])
    assert c2.offsets.tolist() == [0, 2, 3] and c2.n_tokens == 3


def test_remap_with_small_blocks(tmp_path):
    import wordvec.encode as enc
    scratch = tmp_path / "s.int32"
    prov = np.array([0, 1, 2, 1, 0, 2, 2, 1], dtype=np.int32)
    prov.tofile(scratch)
    remap = np.array([0, -1, 1], dtype=np.int32)
    lengths = np.array([3, 0, 2, 3])
    ids, off = enc._remap(str(scratch), str(tmp_path / "o.int32"), remap, lengths, block=3)
    assert np.asarray(ids).tolist() == [0, 1, 0, 1, 1]
    assert off.tolist() == [0, 2, 2, 3, 5]


def test_encode_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(WordvecError, match="empty"):
        encode(empty)
    rare = tmp_path / "rare.txt"
    rare.write_text("a b c\n")
    with pytest.raises(WordvecError, match="min_count=5"):
        encode(rare, min_count=5)
    with pytest.raises(WordvecError, match="not strings"):
        encode(iter(["a b c"]), min_count=1)


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 20])
def test_encode_chunking_long_lines_and_blank_lines(tmp_path, monkeypatch, chunk):
    """Chunk-level tokenising gives the sentences of a line-by-line reading, at any chunk size."""
    import wordvec.encode as enc
    monkeypatch.setattr(enc, "CHUNK_CHARS", chunk)
    rs = np.random.RandomState(1)
    lines = []
    for n in [0, 3, 25, 0, 1, 57, 7, 0]:
        lines.append("  ".join(f"w{x}" for x in rs.randint(0, 6, size=n)))
    p = tmp_path / "c.txt"
    text = "\n".join(lines) + "\n  \t\n" + "w1 w2 w3"  # no newline at the end
    p.write_text(text)
    with encode(p, min_count=1, max_sentence_length=10) as c:
        got = [[c.vocab.words[i] for i in s] for s in c.sentences()]
    expected = [t[i:i + 10] for t in (line.split() for line in text.split("\n"))
                for i in range(0, len(t), 10)]
    assert got == expected
    assert [len(s) for s in got] == [3, 10, 10, 5, 1, 10, 10, 10, 10, 10, 7, 7, 3]


def test_encode_remakes_its_vocabulary_words_intact():
    # encode re-makes the kept words as new strings (memory); any token text survives it
    sents = [["a\nb", "é", "a\nb", "", "x" * 300, "é", "a"], ["a", "x" * 300]]
    with encode(sents, min_count=2) as c:
        assert c.vocab.words == ["a", "a\nb", "x" * 300, "é"]
        assert c.vocab.counts.tolist() == [2, 2, 2, 2]
        assert c.vocab.index == {w: i for i, w in enumerate(c.vocab.words)}
        assert [list(s) for s in c.sentences()] == [[1, 3, 1, 2, 3, 0], [0, 2]]


def test_noise_alias_is_reused_and_follows_the_counts():
    v = Vocabulary(["a", "b", "c", "d"], [40, 30, 20, 10])

    def fresh(counts, power):
        w = np.asarray(counts, dtype=np.float64) ** power
        return build_alias(w / w.sum())

    for power in (0.75, 0.5):
        prob, alias = v.noise_alias(power)
        want = fresh(v.counts, power)
        assert np.array_equal(prob, want[0]) and np.array_equal(alias, want[1])
    prob, alias = v.noise_alias()
    prob[:] = 0  # the caller's copy: the cached table is untouched
    assert np.array_equal(v.noise_alias()[0], fresh(v.counts, 0.75)[0])
    v.counts[3] = 400  # counts changed in place: a new table
    assert np.array_equal(v.noise_alias()[0], fresh(v.counts, 0.75)[0])
    assert not np.array_equal(v.noise_alias()[0], fresh([40, 30, 20, 10], 0.75)[0])
