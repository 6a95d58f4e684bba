"""One exact training step of every kernel against a plain NumPy implementation of the update.

Each case is tiny and fixed: given weights, two sentences (the second one with a repeated word),
window 3 (so the dynamic window shrink matters), some words subsampled, and the kernel's own
random stream replayed by a pure-Python twin of :mod:`wordvec.rng` (xorshift64*), so the
reference draws the same subsampling coins, window sizes and noise words in the same order.
The learning rate is not taken from the code under test: the kernels get a ``progress`` array
already part-way through a schedule and the reference computes the linear decay itself
(``alpha - (alpha - min_alpha) * done / total``, re-read at each sentence start).

The references follow the published update rules:

- word2vec (Mikolov et al. 2013; word2vec.c): skip-gram trains the input row of each context
  word to predict the centre word; CBOW predicts the centre word from the mean (or sum) of the
  context rows and adds the whole error to every context row; the window reach is
  ``window - b``, ``b`` uniform in ``[0, window)``; negative sampling scores the target with
  label 1 and K noise words (a noise word equal to the target is skipped) with label 0,
  hierarchical softmax scores the Huffman path with label ``1 - code``; ``g = (label -
  sigmoid(f)) * lr``; the output row gets ``g * h`` and the input side ``sum g * c``.
  Documented deviations the reference reproduces: per (context, centre) pair (or per CBOW
  window) all K+1 scores are computed before any output row is updated; with ``shared``
  negatives (Ji et al. 2016) one set of noise words per centre word, the output rows read once
  per window and their gradients applied at the end of the window; CBOW draws its noise words
  before it knows whether the window has any context.
- fastText (Bojanowski et al. 2017; fastText's ``Model::update``): the hidden vector is the mean
  of the input rows (the word row and its n-gram rows; CBOW: all rows of all context words), the
  output rows are updated one target at a time, and the full gradient is added to EVERY input row
  (twice to a row listed twice); skip-gram recomputes the centre's mean for every context word.
  Noise words equal to the target are redrawn. Sigmoid: fastText's table (x rounded down to a
  multiple of 1/32 over [-8, 8]).
- GloVe (Pennington et al. 2014; Stanford glove.c): ``diff = w.c + b + b~ - log x``, ``f(x) =
  min(1, (x/x_max)^power)``, ``fdiff = f(x) * diff``, AdaGrad per coordinate with squared
  gradient sums starting at 1: vector gradients ``g = clip(fdiff * other row, +-clip) * eta``,
  updates ``-g / sqrt(G)`` then ``G += g^2``; biases ``-fdiff / sqrt(G)``, unscaled by eta
  (glove.c since v0.2).

For word2vec the reference uses the sigmoid of the kernel's table (1024 bin centres over
[-6, 6]) written out here; the table itself is checked against the exact sigmoid below.
"""

import math

import numpy as np
import pytest

from wordvec import ft_kernels as FK
from wordvec import glove as G
from wordvec import sgd_kernels as SK
from wordvec import w2v_kernels as K
from wordvec.rng import seed_state
from wordvec.vocab import Vocabulary

M64 = (1 << 64) - 1


class Twin:
    """Pure-Python xorshift64* with the draws of :mod:`wordvec.rng`."""

    def __init__(self, state):
        self.x = int(state[0])

    def u32(self):
        x = self.x
        x ^= x >> 12
        x = (x ^ (x << 25)) & M64
        x ^= x >> 27
        self.x = x
        return ((x * 0x2545F4914F6CDD1D) & M64) >> 32

    def uniform(self):
        return float(np.float32(self.u32() >> 8) * np.float32(1.0 / 16777216.0))

    def below(self, n):
        return (self.u32() * n) >> 32

    def alias(self, prob, alias):
        i = self.below(len(prob))
        return i if self.uniform() < float(prob[i]) else int(alias[i])


def sig_w2v(f):
    """wordvec's word2vec sigmoid table: 1024 bins over [-6, 6], the value at the bin centre."""
    i = min(max(int((f + 6.0) * 1024 / 12.0), 0), 1023)
    x = (i + 0.5) / 1024 * 12.0 - 6.0
    return 1.0 / (1.0 + math.exp(-x))


