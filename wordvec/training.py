"""Shared training orchestration: jobs, Hogwild threads, learning-rate schedule, progress, stats,
checkpoints.

Every trainer of the model layer (:mod:`wordvec.model`) plugs a Numba kernel into
:func:`run_jobs`: word2vec and fastText over an :class:`~wordvec.encode.EncodedCorpus`, GloVe
over blocks of its shuffled co-occurrences (a :class:`Plan` of its own). :func:`run_jobs`

- splits the corpus into *jobs*: runs of whole sentences of about ``job_tokens`` tokens (the
  split depends on the corpus only, never on the thread count);
- runs ``epochs`` passes of all jobs, in order, on ``threads`` Python threads that call the
  kernel; the kernel is compiled ``nogil=True`` so threads run truly in parallel and share the
  weight matrices without locks (Hogwild);
- gives each job its own RNG state ``seed_state(seed, epoch, job)``, so a one-thread run is
  bit-identical for a given seed;
- decays the learning rate linearly from ``alpha`` to ``min_alpha`` by GLOBAL progress over all
  threads and epochs: ``progress`` is a shared ``int64[threads]`` array, the kernel adds each
  word it reads to ``progress[slot]`` and computes its lr with :func:`current_lr`;
- shows a tqdm bar (words/s, lr, running loss), checks weights for NaN/inf after each job,
  releases the job's pages of a memory-mapped corpus (so resident memory does not grow with
  corpus length), and returns statistics (wall time, words/s raw and effective, loss and words
  per epoch, final lr);
- pauses the threads between jobs now and then to save a resumable state (:class:`Checkpoints`)
  and continues a run from such a state (``resume=``), bit-identically with one thread.

How a trainer plugs in
----------------------
Write a kernel and wrap it in a Python callable ``job(first, last, rng, progress, slot,
schedule)`` that trains sentences ``first..last-1`` (indices into ``corpus.offsets``) and returns
``(loss_sum, loss_count, words_read, words_trained)``:

- ``rng``: ``uint64[1]`` state for :mod:`wordvec.rng`, private to this job;
- ``progress`` / ``slot``: add every word read (before subsampling) to ``progress[slot]`` as you
  go (e.g. after each sentence) and take the lr from ``current_lr(progress, schedule)`` then;
- ``schedule``: ``float64[3]`` = (alpha, min_alpha, total words over all epochs);
- ``words_read`` must equal the job's token count (checked: every epoch trains every word);
  ``words_trained`` counts words kept after subsampling (the "effective" words).

Then::

    stats = run_jobs(corpus, job, epochs=5, alpha=0.025, min_alpha=1e-4, threads=2, seed=1,
                     weights=(W, C), progress=True, desc="sg")

``weights`` are the arrays checked for NaN/inf (their most frequent rows after each job, all of
them at the end); a non-finite value raises :class:`~wordvec.errors.WordvecError`.
"""

import mmap
import threading
import time

import numpy as np
from numba import njit

from .errors import WordvecError
from .rng import seed_state

JOB_TOKENS = 50_000  # tokens per job (upper bound; small corpora get smaller jobs)
MIN_JOBS = 16  # at least this many jobs per epoch when the corpus allows it
CHECK_ROWS = 2_000  # most frequent rows checked for NaN after each job


@njit(cache=True, nogil=True)
def current_lr(progress, schedule):
    """Linear decay: ``alpha - (alpha - min_alpha) * done / total``, as float32.

    ``done`` sums all threads' ``progress`` slots (reads of other threads' slots are racy but
    monotone, which is all a schedule needs).
    """
    done = 0
    for i in range(progress.shape[0]):
        done += progress[i]
    frac = min(done / schedule[2], 1.0)
    return np.float32(schedule[0] - (schedule[0] - schedule[1]) * frac)


def lr_from_progress(done, schedule):
    """Python twin of :func:`current_lr` for a given number of words done."""
    frac = min(done / schedule[2], 1.0)
    return float(schedule[0] - (schedule[0] - schedule[1]) * frac)


