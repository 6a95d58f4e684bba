"""Members of zip archives as inputs: ``ARCHIVE:MEMBER``, e.g. ``glove.6B.zip:glove.6B.100d.txt``.

A path that exists is never split. Otherwise it names a member when, at one of its ``:`` (the
last one that works), the part on the left is an existing regular file that is a zip archive by
content (it starts with ``PK\\x03\\x04``, or ``PK\\x05\\x06`` for an empty archive); the rest is
the member's name as the archive stores it (``/``-separated). An archive named without a member
stands for its only file; when it holds several, the error lists them.

A member is read as a stream (:meth:`zipfile.ZipFile.open`): nothing is extracted to disk or
read whole into memory, and a member can yield no more than the size its entry declares.
"""

import os
import zipfile
import zlib

from .errors import WordvecError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SHOWN_MEMBERS = 10  # how many member names an error lists
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error)


def is_zip(path):
    """True if ``path`` is a regular file that starts like a zip archive."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            return f.read(4) in ZIP_MAGIC
    except OSError:
        return False


def split_member(path):
    """``(archive, member)`` when ``path`` names a member of a zip archive, else ``(path, None)``."""
    path = os.fspath(path)
    if not isinstance(path, str) or ":" not in path or os.path.exists(path):
        return path, None
    end = len(path)
    while True:
        colon = path.rfind(":", 0, end)
        if colon <= 0:
            return path, None
        if is_zip(path[:colon]):
            return path[:colon], path[colon + 1:]
        end = colon


def _listing(names):
    shown = ", ".join(repr(n) for n in names[:SHOWN_MEMBERS])
    more = len(names) - SHOWN_MEMBERS
    return shown + (f" and {more:,} more" if more > 0 else "")


def open_member(shown, archive, member=None):
    """``(stream, info)``: the binary stream of one member of the zip ``archive`` and its ZipInfo.

    ``member`` None (or empty) picks the archive's only file. Every problem is one WordvecError
    naming ``shown`` (the path as the user gave it).
    """
    try:
        z = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise WordvecError(f"{shown}: no such file") from None
    except PermissionError as e:
        raise WordvecError(f"{shown}: cannot read: {e.strerror or e}") from None
    except (*_ZIP_ERRORS, NotImplementedError) as e:  # (e.g. "zip file version 11.0": garbled)
        raise WordvecError(f"{shown}: corrupt zip archive ({e})") from None
    try:
        files = [i for i in z.infolist() if not i.is_dir()]
        names = [i.filename for i in files]
        if not member:
            if not files:
                raise WordvecError(f"{shown}: the zip archive holds no files")
            if len(files) > 1:
                raise WordvecError(
                    f"{shown}: a zip archive of {len(files):,} files ({_listing(names)}): name the "
                    f"one to read as ARCHIVE:MEMBER, e.g. {archive}:{names[0]}")
            info = files[0]
        else:
            info = next((i for i in reversed(files) if i.filename == member), None)
            if info is None:
                held = f"it holds {len(files):,} files: {_listing(names)}" if files else "it holds no files"
                raise WordvecError(f"{shown}: no member {member!r} in the zip archive {archive!r}; {held}")
        try:
            stream = z.open(info)
        except RuntimeError as e:  # zipfile's "... is encrypted, password required for extraction"
            raise WordvecError(f"{shown}: cannot read {info.filename!r} from the zip archive ({e}): "
                               "extract it first") from None
        except NotImplementedError as e:  # a compression method zipfile cannot read
            raise WordvecError(f"{shown}: cannot read {info.filename!r} from the zip archive ({e}): "
                               "extract it first") from None
        except _ZIP_ERRORS as e:
            raise WordvecError(f"{shown}: corrupt zip archive ({e})") from None
    finally:
        z.close()  # the member's stream keeps the file open until it is closed
    return stream, info
