"""bz2/xz/lzma vectors files, members of zip archives (ARCHIVE:MEMBER), and pickles refused."""

import bz2
import gzip
import io
import lzma
import os
import pickle
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import archives
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.formats import _data_bound, _open_raw, describe, detect, load_vectors, save_vectors
from wordvec.vectors import Vectors

WORDS = ["the", "of", "été", "naïve", "x1", "Paris", "paris"]
TEXT_FORMATS = ("word2vec", "word2vec-binary", "glove")
COMPRESS = {
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
}


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def vecs():
    rng = np.random.default_rng(5)
    return Vectors(WORDS, rng.standard_normal((len(WORDS), 5)).astype(np.float32))


def _bytes_of(vecs, fmt, tmp_path):
    path = tmp_path / f"plain.{fmt}"
    save_vectors(vecs, path, format=fmt, precision=9)
    return path.read_bytes()


def _err(fn, *args, **kw):
    with pytest.raises(WordvecError) as e:
        fn(*args, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, pattern):
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    assert pattern in lines[0], lines[0]
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    return lines[0]


# ---- bz2, xz and lzma, recognised by content ----------------------------------------------------
@pytest.mark.parametrize("codec", list(COMPRESS))
@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_compressed_files_round_trip(tmp_path, vecs, fmt, codec):
    path = tmp_path / "vectors.data"  # no telling suffix: recognised by content
    path.write_bytes(COMPRESS[codec](_bytes_of(vecs, fmt, tmp_path)))
    assert detect(path) == fmt
    back = load_vectors(path)
    assert back.words == WORDS
    assert np.array_equal(back.matrix, vecs.matrix)  # (text written with 9 digits: exact)
    assert load_vectors(path, format=fmt, limit=3).words == WORDS[:3]
    info = describe(path)
    assert (info["format"], info["words"], info["dim"]) == (fmt, 7, 5)
    assert info["compressed"] is True and info["compression"] == codec


@pytest.mark.parametrize("tool, args, codec", [("bzip2", ["-k"], "bz2"), ("xz", ["-k"], "xz"),
                                                ("lzma", ["-k"], "lzma"), ("gzip", ["-k"], "gzip")])
def test_files_the_command_line_tools_write(tmp_path, vecs, tool, args, codec):
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"no {tool}")
    for fmt in ("word2vec-binary", "glove"):
        src = tmp_path / f"v-{fmt}"
        src.write_bytes(_bytes_of(vecs, fmt, tmp_path))
        subprocess.run([exe, *args, str(src)], check=True)
        (out,) = [p for p in tmp_path.iterdir() if p.name.startswith(src.name + ".")]
        assert describe(out)["compression"] == codec
        v = load_vectors(out)
        assert v.words == WORDS and np.array_equal(v.matrix, vecs.matrix)


def test_data_bound_is_none_for_every_stream_but_a_plain_file(tmp_path, vecs):
    raw = _bytes_of(vecs, "word2vec-binary", tmp_path)
    plain = tmp_path / "v.bin"
    plain.write_bytes(raw)
    with _open_raw(plain) as f:
        assert _data_bound(f) == len(raw)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("v.bin", raw)
    for name, data in (("gz", gzip.compress(raw)), ("bz2", bz2.compress(raw)),
                       ("xz", lzma.compress(raw)), ("zip", None)):
        path = tmp_path / f"v.{name}"
        if data is not None:
            path.write_bytes(data)
        else:
            path = f"{tmp_path / 'a.zip'}:v.bin"
        with _open_raw(path) as f:
            assert _data_bound(f) is None, name


def test_highly_compressed_binary_is_not_bounded_by_the_compressed_size(tmp_path):
    # 8 MB of rows compress to under 3 kB (more than gzip's largest ratio): a bound from the
    # compressed file's size (its fileno) or from deflate's ratio would refuse these files as
    # "the header promises more than the file holds"
    n, dim = 500, 4000
    v = Vectors([f"w{i}" for i in range(n)], np.zeros((n, dim), dtype=np.float32))
    raw = _bytes_of(v, "word2vec-binary", tmp_path)
    for name, compress in COMPRESS.items():
        path = tmp_path / f"zeros.{name}"
        path.write_bytes(compress(raw))
        assert os.path.getsize(path) * 1100 < len(raw)
        back = load_vectors(path)
        assert len(back) == n and not back.matrix.any()
        assert describe(path)["words"] == n


