"""Count and encode a corpus in one read: text -> vocabulary + int32 word ids on disk.

The text is tokenised once. Each token gets a provisional id (first-seen order) that is written
to a scratch file, and counting is a ``numpy.bincount`` over those ids. When the table of
distinct words grows past ``max_words_table``, the rarest are pruned (as word2vec and gensim do),
so memory stays bounded: their tokens so far are lost, and ``pruned_words`` (on the
:class:`Vocabulary` and the :class:`EncodedCorpus`) says how many words were dropped. Once the
vocabulary is fixed (``min_count``, ``max_vocab``, frequency order) the scratch ids are remapped
block by block into the final encoded corpus: a memory-mapped ``ids.int32`` file without
out-of-vocabulary tokens, plus sentence offsets. Every epoch and every thread of every trainer
reads that file.
"""

import gc
import os
import shutil
import tempfile
import weakref

import numpy as np

from . import diskio
from . import scratch as scratch_names
from .corpus import CHUNK_CHARS, MAX_SENTENCE_LENGTH, expand_paths, iter_chunks
from .errors import WordvecError
from .vocab import Vocabulary

FLUSH_TOKENS = 1 << 20
MAX_WORDS_TABLE = 10_000_000
SCRATCH_PREFIX = "wordvec-corpus-"
SCRATCH_PATTERN = SCRATCH_PREFIX + "{tag}-[A-Za-z0-9_]+"  # for scratch.clean_stale
STALE_PATTERN = "wordvec-(?:corpus|cooccur|glove)-{tag}-[A-Za-z0-9_]+"  # all TMPDIR scratch


class _ProvisionalIds(dict):
    """word -> provisional id; unseen words get the next id."""

    next_id = 0

    def __missing__(self, word):
        i = self[word] = self.next_id
        self.next_id += 1
        return i


SENTINEL = "\x00"  # stands for a line end inside a chunk of text: provisional id 0, never a word


