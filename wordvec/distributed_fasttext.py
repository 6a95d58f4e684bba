"""Data-parallel fastText (skip-gram, CBOW over character n-grams) on a Dask cluster.

``pip install 'wordvec[dask]'``; Dask is imported inside the functions only.

The rounds are those of :mod:`wordvec.distributed_train` (vocabulary counted on the cluster,
each shard encoded once on a worker and kept there, a replica per worker trained on the next
``sync_every`` words of its shards with the single-machine kernels and threads, the replicas
averaged, weighted by the words each read, at ``lr_scale`` (default: the number of replicas)
times the global schedule's rate; lost workers dropped and their shards given to the others).
What differs is the model and how it travels:

- **A replica is fastText's model**: the input matrix ``W`` (the word rows, ``</s>``'s row,
  then ``bucket`` n-gram rows, as :class:`wordvec.fasttext.FastText` lays it out) and the output
  weights ``C``. Each worker builds its replica once, at its first round: ``W`` initialised from
  the seed exactly as the driver's (:func:`wordvec.fasttext.init_input`, so the initial matrix
  is never sent), the per-word subword rows (CSR, hashed once with
  :func:`wordvec.subwords.subword_csr` as one machine hashes them) and fastText's
  ``</s>``-extended vocabulary; it keeps them in the worker process for the whole run (as the
  encoded shards). Every replica then holds the driver's model at the start of each round.
- **Word frequencies are the whole corpus's**: sub-sampling and the noise distribution use the
  corpus's counts and token total (every token plus one ``</s>`` per line, as fastText), not a
  shard's; the partial extra epoch of ``oov_length`` is cut from the front of every shard, each
  its share. So the settings mean what they mean on one machine.

Communication, and why only changed rows travel. Sending the whole model each round costs
``(V + 1 + bucket) x dim x 4`` bytes for ``W`` and ``(V + 1) x dim x 4`` for ``C``, to every
replica and back (:func:`sync_bytes`): 805 MB each way per replica at fastText's default
2,000,000 buckets and dim 100, whatever the vocabulary. But a round changes few of those rows.
A replica that reads the words ``S`` changes the word rows of ``S`` and their n-gram rows (sg
updates the centre word's rows, CBOW the context words'), ``</s>``'s row, and the rows of ``C``
it predicted or drew as negatives; every other row is bit for bit what it was. Whole-matrix
averaging, the model of :mod:`wordvec.distributed_train`, gives, with ``f_k = n_k / N`` (``n_k``
the words replica ``k`` read, ``N`` the round's total) and ``D_k = W_k - W`` (zero off the
rows replica ``k`` touched)::

    sum_k f_k W_k  =  W + sum_k f_k D_k

so the driver gets exactly the same model by adding ``f_k D_k`` over the rows each replica
touched, each replica sending the delta of its touched rows only (:func:`row_delta`). The
driver adds each replica's ``n_k D_k``, as it returns, to running sums over the rows changed so
far (:class:`RowSums`) and drops it; at the end of the round it adds those sums over ``N``
(:func:`add_deltas` does the same over a list). Note what this is *not*: averaging each row
over the replicas that touched it (``W + sum_{k touched} n_k D_k / sum_{k touched} n_k``) would
give a row that one replica of K touched K times that replica's step (the replicas train at K
times the rate, and that row's update would not be divided by K). Rare words and most n-gram
rows are touched by one replica in a round, so they would move K times as fast as on one
machine: not the model averaging that was measured to match one machine. Tested: the sparse sum equals
:func:`wordvec.distributed_rounds.average_replicas` up to float32 rounding (on untouched rows
it is exact: it leaves them alone, where the weighted mean divides a float32 sum of weighted
copies), and a cluster run with sparse sync equals one with whole-matrix sync.

Back to the replicas, the driver sends each one the current values of the rows changed since
that replica last synchronised (the union of the rows all replicas touched in the rounds since:
in steady state the last round's), as row indices (int32) and float32 rows. So per round and
replica: up ``|T_k| x (dim x 4 + 4)`` bytes (``T_k``: rows replica ``k`` changed), down
``|U| x (dim x 4 + 4)`` (``U``: the union of the ``T_k``), never more than the rows the
vocabulary can reach (its words, ``</s>``, its distinct n-gram rows) plus ``C``, however large
``bucket`` is. ``sync="full"`` sends whole matrices instead (the reference for the tests and the
measurement). Measured on the bundled corpus (1.87 M tokens in 4 shards, 14,694 words), 2 local
workers of 1 thread on this 2-core machine, sg, dim 100, fastText's 2,000,000 buckets, 2 epochs
(whole matrices: 811.8 MB a replica each way):

==================  ======  ==========  ===========  =========  ==============  =============
sync every (words)  sync    rounds      down / rep.  up / rep.  s / round       MEN / analogy
==================  ======  ==========  ===========  =========  ==============  =============
200,000             full    10          811.8 MB     811.8 MB   8.42 (84.2 s)   0.184 / 29.6 %
200,000             sparse  10          33.5 MB      30.9 MB    1.75 (17.5 s)   0.184 / 29.6 %
1,000,000           full    2           811.8 MB     811.8 MB   18.5 (36.9 s)   0.196 / 35.1 %
1,000,000           sparse  2           23.2 MB      42.8 MB    5.8 (11.6 s)    0.196 / 35.1 %
==================  ======  ==========  ===========  =========  ==============  =============

(bytes: the mean per replica and round; the first round sends nothing down, the replicas made
the first model themselves, which halves the mean of two rounds. Seconds: the whole run,
counting and encoding included, over the rounds; the driver's own part of the sync, choosing
rows, adding deltas, was 2.3 s of 17.5 sparse and 21.2 s of 84.2 whole.) Sparse sync moves
19-35x fewer bytes and trains 3.2-4.8x faster, with the same scores.
It is the default; whole matrices only serve as the reference.
One machine (2 threads) takes 5.3 s for the same run (MEN 0.165, analogy 25.1 %): on one
2-core machine a cluster does not pay (as for word2vec); it is for shards spread over machines.
The cluster scoring above one machine is no gain of averaging: fastText at alpha 0.05 for 2
epochs is under-trained on so small a corpus (one machine at dim 50, 200,000 buckets: MEN
0.167 and 24.4 % at alpha 0.05, 0.278 and 39.8 % at alpha 0.1),
and replicas training at K times the rate between two averagings move further, the more the
longer the interval. The tests hold the cluster to no worse than one machine.

Memory: each worker holds one replica (``(V + 1 + bucket) x dim x 4`` bytes plus ``C``), as one
machine does, and the driver the model, the running sums of the round's changed rows (at most
as many rows as the model, in practice the union of the rows the replicas changed) and one
replica's deltas at a time (``sync="full"``: a running sum as large as the model and one whole
replica); it also keeps one flag per row and replica (rows changed since it last synchronised).
Folding the replicas in as they return makes the sums of three or more replicas depend, by
float32 rounding, on the order they return in (two replicas' do not: float addition commutes).
"""

