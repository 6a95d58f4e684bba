"""Evaluation: analogy and similarity scores computed by hand, against a brute-force reference,
and against gensim's evaluate_word_analogies / evaluate_word_pairs."""

import json
import lzma
import math
import os

import numpy as np
import pytest

from wordvec.errors import WordvecError
from wordvec.evaluate import (
    DATASETS,
    benchmark,
    dataset_path,
    evaluate_analogy,
    evaluate_similarity,
    format_table,
    read_analogies,
)
from wordvec.formats import load_vectors, save_vectors
from wordvec.vectors import Vectors

SMALL_EN = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora",
                        "small-en.txt.xz")


# ---- analogy on a hand-made vector set ----------------------------------------------------------
def hand_vectors():
    s = 1 / math.sqrt(2)
    rows = {
        "man": (1, 0, 0), "woman": (0, 1, 0), "king": (1, 0, 1), "queen": (0, 1, 1),
        "apple": (0, 0, -1),
        # exactly king - man + woman (unit vectors): the top answer unless excluded as a
        # case variant of the question word "woman"
        "Woman": (s - 1, 1, s),
    }
    return Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32))


QUESTIONS = """: family
man king woman queen
king man queen woman
man king woman princess
: gram-test
man woman king apple
"""


@pytest.fixture
def qfile(tmp_path):
    p = tmp_path / "q.txt"
    p.write_text(QUESTIONS)
    return str(p)


@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogy_by_hand(qfile, method):
    # Q1: king - man + woman -> queen ("Woman" is closer but is a case variant of "woman")
    # Q2: man - king + queen -> woman; Q3: woman - man + king -> queen, not apple: wrong
    # Q4: "princess" is not in the vocabulary: skipped
    r = evaluate_analogy(hand_vectors(), qfile, method=method)
    assert (r["questions"], r["total"], r["skipped"], r["correct"]) == (3, 4, 1, 2)
    assert r["accuracy"] == pytest.approx(2 / 3)
    assert r["semantic"] == 1.0 and r["syntactic"] == 0.0
    assert r["sections"] == {"family": 1.0, "gram-test": 0.0}
    assert r["section_counts"]["family"] == {"correct": 2, "questions": 2, "total": 3}


def test_analogy_case_sensitive_and_restrict(qfile):
    v = hand_vectors()
    # case-sensitive: "Woman" is another word, not excluded, and wins Q1
    r = evaluate_analogy(v, qfile, lowercase=False)
    assert (r["correct"], r["questions"]) == (1, 3)
    assert r["sections"]["family"] == 0.5
    # restrict=5 drops the "Woman" row from the candidates: Q1 right again
    r = evaluate_analogy(v, qfile, lowercase=False, restrict=5)
    assert (r["correct"], r["questions"]) == (2, 3)
    # restrict=4 also drops "apple": Q3 is skipped, the syntactic score is absent
    r = evaluate_analogy(v, qfile, restrict=4)
    assert (r["correct"], r["questions"], r["skipped"]) == (2, 2, 2)
    assert r["accuracy"] == 1.0 and r["syntactic"] is None and r["sections"]["gram-test"] is None
    # restrict None/0: the whole vocabulary
    assert evaluate_analogy(v, qfile, restrict=None)["restrict"] == 6


def test_analogy_capitalised_questions(tmp_path):
    p = tmp_path / "caps.txt"
    p.write_text(": capital\nMan King Woman Queen\n")
    assert evaluate_analogy(hand_vectors(), p)["accuracy"] == 1.0
    r = evaluate_analogy(hand_vectors(), p, lowercase=False)
    assert r["questions"] == 0 and r["skipped"] == 1 and r["accuracy"] is None


# ---- analogy against a brute-force reference and gensim ----------------------------------------
def random_case(tmp_path, seed=0, n_words=80, dim=8, n_questions=400):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n_words)]
    for i in rng.choice(n_words, 10, replace=False):  # case variants later in the vocabulary
        words.insert(int(rng.integers(i + 1, len(words) + 1)), f"W{i}")
    v = Vectors(words, rng.standard_normal((len(words), dim)).astype(np.float32))
    pool = [f"w{i}" for i in range(n_words)] + [f"W{i}" for i in range(5)] + ["oov1", "oov2"]
    lines = []
    for q in range(n_questions):
        if q % 100 == 0:
            lines.append(f": {'gram' if q % 200 else 'sem'}{q}")
        a, b, c, d = (pool[i] for i in rng.choice(len(pool), 4, replace=False))
        if rng.random() < 0.5:  # make many questions answerable
            d = reference_answer(v, a, b, c, 60, "add", True) or d
        lines.append(f"{a} {b} {c} {d}")
    p = tmp_path / "random-q.txt"
    p.write_text("\n".join(lines) + "\n")
    return v, str(p)


