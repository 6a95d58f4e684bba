"""Counting on a Dask cluster: the vocabulary of a corpus in many shards, as map-reduce.

``pip install 'wordvec[dask]'`` (``dask[distributed]`` and ``fsspec``); nothing else in wordvec
imports this module, so ``import wordvec`` never imports Dask.

A *shard* is one file: a local path that every worker can read at the same path (a shared file
system; folders are expanded, sorted, as everywhere in wordvec, and a quoted glob pattern is
expanded here), or an fsspec URL (``s3://bucket/shard-*.txt.gz``, ``file:///data/shard.txt``)
opened on the worker with fsspec, compression inferred from the name, where the backend
(``s3fs``, ``gcsfs``, ...) is installed on the workers. A line is a sentence and never crosses a
file, so counting shard by shard is exact.

Vocabulary (:func:`count_words`): one task a shard counts it with the single-machine scanner
(:class:`wordvec.encode._Scan`: the same tokenising, chunking and lowercasing) into a table of
its distinct words sorted by text, with their counts. Tables are merged two at a time as they
come in (a tree of merges on the workers: the client only holds futures, never two tables), and
one last task applies ``min_count`` / ``max_vocab`` and the frequency order (descending count,
ties by the word's text, :meth:`wordvec.vocab.Vocabulary.from_counts`): the words, counts, order
and token total are those of ``wordvec vocab`` on the same files, bit for bit.

Bounded memory, as on one machine: the single-machine scanner forgets its rarest words when its
table passes ``max_words_table`` (10 M) distinct words; a merge does the same when the merged
table does. Below that size (any corpus whose single-machine count prunes nothing) the result
is identical; beyond it, both prune rare words, but at different moments, so the counts of rare
words may differ (``pruned_words`` says how many words were dropped).

Faults: a worker that dies takes its tasks and the tables it holds with it; Dask runs them again
on the others (from the shard files, which are never changed), so the result is the same.
"""

import contextlib
import glob
import logging
import os
import re
import uuid
from collections import namedtuple

import numpy as np

from . import progress as report
from .corpus import CHUNK_CHARS, MAX_SENTENCE_LENGTH, expand_paths, iter_chunks, iter_stream_chunks
from .errors import WordvecError

INSTALL_HINT = "pip install 'wordvec[dask]'"
SEP = "\x00"  # joins a table's words: never inside a word (the scanner makes NUL whitespace)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")

# A word table: the distinct words of some shards sorted by text, joined by SEP (one string
# pickles far faster and smaller than a list), their int64 counts, every token read, the words
# dropped to bound memory, and the pruning floor reached (as the scanner's min_reduce).
Table = namedtuple("Table", "words counts tokens pruned min_reduce")


def _distributed():
    """The ``distributed`` module, or a one-line error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise WordvecError(f"--cluster needs Dask (dask.distributed), which is not installed: "
                           f"{INSTALL_HINT}") from None
    return distributed


def is_url(shard):
    """True for ``scheme://...`` (an fsspec URL), False for a local path."""
    return isinstance(shard, str) and bool(_URL.match(shard))


# ---- the cluster ----------------------------------------------------------------------------
@contextlib.contextmanager
def connect(address="local", workers=None, threads_per_worker=1):
    """A ``distributed.Client`` for ``address``, closed (with the cluster it started) on exit.

    ``"local"``: a ``LocalCluster`` on this machine, ``workers`` processes (default: one a core)
    of ``threads_per_worker`` threads. ``"tcp://host:8786"`` (or any address Dask takes): join
    that running scheduler (``workers`` must be None there). A ``distributed.Client`` is used
    as it is and left open.
    """
    distributed = _distributed()
    if isinstance(address, distributed.Client):
        yield address
        return
    if not isinstance(address, str) or not address.strip():
        raise WordvecError(f"--cluster: expected 'local' or a scheduler address such as "
                           f"tcp://host:8786, not {address!r}")
    if address == "local":
        from .params import resolve_threads
        n = int(workers) if workers is not None else resolve_threads(None)
        if n < 1 or int(threads_per_worker) < 1:
            raise WordvecError("a local cluster needs at least one worker of one thread")
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=int(threads_per_worker),
                                           processes=True, dashboard_address="127.0.0.1:0",
                                           silence_logs=logging.ERROR)
        try:
            client = distributed.Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    if workers is not None:
        raise WordvecError("--workers starts that many workers with --cluster local; a running "
                           f"cluster ({address}) has the workers it has")
    try:
        client = distributed.Client(address)  # (timeout: dask config, 30 s by default)
    except (OSError, TimeoutError, ValueError) as e:
        raise WordvecError(f"cannot reach the Dask scheduler at {address}: "
                           f"{' '.join(str(e).split()) or type(e).__name__}") from None
    try:
        yield client
    finally:
        client.close()


