"""Vector file formats: round trips, hand-written files, gensim interop, bad files."""

import gzip
import os
import shutil
import struct
import subprocess

import numpy as np
import pytest

from wordvec.errors import WordvecError
from wordvec.formats import FORMATS, describe, detect, load_vectors, save_vectors
from wordvec.vectors import Vectors

WORDS = ["the", "of", "été", "naïve", "x1", "Paris", "paris"]


@pytest.fixture
def vecs():
    rng = np.random.default_rng(3)
    m = rng.standard_normal((len(WORDS), 5)).astype(np.float32)
    m[1] *= 1e-8  # tiny values survive text round trips within relative tolerance
    m[2] *= 1e6
    return Vectors(WORDS, m, counts=np.arange(len(WORDS), 0, -1) * 10)


SUFFIX = {"native": "model", "word2vec": "vec.txt", "word2vec-binary": "vec.bin", "glove": "g.txt"}


# ---- round trips ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, gz", [(f, False) for f in FORMATS]
                         + [(f, True) for f in FORMATS if f != "native"])
def test_round_trip(tmp_path, vecs, fmt, gz):
    path = str(tmp_path / SUFFIX[fmt]) + (".gz" if gz else "")
    save_vectors(vecs, path, format=fmt)
    assert detect(path) == fmt
    back = load_vectors(path)
    assert back.words == WORDS
    assert back.matrix.dtype == np.float32 and back.matrix.shape == (7, 5)
    if fmt in ("native", "word2vec-binary"):
        assert np.array_equal(np.asarray(back.matrix), vecs.matrix)  # bit-exact
    else:
        np.testing.assert_allclose(back.matrix, vecs.matrix, rtol=5e-6, atol=0)
    assert load_vectors(path, format=fmt).words == WORDS
    info = describe(path)
    assert (info["format"], info["words"], info["dim"]) == (fmt, 7, 5)
    assert info.get("compressed", False) == gz
    if gz:
        with open(path, "rb") as f:
            assert f.read(2) == b"\x1f\x8b"


def test_text_precision_9_is_exact(tmp_path, vecs):
    save_vectors(vecs, tmp_path / "v.txt", format="word2vec", precision=9)
    assert np.array_equal(load_vectors(tmp_path / "v.txt").matrix, vecs.matrix)


def test_limit(tmp_path, vecs):
    for fmt in FORMATS:
        path = tmp_path / SUFFIX[fmt]
        save_vectors(vecs, path, format=fmt)
        v = load_vectors(path, limit=3)
        assert v.words == WORDS[:3] and v.matrix.shape == (3, 5), fmt
        assert len(load_vectors(path, limit=100)) == 7


def test_binary_layout_is_the_c_tools(tmp_path):
    v = Vectors(["ab", "c"], np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32))
    save_vectors(v, tmp_path / "v.bin", format="word2vec-binary")
    expected = (b"2 2\n" + b"ab " + struct.pack("<2f", 1.0, -2.0) + b"\n"
                + b"c " + struct.pack("<2f", 0.5, 3.0) + b"\n")
    assert (tmp_path / "v.bin").read_bytes() == expected
    save_vectors(v, tmp_path / "v.txt", format="word2vec")
    assert (tmp_path / "v.txt").read_text() == "2 2\nab 1 -2\nc 0.5 3\n"
    save_vectors(v, tmp_path / "g.txt", format="glove")
    assert (tmp_path / "g.txt").read_text() == "ab 1 -2\nc 0.5 3\n"


def test_write_is_atomic_and_rejects_bad_words(tmp_path):
    v = Vectors(["ok", "two words"], np.ones((2, 3), dtype=np.float32))
    path = tmp_path / "v.txt"
    path.write_text("old content\n")
    with pytest.raises(WordvecError, match="whitespace"):
        save_vectors(v, path, format="word2vec")
    assert path.read_text() == "old content\n"
    assert os.listdir(tmp_path) == ["v.txt"]  # no temporary file left behind
    with pytest.raises(WordvecError, match="unknown vectors format"):
        save_vectors(v, tmp_path / "x", format="pickle")


# A reader written the way the word2vec C tools (distance.c, word-analogy.c) read vectors:
# fscanf the two header numbers, then per word fgetc up to a space skipping '\n', then fread.
C_READER = r"""
#include <stdio.h>
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb");
  long long words, size, a, b;
  char word[200];
  float x;
  if (!f || fscanf(f, "%lld", &words) != 1 || fscanf(f, "%lld", &size) != 1) return 2;
  for (b = 0; b < words; b++) {
    a = 0;
    while (1) {
      word[a] = fgetc(f);
      if (feof(f) || word[a] == ' ') break;
      if (a < 199 && word[a] != '\n') a++;
    }
    word[a] = 0;
    printf("%s", word);
    for (a = 0; a < size; a++) { if (fread(&x, sizeof(float), 1, f) != 1) return 3; printf(" %.9g", x); }
    printf("\n");
  }
  return 0;
}
"""


