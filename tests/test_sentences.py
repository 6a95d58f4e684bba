"""Text vectors (wordvec.sentences, `wordvec embed`): the mean, fastText's unit mean, and SIF."""

import io
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec import native, sentences
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.formats import save_vectors
from wordvec.sentences import SentenceEncoder, embed, read_npy_rows, write_npy
from wordvec.vectors import Vectors


@pytest.fixture(autouse=True)
def _work(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(wordvec, "_bars_terminal_only", True)  # as the CLI's main() sets it


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def one_line(result, code, *patterns):
    assert result.exit_code == code, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


def small():
    """Four words with hand-checkable vectors and counts (total 100)."""
    M = np.array([[1, 0, 0], [0, 2, 0], [3, 4, 0], [0, 0, 0]], dtype=np.float32)
    return Vectors(["a", "b", "c", "z"], M, counts=[60, 30, 9, 1])


def random_vectors(n=300, dim=12, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, dim)).astype(np.float32) + 0.5  # a shared direction, as real vectors
    counts = np.sort(rng.zipf(1.5, n))[::-1].astype(np.int64)
    return Vectors([f"w{i}" for i in range(n)], M, counts=counts)


def random_texts(v, n=200, seed=1, oov=True):
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        k = int(rng.integers(1, 12))
        ids = np.minimum(rng.zipf(1.3, k) - 1, len(v) - 1)
        words = [v.words[i] for i in ids]
        if oov and rng.random() < 0.3:
            words.insert(int(rng.integers(0, len(words) + 1)), "unknownword")
        texts.append(" ".join(words))
    return texts


# ---- mean ------------------------------------------------------------------------------------
def test_mean_averages_known_words_and_skips_the_rest():
    v = small()
    enc = SentenceEncoder(v)
    X = enc.transform(["a b", "c nosuch a", "", "nosuch", "  a\t c  "])
    assert np.allclose(X[0], [0.5, 1, 0])
    assert np.allclose(X[1], [2, 2, 0])  # (c + a) / 2: the unknown word is not counted
    assert np.allclose(X[4], [2, 2, 0])
    assert not X[2].any() and not X[3].any()
    assert enc.empty == [2, 3] and enc.texts == 5
    assert X.dtype == np.float32 and X.shape == (5, 3)


def test_mean_counts_a_zero_vector_but_unit_mean_skips_it():
    v = small()
    assert np.allclose(embed(v, ["a z"])[0], [0.5, 0, 0])  # the zero vector is a word of the mean
    # unit vectors: a -> (1,0,0), c -> (0.6,0.8,0); z has norm 0 and is skipped, as fastText does
    assert np.allclose(embed(v, ["a z c"], unit=True)[0], [0.8, 0.4, 0])


def test_lowercase():
    v = small()
    assert not embed(v, ["A B"]).any()
    assert np.allclose(embed(v, ["A B"], lowercase=True)[0], [0.5, 1, 0])


def test_many_blocks_give_the_same_rows(monkeypatch):
    v = random_vectors()
    texts = random_texts(v)
    whole = embed(v, texts)
    monkeypatch.setattr(sentences, "BLOCK_LINES", 7)
    assert np.array_equal(embed(v, texts), whole)


