"""Rounds of model averaging on a Dask cluster: the pieces that data-parallel word2vec
(:mod:`wordvec.distributed_train`) and GloVe (:mod:`wordvec.distributed_glove`) share.

Each trainer keeps, per worker, a :class:`Queue` of the work left to it (ranges of jobs of its
shards or row blocks, epoch after epoch), takes about ``sync_every`` units from the front of
each queue for a round (:meth:`Queue.take`), sends one training task per worker, waits for them
with :func:`gather_round`, and drops the workers lost in the round with :func:`drop_lost` (their
remaining work goes to the others, :func:`reassign`, and a line says so).

The driver combines each replica as it returns and drops it (``gather_round(..., fold=...)``):
every combination in use is made of sums (a weighted mean is a weighted sum over the total
weight), kept as running sums, so the driver holds the model, those sums and one replica at a
time rather than all the replicas of a round. :class:`WeightedMean` is the weighted mean of the
replicas that returned (:func:`average_replicas` the same over a list).

Dask is never imported here: the caller passes its client and the ``distributed`` module.
"""

import asyncio
import concurrent.futures

import numpy as np

from .errors import WordvecError

#: rows of a matrix handled at a time by the running sums: temporaries of a block, not of a matrix
ROWS = 1 << 16


def blocks(n, rows=ROWS):
    """Slices of ``rows`` consecutive rows covering ``n``."""
    return [slice(i, i + rows) for i in range(0, n, rows)]


class WeightedMean:
    """The weighted mean of replicas ``(A, B, ...)`` (float32) folded in one at a time:
    :meth:`add` each with its weight (the units it trained) as it returns, then :meth:`finish`.
    Holds one running sum per array (weight x array), not the replicas."""

    def __init__(self):
        self.sums, self.total = None, 0.0

    def add(self, arrays, weight):
        if self.sums is None:
            self.sums = [np.zeros(np.shape(a), dtype=np.float32) for a in arrays]
        w = np.float32(weight)
        for acc, a in zip(self.sums, arrays):
            for b in blocks(len(acc)):
                acc[b] += w * a[b]
        self.total += float(weight)

    def finish(self):
        """-> the mean (the running sums, divided in place); ready for the next round."""
        out, total = self.sums, self.total
        self.sums, self.total = None, 0.0
        for acc in out:
            acc /= total
        return out


def average_replicas(replicas, weights, base=None):
    """The weighted mean of replicas ``[(A, B, ...), ...]`` (float32), weights = the units each
    trained (``base``: the arrays the replicas started from, unused here): :class:`WeightedMean`
    over a list."""
    mean = WeightedMean()
    for r, w in zip(replicas, weights):
        mean.add(r, w)
    return mean.finish()


class Queue:
    """A worker's remaining work: ranges ``[epoch, part, first job, end job]`` in order (a part
    is a shard, or a row block; ``sizes[part]`` holds the units of each of its jobs)."""

    def __init__(self):
        self.items = []

    def words(self, sizes):
        return sum(int(sizes[s][j0:j1].sum()) for _, s, j0, j1 in self.items)

    def take(self, sizes, want):
        """Whole jobs from the front, about ``want`` units (at least one job)."""
        out, got = [], 0
        while self.items and got < want:
            e, s, j0, j1 = self.items[0]
            cum = np.cumsum(sizes[s][j0:j1])
            k = int(np.searchsorted(cum, want - got, side="left")) + 1
            k = min(max(k, 1), j1 - j0)
            out.append((e, s, j0, j0 + k))
            got += int(cum[k - 1])
            if j0 + k == j1:
                self.items.pop(0)
            else:
                self.items[0] = [e, s, j0 + k, j1]
        return out, got

    def extend(self, items):
        self.items.extend([list(i) for i in items])
        self.items.sort(key=lambda it: it[0])  # (stable) epoch after epoch


