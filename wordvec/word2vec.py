"""word2vec: skip-gram and CBOW with negative sampling or hierarchical softmax.

Two entry points:

- :func:`train_word2vec` (used by :func:`wordvec.train` and the CLI) trains on an
  :class:`~wordvec.encode.EncodedCorpus` and returns :class:`~wordvec.vectors.Vectors` whose
  ``meta`` holds ``kind`` ("sg"/"cbow"), ``params`` (every setting) and ``stats`` (wall time,
  words/s, loss per epoch, ...). The output weights (negative-sampling context vectors, or the
  Huffman inner-node vectors for hierarchical softmax) ride along as ``vectors.arrays =
  {"output": C}``, the attribute :func:`wordvec.native.load` fills: save them with
  ``native.save(v, path, arrays=v.arrays)`` when the model is to be trained further.
- :class:`Word2Vec`, the full model for Python users: trains from a path or an iterable of token
  lists, keeps vocabulary, input and output weights, can :meth:`Word2Vec.train` more, and saves
  and loads itself in the native format.

The kernels live in :mod:`wordvec.w2v_kernels`, the threads / lr schedule / progress machinery in
:mod:`wordvec.training`.
"""

from numbers import Real

import numpy as np

from . import native
from . import w2v_kernels as K
from .encode import EncodedCorpus, encode
from .errors import WordvecError
from .training import check_trainable, default_threads, run_jobs
from .vectors import Vectors
from .vocab import Vocabulary

DEFAULTS = {"model": "sg", "loss": "ns", "dim": 100, "window": 5, "negative": 5,
            "sample": 1e-3, "epochs": 5, "alpha": None, "min_alpha": 1e-4, "threads": None,
            "seed": 1, "cbow_mean": True, "shared_negatives": True}


def check_params(p):
    """Validate word2vec settings (a dict as in ``DEFAULTS``); fill ``alpha``/``threads``."""
    p = {**DEFAULTS, **p}
    unknown = set(p) - set(DEFAULTS)
    if unknown:
        raise WordvecError(f"unknown word2vec parameter(s): {', '.join(sorted(unknown))}")
    if p["model"] not in ("sg", "cbow"):
        raise WordvecError(f"model must be 'sg' or 'cbow', not {p['model']!r}")
    if p["loss"] not in ("ns", "hs"):
        raise WordvecError(f"loss must be 'ns' (negative sampling) or 'hs' (hierarchical "
                           f"softmax), not {p['loss']!r}")
    for name in ("dim", "window", "epochs"):
        v = p[name]
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise WordvecError(f"{name} must be a positive integer, not {v!r}")
    if not isinstance(p["negative"], (int, np.integer)) or p["negative"] < 0:
        raise WordvecError(f"negative must be an integer >= 0, not {p['negative']!r}")
    if p["loss"] == "ns" and p["negative"] == 0:
        raise WordvecError("negative sampling needs negative >= 1 (or use loss 'hs')")
    if p["alpha"] is None:
        p["alpha"] = 0.025 if p["model"] == "sg" else 0.05
    if not (isinstance(p["alpha"], Real) and np.isfinite(p["alpha"]) and p["alpha"] > 0):
        raise WordvecError(f"alpha must be a positive number, not {p['alpha']!r}")
    if not (isinstance(p["min_alpha"], Real) and 0 <= p["min_alpha"] <= p["alpha"]):
        raise WordvecError(
            f"min_alpha must be between 0 and alpha ({p['alpha']}), not {p['min_alpha']!r}")
    if not (isinstance(p["sample"], Real) and np.isfinite(p["sample"]) and p["sample"] >= 0):
        raise WordvecError(f"sample must be a number >= 0 (0 = no subsampling), not {p['sample']!r}")
    p["threads"] = default_threads(p["threads"])
    if not isinstance(p["threads"], (int, np.integer)) or p["threads"] < 1:
        raise WordvecError(f"threads must be at least 1, not {p['threads']!r}")
    if not isinstance(p["seed"], (int, np.integer)):
        raise WordvecError(f"seed must be an integer, not {p['seed']!r}")
    p["alpha"] = float(p["alpha"])
    p["min_alpha"] = float(p["min_alpha"])
    p["sample"] = float(p["sample"])
    p["cbow_mean"] = bool(p["cbow_mean"])
    return p


def init_weights(vocab, p):
    """Input rows uniform in [-1/dim, 1/dim) (as gensim 4; word2vec.c uses half that range, which
    measured ~0.9 analogy points worse for CBOW on a 5.5M-token corpus), output rows zero."""
    v, dim = len(vocab), p["dim"]
    rng = np.random.default_rng(p["seed"])
    W = (rng.random((v, dim), dtype=np.float32) - np.float32(0.5)) * np.float32(2.0 / dim)
    rows = v if p["loss"] == "ns" else max(v - 1, 1)
    C = np.zeros((rows, dim), dtype=np.float32)
    return W, C


def make_job(corpus, W, C, p):
    """The per-job callable for :func:`wordvec.training.run_jobs` (see its contract)."""
    vocab = corpus.vocab
    hs = p["loss"] == "hs"
    data = K.corpus_args(corpus.ids, corpus.offsets)
    model = K.model_args(W, C, vocab.keep_probabilities(p["sample"]), p["window"], p["cbow_mean"])
    loss = K.loss_args(hs, p["negative"], None if hs else vocab.noise_alias(),
                       vocab.huffman() if hs else None)
    if p["model"] == "sg":
        shared = p["shared_negatives"]
        kern = (K.sg_hs_shared if shared else K.sg_hs) if hs else (
            K.sg_ns_shared if shared else K.sg_ns)
    else:
        kern = K.cbow_hs if hs else K.cbow_ns

    def job(first, last, rng, progress, slot, schedule):
        return kern(data, first, last, model, loss, (rng, progress, slot, schedule))
    return job


def train_arrays(corpus, W, C, p, progress=True):
    """Train ``W``/``C`` in place on ``corpus`` with validated settings ``p``; return stats."""
    if corpus.n_tokens == 0:
        raise WordvecError("the corpus has no in-vocabulary words to train on")
    if p["loss"] == "hs" and len(corpus.vocab) < 2:
        raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
    check_trainable(corpus)
    job = make_job(corpus, W, C, p)
    stats = run_jobs(corpus, job, epochs=p["epochs"], alpha=p["alpha"], min_alpha=p["min_alpha"],
                     threads=p["threads"], seed=p["seed"], weights=(W, C), progress=progress,
                     desc=f"{p['model']}-{p['loss']}")
    return stats


def train_word2vec(corpus: EncodedCorpus, *, progress=True, **params) -> Vectors:
    """Train word2vec on an encoded corpus; return the input vectors with ``meta`` filled.

    Parameters (defaults as word2vec/gensim): ``model`` "sg"|"cbow", ``loss`` "ns"|"hs",
    ``dim`` 100, ``window`` 5, ``negative`` 5, ``sample`` 1e-3, ``epochs`` 5, ``alpha`` (0.025 sg,
    0.05 cbow), ``min_alpha`` 1e-4, ``threads`` (all cores), ``seed`` 1, ``cbow_mean`` True,
    ``shared_negatives`` True (skip-gram: one set of noise words per window, the window trained
    as a mini-batch, Ji et al. 2016; with HS the centre word's path is batched the same way;
    False gives word2vec.c's per-pair updates).
    """
    p = check_params(params)
    W, C = init_weights(corpus.vocab, p)
    stats = train_arrays(corpus, W, C, p, progress)
    vectors = Vectors(corpus.vocab.words, W, counts=corpus.vocab.counts,
                      meta={"kind": p["model"], "params": dict(p), "stats": stats})
    vectors.arrays = {"output": C}
    return vectors


class Word2Vec:
    """A trainable word2vec model: vocabulary, input vectors ``W`` and output weights ``C``.

    ``Word2Vec(corpus, model="cbow", epochs=5, min_count=5)`` trains on ``corpus`` (a path, a
    list of paths, or an iterable of token lists); ``.wv`` gives the :class:`Vectors`;
    ``.train(more)`` trains further (known words only, lr decaying again from ``alpha``);
    ``.save(path)`` / ``Word2Vec.load(path)`` use the native format with the output weights.
    """

    def __init__(self, corpus=None, *, min_count=5, max_vocab=None, lowercase=False,
                 progress=False, **params):
        self.params = check_params(params)
        self.min_count, self.max_vocab, self.lowercase = min_count, max_vocab, lowercase
        self.vocab = None
        self.W = self.C = None
        self.stats = []
        if corpus is not None:
            self.train(corpus, progress=progress)

    def train(self, corpus, *, epochs=None, progress=False):
        """Train on ``corpus`` (path(s), token lists or an EncodedCorpus); return stats."""
        p = dict(self.params)
        if epochs is not None:
            p = check_params({**p, "epochs": epochs})
        own = not isinstance(corpus, EncodedCorpus)
        if own:
            corpus = encode(corpus, min_count=self.min_count, max_vocab=self.max_vocab,
                            lowercase=self.lowercase, vocab=self.vocab)
        try:
            if self.vocab is None:
                self.vocab = corpus.vocab
                self.W, self.C = init_weights(self.vocab, p)
            elif corpus.vocab is not self.vocab and corpus.vocab.words != self.vocab.words:
                raise WordvecError("the encoded corpus has a different vocabulary than the model")
            stats = train_arrays(corpus, self.W, self.C, p, progress)
        finally:
            if own:
                corpus.close()
        self.stats.append(stats)
        return stats

    @property
    def wv(self):
        if self.vocab is None:
            raise WordvecError("the model is not trained yet")
        v = Vectors(self.vocab.words, self.W, counts=self.vocab.counts,
                    meta={"kind": self.params["model"], "params": self._all_params(),
                          "stats": self.stats[-1] if self.stats else {}})
        v.arrays = {"output": self.C}
        return v

    def _all_params(self):
        return {**self.params, "min_count": self.min_count, "max_vocab": self.max_vocab,
                "lowercase": self.lowercase}

    def save(self, path):
        """Native format: the vectors, vocabulary counts, settings, stats and output weights."""
        native.save(self.wv, path, arrays={"output": self.C})

    @classmethod
    def load(cls, path):
        """Load a model saved by :meth:`save` (or by ``wordvec train`` with output weights)."""
        v = native.load(path, mmap=False)
        arrays = getattr(v, "arrays", {})
        if "output" not in arrays:
            raise WordvecError(f"{path}: no output weights saved with these vectors; "
                               "they can be queried but not trained further")
        params = {k: val for k, val in v.meta.get("params", {}).items() if k in DEFAULTS}
        extra = v.meta.get("params", {})
        model = cls(min_count=extra.get("min_count", 5), max_vocab=extra.get("max_vocab"),
                    lowercase=extra.get("lowercase", False), **params)
        model.vocab = Vocabulary(v.words, v.counts)
        out = arrays["output"]
        want = (max(len(v.words) - 1, 1) if params.get("loss") == "hs" else len(v.words), v.dim)
        if out.shape != want or out.dtype.kind != "f":
            raise WordvecError(f"{path}: output weights of shape {out.shape} ({out.dtype}) do not "
                               f"fit {len(v.words)} words x {v.dim} dims")
        model.W = np.array(v.matrix, dtype=np.float32)
        model.C = np.array(out, dtype=np.float32)
        model.stats = [v.meta.get("stats", {})]
        return model