import threading
import time

import numpy as np

from . import distributed as wd
from . import distributed_train as dt
from .corpus import MAX_SENTENCE_LENGTH
from .distributed_rounds import WeightedMean, scatter
from .errors import WordvecError

SYNCS = ("sparse", "full")


# ---- on the workers -------------------------------------------------------------------------
class _Replica:
    """A worker's copy of the model of one run, with what training it needs (built once)."""

    def __init__(self, vocab, p, totals):
        from .fasttext import EOS, FastText
        from .vocab import Vocabulary
        model = FastText(**p)
        model.vocab = vocab
        model._init_state(None)  # the driver's initial W and C, from the seed
        self.W, self.C = model.W, model.C
        v, vt = len(vocab), model.word_rows
        self.v, self.vt = v, vt
        words = list(vocab.words) + [EOS + "\0"] * (vt - v)
        self.roff, self.rows = model._training_csr(words, v)
        # fastText's vocabulary with </s> (counted once a line, over the whole corpus)
        self.vocab = Vocabulary(words, np.append(vocab.counts, totals["sentences"])) \
            if vt > v else vocab
        self.owner = np.repeat(np.arange(vt, dtype=np.int32), np.diff(self.roff))
        self.round = 0  # the last round whose model it holds (0: the initial one)
        self.jobs = {}  # shard index -> its job callable (bound to W and C)
        self.lock = threading.Lock()

    def job(self, index, enc, p, totals):
        from .fasttext import make_job
        if index not in self.jobs:
            self.jobs[index] = make_job(_shard_view(enc, self, totals), self.W, self.C,
                                        self.roff, self.rows, p)
        return self.jobs[index]

    def close(self):
        """(Dropped from the cache: a task still training it keeps it until it ends.)"""


