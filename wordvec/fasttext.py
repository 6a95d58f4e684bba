"""fastText (Bojanowski et al. 2017): word vectors built from character n-gram vectors.

- :func:`train_fasttext` (used by :func:`wordvec.train` and ``wordvec train --model fasttext``)
  trains skip-gram or CBOW with negative sampling (or hierarchical softmax) on an
  :class:`~wordvec.encode.EncodedCorpus` with fastText's defaults, through the shared Hogwild
  machinery of :mod:`wordvec.training` and the kernels of :mod:`wordvec.ft_kernels`.
- :class:`FastTextVectors` answers for any word: a known word's vector is the mean of its word
  row and its n-gram rows (precomputed into ``matrix``); an unseen word's vector is the mean of
  its n-gram rows. The native format stores the n-gram matrix and ``minn``/``maxn``/``bucket``,
  so a loaded model gives identical vectors for unseen words.

Memory: the input matrix has ``V + bucket`` rows; fastText's default 2,000,000 buckets x dim 100
float32 is 800 MB. A smaller ``bucket`` saves memory at the price of more hash collisions.
"""

import numpy as np

from . import ft_kernels as K
from . import native
from .encode import EncodedCorpus
from .errors import WordvecError
from .subwords import ngram_buckets, subword_csr
from .training import default_threads, run_jobs
from .vectors import Vectors

DEFAULTS = {"arch": "sg", "loss": "ns", "dim": 100, "window": 5, "negative": 5,
            "sample": 1e-4, "epochs": 5, "alpha": 0.05, "min_alpha": 0.0, "minn": 3, "maxn": 6,
            "bucket": 2_000_000, "threads": None, "seed": 1, "ns_exponent": 0.5}


class FastTextVectors(Vectors):
    """Word vectors plus the n-gram matrix (``bucket`` x dim) and hashing parameters."""

    kind = "fasttext"

    def __init__(self, words, matrix, ngrams, minn, maxn, bucket, counts=None, meta=None):
        super().__init__(words, matrix, counts=counts, meta=meta)
        self.minn, self.maxn, self.bucket = int(minn), int(maxn), int(bucket)
        if ngrams is None:
            ngrams = np.zeros((0, self.dim), dtype=np.float32)
        if ngrams.ndim != 2 or ngrams.shape[1] != self.dim or (
                self.maxn > 0 and ngrams.shape[0] != self.bucket):
            raise WordvecError(f"fastText vectors: n-gram matrix of shape {ngrams.shape} does "
                               f"not match bucket {self.bucket} and dim {self.dim}")
        self.ngrams = ngrams

    def ngram_rows(self, word):
        """Indices into :attr:`ngrams` of ``word``'s character n-grams (fastText's order)."""
        if self.maxn <= 0 or self.bucket < 1:
            return np.zeros(0, dtype=np.int64)
        return ngram_buckets(word, self.minn, self.maxn, self.bucket)

    def oov_vector(self, word):
        """Mean of the n-gram rows of an unseen ``word``; KeyError if it has no n-grams."""
        rows = self.ngram_rows(word)
        if len(rows) == 0:
            if self.maxn <= 0:
                raise KeyError(f"no vector for {word!r}: it is not in the vocabulary and this "
                               "model has no subwords (maxn 0)")
            raise KeyError(f"no vector for {word!r}: not in the vocabulary and no character "
                           f"n-grams of length {self.minn}..{self.maxn}")
        return np.asarray(self.ngrams[rows], dtype=np.float32).mean(axis=0, dtype=np.float32)

    def _require(self, words):
        for w in words:
            if w not in self.index:
                try:
                    self.oov_vector(w)
                except KeyError as e:
                    raise WordvecError(e.args[0]) from None

    def __repr__(self):
        return (f"FastTextVectors({len(self):,} words, dim {self.dim}, n-grams "
                f"{self.minn}..{self.maxn} in {self.bucket:,} buckets)")

    # ---- native format ---------------------------------------------------------------------
    def native_state(self):
        fields = {"minn": self.minn, "maxn": self.maxn, "bucket": self.bucket}
        arrays = {"ngrams": self.ngrams} if self.ngrams.shape[0] else {}
        return fields, arrays

    @classmethod
    def from_native(cls, words, matrix, counts, meta, fields, arrays):
        try:
            minn, maxn, bucket = (int(fields[k]) for k in ("minn", "maxn", "bucket"))
        except (KeyError, TypeError, ValueError):
            raise WordvecError("fastText model: minn/maxn/bucket missing from model.json") from None
        ngrams = arrays.get("ngrams")
        if maxn > 0 and ngrams is None:
            raise WordvecError("fastText model: the n-gram matrix (ngrams.npy) is missing")
        v = cls(words, matrix, ngrams, minn, maxn, bucket, counts=counts, meta=meta)
        v.arrays = {k: a for k, a in arrays.items() if k != "ngrams"}
        return v


native.register("FastTextVectors", "wordvec.fasttext:FastTextVectors")


def _int(p, name, lo):
    v = p[name]
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
        raise WordvecError(f"{name} must be an integer >= {lo}, not {v!r}")
    return int(v)


def _num(p, name, ok, what):
    v = p[name]
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or \
            not np.isfinite(v) or not ok(v):
        raise WordvecError(f"{name} must be {what}, not {v!r}")
    return float(v)


def check_params(params):
    """Validate fastText settings (a dict as in ``DEFAULTS``); return the filled dict."""
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise WordvecError(f"unknown fastText parameter(s): {', '.join(sorted(unknown))}")
    p = {**DEFAULTS, **{k: v for k, v in params.items() if v is not None or k == "threads"}}
    if p["arch"] not in ("sg", "cbow"):
        raise WordvecError(f"arch must be 'sg' (skip-gram) or 'cbow', not {p['arch']!r}")
    if p["loss"] not in ("ns", "hs"):
        raise WordvecError(f"loss must be 'ns' (negative sampling) or 'hs' (hierarchical "
                           f"softmax), not {p['loss']!r}")
    for name in ("dim", "window", "epochs"):
        p[name] = _int(p, name, 1)
    p["negative"] = _int(p, "negative", 0)
    if p["loss"] == "ns" and p["negative"] == 0:
        raise WordvecError("negative sampling needs negative >= 1 (or use loss 'hs')")
    p["minn"] = _int(p, "minn", 0)
    p["maxn"] = _int(p, "maxn", 0)
    if p["maxn"] > 0:
        if p["minn"] < 1:
            raise WordvecError(f"minn must be at least 1 when maxn > 0, not {p['minn']}")
        if p["minn"] > p["maxn"]:
            raise WordvecError(f"minn ({p['minn']}) must not exceed maxn ({p['maxn']}); "
                               "use maxn 0 to turn subwords off")
        p["bucket"] = _int(p, "bucket", 1)
    else:
        p["bucket"] = 0  # as fastText: no subwords, no n-gram rows
    p["alpha"] = _num(p, "alpha", lambda x: x > 0, "a positive number")
    p["min_alpha"] = _num(p, "min_alpha", lambda x: 0 <= x <= p["alpha"],
                          f"between 0 and alpha ({p['alpha']})")
    p["sample"] = _num(p, "sample", lambda x: x >= 0, "a number >= 0 (0 = no subsampling)")
    p["ns_exponent"] = _num(p, "ns_exponent", lambda x: True, "a number")
    p["threads"] = default_threads(p["threads"])
    p["threads"] = _int(p, "threads", 1)
    if not isinstance(p["seed"], (int, np.integer)) or isinstance(p["seed"], bool):
        raise WordvecError(f"seed must be an integer, not {p['seed']!r}")
    return p


def init_input(n_rows, dim, seed):
    """fastText's input initialisation: uniform(-1/dim, 1/dim), built in place (no copy)."""
    try:
        W = np.empty((n_rows, dim), dtype=np.float32)
    except MemoryError:
        raise WordvecError(f"not enough memory for {n_rows:,} x {dim} input rows "
                           f"({n_rows * dim * 4 / 1e9:.1f} GB): use a smaller bucket") from None
    rng = np.random.default_rng(seed)
    step = max(1, (1 << 22) // dim)  # fill in blocks of ~16 MB to stay cache friendly
    for a in range(0, n_rows, step):
        block = W[a:a + step]
        rng.random(out=block, dtype=np.float32)
        block -= np.float32(0.5)
        block *= np.float32(2.0 / dim)
    return W


def _all_finite(a, block=1 << 16):
    """No NaN/inf in ``a`` (a float64 sum per block: NaN or inf anywhere makes it non-finite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return all(np.isfinite(a[i:i + block].sum(dtype=np.float64))
                   for i in range(0, a.shape[0], block))


def fasttext_ntokens(corpus):
    """fastText's token count for word frequencies: every token read (also those below
    min_count) plus one end-of-line token ``</s>`` per line."""
    raw = getattr(corpus, "raw_tokens", None)
    if not raw:
        return int(corpus.vocab.total)
    return int(raw) + int(corpus.n_sentences)


def keep_probabilities(counts, sample, ntokens):
    """fastText's (= word2vec's) subsampling: keep with ``sqrt(t/f) + t/f``, ``f = count/ntokens``."""
    if not sample or sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    ratio = sample * float(ntokens) / np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    return np.minimum(np.sqrt(ratio) + ratio, 1.0).astype(np.float32)


def make_job(corpus, W, C, roff, rows, p):
    """The per-job callable for :func:`wordvec.training.run_jobs`."""
    vocab = corpus.vocab
    ids, offsets = corpus.ids, np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    keep = keep_probabilities(vocab.counts, p["sample"], fasttext_ntokens(corpus))
    window, neg, hs = p["window"], p["negative"], p["loss"] == "hs"
    if hs:
        hoff, hcodes, hpoints = vocab.huffman()
        nprob, nalias = np.ones(1, np.float32), np.zeros(1, np.int32)
    else:
        hoff, hcodes, hpoints = np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.int32)
        nprob, nalias = vocab.noise_alias(power=p["ns_exponent"])
    if p["arch"] == "sg":
        overlap = K.row_overlap(roff, rows)

        def job(first, last, rng, progress, slot, schedule):
            return K.sg(ids, offsets, first, last, W, C, roff, rows, overlap, keep, hs, nprob,
                        nalias, hoff, hcodes, hpoints, window, neg, rng, progress, slot,
                        schedule)
    else:
        def job(first, last, rng, progress, slot, schedule):
            return K.cbow(ids, offsets, first, last, W, C, roff, rows, keep, hs, nprob, nalias,
                          hoff, hcodes, hpoints, window, neg, rng, progress, slot, schedule)
    return job


def train_fasttext(corpus: EncodedCorpus, *, progress=True, **params) -> FastTextVectors:
    """Train fastText on an encoded corpus; return :class:`FastTextVectors` with ``meta``.

    Parameters (fastText's defaults): ``arch`` "sg"|"cbow", ``loss`` "ns"|"hs", ``dim`` 100,
    ``window`` 5, ``negative`` 5, ``sample`` 1e-4, ``epochs`` 5, ``alpha`` 0.05, ``min_alpha``
    0.0, ``minn`` 3, ``maxn`` 6 (0: no subwords), ``bucket`` 2,000,000, ``threads`` (all
    cores), ``seed`` 1, ``ns_exponent`` 0.5 (noise distribution counts**0.5, as fastText).
    """
    p = check_params(params)
    vocab = corpus.vocab
    if corpus.n_tokens == 0:
        raise WordvecError("the corpus has no in-vocabulary words to train on")
    if p["loss"] == "hs" and len(vocab) < 2:
        raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
    v, dim = len(vocab), p["dim"]
    try:
        roff, rows = subword_csr(vocab.words, p["minn"], p["maxn"], p["bucket"])
    except ValueError as e:
        raise WordvecError(str(e)) from None
    W = init_input(v + p["bucket"], dim, p["seed"])
    C = np.zeros((v if p["loss"] == "ns" else max(v - 1, 1), dim), dtype=np.float32)
    job = make_job(corpus, W, C, roff, rows, p)
    # run_jobs checks the word rows and output weights for NaN/inf (its final check copies each
    # array once: fine for those, not for 800 MB of n-gram rows, which are checked here by block)
    stats = run_jobs(corpus, job, epochs=p["epochs"], alpha=p["alpha"], min_alpha=p["min_alpha"],
                     threads=p["threads"], seed=p["seed"], weights=(W[:v], C), progress=progress,
                     desc=f"fasttext-{p['arch']}-{p['loss']}")
    if not _all_finite(W[v:]):
        raise WordvecError("training diverged (NaN/inf in the weights): lower --alpha")
    stats["subword_rows_per_word"] = round(float(len(rows)) / max(v, 1), 2)
    matrix = np.empty((v, dim), dtype=np.float32)
    K.word_means(W, roff, rows, matrix)
    vectors = FastTextVectors(vocab.words, matrix, W[v:], p["minn"], p["maxn"], p["bucket"],
                              counts=vocab.counts,
                              meta={"kind": "fasttext", "params": dict(p), "stats": stats})
    # the word rows and output weights, for callers that save them (native.save(..., arrays=))
    vectors.arrays = {"input_words": W[:v], "output": C}
    return vectors
