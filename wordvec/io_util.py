"""Atomic writes: output goes to a hidden temporary file (or folder) renamed into place when complete.

The temporary sits beside the target as ``.NAME.<owner tag>-XXXXXXXX.tmp`` (see
:mod:`wordvec.scratch`), so a later run can tell one left by a killed process and remove it.
Before anything is written the target is checked (:func:`wordvec.outputs.check_output`): only a
wordvec output of the same kind is ever replaced. New files and folders follow the umask.

A model folder replaces the old one with one atomic exchange (``renameat2(RENAME_EXCHANGE)`` on
Linux), after which the old folder, now at the temporary name, is deleted; concurrent saves to one
path all complete, the last exchange wins, and nothing is left behind.
"""

import contextlib
import ctypes
import errno
import os
import re
import shutil
import tempfile

from . import outputs, scratch
from .diskio import is_no_space, no_space_error
from .errors import WordvecError

_umask = None


def umask():
    """The process umask, read without changing it where the system allows."""
    global _umask
    if _umask is None:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("Umask:"):
                        _umask = int(line.split()[1], 8)
        except (OSError, ValueError):
            pass
        if _umask is None:
            _umask = os.umask(0o022)
            os.umask(_umask)
    return _umask


def _temp_prefix(target):
    return "." + os.path.basename(target) + "." + scratch.tag() + "-"


def _clean_stale(target):
    pattern = re.escape("." + os.path.basename(target) + ".") + r"{tag}-[A-Za-z0-9_]+\.tmp(\.old)?"
    scratch.clean_stale(os.path.dirname(target), pattern)


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, kind="vectors", force=False, inputs=(), **kwargs):
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds.

    ``path`` is checked first (:func:`wordvec.outputs.check_output` with ``kind``, ``force`` and
    ``inputs``); errors name ``path``, never the temporary.
    """
    shown = os.fspath(path)
    target = outputs.check_output(path, kind, inputs=inputs, force=force)
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    _clean_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with _writing_output(shown):
            with os.fdopen(fd, mode, **kwargs) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
        outputs.check_output(path, kind, inputs=inputs, force=force)  # still ours to replace?
        outputs.record(tmp, kind, target)  # before the rename: a rename keeps the fingerprint
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path, *, kind="model", force=False, inputs=()):
    """Yield a temporary folder beside ``path``; it replaces ``path`` only if the block succeeds.

    ``path`` must be new, an empty folder or a wordvec output folder of ``kind`` (``model``: a
    model folder, or with ``force`` a file; ``projector``: an Embedding Projector folder).
    """
    shown = os.fspath(path)
    target = outputs.check_output(path, kind, inputs=inputs, force=force)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    _clean_stale(target)
    tmp = tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=".tmp", dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~umask())
        with _writing_output(shown):
            yield tmp
        _install_dir(tmp, target, shown, force, kind)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---- replacing a folder -----------------------------------------------------------------------
_libc = None


def _exchange(a, b):
    """Atomically swap ``a`` and ``b`` (both must exist); False where the system cannot."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.renameat2  # noqa: B018 - raises AttributeError where there is none
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if _libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), b)


def _replaceable(path, force, kind="model"):
    if os.path.isdir(path) and not os.path.islink(path):
        if kind in outputs.FOLDER_FILES:
            return outputs.is_recorded_folder(path, kind) or not os.listdir(path)
        return outputs.is_model_folder(path) or not os.listdir(path)
    return force and kind == "model" and os.path.isfile(path)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _install_dir(tmp, target, shown, force, kind="model"):
    for _ in range(100):
        if not os.path.lexists(target):
            try:
                os.rename(tmp, target)
                return
            except OSError as e:
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                    raise
                continue  # something appeared there meanwhile: look again
        if not _replaceable(target, force, kind):
            outputs.check_output(shown, kind, force=force)  # raises the one-line refusal
            raise WordvecError(f"{shown!r} changed while writing: not replacing it")
        try:
            swapped = _exchange(tmp, target)
        except FileNotFoundError:
            continue  # removed meanwhile: look again
        if swapped:
            # the old output is now at ``tmp``; check it really was ours, else swap back
            if not _replaceable(tmp, force, kind):
                _exchange(tmp, target)
                raise WordvecError(f"{shown!r} changed while writing: not replacing it")
            _remove(tmp)
            return
        # no atomic exchange here: move the old output aside, then put the new one in place
        old = tmp + ".old"
        try:
            os.rename(target, old)
        except FileNotFoundError:
            continue
        try:
            os.rename(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.rename(old, target)
            raise
        _remove(old)
        return
    raise WordvecError(f"{shown!r}: could not replace it (other processes keep writing it)")


# ---- disk errors --------------------------------------------------------------------------------
@contextlib.contextmanager
def _writing_output(shown):
    """Report I/O errors while writing as one line naming ``shown`` (the target the user named,
    not the temporary): a full disk or quota says so (:mod:`wordvec.diskio`)."""
    try:
        yield
    except OSError as e:
        if is_no_space(e):
            raise no_space_error(shown) from None
        if isinstance(e, BrokenPipeError):
            raise
        raise WordvecError(f"cannot write {shown}: {e.strerror or e}") from None