def _shard_view(enc, rep, totals):
    """What :func:`wordvec.fasttext.make_job` and :func:`wordvec.training.run_jobs` see of an
    encoded shard: its own ids and sentences, the whole corpus's vocabulary counts (``</s>``
    once a line), token total and lines (for sub-sampling: fastText's ``ntokens``)."""
    from types import SimpleNamespace
    off = np.ascontiguousarray(enc.offsets, dtype=np.int64)
    eos = rep.vt > rep.v
    return SimpleNamespace(
        ids=enc.ids, id_offsets=off, offsets=off, eos=rep.v if eos else -1,
        per_sentence=1 if eos else 0, n_tokens=int(enc.n_tokens) + (len(off) - 1) * eos,
        n_sentences=int(totals["sentences"]), raw_tokens=int(totals["raw_tokens"]),
        vocab=rep.vocab)


def _replica(run, vocab, p, totals):
    key = (run, "fasttext")
    with dt._CACHE_LOCK:
        rep = dt._CACHE.get(key)
        if rep is None:
            rep = dt._CACHE[key] = _Replica(vocab, p, totals)
    return rep


def row_delta(M, rows, base):
    """``(rows of M that differ from base, their differences)``: ``base`` holds ``M[rows]`` as
    it was."""
    d = M[rows]
    d -= base
    changed = np.flatnonzero(d.any(axis=1))
    return rows[changed].astype(np.int32), d[changed]


class RowSums:
    """Replicas' row deltas folded in as they return: :meth:`add` each replica's ``[(rows,
    values) per matrix]`` with its words; per matrix, the sum of words x delta over the rows
    changed so far is kept (not the replicas). :meth:`finish` adds it, over the round's words,
    to the matrices: whole-matrix averaging of the replicas (see the module docstring)."""

    def __init__(self, n_matrices=2):
        self._clear(n_matrices)

    def _clear(self, n_matrices):
        self.rows = [np.zeros(0, dtype=np.int32) for _ in range(n_matrices)]
        self.sums = [None] * n_matrices
        self.words = 0.0

    def add(self, delta, words):
        w = np.float32(words)
        for k, (rows, values) in enumerate(delta):
            if not len(rows):
                continue
            union = np.union1d(self.rows[k], rows)
            acc = np.zeros((len(union),) + values.shape[1:], dtype=np.float32)
            if self.sums[k] is not None:
                acc[np.searchsorted(union, self.rows[k])] = self.sums[k]
            acc[np.searchsorted(union, rows)] += w * values  # (a replica's rows are distinct)
            self.rows[k], self.sums[k] = union, acc
        self.words += float(words)

    def finish(self, matrices):
        """Add the sums over the words to ``matrices`` (in place) -> the rows changed, per
        matrix; ready for the next round."""
        changed = self.rows
        for M, rows, acc in zip(matrices, changed, self.sums):
            if acc is not None:
                acc /= self.words
                M[rows] += acc
        self._clear(len(changed))
        return changed


def add_deltas(matrices, deltas, words):
    """Add to ``matrices`` (in place) each replica's row deltas ``[(rows, values) per matrix]``
    times its share of the words (:class:`RowSums` over a list). Returns the rows changed, per
    matrix."""
    fold = RowSums(len(matrices))
    for delta, w in zip(deltas, words):
        fold.add(delta, w)
    return fold.finish(matrices)


