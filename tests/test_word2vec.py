"""word2vec trainer: planted structure is learned, runs are reproducible, settings are checked."""

import numpy as np
import pytest

from wordvec.encode import EncodedCorpus, encode
from wordvec.errors import WordvecError
from wordvec.training import current_lr, make_jobs, run_jobs
from wordvec.vocab import Vocabulary
from wordvec.word2vec import Word2Vec, train_word2vec

FAMILIES = {"capital": ("country", "city"), "gender": ("male", "female"),
            "number": ("single", "plural")}


def planted_sentences(n_entities=8, n_sentences=30_000, role_p=0.2, seed=0):
    """Sentences in which pair members share entity contexts and roles share role contexts.

    Word ``{fam}_{role}{i}`` appears with three words of entity ``i``'s context (shared by both
    roles, e.g. a country and its capital) and, sometimes, a word of its role's context (shared
    by all countries, or all capitals), plus two noise words. So ``city_i - country_i +
    country_j`` should be ``city_j`` and each word's nearest planted word is its partner.
    """
    rng = np.random.default_rng(seed)
    fams = list(FAMILIES.items())
    sentences = []
    for _ in range(n_sentences):
        fam, roles = fams[rng.integers(len(fams))]
        i = int(rng.integers(n_entities))
        role = roles[int(rng.integers(2))]
        s = [f"{fam}_{role}{i}"]
        s += [f"{fam}_ctx{i}_{k}" for k in rng.integers(4, size=3)]
        if rng.random() < role_p:
            s.append(f"{fam}_{role}_role{int(rng.integers(4))}")
        s += [f"noise{k}" for k in rng.integers(50, size=2)]
        rng.shuffle(s)
        sentences.append(s)
    pairs = {fam: [(f"{fam}_{r[0]}{i}", f"{fam}_{r[1]}{i}") for i in range(n_entities)]
             for fam, r in fams}
    return sentences, pairs


def planted_scores(vectors, pairs):
    """(analogy accuracy over the whole vocabulary, share of words whose nearest planted word
    is their partner)."""
    questions = [(a[1], a[0], b[0], b[1]) for ps in pairs.values() for a in ps for b in ps
                 if a != b]
    right = sum(vectors.analogy(a, b, c)[0][0] == d for a, b, c, d in questions)
    planted = [w for ps in pairs.values() for p in ps for w in p]
    rows = vectors.unit[[vectors.index[w] for w in planted]]
    sims = rows @ rows.T
    np.fill_diagonal(sims, -np.inf)
    partner = {a: b for ps in pairs.values() for x, y in ps for a, b in ((x, y), (y, x))}
    nearest = sum(planted[int(np.argmax(sims[k]))] == partner[w] for k, w in enumerate(planted))
    return right / len(questions), nearest / len(planted)


@pytest.fixture(scope="module")
def planted():
    sentences, pairs = planted_sentences()
    corpus = encode(sentences, min_count=1)
    yield corpus, pairs
    corpus.close()


@pytest.fixture(scope="module")
def small():
    sentences, _ = planted_sentences(n_sentences=3_000, seed=1)
    corpus = encode(sentences, min_count=1)
    yield corpus
    corpus.close()


@pytest.mark.parametrize("model,loss,shared", [
    ("sg", "ns", False), ("cbow", "ns", False), ("sg", "hs", False), ("cbow", "hs", False),
    ("sg", "ns", True), ("sg", "hs", True)])
def test_planted_structure_is_learned(planted, model, loss, shared):
    corpus, pairs = planted
    v = train_word2vec(corpus, model=model, loss=loss, dim=50, epochs=5, threads=2,
                       shared_negatives=shared, progress=False)
    analogy, nearest = planted_scores(v, pairs)
    assert analogy >= 0.9
    assert nearest >= 0.9
    stats = v.meta["stats"]
    losses = stats["loss_per_epoch"]
    assert losses[-1] < losses[0]
    assert stats["threads"] == 2
    assert v.meta["kind"] == model and v.meta["params"]["loss"] == loss
    assert v.arrays["output"].shape[0] == (len(corpus.vocab) if loss == "ns"
                                           else len(corpus.vocab) - 1)


