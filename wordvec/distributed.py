"""Counting on a Dask cluster: the vocabulary and co-occurrences of a corpus in many shards.

``pip install 'wordvec[dask]'`` (``dask[distributed]`` and ``fsspec``). Dask is imported inside the
functions only (the CLI imports this module for ``--cluster``), so ``import wordvec`` never does.

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

Co-occurrences (:func:`count_cooccurrence`): the vocabulary first (as above), then one task a
shard encodes it with that vocabulary and counts it with the single-machine Numba counter
(:func:`wordvec.cooccur.count_row_blocks`). The counter sums exact integers (``1/d`` scaled by
``lcm(1..window)``, or by 2**32 above window 22) and divides by the scale once at the end, so its
matrix does not depend on the order of additions; each task returns its integer totals cut into
contiguous row blocks, the blocks of a row range are added up (int64, exact) two at a time on
the workers, and each sum is divided by the scale once: the float64 values are those of
``wordvec cooccur``, bit for bit (summing the float64 matrices of the shards instead would differ
in the last bits). No worker holds more than one shard's counts and one block of the sum; the
client fetches the finished blocks one at a time, to write them as files and/or stack them into
today's ``.npz``.

Phrases (``wordvec phrases --cluster``) are counted, merged and applied the same way: see
:mod:`wordvec.distributed_phrases`.

Faults: a worker that dies takes its tasks and the results it holds with it; Dask runs them
again on the others (from the shard files, which are never changed), so the result is the same.
The vocabulary the co-occurrence tasks share is copied to every worker first, so losing one does
not mean counting the words again.

Worker processes (:func:`worker_environ`, :func:`tune_process`). Dask's nanny starts every worker
with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand freed memory back to the system). Setting any of
glibc's malloc thresholds switches off its *dynamic* mmap threshold, so every allocation above
128 KB (most numpy arrays a counting task makes: the encoded chunks, the hash tables' temporary
arrays, the row blocks) becomes a fresh ``mmap`` that is zero-filled page by page and unmapped
when freed: 2.6x the page faults of a plain process, and the co-occurrence task ran 1.25-1.4x
slower on a worker than the same call in a plain process (``benchmarks/bench_dask_overhead.py``;
a plain process given the same variable is as slow). wordvec sets the two thresholds to what
glibc's dynamic ones reach in a plain process (mmap 32 MB, trim 64 MB: a worker may keep up to
64 MB of freed memory rather than return it at once): in the environment of the workers of a
``--cluster local``, and, for workers started elsewhere (``dask worker``), with ``mallopt`` in
the worker process at the start of wordvec's first task there. The workers of a
``--cluster local`` also get Numba's and the BLAS libraries' thread counts (``NUMBA_NUM_THREADS``,
``OMP_/OPENBLAS_/MKL_NUM_THREADS``) set to their own thread count, not one per core: two
workers of one thread on two cores must not each start two threads; and each task sets
``numba.set_num_threads`` to the threads it is given.
"""

import contextlib
import glob
import logging
import os
import re
import sys
import uuid
from collections import namedtuple

import numpy as np

from . import progress as report
from .cooccur_file import BLOCKS_FORMAT
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


# ---- the worker processes -------------------------------------------------------------------
# glibc's ceiling for its dynamic mmap threshold on 64-bit systems, and the trim threshold it
# pairs with it (twice the mmap threshold) when it raises the mmap threshold itself
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_tuned = []


def worker_environ(threads_per_worker):
    """``(pre_spawn, env)``: the environment of the worker processes of a local cluster.

    ``pre_spawn`` is set before a worker process starts (Dask's
    ``distributed.nanny.pre-spawn-environ``: malloc and the BLAS libraries read theirs when they
    load): Dask's own (``MALLOC_TRIM_THRESHOLD_``...) with ``MALLOC_MMAP_THRESHOLD_`` and the BLAS
    thread counts added. ``env`` is set inside the worker process only, before it runs a task
    (``NUMBA_NUM_THREADS``: Numba reads it when it is imported, by the first task; were it in
    ``pre_spawn``, Dask would also copy it into this process's environment, where Numba may
    already run with another count). A variable already set in this process's environment wins,
    as in Dask.
    """
    import dask
    n = str(int(threads_per_worker))
    pre = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    if "MALLOC_MMAP_THRESHOLD_" not in pre and str(pre.get("MALLOC_TRIM_THRESHOLD_")) == "65536":
        pre["MALLOC_TRIM_THRESHOLD_"] = str(TRIM_THRESHOLD)  # (a value in os.environ wins)
        pre["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
    for var in THREAD_VARS[1:]:
        pre[var] = n
    return pre, {"NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS", n)}


def tune_process(threads=None):
    """Called at the start of every wordvec task on a worker (cheap after the first).

    Once a process: where glibc's malloc runs with Dask's fixed trim threshold
    (``MALLOC_TRIM_THRESHOLD_=65536``, no mmap threshold set), set the mmap and trim thresholds
    with ``mallopt`` to :data:`MMAP_THRESHOLD` and :data:`TRIM_THRESHOLD`, the values glibc's
    dynamic thresholds reach in a plain process (see the module's notes; another trim threshold
    is the user's choice, and is kept). Every call: with ``threads``, Numba's parallel kernels in
    this task's thread use that many threads (at most the process's ``NUMBA_NUM_THREADS``).

    Also once a process, before any thread pool starts: where Numba was imported before the
    worker's environment was set (a worker process spawned from a script that imports wordvec,
    as the ``wordvec`` command is, imports it again at start), Numba's thread count differs
    from ``NUMBA_NUM_THREADS`` in the environment, and the first kernel compiled after its
    threads launch would fail ("Cannot set NUMBA_NUM_THREADS to a different value once the
    threads have been launched"): the environment is set back to the count Numba runs with;
    ``threads`` still limits each task.
    """
    if not _tuned:
        _tuned.append(True)
        _align_numba_threads()
        if (os.environ.get("MALLOC_TRIM_THRESHOLD_") == "65536"
                and not os.environ.get("MALLOC_MMAP_THRESHOLD_")
                and sys.platform.startswith("linux")):
            try:
                import ctypes
                libc = ctypes.CDLL(None)
                libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
            except (OSError, AttributeError, TypeError):  # not glibc: nothing to tune
                pass
    if threads:
        import numba
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))


def _align_numba_threads():
    """Make ``NUMBA_NUM_THREADS`` in the environment the count an already imported Numba runs
    with (see :func:`tune_process`)."""
    config = sys.modules.get("numba.core.config")
    wanted = os.environ.get("NUMBA_NUM_THREADS")
    if config is None or wanted is None:
        return  # Numba will read the environment when it is imported
    have = getattr(config, "NUMBA_NUM_THREADS", None)
    if have is not None and wanted.strip() != str(have):
        os.environ["NUMBA_NUM_THREADS"] = str(have)


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
        import dask
        pre_spawn, env = worker_environ(threads_per_worker)
        # A nanny copies its pre-spawn variables into this process's environment before it
        # starts a worker (so that the worker inherits them): put ours back afterwards.
        saved = {k: os.environ.get(k) for k in pre_spawn}
        try:
            # (a nanny reads its pre-spawn environment when it is made, and keeps it for restarts)
            with dask.config.set({"distributed.nanny.pre-spawn-environ": pre_spawn}):
                cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=int(threads_per_worker), processes=True,
                    dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR, env=env)
            try:
                client = distributed.Client(cluster)
                try:
                    yield client
                finally:
                    client.close()
            finally:
                cluster.close()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
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
    with _open_url(shard) as f:
        yield iter_stream_chunks(f, shard, chunk_chars)


