"""Property (fuzz) tests: every loader, fed mutations of a valid file, either loads consistently
or raises WordvecError -- never another exception, a crash or a hang.

Mutations of valid files: truncation, bit flips, byte insertions and deletions, odd tokens (NaN,
inf, 1e39, huge counts, NUL, invalid UTF-8, U+00A0, line breaks), header lies, gzip wrapping;
for the native folder and the co-occurrence .npz also typed mutations (wrong JSON types, wrong
array dtypes and shapes, indices out of range, pickled objects).

The default is a short, reproducible run for CI (derandomized, no example database, about
100 examples per loader, about 10 s on 2 cores). Before a release run a long one:

    WORDVEC_FUZZ_EXAMPLES=5000 python -m pytest -q tests/test_fuzz_loaders.py
"""

import gzip
import json
import os
import shutil
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wordvec import native
from wordvec.cooccur import load_cooccurrence, save_cooccurrence
from wordvec.encode import count_words
from wordvec.errors import WordvecError
from wordvec.evaluate import read_analogies, read_pairs
from wordvec.formats import describe, load_vectors, save_vectors
from wordvec.vectors import Vectors
from wordvec.vocab import Vocabulary

EXAMPLES = int(os.environ.get("WORDVEC_FUZZ_EXAMPLES", "100"))
# a warning would be a second line on the user's terminal: the loaders must not emit any
pytestmark = pytest.mark.filterwarnings("error::UserWarning", "error::RuntimeWarning",
                                        "error::DeprecationWarning")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

WORDS = ["the", "of", "été", "a\u00a0b", "x1", "Paris", "paris", "\u2028z"]
TOKENS = [b"nan", b"NaN", b"inf", b"-inf", b"1e39", b"-1e39", b"-5", b"0", b"-",
          b"99999999999999999999", b"18446744073709551617", b"2000000000", b"\x00", b"\xff",
          b"\xc0\x80", b"\xc2\xa0", b"\n", b"\r", b" ", b"\t", b"\x0b", b"\xef\xbb\xbf",
          b"\x1f\x8b", b"PK\x03\x04", b"\x93NUMPY", b"\x80\x04\x95", b"[" * 3000, b"{}"]


