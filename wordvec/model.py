"""The model layer: one class per family, all with the same shape.

    model = Word2Vec(arch="cbow", epochs=5)     # declared parameters (wordvec.params), checked
    model.fit("corpus.txt")                     # text -> vocabulary -> encoded corpus -> kernels
    model.train("more.txt", epochs=2)           # continue: new words added, lr decays again
    model.wv.most_similar("king")               # the vectors (a wordvec.vectors.Vectors)
    model.save("folder"); Word2Vec.load("folder")   # the native format, training state included

:class:`Model` holds what every family shares: the parameters, the vocabulary, the training
history, encoding a corpus, continuing on more text (:meth:`Model.train`), saving and loading
the state, and resumable checkpoints. A family (:class:`wordvec.word2vec.Word2Vec`,
:class:`wordvec.fasttext.FastText`, :class:`wordvec.glove.GloVe`, :class:`wordvec.lsa.LSA`)
declares its :attr:`schema` and :attr:`state` (the arrays training updates) and implements a few
hooks: ``_init_state``, ``_grow`` (rows for new words), ``_setup`` (the job and run settings for
:func:`wordvec.training.run_jobs`), ``_vectors`` (what ``.wv`` gives) and ``_from_saved``.

Continuing (:meth:`Model.train`, ``wordvec train MORE --continue MODEL``), the vocabulary
policy, as gensim's ``build_vocab(update=True)``: words of the new text already in the model keep
their rows and their counts grow by the new counts; words new to the model are added (at the
end, initialised as at the start of training) when they occur at least ``min_count`` times in
the new text; rarer new words are ignored. Sub-sampling, the noise distribution and the Huffman
tree then follow the updated counts. The learning rate decays again from ``alpha`` to
``min_alpha`` over the new epochs, and the random streams are fresh (they depend on how many
times the model was trained).

Checkpoints (``checkpoint=Checkpoint(path, every)``, ``wordvec train --checkpoint-every``): the
training pauses between jobs now and then and writes its complete state (weights, AdaGrad sums,
vocabulary, the schedule position: the next job and the words done, the statistics so far, and
what the corpus was) atomically to ``path``; :func:`resume` finishes the run from it. With one
thread the resumed run's vectors are bit-identical to an uninterrupted run's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from . import native
from .errors import WordvecError
from .params import Schema

if TYPE_CHECKING:
    from .vectors import Vectors

PathLike = str | os.PathLike
#: a corpus: a path, several paths, an iterable of token lists, or an EncodedCorpus
Corpus = PathLike | Iterable | None

STATE_VERSION = 1


class Checkpoint:
    """Where (``path``, a native folder) and how often (``every`` seconds) to save a resumable
    state; ``info`` is kept in it for whoever resumes (the CLI's output path and options)."""

    def __init__(self, path: PathLike, every: float, info: dict | None = None):
        self.path = os.fspath(path)
        self.every = float(every)
        if not self.every > 0:
            raise WordvecError(f"the checkpoint interval must be positive, not {every!r}")
        self.info = dict(info or {})


class Model:
    """A trainable model of one family. See the module docstring."""

    schema: Schema = None
    family = ""
    state: tuple = ()  # names of the arrays training updates (saved with the model)

    def __init__(self, corpus: Corpus = None, *, progress: bool = False, **params):
        self.params = self.schema.resolve(params)
        self.vocab = None
        self.history = []  # the statistics of the training runs, oldest first (the last 20)
        self._runs = 0
        self._resume = None  # a checkpoint's run state, while resuming
        if corpus is not None:
            self.fit(corpus, progress=progress)

    # ---- what a user sees --------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.family

    @property
    def runs(self) -> int:
        """How many times the model was trained (fit, then each train): each run draws its
        own random streams."""
        return self._runs

    def _done(self, stats):
        self.history = (self.history + [stats])[-20:]
        self._runs += 1

    def __repr__(self):
        size = f"{len(self.vocab):,} words" if self.vocab is not None else "not trained"
        return f"{type(self).__name__}({self.kind}, {size}, dim {self.params.get('dim')})"

    @property
    def wv(self) -> Vectors:
        """The word vectors (:class:`~wordvec.vectors.Vectors`), with ``meta`` (kind, params,
        stats) as the native format stores it."""
        if self.vocab is None:
            raise WordvecError("the model is not trained yet: call fit(corpus) first")
        v = self._vectors()
        v.meta = {"kind": self.kind, "params": dict(self.params),
                  "stats": self.history[-1] if self.history else {}}
        return v

    def fit(self, corpus: Corpus = None, *, progress: bool = False,
            checkpoint: Checkpoint | None = None, workdir: str | None = None) -> Model:
        """Train from scratch on ``corpus`` (paths, or an iterable of token lists, or an
        :class:`~wordvec.encode.EncodedCorpus`; None: the bundled corpus). Returns ``self``."""
        self.vocab = None
        self.history, self._runs = [], 0
        t0 = time.perf_counter()
        with _Opened(self, corpus, workdir) as enc:
            t_encode = time.perf_counter() - t0
            self.vocab = enc.vocab if enc is not None else None
            self._init_state(enc)
            stats = self._run(enc, self.params["epochs"] if "epochs" in self.params else 1,
                              progress=progress, checkpoint=checkpoint, phase="fit",
                              corpus=corpus)
            _corpus_stats(stats, enc, t_encode)
        self._done(stats)
        return self

    def train(self, corpus: Corpus, *, epochs: int | None = None, new_words: bool = True,
              progress: bool = False, checkpoint: Checkpoint | None = None,
              min_count: int | None = None) -> dict:
        """Continue training on ``corpus`` (see the module docstring for new words); returns
        that run's statistics. An untrained model is fitted instead."""
        if self.vocab is None:
            if epochs is not None:
                self.params = self.schema.resolve({**self.params, "epochs": epochs})
            self.fit(corpus, progress=progress, checkpoint=checkpoint)
            return self.history[-1]
        if epochs is not None and "epochs" in self.schema:
            epochs = self.schema.by_name["epochs"].check(epochs)
        epochs = epochs if epochs is not None else self.params.get("epochs", 1)
        min_count = self.params["min_count"] if min_count is None else min_count
        t0 = time.perf_counter()
        added = self._update_vocab(corpus, min_count) if new_words else 0
        from .encode import EncodedCorpus, encode
        own = not isinstance(corpus, EncodedCorpus)
        enc = (encode(corpus, min_count=1, lowercase=self.params["lowercase"], vocab=self.vocab)
               if own else corpus)
        try:
            t_encode = time.perf_counter() - t0
            if not own and enc.vocab.words != self.vocab.words:
                raise WordvecError("the encoded corpus has a different vocabulary than the model")
            stats = self._run(enc, epochs, progress=progress, checkpoint=checkpoint,
                              phase="train", corpus=corpus)
            stats["new_words"] = added
            _corpus_stats(stats, enc, t_encode)
        finally:
            if own:
                enc.close()
        self._done(stats)
        return stats

    # ---- saving and loading ------------------------------------------------------------------
    def save(self, path: PathLike, *, force: bool = False, inputs: Iterable[PathLike] = (),
             vectors: Vectors | None = None, fields: dict | None = None) -> None:
        """Save as a native model folder: the vectors (what any wordvec command queries) plus
        the training state, so :meth:`load` can continue training."""
        v = vectors if vectors is not None else self.wv
        arrays = {k: a for k, a in self._state_arrays().items()}
        native.save(v, path, arrays=arrays, fields={"model": self._model_fields(), **(fields or {})},
                    force=force, inputs=inputs)

    def _model_fields(self):
        return {"class": type(self).__name__, "family": self.family,
                "state_version": STATE_VERSION, "runs": self.runs, "history": self.history}

    @classmethod
    def load(cls, path: PathLike) -> Model:
        """A model saved by :meth:`save` or ``wordvec train`` (also by wordvec 0.1, whose
        folders hold the vectors but not all of the training state: see each family)."""
        header = native.read_header(path)
        family = family_of(header)
        if cls is not Model and cls.family != family:
            raise WordvecError(f"{path}: a {family} model, not {cls.family} "
                               f"(load it with wordvec.load_model)")
        klass = model_class(family) if cls is Model else cls
        v = native.load(path, mmap=False)
        model = klass.__new__(klass)
        Model.__init__(model, **_saved_params(klass, header, path))
        model.vocab = _vocab_of(v)
        fields = header.get("fields", {}).get("model")
        runs = fields.get("runs") if isinstance(fields, dict) else None
        if isinstance(runs, int) and not isinstance(runs, bool) and runs >= 0:
            history = fields.get("history", [])
            model.history = [h for h in history if isinstance(h, dict)] \
                if isinstance(history, list) else []
            model._runs = runs
        else:  # saved by wordvec 0.1: trained once
            model.history, model._runs = [header.get("stats", {})], 1
        model._resume = None
        try:
            model._from_saved(v, getattr(v, "arrays", {}), header)
        except WordvecError as e:
            raise WordvecError(f"{path}: {e}") from None
        return model

    # ---- the family's hooks ------------------------------------------------------------------
    def _init_state(self, enc):
        raise NotImplementedError

    def _grow(self, n_old):
        """Give the words ``n_old..`` of ``self.vocab`` (just added) fresh rows."""
        raise NotImplementedError

    def _setup(self, enc, epochs):
        """``(job, corpus, run_jobs keyword arguments)`` for one training run."""
        raise NotImplementedError

    def _vectors(self):
        raise NotImplementedError

    def _from_saved(self, vectors, arrays, header):
        raise NotImplementedError

    def _state_arrays(self):
        return {name: getattr(self, name) for name in self.state}

    def _after_run(self, stats):
        """After the kernels: final checks and statistics (the family's)."""

    # ---- shared machinery --------------------------------------------------------------------
    def _run(self, enc, epochs, *, progress, checkpoint, phase, corpus):
        from .training import Checkpoints, run_jobs
        job, data, kw = self._setup(enc, epochs)
        ck = None
        if checkpoint is not None:
            fingerprint = _fingerprint(corpus, enc)
            matrix = self.params.get("cooccur")
            if isinstance(matrix, (str, os.PathLike)):
                st = os.stat(matrix)
                fingerprint["matrix"] = [os.path.abspath(matrix), st.st_size, st.st_mtime_ns]

            def save(state):
                self._write_checkpoint(checkpoint, state, epochs, phase, fingerprint)
            ck = Checkpoints(checkpoint.every, save)
        resume, self._resume = self._resume, None
        stats = run_jobs(data, job, epochs=epochs, threads=self.params["threads"],
                         seed=self.params["seed"], stream=self.runs, resume=resume,
                         checkpoints=ck, progress=progress, **kw)
        self._after_run(stats)
        return stats

    def _update_vocab(self, corpus, min_count):
        """Add the words of ``corpus`` new to the model (count >= ``min_count`` there) and add
        the new counts of known words; returns how many words were added."""
        from .encode import EncodedCorpus, count_words
        from .vocab import Vocabulary
        if isinstance(corpus, EncodedCorpus):
            return 0
        if not isinstance(corpus, (str, os.PathLike, list, tuple)):
            raise WordvecError("continuing needs a corpus that can be read twice (paths or a "
                               "list of token lists): the first read counts the new words")
        counted = count_words(corpus, min_count=1, lowercase=self.params["lowercase"])
        counts = self.vocab.counts.copy()
        for w, c in zip(counted.words, counted.counts.tolist()):
            i = self.vocab.index.get(w)
            if i is not None:
                counts[i] += c
        new = [(w, c) for w, c in zip(counted.words, counted.counts.tolist())
               if c >= min_count and w not in self.vocab.index]
        n_old = len(self.vocab)
        self.vocab = Vocabulary(self.vocab.words + [w for w, _ in new],
                                np.concatenate([counts, np.array([c for _, c in new],
                                                                 dtype=np.int64)]))
        if new:
            self._grow(n_old)
        return len(new)

    def _write_checkpoint(self, checkpoint, state, epochs, phase, fingerprint):
        fields = {"checkpoint": {"state": state, "epochs": epochs, "phase": phase,
                                 "corpus": fingerprint, "info": checkpoint.info,
                                 "stream": self.runs}}
        self.save(checkpoint.path, vectors=self._checkpoint_vectors(), fields=fields)

    def _checkpoint_vectors(self):
        v = self._vectors()
        v.meta = {"kind": self.kind, "params": dict(self.params), "stats": {}}
        return v


def _corpus_stats(stats, enc, t_encode):
    if enc is None:
        return
    stats.update({"encode_seconds": round(t_encode, 3),
                  "corpus_tokens": int(getattr(enc, "raw_tokens", enc.n_tokens)),
                  "vocab_tokens": int(enc.n_tokens), "vocab_size": len(enc.vocab),
                  "sentences": int(enc.n_sentences)})
    pruned = getattr(enc, "pruned_words", None)
    if pruned:
        stats["pruned_words"] = int(pruned)


class _Opened:
    """The encoded corpus of a fit (closed afterwards if encoded here); None for a model that
    trains on a saved co-occurrence matrix."""

    def __init__(self, model, corpus, workdir):
        self.model, self.corpus, self.workdir = model, corpus, workdir
        self.enc, self.own = None, False

    def __enter__(self):
        from .encode import EncodedCorpus, encode
        p = self.model.params
        if p.get("cooccur") is not None:
            if self.corpus is not None:
                raise WordvecError("give either a corpus or a co-occurrence matrix (cooccur=), "
                                   "not both")
            return None
        corpus = self.corpus
        if corpus is None:
            from .resources import bundled_corpus
            corpus = bundled_corpus()
        if isinstance(corpus, EncodedCorpus):
            self.enc = corpus
        else:
            self.enc = encode(corpus, min_count=p["min_count"], max_vocab=p["max_vocab"],
                              lowercase=p["lowercase"], workdir=self.workdir)
            self.own = True
        return self.enc

    def __exit__(self, *exc):
        if self.own and self.enc is not None:
            self.enc.close()


# ---- which class, which parameters ---------------------------------------------------------
# family -> (module, class): the one table of the model classes (``wordvec`` exports them lazily)
CLASSES = {"word2vec": ("word2vec", "Word2Vec"), "fasttext": ("fasttext", "FastText"),
           "glove": ("glove", "GloVe"), "lsa": ("lsa", "LSA")}


def model_class(family):
    if family not in CLASSES:
        raise WordvecError(f"unknown model family {family!r}")
    import importlib
    module, name = CLASSES[family]
    return getattr(importlib.import_module(f"wordvec.{module}"), name)


def family_of(header):
    kind = header.get("kind")
    from .params import KINDS
    if kind in KINDS:
        return KINDS[kind]
    raise WordvecError(f"a model of kind {kind!r} cannot be trained (only vectors: sg, cbow, "
                       "fasttext, glove and lsa models are trainable)")


def _saved_params(klass, header, path):
    """The parameters in a model.json, old names mapped, keys of other versions dropped."""
    saved = header.get("params", {})
    schema = klass.schema
    given = {}
    for k, v in schema.canonical({k: v for k, v in saved.items()
                                  if k in schema.by_name or k in schema.aliases}).items():
        given[k] = v
    if klass.family == "word2vec" and "arch" not in given and header.get("kind") in ("sg", "cbow"):
        given["arch"] = header["kind"]
    try:
        return schema.resolve(given)
    except WordvecError as e:
        raise WordvecError(f"{path}: model.json params: {e}") from None


def _vocab_of(vectors):
    from .vocab import Vocabulary
    counts = vectors.counts if vectors.counts is not None else np.ones(len(vectors), np.int64)
    return Vocabulary(vectors.words, counts)


def load_model(path: PathLike) -> Model:
    """The trainable model saved in the native folder ``path`` (its class from model.json), or
    in a facebook fastText ``.bin`` file (:func:`wordvec.fasttext_bin.load_model`)."""
    from . import archives, fasttext_bin
    if not native.is_native(path) and os.path.exists(archives.split_member(path)[0]):
        from .formats import _open_raw, detect
        if detect(path) == "fasttext-bin":  # (also compressed, or a member of a zip)
            with _open_raw(path) as f:
                return fasttext_bin.load_model(path, f)
    return Model.load(path)


# ---- checkpoints ---------------------------------------------------------------------------
def _fingerprint(corpus, enc):
    """What the corpus was: its files (size, modification time) and the encoded counts."""
    files = []
    if isinstance(corpus, (str, os.PathLike)) or (
            isinstance(corpus, (list, tuple)) and corpus
            and all(isinstance(c, (str, os.PathLike)) for c in corpus)):
        from .corpus import expand_paths
        paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
        for path in expand_paths([os.fspath(p) for p in paths]):
            if path == "-":
                raise WordvecError("a corpus read from stdin cannot be checkpointed (resuming "
                                   "reads the corpus again): name a file")
            st = os.stat(path)
            files.append([os.path.abspath(path), st.st_size, st.st_mtime_ns])
    elif corpus is not None:
        raise WordvecError("checkpoints need a corpus of files (resuming reads it again)")
    out = {"files": files}
    if enc is not None:
        out.update({"tokens": int(enc.n_tokens), "sentences": int(enc.n_sentences),
                    "vocab_size": len(enc.vocab), "vocab_total": int(enc.vocab.total)})
    return out


def resume(path: PathLike, *, progress: bool = False) -> tuple[Model, dict]:
    """Finish the run a checkpoint folder saved; returns ``(model, info)`` (``info``: what the
    caller stored with the checkpoint). Refused in one line if the corpus changed."""
    path = os.fspath(path)
    if not native.is_native(path):
        raise WordvecError(f"{path}: not a checkpoint (no model.json in it)")
    header = native.read_header(path)
    ck = header.get("fields", {}).get("checkpoint")
    if not isinstance(ck, dict) or not isinstance(ck.get("state"), dict):
        raise WordvecError(f"{path}: a model, not a checkpoint (nothing to resume)")
    model = Model.load(path)
    fp = ck.get("corpus", {})
    files = [f[0] for f in fp.get("files", [])]
    for name, size, mtime in fp.get("files", []) + ([fp["matrix"]] if "matrix" in fp else []):
        try:
            st = os.stat(name)
        except OSError:
            raise WordvecError(f"cannot resume: the corpus file {name} is gone") from None
        if st.st_size != size or st.st_mtime_ns != mtime:
            raise WordvecError(f"cannot resume: the corpus file {name} changed since the "
                               "checkpoint (size or modification time)")
    corpus = files if files else None
    if corpus is None and model.params.get("cooccur") is None:
        raise WordvecError(f"{path}: the checkpoint names no corpus files")
    if model.runs != int(ck.get("stream", 0)):
        raise WordvecError(f"{path}: inconsistent checkpoint (training run count)")
    model._resume = ck["state"]
    epochs = int(ck["epochs"])
    checkpoint = Checkpoint(path, ck.get("info", {}).get("every", 600), ck.get("info", {}))
    t0 = time.perf_counter()
    from .encode import encode
    if ck.get("phase") == "fit":
        with _Opened(model, corpus, None) as enc:
            _check_same(enc, fp, model)
            stats = model._run(enc, epochs, progress=progress, checkpoint=checkpoint,
                               phase="fit", corpus=corpus)
            _corpus_stats(stats, enc, time.perf_counter() - t0)
    else:
        enc = encode(corpus, min_count=1, lowercase=model.params["lowercase"], vocab=model.vocab)
        try:
            _check_same(enc, fp, model)
            stats = model._run(enc, epochs, progress=progress, checkpoint=checkpoint,
                               phase="train", corpus=corpus)
            _corpus_stats(stats, enc, time.perf_counter() - t0)
        finally:
            enc.close()
    model._done(stats)
    return model, ck.get("info", {})


def _check_same(enc, fp, model):
    if enc is None:
        return
    got = {"tokens": int(enc.n_tokens), "sentences": int(enc.n_sentences),
           "vocab_size": len(enc.vocab), "vocab_total": int(enc.vocab.total)}
    for k, v in got.items():
        if k in fp and fp[k] != v:
            raise WordvecError(f"cannot resume: the corpus is not the one checkpointed "
                               f"({k.replace('_', ' ')} {v:,}, was {fp[k]:,})")
    if enc.vocab.words != model.vocab.words:
        raise WordvecError("cannot resume: the corpus gives another vocabulary than the "
                           "checkpoint's")