def reference_answer(v, a, b, c, restrict, method, lowercase):
    """Plain loops: the best row for b - a + c among the first ``restrict`` rows."""
    norm = str.lower if lowercase else str
    words = v.words[:restrict]
    first = {}
    for i, w in enumerate(words):
        first.setdefault(norm(w), i)
    if any(norm(x) not in first for x in (a, b, c)):
        return None
    u = v.unit
    ua, ub, uc = (u[first[norm(x)]] for x in (a, b, c))
    banned = {norm(a), norm(b), norm(c)}
    best, best_score = None, -np.inf
    for i, w in enumerate(words):
        if norm(w) in banned:
            continue
        if method == "add":
            score = float(u[i] @ (ub - ua + uc))
        else:
            score = ((1 + u[i] @ ub) / 2) * ((1 + u[i] @ uc) / 2) / ((1 + u[i] @ ua) / 2 + 1e-3)
        if score > best_score:
            best, best_score = w, score
    return best


@pytest.mark.parametrize("method", ["add", "mul"])
@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("restrict", [60, 30000])
def test_analogy_matches_brute_force(tmp_path, method, lowercase, restrict):
    v, path = random_case(tmp_path)
    norm = str.lower if lowercase else str
    vocab = {norm(w) for w in v.words[:restrict]}
    correct = scored = 0
    for _, questions in read_analogies(path):
        for a, b, c, d in questions:
            if all(norm(x) in vocab for x in (a, b, c, d)):
                scored += 1
                best = reference_answer(v, a, b, c, restrict, method, lowercase)
                correct += norm(best) == norm(d)
    r = evaluate_analogy(v, path, restrict=restrict, method=method, lowercase=lowercase)
    assert (r["questions"], r["correct"]) == (scored, correct)
    assert correct > 10  # the comparison covers right and wrong answers


def test_analogy_matches_gensim_on_random_vectors(tmp_path):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    v, path = random_case(tmp_path, seed=1)
    kv = gensim_kv.KeyedVectors(v.dim)
    kv.add_vectors(v.words, v.matrix)
    for restrict in (60, 30000):
        score, sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict)
        total = sections[-1]
        r = evaluate_analogy(v, path, restrict=restrict)
        assert r["correct"] == len(total["correct"])
        assert r["questions"] == len(total["correct"]) + len(total["incorrect"])
        assert r["accuracy"] == pytest.approx(score)


# ---- similarity ---------------------------------------------------------------------------------
def sim_vectors(cls=Vectors):
    angles = {"y1": 0.1, "y2": 0.5, "y3": 1.0, "y4": 1.5}
    rows = {"x": (1.0, 0.0), **{w: (math.cos(t), math.sin(t)) for w, t in angles.items()}}
    return cls(list(rows), np.array(list(rows.values()), dtype=np.float32))


PAIRS = "# a comment\r\nX\ty1\t9\r\nx y2 8\r\n\r\nx\ty3\t5\r\nx\ty4\t6.0\r\nx\tzzz\t3\r\n"


