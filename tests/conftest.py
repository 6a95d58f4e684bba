"""Test-session set-up: a Numba cache keyed on ALL of wordvec's sources.

Numba's on-disk cache (``cache=True``) is keyed on the source file of the compiled function only,
so editing a helper that a kernel inlines from another module (``current_lr`` in training.py,
the RNG in rng.py, the shared helpers of w2v_kernels.py used by ft_kernels.py) leaves the old
compiled kernel in place and the tests would run old code. Here, before anything imports Numba,
``NUMBA_CACHE_DIR`` is pointed at ``<tmp>/wordvec-test-numba-<fingerprint>``, the fingerprint hashing
every ``wordvec/*.py`` file plus the Python and Numba versions: unchanged sources reuse the
compiled kernels (fast), any edit anywhere gives a fresh cache (correct). Set
``WORDVEC_NUMBA_CACHE_DIR`` to choose the folder yourself (``tools/mutate.py`` does, one fresh
folder per mutation). Folders of other fingerprints unused for a week are removed.
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wordvec"
PREFIX = "wordvec-test-numba-"


def _fingerprint():
    h = hashlib.sha256()
    try:
        numba_version = version("numba")
    except PackageNotFoundError:
        numba_version = "?"
    h.update(f"{sys.version}|{numba_version}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _numba_cache_dir():
    chosen = os.environ.get("WORDVEC_NUMBA_CACHE_DIR")
    if chosen:
        return chosen
    base = Path(tempfile.gettempdir())
    here = base / f"{PREFIX}{_fingerprint()}"
    week_ago = time.time() - 7 * 86400
    for old in base.glob(PREFIX + "*"):
        try:
            if old != here and old.stat().st_mtime < week_ago:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return str(here)


os.environ["NUMBA_CACHE_DIR"] = _numba_cache_dir()
if "numba" in sys.modules:  # imported by a plugin before us: make it read the variable again
    from numba.core.config import reload_config

    reload_config()


# ---- a small disk, for disk-full tests -------------------------------------------------------
@pytest.fixture
def mount_tmpfs(tmp_path):
    """``mount_tmpfs("1m")`` -> a folder on a tmpfs of that size, unmounted after the test.

    Skips where mounting is impossible (not root, or a sandbox that forbids it).
    """
    mounted = []

    def mount(size):
        if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("mounting a tmpfs needs root")
        folder = tmp_path / f"tmpfs-{len(mounted)}"
        folder.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


# ---- a hard timeout for tests that wait on a Dask cluster ---------------------------------------
# pytest-timeout is not a dependency: a SIGALRM in the main thread fails a test (its setup, call
# and teardown, each) that runs past its limit, with every thread's traceback on stderr, so a
# hang fails instead of blocking CI. The tests of test_distributed*.py files get a limit of
# CLUSTER_TIMEOUT seconds unless marked with another.
CLUSTER_TIMEOUT = 300


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "hard_timeout(seconds): fail the test (setup, call, teardown) when it runs "
                   "longer than this instead of hanging (SIGALRM, where there is one)")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name.startswith("test_distributed") and \
                item.get_closest_marker("hard_timeout") is None:
            item.add_marker(pytest.mark.hard_timeout(CLUSTER_TIMEOUT))


@contextlib.contextmanager
def _alarm(item, when):
    import signal
    import threading
    marker = item.get_closest_marker("hard_timeout")
    if marker is None or not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return
    seconds = float(marker.args[0])

    def expired(signum, frame):
        import faulthandler
        faulthandler.dump_traceback(all_threads=True)  # where it hung (stderr)
        pytest.fail(f"hard timeout: the test's {when} ran longer than {seconds:g} s", pytrace=False)

    before = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _alarm(item, "setup"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _alarm(item, "call"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    with _alarm(item, "teardown"):
        yield
