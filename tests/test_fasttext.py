"""fastText: subword n-grams and hashing, vectors for unseen words, native round trip, training."""

import numpy as np
import pytest

from wordvec import native
from wordvec.encode import EncodedCorpus
from wordvec.errors import WordvecError
from wordvec.fasttext import FastTextVectors, train_fasttext
from wordvec.subwords import fnv1a, ngram_buckets, ngrams, subword_csr
from wordvec.vocab import Vocabulary


def ref_hash(s):
    """Independent FNV-1a as fastText computes it: bytes as signed chars widened to 32 bits."""
    h = 2166136261
    for byte in s.encode("utf-8"):
        signed = byte - 256 if byte >= 128 else byte
        h ^= signed & 0xFFFFFFFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h


# ---- n-grams and hashing ------------------------------------------------------------------
def test_ngrams_ascii():
    assert ngrams("of", 3, 6) == ["<of", "<of>", "of>"]
    assert ngrams("a", 3, 6) == ["<a>"]
    assert ngrams("where", 3, 4) == ["<wh", "<whe", "whe", "wher", "her", "here", "ere",
                                     "ere>", "re>"]
    assert ngrams("where", 3, 6)[:4] == ["<wh", "<whe", "<wher", "<where"]
    assert ngrams("a", 1, 2) == ["<a", "a", "a>"]  # lone "<" and ">" are skipped
    assert ngrams("cat", 3, 0) == []


def test_ngrams_non_ascii_count_characters():
    assert ngrams("naïve", 3, 4) == ["<na", "<naï", "naï", "naïv", "aïv", "aïve", "ïve", "ïve>",
                                     "ve>"]
    assert ngrams("日本語", 3, 6) == ["<日本", "<日本語", "<日本語>", "日本語", "日本語>", "本語>"]


def test_fnv1a_matches_reference():
    for s in ["", "a", "<of>", "naïve", "ïve>", "日本語", "<日本", "Ωμέγα", "emoji😀"]:
        assert fnv1a(s) == ref_hash(s), s
    # the signed-char detail matters: an unsigned-byte FNV-1a gives another value here
    unsigned = 2166136261
    for byte in "ï".encode():
        unsigned = ((unsigned ^ byte) * 16777619) & 0xFFFFFFFF
    assert fnv1a("ï") != unsigned
    assert fnv1a("a") == 0xE40C292C  # the published FNV-1a 32-bit test vector for "a"


def test_csr_rows_follow_fasttext_layout():
    words = ["the", "naïve", "日本語", "x"]
    bucket = 1000
    offsets, rows = subword_csr(words, 3, 6, bucket)
    assert offsets.dtype == np.int64 and rows.dtype == np.int32
    for i, w in enumerate(words):
        got = rows[offsets[i]:offsets[i + 1]].tolist()
        want = [i] + [len(words) + ref_hash(g) % bucket for g in ngrams(w, 3, 6)]
        assert got == want, w
    offsets, rows = subword_csr(words, 3, 0, 0)
    assert rows.tolist() == [0, 1, 2, 3]
    assert ngram_buckets("naïve", 3, 6, bucket).tolist() == [
        ref_hash(g) % bucket for g in ngrams("naïve", 3, 6)]


