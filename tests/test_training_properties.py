"""Properties of training that a broken trainer cannot fake.

- no collapse: after training, random word pairs are far from parallel (a trainer without
  negative samples, or with a wrong gradient, sends every vector the same way);
- the learning rate the kernels APPLY decays to ``min_alpha`` over the run (measured on the
  weights: the last job's updates shrink against a constant-lr control run);
- the dynamic window's reach is uniform in ``1..window`` (counted from the pairs a kernel trains);
- the noise words a kernel trains against follow ``counts ** exponent`` (0.75 word2vec, 0.5
  fastText), read back from the output rows after training with a tiny learning rate;
- the alias table and the RNG draws themselves follow the distribution they are built for.
"""

import numpy as np
import pytest

from wordvec import ft_kernels as FK
from wordvec import w2v_kernels as K
from wordvec.encode import EncodedCorpus
from wordvec.fasttext import check_params as ft_params
from wordvec.fasttext import make_job as ft_make_job
from wordvec.fasttext import train_fasttext
from wordvec.rng import draw_alias, next_below, seed_state
from wordvec.training import run_jobs
from wordvec.vocab import Vocabulary
from wordvec.word2vec import check_params as w2v_params
from wordvec.word2vec import init_weights, train_word2vec
from wordvec.word2vec import make_job as w2v_make_job


def topic_corpus(n_topics=12, per_topic=12, n_sentences=2500, length=10, seed=0):
    """Sentences of words from one topic plus shared frequent filler words."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(n_sentences):
        t = int(rng.integers(n_topics))
        s = [f"t{t}_{k}" for k in rng.integers(per_topic, size=length - 2)]
        s += [f"filler{k}" for k in rng.zipf(1.5, size=2) % 10]
        rng.shuffle(s)
        sentences.append(s)
    counts = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    vocab = Vocabulary.from_counts(counts)
    return EncodedCorpus.from_arrays(vocab, [[vocab.index[w] for w in s] for s in sentences])


@pytest.fixture(scope="module")
def corpus():
    return topic_corpus()


def mean_random_pair_cosine(matrix, seed=0, n=3000):
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(len(unit), size=(2, n))
    keep = a != b
    return float(np.mean(np.sum(unit[a[keep]] * unit[b[keep]], axis=1)))


def topic_margin(vectors):
    """Mean cosine of same-topic pairs minus that of different-topic pairs."""
    words = [w for w in vectors.words if w.startswith("t")]
    topic = np.array([int(w[1:].split("_")[0]) for w in words])
    rows = vectors.unit[[vectors.index[w] for w in words]]
    sims = rows @ rows.T
    same = topic[:, None] == topic[None, :]
    np.fill_diagonal(same, False)
    other = topic[:, None] != topic[None, :]
    return float(sims[same].mean() - sims[other].mean())


W2V_CASES = [dict(model="sg"), dict(model="sg", shared_negatives=False),
             dict(model="sg", loss="hs"), dict(model="cbow"), dict(model="cbow", loss="hs"),
             dict(model="cbow", cbow_mean=False, alpha=0.01)]


@pytest.mark.parametrize("params", W2V_CASES, ids=lambda p: "-".join(str(v) for v in p.values()))
def test_word2vec_does_not_collapse_and_learns_topics(corpus, params):
    v = train_word2vec(corpus, progress=False, dim=24, window=4, epochs=3, threads=1, seed=2,
                       sample=0, **params)
    assert mean_random_pair_cosine(v.matrix) < 0.6  # 0.08-0.44 measured; collapsed: ~0.9
    assert topic_margin(v) > 0.4  # 0.59-0.97 measured


@pytest.mark.parametrize("arch,loss", [("sg", "ns"), ("cbow", "ns"), ("sg", "hs"), ("cbow", "hs")])
def test_fasttext_does_not_collapse_and_learns_topics(corpus, arch, loss):
    v = train_fasttext(corpus, progress=False, arch=arch, loss=loss, dim=24, window=4, epochs=3,
                       threads=1, seed=2, sample=0, bucket=2000, minn=3, maxn=4)
    assert mean_random_pair_cosine(v.matrix) < 0.6  # 0.11-0.42 measured
    assert topic_margin(v) > 0.4  # 0.60-0.93 measured


# ---- the learning rate the kernels apply ------------------------------------------------------
def update_sizes(corpus, family, params):
    """Train 2 epochs on one thread; return the size of each job's change of the output rows."""
    if family == "word2vec":
        p = w2v_params({"dim": 16, "window": 3, "epochs": 2, "threads": 1, "sample": 0, **params})
        W, C = init_weights(corpus.vocab, p)
        job = w2v_make_job(corpus, W, C, p)
    else:
        p = ft_params({"dim": 16, "window": 3, "epochs": 2, "threads": 1, "sample": 0,
                       "maxn": 0, **params})
        v = len(corpus.vocab)
        roff = np.arange(v + 1, dtype=np.int64)
        rows = np.arange(v, dtype=np.int32)
        W = (np.random.default_rng(1).random((v, 16), dtype=np.float32) - 0.5) / 8
        C = np.zeros((v, 16), dtype=np.float32)
        job = ft_make_job(corpus, W, C, roff, rows, p)
    sizes = []

    def measured(first, last, rng, progress, slot, schedule):
        before = C.copy()
        out = job(first, last, rng, progress, slot, schedule)
        sizes.append(float(np.abs(C - before).sum()) / max(corpus.offsets[last] -
                                                            corpus.offsets[first], 1))
        return out

    stats = run_jobs(corpus, measured, epochs=2, alpha=p["alpha"], min_alpha=p["min_alpha"],
                     threads=1, seed=1, weights=(W, C), progress=False, job_tokens=1000)
    return np.array(sizes), stats


@pytest.mark.parametrize("family,params", [
    ("word2vec", dict(model="sg")), ("word2vec", dict(model="sg", shared_negatives=False)),
    ("word2vec", dict(model="cbow")), ("word2vec", dict(model="sg", loss="hs")),
    ("fasttext", dict(arch="sg")), ("fasttext", dict(arch="cbow", loss="hs"))])
def test_applied_learning_rate_decays_to_min_alpha(corpus, family, params):
    """The size of a job's updates is proportional to the lr the kernel used: against a run
    at constant lr (min_alpha = alpha), the decaying run's first jobs move as much and its last
    job moves about min_alpha/alpha ... (1/n_jobs) as much."""
    alpha = 0.05
    dec, stats = update_sizes(corpus, family, {**params, "alpha": alpha, "min_alpha": alpha / 50})
    const, _ = update_sizes(corpus, family, {**params, "alpha": alpha, "min_alpha": alpha})
    assert stats["final_lr"] == pytest.approx(alpha / 50)
    n = len(dec)
    assert n >= 20
    assert 0.8 < dec[0] / const[0] <= 1.0 + 1e-6
    ratio = (dec[-1] / const[-1])
    # the last job's lr runs from about alpha / n down to alpha / 50
    assert ratio < 3.0 / n + 1 / 50
    mid = n // 2  # half-way: about half the lr
    assert 0.3 < dec[mid] / const[mid] < 0.7


# ---- window sizes --------------------------------------------------------------------------
def two_word_vocab():
    return Vocabulary(["a", "b"], np.array([10, 9]))


SG_KERNELS = ["sg_hs", "sg_hs_shared", "fasttext_sg"]


def pairs_trained(kernel, ids, window, seed):
    """Number of (centre, context) pairs a skip-gram kernel trains on one sentence: with two
    words in the vocabulary every Huffman path has one node, so one prediction per pair."""
    vocab = two_word_vocab()
    hoff, hcodes, hpoints = vocab.huffman()
    ids = np.asarray(ids, dtype=np.int32)
    offsets = np.array([0, len(ids)], dtype=np.int64)
    W = np.zeros((2, 4), np.float32)
    C = np.zeros((1, 4), np.float32)
    keep = np.ones(2, np.float32)
    prog = np.zeros(1, np.int64)
    sched = np.array([0.0, 0.0, 1e9])
    rng = seed_state(seed)
    data = K.corpus_args(ids, offsets)
    loss = K.loss_args(True, 1, None, (hoff, hcodes, hpoints))
    sched_args = (rng, prog, 0, sched)
    if kernel == "fasttext_sg":
        roff = np.arange(3, dtype=np.int64)
        rows = np.arange(2, dtype=np.int32)
        model = K.model_args(W, C, keep, window, True, (roff, rows, np.ones(2, np.float32)))
        out = FK.sg(data, 0, 1, model, loss, sched_args, FK.sigmoid_table("fasttext"))
    else:
        out = getattr(K, kernel)(data, 0, 1, K.model_args(W, C, keep, window), loss, sched_args)
    return int(out[1])


