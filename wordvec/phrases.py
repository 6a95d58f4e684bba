"""Phrases: join frequent collocations into single tokens before training (``new_york``).

The word2vec paper's pre-pass (Mikolov et al. 2013, section 4; the C tool ``word2phrase``) and
gensim's ``Phrases``: count words and word pairs, score each pair, and rewrite the text with the
pairs that score above a threshold joined by a delimiter. Run twice (``passes=2``) it finds
phrases of up to four words, as the word2vec demo does.

- **Candidates.** A candidate is two words that follow each other in a line, or two words with
  at most :data:`MAX_CONNECTORS` connector words between them (``bank of america``), as gensim's
  ``connector_words``: a connector may sit inside a phrase but never start or end one, and is not
  counted as a word of its own. Line ends are boundaries. Every token counts in ``N`` (the corpus
  size).
- **Scores.** ``default`` (word2phrase's, the paper's): ``(count(ab) - min_count) / (count(a)
  count(b)) * N``, for pairs whose words both occur at least ``min_count`` times; ``npmi``
  (normalised PMI, Bouma 2009, as gensim's ``npmi``): ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))``
  with ``p = count / N``, for pairs seen at least ``min_count`` times. A pair is kept when its
  score is **above** ``threshold``.
- **Rewriting** goes left to right and is greedy, as both tools: a candidate that is a kept
  phrase is joined, and its last word cannot start another phrase in the same pass.
- **Bounded memory.** Pair counts live in a Numba hash table; when it holds more than
  ``max_vocab`` candidates the rarest are dropped (count below a floor that rises each time, as
  word2phrase's ``ReduceVocab`` and gensim's ``max_vocab_size``). Word counts are pruned the
  same way past :data:`wordvec.encode.MAX_WORDS_TABLE` words.

Differences from word2phrase, on purpose: it counts a pair across every line end when learning
(but never joins one when rewriting); it has no connector words (use ``connectors=()``); it
scores in float32. gensim's default score multiplies by the number of distinct unigrams and
bigrams it holds instead of ``N``.

Speed: the text is read as UTF-8 bytes, tokenised where ``str.split`` would split it (the
tokens ``wordvec train`` sees) and looked up in a Numba word table, so no Python object is made
per token; reading overlaps counting (two threads), and chunks are rewritten by all cores. Bytes
that are not UTF-8 are kept as they are.

The learned table is saved as JSON (:meth:`Phrases.save`: the settings and, per pass, the kept
phrases with their scores and counts; no pickle) and applied to any text with the same result.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
from numba import njit

from .errors import WordvecError
from .prefetch import prefetch_row

ENGLISH_CONNECTORS = ("a", "an", "the", "for", "of", "with", "without", "at", "from", "to", "in",
                      "on", "by", "and", "or")  # the same list as gensim's ENGLISH_CONNECTOR_WORDS
MAX_CONNECTORS = 2  # connector words between the two words of a candidate (lord_of_the_rings)
KEY = MAX_CONNECTORS + 2  # ids per candidate: first word, connectors, last word (-1 padding)
_AHEAD = 12  # pairs ahead whose table slot is prefetched while counting
MAX_VOCAB = 40_000_000  # candidates counted before the rarest are pruned (gensim's default)
SCORINGS = ("default", "npmi")
FORMAT = "wordvec-phrases"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1 << 31  # a phrases file larger than this is not one
LINE_END = -1  # id of a line end in a chunk
OTHER = -2  # id of a word that is in no phrase (applying)


# ---- counting ---------------------------------------------------------------------------------
@njit(inline="always", nogil=True)
def _hash(key):
    h = np.uint64(0x9E3779B97F4A7C15)
    for k in range(key.shape[0]):
        h ^= np.uint64(np.int64(key[k]) + 2)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


@njit(inline="always", nogil=True)
def _find(keys, counts, key):
    """Slot of ``key`` in the open-addressing table, or of the empty slot where it goes."""
    mask = np.uint64(keys.shape[0] - 1)
    s = _hash(key) & mask
    while True:
        i = np.int64(s)
        if counts[i] == 0:
            return i
        same = True
        for k in range(key.shape[0]):
            if keys[i, k] != key[k]:
                same = False
                break
        if same:
            return i
        s = (s + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _count_chunk(ids, is_conn, keys, counts, used, limit, state, start_at):
    """Count the candidates of ``ids[start_at:]`` (word ids, ``LINE_END`` at line ends) into the
    table ``keys``/``counts`` (``used`` slots taken). ``state`` carries the open candidate
    across calls: ``[first word or -1, connectors so far, connector ids...]``.

    Returns ``(used, position)``: it stops early (position < len) when ``limit`` slots are
    taken, for the caller to grow or prune the table and call again from there."""
    key = np.empty(KEY, dtype=np.int32)
    ahead = np.full(KEY, -1, dtype=np.int32)
    counts2 = counts.reshape(-1, 1)
    mask = np.uint64(keys.shape[0] - 1)
    n = ids.shape[0]
    for p in range(start_at, n):
        if used >= limit:
            return used, p
        # the table is far larger than the caches: start fetching the slot of the pair
        # AHEAD tokens on (when it is two adjacent words) while this one is counted
        q = p + _AHEAD
        if q < n:
            x = ids[q - 1]
            y = ids[q]
            if x >= 0 and y >= 0 and not is_conn[x] and not is_conn[y]:
                ahead[0] = x
                ahead[1] = y
                slot = np.int64(_hash(ahead) & mask)
                prefetch_row(keys, slot)
                prefetch_row(counts2, slot)
        t = ids[p]
        if t == LINE_END:
            state[0] = -1
            state[1] = 0
            continue
        if t < is_conn.shape[0] and is_conn[t]:
            if state[0] >= 0:
                if state[1] < MAX_CONNECTORS:
                    state[2 + state[1]] = t
                    state[1] += 1
                else:  # too many connectors in a row: no candidate through them
                    state[0] = -1
                    state[1] = 0
            continue
        if state[0] >= 0:
            key[0] = state[0]
            m = state[1]
            for k in range(m):
                key[1 + k] = state[2 + k]
            key[1 + m] = t
            for k in range(m + 2, KEY):
                key[k] = -1
            i = _find(keys, counts, key)
            if counts[i] == 0:
                keys[i] = key
                used += 1
            counts[i] += 1
        state[0] = t
        state[1] = 0
    return used, n


@njit(cache=True, nogil=True)
def _rehash(keys, counts, new_keys, new_counts, floor):
    """Move the entries counted at least ``floor`` times into the (empty) new table."""
    used = 0
    new_counts2 = new_counts.reshape(-1, 1)
    mask = np.uint64(new_keys.shape[0] - 1)
    for i in range(keys.shape[0]):
        j = i + _AHEAD
        if j < keys.shape[0] and counts[j] >= floor and counts[j] > 0:  # (see _count_chunk)
            slot = np.int64(_hash(keys[j]) & mask)
            prefetch_row(new_keys, slot)
            prefetch_row(new_counts2, slot)
        c = counts[i]
        if c >= floor and c > 0:
            j = _find(new_keys, new_counts, keys[i])
            new_keys[j] = keys[i]
            new_counts[j] = c
            used += 1
    return used


@njit(cache=True, nogil=True)
def _scores(keys, counts, word_counts, live, total, min_count, npmi, threshold, score):
    """Each candidate's score (see the module doc) and whether it is kept (above
    ``threshold``; its words still counted, and frequent enough)."""
    keep = np.zeros(counts.shape[0], dtype=np.bool_)
    for i in range(counts.shape[0]):
        a = keys[i, 0]
        m = 1
        while m < KEY - 1 and keys[i, m] >= 0 and keys[i, m + 1] >= 0:
            m += 1
        b = keys[i, m]
        ok = live[a] and live[b]
        for k in range(1, m):
            ok = ok and live[keys[i, k]]
        pa = np.float64(word_counts[a])
        pb = np.float64(word_counts[b])
        pab = np.float64(counts[i])
        if npmi:
            ok = ok and pab >= min_count
            if pab >= total:
                sc = 1.0
            else:
                sc = np.log((pab / total) / ((pa / total) * (pb / total))) / -np.log(pab / total)
        else:
            ok = ok and pa >= min_count and pb >= min_count
            sc = (pab - min_count) / pa / pb * total
        score[i] = sc
        keep[i] = ok and sc > threshold
    return keep


class _Table:
    """Candidate counts: a Numba open-addressing table, grown by doubling (kept at most half
    full) up to the size that holds ``max_vocab`` entries at most 70 % full; past ``max_vocab``
    entries the rarest are pruned. About 24 bytes a slot: 1.6 GB for the default 40 M."""

    def __init__(self, max_vocab):
        self.max_vocab = int(max_vocab)
        self.max_size = 1 << int(math.ceil(math.log2(self.max_vocab / 0.7)))
        size = min(1 << 20, self.max_size)
        self.keys = np.empty((size, KEY), dtype=np.int32)  # (a slot is empty while its count is 0)
        self.counts = np.zeros(size, dtype=np.int64)
        self.used = 0
        self.min_reduce = 1
        self.pruned = 0

    def count(self, ids, is_conn, state):
        pos = 0
        while pos < len(ids):
            size = len(self.counts)
            limit = self.max_vocab if size >= self.max_size else size // 2
            self.used, pos = _count_chunk(ids, is_conn, self.keys, self.counts, self.used,
                                          limit, state, pos)
            if pos < len(ids):
                self._make_room()

    def _make_room(self):
        if self.used >= self.max_vocab or len(self.counts) >= self.max_size:
            # prune: word2phrase's ReduceVocab, gensim's prune_vocab
            while True:
                floor = self.min_reduce + 1
                self.min_reduce += 1
                kept = int(np.count_nonzero(self.counts >= floor))
                if kept < self.max_vocab * 0.7 or kept == 0:
                    break
            self._rebuild(len(self.counts), floor)
        else:
            self._rebuild(min(2 * len(self.counts), self.max_size), 1)

    def _rebuild(self, size, floor):
        try:
            keys = np.empty((size, KEY), dtype=np.int32)
            counts = np.zeros(size, dtype=np.int64)
        except MemoryError:
            raise WordvecError(f"not enough memory for {size // 2:,} phrase candidates: lower "
                               "--max-vocab") from None
        before = self.used
        self.used = _rehash(self.keys, self.counts, keys, counts, floor)
        self.pruned += before - self.used
        self.keys, self.counts = keys, counts

    def entries(self):
        live = self.counts > 0
        return self.keys[live], self.counts[live]


# ---- applying ---------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _apply_chunk(ids, is_conn, keys, counts, state, join):
    """Mark the tokens joined to the one before them (``join[p] = 1``) by the kept phrases in
    the table ``keys``/``counts`` (counts > 0 = present). Greedy, left to right: the last word
    of a phrase starts nothing. ``state`` as in :func:`_count_chunk` (a chunk holds whole
    lines, see :func:`_chunks`, so it starts empty)."""
    key = np.empty(KEY, dtype=np.int32)
    n = ids.shape[0]
    for p in range(n):
        t = ids[p]
        if t == LINE_END:
            state[0] = -1
            state[1] = 0
            continue
        if 0 <= t < is_conn.shape[0] and is_conn[t]:
            if state[0] != -1:
                if state[1] < MAX_CONNECTORS:
                    state[2 + state[1]] = t
                    state[1] += 1
                else:
                    state[0] = -1
                    state[1] = 0
            continue
        if state[0] >= 0 and t >= 0:
            key[0] = state[0]
            m = state[1]
            for k in range(m):
                key[1 + k] = state[2 + k]
            key[1 + m] = t
            for k in range(m + 2, KEY):
                key[k] = -1
            i = _find(keys, counts, key)
            if counts[i] > 0:
                for q in range(p - m, p + 1):
                    join[q] = 1
                state[0] = -1
                state[1] = 0
                continue
        # this word opens the next candidate (a word in no phrase: OTHER, which matches nothing)
        state[0] = t if t >= 0 else OTHER
        state[1] = 0


# ---- words as bytes ---------------------------------------------------------------------------
_ASCII_SPACE = np.array([c == 32 or 9 <= c <= 13 or 28 <= c <= 31 or c == 0
                         for c in range(128)], dtype=np.bool_)  # (10, the line end, included)


@njit(inline="always", nogil=True)
def _space(b, i, n):
    """Bytes taken by the whitespace character at ``b[i]`` (UTF-8), 0 if it is not one: the
    characters ``str.isspace`` (hence ``str.split``, which ``wordvec train`` tokenises with)
    calls whitespace, and NUL."""
    c = b[i]
    if c < 0x80:
        return 1 if (c == 32 or 9 <= c <= 13 or 28 <= c <= 31 or c == 0) else 0
    if c == 0xC2:
        if i + 1 < n and (b[i + 1] == 0x85 or b[i + 1] == 0xA0):
            return 2
        return 0
    if i + 2 >= n:
        return 0
    d = b[i + 1]
    e = b[i + 2]
    if c == 0xE1:
        return 3 if d == 0x9A and e == 0x80 else 0
    if c == 0xE2:
        if d == 0x80 and ((0x80 <= e <= 0x8A) or e == 0xA8 or e == 0xA9 or e == 0xAF):
            return 3
        return 3 if d == 0x81 and e == 0x9F else 0
    if c == 0xE3:
        return 3 if d == 0x80 and e == 0x80 else 0
    return 0


@njit(inline="always", nogil=True)
def _word_slot(slots, hashes, woff, arena, b, a, z, h):
    """Slot of the word ``b[a:z]`` (hash ``h``) in the table, or of the empty slot for it."""
    mask = np.uint64(slots.shape[0] - 1)
    s = h & mask
    n = z - a
    while True:
        i = np.int64(s)
        w = slots[i]
        if w < 0:
            return i
        if hashes[w] == h and woff[w + 1] - woff[w] == n:
            o = woff[w]
            same = True
            for k in range(n):
                if arena[o + k] != b[a + k]:
                    same = False
                    break
            if same:
                return i
        s = (s + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _scan(b, slots, hashes, woff, arena, counts, state, ids, starts, ends, add):
    """Tokenise the UTF-8 bytes ``b`` (whole lines) from ``state[0]``: per token its word id
    (``LINE_END`` at each ``\n``; unknown words are added when ``add``, else ``OTHER``) and its
    byte span. ``state`` = [next byte, tokens so far, words, arena bytes used]; known words'
    ``counts`` grow. Stops early (returns 1) when the word table must grow, else returns 0."""
    n = b.shape[0]
    p = state[0]
    k = state[1]
    nw = state[2]
    used = state[3]
    while p < n:
        c = b[p]
        if c == 10:
            ids[k] = LINE_END
            starts[k] = p
            ends[k] = p
            k += 1
            p += 1
            continue
        if c < 0x80:
            if _ASCII_SPACE[c]:
                p += 1
                continue
        else:
            sp = _space(b, p, n)
            if sp:
                p += sp
                continue
        a = p
        h = np.uint64(14695981039346656037)  # the token's FNV-1a hash, as it is read
        while p < n:
            c = b[p]
            if c < 0x80:
                if _ASCII_SPACE[c]:
                    break
            elif (c == 0xC2 or 0xE1 <= c <= 0xE3) and _space(b, p, n):
                break
            h = (h ^ np.uint64(c)) * np.uint64(1099511628211)
            p += 1
        i = _word_slot(slots, hashes, woff, arena, b, a, p, h)
        w = slots[i]
        if w < 0:
            if not add:
                w = OTHER
            else:
                if (nw + 1 >= woff.shape[0] - 1 or used + (p - a) > arena.shape[0]
                        or 2 * (nw + 1) > slots.shape[0]):
                    state[0] = a
                    state[1] = k
                    state[2] = nw
                    state[3] = used
                    return 1
                for q in range(a, p):
                    arena[used + q - a] = b[q]
                used += p - a
                woff[nw + 1] = used
                hashes[nw] = h
                slots[i] = nw
                w = nw
                nw += 1
        if w >= 0 and add:
            counts[w] += 1
        ids[k] = w
        starts[k] = a
        ends[k] = p
        k += 1
    state[0] = p
    state[1] = k
    state[2] = nw
    state[3] = used
    return 0


@njit(cache=True, nogil=True)
def _reslot(slots, hashes, alive, nw):
    """Fill the (empty) slots with the live words ``0..nw-1``."""
    mask = np.uint64(slots.shape[0] - 1)
    for w in range(nw):
        if alive[w]:
            s = hashes[w] & mask
            while slots[np.int64(s)] >= 0:
                s = (s + np.uint64(1)) & mask
            slots[np.int64(s)] = w


@njit(cache=True, nogil=True)
def _emit(b, ids, starts, ends, n_tokens, join, delim, out):
    """The text of the tokens: one space between words, ``delim`` where ``join``, a newline
    for each line end. Returns the bytes written to ``out``."""
    o = 0
    line_start = True
    for k in range(n_tokens):
        if ids[k] == LINE_END:
            out[o] = 10
            o += 1
            line_start = True
            continue
        if not line_start:
            if join[k]:
                for q in range(delim.shape[0]):
                    out[o] = delim[q]
                    o += 1
            else:
                out[o] = 32
                o += 1
        for q in range(starts[k], ends[k]):
            out[o] = b[q]
            o += 1
        line_start = False
    return o


class _Words:
    """Words (UTF-8 bytes) -> ids in a Numba table: connectors first, then words as they come
    (learning), or the words of the kept phrases (applying)."""

    def __init__(self, words=(), capacity=1 << 16):
        self.slots = np.full(1 << 17, -1, dtype=np.int32)
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.woff = np.zeros(capacity + 1, dtype=np.int64)
        self.arena = np.zeros(capacity * 8, dtype=np.uint8)
        self.counts = np.zeros(capacity, dtype=np.int64)
        self.alive = None  # (learning, after pruning: which ids are still words)
        self.n = 0
        self.used = 0
        self._buffers(1 << 16)
        for w in words:
            self.add(w.encode("utf-8", "surrogateescape"))
        self.counts[:] = 0  # (adding counted them)

    def _buffers(self, n):
        self.ids = np.empty(n, dtype=np.int32)
        self.starts = np.empty(n, dtype=np.int64)
        self.ends = np.empty(n, dtype=np.int64)

    def add(self, word: bytes):
        state = np.array([0, 0, self.n, self.used], dtype=np.int64)
        self.scan(np.frombuffer(word, dtype=np.uint8), add=True, state=state)
        return int(self.ids[0])

    def scan(self, b, add, state=None):
        """Tokenise ``b``: ``(ids, starts, ends)`` views for its tokens (see :func:`_scan`)."""
        if state is None:
            state = np.array([0, 0, self.n, self.used], dtype=np.int64)
        if not add:  # (looking up only: buffers of its own, so threads can share the table)
            ids, starts, ends = (np.empty(len(b) + 1, np.int32), np.empty(len(b) + 1, np.int64),
                                 np.empty(len(b) + 1, np.int64))
            _scan(b, self.slots, self.hashes, self.woff, self.arena, self.counts, state, ids,
                  starts, ends, False)
            k = int(state[1])
            return ids[:k], starts[:k], ends[:k]
        if len(self.ids) < len(b) + 1:  # (every token takes at least one byte)
            self._buffers(len(b) + 1)
        while _scan(b, self.slots, self.hashes, self.woff, self.arena, self.counts, state,
                    self.ids, self.starts, self.ends, True):
            self.n, self.used = int(state[2]), int(state[3])
            self._grow(int(state[0]), b)
        self.n, self.used = int(state[2]), int(state[3])
        k = int(state[1])
        return self.ids[:k], self.starts[:k], self.ends[:k]

    def _grow(self, at, b):
        need = self.used + len(b) - at
        if need > len(self.arena):
            self.arena = np.concatenate([self.arena, np.zeros(max(need, len(self.arena)),
                                                              np.uint8)])
        if self.n + 2 >= len(self.hashes):
            grow = len(self.hashes)
            self.hashes = np.concatenate([self.hashes, np.zeros(grow, np.uint64)])
            self.woff = np.concatenate([self.woff, np.zeros(grow, np.int64)])
            self.counts = np.concatenate([self.counts, np.zeros(grow, np.int64)])
            if self.alive is not None:
                self.alive = np.concatenate([self.alive, np.ones(grow, np.bool_)])
        if 2 * (self.n + 2) > len(self.slots):
            self.reslot(2 * len(self.slots))

    def reslot(self, size):
        self.slots = np.full(size, -1, dtype=np.int32)
        alive = self.alive if self.alive is not None else np.ones(self.n, dtype=np.bool_)
        _reslot(self.slots, self.hashes, alive, self.n)

    def live_count(self):
        return self.n if self.alive is None else int(self.alive[:self.n].sum())

    def forget(self, dead):
        """Drop the words ``dead`` (a mask over ids) from the table; their ids stay unused."""
        if self.alive is None:
            self.alive = np.ones(len(self.hashes), dtype=np.bool_)
        self.alive[:self.n] &= ~dead[:self.n]
        self.reslot(len(self.slots))

    def word(self, i):
        return self.arena[self.woff[i]:self.woff[i + 1]].tobytes().decode("utf-8",
                                                                         "surrogateescape")


# ---- reading text -----------------------------------------------------------------------------
def _is_paths(corpus):
    return isinstance(corpus, (str, os.PathLike)) or (
        isinstance(corpus, (list, tuple)) and corpus
        and all(isinstance(c, (str, os.PathLike)) for c in corpus))


def _chunks(corpus):
    """UTF-8 bytes of whole lines, about 1 MB at a time: from paths (opened as ``wordvec
    train`` opens them; the bytes as they are) or from an iterable of token lists (one sentence
    each)."""
    from .corpus import expand_paths, iter_byte_chunks
    if _is_paths(corpus):
        for path in expand_paths(corpus):
            yield from iter_byte_chunks(path)
        return
    batch, size = [], 0
    for sentence in corpus:
        if isinstance(sentence, str):
            raise WordvecError("a corpus of sentences must hold lists of tokens, not strings")
        line = " ".join(sentence) + "\n"
        batch.append(line)
        size += len(line)
        if size >= 1 << 20:
            yield "".join(batch).encode("utf-8", "surrogateescape")
            batch, size = [], 0
    if batch:
        yield "".join(batch).encode("utf-8", "surrogateescape")


# ---- one pass ---------------------------------------------------------------------------------
class Pass:
    """One learned pass: its kept phrases ``{(word, ..., word): (score, count)}``."""

    def __init__(self, phrases, corpus_words, settings):
        self.phrases = dict(phrases)
        self.corpus_words = int(corpus_words)
        self.settings = settings
        self._table = None

    def _compiled(self):
        """The phrases as a Numba table over ids of their own words (connectors first)."""
        if self._table is None:
            conn = list(self.settings["connectors"])
            words = _Words(conn)
            for phrase in self.phrases:
                for w in phrase:
                    words.add(w.encode("utf-8", "surrogateescape"))
            is_conn = np.zeros(max(words.n, 1), dtype=np.bool_)
            is_conn[:len(conn)] = True
            size = 1 << max(4, int(math.ceil(math.log2(max(2 * len(self.phrases), 16)))) + 1)
            keys = np.full((size, KEY), -1, dtype=np.int32)
            counts = np.zeros(size, dtype=np.int64)
            key = np.full(KEY, -1, dtype=np.int32)
            new = np.zeros(1, dtype=np.int64)
            for phrase in self.phrases:
                key[:] = -1
                key[:len(phrase)] = [words.add(w.encode("utf-8", "surrogateescape"))
                                     for w in phrase]
                _insert(keys, counts, key, new)
            delim = np.frombuffer(self.settings["delimiter"].encode("utf-8"), dtype=np.uint8)
            self._table = (words, is_conn, keys, counts, delim)
        return self._table

    def apply(self, b):
        """The UTF-8 bytes ``b`` (whole lines) with this pass's phrases joined: ``(bytes,
        tokens)``."""
        words, is_conn, keys, counts, delim = self._compiled()
        ids, starts, ends = words.scan(np.frombuffer(b, dtype=np.uint8), add=False)
        join = np.zeros(len(ids), dtype=np.uint8)
        state = np.full(KEY + 2, -1, dtype=np.int64)
        state[1] = 0
        _apply_chunk(ids, is_conn, keys, counts, state, join)
        out = np.empty(len(b) + len(ids) * (len(delim) + 1) + 1, dtype=np.uint8)
        n = _emit(np.frombuffer(b, dtype=np.uint8), ids, starts, ends, len(ids), join, delim,
                  out)
        return out[:n].tobytes(), int(np.count_nonzero(ids != LINE_END) -
                                      np.count_nonzero(join))


def kept_phrases(keys, counts, score, keep, word):
    """``{(word, ..., word): (score, count)}`` of the kept candidates, ``word(id)`` naming an
    id, ordered by the words (so that the saved file does not depend on the table's layout)."""
    out = {}
    for i in np.flatnonzero(keep).tolist():
        row = keys[i]
        out[tuple(word(j) for j in row if j >= 0)] = (float(score[i]), int(counts[i]))
    return dict(sorted(out.items()))


def apply_passes(chunks, passes, threads=None):
    """``(bytes, tokens)`` for each chunk of ``chunks`` (UTF-8 bytes of whole lines) with the
    ``passes`` applied in turn (``tokens`` None without a pass), in order. ``threads`` (default:
    the cores, at most 8) apply chunks side by side."""
    if not passes:
        for b in chunks:
            yield b, None
        return
    for p in passes:
        p._compiled()  # (before the threads share it)

    def work(b):
        n = None
        for p in passes:
            b, n = p.apply(b)
        return b, n

    threads = max(1, min(os.cpu_count() or 1, 8)) if threads is None else max(1, int(threads))
    if threads == 1:
        for b in chunks:
            yield work(b)
        return
    # chunks are independent once the phrases are known: the kernels release the GIL, so
    # threads apply them side by side (in order, a bounded number in flight)
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(threads) as pool:
        pending = deque()
        for b in chunks:
            pending.append(pool.submit(work, b))
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


@njit(cache=True, nogil=True)
def _insert(keys, counts, key, new):
    i = _find(keys, counts, key)
    if counts[i] == 0:
        keys[i] = key
        new[0] += 1
    counts[i] = 1


class Phrases:
    """Learn phrases from a corpus and join them in any text; see the module doc.

    >>> ph = Phrases(min_count=5, threshold=100, passes=2).fit("corpus.txt")
    >>> ph.transform(["he", "moved", "to", "new", "york"])   # ['he', 'moved', 'to', 'new_york']
    >>> ph.write("corpus.txt", "phrased.txt"); ph.save("phrases.json")
    """

    def __init__(self, min_count: int = 5, threshold: float = 100.0, scoring: str = "default",
                 connectors=ENGLISH_CONNECTORS, delimiter: str = "_", passes: int = 1,
                 max_vocab: int = MAX_VOCAB):
        self.settings = _check_settings({
            "min_count": min_count, "threshold": threshold, "scoring": scoring,
            "connectors": list(connectors), "delimiter": delimiter, "passes": passes,
            "max_vocab": max_vocab, "max_connectors": MAX_CONNECTORS})
        self.passes: list[Pass] = []
        self.stats: list[dict] = []
        from .encode import MAX_WORDS_TABLE
        self.max_words = MAX_WORDS_TABLE  # distinct words counted before the rarest are pruned

    # ---- learning --------------------------------------------------------------------------
    def fit(self, corpus, progress: bool = False) -> Phrases:
        """Learn ``passes`` passes from ``corpus`` (paths, or an iterable of token lists; each
        pass reads it again, through the passes before it). Returns ``self``."""
        self.passes, self.stats = [], []
        for k in range(self.settings["passes"]):
            if k and not isinstance(corpus, (str, os.PathLike, list, tuple)):
                raise WordvecError("learning several passes reads the corpus again: give paths "
                                   "or a list of sentences, not a one-shot iterator")
            self.passes.append(self._learn(b for b, _ in self._chunks(corpus, upto=k)))
        return self

    def _learn(self, chunks):
        words, table, total, pruned_words = self._count(chunks)
        keys, counts = table.entries()
        phrases = self._score(keys, counts, words, total)
        self.stats.append({"corpus_words": total,
                           "distinct_words": words.live_count() - words.n_conn,
                           "candidates": int(len(counts)), "pruned_candidates": table.pruned,
                           "pruned_words": pruned_words, "phrases": len(phrases)})
        return Pass(phrases, total, self.settings)

    def _count(self, chunks, overlap=True):
        """Count the words and the candidates of ``chunks`` (UTF-8 bytes of whole lines) ->
        ``(words, table, tokens, pruned words)``: the :class:`_Words` (connectors first), the
        :class:`_Table` of candidates, every token read (counts of pruned words included).
        ``overlap``: read and tokenise a chunk while the one before is counted (two threads)."""
        s = self.settings
        words = _Words(s["connectors"])
        n_conn = words.n_conn = words.n
        is_conn = np.zeros(1, dtype=np.bool_)
        table = _Table(s["max_vocab"])
        state = np.full(KEY + 2, -1, dtype=np.int64)
        state[1] = 0
        min_reduce = 1
        pruned_words = 0
        # reading and tokenising a chunk (this thread) overlaps counting the pairs of the one
        # before (a second thread: the kernels release the GIL; the pair table is its alone)
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(1) if overlap else None
        counting = None
        try:
            for b in chunks:
                ids = words.scan(np.frombuffer(b, dtype=np.uint8), add=True)[0].copy()
                if len(is_conn) < words.n:
                    is_conn = np.zeros(max(words.n, 2 * len(is_conn)), dtype=np.bool_)
                    is_conn[:n_conn] = True
                if counting is not None:
                    counting.result()
                    counting = None
                if pool is not None:
                    counting = pool.submit(table.count, ids, is_conn, state)
                else:
                    table.count(ids, is_conn, state)
                if words.live_count() > self.max_words:  # forget the rarest words
                    while words.live_count() > self.max_words * 0.7:
                        dead = words.counts < min_reduce
                        dead[:n_conn] = False
                        if words.alive is not None:
                            dead &= words.alive
                        pruned_words += int(dead[:words.n].sum())
                        words.forget(dead)
                        min_reduce += 1
            if counting is not None:
                counting.result()
        finally:
            if pool is not None:
                pool.shutdown()
        total = int(words.counts[:words.n].sum())  # (counts of pruned words included)
        words.min_reduce = min_reduce  # (the floor the next pruning of words starts from)
        return words, table, total, pruned_words

    def _score(self, keys, counts, words, total):
        s = self.settings
        if not len(counts) or total == 0:
            return {}
        live = np.ones(words.n, dtype=np.bool_) if words.alive is None else \
            words.alive[:words.n].copy()
        score = np.empty(len(counts), dtype=np.float64)
        keep = _scores(keys, counts, words.counts, live, float(total), float(s["min_count"]),
                       s["scoring"] == "npmi", float(s["threshold"]), score)
        return kept_phrases(keys, counts, score, keep, words.word)

    # ---- applying --------------------------------------------------------------------------
    def _chunks(self, corpus, upto=None):
        """UTF-8 bytes of whole lines of ``corpus`` with the passes (up to ``upto``) applied,
        and how many tokens they hold."""
        passes = self.passes if upto is None else self.passes[:upto]
        yield from apply_passes(_chunks(corpus), passes)

    def transform(self, sentence: list[str]) -> list[str]:
        """One sentence (a list of tokens) with the phrases of every pass joined."""
        b = (" ".join(sentence) + "\n").encode("utf-8", "surrogateescape")
        for p in self.passes:
            b, _ = p.apply(b)
        return b.decode("utf-8", "surrogateescape").split()

    def sentences(self, corpus):
        """The sentences of ``corpus`` (paths or token lists) as token lists, phrases joined."""
        for b, _ in self._chunks(corpus):
            for line in b.decode("utf-8", "surrogateescape").split("\n")[:-1]:
                yield line.split()

    def write(self, corpus, path, *, force: bool = False, inputs=()) -> int:
        """Write ``corpus`` with its phrases joined to ``path`` (atomically; the same lines).
        Returns the number of tokens written."""
        from .io_util import atomic_write
        with atomic_write(path, "wb", kind="corpus", force=force, inputs=inputs) as out:
            for b in self.iter_bytes(corpus):
                out.write(b)
        return self.tokens_written

    def iter_bytes(self, corpus):
        """The UTF-8 text of ``corpus`` with its phrases joined, whole lines at a time
        (``tokens_written`` counts its tokens)."""
        self.tokens_written = 0
        for b, n in self._chunks(corpus):
            if n is None:  # (no pass: the text as tokens and lines)
                n = len(b.split()) if b else 0
            self.tokens_written += n
            yield b

    @property
    def phrases(self) -> dict:
        """Every kept phrase of every pass, joined with the delimiter: ``{phrase: score}``."""
        d = self.settings["delimiter"]
        return {d.join(words): score for p in self.passes
                for words, (score, _) in p.phrases.items()}

    # ---- files ---------------------------------------------------------------------------
    def save(self, path, *, force: bool = False, inputs=()) -> None:
        """Save as JSON (settings, and per pass its phrases with scores and counts)."""
        from .io_util import atomic_write
        doc = {"format": FORMAT, "version": FORMAT_VERSION, "settings": self.settings,
               "passes": [{"corpus_words": p.corpus_words,
                           "phrases": [[list(w), s, c] for w, (s, c) in p.phrases.items()]}
                          for p in self.passes],
               "stats": self.stats}
        with atomic_write(path, "w", kind="phrases", force=force, inputs=inputs,
                          encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
            f.write("\n")

    @classmethod
    def load(cls, path) -> Phrases:
        """A phrases file written by :meth:`save`, checked field by field."""
        path = os.fspath(path)
        try:
            if not os.path.isfile(path):
                raise WordvecError(f"{path}: no such phrases file" if not os.path.exists(path)
                                   else f"{path}: not a regular file")
            if os.path.getsize(path) > MAX_FILE_BYTES:
                raise WordvecError(f"{path}: too large for a phrases file")
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
            raise WordvecError(f"{path}: not a wordvec phrases file ({str(e)[:80]})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise WordvecError(f"{path}: not a wordvec phrases file (written by 'wordvec "
                               "phrases --save')")
        if doc.get("version") != FORMAT_VERSION:
            raise WordvecError(f"{path}: phrases file version {doc.get('version')!r} is not "
                               f"supported (this wordvec reads version {FORMAT_VERSION})")
        settings = doc.get("settings")
        if not isinstance(settings, dict):
            raise WordvecError(f"{path}: phrases file without settings")
        try:
            settings = _check_settings(settings)
        except WordvecError as e:
            raise WordvecError(f"{path}: {e}") from None
        passes = doc.get("passes")
        if not isinstance(passes, list) or len(passes) != settings["passes"]:
            raise WordvecError(f"{path}: the phrases file holds {len(passes) if isinstance(passes, list) else 'no'} "
                               f"passes, its settings say {settings['passes']}")
        self = cls.__new__(cls)
        self.settings = settings
        from .encode import MAX_WORDS_TABLE
        self.max_words = MAX_WORDS_TABLE
        self.stats = [s for s in doc.get("stats", []) if isinstance(s, dict)] \
            if isinstance(doc.get("stats"), list) else []
        self.passes = []
        conn = set(settings["connectors"])
        for k, p in enumerate(passes):
            where = f"{path}: pass {k + 1}"
            if not isinstance(p, dict) or not isinstance(p.get("phrases"), list) or \
                    not _is_int(p.get("corpus_words")) or p["corpus_words"] < 0:
                raise WordvecError(f"{where}: malformed (needs corpus_words and phrases)")
            table = {}
            for i, item in enumerate(p["phrases"]):
                bad = f"{where}, phrase {i + 1}: "
                if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], list)
                        and isinstance(item[1], (int, float)) and not isinstance(item[1], bool)
                        and _is_int(item[2])):
                    raise WordvecError(bad + "not [[words], score, count]")
                words = item[0]
                if not 2 <= len(words) <= KEY or not all(
                        isinstance(w, str) and w and not any(c.isspace() for c in w)
                        for w in words):
                    raise WordvecError(bad + f"needs 2 to {KEY} words without whitespace")
                if words[0] in conn or words[-1] in conn or not all(w in conn for w in words[1:-1]):
                    raise WordvecError(bad + "a phrase is two words with only connector words "
                                       "between them")
                if not math.isfinite(item[1]):
                    raise WordvecError(bad + "its score is not a finite number")
                table[tuple(words)] = (float(item[1]), int(item[2]))
            self.passes.append(Pass(table, p["corpus_words"], settings))
        return self

    def __repr__(self):
        n = sum(len(p.phrases) for p in self.passes)
        return (f"Phrases({n:,} phrases in {len(self.passes)} pass(es), "
                f"{self.settings['scoring']} > {self.settings['threshold']})")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check_settings(s):
    """The settings, checked (one WordvecError naming the bad one)."""
    out = dict(s)
    if not _is_int(out.get("min_count")) or out["min_count"] < 1:
        raise WordvecError(f"min_count must be an integer >= 1, not {out.get('min_count')!r}")
    t = out.get("threshold")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        raise WordvecError(f"threshold must be a finite number, not {t!r}")
    out["threshold"] = float(t)
    if out.get("scoring") not in SCORINGS:
        raise WordvecError(f"scoring must be one of {', '.join(SCORINGS)}, not "
                           f"{out.get('scoring')!r}")
    if out["scoring"] == "npmi" and not -1 <= out["threshold"] <= 1:
        raise WordvecError(f"an npmi threshold lies between -1 and 1, not {out['threshold']}")
    d = out.get("delimiter")
    if not isinstance(d, str) or not d or any(c.isspace() for c in d):
        raise WordvecError(f"the delimiter must be a non-empty string without whitespace, not "
                           f"{d!r}")
    conn = out.get("connectors")
    if not isinstance(conn, list) or not all(
            isinstance(w, str) and w and not any(c.isspace() for c in w) for w in conn):
        raise WordvecError("connectors must be a list of words without whitespace")
    out["connectors"] = list(dict.fromkeys(conn))
    if not _is_int(out.get("passes")) or not 1 <= out["passes"] <= 10:
        raise WordvecError(f"passes must be an integer from 1 to 10, not {out.get('passes')!r}")
    if not _is_int(out.get("max_vocab")) or out["max_vocab"] < 100:
        raise WordvecError(f"max_vocab must be an integer >= 100, not {out.get('max_vocab')!r}")
    if out.get("max_connectors", MAX_CONNECTORS) != MAX_CONNECTORS:
        raise WordvecError(f"phrases with up to {out.get('max_connectors')!r} connector words "
                           f"are not supported (this wordvec: {MAX_CONNECTORS})")
    out["max_connectors"] = MAX_CONNECTORS
    return out


def read_connectors(path):
    """Connector words from a file: whitespace-separated words, ``#`` starts a comment."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(1 << 24)
    except (OSError, UnicodeDecodeError) as e:
        raise WordvecError(f"{path}: cannot read the connector words ({e})") from None
    words = []
    for line in text.splitlines():
        words.extend(line.split("#", 1)[0].split())
    return words
