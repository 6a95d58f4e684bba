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
    assert dt.average_replicas is dr.average_replicas  # (still importable from there)


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
