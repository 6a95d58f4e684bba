"""Numba kernels for word2vec: skip-gram and CBOW x negative sampling and hierarchical softmax.

Each kernel trains one job (sentences ``first..last-1`` of an encoded corpus) and follows the
contract of :mod:`wordvec.training`: it adds the words it reads to ``progress[slot]`` after each
sentence, takes its learning rate from ``current_lr`` at each sentence start, and returns
``(loss_sum, loss_count, words_read, words_trained)``.

Notation as in word2vec.c: ``W`` (input vectors, the result) and ``C`` (output weights: context
vectors for negative sampling, inner Huffman nodes for hierarchical softmax). Skip-gram trains the
input vector of each context word to predict the centre word (as word2vec.c and gensim do); with
``shared`` negatives the centre word's K noise words are drawn once per window and shared by all
its contexts (Ji et al. 2016), so each window is a small dense block of dot products over the
same few output rows. CBOW predicts the centre word from the sum (or mean) of its context
vectors. Subsampling (keep probabilities), the dynamic window and the noise draws (alias table)
all happen here, with the job's own RNG state.

Hot loops are float32 only, over row views, with a local copy of the row being read so LLVM can
vectorise without alias worries.
"""

import numpy as np
from numba import njit

from .rng import draw_alias, next_below, next_float
from .training import current_lr

MAX_EXP = 6.0
TABLE_SIZE = 1024


def _tables():
    x = (np.arange(TABLE_SIZE, dtype=np.float64) + 0.5) / TABLE_SIZE * 2 * MAX_EXP - MAX_EXP
    sig = 1.0 / (1.0 + np.exp(-x))
    logsig = -np.log1p(np.exp(-x))
    return sig.astype(np.float32), logsig.astype(np.float32)


SIGMOID, LOG_SIGMOID = _tables()
_SCALE = np.float32(TABLE_SIZE / (2 * MAX_EXP))
_MAXF = np.float32(MAX_EXP)


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
def _subsample(ids, a, b, keep, rng, sen):
    """Copy the kept words of ``ids[a:b]`` to ``sen``; return how many."""
    n = 0
    for p in range(a, b):
        w = ids[p]
        if keep[w] >= np.float32(1.0) or next_float(rng) < keep[w]:
            sen[n] = w
            n += 1
    return n


@njit(cache=True, nogil=True, fastmath=True)
def sg_ns(ids, offsets, first, last, W, C, keep, nprob, nalias, window, negative,
          rng, progress, slot, schedule):
    """Skip-gram, negative sampling, word2vec.c's way: fresh noise words for every pair.

    Per (context, centre) pair the K+1 output rows are drawn and scored before any update (the
    CPU overlaps their random reads; same arithmetic as word2vec.c unless a noise word repeats).
    """
    dim = W.shape[1]
    k1 = negative + 1
    l1 = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    targets = np.empty(k1, dtype=np.int64)
    labels = np.empty(k1, dtype=np.float32)
    gs = np.empty(k1, dtype=np.float32)
    sen = np.empty(max(offsets[last] - offsets[first], 1), dtype=np.int32)
    loss = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            for j in range(lo, hi):
                if j == i:
                    continue
                targets[0] = w
                labels[0] = 1.0
                m = 1
                for _ in range(negative):
                    t = draw_alias(nprob, nalias, rng)
                    if t != w:
                        targets[m] = t
                        labels[m] = 0.0
                        m += 1
                row = W[sen[j]]
                for k in range(dim):
                    l1[k] = row[k]
                    err[k] = 0.0
                for q in range(m):
                    f = _dot(l1, C[targets[q]], dim)
                    gs[q] = (labels[q] - SIGMOID[_slot(f)]) * lr
                    sloss -= _logsig(f, np.float32(2.0) * labels[q] - np.float32(1.0))
                for q in range(m):
                    c = C[targets[q]]
                    _axpy(gs[q], c, err, dim)
                    _axpy(gs[q], l1, c, dim)
                count += m
                _axpy(np.float32(1.0), err, row, dim)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


