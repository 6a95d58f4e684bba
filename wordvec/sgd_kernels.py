"""Numba kernels of the SGD trainers (word2vec and fastText): one sentence/window loop per
architecture, the losses as small inlined functions.

Every entry kernel trains one job (sentences ``first..last-1`` of an encoded corpus) and follows
the contract of :mod:`wordvec.training`: it adds the words it reads to ``progress[slot]`` after
each sentence, takes its learning rate from ``current_lr`` at each sentence start, and returns
``(loss_sum, loss_count, words_read, words_trained)``. The entries take grouped arguments::

    sg_ns(corpus, first, last, model, loss, sched)      word2vec: sg_ns, sg_ns_shared, sg_hs,
                                                        sg_hs_shared, cbow_ns, cbow_hs
    ft_sg(corpus, first, last, model, loss, sched, sig) fastText: ft_sg, ft_cbow

    corpus = (ids, offsets, eos)      int32 ids, int64 sentence offsets into ids, and the id of an
                                      end-of-line word appended to every sentence (-1: none)
    model  = (W, C, keep, window, cbow_mean, roff, rows, overlap)
                                      input rows, output rows, keep probabilities, window, CBOW
                                      mean (else sum), and for fastText the subword CSR (word w's
                                      input rows are rows[roff[w]:roff[w+1]]) and row_overlap
                                      (word2vec: empty arrays)
    loss   = (nprob, nalias, hoff, hcodes, hpoints, negative, hs)
                                      noise alias table, Huffman paths (CSR), K, and hs (bool)
    sched  = (rng, progress, slot, schedule)
                                      the job's RNG state, the shared progress array, this
                                      thread's slot, (alpha, min_alpha, total words)
    sig    = (table, max_x, scale)    fastText's sigmoid table (see :func:`sigmoid_table`);
                                      word2vec's kernels have theirs built in

The end-of-line word (fastText's ``</s>``) is virtual: the corpus on disk has no copy of it. Each
sentence is read as if ``eos`` followed its last word: it is subsampled with ``keep[eos]``,
trained as a centre and a context word, and counted in the words read.

The two architectures:

- :func:`_skipgram`: word2vec's skip-gram trains each context word's input row to predict the
  centre word (per pair, word2vec.c's way, or with negatives shared by the window, Ji et al.
  2016: :func:`_window_batch`); fastText's skip-gram predicts each context word from the centre
  word's subword mean, its rows written once per centre word.
- :func:`_cbow`: the sum or mean of the context's input rows (fastText: of all their subword
  rows) predicts the centre word; the error is added to every one of those rows.

Losses: negative sampling word2vec-style (:func:`_draw_negatives` + :func:`_score_all`: a noise
word equal to the target is skipped, all K+1 rows scored before any update) or fastText-style
(:func:`_ns_sequential`: redrawn, one row after the other), and hierarchical softmax
(:func:`_hs_path`, the same for both).

The entry kernels are thin: they call a loop with constant flags (``ON`` or ``None``), and Numba
compiles one specialisation of the loop per variant with the other variants' branches pruned
(bit-identical to the separate kernels they replace; speed in benchmarks/README.md). Hot loops
are float32 only, over row views, with a local copy of the row being read so LLVM can vectorise
without alias worries.

Numba's on-disk cache is keyed on the source file of the compiled function: keep every entry
kernel in this module with the helpers it inlines (see ``tests/conftest.py``).
"""

import numpy as np
from numba import njit

from .prefetch import prefetch_row
from .rng import draw_alias, next_below, next_float
from .training import current_lr

MAX_EXP = 6.0
TABLE_SIZE = 1024
AHEAD = 3  # words ahead in the sentence whose rows are prefetched
MAX_REDRAW = 16  # fastText NS: give up on a negative after this many draws equal to the target


def _tables():
    x = (np.arange(TABLE_SIZE, dtype=np.float64) + 0.5) / TABLE_SIZE * 2 * MAX_EXP - MAX_EXP
    sig = 1.0 / (1.0 + np.exp(-x))
    logsig = -np.log1p(np.exp(-x))
    return sig.astype(np.float32), logsig.astype(np.float32)


