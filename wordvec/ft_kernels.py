"""Numba kernels for fastText: skip-gram and CBOW over subword rows, NS or hierarchical softmax.

Same contract as :mod:`wordvec.w2v_kernels` (see :mod:`wordvec.training`): one call trains
sentences ``first..last-1``, adds the words it reads to ``progress[slot]`` after each sentence,
takes its lr from ``current_lr`` at each sentence start and returns ``(loss_sum, loss_count,
words_read, words_trained)``.

``W`` is fastText's input matrix: ``V`` word rows then ``bucket`` n-gram rows; word ``w``'s
rows are ``rows[roff[w]:roff[w+1]]`` (its own row then its n-gram rows, see
:mod:`wordvec.subwords`). As in fastText, the hidden vector is the MEAN of the input rows and
the full gradient is added to EVERY one of them. ``C`` holds the output rows (one per word for
negative sampling, Huffman inner nodes for hierarchical softmax).

Skip-gram follows fastText's direction: the centre word's subword mean predicts each context word.
fastText recomputes that mean and adds the gradient to all its rows after every (centre, context)
pair. Here the rows are written once per centre word, with the SAME result: adding ``err`` to
each of the word's rows moves their mean by exactly ``overlap * err`` (``overlap`` = sum of the
squared multiplicities of its rows / their number; 1.0 unless an n-gram row repeats), and nothing
else reads those rows in between, so the kernel keeps ``h += overlap * err`` after each pair and
spreads the summed gradient at the end. That reads and writes the ~10-25 subword rows once per
centre word instead of twice per pair.

Negatives as fastText draws them: from unigram counts ** 0.5 by default (the exponent is the
trainer's ``ns_exponent``), redrawn while equal to the target.
"""

import numpy as np
from numba import njit

from .rng import draw_alias, next_below
from .training import current_lr
from .w2v_kernels import _MAXF, _SCALE, SIGMOID, _axpy, _dot, _logsig, _subsample

MAX_REDRAW = 16  # give up on a negative after this many draws equal to the target (tiny vocabs)


def sigmoid_table(kind):
    """``(table float32[n], max_x float32, scale float32)``: sigmoid(x) is
    ``table[clip(int((x + max_x) * scale), 0, n - 1)]``. "word2vec": the shared table (1024
    bin centres over [-6, 6]); "fasttext": fastText's (513 values at ``i / 32 - 8``, so the
    lookup rounds x down to a multiple of 1/32, over [-8, 8])."""
    if kind == "word2vec":
        return SIGMOID, _MAXF, _SCALE
    x = np.arange(513, dtype=np.float64) / 32.0 - 8.0
    return ((1.0 / (1.0 + np.exp(-x))).astype(np.float32), np.float32(8.0), np.float32(32.0))


@njit(inline="always", nogil=True, fastmath=True)
def _sig(f, tab, m, scale):
    i = np.int64((f + m) * scale)
    if i < 0:
        i = 0
    if i > tab.shape[0] - 1:
        i = tab.shape[0] - 1
    return tab[i]


@njit(inline="always", nogil=True, fastmath=True)
def _mean_rows(W, rows, a, b, h, dim):
    """``h`` = mean of ``W[rows[a:b]]``."""
    for k in range(dim):
        h[k] = 0.0
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
def _predict(h, err, C, target, lr, hs, negative, nprob, nalias, hoff, hcodes, hpoints, rng,
             dim, sig, sig_m, sig_s):
    """One prediction of ``target`` from ``h``: update output rows, add to ``err``.

    Returns ``(loss, n_predictions)``.
    """
    loss = np.float32(0.0)
    count = 0
    if hs:
        for p in range(hoff[target], hoff[target + 1]):
            c = C[hpoints[p]]
            label = np.float32(1.0) - np.float32(hcodes[p])
            f = _dot(h, c, dim)
            g = (label - _sig(f, sig, sig_m, sig_s)) * lr
            loss -= _logsig(f, np.float32(2.0) * label - np.float32(1.0))
            _axpy(g, c, err, dim)
            _axpy(g, h, c, dim)
            count += 1
        return loss, count
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
        g = (label - _sig(f, sig, sig_m, sig_s)) * lr
        loss -= _logsig(f, np.float32(2.0) * label - np.float32(1.0))
        _axpy(g, c, err, dim)
        _axpy(g, h, c, dim)
        count += 1
    return loss, count


@njit(cache=True, nogil=True, fastmath=True)
def sg(ids, offsets, first, last, W, C, roff, rows, overlap, keep, hs, nprob, nalias, hoff,
       hcodes, hpoints, window, negative, rng, progress, slot, schedule, sig, sig_m, sig_s):
    """fastText skip-gram: the centre word's subword mean predicts each word of its window."""
    dim = W.shape[1]
    h = np.empty(dim, dtype=np.float32)
    err = np.empty(dim, dtype=np.float32)
    acc = np.empty(dim, dtype=np.float32)
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
            ra = roff[w]
            rb = roff[w + 1]
            _mean_rows(W, rows, ra, rb, h, dim)
            ov = overlap[w]
            for k in range(dim):
                acc[k] = 0.0
            for j in range(lo, hi):
                if j == i:
                    continue
                for k in range(dim):
                    err[k] = 0.0
                pl, pc = _predict(h, err, C, sen[j], lr, hs, negative, nprob, nalias, hoff,
                                  hcodes, hpoints, rng, dim, sig, sig_m, sig_s)
                sloss += pl
                count += pc
                for k in range(dim):
                    acc[k] += err[k]
                    h[k] += ov * err[k]
            _spread(W, rows, ra, rb, acc, dim)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


@njit(cache=True, nogil=True, fastmath=True)
def cbow(ids, offsets, first, last, W, C, roff, rows, keep, hs, nprob, nalias, hoff, hcodes,
         hpoints, window, negative, rng, progress, slot, schedule, sig, sig_m, sig_s):
    """fastText CBOW: the mean of ALL subword rows of the context words predicts the centre."""
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
            if hi - lo < 2:
                continue
            for k in range(dim):
                h[k] = 0.0
                err[k] = 0.0
            nr = 0
            for j in range(lo, hi):
                if j != i:
                    c = sen[j]
                    for p in range(roff[c], roff[c + 1]):
                        _axpy(np.float32(1.0), W[rows[p]], h, dim)
                    nr += roff[c + 1] - roff[c]
            inv = np.float32(1.0) / np.float32(nr)
            for k in range(dim):
                h[k] *= inv
            pl, pc = _predict(h, err, C, w, lr, hs, negative, nprob, nalias, hoff, hcodes,
                              hpoints, rng, dim, sig, sig_m, sig_s)
            sloss += pl
            count += pc
            for j in range(lo, hi):
                if j != i:
                    c = sen[j]
                    _spread(W, rows, roff[c], roff[c + 1], err, dim)
        loss += sloss
        read += b - a
        progress[slot] += b - a
    return loss, count, read, trained


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
        _mean_rows(W, rows, roff[i], roff[i + 1], out[i], dim)