def test_unit_mean_matches_fasttext_sentence_vectors(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    rng = np.random.default_rng(3)
    vocab = [f"{a}{b}{c}" for a in "bcdfg" for b in "aeiou" for c in "lmnrst"]
    lines = [" ".join(rng.choice(vocab, 12)) for _ in range(400)]
    (tmp_path / "c.txt").write_text("\n".join(lines) + "\n")
    m = fasttext.train_unsupervised(str(tmp_path / "c.txt"), dim=16, epoch=2, minCount=3, thread=1,
                                    minn=2, maxn=4, bucket=5000, verbose=0)
    m.save_model(str(tmp_path / "m.bin"))
    v = wordvec.load(tmp_path / "m.bin")
    texts = [lines[0], "bal cem unseenword", "", "zzzz qqq", "  bal\tcem  ", "b", "été bal"]
    ours = embed(v, texts, unit=True)
    for t, row in zip(texts, ours):
        ref = m.get_sentence_vector(t)
        assert np.allclose(row, ref, atol=1e-6), t
    assert np.abs(ours[1]).sum() > 0  # the unseen word has a vector built from its n-grams


# ---- SIF -------------------------------------------------------------------------------------------
def sif_reference(v, texts, a=1e-3):
    """Arora et al.'s recipe written out plainly: weights a / (a + p(w)), the weighted sum over
    the text's known words divided by their number, then the projection on the first right
    singular vector of the matrix of text vectors removed."""
    p = v.counts / v.counts.sum()
    rows = []
    for t in texts:
        ws = [w for w in t.split() if w in v.index]
        x = np.zeros(v.dim)
        for w in ws:
            i = v.index[w]
            x += a / (a + p[i]) * v.matrix[i].astype(np.float64)
        rows.append(x / len(ws) if ws else x)
    X = np.array(rows)
    u = np.linalg.svd(X, full_matrices=False)[2][0]
    return X - np.outer(X @ u, u), u


def test_sif_matches_the_paper_recipe():
    v = random_vectors()
    texts = random_texts(v)
    enc = SentenceEncoder(v, method="sif")
    X = enc.fit_transform(texts)
    ref, u = sif_reference(v, texts)
    assert np.allclose(np.abs(enc.component @ u), 1, atol=1e-9)  # the same direction
    assert np.allclose(X, ref, atol=2e-5)
    assert np.abs(X @ enc.component).max() < 1e-4  # nothing left along it
    # the weights: a rare word outweighs a frequent one
    w = enc._scale
    assert w[0] < w[-1] and np.isclose(w[0], 1e-3 / (1e-3 + v.counts[0] / v.counts.sum()))


def test_sif_removal_matters_and_a_changes_the_weights():
    v = random_vectors()
    texts = random_texts(v)
    X3 = embed(v, texts, "sif", sif_a=1e-3)
    X1 = embed(v, texts, "sif", sif_a=1e-1)
    assert not np.allclose(X3, X1)
    raw = SentenceEncoder(v, method="sif")._raw_block(texts)[0]
    assert not np.allclose(raw, X3, atol=1e-3)


def test_a_query_is_embedded_as_the_collection_was():
    v = random_vectors()
    texts = random_texts(v)
    enc = SentenceEncoder(v, method="sif")
    X = enc.fit_transform(texts)
    Q = enc.transform([texts[5], texts[17]])
    assert np.allclose(Q, X[[5, 17]], atol=1e-6)
    again = SentenceEncoder.from_state(v, json.loads(json.dumps(enc.state())))
    assert np.allclose(again.transform([texts[5]]), X[5], atol=1e-6)


def test_sif_needs_counts():
    v = Vectors(["a", "b"], np.eye(2, dtype=np.float32))  # a word2vec text file has no counts
    with pytest.raises(WordvecError, match="no word counts.*--counts"):
        embed(v, ["a b"], "sif")
    X = embed(v, ["a", "b", "a b"], "sif", counts={"a": 3, "b": 1})
    assert X.shape == (3, 2)


def test_unfitted_sif_refuses_to_transform():
    with pytest.raises(WordvecError, match="fitted"):
        SentenceEncoder(small(), method="sif").transform(["a"])


# ---- .npy written block by block ------------------------------------------------------------------
@pytest.mark.parametrize("method", ["mean", "sif"])
def test_write_npy_equals_the_in_memory_rows(monkeypatch, method):
    v = random_vectors()
    texts = random_texts(v, n=150)
    whole = SentenceEncoder(v, method=method).fit_transform(texts)
    monkeypatch.setattr(sentences, "BLOCK_LINES", 16)
    monkeypatch.setattr(sentences, "_REWRITE_BYTES", 4 * v.dim * 10)  # the in-place pass in blocks
    f = io.BytesIO()
    enc = SentenceEncoder(v, method=method)
    assert write_npy(enc, texts, f) == len(texts)
    f.seek(0)
    X = np.load(f)
    assert X.dtype == np.float32 and np.allclose(X, whole, atol=1e-6)
    f.seek(0)
    unit = write_npy(SentenceEncoder(v, method=method), texts, io.BytesIO(), normalise=True)
    assert unit == len(texts)


def test_read_npy_rows_refuses_what_it_should(tmp_path):
    good = tmp_path / "g.npy"
    np.save(good, np.ones((3, 4), dtype=np.float32))
    assert read_npy_rows(good, 4, 3).shape == (3, 4)
    cases = {"f8.npy": np.ones((3, 4)), "1d.npy": np.ones(4, dtype=np.float32),
             "fortran.npy": np.asfortranarray(np.ones((3, 4), dtype=np.float32))}
    for name, arr in cases.items():
        np.save(tmp_path / name, arr)
        with pytest.raises(WordvecError, match="expected a 2-D float32"):
            read_npy_rows(tmp_path / name)
    data = good.read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-4])
    with pytest.raises(WordvecError, match="truncated"):
        read_npy_rows(tmp_path / "cut.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all" * 4)
    with pytest.raises(WordvecError, match="not a valid .npy"):
        read_npy_rows(tmp_path / "junk.npy")
    with pytest.raises(WordvecError, match="does not match"):
        read_npy_rows(good, 5, 3)


