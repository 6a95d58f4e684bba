"""User mistakes get one specific line and agree across commands; 'internal error' means a bug."""

import json

import pytest
from click.testing import CliRunner

from wordvec import native
from wordvec.cli import cli


@pytest.fixture(autouse=True)
def _work(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line(result, code, *patterns):
    assert result.exit_code == code, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


FAST = ["-q", "--dim", "8", "--epochs", "1", "--threads", "1", "--min-count", "1"]


@pytest.mark.parametrize("args, patterns", [
    (["train", "c.txt", "--seed", "-1"], ["--seed", "-1"]),
    (["train", "c.txt", "--threads", "0"], ["--threads", "0"]),
    (["train", "c.txt", "--model", "glove", "--memory", "nan"], ["nan is not a finite number"]),
    (["vocab", "c.txt", "--min-count", "0"], ["--min-count", "0"]),
    (["vocab", "c.txt", "--max-vocab", "-3"], ["--max-vocab"]),
    (["vocab", "c.txt", "--top", "-1"], ["--top"]),
    (["cooccur", "c.txt", "-o", "x.npz", "--threads", "0"], ["--threads"]),
    (["cooccur", "c.txt", "-o", "x.npz", "--memory", "nan"], ["--memory", "nan"]),
    (["cooccur", "c.txt", "-o", "x.npz", "--memory", "-1"], ["--memory"]),
    (["cooccur", "c.txt", "-o", "x.npz", "--window", "0"], ["--window"]),
    (["analogy", "a", "b", "c", "-n", "-1"], ["--topn"]),
    (["similar", "a", "--restrict", "-5"], ["--restrict"]),
    (["eval", "benchmark", "--restrict", "0"], ["--restrict"]),
    (["convert", "m", "x.txt", "--to", "word2vec", "--precision", "-3"], ["--precision"]),
    (["convert", "m", "x.txt", "--to", "word2vec", "--limit", "-2"], ["--limit"]),
    (["nosuch"], ["No such command"]),
])
def test_usage_mistakes_are_one_line_with_exit_2(args, patterns):
    line = one_line(run(*args), 2, *patterns)
    assert "--help" in line  # and it says where to look


def test_api_refuses_negative_topn_and_restrict():
    import numpy as np

    from wordvec.errors import WordvecError
    from wordvec.vectors import Vectors
    v = Vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    for kwargs in ({"topn": -1}, {"topn": 0}, {"restrict": -1}, {"restrict": 0}):
        with pytest.raises(WordvecError, match="positive integer"):
            v.most_similar("a", **kwargs)
        with pytest.raises(WordvecError, match="positive integer"):
            v.analogy("a", "b", "c", method="mul", **kwargs)


def test_api_refuses_a_negative_seed():
    import wordvec
    from wordvec.errors import WordvecError
    with pytest.raises(WordvecError, match="seed"):
        wordvec.train([["a", "b"]] * 10, min_count=1, seed=-1, progress=False)


def test_min_count_message_counts_only_words(tmp_path):
    (tmp_path / "two.txt").write_text("alpha beta\n")
    line = one_line(run("vocab", "two.txt", "--min-count", "5"), 1, "2 tokens", "2 distinct words")
    assert "min_count=5" in line


def test_cooccur_settings_cannot_be_contradicted(tmp_path):
    r = run("cooccur", "c.txt", "-o", "co.npz", "-q", "--min-count", "1", "--window", "3",
            "--no-distance-weighting")
    assert r.exit_code == 0, r.output
    for model in ("glove", "lsa"):
        one_line(run("train", "--model", model, "--cooccur", "co.npz", "-o", "m", "-q",
                     "--window", "5"), 1, "--window", "co.npz", "window = 3")
        one_line(run("train", "--model", model, "--cooccur", "co.npz", "-o", "m", "-q",
                     "--distance-weighting"), 1, "--distance-weighting", "co.npz")
        one_line(run("train", "--model", model, "--cooccur", "co.npz", "-o", "m", "-q",
                     "--memory", "1"), 1, "--memory")
    # the same values are fine, and the model records what the matrix was counted with
    r = run("train", "--model", "lsa", "--cooccur", "co.npz", "-o", "m", "-q", "--window", "3",
            "--dim", "2")
    assert r.exit_code == 0, r.output
    params = native.read_header("m")["params"]
    assert params["window"] == 3 and params["distance_weighting"] is False
    r = run("train", "--model", "glove", "--cooccur", "co.npz", "-o", "g", "-q", "--dim", "4",
            "--epochs", "2")
    assert r.exit_code == 0, r.output
    params = native.read_header("g")["params"]
    assert params["window"] == 3 and params["distance_weighting"] is False


def test_info_json_is_valid(tmp_path):
    assert run("train", "c.txt", "-o", "m", *FAST).exit_code == 0
    header = json.loads(run("info", "m", "--json").output)
    assert header["vocab_size"] > 0
