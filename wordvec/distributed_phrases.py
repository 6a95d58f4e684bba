"""Phrases on a Dask cluster: ``wordvec phrases SHARDS --cluster ADDRESS -o FOLDER``.

The shards are those of :mod:`wordvec.distributed` (files every worker reads at the same path,
or fsspec URLs; a line never spans two files). Each pass of :class:`wordvec.phrases.Phrases`:

1. **Count** (one task a shard): the shard, with the passes before this one applied, is counted
   by the single-machine counter (:meth:`Phrases._count`: the same tokenising, the same
   connector-word candidates, the same Numba tables and pruning), and its tables are handed over
   keyed by text: the shard's words sorted, with their counts, and its candidates as rows of
   indices into those words, with their counts.
2. **Merge** (on the workers): the tables are added up two at a time in a fixed tree (shards
   0+1, 2+3, ..., then those sums pairwise), exactly (int64); a merge runs before the counting
   tasks still waiting, so finished tables do not pile up.
3. **Score** (one task): the single-machine scorer (:func:`wordvec.phrases._scores`) on the sum.

The next pass's counting tasks take the phrases found as their input on the cluster (a result
Dask can compute again if a worker holding it dies). Writing (``output``): one task a shard
rewrites it with every pass applied into a hidden temporary file in the output folder; when all
are written, the client renames them into place (``FOLDER/<shard's name>``, compression suffix
dropped: the text is written plain), in shard order, each checked again first. Nothing appears
if a shard fails, and an existing file is replaced only as ``wordvec phrases`` replaces its
output (a phrased corpus wordvec wrote, unchanged since, or any file with ``force``).

**Identical to one machine** when nothing is pruned: a candidate's count is the sum of its
shards' counts (a line never spans two shards), a word's too, and ``N`` (every token) the sum of
the shards' tokens, so the scores are the same float64 numbers from the same kernel, the same
phrases are kept, and applying them gives the same bytes, shard by shard (the phrases are saved
in the order of their words on both, so even the ``--save`` files are the same bytes).

**Pruning** (more than ``max_vocab`` candidates, or ``MAX_WORDS_TABLE`` words, in one table):
one machine prunes its single table as it fills, so which rare pairs it forgets depends on the
whole corpus's order. Here each shard's counter prunes exactly as one machine would prune on
that shard alone, and a merge whose sum holds more than ``max_vocab`` candidates prunes it the
same way (the rarest dropped below a floor that rises from the larger of the two tables' floors
until fewer than 70 % remain), so no task ever holds more than one machine's table would. The
merge tree is fixed by the shards' order, so the result is the same on every run with the same
shards, however the tasks are scheduled; every count is at most the exact count, and the pairs
that survive every pruning keep their exact counts. Candidates of words pruned from a shard's
word table are dropped with them (one machine keeps them in its table but never keeps them as
phrases). The statistics (``pruned_candidates``, ``pruned_words``) add up what every task
dropped.
"""

import os
import re
import uuid
from collections import namedtuple

import numpy as np

from . import distributed as wd
from . import progress as report
from .errors import WordvecError

# A shard's (or a sum's) tables: its distinct words sorted by text joined by SEP, their counts;
# its candidates as int32 rows of KEY indices into those words (-1 padding) and their counts;
# every token read; what pruning dropped; the candidate and word pruning floors reached.
Counts = namedtuple("Counts", "words word_counts keys counts tokens pruned_candidates "
                              "pruned_words min_reduce word_min_reduce")
COMPRESSED = (".gz", ".bz2", ".xz", ".lzma")


# ---- the tasks ------------------------------------------------------------------------------
_passes_cache = {}  # compiled passes on a worker, by the job's token: (a few) jobs at a time


def _passes(prior, settings):
    """The :class:`~wordvec.phrases.Pass` objects of ``prior`` (``(token, (phrases, corpus
    words, ...))`` per pass), compiled once a worker process."""
    from .phrases import Pass
    out = []
    for token, result in prior:
        p = _passes_cache.get(token)
        if p is None:
            p = Pass(result[0], result[1], settings)
            if len(_passes_cache) >= 8:
                _passes_cache.pop(next(iter(_passes_cache)))
            _passes_cache[token] = p
        out.append(p)
    return out


def _model(settings, max_words):
    from .phrases import Phrases
    s = settings
    m = Phrases(min_count=s["min_count"], threshold=s["threshold"], scoring=s["scoring"],
                connectors=s["connectors"], delimiter=s["delimiter"], passes=s["passes"],
                max_vocab=s["max_vocab"])
    if max_words:
        m.max_words = int(max_words)
    return m


