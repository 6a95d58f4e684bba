"""Declared parameters: one declaration per family, from which everything else is derived.

Each family (word2vec, fastText, GloVe, LSA) declares its parameters once, as a :class:`Schema`
of :class:`Param`: name, type, default, valid range or choices, help text. From that one
declaration come

- validation of Python keyword arguments (:meth:`Schema.resolve`: one :class:`WordvecError` line
  naming the parameter, the valid range and the value given),
- the ``wordvec train`` options (:mod:`wordvec.cli` builds its click options from
  :data:`SCHEMAS`: flag names, click types and ranges, help text with each family's default),
- the ``params`` recorded in ``model.json`` (the resolved dict, in declaration order) and what
  ``wordvec info`` shows (in declaration order, changed values marked),

so that they cannot drift apart. The design follows fastText's ``Args`` (one place for
defaults, parsing, help, save/load) and scikit-learn's declared parameter constraints.

A default may depend on other parameters (word2vec's ``alpha`` is 0.025 for skip-gram and 0.05
for CBOW): it is then a function of the partly resolved dict, and ``default_text`` says it in
words. ``None`` is a valid value only where ``none_ok`` says so (e.g. ``threads``: all cores).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from .errors import WordvecError

MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Param:
    """One parameter: its type (``int``, ``float``, ``bool``, ``str`` with ``choices``, or
    ``path``), default, valid range and help text."""

    name: str
    type: str  # "int" | "float" | "bool" | "choice" | "path"
    default: Any
    help: str
    lo: float | None = None  # inclusive lower bound
    hi: float | None = None  # inclusive upper bound
    lo_open: bool = False  # lower bound exclusive (x > lo)
    choices: tuple = ()
    none_ok: bool = False  # None is a valid value (meaning given in ``default_text``)
    default_text: str | None = None  # for derived or None defaults
    archs: tuple = ()  # only for these architectures (word2vec/fastText ``arch``); () = all
    flag: str | None = None  # the CLI flag if not ``--name`` (e.g. ``--memory``)
    off_flag: str | None = None  # a boolean's "off" flag if not ``--no-name``
    aliases: tuple = ()  # older names still accepted (Python keywords and model.json)
    cli: bool = True  # offered as a ``wordvec train`` option

    # ---- checking -----------------------------------------------------------------------
    def check(self, value):
        """``value`` converted to this parameter's type; a one-line error if it is invalid."""
        if value is None:
            if self.none_ok:
                return None
            raise WordvecError(f"{self.name} must be {self.describe()}, not None")
        if self.type == "bool":
            if isinstance(value, bool) or (isinstance(value, Integral) and value in (0, 1)):
                return bool(value)
            raise WordvecError(f"{self.name} must be True or False, not {_short(value)}")
        if self.type == "choice":
            if value in self.choices:
                return value
            raise WordvecError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, "
                               f"not {_short(value)}")
        if self.type == "path":
            if isinstance(value, (str, os.PathLike)) or isinstance(value, tuple):
                return value  # a tuple: an in-memory (matrix, vocabulary) pair from Python
            raise WordvecError(f"{self.name} must be a path, not {_short(value)}")
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise WordvecError(f"{self.name} must be {self.describe()}, not {_short(value)}")
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise WordvecError(f"{self.name} must be {self.describe()}, not {_short(value)}")
            value = float(value)
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            raise WordvecError(f"{self.name} must be {self.describe()}, not {_short(value)}")
        if self.hi is not None and value > self.hi:
            raise WordvecError(f"{self.name} must be {self.describe()}, not {_short(value)}")
        return value

    def describe(self):
        """The valid values in words: "an integer >= 1", "a number > 0 and <= 1", ..."""
        if self.type == "bool":
            return "True or False"
        if self.type == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.type == "path":
            return "a path"
        what = "an integer" if self.type == "int" else "a number"
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {_num(self.lo)}")
        if self.hi is not None:
            parts.append(f"<= {_num(self.hi)}")
        return what + (" " + " and ".join(parts) if parts else "")

    @property
    def cli_flag(self):
        return self.flag or "--" + self.name.replace("_", "-")

    def default_for(self, resolved):
        return self.default(resolved) if callable(self.default) else self.default

    def shown_default(self):
        if self.default_text is not None:
            return self.default_text
        d = self.default
        if isinstance(d, bool):
            return "on" if d else "off"
        if isinstance(d, int):
            return f"{d:,}".replace(",", "") if d < 100_000 else f"{d:,}"
        return str(d)


def _num(x):
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def _short(value, width=40):
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


