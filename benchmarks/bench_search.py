"""Text vectors and semantic search (``wordvec embed`` / ``index`` / ``search``, issue 14): index
build, exact search (latency and correctness against brute force), approximate search (recall
and latency against exact; hnswlib beside faiss) and retrieval quality of the text-vector
methods against tf-idf and BM25.

    python benchmarks/bench_search.py [--model PATH] [--rows 1000000] [--queries 200]
        [--batch 1000] [--parts exact,ann,quality] [--ef 40,80,160,320] [--threads 2]
        [--seeds 5] [--quality-queries 2000] [--min-words 40] [--quality-lines 100000]
        [--corpus ../shared/corpora/bench-en.txt.xz] [--keep]

    smoke run (a few minutes once the model is cached):
    python benchmarks/bench_search.py --rows 20000 --queries 20 --seeds 1 --quality-queries 200

Without ``--model`` a skip-gram model is trained first (``wordvec train CORPUS --dim 300
--threads 2``, its other defaults, seed 1) on the whole corpus and cached in the temp folder
(``wordvec-bench/search-sg300-<corpus>``). Every timed step holds the lock file
``/tmp/wordvec-bench.lock`` (flock), so it never overlaps another benchmark on this machine; so
does training (untimed, but on every core). Nothing printed holds an absolute path.

**Collection** (parts exact and ann). The corpus (one lowercase paragraph a line) is cut into
texts of 20 to 40 words, one a line, until ``--rows`` lines: each paragraph of at least 20
words is cut at random lengths (the last piece is never shorter than 20 words); shorter ones
are skipped. Every 200th paragraph is held out (the queries come from those). When the corpus
gives too few texts it is read again, each paragraph then starting 1 to 9 words later, so the
repeated texts are cut differently (a few short ones may still repeat verbatim). The file is
written as it is read (cached in the temp folder), never held in memory. The index is built by
``wordvec index TEXTS -m MODEL -o DIR`` (default method ``sif``) in a child process: wall time,
the child's own peak RSS (VmHWM of /proc/self/status, read as it exits) and the folder's size;
then again with ``--ann --threads T`` (exact files + the faiss HNSW graph, M 16,
ef_construction 200). A warm-up build of 10,000 texts runs first (page cache, Numba's cache).

**Queries**: one span of 10 to 20 consecutive words from each held-out paragraph (again with
other spans when more are needed), so no query is a text of the collection; embedded by the
index's own encoder (``Index.encoder(vectors).transform``), as ``wordvec search`` does. A query
with no word of the model is dropped (the count is printed).

**exact**: one query at a time (the first ``--queries``), after a warm-up of 5, p50 and p95
over the queries, with 1 and ``--threads`` threads (Numba's, the BLAS's through threadpoolctl
and faiss's OpenMP, all set to the same count): wordvec ``Index.search_vectors`` (exact: the
int8 first pass, then float32 re-scoring), ``Index.search`` with the raw text (encoding and
reading the hits' texts included); numpy ``X @ q`` + ``argpartition`` on the same unit float32
matrix held in memory; faiss ``IndexFlatIP`` on it. Batched: ``--batch`` queries in one call,
ms per query (numpy in blocks of 64 queries, so the score matrix stays at 64 x rows).
Correctness on the batch: wordvec's top 10 against numpy's float32 brute force (same set, same
order, sets that differ only by rows whose scores are within 1e-6 of the 10th, and the largest
score difference for the same row).

**ann**: wordvec's ``search_vectors(..., ann=True, ef=EF)`` for each ``--ef``: recall@10 of the
batch against the exact top 10 (the share of the exact top 10 found), batched ms per query with
``--threads`` threads, single-query p50 / p95 with 1 and ``--threads`` threads (wordvec's
figures include its Python wrapper: the query normalised, padding dropped). If hnswlib is
installed, the same for an hnswlib graph (space ``ip``, M 16, ef_construction 200, the same
unit rows, zero rows left out as wordvec does) built in a child process (time, peak RSS, size).

**quality**: "find the paragraph a held-out span came from". The collection is every paragraph
of at least ``--min-words`` words of (a) the bundled public-domain corpus
(``wordvec/data/gutenberg-pd.txt.xz``) with a model trained on it (``wordvec train`` defaults:
skip-gram, 100 dims; ``--threads 2``, ``--seed`` the seed), and (b) the first
``--quality-lines`` lines of the benchmark corpus with the big model above (trained on the
whole corpus: it has seen these paragraphs, as model (a) has seen its own). For each seed,
``--quality-queries`` paragraphs are drawn; from each a span of 8 to 15 consecutive words is cut
out and is the query, and the paragraph is indexed WITHOUT it (so the words the query shares
with its paragraph are only those repeated elsewhere in it; the topic stays). Scored: recall@10
(the true paragraph in the top 10) and MRR@10 (1 / its rank, 0 below 10). Methods: wordvec
``build_index`` + exact ``search_vectors`` with ``mean``, ``mean --unit`` (unit word vectors, as
fastText), ``sif`` a = 1e-3 and ``sif`` a = 1e-4; baselines computed here with scipy.sparse on
the same whitespace tokens: tf-idf cosine (raw tf, idf ``ln((1 + N) / (1 + df)) + 1``, both sides
l2-normalised) and BM25 (k1 1.2, b 0.75, idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``, each query
word occurrence counted). Ties are broken against the true paragraph. Reported as mean [min,
max] over the seeds (different query draws, and for (a) different training seeds).

Progress goes to stderr, the write-up to stdout. The index folders are built in a scratch folder
of the temp folder, removed at the end unless ``--keep``; the collection, the models and the
hnswlib graph's input are cached in ``wordvec-bench/`` of the temp folder.
"""