def test_hashes_match_real_fasttext(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    path = tmp_path / "c.txt"
    path.write_text(("the naïve cat of 日本語 where a dog\n") * 30, encoding="utf-8")
    model = fasttext.train_unsupervised(str(path), model="skipgram", minCount=1, dim=4, epoch=1,
                                        verbose=0, thread=1, bucket=5000)
    nwords = len(model.words)
    for w in ["naïve", "日本語", "where", "unfathomableness", "a"]:
        subs, ids = model.get_subwords(w)
        known = w in model.words
        if known:  # fastText lists the word itself first
            subs, ids = subs[1:], ids[1:]
        assert list(subs) == ngrams(w, 3, 6), w
        assert (np.asarray(ids) - nwords).tolist() == ngram_buckets(w, 3, 6, 5000).tolist(), w


# ---- vectors for unseen words and the native format --------------------------------------
def small_vectors(maxn=6, bucket=50):
    rng = np.random.default_rng(0)
    words = ["cat", "dog", "naïve"]
    matrix = rng.standard_normal((3, 8)).astype(np.float32)
    grams = rng.standard_normal((bucket, 8)).astype(np.float32) if maxn else None
    return FastTextVectors(words, matrix, grams, 3, maxn, bucket if maxn else 0,
                           counts=[5, 4, 3], meta={"kind": "fasttext"})


def test_unseen_word_is_mean_of_its_ngram_rows():
    v = small_vectors()
    word = "unfathomable"
    rows = [ref_hash(g) % 50 for g in ngrams(word, 3, 6)]
    assert np.allclose(v[word], v.ngrams[rows].mean(axis=0), atol=1e-6)
    assert v.has_vector(word) and word not in v
    assert np.array_equal(v["cat"], v.matrix[0])  # known words: their stored vector
    assert v.most_similar("catz", topn=2)  # queries accept unseen words


def test_no_ngrams_gives_clear_message():
    v = small_vectors()
    with pytest.raises(KeyError, match="no character n-grams of length 3..6"):
        v.oov_vector("")
    v = small_vectors(maxn=0)
    assert not v.has_vector("mouse")
    with pytest.raises(WordvecError, match="no vector for 'mouse'"):
        v.similarity("cat", "mouse")


def test_native_round_trip_keeps_unseen_vectors(tmp_path):
    v = small_vectors()
    native.save(v, str(tmp_path / "m"))
    back = native.load(str(tmp_path / "m"))
    assert isinstance(back, FastTextVectors)
    assert (back.minn, back.maxn, back.bucket) == (3, 6, 50)
    for w in ["unfathomable", "naïveté", "日本", "cat"]:
        assert np.array_equal(back[w], v[w]), w
    v0 = small_vectors(maxn=0)
    native.save(v0, str(tmp_path / "m0"))
    back0 = native.load(str(tmp_path / "m0"))
    assert back0.maxn == 0 and not back0.has_vector("mouse")


# ---- training ----------------------------------------------------------------------------
def planted_corpus(seed=0, n_sent=3000):
    """Two topics of words; in each topic the words share a rare suffix.

    Topic A words end in "-xqz" and occur with context words a0..a9; topic B words end in
    "-vwk" with b0..b9. Returns (sentences, vocabulary). Held-out words with the same suffixes
    never occur in the corpus.
    """
    rng = np.random.default_rng(seed)
    stems = ["lom", "tarp", "gef", "sirn", "pol", "mek", "dran", "hul"]
    topic_a = [s + "xqz" for s in stems]
    topic_b = [s + "vwk" for s in stems]
    ctx_a = [f"a{i}" for i in range(10)]
    ctx_b = [f"b{i}" for i in range(10)]
    sentences = []
    for _ in range(n_sent):
        if rng.random() < 0.5:
            heads, ctx = topic_a, ctx_a
        else:
            heads, ctx = topic_b, ctx_b
        sent = []
        for _ in range(6):
            sent.append(ctx[rng.integers(len(ctx))])
            sent.append(heads[rng.integers(len(heads))])
        sentences.append(sent)
    counts = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    vocab = Vocabulary.from_counts(counts)
    ids = [[vocab.index[w] for w in s] for s in sentences]
    return EncodedCorpus.from_arrays(vocab, ids), topic_a, topic_b


def test_shared_suffix_words_end_up_closer():
    corpus, topic_a, topic_b = planted_corpus()
    v = train_fasttext(corpus, progress=False, dim=24, epochs=3, bucket=5000, sample=0,
                       threads=1, seed=3)
    assert v.meta["kind"] == "fasttext"
    assert v.meta["stats"]["words"] == 3 * (corpus.n_tokens + corpus.n_sentences)  # + "</s>"
    assert v.meta["stats"]["final_lr"] == pytest.approx(0.0)
    same = np.mean([v.similarity(a, b) for a in topic_a for b in topic_a if a != b])
    cross = np.mean([v.similarity(a, b) for a in topic_a for b in topic_b])
    assert same > cross + 0.2
    # unseen words with the planted suffixes land near their topic
    for unseen, own, other in (("zibxqz", topic_a, topic_b), ("zibvwk", topic_b, topic_a)):
        near = np.mean([v.similarity(unseen, w) for w in own])
        far = np.mean([v.similarity(unseen, w) for w in other])
        assert near > far + 0.1, unseen


@pytest.mark.parametrize("arch,loss", [("cbow", "ns"), ("sg", "hs"), ("cbow", "hs")])
def test_variants_train(arch, loss):
    corpus, topic_a, topic_b = planted_corpus(n_sent=800)
    v = train_fasttext(corpus, progress=False, arch=arch, loss=loss, dim=16,
                       epochs=3, bucket=2000, sample=0, threads=2, seed=1)
    assert np.isfinite(v.matrix).all() and np.isfinite(v.ngrams).all()
    same = np.mean([v.similarity(a, b) for a in topic_a for b in topic_a if a != b])
    cross = np.mean([v.similarity(a, b) for a in topic_a for b in topic_b])
    # untrained, the shared suffixes' n-gram rows already give same - cross ~ 0.17; trained 0.9-1.6
    assert same > cross + 0.5


def test_known_word_vector_is_mean_of_word_and_ngram_rows():
    corpus, topic_a, _ = planted_corpus(n_sent=200)
    v = train_fasttext(corpus, progress=False, dim=8, epochs=1, bucket=300, threads=1)
    for w in (topic_a[0], "a3"):
        i = v.index[w]
        rows = np.concatenate([v.arrays["input_words"][i:i + 1],
                               v.ngrams[ngram_buckets(w, 3, 6, 300)]])
        assert np.allclose(v.matrix[i], rows.mean(axis=0), atol=1e-6)
        assert not np.allclose(v.matrix[i], v.oov_vector(w))


def test_one_thread_runs_are_identical():
    corpus, _, _ = planted_corpus(n_sent=300)
    a = train_fasttext(corpus, progress=False, dim=8, epochs=2, bucket=500, threads=1, seed=7)
    b = train_fasttext(corpus, progress=False, dim=8, epochs=2, bucket=500, threads=1, seed=7)
    assert np.array_equal(a.matrix, b.matrix) and np.array_equal(a.ngrams, b.ngrams)


def test_no_subwords_is_plain_word_vectors():
    corpus, topic_a, _ = planted_corpus(n_sent=300)
    v = train_fasttext(corpus, progress=False, dim=8, epochs=1, maxn=0, threads=1)
    assert v.bucket == 0 and v.ngrams.shape == (0, 8)
    assert not v.has_vector("zibxqz")


@pytest.mark.parametrize("params,message", [
    ({"minn": 5, "maxn": 3}, "must not exceed maxn"),
    ({"bucket": 0}, "bucket must be at least 1"),
    ({"dim": 0}, "dim must be"),
    ({"dim": -3}, "dim must be"),
    ({"window": 0}, "window must be"),
    ({"alpha": 0}, "alpha must be a number > 0"),
    ({"alpha": float("nan")}, "alpha must be a number > 0"),
    ({"negative": 0}, "negative sampling needs"),
    ({"arch": "glove"}, "arch must be"),
    ({"loss": "softmax"}, "loss must be"),
    ({"minn": 0}, "minn must be at least 1"),
    ({"min_alpha": 1.0}, "min_alpha must be between"),
    ({"sample": -1}, "sample must be"),
    ({"colour": "red"}, "unknown fastText parameter"),
])
def test_bad_parameters_refused(params, message):
    corpus, _, _ = planted_corpus(n_sent=20)
    with pytest.raises(WordvecError, match=message):
        train_fasttext(corpus, progress=False, **params)


def test_divergence_is_reported():
    corpus, _, _ = planted_corpus(n_sent=200)
    with pytest.raises(WordvecError, match="diverged"):
        train_fasttext(corpus, progress=False, dim=8, epochs=2, bucket=300, alpha=1e30,
                       threads=1)


def test_sg_matches_fasttext_per_pair_updates():
    """Deterministic case (window 1, hierarchical softmax, no subsampling, one thread): our
    kernel, which writes the subword rows once per centre word, gives what fastText's per-pair
    update (recompute the mean, add the gradient to every row, for every context) gives."""
    from wordvec.fasttext import init_input
    from wordvec.w2v_kernels import MAX_EXP, SIGMOID, TABLE_SIZE

    words = ["aaaaa", "abab", "cab", "ba", "b"]  # "aaaaa" lists the row of "aaa" twice
    counts = {w: 10 - i for i, w in enumerate(words)}
    vocab = Vocabulary.from_counts(counts)
    rng = np.random.default_rng(5)
    sents = [[vocab.words[k] for k in rng.integers(0, 5, 9)] for _ in range(12)]
    corpus = EncodedCorpus.from_arrays(vocab, [[vocab.index[w] for w in s] for s in sents])
    bucket, dim, alpha, epochs = 40, 6, 0.2, 2
    v = train_fasttext(corpus, progress=False, loss="hs", window=1, sample=0, dim=dim,
                       epochs=epochs, alpha=alpha, bucket=bucket, threads=1, seed=4, eos=False,
                       sigmoid="word2vec")

    nv = len(vocab)
    W = init_input(nv + bucket, dim, 4).astype(np.float64)
    C = np.zeros((nv - 1, dim))
    roff, rows = subword_csr(vocab.words, 3, 6, bucket)
    hoff, hcodes, hpoints = vocab.huffman()

    def sig(f):
        i = min(max(int((f + MAX_EXP) * TABLE_SIZE / (2 * MAX_EXP)), 0), TABLE_SIZE - 1)
        return float(SIGMOID[i])

    total, done = epochs * corpus.n_tokens, 0
    for _ in range(epochs):
        for s in range(corpus.n_sentences):
            sen = corpus.ids[corpus.offsets[s]:corpus.offsets[s + 1]]
            lr = alpha * (1 - done / total)
            for i, w in enumerate(sen):
                mine = rows[roff[w]:roff[w + 1]]
                for j in (i - 1, i + 1):
                    if not 0 <= j < len(sen):
                        continue
                    h = W[mine].mean(axis=0)
                    err = np.zeros(dim)
                    t = sen[j]
                    for p in range(hoff[t], hoff[t + 1]):
                        c = C[hpoints[p]].copy()
                        g = ((1.0 - hcodes[p]) - sig(h @ c)) * lr
                        err += g * c
                        C[hpoints[p]] += g * h
                    for r in mine:  # duplicates get the gradient twice, as in fastText
                        W[r] += err
            done += len(sen)
    want = np.stack([W[rows[roff[i]:roff[i + 1]]].mean(axis=0) for i in range(nv)])
    assert np.allclose(v.matrix, want, atol=2e-5)
    assert np.allclose(v.ngrams, W[nv:], atol=2e-5)


def test_subsampling_uses_fasttext_token_count():
    from wordvec.fasttext import fasttext_ntokens, keep_probabilities

    counts = np.array([1000, 100, 10, 1])
    vocab = Vocabulary([f"w{i}" for i in range(4)], counts)
    # with the vocabulary's own total this is word2vec's formula
    assert np.allclose(keep_probabilities(counts, 1e-2, vocab.total),
                       vocab.keep_probabilities(1e-2))
    corpus = EncodedCorpus.from_arrays(vocab, [[0, 1], [2, 3, 0]])
    corpus.raw_tokens = 9  # 4 tokens were below min_count
    assert fasttext_ntokens(corpus) == 9 + 2  # plus one "</s>" per line, as fastText counts
    assert keep_probabilities(counts, 1e-2, 11)[0] == pytest.approx(
        np.sqrt(1e-2 / (1000 / 11)) + 1e-2 / (1000 / 11), rel=1e-6)


def test_eos_appends_end_of_line_word_to_every_sentence():
    from wordvec.fasttext import _eos_view

    vocab = Vocabulary(["a", "b", "c"], [5, 3, 2])
    corpus = EncodedCorpus.from_arrays(vocab, [[0, 1], [], [2, 0, 1]])
    e = _eos_view(corpus)
    assert e.ids is corpus.ids and e.eos == 3  # no copy: the kernels append </s> themselves
    assert e.id_offsets.tolist() == e.offsets.tolist() == [0, 2, 2, 5]  # no copy of them either
    assert e.per_sentence == 1 and e.n_tokens == 8
    from wordvec.training import make_jobs
    virtual = np.array([0, 3, 4, 8])  # the offsets if </s> were stored
    for job_tokens in (1, 2, 3, 4, 7):
        for block in (1, 2, 1 << 20):
            assert make_jobs(e.offsets, job_tokens, 1, block).tolist() == \
                make_jobs(virtual, job_tokens).tolist()
    assert len(e.vocab) == 4 and e.vocab.counts.tolist() == [5, 3, 2, 3]


def test_eos_training_keeps_only_real_words():
    corpus, topic_a, topic_b = planted_corpus(n_sent=400)
    v = train_fasttext(corpus, progress=False, dim=16, epochs=2, bucket=2000, sample=0,
                       threads=1, seed=2, eos=True)
    assert len(v) == len(corpus.vocab) and v.ngrams.shape == (2000, 16)
    assert v.meta["stats"]["words"] == 2 * (corpus.n_tokens + corpus.n_sentences)
    assert v.arrays["output"].shape[0] == len(corpus.vocab)
    same = np.mean([v.similarity(a, b) for a in topic_a for b in topic_a if a != b])
    cross = np.mean([v.similarity(a, b) for a in topic_a for b in topic_b])
    assert same > cross + 0.2


def test_spread_order_is_a_permutation_starting_threads_apart():
    from wordvec.training import spread_order

    assert spread_order(10, 2).tolist() == [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]
    assert spread_order(7, 3).tolist() == [0, 3, 6, 1, 4, 2, 5]
    for n, t in ((1, 2), (5, 1), (13, 4), (0, 2)):
        assert sorted(spread_order(n, t).tolist()) == list(range(n))


def test_fasttext_sigmoid_table_rounds_down_on_a_1_32_grid():
    from wordvec.ft_kernels import sigmoid_table

    tab, m, scale = sigmoid_table("fasttext")
    assert tab.shape == (513,) and float(m) == 8.0 and float(scale) == 32.0
    i = int((0.03 + m) * scale)  # 0.03 lies in [0, 1/32): fastText returns sigmoid(0)
    assert tab[i] == pytest.approx(0.5)
    corpus, _, _ = planted_corpus(n_sent=200)
    a = train_fasttext(corpus, progress=False, dim=8, epochs=1, bucket=300, threads=1,
                       sigmoid="word2vec")
    b = train_fasttext(corpus, progress=False, dim=8, epochs=1, bucket=300, threads=1)
    assert np.isfinite(b.matrix).all() and not np.array_equal(a.matrix, b.matrix)


def test_oov_length_trains_as_long_as_fasttext():
    from wordvec.fasttext import _extra_tokens

    corpus, _, _ = planted_corpus(n_sent=300)
    corpus.raw_tokens = int(corpus.n_tokens * 1.1)  # 10 % of the tokens were below min_count
    extra = _extra_tokens(corpus, 2)
    lines = corpus.n_sentences
    assert extra == int(2 * corpus.n_tokens * ((corpus.raw_tokens + lines)
                                               / (corpus.n_tokens + lines) - 1))
    v = train_fasttext(corpus, progress=False, dim=8, epochs=2, bucket=300, threads=2,
                       oov_length=True)
    s = v.meta["stats"]
    assert len(s["words_per_epoch"]) == 3 and s["words_per_epoch"][2] >= extra
    assert s["words"] < 3 * corpus.n_tokens and s["final_lr"] == pytest.approx(0.0)


def test_huffman_any_order_matches_sorted_tree():
    vocab = Vocabulary(["a", "b", "c", "d", "</s>"], [50, 20, 9, 3, 30])
    off, codes, points = vocab.huffman()
    ref = Vocabulary(["a", "</s>", "b", "c", "d"], [50, 30, 20, 9, 3]).huffman()
    for w, k in (("a", 0), ("b", 2), ("c", 3), ("d", 4), ("</s>", 1)):
        i = vocab.index[w]
        assert codes[off[i]:off[i + 1]].tolist() == ref[1][ref[0][k]:ref[0][k + 1]].tolist()
        assert points[off[i]:off[i + 1]].tolist() == ref[2][ref[0][k]:ref[0][k + 1]].tolist()
