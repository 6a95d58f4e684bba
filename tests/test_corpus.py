import bz2
import gzip
import io
import lzma
import sys

import pytest

import wordvec.encode as enc
from wordvec.corpus import expand_paths, iter_chunks
from wordvec.encode import encode
from wordvec.errors import WordvecError


def sentences(paths, lowercase=False, max_sentence_length=10_000):
    """The sentences the trainers see: wordvec's tokenizer (encode), ids mapped back to words."""
    with encode(paths, min_count=1, lowercase=lowercase, max_sentence_length=max_sentence_length) as c:
        return [[c.vocab.words[i] for i in s] for s in c.sentences()]


def test_lines_are_sentences_and_blank_lines_skipped(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("a b  c\n\n d\te \r\nf\n")
    assert sentences(p) == [["a", "b", "c"], ["d", "e"], ["f"]]


def test_single_line_larger_than_chunk_is_streamed_and_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(enc, "CHUNK_CHARS", 1000)
    words = [f"w{i % 97}" for i in range(25_000)]
    p = tmp_path / "one-line.txt"
    p.write_text(" ".join(words))  # no final newline: one 150 kB line
    out = sentences(p, max_sentence_length=10_000)
    assert [len(s) for s in out] == [10_000, 10_000, 5_000]
    assert sum(out, []) == words  # no token split at a chunk boundary


def test_tokens_split_across_chunks_are_rejoined(tmp_path, monkeypatch):
    p = tmp_path / "c.txt"
    text = "alpha beta gamma\ndelta epsilon\n" * 50
    p.write_text(text)
    for chunk in (1, 3, 7, 64):
        monkeypatch.setattr(enc, "CHUNK_CHARS", chunk)
        assert sentences(p) == [["alpha", "beta", "gamma"], ["delta", "epsilon"]] * 50


@pytest.mark.parametrize("opener,ext", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_inputs(tmp_path, opener, ext):
    p = tmp_path / f"c.txt{ext}"
    with opener(p, "wt") as f:
        f.write("the cat sat\non the mat\n")
    assert sentences(p) == [["the", "cat", "sat"], ["on", "the", "mat"]]


def test_folder_and_several_files(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.txt").write_text("b1 b2\n")
    (tmp_path / "d" / "a.txt").write_text("a1\n")
    (tmp_path / "e.txt").write_text("e1\n")
    out = sentences([tmp_path / "d", tmp_path / "e.txt"])
    assert out == [["a1"], ["b1", "b2"], ["e1"]]


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x y\nz\n")))
    assert sentences("-") == [["x", "y"], ["z"]]


def test_lowercase_and_invalid_utf8(tmp_path):
    p = tmp_path / "c.txt"
    p.write_bytes(b"Hello W\xffrld na\xc3\xafve\n")
    assert sentences(p, lowercase=True) == [["hello", "w\ufffdrld", "naïve"]]


def test_multibyte_character_across_chunk_boundary(tmp_path, monkeypatch):
    p = tmp_path / "c.txt"
    p.write_text("日本語 " * 1000, encoding="utf-8")
    chunks = list(iter_chunks(p, chunk_chars=5))
    assert max(map(len, chunks)) == 5 and "".join(chunks) == "日本語 " * 1000
    monkeypatch.setattr(enc, "CHUNK_CHARS", 5)
    assert sentences(p) == [["日本語"] * 1000]


def test_bad_paths(tmp_path):
    with pytest.raises(WordvecError, match="no such file"):
        expand_paths([tmp_path / "missing.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(WordvecError, match="no files"):
        expand_paths([tmp_path / "empty"])


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "b.bin"
    p.write_bytes(b"\x00\x01\x02binary\x00" * 100)
    with pytest.raises(WordvecError, match="binary"):
        sentences(p)


def test_corrupt_compressed_file(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(b"not gzip at all")
    with pytest.raises(WordvecError, match="cannot read"):
        sentences(p)