import argparse
import contextlib
import importlib.util
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    BENCH_CORPUS,
    DISTRIBUTIONS,
    REPO,
    bench_lock,
    plain_corpus,
    run_json,
    run_record,
    shown,
    spread,
    table,
)

sys.path.insert(0, REPO)

SCRATCH = os.path.join(tempfile.gettempdir(), "wordvec-bench")
BUNDLED = os.path.join(REPO, "wordvec", "data", "gutenberg-pd.txt.xz")
THREAD_VARS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
HOLDOUT = 200  # every 200th paragraph is kept out of the collection: the queries come from those
CHUNK = (20, 40)  # words per text of the collection
QUERY_WORDS = (10, 20)  # words per query (parts exact and ann)
SPAN = (8, 15)  # words cut out of a paragraph as the query (part quality)
TOP = 10
WARM = 5  # queries searched before timing
ANN_M, ANN_EFC = 16, 200
BM25_K1, BM25_B = 1.2, 0.75
DISTRIBUTIONS.update({"faiss": "faiss-cpu", "hnswlib": "hnswlib", "threadpoolctl": "threadpoolctl"})

# ``python -m wordvec.cli ARGS`` that reports its own peak RSS on stderr as it exits
CLI_CHILD = (
    "import atexit, runpy, sys\n"
    "def _peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kb = [line.split()[1] for line in f if line.startswith('VmHWM:')]\n"
    "    sys.stderr.write(f'\\nPEAK_KB {kb[0] if kb else -1}\\n')\n"
    "atexit.register(_peak)\n"
    "runpy.run_module('wordvec.cli', run_name='__main__', alter_sys=True)\n"
)

HNSWLIB_CHILD = """
import time
import numpy as np

def main(path, out, M, ef_construction, threads):
    import hnswlib
    X = np.load(path, mmap_mode="r")
    n, d = X.shape
    index = hnswlib.Index(space="ip", dim=d)
    t0 = time.perf_counter()
    index.init_index(max_elements=n, ef_construction=int(ef_construction), M=int(M), random_seed=1)
    index.set_num_threads(int(threads))
    for s in range(0, n, 1 << 16):  # as wordvec feeds faiss: blocks, zero rows left out
        block = np.ascontiguousarray(X[s:s + (1 << 16)], dtype=np.float32)
        live = np.flatnonzero(np.any(block != 0, axis=1))
        if len(live):
            index.add_items(block[live], live + s)
    index.save_index(out)
    return {"seconds": time.perf_counter() - t0, "elements": index.get_current_count()}
"""


@contextlib.contextmanager
def threads(n):
    """Numba's, the BLAS's (threadpoolctl, if installed) and faiss's OpenMP thread counts set to
    ``n`` for the block, restored after."""
    import numba
    old_numba = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    faiss = _faiss()
    old_omp = faiss.omp_get_max_threads() if faiss else None
    if faiss:
        faiss.omp_set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        numba.set_num_threads(old_numba)
        if faiss:
            faiss.omp_set_num_threads(old_omp)


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def thread_counts(args):
    return sorted({1, args.threads})


def pct(times):
    """(p50, p95) of a list of seconds, in ms."""
    return tuple(float(np.percentile(times, p)) * 1e3 for p in (50, 95))


def latencies(fn, items):
    """Seconds of ``fn(item)`` for each item, after ``WARM`` untimed calls."""
    for it in items[:WARM]:
        fn(it)
    out = []
    for it in items:
        t0 = time.perf_counter()
        fn(it)
        out.append(time.perf_counter() - t0)
    return out


def mb(nbytes):
    return f"{nbytes / 2**20:,.0f}"


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def unit_rows(Q):
    Q = np.array(Q, dtype=np.float32)
    n = np.linalg.norm(Q, axis=1)
    n[n == 0] = 1
    return Q / n[:, None]


# ---- the model ---------------------------------------------------------------------------------
def corpus_name(path):
    base = os.path.basename(path)
    for ext in (".xz", ".gz", ".bz2", ".txt"):
        base = base.removesuffix(ext)
    return base