@dataclass
class Schema:
    """A family's parameters, in declaration order, and its cross-parameter checks."""

    family: str
    params: list
    checks: list = field(default_factory=list)  # functions(resolved dict) that raise
    title: str = ""  # the family as people write it (fastText, GloVe)
    by_name: dict = field(init=False)

    def __post_init__(self):
        self.by_name = {p.name: p for p in self.params}
        self.aliases = {a: p.name for p in self.params for a in p.aliases}

    def __contains__(self, name):
        return name in self.by_name

    def __iter__(self):
        return iter(self.params)

    def names(self):
        return [p.name for p in self.params]

    def canonical(self, given):
        """``given`` with old names (aliases) replaced by the current ones."""
        out = {}
        for k, v in given.items():
            name = self.aliases.get(k, k)
            if name in out and k != name:
                raise WordvecError(f"{k} is an old name of {name}: give one of them")
            out[name] = v
        return out

    def resolve(self, given: dict | None = None, *, partial=False) -> dict:
        """Every parameter of the family, checked: ``given`` values, defaults for the rest.

        Unknown names are refused (one line naming them and the family). A derived default is
        computed after the values it depends on. ``partial`` skips the cross checks.
        """
        given = self.canonical(dict(given or {}))
        unknown = [k for k in given if k not in self.by_name]
        if unknown:
            raise WordvecError(f"unknown {self.title or self.family} parameter(s): {', '.join(sorted(unknown))}"
                               f" (known: {', '.join(self.names())})")
        out = {}
        derived = []
        for p in self.params:
            if p.name in given and not (given[p.name] is None and not p.none_ok
                                        and callable(p.default)):
                out[p.name] = p.check(given[p.name])
            elif callable(p.default):
                derived.append(p)
                out[p.name] = None
            else:
                out[p.name] = p.check(p.default) if p.default is not None else None
        for p in derived:
            out[p.name] = p.check(p.default_for(out))
        if not partial:
            for check in self.checks:
                check(out)
        return out

    def changed(self, resolved):
        """Names whose value differs from the default (for ``wordvec info``); a derived
        default is taken from the other values (CBOW's min_alpha from its alpha)."""
        base = self.resolve({k: resolved[k] for k in ("arch", "matrix")
                             if k in self.by_name and k in resolved}, partial=True)
        return {k for k, v in resolved.items() if k in base
                and v != (self.by_name[k].default_for(resolved)
                          if callable(self.by_name[k].default) else base[k])}


# ---- shared declarations --------------------------------------------------------------------
def corpus_params(min_count=5):
    return [
        Param("min_count", "int", min_count, "Ignore words rarer than this.", lo=1),
        Param("max_vocab", "int", None, "Keep at most this many of the most frequent words.",
              lo=1, none_ok=True, default_text="no limit"),
        Param("lowercase", "bool", False, "Lowercase the text before counting."),
    ]


def run_params():
    return [
        Param("threads", "int", None, "Worker threads.", lo=1, none_ok=True,
              default_text="all cores"),
        Param("seed", "int", 1, "Random seed; with --threads 1 runs are bit-identical.",
              lo=0, hi=MAX_SEED),
    ]


def resolve_threads(threads):
    """The one thread-count rule: ``None`` means every core this process may use."""
    if threads is not None:
        return int(threads)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _alpha_at_most(p):
    if p["min_alpha"] > p["alpha"]:
        raise WordvecError(f"min_alpha must be between 0 and alpha ({p['alpha']}), "
                           f"not {p['min_alpha']!r}")


def _ns_needs_negatives(p):
    if p["loss"] == "ns" and p["negative"] == 0:
        raise WordvecError("negative sampling needs negative >= 1 (or use loss 'hs')")


def _sgd_params(*, sample, alpha, alpha_text, min_alpha, min_alpha_text=None):
    return [
        Param("loss", "choice", "ns", "Negative sampling or hierarchical softmax.",
              choices=("ns", "hs")),
        Param("dim", "int", 100, "Vector size.", lo=1),
        Param("window", "int", 5, "Context window (max distance).", lo=1),
        Param("negative", "int", 5, "Negative samples per positive (0: none, with --loss hs).",
              lo=0),
        Param("sample", "float", sample, "Subsampling threshold for frequent words (0: off).",
              lo=0),
        Param("epochs", "int", 5, "Passes over the corpus.", lo=1),
        Param("alpha", "float", alpha, "Initial learning rate.", lo=0, lo_open=True,
              default_text=alpha_text),
        Param("min_alpha", "float", min_alpha, "Final learning rate (linear decay).", lo=0,
              default_text=min_alpha_text),
    ]