# ---- the command ------------------------------------------------------------------------------------
@pytest.fixture
def model(tmp_path):
    path = str(tmp_path / "model")
    native.save(random_vectors(), path)
    return path


def test_embed_writes_rows_in_line_order_and_a_description(model, tmp_path):
    v = wordvec.load(model)
    texts = random_texts(v, n=40) + ["", "nothing known here"]
    (tmp_path / "t.txt").write_text("\n".join(texts) + "\n")
    r = run("embed", "t.txt", "-m", model, "-o", "t.npy")
    assert r.exit_code == 0, r.output
    assert "2 lines had no word with a vector (zero rows): 41, 42" in r.output
    X = np.load("t.npy")
    assert np.allclose(X, embed(v, texts), atol=1e-6)
    info = json.loads((tmp_path / "t.json").read_text())
    assert info["rows"] == 42 and info["empty_lines"] == [41, 42] and info["encoder"]["method"] == "mean"


def test_embed_sif_from_stdin_and_unit(model, tmp_path):
    v = wordvec.load(model)
    texts = random_texts(v, n=30)
    r = run("embed", "-", "-m", model, "--method", "sif", "-o", "s.npy", input="\n".join(texts) + "\n")
    assert r.exit_code == 0, r.output
    assert np.allclose(np.load("s.npy"), embed(v, texts, "sif"), atol=1e-5)
    r = run("embed", "-", "-m", model, "--unit", "-o", "u.npy", input="\n".join(texts) + "\n")
    assert r.exit_code == 0 and np.allclose(np.load("u.npy"), embed(v, texts, unit=True), atol=1e-6)


def test_embed_errors_are_one_line_and_write_nothing(model, tmp_path):
    (tmp_path / "t.txt").write_text("w1 w2\n")
    one_line(run("embed", "nosuch.txt", "-m", model, "-o", "x.npy"), 1, "no such file of texts")
    one_line(run("embed", "t.txt", "-m", model, "--method", "sif", "--unit", "-o", "x.npy"), 1,
             "--unit is an option of --method mean")
    (tmp_path / "bin.txt").write_bytes(b"w1\x00w2\n")
    one_line(run("embed", "bin.txt", "-m", model, "-o", "x.npy"), 1, "NUL byte")
    save_vectors(Vectors(["w1"], np.ones((1, 3), dtype=np.float32)), "plain.txt", "word2vec")
    one_line(run("embed", "t.txt", "-m", "plain.txt", "--method", "sif", "-o", "x.npy"), 1,
             "no word counts")
    assert not os.path.exists("x.npy") and not os.path.exists("x.json")


def test_embed_never_replaces_a_users_file_or_its_input(model, tmp_path):
    (tmp_path / "t.txt").write_text("w1 w2\n")
    (tmp_path / "mine.npy").write_bytes(b"precious")
    one_line(run("embed", "t.txt", "-m", model, "-o", "mine.npy"), 1, "not replacing it")
    assert (tmp_path / "mine.npy").read_bytes() == b"precious"
    (tmp_path / "t.json").write_text("mine")  # the description's path
    one_line(run("embed", "t.txt", "-m", model, "-o", "t.npy"), 1, "t.json")
    assert (tmp_path / "t.json").read_text() == "mine" and not os.path.exists("t.npy")
    r = run("embed", "t.txt", "-m", model, "-o", "t.txt")
    assert r.exit_code == 1 and (tmp_path / "t.txt").read_text() == "w1 w2\n"
    # its own output is replaced on a second run
    assert run("embed", "t.txt", "-m", model, "-o", "ok.npy").exit_code == 0
    assert run("embed", "t.txt", "-m", model, "-o", "ok.npy").exit_code == 0