def train(corpus, out, *extra):
    """``wordvec train CORPUS -o OUT -q EXTRA`` under the lock, unless OUT exists (cached)."""
    if os.path.exists(out):
        return
    print(f"training {shown(out)} ...", file=sys.stderr)
    with bench_lock():  # untimed, but on every core: not during another's timing
        subprocess.run([sys.executable, "-m", "wordvec.cli", "train", corpus, "-o", out, "-q",
                        *extra], check=True, cwd=REPO, stdout=subprocess.DEVNULL)  # (its line names the path)


def big_model(args):
    if args.model:
        return args.model
    out = os.path.join(SCRATCH, f"search-sg300-{corpus_name(args.corpus)}")
    train(plain_corpus(args.corpus), out, "--dim", "300", "--threads", "2", "--seed", "1")
    return out


# ---- the collection and the queries -------------------------------------------------------------
def make_collection(corpus, rows, out):
    """Write ``rows`` texts of 20-40 words cut from the paragraphs of ``corpus`` (the held-out
    ones skipped) to ``out``, one a line, as they are read; cached. Returns ``out``."""
    if os.path.exists(out):
        return out
    rng = random.Random(1)
    lo, hi = CHUNK
    written = passes = 0
    with open(out + ".part", "w", encoding="utf-8") as dst:
        while written < rows:
            before = written
            with open(corpus, encoding="utf-8", errors="replace") as src:
                for i, line in enumerate(src):
                    if i % HOLDOUT == 0:
                        continue
                    words = line.split()
                    if passes:
                        words = words[rng.randint(1, 9):]
                    pos = 0
                    while len(words) - pos >= lo and written < rows:
                        left = len(words) - pos
                        n = left if left <= hi else rng.randint(lo, min(hi, left - lo))
                        dst.write(" ".join(words[pos:pos + n]) + "\n")
                        pos += n
                        written += 1
                    if written >= rows:
                        break
            if written == before:
                raise SystemExit(f"{shown(corpus)}: no paragraph of {lo} words or more")
            passes += 1
    os.replace(out + ".part", out)
    return out


def make_queries(corpus, count):
    """``count`` spans of 10-20 words from the held-out paragraphs (one per paragraph and pass)."""
    held = []
    with open(corpus, encoding="utf-8", errors="replace") as src:
        for i, line in enumerate(src):
            if i % HOLDOUT == 0:
                words = line.split()
                if len(words) >= QUERY_WORDS[0]:
                    held.append(words)
    if not held:
        raise SystemExit(f"{shown(corpus)}: no held-out paragraph to draw queries from")
    rng = random.Random(2)
    out = []
    while len(out) < count:
        for words in held:
            n = rng.randint(QUERY_WORDS[0], min(QUERY_WORDS[1], len(words)))
            s = rng.randint(0, len(words) - n)
            out.append(" ".join(words[s:s + n]))
            if len(out) == count:
                break
    return out


def cli_index(texts, model, out, nthreads, ann):
    """Build an index with the CLI in a child process, under the lock: (wall s, peak RSS MB,
    the command's --json output)."""
    args = ["index", texts, "-m", model, "-o", out, "-q", "--json", "--threads", str(nthreads)]
    if ann:
        args += ["--ann", "--ann-m", str(ANN_M), "--ef-construction", str(ANN_EFC)]
    env = {**os.environ, **{v: str(nthreads) for v in THREAD_VARS}}
    with bench_lock():
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CLI_CHILD, *args], capture_output=True,
                              text=True, env=env, cwd=REPO)
        wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"wordvec index failed:\n{proc.stderr[-3000:]}")
    peak = [int(x.split()[1]) / 1024 for x in proc.stderr.splitlines() if x.startswith("PEAK_KB ")]
    return wall, (peak[-1] if peak else float("nan")), json.loads(proc.stdout.strip().splitlines()[-1])


