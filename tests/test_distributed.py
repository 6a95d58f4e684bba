"""Counting on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread), no mocks.

The corpus is the bundled one split into 6 shards (two gzip, one xz): the cluster's counts must be
bit-identical to the single-machine ones, also when a worker is killed while it counts, and when
the shards are given as fsspec ``file://`` URLs.
"""

import gzip
import lzma
import os
import select
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

# every test waits on a cluster: a hang must fail, not block CI (tests/conftest.py)
pytestmark = pytest.mark.hard_timeout(180)

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


def _open_writer(fifo, deadline, stop=None):
    """The named pipe opened for writing (non-blocking) once a reader has it open; None at the
    deadline or the stop."""
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader yet
            time.sleep(0.02)
    return None


def _write_all(fd, data, deadline, stop=None):
    """Write ``data`` into a non-blocking pipe: True when all is in, False when its reader went
    away or at the deadline or the stop (never blocks: the test must not hang)."""
    view = memoryview(data)
    while view:
        if time.monotonic() > deadline or (stop is not None and stop.is_set()):
            return False
        try:
            view = view[os.write(fd, view[:1 << 16]):]
        except BlockingIOError:  # the pipe is full: wait until the reader takes some
            select.select([], [fd], [], 0.05)
        except BrokenPipeError:
            return False
    return True


def _feed(fifo, data, deadline, stop=None):
    """Write ``data`` into the named pipe for the next reader that opens it."""
    fd = _open_writer(fifo, deadline, stop)
    if fd is None:
        return False
    try:
        return _write_all(fd, data, deadline, stop)
    finally:
        os.close(fd)


def _until_closed(fifo, stop, deadline):
    """Wait until nobody has the named pipe open for reading (the last reader is done)."""
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # (only delays its EOF)
        except OSError:  # no reader
            return
        time.sleep(0.05)


class _Killer(threading.Thread):
    """Feeds ``fifo`` to its first ``before`` readers; then gives the next reader (the task of
    key ``prefix...``) half its text, and once that half is read (the task is counting, blocked
    on the rest), checks that the task is running and SIGKILLs its worker; then feeds every
    reader that comes (the task's re-run, and any task Dask re-runs because its result was on
    the dead worker) until :meth:`check`. Every wait is bounded: it never hangs the test."""

    def __init__(self, client, fifo, data, prefix, before=0):
        super().__init__(daemon=True)
        self.client, self.fifo, self.data, self.prefix, self.before = client, fifo, data, prefix, before
        self.pid = self.error = None
        self.read_before_kill = 0
        self.stop = threading.Event()

    def run(self):
        deadline = time.monotonic() + 60
        try:
            for _ in range(self.before):
                assert _feed(self.fifo, self.data, deadline, self.stop), "an earlier reader was not fed"
                _until_closed(self.fifo, self.stop, deadline)  # (that reader is done with it)
            fd = _open_writer(self.fifo, deadline, self.stop)
            assert fd is not None, "no task opened the shard"
            try:
                half = len(self.data) // 2
                # (returns once the reader has taken all but a pipe's buffer of it)
                assert _write_all(fd, self.data[:half], deadline, self.stop), "the task stopped reading"
                while time.monotonic() < deadline and self.pid is None:
                    running = self.client.run(
                        lambda dask_worker: [str(t.key) for t in dask_worker.state.executing])
                    for addr, keys in running.items():
                        if any(key.startswith(self.prefix) for key in keys):
                            self.pid = self.client.run(os.getpid, workers=[addr])[addr]
                            break
                    else:
                        time.sleep(0.05)
                if self.pid is not None:
                    self.read_before_kill = half
                    os.kill(self.pid, signal.SIGKILL)
                    status = Path(f"/proc/{self.pid}/status")
                    while time.monotonic() < deadline and status.exists() and \
                            "zombie" not in status.read_text():
                        time.sleep(0.05)
            finally:
                os.close(fd)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = repr(e)
        finally:  # feed the re-runs (always, until the test is done: it must not hang)
            end = deadline + 60
            while not self.stop.is_set() and time.monotonic() < end:
                _feed(self.fifo, self.data if self.pid is not None else b"", end, self.stop)
                _until_closed(self.fifo, self.stop, end)

    def check(self):
        self.stop.set()
        self.join(timeout=30)
        assert not self.is_alive(), "the killer thread did not finish"
        assert self.error is None, self.error
        assert self.pid is not None, f"no task {self.prefix}... was seen running"
        assert 0 < self.read_before_kill < len(self.data)  # killed in the middle of its shard
        assert self.pid not in self.client.run(os.getpid).values()  # that worker is gone
        self.client.wait_for_workers(2, timeout=30)  # (its nanny starts a new one)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="named pipes and /proc")