# ---- word2vec -------------------------------------------------------------------------------
WORD2VEC = Schema("word2vec", [
    Param("arch", "choice", "sg", "Skip-gram or CBOW (the CLI's --model sg / cbow).",
          choices=("sg", "cbow"), aliases=("model",), cli=False),
    # CBOW's rate ends at a tenth of alpha, not word2vec.c's 1e-4: measured over seeds against
    # gensim, whose corpus_file mode ends near there (benchmarks/README.md, "Session of
    # 2026-12-02"); skip-gram keeps word2vec.c's
    *_sgd_params(sample=1e-3, alpha=lambda p: 0.025 if p["arch"] == "sg" else 0.05,
                 alpha_text="0.025 sg, 0.05 cbow",
                 min_alpha=lambda p: 1e-4 if p["arch"] == "sg" else p["alpha"] / 10,
                 min_alpha_text="0.0001 sg, alpha / 10 cbow"),
    Param("cbow_mean", "bool", True, "Average or sum the context vectors.",
          archs=("cbow",), off_flag="--cbow-sum"),
    Param("window_batch", "bool", True,
          "Train each window as a mini-batch over shared output rows: the noise words "
          "drawn once per window (Ji et al. 2016; about 3x faster at equal quality), or the "
          "centre word's Huffman path with --loss hs; --no-window-batch gives word2vec.c's "
          "per-pair updates.", archs=("sg",), aliases=("shared_negatives",)),
    *run_params(),
    *corpus_params(),
], checks=[_alpha_at_most, _ns_needs_negatives])


# ---- fastText -------------------------------------------------------------------------------
MAX_NGRAM = 1024  # the longest n-gram a model may ask for (fastText's default is 6)


def _ngram_range(p):
    if p["maxn"] > 0:
        if p["minn"] < 1:
            raise WordvecError(f"minn must be at least 1 when maxn > 0, not {p['minn']}")
        if p["minn"] > p["maxn"]:
            raise WordvecError(f"minn ({p['minn']}) must not exceed maxn ({p['maxn']}); "
                               "use maxn 0 to turn subwords off")
        if p["bucket"] < 1:
            raise WordvecError(f"bucket must be at least 1 when maxn > 0, not {p['bucket']}")
    else:
        p["bucket"] = 0  # as fastText: no subwords, no n-gram rows


FASTTEXT = Schema("fasttext", [
    Param("arch", "choice", "sg", "fastText architecture.", choices=("sg", "cbow")),
    *_sgd_params(sample=1e-4, alpha=0.05, alpha_text=None, min_alpha=0.0),
    Param("minn", "int", 3, "Shortest character n-gram.", lo=0, hi=MAX_NGRAM),
    Param("maxn", "int", 6, "Longest character n-gram; 0 turns subwords off.", lo=0,
          hi=MAX_NGRAM),
    Param("bucket", "int", 2_000_000,
          "N-gram hash buckets. Memory is bucket x dim x 4 bytes: the default 2,000,000 x 100 "
          "takes 800 MB; lower it on small machines.", lo=0, hi=2**31 - 2**24),
    Param("ns_exponent", "float", 0.5, "Noise distribution: counts ** this (fastText 0.5).",
          cli=False),
    Param("eos", "bool", True, "An end-of-line word </s> ends every sentence (as fastText).",
          cli=False),
    Param("spread", "bool", True, "Concurrent threads train distant parts of the corpus.",
          cli=False),
    Param("oov_length", "bool", True,
          "Train as long as fastText (its stopping count includes out-of-vocabulary tokens).",
          cli=False),
    Param("sigmoid", "choice", "fasttext", "Sigmoid table: fastText's or word2vec's.",
          choices=("fasttext", "word2vec"), cli=False),
    *run_params(),
    *corpus_params(),
], checks=[_alpha_at_most, _ns_needs_negatives, _ngram_range], title="fastText")


# ---- count-based ----------------------------------------------------------------------------
def _count_params(window, distance_weighting, memory_gb):
    return [
        Param("window", "int", window, "Context window (max distance).", lo=1),
        Param("symmetric", "bool", True, "Count context on both sides, or only the left.",
              off_flag="--asymmetric"),
        Param("distance_weighting", "bool", distance_weighting,
              "Weight a co-occurrence at distance d by 1/d."),
        Param("memory_gb", "float", memory_gb,
              "Soft memory limit for co-occurrence counting, in GB, as Stanford's -memory: the "
              "counters take at most a fifth of it; beyond, sorted chunks spill to disk.",
              lo=0, lo_open=True, flag="--memory"),
        Param("cooccur", "path", None, "Reuse a matrix from 'wordvec cooccur': its .npz, or its "
              "--blocks-dir folder (no corpus needed).",
              none_ok=True, default_text="count from the corpus"),
    ]


