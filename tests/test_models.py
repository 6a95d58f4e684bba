"""The model layer (issue 10): declared parameters, one class per family, continue and resume.

- every family fits, saves, loads (its training state included) and continues training;
- continuing adds new words as documented (count >= min_count in the new text) and grows the
  known words' counts;
- folders saved by wordvec 0.1 (tests/data/v0.1, written by the code before this layer) load
  into their class; their training state is recovered where it can be (fastText's word rows)
  and refused in one line where it cannot (GloVe's accumulators);
- an interrupted run resumed from its checkpoint gives bit-identical vectors (one thread), in
  Python and from the CLI after a SIGKILL; a changed corpus is refused;
- the CLI options, the Python keywords and model.json come from one declaration.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec import model as model_mod
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.model import Checkpoint, load_model, resume
from wordvec.params import SCHEMAS, option_table

HERE = os.path.dirname(os.path.abspath(__file__))
OLD = os.path.join(HERE, "data", "v0.1")
ROOT = os.path.dirname(HERE)


def planted(n=1500, seed=0, extra=()):
    rng = np.random.default_rng(seed)
    topics = [[f"t{t}w{i}" for i in range(10)] for t in range(4)]
    out = []
    for _ in range(n):
        t = topics[rng.integers(4)]
        out.append([t[rng.integers(10)] if rng.random() < 0.8 else "the" for _ in range(12)])
    for word, times in extra:
        for i in range(times):
            out[i % len(out)] = out[i % len(out)] + [word]
    return out


SMALL = {
    "sg": dict(dim=8, epochs=2, threads=1, min_count=1),
    "cbow": dict(dim=8, epochs=2, threads=1, min_count=1, loss="hs"),
    "fasttext": dict(dim=8, epochs=2, threads=1, min_count=1, bucket=500),
    "glove": dict(dim=8, epochs=3, threads=1, min_count=1, window=4),
    "lsa": dict(dim=4, threads=1, min_count=1),
}


def make(kind, **kw):
    from wordvec.api import make_model
    return make_model(kind, **{**SMALL[kind], **kw})


@pytest.mark.parametrize("kind", list(SMALL))
def test_fit_save_load_continue(kind, tmp_path):
    m = make(kind).fit(planted())
    assert m.kind == kind and m.runs == 1
    path = tmp_path / "m"
    m.save(path)
    back = load_model(path)
    assert type(back) is type(m) and back.params == m.params
    np.testing.assert_array_equal(back.wv.matrix, m.wv.matrix)
    for name in type(m).state:
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    before = back.wv.matrix.copy()
    stats = back.train(planted(400, seed=5), **({} if kind == "lsa" else {"epochs": 1}))
    assert back.runs == 2 and stats
    assert not np.array_equal(before, back.wv.matrix)
    assert json.loads((path / "model.json").read_text())["fields"]["model"]["class"] == \
        type(m).__name__


@pytest.mark.parametrize("kind", ["sg", "fasttext", "glove"])
def test_new_words_policy(kind):
    m = make(kind).fit(planted())
    n = len(m.vocab)
    the = m.vocab.counts[m.vocab.index["the"]]
    more = planted(300, seed=9, extra=[("newword", 7), ("rareword", 2)])
    stats = m.train(more, epochs=1, min_count=5)
    assert stats["new_words"] == 1 and len(m.vocab) == n + 1
    assert m.vocab.words[-1] == "newword" and "rareword" not in m.vocab.index
    assert m.vocab.counts[-1] == 7
    assert m.vocab.counts[m.vocab.index["the"]] > the  # known words' counts grow
    wv = m.wv
    assert len(wv) == n + 1 and np.isfinite(wv["newword"]).all() and wv["newword"].any()
    if kind == "sg":
        assert m.W.shape[0] == m.C.shape[0] == n + 1
    if kind == "glove":
        assert all(getattr(m, k).shape[0] == n + 1 for k in type(m).state)


def test_no_new_words_when_asked():
    m = make("sg").fit(planted())
    n = len(m.vocab)
    m.train(planted(200, seed=3, extra=[("newword", 9)]), epochs=1, new_words=False)
    assert len(m.vocab) == n


def test_hs_tree_follows_new_words():
    m = make("cbow").fit(planted())
    m.train(planted(300, seed=4, extra=[("newword", 30)]), epochs=1)
    off, codes, points = m.vocab.huffman()
    assert m.C.shape[0] == len(m.vocab) - 1 and points.max() < m.C.shape[0]


# ---- folders saved by wordvec 0.1 -----------------------------------------------------------
@pytest.mark.parametrize("name", ["v01-sg", "v01-cbow-hs", "v01-fasttext", "v01-lsa"])
def test_old_folders_load_and_continue(name, tmp_path):
    m = load_model(os.path.join(OLD, name))
    saved = np.load(os.path.join(OLD, name, "vectors.npy"))
    np.testing.assert_allclose(m.wv.matrix, saved, atol=1e-5)  # fastText: rows recovered
    before = m.wv.matrix.copy()
    m.train(os.path.join(OLD, "corpus.txt"), **({} if name == "v01-lsa" else {"epochs": 1}))
    assert not np.array_equal(before, m.wv.matrix)
    m.save(tmp_path / "again")
    assert load_model(tmp_path / "again").runs == 2


def test_old_glove_folder_is_refused_in_one_line():
    with pytest.raises(WordvecError, match="not its training state"):
        load_model(os.path.join(OLD, "v01-glove"))
    v = wordvec.load(os.path.join(OLD, "v01-glove"))  # still queried
    assert len(v) == 36


def test_wrong_class_refused():
    with pytest.raises(WordvecError, match="a fasttext model, not word2vec"):
        wordvec.Word2Vec.load(os.path.join(OLD, "v01-fasttext"))


def test_limit_keeps_fasttext_vectors():
    v = wordvec.load(os.path.join(OLD, "v01-fasttext"), limit=5)
    assert type(v).__name__ == "FastTextVectors" and len(v) == 5
    assert v.has_vector("neverseenword")


# ---- checkpoints and resume ----------------------------------------------------------------
class _Killed(Exception):
    pass


def _slow_jobs(monkeypatch, cls):
    """Each job sleeps 10 ms first (results unchanged), so the main thread, which writes the
    checkpoints, surely runs between jobs even on a loaded machine."""
    real = cls._setup

    def setup(self, enc, epochs):
        job, data, kw = real(self, enc, epochs)

        def slow(*args):
            time.sleep(0.01)
            return job(*args)
        return slow, data, kw
    monkeypatch.setattr(cls, "_setup", setup)


@pytest.mark.parametrize("kind", ["sg", "cbow", "fasttext", "glove"])
def test_resume_is_bit_identical(kind, tmp_path, monkeypatch):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted(3000)) + "\n")
    kw = dict(threads=1, seed=3, **({"epochs": 6} if kind == "glove" else {}))
    ref = make(kind, **kw).fit(str(corpus))
    real = model_mod.Model._write_checkpoint
    written = []

    def write_then_die(self, *a, **k):
        real(self, *a, **k)
        written.append(a[1]["next_job"])
        if len(written) == 2:
            raise _Killed  # the process dies after its second checkpoint
    monkeypatch.setattr(model_mod.Model, "_write_checkpoint", write_then_die)
    _slow_jobs(monkeypatch, type(ref))
    ck = tmp_path / "out.checkpoint"
    with pytest.raises(_Killed):
        make(kind, **kw).fit(str(corpus), checkpoint=Checkpoint(ck, 1e-6, {"x": 1}))
    monkeypatch.setattr(model_mod.Model, "_write_checkpoint", real)
    state = json.loads((ck / "model.json").read_text())["fields"]["checkpoint"]["state"]
    assert 0 < state["next_job"] < state["total_jobs"]
    done, info = resume(ck)
    assert info == {"x": 1} and done.history[-1]["resumed_at_job"] == state["next_job"]
    np.testing.assert_array_equal(done.wv.matrix, ref.wv.matrix)
    for name in type(ref).state:
        np.testing.assert_array_equal(getattr(done, name), getattr(ref, name))
    # and the resumed model continues like any other
    done.train(str(corpus), epochs=1)


def test_resume_refuses_a_changed_corpus(tmp_path, monkeypatch):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted(2000)) + "\n")
    real = model_mod.Model._write_checkpoint

    def die(self, *a, **k):
        real(self, *a, **k)
        raise _Killed
    monkeypatch.setattr(model_mod.Model, "_write_checkpoint", die)
    _slow_jobs(monkeypatch, wordvec.Word2Vec)
    ck = tmp_path / "ck"
    with pytest.raises(_Killed):
        make("sg").fit(str(corpus), checkpoint=Checkpoint(ck, 1e-6))
    with open(corpus, "a") as f:
        f.write("t0w1 t0w2 t0w3\n")
    with pytest.raises(WordvecError, match="changed since the checkpoint"):
        resume(ck)
    with pytest.raises(WordvecError, match="not a checkpoint"):
        resume(os.path.join(OLD, "v01-sg"))


def _wordvec(*args, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.Popen([sys.executable, "-m", "wordvec.cli", *map(str, args)], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_killed_run_resumes_bit_identical(tmp_path):
    """wordvec train --checkpoint-every, killed with SIGKILL mid-run, --resume: the same vectors
    as an uninterrupted run (--threads 1), the checkpoint removed at the end."""
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted(30000, seed=1)) + "\n")
    args = ["train", corpus, "-q", "--threads", "1", "--epochs", "10", "--min-count", "1",
            "--dim", "32"]
    ref = _wordvec(*args, "-o", "ref", cwd=tmp_path)
    assert ref.wait(300) == 0, ref.stderr.read()
    run = _wordvec(*args, "-o", "run", "--checkpoint-every", "0.2s", "--format", "word2vec",
                   cwd=tmp_path)
    ck = tmp_path / "run.checkpoint"
    t0 = time.time()
    while not (ck / "model.json").exists() and run.poll() is None and time.time() - t0 < 120:
        time.sleep(0.02)
    assert run.poll() is None, "the run ended before its first checkpoint"
    run.send_signal(signal.SIGKILL)
    run.wait(60)
    assert not (tmp_path / "run").exists()
    again = _wordvec("train", "-q", "-o", "run", "--checkpoint-every", "1s", cwd=tmp_path)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 1 and "exists (the state of a run that did not finish)" in err
    done = _wordvec("train", "--resume", ck, "-q", cwd=tmp_path)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "run" / "vectors.npy"),
                                  np.load(tmp_path / "ref" / "vectors.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "run" / "output.npy"),
                                  np.load(tmp_path / "ref" / "output.npy"))
    assert (tmp_path / "run.txt").exists() and not ck.exists()


def test_cli_continue(tmp_path):
    r = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames \
        else CliRunner()
    old = tmp_path / "old"
    shutil.copytree(os.path.join(OLD, "v01-sg"), old)
    more = tmp_path / "more.txt"
    more.write_text("\n".join(" ".join(s) for s in planted(500, extra=[("newword", 8)])) + "\n")
    res = r.invoke(cli, ["train", str(more), "--continue", str(old), "-o", str(tmp_path / "new"),
                         "--epochs", "1", "-q", "--min-count", "3"])
    assert res.exit_code == 0, res.output
    m = load_model(tmp_path / "new")
    assert "newword" in m.vocab.index and m.runs == 2
    assert m.history[-1]["new_words"] == len(m.vocab) - 36 > 0
    res = r.invoke(cli, ["train", str(more), "--continue", str(old), "-o", str(tmp_path / "x"),
                         "--dim", "5", "-q"])
    assert res.exit_code == 1 and "--dim cannot change when continuing" in res.output
    res = r.invoke(cli, ["train", str(more), "--continue", str(old), "-o", str(old), "-q"])
    assert res.exit_code == 1 and "input" in res.output  # never overwrites the model continued
    res = r.invoke(cli, ["train", str(more), "--continue", str(tmp_path), "-o",
                         str(tmp_path / "x"), "-q"])
    assert res.exit_code == 1 and "not a wordvec model folder" in res.output
    res = r.invoke(cli, ["train", str(more), "--continue", str(old), "-o", str(tmp_path / "x"),
                         "--model", "glove", "-q"])
    assert res.exit_code == 1 and "contradicts" in res.output


# ---- one declaration ------------------------------------------------------------------------
def test_cli_options_come_from_the_declarations():
    from wordvec.cli import train
    flags = {o.name: o for o in train.params}
    for name, entries in option_table().items():
        opt = flags[name]
        p = entries[0][1]
        assert p.cli_flag in opt.opts
        assert p.help.split(".")[0] in opt.help
        for _kind, q in entries:
            assert q.shown_default().split(",")[0] in opt.help
    declared = {p.name for s in SCHEMAS.values() for p in s if p.cli}
    generated = {n for n in flags if n in declared}
    assert generated == declared


@pytest.mark.parametrize("kind", list(SMALL))
def test_model_json_params_are_the_declared_ones(kind, tmp_path):
    m = make(kind).fit(planted(300))
    m.save(tmp_path / "m")
    params = json.loads((tmp_path / "m" / "model.json").read_text())["params"]
    assert list(params) == type(m).schema.names()


@pytest.mark.parametrize("kind", ["sg", "glove"])
def test_resume_of_a_continued_run_is_bit_identical(kind, tmp_path, monkeypatch):
    """A checkpointed continuation (train on more text, new words added) resumes exactly."""
    more = tmp_path / "more.txt"
    more.write_text("\n".join(" ".join(s) for s in planted(3000, seed=8, extra=[("newword", 40)]))
                    + "\n")
    kw = dict(threads=1, seed=4, **({"epochs": 6} if kind == "glove" else {}))
    make(kind, **kw).fit(planted(800)).save(tmp_path / "base")
    ref = load_model(tmp_path / "base")
    ref.train(str(more), epochs=3)
    real = model_mod.Model._write_checkpoint
    written = []

    def write_then_die(self, *a, **k):
        real(self, *a, **k)
        written.append(1)
        if len(written) == 2:
            raise _Killed
    monkeypatch.setattr(model_mod.Model, "_write_checkpoint", write_then_die)
    _slow_jobs(monkeypatch, type(ref))
    ck = tmp_path / "ck"
    with pytest.raises(_Killed):
        load_model(tmp_path / "base").train(str(more), epochs=3,
                                            checkpoint=Checkpoint(ck, 1e-6))
    monkeypatch.setattr(model_mod.Model, "_write_checkpoint", real)
    done, _ = resume(ck)
    assert done.runs == ref.runs == 2 and "newword" in done.vocab.index
    np.testing.assert_array_equal(done.wv.matrix, ref.wv.matrix)


def test_loading_vectors_imports_no_training_code():
    code = ("import sys, wordvec\n"
            f"v = wordvec.load({os.path.join(OLD, 'v01-fasttext')!r})\n"
            "v.most_similar('t0w0'); v['unseenword']\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('wordvec'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT}, check=True).stdout.split()
    assert "wordvec.vectors" in out
    training = [m for m in out if "kernels" in m or m in (
        "wordvec.training", "wordvec.model", "wordvec.fasttext", "wordvec.word2vec",
        "wordvec.glove", "wordvec.lsa", "wordvec.cooccur", "wordvec.encode")]
    assert not training, training