@contextlib.contextmanager
def open_byte_chunks(shard, chunk_bytes=CHUNK_CHARS):
    """Undecoded chunks of whole lines of one shard (on a worker), as phrases read them: a local
    file as on one machine (:func:`wordvec.corpus.iter_byte_chunks`), a URL through fsspec."""
    from .corpus import iter_byte_chunks, iter_stream_byte_chunks
    if not is_url(shard):
        yield iter_byte_chunks(shard, chunk_bytes)
        return
    with _open_url(shard) as f:
        yield iter_stream_byte_chunks(f, shard, chunk_bytes)


@contextlib.contextmanager
def _open_url(shard):
    """A shard's URL opened through fsspec as a binary file (decompressed by its name)."""
    fsspec = _fsspec()
    try:
        f = fsspec.open(shard, "rb", compression="infer").open()
    except (ImportError, ValueError, OSError) as e:
        raise WordvecError(f"cannot read {shard!r}: {' '.join(str(e).split())}") from None
    try:
        yield f
    finally:
        f.close()


# ---- vocabulary: the tasks ------------------------------------------------------------------
def count_shard(shard, lowercase=False, max_sentence_length=MAX_SENTENCE_LENGTH,
                max_words_table=None):
    """Count one shard with the single-machine scanner -> its :data:`Table`."""
    from .encode import MAX_WORDS_TABLE, SENTINEL, _Scan
    tune_process()
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


def _reduce_groups(client, groups, merge, args, bar, name, tokens=()):
    """Merge each group's futures two at a time as they finish (on the workers) -> one future
    per group (its root), in the order of ``groups``.

    A result is merged with the next one of its group to finish, so a merge never waits for a
    slow shard it does not need, and the client holds futures only, never results. Errors are
    raised here. ``tokens``: futures of the words each counting task read (small integers,
    fetched as they finish for the bar's words per second).
    """
    distributed = _distributed()
    group_of, waiting = {}, {}
    done = distributed.as_completed()
    for g, futures in enumerate(groups):
        waiting[g] = None
        for f in futures:
            group_of[f.key] = g
            done.add(f)
    token_keys = set()
    for f in tokens:
        token_keys.add(f.key)
        done.add(f)
    groups = futures = tokens = None  # noqa: F841 - held by `done` only: merged inputs may be released
    for fut in done:
        if fut.status == "error":
            fut.result()  # raises the task's error (a WordvecError naming the shard)
        if fut.key in token_keys:
            bar.update(0, words=fut.result())
            continue
        if bar is not None:
            bar.update(1)
        g = group_of.pop(fut.key)
        if waiting[g] is None:
            waiting[g] = fut
            continue
        merged = _submit(client, merge, waiting[g], fut, *args, name=f"{name}-{g}")
        group_of[merged.key] = g
        done.add(merged)
        waiting[g] = fut = merged = None
    return [waiting[g] for g in sorted(waiting)]


def vocabulary_of(finished, min_count):
    """The :class:`~wordvec.vocab.Vocabulary` of :func:`finish_vocabulary`'s result (errors as
    :func:`wordvec.encode.count_words` raises them)."""
    from .vocab import Vocabulary
    joined, counts, tokens, pruned, distinct = finished
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


def _table_tokens(table):
    """The tokens a counted shard's :data:`Table` read (a small result: the bar's words/s)."""
    return int(table.tokens)


