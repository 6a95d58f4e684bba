"""GloVe on a Dask cluster: data-parallel AdaGrad with model averaging (local SGD).

``pip install 'wordvec[dask]'``; Dask is imported inside the functions only.

How it works (:func:`train_glove`):

1. The co-occurrence entries (non-zeros) are cut into *parts*, row blocks: the blocks of a
   blocks folder (``wordvec cooccur --cluster ... --blocks-dir``), which the workers read and
   check themselves (:func:`wordvec.cooccur_file.read_block`; the folder must be at the same
   path on every worker), or row blocks of about equal non-zeros of an ``.npz`` (read and
   checked by the driver, each block sent to its worker), or of the matrix counted on the
   cluster from a corpus (:func:`wordvec.distributed.count_cooccurrence`, gathered in the
   driver). The parts are spread over the workers by non-zeros; each worker reads its parts
   once and keeps their positive entries in its process as GloVe's 12-byte records (row,
   column, count), shuffled once per part with a random stream of the seed and the part (the
   same order whichever worker holds it), as one machine shuffles its scratch file once
   (12 bytes an entry in the worker's memory; a worker with no part, when there are fewer
   row blocks than workers, stays idle).
2. Each part is cut into *chunks* of consecutive (shuffled) entries (a quarter of
   ``sync_every``, between 16,384 and 524,288 entries: one machine's job). Each epoch visits all
   chunks in a fresh random order (one machine visits its jobs in a fresh order each epoch);
   a worker's queue is that order restricted to its parts, epoch after epoch.
3. The driver holds the state of one-machine GloVe (:func:`wordvec.glove.init_state`, the same
   initialisation): ``W``, ``C``, ``bw``, ``bc`` and the AdaGrad sums ``GW``, ``GC``, ``gbw``,
   ``gbc``. Each *round* it sends all eight to every worker (one broadcast); each worker trains
   a copy (its *replica*) on the next ``sync_every`` entries of its queue with the
   single-machine kernel (:func:`wordvec.glove._epoch`) on its threads
   (:func:`wordvec.training.run_jobs`, Hogwild as on one machine), and returns it. x_max,
   power, eta (``alpha``, constant: AdaGrad has no schedule) and the epochs mean what they mean
   on one machine: every entry is trained once an epoch.
4. The driver combines the replicas (``combine``, below) into the next state. Every rule below
   is made of sums (a weighted mean: a weighted sum over the total weight), so the driver adds
   each replica to running sums as soon as it returns and drops it (:class:`Combination`): it
   holds the state, the sums (as large) and one replica at a time, not the K replicas of a
   round.

Combining (``combine``). The entries are partitioned by rows, so a row of ``W`` and its bias
``bw`` are trained by one replica only, while a column of ``C`` and its ``bc`` are trained by
every replica holding entries of it. AdaGrad's step on a coordinate is ``eta g / sqrt(G)``
(vectors; a bias takes ``g / sqrt(G)``, unscaled, as Stanford's ``glove`` since 2019), ``G`` the
sum of the squared gradients it has had. The default, ``"sum-vectors"``:

- the changes of ``W`` and ``C`` are added up: each replica's steps, as one machine would take
  them (from a state up to one round old); a ``W`` row gets its one replica's steps whole,
  where plain averaging (``"mean"``) would divide them by the number of replicas ``K``;
- the changes of ``bw`` and ``bc`` are averaged over the replicas, each weighted by the AdaGrad
  increment it made to that bias in the round (a bias one replica trained takes its value; one
  several trained, their mean). Adding bias changes up (``"sum"``) diverges with 4 replicas:
  the unscaled bias step all but fits a frequent word's bias to a replica's entries within a
  round, so K replicas' corrections added overshoot K - 1 times (oscillating at K = 2, growing
  beyond). Weighting the vectors the same way (``"gradsq"``) is stable but moves a column that
  K replicas train at 1/K of one machine's speed;
- the AdaGrad sums get every replica's increment added: ``G`` is then, as on one machine, the
  sum over all entries trained, and a coordinate's step shrinks as on one machine. Averaging
  the increments (``"sum-vectors-mean-sums"``) lets ``G`` grow 1/K as fast, so later steps are
  ``sqrt(K)`` times one machine's, a step size that would depend on the number of workers.

Measured on the bundled corpus's co-occurrences (window 10: 14,694 words, 5.7 M non-zeros, a
blocks folder of 4 row blocks), dim 50, 15 epochs, workers of 1 thread; MEN rho / analogy
accuracy / last epoch's loss / mean AdaGrad increment of ``gbw``. One machine (2 threads), seeds
1 and 2: 0.176, 0.172 / 3.8 %, 3.7 % / 0.00718 / 18.26, 18.28.

==========================  =========================  =========================================
combine                     2 workers, sync 250,000    2 workers, sync 1,000,000 (seeds 1, 2)
==========================  =========================  =========================================
sum-vectors (default)       0.176 / 3.8 % / 0.00721    0.186, 0.185 / 3.7, 4.0 % / 17.2, 17.4
sum-vectors-mean-sums       (not run)                  0.191, 0.189 / 3.6, 3.8 % / 8.9, 8.9
sum                         0.179 / 4.0 % / 0.00714    0.167 / 3.6 % / 21.0 (seed 1)
gradsq                      0.146 / 3.1 % / 0.00744
mean                        0.086 / 1.7 % / 0.00903    0.113, 0.108 / 1.9, 1.9 % / 11.9, 11.8
(none: the first replica)                              0.079 / 1.2 % / 11.5 (seed 1)
==========================  =========================  =========================================

Fewer, longer rounds (sum-vectors, 2 workers, seed 1): sync 1,430,000 (2 rounds an epoch)
0.199 / 3.6 % / loss 0.00720, sync 2,860,000 (1 round an epoch) 0.214 / 3.5 % / 0.00719.
With 4 workers (on 2 cores; sync 250,000): sum-vectors 0.205 / 3.3 % / loss 0.00722, gradsq
0.191 / 2.9 % / 0.00780, mean 0.093 / 0.7 %, and sum diverged (MEN -0.02, loss 0.0099, bias
sums 1,242 against 18). Averaged AdaGrad sums did not cost quality at 15 epochs on this small
matrix (larger late steps help an under-trained model); they are refused as the default because
they halve ``G`` (8.9 against 18.3) and so change the step with the number of workers.
tests/test_distributed_glove.py holds the cluster within 0.03 MEN and 1 analogy point of one
machine with bias AdaGrad sums within 15 % of one machine's, and checks that "mean",
"sum-vectors-mean-sums" and no averaging at all fail that bar.

Communication: each round moves the eight arrays, ``(2 V dim + 2 V) x 4`` bytes of parameters
and as many of AdaGrad sums (float32), to every replica and back (:func:`sync_bytes`). The
driver holds about three times that (the state, the running sums, one replica), where it held
the state and all K replicas before (38 GB at 1 M words x 300 and 8 workers).
``sync_every`` (entries each replica trains between two averagings) trades that cost against how
far the replicas drift apart. Its default, a quarter of each worker's share of an epoch
(:data:`ROUNDS_PER_EPOCH` rounds an epoch) but at least :data:`SYNC_EVERY` (1,000,000) entries,
so that a large matrix does not pay for a broadcast every million entries: on the bundled
matrix (5.7 M entries, 2 workers) it is 1,000,000, the setting measured above; on the benchmark
corpus's (40.9 M entries, 2 workers: 5.1 M entries a round, 97 rounds in 25 epochs) the cluster
was within 0.34 analogy points and 0.004 rho of one machine (2 seeds,
``benchmarks/bench_distributed_train.py --parts glove``). Not measured beyond 2 workers.

Faults: a worker lost during a round is dropped, as in :mod:`wordvec.distributed_train`: the
round is combined from the replicas that returned, a line says so (``log``), and the lost
worker's remaining chunks (the lost round's included) go to the others, who read those parts on
first use (from the folder; the driver sends an ``.npz``'s or a counted matrix's blocks again).
"""

