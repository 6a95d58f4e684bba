"""Crafted and corrupt files: one clear line naming the file, exit 1; never a traceback, a crash
(segfault), a hang, an "internal error", or training on garbage (issue 9, section 2).

One test per class, through the command line where a user would meet it.
"""

import gzip
import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from wordvec import native
from wordvec.cli import cli
from wordvec.cooccur import load_cooccurrence, save_cooccurrence
from wordvec.errors import WordvecError
from wordvec.evaluate import read_analogies, read_pairs
from wordvec.fasttext import FastTextVectors
from wordvec.formats import MAX_WORD_BYTES, describe, load_vectors
from wordvec.vectors import Vectors
from wordvec.vocab import Vocabulary

WORDS = ["king", "queen", "man", "woman", "apple"]
MATRIX = (np.arange(20, dtype=np.float32).reshape(5, 4) + 1) / 7
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, *patterns):
    """Exit 1, exactly one stderr line, no traceback or internal error, every pattern in it."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "internal error" not in line and "Traceback" not in result.output, line
    assert "allow_pickle" not in line and "pickled" not in line, line
    for p in patterns:
        assert p, "a specific pattern, please"
        assert p in line, (p, line)
    return line


# ---- 1. co-occurrence .npz -------------------------------------------------------------------------
@pytest.fixture
def npz(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 5, (5, 5)).astype(np.float64) + 1
    path = tmp_path / "co.npz"
    save_cooccurrence(path, sp.csr_matrix(dense + dense.T), Vocabulary(WORDS, [50, 40, 30, 20, 10]),
                      {"window": 2, "symmetric": True, "distance_weighting": True})
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return path, arrays


def _crafted(tmp_path, arrays, name, **changes):
    z = {k: v for k, v in arrays.items() if changes.get(k, 0) is not None}
    z.update({k: v for k, v in changes.items() if v is not None})
    path = tmp_path / name
    with open(path, "wb") as f:
        np.savez(f, **z)
    return path


def test_crafted_indices_never_reach_the_kernels(tmp_path, npz):
    """indices of 2,000,000,000 or -5 segfaulted glove/lsa (rc 139): now exit 1, one line.

    Run as real processes: a segfault would show as a negative return code.
    """
    _, arrays = npz
    cases = []
    for name, value in (("big.npz", 2_000_000_000), ("neg.npz", -5)):
        idx = arrays["indices"].copy()
        idx[3] = value
        cases.append((_crafted(tmp_path, arrays, name, indices=idx), str(value)))
    procs = []
    for path, value in cases:
        for model, extra in (("glove", ["--epochs", "1"]), ("lsa", [])):
            cmd = [sys.executable, "-m", "wordvec.cli", "train", "--model", model, "--cooccur",
                   str(path), "-o", str(tmp_path / f"out-{model}"), "--dim", "2", "-q", *extra]
            procs.append((path, value, subprocess.Popen(
                cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONPATH": ROOT})))
    for path, value, p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 1, (p.returncode, err)  # (not -11: no segfault)
        lines = [x for x in err.splitlines() if x.strip()]
        assert len(lines) == 1, err
        assert str(path) in lines[0] and "field 'indices'" in lines[0] and value in lines[0]
        assert not os.path.exists(tmp_path / "out-glove") and not os.path.exists(tmp_path / "out-lsa")


def test_corrupt_cooccurrence_fields_one_line(tmp_path, npz):
    good, arrays = npz
    idx = arrays["indices"]
    ptr = arrays["indptr"].copy()
    ptr[2], ptr[3] = ptr[3], ptr[2]
    data = arrays["data"].copy()
    data[1] = np.nan
    neg = arrays["data"].copy()
    neg[0] = -1
    cases = [
        (dict(indptr=ptr), "field 'indptr' decreases"),
        (dict(data=data), "field 'data'"),
        (dict(data=neg), "negative"),
        (dict(data=arrays["data"].astype(str)), "field 'data'"),
        (dict(indices=idx.astype(np.float64)), "field 'indices'"),
        (dict(indices=None), "no 'indices' array"),
        (dict(words=np.arange(5)), "field 'words'"),
        (dict(counts=-arrays["counts"]), "field 'counts'"),
        (dict(shape=np.array([5, 5, 5])), "field 'shape'"),
        (dict(params=np.array("[" * 100000 + "]" * 100000)), "nested too deeply"),
        (dict(params=np.array("[1, 2]")), "must be a JSON object"),
        (dict(params=np.array('{"window": "ten"}')), "window must be an integer"),
        (dict(data=np.zeros(len(idx), dtype=[("a", "<f8")])), "unsupported array type"),
        (dict(data=np.array([object()] * len(idx), dtype=object)), "never loads"),
    ]
    for i, (changes, pattern) in enumerate(cases):
        path = _crafted(tmp_path, arrays, f"bad{i}.npz", **changes)
        for model in ("glove", "lsa"):
            one_line_error(run("train", "--model", model, "--cooccur", path, "-o",
                               tmp_path / "out", "--dim", "2", "-q"), str(path), pattern)
    # not an .npz at all: say so, without numpy's "allow_pickle" advice
    for name, content in (("text.npz", b"hello\n"), ("pickle.npz", b"\x80\x04\x95..."),
                          ("empty.npz", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        one_line_error(run("train", "--model", "glove", "--cooccur", path, "-o", tmp_path / "o",
                           "-q"), str(path), "not a co-occurrence .npz")
    truncated = tmp_path / "trunc.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    one_line_error(run("train", "--model", "lsa", "--cooccur", truncated, "-o", tmp_path / "o",
                       "-q", "--dim", "2"), str(truncated), "corrupt")


def test_unsorted_and_duplicate_cells_are_canonicalised(tmp_path, npz):
    _, arrays = npz
    idx, data = arrays["indices"].copy(), arrays["data"].copy()
    idx[[0, 1]], data[[0, 1]] = idx[[1, 0]], data[[1, 0]]  # the same cells, unsorted in row 0
    m, _ = load_cooccurrence(_crafted(tmp_path, arrays, "unsorted.npz", indices=idx, data=data))
    assert m.has_canonical_format
    ref, _ = load_cooccurrence(tmp_path / "co.npz")
    assert (m != ref).nnz == 0  # the same matrix
    idx = arrays["indices"].copy()
    idx[1] = idx[0]  # a duplicate cell: summed
    m, _ = load_cooccurrence(_crafted(tmp_path, arrays, "dup.npz", indices=idx))
    assert m.has_canonical_format and m.nnz == ref.nnz - 1
    assert m.sum() == pytest.approx(ref.sum())


def test_matrix_given_from_python_is_checked(npz):
    from wordvec.glove import train_glove
    from wordvec.lsa import train_lsa
    _, arrays = npz
    vocab = Vocabulary(WORDS, [50, 40, 30, 20, 10])
    idx = arrays["indices"].copy()
    idx[0] = 2_000_000_000
    bad = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(5, 5))
    bad.indices = idx  # (scipy does not check what is assigned)
    nan = sp.csr_matrix((arrays["data"].copy(), arrays["indices"], arrays["indptr"]),
                        shape=(5, 5))
    nan.data[2] = np.nan
    for trainer, kw in ((train_glove, {"epochs": 1}), (train_lsa, {})):
        with pytest.raises(WordvecError, match="column index 2000000000"):
            trainer(None, cooccur=(bad, vocab), dim=2, progress=False, **kw)
        with pytest.raises(WordvecError, match="NaN or infinity"):
            trainer(None, cooccur=(nan, vocab), dim=2, progress=False, **kw)
        with pytest.raises(WordvecError, match="does not match a vocabulary"):
            trainer(None, cooccur=(sp.csr_matrix((3, 3)), vocab), dim=2, progress=False, **kw)
        with pytest.raises(WordvecError, match="Vocabulary"):
            trainer(None, cooccur=(bad, WORDS), dim=2, progress=False, **kw)
    ok = train_glove(None, cooccur=(sp.coo_matrix(np.ones((5, 5))), vocab), dim=2, epochs=1,
                     progress=False)  # other sparse formats are checked, then converted
    assert np.isfinite(ok.matrix).all()


# ---- 2. native model folder --------------------------------------------------------------------------
@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model"
    native.save(Vectors(WORDS, MATRIX, counts=[5, 4, 3, 2, 1], meta={"kind": "sg"}), path)
    return path


def _variant(base, tmp_path, name, header=None, files=None):
    path = tmp_path / name
    shutil.copytree(base, path)
    if header is not None:
        h = json.loads((path / native.HEADER).read_text())
        header(h)
        (path / native.HEADER).write_text(json.dumps(h))
    for fname, content in (files or {}).items():
        if isinstance(content, np.ndarray):
            np.save(path / fname, content, allow_pickle=True)  # (object arrays on purpose)
        else:
            (path / fname).write_bytes(content)
    return path


def _set(key, value):
    return lambda h: h.__setitem__(key, value)


def test_native_folder_checked_before_use(tmp_path, model):
    nan = MATRIX.copy()
    nan[2, 1] = np.nan
    npy = (model / "vectors.npy").read_bytes()
    cases = [
        (dict(header=_set("dim", "4")), "model.json: field 'dim' must be an integer"),
        (dict(header=_set("vocab_size", 5.0)), "field 'vocab_size'"),
        (dict(header=_set("format_version", "1")), "field 'format_version'"),
        (dict(header=_set("params", [1, 2])), "field 'params' must be a JSON object"),
        (dict(header=_set("class", 3)), "field 'class' must be a string"),
        (dict(header=_set("arrays", ["vectors.npy"])), "field 'arrays'"),
        (dict(header=_set("arrays", {"vectors": "../model/vectors.npy"})), "plain file name"),
        (dict(files={"model.json": b'{"format": "wordvec", "a": ' + b"[" * 100000 + b"]" * 100000
                     + b"}"}), "nested too deeply"),
        (dict(files={"vectors.npy": np.zeros(5, dtype=[("a", "<f4", (4,))])}), "vectors.npy"),
        (dict(files={"vectors.npy": np.array([object()] * 5)}), "never loads"),
        (dict(files={"vectors.npy": b"not numpy\n" * 20}), "not a .npy array"),
        (dict(files={"vectors.npy": np.array([["a"] * 4] * 5)}), "vectors.npy"),
        (dict(files={"vectors.npy": np.ones((4, 4), np.float32)}), "vectors.npy"),
        (dict(files={"vectors.npy": npy.replace(b"(5, 4)", b"(99999999999, 4)")}),
         "header promises shape (99999999999, 4)"),
        (dict(files={"vectors.npy": nan}), "row 3 holds NaN or infinity"),
        (dict(files={"vocab.txt": b"king 5\nqueen 4\nking 3\nwoman 2\napple 1\n"}),
         "the word 'king' is also on line 1"),
        (dict(files={"vocab.txt": b"king 5\nqueen -4\nman 3\nwoman 2\napple 1\n"}),
         "vocab.txt: line 2"),
        (dict(files={"vocab.txt": b"king 5\nqueen 4\nman 3\nwoman 2\n"}), "vocab.txt: 4 lines"),
        (dict(files={"vocab.txt": b"king 5\nqueen 4\nman 3\nwoman 2\napple 1\nextra 1\n"}),
         "vocab.txt: line 6"),
        (dict(files={"vocab.txt": b"king 5\nqu\xffeen 4\nman 3\nwoman 2\napple 1\n"}),
         "vocab.txt: line 2: not UTF-8"),
    ]
    for i, (change, pattern) in enumerate(cases):
        path = _variant(model, tmp_path, f"m{i}", **change)
        one_line_error(run("similar", "king", "-m", path), str(path), pattern)
        if "vocab.txt" not in str(change) and "NaN" not in pattern:  # info reads headers only
            one_line_error(run("info", path), str(path))


def test_fasttext_fields_checked(tmp_path):
    base = tmp_path / "ft"
    native.save(FastTextVectors(WORDS, MATRIX, np.ones((10, 4), np.float32), 3, 6, 10,
                                counts=[5, 4, 3, 2, 1]), base)

    def field(k, v):
        return lambda h: h["fields"].__setitem__(k, v)
    cases = [
        (dict(header=field("minn", "3")), "field 'minn' must be an integer"),
        (dict(header=field("minn", 9)), "minn 9 and maxn 6"),
        (dict(header=field("maxn", 10**30)), "maxn"),
        (dict(header=field("bucket", 10.5)), "field 'bucket'"),
        (dict(header=field("bucket", 7)), "n-gram matrix of shape (10, 4)"),
        (dict(files={"ngrams.npy": np.full((10, 4), np.inf, np.float32)}),
         "ngrams.npy: row 1 holds NaN or infinity"),
        (dict(files={"ngrams.npy": np.ones((10, 4), np.int64)}), "floating point"),
    ]
    for i, (change, pattern) in enumerate(cases):
        path = _variant(base, tmp_path, f"f{i}", **change)
        one_line_error(run("similar", "king", "-m", path), str(path), pattern)


# ---- 3. vectors files: non-finite values, header lies ----------------------------------------------
def _text(rows, header=True):
    body = "".join(f"{w} {' '.join(vals)}\n" for w, vals in rows)
    return (f"{len(rows)} {len(rows[0][1])}\n" if header else "") + body


def test_non_finite_values_name_the_line(tmp_path):
    good = [(w, [f"{x:.4f}" for x in r]) for w, r in zip(WORDS, MATRIX)]
    for i, value in enumerate(("nan", "inf", "-inf", "1e39", "-1e39")):
        rows = [list(r) for r in good]
        rows[2] = (rows[2][0], ["0.5", value, "1", "2"])
        for header, suffix in ((True, ".txt"), (False, ".glove.txt"), (True, ".txt.gz")):
            path = tmp_path / f"v{i}{suffix}"
            text = _text(rows, header).encode()
            path.write_bytes(gzip.compress(text) if suffix.endswith(".gz") else text)
            line = 4 if header else 3
            one_line_error(run("similar", "king", "-m", path), str(path), f"line {line}",
                           f"value 2 ('{value}')")
    path = tmp_path / "nan.bin"
    m = MATRIX.copy()
    m[1, 3] = np.nan
    path.write_bytes(b"5 4\n" + b"".join(w.encode() + b" " + r.astype("<f4").tobytes() + b"\n"
                                         for w, r in zip(WORDS, m)))
    one_line_error(run("similar", "king", "-m", path), str(path), "word 2 ('queen')", "NaN")


def test_headers_checked_against_the_file_size(tmp_path):
    rows = b"".join(w.encode() + b" " + r.astype("<f4").tobytes() + b"\n"
                    for w, r in zip(WORDS, MATRIX))
    liar = tmp_path / "liar.bin"  # 4.7 MB "holding 99,999,999,999 words"
    liar.write_bytes(b"99999999999 4\n" + rows + random.Random(7).randbytes(4_700_000))
    for args in (("info", liar), ("similar", "king", "-m", liar)):
        one_line_error(run(*args), str(liar), "header promises 99,999,999,999 words",
                       "the file holds")
    wide = tmp_path / "wide.bin"
    wide.write_bytes(b"5 100000000000\n" + rows)
    one_line_error(run("similar", "king", "-m", wide), str(wide), "dimension 100,000,000,000")
    text = tmp_path / "liar.txt"
    text.write_text("99999999999 4\n" + "".join(f"{w} 1 2 3 4\n" for w in WORDS))
    one_line_error(run("info", text), str(text), "header promises 99,999,999,999 words")
    one_line_error(run("similar", "king", "-m", text), str(text), "header promises",
                   "but the file has 5")
    gz = tmp_path / "liar.bin.gz"  # compressed: no preallocation, the data ends first
    gz.write_bytes(gzip.compress(b"1000000000 4\n" + rows))
    one_line_error(run("info", gz), str(gz), "more than a compressed file")
    one_line_error(run("similar", "king", "-m", gz), str(gz), "the data ends in word 6")
    gzwide = tmp_path / "wide.bin.gz"
    gzwide.write_bytes(gzip.compress(b"2 10000000000\n" + rows))
    one_line_error(run("similar", "king", "-m", gzwide), str(gzwide), "truncated")
    with pytest.raises(WordvecError, match="header promises 99,999,999,999 words"):
        describe(liar)


# ---- 4. what wordvec writes, wordvec reads -------------------------------------------------------
def test_writer_and_reader_agree(tmp_path, model):
    odd = ["a\u00a0b", "x" * 2000, "\u2028z", "é\x1c", "plain"]
    v = Vectors(odd, MATRIX)
    src = tmp_path / "odd"
    native.save(v, src)
    for fmt, name in (("word2vec", "o.txt"), ("word2vec-binary", "o.bin"), ("glove", "o.glove"),
                      ("glove", "o.glove.gz"), ("word2vec-binary", "o.bin.gz"),
                      ("native", "o-native")):
        r = run("convert", src, tmp_path / name, "--to", fmt, "--precision", "9")
        assert r.exit_code == 0, r.output
        back = load_vectors(tmp_path / name)
        assert back.words == odd, fmt
        assert np.array_equal(np.asarray(back.matrix), MATRIX), fmt
        r = run("similar", "a\u00a0b", "-m", tmp_path / name, "-n", "1")
        assert r.exit_code == 0, r.output
    for bad, what in (("a\x00b", "word 2"), ("a b", "word 2"), ("a\tb", "word 2"), ("", "word 2"),
                      ("y" * (MAX_WORD_BYTES + 1), "longer than")):
        src = tmp_path / f"bad{len(bad)}"
        native.save(Vectors(["ok", bad, "z", "w", "u"], MATRIX), src)
        for fmt in ("word2vec", "word2vec-binary", "glove"):
            out = tmp_path / f"out-{fmt}"
            line = one_line_error(run("convert", src, out, "--to", fmt), what)
            assert "cannot write" in line
            assert not out.exists()


# ---- 5. vocabulary and evaluation files ------------------------------------------------------------
def test_vocabulary_file_checked(tmp_path):
    cases = [(b"the 10\ncat -3\n", ":2: count '-3'"), (b"the 10\ncat 1e5\n", ":2: count '1e5'"),
             (b"the 10\ncat 99999999999999999999999\n", ":2: count"),
             (b"the 4611686018427387904\ncat 4611686018427387904\n", "too large"),
             (b"the 10\ncat\x00 3\n", ":2: a NUL byte"), (b"the 10\nc\xffat 3\n", ":2: not UTF-8"),
             (b"the 10\nthe 3\n", "also on line 1"), (b"the 10\ncat \xd9\xa3\n", ":2: count")]
    for i, (content, pattern) in enumerate(cases):
        path = tmp_path / f"v{i}.txt"
        path.write_bytes(content)
        with pytest.raises(WordvecError) as e:
            Vocabulary.load(path)
        assert str(path) in str(e.value) and pattern in str(e.value), str(e.value)
        assert "\n" not in str(e.value)
    ok = tmp_path / "ok.txt"
    ok.write_text("a\u00a0b 3\ncat 0\n")
    assert Vocabulary.load(ok).words == ["a\u00a0b", "cat"]


def test_evaluation_files_checked(tmp_path, model):
    cases = [
        ("similarity", b"king queen nan\nman woman 3\n", "line 1", "not finite"),
        ("similarity", b"king queen 1e999\n", "line 1", "not finite"),
        ("similarity", b"king queen 3\nman woman \x00\x01\n", "line 2", "NUL"),
        ("similarity", b"king queen 3\nman w\xffoman 4\n", "line 2", "not UTF-8"),
        ("analogy", b": s\nking queen man\n", "line 2", "expected 4 words"),
        ("analogy", b": s\nking queen man woman\n\x00\x00\x00", "line 3", "NUL"),
        ("analogy", bytes(range(0x80, 0xc0)) + b"\xff\xfe", "", "not UTF-8"),  # no NUL byte
    ]
    for i, (kind, content, where, pattern) in enumerate(cases):
        path = tmp_path / f"e{i}.txt"
        path.write_bytes(content)
        line = one_line_error(run("eval", kind, path, "-m", model), str(path), pattern)
        assert where in line
    pairs = tmp_path / "nbsp.txt"
    pairs.write_text("a\u00a0b\tking\t3\nman woman 4\n")
    assert read_pairs(pairs)[0] == ("a\u00a0b", "king", 3.0)
    questions = tmp_path / "q.txt"
    questions.write_text(": s\na\u00a0b queen man woman\n")
    assert read_analogies(questions)[0][1][0][0] == "a\u00a0b"


def test_every_writer_refuses_what_its_reader_cannot_give_back(tmp_path):
    with pytest.raises(WordvecError, match="word 2"):
        Vocabulary(["a", "b c"], [2, 1]).save(tmp_path / "v.txt")
    with pytest.raises(WordvecError, match="line break"):
        native.save(Vectors(["a", "b\nc"], np.eye(2, dtype=np.float32)), tmp_path / "m")
    assert not os.path.exists(tmp_path / "v.txt") and not os.path.exists(tmp_path / "m")


def test_word2vec_model_output_weights_checked(tmp_path):
    from wordvec.word2vec import Word2Vec
    corpus = [["a", "b", "c", "d"]] * 20
    model = Word2Vec(corpus, min_count=1, dim=4, epochs=1, threads=1)
    model.save(tmp_path / "m")
    assert Word2Vec.load(tmp_path / "m").C.shape == model.C.shape
    np.save(tmp_path / "m" / "output.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(WordvecError, match="output weights of shape"):
        Word2Vec.load(tmp_path / "m")
    np.save(tmp_path / "m" / "output.npy", np.full(model.C.shape, np.nan, np.float32))
    with pytest.raises(WordvecError, match="output.npy: row 1 holds NaN"):
        Word2Vec.load(tmp_path / "m")