def sig_fasttext(f):
    """fastText's sigmoid: table of 512 + 1 values at i / 32 - 8, index rounded down."""
    if f < -8.0:
        return 0.0
    if f > 8.0:
        return 1.0
    i = int((f + 8.0) * 512 / 16.0)
    return 1.0 / (1.0 + math.exp(-(i * 16.0 / 512 - 8.0)))


def logsig(x):
    return -math.log1p(math.exp(-x)) if x > -30 else x


# ---- the fixed case ---------------------------------------------------------------------------
V, DIM, WINDOW, NEG = 9, 6, 3, 3
ALPHA, MIN_ALPHA = 0.1, 0.002
SENTENCES = [[0, 3, 1, 5, 2, 7, 0, 4], [6, 2, 8, 2, 1, 3, 0]]
PROGRESS0 = [30, 11]  # another thread's words and ours: 41 of TOTAL done before the job
SLOT = 1
TOTAL = 80


def case(seed=3):
    rng = np.random.default_rng(seed)
    counts = np.array([40, 30, 22, 15, 11, 8, 6, 4, 3])
    vocab = Vocabulary([f"w{i}" for i in range(V)], counts)
    W = ((rng.random((V + 5, DIM)) - 0.5) * 0.8).astype(np.float32)
    C = ((rng.random((V, DIM)) - 0.5) * 0.8).astype(np.float32)
    keep = np.ones(V, dtype=np.float32)
    keep[0], keep[2] = 0.6, 0.8  # two frequent words subsampled
    ids = np.concatenate([np.asarray(s, dtype=np.int32) for s in SENTENCES])
    offsets = np.cumsum([0] + [len(s) for s in SENTENCES]).astype(np.int64)
    return vocab, W, C, keep, ids, offsets


def schedule_and_progress():
    return (np.array([ALPHA, MIN_ALPHA, TOTAL], dtype=np.float64),
            np.array(PROGRESS0, dtype=np.int64))


def ref_lr(done):
    return ALPHA - (ALPHA - MIN_ALPHA) * min(done / TOTAL, 1.0)


def subsample(sent, keep, tw):
    return [w for w in sent if keep[w] >= 1.0 or tw.uniform() < float(keep[w])]


def reach(tw):
    return WINDOW - tw.below(WINDOW)


def draw_noise(w, nprob, nalias, tw):
    targets, labels = [w], [1.0]
    for _ in range(NEG):
        t = tw.alias(nprob, nalias)
        if t != w:
            targets.append(t)
            labels.append(0.0)
    return targets, labels


def path(w, hoff, hcodes, hpoints):
    return ([int(hpoints[p]) for p in range(hoff[w], hoff[w + 1])],
            [1.0 - float(hcodes[p]) for p in range(hoff[w], hoff[w + 1])])


# ---- word2vec reference ------------------------------------------------------------------------
def ref_word2vec(model, loss, shared, cbow_mean, W, C, keep, vocab, state):
    """The word2vec update, plain NumPy float64. Returns (W, C, loss_sum, count, trained)."""
    W = W.astype(np.float64)
    C = C.astype(np.float64)
    tw = Twin(state)
    nprob, nalias = vocab.noise_alias()
    hoff, hcodes, hpoints = vocab.huffman()
    done = sum(PROGRESS0)
    total_loss, count, trained = 0.0, 0, 0

    def outputs(w):
        if loss == "ns":
            return draw_noise(w, nprob, nalias, tw)
        return path(w, hoff, hcodes, hpoints)

    def score(h, t, label):
        f = float(h @ C[t])
        return (label - sig_w2v(f)), -logsig((2 * label - 1) * f)

    for sent in SENTENCES:
        lr = ref_lr(done)
        sen = subsample(sent, keep, tw)
        trained += len(sen)
        n = len(sen)
        for i, w in enumerate(sen):
            r = reach(tw)
            ctx = [j for j in range(max(0, i - r), min(n, i + r + 1)) if j != i]
            if model == "cbow":
                # noise words are drawn before the context is known to be non-empty
                targets, labels = outputs(w) if loss == "ns" else (None, None)
                if not ctx:
                    continue
                if loss == "hs":
                    targets, labels = outputs(w)
                h = W[[sen[j] for j in ctx]].sum(axis=0)
                if cbow_mean:
                    h = h / len(ctx)
                gs = []
                for t, lab in zip(targets, labels):  # all scores before any update
                    d, lo = score(h, t, lab)
                    gs.append(d * lr)
                    total_loss += lo
                err = np.zeros(DIM)
                for t, g in zip(targets, gs):
                    err += g * C[t]
                    C[t] += g * h
                count += len(targets)
                for j in ctx:  # the whole error to every context row (word2vec.c)
                    W[sen[j]] += err
            elif not shared:
                for j in ctx:
                    targets, labels = outputs(w)
                    l1 = W[sen[j]].copy()
                    gs = []
                    for t, lab in zip(targets, labels):
                        d, lo = score(l1, t, lab)
                        gs.append(d * lr)
                        total_loss += lo
                    err = np.zeros(DIM)
                    for t, g in zip(targets, gs):
                        err += g * C[t]
                        C[t] += g * l1
                    count += len(targets)
                    W[sen[j]] += err
            else:
                if not ctx:
                    continue
                targets, labels = outputs(w)
                out = C[targets].copy()  # the window's output rows, read once
                gout = np.zeros_like(out)
                for j in ctx:
                    row = W[sen[j]]
                    err = np.zeros(DIM)
                    for q, lab in enumerate(labels):
                        f = float(row @ out[q])
                        g = (lab - sig_w2v(f)) * lr
                        total_loss += -logsig((2 * lab - 1) * f)
                        err += g * out[q]
                        gout[q] += g * row
                    W[sen[j]] += err
                for q, t in enumerate(targets):
                    C[t] += gout[q]
                count += len(targets) * len(ctx)
        done += len(sent)
    return W, C, total_loss, count, trained


