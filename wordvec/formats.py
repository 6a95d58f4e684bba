"""Vector file formats: native, word2vec text and binary, GloVe text, fastText ``.vec``; the
Embedding Projector's TSV files (written only).

========================  ======================================================================
``native``                wordvec's own folder (``wordvec.native``): JSON header + ``.npy`` arrays.
``word2vec``              text: a header line ``N D``, then ``word v1 ... vD`` per line. fastText's
                          ``.vec`` files are this format.
``word2vec-binary``       the word2vec C tool's binary: the header line ``N D\\n``, then per word
                          ``word`` + one space + D little-endian float32 + ``\\n``. gensim writes
                          no ``\\n`` after the floats; both variants are read.
``glove``                 text like ``word2vec`` but without the header line.
``fasttext-bin``          facebook fastText's binary model (``.bin``, :mod:`wordvec.fasttext_bin`):
                          read as :class:`~wordvec.vectors.FastTextVectors` (vectors for unseen
                          words from its n-gram rows, memory-mapped); written only from a
                          fastText model, with :func:`wordvec.fasttext_bin.save_model`.
``projector``             written only, never read: a folder of ``tensors.tsv`` (per word a row of
                          tab-separated values) and ``metadata.tsv`` (one word a line, no header
                          line), the files the TensorFlow Embedding Projector loads (the layout of
                          gensim's ``word2vec2tensor``).
compressed (input)        any of the files above compressed with gzip, bz2, xz or lzma,
                          recognised by their magic bytes (content, not name), read as streams.
``ARCHIVE:MEMBER``        a member of a zip archive (``glove.6B.zip:glove.6B.100d.txt``; a zip of
(input)                   one file needs no member name), read as a stream (:mod:`wordvec.archives`).
pickle (refused)          a Python pickle (a gensim ``.model`` or ``.kv`` file), recognised by its
                          first two bytes: one error saying how to export from gensim; nothing is
                          ever unpickled.
========================  ======================================================================

Loading auto-detects the format (:func:`detect`): a folder is native; fastText's magic number
starts a ``.bin``; a first line of two integers
is a word2vec header, and the bytes after the first word decide text or binary (text has only
digits, signs, dots, exponents and spaces there; float32 bytes essentially never do); anything else
is read as GloVe text, its first line fixing the dimension. Only the first 64 kB (decompressed) are
read to detect a format.

Text is written with ``%.{precision}g`` (default 6 significant digits: every value reads back
within a relative error of 5e-6; ``precision=9`` reproduces float32 exactly). Binary is bit-exact.

Policies: words are split from their values at the first space. A word may hold any character
but ASCII whitespace and NUL (U+00A0 NO-BREAK SPACE, say, round-trips through every format);
the writer refuses other words, and words over :data:`MAX_WORD_BYTES`, naming the word. Values
must be finite float32: NaN, infinity or an overflow (``1e39``) is an error naming the line (the
word, in binary files). Nothing is allocated from a header before it is checked against the
file's size (a compressed file's or zip member's matrix grows as rows arrive). A repeated word
keeps its first vector, like gensim, and later copies are dropped (counted in
``meta["stats"]["duplicates_dropped"]``); rows are kept in file order, which evaluation takes as
frequency order. Every malformed file raises one :class:`WordvecError` naming the file and line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import warnings
import zipfile
import zlib

import numpy as np

from . import archives, fasttext_bin, native, outputs
from .errors import WordvecError
from .io_util import atomic_dir, atomic_write
from .vectors import Vectors
from .vocab import check_words

FORMATS = ("native", "word2vec", "word2vec-binary", "glove")  # vectors: read and written
MODEL_FORMATS = ("fasttext-bin",)  # whole models of another tool: read (written from a model)
WRITE_ONLY = ("projector",)  # written, never detected or read
_TEXT_BYTES = frozenset(b"0123456789+-.eEinfaINFA \t\r")
_BLOCK = 20000  # text lines parsed per numpy call
MAX_WORD_BYTES = 1 << 20  # the longest word (UTF-8 bytes) written or read; garbage stops here
_READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


# ---- writing --------------------------------------------------------------------------------
def save_vectors(vectors: Vectors, path, format: str = "native", precision: int = 6, *,
                 force: bool = False, inputs=()) -> None:
    """Write ``vectors`` to ``path`` in ``format`` (one of :data:`FORMATS` or :data:`WRITE_ONLY`),
    atomically.

    Text and binary outputs are gzip-compressed when ``path`` ends in ``.gz``. Only a wordvec
    output of the same kind is replaced (``force`` also allows any regular file, except for the
    ``projector`` folder); ``path`` may not be one of ``inputs`` (see
    :func:`wordvec.outputs.check_output`).
    """
    if format == "fasttext-bin":
        raise WordvecError("a fastText .bin holds a trained model, not only vectors: write it "
                           "from a fastText model (wordvec.fasttext_bin.save_model, or "
                           "'wordvec convert MODEL out.bin --to fasttext-bin')")
    if format not in FORMATS + WRITE_ONLY:
        raise WordvecError(f"unknown vectors format {format!r}: use one of "
                           f"{', '.join(FORMATS + WRITE_ONLY)}")
    if format == "native":
        native.save(vectors, path, force=force, inputs=inputs)
        return
    if format == "projector":
        _save_projector(vectors, path, precision, force, inputs)
        return
    _check_words(vectors.words, format)
    matrix = vectors.matrix
    n, dim = matrix.shape
    with atomic_write(path, "wb", kind="vectors", force=force, inputs=inputs) as raw:
        out = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if str(path).endswith(".gz") else raw
        if format != "glove":
            out.write(f"{n} {dim}\n".encode())
        for start in range(0, n, _BLOCK):
            block = np.asarray(matrix[start:start + _BLOCK], dtype=np.float32)
            words = vectors.words[start:start + _BLOCK]
            if format == "word2vec-binary":
                data = block.astype("<f4", copy=False)
                out.write(b"".join(w.encode("utf-8") + b" " + row.tobytes() + b"\n"
                                   for w, row in zip(words, data)))
            else:
                fmt = " ".join([f"%.{int(precision)}g"] * dim)
                out.write("".join(f"{w} {fmt % tuple(row)}\n"
                                  for w, row in zip(words, block.tolist())).encode("utf-8"))
        if out is not raw:
            out.close()


def _check_words(words, format):
    """What the readers cannot give back is refused here: empty words, ASCII whitespace (the
    separators of every format) or NUL in a word, and words over :data:`MAX_WORD_BYTES`. Any
    other character (e.g. U+00A0 NO-BREAK SPACE) is written and read back unchanged."""
    check_words(words, format)
    for i, w in enumerate(words):
        if len(w) * 4 > MAX_WORD_BYTES and len(w.encode("utf-8")) > MAX_WORD_BYTES:
            raise WordvecError(f"cannot write {format}: word {i + 1} ({w[:20]!r}...) is longer "
                               f"than {MAX_WORD_BYTES:,} bytes")


def _save_projector(vectors, path, precision, force, inputs):
    """The TensorFlow Embedding Projector's two files in the folder ``path``: ``tensors.tsv``, one
    row of tab-separated values per word, and ``metadata.tsv``, one word a line with no header
    line (the projector's convention for a single metadata column), rows in the model's order."""
    for i, w in enumerate(vectors.words):
        if isinstance(w, str) and any(c in w for c in "\t\n\r"):
            raise WordvecError(f"cannot write projector: word {i + 1} ({w[:40]!r}) contains a tab "
                               "or line break, which a TSV file cannot hold")
    _check_words(vectors.words, "projector")
    matrix = vectors.matrix
    dim = matrix.shape[1]
    fmt = "\t".join([f"%.{int(precision)}g"] * dim) + "\n"
    target = outputs.resolve(path)
    with atomic_dir(path, kind="projector", force=force, inputs=inputs) as tmp:
        with open(os.path.join(tmp, "tensors.tsv"), "wb") as out:
            for start in range(0, len(vectors.words), _BLOCK):
                block = np.asarray(matrix[start:start + _BLOCK], dtype=np.float32)
                out.write("".join(fmt % tuple(row) for row in block.tolist()).encode("ascii"))
            out.flush()
            os.fsync(out.fileno())
        with open(os.path.join(tmp, "metadata.tsv"), "wb") as out:
            for start in range(0, len(vectors.words), _BLOCK):
                out.write("".join(w + "\n" for w in vectors.words[start:start + _BLOCK]).encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        # remembered as wordvec's before the folder is renamed into place (a rename keeps the
        # files' fingerprints): a later save may replace the folder, unless someone changed it
        for name in outputs.PROJECTOR_FILES:
            outputs.record(os.path.join(tmp, name), "projector", os.path.join(target, name))


# ---- reading --------------------------------------------------------------------------------
class _Owning:
    """A decompressing stream that also closes the stream it reads from."""

    _inner = None

    def close(self):
        try:
            super().close()
        finally:
            if self._inner is not None:
                self._inner.close()


class _GzipStream(_Owning, gzip.GzipFile):
    pass


class _Bz2Stream(_Owning, bz2.BZ2File):
    pass


class _XzStream(_Owning, lzma.LZMAFile):  # .xz, and the older .lzma ("alone") format
    pass


def _codec(head):
    """The compression a stream starting with ``head`` uses (by its magic bytes), or None."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    # "BZh" + block size "1".."9" + the magic of a block (pi) or of the end of the stream (sqrt(pi))
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0" and \
            head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:3] == b"]\x00\x00":  # .lzma: default properties byte, a dictionary of n * 64 KiB
        return "lzma"
    return None


