"""word2vec: skip-gram and CBOW with negative sampling or hierarchical softmax.

- :class:`Word2Vec` is the model (see :mod:`wordvec.model` for the shape every family shares):
  ``Word2Vec(arch="cbow").fit("corpus.txt")``, ``.train(more)``, ``.wv``, ``.save`` / ``.load``.
  Its state: the input vectors ``W`` (the result) and the output weights ``C`` (negative-sampling
  context vectors, or the Huffman inner-node vectors for hierarchical softmax); the native
  format stores ``W`` as the vectors and ``C`` as ``output.npy``.
- :func:`train_word2vec` trains on an :class:`~wordvec.encode.EncodedCorpus` and returns the
  :class:`~wordvec.vectors.Vectors` (``meta`` = kind, params, stats; ``arrays["output"]`` = C).

Parameters are declared in :data:`wordvec.params.WORD2VEC`. The kernels live in
:mod:`wordvec.w2v_kernels`, the threads / lr schedule / progress machinery in
:mod:`wordvec.training`.
"""

import numpy as np

from . import w2v_kernels as K
from .encode import EncodedCorpus
from .errors import WordvecError
from .model import Model
from .params import WORD2VEC
from .training import check_trainable, run_jobs
from .vectors import Vectors

DEFAULTS = {p.name: p.default for p in WORD2VEC if not callable(p.default)}


def check_params(p):
    """Validate word2vec settings (old names accepted); return every parameter, filled."""
    return WORD2VEC.resolve(p)


def init_weights(vocab, p):
    """Input rows uniform in [-1/dim, 1/dim) (as gensim 4; word2vec.c uses half that range, which
    measured ~0.9 analogy points worse for CBOW on a 5.5M-token corpus), output rows zero."""
    v, dim = len(vocab), p["dim"]
    rng = np.random.default_rng(p["seed"])
    W = rng.random((v, dim), dtype=np.float32)  # in place below: no temporary copies
    W -= np.float32(0.5)
    W *= np.float32(2.0 / dim)
    return W, np.zeros((output_rows(v, p), dim), dtype=np.float32)


def output_rows(n_words, p):
    """Rows of ``C``: one per word (negative sampling) or per inner Huffman node."""
    return n_words if p["loss"] == "ns" else max(n_words - 1, 1)


def make_job(corpus, W, C, p):
    """The per-job callable for :func:`wordvec.training.run_jobs` (see its contract)."""
    vocab = corpus.vocab
    hs = p["loss"] == "hs"
    data = K.corpus_args(corpus.ids, corpus.offsets)
    model = K.model_args(W, C, vocab.keep_probabilities(p["sample"]), p["window"], p["cbow_mean"])
    loss = K.loss_args(hs, p["negative"], None if hs else vocab.noise_alias(),
                       vocab.huffman() if hs else None)
    if p["arch"] == "sg":
        shared = p["window_batch"]
        kern = (K.sg_hs_shared if shared else K.sg_hs) if hs else (
            K.sg_ns_shared if shared else K.sg_ns)
    else:
        kern = K.cbow_hs if hs else K.cbow_ns

    def job(first, last, rng, progress, slot, schedule):
        return kern(data, first, last, model, loss, (rng, progress, slot, schedule))
    return job


def check_corpus(corpus, p):
    """Refuse, before training, a corpus the settings cannot train on."""
    if corpus.n_tokens == 0:
        raise WordvecError("the corpus has no in-vocabulary words to train on")
    if p["loss"] == "hs" and len(corpus.vocab) < 2:
        raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
    check_trainable(corpus)


def train_arrays(corpus, W, C, p, progress=True):
    """Train ``W``/``C`` in place on ``corpus`` with validated settings ``p``; return stats."""
    check_corpus(corpus, p)
    return run_jobs(corpus, make_job(corpus, W, C, p), epochs=p["epochs"], alpha=p["alpha"],
                    min_alpha=p["min_alpha"], threads=p["threads"], seed=p["seed"],
                    weights=(W, C), progress=progress, desc=f"{p['arch']}-{p['loss']}")


def train_word2vec(corpus: EncodedCorpus, *, progress=True, **params) -> Vectors:
    """Train word2vec on an encoded corpus; return the input vectors with ``meta`` filled and
    the output weights as ``arrays["output"]``. Parameters: :data:`wordvec.params.WORD2VEC`."""
    model = Word2Vec(**params)
    model.fit(corpus, progress=progress)
    vectors = model.wv
    vectors.arrays = {"output": model.C}
    return vectors


class Word2Vec(Model):
    """word2vec skip-gram or CBOW (``arch``); state: input vectors ``W``, output weights ``C``.

    ``Word2Vec(corpus, arch="cbow", epochs=5, min_count=5)`` trains at once (as gensim's);
    ``Word2Vec(**params).fit(corpus)`` is the same. A folder saved by wordvec 0.1 holds ``W``
    but not ``C``: it loads with ``C`` at zero (as at the start of training).
    """

    schema = WORD2VEC
    family = "word2vec"
    state = ("C",)

    @property
    def kind(self):
        return self.params["arch"]

    def _init_state(self, enc):
        self.W, self.C = init_weights(self.vocab, self.params)

    def _grow(self, n_old):
        p, n = self.params, len(self.vocab)
        rng = np.random.default_rng([p["seed"], self.runs, n_old])
        dim = p["dim"]
        fresh = (rng.random((n - n_old, dim), dtype=np.float32) - np.float32(0.5)) \
            * np.float32(2.0 / dim)
        self.W = np.concatenate([self.W, fresh])
        extra = output_rows(n, p) - self.C.shape[0]
        self.C = np.concatenate([self.C, np.zeros((extra, dim), dtype=np.float32)])

    def _setup(self, enc, epochs):
        p = self.params
        check_corpus(enc, p)
        job = make_job(enc, self.W, self.C, p)
        return job, enc, {"alpha": p["alpha"], "min_alpha": p["min_alpha"],
                          "weights": (self.W, self.C), "desc": f"{p['arch']}-{p['loss']}"}

    def _vectors(self):
        return Vectors(self.vocab.words, self.W, counts=self.vocab.counts)

    def _state_arrays(self):
        return {"output": self.C}

    def _from_saved(self, v, arrays, header):
        self.W = np.array(v.matrix, dtype=np.float32)
        want = (output_rows(len(v.words), self.params), v.dim)
        out = arrays.get("output")
        if out is None:  # a wordvec 0.1 folder: the vectors only
            self.C = np.zeros(want, dtype=np.float32)
            return
        if out.shape != want or out.dtype.kind != "f":
            raise WordvecError(f"output weights of shape {out.shape} ({out.dtype}) do not "
                               f"fit {len(v.words)} words x {v.dim} dims")
        self.C = np.array(out, dtype=np.float32)
