"""The Python entry point: ``wordvec.train(corpus, model=...)`` -> trained :class:`Vectors`.

Flow: text -> :func:`wordvec.encode.encode` (vocabulary + int32 ids on disk) -> one family's
trainer -> :class:`wordvec.vectors.Vectors` with ``meta`` (kind, params, stats).
"""

import os
import time

import numpy as np

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


_COUNTED = ("window", "symmetric", "distance_weighting")
_FLAGS = {"window": "--window", "symmetric": "--symmetric/--asymmetric",
          "distance_weighting": "--distance-weighting/--no-distance-weighting"}


def _adopt_cooccur_settings(params):
    """A saved matrix was counted with its own window, sides and weighting: use those, and
    refuse options that contradict them (they cannot change a matrix already counted)."""
    path = params["cooccur"]
    if not isinstance(path, (str, os.PathLike)):
        return
    from .cooccur_file import read_settings
    recorded = read_settings(path)
    for key in _COUNTED:
        if key not in recorded:
            continue
        if key in params and params[key] != recorded[key]:
            raise WordvecError(
                f"{_FLAGS[key]} ({params[key]}) contradicts {os.fspath(path)}, which was counted "
                f"with {key} = {recorded[key]}: drop the option or count a new matrix")
        params[key] = recorded[key]
    if "memory_gb" in params:
        raise WordvecError("--memory applies to counting, and a saved matrix (--cooccur) is "
                           "already counted: drop --memory")


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
    seed = params.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed < 2**63):
        raise WordvecError(f"seed must be an integer from 0 to 2**63-1 (got {seed!r})")
    if params.get("cooccur") is not None:
        if model not in ("glove", "lsa"):
            raise WordvecError("cooccur= (a counted matrix) is for the glove and lsa models")
        if corpus is not None:
            raise WordvecError("give either a corpus or a co-occurrence matrix (--cooccur), not both")
        _adopt_cooccur_settings(params)
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