def test_c_tool_style_reader_reads_our_binary(tmp_path, vecs):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    (tmp_path / "reader.c").write_text(C_READER)
    exe = tmp_path / "reader"
    subprocess.run([cc, "-O1", "-o", str(exe), str(tmp_path / "reader.c")], check=True)
    save_vectors(vecs, tmp_path / "v.bin", format="word2vec-binary")
    out = subprocess.run([str(exe), str(tmp_path / "v.bin")], capture_output=True, check=True)
    lines = out.stdout.decode("utf-8").splitlines()
    assert [line.split(" ")[0] for line in lines] == WORDS
    got = np.array([[float(x) for x in line.split(" ")[1:]] for line in lines], dtype=np.float32)
    assert np.array_equal(got, vecs.matrix)


# ---- files written by hand to each specification -------------------------------------------
def test_hand_written_c_tool_text(tmp_path):
    # word2vec.c writes "%s " then "%lf " per value: a trailing space before the newline
    p = tmp_path / "c.txt"
    p.write_bytes(b"3 2\n</s> 0.001000 -0.002000 \nking 1.500000 2.000000 \nqueen -1.0 1e-3 \n")
    v = load_vectors(p)
    assert detect(p) == "word2vec"
    assert v.words == ["</s>", "king", "queen"]
    np.testing.assert_allclose(v.matrix, [[0.001, -0.002], [1.5, 2.0], [-1.0, 0.001]])


def test_hand_written_c_tool_binary_and_gensim_style(tmp_path):
    rows = {"king": [1.0, 2.0, 3.0], "queen": [10.0, 20.0, -0.5], "\u00e9t\u00e9": [0.0, 0.0, 0.0]}
    for newline in (b"\n", b""):  # the C tool ends each vector with \n, gensim does not
        data = b"3 3\n" + b"".join(w.encode() + b" " + struct.pack("<3f", *r) + newline
                                  for w, r in rows.items())
        p = tmp_path / f"c{len(newline)}.bin"
        p.write_bytes(data)
        assert detect(p) == "word2vec-binary"
        v = load_vectors(p)
        assert v.words == list(rows)
        assert np.array_equal(v.matrix, np.array(list(rows.values()), dtype=np.float32))


def test_hand_written_glove_and_fasttext_vec(tmp_path):
    g = tmp_path / "glove.6B.3d.txt"
    g.write_text("the 0.418 0.24968 -0.41242\n, 0.013441 0.23682 -0.16899\n. 0.15164 0.30177 -0.16763\n")
    v = load_vectors(g)
    assert detect(g) == "glove" and v.words == ["the", ",", "."] and v.dim == 3
    np.testing.assert_allclose(v["the"], [0.418, 0.24968, -0.41242], rtol=1e-6)
    # fastText .vec: a word2vec text header, one space after each value
    f = tmp_path / "wiki.vec"
    f.write_text("2 4\nthe -0.065 0.1 0.2 -0.3 \nde 1 2 3 4 \n", encoding="utf-8")
    v = load_vectors(f)
    assert detect(f) == "word2vec" and v.words == ["the", "de"]
    np.testing.assert_allclose(v["de"], [1, 2, 3, 4])


def test_crlf_bom_blank_lines_and_gz_text(tmp_path):
    p = tmp_path / "w.txt"
    p.write_bytes(b"\xef\xbb\xbf2 2\r\na 1 2\r\n\r\nb 3 4\r\n")
    v = load_vectors(p)
    assert v.words == ["a", "b"] and np.array_equal(v.matrix, [[1, 2], [3, 4]])
    z = tmp_path / "w.anything"  # gzip recognised by content, not by name
    z.write_bytes(gzip.compress(b"a 1 2\nb 3 4\n"))
    assert load_vectors(z).words == ["a", "b"]