GLOVE = Schema("glove", [
    Param("dim", "int", 100, "Vector size.", lo=1),
    *_count_params(window=10, distance_weighting=True, memory_gb=4.0),
    Param("x_max", "float", 100.0, "Weighting cut-off x_max.", lo=0, lo_open=True),
    Param("power", "float", 0.75, "Weighting exponent.", lo=0, lo_open=True),
    Param("alpha", "float", 0.05, "Initial learning rate (AdaGrad).", lo=0, lo_open=True),
    Param("epochs", "int", 25, "Passes over the co-occurrences.", lo=1),
    Param("vectors", "choice", "sum", "Output W + W~ (sum), W alone, or both side by side.",
          choices=("sum", "word", "concat")),
    *run_params(),
    *corpus_params(),
], title="GloVe")


def _lsa_checks(p):
    if p["add_context"] and p["matrix"] == "tfidf":
        raise WordvecError("add_context (W + C) applies to the ppmi matrix only: "
                           "tf-idf contexts are documents, not words")
    if p["cooccur"] is not None and p["matrix"] == "tfidf":
        raise WordvecError("a co-occurrence file applies to the ppmi matrix only, not tfidf")


LSA = Schema("lsa", [
    Param("matrix", "choice", "ppmi", "PPMI-SVD or term-document LSA.", choices=("ppmi", "tfidf")),
    Param("dim", "int", 300, "Vector size.", lo=1),
    *_count_params(window=5, distance_weighting=False, memory_gb=2.0),
    Param("cds", "float", 0.75, "Context distribution smoothing exponent (1: none).", lo=0,
          lo_open=True, hi=1),
    Param("shift", "float", 1.0, "Shift PMI by log(shift) (Levy et al.'s k).", lo=1,
          aliases=("neg",)),
    Param("eig", "float", lambda p: 0.5 if p["matrix"] == "ppmi" else 1.0,
          "Singular-value exponent p in U x Sigma^p.", lo=0,
          default_text="0.5; 1 with --matrix tfidf"),
    Param("add_context", "bool", lambda p: p["matrix"] == "ppmi",
          "--matrix ppmi: output W + C (U Sigma^p + V Sigma^p) or W alone.",
          default_text="on with ppmi"),
    Param("svd", "choice", "randomized",
          "Truncated SVD: randomized (multi-threaded) or arpack (scipy svds; exact, several "
          "times slower).", choices=("randomized", "arpack")),
    Param("svd_iter", "int", 6, "--svd randomized: subspace iterations; more is more accurate "
          "and slower.", lo=0),
    Param("oversample", "int", 20, "--svd randomized: extra random directions.", lo=0, cli=False),
    Param("weighting", "choice", "tfidf", "--matrix tfidf: weighting.",
          choices=("tfidf", "log-entropy")),
    Param("doc_lines", "int", 1, "--matrix tfidf: lines per document.", lo=1),
    *run_params(),
    *corpus_params(),
], checks=[_lsa_checks], title="LSA")

SCHEMAS = {"word2vec": WORD2VEC, "fasttext": FASTTEXT, "glove": GLOVE, "lsa": LSA}
KINDS = {"sg": "word2vec", "cbow": "word2vec", "fasttext": "fasttext", "glove": "glove",
         "lsa": "lsa"}


def schema_for(kind: str) -> Schema:
    """The schema of a CLI ``--model`` kind (sg, cbow, fasttext, glove, lsa) or a family."""
    family = KINDS.get(kind, kind)
    if family not in SCHEMAS:
        raise WordvecError(f"unknown model {kind!r}: choose one of {', '.join(KINDS)}")
    return SCHEMAS[family]


def option_table():
    """``{name: [(kind, Param), ...]}`` over every kind, in first-declaration order: what the
    CLI turns into ``wordvec train`` options."""
    table = {}
    for kind in KINDS:
        for p in schema_for(kind):
            if p.cli and (not p.archs or kind in p.archs):
                table.setdefault(p.name, []).append((kind, p))
    return table


def shown_defaults(entries):
    """"[default: 100; lsa 300]": each kind's default, grouped, for the help text."""
    groups = {}
    for kind, p in entries:
        groups.setdefault(p.shown_default(), []).append(kind)
    if len(groups) == 1:
        return f"[default: {next(iter(groups))}]"
    # the most common default first without a label, the others labelled by kind
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    parts = [ordered[0][0]] + [f"{'/'.join(k)} {d}" for d, k in ordered[1:]]
    return "[default: " + "; ".join(parts) + "]"


__all__ = ["Param", "Schema", "SCHEMAS", "schema_for", "resolve_threads", "option_table",
           "WORD2VEC", "FASTTEXT", "GLOVE", "LSA"]