def part_collection(args, model, work, parts):
    texts = make_collection(plain_corpus(args.corpus), args.rows,
                            os.path.join(SCRATCH, f"search-texts-{corpus_name(args.corpus)}-"
                                                  f"{args.rows}.txt"))
    size = os.path.getsize(texts)
    with open(texts, "rb") as f:
        head = [len(line.split()) for _, line in zip(range(100_000), f)]
    print(f"\n### Collection: {args.rows:,} texts of {CHUNK[0]}-{CHUNK[1]} words "
          f"(mean {np.mean(head):.1f} words over the first {len(head):,}), {mb(size)} MB, cut from "
          f"{shown(args.corpus)} (every {HOLDOUT}th paragraph held out)\n")
    warm = os.path.join(work, "warm.txt")
    with open(texts, "rb") as src, open(warm, "wb") as dst:
        for _, line in zip(range(10_000), src):
            dst.write(line)
    builds = [("exact", False)] + ([("ann", True)] if "ann" in parts else [])
    for name, ann in builds:  # warm-up: page cache, Numba's cached kernels, imports
        cli_index(warm, model, os.path.join(work, f"warm-{name}.idx"), args.threads, ann)
    out, rows = {}, []
    for name, ann in builds:
        folder = os.path.join(work, f"{name}.idx")
        wall, peak, info = cli_index(texts, model, folder, args.threads, ann)
        print(f"  index {name}: {wall:.1f} s, {peak:,.0f} MB", file=sys.stderr)
        out[name] = folder
        out[f"{name}_peak"] = peak
        graph = os.path.join(folder, "ann.bin")
        rows.append([f"wordvec index{' --ann' if ann else ''}", f"{info['rows']:,}", f"{wall:.1f}",
                     f"{info['embed_seconds']:.1f}",
                     f"{info['ann']['build_seconds']:.1f}" if info["ann"] else "-",
                     f"{peak:,.0f}", mb(folder_bytes(folder)),
                     mb(os.path.getsize(os.path.join(folder, "vectors.npy"))),
                     mb(os.path.getsize(os.path.join(folder, "codes.npy"))),
                     mb(os.path.getsize(graph)) if ann else "-", f"{info['empty']:,}"])
    print(f"model {shown(model)}; method sif (index's default); {args.threads} threads (Numba, "
          f"BLAS, OpenMP and --threads); one timed build each, after a warm-up build of 10,000 "
          "texts\n")
    print(table(["command", "texts", "wall s", "embedding s", "HNSW s", "peak RSS MB",
                 "folder MB", "vectors.npy MB", "codes.npy MB", "ann.bin MB", "empty texts"], rows))
    print("\n(embedding s and HNSW s: the command's own figures from index.json; embedding "
          "includes writing texts, vectors and int8 codes)")
    return out


# ---- exact search --------------------------------------------------------------------------------
def numpy_top(X, q, n=TOP):
    s = X @ q
    top = np.argpartition(-s, n - 1)[:n]
    top = top[np.argsort(-s[top], kind="stable")]
    return top, s[top]


def numpy_top_batch(X, Q, n=TOP, block=64):
    rows = np.empty((len(Q), n), dtype=np.int64)
    scores = np.empty((len(Q), n), dtype=np.float32)
    for a in range(0, len(Q), block):
        S = Q[a:a + block] @ X.T
        top = np.argpartition(-S, n - 1, axis=1)[:, :n]
        s = np.take_along_axis(S, top, axis=1)
        order = np.argsort(-s, axis=1, kind="stable")
        rows[a:a + len(S)] = np.take_along_axis(top, order, axis=1)
        scores[a:a + len(S)] = np.take_along_axis(s, order, axis=1)
    return rows, scores


def blas_note():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed: numpy's BLAS runs its default thread count in every row"
    libs = [f"{i.get('internal_api')} {i.get('version')} ({i.get('user_api')})"
            for i in threadpool_info()]
    return "thread pools limited with threadpoolctl: " + ", ".join(libs)


def embed_queries(index, vectors, texts):
    """The queries' unit vectors, as ``wordvec search`` embeds them, and the texts kept (a query
    with no word of the model is dropped)."""
    Q = index.encoder(vectors).transform(texts)
    live = np.flatnonzero(np.any(Q != 0, axis=1))
    return unit_rows(Q[live]), [texts[i] for i in live], len(texts) - len(live)


