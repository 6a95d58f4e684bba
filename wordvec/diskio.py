"""Disk-full errors that name what was being written.

A full disk (or an exhausted quota) shows up as ``OSError`` with ``ENOSPC``/``EDQUOT`` from
Python's own writes, but as ``OSError("898800 requested and 524256 written")`` without an errno
from numpy's ``tofile``/``fromfile`` family (a short ``fwrite``). :func:`writing` turns both
into one :class:`~wordvec.errors.WordvecError` naming the path::

    with writing(path):
        array.tofile(f)

    with writing(folder, hint="; set TMPDIR to a folder with more space"):
        ...

Wrap the whole write, including the ``close``/``flush`` of the file: a buffered file may only
find out that the disk is full when it flushes.

:func:`read_exactly` fills an array from a given offset of a scratch file, or says which file
ended early.
"""

import contextlib
import errno
import re

from .errors import WordvecError

NO_SPACE_ERRNOS = frozenset(
    e for e in (getattr(errno, "ENOSPC", None), getattr(errno, "EDQUOT", None)) if e is not None)
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def is_no_space(exc):
    """True if ``exc`` (an ``OSError``) means the disk or the quota is full."""
    if not isinstance(exc, OSError):
        return False
    if exc.errno in NO_SPACE_ERRNOS:
        return True
    # numpy's short write: no errno, only "N requested and M written"
    return exc.errno is None and bool(_SHORT_WRITE.search(str(exc)))


def no_space_error(path, hint=""):
    """The one-line error for a full disk while writing ``path``."""
    return WordvecError(f"no space left on device while writing {path}{hint}")


@contextlib.contextmanager
def writing(path, hint=""):
    """Turn a full-disk ``OSError`` raised in the block into ``WordvecError`` naming ``path``.

    ``hint`` is appended to the message as is (e.g. ``"; set TMPDIR to a larger folder"``).
    Other errors pass through unchanged.
    """
    try:
        yield
    except OSError as e:
        if is_no_space(e):
            raise no_space_error(path, hint) from None
        raise


def scratch_hint(folder):
    """The advice for scratch in ``folder`` (the temporary folder): where to make room."""
    return f": free space in {folder} or set TMPDIR to a folder with more room"


def read_exactly(f, offset, out, what):
    """Fill the array ``out`` from the unbuffered file ``f`` at byte ``offset``; a file that ends
    first (changed under us) is a :class:`WordvecError` naming ``what``."""
    view = memoryview(out).cast("B")
    f.seek(offset)
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            raise WordvecError(f"{what} ended early (changed under us?)")
        got += n
