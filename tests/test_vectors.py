import json
import os

import numpy as np
import pytest

from wordvec import native
from wordvec.errors import WordvecError
from wordvec.vectors import Vectors, cos_mul


@pytest.fixture
def royals():
    # axes: royalty, gender(+male), fruitiness, youth
    words = ["king", "queen", "man", "woman", "apple", "prince", "princess"]
    m = np.array([
        [1.0, 1.0, 0.0, 0.0],
        [1.0, -1.0, 0.0, 0.0],
        [0.0, 1.0, 0.05, 0.0],
        [0.0, -1.0, 0.05, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.8, 0.9, 0.0, 0.6],
        [0.8, -0.9, 0.0, 0.6],
    ], dtype=np.float32)
    return Vectors(words, m, counts=[70, 60, 50, 40, 30, 20, 10])


def test_lookup(royals):
    assert "king" in royals and "emperor" not in royals
    assert royals["queen"].tolist() == [1.0, -1.0, 0.0, 0.0]
    assert royals.dim == 4 and len(royals) == 7
    with pytest.raises(KeyError):
        royals["emperor"]
    assert np.allclose(np.linalg.norm(royals.unit, axis=1), 1)


def test_similarity_and_most_similar(royals):
    assert royals.similarity("king", "king") == pytest.approx(1.0)
    assert royals.similarity("king", "apple") == pytest.approx(0.0)
    top = royals.most_similar("king", topn=2)
    assert [w for w, _ in top] == ["prince", "man"]
    assert top[0][1] == pytest.approx(royals.similarity("king", "prince"), abs=1e-6)
    assert "king" not in [w for w, _ in royals.most_similar("king", topn=10)]
    assert len(royals.most_similar("king", topn=100)) == 6
    # restrict to the 3 most frequent rows (king, queen, man): king itself excluded
    assert [w for w, _ in royals.most_similar("king", topn=5, restrict=3)] == ["man", "queen"]


def test_analogy_add_and_mul(royals):
    assert royals.analogy("king", "man", "woman")[0][0] == "queen"
    assert royals.analogy("king", "man", "woman", method="mul")[0][0] == "queen"
    assert royals.analogy("prince", "man", "woman", topn=3)[0][0] == "princess"
    answers = [w for w, _ in royals.analogy("king", "man", "woman", topn=10)]
    assert not {"king", "man", "woman"} & set(answers)
    with pytest.raises(WordvecError, match="not in the vocabulary"):
        royals.analogy("king", "man", "emperor")
    with pytest.raises(WordvecError, match="unknown analogy method"):
        royals.analogy("king", "man", "woman", method="div")


def test_3cosmul_value_by_hand(royals):
    u = royals.unit
    k, m, w, q = (royals.index[x] for x in ("king", "man", "woman", "queen"))
    expected = ((u[q] @ u[k] + 1) / 2) * ((u[q] @ u[w] + 1) / 2) / ((u[q] @ u[m] + 1) / 2 + 1e-3)
    score = dict(royals.analogy("king", "man", "woman", topn=10, method="mul"))["queen"]
    assert score == pytest.approx(expected, rel=1e-5)
    assert cos_mul(1.0, -1.0, 1.0) == pytest.approx(1 / 1e-3)


def test_doesnt_match(royals):
    assert royals.doesnt_match(["king", "queen", "prince", "princess", "apple"]) == "apple"
    with pytest.raises(WordvecError):
        royals.doesnt_match(["king"])


def test_oov_hook():
    class Echo(Vectors):
        def oov_vector(self, word):
            if word.startswith("x"):
                raise KeyError(word)
            return np.ones(self.dim, dtype=np.float32)

    v = Echo(["a", "b"], np.eye(2, dtype=np.float32))
    assert v.has_vector("zzz") and not v.has_vector("xyz")
    assert v.similarity("zzz", "a") == pytest.approx(np.sqrt(0.5))
    assert v.most_similar(["zzz"], topn=2)[0][1] == pytest.approx(np.sqrt(0.5))


def test_native_roundtrip(tmp_path, royals):
    royals.meta = {"kind": "sg", "params": {"dim": 4}, "stats": {"loss": [1.0, 0.5]}}
    path = tmp_path / "model"
    native.save(royals, path, arrays={"context": np.ones((7, 4), np.float32)})
    v = native.load(path)
    assert v.words == royals.words and v.counts.tolist() == royals.counts.tolist()
    assert np.array_equal(np.asarray(v.matrix), royals.matrix)
    assert isinstance(v.matrix, np.memmap)
    assert v.meta["params"] == {"dim": 4} and v.meta["stats"]["loss"] == [1.0, 0.5]
    assert v.arrays["context"].shape == (7, 4)
    header = json.loads((path / "model.json").read_text())
    assert header["kind"] == "sg" and header["vocab_size"] == 7 and header["dim"] == 4
    # overwrite in place leaves no temporary folders behind
    native.save(royals, path)
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_native_corrupt_files(tmp_path, royals):
    path = tmp_path / "model"
    native.save(royals, path)
    data = (path / "vectors.npy").read_bytes()
    (path / "vectors.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(WordvecError, match="corrupt"):
        native.load(path)
    native.save(royals, path)
    with open(path / "vocab.txt", "a") as f:
        f.write("extra 1\n")
    with pytest.raises(WordvecError, match="truncated or corrupt"):
        native.load(path)
    (path / "model.json").write_text("{not json")
    with pytest.raises(WordvecError, match="model.json"):
        native.load(path)