def _decompressing(f, codec):
    if codec is None:
        return f
    if codec == "gzip":
        stream = _GzipStream(fileobj=f, mode="rb")
    elif codec == "bz2":
        stream = _Bz2Stream(f, "rb")
    else:
        stream = _XzStream(f, "rb")
    stream._inner = f
    return stream


def _open_source(path):
    """``(stream, codec, stored, member)`` for a vectors file, or a member of a zip archive
    (``ARCHIVE:MEMBER``, see :mod:`wordvec.archives`): the binary stream of its content,
    decompressed when it starts with the magic bytes of gzip, bz2, xz or lzma (``codec``, else
    None); ``stored``, the size of what ``codec`` decompresses (the file's size, or the size a zip
    member's entry declares, which bounds what the member's stream yields); ``member`` the ZipInfo."""
    path = os.fspath(path)
    archive, name = archives.split_member(path)
    member = None
    if name is None:
        if os.path.isdir(path):
            if native.is_native(path):
                raise WordvecError(f"{path}: a native wordvec model folder, not a vectors file "
                                   "(load it with format 'native' or let the format be detected)")
            raise WordvecError(f"{path}: a folder but not a wordvec model (no {native.HEADER})")
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            raise WordvecError(f"{path}: no such file") from None
        except OSError as e:
            raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
        try:
            head = f.peek(16)[:16]
            stored = os.fstat(f.fileno()).st_size
        except OSError as e:
            f.close()
            raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
        if head[:4] not in archives.ZIP_MAGIC:
            return _decompressing(f, _codec(head)), _codec(head), stored, None
        f.close()  # a zip archive named alone: its only file
    f, member = archives.open_member(path, archive, name)
    try:
        head = f.peek(16)[:16]
    except _READ_ERRORS as e:
        f.close()
        raise WordvecError(f"{path}: corrupt zip archive ({e})") from None
    if head[:4] in archives.ZIP_MAGIC:
        f.close()
        raise WordvecError(f"{path}: a zip archive inside the zip archive: extract it first")
    return _decompressing(f, _codec(head)), _codec(head), member.file_size, member