def w2v_args(loss, cbow_mean, W, C, keep, vocab, ids, offsets, state, progress, slot, schedule):
    """The grouped kernel arguments (see wordvec.sgd_kernels)."""
    hs = loss == "hs"
    return (K.corpus_args(ids, offsets), K.model_args(W, C, keep, WINDOW, cbow_mean),
            K.loss_args(hs, NEG, None if hs else vocab.noise_alias(),
                        vocab.huffman() if hs else None),
            (state, progress, slot, schedule))


def w2v_kernel(model, loss, shared):
    if model == "sg":
        if loss == "ns":
            return K.sg_ns_shared if shared else K.sg_ns
        return K.sg_hs_shared if shared else K.sg_hs
    return K.cbow_ns if loss == "ns" else K.cbow_hs


def run_w2v_kernel(model, loss, shared, cbow_mean, W, C, keep, vocab, ids, offsets, state):
    schedule, progress = schedule_and_progress()
    data, net, lossg, sched = w2v_args(loss, cbow_mean, W, C, keep, vocab, ids, offsets, state,
                                       progress, SLOT, schedule)
    out = w2v_kernel(model, loss, shared)(data, 0, len(SENTENCES), net, lossg, sched)
    return out, progress


W2V_VARIANTS = [("sg", "ns", False, True), ("sg", "ns", True, True), ("sg", "hs", False, True),
                ("sg", "hs", True, True), ("cbow", "ns", False, True), ("cbow", "ns", False, False),
                ("cbow", "hs", False, True), ("cbow", "hs", False, False)]


def w2v_id(v):
    model, loss, shared, mean = v
    return f"{model}-{loss}" + ("-shared" if shared else "") + ("" if mean or model == "sg" else "-sum")


@pytest.mark.parametrize("variant", W2V_VARIANTS, ids=[w2v_id(v) for v in W2V_VARIANTS])
@pytest.mark.parametrize("seed", [3, 11])
def test_word2vec_kernel_matches_reference(variant, seed):
    model, loss, shared, mean = variant
    vocab, W, C, keep, ids, offsets = case(seed)
    if loss == "hs":
        C = C[:V - 1].copy()
    state = seed_state(seed, 7)
    want_W, want_C, want_loss, want_count, want_trained = ref_word2vec(
        model, loss, shared, mean, W, C, keep, vocab, state.copy())
    W0, C0 = W.copy(), C.copy()
    (got_loss, got_count, read, trained), progress = run_w2v_kernel(
        model, loss, shared, mean, W, C, keep, vocab, ids, offsets, state)
    assert read == sum(len(s) for s in SENTENCES)
    assert progress.tolist() == [PROGRESS0[0], PROGRESS0[1] + read]
    assert trained == want_trained and got_count == want_count
    # the step moved things (the test is not comparing two no-ops) ...
    assert np.abs(want_W - W0).max() > 1e-2 and np.abs(want_C - C0).max() > 1e-2
    # ... and exactly as the reference did
    np.testing.assert_allclose(W, want_W, rtol=0, atol=2e-6)
    np.testing.assert_allclose(C, want_C, rtol=0, atol=2e-6)
    # loss from the log-sigmoid table: within its resolution of the exact one
    assert abs(got_loss - want_loss) <= 0.006 * want_count


