"""wordvec: word2vec, fastText, GloVe and LSA word vectors, Numba-fast, from the shell."""

__version__ = "0.1.0"