import logging
import os
import threading
import time
import uuid

import numpy as np

from . import distributed as wd
from . import progress as report
from .distributed_rounds import Queue, WeightedMean, blocks, drop_lost, gather_round, scatter
from .errors import WordvecError

#: entries (non-zeros) each replica trains between two averagings, by default: a
#: 1/ROUNDS_PER_EPOCH of each worker's share of an epoch, at least SYNC_EVERY (measured on the
#: bundled and the benchmark corpus's matrices: module docstring)
SYNC_EVERY = 1_000_000
ROUNDS_PER_EPOCH = 4
#: how the replicas are combined (see the module docstring); the first is the default
COMBINE = ("sum-vectors", "sum-vectors-mean-sums", "sum", "gradsq", "mean")
_SHUFFLE = 0xB10C  # the random stream of a part's one-time shuffle: (seed, 0x610E, _SHUFFLE, part)
_ORDER = 0x0EDE  # the stream of each epoch's chunk order: (seed, 0x610E, _ORDER, epoch)
LOG = logging.getLogger("wordvec.distributed_glove")

# ---- on the workers -------------------------------------------------------------------------
# Parts kept in the worker process: {(run, part): (n, 3) int32 records, shuffled}
_CACHE = {}
_CACHE_LOCK = threading.Lock()


