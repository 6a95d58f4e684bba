"""fastText (Bojanowski et al. 2017): word vectors built from character n-gram vectors.

- :class:`FastText`, the model (:mod:`wordvec.model`), and :func:`train_fasttext` on an encoded
  corpus, train skip-gram or CBOW with negative sampling (or hierarchical softmax) on an
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
from .encode import EncodedCorpus
from .errors import WordvecError
from .model import Model
from .params import FASTTEXT
from .subwords import subword_csr
from .training import check_finite, check_trainable
from .vectors import FastTextVectors, Vectors  # noqa: F401 - (FastTextVectors: its home was here)
from .vocab import keep_probabilities  # noqa: F401 - (fastText counts every token)

DEFAULTS = {p.name: p.default for p in FASTTEXT}


def check_params(params):
    """Validate fastText settings; return every parameter, filled (:data:`FASTTEXT`)."""
    return FASTTEXT.resolve(params)


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


def fasttext_ntokens(corpus):
    """fastText's token count for word frequencies: every token read (also those below
    min_count) plus one end-of-line token ``</s>`` per line."""
    raw = getattr(corpus, "raw_tokens", None)
    if not raw:
        return int(corpus.vocab.total)
    return int(raw) + int(corpus.n_sentences)


EOS = "</s>"


def _eos_view(corpus):
    """What :func:`run_jobs` and :func:`make_job` see of ``corpus`` with fastText's end-of-line
    word ``</s>`` (id ``V``, count = number of lines) after every sentence, without a copy of
    the ids nor of the offsets: ``offsets`` (= ``id_offsets``) are the sentence starts in the
    real (memory-mapped) ``ids``, which the kernels read with ``eos``; ``per_sentence`` (1)
    tells the job planner that every sentence holds one token more, and ``n_tokens`` counts
    them."""
    from types import SimpleNamespace

    from .vocab import Vocabulary
    v = len(corpus.vocab)
    off = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    n_sent = len(off) - 1
    return SimpleNamespace(
        ids=corpus.ids, id_offsets=off, eos=v, offsets=off, per_sentence=1,
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
                       vocab.huffman() if hs else None)
    sig = K.sigmoid_table(p["sigmoid"])
    kern = K.sg if sg else K.cbow

    def job(first, last, rng, progress, slot, schedule):
        return kern(data, first, last, model, loss, (rng, progress, slot, schedule), sig)
    return job


def train_fasttext(corpus: EncodedCorpus, *, progress=True, **params) -> FastTextVectors:
    """Train fastText on an encoded corpus; return :class:`FastTextVectors` with ``meta``, and
    the word rows and output weights as ``arrays`` (``input_words``, ``output``).

    Parameters (:data:`wordvec.params.FASTTEXT`; fastText's defaults): ``arch`` "sg"|"cbow",
    ``loss`` "ns"|"hs", ``dim`` 100, ``window`` 5, ``negative`` 5, ``sample`` 1e-4, ``epochs``
    5, ``alpha`` 0.05, ``min_alpha`` 0.0, ``minn`` 3, ``maxn`` 6 (0: no subwords), ``bucket``
    2,000,000, ``threads`` (all cores), ``seed`` 1, ``ns_exponent`` 0.5 (noise distribution
    counts**0.5, as fastText).

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
    model = FastText(**params)
    model.fit(corpus, progress=progress)
    vectors = model.wv
    v = len(model.vocab)
    vectors.arrays = {"input_words": model.W[:v],
                      "output": model.C[:v] if model.params["loss"] == "ns" else model.C}
    return vectors


class FastText(Model):
    """fastText skip-gram or CBOW over character n-grams.

    State: the input matrix ``W`` (the word rows, fastText's ``</s>`` row when ``eos``, then
    ``bucket`` n-gram rows) and the output weights ``C``. The native format stores the word
    vectors (each the mean of its rows), the n-gram rows (``ngrams.npy``: unseen words get
    vectors from them), the word rows (``input_words.npy``) and ``C`` (``output.npy``). A
    folder saved by wordvec 0.1 lacks the last two: the word rows are recovered exactly from
    the vectors and the n-gram rows (a word vector is the mean of its rows), ``C`` starts at
    zero.
    """

    schema = FASTTEXT
    family = "fasttext"

    @property
    def word_rows(self):
        """Rows of ``W`` before the n-gram buckets: the words, plus ``</s>`` with ``eos``."""
        return len(self.vocab) + (1 if self.params["eos"] else 0)

    def _output_rows(self, vt):
        return vt if self.params["loss"] == "ns" else max(vt - 1, 1)

    def _init_state(self, enc):
        p = self.params
        vt = self.word_rows
        self.W = init_input(vt + p["bucket"], p["dim"], p["seed"])
        self.C = np.zeros((self._output_rows(vt), p["dim"]), dtype=np.float32)

    def _grow(self, n_old):
        p, n, dim = self.params, len(self.vocab), self.params["dim"]
        fresh = init_input(n - n_old, dim, [p["seed"], self.runs, n_old])
        self.W = np.concatenate([self.W[:n_old], fresh, self.W[n_old:]])
        vt = self.word_rows
        add = np.zeros((self._output_rows(vt) - self.C.shape[0], dim), dtype=np.float32)
        cut = n_old if p["loss"] == "ns" else self.C.shape[0]  # before </s>'s output row
        self.C = np.concatenate([self.C[:cut], add, self.C[cut:]])

    def _csr(self, words):
        p = self.params
        try:
            return subword_csr(words, p["minn"], p["maxn"], p["bucket"])
        except ValueError as e:
            raise WordvecError(str(e)) from None

    def _training_csr(self, words, v):
        """The rows each of ``words`` trains (``v`` words, then ``</s>`` with ``eos``): its own
        row and its n-gram rows; ``</s>`` has no n-grams in fastText, only its own row."""
        roff, rows = self._csr(words)
        if len(words) > v:
            rows = rows[:roff[v] + 1].copy()
            roff[v + 1] = roff[v] + 1
        return roff, rows

    def _setup(self, enc, epochs):
        p = self.params
        if enc.n_tokens == 0:
            raise WordvecError("the corpus has no in-vocabulary words to train on")
        if p["loss"] == "hs" and len(enc.vocab) < 2:
            raise WordvecError("hierarchical softmax needs at least two words in the vocabulary")
        v = len(enc.vocab)
        train_on = _eos_view(enc) if p["eos"] else enc
        if not p["eos"]:  # with eos every line with a word has a context (</s>), as in fastText
            check_trainable(train_on)
        vt = len(train_on.vocab)  # word rows trained (+1 for </s>)
        roff, rows = self._training_csr(train_on.vocab.words, v)
        self._rows_per_word = float(len(rows)) / max(v, 1)
        job = make_job(train_on, self.W, self.C, roff, rows, p)
        # run_jobs checks the word rows and output weights for NaN/inf; the n-gram rows are
        # checked after the run (_after_run), by blocks
        return job, train_on, {
            "alpha": p["alpha"], "min_alpha": p["min_alpha"], "weights": (self.W[:vt], self.C),
            "desc": f"fasttext-{p['arch']}-{p['loss']}", "spread": p["spread"],
            "extra_tokens": _extra_tokens(enc, epochs) if p["oov_length"] else 0}

    def _after_run(self, stats):
        check_finite([self.W[self.word_rows:]])  # the n-gram rows, by blocks
        stats["subword_rows_per_word"] = round(self._rows_per_word, 2)

    def _vectors(self):
        p, v = self.params, len(self.vocab)
        # the rows as trained: n-gram rows after the word rows (and </s>'s)
        roff, rows = self._csr(self.vocab.words + [EOS + "\0"] * (self.word_rows - v))
        matrix = np.empty((v, p["dim"]), dtype=np.float32)
        K.word_means(self.W, roff, rows, matrix)
        return FastTextVectors(self.vocab.words, matrix, self.W[self.word_rows:], p["minn"],
                               p["maxn"], p["bucket"], counts=self.vocab.counts)

    def _state_arrays(self):
        return {"input_words": self.W[:self.word_rows], "output": self.C}

    def _from_saved(self, vectors, arrays, header):
        p, v, dim = self.params, len(vectors), vectors.dim
        if (vectors.minn, vectors.maxn, vectors.bucket) != (p["minn"], p["maxn"], p["bucket"]):
            raise WordvecError("the n-gram settings in model.json disagree with its fields")
        vt = self.word_rows
        W = np.empty((vt + p["bucket"], dim), dtype=np.float32)
        W[vt:] = vectors.ngrams
        words = arrays.get("input_words")
        if words is not None:
            if words.shape[1:] != (dim,) or words.shape[0] not in (v, vt):
                raise WordvecError(f"input_words.npy of shape {words.shape} does not fit {v} "
                                   f"words x {dim} dims")
            W[:words.shape[0]] = words
        else:  # wordvec 0.1: a word's vector is the mean of its own row and its n-gram rows
            # (rows index [v word rows, then the n-gram rows]: own rows at zero give the
            # n-gram part of each mean; own row = n_rows * (mean - that part))
            roff, rows = self._csr(vectors.words)
            part = np.zeros((v, dim), dtype=np.float32)
            K.word_means(np.concatenate([np.zeros((v, dim), np.float32), W[vt:]]), roff, rows,
                         part)
            n_rows = np.diff(roff).astype(np.float32)[:, None]
            W[:v] = (np.asarray(vectors.matrix, dtype=np.float32) - part) * n_rows
            words = W[:v]
        if words.shape[0] < vt:  # no </s> row saved: a fresh one
            W[v:vt] = init_input(vt - v, dim, [p["seed"], v])
        out = arrays.get("output")
        want = self._output_rows(vt)
        C = np.zeros((want, dim), dtype=np.float32)
        if out is not None:
            if out.shape[1:] != (dim,) or out.shape[0] not in (want, v):
                raise WordvecError(f"output weights of shape {out.shape} do not fit {v} words "
                                   f"x {dim} dims")
            C[:out.shape[0]] = out
        self.W, self.C = W, C
