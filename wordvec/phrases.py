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

ENGLISH_CONNECTORS = ("a", "an", "the", "for", "of", "with", "without", "at", "from", "to", "in",
                      "on", "by", "and", "or")  # the same list as gensim's ENGLISH_CONNECTOR_WORDS
MAX_CONNECTORS = 2  # connector words between the two words of a candidate (lord_of_the_rings)
KEY = MAX_CONNECTORS + 2  # ids per candidate: first word, connectors, last word (-1 padding)
MAX_VOCAB = 40_000_000  # candidates counted before the rarest are pruned (gensim's default)
SCORINGS = ("default", "npmi")
FORMAT = "wordvec-phrases"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1 << 31  # a phrases file larger than this is not one
LINE_END = -1  # id of a line end in a chunk
OTHER = -2  # id of a word that is in no phrase (applying)
_NUL = "\x00"
_JOIN = "\t"  # marks a token joined to the one before it (tokens never hold whitespace)


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
def _count_chunk(ids, is_conn, keys, counts, used, state, start_at):
    """Count the candidates of ``ids[start_at:]`` (word ids, ``LINE_END`` at line ends) into the
    table ``keys``/``counts`` (``used`` slots taken). ``state`` carries the open candidate
    across calls: ``[first word or -1, connectors so far, connector ids...]``.

    Returns ``(used, position)``: it stops early (position < len) when the table is half full,
    for the caller to grow or prune it and call again from there."""
    key = np.empty(KEY, dtype=np.int32)
    limit = keys.shape[0] // 2
    n = ids.shape[0]
    for p in range(start_at, n):
        if used >= limit:
            return used, p
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
    for i in range(keys.shape[0]):
        c = counts[i]
        if c >= floor and c > 0:
            j = _find(new_keys, new_counts, keys[i])
            new_keys[j] = keys[i]
            new_counts[j] = c
            used += 1
    return used


class _Table:
    """Candidate counts: a Numba open-addressing table, grown by doubling, pruned past
    ``max_vocab`` entries."""

    def __init__(self, max_vocab):
        self.max_vocab = int(max_vocab)
        self.keys = np.full((1 << 16, KEY), -1, dtype=np.int32)
        self.counts = np.zeros(1 << 16, dtype=np.int64)
        self.used = 0
        self.min_reduce = 1
        self.pruned = 0

    def count(self, ids, is_conn, state):
        pos = 0
        while pos < len(ids):
            self.used, pos = _count_chunk(ids, is_conn, self.keys, self.counts, self.used,
                                          state, pos)
            if pos < len(ids):
                self._make_room()

    def _make_room(self):
        if self.used >= self.max_vocab:  # prune: word2phrase's ReduceVocab, gensim's prune_vocab
            while True:
                floor = self.min_reduce + 1
                self.min_reduce += 1
                kept = int(np.count_nonzero(self.counts >= floor))
                if kept < self.max_vocab * 0.7 or kept == 0:
                    break
            self._rebuild(len(self.counts), floor)
        else:
            self._rebuild(2 * len(self.counts), 1)

    def _rebuild(self, size, floor):
        try:
            keys = np.full((size, KEY), -1, dtype=np.int32)
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


# ---- reading text -----------------------------------------------------------------------------
def _chunks(corpus):
    """Token lists of whole lines, a chunk (about 1 MB of text) at a time, line ends as ``_NUL``
    tokens: from paths (read as ``wordvec train`` reads them) or from an iterable of token
    lists (one sentence each)."""
    from .corpus import CHUNK_CHARS, expand_paths, iter_chunks
    if isinstance(corpus, (str, os.PathLike)) or (
            isinstance(corpus, (list, tuple)) and corpus
            and all(isinstance(c, (str, os.PathLike)) for c in corpus)):
        for path in expand_paths(corpus):
            carry = ""  # the last, unfinished line of the previous chunk
            for text in iter_chunks(path, CHUNK_CHARS):
                text = carry + text
                cut = text.rfind("\n") + 1
                if cut == 0 and len(text) < 64 * CHUNK_CHARS:
                    carry = text
                    continue
                if cut == 0:  # a line of 64 M characters: cut it at a space
                    cut = max(text.rfind(" "), 0) + 1
                carry = text[cut:]
                yield _tokens(text[:cut])
            if carry.strip():
                yield _tokens(carry + "\n")
        return
    batch = []
    for sentence in corpus:
        if isinstance(sentence, str):
            raise WordvecError("a corpus of sentences must hold lists of tokens, not strings")
        batch.extend(sentence)
        batch.append(_NUL)
        if len(batch) >= 1 << 18:
            yield batch
            batch = []
    if batch:
        yield batch