def test_a_worker_killed_while_counting_changes_nothing(client, shards, texts, tmp_path):
    """One shard is a named pipe: its task reads half of it and waits for the rest, so the
    worker running it is killed (SIGKILL) mid-task; the pipe is then fed again, and Dask's
    re-run on a worker reads it."""
    fifo = tmp_path / "shard-fifo.txt"
    os.mkfifo(fifo)
    k = 2
    killer = _Killer(client, fifo, texts[k].encode("utf-8"), f"wordvec-count-{k}-")
    killer.start()
    try:
        many = wd.count_words(shards[:k] + [str(fifo)] + shards[k + 1:], client, min_count=1)
    finally:
        killer.check()
    _same(count_words(shards, min_count=1), many)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="named pipes and /proc")
def test_a_worker_killed_while_counting_cooccurrences_changes_nothing(client, shards, texts, tmp_path):
    from wordvec.cooccur import count_cooccurrence
    from wordvec.encode import encode
    fifo = tmp_path / "shard-fifo.txt"
    os.mkfifo(fifo)
    k = 1
    killer = _Killer(client, fifo, texts[k].encode("utf-8"), f"wordvec-cooccur-{k}-", before=1)
    killer.start()
    try:  # (the pipe is read twice: the vocabulary, then the co-occurrences)
        many, _ = wd.count_cooccurrence(shards[:k] + [str(fifo)] + shards[k + 1:3], client,
                                        window=5)
    finally:
        killer.check()
    with encode(shards[:3], min_count=5) as enc:
        assert _bits(count_cooccurrence(enc, window=5, progress=False)) == _bits(many)


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


# ---- co-occurrences ---------------------------------------------------------------------------
def _bits(m):
    return (m.shape, m.indptr.dtype, m.indptr.tolist(), m.indices.dtype, m.indices.tobytes(),
            m.data.dtype, m.data.tobytes())


@pytest.fixture(scope="module")
def odd_shards(tmp_path_factory):
    """An empty shard and one whose words are all below min-count: a shard may hold nothing."""
    folder = tmp_path_factory.mktemp("odd")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "rare.txt").write_text("zqxj1 zqxj2\nzqxj3\n")
    return [str(folder / "empty.txt"), str(folder / "rare.txt")]


@pytest.mark.parametrize("take, kwargs", [
    (6, dict(window=5, min_count=5)),
    (3, dict(window=4, symmetric=False, distance_weighting=False, min_count=3, lowercase=True)),
    (2, dict(window=25, min_count=10, max_vocab=3000, row_blocks=7, memory_gb=0.01)),  # weights
])                                                   # scaled by 2**32 (window > 22), chunks spilled
def test_cooccurrence_identical_to_one_machine(client, shards, odd_shards, take, kwargs):
    from wordvec.cooccur import count_cooccurrence
    from wordvec.encode import encode
    job = shards[:1] + odd_shards + shards[1:take]
    counting = {k: kwargs[k] for k in ("min_count", "max_vocab", "lowercase") if k in kwargs}
    params = {k: v for k, v in kwargs.items() if k not in counting and k != "row_blocks"}
    with encode(job, **counting) as enc:
        one = count_cooccurrence(enc, threads=2, progress=False, **params)
        vocab = enc.vocab
    if "memory_gb" in kwargs:
        assert one.count_stats["spills"] > 0
    many, many_vocab = wd.count_cooccurrence(job, client, **kwargs)
    assert many_vocab.words == vocab.words and np.array_equal(many_vocab.counts, vocab.counts)
    assert _bits(many) == _bits(one)


def test_row_bounds_balance_the_work():
    counts = np.array([1000, 500, 100, 50] + [3] * 96)
    est = np.minimum(counts * 20, 100)
    b = wd.row_bounds(counts, 4, window=10)
    assert b[0] == 0 and b[-1] == 100 and np.all(np.diff(b) > 0) and len(b) == 5
    work = [est[lo:hi].sum() for lo, hi in zip(b[:-1], b[1:])]
    assert max(work) - min(work) <= 2 * est.max()
    assert wd.row_bounds(counts[:2], 8, window=10).tolist() == [0, 1, 2]


