"""The Python entry point: ``wordvec.train(corpus, model=...)`` -> trained :class:`Vectors`.

Flow: text -> :func:`wordvec.encode.encode` (vocabulary + int32 ids on disk) -> one family's
trainer -> :class:`wordvec.vectors.Vectors` with ``meta`` (kind, params, stats).
"""

import os
import time

from .encode import encode
from .errors import WordvecError

MODELS = ("sg", "cbow", "fasttext", "glove", "lsa")
BUNDLED_CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "corpora", "gutenberg-pd.txt.xz")


def bundled_corpus():
    """Path of the small public-domain corpus shipped in the repository's ``corpora/``."""
    if not os.path.isfile(BUNDLED_CORPUS):
        raise WordvecError(
            "no corpus given and the bundled corpus (corpora/gutenberg-pd.txt.xz) is not "
            "beside this installation: name a corpus file")
    return BUNDLED_CORPUS


def _trainer(model):
    if model in ("sg", "cbow"):
        from .word2vec import train_word2vec
        return train_word2vec
    if model == "fasttext":
        from .fasttext import train_fasttext
        return train_fasttext
    if model == "glove":
        from .glove import train_glove
        return train_glove
    if model == "lsa":
        from .lsa import train_lsa
        return train_lsa
    raise WordvecError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")


def train(corpus=None, model="sg", *, min_count=5, max_vocab=None, lowercase=False,
          workdir=None, progress=True, **params):
    """Train word vectors on ``corpus`` (paths, or an iterable of token lists).

    ``model`` is one of ``sg``, ``cbow``, ``fasttext``, ``glove``, ``lsa``; the other keyword
    arguments are that trainer's hyper-parameters (see ``wordvec train --help``).
    Returns the trained :class:`~wordvec.vectors.Vectors`.
    """
    trainer = _trainer(model)
    if min_count < 1:
        raise WordvecError("min_count must be at least 1")
    if max_vocab is not None and max_vocab < 1:
        raise WordvecError("max_vocab must be at least 1")
    if params.get("cooccur") is not None:
        if model not in ("glove", "lsa"):
            raise WordvecError("cooccur= (a counted matrix) is for the glove and lsa models")
        if corpus is not None:
            raise WordvecError("give either a corpus or a co-occurrence matrix (--cooccur), not both")
        return trainer(None, progress=progress, **params)
    if corpus is None:
        corpus = bundled_corpus()
    t0 = time.perf_counter()
    encoded = encode(corpus, min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
                     workdir=workdir)
    t_encode = time.perf_counter() - t0
    try:
        if model in ("sg", "cbow"):
            params["model"] = model
        vectors = trainer(encoded, progress=progress, **params)
    finally:
        encoded.close()
    meta = vectors.meta
    meta.setdefault("params", {}).update(
        {"min_count": min_count, "max_vocab": max_vocab, "lowercase": lowercase})
    stats = meta.setdefault("stats", {})
    stats.update({"encode_seconds": round(t_encode, 3), "corpus_tokens": encoded.raw_tokens,
                  "vocab_tokens": encoded.n_tokens, "vocab_size": len(encoded.vocab)})
    return vectors
