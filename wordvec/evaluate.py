"""Intrinsic evaluation: word analogies (Google format) and word similarity (Spearman rho).

Analogy, as gensim's ``evaluate_word_analogies(restrict_vocab=30000, case_insensitive=True)`` and
word2vec's ``compute-accuracy``: a question line ``a b c d`` means a : b :: c : d, answered by the
nearest word to ``b - a + c`` (``vectors.analogy(b, a, c)`` in wordvec's ``x - y + z`` order).
Only the first ``restrict`` rows count as vocabulary (rows are in frequency order); with
``lowercase`` a word stands for the first (most frequent) row with its lowercase form, and every
row whose lowercase form is a question word is excluded from the answers. Questions with a word
outside that vocabulary are skipped and counted. Sections named ``gram*`` are syntactic, the others
semantic. Vectors that build vectors for unseen words (fastText) are still restricted to their
vocabulary here, as in gensim, so the figures stay comparable.

Similarity: Spearman's rho between cosine similarity and the human scores of ``w1 w2 score``
lines. Policy for unknown words: a pair with a word that has no vector is skipped (gensim's
default, ``dummy4unknown=False``) and coverage is reported; fastText-style vectors give vectors
for unseen words, so their pairs are all scored.
"""

import re

import numpy as np

from .errors import WordvecError
from .resources import eval_data
from .vectors import cos_mul

ANALOGY_DATASETS = ("questions-words",)
SIMILARITY_DATASETS = ("EN-WS-353-ALL", "EN-WS-353-SIM", "EN-WS-353-REL", "EN-SIMLEX-999",
                       "EN-MEN-TR-3k")
DATASETS = ANALOGY_DATASETS + SIMILARITY_DATASETS
_BATCH_CELLS = 1 << 24  # scores per batch: questions x vocabulary


def dataset_path(name):
    """Path of a bundled dataset by name (file stem, e.g. ``EN-SIMLEX-999``)."""
    if name not in DATASETS:
        raise WordvecError(f"unknown dataset {name!r}: use one of {', '.join(DATASETS)}")
    return eval_data(name)


_WS = " \t\n\r\v\f"  # ASCII whitespace separates fields; a word may hold any other character