def test_duplicates_keep_first(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("3 2\na 1 2\nb 3 4\na 5 6\n")
    v = load_vectors(p)
    assert v.words == ["a", "b"] and np.array_equal(v["a"], [1, 2])
    assert v.meta["stats"]["duplicates_dropped"] == 1


def test_empty_header_only_file(tmp_path):
    p = tmp_path / "z.txt"
    p.write_text("0 7\n")
    v = load_vectors(p)
    assert len(v) == 0 and v.dim == 7


# ---- gensim interop ----------------------------------------------------------------------------
def test_gensim_reads_ours_and_we_read_gensims(tmp_path, vecs):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    kv_cls = gensim_kv.KeyedVectors
    save_vectors(vecs, tmp_path / "o.bin", format="word2vec-binary")
    save_vectors(vecs, tmp_path / "o.txt", format="word2vec")
    kb = kv_cls.load_word2vec_format(str(tmp_path / "o.bin"), binary=True)
    assert kb.index_to_key == WORDS and np.array_equal(kb.vectors, vecs.matrix)
    kt = kv_cls.load_word2vec_format(str(tmp_path / "o.txt"), binary=False)
    assert kt.index_to_key == WORDS
    np.testing.assert_allclose(kt.vectors, vecs.matrix, rtol=5e-6)
    kb.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    kb.save_word2vec_format(str(tmp_path / "g.txt"), binary=False)
    for name, fmt in (("g.bin", "word2vec-binary"), ("g.txt", "word2vec")):
        assert detect(tmp_path / name) == fmt
        v = load_vectors(tmp_path / name)
        assert v.words == WORDS
        np.testing.assert_allclose(v.matrix, vecs.matrix, rtol=1e-6)
    # gensim without header == GloVe
    kb.save_word2vec_format(str(tmp_path / "g.glove"), binary=False, write_header=False)
    assert detect(tmp_path / "g.glove") == "glove"
    assert load_vectors(tmp_path / "g.glove").words == WORDS


# ---- bad files: one clear WordvecError each ------------------------------------------------------
def _err(path, **kw):
    with pytest.raises(WordvecError) as e:
        load_vectors(path, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_missing_and_empty_and_folder(tmp_path):
    assert "no such file" in _err(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    assert "empty" in _err(tmp_path / "empty.txt")
    (tmp_path / "blank.txt").write_bytes(b"\n\n  \n")
    assert "empty" in _err(tmp_path / "blank.txt")
    (tmp_path / "dir").mkdir()
    assert "not a wordvec model" in _err(tmp_path / "dir")
    assert "unknown vectors format" in _err(tmp_path / "blank.txt", format="w2v")


def test_binary_given_as_text(tmp_path, vecs):
    save_vectors(vecs, tmp_path / "v.bin", format="word2vec-binary")
    assert "binary" in _err(tmp_path / "v.bin", format="word2vec")
    assert "binary" in _err(tmp_path / "v.bin", format="glove")


def test_garbage(tmp_path):
    p = tmp_path / "garbage"
    p.write_bytes(bytes(range(256)) * 10)
    assert "binary file" in _err(p)
    p.write_text("the quick brown fox\njumps over\n")
    assert "line 1" in _err(p)


def test_truncated_binary(tmp_path, vecs):
    save_vectors(vecs, tmp_path / "v.bin", format="word2vec-binary")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "t.bin").write_bytes(data[:-10])
    assert "truncated" in _err(tmp_path / "t.bin")
    (tmp_path / "h.bin").write_bytes(data[:4])  # header only
    assert "header promises" in _err(tmp_path / "h.bin")
    (tmp_path / "x.bin").write_bytes(data + b"junk " + b"\0" * 20)
    assert "more data" in _err(tmp_path / "x.bin")


def test_header_promises_more_rows(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("5 2\na 1 2\nb 3 4\n")
    assert "promises 5 words but the file has 2" in _err(p)
    p.write_text("1 2\na 1 2\nb 3 4\n")
    assert "line 3: more rows" in _err(p)


def test_wrong_number_of_values_names_the_line(tmp_path):
    rows = [f"w{i} " + " ".join(["0.5"] * 100) for i in range(60)]
    rows[55] = "w55 " + " ".join(["0.5"] * 99)
    p = tmp_path / "v.txt"
    p.write_text("60 100\n" + "\n".join(rows) + "\n")
    assert "line 57: 99 values, expected 100" in _err(p)
    p.write_text("\n".join(rows) + "\n")  # GloVe: line numbers without a header
    assert "line 56: 99 values, expected 100" in _err(p)
    p.write_text("2 3\na 1 2 3\nb 1 2\n")
    assert "line 3: 2 values, expected 3" in _err(p)


def test_non_numeric_value(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("2 3\na 1 2 3\nb 1 two 3\n")
    assert "line 3: 'two' is not a number" in _err(p)
    p.write_text("a 1 2 3\nb 1 2 x\n")
    assert "line 2: 'x' is not a number" in _err(p)


def test_corrupt_native(tmp_path, vecs):
    save_vectors(vecs, tmp_path / "m", format="native")
    os.unlink(tmp_path / "m" / "vectors.npy")
    with pytest.raises(WordvecError):
        load_vectors(tmp_path / "m")