# ---- shards ---------------------------------------------------------------------------------
def expand_shards(shards):
    """The shard files of ``shards`` (paths, folders, quoted globs, fsspec URLs), in order.

    Local paths are checked here (they must exist at the same path on every worker); URLs are
    expanded (globs, folders) and checked with fsspec.
    """
    if isinstance(shards, (str, os.PathLike)):
        shards = [shards]
    out = []
    for s in shards:
        s = os.fspath(s)
        if s == "-":
            raise WordvecError("--cluster reads files that every worker can open: stdin (-) "
                               "cannot be shared; save it to a file first")
        if is_url(s):
            out.extend(_expand_url(s))
        elif not os.path.exists(s) and glob.has_magic(s):
            found = sorted(glob.glob(s))
            if not found:
                raise WordvecError(f"no files match {s!r}")
            out.extend(expand_paths(found))
        else:
            out.extend(expand_paths([s]))
    if not out:
        raise WordvecError("no corpus files given")
    return out


def _fsspec():
    try:
        import fsspec
    except ImportError:
        raise WordvecError(f"reading URLs needs fsspec, which is not installed: {INSTALL_HINT}") from None
    return fsspec


def _expand_url(url):
    fsspec = _fsspec()
    try:
        fs, _, paths = fsspec.core.get_fs_token_paths(url, mode="rb")
        if not paths:
            raise WordvecError(f"no files match {url!r}")
        out = []
        for p in paths:
            if fs.isdir(p):
                found = sorted(f for f in fs.find(p) if not f.rstrip("/").rsplit("/", 1)[-1].startswith("."))
                if not found:
                    raise WordvecError(f"folder {url!r} holds no files")
                out.extend(fs.unstrip_protocol(f) for f in found)
            elif fs.exists(p):
                out.append(fs.unstrip_protocol(p))
            else:
                raise WordvecError(f"no such file: {url!r}")
        return out
    except WordvecError:
        raise
    except (ImportError, ValueError, OSError) as e:  # no backend for the scheme, bad URL, I/O
        raise WordvecError(f"cannot read {url!r}: {' '.join(str(e).split())}") from None


def local_path(shard):
    """The local file a shard names (``file://`` URLs included), or None (other URLs)."""
    if not is_url(shard):
        return shard
    if shard.startswith("file://"):
        return shard[len("file://"):]
    return None


@contextlib.contextmanager
def open_chunks(shard, chunk_chars=CHUNK_CHARS):
    """Decoded text chunks of one shard (on a worker): a local file as on one machine, a URL
    through fsspec (compression inferred from the name)."""
    if not is_url(shard):
        yield iter_chunks(shard, chunk_chars)
        return
    fsspec = _fsspec()
    try:
        f = fsspec.open(shard, "rb", compression="infer").open()
    except (ImportError, ValueError, OSError) as e:
        raise WordvecError(f"cannot read {shard!r}: {' '.join(str(e).split())}") from None
    try:
        yield iter_stream_chunks(f, shard, chunk_chars)
    finally:
        f.close()


# ---- vocabulary: the tasks ------------------------------------------------------------------
def count_shard(shard, lowercase=False, max_sentence_length=MAX_SENTENCE_LENGTH,
                max_words_table=None):
    """Count one shard with the single-machine scanner -> its :data:`Table`."""
    from .encode import MAX_WORDS_TABLE, SENTINEL, _Scan
    scan = _Scan(None, max_words_table or MAX_WORDS_TABLE, max_sentence_length)
    with open_chunks(shard) as chunks:
        scan.feed_chunks(chunks, lowercase)
    ids = scan.ids
    del ids[SENTINEL]
    words = sorted(ids)
    counts = scan.counts[np.fromiter((ids[w] for w in words), dtype=np.int64, count=len(words))]
    return Table(SEP.join(words), counts.astype(np.int64), int(scan.tokens), int(scan.pruned),
                 int(scan.min_reduce))


def _words(table):
    if not len(table.counts):
        return np.zeros(0, dtype=object)
    return np.array(table.words.split(SEP), dtype=object)