def test_untrained_vectors_fail_the_planted_test(planted):
    """The scores above can fail: random vectors solve almost nothing."""
    corpus, pairs = planted
    v = train_word2vec(corpus, dim=50, epochs=1, alpha=1e-9, min_alpha=0, threads=1,
                       progress=False)
    analogy, nearest = planted_scores(v, pairs)
    assert analogy < 0.3 and nearest < 0.5


@pytest.mark.parametrize("model,loss", [("sg", "ns"), ("cbow", "hs")])
def test_one_thread_runs_are_bit_identical(small, model, loss):
    kw = dict(model=model, loss=loss, dim=20, epochs=2, threads=1, progress=False)
    a = train_word2vec(small, seed=3, **kw)
    b = train_word2vec(small, seed=3, **kw)
    c = train_word2vec(small, seed=4, **kw)
    assert np.array_equal(a.matrix, b.matrix)
    assert np.array_equal(a.arrays["output"], b.arrays["output"])
    assert not np.array_equal(a.matrix, c.matrix)


@pytest.mark.parametrize("threads", [1, 2])
def test_every_epoch_trains_every_word_and_lr_ends_at_min_alpha(small, threads):
    v = train_word2vec(small, model="cbow", dim=10, epochs=3, threads=threads,
                       min_alpha=0.0005, progress=False)
    s = v.meta["stats"]
    assert s["words_per_epoch"] == [small.n_tokens] * 3
    assert s["words"] == 3 * small.n_tokens
    assert s["progress_words"] == 3 * small.n_tokens
    assert s["final_lr"] == pytest.approx(0.0005, abs=1e-12)
    assert 0 < s["words_trained"] <= s["words"]
    assert s["words_per_second"] > 0 and s["wall_seconds"] > 0
    assert s["jobs_per_epoch"] >= 2


def test_subsampling_drops_frequent_words(small):
    none = train_word2vec(small, sample=0, dim=10, epochs=1, threads=1, progress=False)
    some = train_word2vec(small, sample=1e-3, dim=10, epochs=1, threads=1, progress=False)
    assert none.meta["stats"]["words_trained"] == small.n_tokens
    assert some.meta["stats"]["words_trained"] < 0.8 * small.n_tokens


@pytest.mark.parametrize("bad,message", [
    ({"dim": 0}, "dim"), ({"dim": -5}, "dim"), ({"window": 0}, "window"),
    ({"alpha": 0}, "alpha"), ({"alpha": -0.1}, "alpha"), ({"negative": 0}, "negative"),
    ({"negative": -1}, "negative"), ({"epochs": 0}, "epochs"), ({"sample": -1e-3}, "sample"),
    ({"threads": 0}, "threads"), ({"model": "glove"}, "arch"), ({"loss": "softmax"}, "loss"),
    ({"min_alpha": 1.0}, "min_alpha"), ({"dims": 10}, "unknown"),
])
def test_bad_parameters_are_refused(small, bad, message):
    with pytest.raises(WordvecError, match=message):
        train_word2vec(small, progress=False, **bad)


def test_negative_zero_is_fine_with_hierarchical_softmax(small):
    v = train_word2vec(small, loss="hs", negative=0, dim=10, epochs=1, threads=1,
                       progress=False)
    assert np.isfinite(v.matrix).all()
    assert v.arrays["output"].shape[0] == len(small.vocab) - 1 and v.arrays["output"].any()


def test_divergence_is_reported_not_saved(small):
    with pytest.raises(WordvecError, match="diverged"):
        train_word2vec(small, alpha=1e30, min_alpha=1e29, dim=10, epochs=2, threads=2,
                       progress=False)


def test_short_and_empty_sentences():
    vocab = Vocabulary(["a", "b", "c"], [5, 4, 3])
    corpus = EncodedCorpus.from_arrays(vocab, [[0], [], [1, 2, 0], [], [2]])
    for model in ("sg", "cbow"):
        for loss in ("ns", "hs"):
            v = train_word2vec(corpus, model=model, loss=loss, dim=8, epochs=2, threads=2,
                               sample=0, progress=False)
            assert v.meta["stats"]["words_per_epoch"] == [5, 5]
            assert np.isfinite(v.matrix).all()
            assert v.arrays["output"].any()  # the 3-word sentence trained something


