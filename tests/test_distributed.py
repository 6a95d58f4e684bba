"""Counting on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread), no mocks.

The corpus is the bundled one split into 6 shards (two gzip, one xz): the cluster's counts must be
bit-identical to the single-machine ones, also when a worker is killed while it counts, and when
the shards are given as fsspec ``file://`` URLs.
"""

import gzip
import lzma
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("fsspec")

from click.testing import CliRunner  # noqa: E402

from wordvec import distributed as wd  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.encode import count_words  # noqa: E402
from wordvec.errors import WordvecError  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "wordvec" / "data" / "gutenberg-pd.txt.xz"
N_SHARDS = 6
SUFFIX = {1: ".gz", 3: ".xz", 4: ".gz"}


def _shard_texts():
    lines = lzma.open(BUNDLED, "rt", encoding="utf-8").read().splitlines(keepends=True)
    step = -(-len(lines) // N_SHARDS)
    return ["".join(lines[i:i + step]) for i in range(0, len(lines), step)]


@pytest.fixture(scope="module")
def texts():
    return _shard_texts()


@pytest.fixture(scope="module")
def shards(tmp_path_factory, texts):
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for i, text in enumerate(texts):
        ext = SUFFIX.get(i, "")
        p = folder / f"shard-{i:02d}.txt{ext}"
        data = text.encode("utf-8")
        p.write_bytes(gzip.compress(data) if ext == ".gz" else lzma.compress(data) if ext == ".xz"
                      else data)
        paths.append(str(p))
    return paths


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _same(a, b):
    assert a.words == b.words
    assert a.counts.dtype == b.counts.dtype == np.int64
    assert np.array_equal(a.counts, b.counts)
    assert a.raw_tokens == b.raw_tokens
    assert a.pruned_words == b.pruned_words == 0


@pytest.mark.parametrize("kwargs", [dict(min_count=1), dict(min_count=5, lowercase=True)])
def test_vocabulary_identical_to_one_machine(client, shards, kwargs):
    one = count_words(shards, **kwargs)
    many = wd.count_words(shards, client, **kwargs)
    _same(one, many)
    # ties are ordered by the word: most words share their count with others here
    assert len(set(many.counts.tolist())) < len(many) // 10


def test_max_vocab_cut_inside_a_tie(client, shards):
    full = count_words(shards, min_count=1)
    cut = 1000 + int(np.flatnonzero(full.counts[1000:] == full.counts[999:-1])[0])
    assert full.counts[cut - 1] == full.counts[cut]  # the cut splits words of equal count
    _same(count_words(shards, min_count=3, max_vocab=cut),
          wd.count_words(shards, client, min_count=3, max_vocab=cut))


def test_fsspec_file_urls_globs_and_folders(client, shards):
    folder = os.path.dirname(shards[0])
    one = count_words(shards, min_count=2)
    urls = [f"file://{p}" for p in shards]
    _same(one, wd.count_words(urls, client, min_count=2))
    _same(one, wd.count_words([f"file://{folder}/shard-0*"], client, min_count=2))
    _same(one, wd.count_words([f"file://{folder}"], client, min_count=2))
    _same(one, wd.count_words([os.path.join(folder, "shard-0*")], client, min_count=2))  # quoted glob
    with pytest.raises(WordvecError, match="no files match"):
        wd.count_words([f"file://{folder}/nothing-*"], client)
    with pytest.raises(WordvecError, match="no such file"):
        wd.count_words([f"file://{folder}/nothing.txt"], client)


def test_a_shards_error_is_one_wordvec_error(client, shards, tmp_path):
    bad = tmp_path / "binary.txt"
    bad.write_bytes(b"\x00\x01 abc" * 100)
    with pytest.raises(WordvecError, match="binary"):
        wd.count_words(shards[:2] + [str(bad)], client)
    with pytest.raises(WordvecError, match="stdin"):
        wd.count_words(["-"], client)


def test_a_worker_killed_while_counting_changes_nothing(client, shards, texts, tmp_path):
    """One shard is a named pipe: its task blocks opening it, so the worker running it can be
    killed (SIGKILL) mid-task; the pipe is then fed, and Dask's re-run on a worker reads it."""
    fifo = tmp_path / "shard-fifo.txt"
    os.mkfifo(fifo)
    k = 2
    job = shards[:k] + [str(fifo)] + shards[k + 1:]
    found = {}

    def kill_then_feed():
        deadline = time.monotonic() + 40
        try:
            while time.monotonic() < deadline and "pid" not in found:
                running = client.run(lambda dask_worker: [str(t.key) for t in dask_worker.state.executing])
                for addr, keys in running.items():
                    if any(key.startswith(f"wordvec-count-{k}-") for key in keys):
                        found["pid"] = client.run(os.getpid, workers=[addr])[addr]
                        break
                time.sleep(0.05)
            if "pid" in found:
                os.kill(found["pid"], signal.SIGKILL)
                while time.monotonic() < deadline and os.path.exists(f"/proc/{found['pid']}/status") \
                        and "zombie" not in Path(f"/proc/{found['pid']}/status").read_text():
                    time.sleep(0.05)
        except Exception as e:  # noqa: BLE001 - reported by the test below
            found["error"] = repr(e)
        finally:  # feed the pipe to whoever opens it next (always: the test must not hang)
            while time.monotonic() < deadline:
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                    break
                except OSError:  # no reader yet
                    time.sleep(0.05)
            else:
                fd = os.open(fifo, os.O_RDWR)  # unblocks a reader with nothing: the test fails
            os.set_blocking(fd, True)
            with os.fdopen(fd, "wb") as f:
                f.write(texts[k].encode("utf-8") if "pid" in found else b"")

    killer = threading.Thread(target=kill_then_feed)
    killer.start()
    try:
        many = wd.count_words(job, client, min_count=1)
    finally:
        killer.join()
    assert "error" not in found, found
    assert "pid" in found, "the task reading the pipe was never seen running"
    assert found["pid"] not in client.run(os.getpid).values()  # that worker is gone
    _same(count_words(shards, min_count=1), many)
    client.wait_for_workers(2, timeout=30)


def test_merge_prunes_like_the_scanner():
    a = wd.Table(wd.SEP.join(["a", "b", "c", "d"]), np.array([5, 1, 1, 2]), 9, 0, 1)
    b = wd.Table(wd.SEP.join(["b", "e", "f"]), np.array([3, 1, 1]), 5, 0, 1)
    m = wd.merge_tables(a, b, max_words_table=100)
    assert m.words.split(wd.SEP) == ["a", "b", "c", "d", "e", "f"]
    assert m.counts.tolist() == [5, 4, 1, 2, 1, 1] and m.tokens == 14 and m.pruned == 0
    m = wd.merge_tables(a, b, max_words_table=6)  # 6 words + the sentinel > 6: prune to <= 4.2
    assert m.words.split(wd.SEP) == ["a", "b", "d"] and m.counts.tolist() == [5, 4, 2]
    assert m.pruned == 3 and m.min_reduce == 3


def test_cli_vocab_cluster_local(shards, tmp_path):
    one, many = tmp_path / "one.txt", tmp_path / "many.txt"
    r = CliRunner().invoke(cli, ["vocab", *shards, "-o", str(one)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["vocab", *shards, "-o", str(many), "--cluster", "local",
                                 "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert many.read_bytes() == one.read_bytes()
    r = CliRunner().invoke(cli, ["vocab", shards[0], "--workers", "2"])
    assert r.exit_code == 1 and "--cluster local" in r.output


def test_without_dask_one_line_error(shards):
    """`import wordvec` never imports Dask; without it, --cluster says how to install it."""
    code = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
            "import wordvec, wordvec.cli, wordvec.distributed\n"
            "assert not any(m.startswith(('dask', 'distributed')) and sys.modules[m] is not None "
            "for m in sys.modules)\n"
            "sys.argv = ['wordvec', 'vocab', sys.argv[1], '--cluster', 'local']\n"
            "wordvec.cli.main()\n")
    r = subprocess.run([sys.executable, "-c", code, shards[0]], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'wordvec[dask]'" in lines[0], r.stderr
    r = subprocess.run([sys.executable, "-c", "import sys, wordvec, wordvec.cli, wordvec.encode; "
                        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                        "('dask', 'distributed', 'fsspec')))"], capture_output=True, text=True,
                       timeout=60)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr
