"""Data-parallel word2vec (skip-gram, CBOW) on a Dask cluster: model averaging.

``pip install 'wordvec[dask]'``; Dask is imported inside the functions only.

How it works (:func:`train_word2vec`):

1. The vocabulary is counted on the cluster (:func:`wordvec.distributed._count_vocabulary`: the
   same words and counts as on one machine) and copied to every worker.
2. Each shard is encoded once, on a worker, with that vocabulary, and kept there (in the worker
   process, for every later round and epoch); the driver learns its size and its cut into jobs
   (:meth:`wordvec.training.Plan.for_corpus`). The shards a worker encoded are its own.
3. The driver holds the model (input weights ``W``, output weights ``C``). Each *round* it
   sends both to every worker (one broadcast), and each worker trains a copy of them (its
   *replica*) on the next ``sync_every`` words of its own queue (its shards, epoch after epoch)
   with the single-machine kernels and threads (:func:`wordvec.training.run_jobs`), then
   returns its replica. The driver replaces the model by the mean of the replicas, each weighted
   by the words it read in the round (model averaging, or "local SGD": Ji et al. 2016 average
   word2vec replicas this way; Spark MLlib averages once per iteration). It adds each replica,
   times its words, to running sums as soon as it returns and drops it, and divides by the
   round's words at the end (:class:`wordvec.distributed_rounds.WeightedMean`): it holds the
   model, the sums (as large) and one replica at a time, not the K replicas of a round.
4. The learning rate decays linearly from ``alpha`` to ``min_alpha`` over the whole run's words
   (all workers, all epochs) as on one machine: a round that starts at global progress ``g``
   and trains ``R`` words in all covers ``lr(g)..lr(g + R)``, and a replica that has done the
   fraction ``f`` of its share of the round trains at ``lr(g + f R)``, times ``lr_scale``.
5. ``lr_scale`` (default: the number of replicas of the round, K): averaging K replicas divides
   every word's update by K, so replicas train at K times the schedule's rate and the averaged
   model moves as far per word as the single-machine one. Measured on the bundled corpus (4
   shards, 2 workers x 1 thread, sg, dim 100, 3 epochs): plain averaging (``lr_scale=1``) gave
   MEN rho 0.145 and 4.5 % analogies, as one machine at ``alpha / 2`` (0.155, 4.2 %); with the
   default, 0.279 and 6.8 %, as one machine (0.287, 6.8 %). Not yet measured for many workers,
   where K x alpha may be too large a rate (divergence stops training with a clear error).

Communication: each round moves ``V x dim x 4`` bytes for ``W`` and as much for ``C``
(float32), to every replica and back: ``2 x V x dim x 4`` bytes each way per replica
(:func:`sync_bytes`); the driver holds about three times the model (the model, the running
sums, one replica), where it held the model and all K replicas before (19 GB at 1 M words x 300
and 8 workers). Measured with ``tracemalloc`` in the driver (bundled corpus, 4 local workers,
sg, dim 300: a 35 MB model, 3 rounds): peak 462 MB (13.1 x the model) before, 127 MB (3.6 x).
``sync_every`` (words a replica trains between two averagings) trades that cost
against how far replicas drift apart. :data:`SYNC_EVERY` was chosen by measurement
(``benchmarks/bench_distributed_train.py --parts sync``: the 19.2 M-token benchmark corpus, 2
workers, sg dim 100, 5 epochs, 2 seeds; one machine 37.7 % analogies): 37.3 % at 250,000 words
a round (1.5x the time), 36.8 % at 1 M, 36.1 % at 4 M, 33.0 % at 16 M: 1 M is the longest
interval within one analogy point of one machine. For a model of GBs on many nodes a round's
transfer dominates and longer rounds are needed (``benchmarks/project_scaling.py``).

Faults: a worker lost during a round (its process died, its machine left) is dropped: the round
is averaged over the replicas that returned, a line says so (``log``), and the lost worker's
queue (its shards, including the words of the lost round) goes to the others, who encode those
shards on first use. Training fails only when no worker is left.

fastText uses these rounds with its own replica (:mod:`wordvec.distributed_fasttext`: the
n-gram buckets make whole matrices too large to send, so only the rows that changed travel).
"""

import logging
import os
import threading
import time
import uuid

import numpy as np

from . import distributed as wd
from . import progress as report
from .corpus import MAX_SENTENCE_LENGTH
from .distributed_rounds import (
    Queue,
    WeightedMean,
    drop_lost,
    gather_round,
    scatter,
)
from .errors import WordvecError

#: words each replica trains between two averagings (chosen by measurement: module docstring)
SYNC_EVERY = 1_000_000
LOG = logging.getLogger("wordvec.distributed_train")

# ---- on the workers -------------------------------------------------------------------------
# Encoded shards kept in the worker process: {(run, shard index): EncodedCorpus}
_CACHE = {}
_CACHE_LOCK = threading.Lock()


def _encoded(run, index, shard, vocab, lowercase, max_sentence_length):
    """The encoded shard ``index`` of run ``run`` in this process (encoded on first use)."""
    from .encode import OpenedText, encode
    key = (run, index)
    with _CACHE_LOCK:
        enc = _CACHE.get(key)
        if enc is None:
            with wd.open_chunks(shard) as chunks:
                enc = encode(OpenedText(chunks), vocab=vocab, lowercase=lowercase,
                             max_sentence_length=max_sentence_length, allow_empty=True)
            _CACHE[key] = enc
    return enc


def prepare_shard(run, index, shard, vocab, lowercase, max_sentence_length, per_sentence=0):
    """Encode one shard here and keep it -> (this worker's address, job bounds, job sizes, its
    sentences). ``per_sentence``: tokens the kernels read after every sentence besides its own
    (fastText's ``</s>``: 1), counted in the job sizes."""
    from distributed import get_worker
    wd.tune_process()
    enc = _encoded(run, index, shard, vocab, lowercase, max_sentence_length)
    if enc.n_tokens == 0:
        bounds, sizes = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    else:
        plan = piece_plan(enc, 0, None, per_sentence)
        bounds, sizes = plan.bounds, plan.sizes
    return get_worker().address, bounds, sizes, enc.n_sentences


def piece_plan(enc, j0, j1, per_sentence=0):
    """The :class:`~wordvec.training.Plan` of jobs ``j0..j1-1`` of an encoded shard (all from
    ``j0`` with ``j1`` None), cut as :func:`prepare_shard` cut it."""
    from .training import Plan, make_jobs
    offsets = enc.offsets
    bounds = make_jobs(offsets, None, per_sentence)
    sizes = offsets[bounds[1:]] - offsets[bounds[:-1]] + per_sentence * np.diff(bounds)
    j1 = len(sizes) if j1 is None else j1
    return Plan(bounds[j0:j1 + 1], sizes[j0:j1])


def piece_stream(epoch, index, n_shards, j0):
    """The random stream of a piece: its own for each (epoch, shard, first job)."""
    return 1 + ((epoch * n_shards + index) << 24) + j0


def train_replica(run, weights, pieces, shards, vocab, params, threads, lowercase,
                  max_sentence_length):
    """Train a copy of ``weights`` = (W, C) on ``pieces`` -> (W, C, words read, words trained,
    loss sum, predictions).

    A piece is ``(shard index, epoch, first job, end job, lr at its start, lr at its end)``; its
    jobs are trained with :func:`wordvec.training.run_jobs` on ``threads`` threads, the lr
    decaying linearly over the piece between the two given rates.
    """
    from .training import run_jobs
    from .word2vec import make_job
    wd.tune_process(threads)
    W, C = (np.array(a, dtype=np.float32, copy=True) for a in weights)  # never the input
    read = trained = 0
    loss = count = 0.0
    seed = int(params["seed"])
    for index, epoch, j0, j1, lr0, lr1 in pieces:
        enc = _encoded(run, index, shards[index], vocab, lowercase, max_sentence_length)
        stats = run_jobs(enc, make_job(enc, W, C, params), epochs=1, alpha=lr0, min_alpha=lr1,
                         threads=threads, seed=seed, weights=(W, C), progress=False,
                         plan=piece_plan(enc, j0, j1),
                         stream=piece_stream(epoch, index, len(shards), j0))
        read += stats["words"]
        trained += stats["words_trained"]
        mean = stats["loss_per_epoch"][0]
        if mean is not None:
            loss += mean * stats["words_trained"]
            count += stats["words_trained"]
    return W, C, read, trained, loss, count


def drop_run(run):
    """Forget the encoded shards of ``run`` in this process (their files are removed)."""
    with _CACHE_LOCK:
        for key in [k for k in _CACHE if k[0] == run]:
            _CACHE.pop(key).close()


# ---- on the driver --------------------------------------------------------------------------
def sync_bytes(n_words, dim, n_output_rows=None):
    """Bytes a round moves to one replica (and as many back): W and C, float32."""
    n_output_rows = n_words if n_output_rows is None else n_output_rows
    return (n_words + n_output_rows) * dim * 4


def lr_at(done, alpha, min_alpha, total):
    """The global schedule: linear decay over ``total`` words (as :func:`current_lr`)."""
    frac = min(done / max(total, 1), 1.0)
    return alpha - (alpha - min_alpha) * frac


def _log_default(message):
    LOG.warning(message)


def train_word2vec(shards, client="local", params=None, *, sync_every=SYNC_EVERY,
                   max_sentence_length=MAX_SENTENCE_LENGTH, max_words_table=None,
                   lr_scale=None, workers=None, threads_per_worker=1, progress=False,
                   log=None, max_rounds=None):
    """Train word2vec (``arch`` sg or cbow) on ``shards`` on a Dask cluster -> a
    :class:`~wordvec.word2vec.Word2Vec` model (``.save`` writes a normal model folder).

    ``params``: :data:`wordvec.params.WORD2VEC` settings (``threads`` is ignored: each worker
    uses its own threads). ``client``: ``"local"``, a scheduler address or a
    ``distributed.Client``. ``sync_every``: words each replica trains between two averagings.
    ``lr_scale``: the replicas' rate is the schedule's times this (default: the number of
    replicas in the round; see the module docstring).
    ``log``: called with a line for each event worth telling (a lost worker); default: the
    ``wordvec.distributed_train`` logger. See the module docstring.
    """
    from .params import WORD2VEC
    p = WORD2VEC.resolve(dict(params or {}))
    if p["arch"] not in ("sg", "cbow"):
        raise WordvecError(f"unknown word2vec architecture {p['arch']!r}")
    return data_parallel(shards, client, p, _Word2VecRounds, sync_every=sync_every,
                         max_sentence_length=max_sentence_length,
                         max_words_table=max_words_table, lr_scale=lr_scale, workers=workers,
                         threads_per_worker=threads_per_worker, progress=progress, log=log,
                         max_rounds=max_rounds)


def data_parallel(shards, client, p, family, *, sync_every, max_sentence_length,
                  max_words_table, lr_scale, workers, threads_per_worker, progress, log,
                  max_rounds):
    """The rounds of model averaging for the settings ``p`` (resolved) of a model ``family``
    (:class:`_Word2VecRounds` and its kind: what a replica is, how it is sent, trained and
    averaged) -> the trained model."""
    sync_every = int(sync_every)
    if sync_every < 1:
        raise WordvecError(f"--sync-every must be at least 1 word (got {sync_every})")
    if lr_scale is not None and not float(lr_scale) > 0:
        raise WordvecError(f"lr_scale must be positive (got {lr_scale})")
    log = log or _log_default
    files = wd.expand_shards(shards)
    t0 = time.perf_counter()
    with wd.connect(client, workers=workers, threads_per_worker=threads_per_worker) as c:
        distributed = wd._distributed()
        vocab, packed = wd._count_vocabulary(c, files, p["min_count"], p["max_vocab"],
                                             p["lowercase"], max_sentence_length,
                                             max_words_table, progress)
        if p["loss"] == "hs" and len(vocab) < 2:
            raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
        shared = wd._submit(c, wd.vocabulary_of, packed, p["min_count"], name="vocabulary")
        packed = None
        distributed.wait(shared)
        if shared.status == "error":
            shared.result()
        c.replicate([shared])
        run = uuid.uuid4().hex
        try:
            model = _train(c, distributed, run, files, shared, vocab, p, sync_every, lr_scale,
                           max_sentence_length, progress, log, max_rounds, t0, family)
        finally:
            try:
                c.run(drop_run, run)
            except Exception:  # noqa: BLE001 - clean-up only (a worker may be gone)
                pass
    return model


class _Word2VecRounds:
    """What the rounds of word2vec need: the model is ``(W, C)``, sent whole to every replica
    (one broadcast) and replaced by the weighted mean of the replicas (:class:`WeightedMean`,
    each replica added as it returns).

    A family is made with ``(vocab, settings, totals)`` (totals: the corpus's ``sentences``,
    ``tokens``, ``raw_tokens`` and the ``epochs``) and gives: ``desc`` (for the progress bar),
    ``per_sentence(settings)`` (tokens read after each sentence), ``extra_words()`` (of a
    partial last epoch), ``payloads(client, addresses)`` (what each replica of a round is sent,
    and more arguments for all), ``task`` (its training, returning ``(a, b, words read, words
    trained, loss sum, predictions)``), ``add(result)`` (combines a replica into the round's
    running sums as it returns -> the result without its arrays, what the round keeps of it),
    ``lost(results)`` (of those, replicas that returned but cannot be used: not added),
    ``forget(address)`` (a lost worker), ``finish()`` (the model becomes the combination of the
    replicas added in the round), ``cluster_stats`` and ``model``."""

    @staticmethod
    def per_sentence(p):
        return 0

    def __init__(self, vocab, p, totals):
        from .word2vec import init_weights
        self.vocab, self.p = vocab, p
        self.desc = f"{p['arch']}-{p['loss']}"
        self.W, self.C = init_weights(vocab, p)
        self.mean = WeightedMean()

    def extra_words(self):
        return 0

    def payloads(self, c, addrs):
        scattered = scatter(c, [self.W, self.C], broadcast=True)
        return dict.fromkeys(addrs, scattered), ()

    task = staticmethod(train_replica)

    def lost(self, results):
        return results, []

    def forget(self, address):
        """The worker at ``address`` is gone for the rest of the run."""

    def add(self, result):
        W, C, *counts = result
        self.mean.add((W, C), counts[0])  # weighted by the words it read
        return (None, None, *counts)

    def finish(self):
        self.W, self.C = self.mean.finish()

    def cluster_stats(self):
        from .word2vec import output_rows
        n_out = output_rows(len(self.vocab), self.p)
        return {"sync_bytes_per_replica": sync_bytes(len(self.vocab), self.p["dim"], n_out)}

    def model(self, stats):
        from .training import check_finite
        from .word2vec import Word2Vec
        check_finite([self.W, self.C])
        model = Word2Vec(**self.p)
        model.vocab = self.vocab
        model.W, model.C = self.W, self.C
        model._done(stats)
        return model


def _train(c, distributed, run, files, shared, vocab, p, sync_every, lr_scale, max_sentence_length,
           progress, log, max_rounds, t0, family):
    lowercase = p["lowercase"]
    nthreads = c.nthreads()
    if not nthreads:
        raise WordvecError("the Dask cluster has no workers")
    # 1. encode each shard on a worker (spread by file size), keep it there
    addrs = sorted(nthreads)
    by_size = sorted(range(len(files)), key=lambda i: -_size(files[i]))
    per_sentence = family.per_sentence(p)
    load = dict.fromkeys(addrs, 0)
    futures = []
    for i in by_size:
        a = min(addrs, key=lambda x: load[x])
        load[a] += _size(files[i]) or 1
        futures.append((i, wd._submit(c, prepare_shard, run, i, files[i], shared, lowercase,
                                      max_sentence_length, per_sentence,
                                      name=f"encode-{i}", workers=[a],
                                      allow_other_workers=True, pure=False)))
    owner, sizes = {}, {}
    sentences = 0
    for i, f in futures:
        addr, _bounds, job_sizes, n_sent = f.result()
        owner[i], sizes[i] = addr, np.asarray(job_sizes, dtype=np.int64)
        sentences += int(n_sent)
    futures = None
    per_epoch = int(sum(int(s.sum()) for s in sizes.values()))
    if per_epoch == 0:
        raise WordvecError("the corpus has no in-vocabulary words to train on")
    epochs = int(p["epochs"])
    queues = {a: Queue() for a in addrs}
    for e in range(epochs):
        for i in range(len(files)):
            if len(sizes[i]):
                queues[owner[i]].items.append([e, i, 0, len(sizes[i])])
    totals = {"sentences": sentences, "tokens": per_epoch - per_sentence * sentences,
              "raw_tokens": int(vocab.raw_tokens), "epochs": epochs}
    family = family(vocab, p, totals)
    extra = family.extra_words()
    if extra > 0:
        _extra_epoch(queues, owner, sizes, epochs, extra, per_epoch)
    queues = {a: q for a, q in queues.items() if q.items or a in nthreads}
    total = sum(q.words(sizes) for q in queues.values())

    # 2. rounds
    done = trained = 0
    loss = loss_n = 0.0
    rounds = 0
    lost = []
    alpha, min_alpha = float(p["alpha"]), float(p["min_alpha"])
    bar = report.bar(progress, total, f"{family.desc} x{len(queues)}", "w")
    ok = False
    try:
        while any(q.items for q in queues.values()):
            if max_rounds is not None and rounds >= max_rounds:
                break
            plan = {a: q.take(sizes, sync_every) for a, q in queues.items() if q.items}
            R = sum(got for _, got in plan.values())
            payloads, extra_args = family.payloads(c, list(plan))
            tasks = {}
            scale = float(lr_scale) if lr_scale is not None else float(len(plan))
            for a, (items, got) in plan.items():
                pieces, pos = [], 0
                for e, s, j0, j1 in items:
                    w = int(sizes[s][j0:j1].sum())
                    lr0 = scale * lr_at(done + R * pos / got, alpha, min_alpha, total)
                    lr1 = scale * lr_at(done + R * (pos + w) / got, alpha, min_alpha, total)
                    pieces.append((s, e, j0, j1, lr0, lr1))
                    pos += w
                f = wd._submit(c, family.task, run, payloads[a], pieces, files, shared, p,
                               nthreads.get(a, 1), lowercase, max_sentence_length, *extra_args,
                               name=f"train-{rounds}", workers=[a], allow_other_workers=False,
                               pure=False)
                tasks[f] = a
            results, gone = gather_round(c, distributed, tasks, fold=family.add)
            payloads = None
            results, stale = family.lost(results)
            drop_lost(gone + stale, plan, queues, sizes, lost, log, rounds + 1, len(results),
                      "shards")
            for a in gone + stale:
                family.forget(a)
            if results:
                words = [r[2] for r in results]
                family.finish()
                done += sum(words)
                trained += sum(r[3] for r in results)
                loss += sum(r[4] for r in results)
                loss_n += sum(r[5] for r in results)
                if bar is not None:
                    bar.update(sum(words))
            rounds += 1
        ok = True
    finally:
        report.close(bar, ok)
    wall = time.perf_counter() - t0
    stats = {"wall_seconds": round(wall, 3), "epochs": epochs, "words": int(done),
             "words_trained": int(trained),
             "words_per_second": round(done / wall, 1) if wall > 0 else None,
             "loss": round(loss / loss_n, 6) if loss_n else None,
             "final_lr": lr_at(done, alpha, min_alpha, total),
             "corpus_tokens": int(vocab.raw_tokens), "vocab_tokens": per_epoch,
             "vocab_size": len(vocab), "sentences": sentences, "shards": len(files),
             "cluster": {"workers": len(nthreads), "threads": int(sum(nthreads.values())),
                         "sync_every": sync_every, "rounds": rounds,
                         "lr_scale": lr_scale if lr_scale is not None else "replicas",
                         **family.cluster_stats(), "lost_workers": lost}}
    if extra > 0:
        stats["extra_words"] = int(total - per_epoch * epochs)
    if vocab.pruned_words:
        stats["pruned_words"] = int(vocab.pruned_words)
    return family.model(stats)


def _extra_epoch(queues, owner, sizes, epoch, extra, per_epoch):
    """A partial epoch ``epoch`` of about ``extra`` words (fastText's ``oov_length``): the first
    whole jobs of every shard, each shard its share of ``extra`` by its size (one machine takes
    whole jobs from the start of its job order)."""
    for i in sorted(sizes):
        if not len(sizes[i]):
            continue
        want = extra * int(sizes[i].sum()) / per_epoch
        k = int(np.searchsorted(np.cumsum(sizes[i]), want, side="left")) + 1
        queues[owner[i]].items.append([epoch, i, 0, min(k, len(sizes[i]))])


def _size(path):
    local = wd.local_path(path)
    try:
        return os.path.getsize(local) if local else 0
    except OSError:
        return 0