SIGMOID, LOG_SIGMOID = _tables()
_SCALE = np.float32(TABLE_SIZE / (2 * MAX_EXP))
_MAXF = np.float32(MAX_EXP)
_NO_SIG = (np.zeros(1, np.float32), np.float32(0.0), np.float32(1.0))  # word2vec: built-in table


def sigmoid_table(kind):
    """``(table float32[n], max_x float32, scale float32)``: sigmoid(x) is
    ``table[clip(int((x + max_x) * scale), 0, n - 1)]``. "word2vec": the shared table (1024
    bin centres over [-6, 6]); "fasttext": fastText's (513 values at ``i / 32 - 8``, so the
    lookup rounds x down to a multiple of 1/32, over [-8, 8])."""
    if kind == "word2vec":
        return SIGMOID, _MAXF, _SCALE
    x = np.arange(513, dtype=np.float64) / 32.0 - 8.0
    return ((1.0 / (1.0 + np.exp(-x))).astype(np.float32), np.float32(8.0), np.float32(32.0))


# ---- arithmetic -------------------------------------------------------------------------------
@njit(inline="always", nogil=True, fastmath=True)
def _slot(f):
    """Table index for ``f`` clipped to [-MAX_EXP, MAX_EXP] (NaN-safe: an int clamp)."""
    i = np.int64((f + _MAXF) * _SCALE)
    if i < 0:
        i = 0
    if i > TABLE_SIZE - 1:
        i = TABLE_SIZE - 1
    return i


@njit(inline="always", nogil=True, fastmath=True)
def _logsig(f, sign):
    """log sigmoid(sign * f), linear beyond the table on the negative side."""
    x = f * sign
    if x < -_MAXF:
        return x
    if x > _MAXF:
        return np.float32(0.0)
    return LOG_SIGMOID[_slot(x)]


@njit(inline="always", nogil=True, fastmath=True)
def _sig(f, tab, m, scale):
    """sigmoid(f) from a table of :func:`sigmoid_table` (NaN-safe: an int clamp)."""
    i = np.int64((f + m) * scale)
    if i < 0:
        i = 0
    if i > tab.shape[0] - 1:
        i = tab.shape[0] - 1
    return tab[i]


@njit(inline="always", nogil=True, fastmath=True)
def _dot(a, b, n):
    s = np.float32(0.0)
    for k in range(n):
        s += a[k] * b[k]
    return s


@njit(inline="always", nogil=True, fastmath=True)
def _axpy(g, x, y, n):
    for k in range(n):
        y[k] += g * x[k]


@njit(inline="always", nogil=True, fastmath=True)
def _zero(x, n):
    for k in range(n):
        x[k] = 0.0


# ---- reading the corpus -----------------------------------------------------------------------
@njit(inline="always", nogil=True, fastmath=True)
def _subsample(ids, a, b, eos, keep, rng, sen):
    """Copy the kept words of ``ids[a:b]`` (then of the word ``eos`` if >= 0) to ``sen``;
    return how many."""
    n = 0
    for p in range(a, b):
        w = ids[p]
        if keep[w] >= np.float32(1.0) or next_float(rng) < keep[w]:
            sen[n] = w
            n += 1
    if eos >= 0:
        if keep[eos] >= np.float32(1.0) or next_float(rng) < keep[eos]:
            sen[n] = eos
            n += 1
    return n


@njit(inline="always", nogil=True)
def _sentence_buffer(offsets, first, last, eos):
    """Room for the (kept) words of any sentence of the job, plus its end-of-line word."""
    n = offsets[last] - offsets[first]
    if eos >= 0:
        n += last - first
    return np.empty(max(n, 1), dtype=np.int32)


@njit(inline="always", nogil=True)
def _max_depth(hoff):
    depth = 1
    for v in range(hoff.shape[0] - 1):
        depth = max(depth, hoff[v + 1] - hoff[v])
    return depth


