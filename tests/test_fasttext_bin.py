"""facebook fastText's .bin models: read (vectors equal to fastText's own, unseen words included),
written (read back by fastText itself), converted, trained further, and every bad file refused
with one line."""

import gzip
import lzma
import shutil
import struct
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import fasttext_bin
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.fasttext import FastText
from wordvec.formats import describe, detect, load_vectors
from wordvec.model import load_model
from wordvec.resources import BUNDLED_CORPUS

fasttext = pytest.importorskip("fasttext")
fasttext.FastText.eprint = lambda *a, **k: None  # (its load_model prints a warning to stderr)

ODD = ["café", "naïve", "日本語", "ünïcödé", "x", "ab", "é", "日", "qwertyuiopasdf",
       "unseenword", "Kings", "kingz", "ĳ", "a-b", "</s>s", "<s>"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("ftbin") / "corpus.txt"
    with lzma.open(BUNDLED_CORPUS, "rt", encoding="utf-8") as f:
        text = f.read(400_000)
    extra = "café naïve 日本語 ünïcödé the king é 日 a-b\n" * 20
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ft_bin(corpus):
    """A model written by fastText itself (fasttext-wheel)."""
    path = corpus.parent / "ft.bin"
    m = fasttext.train_unsupervised(str(corpus), model="skipgram", dim=12, epoch=1, minCount=2,
                                    bucket=3000, minn=2, maxn=5, thread=1, verbose=0)
    m.save_model(str(path))
    return path


@pytest.fixture(scope="module")
def ours(corpus):
    """A wordvec fastText model (CBOW, so both architectures are written somewhere)."""
    return FastText(arch="cbow", dim=8, epochs=1, bucket=2000, min_count=2, threads=1,
                    seed=5).fit(str(corpus))


def _fasttext_vector(model, word):
    return np.asarray(model.get_word_vector(word), dtype=np.float32)


def _our_vector(v, word):
    return v[word] if word in v else v.oov_vector(word)


def test_vectors_equal_fasttexts_own(ft_bin):
    ref = fasttext.load_model(str(ft_bin))
    v = load_vectors(ft_bin)
    assert detect(ft_bin) == "fasttext-bin"
    assert v.words == [w for w in ref.words if w != "</s>"]  # fastText's order, </s> left out
    assert (v.minn, v.maxn, v.bucket, v.dim) == (2, 5, 3000, 12)
    counts = dict(zip(*ref.get_words(include_freq=True)))
    assert [int(c) for c in v.counts[:50]] == [counts[w] for w in v.words[:50]]
    words = v.words[:200] + v.words[-50:] + ODD
    assert any(w not in v for w in ODD) and any(w in v for w in ODD)
    worst = max(np.abs(_fasttext_vector(ref, w) - _our_vector(v, w)).max() for w in words)
    assert worst < 1e-6


def test_no_copy_of_the_input_matrix(ft_bin):
    v = load_vectors(ft_bin)
    # the n-gram rows are a read-only view of the file, not an array of their own
    assert not v.ngrams.flags.owndata and not v.ngrams.flags.writeable
    assert v.ngrams.shape == (3000, 12)


def test_compressed_bin_reads_the_same(ft_bin, tmp_path):
    gz = tmp_path / "ft.bin.gz"
    gz.write_bytes(gzip.compress(ft_bin.read_bytes()))
    a, b = load_vectors(ft_bin), load_vectors(gz)
    assert a.words == b.words
    assert np.array_equal(a.matrix, b.matrix) and np.array_equal(a.ngrams, b.ngrams)
    assert np.array_equal(a.oov_vector("zzyzx"), b.oov_vector("zzyzx"))


def test_bin_in_a_zip_or_xz(ft_bin, tmp_path):
    import zipfile
    archive = tmp_path / "models.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ft_bin, "ft.bin")
        z.writestr("readme.txt", "two members")
    xz = tmp_path / "ft.bin.xz"
    xz.write_bytes(lzma.compress(ft_bin.read_bytes()))
    a = load_vectors(ft_bin)
    for source in (f"{archive}:ft.bin", str(xz)):
        b = load_vectors(source)
        assert b.words == a.words and np.array_equal(a.matrix, b.matrix)
        model = load_model(source)
        assert isinstance(model, FastText) and len(model.vocab) == len(a)
    r = CliRunner().invoke(cli, ["similar", "-m", f"{archive}:ft.bin", "kingz", "-n", "2"])
    assert r.exit_code == 0, r.output
    broken = tmp_path / "broken.bin.xz"
    broken.write_bytes(xz.read_bytes()[:len(xz.read_bytes()) // 2])
    r = CliRunner().invoke(cli, ["similar", "-m", str(broken), "the"])
    assert r.exit_code != 0 and r.output.count("\n") == 1, r.output


def test_describe_and_limit(ft_bin):
    info = describe(ft_bin)
    assert info["format"] == "fasttext-bin" and info["dim"] == 12
    assert info["words"] == len(load_vectors(ft_bin)) + 1  # fastText counts </s>
    v = load_vectors(ft_bin, limit=10)
    assert len(v) == 10 and v.oov_vector("zzyzx").shape == (12,)


def test_written_bin_is_read_by_fasttext(ours, tmp_path):
    path = tmp_path / "ours.bin"
    fasttext_bin.save_model(ours, path)
    ref = fasttext.load_model(str(path))
    wv = ours.wv
    assert [w for w in ref.words if w != "</s>"] == wv.words
    words = wv.words[:200] + ODD
    worst = max(np.abs(_fasttext_vector(ref, w) - _our_vector(wv, w)).max() for w in words)
    assert worst < 1e-6
    back = load_vectors(path)
    assert np.allclose(back.matrix, wv.matrix, atol=1e-6)


def test_written_bin_is_read_by_gensim(ours, tmp_path):
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext")
    path = tmp_path / "ours.bin"
    fasttext_bin.save_model(ours, path)
    kv = gensim_fasttext.load_facebook_vectors(str(path))
    wv = ours.wv
    worst = max(np.abs(kv[w] - _our_vector(wv, w)).max() for w in wv.words[:100] + ODD[:6])
    assert worst < 1e-6


@pytest.mark.skipif(shutil.which("fasttext") is None, reason="the fasttext command is not installed")
def test_fasttext_command_reads_our_bin(ours, tmp_path):
    path = tmp_path / "ours.bin"
    fasttext_bin.save_model(ours, path)
    wv = ours.wv
    words = wv.words[:20] + ["unseenword", "日本語"]
    out = subprocess.run(["fasttext", "print-word-vectors", str(path)], input="\n".join(words),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(words)
    for w, line in zip(words, out):
        parts = line.split(" ")
        assert parts[0] == w
        got = np.array([float(x) for x in parts[1:] if x], dtype=np.float32)
        assert np.abs(got - _our_vector(wv, w)).max() < 1e-4  # (printed with 5 digits)
    nn = subprocess.run(["fasttext", "nn", str(path), "3"], input=wv.words[5] + "\n",
                        capture_output=True, text=True, check=True).stdout
    theirs = [line.split()[0] for line in nn.splitlines() if line.strip() and
              not line.startswith("Query")][:3]
    ours_nn = [w for w, _ in wv.most_similar(wv.words[5], topn=3)]
    assert theirs and theirs[0] in ours_nn


def test_round_trip_bin_model_bin(ft_bin, tmp_path):
    model = load_model(ft_bin)  # a trainable FastText
    assert isinstance(model, FastText) and model.params["eos"]
    assert model.params["arch"] == "sg" and model.params["loss"] == "ns"
    out = tmp_path / "again.bin"
    fasttext_bin.save_model(model, out)
    a, b = fasttext.load_model(str(ft_bin)), fasttext.load_model(str(out))
    for w in a.words[:100] + ODD:
        assert np.array_equal(_fasttext_vector(a, w), _fasttext_vector(b, w))
    # the output rows travel too (</s> moved after the words, then back)
    ia, ib = a.get_output_matrix(), b.get_output_matrix()
    pos = {w: i for i, w in enumerate(b.words)}
    assert np.array_equal(ia, ib[[pos[w] for w in a.words]])


def test_continue_training_a_loaded_bin(ft_bin, corpus, tmp_path):
    model = load_model(ft_bin)
    before = model.wv
    stats = model.train(str(corpus), epochs=1)
    after = model.wv
    assert stats["words_trained"] > 0
    assert after.words[:len(before)] == before.words
    assert not np.allclose(after.matrix[:100], before.matrix[:100])
    # and from the shell, straight from the .bin
    r = CliRunner().invoke(cli, ["train", str(corpus), "--continue", str(ft_bin), "-o",
                                 str(tmp_path / "more"), "--epochs", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert len(load_vectors(tmp_path / "more")) >= len(before)


def test_cli_convert_both_ways_and_query(ft_bin, tmp_path):
    run = CliRunner().invoke
    nat, back = tmp_path / "nat", tmp_path / "back.bin"
    r = run(cli, ["convert", str(ft_bin), str(nat), "--to", "native"])
    assert r.exit_code == 0, r.output
    assert isinstance(load_model(nat), FastText)  # trainable, not only vectors
    r = run(cli, ["convert", str(nat), str(back), "--to", "fasttext-bin"])
    assert r.exit_code == 0, r.output
    a, b = fasttext.load_model(str(ft_bin)), fasttext.load_model(str(back))
    for w in a.words[:50] + ODD:
        assert np.abs(_fasttext_vector(a, w) - _fasttext_vector(b, w)).max() < 1e-6
    r = run(cli, ["similar", "-m", str(ft_bin), "kingz", "-n", "3"])
    assert r.exit_code == 0 and r.output.count("\n") >= 3, r.output
    txt = tmp_path / "v.txt"
    r = run(cli, ["convert", str(ft_bin), str(txt), "--to", "word2vec"])
    assert r.exit_code == 0 and load_vectors(txt).words == load_vectors(ft_bin).words


def test_train_writes_fasttext_bin(corpus, tmp_path):
    out = tmp_path / "m"
    r = CliRunner().invoke(cli, ["train", str(corpus), "--model", "fasttext", "--dim", "6",
                                 "--bucket", "500", "--epochs", "1", "--threads", "1", "-o",
                                 str(out), "-q", "--format", "fasttext-bin"])
    assert r.exit_code == 0, r.output
    ref = fasttext.load_model(str(tmp_path / "m.bin"))
    v = load_vectors(out)
    assert np.abs(_fasttext_vector(ref, "unseenword") - v.oov_vector("unseenword")).max() < 1e-6


@pytest.mark.parametrize("args, message", [
    (["train", "{corpus}", "--model", "sg", "--format", "fasttext-bin"], "writes fastText models"),
    (["convert", "{txt}", "{out}", "--to", "fasttext-bin"], "needs a fastText model"),
    (["convert", "{bin}", "{out}", "--to", "fasttext-bin", "--limit", "5"], "--limit"),
])
def test_cli_refusals(ft_bin, corpus, tmp_path, args, message):
    txt = tmp_path / "v.txt"
    txt.write_text("2 2\na 1 2\nb 3 4\n")
    args = [a.format(corpus=corpus, txt=txt, out=tmp_path / "o.bin", bin=ft_bin) for a in args]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code != 0 and message in r.output and r.output.count("\n") == 1, r.output
    assert not (tmp_path / "o.bin").exists()


# ---- bad files: one line each -----------------------------------------------------------------
def _layout(data):
    """Offsets in a .bin: after the args, after the dictionary header, the quant byte, the
    input matrix's data, the qout byte, the output matrix's data."""
    pos = 8 + fasttext_bin._ARGS.size
    size = struct.unpack_from("<i", data, pos)[0]
    dict_at = pos
    pos += fasttext_bin._DICT.size
    for _ in range(size):
        pos = data.index(b"\0", pos) + 10
    quant = pos
    m, n = struct.unpack_from("<2q", data, quant + 1)
    w_data = quant + 17
    qout = w_data + m * n * 4
    return {"dict": dict_at, "quant": quant, "w_data": w_data, "qout": qout,
            "c_data": qout + 17}


def _patched(data, at, fmt, value):
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def _bad_files(data):
    lay = _layout(data)
    args = 8  # dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, ...
    yield "version 13", _patched(data, 4, "<i", 13), "version 13"
    yield "supervised", _patched(data, args + 7 * 4, "<i", 3), "supervised"
    yield "quantized", _patched(data, lay["quant"], "<b", 1), "quantized"
    yield "bad loss", _patched(data, args + 6 * 4, "<i", 9), "unknown fastText model type"
    yield "dim lie", _patched(data, args, "<i", 13), "input matrix"
    yield "bucket lie", _patched(data, args + 8 * 4, "<i", 3001), "input matrix"
    yield "huge dictionary", _patched(data, lay["dict"], "<i", 2**31 - 1), "dictionary"
    yield "labels", _patched(data, lay["dict"] + 8, "<i", 1), "dictionary"
    yield "nan", _patched(data, lay["w_data"] + 4 * 12 * 7, "<f", float("nan")), "row 8"
    yield "inf in output", _patched(data, lay["c_data"], "<f", float("inf")), "output matrix"
    yield "trailing", data + b"\0", "after the output matrix"
    for cut in (3, 20, lay["dict"] + 10, lay["dict"] + 40, lay["quant"], lay["w_data"] + 5,
                lay["qout"] + 3, len(data) - 1):
        yield f"truncated at {cut}", data[:cut], "truncated"
    bad_word = bytearray(data)
    first = lay["dict"] + fasttext_bin._DICT.size
    second = data.index(b"\0", first) + 10
    bad_word[second:second + 1] = b"\0"  # an empty word
    yield "empty word", bytes(bad_word), "dictionary entry 2"


def test_bad_files_are_one_line(ft_bin, tmp_path):
    data = ft_bin.read_bytes()
    for name, bad, message in _bad_files(data):
        path = tmp_path / "bad.bin"
        path.write_bytes(bad)
        with pytest.raises(WordvecError) as e:
            load_vectors(path, format="fasttext-bin")
        assert message in str(e.value), (name, str(e.value))
        assert "\n" not in str(e.value)
        r = CliRunner().invoke(cli, ["similar", "-m", str(path), "the"])
        assert r.exit_code != 0 and r.output.count("\n") == 1, (name, r.output)


def test_non_utf8_word(ft_bin, tmp_path):
    """fastText splits bytes, not characters: a word that is not UTF-8 loads (its vector as
    fastText computes it from the bytes) and is refused, naming it, by a text writer."""
    data = bytearray(ft_bin.read_bytes())
    v0 = load_vectors(ft_bin)
    target = v0.words.index("café")
    at = data.index(b"\0caf\xc3\xa9\0") + 1
    data[at:at + 6] = b"ca\xe9\xe9\x80\0"  # same length, invalid UTF-8
    path = tmp_path / "latin.bin"
    path.write_bytes(bytes(data))
    v = load_vectors(path)
    word = v.words[target]
    assert word.encode("utf-8", "surrogateescape") == b"ca\xe9\xe9\x80"
    assert np.isfinite(v[word]).all() and not np.array_equal(v[word], v0["café"])
    r = CliRunner().invoke(cli, ["convert", str(path), str(tmp_path / "o.txt"), "--to", "word2vec"])
    assert r.exit_code != 0 and "not valid UTF-8" in r.output and r.output.count("\n") == 1


def test_cbow_hs_without_subwords(corpus, tmp_path):
    """fastText with maxn 0 (bucket 0), CBOW and hierarchical softmax: vectors equal, the model
    trains further and is written back; its output rows restart (the note says why)."""
    path = tmp_path / "cbow.bin"
    m = fasttext.train_unsupervised(str(corpus), model="cbow", dim=8, epoch=1, maxn=0,
                                    minCount=3, thread=1, verbose=0, loss="hs")
    m.save_model(str(path))
    v = load_vectors(path)
    assert v.maxn == 0 and v.bucket == 0
    assert max(np.abs(_fasttext_vector(m, w) - v[w]).max() for w in v.words[:100]) < 1e-6
    with pytest.raises(KeyError):
        v.oov_vector("zzyzx")
    model = load_model(path)
    assert (model.params["arch"], model.params["loss"]) == ("cbow", "hs")
    assert "output_reset" in model.history[-1]
    model.train(str(corpus), epochs=1)
    fasttext_bin.save_model(model, tmp_path / "again.bin")
    again = fasttext.load_model(str(tmp_path / "again.bin"))
    assert np.abs(_fasttext_vector(again, "the") - model.wv["the"]).max() < 1e-6