def count_shard(shard, settings, prior, max_words=None, threads=1):
    """Count one shard (the passes of ``prior`` applied first) with the single-machine counter
    -> its :data:`Counts`."""
    from .phrases import apply_passes
    wd.tune_process(threads)
    model = _model(settings, max_words)
    passes = _passes(prior, settings)
    with wd.open_byte_chunks(shard) as chunks:
        words, table, tokens, pruned_words = model._count(
            (b for b, _ in apply_passes(chunks, passes, threads)), overlap=threads > 1)
    alive = words.counts[:words.n] > 0
    if words.alive is not None:
        alive &= words.alive[:words.n]
    ids = np.flatnonzero(alive)
    names = [words.word(i) for i in ids.tolist()]
    order = sorted(range(len(names)), key=names.__getitem__)
    index = np.full(words.n + 1, -1, dtype=np.int64)  # (the last: where -1 padding looks)
    index[ids[order]] = np.arange(len(order))
    keys, counts = table.entries()
    rows = index[keys]  # (a -1 id reads index[-1] = -1)
    # a pruned word's candidates are never phrases (one machine never keeps them): dropped
    whole = np.all((rows >= 0) | (keys < 0), axis=1)
    return Counts(wd.SEP.join(names[i] for i in order), words.counts[ids[order]].astype(np.int64),
                  rows[whole].astype(np.int32), counts[whole].astype(np.int64), int(tokens),
                  int(table.pruned) + int(len(whole) - whole.sum()), int(pruned_words),
                  int(table.min_reduce), int(words.min_reduce))


def _tokens(counts):
    """The tokens a counted shard read (a small result: the bar's words/s)."""
    return int(counts.tokens)


def _words(c):
    if not len(c.word_counts):
        return np.zeros(0, dtype=object)
    return np.array(c.words.split(wd.SEP), dtype=object)


