"""Numba kernels for fastText: skip-gram and CBOW over subword rows, NS or hierarchical softmax.

The training loops live in :mod:`wordvec.sgd_kernels` (one sentence/window loop per architecture,
shared with word2vec); :func:`sg` and :func:`cbow` are fastText's entries there, with the grouped
arguments ``(corpus, first, last, model, loss, sched, sig)`` described in that module. Same
contract as :mod:`wordvec.w2v_kernels` (see :mod:`wordvec.training`).

``W`` is fastText's input matrix: ``V`` word rows then ``bucket`` n-gram rows; word ``w``'s
rows are ``rows[roff[w]:roff[w+1]]`` (its own row then its n-gram rows, see
:mod:`wordvec.subwords`). As in fastText, the hidden vector is the MEAN of the input rows and
the full gradient is added to EVERY one of them. ``C`` holds the output rows (one per word for
negative sampling, Huffman inner nodes for hierarchical softmax).

Skip-gram follows fastText's direction: the centre word's subword mean predicts each context
word; the rows are written once per centre word with the same result as fastText's per-pair
updates (see ``row_overlap`` below and ``sgd_kernels._subword_centre``).

fastText's end-of-line word ``</s>`` is the corpus group's ``eos`` id: read after every sentence
without a copy of the corpus.

Negatives as fastText draws them: from unigram counts ** 0.5 by default (the exponent is the
trainer's ``ns_exponent``), redrawn while equal to the target.
"""

from .sgd_kernels import (  # noqa: F401 - this module's interface
    MAX_REDRAW,
    corpus_args,
    loss_args,
    model_args,
    row_overlap,
    sigmoid_table,
    word_means,
)
from .sgd_kernels import ft_cbow as cbow  # noqa: F401
from .sgd_kernels import ft_sg as sg  # noqa: F401