def test_word2vec_class_trains_saves_loads_and_continues(tmp_path):
    sentences, pairs = planted_sentences(n_sentences=3_000, seed=2)
    model = Word2Vec(sentences, model="cbow", dim=16, epochs=2, threads=1, min_count=1)
    wv = model.wv
    assert len(wv) == len(model.vocab) and wv.dim == 16
    path = tmp_path / "w2v"
    model.save(str(path))
    again = Word2Vec.load(str(path))
    assert np.array_equal(again.W, model.W) and np.array_equal(again.C, model.C)
    assert again.params == model.params
    before = again.W.copy()
    stats = again.train(sentences[:500], epochs=1)
    assert stats["words_per_epoch"][0] > 0
    assert not np.array_equal(before, again.W)


def test_word2vec_class_trains_from_a_path(tmp_path):
    sentences, _ = planted_sentences(n_sentences=1_000, seed=3)
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences), encoding="utf-8")
    model = Word2Vec(str(path), dim=8, epochs=1, threads=2, min_count=2)
    assert "noise0" in model.wv


def test_jobs_cover_the_corpus_whatever_the_threads():
    offsets = np.concatenate([[0], np.cumsum(np.arange(1, 400) % 37)]).astype(np.int64)
    bounds = make_jobs(offsets, job_tokens=500)
    assert bounds[0] == 0 and bounds[-1] == len(offsets) - 1
    assert np.all(np.diff(bounds) > 0)
    sizes = offsets[bounds[1:]] - offsets[bounds[:-1]]
    assert sizes.sum() == offsets[-1] and sizes.max() < 500 + 37


def test_run_jobs_drives_any_kernel():
    """A pure-Python job sees every sentence once per epoch with a decaying lr."""
    vocab = Vocabulary(["a"], [1000])
    corpus = EncodedCorpus.from_arrays(vocab, [[0] * 10] * 100)
    seen = []

    def job(first, last, rng, progress, slot, schedule):
        lr = current_lr(progress, schedule)
        seen.append((first, last, float(lr)))
        words = int(corpus.offsets[last] - corpus.offsets[first])
        progress[slot] += words
        return 1.0 * words, words, words, words

    stats = run_jobs(corpus, job, epochs=2, alpha=0.1, min_alpha=0.0, threads=1, seed=0,
                     progress=False, job_tokens=100)
    assert [s[:2] for s in seen] == [(k, k + 10) for k in range(0, 100, 10)] * 2
    lrs = [s[2] for s in seen]
    assert lrs[0] == pytest.approx(0.1) and all(a > b for a, b in zip(lrs, lrs[1:]))
    assert stats["final_lr"] == 0.0 and stats["loss_per_epoch"] == [1.0, 1.0]


def test_progress_bar_shows_rate_lr_and_loss(small, capsys):
    train_word2vec(small, dim=10, epochs=2, threads=2, progress=True)
    err = capsys.readouterr().err
    assert "sg-ns" in err and "w/s" in err and "lr 0.0001" in err and "loss" in err


@pytest.mark.parametrize("arch,given,final", [
    ("cbow", {}, 0.005),                 # CBOW's default: a tenth of its alpha (0.05)
    ("cbow", {"alpha": 0.02}, 0.002),    # ... of the alpha given
    ("sg", {}, 1e-4),                    # skip-gram keeps word2vec.c's 1e-4
    ("cbow", {"min_alpha": 1e-4}, 1e-4),  # an explicit value wins
])
def test_default_final_learning_rate_per_architecture(small, arch, given, final):
    v = train_word2vec(small, model=arch, dim=10, epochs=2, threads=1, progress=False, **given)
    assert v.meta["stats"]["final_lr"] == pytest.approx(final, abs=1e-12)
    assert v.meta["params"]["min_alpha"] == pytest.approx(final, abs=1e-12)


def test_info_marks_only_what_was_changed_when_a_default_is_derived():
    from wordvec.params import WORD2VEC
    given_alpha = WORD2VEC.resolve({"arch": "cbow", "alpha": 0.02})  # min_alpha follows: 0.002
    assert WORD2VEC.changed(given_alpha) == {"alpha"}
    given_both = WORD2VEC.resolve({"arch": "cbow", "alpha": 0.02, "min_alpha": 1e-4})
    assert WORD2VEC.changed(given_both) == {"alpha", "min_alpha"}
    assert WORD2VEC.changed(WORD2VEC.resolve({"arch": "cbow"})) == set()
