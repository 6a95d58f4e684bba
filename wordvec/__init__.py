"""wordvec: word2vec, fastText, GloVe and LSA word vectors, Numba-fast, from the shell.

    import wordvec
    vectors = wordvec.train("corpus.txt", model="sg")
    vectors.analogy("king", "man", "woman")
    wordvec.save(vectors, "vectors"); vectors = wordvec.load("vectors")
"""

from . import _numba_cache

_numba_cache.configure()  # before any wordvec module imports numba: a read-only install runs

__version__ = "0.1.0"
_bars_terminal_only = False  # the CLI sets it: progress bars only where stderr is a terminal

__all__ = ["train", "load", "save", "Vectors", "WordvecError", "__version__"]


def __getattr__(name):  # lazy: `import wordvec` stays light for the CLI's start-up
    if name == "train":
        from .api import train
        return train
    if name == "load":
        from .formats import load_vectors
        return load_vectors
    if name == "save":
        from .formats import save_vectors
        return save_vectors
    if name == "Vectors":
        from .vectors import Vectors
        return Vectors
    if name == "WordvecError":
        from .errors import WordvecError
        return WordvecError
    raise AttributeError(f"module 'wordvec' has no attribute {name!r}")
