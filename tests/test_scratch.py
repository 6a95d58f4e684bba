"""Scratch names and stale clean-up, full disks, hostile corpus files, empty training, the
Numba cache location of a read-only install, and one-line errors with progress on."""

import bz2
import errno
import gzip
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from wordvec import _numba_cache, diskio, scratch
from wordvec.corpus import iter_chunks
from wordvec.encode import encode
from wordvec.errors import WordvecError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _write_corpus(path, lines=300, width=10, n_words=40):
    with open(path, "w") as f:
        for i in range(lines):
            f.write(" ".join(f"w{(i * 3 + k * k) % n_words}" for k in range(width)) + "\n")
    return path


@pytest.fixture
def tmpdir_env(tmp_path, monkeypatch):
    """tempfile's folder (TMPDIR) pointed at a fresh folder."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# ---- scratch names and stale clean-up -----------------------------------------------------
def test_scratch_folder_is_tagged_private_and_removed(tmp_path, tmpdir_env):
    corpus = _write_corpus(tmp_path / "c.txt")
    enc = encode(str(corpus), min_count=1)
    name = os.path.basename(enc.folder)
    assert re.fullmatch(r"wordvec-corpus-" + re.escape(scratch.tag()) + r"-[A-Za-z0-9_]+", name)
    assert stat.S_IMODE(os.stat(enc.folder).st_mode) == 0o700
    enc.close()
    assert os.listdir(tmpdir_env) == []


def test_stale_scratch_of_dead_processes_only_is_removed(tmp_path, tmpdir_env, capsys):
    hb = scratch._host() + scratch._boot()
    dead = _dead_pid()
    live = os.getppid()
    names = {
        "dead-corpus": f"wordvec-corpus-{hb}-{dead}-123-abc12345",
        "dead-cooccur": f"wordvec-cooccur-{hb}-{dead}-123-x_y",
        "live": f"wordvec-corpus-{hb}-{live}-{scratch._start_time(live) or 0}-abc",
        "other-host": f"wordvec-corpus-deadbeef{scratch._boot()}-{dead}-123-abc",
        "untagged": "wordvec-corpus-abc12345",
        "not-ours": f"something-{hb}-{dead}-123-abc",
    }
    for n in names.values():
        (tmpdir_env / n).mkdir()
        (tmpdir_env / n / "scratch.int32").write_bytes(b"\0" * 1000)
    capsys.readouterr()
    enc = encode(str(_write_corpus(tmp_path / "c.txt")), min_count=1)
    enc.close()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "removed stale scratch" in err[0] and "2 items" in err[0], err
    left = sorted(os.listdir(tmpdir_env))
    assert left == sorted(v for k, v in names.items() if not k.startswith("dead")), left


def test_cooccurrence_scratch_is_tagged_and_stale_chunks_go(tmp_path, tmpdir_env, capsys):
    from wordvec.cooccur import count_cooccurrence
    spill = tmp_path / "spill"
    spill.mkdir()
    stale = spill / f"wordvec-cooccur-{scratch._host()}{scratch._boot()}-{_dead_pid()}-9-q1"
    stale.mkdir()
    with encode(str(_write_corpus(tmp_path / "c.txt", lines=2000, n_words=400)),
                min_count=1) as enc:
        capsys.readouterr()
        seen = []
        real_mkdtemp = tempfile.mkdtemp

        def mkdtemp(*a, **k):
            seen.append(real_mkdtemp(*a, **k))
            return seen[-1]
        try:
            tempfile.mkdtemp = mkdtemp
            m = count_cooccurrence(enc, window=5, memory_gb=1e-5, threads=2, progress=False,
                                   tmpdir=str(spill))
        finally:
            tempfile.mkdtemp = real_mkdtemp
    assert m.count_stats["spills"] > 0
    assert re.fullmatch(r"wordvec-cooccur-" + re.escape(scratch.tag()) + r"-[A-Za-z0-9_]+",
                        os.path.basename(seen[0]))
    assert os.listdir(spill) == []  # the stale folder and this run's chunks are gone
    assert len(capsys.readouterr().err.splitlines()) == 1


# ---- full disks -----------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_writing_names_the_path_on_a_full_device():
    with pytest.raises(WordvecError, match="^no space left on device while writing X$"):
        with diskio.writing("X"), open("/dev/full", "wb") as f:
            np.zeros(100_000).tofile(f)  # numpy: "N requested and M written", no errno
    with pytest.raises(WordvecError, match="no space left on device while writing Y; hint"):
        with diskio.writing("Y", "; hint"), open("/dev/full", "wb") as f:
            f.write(b"x" * 10)  # Python: ENOSPC when the buffer is flushed at close
    with pytest.raises(WordvecError, match="while writing Q"):
        with diskio.writing("Q"):
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
    with pytest.raises(FileNotFoundError):  # other errors pass unchanged
        with diskio.writing("Z"):
            open("/nonexistent/x", "rb")


@pytest.fixture
def small_tmpfs(mount_tmpfs):
    """A 1 MB tmpfs (root only, where mounting is allowed)."""
    return mount_tmpfs("1m")


def test_full_scratch_disk_is_one_clear_error(tmp_path, small_tmpfs, monkeypatch):
    corpus = _write_corpus(tmp_path / "c.txt", lines=30_000, width=20)  # 2.4 MB of ids
    monkeypatch.setattr(tempfile, "tempdir", str(small_tmpfs))
    with pytest.raises(WordvecError) as e:
        encode(str(corpus), min_count=1)
    msg = str(e.value)
    assert msg.startswith(f"no space left on device while writing the scratch corpus in "
                          f"{small_tmpfs}/wordvec-corpus-"), msg
    assert "set TMPDIR" in msg and "requested" not in msg
    assert os.listdir(small_tmpfs) == []


def test_full_spill_disk_is_one_clear_error(tmp_path, small_tmpfs):
    from wordvec.cooccur import count_cooccurrence
    rng = np.random.default_rng(1)
    with open(tmp_path / "c.txt", "w") as f:
        for row in rng.integers(0, 3000, size=(4000, 25)):
            f.write(" ".join(f"w{i}" for i in row) + "\n")
    with encode(str(tmp_path / "c.txt"), min_count=1, workdir=str(tmp_path / "enc")) as enc:
        with pytest.raises(WordvecError) as e:
            count_cooccurrence(enc, window=10, memory_gb=1e-5, threads=2, progress=False,
                               tmpdir=str(small_tmpfs))
    msg = str(e.value)
    assert msg.startswith("no space left on device while writing the co-occurrence chunks in "
                          f"{small_tmpfs}/wordvec-cooccur-"), msg
    assert os.listdir(small_tmpfs) == []


# ---- corpus files ---------------------------------------------------------------------------
def _corrupt_files(tmp_path):
    text = b"alpha beta gamma delta\n" * 20_000
    files = {}
    for ext, compress in ((".gz", lambda d: gzip.compress(d, mtime=0)), (".bz2", bz2.compress),
                          (".xz", lzma.compress)):
        data = compress(text)
        files[f"truncated{ext}"] = data[:len(data) // 2]
        flipped = bytearray(data)
        for i in range(len(data) // 3, len(data) // 3 + 40, 7):
            flipped[i] ^= 0xA5
        files[f"flipped{ext}"] = bytes(flipped)
        files[f"tail{ext}"] = data[:-6] + bytes(b ^ 0xFF for b in data[-6:])
    block = bytearray(gzip.compress(text, mtime=0))
    block[10] |= 0x06  # a reserved deflate block type: zlib.error, not an OSError
    files["blocktype.gz"] = bytes(block)
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    return paths


def test_corrupt_compressed_corpus_is_one_line_naming_the_file(tmp_path):
    for path in _corrupt_files(tmp_path):
        with pytest.raises(WordvecError) as e:
            for _ in iter_chunks(str(path)):
                pass
        assert str(path) in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(WordvecError) as e:
            encode(str(path), min_count=1)
        assert str(path) in str(e.value)


def test_nul_bytes_are_whitespace_not_words_nor_line_ends(tmp_path):
    path = tmp_path / "nul.txt"
    head = "a b c\n" * 1000  # past the first 4 KB, which are checked for binary content
    path.write_bytes((head + "x\0y \0 z\n\0\nq r\0\n").encode())
    with encode(str(path), min_count=1) as enc:
        sentences = [[enc.vocab.words[i] for i in s] for s in enc.sentences()]
        assert sentences[1000:] == [["x", "y", "z"], ["q", "r"]]
        assert not any("\0" in w for w in enc.vocab.words)
        assert sorted(enc.vocab.words) == ["a", "b", "c", "q", "r", "x", "y", "z"]
        lengths = np.diff(enc.offsets)
        assert list(lengths[-2:]) == [3, 2] and enc.n_sentences == 1002


# ---- nothing to train -----------------------------------------------------------------------
def test_one_word_lines_train_nothing_and_say_so(tmp_path):
    from wordvec.fasttext import train_fasttext
    from wordvec.glove import train_glove
    from wordvec.lsa import train_lsa
    from wordvec.word2vec import train_word2vec
    path = tmp_path / "one.txt"
    path.write_text("".join(f"w{i % 30}\n" for i in range(600)))
    with encode(str(path), min_count=1) as enc:
        for model in ("sg", "cbow"):
            with pytest.raises(WordvecError, match="nothing to train"):
                train_word2vec(enc, model=model, dim=4, epochs=1, progress=False)
        with pytest.raises(WordvecError, match="nothing to train"):
            train_fasttext(enc, dim=4, epochs=1, bucket=100, eos=False, progress=False)
        with pytest.raises(WordvecError, match="nothing to train"):
            train_glove(enc, dim=4, epochs=1, progress=False)
        with pytest.raises(WordvecError, match="nothing to train"):
            train_lsa(enc, dim=4, progress=False)


def test_cli_errors_are_one_line_with_progress_on(tmp_path):
    """Without -q, stderr a pipe: no bar fragments, only the message."""
    path = tmp_path / "one.txt"
    path.write_text("".join(f"w{i % 30}\n" for i in range(600)))
    for model in ("sg", "glove"):
        r = subprocess.run([sys.executable, "-m", "wordvec.cli", "train", str(path), "--model",
                            model, "--min-count", "1", "--dim", "4", "-o", str(tmp_path / "o")],
                           capture_output=True, text=True, cwd=tmp_path,
                           env=dict(os.environ, PYTHONPATH=ROOT, TMPDIR=str(tmp_path)))
        assert r.returncode == 1
        assert len(r.stderr.splitlines()) == 1 and "nothing to train" in r.stderr, r.stderr


# ---- the Numba cache of a read-only install -------------------------------------------------
def test_numba_cache_location(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(_numba_cache, "_package_writable", lambda d: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _numba_cache.choose("pkg") == str(tmp_path / "xdg" / "wordvec" / "numba")
    # no writable user folder: a private folder in the temp dir
    monkeypatch.setattr(_numba_cache, "_user_folders", lambda: [])
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    chosen = _numba_cache.choose("pkg")
    assert chosen == str(tmp / f"wordvec-numba-{os.getuid()}")
    assert stat.S_IMODE(os.lstat(chosen).st_mode) == 0o700
    # a symlink or a folder open to others planted there is not used: no cache at all
    shutil.rmtree(chosen)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", chosen)
    assert _numba_cache.choose("pkg") == ""
    os.unlink(chosen)
    os.mkdir(chosen)
    os.chmod(chosen, 0o777)
    assert _numba_cache.choose("pkg") == ""
    # an explicit NUMBA_CACHE_DIR, or a writable package, is left to Numba
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert _numba_cache.choose("pkg") is None


def test_no_cache_anywhere_runs_with_one_warning(tmp_path):
    code = ("import wordvec._numba_cache as c; c._disable_cache()\n"
            "from numba import njit\n"
            "@njit(cache=True)\n"
            "def f(x):\n    return x + 1\n"
            "assert f(1) == 2\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr
    assert len(r.stderr.splitlines()) == 1 and "without a cache" in r.stderr