def _read_lines(path):
    """The lines of a UTF-8 text file (split at line feeds only), stripped of ASCII whitespace;
    binary content (NUL bytes) and invalid UTF-8 are refused naming the line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        nul = data.find(b"\x00")
        if nul >= 0:
            lineno = data.count(b"\n", 0, nul) + 1
            raise WordvecError(f"{path}: line {lineno}: a NUL byte: a "
                               "binary file, not a text dataset")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            lineno = data.count(b"\n", 0, e.start) + 1
            raise WordvecError(f"{path}: line {lineno}: not UTF-8 "
                               "text (a binary or differently encoded file?)") from None
        return [line.strip(_WS) for line in text.lstrip("\ufeff").split("\n")]
    except FileNotFoundError:
        raise WordvecError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WordvecError(f"{path}: a folder, not a dataset file") from None
    except OSError as e:
        raise WordvecError(f"{path}: cannot read: {e.strerror or e}") from None


def _split(line, sep=None):
    """Fields of ``line`` split at ASCII whitespace (``sep`` given: at ``sep``), stripped."""
    if sep is not None:
        return [p.strip(_WS) for p in line.split(sep)]
    return [p for p in re.split("[ \t\n\r\v\f]+", line) if p]


# ---- analogy ------------------------------------------------------------------------------
def read_analogies(path):
    """``[(section, [(a, b, c, d), ...]), ...]`` from a Google-format file (case kept)."""
    lines = _read_lines(path)
    sections = []
    for lineno, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(_WS), []))
            continue
        words = _split(line)
        if len(words) != 4:
            raise WordvecError(f"{path}: line {lineno}: expected 4 words 'a b c d', "
                               f"got {len(words)}")
        if not sections:
            raise WordvecError(f"{path}: line {lineno}: a question before any ': section' line")
        sections[-1][1].append(tuple(words))
    if not any(qs for _, qs in sections):
        raise WordvecError(f"{path}: no analogy questions in the file")
    return sections


def _restricted_vocab(vectors, restrict, lowercase):
    """(lookup: word -> row, group: int64[R] canonical row of each row, R)."""
    n = len(vectors)
    r = n if not restrict or restrict <= 0 else min(int(restrict), n)
    lookup = {}
    group = np.empty(r, dtype=np.int64)
    words = vectors.words
    for i in range(r):
        key = words[i].lower() if lowercase else words[i]
        group[i] = lookup.setdefault(key, i)
    return lookup, group, r


def evaluate_analogy(vectors, path, restrict=30000, method="add", lowercase=True):
    """Accuracy on a Google-format analogy file; see the module text for the rules.

    Returns ``{"accuracy", "semantic", "syntactic", "sections": {name: acc}, "section_counts":
    {name: {"correct", "questions", "total"}}, "questions": n_scored, "total": n_in_file,
    "skipped": n_oov, "correct": n, "restrict": R, "method": method}``; accuracies are fractions
    in [0, 1], ``None`` where no question was scored.
    """
    if method not in ("add", "mul"):
        raise WordvecError(f"unknown analogy method {method!r}: use 'add' or 'mul'")
    sections = read_analogies(path)
    lookup, group, r = _restricted_vocab(vectors, restrict, lowercase)
    norm = str.lower if lowercase else str
    names, rows, sec_of = [], [], []
    totals = []
    for s, (name, questions) in enumerate(sections):
        names.append(name)
        totals.append(len(questions))
        for q in questions:
            ids = [lookup.get(norm(w)) for w in q]
            if None not in ids:
                rows.append(ids)
                sec_of.append(s)
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    sec_of = np.asarray(sec_of, dtype=np.int64)
    correct = _score(vectors.unit[:r], group, rows, method)
    n_sec = len(names)
    sec_correct = np.bincount(sec_of, weights=correct, minlength=n_sec).astype(np.int64)
    sec_scored = np.bincount(sec_of, minlength=n_sec).astype(np.int64)

    def acc(c, q):
        return float(c) / float(q) if q else None

    syntactic = np.array([nm.lower().startswith("gram") for nm in names], dtype=bool)
    total = int(sum(totals))
    return {
        "accuracy": acc(sec_correct.sum(), sec_scored.sum()),
        "semantic": acc(sec_correct[~syntactic].sum(), sec_scored[~syntactic].sum()),
        "syntactic": acc(sec_correct[syntactic].sum(), sec_scored[syntactic].sum()),
        "sections": {nm: acc(sec_correct[i], sec_scored[i]) for i, nm in enumerate(names)},
        "section_counts": {nm: {"correct": int(sec_correct[i]), "questions": int(sec_scored[i]),
                                "total": totals[i]} for i, nm in enumerate(names)},
        "questions": int(len(rows)),
        "total": total,
        "skipped": total - int(len(rows)),
        "correct": int(sec_correct.sum()),
        "restrict": r,
        "method": method,
    }


def _score(unit, group, rows, method):
    """bool[Q]: is the best answer (question words' rows excluded) in the answer's group?"""
    q = len(rows)
    out = np.zeros(q, dtype=bool)
    if q == 0:
        return out
    r = unit.shape[0]
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    ga, gb, gc, gd = (group[rows[:, j]] for j in range(4))
    batch = max(1, _BATCH_CELLS // (r * (3 if method == "mul" else 1)))
    for s in range(0, q, batch):
        e = min(q, s + batch)
        n = e - s
        a, b, c = (unit[rows[s:e, j]] for j in range(3))  # rows are canonical (first) rows
        if method == "add":
            scores = (b - a + c) @ unit.T
        else:
            sims = np.concatenate([a, b, c]) @ unit.T
            scores = cos_mul(sims[n:2 * n], sims[:n], sims[2 * n:])
        lines = np.arange(n)
        qa, qb, qc = ga[s:e], gb[s:e], gc[s:e]
        for g in (qa, qb, qc):
            scores[lines, g] = -np.inf
        best = np.argmax(scores, axis=1)
        # another case variant of a question word (e.g. "Paris" for "paris") is excluded too
        gbest = group[best]
        bad = np.flatnonzero((gbest == qa) | (gbest == qb) | (gbest == qc))
        while len(bad):
            scores[bad, best[bad]] = -np.inf
            best[bad] = np.argmax(scores[bad], axis=1)
            gbest[bad] = group[best[bad]]
            still = (gbest[bad] == qa[bad]) | (gbest[bad] == qb[bad]) | (gbest[bad] == qc[bad])
            still &= np.isfinite(scores[bad, best[bad]])
            bad = bad[still]
        found = np.isfinite(scores[lines, best])
        out[s:e] = found & (gbest == gd[s:e])
    return out


# ---- similarity -----------------------------------------------------------------------------
def read_pairs(path):
    """``[(w1, w2, score), ...]`` from tab- or space-separated lines (blank and # lines skipped)."""
    lines = _read_lines(path)
    pairs = []
    for lineno, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        parts = _split(line, "\t") if "\t" in line else _split(line)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise WordvecError(f"{path}: line {lineno}: expected 'word1 word2 score', "
                               f"got {len(parts)} fields")
        try:
            score = float(parts[2])
        except ValueError:
            raise WordvecError(f"{path}: line {lineno}: score {parts[2][:20]!r} is not a number"
                               ) from None
        if not np.isfinite(score):
            raise WordvecError(f"{path}: line {lineno}: score {parts[2]!r} is not finite")
        pairs.append((parts[0], parts[1], score))
    if not pairs:
        raise WordvecError(f"{path}: no word pairs in the file")
    return pairs


def evaluate_similarity(vectors, path, lowercase=True):
    """Spearman rho of cosine similarities against a word-pair file's scores.

    Returns ``{"spearman": rho or None, "pairs": n_scored, "total": n_in_file, "oov": n_skipped}``.
    """
    from scipy.stats import spearmanr

    pairs = read_pairs(path)
    if lowercase:
        lookup = {}
        for i, w in enumerate(vectors.words):
            lookup.setdefault(w.lower(), i)
    else:
        lookup = vectors.index
    norm = str.lower if lowercase else str
    oov_cache = {}

    def vector(word):
        key = norm(word)
        i = lookup.get(key)
        if i is not None:
            return i
        if key not in oov_cache:  # e.g. fastText: a vector built from character n-grams
            oov_cache[key] = vectors.unit_vector(key) if vectors.has_vector(key) else None
        return oov_cache[key]

    gold, left, right = [], [], []
    for w1, w2, score in pairs:
        v1, v2 = vector(w1), vector(w2)
        if v1 is None or v2 is None:
            continue
        gold.append(score)
        left.append(v1)
        right.append(v2)
    unit = vectors.unit

    def stack(items):
        if not items:
            return np.zeros((0, vectors.dim), dtype=np.float32)
        return np.stack([unit[x] if isinstance(x, int) else x for x in items])

    model = np.einsum("ij,ij->i", stack(left), stack(right))
    rho = None
    if len(gold) >= 2 and np.ptp(gold) > 0 and np.ptp(model) > 0:
        rho = float(spearmanr(gold, model)[0])
    return {"spearman": rho, "pairs": len(gold), "total": len(pairs),
            "oov": len(pairs) - len(gold)}


# ---- benchmark --------------------------------------------------------------------------------
def benchmark(vectors, restrict=30000, method="add", lowercase=True):
    """All bundled datasets: ``{"analogy": {name: ...}, "similarity": {name: ...}}``."""
    return {
        "analogy": {name: evaluate_analogy(vectors, dataset_path(name), restrict=restrict,
                                           method=method, lowercase=lowercase)
                    for name in ANALOGY_DATASETS},
        "similarity": {name: evaluate_similarity(vectors, dataset_path(name), lowercase=lowercase)
                       for name in SIMILARITY_DATASETS},
    }


def format_table(results, sections=False):
    """One readable table (dataset, metric, score, coverage) of ``benchmark``-shaped results."""
    rows = [("dataset", "metric", "score", "coverage")]

    def pct(x):
        return "-" if x is None else f"{100 * x:.2f}%"

    def cov(n, total):
        return f"{n}/{total} ({100 * n / total:.1f}%)" if total else "0/0"

    for name, r in (results.get("analogy") or {}).items():
        method = "3CosMul" if r.get("method") == "mul" else "3CosAdd"
        rows.append((name, f"accuracy ({method})", pct(r["accuracy"]),
                     cov(r["questions"], r["total"])))
        counts = r.get("section_counts", {})
        sem = [c for s, c in counts.items() if not s.lower().startswith("gram")]
        syn = [c for s, c in counts.items() if s.lower().startswith("gram")]
        for label, group in (("semantic", sem), ("syntactic", syn)):
            if r.get(label) is not None or group:
                rows.append(("", label, pct(r.get(label)),
                             cov(sum(c["questions"] for c in group),
                                 sum(c["total"] for c in group)) if group else ""))
        if sections:
            for s, acc in r.get("sections", {}).items():
                c = counts.get(s)
                rows.append(("", f"  {s}", pct(acc), cov(c["questions"], c["total"]) if c else ""))
    for name, r in (results.get("similarity") or {}).items():
        rho = "-" if r["spearman"] is None else f"{r['spearman']:.4f}"
        rows.append((name, "spearman", rho, cov(r["pairs"], r["total"])))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for j, row in enumerate(rows):
        lines.append("  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]),
                                row[2].rjust(widths[2]), row[3].ljust(widths[3])]).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