@pytest.mark.parametrize("codec", list(COMPRESS))
def test_corrupt_compressed_files_are_one_line(tmp_path, vecs, codec):
    data = COMPRESS[codec](_bytes_of(vecs, "glove", tmp_path))
    truncated = tmp_path / "truncated"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    garbled = tmp_path / "garbled"
    garbled.write_bytes(data[:12] + bytes(b ^ 0x5A for b in data[12:]))
    for path in (truncated, garbled):
        for fn in (detect, load_vectors, describe):
            msg = _err(fn, path)
            assert str(path) in msg and ("corrupt" in msg or "truncated" in msg), msg
        one_line_error(run("similar", "the", "-m", path), str(path))
        one_line_error(run("info", path), str(path))


def test_a_glove_word_like_bz2_magic_is_still_text(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("BZh9 1 2\nxz 3 4\n")
    assert detect(p) == "glove" and load_vectors(p).words == ["BZh9", "xz"]


# ---- members of zip archives --------------------------------------------------------------------
def glove_like_zip(path, vecs, tmp_path, compression=zipfile.ZIP_DEFLATED):
    """A zip laid out like Stanford's glove.6B.zip: several GloVe text files of one vocabulary."""
    dims = {50: 5, 100: 3, 200: 4, 300: 2}
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for d, keep in dims.items():
            v = Vectors(WORDS, np.asarray(vecs.matrix[:, :keep]))
            z.writestr(f"glove.6B.{d}d.txt", _bytes_of(v, "glove", tmp_path))
    return path


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2,
                                         zipfile.ZIP_LZMA])
def test_zip_members_like_glove_6b(tmp_path, vecs, compression):
    z = glove_like_zip(tmp_path / "glove.6B.zip", vecs, tmp_path, compression)
    member = f"{z}:glove.6B.200d.txt"
    assert detect(member) == "glove"
    v = load_vectors(member)
    assert v.words == WORDS and np.array_equal(v.matrix, vecs.matrix[:, :4])
    assert load_vectors(f"{z}:glove.6B.100d.txt", limit=2).matrix.shape == (2, 3)
    info = describe(member)
    assert (info["format"], info["words"], info["dim"]) == ("glove", 7, 4)
    assert info["archive"] == str(z) and info["member"] == "glove.6B.200d.txt"
    assert info["compressed"] == (compression != zipfile.ZIP_STORED)
    assert v.meta["stats"]["source"] == f"{z}:glove.6B.200d.txt"


def test_binary_and_gzip_members_and_a_lone_member(tmp_path, vecs):
    raw = _bytes_of(vecs, "word2vec-binary", tmp_path)
    z = tmp_path / "mixed.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bin/vectors.bin", raw)
        zf.writestr("vectors.bin.gz", gzip.compress(raw))
        zf.writestr("docs/", b"")  # a folder entry is not a file
    for name in ("bin/vectors.bin", "vectors.bin.gz"):
        assert detect(f"{z}:{name}") == "word2vec-binary"
        assert np.array_equal(load_vectors(f"{z}:{name}").matrix, vecs.matrix)
    assert describe(f"{z}:vectors.bin.gz")["compression"] == "gzip"
    lone = tmp_path / "lone.zip"
    with zipfile.ZipFile(lone, "w") as zf:
        zf.writestr("only/vectors.bin", raw)
        zf.writestr("only/", b"")
    assert load_vectors(lone).words == WORDS  # one file: no member name needed
    assert describe(lone)["member"] == "only/vectors.bin"


def test_split_member_rules(tmp_path, vecs):
    z = glove_like_zip(tmp_path / "g.zip", vecs, tmp_path)
    assert archives.split_member(f"{z}:a:b.txt") == (str(z), "a:b.txt")  # the last ':' that works
    assert archives.split_member(str(z)) == (str(z), None)
    text = tmp_path / "t.txt"
    text.write_text("a 1\n")
    assert archives.split_member(f"{text}:x") == (f"{text}:x", None)  # not a zip: never split
    # a path that exists is never split, even when its left part is a zip
    literal = tmp_path / "g.zip:glove.6B.50d.txt"
    literal.write_text("literal 1 2\n")
    assert archives.split_member(str(literal)) == (str(literal), None)
    assert load_vectors(literal).words == ["literal"]