def part_exact(args, ctx):
    from wordvec.search import Index
    idx = Index.open(ctx["exact"])
    vectors = ctx["vectors"]
    Q, texts, dropped = ctx["Q"], ctx["texts"], ctx["dropped"]
    Qs, ts = Q[:args.queries], texts[:args.queries]
    Qb = Q[:args.batch]
    X = np.array(idx.vectors, dtype=np.float32)  # the same unit float32 rows, in memory
    n, d = X.shape
    print(f"\n### Exact search: top {TOP} of {n:,} texts x {d}\n")
    print(f"queries: spans of {QUERY_WORDS[0]}-{QUERY_WORDS[1]} words of held-out paragraphs"
          + (f" ({dropped} dropped: no word of the model)" if dropped else "")
          + f"; single: {len(Qs):,} queries one at a time after {WARM} warm-up, batched: "
          f"{len(Qb):,} in one call; {blas_note()}\n")
    faiss = _faiss()
    flat = None
    if faiss:
        flat = faiss.IndexFlatIP(d)
        flat.add(X)
    idx.search(vectors, ts[0], TOP)  # the encoder checked and cached once, as in a session
    single = [("wordvec Index.search_vectors", lambda q: idx.search_vectors(q, TOP), Qs),
              ("wordvec Index.search (text in, texts out)", lambda t: idx.search(vectors, t, TOP), ts),
              ("numpy X @ q + argpartition", lambda q: numpy_top(X, q), Qs)]
    if flat is not None:
        single.append(("faiss IndexFlatIP", lambda q: flat.search(q[None], TOP), Qs))
    batched = [("wordvec Index.search_vectors", lambda: idx.search_vectors(Qb, TOP)),
               ("numpy Q @ X.T (64 queries a block) + argpartition", lambda: numpy_top_batch(X, Qb))]
    if flat is not None:
        batched.append(("faiss IndexFlatIP", lambda: flat.search(Qb, TOP)))
    lat, per = {}, {}
    results = {}
    with bench_lock():
        for name, fn, items in single:
            for t in thread_counts(args):
                with threads(t):
                    lat[(name, t)] = pct(latencies(fn, items))
                print(f"  {name} {t}t: p50 {lat[(name, t)][0]:.2f} ms", file=sys.stderr)
        for name, fn in batched:
            for t in thread_counts(args):
                with threads(t):  # (the single queries above warmed the same code)
                    t0 = time.perf_counter()
                    res = fn()
                    per[(name, t)] = (time.perf_counter() - t0) * 1e3 / len(Qb)
                results[name] = res
                print(f"  batched {name} {t}t: {per[(name, t)]:.3f} ms/query", file=sys.stderr)
    rows = [[name, t, f"{lat[(name, t)][0]:.2f}", f"{lat[(name, t)][1]:.2f}"]
            for name, _, _ in single for t in thread_counts(args)]
    print(table(["single query", "threads", "p50 ms", "p95 ms"], rows))
    base = min(per[("wordvec Index.search_vectors", t)] for t in thread_counts(args))
    rows = [[name, t, f"{per[(name, t)]:.3f}", f"{per[(name, t)] / base:.2f}x"]
            for name, _ in batched for t in thread_counts(args)]
    print()
    print(table([f"batched, {len(Qb):,} queries", "threads", "ms per query",
                 "time / wordvec's best"], rows))
    flat = None  # its copy of the rows freed

    # correctness: wordvec's exact top 10 against numpy's float32 brute force
    wv = results["wordvec Index.search_vectors"]
    nrows, nscores = results["numpy Q @ X.T (64 queries a block) + argpartition"]
    same_set = same_order = ties = 0
    worst = 0.0
    for j, (rows_j, scores_j) in enumerate(wv):
        ref = X[rows_j] @ Qb[j]  # numpy's scores of wordvec's rows
        worst = max(worst, float(np.abs(ref - scores_j).max()))
        if set(rows_j.tolist()) == set(nrows[j].tolist()):
            same_set += 1
            same_order += bool(np.array_equal(rows_j, nrows[j]))
        elif ref.min() >= nscores[j, -1] - 1e-6:
            ties += 1
    print(f"\ncorrectness on the {len(Qb):,} batched queries, wordvec (exact) vs numpy float32 "
          f"brute force: same top-{TOP} set {same_set:,}, same order {same_order:,}; sets that "
          f"differ only by rows within 1e-6 of numpy's {TOP}th score: {ties:,}; other "
          f"differences: {len(Qb) - same_set - ties:,}; largest |score difference| for the same "
          f"row: {worst:.2e}")
    return wv, lat, per


# ---- approximate search --------------------------------------------------------------------------
def recall(found, truth):
    """Mean share of each exact top-10 found (``found``: rows per query)."""
    return float(np.mean([len(set(np.asarray(f).tolist()) & set(t.tolist())) / max(1, len(t))
                          for f, t in zip(found, truth)]))