def records_of(block, lo):
    """A CSR row block whose first row is ``lo`` -> its positive entries as GloVe's records, an
    ``(n, 3)`` int32 array: row, column, the count's float32 bits (as :mod:`wordvec.glove`'s
    scratch file holds them: a count that rounds to 0 in float32 is left out there too)."""
    vals = np.asarray(block.data, dtype=np.float32)
    rows = np.repeat(np.arange(lo, lo + block.shape[0], dtype=np.int32), np.diff(block.indptr))
    keep = vals > 0
    rec = np.empty((int(keep.sum()), 3), dtype=np.int32)
    rec[:, 0] = rows[keep]
    rec[:, 1] = np.asarray(block.indices)[keep]
    rec[:, 2] = vals[keep].view(np.int32)
    return rec


def _records(run, part, source, seed, n_words):
    """The shuffled records of ``part`` in this process (read on first use from ``source``:
    ``("file", path, lo, hi, nnz)``, a block of a folder, checked here; or ``("rows", lo, hi,
    csr)``, a block the driver read and checked)."""
    from .glove import _shuffle
    from .rng import seed_state
    key = (run, part)
    with _CACHE_LOCK:
        rec = _CACHE.get(key)
        if rec is None:
            if source is None:
                raise WordvecError(f"internal error: row block {part} is not on this worker")
            if source[0] == "file":
                from .cooccur_file import read_block
                _, path, lo, hi, nnz = source
                block = read_block(path, lo, hi, nnz, n_words)
            else:
                _, lo, hi, block = source
                if block.shape != (hi - lo, n_words):
                    raise WordvecError(f"internal error: row block {part} has shape "
                                       f"{block.shape}")
            rec = records_of(block, lo)
            del block
            _shuffle(rec, seed_state(seed, 0x610E, _SHUFFLE, part))
            _CACHE[key] = rec
    return rec


def load_part(run, part, source, seed, n_words):
    """Read one part here and keep it -> (the part, this worker's address, its entries)."""
    from distributed import get_worker
    wd.tune_process()
    return part, get_worker().address, len(_records(run, part, source, seed, n_words))


def train_replica(run, state, pieces, sources, chunk, seed, n_words, consts, threads):
    """Train a copy of ``state`` (GloVe's eight arrays) on ``pieces`` -> (the eight arrays,
    entries trained, ``{epoch: (cost sum, entries)}``).

    A piece is ``(epoch, part, first chunk, end chunk)``; each chunk (``chunk`` consecutive
    entries of the part's shuffled records) is one job of :func:`wordvec.training.run_jobs`
    on ``threads`` threads, in the order given, trained by :func:`wordvec.glove._epoch`.
    """
    from .glove import _epoch, check_job
    from .training import Plan, run_jobs
    wd.tune_process(threads)
    arrays = [np.array(a, dtype=np.float32, copy=True) for a in state]  # never the input
    jobs = []
    for epoch, part, j0, j1 in pieces:
        rec = _records(run, part, sources.get(part), seed, n_words)
        for j in range(j0, j1):
            jobs.append((epoch, rec, j * chunk, min((j + 1) * chunk, len(rec))))
    sizes = np.array([hi - lo for _, _, lo, hi in jobs], dtype=np.int64)
    plan = Plan(np.arange(len(jobs) + 1, dtype=np.int64), sizes)
    eta = float(consts[2])
    costs = {}
    lock = threading.Lock()

    def job(first, last, rng, progress, slot, schedule):
        n = 0
        for k in range(first, last):
            epoch, rec, lo, hi = jobs[k]
            part = rec[lo:hi]
            cost, bad, outside = _epoch(part[:, 0], part[:, 1], part.view(np.float32)[:, 2],
                                        *arrays, *consts)
            check_job(cost, bad, outside, eta, "a co-occurrence row block")
            with lock:
                c, m = costs.get(epoch, (0.0, 0))
                costs[epoch] = (c + cost, m + hi - lo)
            n += hi - lo
        progress[slot] += n
        return 0.0, n, n, n

    run_jobs(None, job, epochs=1, alpha=eta, min_alpha=eta, threads=threads, seed=seed,
             weights=arrays[:2], progress=False, plan=plan, unit="pair")
    return tuple(arrays), int(sizes.sum()), costs


def drop_run(run):
    """Forget the parts of ``run`` kept in this process."""
    with _CACHE_LOCK:
        for key in [k for k in _CACHE if k[0] == run]:
            del _CACHE[key]


# ---- on the driver --------------------------------------------------------------------------
def sync_bytes(n_words, dim):
    """Bytes a round moves to one replica (and as many back): W, C, bw, bc and their AdaGrad
    sums, float32: ``(2 V dim + 2 V) x 4 x 2``."""
    return (2 * n_words * dim + 2 * n_words) * 4 * 2


#: per parameter (W, C, bw, bc): S = the replicas' changes added up, G = their changes weighted
#: by the AdaGrad increments each made there; then the AdaGrad sums: + = every replica's
#: increment added, m = the replicas' mean; None: the weighted mean of everything
_RULES = {"sum-vectors": "SSGG+", "sum-vectors-mean-sums": "SSGGm", "sum": "SSSS+",
          "gradsq": "GGGG+", "mean": None}


class Combination:
    """The next state from the replicas trained from ``base`` (the eight arrays ``W, C, bw, bc,
    GW, GC, gbw, gbc``), each folded into running sums as it returns (:meth:`add`, with the
    entries it trained), then :meth:`finish`. ``how``: see :data:`COMBINE` and the module
    docstring. Holds, besides ``base``, one running sum per array (and the weighted mean of the
    AdaGrad sums for ``"sum-vectors-mean-sums"``), not the replicas."""

    def __init__(self, base, how="sum-vectors"):
        if how not in COMBINE:
            raise WordvecError(f"unknown way to combine replicas {how!r}: use one of "
                               f"{', '.join(COMBINE)}")
        self.base, self.rules = base, _RULES[how]
        self.sums = None  # S, +: base + the changes added up; G: the weighted changes' sum
        self.mean = WeightedMean()  # (rules None: all eight; m: the AdaGrad sums)

    def add(self, replica, weight):
        base, rules = self.base, self.rules
        if rules is None or rules[4] == "m":
            self.mean.add(replica if rules is None else replica[4:], weight)
        if rules is None:
            return
        if self.sums is None:
            self.sums = [np.zeros_like(base[k], dtype=np.float32) if k < 4 and rules[k] == "G"
                         else np.array(base[k], dtype=np.float32, copy=True) for k in range(8)]
        for k in range(8):
            acc, r, b = self.sums[k], replica[k], base[k]
            for s in blocks(len(acc)):
                if k >= 4 or rules[k] == "S":
                    acc[s] += r[s] - b[s]  # (the small change, exactly)
                else:
                    acc[s] += (replica[k + 4][s] - base[k + 4][s]) * (r[s] - b[s])

    def finish(self):
        """-> the next state (the eight arrays); the combination lets go of every array."""
        rules, base, sums = self.rules, self.base, self.sums
        self.base = self.sums = None
        if rules is None:
            return self.mean.finish()
        out = sums[:4] + (sums[4:] if rules[4] == "+" else self.mean.finish())
        for k in range(4):
            if rules[k] == "G":  # the weighted sum over the sum of the weights
                num, added = sums[k], sums[k + 4]
                for s in blocks(len(num)):
                    den = added[s] - base[k + 4][s]
                    num[s] = base[k][s] + np.divide(num[s], den, out=np.zeros_like(den),
                                                    where=den > 0)
        return out


def combine_replicas(base, replicas, weights, how="sum-vectors"):
    """The next state from the replicas ``[(W, C, bw, bc, GW, GC, gbw, gbc), ...]`` trained
    from ``base`` (the same eight arrays) on ``weights`` entries each: :class:`Combination`
    over a list."""
    fold = Combination(base, how)
    for r, w in zip(replicas, weights):
        fold.add(r, w)
    return fold.finish()


def _log_default(message):
    LOG.warning(message)


class _Parts:
    """The row blocks training is cut into, and how a worker gets one."""

    def __init__(self, n_words, bounds, files=None, matrix=None):
        self.n_words = n_words
        self.bounds = bounds  # [(lo, hi, nnz)]
        self.files = files  # a folder's block files, or None
        self.matrix = matrix  # the checked matrix (npz, counted), or None

    def source(self, c, part, address):
        """What ``load_part`` / ``train_replica`` reads part ``part`` from on ``address``."""
        lo, hi, nnz = self.bounds[part]
        if self.files is not None:
            return ("file", self.files[part], lo, hi, nnz)
        block = scatter(c, self.matrix[lo:hi], workers=[address])
        return ("rows", lo, hi, block)


def _open_input(cooccur, corpus):
    """Check the input before connecting -> (kind, what): ("folder", index), ("matrix",
    (matrix, vocab, params)) or ("corpus", files)."""
    from .cooccur_file import is_blocks_dir, load_cooccurrence, read_blocks_index
    if (cooccur is None) == (corpus is None):
        raise WordvecError("GloVe on a cluster trains on a counted matrix (cooccur=) or on a "
                           "corpus (corpus=): give one of them")
    if corpus is not None:
        return "corpus", wd.expand_shards(corpus)
    if isinstance(cooccur, (str, os.PathLike)):
        path = os.fspath(cooccur)
        if is_blocks_dir(path) or os.path.isdir(path):
            path = os.path.abspath(path)  # (the workers open it at the same path)
            return "folder", (path, read_blocks_index(path))
        return "matrix", (path, load_cooccurrence(path, with_params=True))  # checked
    from .cooccur_file import validate_pair
    matrix, vocab = validate_pair(cooccur)
    return "matrix", ("<in-memory matrix>", (matrix, vocab, {}))


def train_glove(cooccur=None, client="local", params=None, *, corpus=None,
                sync_every=None, combine="sum-vectors", workers=None, threads_per_worker=1,
                progress=False, log=None, max_rounds=None):
    """Train GloVe on a Dask cluster -> a :class:`~wordvec.glove.GloVe` model (``.save``
    writes a normal model folder).

    ``cooccur``: a blocks folder (``wordvec cooccur --cluster ... --blocks-dir``; its blocks are
    read by the workers), an ``.npz`` (``wordvec cooccur``) or a ``(csr_matrix, Vocabulary)``
    pair; or ``corpus`` (shards, as :func:`wordvec.distributed.count_cooccurrence` takes them):
    the co-occurrences are counted on the cluster first (``window``, ``symmetric``,
    ``distance_weighting``, ``min_count``, ``max_vocab``, ``lowercase``, ``memory_gb`` of
    ``params``) and gathered in the driver. ``params``: :data:`wordvec.params.GLOVE`
    settings (``threads`` is ignored: each worker uses its own threads). ``client``:
    ``"local"``, a scheduler address or a ``distributed.Client``. ``sync_every``: entries
    (non-zeros) each replica trains between two averagings (default: a quarter of each
    worker's share of an epoch, :data:`ROUNDS_PER_EPOCH`, and at least :data:`SYNC_EVERY`,
    1,000,000). ``combine``: how replicas are
    combined (:data:`COMBINE`; see the module docstring). ``log``: called with a line for each
    event worth telling (a lost worker); default: the ``wordvec.distributed_glove`` logger.
    """
    from .params import GLOVE
    p = GLOVE.resolve({k: v for k, v in dict(params or {}).items() if k != "cooccur"})
    sync_every = None if sync_every is None else int(sync_every)
    if sync_every is not None and sync_every < 1:
        raise WordvecError(f"--sync-every must be at least 1 entry (got {sync_every})")
    if combine not in COMBINE:
        raise WordvecError(f"unknown way to combine replicas {combine!r}: use one of "
                           f"{', '.join(COMBINE)}")
    log = log or _log_default
    kind, what = _open_input(cooccur, corpus)
    t0 = time.perf_counter()
    with wd.connect(client, workers=workers, threads_per_worker=threads_per_worker) as c:
        distributed = wd._distributed()
        if not c.nthreads():
            raise WordvecError("the Dask cluster has no workers")
        stats = {}
        if kind == "folder":
            path, (vocab, blocks, cparams) = what
            parts = _Parts(len(vocab), [(lo, hi, nnz) for _, lo, hi, nnz in blocks],
                           files=[f for f, _, _, _ in blocks])
            stats["cooccur_file"] = path
        else:
            if kind == "corpus":
                t1 = time.perf_counter()
                matrix, vocab = wd.count_cooccurrence(
                    what, c, window=p["window"], symmetric=p["symmetric"],
                    distance_weighting=p["distance_weighting"], memory_gb=p["memory_gb"],
                    threads=threads_per_worker, min_count=p["min_count"],
                    max_vocab=p["max_vocab"], lowercase=p["lowercase"], progress=progress)
                cparams = {}
                stats["count_seconds"] = round(time.perf_counter() - t1, 3)
                stats["corpus_tokens"] = int(getattr(vocab, "raw_tokens", 0)) or None
            else:
                path, (matrix, vocab, cparams) = what
                stats["cooccur_file"] = os.fspath(path)
            from .svd import _chunk_bounds
            n_parts = 2 * max(1, sum(c.nthreads().values()))
            cut = np.unique(np.concatenate([[0], _chunk_bounds(matrix.indptr, n_parts),
                                            [matrix.shape[0]]])).astype(np.int64)
            indptr = matrix.indptr
            parts = _Parts(len(vocab), [(int(lo), int(hi), int(indptr[hi] - indptr[lo]))
                                        for lo, hi in zip(cut[:-1], cut[1:])
                                        if indptr[hi] > indptr[lo]], matrix=matrix)
            what = None
        for key in ("window", "symmetric", "distance_weighting"):
            if key in cparams:
                p[key] = cparams[key]
        if len(vocab) >= 2**31:
            raise WordvecError(f"a vocabulary of {len(vocab):,} words is too large for GloVe")
        run = uuid.uuid4().hex
        try:
            model = _train(c, distributed, run, parts, vocab, p, sync_every, combine, progress,
                           log, max_rounds, t0, stats)
        finally:
            try:
                c.run(drop_run, run)
            except Exception:  # noqa: BLE001 - clean-up only (a worker may be gone)
                pass
    # (the file or folder, so that the model's settings say what it was trained on)
    model.params["cooccur"] = (stats["cooccur_file"]
                               if isinstance(cooccur, (str, os.PathLike)) else None)
    return model