def test_zip_errors_are_one_line(tmp_path, vecs):
    z = glove_like_zip(tmp_path / "glove.6B.zip", vecs, tmp_path)
    msg = _err(load_vectors, z)
    assert "a zip archive of 4 files" in msg and "'glove.6B.50d.txt'" in msg
    assert f"ARCHIVE:MEMBER, e.g. {z}:glove.6B.50d.txt" in msg
    msg = _err(detect, f"{z}:glove.6B.75d.txt")
    assert "no member 'glove.6B.75d.txt'" in msg and "'glove.6B.300d.txt'" in msg
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(25):
            zf.writestr(f"m{i:02d}.txt", "a 1\n")
    msg = _err(describe, many)
    assert "'m09.txt'" in msg and "'m10.txt'" not in msg and "and 15 more" in msg
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert "holds no files" in _err(load_vectors, empty)
    assert "holds no files" in _err(load_vectors, f"{empty}:x.txt")
    data = z.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])  # no central directory
    assert "corrupt zip archive" in _err(load_vectors, tmp_path / "cut.zip")
    # a corrupt member: its deflate data garbled (the central directory intact)
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("glove.6B.300d.txt")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    bad = bytearray(data)
    for i in range(start + 5, start + info.compress_size - 2):
        bad[i] ^= 0xA5
    (tmp_path / "bad.zip").write_bytes(bytes(bad))
    for fn in (detect, load_vectors, describe):
        msg = _err(fn, f"{tmp_path / 'bad.zip'}:glove.6B.300d.txt")
        assert "corrupt" in msg or "truncated" in msg or "line" in msg, msg
    liar = tmp_path / "liar.zip"  # a header promising more than the member holds
    with zipfile.ZipFile(liar, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("v.txt", "1000000 3\na 1 2 3\n")
    assert "header promises 1,000,000 words" in _err(describe, f"{liar}:v.txt")
    assert "promises 1000000 words but the file has 1" in _err(load_vectors, f"{liar}:v.txt")
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("inner.zip", z.read_bytes())
    assert "a zip archive inside the zip archive" in _err(load_vectors, f"{nested}:inner.zip")
    assert "native" in _err(load_vectors, f"{z}:glove.6B.50d.txt", format="native")


def test_encrypted_member_is_one_line(tmp_path):
    exe = shutil.which("zip")
    if exe is None:
        pytest.skip("no zip tool")
    (tmp_path / "v.txt").write_text("a 1 2\nb 3 4\n")
    subprocess.run([exe, "-q", "-P", "secret", "enc.zip", "v.txt"], cwd=tmp_path, check=True)
    msg = _err(load_vectors, tmp_path / "enc.zip")
    assert "'v.txt'" in msg and "encrypted" in msg and "extract it first" in msg


def test_zip_written_by_the_zip_tool(tmp_path, vecs):
    exe = shutil.which("zip")
    if exe is None:
        pytest.skip("no zip tool")
    for fmt in TEXT_FORMATS:
        (tmp_path / f"{fmt}.vec").write_bytes(_bytes_of(vecs, fmt, tmp_path))
    subprocess.run([exe, "-q", "-9", "all.zip", *(f"{f}.vec" for f in TEXT_FORMATS)], cwd=tmp_path,
                   check=True)
    for fmt in TEXT_FORMATS:
        assert detect(f"{tmp_path / 'all.zip'}:{fmt}.vec") == fmt
        assert np.array_equal(load_vectors(f"{tmp_path / 'all.zip'}:{fmt}.vec").matrix, vecs.matrix)


def test_detect_reads_only_the_start_of_a_member(tmp_path):
    # a member of 100 kB of GloVe rows, then 64 MB of lines holding NUL bytes (under 1 MB
    # compressed): detection looks at the start only; loading stops at the first bad line, in one line
    z = tmp_path / "big.zip"
    rows = b"".join(b"w%d 1 2\n" % i for i in range(12000))
    assert len(rows) > 1 << 16
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("v.txt", "w") as f:
            f.write(rows)
            block = b"w 1 \x00\x00\n" * (1 << 17)
            for _ in range(64):
                f.write(block)
    assert os.path.getsize(z) < 1 << 20
    assert detect(f"{z}:v.txt") == "glove"
    assert "line 12001: binary data" in _err(load_vectors, f"{z}:v.txt")


def test_cli_reads_members(tmp_path, vecs):
    z = glove_like_zip(tmp_path / "glove.6B.zip", vecs, tmp_path)
    r = run("similar", "Paris", "-m", f"{z}:glove.6B.50d.txt", "--json")
    assert r.exit_code == 0, r.output
    r = run("info", f"{z}:glove.6B.100d.txt")
    assert r.exit_code == 0 and "glove vectors, 7 words x 3 dims" in r.output, r.output
    out = tmp_path / "g50.bin"
    r = run("convert", f"{z}:glove.6B.50d.txt", out, "--to", "word2vec-binary")
    assert r.exit_code == 0, r.output
    assert load_vectors(out).words == WORDS
    one_line_error(run("similar", "the", "-m", tmp_path / "nope.zip:glove.6B.50d.txt"), "no model at")
    one_line_error(run("info", tmp_path / "nope.zip:x"), "no model at")
    one_line_error(run("similar", "the", "-m", f"{z}:glove.6B.1d.txt"), "no member 'glove.6B.1d.txt'")
    one_line_error(run("info", z), "name the one to read as ARCHIVE:MEMBER")
    one_line_error(run("convert", z, tmp_path / "o.txt", "--to", "glove"), "a zip archive of 4 files")


def test_an_archive_read_from_is_never_the_output(tmp_path, vecs):
    z = glove_like_zip(tmp_path / "g.zip", vecs, tmp_path)
    before = z.read_bytes()
    for fmt in ("word2vec", "native", "projector"):
        one_line_error(run("convert", f"{z}:glove.6B.50d.txt", z, "--to", fmt, "--force"),
                       "it is an input of this command")
    one_line_error(run("convert", f"{z}:glove.6B.50d.txt", tmp_path, "--to", "native"),
                   "it holds an input of this command")
    v = load_vectors(f"{z}:glove.6B.50d.txt")
    msg = _err(save_vectors, v, z, "word2vec", force=True, inputs=[f"{z}:glove.6B.50d.txt"])
    assert "input" in msg
    assert z.read_bytes() == before


# ---- pickles (gensim .model files) are refused, never unpickled ---------------------------------
class _CreatesAFile:
    """Unpickling this calls open(path, 'w'): the file appearing would prove an unpickling."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _check_refused(path, marker=None):
    for fn, kw in ((detect, {}), (load_vectors, {}), (describe, {}), (load_vectors, {"format": "word2vec"}),
                   (load_vectors, {"format": "word2vec-binary"}), (load_vectors, {"format": "glove"})):
        msg = _err(fn, path, **kw)
        assert "a Python pickle" in msg and "never unpickles" in msg, msg
        assert "model.wv.save_word2vec_format('vectors.bin', binary=True)" in msg
    for args in (["similar", "king", "-m", path], ["info", path],
                 ["convert", path, os.path.join(os.path.dirname(str(path).split(":")[0]), "out.txt"),
                  "--to", "word2vec"]):
        one_line_error(run(*args), "a Python pickle")
    if marker is not None:
        assert not os.path.exists(marker)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickles_are_refused_by_content(tmp_path, protocol):
    p = tmp_path / "model.anything"
    p.write_bytes(pickle.dumps({"king": [1.0, 2.0], "queen": [3.0, 4.0]}, protocol=protocol))
    _check_refused(p)


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    evil = pickle.dumps(_CreatesAFile(str(marker)), protocol=4)
    pickle.loads(evil).close()  # (the marker works: unpickling creates the file)
    assert marker.exists()
    marker.unlink()
    (tmp_path / "evil.model").write_bytes(evil)
    _check_refused(tmp_path / "evil.model", marker)
    (tmp_path / "evil.model.gz").write_bytes(gzip.compress(evil))
    _check_refused(tmp_path / "evil.model.gz", marker)
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("data.pkl", evil)
    _check_refused(f"{tmp_path / 'evil.zip'}:data.pkl", marker)
    # a protocol 0 pickle (text) cannot be told by its first bytes: still an error, still not run
    (tmp_path / "evil0").write_bytes(pickle.dumps(_CreatesAFile(str(marker)), protocol=0))
    for fn in (detect, load_vectors, describe):
        _err(fn, tmp_path / "evil0")
    one_line_error(run("similar", "king", "-m", tmp_path / "evil0"), "evil0")
    assert not marker.exists()


def test_a_real_gensim_model_file(tmp_path):
    word2vec = pytest.importorskip("gensim.models.word2vec")
    sentences = [["king", "queen", "man", "woman"], ["the", "king", "and", "the", "queen"]] * 5
    model = word2vec.Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, workers=1, seed=1)
    model.save(str(tmp_path / "w2v.model"))
    model.wv.save(str(tmp_path / "w2v.kv"))
    _check_refused(tmp_path / "w2v.model")
    _check_refused(tmp_path / "w2v.kv")
    # the export the message suggests is what wordvec reads
    model.wv.save_word2vec_format(str(tmp_path / "vectors.bin"), binary=True)
    v = load_vectors(tmp_path / "vectors.bin")
    assert v.words == model.wv.index_to_key
    assert np.array_equal(v.matrix, model.wv.vectors)


def test_open_raw_closes_what_it_opened(tmp_path, vecs):
    raw = _bytes_of(vecs, "glove", tmp_path)
    (tmp_path / "v.bz2").write_bytes(bz2.compress(raw))
    with zipfile.ZipFile(tmp_path / "v.zip", "w") as z:
        z.writestr("v.txt.xz", lzma.compress(raw))
    for path in (tmp_path / "v.bz2", f"{tmp_path / 'v.zip'}:v.txt.xz"):
        f = _open_raw(path)
        inner = f._inner
        assert isinstance(f, io.BufferedIOBase) and f.read(3) == raw[:3]
        f.close()
        assert f.closed and inner.closed


# ---- fuzz: damaged compressed files and zip archives ---------------------------------------------
FUZZ_EXAMPLES = int(os.environ.get("WORDVEC_FUZZ_EXAMPLES", "100"))


@pytest.mark.filterwarnings("error::UserWarning", "error::RuntimeWarning")
@pytest.mark.parametrize("wrap", ["bz2", "xz", "lzma", "zip-deflated", "zip-stored", "zip-bz2"])
def test_damaged_archives_fail_in_one_line(tmp_path, vecs, wrap):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    bases = [_bytes_of(vecs, fmt, tmp_path) for fmt in TEXT_FORMATS]

    def wrapped(data):
        if wrap in COMPRESS:
            return COMPRESS[wrap](data)
        method = {"zip-deflated": zipfile.ZIP_DEFLATED, "zip-stored": zipfile.ZIP_STORED,
                  "zip-bz2": zipfile.ZIP_BZIP2}[wrap]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=method) as z:
            z.writestr("v.txt", data)
            z.writestr("other.txt", b"a 1 2\n")
        return buf.getvalue()

    path = tmp_path / "fuzzed"
    name = f"{path}:v.txt" if wrap.startswith("zip") else str(path)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(base=st.sampled_from(bases), edits=st.lists(
        st.tuples(st.sampled_from(["truncate", "flip", "insert", "delete"]), st.floats(0, 1),
                  st.binary(min_size=1, max_size=8)), min_size=1, max_size=3))
    def run(base, edits):
        data = bytearray(wrapped(base))
        for kind, where, blob in edits:
            pos = min(int(where * len(data)), max(len(data) - 1, 0))
            if kind == "truncate":
                del data[pos:]
            elif kind == "flip" and data:
                data[pos] ^= blob[0] or 1
            elif kind == "insert":
                data[pos:pos] = blob
            else:
                del data[pos:pos + len(blob) * 4]
        path.write_bytes(bytes(data))
        for fn in (detect, load_vectors, describe):
            try:
                out = fn(name)
            except WordvecError as e:
                assert "\n" not in str(e)
                continue
            if fn is load_vectors:
                assert out.matrix.shape[0] == len(out.words) and np.isfinite(out.matrix).all()

    run()