@pytest.mark.parametrize("variant", W2V_VARIANTS, ids=[w2v_id(v) for v in W2V_VARIANTS])
def test_word2vec_kernel_at_end_of_schedule_uses_min_alpha(variant):
    """With progress past the total the kernel must use min_alpha; min_alpha 0 freezes it."""
    model, loss, shared, mean = variant
    vocab, W, C, keep, ids, offsets = case(5)
    if loss == "hs":
        C = C[:V - 1].copy()
    W0, C0 = W.copy(), C.copy()
    schedule = np.array([ALPHA, 0.0, 10.0])
    progress = np.array([0, 10], dtype=np.int64)
    state = seed_state(1)
    data, net, lossg, sched = w2v_args(loss, mean, W, C, keep, vocab, ids, offsets, state,
                                       progress, 1, schedule)
    w2v_kernel(model, loss, shared)(data, 0, 2, net, lossg, sched)
    assert np.array_equal(W, W0) and np.array_equal(C, C0)


def test_word2vec_sigmoid_tables_are_the_sigmoid():
    xs = np.linspace(-5.99, 5.99, 2001)
    got = np.array([SK.SIGMOID[SK._slot(np.float32(x))] for x in xs])
    assert np.abs(got - 1 / (1 + np.exp(-xs))).max() < 0.0016  # half a bin times slope 1/4
    got = np.array([SK._logsig(np.float32(x), np.float32(1.0)) for x in xs])
    assert np.abs(got + np.log1p(np.exp(-xs))).max() < 0.006
    assert SK._logsig(np.float32(-9.0), np.float32(1.0)) == pytest.approx(-9.0)
    assert SK._logsig(np.float32(3.0), np.float32(-1.0)) == pytest.approx(-3.0486, abs=0.006)


# ---- fastText reference ------------------------------------------------------------------------
def ft_case(seed):
    vocab, W, C, keep, ids, offsets = case(seed)
    # word rows 0..V-1, n-gram rows V..V+4; word 4 lists n-gram row V+1 twice (a collision)
    lists = [[0, V, V + 2], [1, V + 1], [2], [3, V + 3, V + 4, V], [4, V + 1, V + 1],
             [5, V + 2], [6], [7, V + 4], [8, V, V + 3]]
    roff = np.cumsum([0] + [len(x) for x in lists]).astype(np.int64)
    rows = np.concatenate(lists).astype(np.int32)
    return vocab, W, C, keep, ids, offsets, roff, rows


def ref_fasttext(arch, loss, W, C, keep, vocab, roff, rows, nprob, nalias, state):
    W = W.astype(np.float64)
    C = C.astype(np.float64)
    tw = Twin(state)
    hoff, hcodes, hpoints = vocab.huffman()
    done = sum(PROGRESS0)
    total_loss, count, trained = 0.0, 0, 0

    def update(h, target, lr):
        """fastText's loss for one target: output rows updated one after the other."""
        nonlocal total_loss, count
        grad = np.zeros(DIM)
        if loss == "hs":
            outs = list(zip(*path(target, hoff, hcodes, hpoints)))
        else:
            outs = [(target, 1.0)]
            for _ in range(NEG):
                t, tries = tw.alias(nprob, nalias), 1
                while t == target and tries < FK.MAX_REDRAW:
                    t, tries = tw.alias(nprob, nalias), tries + 1
                if t != target:
                    outs.append((t, 0.0))
        for t, label in outs:
            f = float(h @ C[t])
            g = (label - sig_fasttext(f)) * lr
            total_loss += -logsig((2 * label - 1) * f)
            grad += g * C[t]
            C[t] += g * h
            count += 1
        return grad

    for sent in SENTENCES:
        lr = ref_lr(done)
        sen = subsample(sent, keep, tw)
        trained += len(sen)
        n = len(sen)
        for i, w in enumerate(sen):
            r = reach(tw)
            ctx = [j for j in range(max(0, i - r), min(n, i + r + 1)) if j != i]
            if not ctx:
                continue
            if arch == "sg":
                mine = rows[roff[w]:roff[w + 1]]
                for j in ctx:  # fastText: a fresh mean and an update of every row per pair
                    grad = update(W[mine].mean(axis=0), sen[j], lr)
                    for row in mine:
                        W[row] += grad
            else:
                listed = np.concatenate([rows[roff[sen[j]]:roff[sen[j] + 1]] for j in ctx])
                grad = update(W[listed].mean(axis=0), w, lr)
                for row in listed:
                    W[row] += grad
        done += len(sent)
    return W, C, total_loss, count, trained