def test_similarity_by_hand(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_bytes(PAIRS.encode())
    # cosines fall y1 > y2 > y3 > y4; gold ranks y1 > y2 > y4 > y3: two ranks off by one
    r = evaluate_similarity(sim_vectors(), p)
    assert (r["pairs"], r["total"], r["oov"]) == (4, 5, 1)
    assert r["spearman"] == pytest.approx(1 - 6 * 2 / (4 * 15))
    r = evaluate_similarity(sim_vectors(), p, lowercase=False)  # "X" unknown now
    assert (r["pairs"], r["oov"]) == (3, 2)
    assert r["spearman"] == pytest.approx(0.5)  # cos ranks 1,2,3 vs gold 8,5,6 -> 1-6*2/24


class OOVVectors(Vectors):
    def oov_vector(self, word):
        if word == "zzz":
            return np.array([-2.0, 0.0], dtype=np.float32)
        raise KeyError(word)


def test_similarity_scores_oov_vectors(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_bytes(PAIRS.encode())
    r = evaluate_similarity(sim_vectors(OOVVectors), p)
    assert (r["pairs"], r["oov"]) == (5, 0)
    assert r["spearman"] == pytest.approx(1 - 6 * 2 / (5 * 24))  # zzz: cos -1, gold lowest


def test_similarity_too_few_pairs(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_text("x y1 3\nq r 2\n")
    r = evaluate_similarity(sim_vectors(), p)
    assert r["spearman"] is None and r["pairs"] == 1


# ---- bad dataset files --------------------------------------------------------------------------
def test_bad_dataset_files(tmp_path):
    v = hand_vectors()
    bad = {
        "missing.txt": None,
        "three.txt": ": s\nman king woman queen\nman king woman\n",
        "nosection.txt": "man king woman queen\n",
        "empty.txt": "",
    }
    for name, text in bad.items():
        p = tmp_path / name
        if text is not None:
            p.write_text(text)
        with pytest.raises(WordvecError) as e:
            evaluate_analogy(v, p)
        assert "\n" not in str(e.value)
        if name == "three.txt":
            assert "line 3" in str(e.value)
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02 binary\n" * 5)
    with pytest.raises(WordvecError, match="binary"):
        evaluate_analogy(v, tmp_path / "bin.txt")
    for text, what in (("x y1 1\nx y2 high\n", "line 2: score 'high'"),
                       ("x y1 1\n\nx y2\n", "line 3: expected"), ("", "no word pairs")):
        p = tmp_path / "p.txt"
        p.write_text(text)
        with pytest.raises(WordvecError, match=what):
            evaluate_similarity(sim_vectors(), p)
    with pytest.raises(WordvecError, match="no such file"):
        evaluate_similarity(sim_vectors(), tmp_path / "nope.txt")
    with pytest.raises(WordvecError, match="unknown analogy method"):
        evaluate_analogy(v, tmp_path / "three.txt", method="cos")
    with pytest.raises(WordvecError, match="unknown dataset"):
        dataset_path("toefl")


def test_bundled_datasets():
    assert DATASETS[0] == "questions-words"
    counts = {name: sum(1 for line in open(dataset_path(name), encoding="utf-8") if line.strip())
              for name in DATASETS}
    assert counts["questions-words"] == 19544 + 14
    assert counts["EN-SIMLEX-999"] == 999 and counts["EN-MEN-TR-3k"] == 3000
    sections = read_analogies(dataset_path("questions-words"))
    assert len(sections) == 14 and sum(len(q) for _, q in sections) == 19544


# ---- the "done when": agreement with gensim on a trained model --------------------------
@pytest.fixture(scope="module")
def gensim_model(tmp_path_factory):
    word2vec = pytest.importorskip("gensim.models.word2vec")
    if not os.path.exists(SMALL_EN):
        pytest.skip("../shared/corpora/small-en.txt.xz is not available")
    sentences, n = [], 0
    with lzma.open(SMALL_EN, "rt", encoding="utf-8") as f:
        for line in f:
            tokens = line.split()
            if tokens:
                sentences.append(tokens)
                n += len(tokens)
            if n > 500_000:
                break
    model = word2vec.Word2Vec(sentences, vector_size=48, min_count=5, workers=2, epochs=5, seed=7)
    path = str(tmp_path_factory.mktemp("gensim") / "gensim-vectors.txt")
    model.wv.save_word2vec_format(path)
    return path


def test_agreement_with_gensim(gensim_model, capsys):
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(gensim_model)
    v = load_vectors(gensim_model)
    score, sections = kv.evaluate_word_analogies(dataset_path("questions-words"),
                                                 restrict_vocab=30000)
    ours = evaluate_analogy(v, dataset_path("questions-words"), restrict=30000)
    n_gensim = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    lines = [f"analogy questions-words: gensim {100 * score:.3f}% ({n_gensim} questions), "
             f"wordvec {100 * ours['accuracy']:.3f}% ({ours['questions']} questions)"]
    assert ours["questions"] == n_gensim
    # the model is near-random (~1.4 %): agree on the count of right answers, not within 0.1 point
    assert ours["correct"] == len(sections[-1]["correct"])
    for name in DATASETS[1:]:
        rho = kv.evaluate_word_pairs(dataset_path(name))[1][0]
        mine = evaluate_similarity(v, dataset_path(name))
        lines.append(f"similarity {name}: gensim {rho:.5f}, wordvec {mine['spearman']:.5f} "
                     f"({mine['pairs']}/{mine['total']} pairs)")
        assert abs(mine["spearman"] - rho) <= 0.005
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_benchmark_table_and_json(gensim_model, tmp_path):
    v = load_vectors(gensim_model)
    results = benchmark(v)
    assert list(results["analogy"]) == ["questions-words"]
    assert list(results["similarity"]) == list(DATASETS[1:])
    json.dumps(results)  # plain JSON types only
    table = format_table(results)
    for name in DATASETS:
        assert name in table
    assert "3CosAdd" in table and "spearman" in table and "semantic" in table
    mul = benchmark(v, method="mul")["analogy"]["questions-words"]
    assert mul["method"] == "mul" and mul["questions"] == results["analogy"]["questions-words"][
        "questions"]
    # the same scores through a binary round trip
    save_vectors(v, tmp_path / "v.bin", format="word2vec-binary")
    again = benchmark(load_vectors(tmp_path / "v.bin"))
    for name, r in results["similarity"].items():
        assert again["similarity"][name]["spearman"] == pytest.approx(r["spearman"])
    assert again["analogy"]["questions-words"]["correct"] == \
        results["analogy"]["questions-words"]["correct"]