def _count_vocabulary(client, files, min_count, max_vocab, lowercase, max_sentence_length,
                      max_words_table, progress, bar=None):
    """-> (vocabulary, the future of its packed form on the cluster: a result Dask can compute
    again if the workers holding it die, unlike data scattered from the client). ``bar``: the
    job's :class:`~wordvec.progress.TaskBar` (its first phase), else one of its own."""
    from .encode import MAX_WORDS_TABLE
    limit = int(max_words_table or MAX_WORDS_TABLE)
    own = bar is None
    if own:
        bar = report.TaskBar(progress)
    bar.phase("counting words", 2 * len(files))
    ok = False
    try:
        counted = [_submit(client, count_shard, f, lowercase, max_sentence_length, limit,
                           name=f"count-{i}") for i, f in enumerate(files)]
        tokens = [_submit(client, _table_tokens, c, name=f"tokens-{i}")
                  for i, c in enumerate(counted)] if bar.shown else ()
        root, = _reduce_groups(client, [counted], merge_tables, (limit,), bar, "merge",
                               tokens=tokens)
        counted = tokens = None
        final = _submit(client, finish_vocabulary, root, min_count, max_vocab, name="finish")
        root = None
        vocab = vocabulary_of(final.result(), min_count)
        bar.update(1)
        ok = True
    finally:
        if own or not ok:
            bar.close(ok)
    return vocab, final


def count_words(shards, cluster="local", *, min_count=5, max_vocab=None, lowercase=False,
                max_sentence_length=MAX_SENTENCE_LENGTH, max_words_table=None, workers=None,
                threads_per_worker=1, progress=False):
    """Count the words of ``shards`` on a Dask cluster -> :class:`~wordvec.vocab.Vocabulary`.

    The same vocabulary (words, counts, order, ``raw_tokens``) as
    :func:`wordvec.encode.count_words` on the same files (see the module's notes on pruning).
    ``cluster``: ``"local"``, a scheduler address, or a ``distributed.Client``.
    """
    files = expand_shards(shards)
    with connect(cluster, workers=workers, threads_per_worker=threads_per_worker) as client:
        return _count_vocabulary(client, files, min_count, max_vocab, lowercase,
                                 max_sentence_length, max_words_table, progress)[0]


# ---- co-occurrences -------------------------------------------------------------------------
def row_bounds(counts, blocks, window, symmetric=True):
    """Cut the rows 0..V (word ids, most frequent first) into at most ``blocks`` contiguous
    blocks of about equal work: a row's non-zeros are bounded by ``min(V, 2 window count)``
    (``window count`` asymmetric), and frequent rows are far denser than rare ones."""
    n = len(counts)
    blocks = max(1, min(int(blocks), n))
    est = np.minimum(np.asarray(counts, dtype=np.float64) * window * (2 if symmetric else 1), n)
    cum = np.cumsum(est)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, blocks) / blocks, side="left") + 1
    return np.unique(np.concatenate([[0], np.clip(cuts, 1, n), [n]])).astype(np.int64)


def cooccur_shard(shard, vocab, bounds, lowercase, max_sentence_length, window, symmetric,
                  distance_weighting, memory_gb, threads):
    """Encode one shard with the corpus's vocabulary and count its co-occurrences with the
    single-machine counter -> its exact integer totals, one int64 CSR per row block, then the
    tokens it read."""
    from .cooccur import count_row_blocks
    from .encode import OpenedText, encode
    tune_process(threads)
    with open_chunks(shard) as chunks:
        enc = encode(OpenedText(chunks), vocab=vocab, lowercase=lowercase,
                     max_sentence_length=max_sentence_length, allow_empty=True)
    with enc:
        blocks, _ = count_row_blocks(enc, bounds, window, symmetric, distance_weighting,
                                     memory_gb, threads, progress=False)
    return (*blocks, int(enc.raw_tokens))


def add_blocks(a, b):
    """The sum of two integer row blocks (int64: exact in any order)."""
    m = (a + b).tocsr()
    m.sum_duplicates()
    return m


def finish_block(block, scale):
    """An integer row block as the float64 values ``wordvec cooccur`` stores (total / scale)."""
    data = block.data.astype(np.float64) / float(scale)
    return _csr(data, block.indices.astype(np.int32), block.indptr.astype(np.int64), block.shape)


def _csr(data, indices, indptr, shape):
    import scipy.sparse as sp
    return sp.csr_matrix((data, indices, indptr), shape=shape)


