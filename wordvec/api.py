"""The Python entry point: ``wordvec.train(corpus, model=...)`` -> trained :class:`Vectors`.

Flow: text -> :func:`wordvec.encode.encode` (vocabulary + int32 ids on disk) -> one family's
model (:mod:`wordvec.model`: Word2Vec, FastText, GloVe, LSA) -> its ``.wv``, a
:class:`wordvec.vectors.Vectors` with ``meta`` (kind, params, stats). For continuing,
checkpoints or the training state, use the model classes (``wordvec.Word2Vec`` etc.).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .errors import WordvecError
from .params import KINDS, schema_for
from .resources import BUNDLED_CORPUS, bundled_corpus  # noqa: F401 - the public names

if TYPE_CHECKING:
    from .model import Checkpoint, Corpus, Model
    from .vectors import Vectors

MODELS = tuple(KINDS)

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


def make_model(model: str = "sg", **params) -> Model:
    """An untrained model of the CLI kind ``model`` (sg, cbow, fasttext, glove, lsa), its
    ``params`` checked against the family's declaration (:mod:`wordvec.params`)."""
    from .model import model_class
    schema = schema_for(model)
    if schema.family == "word2vec":
        params = {**params, "arch": model}
    if params.get("cooccur") is not None:
        if schema.family not in ("glove", "lsa"):
            raise WordvecError("cooccur= (a counted matrix) is for the glove and lsa models")
        _adopt_cooccur_settings(params)
    return model_class(schema.family)(**params)


def train(corpus: Corpus = None, model: str = "sg", *, progress: bool = True,
          workdir: str | None = None, checkpoint: Checkpoint | None = None,
          **params) -> Vectors:
    """Train word vectors on ``corpus`` (paths, or an iterable of token lists; None: the
    bundled corpus) and return them (:class:`~wordvec.vectors.Vectors`).

    ``model`` is one of ``sg``, ``cbow``, ``fasttext``, ``glove``, ``lsa``; the other keyword
    arguments are that family's parameters (:mod:`wordvec.params`; ``wordvec train --help``),
    including ``min_count``, ``max_vocab`` and ``lowercase``.
    """
    m = make_model(model, **params)
    if m.params.get("cooccur") is not None and corpus is not None:
        raise WordvecError("give either a corpus or a co-occurrence matrix (--cooccur), not both")
    if corpus is None and m.params.get("cooccur") is None:
        corpus = bundled_corpus()
    m.fit(corpus, progress=progress, checkpoint=checkpoint, workdir=workdir)
    return m.wv