# ---- mutations ----------------------------------------------------------------------------------
@st.composite
def mutations(draw, base, gzip_ok=True):
    """Bytes of ``base`` with 1-4 random edits, sometimes gzip-wrapped."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "token", "token",
                                     "header"]))
        pos = draw(st.integers(0, len(data)))
        if kind == "truncate":
            del data[pos:]
        elif kind == "flip" and data:
            pos = min(pos, len(data) - 1)
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 32))]
        elif kind == "token":
            n = draw(st.integers(0, 4))
            data[pos:pos + n] = draw(st.sampled_from(TOKENS))
        else:  # a header lie: the first line's numbers replaced
            first, nl, rest = bytes(data).partition(b"\n")
            nums = draw(st.lists(st.sampled_from([b"0", b"1", b"3", b"7", b"99999999999",
                                                  b"4294967297", b"-2", b"1" + b"0" * 25]),
                                 min_size=1, max_size=3))
            if draw(st.booleans()):
                data = bytearray(b" ".join(nums) + nl + rest)
            else:
                data = bytearray(b" ".join(nums) + b" " + first[first.find(b" ") + 1:] + nl + rest)
    if gzip_ok and draw(st.integers(0, 4)) == 0:
        data = bytearray(gzip.compress(bytes(data), mtime=0))
        if draw(st.booleans()):  # and a damaged stream
            pos = draw(st.integers(10, max(10, len(data) - 1)))
            data[pos:pos + 2] = b"\x00\xff"
    return bytes(data)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def _consistent_vectors(v):
    m = np.asarray(v.matrix)
    assert m.ndim == 2 and m.shape[0] == len(v.words) == len(v)
    assert m.dtype.kind == "f"
    assert np.isfinite(m).all()
    assert all(isinstance(w, str) for w in v.words)


# ---- fixtures: one valid file of each kind ---------------------------------------------------
@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def vecs():
    rng = np.random.default_rng(7)
    m = rng.standard_normal((len(WORDS), 3)).astype(np.float32)
    return Vectors(WORDS, m, counts=np.arange(len(WORDS), 0, -1) * 10)


@pytest.fixture(scope="module")
def valid(work, vecs):
    files = {}
    for fmt, name in (("word2vec", "v.txt"), ("word2vec-binary", "v.bin"), ("glove", "v.glove")):
        path = work / ("base-" + name)
        save_vectors(vecs, path, fmt)
        files[fmt] = path.read_bytes()
    from wordvec import fasttext_bin
    from wordvec.fasttext import FastText
    model = FastText(dim=3, bucket=16, minn=2, maxn=3, min_count=1, epochs=1, threads=1)
    model.fit([["the", "of", "été", "x1"], ["of", "Paris", "the"]] * 3)
    fasttext_bin.save_model(model, work / "base-ft.bin")
    files["fasttext-bin"] = (work / "base-ft.bin").read_bytes()
    return files


# ---- vectors files ----------------------------------------------------------------------------
def _check_vectors_file(path):
    try:
        v = load_vectors(path)
    except WordvecError:
        v = None
    if v is not None:
        _consistent_vectors(v)
    try:
        info = describe(path)
    except WordvecError:
        return
    assert isinstance(info["words"], int) and info["words"] >= 0
    assert isinstance(info["dim"], int) and info["dim"] >= 0
    if v is not None and info["format"] != "glove":
        assert len(v) <= info["words"]  # (duplicates are dropped)


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary", "glove", "fasttext-bin"])
def test_vectors_files(work, valid, fmt):
    path = work / f"fuzz-{fmt}"

    @FUZZ
    @given(data=st.data())
    def run(data):
        _check_vectors_file(_write(path, data.draw(mutations(valid[fmt]))))

    run()


@FUZZ
@given(rows=st.lists(st.tuples(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6),
    st.lists(st.one_of(st.floats(width=32, allow_nan=False, allow_infinity=False),
                       st.sampled_from(["nan", "inf", "1e39", "-0", "1e-50", "x"])),
             min_size=1, max_size=3)), min_size=1, max_size=5),
    header=st.booleans())
def test_hand_written_text(tmp_path_factory, rows, header):
    """Text built line by line (any word, odd values): loads consistently or one error."""
    path = tmp_path_factory.getbasetemp() / "hand.txt"
    lines = [f"{w} {' '.join(str(x) for x in vals)}" for w, vals in rows]
    if header:
        lines.insert(0, f"{len(rows)} {len(rows[0][1])}")
    _write(path, ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    _check_vectors_file(path)


@FUZZ
@given(words=st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=0,
                              max_size=8), min_size=1, max_size=5, unique=True),
       fmt=st.sampled_from(["word2vec", "word2vec-binary", "glove", "native"]),
       gz=st.booleans())
def test_what_is_written_is_read(tmp_path_factory, words, fmt, gz):
    """The writer refuses (one error) or the reader gives back exactly the words written."""
    m = np.arange(len(words) * 2, dtype=np.float32).reshape(-1, 2) + 1
    base = tmp_path_factory.getbasetemp()
    path = base / (f"rt-{fmt}" + (".gz" if gz and fmt != "native" else ""))
    if fmt == "native" and path.exists():
        shutil.rmtree(path)
    try:
        save_vectors(Vectors(words, m), path, fmt, precision=9)
    except WordvecError:
        return
    back = load_vectors(path)
    assert back.words == words
    assert np.array_equal(np.asarray(back.matrix), m)


# ---- native folder ------------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                   max_size=3),
    max_leaves=6)


@pytest.fixture(scope="module")
def native_base(work, vecs):
    from wordvec.fasttext import FastTextVectors
    plain = work / "native-plain"
    native.save(vecs, plain)
    ft = work / "native-ft"
    ngrams = np.random.default_rng(1).standard_normal((11, 3)).astype(np.float32)
    native.save(FastTextVectors(vecs.words, vecs.matrix, ngrams, 2, 4, 11, counts=vecs.counts), ft)
    return {"plain": plain, "fasttext": ft}


def _check_native(path):
    try:
        v = load_vectors(path)
    except WordvecError:
        v = None
    if v is not None:
        _consistent_vectors(v)
        header = v.meta["header"]
        assert len(v) == header["vocab_size"] and v.dim == header["dim"]
        if hasattr(v, "ngrams"):
            assert np.isfinite(np.asarray(v.ngrams)).all()
            if v.maxn > 0:  # an unseen word's vector can be built
                assert np.isfinite(v["zzzunseen"]).all()
    try:
        info = describe(path)
    except WordvecError:
        return
    assert isinstance(info["words"], int) and isinstance(info["dim"], int)


@pytest.mark.parametrize("kind", ["plain", "fasttext"])
def test_native_folder_bytes(work, native_base, kind):
    base = native_base[kind]
    names = sorted(os.listdir(base))
    target = work / f"fuzz-native-{kind}"

    @FUZZ
    @given(data=st.data())
    def run(data):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(base, target)
        name = data.draw(st.sampled_from(names))
        _write(target / name, data.draw(mutations((base / name).read_bytes(), gzip_ok=False)))
        _check_native(target)

    run()


@pytest.mark.parametrize("kind", ["plain", "fasttext"])
def test_native_header_fields(work, native_base, kind):
    base = native_base[kind]
    header = json.loads((base / native.HEADER).read_text())
    target = work / f"fuzz-header-{kind}"

    @FUZZ
    @given(data=st.data())
    def run(data):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(base, target)
        h = json.loads(json.dumps(header))
        for _ in range(data.draw(st.integers(1, 3))):
            where = data.draw(st.sampled_from(["top", "fields", "arrays"]))
            if where == "top":
                key = data.draw(st.sampled_from(sorted(h) + ["extra"]))
                if data.draw(st.booleans()):
                    h.pop(key, None)
                    continue
                h[key] = data.draw(JSON_VALUES)
            elif isinstance(h.get(where), dict):
                key = data.draw(st.sampled_from(sorted(h[where]) + ["extra"]))
                h[where][key] = data.draw(JSON_VALUES | st.sampled_from(
                    ["../native-plain/vectors.npy", "/etc/passwd", "", ".", "vocab.txt"]))
        (target / native.HEADER).write_text(json.dumps(h))
        _check_native(target)

    run()


@pytest.mark.parametrize("kind", ["plain", "fasttext"])
def test_native_arrays(work, native_base, kind):
    base = native_base[kind]
    target = work / f"fuzz-arrays-{kind}"
    names = [n for n in os.listdir(base) if n.endswith(".npy")]

    @FUZZ
    @given(data=st.data())
    def run(data):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(base, target)
        name = data.draw(st.sampled_from(names))
        _write_npy(target / name, data.draw(arrays_like(np.load(base / name))))
        _check_native(target)

    run()


# ---- co-occurrence .npz ---------------------------------------------------------------------------
UNPICKLED = []


class _Marker:
    """Unpickling one of these records it: a loader that unpickles fails the test."""

    def __reduce__(self):
        return (UNPICKLED.append, ("unpickled",))


@st.composite
def arrays_like(draw, a):
    """An array in place of ``a``: same, retyped, reshaped, with odd values, or pickled."""
    a = np.array(a)
    kind = draw(st.sampled_from(["values", "values", "dtype", "shape", "object", "struct",
                                 "empty", "scalar"]))
    if kind == "values" and a.size:
        a = a.copy()
        flat = a.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, flat.size - 1))
            if a.dtype.kind == "f":
                with np.errstate(over="ignore"):  # (1e308 in a float32 array: inf)
                    flat[i] = draw(st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 1e308, 0.0]))
            elif a.dtype.kind in "iu":
                v = draw(st.sampled_from([-5, -1, 0, 1, 2_000_000_000, 2**31 - 1, 2**62]))
                flat[i] = np.array(v).astype(a.dtype)  # (wraps for small dtypes: fine)
            elif a.dtype.kind == "U":
                flat[i] = draw(st.sampled_from(["", "a b", "x\x00", "dup", "\u00a0"]))
        return a
    if kind == "dtype":
        to = draw(st.sampled_from(["<f4", ">f8", "<i4", "<u8", "<i8", "<U3", "|S3", "|b1",
                                   "<c8", "<f2"]))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return a.astype(to)
        except (ValueError, TypeError, OverflowError):
            return np.zeros(a.shape, dtype=to)
    if kind == "shape":
        return a.reshape(-1)[: max(0, a.size - draw(st.integers(0, 3)))].reshape(-1, 1)
    if kind == "object":
        return np.array([_Marker()] * 2, dtype=object)
    if kind == "struct":
        return np.zeros(max(1, a.shape[0] if a.ndim else 1), dtype=[("x", "<f4"), ("y", "<i4")])
    if kind == "empty":
        return np.zeros((0,) + a.shape[1:], dtype=a.dtype) if a.ndim else a.reshape(1)[:0]
    return np.array(7, dtype=a.dtype if a.dtype.kind in "fiu" else np.int64)


def _write_npy(path, array):
    np.save(path, array, allow_pickle=True)  # (pickled objects on purpose)


@pytest.fixture(scope="module")
def npz_base(work):
    words = ["the", "cat", "sat", "on", "mat", "dog"]
    rng = np.random.default_rng(2)
    dense = rng.integers(0, 4, (6, 6)).astype(np.float64)
    dense = dense + dense.T
    m = sp.csr_matrix(dense)
    path = work / "base.npz"
    save_cooccurrence(path, m, Vocabulary(words, [60, 50, 40, 30, 20, 10]),
                      {"window": 2, "symmetric": True, "distance_weighting": True})
    with np.load(path, allow_pickle=False) as z:
        return path, {k: z[k] for k in z.files}


def _check_cooccurrence(path, train=False):
    UNPICKLED.clear()
    try:
        m, vocab, params = load_cooccurrence(path, with_params=True)
    except WordvecError:
        assert not UNPICKLED
        return
    assert not UNPICKLED
    n = len(vocab)
    assert m.shape == (n, n) and isinstance(params, dict)
    assert len(m.indptr) == n + 1 and m.indptr[0] == 0 and m.indptr[-1] == m.nnz
    assert (np.diff(m.indptr) >= 0).all()
    if m.nnz:
        assert 0 <= m.indices.min() and m.indices.max() < n
        assert np.isfinite(m.data).all() and m.data.min() >= 0
    assert m.has_canonical_format
    assert (vocab.counts >= 0).all()
    if train:  # the kernels accept what the loader accepts (a crash here would kill pytest)
        from wordvec.glove import train_glove
        from wordvec.lsa import train_lsa
        for trainer, kw in ((train_glove, {"epochs": 1, "threads": 1}), (train_lsa, {})):
            try:
                v = trainer(None, cooccur=(m, vocab), dim=2, progress=False, **kw)
            except WordvecError:
                continue
            assert np.isfinite(v.matrix).all()


def test_cooccurrence_bytes(work, npz_base):
    base, _ = npz_base
    raw = base.read_bytes()
    path = work / "fuzz-bytes.npz"

    @FUZZ
    @given(data=st.data())
    def run(data):
        _check_cooccurrence(_write(path, data.draw(mutations(raw))))

    run()


def test_cooccurrence_arrays(work, npz_base):
    _, arrays = npz_base
    path = work / "fuzz-arrays.npz"

    @FUZZ
    @given(data=st.data())
    def run(data):
        z = dict(arrays)
        for _ in range(data.draw(st.integers(1, 3))):
            key = data.draw(st.sampled_from(sorted(z) + ["params"]))
            what = data.draw(st.sampled_from(["mutate", "mutate", "mutate", "drop", "json"]))
            if what == "drop":
                z.pop(key, None)
            elif what == "json" or key == "params":
                z["params"] = np.array(data.draw(st.sampled_from(
                    ["[]", "{", '{"window": "x"}', '{"window": 0}', '{"symmetric": 3}',
                     "[" * 5000 + "]" * 5000, '"text"', "null", "1e999"])
                    | JSON_VALUES.map(json.dumps)))
            elif key in z:
                z[key] = data.draw(arrays_like(z[key]))
        save = np.savez_compressed if data.draw(st.booleans()) else np.savez
        with open(path, "wb") as f:
            save(f, **z)
        _check_cooccurrence(path, train=True)

    run()


# ---- vocabulary, evaluation and corpus files -------------------------------------------------------
VOCAB = "the 60\ncat 50\nsat 40\né\u00a0t 30\nmat 20\n".encode()
ANALOGIES = b": capital\nathens greece berlin germany\nparis france rome italy\n: gram1\na b c d\n"
PAIRS = b"# comment\ntiger\tcat\t7.35\nbook paper 7.46\ncomputer keyboard 7.62\n"
CORPUS = "the cat sat on the mat\nthe dog sat on the log\né\u00a0t x\n".encode() * 5


def test_vocabulary_file(work):
    path = work / "fuzz-vocab.txt"

    @FUZZ
    @given(data=st.data())
    def run(data):
        try:
            v = Vocabulary.load(_write(path, data.draw(mutations(VOCAB, gzip_ok=False))))
        except WordvecError:
            return
        assert len(v.words) == len(v.counts) == len(set(v.words))
        assert (v.counts >= 0).all() and v.total >= 0

    run()


@pytest.mark.parametrize("reader, base", [(read_analogies, ANALOGIES), (read_pairs, PAIRS)])
def test_evaluation_files(work, reader, base):
    path = work / f"fuzz-{reader.__name__}.txt"

    @FUZZ
    @given(data=st.data())
    def run(data):
        try:
            out = reader(_write(path, data.draw(mutations(base))))
        except WordvecError:
            return
        if reader is read_pairs:
            assert all(len(p) == 3 and np.isfinite(p[2]) for p in out)
        else:
            assert all(len(q) == 4 for _, qs in out for q in qs)

    run()


@pytest.mark.parametrize("suffix", [".txt", ".gz"])
def test_corpus_reader(work, suffix):
    path = work / f"fuzz-corpus{suffix}"
    base = gzip.compress(CORPUS, mtime=0) if suffix == ".gz" else CORPUS

    @FUZZ
    @given(data=st.data())
    def run(data):
        _write(path, data.draw(mutations(base, gzip_ok=False)))
        try:
            vocab = count_words([str(path)], min_count=1)
        except WordvecError:
            return
        assert len(vocab) >= 1 and (vocab.counts >= 1).all()
        assert all(isinstance(w, str) and w and not any(c.isspace() or c == "\0" for c in w)
                   for w in vocab.words)

    run()