def _tokens(text):
    if _NUL in text:
        text = text.replace(_NUL, " ")
    return text.replace("\n", " \x00 ").split()


def _text(tokens):
    """Text of a chunk's tokens (joined ones marked with ``_JOIN``), line ends restored."""
    out = " ".join(tokens)
    return out.replace(" " + _NUL, _NUL).replace(_NUL + " ", _NUL).replace(_NUL, "\n")


# ---- one pass ---------------------------------------------------------------------------------
class _Ids(dict):
    """word -> id, new words numbered as they come (the counting pass)."""

    def __missing__(self, word):
        i = self[word] = len(self.words)
        self.words.append(word)
        return i


class _Lookup(dict):
    """word -> id for the words of the kept phrases; any other word is OTHER (applying)."""

    def __missing__(self, word):
        return OTHER


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
            lookup = _Lookup((w, i) for i, w in enumerate(conn))
            n = len(lookup)
            for words in self.phrases:
                for w in words:
                    if w not in lookup:
                        lookup[w] = n
                        n += 1
            lookup[_NUL] = LINE_END
            is_conn = np.zeros(n, dtype=np.bool_)
            is_conn[:len(conn)] = True
            size = 1 << max(4, int(math.ceil(math.log2(max(2 * len(self.phrases), 16)))) + 1)
            keys = np.full((size, KEY), -1, dtype=np.int32)
            counts = np.zeros(size, dtype=np.int64)
            key = np.full(KEY, -1, dtype=np.int32)
            new = np.zeros(1, dtype=np.int64)
            for words in self.phrases:
                key[:] = -1
                key[:len(words)] = [lookup[w] for w in words]
                _insert(keys, counts, key, new)
            self._table = (lookup, is_conn, keys, counts)
        return self._table

    def apply(self, tokens):
        """``tokens`` (a chunk, ``_NUL`` at line ends) with this pass's phrases joined."""
        lookup, is_conn, keys, counts = self._compiled()
        get = lookup.__getitem__
        ids = np.fromiter(map(get, tokens), dtype=np.int32, count=len(tokens))
        join = np.zeros(len(tokens), dtype=np.uint8)
        state = np.full(KEY + 2, -1, dtype=np.int64)
        state[1] = 0
        _apply_chunk(ids, is_conn, keys, counts, state, join)
        where = np.flatnonzero(join)
        if not len(where):
            return tokens
        tokens = list(tokens)
        delim = self.settings["delimiter"]
        for p in where[::-1].tolist():  # right to left: a chain a_of_b collects into a
            tokens[p - 1] = tokens[p - 1] + delim + tokens[p]
            tokens[p] = None
        return [t for t in tokens if t is not None]


@njit(cache=True, nogil=True)
def _insert(keys, counts, key, new):
    i = _find(keys, counts, key)
    if counts[i] == 0:
        keys[i] = key
        new[0] += 1
    counts[i] = 1