# ---- losses -----------------------------------------------------------------------------------
@njit(inline="always", nogil=True, fastmath=True)
def _draw_negatives(targets, labels, target, negative, nprob, nalias, rng):
    """word2vec's output rows for ``target``: itself (label 1) and K noise words (label 0), a
    noise word equal to the target skipped. Returns how many rows."""
    targets[0] = target
    labels[0] = 1.0
    m = 1
    for _ in range(negative):
        t = draw_alias(nprob, nalias, rng)
        if t != target:
            targets[m] = t
            labels[m] = 0.0
            m += 1
    return m


@njit(inline="always", nogil=True)
def _path_targets(targets, labels, target, hoff, hcodes, hpoints):
    """The Huffman path of ``target`` as output rows and labels ``1 - code``; returns its length."""
    m = 0
    for p in range(hoff[target], hoff[target + 1]):
        targets[m] = hpoints[p]
        labels[m] = np.float32(1.0) - np.float32(hcodes[p])
        m += 1
    return m


@njit(inline="always", nogil=True, fastmath=True)
def _score_all(h, err, C, targets, labels, gs, m, lr, dim, tab, sm, ss):
    """Negative sampling, word2vec: score all ``m`` output rows against ``h`` before updating
    any (the CPU overlaps their random reads; the same arithmetic as word2vec.c unless a noise
    word repeats); add the input gradient to ``err``. Returns the loss (minus log-likelihood).

    (The losses return their own sum rather than update a running one: measured ~2 % faster.)"""
    sloss = np.float32(0.0)
    for q in range(m):
        f = _dot(h, C[targets[q]], dim)
        gs[q] = (labels[q] - _sig(f, tab, sm, ss)) * lr
        sloss -= _logsig(f, np.float32(2.0) * labels[q] - np.float32(1.0))
    for q in range(m):
        c = C[targets[q]]
        _axpy(gs[q], c, err, dim)
        _axpy(gs[q], h, c, dim)
    return sloss


@njit(inline="always", nogil=True, fastmath=True)
def _hs_path(h, err, C, target, hoff, hcodes, hpoints, lr, dim, tab, sm, ss):
    """Hierarchical softmax: ``h`` predicts ``target``'s Huffman path, node after node; adds
    the input gradient to ``err``. Returns ``(loss, path length)``."""
    sloss = np.float32(0.0)
    count = 0
    for p in range(hoff[target], hoff[target + 1]):
        c = C[hpoints[p]]
        label = np.float32(1.0) - np.float32(hcodes[p])
        f = _dot(h, c, dim)
        g = (label - _sig(f, tab, sm, ss)) * lr
        sloss -= _logsig(f, np.float32(2.0) * label - np.float32(1.0))
        _axpy(g, c, err, dim)
        _axpy(g, h, c, dim)
        count += 1
    return sloss, count


@njit(inline="always", nogil=True, fastmath=True)
def _ns_sequential(h, err, C, target, negative, nprob, nalias, rng, lr, dim, tab, sm, ss):
    """Negative sampling, fastText: the target then K noise words (redrawn while equal to the
    target), each output row scored and updated in turn; adds the input gradient to ``err``.
    Returns ``(loss, rows scored)``."""
    sloss = np.float32(0.0)
    count = 0
    for d in range(negative + 1):
        if d == 0:
            t = np.int64(target)
            label = np.float32(1.0)
        else:
            t = draw_alias(nprob, nalias, rng)
            tries = 1
            while t == target and tries < MAX_REDRAW:
                t = draw_alias(nprob, nalias, rng)
                tries += 1
            if t == target:
                continue
            label = np.float32(0.0)
        c = C[t]
        f = _dot(h, c, dim)
        g = (label - _sig(f, tab, sm, ss)) * lr
        sloss -= _logsig(f, np.float32(2.0) * label - np.float32(1.0))
        _axpy(g, c, err, dim)
        _axpy(g, h, c, dim)
        count += 1
    return sloss, count


