"""word2vec's kernels: skip-gram and CBOW x negative sampling and hierarchical softmax.

They live in :mod:`wordvec.sgd_kernels` (one sentence/window loop per architecture, shared with
fastText, the losses inlined); this module names word2vec's entries. Each takes the grouped
arguments ``(corpus, first, last, model, loss, sched, sig)`` described there.

Notation as in word2vec.c: ``W`` (input vectors, the result) and ``C`` (output weights: context
vectors for negative sampling, inner Huffman nodes for hierarchical softmax). Skip-gram trains the
input vector of each context word to predict the centre word (as word2vec.c and gensim do); with
``shared`` negatives the centre word's K noise words are drawn once per window and shared by all
its contexts (Ji et al. 2016), so each window is a small dense block of dot products over the
same few output rows. CBOW predicts the centre word from the sum (or mean) of its context
vectors. Subsampling (keep probabilities), the dynamic window and the noise draws (alias table)
all happen in the kernel, with the job's own RNG state.
"""

from .sgd_kernels import (  # noqa: F401 - this module's interface
    LOG_SIGMOID,
    MAX_EXP,
    SIGMOID,
    TABLE_SIZE,
    cbow_hs,
    cbow_ns,
    corpus_args,
    loss_args,
    model_args,
    sg_hs,
    sg_hs_shared,
    sg_ns,
    sg_ns_shared,
    sigmoid_table,
)
