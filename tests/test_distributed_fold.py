"""The driver combines each replica of a round as it returns (running sums) instead of holding
them all and combining them afterwards. Each family's fold is checked against a copy of the
list-based combination it replaced (``old_*`` below, verbatim), on random replicas with unequal
weights, all of them and with one missing (a lost worker: the round combined from those that
returned, weights normalised over those).

Tolerances: where the fold does the same float32 operations in the same order (GloVe's default
and its other adding rules) the results are compared bit for bit; a weighted mean is now a
weighted sum divided by the total weight, where it was a sum of terms each weighted by its
share, so it agrees to float32 rounding: ``ATOL`` (values of order 1-10; measured differences
are a few 1e-7). A wrong weight moves the result by far more, checked in each test so that the
tolerance is seen to tell."""

import gc
import weakref

import numpy as np
import pytest

from wordvec import distributed_fasttext as dft
from wordvec import distributed_glove as dg
from wordvec import distributed_rounds as dr
from wordvec import distributed_train as dt

ATOL = 1e-5
WEIGHTS = [3_000, 5_000, 1_700]


# ---- the list-based combinations the folds replaced (as they were) --------------------------
def old_average_replicas(replicas, weights, base=None):
    total = float(sum(weights))
    out = []
    for k in range(len(replicas[0])):
        acc = np.zeros_like(replicas[0][k], dtype=np.float32)
        for r, w in zip(replicas, weights):
            acc += np.float32(w / total) * r[k]
        out.append(acc)
    return out


def old_combine_replicas(base, replicas, weights, how="sum-vectors"):
    if how == "mean" or len(replicas) == 1:
        return old_average_replicas(replicas, weights, base)
    rules = {"sum-vectors": "SSGG+", "sum-vectors-mean-sums": "SSGGm", "sum": "SSSS+",
             "gradsq": "GGGG+"}[how]
    added = [_old_added(base, replicas, k) for k in range(4, 8)]
    out = [None] * 4 + (added if rules[4] == "+" else
                        old_average_replicas([r[4:] for r in replicas], weights))
    for k in range(4):
        if rules[k] == "S":
            out[k] = _old_added(base, replicas, k)
        else:
            num = np.zeros_like(base[k], dtype=np.float32)
            for r in replicas:
                num += (r[k + 4] - base[k + 4]) * (r[k] - base[k])
            den = added[k] - base[k + 4]
            out[k] = base[k] + np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return out


def _old_added(base, replicas, k):
    acc = np.array(base[k], dtype=np.float32, copy=True)
    change = np.empty_like(acc)
    for r in replicas:
        acc += np.subtract(r[k], base[k], out=change)
    return acc


def old_add_deltas(matrices, deltas, words):
    total = float(sum(words))
    changed = [[] for _ in matrices]
    for delta, w in zip(deltas, words):
        f = np.float32(w / total)
        for k, (M, (rows, values)) in enumerate(zip(matrices, delta)):
            if len(rows):
                M[rows] += f * values
                changed[k].append(rows)
    return [np.unique(np.concatenate(c)) if c else np.zeros(0, np.int32) for c in changed]


def returned(items, weights, missing):
    """The replicas (and weights) of a round without the one at ``missing`` (None: all)."""
    keep = [i for i in range(len(items)) if i != missing]
    return [items[i] for i in keep], [weights[i] for i in keep]


def max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(x, np.float64) - y), initial=0.0))
               for x, y in zip(a, b))


# ---- sg / cbow: the weighted mean of whole replicas -----------------------------------------
@pytest.mark.parametrize("missing", [None, 1])
def test_word2vec_fold_is_the_weighted_mean(missing):
    from wordvec.params import WORD2VEC
    from wordvec.vocab import Vocabulary
    rng = np.random.default_rng(1)
    vocab = Vocabulary([f"w{i}" for i in range(70)], np.arange(70, 0, -1))
    family = dt._Word2VecRounds(vocab, WORD2VEC.resolve({"dim": 8, "seed": 3}), {})
    base = (family.W.copy(), family.C.copy())
    reps = [tuple(b + rng.standard_normal(b.shape).astype(np.float32) for b in base)
            for _ in WEIGHTS]
    reps, weights = returned(reps, WEIGHTS, missing)
    kept = [family.add((W, C, w, w - 5, 0.5 * w, w)) for (W, C), w in zip(reps, weights)]
    assert kept == [(None, None, w, w - 5, 0.5 * w, w) for w in weights]  # (the counts only)
    family.finish()
    want = old_average_replicas(reps, weights)
    got = (family.W, family.C)
    assert max_diff(got, want) < ATOL, max_diff(got, want)
    # a wrong weight is far outside the tolerance
    wrong = old_average_replicas(reps, [weights[0] * 1.01] + weights[1:])
    assert max_diff(got, wrong) > 100 * ATOL
    # and the next round starts from empty sums
    family.add((*reps[0], weights[0], 0, 0.0, 0))
    family.finish()
    np.testing.assert_allclose(family.W, reps[0][0], rtol=0, atol=ATOL)


