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

import hashlib
import os
import shutil
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

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