def _sum_rows(keys, counts):
    """Equal candidate rows added up, rows sorted."""
    if not len(counts):
        return keys, counts
    order = np.lexsort(keys.T[::-1])
    keys, counts = keys[order], counts[order]
    first = np.ones(len(counts), dtype=bool)
    first[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    starts = np.flatnonzero(first)
    return keys[starts], np.add.reduceat(counts, starts)


def merge_counts(a, b, max_vocab, max_words, connectors):
    """The sum of two :data:`Counts`, pruned as the single-machine counter prunes its tables
    when it holds more than ``max_vocab`` candidates or ``max_words`` words (connectors, never
    pruned, included)."""
    wa, wb = _words(a), _words(b)
    words, where = np.unique(np.concatenate([wa, wb]), return_inverse=True)
    where = where.reshape(-1)
    word_counts = np.zeros(len(words), dtype=np.int64)
    word_counts[where[:len(wa)]] += a.word_counts
    word_counts[where[len(wa):]] += b.word_counts
    pad = np.array([-1], dtype=np.int64)
    ka = np.concatenate([where[:len(wa)], pad])[a.keys]
    kb = np.concatenate([where[len(wa):], pad])[b.keys]
    keys, counts = _sum_rows(np.concatenate([ka, kb]), np.concatenate([a.counts, b.counts]))
    pruned_words, pruned_candidates = a.pruned_words + b.pruned_words, \
        a.pruned_candidates + b.pruned_candidates
    word_floor = max(a.word_min_reduce, b.word_min_reduce)
    is_conn = np.isin(words, np.array(list(connectors), dtype=object)) if len(connectors) \
        else np.zeros(len(words), dtype=bool)
    live = len(words) + len(connectors) - int(is_conn.sum())
    if max_words and live > max_words:  # forget the rarest words, as Phrases._count does
        keep = np.ones(len(words), dtype=bool)
        while live > max_words * 0.7:
            dead = keep & (word_counts < word_floor) & ~is_conn
            pruned_words += int(dead.sum())
            live -= int(dead.sum())
            keep &= ~dead
            word_floor += 1
        new = np.concatenate([np.cumsum(keep) - 1, pad])
        new[:-1][~keep] = -1
        rows = new[keys]
        whole = np.all((rows >= 0) | (keys < 0), axis=1)
        pruned_candidates += int(len(whole) - whole.sum())
        keys, counts = rows[whole], counts[whole]
        words, word_counts = words[keep], word_counts[keep]
    floor = max(a.min_reduce, b.min_reduce)
    if len(counts) > max_vocab:  # drop the rarest candidates, as phrases._Table does
        while True:
            floor += 1
            kept = int(np.count_nonzero(counts >= floor))
            if kept < max_vocab * 0.7 or kept == 0:
                break
        keep = counts >= floor
        pruned_candidates += int(len(keep) - keep.sum())
        keys, counts = keys[keep], counts[keep]
    return Counts(wd.SEP.join(words.tolist()), word_counts, keys.astype(np.int32),
                  counts.astype(np.int64), a.tokens + b.tokens, pruned_candidates, pruned_words,
                  floor, word_floor)


def score_counts(c, settings):
    """Score the summed :data:`Counts` as one machine does -> ``(phrases, corpus words,
    statistics)``: ``{(word, ..., word): (score, count)}`` ordered by the words."""
    from .phrases import _scores, kept_phrases
    words = _words(c)
    total = int(c.tokens)
    if len(c.counts) and total:
        score = np.empty(len(c.counts), dtype=np.float64)
        keep = _scores(c.keys, c.counts, c.word_counts, np.ones(len(words), dtype=np.bool_),
                       float(total), float(settings["min_count"]), settings["scoring"] == "npmi",
                       float(settings["threshold"]), score)
        phrases = kept_phrases(c.keys, c.counts, score, keep, words.__getitem__)
    else:
        phrases = {}
    connectors = set(settings["connectors"])
    stats = {"corpus_words": total,
             "distinct_words": int(sum(1 for w in words.tolist() if w not in connectors)),
             "candidates": int(len(c.counts)), "pruned_candidates": int(c.pruned_candidates),
             "pruned_words": int(c.pruned_words), "phrases": len(phrases)}
    return phrases, total, stats


def _given(result):
    """A saved pass as a task's result (so that it can be computed again if lost)."""
    return result


def rewrite_shard(shard, prior, settings, prefix, threads=1):
    """Write one shard with the passes of ``prior`` applied into a new file ``prefix<random>.tmp``
    -> ``(its path, the tokens written)`` (a new name each run: a task run again after its
    worker was lost never meets the first run's file)."""
    from .phrases import apply_passes
    wd.tune_process(threads)
    passes = _passes(prior, settings)
    tmp = f"{prefix}{uuid.uuid4().hex[:8]}.tmp"
    tokens = 0
    try:
        with wd.open_byte_chunks(shard) as chunks, open(tmp, "xb") as out:
            for b, n in apply_passes(chunks, passes, threads):
                out.write(b)
                tokens += n
            out.flush()
            os.fsync(out.fileno())
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and not isinstance(e, WordvecError):
            raise WordvecError(f"cannot write {tmp}: {e.strerror or e}") from None
        raise
    return tmp, tokens


# ---- outputs --------------------------------------------------------------------------------
def output_names(files):
    """Each shard's file name in the output folder: its own, a compression suffix dropped."""
    names, seen = [], {}
    for f in files:
        name = f.rstrip("/").rsplit("/", 1)[-1] if wd.is_url(f) else os.path.basename(f)
        stem, ext = os.path.splitext(name)
        if ext.lower() in COMPRESSED and stem:
            name = stem
        if name in seen:
            raise WordvecError(f"two shards would be written to the same file {name!r} of the "
                               f"output folder ({seen[name]} and {f}): give shards with "
                               f"distinct names")
        seen[name] = f
        names.append(name)
    return names


def check_outputs(files, folder, save=None, *, force=False, inputs=()):
    """Check the output folder's files (``folder`` None: none) and ``save`` before any work
    -> the files' paths."""
    from . import outputs
    targets = [] if folder is None else _targets(files, os.fspath(folder))
    seen = {}
    for path, kind in [(t, "corpus") for t in targets] + ([(save, "phrases")] if save else []):
        real = outputs.check_output(path, kind, inputs=inputs, force=force)
        if real in seen:
            raise WordvecError(f"two outputs of this command are the same path: {seen[real]!r} "
                               f"and {path!r}")
        seen[real] = path
    return targets


def _targets(files, folder):
    if wd.is_url(folder):
        raise WordvecError(f"{folder!r}: the phrased shards are written to a local folder "
                           "that every worker can write (a URL is not one)")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise WordvecError(f"{folder!r} is a file: with --cluster, -o names a folder for the "
                           "phrased shards")
    return [os.path.join(folder, n) for n in output_names(files)]


# ---- the job --------------------------------------------------------------------------------
def _tree(client, futures, merge, args, name):
    """Add ``futures`` up two at a time in a fixed tree (0+1, 2+3, ...) on the workers -> the
    root's future and the merges' futures. A merge goes before the tasks still waiting."""
    level, merges = list(futures), []
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            m = client.submit(merge, level[i], level[i + 1], *args, priority=1,
                              key=f"wordvec-{name}-{uuid.uuid4().hex[:12]}")
            nxt.append(m)
            merges.append(m)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0], merges


def _wait(futures, bar, words=(), get=int):
    """Tick the bar as ``futures`` finish (fetching the small results of ``words``: ``get``
    of it is the words read, for the rate); raise the first error."""
    distributed = wd._distributed()
    word_keys = {f.key for f in words}
    for fut in distributed.as_completed(list(futures) + list(words)):
        if fut.status == "error":
            fut.result()
        if fut.key in word_keys:
            bar.update(1, words=get(fut.result()))
        else:
            bar.update(1)


