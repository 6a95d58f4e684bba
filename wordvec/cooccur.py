"""Word–context co-occurrence counting in bounded memory (GloVe's ``cooccur``, in one call).

For each centre word at position ``j`` of a sentence, every word at distance ``d <= window`` to
its left (and, when ``symmetric``, to its right) adds ``1/d`` (or 1 without distance weighting)
to the cell (row = centre word id, column = context word id). Windows never cross sentences.

Exact and order-independent sums. Weights are accumulated as integers: ``1/d`` is stored as
``L/d`` with ``L = lcm(1..window)`` (2520 for window 10), so every partial sum is exact and the
final value ``total / L`` (float64) does not depend on the order of additions: counting in one
go, in several threads, or spilled to disk and merged gives bit-identical matrices. (For
windows above 22, ``L`` would overflow the integer budget; a fixed scale of 2**32 with weights
rounded once is used instead: still deterministic and independent of order, accurate to about
1e-9 relative.)

Bounded memory (Stanford's design, tuned). Ids are in descending frequency. A pair goes to

* the hot block if both words are among the 512 most frequent: 2 MB of int64 that stay in
  cache and take about half of all additions on English text;
* else the dense block: row ``r`` keeps its first ``min(V, P // (r + 1))`` columns in a flat
  int64 array (a quarter of the accumulators' share, at most 256 MB, ``P`` as large as that
  allows);
* else an open-addressing hash table (uint64 key ``row << 32 | col`` -> int64) that starts small
  and doubles up to its share of the budget. A table at its maximum and 70 % full is sorted in
  place and appended to a spill file as a sorted chunk, then emptied.

``memory_gb`` is a soft limit for the whole step, as Stanford's ``-memory``: the hot, dense and
hash accumulators take at most ``ACCUMULATOR_SHARE`` (a fifth) of it at their peak, a table's
doubling included; the rest is left to the process's fixed cost and the merge.

At the end the hot block is added into the dense rows and the chunks are merged (k-way, two
passes: row lengths, then values) straight into the CSR arrays (:func:`count_cooccurrence`),
or row by row into batches handed to a consumer (:func:`stream_cooccurrence`: GloVe, which
never holds the matrix; the spilled chunks are read through small windows, 16 MB in all).
The dense block supplies each row's first columns, the chunks the rest, which never overlap.
With ``threads > 1`` each thread owns the rows ``r % threads == t`` (its own hash table and
spill chunks; the hot and dense blocks are shared but their rows are disjoint), so no locks
are needed.
"""

import contextlib
import math
import os
import shutil
import tempfile
import threading

import numpy as np
import scipy.sparse as sp
from numba import njit

from . import diskio
from . import progress as report
from . import scratch as scratch_names
from .cooccur_file import FORMAT, load_cooccurrence, save_cooccurrence  # noqa: F401 - public here too
from .errors import WordvecError
from .params import resolve_threads

EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)
MAX_LOAD = 0.7
CHUNK_TOKENS = 1 << 20  # tokens per kernel call: progress moves, and a stop is seen, per call
HOT_WORDS = 512
DENSE_MAX_BYTES = 256 << 20
ACCUMULATOR_SHARE = 0.2  # of --memory: the hot, dense and hash accumulators at their peak
INITIAL_SLOTS = 1 << 16
WINDOWS_BYTES = 16 << 20  # a part's read windows over its spilled chunks, all together
MIN_WINDOW = 1024  # entries per window at least
EMIT_BATCH = 1 << 20  # non-zeros per batch handed to a stream's sink (whole rows)
SCRATCH_PREFIX = "wordvec-cooccur-"
SCRATCH_PATTERN = SCRATCH_PREFIX + "{tag}-[A-Za-z0-9_]+"  # for scratch.clean_stale


