"""fastText's end-of-line word ``</s>`` read by the kernels, not copied into the corpus.

The kernels get the real (memory-mapped) ids and the ``eos`` id, and must train exactly as if
``eos`` were stored after every sentence; the job runner must still count the virtual tokens
and release the pages of the real ids.
"""

import numpy as np
import pytest

from wordvec import fasttext as ft
from wordvec import ft_kernels as FK
from wordvec import training
from wordvec.encode import EncodedCorpus, encode
from wordvec.fasttext import _eos_view, train_fasttext
from wordvec.rng import seed_state
from wordvec.subwords import subword_csr
from wordvec.vocab import Vocabulary


def text_corpus(tmp_path, n_lines=300, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}x" for i in range(40)]
    p = 1.0 / np.arange(1, 41)
    lines = [" ".join(rng.choice(words, size=int(rng.integers(1, 12)), p=p / p.sum()))
             for _ in range(n_lines)]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    return encode([str(path)], min_count=1)


def test_no_in_memory_copy_of_the_corpus(tmp_path, monkeypatch):
    """The kernel reads the memory-mapped ids themselves, whatever eos says."""
    assert not hasattr(ft, "_EosCorpus")
    corpus = text_corpus(tmp_path)
    assert isinstance(corpus.ids, np.memmap)
    seen = []
    for name in ("sg", "cbow"):
        real = getattr(FK, name)

        def spy(data, *args, _real=real):
            seen.append(data)
            return _real(data, *args)
        monkeypatch.setattr(FK, name, spy)
    for arch in ("sg", "cbow"):
        train_fasttext(corpus, progress=False, arch=arch, dim=8, epochs=1, bucket=500,
                       threads=1, eos=True)
    assert seen
    for ids, offsets, eos in seen:
        assert ids is corpus.ids and isinstance(ids, np.memmap)
        assert offsets[-1] == corpus.n_tokens and eos == len(corpus.vocab)
    corpus.close()


def test_eos_is_trained(tmp_path):
    corpus = text_corpus(tmp_path)
    for arch in ("sg", "cbow"):
        kw = dict(progress=False, arch=arch, dim=8, epochs=2, bucket=500, threads=1, seed=3)
        a = train_fasttext(corpus, eos=True, **kw)
        b = train_fasttext(corpus, eos=False, **kw)
        assert a.meta["stats"]["words"] == 2 * (corpus.n_tokens + corpus.n_sentences)
        assert b.meta["stats"]["words"] == 2 * corpus.n_tokens
        assert not np.array_equal(a.matrix, b.matrix)
        # </s> has its own trained row (after the vocabulary) and output row
        assert a.arrays["input_words"].shape[0] == len(corpus.vocab)
    corpus.close()


def stored_eos_args(corpus):
    """The old way: ``</s>`` (id V) inserted after every sentence of an in-RAM copy."""
    v = len(corpus.vocab)
    off = np.asarray(corpus.offsets, dtype=np.int64)
    ids = np.insert(np.asarray(corpus.ids), off[1:], np.int32(v)).astype(np.int32)
    return FK.corpus_args(ids, off + np.arange(len(off), dtype=np.int64), -1)


@pytest.mark.parametrize("arch", ["sg", "cbow"])
@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_virtual_eos_equals_stored_eos(arch, loss):
    """Bit for bit the result of training on a copy with ``</s>`` stored after every sentence
    (subsampling of ``</s>`` included: its keep probability is below 1 here)."""
    rng = np.random.default_rng(1)
    vocab = Vocabulary([f"w{i}" for i in range(12)], np.arange(60, 0, -5))
    sents = [rng.integers(0, 12, int(rng.integers(0, 9))).tolist() for _ in range(60)]
    corpus = EncodedCorpus.from_arrays(vocab, sents)
    view = _eos_view(corpus)
    v1 = len(view.vocab)
    keep = np.full(v1, 0.7, dtype=np.float32)
    keep[:4] = 1.0
    roff, rows = subword_csr(view.vocab.words, 2, 3, 50)
    rows = rows[:roff[v1 - 1] + 1].copy()
    roff[v1] = roff[v1 - 1] + 1
    hs = loss == "hs"
    lossg = FK.loss_args(hs, 3, None if hs else view.vocab.noise_alias(power=0.5),
                         view.vocab.huffman() if hs else None)
    overlap = FK.row_overlap(roff, rows)
    kern = FK.sg if arch == "sg" else FK.cbow
    sig = FK.sigmoid_table("fasttext")
    results = []
    for data in (stored_eos_args(corpus), FK.corpus_args(view.ids, view.id_offsets, view.eos)):
        W = (np.random.default_rng(2).random((v1 + 50, 8), dtype=np.float32) - 0.5) / 4
        C = np.zeros((v1 - 1 if hs else v1, 8), dtype=np.float32)
        model = FK.model_args(W, C, keep, 3, True, (roff, rows, overlap))
        progress = np.zeros(1, np.int64)
        sched = (seed_state(5), progress, 0, np.array([0.1, 0.0, 1e4]))
        out = kern(data, 0, len(sents), model, lossg, sched, sig)
        results.append((W, C, out, int(progress[0])))
    (w1, c1, o1, p1), (w2, c2, o2, p2) = results
    assert o1[2] == o2[2] == corpus.n_tokens + len(sents) == p1 == p2  # words read
    assert o1[3] == o2[3] and o1[1] == o2[1]  # kept words, predictions
    assert np.array_equal(w1, w2) and np.array_equal(c1, c2)
    assert np.abs(w1[v1 - 1]).max() > 0  # </s>'s row moved


def test_release_gets_real_token_positions(tmp_path, monkeypatch):
    """run_jobs drops the pages of the REAL ids: positions from id_offsets, not the virtual
    offsets that count one </s> per sentence."""
    corpus = text_corpus(tmp_path, n_lines=2000)
    calls = []
    monkeypatch.setattr(training, "_release", lambda ids, a, b: calls.append((ids, a, b)))
    train_fasttext(corpus, progress=False, dim=4, epochs=1, bucket=100, threads=1, eos=True,
                   oov_length=False)
    assert len(calls) > 1
    spans = sorted((a, b) for _, a, b in calls)
    assert all(ids is corpus.ids for ids, _, _ in calls)
    assert spans[0][0] == 0 and spans[-1][1] == corpus.n_tokens  # not n_tokens + lines
    assert all(spans[k][1] == spans[k + 1][0] for k in range(len(spans) - 1))
    off = np.asarray(corpus.offsets)
    assert all(a in off and b in off for a, b in spans)  # sentence starts of the real ids
    corpus.close()
