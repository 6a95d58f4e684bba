"""Vocabulary: words in frequency order with counts, and what trainers derive from it.

Frequency order is descending count, ties broken by the word's text (deterministic). Saved and
loaded as ``word count`` lines, the format of word2vec's ``-save-vocab`` and GloVe's
``vocab_count``.
"""

import hashlib
import os
import re

import numpy as np
from numba import njit

from .errors import WordvecError
from .io_util import atomic_write

BAD_WORD = re.compile(r"[ \t\n\r\v\f\x00]")  # ASCII whitespace or NUL: never in a word on disk


def check_words(words, what):
    """Refuse words a whitespace-separated file cannot give back (empty, ASCII whitespace, NUL)."""
    for i, w in enumerate(words):
        if not isinstance(w, str) or not w or BAD_WORD.search(w):
            raise WordvecError(f"cannot write {what}: word {i + 1} ({str(w)[:40]!r}) is empty or "
                               "contains whitespace or NUL")
    try:
        "".join(words).encode("utf-8")
    except UnicodeEncodeError:  # words read from a fastText .bin may hold bytes that are not UTF-8
        for i, w in enumerate(words):
            try:
                w.encode("utf-8")
            except UnicodeEncodeError:
                raise WordvecError(f"cannot write {what}: word {i + 1} ({w[:40]!r}) is not valid "
                                   "UTF-8") from None


class Vocabulary:
    """Words (most frequent first) with their corpus counts.

    Counted from a corpus (:func:`wordvec.encode.count_words`, :func:`wordvec.encode.encode`) it
    also says how it was counted: ``pruned_words``, the words the counting table dropped to bound
    its memory (their counts are lost), and, from ``count_words``, ``raw_tokens``, every token read.
    """

    pruned_words = 0
    raw_tokens = None

    def __init__(self, words, counts):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if len(self.words) != len(self.counts):
            raise WordvecError("vocabulary: words and counts differ in length")
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise WordvecError("vocabulary: a word is listed twice")

    @classmethod
    def from_counts(cls, counts, min_count=1, max_size=None):
        """Build from a ``{word: count}`` mapping: drop words below ``min_count``, sort, truncate."""
        items = [(w, c) for w, c in counts.items() if c >= min_count]
        items.sort(key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            items = items[:max_size]
        return cls([w for w, _ in items], [c for _, c in items])

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __repr__(self):
        return f"Vocabulary({len(self)} words, {self.total:,} tokens)"

    @property
    def total(self):
        """Number of corpus tokens covered by the vocabulary."""
        return int(self.counts.sum())

    # ---- what trainers need -------------------------------------------------------------
    def keep_probabilities(self, sample, total=None):
        """Subsampling keep probabilities (:func:`keep_probabilities`) over ``total`` tokens
        (default: the tokens the vocabulary covers, as word2vec; fastText counts all)."""
        return keep_probabilities(self.counts, sample, self.total if total is None else total)

    def noise_alias(self, power=0.75):
        """Alias table (prob float32[V], alias int32[V]) for O(1) draws from counts**power.

        Built once for given counts and power, then reused (building it is a Python loop over
        the words, ~60 ms for 58 k words: data-parallel training asks for it on every piece of
        every round). The cache is keyed by the counts' bytes, so counts changed in place or
        replaced give a fresh table."""
        key = (float(power), hashlib.sha1(np.ascontiguousarray(self.counts).tobytes()).digest())
        cached = getattr(self, "_alias", None)
        if cached is None or cached[0] != key:
            weights = self.counts.astype(np.float64) ** power
            cached = (key, build_alias(weights / weights.sum()))
            self._alias = cached
        prob, alias = cached[1]
        return prob.copy(), alias.copy()  # (callers own theirs, as before)

    def huffman(self):
        """Huffman codes for hierarchical softmax, CSR-style.

        Returns ``(offsets int64[V+1], codes uint8[n], points int32[n])``: word ``i``'s path from
        the root is ``points[offsets[i]:offsets[i+1]]`` (inner-node rows, 0..V-2) with branch bits
        ``codes[...]``. The tree is built over the words sorted by count (words added to a
        trained model, or fastText's ``</s>``, may come after rarer ones); the result is given
        back by word id.
        """
        if len(self) < 2:
            raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
        counts = self.counts
        if np.all(counts[:-1] >= counts[1:]):
            return _huffman(counts)
        perm = np.argsort(-counts, kind="stable")
        off, codes, points = _huffman(counts[perm])
        pos = np.empty_like(perm)
        pos[perm] = np.arange(len(perm))
        lengths = (off[1:] - off[:-1])[pos]
        new_off = np.zeros(len(perm) + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_off[1:])
        take = np.concatenate([np.arange(off[k], off[k + 1]) for k in pos]).astype(np.int64)
        return new_off, codes[take], points[take]

    # ---- files ---------------------------------------------------------------------------
    def save(self, path, *, force=False, inputs=()):
        """Write ``word count`` lines (atomically; see :func:`wordvec.outputs.check_output`)."""
        check_words(self.words, "a vocabulary file")
        with atomic_write(path, "w", kind="vocab", force=force, inputs=inputs, encoding="utf-8") as f:
            for w, c in zip(self.words, self.counts.tolist()):
                f.write(f"{w} {c}\n")

    @classmethod
    def load(cls, path):
        """Read ``word count`` lines (ours, word2vec's ``-save-vocab``, GloVe's ``vocab_count``).

        Checked line by line: UTF-8 text (no binary or NUL bytes), two fields separated by ASCII
        whitespace (a word may hold any other character), a count of plain digits >= 0, each
        word once, and a total that fits 64 bits. Errors name the file and line.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise WordvecError(f"no such vocabulary file: {path!r}")
        words, counts, seen = [], [], {}
        total = 0
        try:
            with open(path, "rb") as f:
                for n, raw in enumerate(f, 1):
                    if b"\x00" in raw:
                        raise WordvecError(f"{path}:{n}: a NUL byte: a binary file, not a "
                                           "vocabulary")
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise WordvecError(f"{path}:{n}: not UTF-8 text (a binary or "
                                           "differently encoded file?)") from None
                    parts = _ASCII_WS.split(line.strip(_ASCII_WS_CHARS))
                    if parts == [""]:
                        continue
                    if len(parts) != 2:
                        raise WordvecError(f"{path}:{n}: expected 'word count', "
                                           f"got {line.strip()[:60]!r}")
                    w, c = parts
                    if not (c.isascii() and c.isdigit()) or len(c) > 19:
                        raise WordvecError(f"{path}:{n}: count {c[:20]!r} is not an integer "
                                           "from 0 to 2**62")
                    count = int(c)
                    total += count
                    if count > 2**62 or total >= 2**63:
                        raise WordvecError(f"{path}:{n}: count {c} is too large (the counts "
                                           "must add up to less than 2**63)")
                    if w in seen:
                        raise WordvecError(f"{path}:{n}: the word {w[:60]!r} is also on line "
                                           f"{seen[w]}")
                    seen[w] = n
                    words.append(w)
                    counts.append(count)
        except OSError as e:
            raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None
        if not words:
            raise WordvecError(f"vocabulary file {path!r} is empty")
        return cls(words, counts)


_ASCII_WS_CHARS = " \t\n\r\v\f"
_ASCII_WS = re.compile(f"[{_ASCII_WS_CHARS}]+")


def keep_probabilities(counts, sample, total):
    """word2vec's and fastText's subsampling: keep a word of count ``c`` with probability
    ``sqrt(t/f) + t/f`` (at most 1), ``f = c / total`` its frequency and ``t = sample``
    (word2vec.c writes it ``(sqrt(c/(t T)) + 1) t T / c``); ``sample`` 0 keeps every word."""
    if not sample or sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    ratio = sample * float(total) / np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    return np.minimum(np.sqrt(ratio) + ratio, 1.0).astype(np.float32)


def build_alias(p):
    """Vose's alias method for a probability vector ``p`` (sums to 1)."""
    n = len(p)
    scaled = np.asarray(p, dtype=np.float64) * n
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int32)
    small = [i for i in np.flatnonzero(scaled < 1.0)]
    large = [i for i in np.flatnonzero(scaled >= 1.0)]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    return prob.astype(np.float32), alias