def count_cooccurrence(shards, cluster="local", *, window=10, symmetric=True,
                       distance_weighting=True, memory_gb=4.0, threads=1, min_count=5,
                       max_vocab=None, lowercase=False, max_sentence_length=MAX_SENTENCE_LENGTH,
                       max_words_table=None, row_blocks=None, gather=True, blocks_dir=None,
                       force=False, inputs=(), workers=None, threads_per_worker=1,
                       progress=False):
    """Count word–context co-occurrences of ``shards`` on a Dask cluster.

    First the vocabulary (:func:`count_words`: ``min_count``, ``max_vocab``, ``lowercase``),
    then one task a shard encodes it with that vocabulary and counts it with the
    single-machine counter (``window``, ``symmetric``, ``distance_weighting``; ``memory_gb``
    and ``threads`` are each task's), as exact integers cut into ``row_blocks`` contiguous row
    blocks (default: two per worker thread). The blocks of a row range are added up two at a
    time on the workers (int64: exact), so no worker holds more than one shard's counts and
    one block of the sum; each summed block becomes float64 ``total / scale`` as on one
    machine. The client fetches the blocks one at a time: with ``blocks_dir`` it writes each
    into that folder (``block-00000.npz``...: the block's CSR, rows ``lo:hi`` of all columns,
    with ``vocab.txt`` and a ``blocks.json`` listing them), and with ``gather`` it stacks them
    into the whole matrix (as much memory as ``wordvec cooccur`` needs for it).

    Returns ``(matrix or None, vocabulary)``: ``matrix`` is the ``csr_matrix`` that
    :func:`wordvec.cooccur.count_cooccurrence` gives on one machine, bit for bit.
    """
    from .cooccur import _weights
    window = int(window)
    if window < 1:
        raise WordvecError(f"window must be at least 1 (got {window})")
    if not memory_gb or memory_gb <= 0:
        raise WordvecError(f"memory must be a positive number of GB (got {memory_gb})")
    if not gather and blocks_dir is None:
        raise WordvecError("nothing to write: gather the matrix or give a folder for the blocks")
    _, scale = _weights(window, distance_weighting)
    params = {"window": window, "symmetric": bool(symmetric),
              "distance_weighting": bool(distance_weighting)}
    files = expand_shards(shards)
    with connect(cluster, workers=workers, threads_per_worker=threads_per_worker) as client:
        # one bar for the job: the vocabulary's tasks, then the co-occurrences'
        bar = report.TaskBar(progress)
        ok = False
        try:
            vocab, packed = _count_vocabulary(client, files, min_count, max_vocab, lowercase,
                                              max_sentence_length, max_words_table, progress, bar)
            if row_blocks is None:
                row_blocks = 2 * max(1, sum(client.nthreads().values()))
            bounds = row_bounds(vocab.counts, row_blocks, window, symmetric)
            nb = len(bounds) - 1
            bar.phase("co-occurrences", 2 * len(files) * nb)
            shared = _submit(client, vocabulary_of, packed, min_count, name="vocabulary")
            packed = None
            # a copy on every worker: a worker lost later costs no recount of the vocabulary
            # (which Dask would still do, from the shards, if every copy were lost)
            distributed = _distributed()
            distributed.wait(shared)
            if shared.status == "error":
                shared.result()
            client.replicate([shared])
            import operator
            pieces, tokens = [[] for _ in range(nb)], []
            for i, f in enumerate(files):
                counted = _submit(client, cooccur_shard, f, shared, bounds, lowercase,
                                  max_sentence_length, window, symmetric, distance_weighting,
                                  memory_gb, threads, name=f"cooccur-{i}")
                for b in range(nb):
                    pieces[b].append(_submit(client, operator.getitem, counted, b,
                                             name=f"block-{i}-{b}"))
                if bar.shown:
                    tokens.append(_submit(client, operator.getitem, counted, nb,
                                          name=f"tokens-{i}"))
            counted = None
            roots = _reduce_groups(client, pieces, add_blocks, (), bar, "add", tokens=tokens)
            pieces = tokens = None
            finished = [_submit(client, finish_block, r, scale, name=f"finish-{b}")
                        for b, r in enumerate(roots)]
            roots = None
            matrix = _collect(finished, bounds, vocab, params, gather, blocks_dir, force, inputs,
                              bar)
            ok = True
        finally:
            bar.close(ok)
    return matrix, vocab