def part_ann(args, ctx, work, exact_lat, exact_per):
    from wordvec.search import Index
    aidx = Index.open(ctx["ann"])
    Q, Qs = ctx["Q"], ctx["Q"][:args.queries]
    Qb = Q[:args.batch]
    n, d = aidx.rows, aidx.dim
    print(f"\n### Approximate search: HNSW, top {TOP} of {n:,} texts x {d}\n")
    same = True
    if "exact" in ctx:
        plain = Index.open(ctx["exact"])
        for s in range(0, n, 1 << 16):
            same &= bool(np.array_equal(plain.vectors[s:s + (1 << 16)], aidx.vectors[s:s + (1 << 16)]))
    if ctx.get("truth") is None:
        ctx["truth"] = aidx.search_vectors(Qb, TOP)
    truth = [r for r, _ in ctx["truth"]]
    info = aidx.header["ann"]
    warn = "" if same else " (WARNING: the --ann index's vectors differ from the exact index's)"
    print(f"wordvec: faiss IndexHNSWFlat (inner product), M {info['M']}, ef_construction "
          f"{info['ef_construction']}, default ef {info['ef']}; recall@{TOP} on the {len(Qb):,} "
          f"batched queries against the exact top {TOP}{warn}; single queries: {len(Qs):,}\n")
    tc = thread_counts(args)
    rows = []
    exact = "wordvec Index.search_vectors"
    if exact_lat:
        rows.append(["wordvec exact", "-", "1.000"]
                    + [f"{exact_lat[(exact, t)][i]:.3f}" for t in tc for i in (0, 1)]
                    + [f"{exact_per[(exact, args.threads)]:.3f}"])
    aidx.search_vectors(Qs[:1], TOP, ann=True)  # loads (and checks) the graph
    with bench_lock():
        for ef in args.ef:
            with threads(args.threads):
                aidx.search_vectors(Qb[:WARM], TOP, ann=True, ef=ef)
                t0 = time.perf_counter()
                found = aidx.search_vectors(Qb, TOP, ann=True, ef=ef)
                batch_ms = (time.perf_counter() - t0) * 1e3 / len(Qb)
            r = recall([f for f, _ in found], truth)
            row = ["wordvec --ann (faiss)", ef, f"{r:.3f}"]
            for t in tc:
                with threads(t):
                    p = pct(latencies(lambda q, ef=ef: aidx.search_vectors(q, TOP, ann=True, ef=ef),
                                      Qs))
                row += [f"{p[0]:.3f}", f"{p[1]:.3f}"]
            rows.append(row + [f"{batch_ms:.3f}"])
            print(f"  wordvec ann ef {ef}: recall {r:.3f}, p50 {row[3]} ms", file=sys.stderr)

    builds = [["wordvec index --ann (faiss IndexHNSWFlat)", f"{info['build_seconds']:.1f}",
               f"{ctx['ann_peak']:,.0f} (whole command)",
               mb(os.path.getsize(os.path.join(ctx["ann"], "ann.bin")))]]
    if importlib.util.find_spec("hnswlib") is None:
        hnsw_note = "hnswlib: not installed"
    else:
        import hnswlib
        path = os.path.join(work, "hnswlib.bin")
        vec = os.path.join(ctx["ann"], "vectors.npy")
        with bench_lock():
            out = run_json(HNSWLIB_CHILD, vec, path, ANN_M, ANN_EFC, args.threads,
                           env={v: str(args.threads) for v in THREAD_VARS})
        builds.append(["hnswlib (child process)", f"{out['seconds']:.1f}",
                       f"{out['peak_rss_mb']:,.0f}", mb(os.path.getsize(path))])
        h = hnswlib.Index(space="ip", dim=d)
        h.load_index(path)
        with bench_lock():
            for ef in args.ef:
                h.set_ef(max(ef, TOP))
                h.set_num_threads(args.threads)
                h.knn_query(Qb[:WARM], k=TOP)
                t0 = time.perf_counter()
                labels, _ = h.knn_query(Qb, k=TOP)
                batch_ms = (time.perf_counter() - t0) * 1e3 / len(Qb)
                r = recall(labels.astype(np.int64), truth)
                row = ["hnswlib", ef, f"{r:.3f}"]
                for t in tc:
                    h.set_num_threads(t)
                    p = pct(latencies(lambda q: h.knn_query(q[None], k=TOP), Qs))
                    row += [f"{p[0]:.3f}", f"{p[1]:.3f}"]
                rows.append(row + [f"{batch_ms:.3f}"])
                print(f"  hnswlib ef {ef}: recall {r:.3f}, p50 {row[3]} ms", file=sys.stderr)
        del h
        hnsw_note = (f"hnswlib: space ip, M {ANN_M}, ef_construction {ANN_EFC}, "
                     f"{out['elements']:,} rows, {args.threads} threads")
    print(table(["graph build", "build s (graph + save)", "peak RSS MB", "file MB"], builds))
    print(f"\n{hnsw_note}\n")
    heads = ["search", "ef", f"recall@{TOP}"]
    for t in tc:
        heads += [f"p50 ms {t}t", f"p95 ms {t}t"]
    heads.append(f"batch ms/query {args.threads}t")
    print(table(heads, rows))


# ---- retrieval quality ----------------------------------------------------------------------------
QUALITY_METHODS = [("mean", {"method": "mean"}),
                   ("mean --unit", {"method": "mean", "unit": True}),
                   ("sif a=1e-3", {"method": "sif", "sif_a": 1e-3}),
                   ("sif a=1e-4", {"method": "sif", "sif_a": 1e-4})]
BASELINES = ["tf-idf cosine", "BM25"]


def read_paragraphs(path, min_words, lines=None):
    opener = lzma.open if path.endswith(".xz") else open
    out = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if lines is not None and i >= lines:
                break
            if len(line.split()) >= min_words:
                out.append(" ".join(line.split()))
    return out


def span_task(paragraphs, count, seed):
    """(collection, queries, truth): ``count`` paragraphs drawn, a span of 8-15 words cut out of
    each as its query, the paragraph indexed without it."""
    rng = random.Random(seed)
    picks = rng.sample(range(len(paragraphs)), min(count, len(paragraphs)))
    docs = list(paragraphs)
    queries = []
    for i in picks:
        words = docs[i].split()
        n = rng.randint(*SPAN)
        s = rng.randint(0, len(words) - n)
        queries.append(" ".join(words[s:s + n]))
        docs[i] = " ".join(words[:s] + words[s + n:])
    return docs, queries, np.array(picks, dtype=np.int64)


def counts_matrix(texts, vocab, grow):
    import scipy.sparse as sp
    indptr, indices, data = [0], [], []
    for text in texts:
        for w, c in Counter(text.split()).items():
            j = vocab.get(w)
            if j is None:
                if not grow:
                    continue
                j = vocab[w] = len(vocab)
            indices.append(j)
            data.append(c)
        indptr.append(len(indices))
    return sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                          np.array(indptr, dtype=np.int64)), shape=(len(texts), len(vocab)))