class _Scan:
    """One pass over the text: provisional ids to a scratch file, counts by bincount.

    Files are tokenised a chunk (1 MB) at a time: line ends become a sentinel token, so a chunk
    costs one ``split`` and one ``map`` over a dict, and sentence lengths come from the
    sentinel positions in numpy, with no Python work per line.
    """

    def __init__(self, scratch_path=None, max_words_table=MAX_WORDS_TABLE,
                 max_sentence_length=MAX_SENTENCE_LENGTH):
        self.ids = _ProvisionalIds()
        self.ids[SENTINEL] = 0
        self.ids.next_id = 1
        self.counts = np.zeros(1024, dtype=np.int64)
        self.scratch = open(scratch_path, "wb") if scratch_path else None
        self.lengths = []  # arrays of tokens per sentence
        self.max_words_table = max_words_table
        self.max_sentence_length = max_sentence_length
        self.min_reduce = 1
        self.tokens = 0
        self.pruned = 0  # table entries dropped by _prune (a word dropped twice counts twice)

    def feed(self, sentences):
        """Scan an iterable of token lists (already cut to the maximum sentence length)."""
        getitem = self.ids.__getitem__
        buf, lens = [], []
        for tokens in sentences:
            buf.extend(map(getitem, tokens))
            lens.append(len(tokens))
            if len(buf) >= FLUSH_TOKENS:
                self._add(np.array(buf, dtype=np.int32), np.array(lens, dtype=np.int64))
                buf, lens = [], []
        self._add(np.array(buf, dtype=np.int32), np.array(lens, dtype=np.int64))

    def feed_files(self, paths, lowercase=False):
        """Scan text files chunk by chunk (a line is a sentence, cut at the maximum length)."""
        for path in expand_paths(paths):
            self.feed_chunks(iter_chunks(path, CHUNK_CHARS), lowercase)

    def feed_chunks(self, chunks, lowercase=False):
        """Scan one file given as its decoded text chunks (:func:`wordvec.corpus.iter_chunks`)."""
        carry = ""  # a token cut by the chunk boundary
        pending = 0  # tokens of the current line seen in earlier chunks
        for chunk in chunks:
            chunk = carry + chunk
            cut = len(chunk)
            if not chunk[-1].isspace():
                cut = max(chunk.rfind(" "), chunk.rfind("\n"), chunk.rfind("\t"), chunk.rfind("\r")) + 1
            carry = chunk[cut:]
            pending = self._scan_text(chunk[:cut], pending, lowercase)
        self._scan_text(carry + "\n", pending, lowercase)  # the file ends the last line

    def _scan_text(self, text, pending, lowercase):
        if lowercase:
            text = text.lower()
        if SENTINEL in text:  # a NUL of the text is whitespace, never a word nor a line end
            text = text.replace(SENTINEL, " ")
        tokens = text.replace("\n", " \x00 ").split()
        ids = np.fromiter(map(self.ids.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        ends = np.flatnonzero(ids == 0)
        if len(ends) == 0:
            self._add(ids, None)
            return pending + len(ids)
        line_lens = np.diff(ends, prepend=-1) - 1
        line_lens[0] += pending
        self._add(ids[ids != 0], line_lens)
        return len(ids) - int(ends[-1]) - 1

    def _add(self, ids, line_lens):
        """Record word ids and finished lines' lengths (empty lines dropped, long ones cut)."""
        if line_lens is not None and len(line_lens):
            lens = line_lens[line_lens > 0]
            n = self.max_sentence_length
            if len(lens) and lens.max() > n:
                q, r = np.divmod(lens, n)
                pieces = q + (r > 0)
                cut = np.full(int(pieces.sum()), n, dtype=np.int64)
                cut[np.cumsum(pieces) - 1] = np.where(r > 0, r, n)
                lens = cut
            self.lengths.append(lens.astype(np.int64))
        self._flush(ids)
        if len(self.ids) > self.max_words_table:
            self._prune()

    def _flush(self, arr):
        if not len(arr):
            return
        self.tokens += len(arr)
        if self.scratch is not None:
            arr.tofile(self.scratch)
        n = self.ids.next_id
        if n > len(self.counts):
            grown = np.zeros(max(n, 2 * len(self.counts)), dtype=np.int64)
            grown[: len(self.counts)] = self.counts
            self.counts = grown
        self.counts[:n] += np.bincount(arr, minlength=n)

    def sentence_lengths(self):
        return np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64)

    def _prune(self):
        """Forget the rarest words (count < min_reduce, raised each time) to bound memory.

        A forgotten word's count so far is lost; if it comes back it starts again from zero
        under a new provisional id, and its earlier tokens are not in the encoded corpus.
        """
        while len(self.ids) > self.max_words_table * 0.7:
            counts = self.counts
            dead = [w for w, i in self.ids.items() if counts[i] < self.min_reduce and i != 0]
            for w in dead:
                del self.ids[w]
            self.pruned += len(dead)
            self.min_reduce += 1

    def vocabulary(self, min_count, max_vocab):
        ids = self.ids
        counts = self.counts
        items = [(w, int(counts[i])) for w, i in ids.items() if counts[i] >= min_count]
        items.sort(key=lambda wc: (-wc[1], wc[0]))
        if max_vocab is not None:
            items = items[:max_vocab]
        vocab = Vocabulary([w for w, _ in items], [c for _, c in items])
        vocab.pruned_words = self.pruned
        remap = np.full(max(ids.next_id, 1), -1, dtype=np.int32)
        for new, (w, _) in enumerate(items):
            remap[ids[w]] = new
        return vocab, remap

    def close(self):
        if self.scratch is not None:
            self.scratch.close()


def count_words(corpus, min_count=5, max_vocab=None, lowercase=False,
                max_sentence_length=MAX_SENTENCE_LENGTH, max_words_table=MAX_WORDS_TABLE):
    """Count a corpus (paths or an iterable of token lists) and return its :class:`Vocabulary`."""
    scan = _Scan(None, max_words_table, max_sentence_length)
    _feed(scan, corpus, lowercase, max_sentence_length)
    _check_scan(scan)
    vocab, _ = scan.vocabulary(min_count, max_vocab)
    _check_vocab(vocab, scan, min_count)
    vocab.raw_tokens = scan.tokens
    return vocab


class EncodedCorpus:
    """A corpus as int32 vocabulary ids with sentence boundaries.

    ``ids[offsets[s]:offsets[s+1]]`` are the words of sentence ``s``, out-of-vocabulary tokens
    removed. ``ids`` is a read-only memory map when built from text. ``raw_tokens`` counts every
    token read (in the vocabulary or not); ``pruned_words`` is how many words the counting table
    dropped to bound its memory (0 unless the corpus had more than ``max_words_table`` distinct
    words).
    """

    def __init__(self, vocab, ids, offsets, raw_tokens=None, folder=None, owns_folder=False,
                 pruned_words=0):
        self.vocab = vocab
        self.ids = ids
        self.offsets = offsets
        self.raw_tokens = int(raw_tokens if raw_tokens is not None else len(ids))
        self.pruned_words = int(pruned_words)
        self.folder = folder
        self._owns_folder = owns_folder
        # a scratch folder never outlives the object, nor the process when nobody closes it
        self._cleanup = (weakref.finalize(self, shutil.rmtree, folder, True)
                         if owns_folder and folder else None)

    @property
    def n_tokens(self):
        return int(self.offsets[-1])

    @property
    def n_sentences(self):
        return len(self.offsets) - 1

    def __repr__(self):
        return (f"EncodedCorpus({self.n_tokens:,} tokens in {self.n_sentences:,} sentences, "
                f"{len(self.vocab):,} words)")

    def sentences(self):
        """Yield each sentence as an int32 array (a view)."""
        for s in range(self.n_sentences):
            yield self.ids[self.offsets[s]:self.offsets[s + 1]]

    def close(self):
        """Drop the memory map and delete the scratch folder if this object created it."""
        self.ids = None
        if self._cleanup is not None:
            self._cleanup()  # removes the folder (once)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @classmethod
    def from_arrays(cls, vocab, sentences):
        """Build in memory from a list of id sequences (tests, small data)."""
        lengths = [len(s) for s in sentences]
        offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(lengths)
        ids = (np.concatenate([np.asarray(s, dtype=np.int32) for s in sentences])
               if sentences else np.zeros(0, dtype=np.int32))
        return cls(vocab, ids, offsets)


class OpenedText:
    """One file given as its decoded text chunks (:func:`wordvec.corpus.iter_stream_chunks`),
    read by :func:`encode` as it reads a path: a shard that a Dask worker opened with fsspec."""

    def __init__(self, chunks):
        self.chunks = chunks


def encode(corpus, min_count=5, max_vocab=None, lowercase=False,
           max_sentence_length=MAX_SENTENCE_LENGTH, workdir=None,
           max_words_table=MAX_WORDS_TABLE, vocab=None, allow_empty=False):
    """Count and encode ``corpus`` (paths, an :class:`OpenedText`, or an iterable of token
    lists) in one read.

    Returns an :class:`EncodedCorpus` whose files live in ``workdir`` (a new temporary folder by
    default, deleted by ``close()``). With ``vocab`` given, that vocabulary is used as is, and
    with ``allow_empty`` a corpus without any of its words is no error (one shard of many).
    """
    owns = workdir is None
    folder = scan = None
    try:
        if owns:
            tmp = tempfile.gettempdir()
            # the scratch of dead runs (this module's and the co-occurrence chunks): one line
            scratch_names.clean_stale(tmp, STALE_PATTERN)
            # private (0700), named with the owner tag so a later run can tell it is stale
            folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{scratch_names.tag()}-", dir=tmp)
            what, hint = f"the scratch corpus in {folder}", diskio.scratch_hint(tmp)
        else:
            folder = workdir
            os.makedirs(folder, exist_ok=True)
            what, hint = f"the encoded corpus in {folder}", ""
        scratch = os.path.join(folder, "scratch.int32")
        with diskio.writing(what, hint):
            scan = _Scan(scratch, max_words_table, max_sentence_length)
            try:
                _feed(scan, corpus, lowercase, max_sentence_length)
                scan.close()
                if not (allow_empty and vocab is not None):
                    _check_scan(scan)
                if vocab is None:
                    vocab, remap = scan.vocabulary(min_count, max_vocab)
                    _check_vocab(vocab, scan, min_count)
                    scan.ids = None  # the table of every word seen: free it first
                    packed = _pack(vocab)
                    vocab = None
                    vocab = _unpack(*packed)
                else:
                    remap = np.full(max(scan.ids.next_id, 1), -1, dtype=np.int32)
                    for w, i in scan.ids.items():
                        remap[i] = vocab.index.get(w, -1)
                    scan.ids = None
                lengths = scan.sentence_lengths()
                scan.lengths = None  # the per-chunk arrays: free them before remapping
                ids, offsets = _remap(scratch, os.path.join(folder, "ids.int32"), remap, lengths)
                del lengths
            finally:
                scan.close()
                if os.path.exists(scratch):
                    os.unlink(scratch)
            if len(ids) == 0 and not (allow_empty and vocab is not None):
                raise WordvecError("the corpus has no in-vocabulary words to train on")
            np.save(os.path.join(folder, "offsets.npy"), offsets)
        _trim_heap()
        return EncodedCorpus(vocab, ids, offsets, scan.tokens, folder, owns, pruned_words=scan.pruned)
    except BaseException:
        if owns and folder is not None:
            ids = None
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _pack(vocab):
    """The words of ``vocab`` as one string and their lengths, with its counts (see _unpack)."""
    return "".join(vocab.words), [len(w) for w in vocab.words], vocab.counts, vocab.pruned_words


def _unpack(joined, lengths, counts, pruned):
    """The vocabulary :func:`_pack` packed, its words new string objects made after the table
    of every word seen was freed. The kept words were allocated among all the others, so they
    would keep the interpreter's small-object arenas of those alive; re-made, they fill a few
    fresh arenas (8 MB less resident memory after encoding a 19 M-token corpus)."""
    gc.collect()
    words, a = [], 0
    for n in lengths:
        words.append(joined[a:a + n])
        a += n
    vocab = Vocabulary(words, counts)
    vocab.pruned_words = pruned
    return vocab


def _trim_heap():
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``): counting
    leaves freed per-chunk and per-line arrays in the heap, which would otherwise stay in the
    resident memory of the training that follows (measured on a 96 M-token corpus)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _remap(scratch, out_path, remap, lengths, block=1 << 20):
    """Map provisional ids to final ids block by block, dropping -1, fixing sentence offsets.

    The scratch file is read with plain reads (not a memory map) one block at a time, and the
    sentence offsets are translated in place, so memory is a few blocks plus two int64 per
    sentence (the caller's ``lengths`` and the offsets).
    """
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    kept = 0
    j = 0  # next offset to translate; off[:j] already hold new positions (all <= a)
    a = 0  # tokens read so far
    local = np.zeros(block + 1, dtype=np.int64)
    with open(scratch, "rb") as src, open(out_path, "wb") as out:
        while True:
            prov = np.fromfile(src, dtype=np.int32, count=block)
            if not len(prov):
                break
            final = remap[prov]
            keep = final >= 0
            np.cumsum(keep, out=local[1:len(final) + 1])
            hi = np.searchsorted(off, a + len(final), side="left")
            off[j:hi] = kept + local[off[j:hi] - a]
            j = hi
            final[keep].tofile(out)
            kept += int(local[len(final)])
            a += len(final)
    off[j:] = kept
    ids = (np.memmap(out_path, dtype=np.int32, mode="r") if kept
           else np.zeros(0, dtype=np.int32))
    return ids, off