def _open_raw(path):
    """Binary stream of the file's (or zip member's) content, decompressed when it starts with
    the magic bytes of gzip, bz2, xz or lzma. Closing it closes everything it reads from."""
    return _open_source(path)[0]


def _read_error(path, f, e):
    """One line for an error reading ``f``, the stream of ``path``: corrupt data of the codec (or
    zip member) it decompresses, or an unreadable file."""
    for cls, name in ((gzip.GzipFile, "gzip"), (bz2.BZ2File, "bz2"), (lzma.LZMAFile, "xz/lzma"),
                      (zipfile.ZipExtFile, "zip member")):
        if isinstance(f, cls):
            return WordvecError(f"{path}: corrupt or truncated {name} data ({e})")
    return WordvecError(f"{path}: corrupt or unreadable file ({e})")


def _refuse_pickle(path, head):
    """A Python pickle (protocol 2 to 5 starts with 0x80 and the protocol) is never unpickled."""
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise WordvecError(
            f"{path}: a Python pickle (e.g. a gensim .model or .kv file), not a vectors file; "
            "wordvec never unpickles files (unpickling runs code). Export the vectors from gensim "
            "with model.wv.save_word2vec_format('vectors.bin', binary=True), then use "
            "'-m vectors.bin' or 'wordvec convert vectors.bin ...'")