def l2_rows(M):
    import scipy.sparse as sp
    norms = np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sp.diags(1 / norms) @ M


def baseline_scores(docs, queries):
    """{name: function(query rows a:b) -> dense scores (queries x docs)} for tf-idf and BM25."""
    import scipy.sparse as sp
    vocab = {}
    C = counts_matrix(docs, vocab, grow=True)
    Cq = counts_matrix(queries, vocab, grow=False)
    N = C.shape[0]
    df = np.bincount(C.indices, minlength=C.shape[1]).astype(np.float64)
    idf = np.log((1 + N) / (1 + df)) + 1
    D = l2_rows(C @ sp.diags(idf)).T.tocsr()
    Qt = l2_rows(Cq @ sp.diags(idf)).tocsr()
    bidf = np.log(1 + (N - df + 0.5) / (df + 0.5))
    dl = np.asarray(C.sum(axis=1)).ravel()
    W = C.tocoo()
    tf = W.data
    norm = BM25_K1 * (1 - BM25_B + BM25_B * dl[W.row] / dl.mean())
    B = sp.csr_matrix((bidf[W.col] * tf * (BM25_K1 + 1) / (tf + norm), (W.row, W.col)),
                      shape=C.shape).T.tocsr()
    return {"tf-idf cosine": lambda a, b: (Qt[a:b] @ D).toarray(),
            "BM25": lambda a, b: (Cq[a:b] @ B).toarray()}


def ranks_from_scores(S, truth):
    """Rank of each true row (1 = best) in the dense scores, ties counted against it."""
    t = S[np.arange(len(S)), truth]
    return (S > t[:, None]).sum(axis=1) + (S == t[:, None]).sum(axis=1)


def scores_of(ranks):
    ranks = np.asarray(ranks)
    hit = ranks <= TOP
    return float(hit.mean()), float(np.where(hit, 1.0 / ranks, 0.0).mean())