# ---- kernels ----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _count(ids, offsets, s_begin, s_end, window, symmetric, weights, mine, hot,
           dense, dstart, dwidth, keys, vals, shift, state, limit):
    """Count sentences s_begin..s_end-1 for the rows r with mine[r] (this thread's rows).

    Each pair goes to the hot block (both words among the top ``hot_n``), else to the dense
    row if its column is within the row's width, else to the hash table. Stops early (before a
    sentence that could overfill the table) and returns the next sentence to process; the
    caller spills and calls again. (One flat function: a helper per pair, even inlined,
    cost 5x in reference counting.)
    """
    hot_n = np.int64(np.sqrt(hot.shape[0]) + 0.5)
    mask = np.uint64(keys.shape[0] - 1)
    for s in range(s_begin, s_end):
        a = offsets[s]
        b = offsets[s + 1]
        n = b - a
        if state[0] + min(2 * window * n, n * (n - 1)) > limit:
            return s
        for j in range(a + 1, b):
            w2 = np.int64(ids[j])
            lo = max(a, j - window)
            for k in range(j - 1, lo - 1, -1):
                w1 = np.int64(ids[k])
                wt = weights[j - k]
                for side in range(2):
                    if side == 0:  # centre w2, left context w1
                        r = w2
                        c = w1
                    elif symmetric:  # centre w1, right context w2
                        r = w1
                        c = w2
                    else:
                        break
                    if not mine[r]:
                        continue
                    if r < hot_n and c < hot_n:
                        hot[r * hot_n + c] += wt
                    elif c < dwidth[r]:
                        dense[dstart[r] + c] += wt
                    else:
                        key = (np.uint64(r) << np.uint64(32)) | np.uint64(c)
                        h = (key * _HASH_MUL) >> shift
                        while True:
                            found = keys[h]
                            if found == key:
                                vals[h] += wt
                                break
                            if found == EMPTY:
                                keys[h] = key
                                vals[h] = wt
                                state[0] += 1
                                break
                            h = (h + np.uint64(1)) & mask
    return s_end


@njit(cache=True, nogil=True)
def _rehash(old_keys, old_vals, keys, vals, shift, state):
    mask = np.uint64(keys.shape[0] - 1)
    for i in range(old_keys.shape[0]):
        key = old_keys[i]
        if key == EMPTY:
            continue
        h = (key * _HASH_MUL) >> shift
        while keys[h] != EMPTY:
            h = (h + np.uint64(1)) & mask
        keys[h] = key
        vals[h] = old_vals[i]
        state[0] += 1


@njit(cache=True, nogil=True)
def _fold_hot(hot, dense, dstart):
    """Add the cache-sized hot block (top words x top words) into the dense block's rows."""
    n = np.int64(np.sqrt(hot.shape[0]) + 0.5)
    for r in range(n):
        base = dstart[r]
        for c in range(n):
            dense[base + c] += hot[r * n + c]


@njit(cache=True, nogil=True)
def _sort_pairs(keys, vals, lo, hi):
    """Sort keys[lo:hi] ascending in place, moving vals along (quicksort, insertion sort for
    short runs, the smaller side first so the explicit stack stays shallow)."""
    stack = np.empty(128, dtype=np.int64)
    top = 0
    stack[0] = lo
    stack[1] = hi
    top = 2
    while top > 0:
        top -= 2
        lo = stack[top]
        hi = stack[top + 1]
        while hi - lo > 24:
            mid = (lo + hi) // 2
            a, b, c = keys[lo], keys[mid], keys[hi - 1]
            pivot = max(min(a, b), min(max(a, b), c))  # median of three
            i = lo
            j = hi - 1
            while i <= j:
                while keys[i] < pivot:
                    i += 1
                while keys[j] > pivot:
                    j -= 1
                if i <= j:
                    keys[i], keys[j] = keys[j], keys[i]
                    vals[i], vals[j] = vals[j], vals[i]
                    i += 1
                    j -= 1
            if j + 1 - lo < hi - i:  # recurse (push) the larger side, loop on the smaller
                stack[top] = i
                stack[top + 1] = hi
                hi = j + 1
            else:
                stack[top] = lo
                stack[top + 1] = j + 1
                lo = i
            top += 2
        for i in range(lo + 1, hi):
            k = keys[i]
            v = vals[i]
            j = i - 1
            while j >= lo and keys[j] > k:
                keys[j + 1] = keys[j]
                vals[j + 1] = vals[j]
                j -= 1
            keys[j + 1] = k
            vals[j + 1] = v