def test_cli_cooccur_cluster_blocks_and_gather(shards, tmp_path):
    from wordvec.cooccur_file import load_cooccurrence
    one, many, blocks = tmp_path / "one.npz", tmp_path / "many.npz", tmp_path / "blocks"
    common = [*shards[:2], "--window", "3", "-q"]
    r = CliRunner().invoke(cli, ["cooccur", *common, "-o", str(one)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["cooccur", *common, "-o", str(many), "--cluster", "local",
                                 "--workers", "2", "--row-blocks", "3", "--blocks-dir", str(blocks)])
    assert r.exit_code == 0, r.output
    (a, va, pa), (b, vb, pb) = (load_cooccurrence(p, with_params=True) for p in (one, many))
    assert _bits(a) == _bits(b) and va.words == vb.words and pa == pb
    import json
    listed = json.loads((blocks / "blocks.json").read_text())
    assert listed["format"] == wd.BLOCKS_FORMAT and listed["params"] == pa
    assert sorted(os.listdir(blocks)) == ["block-00000.npz", "block-00001.npz", "block-00002.npz",
                                          "blocks.json", "vocab.txt"]
    for entry in listed["blocks"]:
        lo, hi = entry["rows"]
        z = np.load(blocks / entry["file"])
        assert z["rows"].tolist() == [lo, hi] and z["data"].tobytes() == a[lo:hi].data.tobytes()
        assert z["indices"].tolist() == a[lo:hi].indices.tolist()
    assert (blocks / "vocab.txt").read_text().split()[:4] == [va.words[0], str(va.counts[0]),
                                                             va.words[1], str(va.counts[1])]
    # a folder that is not wordvec's blocks is never replaced; without --cluster, no blocks
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    r = CliRunner().invoke(cli, ["cooccur", *common, "--cluster", "local", "--workers", "1",
                                 "--blocks-dir", str(other)])
    assert r.exit_code == 1 and "not replacing" in r.output and (other / "notes.txt").exists()
    r = CliRunner().invoke(cli, ["cooccur", *common, "-o", str(one), "--blocks-dir", str(blocks)])
    assert r.exit_code == 1 and "--cluster" in r.output


# ---- the worker processes ---------------------------------------------------------------------
def test_local_workers_get_wordvecs_environment(monkeypatch):
    """Numba's and BLAS's threads = the worker's own; glibc's thresholds as a plain process's,
    not Dask's fixed trim threshold; this process's environment unchanged afterwards."""
    for var in wd.THREAD_VARS + ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        # (set in this process, they would win, as in Dask; the `client` fixture's nannies
        # copied Dask's own values here)
        monkeypatch.delenv(var, raising=False)
    before = dict(os.environ)
    with wd.connect("local", workers=1, threads_per_worker=2) as client:
        env, = client.run(lambda: {k: os.environ.get(k) for k in (
            "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")}).values()
        nthreads, = client.run(lambda: __import__("numba").config.NUMBA_NUM_THREADS).values()
    assert env == {"NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
                   "MKL_NUM_THREADS": "2", "MALLOC_TRIM_THRESHOLD_": str(wd.TRIM_THRESHOLD),
                   "MALLOC_MMAP_THRESHOLD_": str(wd.MMAP_THRESHOLD)}
    assert nthreads == 2
    assert dict(os.environ) == before  # (Dask's nanny copies its variables here: put back)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_tune_process_stops_the_mmap_churn_of_a_fixed_trim_threshold():
    """With Dask's MALLOC_TRIM_THRESHOLD_ (as on a worker of `dask worker`), every 1 MB array is
    a fresh mmap, zero-filled page by page; after tune_process it is reused from the heap."""
    code = ("import resource, numpy as np\n"
            "from wordvec import distributed as wd\n"
            "def faults():\n"
            "    r = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "    for _ in range(100):\n"
            "        a = np.ones(1 << 17)\n"  # 1 MB
            "        del a\n"
            "    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r\n"
            "faults()\n"
            "before = faults()\n"
            "wd.tune_process(threads=1)\n"
            "faults()\n"
            "print(before, faults())\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
                            "MALLOC_TRIM_THRESHOLD_": "65536"})
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    assert before > 100 * 200 and after < 1000, (before, after)  # 256 pages a MB


SPAWNED_EARLY = r"""
import numba  # imported again by every spawned worker before Dask sets its environment
import sys
from wordvec import distributed as wd


def task():
    wd.tune_process(1)  # launches Numba's threads (with the count Numba was imported with)
    f = numba.njit(lambda x: x * 3 + 1)  # a kernel compiled after that
    return f(2), numba.config.NUMBA_NUM_THREADS


if __name__ == "__main__":
    with wd.connect("local", workers=1, threads_per_worker=1) as c:
        print(c.submit(task, pure=False).result())
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs Numba's default thread count > 1")
def test_a_worker_whose_numba_came_before_its_environment_compiles(tmp_path):
    # A worker process spawned from a script that imports wordvec (the wordvec command does)
    # imports Numba before Dask gives it NUMBA_NUM_THREADS=1; Numba then ran with a thread per
    # core, and the first kernel compiled after its threads launched failed ("Cannot set
    # NUMBA_NUM_THREADS to a different value once the threads have been launched"): every
    # `wordvec train --cluster local` with a cold compilation cache did.
    script = tmp_path / "spawned_early.py"
    script.write_text(SPAWNED_EARLY)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("(7, ")