def _read_start(path, size=1 << 16):
    """The first ``size`` bytes (decompressed) of a file, with clear errors."""
    with _open_raw(path) as f:
        try:
            return f.read(size)
        except _READ_ERRORS as e:
            raise _read_error(path, f, e) from None


def _parse_header(line):
    """``(n, dim)`` from a word2vec header line (bytes or str), else None."""
    if isinstance(line, str):
        line = line.encode("utf-8", "replace")
    parts = line.split()  # (bytes split only at ASCII whitespace)
    if len(parts) == 2 and all(p.isdigit() and len(p) <= 19 for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def detect(path):
    """The format of ``path``: one of :data:`FORMATS` or :data:`MODEL_FORMATS` (raises
    WordvecError for unusable files)."""
    path = os.fspath(path)
    if native.is_native(path):
        return "native"
    head = _read_start(path)
    _refuse_pickle(path, head)
    if not head.strip():
        raise WordvecError(f"{path}: empty file, no vectors in it")
    if fasttext_bin.is_fasttext_bin(head):
        return "fasttext-bin"
    if head.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark (text only)
        head = head[3:]
    first, nl, rest = head.partition(b"\n")
    header = _parse_header(first)
    if header is None:
        _check_textual(path, head)
        return "glove"
    n, dim = header
    if n == 0:
        return "word2vec"
    if not rest.strip():
        raise WordvecError(f"{path}: header promises {n} words of dimension {dim}, "
                           "but the file ends after it")
    rest = rest.lstrip(b"\n")
    sp = rest.find(b" ")
    if sp < 0:
        return "word2vec"  # the text parser reports what is wrong
    # text: the rest of the line is numbers; binary: float32 bytes, which hold other bytes (the
    # exponent byte of ordinary values is one of ``:;<=>?@`` or >= 0x80) or a very early b"\n"
    line = rest[sp + 1: sp + 1 + 64 * dim + 64].split(b"\n", 1)[0]
    if line and all(b in _TEXT_BYTES for b in line) and (len(line.split()) == dim or len(line) >= 8):
        return "word2vec"
    return "word2vec-binary"


def _check_textual(path, head):
    if b"\x00" in head:
        raise WordvecError(f"{path}: a binary file, not a text vectors file "
                           "(word2vec binary files start with a 'N D' header line)")
    line = head.split(b"\n", 1)[0]
    line = line[3:] if line.startswith(b"\xef\xbb\xbf") else line
    # split at ASCII whitespace only: a word may hold e.g. U+00A0, which str.split() would cut
    first = [x.decode("utf-8", "replace") for x in line.split()]
    if len(first) < 2:
        raise WordvecError(f"{path}: line 1: not a vectors file (expected 'word v1 v2 ...' "
                           "or a 'N D' header)")
    try:
        [float(x) for x in first[1:]]
    except ValueError:
        raise WordvecError(f"{path}: line 1: not a vectors file (expected 'word v1 v2 ...' "
                           f"with numbers, got {' '.join(first[:4])!r}...)") from None


def load_vectors(path, format: str | None = None, limit: int | None = None) -> Vectors:
    """Load vectors from ``path``; ``format=None`` detects it. ``limit`` reads only the first rows."""
    path = os.fspath(path)
    given = format not in (None, "auto")
    if not given:
        format = detect(path)  # (which refuses pickles)
    if format in WRITE_ONLY:
        raise WordvecError(f"{format!r} is a format wordvec writes but does not read")
    if format not in FORMATS + MODEL_FORMATS:
        raise WordvecError(f"unknown vectors format {format!r}: use one of "
                           f"{', '.join(FORMATS + MODEL_FORMATS)}")
    if limit is not None and limit < 0:
        raise WordvecError("limit must be >= 0")
    if format == "native":
        if not native.is_native(path):
            if archives.split_member(path)[1] is not None:
                raise WordvecError(f"{path}: a member of a zip archive, not a native wordvec "
                                   "model folder")
            if not os.path.exists(path):
                raise WordvecError(f"{path}: no such file or folder")
            raise WordvecError(f"{path}: not a native wordvec model folder (no {native.HEADER})")
        v = native.load(path)
        if limit is not None and limit < len(v):
            v = v.head(limit)  # (fastText vectors still answer for unseen words)
        return v
    if given:
        _refuse_pickle(path, _read_start(path, 16))
    with _open_raw(path) as f:
        if format == "fasttext-bin":
            return fasttext_bin.load_vectors(path, f, limit=limit)
        try:
            if format == "word2vec-binary":
                words, matrix = _read_binary(path, f, limit)
            else:
                words, matrix = _read_text(path, f, format, limit)
        except _READ_ERRORS as e:
            raise _read_error(path, f, e) from None
    return _build(words, matrix, format, path)


def _build(words, matrix, format, path):
    seen = {}
    keep = []
    for i, w in enumerate(words):
        if w not in seen:
            seen[w] = i
            keep.append(i)
    dropped = len(words) - len(keep)
    if dropped:
        words = [words[i] for i in keep]
        matrix = matrix[np.asarray(keep, dtype=np.int64)]
    meta = {"kind": "vectors", "params": {},
            "stats": {"source_format": format, "source": _absolute(path),
                      "duplicates_dropped": dropped}}
    return Vectors(words, matrix, meta=meta)


def _absolute(path):
    archive, member = archives.split_member(path)
    return os.path.abspath(archive) + ("" if member is None else f":{member}")


def _data_bound(f):
    """Bytes left in ``f`` when it is a plain file; ``None`` for anything else (a decompressing
    stream or a zip member, whose ``fileno()``, if any, is the compressed file's)."""
    if not isinstance(f, io.BufferedReader) or not isinstance(f.raw, io.FileIO):
        return None
    try:
        return os.fstat(f.fileno()).st_size - f.tell()
    except (OSError, AttributeError, ValueError):
        return None


def _check_promise(path, n, dim, per_row, available, what):
    """Refuse a header that promises more rows than ``available`` bytes can hold."""
    if available is not None and n * per_row > available:
        raise WordvecError(
            f"{path}: the header promises {n:,} words of dimension {dim:,} (at least "
            f"{n * per_row:,} bytes of {what}), but the file holds {available:,} bytes after it "
            "(truncated file or corrupt header)")


def _read_binary(path, f, limit):
    header_line = f.readline(4096)
    if header_line.startswith(b"\xef\xbb\xbf"):  # (a byte-order mark, as detect allows)
        header_line = header_line[3:]
    header = _parse_header(header_line)
    if header is None:
        raise WordvecError(f"{path}: line 1: expected a word2vec header 'N D', "
                           f"got {header_line[:40]!r}")
    n, dim = header
    if n and dim < 1:
        raise WordvecError(f"{path}: line 1: the header gives dimension {dim}; vectors need >= 1")
    want = n if limit is None else min(n, limit)
    row_bytes = 4 * dim
    # every row is at least a 1-byte word, a space and the floats: a header that promises more
    # than the file holds is refused before anything is allocated from it; a compressed stream
    # (size unknown) grows its matrix only as rows arrive
    available = _data_bound(f)
    _check_promise(path, want, dim, row_bytes + 2, available, "word2vec binary data")
    matrix = np.empty((want if available is not None else 0, dim), dtype=np.float32)
    words = []
    buf = b""
    pos = 0
    chunk = min(max(1 << 20, 64 * (row_bytes + 64)), 1 << 26)
    eof = False
    for i in range(want):
        while True:
            # skip the newline the C tool writes after each vector (gensim writes none)
            while pos < len(buf) and buf[pos] in b"\n\r":
                pos += 1
            sp = buf.find(b" ", pos)
            if sp >= 0 and sp + 1 + row_bytes <= len(buf):
                break
            if (sp < 0 and len(buf) - pos > MAX_WORD_BYTES) or sp - pos > MAX_WORD_BYTES:
                raise WordvecError(f"{path}: corrupt word2vec binary file at word {i + 1} "
                                   f"(no word of at most {MAX_WORD_BYTES:,} bytes found: is it "
                                   "a text file with a wrong header?)")
            if eof:
                raise WordvecError(
                    f"{path}: truncated word2vec binary file: the header promises {n:,} words "
                    f"of dimension {dim}, the data ends in word {i + 1}")
            more = f.read(chunk)
            eof = not more
            buf = buf[pos:] + more
            pos = 0
        word = buf[pos:sp]
        if not word or b"\x00" in word:
            raise WordvecError(f"{path}: corrupt word2vec binary file at word {i + 1} "
                               "(an empty word or a NUL byte in it: is it a text file with a "
                               "wrong header?)")
        words.append(word.decode("utf-8", "replace"))
        if i >= len(matrix):  # a compressed stream: grow as the rows arrive
            grown = np.empty((min(want, max(2 * len(matrix), (1 << 24) // row_bytes, 1)), dim),
                             dtype=np.float32)
            grown[:i] = matrix[:i]
            matrix = grown
        matrix[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=sp + 1)
        pos = sp + 1 + row_bytes
    matrix = matrix[:want]
    if limit is None or limit >= n:
        tail = buf[pos:] + f.read(1 << 16)
        if tail.strip():
            raise WordvecError(f"{path}: more data after the {n:,} words the header promises "
                               "(corrupt file or wrong header)")
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        raise WordvecError(f"{path}: word {i + 1} ({words[i][:40]!r}) has a value that is NaN "
                           "or infinite")
    return words, matrix


def _read_text(path, f, format, limit):
    text = io.TextIOWrapper(f, encoding="utf-8", errors="replace", newline=None)
    lineno = 0
    dim = None
    n = None
    if format == "word2vec":
        lineno = 1
        first = text.readline(4096).lstrip("\ufeff")
        header = _parse_header(first)
        if header is None:
            raise WordvecError(f"{path}: line 1: expected a word2vec header 'N D', "
                               f"got {first.strip()[:40]!r}")
        n, dim = header
        if n and dim < 1:
            raise WordvecError(f"{path}: line 1: the header gives dimension {dim}; "
                               "vectors need >= 1")
    want = n if limit is None else (limit if n is None else min(n, limit))
    # (nothing is allocated from the header: rows are parsed in blocks as they come, and a
    # header that promises more rows than there are is reported after them)
    words, blocks = [], []
    count = 0
    done = want == 0
    while not done:
        lines = []
        starts = []  # file line number of each kept line
        for line in text:
            lineno += 1
            if lineno == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            lines.append(line)
            starts.append(lineno)
            if want is not None and count + len(lines) >= want:
                done = True
                break
            if len(lines) >= _BLOCK:
                break
        else:
            done = True
        if not lines:
            break
        if dim is None:  # GloVe: the first line fixes the dimension
            dim = len(lines[0].lstrip(" ").partition(" ")[2].split())
            if dim < 1:
                raise WordvecError(f"{path}: line {starts[0]}: a word without values")
        words_block, rests = [], []
        for line in lines:
            w, _, rest = line.lstrip(" ").partition(" ")
            words_block.append(w.rstrip("\n"))
            rests.append(rest)
        block = _parse_block(path, rests, starts, dim)
        _check_finite_block(path, block, rests, starts)
        words.extend(words_block)
        blocks.append(block)
        count += len(lines)
    if n is not None and (limit is None or limit > count) and count < n:
        raise WordvecError(f"{path}: the header promises {n} words but the file has {count} "
                           "(truncated file?)")
    if n is not None and limit is None:
        for line in text:
            lineno += 1
            if line.strip():
                raise WordvecError(f"{path}: line {lineno}: more rows than the header's {n}")
    if dim is None:
        raise WordvecError(f"{path}: empty file, no vectors in it")
    matrix = np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)
    return words, matrix


def _check_finite_block(path, block, rests, starts):
    finite = np.isfinite(block)
    if not finite.all():
        row, col = (int(x) for x in np.argwhere(~finite)[0])
        value = rests[row].split()[col] if col < len(rests[row].split()) else "?"
        raise WordvecError(f"{path}: line {starts[row]}: value {col + 1} ({value[:20]!r}) is "
                           "NaN, infinite or beyond float32's range")


def _parse_block(path, rests, starts, dim):
    try:
        with warnings.catch_warnings():  # (e.g. "input contained no data": reported below)
            warnings.simplefilter("ignore")
            block = np.loadtxt(rests, dtype=np.float32, comments=None, ndmin=2)
    except ValueError:
        block = None
    if block is not None and block.shape == (len(rests), dim):
        return block
    # slow path: find the first bad line and say what is wrong with it
    for rest, lineno in zip(rests, starts):
        if "\ufffd" in rest or any(ord(ch) < 32 and ch not in "\t\r\n" for ch in rest):
            raise WordvecError(f"{path}: line {lineno}: binary data where numbers are expected "
                               "(a binary file read as text? let the format be detected)")
        values = rest.split()
        if len(values) != dim:
            raise WordvecError(f"{path}: line {lineno}: {len(values)} values, expected {dim}")
        for v in values:
            try:
                float(v)
            except ValueError:
                raise WordvecError(f"{path}: line {lineno}: {v[:20]!r} is not a number") from None
    raise WordvecError(f"{path}: cannot parse the vectors near line {starts[0]}")


# ---- description ------------------------------------------------------------------------------
_GZIP_MAX_RATIO = 1100  # deflate expands at most ~1032x: a compressed file holds no more


def describe(path):
    """``{"path", "format", "words", "dim", "compressed"}`` for any vectors file or model folder
    (``"compression"``: gzip, bz2, xz or lzma, else None; for a zip member also ``"archive"`` and
    ``"member"``).

    word2vec files are described from their header, checked against the file's size (a header
    that promises more than the file can hold is an error; gzip's is bounded by deflate's largest
    ratio, a zip member by its declared size; bz2 and xz have no cheap bound: their rows are
    checked when read); GloVe files are counted (one read); a native folder's header is checked
    against its vectors array.
    """
    path = os.fspath(path)
    fmt = detect(path)
    info = {"path": path, "format": fmt, "compressed": False}
    if fmt == "native":
        header = native.read_header(path)
        native.check_vectors_shape(path, header)
        info.update(words=header.get("vocab_size"), dim=header.get("dim"),
                    kind=header.get("kind"), wordvec_version=header.get("wordvec_version"))
        return info
    if fmt == "fasttext-bin":
        with _open_raw(path) as f:
            info.update(fasttext_bin.describe(path, f))
        return info
    f, codec, stored, member = _open_source(path)
    with f:
        try:
            compressed = codec is not None or (member is not None
                                               and member.compress_type != zipfile.ZIP_STORED)
            info.update(compressed=compressed, compression=codec)
            if member is not None:
                info.update(archive=archives.split_member(path)[0], member=member.filename)
            first = f.readline(4096)
            if fmt != "glove":
                n, dim = _parse_header(first[3:] if first.startswith(b"\xef\xbb\xbf") else first)
                if n and dim < 1:
                    raise WordvecError(f"{path}: line 1: the header gives dimension {dim}; "
                                       "vectors need >= 1")
                per_row = 4 * dim + 2 if fmt == "word2vec-binary" else 2 * dim + 2
                if codec == "gzip" and n * per_row > _GZIP_MAX_RATIO * stored:
                    raise WordvecError(
                        f"{path}: the header promises {n:,} words of dimension {dim:,}, more "
                        f"than a compressed file of {stored:,} bytes can hold (corrupt header)")
                if codec is None:  # (a zip member yields no more than its declared size)
                    _check_promise(path, n, dim, per_row, stored - len(first), "data")
                info["words"], info["dim"] = n, dim
                return info
            info["dim"] = len(first.split()) - 1
            lines, last = 1, b"\n"
            for chunk in iter(lambda: f.read(1 << 20), b""):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        except _READ_ERRORS as e:
            raise _read_error(path, f, e) from None
        info["words"] = lines + (last != b"\n")  # (blank lines, if any, are counted too)
    return info