@njit(cache=True, nogil=True)
def _compact_sort(keys, vals):
    """Move the table's entries to the front, sort them by key in place; returns their count.

    No extra memory: a full table spills without doubling its footprint.
    """
    m = 0
    for i in range(keys.shape[0]):
        if keys[i] != EMPTY:
            if i != m:
                keys[m] = keys[i]
                vals[m] = vals[i]
                keys[i] = EMPTY
            m += 1
    _sort_pairs(keys, vals, 0, m)
    return m


@njit(cache=True, nogil=True)
def _merge(keys, vals, bounds, part, nparts, n_rows, dense, dstart, dwidth, indptr, indices,
           data, fill, scale):
    """K-way merge of sorted chunks [bounds[i], bounds[i+1]) plus the dense rows of ``part``.

    With ``fill`` false, only count each row's non-zeros into indptr[r + 1]; with ``fill`` true,
    write indices and data (float64 = integer total / scale) from indptr.
    """
    nchunks = bounds.shape[0] - 1
    pos = bounds[:-1].copy()
    key = np.uint64(0)
    r_prev = -1
    cursor = np.int64(0)
    while True:
        # smallest head key
        best = EMPTY
        for i in range(nchunks):
            if pos[i] < bounds[i + 1] and keys[pos[i]] < best:
                best = keys[pos[i]]
        if best == EMPTY:
            r_next = n_rows
        else:
            r_next = np.int64(best >> np.uint64(32))
        # dense rows up to and including r_next (rows of this part only)
        r = r_prev + 1
        while r <= min(r_next, n_rows - 1):
            if r % nparts == part:
                base = dstart[r]
                cursor = indptr[r] if fill else 0
                cnt = 0
                for c in range(dwidth[r]):
                    v = dense[base + c]
                    if v != 0:
                        if fill:
                            indices[cursor] = c
                            data[cursor] = v / scale
                            cursor += 1
                        else:
                            cnt += 1
                if not fill:
                    indptr[r + 1] += cnt
            r += 1
        r_prev = max(r_prev, min(r_next, n_rows - 1))
        if best == EMPTY:
            break
        total = np.int64(0)
        for i in range(nchunks):
            while pos[i] < bounds[i + 1] and keys[pos[i]] == best:
                total += vals[pos[i]]
                pos[i] += 1
        key = best
        if total != 0:
            if fill:
                indices[cursor] = np.int32(key & np.uint64(0xFFFFFFFF))
                data[cursor] = total / scale
                cursor += 1
            else:
                indptr[r_next + 1] += 1
    return 0


@njit(cache=True, nogil=True)
def _emit(wk, wv, wpos, wlen, more, part, nparts, r, dense_done, n, n_rows, dense, dstart, dwidth,
          out_r, out_c, out_v, scale):
    """The non-zeros of ``part``'s rows from row ``r`` on into ``out_*`` from index ``n``.

    As :func:`_merge` (the dense row's columns, then the merged chunks' keys of the row, which
    come after it), but the chunks are read through windows: chunk ``i``'s next keys and values
    are ``wk[i, wpos[i]:wlen[i]]`` and ``wv[...]``, and ``more[i]`` says whether its file holds
    more after them. A row is started only if it fits (a row has at most ``n_rows``
    non-zeros). Returns ``(r, dense_done, n, status)`` to continue from: status 0 when every
    row is done; 1 when the buffer is full (hand ``out_*[:n]`` over, continue with n = 0); 2
    when a window ran dry with more in its file (refill it, continue as returned).
    """
    k = wk.shape[0]
    cap = out_r.shape[0]
    while r < n_rows and r % nparts != part:
        r += 1
    while r < n_rows:
        if not dense_done:
            if n + n_rows > cap:
                return r, False, n, 1
            base = dstart[r]
            for c in range(dwidth[r]):
                v = dense[base + c]
                if v != 0:
                    out_r[n] = r
                    out_c[n] = c
                    out_v[n] = np.float32(v / scale)
                    n += 1
            dense_done = True
        while True:
            best = EMPTY
            for i in range(k):
                if wpos[i] < wlen[i]:
                    if wk[i, wpos[i]] < best:
                        best = wk[i, wpos[i]]
                elif more[i]:
                    return r, True, n, 2
            if best == EMPTY or np.int64(best >> np.uint64(32)) != r:
                break
            total = np.int64(0)
            for i in range(k):  # a key is unique within a chunk: one step per chunk at most
                if wpos[i] < wlen[i] and wk[i, wpos[i]] == best:
                    total += wv[i, wpos[i]]
                    wpos[i] += 1
            if total != 0:
                out_r[n] = r
                out_c[n] = np.int32(best & np.uint64(0xFFFFFFFF))
                out_v[n] = np.float32(total / scale)
                n += 1
        r += nparts
        dense_done = False
    return r, False, n, 0