@pytest.mark.parametrize("arch", ["sg", "cbow"])
@pytest.mark.parametrize("loss", ["ns", "hs"])
@pytest.mark.parametrize("seed", [3, 11])
def test_fasttext_kernel_matches_reference(arch, loss, seed):
    vocab, W, C, keep, ids, offsets, roff, rows = ft_case(seed)
    if loss == "hs":
        C = C[:V - 1].copy()
        hoff, hcodes, hpoints = vocab.huffman()
        nprob, nalias = np.ones(1, np.float32), np.zeros(1, np.int32)
    else:
        hoff, hcodes, hpoints = np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.int32)
        nprob, nalias = vocab.noise_alias(power=0.5)
    state = seed_state(seed, 9)
    want_W, want_C, want_loss, want_count, want_trained = ref_fasttext(
        arch, loss, W, C, keep, vocab, roff, rows, nprob, nalias, state.copy())
    W0, C0 = W.copy(), C.copy()
    schedule, progress = schedule_and_progress()
    sig = FK.sigmoid_table("fasttext")
    hs = loss == "hs"
    overlap = FK.row_overlap(roff, rows) if arch == "sg" else np.ones(0, np.float32)
    args = (FK.corpus_args(ids, offsets), 0, 2, FK.model_args(W, C, keep, WINDOW, True,
                                                              (roff, rows, overlap)),
            FK.loss_args(hs, NEG, (nprob, nalias), (hoff, hcodes, hpoints)),
            (state, progress, SLOT, schedule), sig)
    got = (FK.sg if arch == "sg" else FK.cbow)(*args)
    got_loss, got_count, read, trained = got
    assert read == sum(len(s) for s in SENTENCES)
    assert progress.tolist() == [PROGRESS0[0], PROGRESS0[1] + read]
    assert trained == want_trained and got_count == want_count
    assert np.abs(want_W - W0).max() > 1e-2 and np.abs(want_C - C0).max() > 1e-2
    np.testing.assert_allclose(W, want_W, rtol=0, atol=3e-6)
    np.testing.assert_allclose(C, want_C, rtol=0, atol=3e-6)
    # the kernel reports word2vec's table log-sigmoid: within its resolution of the exact one
    assert abs(got_loss - want_loss) <= 0.006 * want_count


def test_fasttext_sigmoid_table_matches_fasttext():
    table, m, scale = FK.sigmoid_table("fasttext")
    for x in np.linspace(-7.9, 7.9, 397):
        assert SK._sig(np.float32(x), table, m, scale) == pytest.approx(sig_fasttext(x), abs=1e-6)


def test_row_overlap_counts_repeated_rows():
    _, _, _, _, _, _, roff, rows = ft_case(3)
    ov = FK.row_overlap(roff, rows)
    assert ov[4] == pytest.approx(5 / 3)  # rows (4, V+1, V+1): (1 + 4) / 3
    assert np.all(np.delete(ov, 4) == 1.0)