@njit(inline="always", nogil=True, fastmath=True)
def _window_batch(W, C, sen, i, lo, hi, targets, labels, m, out, gout, gs, err, lr, dim,
                  tab, sm, ss):
    """Train the contexts ``sen[lo:hi]`` (except ``i``) against the same ``m`` output rows.

    The output rows are copied to ``out`` once; each context row gets its ``m`` scores and
    gradients and is updated at once; the output-row gradients accumulate in ``gout`` and are
    written back at the end of the window (a mini-batch over the window, Ji et al. 2016).
    Returns the summed loss.
    """
    for q in range(m):
        src = C[targets[q]]
        o = out[q]
        go = gout[q]
        for k in range(dim):
            o[k] = src[k]
            go[k] = 0.0
    wloss = np.float32(0.0)
    for j in range(lo, hi):
        if j == i:
            continue
        row = W[sen[j]]
        for q in range(m):
            f = _dot(row, out[q], dim)
            gs[q] = (labels[q] - _sig(f, tab, sm, ss)) * lr
            wloss -= _logsig(f, np.float32(2.0) * labels[q] - np.float32(1.0))
        _zero(err, dim)
        for q in range(m):
            _axpy(gs[q], out[q], err, dim)
            _axpy(gs[q], row, gout[q], dim)
        _axpy(np.float32(1.0), err, row, dim)
    for q in range(m):
        _axpy(np.float32(1.0), gout[q], C[targets[q]], dim)
    return wloss


# ---- input side -------------------------------------------------------------------------------
@njit(inline="always", nogil=True, fastmath=True)
def mean_rows(W, rows, a, b, h, dim):
    """``h`` = mean of ``W[rows[a:b]]``."""
    _zero(h, dim)
    for p in range(a, b):
        _axpy(np.float32(1.0), W[rows[p]], h, dim)
    if b > a:
        inv = np.float32(1.0) / np.float32(b - a)
        for k in range(dim):
            h[k] *= inv


@njit(inline="always", nogil=True, fastmath=True)
def _spread(W, rows, a, b, err, dim):
    """Add ``err`` to every row ``W[rows[a:b]]``."""
    for p in range(a, b):
        _axpy(np.float32(1.0), err, W[rows[p]], dim)


@njit(inline="always", nogil=True, fastmath=True)
def _cbow_hidden(W, sen, i, lo, hi, h, dim, mean, subwords, roff, rows):
    """``h`` = sum (or mean) of the input rows of the context ``sen[lo:hi]`` except ``i``
    (fastText: of all their subword rows); return how many rows."""
    _zero(h, dim)
    nr = 0
    for j in range(lo, hi):
        if j != i:
            c = sen[j]
            if subwords is not None:
                for p in range(roff[c], roff[c + 1]):
                    _axpy(np.float32(1.0), W[rows[p]], h, dim)
                nr += roff[c + 1] - roff[c]
            else:
                _axpy(np.float32(1.0), W[c], h, dim)
                nr += 1
    if mean and nr > 0:
        inv = np.float32(1.0) / np.float32(nr)
        for k in range(dim):
            h[k] *= inv
    return nr


@njit(inline="always", nogil=True)
def _prefetch_word(W, C, word, subwords, roff, rows):
    """fastText: start fetching a coming word's subword rows (random rows of a large bucket
    table) and its output row, so their memory latency overlaps this centre's work. A hint: no
    value changes. (word2vec: nothing; its rows are mostly in cache, and prefetching them
    measured 0.99x sg and 1.03x CBOW training time, 3 runs each.)"""
    if subwords is not None:
        for p in range(roff[word], roff[word + 1]):
            prefetch_row(W, rows[p])
        if word < C.shape[0]:
            prefetch_row(C, word)


