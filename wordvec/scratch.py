"""Scratch names a later run can recognise as stale, and the clean-up of dead processes' scratch.

Everything temporary that wordvec creates (the encoded corpus and the spilled co-occurrence
chunks in ``TMPDIR``, the hidden temporary file or folder beside an output) carries an *owner
tag*: a hash of the host name, a hash of the boot, the process id and the process's start time.
After a ``SIGKILL`` or a crash nothing can clean up, so the next run does: it removes the scratch
whose owner is gone (same host, and an earlier boot, or no live process with that id and start
time), and says so in one line. It never touches scratch of another host (a shared file system),
of a live process, of another user, or anything whose name does not carry a tag.
"""

import hashlib
import os
import re
import shutil
import socket
import sys

_TAG_RE = r"(?P<host>[0-9a-f]{8})(?P<boot>[0-9a-f]{8})-(?P<pid>\d+)-(?P<start>\d+)"
_cache = {}


def _hash8(text):
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:8]


def _host():
    return _hash8(socket.gethostname())


def _boot():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return _hash8(f.read().strip())
    except OSError:
        return "00000000"


def _start_time(pid):
    """The start time of process ``pid`` (clock ticks since boot), 0 where unknown, None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:  # no /proc: whether the process exists is all we can tell
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:
        pass
    return 0


def tag():
    """This process's owner tag (``HOSTBOOT-PID-START``)."""
    pid = os.getpid()
    if _cache.get("pid") != pid:
        _cache.update(pid=pid, tag=f"{_host()}{_boot()}-{pid}-{_start_time(pid) or 0}")
    return _cache["tag"]


def owner_gone(name):
    """True if ``name`` carries a tag of a process of this host that no longer runs."""
    m = re.search(_TAG_RE, name)
    if m is None or m["host"] != _host():
        return False
    if m["boot"] != _boot():
        return True
    pid, start = int(m["pid"]), int(m["start"])
    if pid == os.getpid():
        return False
    now = _start_time(pid)
    if now is None:
        return True
    return now != 0 and start != 0 and now != start  # the id was reused by another process


def _size(path):
    if os.path.isdir(path) and not os.path.islink(path):
        total = 0
        for root, _, files in os.walk(path):
            for f in files:
                try:
                    total += os.lstat(os.path.join(root, f)).st_size
                except OSError:
                    pass
        return total
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def clean_stale(folder, pattern, notice=True):
    """Remove entries of ``folder`` whose names fully match ``pattern`` (a regex that contains
    ``{tag}`` where the owner tag stands) and whose owner is gone; return the removed paths.

    Only entries owned by this user that are not symbolic links are removed.
    """
    regex = re.compile(pattern.format(tag=_TAG_RE))
    removed = []
    total = 0
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for name in names:
        if not regex.fullmatch(name) or not owner_gone(name):
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if (uid is not None and st.st_uid != uid) or os.path.islink(path):
            continue
        size = _size(path)
        try:
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            continue
        removed.append(path)
        total += size
    if notice and len(removed) == 1:
        say(f"wordvec: removed stale scratch left by a wordvec process that is gone: "
            f"{removed[0]} ({_human(total)})")
    elif notice and removed:  # one line, however many
        say(f"wordvec: removed stale scratch left by wordvec processes that are gone: "
            f"{len(removed)} items in {folder or '.'} ({_human(total)})")
    return removed


def _human(n):
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"  # pragma: no cover


def say(message):
    """One line on stderr (notices that are not errors)."""
    try:
        print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
