"""fastText's character n-gram subwords, hashed exactly as fastText 0.9 does.

A word ``w`` is wrapped as ``"<w>"``. Its n-grams are all runs of ``minn..maxn`` *Unicode
characters* of the wrapped word (fastText walks the UTF-8 bytes and skips continuation bytes
``10xxxxxx`` as n-gram starts and absorbs them into the current character), hashed over their
UTF-8 bytes with 32-bit FNV-1a, where each byte is XORed in as a *signed* char widened to 32 bits
(``h ^= uint32(int8(byte))``; bytes >= 0x80 thus XOR ``0xFFFFFF00 | byte``), then ``h *=
16777619``. An n-gram's row is ``V + hash % bucket`` (after the ``V`` word rows).

Details that follow fastText's ``Dictionary::computeSubwords`` / ``initNgrams``:

- the n-gram equal to the whole wrapped word (e.g. ``"<of>"`` for ``of`` with maxn >= 4) IS
  included; the only n-grams skipped are the one-character n-grams ``"<"`` and ``">"`` (only
  possible when ``minn == 1``);
- duplicates are kept (``"<aaaa>"`` has ``"aaa"`` twice, hashed into the same row twice), so
  a row counts as often as the n-gram occurs;
- a known word's rows are its own word row ``i`` followed by its n-gram rows; an unseen word has
  only its n-gram rows; ``maxn == 0`` means no n-grams at all (fastText then sets bucket 0).

The vocabulary is hashed once, in Numba, into CSR arrays (``offsets`` int64[V+1], ``rows``
int32[...]) that the training kernels read; nothing hashes in the hot loop.
"""

import numpy as np
from numba import njit

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
BOW, EOW = "<", ">"


@njit(inline="always", nogil=True, cache=True)
def _fnv1a(buf, a, b):
    """fastText's 32-bit FNV-1a over ``buf[a:b]`` (uint8), bytes taken as signed chars."""
    h = np.uint64(FNV_OFFSET)
    for p in range(a, b):
        c = np.uint64(buf[p])
        if c >= 128:
            c |= np.uint64(0xFFFFFF00)
        h = ((h ^ c) * np.uint64(FNV_PRIME)) & np.uint64(0xFFFFFFFF)
    return h


@njit(nogil=True, cache=True)
def _subword_rows(buf, starts, minn, maxn, bucket, base, self_rows, out_off, out_rows, fill):
    """Count (``fill`` False) or write (``fill`` True) the rows of each wrapped word.

    Word ``k`` is ``buf[starts[k]:starts[k+1]]`` (UTF-8 of ``"<word>"``). When ``self_rows`` its
    own row ``k`` comes first. Row of an n-gram: ``base + hash % bucket``.
    """
    total = 0
    for k in range(starts.shape[0] - 1):
        a = starts[k]
        b = starts[k + 1]
        pos = out_off[k] if fill else 0
        n_rows = 0
        if self_rows:
            if fill:
                out_rows[pos] = k
            pos += 1
            n_rows += 1
        if maxn > 0:
            for i in range(a, b):
                if (buf[i] & 0xC0) == 0x80:
                    continue
                j = i
                n = 1
                while j < b and n <= maxn:
                    j += 1
                    while j < b and (buf[j] & 0xC0) == 0x80:
                        j += 1
                    if n >= minn and not (n == 1 and (i == a or j == b)):
                        if fill:
                            out_rows[pos] = base + np.int64(_fnv1a(buf, i, j) % np.uint64(bucket))
                        pos += 1
                        n_rows += 1
                    n += 1
        if not fill:
            out_off[k + 1] = out_off[k] + n_rows
        total += n_rows
    return total


def _pack(words):
    """UTF-8 bytes of ``"<w>"`` for every word, concatenated, with start offsets."""
    # (words read from a fastText .bin keep bytes that are not UTF-8 as surrogates: the same
    # bytes come back here, hashed as fastText hashes them)
    data = [(BOW + w + EOW).encode("utf-8", "surrogateescape") for w in words]
    lengths = np.fromiter((len(d) for d in data), dtype=np.int64, count=len(data))
    starts = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    buf = np.frombuffer(b"".join(data), dtype=np.uint8) if data else np.zeros(0, np.uint8)
    return buf, starts


def subword_csr(words, minn, maxn, bucket, include_word=True):
    """Rows of every word as CSR: ``(offsets int64[V+1], rows int32[...])``.

    Word ``i``'s rows are ``rows[offsets[i]:offsets[i+1]]``: its own row ``i`` (when
    ``include_word``) then ``V + hash % bucket`` for each n-gram, in fastText's order.
    """
    words = list(words)
    v = len(words)
    if maxn > 0 and bucket < 1:
        raise ValueError("bucket must be >= 1 when maxn > 0")
    if v + max(bucket, 0) >= 2**31:
        raise ValueError("vocabulary + bucket rows exceed the int32 row range")
    buf, starts = _pack(words)
    offsets = np.zeros(v + 1, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int32)
    args = (int(minn), int(maxn), max(int(bucket), 1), np.int64(v), bool(include_word))
    _subword_rows(buf, starts, *args, offsets, dummy, False)
    rows = np.empty(int(offsets[-1]), dtype=np.int32)
    _subword_rows(buf, starts, *args, offsets, rows, True)
    return offsets, rows


def ngrams(word, minn, maxn):
    """The character n-grams of ``word`` as strings, in fastText's order (pure Python)."""
    wrapped = BOW + word + EOW
    out = []
    if maxn <= 0:
        return out
    n_chars = len(wrapped)
    for i in range(n_chars):
        for n in range(1, maxn + 1):
            if i + n > n_chars:
                break
            if n >= minn and not (n == 1 and (i == 0 or i + n == n_chars)):
                out.append(wrapped[i:i + n])
    return out


def fnv1a(data):
    """fastText's hash of ``data`` (str, hashed as UTF-8, or bytes) as a Python int."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    buf = np.frombuffer(data, dtype=np.uint8)
    return int(_fnv1a(buf, 0, len(buf)))


def ngram_buckets(word, minn, maxn, bucket):
    """Bucket indices (``hash % bucket``, 0-based in the n-gram matrix) of ``word``'s n-grams."""
    if maxn <= 0 or bucket < 1:
        return np.zeros(0, dtype=np.int64)
    offsets, rows = subword_csr([word], minn, maxn, bucket, include_word=False)
    return rows.astype(np.int64) - 1  # rows were placed after a one-word vocabulary