def test_weighted_mean_and_average_replicas_on_the_lists():
    rng = np.random.default_rng(2)
    reps = [(rng.standard_normal((300_000 // 4, 4)).astype(np.float32),  # several row blocks
             rng.standard_normal(7).astype(np.float32)) for _ in WEIGHTS]
    got = dr.average_replicas(reps, WEIGHTS)
    want = old_average_replicas(reps, WEIGHTS)
    assert all(a.dtype == np.float32 for a in got)
    assert max_diff(got, want) < ATOL, max_diff(got, want)


# ---- GloVe: vectors' changes added, biases' changes weighted by AdaGrad increments ----------
def glove_round(rng, n=60, dim=5, k=3):
    """A base state and ``k`` replicas trained from it: each replica's own rows of W and bw (a
    row block), columns of C and bc shared, the AdaGrad sums grown where a parameter moved."""
    base = [rng.standard_normal((n, dim)).astype(np.float32),
            rng.standard_normal((n, dim)).astype(np.float32),
            rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32),
            1 + rng.random((n, dim), dtype=np.float32) * 5,
            1 + rng.random((n, dim), dtype=np.float32) * 5,
            1 + rng.random(n, dtype=np.float32) * 5, 1 + rng.random(n, dtype=np.float32) * 5]
    owner = rng.integers(0, k, n)
    reps = []
    for r in range(k):
        rep = [a.copy() for a in base]
        rows = owner == r
        cols = rng.random(n) < 0.6
        for j, sel in ((0, rows), (1, cols)):
            g = rng.standard_normal((int(sel.sum()), dim)).astype(np.float32)
            rep[j][sel] -= np.float32(0.1) * g
            rep[j + 4][sel] += g * g
        for j, sel in ((2, rows), (3, cols)):
            g = rng.standard_normal(int(sel.sum())).astype(np.float32)
            rep[j][sel] -= g
            rep[j + 4][sel] += g * g
        reps.append(tuple(rep))
    return base, reps


# the rules whose fold does the old operations in the old order: bit for bit with 2+ replicas
EXACT = ("sum-vectors", "sum", "gradsq")


@pytest.mark.parametrize("how", dg.COMBINE)
@pytest.mark.parametrize("missing", [None, 0])
def test_glove_fold_is_the_old_combination(how, missing):
    rng = np.random.default_rng(3)
    base, reps = glove_round(rng)
    reps, weights = returned(reps, WEIGHTS, missing)
    fold = dg.Combination([a.copy() for a in base], how)
    for r, w in zip(reps, weights):
        fold.add(r, w)
    got = fold.finish()
    want = old_combine_replicas(base, reps, weights, how)
    assert fold.base is None and fold.sums is None  # (it lets go of every array)
    assert [a.dtype for a in got] == [np.float32] * 8
    if how in EXACT:
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    assert max_diff(got, want) < ATOL, (how, max_diff(got, want))
    # the same through combine_replicas, the list form
    again = dg.combine_replicas(base, reps, weights, how)
    assert max_diff(again, got) == 0
    # a wrong weight (or, for the weight-free rules, a replica counted twice) is far outside
    wrong = old_combine_replicas(base, reps + reps[:1], weights + weights[:1], how)
    assert max_diff(got, wrong) > 100 * ATOL


@pytest.mark.parametrize("how", dg.COMBINE)
def test_glove_fold_of_one_replica_is_that_replica(how):
    """One replica returned: the old combination took it as it was; the fold's sums give it back
    to float32 rounding (a bias nobody trained keeps its value exactly)."""
    base, reps = glove_round(np.random.default_rng(4), k=1)
    fold = dg.Combination(base, how)
    fold.add(reps[0], 1234)
    got = fold.finish()
    assert max_diff(got, reps[0]) < ATOL, (how, max_diff(got, reps[0]))


def test_glove_unknown_combination_refused():
    with pytest.raises(dg.WordvecError, match="unknown way to combine"):
        dg.Combination([np.zeros(2, np.float32)] * 8, "median")


# ---- fastText: sparse row deltas, each times its replica's share of the words --------------
def fasttext_family(mode):
    from wordvec.params import FASTTEXT
    from wordvec.vocab import Vocabulary
    vocab = Vocabulary(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"],
                       [9, 8, 7, 6, 5, 4])
    p = FASTTEXT.resolve({"dim": 6, "bucket": 200, "seed": 5})
    family = (dft._FastTextRounds if mode == "sparse" else dft._FullRounds)(
        vocab, p, {"sentences": 3, "tokens": 39, "raw_tokens": 39, "epochs": 1})
    return family


@pytest.mark.parametrize("mode", dft.SYNCS)
@pytest.mark.parametrize("missing", [None, 2])
def test_fasttext_fold_is_the_old_sum_of_deltas(mode, missing):
    rng = np.random.default_rng(6)
    family = fasttext_family(mode)
    base = [family.W.copy(), family.C.copy()]
    results = []
    for k, w in enumerate(WEIGHTS):
        deltas = []
        for M in base:
            rows = np.sort(rng.choice(len(M), size=len(M) // (2 + k), replace=False))
            d = rng.standard_normal((len(rows), M.shape[1])).astype(np.float32)
            deltas.append((rows.astype(np.int32), d))
        whole = tuple(M.copy() for M in base)
        for M, (rows, d) in zip(whole, deltas):
            M[rows] += d
        addr = f"tcp://10.0.0.{9 - k}:1"  # (returning in an order other than by address)
        results.append((addr, deltas if mode == "sparse" else whole, w, w, 0.0, 0.0))
    results, weights = returned(results, WEIGHTS, missing)
    family.dirty["tcp://10.0.0.9:1"] = [np.zeros(len(M), bool) for M in base]
    kept = [family.add(r) for r in results]
    assert [k[1] for k in kept] == [()] * len(results) and [k[2] for k in kept] == weights
    family.finish()
    got = [family.W, family.C]
    if mode == "sparse":  # the old merge: deltas added in the order of the addresses
        by_addr = sorted(results, key=lambda r: r[0])
        want = [M.copy() for M in base]
        changed = old_add_deltas(want, [r[1] for r in by_addr], [r[2] for r in by_addr])
        for k in range(2):
            np.testing.assert_array_equal(np.flatnonzero(family.ever[k]), changed[k])
            np.testing.assert_array_equal(np.flatnonzero(family.dirty["tcp://10.0.0.9:1"][k]),
                                          changed[k])
            untouched = np.setdiff1d(np.arange(len(base[k])), changed[k])
            assert (got[k][untouched] == base[k][untouched]).all()  # left alone, exactly
    else:
        want = old_average_replicas([r[1] for r in results], weights)
    assert max_diff(got, want) < ATOL, (mode, max_diff(got, want))
    assert len(family.up) == len(results) and family.up[0] > 0
    if mode == "sparse":  # (the wrong weights: every replica the same share)
        wrong = [M.copy() for M in base]
        old_add_deltas(wrong, [r[1] for r in results], [1] * len(results))
    else:
        wrong = old_average_replicas([r[1] for r in results], [1] * len(results))
    assert max_diff(got, wrong) > 100 * ATOL


def test_a_stale_fasttext_replica_is_not_added():
    family = fasttext_family("sparse")
    W = family.W.copy()
    stale = ("tcp://10.0.0.1:1", None, 0, 0, 0.0, 0.0)
    assert family.add(stale) is stale
    assert family.lost([stale]) == ([], ["tcp://10.0.0.1:1"])
    assert family.fold.words == 0 and (family.W == W).all()


def test_add_deltas_on_the_lists():
    rng = np.random.default_rng(7)
    M = rng.standard_normal((50, 4)).astype(np.float32)
    deltas = [[(np.array(r, np.int32), rng.standard_normal((len(r), 4)).astype(np.float32))]
              for r in ([1, 5, 9], [5, 6], [])]
    got, want = M.copy(), M.copy()
    changed = dft.add_deltas([got], deltas, WEIGHTS)
    old = old_add_deltas([want], deltas, WEIGHTS)
    np.testing.assert_array_equal(changed[0], old[0])
    assert changed[0].dtype == np.int32
    assert max_diff([got], [want]) < ATOL


# ---- gather_round: each result folded as it is fetched --------------------------------------
class _Future:
    def __init__(self, status):
        self.status = status

    def cancel(self):
        pass

    def result(self):
        raise AssertionError("not an error of the task")


class _Client:
    """Tasks finish one a poll; the one of the worker 'gone' never does (its worker left)."""

    def __init__(self, futures):
        self.futures = futures

    def nthreads(self):
        for f in self.futures:  # the next one finishes
            if f.status == "pending" and f is not self.futures[-1]:
                f.status = "finished"
                break
        return {"a": 1, "b": 1, "c": 1}

    def gather(self, future, direct=None):
        return (np.full(1000, self.futures.index(future), np.float32), 1)


class _Distributed:
    @staticmethod
    def wait(futures, timeout=None, return_when=None):
        pass


def test_gather_round_folds_each_replica_as_it_arrives():
    """The fold sees each result once, as soon as it is fetched; what it returns is kept, and
    the replicas are let go of one by one (never two alive at once); a lost worker is reported
    as before."""
    futures = [_Future("pending") for _ in range(4)]
    tasks = dict(zip(futures, ["a", "b", "c", "gone"]))
    seen = []

    def fold(result):
        assert all(ref() is None for ref in seen)  # the replicas before: let go of
        seen.append(weakref.ref(result[0]))
        return float(result[0][0])

    gc.disable()  # (reference counting alone must free them)
    try:
        results, gone = dr.gather_round(_Client(futures), _Distributed, tasks, poll=0, fold=fold)
    finally:
        gc.enable()
    assert results == [0.0, 1.0, 2.0] and gone == ["gone"]
    # without fold: the results themselves, as before
    futures = [_Future("pending") for _ in range(4)]
    results, gone = dr.gather_round(_Client(futures), _Distributed,
                                    dict(zip(futures, ["a", "b", "c", "gone"])), poll=0)
    assert [float(r[0][0]) for r in results] == [0.0, 1.0, 2.0] and gone == ["gone"]
