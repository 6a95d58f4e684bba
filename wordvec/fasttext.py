"""fastText (Bojanowski et al. 2017): word vectors built from character n-gram vectors.

- :func:`train_fasttext` (used by :func:`wordvec.train` and ``wordvec train --model fasttext``)
  trains skip-gram or CBOW with negative sampling (or hierarchical softmax) on an
  :class:`~wordvec.encode.EncodedCorpus` with fastText's defaults, through the shared Hogwild
  machinery of :mod:`wordvec.training` and the kernels of :mod:`wordvec.ft_kernels`.
- :class:`FastTextVectors` answers for any word: a known word's vector is the mean of its word
  row and its n-gram rows (precomputed into ``matrix``); an unseen word's vector is the mean of
  its n-gram rows. The native format stores the n-gram matrix and ``minn``/``maxn``/``bucket``,
  so a loaded model gives identical vectors for unseen words.

Fidelity to fastText 0.9.2 beyond the update rule (``eos``, ``spread``, ``oov_length``,
``sigmoid``, all on by default): measured on the first 25 MB of bench-en (4.6M tokens, sg,
2 threads, 2 seeds each), the four together moved MEN from 0.489-0.497 to 0.517-0.520 and
SimLex-999 from 0.212-0.219 to 0.225-0.244 (fastText: 0.508-0.517 and 0.226-0.234); WS-353
and analogy did not move (no single switch moved anything beyond the seed-to-seed spread).

Memory: the input matrix has ``V + bucket`` rows; fastText's default 2,000,000 buckets x dim 100
float32 is 800 MB. A smaller ``bucket`` saves memory at the price of more hash collisions.
"""

import numpy as np

from . import ft_kernels as K
from . import native
from .encode import EncodedCorpus
from .errors import WordvecError
from .subwords import ngram_buckets, subword_csr
from .training import check_trainable, default_threads, run_jobs
from .vectors import Vectors

DEFAULTS = {"arch": "sg", "loss": "ns", "dim": 100, "window": 5, "negative": 5,
            "sample": 1e-4, "epochs": 5, "alpha": 0.05, "min_alpha": 0.0, "minn": 3, "maxn": 6,
            "bucket": 2_000_000, "threads": None, "seed": 1, "ns_exponent": 0.5, "eos": True,
            "spread": True, "oov_length": True, "sigmoid": "fasttext"}


MAX_NGRAM = 1024  # the longest n-gram a loaded model may ask for (fastText's default is 6)


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
        values = {}
        for k in ("minn", "maxn", "bucket"):
            v = fields.get(k) if isinstance(fields, dict) else None
            if v is None:
                raise WordvecError(f"fastText model: field {k!r} missing from model.json")
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise WordvecError(f"fastText model: model.json field {k!r} must be an "
                                   f"integer >= 0, not {v!r}"[:160])
            values[k] = int(v)
        minn, maxn, bucket = values["minn"], values["maxn"], values["bucket"]
        if maxn > MAX_NGRAM:
            raise WordvecError(f"fastText model: maxn {maxn} in model.json is out of range "
                               f"(0..{MAX_NGRAM})")
        if maxn > 0:
            if not 1 <= minn <= maxn:
                raise WordvecError(f"fastText model: model.json has minn {minn} and maxn {maxn} "
                                   "(needs 1 <= minn <= maxn)")
            if bucket < 1 or len(words) + bucket >= 2**31:
                raise WordvecError(f"fastText model: bucket {bucket} in model.json is out of "
                                   "range (1 to 2**31 minus the vocabulary size)")
        ngrams = arrays.get("ngrams")
        if maxn > 0 and ngrams is None:
            raise WordvecError("fastText model: the n-gram matrix (ngrams.npy) is missing")
        if ngrams is not None and ngrams.dtype.kind != "f":
            raise WordvecError(f"fastText model: the n-gram matrix must be floating point, "
                               f"not {ngrams.dtype}")
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
    p["eos"] = bool(p["eos"])
    p["spread"] = bool(p["spread"])
    p["oov_length"] = bool(p["oov_length"])
    if p["sigmoid"] not in ("word2vec", "fasttext"):
        raise WordvecError(f"sigmoid must be 'word2vec' or 'fasttext', not {p['sigmoid']!r}")
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


EOS = "</s>"


def _eos_view(corpus):
    """What :func:`run_jobs` and :func:`make_job` see of ``corpus`` with fastText's end-of-line
    word ``</s>`` (id ``V``, count = number of lines) after every sentence, without a copy of
    the ids: ``offsets``/``n_tokens`` count the virtual ``</s>`` tokens, ``id_offsets`` are the
    sentence starts in the real (memory-mapped) ``ids``, which the kernels read with ``eos``."""
    from types import SimpleNamespace

    from .vocab import Vocabulary
    v = len(corpus.vocab)
    off = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    n_sent = len(off) - 1
    virtual = np.arange(n_sent + 1, dtype=np.int64)
    virtual += off  # in place: no second temporary of one int64 per line
    return SimpleNamespace(
        ids=corpus.ids, id_offsets=off, eos=v, offsets=virtual,
        n_tokens=int(corpus.n_tokens) + n_sent, n_sentences=n_sent,
        raw_tokens=getattr(corpus, "raw_tokens", None),
        vocab=Vocabulary(list(corpus.vocab.words) + [EOS + "\0"],
                         np.append(corpus.vocab.counts, n_sent)))


def _extra_tokens(corpus, epochs):
    """How much longer fastText trains: it stops when its count of in-vocabulary tokens read
    (plus one per line) reaches ``epochs`` x ALL tokens (plus one per line)."""
    n, lines = int(corpus.n_tokens), int(corpus.n_sentences)
    raw = int(getattr(corpus, "raw_tokens", None) or n)
    return int(epochs * n * ((raw + lines) / (n + lines) - 1.0))


def _huffman_any_order(vocab):
    """``vocab.huffman()`` for counts in any order (``</s>`` comes last whatever its count):
    the tree is built over the words sorted by count, the CSR is given back by word id."""
    counts = np.asarray(vocab.counts)
    if np.all(counts[:-1] >= counts[1:]):
        return vocab.huffman()
    from .vocab import Vocabulary
    perm = np.argsort(-counts, kind="stable")
    off, codes, points = Vocabulary([vocab.words[i] for i in perm], counts[perm]).huffman()
    pos = np.empty_like(perm)
    pos[perm] = np.arange(len(perm))
    lengths = (off[1:] - off[:-1])[pos]
    new_off = np.zeros(len(perm) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_off[1:])
    take = np.concatenate([np.arange(off[k], off[k + 1]) for k in pos]).astype(np.int64)
    return new_off, codes[take], points[take]


def make_job(corpus, W, C, roff, rows, p):
    """The per-job callable for :func:`wordvec.training.run_jobs`. For a corpus from
    :func:`_eos_view` the kernels read its real ids (``id_offsets``) and append ``</s>`` (its
    ``eos`` id) to every sentence themselves."""
    vocab = corpus.vocab
    data = K.corpus_args(corpus.ids, getattr(corpus, "id_offsets", corpus.offsets),
                         eos=getattr(corpus, "eos", -1))
    keep = keep_probabilities(vocab.counts, p["sample"], fasttext_ntokens(corpus))
    hs = p["loss"] == "hs"
    sg = p["arch"] == "sg"
    overlap = K.row_overlap(roff, rows) if sg else np.ones(0, np.float32)
    model = K.model_args(W, C, keep, p["window"], True, (roff, rows, overlap))
    loss = K.loss_args(hs, p["negative"],
                       None if hs else vocab.noise_alias(power=p["ns_exponent"]),
                       _huffman_any_order(vocab) if hs else None)
    sig = K.sigmoid_table(p["sigmoid"])
    kern = K.sg if sg else K.cbow

    def job(first, last, rng, progress, slot, schedule):
        return kern(data, first, last, model, loss, (rng, progress, slot, schedule), sig)
    return job


def train_fasttext(corpus: EncodedCorpus, *, progress=True, **params) -> FastTextVectors:
    """Train fastText on an encoded corpus; return :class:`FastTextVectors` with ``meta``.

    Parameters (fastText's defaults): ``arch`` "sg"|"cbow", ``loss`` "ns"|"hs", ``dim`` 100,
    ``window`` 5, ``negative`` 5, ``sample`` 1e-4, ``epochs`` 5, ``alpha`` 0.05, ``min_alpha``
    0.0, ``minn`` 3, ``maxn`` 6 (0: no subwords), ``bucket`` 2,000,000, ``threads`` (all
    cores), ``seed`` 1, ``ns_exponent`` 0.5 (noise distribution counts**0.5, as fastText).

    Fidelity switches (all on by default: each is what fastText 0.9.2 does; together they
    raised MEN / SimLex-999 by ~0.02 on a 4.6M-token slice of bench-en, see the module doc):
    ``eos`` True (an end-of-line word ``</s>`` ends every sentence: trained as a centre and
    context word and drawn as a negative, with its own row and no n-grams; not in the
    result), ``spread`` True (concurrent threads train distant parts of the corpus, as
    fastText's threads each start at their own offset), ``oov_length`` True (train as long as
    fastText, whose stopping count includes out-of-vocabulary tokens: a partial extra epoch
    of ``epochs * (raw + lines) / (kept + lines) - epochs`` passes), ``sigmoid`` "fasttext"
    (fastText's table: x rounded down to a multiple of 1/32, over [-8, 8]) or "word2vec".
    """
    p = check_params(params)
    vocab = corpus.vocab
    if corpus.n_tokens == 0:
        raise WordvecError("the corpus has no in-vocabulary words to train on")
    if p["loss"] == "hs" and len(vocab) < 2:
        raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
    v, dim = len(vocab), p["dim"]
    train_on = _eos_view(corpus) if p["eos"] else corpus
    if not p["eos"]:  # with eos every line with a word has a context (</s>), as in fastText
        check_trainable(train_on)
    vt = len(train_on.vocab)  # word rows trained (+1 for </s>)
    try:
        roff, rows = subword_csr(train_on.vocab.words, p["minn"], p["maxn"], p["bucket"])
    except ValueError as e:
        raise WordvecError(str(e)) from None
    if vt > v:  # </s> has no n-grams in fastText: only its own row
        rows = rows[:roff[v] + 1].copy()
        roff[v + 1] = roff[v] + 1
    W = init_input(vt + p["bucket"], dim, p["seed"])
    C = np.zeros((vt if p["loss"] == "ns" else max(vt - 1, 1), dim), dtype=np.float32)
    job = make_job(train_on, W, C, roff, rows, p)
    # run_jobs checks the word rows and output weights for NaN/inf (its final check copies each
    # array once: fine for those, not for 800 MB of n-gram rows, which are checked here by block)
    stats = run_jobs(train_on, job, epochs=p["epochs"], alpha=p["alpha"],
                     min_alpha=p["min_alpha"], threads=p["threads"], seed=p["seed"],
                     weights=(W[:vt], C), progress=progress,
                     desc=f"fasttext-{p['arch']}-{p['loss']}", spread=p["spread"],
                     extra_tokens=_extra_tokens(corpus, p["epochs"]) if p["oov_length"] else 0)
    if not _all_finite(W[vt:]):
        raise WordvecError("training diverged (NaN/inf in the weights): lower --alpha")
    stats["subword_rows_per_word"] = round(float(len(rows)) / max(v, 1), 2)
    matrix = np.empty((v, dim), dtype=np.float32)
    K.word_means(W, roff, rows, matrix)
    vectors = FastTextVectors(vocab.words, matrix, W[vt:], p["minn"], p["maxn"], p["bucket"],
                              counts=vocab.counts,
                              meta={"kind": "fasttext", "params": dict(p), "stats": stats})
    # the word rows and output weights, for callers that save them (native.save(..., arrays=))
    vectors.arrays = {"input_words": W[:v], "output": C[:v] if p["loss"] == "ns" else C}
    return vectors