def _collect(finished, bounds, vocab, params, gather, blocks_dir, force, inputs, bar):
    """Fetch the finished blocks one at a time (in row order): write them, stack them."""
    parts = [] if gather else None

    def blocks():
        for b, fut in enumerate(finished):
            block = fut.result()
            finished[b] = None  # the cluster may drop it now
            bar.update(1)
            if parts is not None:
                parts.append(block)
            yield b, block

    if blocks_dir is not None:
        save_blocks(blocks_dir, blocks(), bounds, vocab, params, force=force, inputs=inputs)
    else:
        for _ in blocks():
            pass
    if parts is None:
        return None
    n = len(vocab)
    nnz = sum(p.nnz for p in parts)
    # as wordvec.cooccur._assemble builds it: int32 columns, int32 row pointers below 2**31
    indptr = np.zeros(n + 1, dtype=np.int64)
    for (lo, hi), p in zip(zip(bounds[:-1], bounds[1:]), parts):
        indptr[lo + 1:hi + 1] = p.indptr[1:] + indptr[lo]
    indices = np.concatenate([p.indices for p in parts]).astype(np.int32) if parts else np.zeros(0, np.int32)
    data = np.concatenate([p.data for p in parts]) if parts else np.zeros(0)
    parts.clear()
    return _csr(data, indices, indptr.astype(np.int32 if nnz < 2**31 else np.int64), (n, n))


def save_blocks(path, blocks, bounds, vocab, params, *, force=False, inputs=()):
    """Write ``(index, csr)`` row blocks into the folder ``path`` (new, empty, or one this
    function wrote; replaced only when every block is written): ``block-00000.npz`` ... (the
    CSR arrays of rows ``lo:hi``, all columns, float64, and ``rows = [lo, hi]``), ``vocab.txt``
    and ``blocks.json`` (format, shape, the blocks' files, rows and non-zeros, the counting
    parameters)."""
    import json

    from . import outputs
    from .io_util import atomic_dir
    from .vocab import check_words
    check_words(vocab.words, "a co-occurrence vocabulary")
    target = outputs.resolve(path)
    kind = "cooccur-blocks"
    with atomic_dir(path, kind=kind, force=force, inputs=inputs) as tmp:
        listed = []
        for b, block in blocks:
            name = f"block-{b:05d}.npz"
            lo, hi = int(bounds[b]), int(bounds[b + 1])
            with open(os.path.join(tmp, name), "wb") as f:
                np.savez(f, format=np.array(BLOCKS_FORMAT), data=block.data,
                         indices=block.indices, indptr=block.indptr,
                         shape=np.array(block.shape, dtype=np.int64),
                         rows=np.array([lo, hi], dtype=np.int64))
                f.flush()
                os.fsync(f.fileno())
            listed.append({"file": name, "rows": [lo, hi], "nnz": int(block.nnz)})
        with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8") as f:
            for w, c in zip(vocab.words, vocab.counts.tolist()):
                f.write(f"{w} {c}\n")
        with open(os.path.join(tmp, "blocks.json"), "w", encoding="utf-8") as f:
            json.dump({"format": BLOCKS_FORMAT, "shape": [len(vocab), len(vocab)],
                       "blocks": listed, "params": params}, f, indent=1)
            f.write("\n")
        # remembered as wordvec's before the folder is renamed into place (a rename keeps the
        # files' fingerprints): a later run may replace the folder, unless someone changed it
        for name in os.listdir(tmp):
            outputs.record(os.path.join(tmp, name), kind, os.path.join(target, name))