def phrases_on_cluster(shards, model, cluster="local", *, learn=True, output=None, save=None,
                       force=False, inputs=(), workers=None, threads_per_worker=1, threads=1,
                       max_words=None, progress=False):
    """Learn ``model``'s passes (a :class:`~wordvec.phrases.Phrases`) from ``shards`` on a Dask
    cluster (``learn``; else the passes it holds, e.g. loaded, are used), save them to
    ``save``, and write every shard with them joined into the folder ``output`` (see the
    module's notes). Returns ``(model, tokens written, files written)``.

    ``inputs``: paths no output may replace (the corpus, local shards, included always);
    ``threads``: each task's; ``max_words``: the word table's pruning size (tests).
    """
    files = wd.expand_shards(shards)
    settings = model.settings
    inputs = list(inputs) + [f for f in (wd.local_path(x) for x in files) if f]
    if output is None and not learn:
        raise WordvecError("nothing to do: give an output folder to apply the phrases to")
    targets = check_outputs(files, output, save, force=force, inputs=inputs)
    n = len(files)
    job = uuid.uuid4().hex[:10]
    tokens_written = 0
    with wd.connect(cluster, workers=workers, threads_per_worker=threads_per_worker) as client:
        bar = report.TaskBar(progress, (2 * n * settings["passes"] if learn else 0)
                             + (n if output is not None else 0))
        ok = False
        try:
            if learn:
                model.passes, model.stats = [], []
                prior = []
                for k in range(settings["passes"]):
                    bar.phase(f"phrases, pass {k + 1}/{settings['passes']}", 0)
                    counted = [client.submit(count_shard, f, settings, prior, max_words, threads,
                                             key=f"wordvec-phrases-count-{k}-{i}-{job}")
                               for i, f in enumerate(files)]
                    words = [client.submit(_tokens, c, key=f"wordvec-phrases-tokens-{k}-{i}-{job}")
                             for i, c in enumerate(counted)] if bar.shown else []
                    root, merges = _tree(client, counted, merge_counts,
                                         (settings["max_vocab"], max_words or model.max_words,
                                          tuple(settings["connectors"])), f"phrases-merge-{k}")
                    counted = None
                    scored = client.submit(score_counts, root, settings,
                                           key=f"wordvec-phrases-score-{k}-{job}")
                    root = None
                    _wait(merges + [scored], bar, words)
                    merges = words = None
                    phrases, total, stats = scored.result()
                    from .phrases import Pass
                    model.passes.append(Pass(phrases, total, settings))
                    model.stats.append(stats)
                    prior = prior + [(f"{job}-{k}", scored)]
            else:
                prior = [(f"{job}-{k}", client.submit(_given, (p.phrases, p.corpus_words),
                                                      key=f"wordvec-phrases-given-{k}-{job}"))
                         for k, p in enumerate(model.passes)]
            if save:
                model.save(save, force=force, inputs=inputs)
            if output is not None:
                tokens_written = _write(client, files, targets, prior, settings, job, bar,
                                        threads, force, inputs)
            ok = True
        finally:
            bar.close(ok)
    return model, tokens_written, len(targets)


def _write(client, files, targets, prior, settings, job, bar, threads, force, inputs):
    """Each shard rewritten by a task into a hidden file of the folder, then all renamed into
    place here (checked again first) -> the tokens written."""
    from . import io_util, outputs, scratch
    folder = os.path.dirname(targets[0])
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    tag = scratch.tag()
    for t in targets:
        io_util._clean_stale(t)  # (left by a run killed before it finished)
    bar.phase("phrases, writing", 0)
    ok = False
    written = []
    try:
        written = [client.submit(rewrite_shard, f, prior, settings,
                                 os.path.join(folder, f".{os.path.basename(t)}.{tag}-{job}_"),
                                 threads, key=f"wordvec-phrases-write-{i}-{job}")
                   for i, (f, t) in enumerate(zip(files, targets))]
        _wait([], bar, written, get=lambda r: r[1])
        results = [f.result() for f in written]
        for target in targets:  # still ours to replace?
            outputs.check_output(target, "corpus", inputs=inputs, force=force)
        for (tmp, _), target in zip(results, targets):
            outputs.record(tmp, "corpus", target)  # (a rename keeps the fingerprint)
            os.replace(tmp, target)
        ok = True
        return sum(n for _, n in results)
    finally:
        if not ok:
            client.cancel(written)
        # what is left: the files of a failed job, or of a task's first run on a lost worker
        pattern = re.compile(r"\..+\." + re.escape(f"{tag}-{job}_") + r"[0-9a-f]+\.tmp")
        for name in os.listdir(folder):
            if pattern.fullmatch(name):
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass
        if created and not ok:
            try:
                os.rmdir(folder)
            except OSError:
                pass
