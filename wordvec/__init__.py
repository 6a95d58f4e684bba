"""wordvec: word2vec, fastText, GloVe and LSA word vectors, Numba-fast, from the shell.

    import wordvec
    vectors = wordvec.train("corpus.txt", model="sg")
    vectors.analogy("king", "man", "woman")
    wordvec.save(vectors, "vectors"); vectors = wordvec.load("vectors")

    model = wordvec.FastText(dim=100).fit("corpus.txt")   # a model: train more, save, load
    model.train("more.txt", epochs=2); model.save("ft"); model = wordvec.load_model("ft")

Where things live: ``params`` (every family's declared parameters), ``corpus`` / ``encode`` /
``vocab`` (text -> vocabulary -> int32 ids on disk), ``training`` (threads, jobs, lr schedule,
checkpoints), ``*_kernels`` (Numba), ``model`` (the shared model shape) and one module per
family (``word2vec``, ``fasttext``, ``glove``, ``lsa``), ``vectors`` (queries), ``native`` /
``formats`` (files), ``evaluate``, ``plotting`` (word maps), ``clustering`` (word classes), ``sentences``
(text vectors), ``search`` (index and search), ``cli``.
"""

from . import _numba_cache

_numba_cache.configure()  # before any wordvec module imports numba: a read-only install runs

__version__ = "0.1.0"
_bars_terminal_only = False  # the CLI sets it: progress bars only where stderr is a terminal

__all__ = ["train", "load", "save", "Vectors", "WordvecError", "__version__", "Word2Vec",
           "FastText", "GloVe", "LSA", "load_model", "plot", "cluster", "read_classes", "embed",
           "SentenceEncoder", "build_index", "Index"]

_MODELS = {"Word2Vec": "word2vec", "FastText": "fasttext", "GloVe": "glove", "LSA": "lsa"}


def __getattr__(name):  # lazy: `import wordvec` stays light for the CLI's start-up
    if name in _MODELS:
        from .model import model_class
        return model_class(_MODELS[name])
    if name == "load_model":
        from .model import load_model
        return load_model
    if name == "train":
        from .api import train
        return train
    if name == "load":
        from .formats import load_vectors
        return load_vectors
    if name == "save":
        from .formats import save_vectors
        return save_vectors
    if name == "plot":  # (matplotlib is imported when a figure is drawn, not here)
        from .plotting import plot
        return plot
    if name in ("cluster", "read_classes"):
        from . import clustering
        return getattr(clustering, name)
    if name in ("embed", "SentenceEncoder"):
        from . import sentences
        return getattr(sentences, name)
    if name in ("build_index", "Index"):
        from . import search
        return getattr(search, name)
    if name == "Vectors":
        from .vectors import Vectors
        return Vectors
    if name == "WordvecError":
        from .errors import WordvecError
        return WordvecError
    raise AttributeError(f"module 'wordvec' has no attribute {name!r}")