# ---- the model --------------------------------------------------------------------------------
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
            self.passes.append(self._learn(self._chunks(corpus, upto=k)))
        return self

    def _learn(self, chunks):
        s = self.settings
        ids = _Ids()
        ids.words = []
        for w in s["connectors"]:
            ids[w]
        n_conn = len(ids)
        ids[_NUL] = LINE_END  # (not a word: no entry in ids.words)
        word_counts = np.zeros(1 << 16, dtype=np.int64)
        table = _Table(s["max_vocab"])
        state = np.full(KEY + 2, -1, dtype=np.int64)
        state[1] = 0
        total = 0
        min_reduce = 1
        pruned_words = 0
        for tokens in chunks:
            arr = np.fromiter(map(ids.__getitem__, tokens), dtype=np.int32, count=len(tokens))
            n_ids = len(ids.words)
            if n_ids > len(word_counts):
                word_counts = np.concatenate([word_counts, np.zeros(max(n_ids, len(word_counts)),
                                                                    np.int64)])
            words_only = arr[arr >= 0]
            total += len(words_only)
            word_counts[:n_ids] += np.bincount(words_only, minlength=n_ids)[:n_ids]
            is_conn = np.zeros(n_ids, dtype=np.bool_)
            is_conn[:n_conn] = True
            table.count(arr, is_conn, state)
            if len(ids) > self.max_words:  # forget the rarest words (their ids stay unused)
                while len(ids) > self.max_words * 0.7:
                    dead = [w for w, i in ids.items() if word_counts[i] < min_reduce
                            and i >= n_conn]
                    for w in dead:
                        del ids[w]
                    pruned_words += len(dead)
                    min_reduce += 1
        keys, counts = table.entries()
        phrases = self._score(keys, counts, ids, word_counts, total)
        self.stats.append({"corpus_words": total, "distinct_words": len(ids) - n_conn - 1,
                           "candidates": int(len(counts)), "pruned_candidates": table.pruned,
                           "pruned_words": pruned_words, "phrases": len(phrases)})
        return Pass(phrases, total, self.settings)

    def _score(self, keys, counts, ids, word_counts, total):
        s = self.settings
        if not len(counts) or total == 0:
            return {}
        live = np.zeros(len(ids.words), dtype=np.bool_)
        alive = np.fromiter(ids.values(), dtype=np.int64, count=len(ids))
        live[alive[alive >= 0]] = True
        last = np.where(keys[:, 3] >= 0, 3, np.where(keys[:, 2] >= 0, 2, 1))
        a = keys[:, 0].astype(np.int64)
        b = keys[np.arange(len(keys)), last].astype(np.int64)
        ok = live[a] & live[b] & live[np.maximum(keys[:, 1:], 0)].all(axis=1)
        pa = word_counts[a].astype(np.float64)
        pb = word_counts[b].astype(np.float64)
        pab = counts.astype(np.float64)
        mc = float(s["min_count"])
        with np.errstate(divide="ignore", invalid="ignore"):
            if s["scoring"] == "default":
                ok &= (pa >= mc) & (pb >= mc)
                score = (pab - mc) / pa / pb * float(total)
            else:
                ok &= pab >= mc
                n = float(total)
                score = np.log((pab / n) / ((pa / n) * (pb / n))) / -np.log(pab / n)
                score[pab >= n] = 1.0  # (a pair that is the whole corpus)
        keep = np.flatnonzero(ok & (score > s["threshold"]))
        words = ids.words
        out = {}
        for i in keep.tolist():
            row = keys[i]
            out[tuple(words[j] for j in row if j >= 0)] = (float(score[i]), int(counts[i]))
        return out

    # ---- applying --------------------------------------------------------------------------
    def _chunks(self, corpus, upto=None):
        passes = self.passes if upto is None else self.passes[:upto]
        for tokens in _chunks(corpus):
            for p in passes:
                tokens = p.apply(tokens)
            yield tokens

    def transform(self, sentence: list[str]) -> list[str]:
        """One sentence (a list of tokens) with the phrases of every pass joined."""
        tokens = [t for t in sentence if t != _NUL]
        for p in self.passes:
            tokens = p.apply(tokens)
        return tokens

    def sentences(self, corpus):
        """The sentences of ``corpus`` (paths or token lists) as token lists, phrases joined."""
        for tokens in self._chunks(corpus):
            line = []
            for t in tokens:
                if t == _NUL:
                    yield line
                    line = []
                else:
                    line.append(t)
            if line:
                yield line

    def write(self, corpus, path, *, force: bool = False, inputs=()) -> int:
        """Write ``corpus`` with its phrases joined to ``path`` (atomically; the same lines).
        Returns the number of tokens written."""
        from .io_util import atomic_write
        self.tokens_written = 0
        with atomic_write(path, "w", kind="corpus", force=force, inputs=inputs,
                          encoding="utf-8", newline="\n") as out:
            for text in self.iter_text(corpus):
                out.write(text)
        return self.tokens_written

    def iter_text(self, corpus):
        """The text of ``corpus`` with its phrases joined, a chunk of whole lines at a time."""
        self.tokens_written = 0
        for tokens in self._chunks(corpus):
            self.tokens_written += len(tokens) - tokens.count(_NUL)
            yield _text(tokens)

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