# ---- the two loops ----------------------------------------------------------------------------
@njit(nogil=True, fastmath=True)
def _skipgram(corpus, first, last, model, loss, sched, sig, subwords, shared, hs):
    """Skip-gram over sentences ``first..last-1``. ``subwords``: fastText (the centre's subword
    mean predicts each context word); else word2vec (each context row predicts the centre),
    per pair or, with ``shared``, the window as one mini-batch over the centre's output rows.

    The flags ``subwords``, ``shared`` and ``hs`` are constants of the calling entry kernel,
    ``ON`` or ``None``: Numba prunes the branches of a ``None`` flag (and the other branch of a
    constant one) before it inlines the helpers, so each variant compiles only its own code.
    word2vec uses its built-in sigmoid table as a constant, fastText the ``sig`` given.
    """
    ids, offsets, eos = corpus
    W, C, keep, window, _mean, roff, rows, overlap = model
    nprob, nalias, hoff, hcodes, hpoints, negative, _hs = loss
    rng, progress, slot, schedule = sched
    if subwords is not None:
        tab, sm, ss = sig
    else:
        tab, sm, ss = SIGMOID, _MAXF, _SCALE
    dim = W.shape[1]
    k1 = negative + 1
    nbuf = 1
    if shared is not None:
        nbuf = k1
        if hs is not None:
            k1 = _max_depth(hoff)
            nbuf = k1
    h = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    acc = np.empty(dim, dtype=np.float32)
    targets = np.empty(k1, dtype=np.int64)
    labels = np.empty(k1, dtype=np.float32)
    gs = np.empty(k1, dtype=np.float32)
    out = np.empty((nbuf, dim), dtype=np.float32)
    gout = np.empty((nbuf, dim), dtype=np.float32)
    sen = _sentence_buffer(offsets, first, last, eos)
    eos_words = 1 if eos >= 0 else 0
    total = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, eos, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            if i + AHEAD < n:
                _prefetch_word(W, C, sen[i + AHEAD], subwords, roff, rows)
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            if hi - lo < 2:
                continue
            if subwords is not None:
                # fastText recomputes the centre's mean and adds the gradient to all its rows
                # after every (centre, context) pair. Here the rows are written once per centre,
                # with the SAME result: adding ``err`` to each of the word's rows moves their
                # mean by exactly ``overlap * err`` (``overlap`` = sum of the squared
                # multiplicities of its rows / their number; 1.0 unless an n-gram row repeats)
                # and nothing else reads those rows in between, so ``h += overlap * err`` after
                # each pair and the summed gradient is spread at the end.
                ra = roff[w]
                rb = roff[w + 1]
                mean_rows(W, rows, ra, rb, h, dim)
                ov = overlap[w]
                _zero(acc, dim)
                for j in range(lo, hi):
                    if j == i:
                        continue
                    _zero(err, dim)
                    if hs is not None:
                        pl, pc = _hs_path(h, err, C, sen[j], hoff, hcodes, hpoints, lr, dim,
                                          tab, sm, ss)
                    else:
                        pl, pc = _ns_sequential(h, err, C, sen[j], negative, nprob, nalias, rng,
                                                lr, dim, tab, sm, ss)
                    sloss += pl
                    count += pc
                    for k in range(dim):
                        acc[k] += err[k]
                        h[k] += ov * err[k]
                _spread(W, rows, ra, rb, acc, dim)
            elif shared is not None:
                if hs is not None:
                    m = _path_targets(targets, labels, w, hoff, hcodes, hpoints)
                else:
                    m = _draw_negatives(targets, labels, w, negative, nprob, nalias, rng)
                sloss += _window_batch(W, C, sen, i, lo, hi, targets, labels, m, out, gout, gs,
                                       err, lr, dim, tab, sm, ss)
                count += m * (hi - lo - 1)
            else:
                for j in range(lo, hi):
                    if j == i:
                        continue
                    if hs is None:
                        m = _draw_negatives(targets, labels, w, negative, nprob, nalias, rng)
                    row = W[sen[j]]
                    for k in range(dim):
                        h[k] = row[k]
                        err[k] = 0.0
                    if hs is not None:
                        pl, pc = _hs_path(h, err, C, w, hoff, hcodes, hpoints, lr, dim, tab, sm,
                                          ss)
                    else:
                        pl = _score_all(h, err, C, targets, labels, gs, m, lr, dim, tab, sm, ss)
                        pc = m
                    sloss += pl
                    count += pc
                    _axpy(np.float32(1.0), err, row, dim)
        total += sloss
        read += b - a + eos_words
        progress[slot] += b - a + eos_words
    return total, count, read, trained


