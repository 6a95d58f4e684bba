"""Stream sentences of tokens from text files in bounded memory.

A *sentence* is one line of text, cut into pieces of at most ``max_sentence_length`` tokens
(gensim's limit, 10,000; word2vec C uses 1,000). Files are read in fixed-size chunks, so a single
100 MB line (text8) never becomes one giant string. Invalid UTF-8 is replaced, not fatal.
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
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def iter_sentences(paths, lowercase=False, max_sentence_length=MAX_SENTENCE_LENGTH,
                   chunk_chars=CHUNK_CHARS):
    """Yield lists of tokens: one per line, long lines cut every ``max_sentence_length`` tokens."""
    for path in expand_paths(paths):
        current = []  # tokens of the line being read
        carry = ""  # a token cut by the chunk boundary
        for chunk in iter_chunks(path, chunk_chars):
            if lowercase:
                chunk = chunk.lower()
            if "\x00" in chunk:  # a NUL is whitespace: never inside a word
                chunk = chunk.replace("\x00", " ")
            chunk = carry + chunk
            lines = chunk.split("\n")
            last = lines.pop()  # incomplete: no newline after it yet
            for line in lines:
                current.extend(line.split())
                yield from _cut(current, max_sentence_length)
                current = []
            # keep a partial trailing token for the next chunk
            if last and not last[-1].isspace():
                cut = max(last.rfind(" "), last.rfind("\t"), last.rfind("\r"))
                carry = last[cut + 1:]
                last = last[:cut + 1]
            else:
                carry = ""
            current.extend(last.split())
            while len(current) >= max_sentence_length:
                yield current[:max_sentence_length]
                current = current[max_sentence_length:]
        current.extend(carry.split())
        yield from _cut(current, max_sentence_length)


def _cut(tokens, n):
    for i in range(0, len(tokens), n):
        yield tokens[i:i + n]
