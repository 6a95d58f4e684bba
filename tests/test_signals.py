"""Signals end to end: a real `python -m wordvec.cli train` is stopped at each phase.

SIGTERM (and SIGINT) must clean up exactly as Ctrl-C does: exit 128 + signum (143 / 130), one
line on stderr, nothing left in TMPDIR or beside the output. SIGKILL cannot be handled: its
scratch stays, and the next run removes it with one line. Each test waits for the phase it
targets by watching TMPDIR (the scratch corpus, its finished encoding, the co-occurrence
chunks), so it does not depend on the machine's speed.
"""

import glob
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_SG = ["--model", "sg", "--dim", "8", "--epochs", "40", "--threads", "2", "-q"]
TRAIN_GLOVE = ["--model", "glove", "--dim", "8", "--epochs", "40", "--threads", "2",
               "--window", "15", "--memory", "0.002", "-q"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """1M tokens of Zipf-distributed words, 20 a line (about 4 MB)."""
    folder = tmp_path_factory.mktemp("signals")
    rng = np.random.default_rng(0)
    n_words = 5000
    p = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, size=1_000_000, p=p / p.sum()).reshape(-1, 20)
    words = np.array([f"w{i}" for i in range(n_words)])
    path = folder / "corpus.txt"
    with open(path, "w") as f:
        f.write("\n".join(" ".join(row) for row in words[ids]))
        f.write("\n")
    small = folder / "small.txt"
    with open(small, "w") as f:
        f.write("\n".join(" ".join(row) for row in words[ids[:500] % 50]))
        f.write("\n")
    return path, small


def _start(workdir, tmpdir, corpus, args):
    env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONPATH=ROOT)
    env.pop("WORDVEC_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "wordvec.cli", "train", str(corpus),
                             "-o", str(workdir / "out"), *args],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for(proc, condition, timeout=60):
    t0 = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (rc {proc.returncode}) before the phase: {err}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            proc.communicate()
            pytest.fail("the phase was not reached")
        time.sleep(0.01)


def _phase(tmpdir, phase):
    if phase == "encoding":  # the scratch corpus is being written
        return lambda: glob.glob(str(tmpdir / "wordvec-corpus-*" / "scratch.int32"))
    if phase == "training":  # encoding is done (its last file is written)
        return lambda: glob.glob(str(tmpdir / "wordvec-corpus-*" / "offsets.npy"))
    if phase == "cooccurrence":  # the spill folder exists
        return lambda: glob.glob(str(tmpdir / "wordvec-cooccur-*"))
    if phase == "glove-training":  # counted: the spill folder came and went
        seen = []

        def done():
            now = glob.glob(str(tmpdir / "wordvec-cooccur-*"))
            if now:
                seen.append(1)
            return bool(seen) and not now
        return done
    raise AssertionError(phase)


def _setup(tmp_path):
    work, tmpdir = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmpdir.mkdir()
    return work, tmpdir


def _stop(proc, signum, delay):
    time.sleep(delay)
    t0 = time.monotonic()
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the run did not stop within 30 s of the signal")
    return out, err, time.monotonic() - t0


@pytest.mark.parametrize("args,phase,delay", [
    (TRAIN_SG, "encoding", 0.0),
    (TRAIN_SG, "training", 0.3),
    (TRAIN_GLOVE, "cooccurrence", 0.05),
    (TRAIN_GLOVE, "glove-training", 0.2),
], ids=["sg-encoding", "sg-training", "glove-cooccurrence", "glove-training"])
def test_sigterm_cleans_up_at_every_phase(tmp_path, corpus, args, phase, delay):
    work, tmpdir = _setup(tmp_path)
    proc = _start(work, tmpdir, corpus[0], args)
    _wait_for(proc, _phase(tmpdir, phase))
    out, err, seconds = _stop(proc, signal.SIGTERM, delay)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.splitlines() == ["Error: terminated"] or err.splitlines() == ["terminated"], err
    assert os.listdir(tmpdir) == []  # no scratch corpus, no co-occurrence chunks
    assert os.listdir(work) == []  # nothing beside the output, no output
    assert seconds < 10


def test_sigint_exits_130_and_cleans_up(tmp_path, corpus):
    work, tmpdir = _setup(tmp_path)
    proc = _start(work, tmpdir, corpus[0], TRAIN_SG)
    _wait_for(proc, _phase(tmpdir, "training"))
    out, err, _ = _stop(proc, signal.SIGINT, 0.2)
    assert proc.returncode == 130, err
    assert len(err.splitlines()) == 1 and "interrupted" in err, err
    assert os.listdir(tmpdir) == [] and os.listdir(work) == []


def test_sigkill_leaves_scratch_that_the_next_run_removes(tmp_path, corpus):
    work, tmpdir = _setup(tmp_path)
    proc = _start(work, tmpdir, corpus[0], TRAIN_GLOVE)
    _wait_for(proc, _phase(tmpdir, "cooccurrence"))
    proc.kill()
    proc.communicate()
    left = sorted(os.listdir(tmpdir))
    # what SIGKILL leaves behind: the encoded corpus, the co-occurrence chunks, GloVe's entries
    assert [name.split("-")[1] for name in left] == ["cooccur", "corpus", "glove"], left
    # a live process's scratch is never touched: this one runs while the dead one's goes
    proc = _start(work, tmpdir, corpus[1], ["--model", "sg", "--dim", "8", "--epochs", "1",
                                            "--min-count", "1", "-q"])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert len(lines) == 1 and "removed stale scratch" in lines[0] and str(tmpdir) in lines[0], err
    assert os.listdir(tmpdir) == []
    assert os.listdir(work) == ["out"]
