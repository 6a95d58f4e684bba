"""The default corpus and the evaluation datasets are package data: inside ``wordvec/``,
listed in setup.cfg's package_data, so a wheel (not only an editable install) has them.

The wheel itself is built, installed into a fresh venv and run by ``.ci/run``.
"""

import configparser
import fnmatch
import lzma
import os

import pytest
from click.testing import CliRunner

import wordvec
from wordvec import api, resources
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.evaluate import DATASETS, dataset_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.dirname(os.path.abspath(wordvec.__file__))


def _inside_package(path):
    return os.path.commonpath([os.path.abspath(path), PACKAGE]) == PACKAGE


def test_bundled_corpus_is_inside_the_package():
    path = resources.bundled_corpus()
    assert os.path.isfile(path) and _inside_package(path)
    with lzma.open(path, "rt", encoding="utf-8") as f:
        head = [f.readline() for _ in range(200)]
    tokens = " ".join(head).split()
    assert len(tokens) > 5_000 and all(w.isalpha() and w.islower() for w in tokens)


def test_train_defaults_to_the_packaged_corpus():
    """``wordvec.train()`` and ``wordvec train`` with no corpus read the packaged file."""
    assert api.bundled_corpus() == resources.bundled_corpus()
    # the CLI counts the default corpus among its inputs, which no output may overwrite
    result = CliRunner().invoke(cli, ["train", "-q", "-o", resources.BUNDLED_CORPUS])
    assert result.exit_code != 0
    assert "it is an input of this command" in result.output


def test_datasets_are_inside_the_package():
    for name in DATASETS:
        assert dataset_path(name) == resources.eval_data(name)
        assert _inside_package(dataset_path(name))


def _glob_match(path, pattern):
    """setuptools' package_data glob: ``*`` never crosses a ``/`` (unlike fnmatch's)."""
    parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pattern_parts))


def test_setup_cfg_ships_every_data_file():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"), encoding="utf-8")
    patterns = [p.strip() for p in cfg["options.package_data"]["wordvec"].split(",")]
    data = os.path.join(PACKAGE, "data")
    files = sorted(os.path.relpath(os.path.join(root, f), data).replace(os.sep, "/")
                   for root, _, names in os.walk(data) for f in names if not f.startswith("."))
    assert os.path.basename(resources.bundled_corpus()) in files
    unshipped = [f for f in files if not any(_glob_match("data/" + f, p) for p in patterns)]
    assert not unshipped, f"wordvec/data files missing from setup.cfg package_data: {unshipped}"


def test_missing_files_are_one_line_errors(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "BUNDLED_CORPUS", str(tmp_path / "gone.txt.xz"))
    with pytest.raises(WordvecError, match="bundled corpus .* is missing") as e:
        resources.bundled_corpus()
    assert "\n" not in str(e.value) and "name a corpus file" in str(e.value)
    monkeypatch.setattr(resources, "DATA_DIR", str(tmp_path))
    with pytest.raises(WordvecError, match="bundled dataset .* is missing"):
        dataset_path("EN-SIMLEX-999")
