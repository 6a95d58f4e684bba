"""``--to projector``: the TensorFlow Embedding Projector's tensors.tsv + metadata.tsv folder."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import native
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.formats import describe, detect, load_vectors, save_vectors
from wordvec.vectors import Vectors

WORDS = ["the", "of", "été", "naïve", "x1", "Paris", "a\u00a0b"]  # (U+00A0 is no TSV separator)


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def vecs():
    rng = np.random.default_rng(11)
    m = rng.standard_normal((len(WORDS), 6)).astype(np.float32)
    m[1] *= 1e-8
    m[2] *= 1e6
    return Vectors(WORDS, m, counts=np.arange(len(WORDS), 0, -1))


def read_projector(folder):
    assert sorted(os.listdir(folder)) == ["metadata.tsv", "tensors.tsv"]
    tensors = np.loadtxt(os.path.join(folder, "tensors.tsv"), delimiter="\t", dtype=np.float64, ndmin=2)
    with open(os.path.join(folder, "metadata.tsv"), encoding="utf-8", newline="") as f:
        text = f.read()
    assert text.endswith("\n")
    return tensors, text[:-1].split("\n")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused(result, *patterns):
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


def test_files_parse_back_to_the_vectors_and_words(tmp_path, vecs):
    out = tmp_path / "proj"
    save_vectors(vecs, out, "projector")
    tensors, words = read_projector(out)
    assert words == WORDS  # one word a line, no header line, in the model's order
    assert tensors.shape == (7, 6)
    np.testing.assert_allclose(tensors, vecs.matrix, rtol=5e-6, atol=0)
    with open(out / "tensors.tsv") as f:
        first = f.readline().rstrip("\n").split("\t")
    assert len(first) == 6 and first[0] == f"{float(vecs.matrix[0, 0]):.6g}"
    save_vectors(vecs, out, "projector", precision=9)
    tensors, _ = read_projector(out)
    assert np.array_equal(tensors.astype(np.float32), vecs.matrix)


def test_same_layout_as_gensims_word2vec2tensor(tmp_path, vecs):
    w2t = pytest.importorskip("gensim.scripts.word2vec2tensor")
    save_vectors(vecs, tmp_path / "v.bin", "word2vec-binary")
    w2t.word2vec2tensor(str(tmp_path / "v.bin"), str(tmp_path / "g"), binary=True)
    save_vectors(load_vectors(tmp_path / "v.bin"), tmp_path / "ours", "projector", precision=9)
    assert (tmp_path / "ours" / "metadata.tsv").read_bytes() == (tmp_path / "g_metadata.tsv").read_bytes()
    theirs = np.loadtxt(tmp_path / "g_tensor.tsv", delimiter="\t", dtype=np.float32)
    ours = np.loadtxt(tmp_path / "ours" / "tensors.tsv", delimiter="\t", dtype=np.float32)
    assert np.array_equal(ours, theirs)


def test_cli_limit_keeps_the_most_frequent(tmp_path, vecs):
    model = tmp_path / "model"
    native.save(vecs, model)
    r = run("convert", model, tmp_path / "p", "--to", "projector", "--limit", "3")
    assert r.exit_code == 0, r.output
    assert "3 words x 6 dims written to" in r.output
    tensors, words = read_projector(tmp_path / "p")
    assert words == WORDS[:3]
    np.testing.assert_allclose(tensors, vecs.matrix[:3], rtol=5e-6)
    r = run("convert", model, tmp_path / "p", "--to", "projector", "--precision", "9")
    assert r.exit_code == 0, r.output
    tensors, words = read_projector(tmp_path / "p")
    assert words == WORDS and np.array_equal(tensors.astype(np.float32), vecs.matrix)


def test_write_only(tmp_path, vecs):
    save_vectors(vecs, tmp_path / "p", "projector")
    with pytest.raises(WordvecError, match="writes but does not read"):
        load_vectors(tmp_path / "p", format="projector")
    for fn in (detect, load_vectors, describe):
        with pytest.raises(WordvecError, match="not a wordvec model"):
            fn(tmp_path / "p")
    r = run("convert", tmp_path / "p", tmp_path / "q", "--to", "glove", "--from", "projector")
    assert r.exit_code == 2 and "'projector' is not one of" in r.output
    assert "projector" in run("convert", "--help").output


def test_tab_or_newline_in_a_word_is_refused(tmp_path):
    for bad in ("a\tb", "a\nb", "a\rb"):
        v = Vectors(["ok", bad], np.ones((2, 3), dtype=np.float32))
        with pytest.raises(WordvecError) as e:
            save_vectors(v, tmp_path / "p", "projector")
        msg = str(e.value)
        assert "\n" not in msg and "word 2" in msg and "tab or line break" in msg, msg
        assert not (tmp_path / "p").exists()
    assert os.listdir(tmp_path) == []  # no temporary left behind


# ---- what may be replaced ------------------------------------------------------------------------
def test_a_previous_projector_output_is_replaced(tmp_path, vecs):
    out = tmp_path / "p"
    save_vectors(vecs, out, "projector")
    save_vectors(vecs.head(2), out, "projector")
    assert read_projector(out)[1] == WORDS[:2]
    empty = tmp_path / "empty"
    empty.mkdir()
    save_vectors(vecs, empty, "projector")
    assert read_projector(empty)[1] == WORDS
    assert sorted(os.listdir(tmp_path)) == ["empty", "p", "state"]  # no temporary left behind


def test_user_folders_and_files_are_never_replaced(tmp_path, vecs):
    model = tmp_path / "model"
    native.save(vecs, model)
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("mine")
    for force in ([], ["--force"]):
        refused(run("convert", model, user, "--to", "projector", *force), "not an Embedding Projector export",
                "it holds 'notes.txt'")
    with pytest.raises(WordvecError, match="not an Embedding Projector export"):
        save_vectors(vecs, user, "projector", force=True)
    assert os.listdir(user) == ["notes.txt"] and (user / "notes.txt").read_text() == "mine"
    # a folder holding files named like the projector's, not written by wordvec
    lookalike = tmp_path / "lookalike"
    lookalike.mkdir()
    (lookalike / "tensors.tsv").write_text("1\t2\n")
    refused(run("convert", model, lookalike, "--to", "projector", "--force"), "'tensors.tsv' was not written")
    assert (lookalike / "tensors.tsv").read_text() == "1\t2\n"
    # a file is never replaced by a projector folder, --force or not
    f = tmp_path / "file"
    f.write_text("data")
    refused(run("convert", model, f, "--to", "projector", "--force"), "is a file, not a folder")
    assert f.read_text() == "data"
    # a wordvec model folder is not a projector folder
    refused(run("convert", model, model, "--to", "projector"), "input of this command")
    other = tmp_path / "other"
    native.save(vecs, other)
    refused(run("convert", model, other, "--to", "projector"), "not an Embedding Projector export")
    assert native.is_native(other)


def test_an_edited_or_added_to_projector_output_is_not_replaced(tmp_path, vecs):
    model = tmp_path / "model"
    native.save(vecs, model)
    out = tmp_path / "p"
    assert run("convert", model, out, "--to", "projector").exit_code == 0
    (out / "labels.txt").write_text("mine")
    refused(run("convert", model, out, "--to", "projector", "--force"), "it holds 'labels.txt'")
    assert (out / "labels.txt").read_text() == "mine"
    (out / "labels.txt").unlink()
    with open(out / "metadata.tsv", "a") as f:
        f.write("edited\n")
    refused(run("convert", model, out, "--to", "projector"), "'metadata.tsv' was not written by wordvec")
    assert (out / "metadata.tsv").read_text().endswith("edited\n")


def test_replaceable_never_lets_a_file_become_a_projector_folder(tmp_path):
    # (the check made again at the moment of the exchange, after check_output's)
    from wordvec.io_util import _replaceable
    f = tmp_path / "file"
    f.write_text("data")
    assert _replaceable(str(f), True, "model") and not _replaceable(str(f), True, "projector")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "tensors.tsv").write_text("1\n")
    assert not _replaceable(str(tmp_path / "d"), True, "projector")


def test_concurrent_saves_all_complete_and_leave_nothing(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    code = textwrap.dedent("""
        import sys, numpy as np
        from wordvec.formats import save_vectors
        from wordvec.vectors import Vectors
        v = Vectors(["a", "b", "c"], np.full((3, 4), float(sys.argv[2]), np.float32))
        for i in range(int(sys.argv[3])):
            save_vectors(v, sys.argv[1], "projector")
    """)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(work / "p"), str(k), "60"], env=env,
                              stderr=subprocess.PIPE, text=True) for k in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert os.listdir(work) == ["p"]
    tensors, words = read_projector(work / "p")
    assert words == ["a", "b", "c"] and float(tensors[0, 0]) in (1.0, 2.0)
