"""Where Numba caches wordvec's compiled kernels, so that a read-only install runs.

The kernels are compiled with ``cache=True``. Numba stores the cache in ``__pycache__`` beside
the source, or else in ``~/.cache/numba``; when neither is writable (a system package, a
container image, a shared cluster install used by an account whose HOME is not writable) every
decorated function fails with "cannot cache function ...: no locator available".

:func:`configure` runs when the package is imported, before any wordvec module imports numba.
If ``NUMBA_CACHE_DIR`` is not set and the package folder is not writable, it points the cache
at the first usable per-user folder of

1. ``$XDG_CACHE_HOME/wordvec/numba``, or ``~/.cache/wordvec/numba``;
2. ``<temp dir>/wordvec-numba-<uid>``, created 0700 and used only if it is a real folder (not
   a symbolic link) owned by this user and not open to others;

and if none is usable, turns caching off (each run compiles again, slower to start) with one
line of warning. A set ``NUMBA_CACHE_DIR`` is always respected.
"""

import os
import stat
import sys
import tempfile

_done = []


def _usable(folder):
    """Create ``folder`` if needed and check that a file can be created in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        return True
    except (OSError, ValueError):
        return False


def _private_temp_folder():
    """A per-user folder in the temp dir, 0700, owned by this user, not a symlink; or None."""
    if not hasattr(os, "getuid"):
        return None
    uid = os.getuid()
    folder = os.path.join(tempfile.gettempdir(), f"wordvec-numba-{uid}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
        return None  # a symlink, a file, someone else's, or writable by others: not ours to use
    return folder if _usable(folder) else None


def _package_writable(package_dir):
    """Whether Numba's default place (``__pycache__`` beside the sources) is writable."""
    cache = os.path.join(package_dir, "__pycache__")
    if os.path.isdir(cache):
        return os.access(cache, os.W_OK | os.X_OK)
    return os.access(package_dir, os.W_OK | os.X_OK)


def _user_folders():
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        yield os.path.join(xdg, "wordvec", "numba")
    home = os.path.expanduser("~")
    if home and home != "~" and os.path.isabs(home):
        yield os.path.join(home, ".cache", "wordvec", "numba")


def choose(package_dir):
    """The cache folder to use: None for Numba's default, "" for no cache at all."""
    if os.environ.get("NUMBA_CACHE_DIR") or _package_writable(package_dir):
        return None
    for folder in _user_folders():
        if _usable(folder):
            return folder
    folder = _private_temp_folder()
    return folder if folder else ""


def configure(package_dir=None):
    """Point Numba's cache at a writable folder when the install is read-only (once)."""
    if _done:
        return _done[0]
    package_dir = package_dir or os.path.dirname(os.path.abspath(__file__))
    try:
        folder = choose(package_dir)
    except Exception:  # noqa: BLE001 - never stop the import over a cache location
        folder = None
    _done.append(folder)
    if folder is None:
        return None
    if folder:
        os.environ["NUMBA_CACHE_DIR"] = folder
        config = sys.modules.get("numba.core.config")
        if config is not None:  # numba already imported: it read the environment already
            config.CACHE_DIR = folder
        return folder
    _disable_cache()
    return folder


def _disable_cache():
    """No writable folder anywhere: compile without a cache (one line of warning)."""
    try:
        from numba.core.dispatcher import Dispatcher
        Dispatcher.enable_caching = lambda self: None  # cache=True becomes a no-op
    except Exception:  # noqa: BLE001 - without it numba reports the missing cache itself
        return
    try:
        print("wordvec: warning: no writable cache folder (set NUMBA_CACHE_DIR): compiling "
              "without a cache, so every start is slower", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