def _feed(scan, corpus, lowercase, max_sentence_length):
    """Paths (a path, or a list of paths) are read as text; anything else is token lists."""
    if isinstance(corpus, OpenedText):
        scan.feed_chunks(corpus.chunks, lowercase)
    elif isinstance(corpus, (str, os.PathLike)) or (
            isinstance(corpus, (list, tuple)) and corpus and isinstance(corpus[0], (str, os.PathLike))):
        scan.feed_files(corpus, lowercase)
    else:
        scan.feed(_token_lists(corpus, lowercase, max_sentence_length))


def _token_lists(sentences, lowercase, max_sentence_length):
    for s in sentences:
        if isinstance(s, str):  # a string would be scanned as a list of characters
            raise WordvecError("sentences must be lists of tokens, not strings")
        s = [w.lower() for w in s] if lowercase else list(s)
        for i in range(0, len(s), max_sentence_length):
            yield s[i:i + max_sentence_length]


def _check_scan(scan):
    if scan.tokens == 0:
        raise WordvecError("the corpus is empty: no words found")


def _check_vocab(vocab, scan, min_count):
    if len(vocab) == 0:
        raise WordvecError(
            f"no word occurs at least min_count={min_count} times in the corpus "
            f"({scan.tokens:,} tokens, {len(scan.ids) - 1:,} distinct words); lower --min-count")
