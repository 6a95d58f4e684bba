"""LSA: PPMI weighting, term–document weighting, truncated SVD, the trainer end to end."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from wordvec import native
from wordvec.encode import EncodedCorpus
from wordvec.errors import WordvecError
from wordvec.lsa import ppmi, term_document, train_lsa, weight_term_document
from wordvec.svd import truncated_svd
from wordvec.vocab import Vocabulary

# a small symmetric count matrix: rows = words, columns = contexts
COUNTS = np.array([[0.0, 4.0, 1.0],
                   [4.0, 0.0, 2.0],
                   [1.0, 2.0, 6.0]])
# row sums 5, 6, 9; column sums 5, 6, 9; total 20


def _dense(m):
    return np.asarray(m.todense(), dtype=np.float64)


# ---- PPMI -----------------------------------------------------------------------------------
def test_ppmi_without_smoothing_or_shift_matches_hand_values():
    got = _dense(ppmi(sp.csr_matrix(COUNTS), cds=1.0, shift=1))
    # PMI(w, c) = log(#(w,c) * N / (#w * #c)), N = 20
    assert got[0, 1] == pytest.approx(math.log(4 * 20 / (5 * 6)), rel=1e-6)   # 0.981
    assert got[2, 2] == pytest.approx(math.log(6 * 20 / (9 * 9)), rel=1e-6)   # 0.393
    assert got[1, 2] == 0.0   # log(2*20/(6*9)) = -0.30 < 0: dropped
    assert got[0, 2] == 0.0   # log(1*20/(5*9)) = -0.81 < 0: dropped
    assert got[0, 0] == 0.0   # zero count stays zero
    assert ppmi(sp.csr_matrix(COUNTS), cds=1.0).nnz == 3   # (0,1), (1,0), (2,2)


def test_ppmi_with_context_smoothing_matches_hand_values():
    a = 0.75
    got = _dense(ppmi(sp.csr_matrix(COUNTS), cds=a, shift=1))
    z = 5 ** a + 6 ** a + 9 ** a  # smoothed context total
    # PMI_a(w, c) = log(#(w,c) * z / (#w * #c^a))
    assert got[0, 1] == pytest.approx(math.log(4 * z / (5 * 6 ** a)), rel=1e-6)
    assert got[2, 2] == pytest.approx(math.log(6 * z / (9 * 9 ** a)), rel=1e-6)
    expect_12 = math.log(2 * z / (6 * 9 ** a))
    assert got[1, 2] == (pytest.approx(expect_12, rel=1e-6) if expect_12 > 0 else 0.0)


def test_ppmi_shift_subtracts_log_k_and_drops_what_falls_below_zero():
    plain = _dense(ppmi(sp.csr_matrix(COUNTS), cds=1.0, shift=1))
    shifted = _dense(ppmi(sp.csr_matrix(COUNTS), cds=1.0, shift=2))
    assert shifted[0, 1] == pytest.approx(math.log(4 * 20 / (5 * 6)) - math.log(2), rel=1e-6)
    # log(120/81) = 0.393 < log 2: gone after the shift
    assert plain[2, 2] > 0 and shifted[2, 2] == 0.0
    assert ppmi(sp.csr_matrix(COUNTS), cds=1.0, shift=2).nnz == 2


def test_ppmi_equals_dense_formula_on_random_counts():
    rng = np.random.default_rng(3)
    C = rng.poisson(0.7, size=(40, 30)).astype(np.float64)
    C[5] = 0  # an empty row and column
    C[:, 7] = 0
    for cds, neg in ((1.0, 1), (0.75, 1), (0.5, 5)):
        got = _dense(ppmi(sp.csr_matrix(C), cds=cds, shift=neg))
        pc = C.sum(0) ** cds
        with np.errstate(divide="ignore", invalid="ignore"):
            pmi = np.log(C * pc.sum() / (C.sum(1)[:, None] * pc[None, :])) - np.log(neg)
        expect = np.where((C > 0) & (pmi > 0), pmi, 0.0)
        np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-6)


def test_ppmi_works_block_by_block(monkeypatch):
    import wordvec.lsa as lsa

    rng = np.random.default_rng(4)
    C = sp.csr_matrix(rng.poisson(0.5, size=(50, 50)).astype(np.float64))
    whole = _dense(ppmi(C))
    monkeypatch.setattr(lsa, "BLOCK_NNZ", 7)
    np.testing.assert_allclose(_dense(ppmi(C)), whole, rtol=1e-6)


# ---- term–document ----------------------------------------------------------------------------
# vocabulary ids: 0 a, 1 b, 2 c
DOCS = [[0, 0, 1], [1, 2], [], [0, 2, 2, 2]]


def _encoded(sentences, words=None):
    n = 1 + max((max(s) for s in sentences if len(s)), default=0)
    words = words or [f"w{i}" for i in range(n)]
    counts = np.bincount(np.concatenate([np.asarray(s, int) for s in sentences]),
                         minlength=len(words))
    order_ok = Vocabulary(words, np.maximum(counts, 1))
    return EncodedCorpus.from_arrays(order_ok, sentences)


def test_term_document_counts_and_blocks_of_lines():
    enc = _encoded(DOCS)
    X = term_document(enc.ids, enc.offsets, 3, doc_lines=1)
    # the empty line is dropped: 3 documents
    np.testing.assert_array_equal(_dense(X), [[2, 0, 1], [1, 1, 0], [0, 1, 3]])
    X2 = term_document(enc.ids, enc.offsets, 3, doc_lines=2)
    np.testing.assert_array_equal(_dense(X2), [[2, 1], [2, 0], [1, 3]])


def test_term_document_block_by_block(monkeypatch):
    import wordvec.lsa as lsa

    rng = np.random.default_rng(5)
    sents = [rng.integers(0, 20, size=rng.integers(0, 9)).tolist() for _ in range(60)]
    sents[0] = list(range(20))
    enc = _encoded(sents)
    whole = _dense(term_document(enc.ids, enc.offsets, 20, doc_lines=3))
    monkeypatch.setattr(lsa, "BLOCK_NNZ", 5)
    np.testing.assert_array_equal(_dense(term_document(enc.ids, enc.offsets, 20, doc_lines=3)),
                                  whole)


def test_tfidf_weighting_matches_hand_values():
    X = sp.csr_matrix(np.array([[2.0, 0, 1], [1, 1, 0], [0, 1, 3], [1, 1, 1]]))
    W = _dense(weight_term_document(X, "tfidf"))
    D = 3
    # (1 + ln tf) * ln(D / df)
    assert W[0, 0] == pytest.approx((1 + math.log(2)) * math.log(D / 2), rel=1e-6)
    assert W[0, 2] == pytest.approx(1 * math.log(D / 2), rel=1e-6)
    assert W[2, 2] == pytest.approx((1 + math.log(3)) * math.log(D / 2), rel=1e-6)
    assert W[0, 1] == 0.0
    np.testing.assert_array_equal(W[3], 0.0)  # in every document: idf 0


def test_log_entropy_weighting_matches_hand_values():
    X = sp.csr_matrix(np.array([[2.0, 0, 1, 0], [1, 1, 1, 1], [0, 5, 0, 0]]))
    W = _dense(weight_term_document(X, "log-entropy"))
    D = 4
    # g = 1 + sum_d p ln p / ln D, p = tf / gf;  weight = ln(1 + tf) * g
    g0 = 1 + (2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / math.log(D)
    assert W[0, 0] == pytest.approx(math.log(3) * g0, rel=1e-5)
    assert W[0, 2] == pytest.approx(math.log(2) * g0, rel=1e-5)
    np.testing.assert_allclose(W[1], 0.0, atol=1e-6)  # spread evenly: global weight 0
    assert W[2, 1] == pytest.approx(math.log(6), rel=1e-6)  # one document: global weight 1


# ---- SVD --------------------------------------------------------------------------------------
def _low_rank(m=120, n=90, r=6, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((m, r)))
    V, _ = np.linalg.qr(rng.standard_normal((n, r)))
    s = np.array([50.0, 20.0, 10.0, 5.0, 2.0, 1.0])[:r]
    return (U * s) @ V.T, s


@pytest.mark.parametrize("method", ["randomized", "arpack"])
def test_svd_reproduces_a_known_low_rank_matrix(method):
    A, s_true = _low_rank()
    U, s, V, info = truncated_svd(sp.csr_matrix(A), 6, method=method, right=True, seed=2)
    np.testing.assert_allclose(s, s_true, rtol=1e-4)
    np.testing.assert_allclose((U * s) @ V.T, A, atol=1e-4)
    np.testing.assert_allclose(U.T @ U, np.eye(6), atol=1e-4)
    assert info["method"] == method
    # the top 3 only: the best rank-3 approximation
    U3, s3, V3, _ = truncated_svd(sp.csr_matrix(A), 3, method=method, right=True)
    np.testing.assert_allclose(s3, s_true[:3], rtol=1e-4)


def test_randomized_svd_matches_dense_svd_on_a_decaying_spectrum():
    rng = np.random.default_rng(1)
    m, n = 200, 150
    A = rng.standard_normal((m, n)) * (0.8 ** np.arange(n))  # decaying column scales
    S = sp.csr_matrix(A * (rng.random((m, n)) < 0.5))
    s_ref = np.linalg.svd(S.toarray(), compute_uv=False)[:10]
    _, s, _, _ = truncated_svd(S, 10, n_iter=6, seed=7)
    np.testing.assert_allclose(s, s_ref, rtol=1e-3)


def test_svd_is_reproducible_and_sign_fixed():
    A, _ = _low_rank(seed=3)
    U1, s1, _, _ = truncated_svd(sp.csr_matrix(A), 4, seed=5)
    U2, s2, _, _ = truncated_svd(sp.csr_matrix(A), 4, seed=5)
    np.testing.assert_array_equal(U1, U2)
    rows = np.argmax(np.abs(U1), axis=0)
    assert np.all(U1[rows, np.arange(4)] > 0)


def test_svd_refuses_bad_sizes():
    A = sp.csr_matrix(np.eye(5))
    with pytest.raises(WordvecError, match="smaller"):
        truncated_svd(A, 5)
    with pytest.raises(WordvecError, match="at least 1"):
        truncated_svd(A, 0)
    with pytest.raises(WordvecError, match="unknown SVD"):
        truncated_svd(A, 2, method="lanczos")


# ---- the trainer --------------------------------------------------------------------------
TOPICS = [["apple", "banana", "cherry", "grape", "melon", "peach"],
          ["car", "truck", "bus", "train", "plane", "boat"],
          ["red", "green", "blue", "yellow", "purple", "orange"]]


def _planted_corpus(n_sentences=900, length=8, seed=0):
    """Each sentence draws its words from one topic (plus a few shared filler words)."""
    rng = np.random.default_rng(seed)
    words = [w for t in TOPICS for w in t] + ["the", "and", "of"]
    sents = []
    for i in range(n_sentences):
        topic = TOPICS[i % 3]
        s = [topic[j] for j in rng.integers(0, 6, size=length)]
        for pos in rng.integers(0, length, size=2):
            s[pos] = words[18 + rng.integers(0, 3)]
        sents.append(s)
    counts = {}
    for s in sents:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    vocab = Vocabulary.from_counts(counts)
    ids = [[vocab.index[w] for w in s] for s in sents]
    return EncodedCorpus.from_arrays(vocab, ids)


def _count_pairs(enc, window):
    """Brute-force symmetric, unweighted co-occurrence counts (the test's own reference)."""
    V = len(enc.vocab)
    C = np.zeros((V, V))
    for s in enc.sentences():
        for i in range(len(s)):
            for j in range(max(0, i - window), min(len(s), i + window + 1)):
                if j != i:
                    C[s[i], s[j]] += 1
    return sp.csr_matrix(C)


def _assert_topic_neighbours(vectors, topn=4):
    for topic in TOPICS:
        for w in topic:
            near = [x for x, _ in vectors.most_similar(w, topn=topn)]
            assert set(near) <= set(topic), (w, near)


def test_ppmi_lsa_finds_planted_topics_from_a_given_matrix():
    enc = _planted_corpus()
    v = train_lsa(None, cooccur=(_count_pairs(enc, 5), enc.vocab), dim=8, progress=False)
    assert v.matrix.shape == (21, 8) and v.matrix.dtype == np.float32
    _assert_topic_neighbours(v)
    assert v.meta["kind"] == "lsa" and v.meta["params"]["matrix"] == "ppmi"


def test_ppmi_lsa_end_to_end_with_the_counter():
    enc = _planted_corpus()
    v = train_lsa(enc, dim=8, window=5, progress=False, threads=1)
    _assert_topic_neighbours(v)
    stats = v.meta["stats"]
    for key in ("count_seconds", "weight_seconds", "svd_seconds", "cooccur_nnz", "matrix_nnz"):
        assert key in stats
    # the matrix counted here is the test's brute-force one
    ref = train_lsa(None, cooccur=(_count_pairs(enc, 5), enc.vocab), dim=8, progress=False)
    np.testing.assert_allclose(np.abs(v.matrix), np.abs(ref.matrix), atol=1e-3)


@pytest.mark.parametrize("weighting", ["tfidf", "log-entropy"])
def test_tfidf_lsa_finds_planted_topics(weighting):
    enc = _planted_corpus()
    v = train_lsa(enc, matrix="tfidf", weighting=weighting, dim=6, progress=False)
    _assert_topic_neighbours(v)
    assert v.meta["params"]["eig"] == 1.0
    assert v.meta["stats"]["documents"] == 900


def test_eigenvalue_weighting_and_w_plus_c():
    enc = _planted_corpus(300)
    given = (_count_pairs(enc, 3), enc.vocab)
    M = ppmi(given[0])
    U, s, V, _ = truncated_svd(M, 5, right=True, seed=1)
    v0 = train_lsa(None, cooccur=given, dim=5, eig=0.0, add_context=False, progress=False)
    v1 = train_lsa(None, cooccur=given, dim=5, eig=1.0, add_context=False, progress=False)
    vc = train_lsa(None, cooccur=given, dim=5, eig=0.5, add_context=True, progress=False)
    vd = train_lsa(None, cooccur=given, dim=5, progress=False)  # the default: W + C, eig 0.5
    np.testing.assert_allclose(v0.matrix, U, atol=1e-5)
    np.testing.assert_allclose(v1.matrix, U * s, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(vc.matrix, (U + V) * np.sqrt(s), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(vd.matrix, vc.matrix, atol=1e-6)
    assert vd.meta["params"]["add_context"] is True


def test_cooccurrence_file_is_reused(tmp_path):
    from wordvec.cooccur import save_cooccurrence

    enc = _planted_corpus(300)
    path = tmp_path / "cooc.npz"
    save_cooccurrence(path, _count_pairs(enc, 5), enc.vocab)
    v = train_lsa(None, cooccur=str(path), dim=6, progress=False)
    w = train_lsa(None, cooccur=(_count_pairs(enc, 5), enc.vocab), dim=6, progress=False)
    np.testing.assert_allclose(v.matrix, w.matrix, atol=1e-6)
    assert v.words == enc.vocab.words and v.meta["params"]["cooccur"] == str(path)


def test_native_round_trip(tmp_path):
    enc = _planted_corpus(300)
    v = train_lsa(enc, matrix="tfidf", dim=5, progress=False)
    native.save(v, tmp_path / "model")
    back = native.load(str(tmp_path / "model"))
    assert back.words == v.words
    np.testing.assert_array_equal(np.asarray(back.matrix), v.matrix)
    np.testing.assert_array_equal(back.counts, v.counts)
    assert back.meta["kind"] == "lsa"
    assert back.meta["params"]["weighting"] == "tfidf"
    assert back.meta["stats"]["svd_seconds"] == v.meta["stats"]["svd_seconds"]
    assert back.most_similar("apple", topn=3) == v.most_similar("apple", topn=3)


@pytest.mark.parametrize("kwargs, message", [
    ({"dim": 0}, "dim must be"),
    ({"dim": 21}, "dim \\(21\\) must be smaller than the vocabulary size \\(21\\)"),
    ({"dim": 2.5}, "dim must be"),
    ({"cds": 0}, "cds"),
    ({"cds": -0.5}, "cds"),
    ({"neg": 0.5}, "shift must be"),  # the old name of shift
    ({"shift": 0.5}, "shift must be"),
    ({"window": 0}, "window"),
    ({"eig": -1}, "eig"),
    ({"matrix": "cooc"}, "matrix must be one of ppmi, tfidf"),
    ({"svd": "qr"}, "svd must be one of"),
    ({"matrix": "tfidf", "weighting": "bm25"}, "weighting must be one of"),
    ({"matrix": "tfidf", "doc_lines": 0}, "doc_lines"),
    ({"matrix": "tfidf", "add_context": True}, "ppmi matrix only"),
    ({"matrix": "tfidf", "dim": 500}, "number of documents|vocabulary size"),
    ({"threads": 0}, "threads"),
])
def test_bad_parameters_are_refused(kwargs, message):
    enc = _planted_corpus(300)
    with pytest.raises(WordvecError, match=message):
        train_lsa(enc, progress=False, **kwargs)


def test_bad_inputs_are_refused(tmp_path):
    with pytest.raises(WordvecError, match="needs a corpus"):
        train_lsa(None, progress=False)
    enc = _planted_corpus(30)
    with pytest.raises(WordvecError, match="ppmi matrix only"):
        train_lsa(enc, matrix="tfidf", cooccur=str(tmp_path / "x.npz"), progress=False)
    with pytest.raises(WordvecError, match="does not match"):
        train_lsa(None, cooccur=(sp.csr_matrix((3, 3)), enc.vocab), progress=False)
    with pytest.raises(WordvecError, match="non-negative"):
        ppmi(sp.csr_matrix(-np.eye(3)))
    with pytest.raises(WordvecError, match="empty"):
        ppmi(sp.csr_matrix((3, 3)))
    with pytest.raises(WordvecError, match="no such|missing|corrupt"):
        train_lsa(None, cooccur=str(tmp_path / "missing.npz"), progress=False)
    with pytest.raises(WordvecError, match="no positive entries"):
        train_lsa(None, cooccur=(sp.csr_matrix(np.ones((4, 4))), Vocabulary("abcd", [1] * 4)),
                  dim=2, progress=False)
    one_doc = EncodedCorpus.from_arrays(enc.vocab, [[0, 1, 2]])
    with pytest.raises(WordvecError, match="at least 2 documents"):
        train_lsa(one_doc, matrix="tfidf", dim=1, progress=False)


def test_asymmetric_counting_and_thread_counts():
    enc = _planted_corpus(300)
    left = train_lsa(enc, dim=6, symmetric=False, progress=False, threads=1)
    assert left.meta["params"]["symmetric"] is False
    _assert_topic_neighbours(left, topn=3)
    one = train_lsa(enc, dim=6, progress=False, threads=1)
    two = train_lsa(enc, dim=6, progress=False, threads=2)
    np.testing.assert_allclose(one.matrix, two.matrix, atol=1e-4)
