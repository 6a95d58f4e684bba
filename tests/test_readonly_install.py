"""A read-only install, used by an unprivileged user whose HOME is not writable, must run.

The package is copied (without __pycache__) into a root-owned folder the user cannot write and
run as ``nobody`` with ``HOME=/nonexistent``: Numba cannot cache beside the sources nor in
~/.cache, so wordvec must point the cache at a private per-user folder (or run without one,
with at most one line of warning). Skipped where it cannot run (not root, no setpriv/runuser,
no ``nobody`` user, or no Python interpreter that user may execute).
"""

import os
import pwd
import shutil
import site
import stat
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "wordvec")


def _as_user_prefix():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to run a command as another user")
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody'")
    import grp
    group = None
    for name in ("nogroup", "nobody"):
        try:
            group = grp.getgrnam(name).gr_name
            break
        except KeyError:
            pass
    if shutil.which("setpriv") and group:
        return ["setpriv", "--reuid=nobody", f"--regid={group}", "--clear-groups"], user
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"], user
    pytest.skip("neither setpriv nor runuser is available")


def _site_packages():
    paths = [p for p in site.getsitepackages() if os.path.isdir(p)]
    import numpy
    paths.append(os.path.dirname(os.path.dirname(numpy.__file__)))
    return list(dict.fromkeys(paths))


def _interpreter(prefix, env):
    """A Python of this version that the user may run and that imports the dependencies."""
    v = sys.version_info
    candidates = [sys.executable, os.path.realpath(sys.executable),
                  f"/usr/bin/python{v.major}.{v.minor}", f"/usr/local/bin/python{v.major}.{v.minor}"]
    check = (f"import sys; assert sys.version_info[:2] == {tuple(v[:2])!r}; "
             "import numpy, numba, scipy, click, tqdm")
    for exe in dict.fromkeys(candidates):
        if not os.path.isfile(exe):
            continue
        r = subprocess.run([*prefix, exe, "-c", check], env=env, capture_output=True, text=True,
                           timeout=120)
        if r.returncode == 0:
            return exe
    pytest.skip("no Python interpreter of this version that user nobody may run")


@pytest.fixture
def readonly_install():
    prefix, user = _as_user_prefix()
    base = tempfile.mkdtemp(prefix="wordvec-readonly-test-")
    try:
        os.chmod(base, 0o755)
        install = os.path.join(base, "install")
        shutil.copytree(PACKAGE, os.path.join(install, "wordvec"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for root, _dirs, files in os.walk(install):  # root-owned, readable, not writable by others
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        work = os.path.join(base, "work")
        os.mkdir(work)
        os.chown(work, user.pw_uid, user.pw_gid)
        tmp = os.path.join(work, "tmp")
        os.mkdir(tmp)
        os.chown(tmp, user.pw_uid, user.pw_gid)
        corpus = os.path.join(base, "small.txt")
        words = [f"w{i}" for i in range(60)]
        with open(corpus, "w") as f:
            for i in range(600):
                f.write(" ".join(words[(i * 7 + k * k) % 60] for k in range(12)) + "\n")
        os.chmod(corpus, 0o644)
        env = {"HOME": "/nonexistent", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PYTHONPATH": os.pathsep.join([install, *_site_packages()]),
               "TMPDIR": tmp, "LC_ALL": "C.UTF-8"}
        exe = _interpreter(prefix, env)
        yield {"run": lambda *args: subprocess.run([*prefix, exe, "-m", "wordvec.cli", *args],
                                                   cwd=work, env=env, capture_output=True,
                                                   text=True, timeout=300),
               "corpus": corpus, "work": work, "tmp": tmp, "install": install, "uid": user.pw_uid}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_readonly_install_runs_as_unprivileged_user(readonly_install):
    ro = readonly_install
    out = os.path.join(ro["work"], "out")
    for _ in range(2):  # the first run compiles and fills the cache, the second uses it
        r = ro["run"]("train", ro["corpus"], "--model", "sg", "--dim", "8", "--epochs", "1",
                      "--min-count", "1", "--threads", "2", "-o", out, "-q")
        assert r.returncode == 0, r.stderr
        assert len(r.stderr.splitlines()) <= 1, r.stderr
        assert "internal error" not in r.stderr and "cannot cache" not in r.stderr
    r = ro["run"]("similar", "w1", "-m", out, "-n", "3")
    assert r.returncode == 0, r.stderr
    assert "nearest to w1" in r.stdout
    assert len(r.stderr.splitlines()) <= 1, r.stderr
    # nothing was written into the install; the cache is a private folder of that user
    assert not any("__pycache__" in dirs for _, dirs, _ in os.walk(ro["install"]))
    cache = os.path.join(ro["tmp"], f"wordvec-numba-{ro['uid']}")
    st = os.lstat(cache)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == ro["uid"] and st.st_mode & 0o077 == 0
    assert any(f.endswith(".nbi") for _, _, files in os.walk(cache) for f in files)
