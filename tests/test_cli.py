"""The command line end to end through click's CliRunner: queries, files, and bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import native
from wordvec.cli import cli
from wordvec.vectors import Vectors


def run(*args, env=None, input=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, input=input)
    return result


def one_line_error(result, pattern):
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    err = result.stderr if hasattr(result, "stderr") else result.output
    lines = [x for x in err.strip().splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert pattern and pattern in lines[0], lines[0]
    assert "internal error" not in lines[0], lines[0]


@pytest.fixture
def model(tmp_path):
    words = ["king", "queen", "man", "woman", "apple", "prince", "princess"]
    m = np.array([[1, 1, 0, 0], [1, -1, 0, 0], [0, 1, .05, 0], [0, -1, .05, 0],
                  [0, 0, 1, 0], [.8, .9, 0, .6], [.8, -.9, 0, .6]], dtype=np.float32)
    v = Vectors(words, m, counts=[70, 60, 50, 40, 30, 20, 10],
                meta={"kind": "sg", "params": {"dim": 4, "window": 5}, "stats": {"wall_seconds": 1.5}})
    path = tmp_path / "vectors"
    native.save(v, path)
    return path


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 10)
    return p


def test_help_reads_like_documentation():
    for cmd in (["--help"], ["train", "--help"], ["analogy", "--help"], ["eval", "--help"],
                ["eval", "benchmark", "--help"], ["convert", "--help"], ["info", "--help"],
                ["similar", "--help"], ["vocab", "--help"], ["cooccur", "--help"]):
        r = run(*cmd)
        assert r.exit_code == 0, (cmd, r.output)
        assert "Example" in r.output or "A typical session" in r.output, cmd


def test_analogy_prints_the_formula_and_answer(model):
    r = run("analogy", "king", "man", "woman", "-m", model, "-n", "3")
    assert r.exit_code == 0, r.output
    assert "king - man + woman" in r.output
    assert r.output.splitlines()[1].split()[1] == "queen"
    r = run("analogy", "king", "man", "woman", "-m", model, "--json", "--method", "mul")
    data = json.loads(r.output)
    assert data["answers"][0]["word"] == "queen" and data["method"] == "mul"


def test_model_defaults_to_env_then_default_path(model, tmp_path, monkeypatch):
    r = run("similar", "king", env={"WORDVEC_MODEL": str(model)})
    assert r.exit_code == 0 and "prince" in r.output
    monkeypatch.chdir(tmp_path)  # ./vectors is the default path
    r = run("similar", "king", "queen", "--json", env={"WORDVEC_MODEL": ""})
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["king"][0]["word"] == "prince" and "queen" in data


def test_missing_model_and_unknown_word(tmp_path, model):
    one_line_error(run("similar", "king", "-m", tmp_path / "nope"), "no model at")
    one_line_error(run("analogy", "king", "man", "emperor", "-m", model), "not in the vocabulary")
    one_line_error(run("similar", "emperor", "-m", model), "not in the vocabulary")


def test_info(model):
    r = run("info", model)
    assert r.exit_code == 0, r.output
    assert "sg vectors, 7 words x 4 dims" in r.output and "window" in r.output
    assert json.loads(run("info", model, "--json").output)["vocab_size"] == 7


def test_convert_roundtrip_and_bad_format(model, tmp_path):
    out = tmp_path / "v.bin"
    r = run("convert", model, out, "--to", "word2vec-binary")
    assert r.exit_code == 0, r.output
    r = run("similar", "king", "-m", out, "--json")
    assert json.loads(r.output)["king"][0]["word"] == "prince"
    r = run("convert", model, tmp_path / "v.txt", "--to", "nonsense")
    assert r.exit_code == 2  # click usage error


def test_corrupt_and_truncated_model_files(model, tmp_path):
    txt = tmp_path / "v.txt"
    run("convert", model, txt, "--to", "word2vec")
    lines = txt.read_text().splitlines()
    bad = tmp_path / "bad-dim.txt"
    bad.write_text("\n".join(lines[:3] + [lines[3].rsplit(" ", 1)[0]] + lines[4:]) + "\n")
    one_line_error(run("similar", "king", "-m", bad), "line 4: 3 values, expected 4")
    binf = tmp_path / "v.bin"
    run("convert", model, binf, "--to", "word2vec-binary")
    trunc = tmp_path / "trunc.bin"
    trunc.write_bytes(binf.read_bytes()[:-30])
    one_line_error(run("similar", "king", "-m", trunc), "truncated word2vec binary file")
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(bytes(range(256)) * 8)  # holds NUL bytes
    one_line_error(run("similar", "king", "-m", garbage), "a binary file, not a text vectors file")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    one_line_error(run("similar", "king", "-m", empty), "empty file, no vectors in it")


def test_vocab_command(corpus, tmp_path):
    out = tmp_path / "vocab.txt"
    r = run("vocab", corpus, "--min-count", "10", "-o", out)
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines()[0] == "the 40"
    data = json.loads(run("vocab", corpus, "--json", "--min-count", "10").output)
    assert data["tokens"] == 120 and data["vocab_size"] == 7


def test_bad_corpus_inputs(tmp_path, corpus):
    one_line_error(run("vocab", tmp_path / "missing.txt"), "no such file")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    one_line_error(run("vocab", empty), "empty")
    one_line_error(run("vocab", corpus, "--min-count", "1000"), "min_count")
    binf = tmp_path / "b.bin"
    binf.write_bytes(b"\x00\x7fELF\x00" * 100)
    one_line_error(run("vocab", binf), "binary")
    one_line_error(run("train", tmp_path / "missing.txt", "-o", tmp_path / "out"), "no such file")
    assert not (tmp_path / "out").exists()


def test_train_option_for_another_model_is_refused(corpus, tmp_path):
    one_line_error(run("train", corpus, "--model", "sg", "--minn", "2", "-o", tmp_path / "o"),
                   "--minn does not apply to --model sg")
    assert not (tmp_path / "o").exists()


def test_eval_on_tiny_datasets(model, tmp_path):
    q = tmp_path / "q.txt"
    q.write_text(": family\nman woman king queen\nman woman prince princess\n"
                 ": gram-x\nman woman apple pear\n")
    r = run("eval", "analogy", q, "-m", model, "--json")
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)["analogy"]["q"]
    assert a["accuracy"] == 1.0 and a["questions"] == 2 and a["total"] == 3
    s = tmp_path / "s.txt"
    s.write_text("king\tman\t5\nking\tprince\t9\nking\tapple\t1\nking\tpear\t3\n")
    r = run("eval", "similarity", s, "-m", model, "--json")
    sim = json.loads(r.output)["similarity"]["s"]
    assert sim["pairs"] == 3 and sim["total"] == 4 and sim["spearman"] == pytest.approx(1.0)
    r = run("eval", "benchmark", "-m", model)
    assert r.exit_code == 0, r.output
    assert "questions-words" in r.output and "EN-SIMLEX-999" in r.output
    data = json.loads(run("eval", "benchmark", "-m", model, "--json").output)
    assert set(data) == {"analogy", "similarity"}
    assert "EN-MEN-TR-3k" in data["similarity"]
    one_line_error(run("eval", "analogy", tmp_path / "none.txt", "-m", model), "none.txt: no such file")


def planted_corpus(path, n=3000, seed=0):
    """Sentences where king/queen and man/woman share contexts with a gender word."""
    rs = np.random.RandomState(seed)
    filler = [f"f{i}" for i in range(30)]
    lines = []
    for _ in range(n):
        g = rs.randint(2)
        royal = ["king", "queen"][g] if rs.rand() < 0.5 else ["man", "woman"][g]
        ctx = ["he", "his", "him"] if g == 0 else ["she", "her", "hers"]
        extra = ["crown", "throne", "palace"] if royal in ("king", "queen") else ["street", "house", "work"]
        words = [royal, *rs.choice(ctx, 2), *rs.choice(extra, 2), *rs.choice(filler, 3)]
        rs.shuffle(words)
        lines.append(" ".join(words))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_then_query_end_to_end(tmp_path, monkeypatch):
    corpus = planted_corpus(tmp_path / "planted.txt")
    monkeypatch.chdir(tmp_path)
    r = run("train", corpus, "--model", "sg", "--dim", "20", "--epochs", "10", "--threads", "1",
            "--quiet", "--format", "word2vec", env={"WORDVEC_MODEL": ""})
    assert r.exit_code == 0, r.output
    assert (tmp_path / "vectors" / "model.json").exists() and (tmp_path / "vectors.txt").exists()
    r = run("analogy", "king", "man", "woman", "--json", env={"WORDVEC_MODEL": ""})
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["answers"][0]["word"] == "queen"
    info = json.loads(run("info", "--json", env={"WORDVEC_MODEL": ""}).output)
    assert info["kind"] == "sg" and info["params"]["dim"] == 20 and info["stats"]["wall_seconds"] > 0
    r = run("eval", "benchmark", "--json", env={"WORDVEC_MODEL": ""})
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.output)) == {"analogy", "similarity"}


@pytest.mark.parametrize("args,message", [
    (["--dim", "-5"], "dim"),
    (["--window", "0"], "window"),
    (["--alpha", "0"], "alpha"),
    (["--negative", "0", "--loss", "ns"], "negative"),
    (["--epochs", "0"], "epochs"),
    (["--min-count", "0"], "--min-count"),
])
def test_train_bad_parameters(tmp_path, args, message):
    corpus = planted_corpus(tmp_path / "planted.txt", n=50)
    r = run("train", corpus, "-o", tmp_path / "out", "--quiet", *args)
    one_line_error(r, message)
    assert not (tmp_path / "out").exists()


def test_python_dash_m_runs_the_command(tmp_path):
    """``python -m wordvec`` is the ``wordvec`` command: same usage, same one-line errors."""
    ok = subprocess.run([sys.executable, "-m", "wordvec", "--help"], capture_output=True, text=True,
                        cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("Usage: wordvec ")
    bad = subprocess.run([sys.executable, "-m", "wordvec", "similar", "gold", "-m", str(tmp_path / "none")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("Error: no model at") and "Traceback" not in bad.stderr