def train_fasttext_replica(run, sync, pieces, shards, vocab, params, threads, lowercase,
                           max_sentence_length, totals, mode):
    """Bring this worker's replica up to date with ``sync``, train it on ``pieces`` (as
    :func:`wordvec.distributed_train.train_replica`) -> ``(this worker's address, what
    changed, words read, words trained, loss sum, predictions)``; what changed is ``[(rows,
    deltas) of W, (rows, deltas) of C]`` (``sync`` sparse) or whole copies ``(W, C)``
    (``full``), and None when the replica does not hold the model ``sync`` updates (its worker
    restarted): the driver then drops it."""
    from distributed import get_worker

    from .training import run_jobs
    wd.tune_process(threads)
    addr = get_worker().address
    rep = _replica(run, vocab, params, totals)
    since, now, updates = sync
    with rep.lock:
        if rep.round != since:
            return addr, None, 0, 0, 0.0, 0.0
        for M, (rows, values) in zip((rep.W, rep.C), updates):
            if rows is None:
                M[...] = values
            elif len(rows):
                M[rows] = values
        rep.round = now
        per = 1 if rep.vt > rep.v else 0
        encs = []
        seen = np.zeros(rep.vt, dtype=bool)
        seen[rep.v:] = True  # </s>
        for index, _epoch, j0, j1, _lr0, _lr1 in pieces:
            enc = dt._encoded(run, index, shards[index], vocab, lowercase, max_sentence_length)
            plan = dt.piece_plan(enc, j0, j1, per)
            a, b = int(plan.bounds[0]), int(plan.bounds[-1])
            seen[np.asarray(enc.ids[int(enc.offsets[a]):int(enc.offsets[b])])] = True
            encs.append((enc, plan))
        if mode == "sparse":
            touched = np.unique(rep.rows[seen[rep.owner]])  # the rows these words can change
            base_w, base_c = rep.W[touched], rep.C.copy()
        read = trained = 0
        loss = count = 0.0
        seed = int(params["seed"])
        for (index, epoch, j0, _j1, lr0, lr1), (enc, plan) in zip(pieces, encs):
            stats = run_jobs(enc, rep.job(index, enc, params, totals), epochs=1, alpha=lr0,
                             min_alpha=lr1, threads=threads, seed=seed,
                             weights=(rep.W[:rep.vt], rep.C), progress=False, plan=plan,
                             stream=dt.piece_stream(epoch, index, len(shards), j0))
            read += stats["words"]
            trained += stats["words_trained"]
            mean = stats["loss_per_epoch"][0]
            if mean is not None:
                loss += mean * stats["words_trained"]
                count += stats["words_trained"]
        if mode == "full":
            return addr, (rep.W.copy(), rep.C.copy()), read, trained, loss, count
        changed = [row_delta(rep.W, touched, base_w),
                   row_delta(rep.C, np.arange(len(rep.C), dtype=np.int32), base_c)]
    return addr, changed, read, trained, loss, count


# ---- on the driver --------------------------------------------------------------------------
def sync_bytes(n_words, dim, bucket, eos=True, loss="ns"):
    """Bytes the whole model is (what ``sync="full"`` moves to each replica each round, and as
    much back): ``W`` (words, ``</s>``, buckets) and ``C``, float32."""
    from .word2vec import output_rows
    vt = n_words + (1 if eos else 0)
    return dt.sync_bytes(vt + bucket, dim, output_rows(vt, {"loss": loss}))