@njit(nogil=True, fastmath=True)
def _cbow(corpus, first, last, model, loss, sched, sig, subwords, hs):
    """CBOW over sentences ``first..last-1``: the context's sum or mean (fastText: the mean of
    all its subword rows) predicts the centre word; the error goes to every input row read.
    Flags and sigmoid table as in :func:`_skipgram`."""
    ids, offsets, eos = corpus
    W, C, keep, window, mean, roff, rows, _overlap = model
    nprob, nalias, hoff, hcodes, hpoints, negative, _hs = loss
    rng, progress, slot, schedule = sched
    if subwords is not None:
        tab, sm, ss = sig
    else:
        tab, sm, ss = SIGMOID, _MAXF, _SCALE
    dim = W.shape[1]
    k1 = negative + 1
    h = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    targets = np.empty(k1, dtype=np.int64)
    labels = np.empty(k1, dtype=np.float32)
    gs = np.empty(k1, dtype=np.float32)
    sen = _sentence_buffer(offsets, first, last, eos)
    eos_words = 1 if eos >= 0 else 0
    total = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, eos, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            if i + AHEAD < n:
                _prefetch_word(W, C, sen[i + AHEAD], subwords, roff, rows)
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            m = 0
            if subwords is None:
                if hs is None:
                    # word2vec draws its noise words before it knows the window has a context
                    m = _draw_negatives(targets, labels, w, negative, nprob, nalias, rng)
            if hi - lo < 2:
                continue
            _cbow_hidden(W, sen, i, lo, hi, h, dim, mean, subwords, roff, rows)
            _zero(err, dim)
            if hs is not None:
                pl, pc = _hs_path(h, err, C, w, hoff, hcodes, hpoints, lr, dim, tab, sm, ss)
            elif subwords is not None:
                pl, pc = _ns_sequential(h, err, C, w, negative, nprob, nalias, rng, lr, dim,
                                        tab, sm, ss)
            else:
                pl = _score_all(h, err, C, targets, labels, gs, m, lr, dim, tab, sm, ss)
                pc = m
            sloss += pl
            count += pc
            for j in range(lo, hi):
                if j != i:
                    c = sen[j]
                    if subwords is not None:
                        _spread(W, rows, roff[c], roff[c + 1], err, dim)
                    else:
                        _axpy(np.float32(1.0), err, W[c], dim)
        total += sloss
        read += b - a + eos_words
        progress[slot] += b - a + eos_words
    return total, count, read, trained


# ---- entry kernels, see the module doc ---------------------------------------------------------
ON = 1  # a loop flag that is set (an unset one is None: see _skipgram)


@njit(cache=True, nogil=True, fastmath=True)
def sg_ns(corpus, first, last, model, loss, sched):
    """word2vec skip-gram, negative sampling, per (context, centre) pair as word2vec.c."""
    return _skipgram(corpus, first, last, model, loss, sched, _NO_SIG, None, None, None)


@njit(cache=True, nogil=True, fastmath=True)
def sg_ns_shared(corpus, first, last, model, loss, sched):
    """word2vec skip-gram, negative sampling, noise words shared by the window (Ji et al.)."""
    return _skipgram(corpus, first, last, model, loss, sched, _NO_SIG, None, ON, None)


@njit(cache=True, nogil=True, fastmath=True)
def sg_hs(corpus, first, last, model, loss, sched):
    """word2vec skip-gram, hierarchical softmax, per (context, centre) pair as word2vec.c."""
    return _skipgram(corpus, first, last, model, loss, sched, _NO_SIG, None, None, ON)