# ---- sizing ---------------------------------------------------------------------------------
def _weights(window, distance_weighting):
    """Integer weight per distance (index 0 unused) and the scale dividing the totals."""
    if not distance_weighting:
        return np.ones(window + 1, dtype=np.int64), 1
    lcm = 1
    for d in range(1, window + 1):
        lcm = lcm * d // math.gcd(lcm, d)
    if lcm <= 1 << 32:
        scale = lcm
        w = [0] + [scale // d for d in range(1, window + 1)]
    else:
        scale = 1 << 32
        w = [0] + [round(scale / d) for d in range(1, window + 1)]
    return np.array(w, dtype=np.int64), scale


def _dense_layout(n_words, cells):
    """Row starts and widths of the dense block: width(r) = min(V, P // (r + 1)), P maximal."""
    r1 = np.arange(1, n_words + 1, dtype=np.int64)
    if n_words * n_words <= cells:
        width = np.full(n_words, n_words, dtype=np.int64)
    else:
        lo, hi = 0, n_words * n_words
        while lo < hi:  # largest P with sum(min(V, P // r1)) <= cells
            mid = (lo + hi + 1) // 2
            if int(np.minimum(n_words, mid // r1).sum()) <= cells:
                lo = mid
            else:
                hi = mid - 1
        width = np.minimum(n_words, lo // r1)
    start = np.zeros(n_words, dtype=np.int64)
    np.cumsum(width[:-1], out=start[1:])
    return start, width


def _plan(n_words, memory_gb, nparts, min_slots):
    """Split the budget -> (dense cells, initial and maximal hash slots per thread).

    ``memory_gb`` is a soft limit for the whole counting step, as Stanford's ``-memory``: the
    accumulators take at most ``ACCUMULATOR_SHARE`` of it, their transients included; the rest
    is left to what the process holds anyway (the Numba runtime, ~100 MB, the mapped corpus,
    the merge). The dense block (int64 cells) takes a quarter of the accumulators' share, at
    most DENSE_MAX_BYTES: the frequent rows it serves are what matters, and a larger block only
    costs page faults and merge time. Each thread's hash table (16 B per slot) starts small and
    doubles up to its share of the rest (a doubling briefly holds the old table, half the size,
    beside the new: 1.5x; threads take turns to double); only a table at its maximum spills.
    (The CSR matrix that :func:`count_cooccurrence` returns, 12 B per non-zero, is outside the
    budget: it is the result.) A table always holds at least ``min_slots`` (one longest sentence's pairs).
    """
    budget = int(memory_gb * (1 << 30) * ACCUMULATOR_SHARE)
    dense_cells = max(n_words, min(budget // 4, DENSE_MAX_BYTES) // 8)
    dense_cells = min(dense_cells, n_words * n_words)
    per_table = max(1 << 10, int((budget - dense_cells * 8) / nparts / 16 / 1.5))
    max_slots = 1 << int(math.floor(math.log2(per_table)))
    while max_slots < min_slots:
        max_slots *= 2
    return dense_cells, min(max_slots, INITIAL_SLOTS), max_slots


# ---- the public API -------------------------------------------------------------------------
def count_cooccurrence(corpus, window=10, symmetric=True, distance_weighting=True, memory_gb=4.0,
                       threads=None, progress=True, tmpdir=None):
    """Count word–context co-occurrences of an :class:`~wordvec.encode.EncodedCorpus`.

    Returns a ``scipy.sparse.csr_matrix`` (V x V, float64): row = centre word id, column =
    context word id, value = sum of ``1/d`` (or counts without ``distance_weighting``) over
    occurrences at distance ``d <= window``; ``symmetric=False`` counts only left contexts (as
    Stanford's ``cooccur -symmetric 0``, whose file stores the transpose: row = left word).
    ``memory_gb`` bounds the accumulators; overflow is spilled to sorted chunks in ``tmpdir``
    (a new temporary folder by default) and merged. The result does not depend on the budget or
    ``threads``.
    """
    with _counted(corpus, window, symmetric, distance_weighting, memory_gb, threads, progress,
                  tmpdir) as c:
        matrix = _assemble(c.parts, c.n_words, c.dense, c.dstart, c.dwidth, c.scale)
        matrix.count_stats = c.stats
        return matrix


def stream_cooccurrence(corpus, sink, window=10, symmetric=True, distance_weighting=True,
                        memory_gb=4.0, threads=None, progress=True, tmpdir=None):
    """Count as :func:`count_cooccurrence`, but hand the non-zeros to ``sink`` in batches
    instead of building the matrix (GloVe trains from a file of them: no matrix in memory).

    ``sink.start(bound)`` is called first with an upper bound on the number of non-zeros, then
    ``sink.add(rows, cols, vals)`` (int32, int32, float32 = the matrix's value rounded to
    float32) with views of reused buffers, whole rows at a time, each batch at most
    ``max(EMIT_BATCH, V)`` entries. Returns the counting statistics, ``nonzeros`` included.
    """
    with _counted(corpus, window, symmetric, distance_weighting, memory_gb, threads, progress,
                  tmpdir) as c:
        bound = int(np.count_nonzero(c.dense)) + sum(p.n_chunked() for p in c.parts)
        sink.start(bound)
        cap = max(EMIT_BATCH, c.n_words)
        out_r = np.empty(cap, np.int32)
        out_c = np.empty(cap, np.int32)
        out_v = np.empty(cap, np.float32)
        total = 0
        for p in c.parts:
            with _Windows(p) as w:
                r, dense_done, n, status = 0, False, 0, 2
                while status:
                    r, dense_done, n, status = _emit(
                        w.keys, w.vals, w.pos, w.len, w.more, p.part, p.nparts, r, dense_done, n,
                        c.n_words, c.dense, c.dstart, c.dwidth, out_r, out_c, out_v,
                        float(c.scale))
                    if status == 2:
                        w.refill()
                    elif n:  # the buffer is full, or the part is done
                        sink.add(out_r[:n], out_c[:n], out_v[:n])
                        total += n
                        n = 0
            p.final = None
        stats = dict(c.stats, nonzeros=total)
        return stats


def count_row_blocks(corpus, bounds, window=10, symmetric=True, distance_weighting=True,
                     memory_gb=4.0, threads=None, progress=False, tmpdir=None):
    """Count as :func:`count_cooccurrence`, but return the exact integer totals, cut into row
    blocks: for ``bounds`` ``b0 = 0 < b1 < ... < bk = V``, a list of k ``csr_matrix`` of int64
    (rows ``b[i]:b[i+1]``, all V columns, sorted columns, no zeros), and the ``scale``.

    The matrix :func:`count_cooccurrence` returns is ``totals / scale`` (float64), so integer
    blocks counted on parts of a corpus (shards whose sentences do not cross) add up exactly, in
    any order, to the totals of the whole (wordvec.distributed sums them that way).
    """
    bounds = np.asarray(bounds, dtype=np.int64)
    with _counted(corpus, window, symmetric, distance_weighting, memory_gb, threads, progress,
                  tmpdir) as c:
        if len(bounds) < 2 or bounds[0] != 0 or bounds[-1] != c.n_words or np.any(np.diff(bounds) <= 0):
            raise WordvecError(f"row blocks must cut 0..{c.n_words} in increasing bounds")
        sources = [p.chunks() for p in c.parts]
        blocks = [_integer_block(int(lo), int(hi), c, sources)
                  for lo, hi in zip(bounds[:-1], bounds[1:])]
        del sources
        return blocks, c.scale


def _integer_block(lo, hi, c, sources):
    """Rows lo..hi-1 of the counted totals as an int64 CSR (dense block cells + chunk entries)."""
    rows, cols, vals = [], [], []
    a, b = int(c.dstart[lo]), int(c.dstart[hi - 1] + c.dwidth[hi - 1])
    cells = np.flatnonzero(c.dense[a:b]) + a
    if len(cells):
        # row starts do not decrease and widths never grow: a cell's row is the last row that
        # starts at or before it and is not empty
        r = np.searchsorted(c.dstart[lo:hi], cells, side="right") - 1 + lo
        rows.append(r - lo)
        cols.append(cells - c.dstart[r])
        vals.append(c.dense[cells])
    first, last = np.uint64(lo) << np.uint64(32), np.uint64(hi) << np.uint64(32)
    for keys, v, chunk_bounds in sources:
        for s, e in zip(chunk_bounds[:-1].tolist(), chunk_bounds[1:].tolist()):
            k = keys[s:e]  # one sorted chunk (rows of one thread's share)
            i, j = np.searchsorted(k, [first, last])
            if j > i:
                k = np.asarray(k[i:j])
                rows.append((k >> np.uint64(32)).astype(np.int64) - lo)
                cols.append((k & np.uint64(0xFFFFFFFF)).astype(np.int64))
                vals.append(np.asarray(v[s + i:s + j]))
    shape = (hi - lo, c.n_words)
    if not vals:
        return sp.csr_matrix(shape, dtype=np.int64)
    m = sp.coo_matrix((np.concatenate(vals).astype(np.int64),
                       (np.concatenate(rows), np.concatenate(cols))), shape=shape).tocsr()
    m.sum_duplicates()  # a key may be in several chunks: add its values (int64, exact)
    m.eliminate_zeros()
    return m


class _Counted:
    """The accumulators after counting: what the matrix or the stream of non-zeros is made of."""

    def __init__(self, parts, n_words, dense, dstart, dwidth, scale, stats):
        self.parts, self.n_words, self.scale, self.stats = parts, n_words, scale, stats
        self.dense, self.dstart, self.dwidth = dense, dstart, dwidth


@contextlib.contextmanager
def _counted(corpus, window, symmetric, distance_weighting, memory_gb, threads, progress, tmpdir):
    """Count ``corpus`` into the hot/dense blocks and per-thread tables (spilled chunks in a
    private scratch folder); yields a :class:`_Counted`; removes the scratch afterwards."""
    window = int(window)
    if window < 1:
        raise WordvecError(f"window must be at least 1 (got {window})")
    if not memory_gb or memory_gb <= 0:
        raise WordvecError(f"memory must be a positive number of GB (got {memory_gb})")
    nparts = resolve_threads(threads)
    n_words = len(corpus.vocab)
    if n_words >= 1 << 31:
        raise WordvecError("vocabulary too large for co-occurrence counting (over 2**31 words)")
    weights, scale = _weights(window, distance_weighting)
    ids = corpus.ids
    offsets = np.asarray(corpus.offsets, dtype=np.int64)
    longest = int(np.diff(offsets).max()) if len(offsets) > 1 else 0
    min_slots = (min(2 * window * longest, longest * max(longest - 1, 0)) + 1) / MAX_LOAD
    dense_cells, slots, max_slots = _plan(n_words, memory_gb, nparts, min_slots)
    dstart, dwidth = _dense_layout(n_words, dense_cells)
    dense = np.zeros(int(dstart[-1] + dwidth[-1]) if n_words else 0, dtype=np.int64)
    # the hot block: pairs of the most frequent words (about half of all additions on English
    # text for 512 words) land in 2 MB that stay in cache; folded into the dense rows at the end
    hot_n = min(HOT_WORDS, int(np.sum(dwidth >= np.arange(1, n_words + 1))))
    hot = np.zeros(hot_n * hot_n, dtype=np.int64)
    tmp = tmpdir or tempfile.gettempdir()
    scratch_names.clean_stale(tmp, SCRATCH_PATTERN)
    stop = threading.Event()  # set by the caller's thread on an error or a signal
    workers = []
    folder = bar = None
    try:
        # private (0700), named with the owner tag so a later run can tell it is stale
        folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{scratch_names.tag()}-", dir=tmp)
        hint = diskio.scratch_hint(tmp)
        bar = _bar(progress, corpus.n_tokens)  # each thread scans every token: 1/nparts each
        grow_lock = threading.Lock()
        parts = [_Part(p, nparts, slots, max_slots, folder, stop, hint, grow_lock)
                 for p in range(nparts)]
        errors = []

        def run(part):
            try:
                part.count(ids, offsets, window, symmetric, weights, hot, dense, dstart, dwidth,
                           bar)
            except _Stopped:
                pass
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                errors.append(e)
                stop.set()  # the other threads need not finish

        workers = [threading.Thread(target=run, args=(p,), name=f"wordvec-cooccur-{p.part}")
                   for p in parts]
        for w in workers:
            w.start()
        for w in workers:
            while w.is_alive():  # a timed join: the signal handlers run in this thread
                w.join(0.25)
        if errors:
            raise errors[0]
        report.close(bar, ok=True)
        bar = None
        _fold_hot(hot, dense, dstart)
        hot = None  # noqa: F841 - free it before the merge
        stats = {"spills": sum(p.spills for p in parts), "dense_cells": int(dense.shape[0]),
                 "hash_slots": max(p.slots for p in parts), "threads": nparts, "scale": scale}
        yield _Counted(parts, n_words, dense, dstart, dwidth, scale, stats)
        for p in parts:
            p.final = None
    finally:
        # Tell the workers to stop and wait for them (each stops within one chunk of sentences)
        # BEFORE the folder goes: no spill may be written after it is removed.
        stop.set()
        for w in workers:
            while w.is_alive():
                try:
                    w.join(0.25)
                except KeyboardInterrupt:  # a second Ctrl-C: keep waiting, the clean-up must run
                    pass
        report.close(bar, ok=False)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


class _Stopped(Exception):
    """A worker saw the stop flag: it ends without finishing its share."""


class _Part:
    """One thread's share of the rows: its hash table and its spill file of sorted chunks."""

    def __init__(self, part, nparts, slots, max_slots, folder, stop=None, hint="", grow_lock=None):
        self.part, self.nparts = part, nparts
        self.grow_lock = grow_lock if grow_lock is not None else threading.Lock()
        self.stop = stop if stop is not None else threading.Event()
        self.hint = hint
        self.max_slots = max_slots
        self.state = np.zeros(1, dtype=np.int64)
        self._table(slots)
        self.path_k = os.path.join(folder, f"part{part}.keys")
        self.path_v = os.path.join(folder, f"part{part}.vals")
        self.bounds = [0]
        self.spills = 0
        self.final = None  # (keys, vals) held in memory when nothing was spilled

    def count(self, ids, offsets, window, symmetric, weights, hot, dense, dstart, dwidth, bar):
        n_sent = len(offsets) - 1
        mine = (np.arange(len(dstart)) % self.nparts) == self.part
        s = 0
        while s < n_sent:
            if self.stop.is_set():
                raise _Stopped
            # stop at a chunk boundary so progress moves
            end = int(np.searchsorted(offsets, offsets[s] + CHUNK_TOKENS, side="left"))
            end = min(max(end, s + 1), n_sent)
            nxt = _count(ids, offsets, s, end, window, symmetric, weights, mine, hot, dense, dstart,
                         dwidth, self.keys, self.vals, self.shift,
                         self.state, self.limit)
            if nxt == s and self.state[0] == 0:
                raise WordvecError("co-occurrence memory budget too small for one sentence; "
                                   "raise --memory")
            if nxt < end:
                self.full()
            if bar is not None:
                bar.update(int(offsets[nxt] - offsets[s]) / self.nparts)
            s = nxt
        if self.spills:
            self.spill()
        else:
            n = _compact_sort(self.keys, self.vals)
            # views, not copies: a copy would briefly hold the table twice (the peak of counting)
            self.final = (self.keys[:n], self.vals[:n])
            self.state[0] = 0
        self.keys = self.vals = None

    def _table(self, slots):
        self.slots = slots
        self.keys = np.full(slots, EMPTY, dtype=np.uint64)
        self.vals = np.zeros(slots, dtype=np.int64)
        self.shift = np.uint64(64 - int(math.log2(slots)))
        self.limit = int(slots * MAX_LOAD)

    def full(self):
        """The table is at its load limit: double it if the budget allows, else spill."""
        if self.slots < self.max_slots:
            # one doubling at a time across threads: each briefly holds its old table beside
            # the new, and two at once would raise the peak by another half table
            with self.grow_lock:
                keys, vals = self.keys, self.vals
                self._table(self.slots * 2)
                self.state[0] = 0
                _rehash(keys, vals, self.keys, self.vals, self.shift, self.state)
                keys = vals = None  # noqa: F841 - freed before another thread may grow
        else:
            self.spill()

    def spill(self):
        n = _compact_sort(self.keys, self.vals)
        self.state[0] = 0
        if self.stop.is_set():  # the folder is about to go: write nothing more into it
            raise _Stopped
        with diskio.writing(f"the co-occurrence chunks in {os.path.dirname(self.path_k)}",
                            self.hint):
            with open(self.path_k, "ab") as f:
                self.keys[:n].tofile(f)
            with open(self.path_v, "ab") as f:
                self.vals[:n].tofile(f)
        self.keys[:n] = EMPTY
        self.bounds.append(self.bounds[-1] + n)
        self.spills += 1

    def chunks(self):
        if self.final is not None:
            return self.final[0], self.final[1], np.array([0, len(self.final[0])], np.int64)
        keys = np.memmap(self.path_k, dtype=np.uint64, mode="r")
        vals = np.memmap(self.path_v, dtype=np.int64, mode="r")
        return keys, vals, np.array(self.bounds, dtype=np.int64)

    def n_chunked(self):
        """How many (key, value) pairs the part holds outside the dense block (with repeats)."""
        return len(self.final[0]) if self.final is not None else int(self.bounds[-1])


class _Windows:
    """A part's sorted chunks seen through small windows read from its spill files.

    The k-way merge of :func:`_emit` needs every chunk's next keys; reading them into windows
    of bounded size (``WINDOWS_BYTES`` for all chunks together) keeps the merge's memory small
    however many chunks there are (a memory map would keep each chunk's read pages, and the
    pages the kernel maps ahead, in the process). An unspilled part is one window: its table.
    """

    def __init__(self, part):
        self.files = []
        if part.final is not None:
            keys, vals = part.final
            self.keys, self.vals = keys.reshape(1, -1), vals.reshape(1, -1)
            self.pos = np.zeros(1, np.int64)
            self.len = np.array([len(keys)], np.int64)
            self.more = np.zeros(1, np.bool_)
            return
        bounds = np.array(part.bounds, dtype=np.int64)
        k = len(bounds) - 1
        width = max(MIN_WINDOW, WINDOWS_BYTES // (16 * max(k, 1)))
        self.keys = np.empty((k, width), np.uint64)
        self.vals = np.empty((k, width), np.int64)
        self.pos = np.zeros(k, np.int64)
        self.len = np.zeros(k, np.int64)
        self.next, self.end = bounds[:-1].copy(), bounds[1:].copy()
        self.more = self.next < self.end
        self.files = [open(part.path_k, "rb", buffering=0), open(part.path_v, "rb", buffering=0)]
        self.refill()

    def refill(self):
        """Read the next keys and values of every chunk whose window is used up."""
        for i in np.flatnonzero((self.pos >= self.len) & self.more).tolist():
            m = int(min(self.keys.shape[1], self.end[i] - self.next[i]))
            for f, win in zip(self.files, (self.keys, self.vals)):
                diskio.read_exactly(f, int(self.next[i]) * 8, win[i, :m], f"spill file {f.name}")
            self.next[i] += m
            self.pos[i], self.len[i] = 0, m
            self.more[i] = self.next[i] < self.end[i]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for f in self.files:
            f.close()


def _assemble(parts, n_words, dense, dstart, dwidth, scale):
    """Merge every part's chunks and the dense block into CSR arrays."""
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    empty_i = np.zeros(0, np.int32)
    empty_d = np.zeros(0, np.float64)
    sources = [p.chunks() for p in parts]
    for p, (k, v, b) in zip(parts, sources):
        _merge(k, v, b, p.part, p.nparts, n_words, dense, dstart, dwidth, indptr, empty_i,
               empty_d, False, float(scale))
    np.cumsum(indptr, out=indptr)
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if nnz < 2**31 else np.int64
    indices = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz, dtype=np.float64)
    for p, (k, v, b) in zip(parts, sources):
        _merge(k, v, b, p.part, p.nparts, n_words, dense, dstart, dwidth, indptr, indices,
               data, True, float(scale))
    del sources
    for p in parts:
        p.final = None
    m = sp.csr_matrix((data, indices, indptr.astype(idx_dtype)), shape=(n_words, n_words))
    return m


def _bar(progress, total):
    return report.bar(progress, total, "co-occurrence", "tok", leave=False)