class _FastTextRounds:
    """The rounds of fastText (see :class:`wordvec.distributed_train._Word2VecRounds` for what
    a family gives): sparse sync (the rows that changed) by default."""

    mode = "sparse"

    @staticmethod
    def per_sentence(p):
        return 1 if p["eos"] else 0

    def __init__(self, vocab, p, totals):
        from .fasttext import FastText
        self.vocab, self.p, self.totals = vocab, p, totals
        self.desc = f"fasttext-{p['arch']}-{p['loss']}"
        self.ft = FastText(**p)
        self.ft.vocab = vocab
        self.ft._init_state(None)  # (the replicas make the same from the seed)
        self.W, self.C = self.ft.W, self.ft.C
        self.round = 0
        self.synced = {}  # address -> the round its replica holds
        self.dirty = {}  # address -> per matrix: rows changed since it last synchronised
        self.ever = [np.zeros(len(M), dtype=bool) for M in (self.W, self.C)]
        self.fold = WeightedMean() if self.mode == "full" else RowSums(2)
        self.down, self.up, self.seconds = [], [], 0.0

    def extra_words(self):
        from types import SimpleNamespace

        from .fasttext import _extra_tokens
        t = self.totals
        if not self.p["oov_length"]:
            return 0
        corpus = SimpleNamespace(n_tokens=t["tokens"], n_sentences=t["sentences"],
                                 raw_tokens=t["raw_tokens"])
        return _extra_tokens(corpus, t["epochs"])

    def payloads(self, c, addrs):
        t0 = time.perf_counter()
        self.round += 1
        out = {}
        for a in addrs:
            updates = self._updates(a)
            self.down.append(sum(v.nbytes + (r.nbytes if r is not None else 0)
                                 for r, v in updates))
            out[a] = scatter(c, [(self.synced.get(a, 0), self.round, updates)], workers=[a])[0]
            self.synced[a] = self.round
        self.seconds += time.perf_counter() - t0
        return out, (self.totals, self.mode)

    def _updates(self, a):
        """What replica ``a`` lacks of the model: ``[(rows, their values)]`` for ``W`` and
        ``C`` (rows None: the whole matrix)."""
        if self.mode == "full":
            return [(None, M) for M in (self.W, self.C)]
        masks = self.dirty.setdefault(a, [m.copy() for m in self.ever])
        updates = []
        for M, mask in zip((self.W, self.C), masks):
            rows = np.flatnonzero(mask).astype(np.int32)
            updates.append((rows, M[rows]))
            mask[:] = False
        return updates

    task = staticmethod(train_fasttext_replica)

    def lost(self, results):
        return [r for r in results if r[1] is not None], \
            [r[0] for r in results if r[1] is None]

    def forget(self, address):
        self.dirty.pop(address, None)
        self.synced.pop(address, None)

    def add(self, result):
        addr, changed, *counts = result
        if changed is None:  # (a stale replica: lost() drops it)
            return result
        t0 = time.perf_counter()
        self.up.append(sum(a.nbytes for part in changed
                           for a in (part if isinstance(part, tuple) else (part,))))
        self.fold.add(changed, counts[0])  # weighted by the words it read
        self.seconds += time.perf_counter() - t0
        return (addr, (), *counts)

    def finish(self):
        t0 = time.perf_counter()
        if self.mode == "full":
            self.W, self.C = self.fold.finish()
        else:
            for k, rows in enumerate(self.fold.finish((self.W, self.C))):
                self.ever[k][rows] = True
                for masks in self.dirty.values():
                    masks[k][rows] = True
        self.seconds += time.perf_counter() - t0

    def cluster_stats(self):
        p = self.p
        return {"sync": self.mode,
                "sync_bytes_per_replica": sync_bytes(len(self.vocab), p["dim"], p["bucket"],
                                                     p["eos"], p["loss"]),
                "bytes_down_per_replica_round": round(float(np.mean(self.down)))
                if self.down else 0,
                "bytes_up_per_replica_round": round(float(np.mean(self.up))) if self.up else 0,
                "driver_sync_seconds": round(self.seconds, 3)}

    def model(self, stats):
        from .training import check_finite
        check_finite([self.W, self.C])  # (by blocks)
        ft = self.ft
        ft.W, ft.C = self.W, self.C
        stats["subword_rows_per_word"] = round(
            float(len(ft._training_csr(list(self.vocab.words), len(self.vocab))[1]))
            / max(len(self.vocab), 1), 2)
        ft._done(stats)
        return ft


class _FullRounds(_FastTextRounds):
    mode = "full"


def train_fasttext(shards, client="local", params=None, *, sync_every=dt.SYNC_EVERY,
                   sync="sparse", max_sentence_length=MAX_SENTENCE_LENGTH,
                   max_words_table=None, lr_scale=None, workers=None, threads_per_worker=1,
                   progress=False, log=None, max_rounds=None):
    """Train fastText (``arch`` sg or cbow) on ``shards`` on a Dask cluster -> a
    :class:`~wordvec.fasttext.FastText` model (``.save`` writes a normal model folder: vectors
    for unseen words from its n-gram rows).

    ``params``: :data:`wordvec.params.FASTTEXT` settings (``threads`` is ignored: each worker
    uses its own threads). ``sync``: ``"sparse"`` (the rows that changed travel) or ``"full"``
    (whole matrices; the same model, see the module docstring). The other arguments are
    :func:`wordvec.distributed_train.train_word2vec`'s.
    """
    from .params import FASTTEXT
    p = FASTTEXT.resolve(dict(params or {}))
    if sync not in SYNCS:
        raise WordvecError(f"sync must be one of {', '.join(SYNCS)} (got {sync!r})")
    family = _FastTextRounds if sync == "sparse" else _FullRounds
    return dt.data_parallel(shards, client, p, family, sync_every=sync_every,
                            max_sentence_length=max_sentence_length,
                            max_words_table=max_words_table, lr_scale=lr_scale, workers=workers,
                            threads_per_worker=threads_per_worker, progress=progress, log=log,
                            max_rounds=max_rounds)