@njit(cache=True, nogil=True, fastmath=True)
def sg_hs_shared(corpus, first, last, model, loss, sched):
    """word2vec skip-gram, hierarchical softmax, the centre's path batched over its window."""
    return _skipgram(corpus, first, last, model, loss, sched, _NO_SIG, None, ON, ON)


@njit(cache=True, nogil=True, fastmath=True)
def cbow_ns(corpus, first, last, model, loss, sched):
    """word2vec CBOW, negative sampling."""
    return _cbow(corpus, first, last, model, loss, sched, _NO_SIG, None, None)


@njit(cache=True, nogil=True, fastmath=True)
def cbow_hs(corpus, first, last, model, loss, sched):
    """word2vec CBOW, hierarchical softmax."""
    return _cbow(corpus, first, last, model, loss, sched, _NO_SIG, None, ON)


@njit(cache=True, nogil=True, fastmath=True)
def ft_sg(corpus, first, last, model, loss, sched, sig):
    """fastText skip-gram, NS or HS as ``loss`` says."""
    if loss[6]:
        return _skipgram(corpus, first, last, model, loss, sched, sig, ON, None, ON)
    return _skipgram(corpus, first, last, model, loss, sched, sig, ON, None, None)


@njit(cache=True, nogil=True, fastmath=True)
def ft_cbow(corpus, first, last, model, loss, sched, sig):
    """fastText CBOW, NS or HS as ``loss`` says."""
    if loss[6]:
        return _cbow(corpus, first, last, model, loss, sched, sig, ON, ON)
    return _cbow(corpus, first, last, model, loss, sched, sig, ON, None)


# ---- fastText's subword rows ------------------------------------------------------------------
@njit(cache=True, nogil=True)
def row_overlap(roff, rows):
    """Per word: sum over its rows of (times the row is listed)^2 / rows listed (1.0 if no
    repeats): how far the mean of its rows moves when each listed row gets ``+err``."""
    v = roff.shape[0] - 1
    out = np.ones(v, dtype=np.float32)
    for w in range(v):
        a = roff[w]
        b = roff[w + 1]
        same = 0
        for p in range(a, b):
            for q in range(a, b):
                if rows[p] == rows[q]:
                    same += 1
        if b > a:
            out[w] = np.float32(same / (b - a))
    return out


@njit(cache=True, nogil=True, fastmath=True)
def word_means(W, roff, rows, out):
    """``out[i]`` = mean of word ``i``'s input rows (its final fastText vector)."""
    dim = W.shape[1]
    for i in range(out.shape[0]):
        mean_rows(W, rows, roff[i], roff[i + 1], out[i], dim)


# ---- building the argument groups -------------------------------------------------------------
NO_SUBWORDS = (np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))


def corpus_args(ids, offsets, eos=-1):
    """The ``corpus`` group: ids as stored (a memory map stays one), offsets as int64."""
    return ids, np.ascontiguousarray(offsets, dtype=np.int64), int(eos)


def model_args(W, C, keep, window, cbow_mean=True, subwords=NO_SUBWORDS):
    """The ``model`` group; ``subwords`` = (roff, rows, overlap) for fastText."""
    roff, rows, overlap = subwords
    return (W, C, keep, int(window), bool(cbow_mean), roff, rows, overlap)


def loss_args(hs, negative=0, noise=None, huffman=None):
    """The ``loss`` group: ``noise`` = (prob, alias) for negative sampling, ``huffman`` =
    (offsets, codes, points) for hierarchical softmax; the other one gets placeholders."""
    nprob, nalias = noise if noise is not None else (np.ones(1, np.float32),
                                                      np.zeros(1, np.int32))
    hoff, hcodes, hpoints = huffman if huffman is not None else (
        np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.int32))
    return (nprob, nalias, hoff, hcodes, hpoints, int(negative), bool(hs))