def reassign(orphans, queues, sizes):
    """Give the ranges of a lost worker to the others, a part to the least loaded one ->
    ``{part: address}`` (the new owner of each part)."""
    by_part = {}
    for it in orphans:
        by_part.setdefault(it[1], []).append(it)
    load = {a: q.words(sizes) for a, q in queues.items()}
    owners = {}
    for s, items in sorted(by_part.items()):
        a = min(sorted(load), key=lambda x: load[x])
        queues[a].extend(items)
        load[a] += sum(int(sizes[s][j0:j1].sum()) for _, _, j0, j1 in items)
        owners[s] = a
    return owners


def drop_lost(gone, plan, queues, sizes, lost, log, round_no, returned, what):
    """Drop the workers ``gone`` in round ``round_no``: each one's work of the round (``plan[a]
    = (items, units)``) and its queue go to the others (:func:`reassign`), its address is added
    to ``lost`` and ``log`` gets a line (``what``: what moves, "shards" or "row blocks").
    Returns ``{part: new owner}``. Raises when no worker is left."""
    owners = {}
    for a in gone:
        items, _ = plan[a]
        q = queues.pop(a)
        orphans = list(items) + q.items
        lost.append(a)
        if not queues:
            raise WordvecError(f"every Dask worker was lost (last: {a}): training "
                               "cannot continue")
        owners.update(reassign(orphans, queues, sizes))
        log(f"lost worker {a} in round {round_no}: averaged the {returned} "
            f"replica(s) that returned; its {what} go to the "
            f"{len(queues)} other worker(s)")
    return owners


# Moving a round's model straight between the driver and the workers (Dask's ``direct``) rather
# than through the scheduler: measured 1.6-1.9x faster on a LocalCluster of 2 (32 and 128 MB:
# 0.085 s against 0.138 s, 0.234 against 0.452 s a round), and on a real cluster the scheduler's
# link would otherwise carry every replica twice. Where the driver cannot reach the workers
# (only the scheduler's port is open to it), the first failure switches to the scheduler's
# relay for the rest of the process.
_DIRECT = [True]


def scatter(c, data, **kwargs):
    """``c.scatter(data, hash=False, **kwargs)``, straight to the workers where possible."""
    if _DIRECT[0]:
        try:
            return c.scatter(data, hash=False, direct=True, **kwargs)
        except OSError:  # (distributed's CommClosedError is an OSError)
            _DIRECT[0] = False
    return c.scatter(data, hash=False, direct=False, **kwargs)


def fetch(c, future):
    """The result of a finished ``future``, straight from its worker where possible."""
    if _DIRECT[0]:
        try:
            return c.gather(future, direct=True)
        except OSError:
            _DIRECT[0] = False
    return c.gather(future, direct=False)


def gather_round(c, distributed, tasks, poll=0.5, fold=None):
    """Wait for a round's replicas -> (results of those that returned, addresses lost).

    ``fold``: called with each result as soon as it is fetched (a family combining it into its
    running sums); what it returns (the result without its arrays) is kept in its place, so the
    driver holds one replica at a time, not the round's.

    A worker is lost when it leaves the cluster while its task has not returned (its task, bound
    to it, would wait for it forever), or when its task fails because its worker died, or is
    cancelled because data scattered to that worker alone died with it. An error raised by the
    training itself (bad data, divergence) is raised here.
    """
    pending = dict(tasks)
    results, gone = [], []
    keep = fold or (lambda result: result)
    while pending:
        try:
            distributed.wait(list(pending), timeout=poll, return_when="FIRST_COMPLETED")
        except (TimeoutError, asyncio.TimeoutError):  # (distinct before Python 3.11)
            pass
        except concurrent.futures.CancelledError:  # data only the lost worker held (below)
            pass
        alive = set(c.nthreads())
        for f in list(pending):
            a = pending[f]
            if f.status == "finished":
                results.append(keep(fetch(c, f)))  # (no name holds the replica after this)
                del pending[f]
            elif f.status == "error" or a not in alive:
                if a in alive:
                    f.result()  # raises the task's own error
                del pending[f]
                f.cancel()
                gone.append(a)
            elif f.status == "cancelled":
                del pending[f]
                gone.append(a)
    return results, gone