@pytest.mark.parametrize("kernel", SG_KERNELS)
def test_window_reach_is_uniform_from_1_to_window(kernel):
    """Sentence of 3 words, window 2: the end words train r pairs (r their reach), the middle
    word 2, so the count is 2 + r0 + r2: 4, 5, 6 with probabilities 1/4, 1/2, 1/4."""
    counts = np.bincount([pairs_trained(kernel, [0, 1, 0], 2, s) for s in range(4000)],
                         minlength=8)
    assert counts[:4].sum() == 0 and counts[7:].sum() == 0
    assert counts[4:7] / 4000 == pytest.approx([0.25, 0.5, 0.25], abs=0.03)


@pytest.mark.parametrize("kernel", SG_KERNELS)
@pytest.mark.parametrize("window", [1, 5])
def test_window_mean_pairs_per_sentence(kernel, window):
    n = 400
    sent = [i % 2 for i in range(n)]
    got = np.mean([pairs_trained(kernel, sent, window, s) for s in range(40)])
    # exact expectation: position i with reach r trains min(i, r) + min(n - 1 - i, r) pairs
    want = sum(min(i, r) + min(n - 1 - i, r) for i in range(n) for r in range(1, window + 1))
    want /= window
    assert got == pytest.approx(want, rel=0.02)


# ---- noise words -------------------------------------------------------------------------
def zipf_corpus(n_tokens=40_000, seed=0):
    weights = np.array([4000, 2000, 1000, 500, 250, 125, 60, 30], dtype=np.float64)
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(weights), size=n_tokens, p=weights / weights.sum())
    counts = np.bincount(ids, minlength=len(weights))
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    vocab = Vocabulary([f"w{i}" for i in range(len(weights))], counts[order])
    ids = rank[ids]
    return EncodedCorpus.from_arrays(vocab, [ids[i:i + 10].tolist() for i in range(0, n_tokens, 10)])


def noise_draws(family, corpus, negative):
    """Train CBOW with dim 1, every input row 1 and a tiny constant lr, so each prediction of
    ``t`` moves ``C[t]`` by ``lr * (label - 1/2)`` (scores stay ~0): the noise draws of each word
    are read back from ``C`` and its count as a centre word."""
    vocab = corpus.vocab
    v = len(vocab)
    lr = 1e-6
    W = np.ones((v, 1), np.float32)
    C = np.zeros((v, 1), np.float32)
    if family == "word2vec":
        p = w2v_params({"model": "cbow", "dim": 1, "window": 2, "negative": negative,
                        "sample": 0, "threads": 1})
        job = w2v_make_job(corpus, W, C, p)
    else:
        p = ft_params({"arch": "cbow", "dim": 1, "window": 2, "negative": negative, "sample": 0,
                       "threads": 1, "maxn": 0, "sigmoid": "word2vec"})
        job = ft_make_job(corpus, W, C, np.arange(v + 1, dtype=np.int64),
                          np.arange(v, dtype=np.int32), p)
    job(0, corpus.n_sentences, seed_state(4), np.zeros(1, np.int64), 0,
        np.array([lr, lr, 1e9]))
    pos = np.asarray(vocab.counts, dtype=np.float64)  # every word is a centre once per occurrence
    return pos - 2 * C[:, 0].astype(np.float64) / lr, pos


@pytest.mark.parametrize("family,power", [("word2vec", 0.75), ("fasttext", 0.5)])
def test_noise_words_follow_counts_to_the_power(family, power):
    corpus = zipf_corpus()
    negative = 10
    neg, pos = noise_draws(family, corpus, negative)
    q = pos ** power
    q /= q.sum()
    n = pos.sum()
    if family == "word2vec":  # a noise word equal to the centre is skipped
        want = negative * q * (n - pos)
    else:  # ... redrawn
        want = negative * q * np.sum(pos / (1 - q)) - negative * q * pos / (1 - q)
    assert neg == pytest.approx(want, rel=0.06)


def test_alias_draws_follow_counts_to_three_quarters():
    counts = np.array([5000, 1200, 700, 300, 90, 40, 8, 1])
    vocab = Vocabulary([f"w{i}" for i in range(len(counts))], counts)
    prob, alias = vocab.noise_alias()
    state = seed_state(9)
    n = 60_000
    got = np.bincount([draw_alias(prob, alias, state) for _ in range(n)], minlength=len(counts))
    want = counts ** 0.75 / np.sum(counts ** 0.75) * n
    chi2 = float(np.sum((got - want) ** 2 / want))
    assert chi2 < 24.3  # p = 0.001 for 7 degrees of freedom