@njit(inline="always", nogil=True, fastmath=True)
def _window_batch(W, C, sen, i, lo, hi, targets, labels, m, out, gout, gs, err, lr, dim):
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
            gs[q] = (labels[q] - SIGMOID[_slot(f)]) * lr
            wloss -= _logsig(f, np.float32(2.0) * labels[q] - np.float32(1.0))
        for k in range(dim):
            err[k] = 0.0
        for q in range(m):
            _axpy(gs[q], out[q], err, dim)
            _axpy(gs[q], row, gout[q], dim)
        _axpy(np.float32(1.0), err, row, dim)
    for q in range(m):
        _axpy(np.float32(1.0), gout[q], C[targets[q]], dim)
    return wloss


@njit(cache=True, nogil=True, fastmath=True)
def sg_ns_shared(ids, offsets, first, last, W, C, keep, nprob, nalias, window, negative,
                 rng, progress, slot, schedule):
    """Skip-gram, negative sampling, negatives shared by all contexts of a window (Ji et al.).

    Per centre word: K noise words drawn once; the centre and noise rows form the output block
    of :func:`_window_batch`. Far fewer random row reads than :func:`sg_ns` for the same work.
    """
    dim = W.shape[1]
    k1 = negative + 1
    out = np.empty((k1, dim), dtype=np.float32)
    gout = np.empty((k1, dim), dtype=np.float32)
    targets = np.empty(k1, dtype=np.int64)
    labels = np.empty(k1, dtype=np.float32)
    gs = np.empty(k1, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    sen = np.empty(max(offsets[last] - offsets[first], 1), dtype=np.int32)
    loss = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            if hi - lo < 2:
                continue
            targets[0] = w
            labels[0] = 1.0
            m = 1
            for _ in range(negative):
                t = draw_alias(nprob, nalias, rng)
                if t != w:
                    targets[m] = t
                    labels[m] = 0.0
                    m += 1
            sloss += _window_batch(W, C, sen, i, lo, hi, targets, labels, m, out, gout, gs,
                                   err, lr, dim)
            count += m * (hi - lo - 1)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


@njit(cache=True, nogil=True, fastmath=True)
def sg_hs_shared(ids, offsets, first, last, W, C, keep, hoff, hcodes, hpoints, window,
                 rng, progress, slot, schedule):
    """Skip-gram, hierarchical softmax, the centre word's path rows batched over its window."""
    dim = W.shape[1]
    depth = 1
    for v in range(hoff.shape[0] - 1):
        depth = max(depth, hoff[v + 1] - hoff[v])
    out = np.empty((depth, dim), dtype=np.float32)
    gout = np.empty((depth, dim), dtype=np.float32)
    targets = np.empty(depth, dtype=np.int64)
    labels = np.empty(depth, dtype=np.float32)
    gs = np.empty(depth, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    sen = np.empty(max(offsets[last] - offsets[first], 1), dtype=np.int32)
    loss = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            if hi - lo < 2:
                continue
            m = 0
            for p in range(hoff[w], hoff[w + 1]):
                targets[m] = hpoints[p]
                labels[m] = np.float32(1.0) - np.float32(hcodes[p])
                m += 1
            sloss += _window_batch(W, C, sen, i, lo, hi, targets, labels, m, out, gout, gs,
                                   err, lr, dim)
            count += m * (hi - lo - 1)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


@njit(cache=True, nogil=True, fastmath=True)
def sg_hs(ids, offsets, first, last, W, C, keep, hoff, hcodes, hpoints, window,
          rng, progress, slot, schedule):
    """Skip-gram, hierarchical softmax: each context row predicts the centre word's path."""
    dim = W.shape[1]
    l1 = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    sen = np.empty(max(offsets[last] - offsets[first], 1), dtype=np.int32)
    loss = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            for j in range(lo, hi):
                if j == i:
                    continue
                row = W[sen[j]]
                for k in range(dim):
                    l1[k] = row[k]
                    err[k] = 0.0
                for p in range(hoff[w], hoff[w + 1]):
                    c = C[hpoints[p]]
                    label = np.float32(1.0) - np.float32(hcodes[p])
                    f = _dot(l1, c, dim)
                    g = (label - SIGMOID[_slot(f)]) * lr
                    sloss -= _logsig(f, np.float32(2.0) * label - np.float32(1.0))
                    _axpy(g, c, err, dim)
                    _axpy(g, l1, c, dim)
                    count += 1
                _axpy(np.float32(1.0), err, row, dim)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


@njit(inline="always", nogil=True, fastmath=True)
def _context_sum(W, sen, i, lo, hi, h, dim, cbow_mean):
    """``h`` = sum (or mean) of the context rows ``sen[lo:hi]`` except ``i``; return their count."""
    for k in range(dim):
        h[k] = 0.0
    cw = 0
    for j in range(lo, hi):
        if j != i:
            _axpy(np.float32(1.0), W[sen[j]], h, dim)
            cw += 1
    if cbow_mean and cw > 0:
        inv = np.float32(1.0) / np.float32(cw)
        for k in range(dim):
            h[k] *= inv
    return cw


@njit(cache=True, nogil=True, fastmath=True)
def cbow_ns(ids, offsets, first, last, W, C, keep, nprob, nalias, window, negative, cbow_mean,
            rng, progress, slot, schedule):
    """CBOW, negative sampling: the context sum/mean predicts the centre word.

    The K+1 output rows are drawn first and their scores computed before any update, so the
    CPU overlaps the random row reads (the same arithmetic as word2vec.c unless a noise word is
    drawn twice for one centre).
    """
    dim = W.shape[1]
    k1 = negative + 1
    h = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    targets = np.empty(k1, dtype=np.int64)
    labels = np.empty(k1, dtype=np.float32)
    gs = np.empty(k1, dtype=np.float32)
    sen = np.empty(max(offsets[last] - offsets[first], 1), dtype=np.int32)
    loss = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            targets[0] = w
            labels[0] = 1.0
            m = 1
            for _ in range(negative):
                t = draw_alias(nprob, nalias, rng)
                if t != w:
                    targets[m] = t
                    labels[m] = 0.0
                    m += 1
            cw = _context_sum(W, sen, i, lo, hi, h, dim, cbow_mean)
            if cw == 0:
                continue
            for q in range(m):
                f = _dot(h, C[targets[q]], dim)
                gs[q] = (labels[q] - SIGMOID[_slot(f)]) * lr
                sloss -= _logsig(f, np.float32(2.0) * labels[q] - np.float32(1.0))
            for k in range(dim):
                err[k] = 0.0
            for q in range(m):
                c = C[targets[q]]
                _axpy(gs[q], c, err, dim)
                _axpy(gs[q], h, c, dim)
            count += m
            for j in range(lo, hi):
                if j != i:
                    _axpy(np.float32(1.0), err, W[sen[j]], dim)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


@njit(cache=True, nogil=True, fastmath=True)
def cbow_hs(ids, offsets, first, last, W, C, keep, hoff, hcodes, hpoints, window, cbow_mean,
            rng, progress, slot, schedule):
    """CBOW, hierarchical softmax: the context sum/mean predicts the centre word's path."""
    dim = W.shape[1]
    h = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    sen = np.empty(max(offsets[last] - offsets[first], 1), dtype=np.int32)
    loss = 0.0
    count = 0
    read = 0
    trained = 0
    for s in range(first, last):
        a = offsets[s]
        b = offsets[s + 1]
        lr = current_lr(progress, schedule)
        n = _subsample(ids, a, b, keep, rng, sen)
        trained += n
        sloss = np.float32(0.0)
        for i in range(n):
            w = sen[i]
            reduced = window - next_below(rng, window)
            lo = max(0, i - reduced)
            hi = min(n, i + reduced + 1)
            cw = _context_sum(W, sen, i, lo, hi, h, dim, cbow_mean)
            if cw == 0:
                continue
            for k in range(dim):
                err[k] = 0.0
            for p in range(hoff[w], hoff[w + 1]):
                c = C[hpoints[p]]
                label = np.float32(1.0) - np.float32(hcodes[p])
                f = _dot(h, c, dim)
                g = (label - SIGMOID[_slot(f)]) * lr
                sloss -= _logsig(f, np.float32(2.0) * label - np.float32(1.0))
                _axpy(g, c, err, dim)
                _axpy(g, h, c, dim)
                count += 1
            for j in range(lo, hi):
                if j != i:
                    _axpy(np.float32(1.0), err, W[sen[j]], dim)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained
