"""GloVe and LSA reading a folder of co-occurrence row blocks (``wordvec cooccur --cluster
--blocks-dir``): the same matrix and the same vectors as from the gathered ``.npz``, and every
array of the folder checked before use.

The folders are written here by :func:`wordvec.distributed.save_blocks` from a single-machine
matrix (what the cluster writes is tested bit for bit against that matrix in
tests/test_distributed.py), so these tests need no cluster and no Dask.
"""

import json
import lzma
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import api
from wordvec.cli import cli
from wordvec.cooccur import count_cooccurrence
from wordvec.cooccur_file import (
    BLOCKS_FORMAT,
    is_blocks_dir,
    iter_blocks,
    load_blocks,
    load_cooccurrence,
    read_settings,
    save_cooccurrence,
)
from wordvec.encode import encode
from wordvec.errors import WordvecError
from wordvec.formats import load_vectors

BUNDLED = Path(__file__).resolve().parent.parent / "wordvec" / "data" / "gutenberg-pd.txt.xz"
PARAMS = {"window": 4, "symmetric": True, "distance_weighting": True}


def _save_blocks(folder, matrix, vocab, bounds, params=PARAMS, force=False):
    from wordvec.distributed import save_blocks
    blocks = ((b, matrix[lo:hi]) for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])))
    save_blocks(folder, blocks, bounds, vocab, params, force=force)


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blocks")
    text = folder / "corpus.txt"
    lines = lzma.open(BUNDLED, "rt", encoding="utf-8").read().splitlines(keepends=True)
    text.write_text("".join(lines[:3000]), encoding="utf-8")
    with encode([str(text)], min_count=3) as enc:
        m = count_cooccurrence(enc, window=4, progress=False)
        vocab = enc.vocab
    npz = folder / "cooc.npz"
    save_cooccurrence(npz, m, vocab, params=PARAMS)
    n = len(vocab)
    bounds = np.array([0, 7, 100, n // 2, n], dtype=np.int64)
    blocks = folder / "cooc-blocks"
    _save_blocks(blocks, m, vocab, bounds)
    return m, vocab, npz, blocks, bounds


def _bits(m):
    return (m.shape, m.indptr.tolist(), m.indices.tolist(), m.data.dtype, m.data.tobytes())


def test_blocks_load_as_the_gathered_matrix(counted):
    m, vocab, npz, blocks, bounds = counted
    a, va, pa = load_cooccurrence(npz, with_params=True)
    b, vb, pb = load_cooccurrence(blocks, with_params=True)
    assert _bits(a) == _bits(b) == _bits(m)
    assert va.words == vb.words and np.array_equal(va.counts, vb.counts) and pa == pb == PARAMS
    assert is_blocks_dir(blocks) and not is_blocks_dir(npz)
    assert read_settings(blocks) == PARAMS
    got = [(lo, hi, blk.shape) for lo, hi, blk in iter_blocks(blocks)]
    assert got == [(int(lo), int(hi), (int(hi - lo), len(vocab)))
                   for lo, hi in zip(bounds[:-1], bounds[1:])]


@pytest.mark.parametrize("model, params", [
    ("glove", dict(dim=8, epochs=3, threads=1, seed=3)),
    ("lsa", dict(dim=8, threads=1, seed=3)),
])
def test_glove_and_lsa_from_blocks_equal_from_npz(counted, model, params):
    _, vocab, npz, blocks, _ = counted
    a = api.train(model=model, cooccur=str(npz), progress=False, **params)
    b = api.train(model=model, cooccur=str(blocks), progress=False, **params)
    assert a.words == b.words == vocab.words
    assert np.array_equal(a.matrix, b.matrix)


def test_cli_train_takes_a_blocks_folder(counted, tmp_path):
    _, vocab, npz, blocks, _ = counted
    out = {}
    for name, src in (("npz", npz), ("blocks", blocks)):
        path = tmp_path / name
        r = CliRunner().invoke(cli, ["train", "--model", "lsa", "--cooccur", str(src), "--dim", "6",
                                     "--threads", "1", "-o", str(path), "-q"])
        assert r.exit_code == 0, r.output
        out[name] = load_vectors(str(path))
    assert np.array_equal(out["npz"].matrix, out["blocks"].matrix)
    # the folder's recorded window is adopted; a contradicting option is refused
    r = CliRunner().invoke(cli, ["train", "--model", "glove", "--cooccur", str(blocks),
                                 "--window", "9", "-o", str(tmp_path / "g"), "-q"])
    assert r.exit_code == 1 and "contradicts" in r.output and "window = 4" in r.output


# ---- hostile folders ---------------------------------------------------------------------------
def _copy(blocks, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(blocks, dst)
    return dst


def _edit_index(folder, fn):
    path = folder / "blocks.json"
    meta = json.loads(path.read_text())
    fn(meta)
    path.write_text(json.dumps(meta))


def _rewrite_block(folder, name, **changes):
    path = folder / name
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _setp(meta, key, value):
    meta["params"][key] = value


def _block(meta, i, key, value):
    meta["blocks"][i][key] = value


INDEX_CASES = [
    (lambda m: m.update(format="other"), "not a wordvec blocks index"),
    (lambda m: m.update(shape=[5, 6]), "field 'shape'"),
    (lambda m: m.update(shape=[True, True]), "field 'shape'"),
    (lambda m: m.update(blocks={}), "field 'blocks' must be a list"),
    (lambda m: _block(m, 1, "file", "../cooc.npz"), "not a block file name"),
    (lambda m: _block(m, 1, "file", "/etc/passwd"), "not a block file name"),
    (lambda m: _block(m, 1, "rows", [8, 100]), "do not continue"),
    (lambda m: _block(m, 1, "rows", [7, 7]), "do not continue"),
    (lambda m: _block(m, 3, "rows", [m["blocks"][3]["rows"][0], 10**9]), "do not continue"),
    (lambda m: m["blocks"].pop(), "cover rows"),
    (lambda m: _block(m, 0, "nnz", -1), "field 'nnz'"),
    (lambda m: _block(m, 0, "nnz", 1), "the index says 1"),
    (lambda m: _block(m, 2, "file", m["blocks"][1]["file"]), "listed twice"),
    (lambda m: _setp(m, "window", 0), "window must be an integer"),
    (lambda m: _setp(m, "symmetric", "yes"), "symmetric must be true or false"),
]


@pytest.mark.parametrize("edit, message", INDEX_CASES)
def test_a_bad_index_is_one_error(counted, tmp_path, edit, message):
    folder = _copy(counted[3], tmp_path)
    _edit_index(folder, edit)
    with pytest.raises(WordvecError, match=message):
        load_blocks(folder)


def test_bad_files_in_the_folder(counted, tmp_path):
    m, vocab, _, blocks, bounds = counted
    n = len(vocab)
    b1 = m[int(bounds[1]):int(bounds[2])]
    cases = [
        (dict(format=np.array("wordvec-cooccur-1")), "not a wordvec co-occurrence block"),
        (dict(rows=np.array([0, 100])), "field 'rows'"),
        (dict(shape=np.array([93, n + 1])), "field 'shape'"),
        (dict(data=b1.data.astype(np.int64)), "floating-point"),
        (dict(data=np.where(np.arange(b1.nnz) == 3, np.nan, b1.data)), "NaN"),
        (dict(data=-b1.data), "negative"),
        (dict(indices=np.where(np.arange(b1.nnz) == 5, n, b1.indices)), "outside 0.."),
        (dict(indptr=b1.indptr[::-1].copy()), "indptr"),
        (dict(data=np.array([None] * b1.nnz, dtype=object)), "field 'data'"),
    ]
    name = "block-00001.npz"
    for change, message in cases:
        folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
        shutil.copytree(blocks, folder)
        _rewrite_block(folder, name, **change)  # (np.savez pickles an object array)
        with pytest.raises(WordvecError, match=message) as e:
            load_blocks(folder)
        assert name in str(e.value)
    # a missing block, a symbolic link for a block, a file that is no zip
    folder = tmp_path / "missing"
    shutil.copytree(blocks, folder)
    os.remove(folder / name)
    with pytest.raises(WordvecError, match="missing"):
        load_blocks(folder)
    os.symlink(blocks / name, folder / name)
    with pytest.raises(WordvecError, match="missing"):
        load_blocks(folder)
    os.remove(folder / name)
    (folder / name).write_bytes(b"not a zip")
    with pytest.raises(WordvecError, match="not a zip"):
        load_blocks(folder)


def test_bad_vocabulary_or_index_file(counted, tmp_path):
    blocks = counted[3]
    folder = _copy(blocks, tmp_path)
    lines = (folder / "vocab.txt").read_text().splitlines()
    (folder / "vocab.txt").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(WordvecError, match="vocab.txt holds"):
        load_blocks(folder)
    (folder / "vocab.txt").write_text("\n".join(lines[:-1] + ["x -3"]) + "\n")
    with pytest.raises(WordvecError, match="vocab.txt"):
        load_blocks(folder)
    shutil.copy(blocks / "vocab.txt", folder / "vocab.txt")
    (folder / "blocks.json").write_text("{not json")
    with pytest.raises(WordvecError, match="not valid JSON"):
        load_blocks(folder)
    (folder / "blocks.json").write_bytes(b"\xff\xfe")
    with pytest.raises(WordvecError, match="not valid JSON"):
        load_blocks(folder)
    os.remove(folder / "blocks.json")
    with pytest.raises(WordvecError, match="not a co-occurrence blocks folder"):
        load_cooccurrence(folder)
    assert json.loads((blocks / "blocks.json").read_text())["format"] == BLOCKS_FORMAT