def test_uniform_draws_cover_their_range():
    state = seed_state(3)
    got = np.bincount([next_below(state, 7) for _ in range(35_000)], minlength=7)
    assert len(got) == 7
    assert got / 35_000 == pytest.approx(np.full(7, 1 / 7), abs=0.012)


# ---- subsampling, initialisation, random streams -----------------------------------------------
def test_keep_probabilities_follow_word2vec_c():
    """word2vec.c: keep a word of count f with (sqrt(f / (s T)) + 1) (s T) / f, T all tokens."""
    counts = np.array([50_000, 5_000, 500, 50, 5])
    vocab = Vocabulary([f"w{i}" for i in range(5)], counts)
    s, total = 1e-3, counts.sum()
    want = np.minimum((np.sqrt(counts / (s * total)) + 1) * (s * total) / counts, 1.0)
    assert vocab.keep_probabilities(s) == pytest.approx(want, rel=1e-6)
    assert want[0] < 0.2 and want[-1] == 1.0  # the case is not trivial
    assert np.all(vocab.keep_probabilities(0) == 1.0)


def test_words_kept_by_the_kernels_match_the_keep_probabilities():
    corpus = zipf_corpus(n_tokens=60_000)
    v = train_word2vec(corpus, dim=4, epochs=2, sample=1e-2, threads=1, progress=False)
    keep = corpus.vocab.keep_probabilities(1e-2)
    want = 2 * float(np.sum(corpus.vocab.counts * keep))
    assert keep.min() < 0.5
    assert v.meta["stats"]["words_trained"] == pytest.approx(want, rel=0.01)


def test_initial_weights():
    """word2vec: input rows uniform in [-1/dim, 1/dim) (gensim 4), output rows zero; fastText:
    every input row uniform in [-1/dim, 1/dim)."""
    from wordvec.fasttext import init_input
    vocab = Vocabulary([f"w{i}" for i in range(400)], np.arange(400, 0, -1))
    for loss, rows in (("ns", 400), ("hs", 399)):
        W, C = init_weights(vocab, w2v_params({"dim": 50, "loss": loss}))
        assert W.shape == (400, 50) and C.shape == (rows, 50) and not C.any()
        assert -1 / 50 <= W.min() < -0.95 / 50 and 0.95 / 50 < W.max() < 1 / 50
        assert abs(W.mean()) < 0.02 / 50
    W = init_input(1000, 40, seed=3)
    assert -1 / 40 <= W.min() < -0.95 / 40 and 0.95 / 40 < W.max() < 1 / 40
    assert abs(W.mean()) < 0.02 / 40


def test_each_epoch_and_job_has_its_own_random_stream():
    vocab = Vocabulary(["a"], [1000])
    corpus = EncodedCorpus.from_arrays(vocab, [[0] * 10] * 100)
    states = []

    def job(first, last, rng, progress, slot, schedule):
        states.append(int(rng[0]))
        words = int(corpus.offsets[last] - corpus.offsets[first])
        progress[slot] += words
        return 0.0, 0, words, words

    run_jobs(corpus, job, epochs=3, alpha=0.1, min_alpha=0.0, threads=1, seed=5, progress=False,
             job_tokens=100)
    assert len(states) == 30 and len(set(states)) == 30


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_finite_finds_one_bad_value_in_any_block(bad):
    from wordvec.errors import WordvecError
    from wordvec.training import check_finite
    a = np.ones((50, 4), dtype=np.float32)
    check_finite([a], block=7)
    a[43, 2] = bad
    with pytest.raises(WordvecError, match="diverged"):
        check_finite([a], block=7)
    check_finite([a], rows=43, block=7)  # the bad row is beyond the rows checked


def test_check_finite_takes_huge_finite_values_and_opposite_infinities():
    from wordvec.errors import WordvecError
    from wordvec.training import check_finite
    big = np.full((1000, 8), np.finfo(np.float32).max, dtype=np.float32)
    check_finite([big])  # their sum overflows float32, not the float64 sum
    big[0, 0], big[1, 0] = np.inf, -np.inf  # sum NaN
    with pytest.raises(WordvecError):
        check_finite([big])