@njit(cache=True)
def _huffman(counts):
    v = counts.shape[0]
    count = np.empty(2 * v, dtype=np.int64)
    count[:v] = counts
    count[v:] = np.int64(1) << 62
    parent = np.zeros(2 * v, dtype=np.int64)
    binary = np.zeros(2 * v, dtype=np.uint8)
    pos1 = v - 1
    pos2 = v
    for a in range(v - 1):
        mins = np.empty(2, dtype=np.int64)
        for k in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                mins[k] = pos1
                pos1 -= 1
            else:
                mins[k] = pos2
                pos2 += 1
        count[v + a] = count[mins[0]] + count[mins[1]]
        parent[mins[0]] = v + a
        parent[mins[1]] = v + a
        binary[mins[1]] = 1
    lengths = np.zeros(v, dtype=np.int64)
    root = 2 * v - 2
    for a in range(v):
        b = a
        n = 0
        while b != root:
            n += 1
            b = parent[b]
        lengths[a] = n
    offsets = np.zeros(v + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    codes = np.empty(offsets[v], dtype=np.uint8)
    points = np.empty(offsets[v], dtype=np.int32)
    for a in range(v):
        n = lengths[a]
        b = a
        i = n - 1
        while b != root:  # walk leaf -> root, fill root -> leaf
            codes[offsets[a] + i] = binary[b]
            b = parent[b]
            points[offsets[a] + i] = b - v
            i -= 1
    return offsets, codes, points