# ---- GloVe reference ----------------------------------------------------------------------------
def ref_glove(entries, W, C, bw, bc, GW, GC, gbw, gbc, x_max, power, eta, clip):
    W, C, bw, bc, GW, GC, gbw, gbc = (a.astype(np.float64)
                                      for a in (W, C, bw, bc, GW, GC, gbw, gbc))
    cost = 0.0
    for r, c, x in entries:
        diff = W[r] @ C[c] + bw[r] + bc[c] - math.log(x)
        fx = 1.0 if x >= x_max else (x / x_max) ** power
        cost += 0.5 * fx * diff * diff
        fdiff = fx * diff
        gw = np.clip(fdiff * C[c], -clip, clip) * eta
        gc = np.clip(fdiff * W[r], -clip, clip) * eta
        W[r] -= gw / np.sqrt(GW[r])
        C[c] -= gc / np.sqrt(GC[c])
        GW[r] += gw * gw
        GC[c] += gc * gc
        bw[r] -= fdiff / math.sqrt(gbw[r])
        bc[c] -= fdiff / math.sqrt(gbc[c])
        gbw[r] += fdiff * fdiff
        gbc[c] += fdiff * fdiff
    return W, C, bw, bc, GW, GC, gbw, gbc, cost


@pytest.mark.parametrize("clip", [100.0, 0.05])
@pytest.mark.parametrize("sums", ["ones", "grown"])
def test_glove_epoch_matches_reference(clip, sums):
    """``sums``: AdaGrad's squared-gradient sums as glove.c starts them (1) or as a later epoch
    finds them (1..9, so that 1/sqrt(G) matters from the first update)."""
    rng = np.random.default_rng(2)
    n, dim = 6, 5
    W = (rng.random((n, dim)) - 0.5).astype(np.float32)
    C = (rng.random((n, dim)) - 0.5).astype(np.float32)
    bw = (rng.random(n) - 0.5).astype(np.float32)
    bc = (rng.random(n) - 0.5).astype(np.float32)
    # counts below and above x_max, fractional (distance-weighted) ones, repeated rows/columns
    entries = [(0, 1, 3.0), (1, 0, 150.0), (2, 3, 0.5), (0, 3, 12.25), (4, 4, 1.0),
               (5, 2, 99.0), (0, 1, 7.0), (3, 5, 250.0), (2, 0, 1.5)]
    rows = np.array([e[0] for e in entries], dtype=np.int32)
    cols = np.array([e[1] for e in entries], dtype=np.int32)
    vals = np.array([e[2] for e in entries], dtype=np.float32)
    x_max, power, eta = 100.0, 0.75, 0.05
    GW, GC = np.ones_like(W), np.ones_like(C)
    gbw, gbc = np.ones_like(bw), np.ones_like(bc)
    if sums == "grown":
        for a in (GW, GC, gbw, gbc):
            a += (rng.random(a.shape) * 8).astype(np.float32)
    want = ref_glove(entries, W, C, bw, bc, GW, GC, gbw, gbc, x_max, power, eta, clip)
    W0 = W.copy()
    f32 = np.float32
    cost, bad, outside = G._epoch(rows, cols, vals, W, C, bw, bc, GW, GC, gbw, gbc, f32(x_max),
                                  f32(power), f32(eta), f32(clip))
    assert bad == 0 and outside == 0
    assert np.abs(want[0] - W0).max() > 1e-3
    for got, exp in zip((W, C, bw, bc, GW, GC, gbw, gbc), want[:8]):
        np.testing.assert_allclose(got, exp, rtol=2e-5, atol=2e-6)
    assert cost == pytest.approx(want[8], rel=1e-5)


def test_glove_weighting_function_is_used():
    """f(x) = (x/x_max)^power below x_max: an entry with x = x_max/8 and power 1 moves the bias
    exactly 1/8 as far as the same entry weighted 1 (first AdaGrad step: -f * diff; a bias
    step is not scaled by eta, as in glove.c since v0.2)."""
    f32 = np.float32
    one = np.ones(1, dtype=np.float32)
    moves = []
    for x in (12.5, 100.0):
        W, C = np.zeros((1, 2), f32), np.zeros((1, 2), f32)
        bw, bc = np.zeros(1, f32), np.zeros(1, f32)
        G._epoch(np.zeros(1, np.int32), np.zeros(1, np.int32), np.array([x], f32),
                 W, C, bw, bc, np.ones((1, 2), f32), np.ones((1, 2), f32),
                 one.copy(), one.copy(), f32(100.0), f32(1.0), f32(0.1), f32(100.0))
        moves.append(float(bw[0]))
    assert moves[1] == pytest.approx(math.log(100.0), rel=1e-5)
    assert moves[0] == pytest.approx(0.125 * math.log(12.5), rel=1e-5)