def _chunk_size(sync_every):
    """Entries of a chunk: a quarter of a round, in whole blocks of GloVe's shuffle, between one
    block and one of one machine's jobs."""
    from .glove import BLOCK, STEP_BLOCKS
    return int(min(max(sync_every // 4 // BLOCK, 1), STEP_BLOCKS) * BLOCK)


def _train(c, distributed, run, parts, vocab, p, sync_every, combine, progress, log, max_rounds,
           t0, stats):
    from .glove import GloVe, init_state, kernel_constants
    from .training import check_finite
    nthreads = c.nthreads()
    addrs = sorted(nthreads)
    seed, n_words = int(p["seed"]), len(vocab)
    # 1. each part read (and checked) on a worker, spread by non-zeros, and kept there (a
    #    worker lost meanwhile is dropped and its parts read by the others)
    owner, entries = {}, {}
    left = sorted(range(len(parts.bounds)), key=lambda i: -parts.bounds[i][2])
    while left:
        load = dict.fromkeys(addrs, 0)
        for b, a in owner.items():
            load[a] += parts.bounds[b][2]
        tasks = {}
        for b in left:
            a = min(addrs, key=lambda x: load[x])
            load[a] += parts.bounds[b][2] or 1
            f = wd._submit(c, load_part, run, b, parts.source(c, b, a), seed, n_words,
                           name=f"glove-load-{b}", workers=[a], allow_other_workers=False,
                           pure=False)
            tasks[f] = a
        results, gone = gather_round(c, distributed, tasks)
        tasks = None
        for b, addr, n in results:
            owner[b], entries[b] = addr, n
        left = [b for b in left if b not in owner]
        addrs = [a for a in addrs if a not in gone]
        owner = {b: a for b, a in owner.items() if a not in gone}
        if gone:
            if not addrs:
                raise WordvecError(f"every Dask worker was lost (last: {gone[-1]}): training "
                                   "cannot continue")
            left = sorted(set(left) | {b for b in range(len(parts.bounds)) if b not in owner},
                          key=lambda i: -parts.bounds[i][2])
            log(f"lost worker(s) {', '.join(gone)} while reading the row blocks: they are read "
                f"by the {len(addrs)} other worker(s)")
    loaded = {(a, b) for b, a in owner.items()}
    nnz = int(sum(entries.values()))
    if nnz == 0:
        raise WordvecError("no co-occurrences to train on (every sentence has a single word?)")
    if sync_every is None:  # a quarter of a worker's share of an epoch, at least SYNC_EVERY
        sync_every = max(SYNC_EVERY, -(-nnz // (len(addrs) * ROUNDS_PER_EPOCH)))
    chunk = _chunk_size(sync_every)
    sizes = {}
    for b, n in entries.items():
        k = -(-n // chunk)
        sizes[b] = np.full(k, chunk, dtype=np.int64)
        if k:
            sizes[b][-1] = n - (k - 1) * chunk
    chunks = [(b, j) for b in sorted(sizes) for j in range(len(sizes[b]))]
    epochs = int(p["epochs"])
    queues = {a: Queue() for a in addrs}
    lost = sorted(set(nthreads) - set(addrs))
    for e in range(epochs):  # every chunk once an epoch, in a fresh random order
        order = np.random.default_rng([seed, 0x610E, _ORDER, e]).permutation(len(chunks))
        for i in order.tolist():
            b, j = chunks[i]
            queues[owner[b]].items.append([e, b, j, j + 1])

    # 2. rounds
    model = GloVe(**p)
    model.vocab = vocab
    state = list(init_state(n_words, p["dim"], seed))
    consts = kernel_constants(p)
    done = 0
    cost = np.zeros(epochs)
    cost_n = np.zeros(epochs, dtype=np.int64)
    rounds = 0
    bar = report.bar(progress, nnz * epochs, f"glove x{len(queues)}", "pair")
    ok = False
    t_train = time.perf_counter()
    try:
        while any(q.items for q in queues.values()):
            if max_rounds is not None and rounds >= max_rounds:
                break
            plan = {a: q.take(sizes, sync_every) for a, q in queues.items() if q.items}
            scattered = scatter(c, state, broadcast=True)
            tasks = {}
            for a, (items, _) in plan.items():
                sources = {}
                for _, b, _, _ in items:
                    if b not in sources:
                        sources[b] = (parts.source(c, b, a) if parts.files is not None
                                      or (a, b) not in loaded else None)
                f = wd._submit(c, train_replica, run, scattered, items, sources, chunk, seed,
                               n_words, consts, nthreads.get(a, 1), name=f"train-{rounds}",
                               workers=[a], allow_other_workers=False, pure=False)
                tasks[f] = a
            fold = Combination(state, combine)

            def add(result, fold=fold):  # each replica combined as it returns: keep its counts
                fold.add(result[0], result[1])
                return result[1:]
            results, gone = gather_round(c, distributed, tasks, fold=add)
            scattered = tasks = None
            drop_lost(gone, plan, queues, sizes, lost, log, rounds + 1, len(results),
                      "row blocks")
            returned = {a for a in plan if a not in gone}
            loaded |= {(a, b) for a in returned for _, b, _, _ in plan[a][0]}
            if results:
                weights = [r[0] for r in results]
                state = fold.finish()
                for _, costs in results:
                    for e, (s, m) in costs.items():
                        cost[e] += s
                        cost_n[e] += m
                done += sum(weights)
                if bar is not None:
                    bar.update(sum(weights))
            rounds += 1
        ok = True
    finally:
        report.close(bar, ok)
    check_finite(state)
    for name, a in zip(GloVe.state, state):
        setattr(model, name, a)
    wall = time.perf_counter() - t0
    train_seconds = time.perf_counter() - t_train
    loss = [round(float(s / m), 6) if m else None for s, m in zip(cost, cost_n)]
    stats.update({"wall_seconds": round(wall, 3), "train_seconds": round(train_seconds, 3),
                  "epochs": epochs, "words": int(done), "updates": int(done),
                  "words_per_second": round(done / wall, 1) if wall > 0 else None,
                  "loss": loss, "loss_per_epoch": loss, "nonzeros": nnz,
                  "vocab_size": n_words,
                  "cluster": {"workers": len(nthreads), "threads": int(sum(nthreads.values())),
                              "sync_every": sync_every, "unit": "entries", "rounds": rounds,
                              "combine": combine, "row_blocks": len(parts.bounds),
                              "chunk_entries": chunk,
                              "sync_bytes_per_replica": sync_bytes(n_words, p["dim"]),
                              "lost_workers": lost}})
    if stats.get("corpus_tokens") is None:
        stats.pop("corpus_tokens", None)
    model._done(stats)
    return model