def quality_run(vectors, docs, queries, truth, work, tag):
    """{method: (recall@10, MRR@10)} and how many queries had no word of the model."""
    from wordvec.search import build_index
    path = os.path.join(work, f"{tag}.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(d + "\n" for d in docs)
    out, no_word = {}, 0
    for name, kw in QUALITY_METHODS:
        folder = os.path.join(work, f"{tag}-{name.replace(' ', '_')}.idx")
        idx, encoder = build_index(vectors, path, folder, **kw)
        Q = encoder.transform(queries)
        no_word = len(encoder.empty)
        found = idx.search_vectors(Q, TOP)
        ranks = []
        for (rows, _), t in zip(found, truth):
            hit = np.flatnonzero(rows == t)
            ranks.append(int(hit[0]) + 1 if len(hit) else TOP + 1)
        out[name] = scores_of(ranks)
        shutil.rmtree(folder)
    os.remove(path)
    fns = baseline_scores(docs, queries)
    for name in BASELINES:
        ranks = np.concatenate([ranks_from_scores(fns[name](a, a + 100), truth[a:a + 100])
                                for a in range(0, len(queries), 100)])
        out[name] = scores_of(ranks)
    return out, no_word


def part_quality(args, big, work):
    import wordvec
    print("\n### Retrieval quality: find the paragraph a held-out span came from\n")
    print(f"paragraphs of >= {args.min_words} words; per seed {args.quality_queries:,} drawn, a "
          f"span of {SPAN[0]}-{SPAN[1]} words cut out of each (the query), the paragraph indexed "
          f"without it; recall@{TOP} and MRR@{TOP} as mean [min, max] over seeds "
          f"1..{args.seeds}; wordvec: exact search")
    sets = [("a", f"bundled corpus ({shown(BUNDLED)}), model per seed: wordvec train on it "
                  "(sg, 100 dims) --threads 2 --seed SEED",
             read_paragraphs(BUNDLED, args.min_words), None),
            ("b", f"first {args.quality_lines:,} lines of {shown(args.corpus)}, model {shown(big)}",
             read_paragraphs(plain_corpus(args.corpus), args.min_words, args.quality_lines), big)]
    big_vectors = None
    for key, what, paragraphs, model in sets:
        results, no_words = {}, []
        for seed in range(1, args.seeds + 1):
            if model is None:
                path = os.path.join(SCRATCH, f"search-gutenberg-sg-seed{seed}")
                train(BUNDLED, path, "--threads", "2", "--seed", str(seed))
                vectors = wordvec.load(path)
            else:
                if big_vectors is None:
                    big_vectors = wordvec.load(model)
                vectors = big_vectors
            docs, queries, truth = span_task(paragraphs, args.quality_queries, seed)
            out, no_word = quality_run(vectors, docs, queries, truth, work, f"quality-{key}-s{seed}")
            no_words.append(no_word)
            for name, v in out.items():
                results.setdefault(name, []).append(v)
            print(f"  quality ({key}) seed {seed}: " + ", ".join(f"{k} {v[0]:.3f}"
                                                                 for k, v in out.items()),
                  file=sys.stderr)
        print(f"\n({key}) {what}: {len(paragraphs):,} paragraphs, "
              f"{min(args.quality_queries, len(paragraphs)):,} queries a seed"
              + (f"; queries with no word of the model (never found by wordvec): "
                 f"{max(no_words)} at most" if any(no_words) else "") + "\n")
        rows = [[name, spread([r for r, _ in v], digits=3), spread([m for _, m in v], digits=3)]
                for name, v in results.items()]
        print(table(["method", f"recall@{TOP}", f"MRR@{TOP}"], rows))
        mean = {name: (np.mean([r for r, _ in v]), np.mean([m for _, m in v]))
                for name, v in results.items()}
        best = [", ".join(k for k in mean if mean[k][i] >= max(v[i] for v in mean.values()) - 1e-12)
                for i in (0, 1)]  # every method tied at the top
        top = [max(v[i] for v in mean.values()) for i in (0, 1)]
        best_wv = max((k for k in mean if k not in BASELINES), key=lambda k: mean[k][1])
        best_base = max(BASELINES, key=lambda k: mean[k][1])
        print(f"\nbest recall@{TOP}: {best[0]} ({top[0]:.3f}); best MRR@{TOP}: {best[1]} "
              f"({top[1]:.3f}); best wordvec method {best_wv} vs best baseline "
              f"{best_base}: MRR {mean[best_wv][1]:.3f} vs {mean[best_base][1]:.3f}, recall "
              f"{mean[best_wv][0]:.3f} vs {mean[best_base][0]:.3f}")


# ---- main -------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="an existing wordvec model (default: train a 300-dim skip-gram "
                                    "on --corpus, cached in the temp folder)")
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--parts", default="exact,ann,quality",
                    help="comma-separated: exact, ann, quality (default: all)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="texts in the collection")
    ap.add_argument("--queries", type=int, default=200, help="single queries timed")
    ap.add_argument("--batch", type=int, default=1000, help="queries of the batched search, "
                                                            "the correctness check and recall")
    ap.add_argument("--ef", default="40,80,160,320", help="comma-separated HNSW ef values")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=5, help="quality part: seeds 1..N")
    ap.add_argument("--quality-queries", type=int, default=2000)
    ap.add_argument("--min-words", type=int, default=40, help="quality part: shortest paragraph")
    ap.add_argument("--quality-lines", type=int, default=100_000,
                    help="quality part (b): the first lines of --corpus")
    ap.add_argument("--keep", action="store_true", help="keep the index folders (scratch)")
    args = ap.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    bad = set(parts) - {"exact", "ann", "quality"}
    if bad or not parts:
        ap.error(f"--parts: choose among exact, ann, quality (got {args.parts!r})")
    args.ef = [int(x) for x in args.ef.split(",") if x.strip()]
    if min(args.rows, args.queries, args.batch, args.threads, args.seeds) < 1:
        ap.error("--rows, --queries, --batch, --threads and --seeds must be at least 1")
    if args.min_words < SPAN[1] + 10:
        ap.error(f"--min-words must be at least {SPAN[1] + 10}")
    if args.rows <= TOP:
        ap.error(f"--rows must be more than {TOP}")
    os.makedirs(SCRATCH, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wordvec-bench-search-")
    model = big_model(args)
    tools = ["faiss", "threadpoolctl"] + (["hnswlib"] if "ann" in parts else [])
    print(run_record(tools, corpus=plain_corpus(args.corpus)))
    print(f"model: {shown(model)}" + ("" if args.model else " (wordvec train --dim 300 "
                                                             "--threads 2 --seed 1, cached)"))
    try:
        ctx = {}
        if "exact" in parts or "ann" in parts:
            folders = part_collection(args, model, work, parts)
            ctx.update(folders)
            import wordvec
            from wordvec.search import Index
            ctx["vectors"] = wordvec.load(model)
            first = Index.open(folders.get("exact") or folders["ann"])
            texts = make_queries(plain_corpus(args.corpus), max(args.queries, args.batch) + 50)
            Q, kept, dropped = embed_queries(first, ctx["vectors"], texts)
            need = max(args.queries, args.batch)
            ctx.update(Q=Q[:need], texts=kept[:need], dropped=dropped)
            if len(Q) < need:
                raise SystemExit(f"only {len(Q)} queries with a known word; {need} needed")
        exact_lat = exact_per = None
        if "exact" in parts:
            ctx["truth"], exact_lat, exact_per = part_exact(args, ctx)
        if "ann" in parts:
            part_ann(args, ctx, work, exact_lat, exact_per)
        if "quality" in parts:
            part_quality(args, model, work)
    finally:
        if args.keep:
            print(f"\n(scratch files in {shown(work)})")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