def merge_tables(a, b, max_words_table=None):
    """The sum of two tables (words sorted by text), pruned as the scanner prunes its table
    when it has more than ``max_words_table`` words."""
    from .encode import MAX_WORDS_TABLE
    limit = max_words_table or MAX_WORDS_TABLE
    words = np.concatenate([_words(a), _words(b)])
    counts = np.concatenate([a.counts, b.counts])
    order = np.argsort(words, kind="stable")  # two sorted runs: a linear merge (timsort)
    words, counts = words[order], counts[order]
    if len(words):
        first = np.ones(len(words), dtype=bool)
        first[1:] = words[1:] != words[:-1]
        starts = np.flatnonzero(first)
        words, counts = words[starts], np.add.reduceat(counts, starts)
    pruned = a.pruned + b.pruned
    floor = max(a.min_reduce, b.min_reduce)
    if len(words) + 1 > limit:  # (+1: the scanner's table also holds its line-end sentinel)
        while len(words) + 1 > limit * 0.7:
            keep = counts >= floor
            pruned += int(len(keep) - keep.sum())
            words, counts = words[keep], counts[keep]
            floor += 1
    return Table(SEP.join(words.tolist()), counts.astype(np.int64), a.tokens + b.tokens, pruned,
                 floor)


def finish_vocabulary(table, min_count, max_vocab):
    """``min_count``, frequency order and ``max_vocab`` applied to the merged table, as on one
    machine -> (words joined by SEP, counts, tokens, pruned words, distinct words)."""
    from .vocab import Vocabulary
    words = _words(table).tolist()
    v = Vocabulary.from_counts(dict(zip(words, table.counts.tolist())), min_count, max_vocab)
    return SEP.join(v.words), v.counts, table.tokens, table.pruned, len(words)


# ---- vocabulary: the job --------------------------------------------------------------------
def _submit(client, fn, *args, name, **kwargs):
    return client.submit(fn, *args, key=f"wordvec-{name}-{uuid.uuid4().hex[:12]}", **kwargs)


def _reduce_tree(client, futures, merge, args, bar, name):
    """Merge ``futures`` two at a time as they finish (on the workers) -> the root's future.

    Each result is merged with the next one to finish, so a merge never waits for a slow shard
    it does not need, and the client holds futures only. Errors are raised here.
    """
    distributed = _distributed()
    done = distributed.as_completed(futures)
    futures = None  # noqa: F841 - held by `done` only: a merged result may be released
    waiting = None
    for fut in done:
        if fut.status == "error":
            fut.result()  # raises the task's error (a WordvecError naming the shard)
        if bar is not None:
            bar.update(1)
        if waiting is None:
            waiting = fut
            continue
        done.add(_submit(client, merge, waiting, fut, *args, name=name))
        waiting = fut = None
    return waiting


def count_words(shards, cluster="local", *, min_count=5, max_vocab=None, lowercase=False,
                max_sentence_length=MAX_SENTENCE_LENGTH, max_words_table=None, workers=None,
                threads_per_worker=1, progress=False):
    """Count the words of ``shards`` on a Dask cluster -> :class:`~wordvec.vocab.Vocabulary`.

    The same vocabulary (words, counts, order, ``raw_tokens``) as
    :func:`wordvec.encode.count_words` on the same files (see the module's notes on pruning).
    ``cluster``: ``"local"``, a scheduler address, or a ``distributed.Client``.
    """
    from .encode import MAX_WORDS_TABLE
    from .vocab import Vocabulary
    files = expand_shards(shards)
    limit = int(max_words_table or MAX_WORDS_TABLE)
    with connect(cluster, workers=workers, threads_per_worker=threads_per_worker) as client:
        bar = report.bar(progress, 2 * len(files), "counting words", "task", unit_scale=False)
        ok = False
        try:
            counted = [_submit(client, count_shard, f, lowercase, max_sentence_length, limit,
                               name=f"count-{i}") for i, f in enumerate(files)]
            root = _reduce_tree(client, counted, merge_tables, (limit,), bar, "merge")
            counted = None
            final = _submit(client, finish_vocabulary, root, min_count, max_vocab, name="finish")
            root = None
            joined, counts, tokens, pruned, distinct = final.result()
            if bar is not None:
                bar.update(1)
            ok = True
        finally:
            report.close(bar, ok)
    if tokens == 0:
        raise WordvecError("the corpus is empty: no words found")
    if not len(counts):
        raise WordvecError(
            f"no word occurs at least min_count={min_count} times in the corpus "
            f"({tokens:,} tokens, {distinct:,} distinct words); lower --min-count")
    vocab = Vocabulary(joined.split(SEP), counts)
    vocab.pruned_words = int(pruned)
    vocab.raw_tokens = int(tokens)
    return vocab
