"""Read corpus files in bounded memory: folders expanded, compressed files opened, text chunks.

Files are read in fixed-size chunks of decoded text (``CHUNK_CHARS``), so a single 100 MB line
(text8) never becomes one giant string. Invalid UTF-8 is replaced, not fatal; a file with NUL
bytes in its first 4 KB is refused as binary. Tokenising is :mod:`wordvec.encode`'s: a line is a
sentence, cut into pieces of at most ``MAX_SENTENCE_LENGTH`` tokens (gensim's limit, 10,000;
word2vec C uses 1,000).
"""

import bz2
import gzip
import io
import lzma
import os
import sys
import zlib

from .errors import WordvecError

MAX_SENTENCE_LENGTH = 10_000
CHUNK_CHARS = 1 << 20  # characters read at a time

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}


def expand_paths(paths):
    """Expand folders (recursively, sorted) and check that every file exists and is readable."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        p = os.fspath(p)
        if p == "-":
            out.append(p)
        elif os.path.isdir(p):
            found = sorted(
                os.path.join(root, f)
                for root, _, files in os.walk(p)
                for f in files
                if not f.startswith(".")
            )
            if not found:
                raise WordvecError(f"folder {p!r} holds no files")
            out.extend(found)
        elif not os.path.exists(p):
            raise WordvecError(f"no such file: {p!r}")
        elif not os.access(p, os.R_OK):
            raise WordvecError(f"cannot read {p!r}: permission denied")
        else:
            out.append(p)
    if not out:
        raise WordvecError("no corpus files given")
    return out


def open_binary(path):
    """Open a corpus file (or ``-`` for stdin) as a binary stream, decompressing by extension."""
    if path == "-":
        return sys.stdin.buffer
    ext = os.path.splitext(path)[1].lower()
    return _OPENERS.get(ext, open)(path, "rb")


def _check_text(head, path):
    if b"\x00" in head:
        raise WordvecError(f"{path!r} looks like a binary file, not text (it contains NUL bytes)")


def _read_error(path, exc):
    """One line for an error reading corpus file ``path``, naming the file."""
    ext = os.path.splitext(path)[1].lower() if path != "-" else ""
    if ext in _OPENERS and (not isinstance(exc, OSError) or exc.errno is None):
        detail = str(exc) or type(exc).__name__
        return (f"cannot read {path!r}: corrupt or truncated {ext[1:]} file ({detail})")
    return f"cannot read {path!r}: {getattr(exc, 'strerror', None) or exc}"


def iter_chunks(path, chunk_chars=CHUNK_CHARS):
    """Yield decoded text chunks of one file; invalid UTF-8 becomes U+FFFD."""
    raw = open_binary(path)
    try:
        yield from iter_stream_chunks(raw, path, chunk_chars)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def iter_stream_chunks(raw, path, chunk_chars=CHUNK_CHARS):
    """Yield decoded text chunks of an open binary stream (already decompressed) that reads
    the file ``path`` (the name errors give): what :func:`iter_chunks` yields for a local
    file, for streams opened otherwise (fsspec URLs on a Dask worker). Does not close ``raw``."""
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)
    first = True
    while True:
        try:
            chunk = text.read(chunk_chars)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
            raise WordvecError(_read_error(path, e)) from None
        if not chunk:
            break
        if first:
            _check_text(chunk[:4096].encode("utf-8", "replace"), path)
            first = False
        yield chunk
    text.detach()


def iter_byte_chunks(path, chunk_bytes=CHUNK_CHARS):
    """Yield the raw bytes of one file (decompressed) a chunk at a time, ending at a line end
    (the last chunk: the file's end), for readers that work on UTF-8 bytes (phrases): the same
    checks as :func:`iter_chunks`, but the text is not decoded (invalid UTF-8 stays as it is)."""
    raw = open_binary(path)
    try:
        yield from iter_stream_byte_chunks(raw, path, chunk_bytes)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def iter_stream_byte_chunks(raw, path, chunk_bytes=CHUNK_CHARS):
    """What :func:`iter_byte_chunks` yields, from an open binary stream (already decompressed)
    that reads the file ``path`` (the name errors give): for streams opened otherwise (fsspec
    URLs on a Dask worker). Does not close ``raw``."""
    carry = b""
    first = True
    while True:
        try:
            block = raw.read(chunk_bytes)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
            raise WordvecError(_read_error(path, e)) from None
        if first and block:
            _check_text(block[:4096], path)
            first = False
        if not block:
            break
        block = carry + block
        cut = block.rfind(b"\n") + 1
        if cut == 0 and len(block) < 64 * chunk_bytes:
            carry = block
            continue
        if cut == 0:  # a line of 64 MB: cut it at a space
            cut = block.rfind(b" ") + 1 or len(block)
        carry = block[cut:]
        yield block[:cut]
    if carry.strip():
        yield carry + b"\n"