def make_jobs(offsets, job_tokens=None, per_sentence=0, block=1 << 20):
    """Sentence indices ``[s_0, s_1, ..., n_sentences]`` splitting the corpus into jobs.

    ``per_sentence`` tokens are counted after every sentence besides its own (fastText's
    ``</s>``, read by the kernels): the split is that of offsets ``offsets[s] + per_sentence *
    s``, computed by blocks without an array of them.
    """
    offsets = np.asarray(offsets)
    n_sent = len(offsets) - 1
    n_tokens = int(offsets[-1]) + per_sentence * n_sent
    if job_tokens is None:
        job_tokens = max(1_000, min(JOB_TOKENS, n_tokens // MIN_JOBS))
    targets = np.arange(job_tokens, n_tokens, job_tokens, dtype=np.int64)
    if not per_sentence:
        cuts = np.searchsorted(offsets, targets, side="left")
    else:
        cuts = np.empty(len(targets), dtype=np.int64)
        done = 0
        for a in range(0, n_sent + 1, block):
            b = min(a + block, n_sent + 1)
            pos = offsets[a:b] + per_sentence * np.arange(a, b, dtype=np.int64)
            k = int(np.searchsorted(targets, pos[-1], side="right"))
            cuts[done:k] = a + np.searchsorted(pos, targets[done:k], side="left")
            done = k
    bounds = np.unique(np.concatenate([[0], cuts, [n_sent]])).astype(np.int64)
    # drop jobs without tokens (empty sentences at the very end are harmless either way)
    return bounds


def check_trainable(corpus, what="nothing to train"):
    """Refuse, up front, a corpus where no word has a context: no sentence (line) holds two
    in-vocabulary words, so training would leave the vectors as initialised."""
    offsets = np.asarray(corpus.offsets)
    if len(offsets) < 2 or int(np.max(offsets[1:] - offsets[:-1])) < 2:
        raise WordvecError(
            f"{what}: no line of the corpus has two in-vocabulary words (a line is a "
            "sentence and context windows do not cross lines); use a corpus of longer lines "
            "or lower --min-count")


def default_threads(threads):
    """The one thread-count rule (see :func:`wordvec.params.resolve_threads`)."""
    from .params import resolve_threads
    return resolve_threads(threads)


class _Shared:
    """State the worker threads share (under a lock, except the lock-free progress array)."""

    def __init__(self, n_jobs, epochs, extra_jobs=0, start=0):
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)  # signalled when a job ends (for pauses)
        self.next = start
        self.running = 0  # jobs being trained now
        self.done = start  # jobs ended
        self.paused = False
        self.total_jobs = n_jobs * epochs + extra_jobs
        epochs += 1 if extra_jobs else 0
        self.error = None
        self.stop = False
        self.loss = np.zeros(epochs)
        self.loss_n = np.zeros(epochs)
        self.words = np.zeros(epochs, dtype=np.int64)
        self.trained = np.zeros(epochs, dtype=np.int64)
        self.recent = []  # (loss, n) of recent jobs, for the bar

    def restore(self, state):
        for name in ("loss", "loss_n", "words", "trained"):
            values = np.asarray(state[name], dtype=getattr(self, name).dtype)
            if values.shape != getattr(self, name).shape:
                raise WordvecError("the checkpoint's statistics do not fit this run's epochs")
            getattr(self, name)[:] = values


def spread_order(n_jobs, threads):
    """Job order that starts each of ``threads`` threads in its own contiguous part of the
    corpus (as fastText's threads, which read from ``i * size / threads``): parts of
    ``ceil(n_jobs / threads)`` jobs, handed out round-robin ``part 0, part 1, ..., part 0, ...``.
    A permutation of ``range(n_jobs)``."""
    threads = max(1, min(int(threads), n_jobs))
    chunk = -(-n_jobs // threads)
    order = [i * chunk + r for r in range(chunk) for i in range(threads) if i * chunk + r < n_jobs]
    return np.asarray(order, dtype=np.int64)


class Plan:
    """How the work of one epoch splits into jobs: ``bounds`` (job ``j`` is
    ``bounds[j]..bounds[j+1]-1``, handed to the job callable), ``sizes`` (the words, or
    entries, each job reads: the unit of progress and of the lr schedule) and the order the
    jobs are handed out in each epoch (``order(epoch)``, a permutation of the jobs)."""

    def __init__(self, bounds, sizes, order=None):
        self.bounds = np.asarray(bounds, dtype=np.int64)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.n_jobs = len(self.bounds) - 1
        self._order = order

    def order(self, epoch):
        if self._order is None:
            return np.arange(self.n_jobs, dtype=np.int64)
        return self._order(epoch) if callable(self._order) else self._order

    @classmethod
    def for_corpus(cls, corpus, threads, job_tokens=None, spread=False):
        per = int(getattr(corpus, "per_sentence", 0))  # fastText's </s> after every sentence
        bounds = make_jobs(corpus.offsets, job_tokens, per)
        offsets = corpus.offsets
        sizes = offsets[bounds[1:]] - offsets[bounds[:-1]] + per * (bounds[1:] - bounds[:-1])
        n_jobs = len(bounds) - 1
        order = spread_order(n_jobs, threads) if spread else None
        return cls(bounds, sizes, order)


class Checkpoints:
    """When to save a resumable state during :func:`run_jobs`, and how.

    ``every`` seconds (wall clock) after the last one, the workers pause between jobs, and
    ``save(state)`` gets a consistent state: every job before ``state["next_job"]`` is done and
    no other has started. ``state`` also holds ``progress`` (words done, the lr schedule
    position) and the per-epoch statistics so far; :func:`run_jobs` takes it back as
    ``resume=``.
    """

    def __init__(self, every, save):
        self.every = float(every)
        self.save = save
        self.last = time.monotonic()
        self.written = 0

    def due(self):
        return time.monotonic() - self.last >= self.every


def run_jobs(corpus, job, *, epochs, alpha, min_alpha, threads=None, seed=1, weights=(),
             progress=True, desc="train", job_tokens=None, spread=False, extra_tokens=0,
             plan=None, stream=0, resume=None, checkpoints=None, unit="w", epoch_barrier=False):
    """Train ``epochs`` passes of ``corpus`` with ``job`` on ``threads`` threads; return stats.

    See the module docstring for the ``job`` contract. Returns a dict: ``wall_seconds``,
    ``words`` (read, all epochs), ``words_trained`` (after subsampling), ``words_per_second``,
    ``effective_words_per_second``, ``loss_per_epoch`` (mean per prediction), ``words_per_epoch``,
    ``trained_per_epoch``, ``final_lr``, ``threads``, ``jobs_per_epoch``.

    ``spread`` (default False: jobs in corpus order) hands jobs out in :func:`spread_order`, so
    concurrent threads train on distant parts of the corpus rather than on neighbouring text.
    ``extra_tokens`` (default 0) continues into a partial extra epoch for at least that many
    more tokens (whole jobs) after ``epochs`` passes, the lr schedule spanning all of it (the
    per-epoch statistics then have ``epochs + 1`` entries).

    ``plan`` (a :class:`Plan`) replaces the split of ``corpus`` into jobs (GloVe's jobs are
    blocks of co-occurrences; ``corpus`` is then None). ``stream`` (0 for a model's first
    training) selects fresh random streams for a later training of the same model.
    ``checkpoints`` (a :class:`Checkpoints`) saves a resumable state now and then, and
    ``resume`` (such a state) continues a run from it: with one thread the result is then
    bit-identical to an uninterrupted run. ``epoch_barrier`` starts an epoch's jobs only when
    every job of the epochs before has ended (GloVe: its epochs revisit the same entries, which
    must not be trained by two threads at once).
    """
    threads = default_threads(threads)
    if plan is None:
        plan = Plan.for_corpus(corpus, threads, job_tokens, spread)
    bounds, job_sizes, n_jobs = plan.bounds, plan.sizes, plan.n_jobs
    orders = {}

    def order_of(epoch):
        if epoch not in orders:
            orders.clear()  # one epoch's order at a time (threads move on together)
            orders[epoch] = plan.order(epoch)
        return orders[epoch]

    offsets = corpus.offsets if corpus is not None else None
    # where sentences start in corpus.ids (a view with virtual tokens has its own offsets)
    id_offsets = getattr(corpus, "id_offsets", offsets)
    total = int(job_sizes.sum()) * epochs
    extra_jobs = 0
    if extra_tokens > 0 and n_jobs:
        sizes = np.cumsum(job_sizes[order_of(epochs)])
        extra_jobs = int(min(np.searchsorted(sizes, extra_tokens) + 1, n_jobs))
        total += int(sizes[extra_jobs - 1])
    schedule = np.array([alpha, min_alpha, max(total, 1)], dtype=np.float64)
    prog = np.zeros(threads, dtype=np.int64)
    shared = _Shared(n_jobs, epochs, extra_jobs)
    if resume is not None:
        if int(resume["total_jobs"]) != shared.total_jobs or int(resume["total"]) != total:
            raise WordvecError("the checkpoint does not fit this run (another corpus or "
                               "other settings)")
        shared.next = shared.done = int(resume["next_job"])
        prog[0] = int(resume["progress"])
        shared.restore(resume)
    words0, trained0 = int(shared.words.sum()), int(shared.trained.sum())  # (before a resume)
    check = [w for w in weights if w is not None]
    order_lock = threading.Lock()

    def worker(slot):
        try:
            while True:
                with shared.lock:
                    while not shared.stop and (shared.paused or (
                            epoch_barrier and shared.next < shared.total_jobs
                            and shared.done < shared.next // n_jobs * n_jobs)):
                        shared.idle.wait(0.25)
                    if shared.stop or shared.next >= shared.total_jobs:
                        return
                    k = shared.next
                    shared.next += 1
                    shared.running += 1
                try:
                    epoch, j = divmod(k, n_jobs)
                    with order_lock:
                        j = int(order_of(epoch)[j])
                    rng = seed_state(seed, epoch, j) if not stream else \
                        seed_state(seed, epoch, j, stream)
                    loss, n, read, kept = job(int(bounds[j]), int(bounds[j + 1]), rng, prog,
                                              slot, schedule)
                    if int(read) != int(job_sizes[j]):
                        raise WordvecError(f"internal error: a job read {int(read)} words "
                                           f"instead of {int(job_sizes[j])}")
                    check_finite(check, CHECK_ROWS)
                    if corpus is not None:
                        _release(corpus.ids, int(id_offsets[bounds[j]]),
                                 int(id_offsets[bounds[j + 1]]))
                    with shared.lock:
                        shared.loss[epoch] += loss
                        shared.loss_n[epoch] += n
                        shared.words[epoch] += read
                        shared.trained[epoch] += kept
                        shared.recent.append((loss, n))
                        if len(shared.recent) > 20:
                            del shared.recent[:-20]
                finally:
                    with shared.lock:
                        shared.running -= 1
                        shared.done += 1
                        shared.idle.notify_all()
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            with shared.lock:
                if shared.error is None:
                    shared.error = e
                shared.stop = True
                shared.idle.notify_all()

    def save_checkpoint():
        with shared.lock:  # pause: no new job starts; wait for the running ones to end
            shared.paused = True
            while shared.running and not shared.stop:
                shared.idle.wait(0.25)
            if shared.stop:
                shared.paused = False
                shared.idle.notify_all()
                return
            state = {"next_job": shared.next, "progress": int(prog.sum()),
                     "total_jobs": shared.total_jobs, "total": total,
                     "loss": shared.loss.tolist(), "loss_n": shared.loss_n.tolist(),
                     "words": shared.words.tolist(), "trained": shared.trained.tolist()}
        try:
            if state["next_job"] < shared.total_jobs:
                checkpoints.save(state)
                checkpoints.written += 1
        finally:
            checkpoints.last = time.monotonic()
            with shared.lock:
                shared.paused = False
                shared.idle.notify_all()

    bar = _bar(progress, total, desc, unit)
    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    try:
        for t in pool:
            t.start()
        shown = [int(prog.sum())]
        if bar is not None and shown[0]:
            bar.update(shown[0])

        def refresh():
            done = int(prog.sum())
            bar.update(done - shown[0])
            shown[0] = done
            with shared.lock:
                recent = list(shared.recent)
            n = sum(k for _, k in recent)
            bar.set_postfix_str(
                f"lr {lr_from_progress(done, schedule):.5f}"
                + (f" loss {sum(x for x, _ in recent) / n:.4f}" if n else ""), refresh=False)

        while True:
            alive = [t for t in pool if t.is_alive()]
            if not alive:
                break
            wait = 0.25
            if checkpoints is not None:
                wait = min(wait, max(0.0, checkpoints.every - (time.monotonic() - checkpoints.last)))
            alive[0].join(wait)
            if checkpoints is not None and checkpoints.due():
                save_checkpoint()
            if bar is not None:
                refresh()
        for t in pool:
            t.join()
        if bar is not None:
            refresh()
    except BaseException:
        # Ctrl-C, SIGTERM (Terminated) or an error here: the threads stop after their current
        # job (a bounded amount of work) and are waited for before any clean-up runs
        with shared.lock:
            shared.stop = True
            shared.idle.notify_all()
        for t in pool:
            while t.is_alive():
                try:
                    t.join(0.25)
                except KeyboardInterrupt:  # a second Ctrl-C: keep waiting
                    pass
        close_bar(bar, ok=False)
        raise
    wall = time.perf_counter() - t0
    try:
        if shared.error is not None:
            raise shared.error
        check_finite(check, None)
    except BaseException:
        close_bar(bar, ok=False)
        raise
    close_bar(bar, ok=True)
    done = int(prog.sum())
    words = int(shared.words.sum())
    trained = int(shared.trained.sum())
    stats = {
        "wall_seconds": round(wall, 3),
        "threads": threads,
        "epochs": epochs,
        "jobs_per_epoch": n_jobs,
        "words": words,
        "words_trained": trained,
        "words_per_second": round((words - words0) / wall, 1) if wall > 0 else None,
        "effective_words_per_second": round((trained - trained0) / wall, 1) if wall > 0 else None,
        "loss_per_epoch": [round(float(a / b), 6) if b else None
                           for a, b in zip(shared.loss, shared.loss_n)],
        "words_per_epoch": shared.words.tolist(),
        "trained_per_epoch": shared.trained.tolist(),
        "final_lr": lr_from_progress(done, schedule),
        "progress_words": done,
    }
    if resume is not None:
        stats["resumed_at_job"] = int(resume["next_job"])
    if checkpoints is not None:
        stats["checkpoints_written"] = checkpoints.written
    return stats


def check_finite(arrays, rows=None, block=1 << 16):
    """Raise if the first ``rows`` rows (all rows if None) of any array hold NaN/inf (the
    training-time check; files read from disk are checked by :func:`wordvec.native.check_finite`,
    which also names the row)."""
    for a in arrays:
        n = len(a) if rows is None else min(rows, len(a))
        for lo in range(0, n, block):  # by blocks: no temporary copy of a whole matrix
            part = a[lo:min(n, lo + block)]
            if part.size and not np.isfinite(_sum64(part)):
                raise WordvecError(
                    "training diverged (NaN/inf in the weights): lower --alpha")


def _release(ids, first_token, last_token):
    """Drop the pages of a memory-mapped ``ids[first_token:last_token]`` from this process.

    A job reads its ids once per epoch; without this the whole mapped corpus would end up
    counted in the process's resident memory, which would then grow with corpus length. The
    pages stay in the OS page cache, so the next epoch still reads them from memory.
    """
    mm = getattr(ids, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    start = getattr(ids, "offset", 0) + first_token * ids.itemsize
    stop = getattr(ids, "offset", 0) + last_token * ids.itemsize
    start -= start % mmap.PAGESIZE
    stop = min(stop + (-stop) % mmap.PAGESIZE, len(mm))
    if stop > start:
        try:
            mm.madvise(mmap.MADV_DONTNEED, start, stop - start)
        except (OSError, ValueError):
            pass


def _sum64(a):
    # One float64 reduction, no temporary array (an ``abs`` copy of a 65,536-row block was a
    # 26 MB peak): a NaN or an inf anywhere makes the sum non-finite (+inf and -inf give NaN),
    # and float32 values cannot overflow a float64 sum.
    with np.errstate(over="ignore", invalid="ignore"):
        return a.sum(dtype=np.float64) if a.ndim else float(a)


def _bar(progress, total, desc, unit="w"):
    from . import progress as report
    return report.bar(progress, total, desc, unit)


def close_bar(bar, ok):
    """Close a bar (cleared after an error or a signal): :func:`wordvec.progress.close`."""
    from .progress import close
    close(bar, ok)
