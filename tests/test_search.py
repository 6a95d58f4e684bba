"""Semantic search (wordvec.search, `wordvec index` / `wordvec search`): exact and HNSW."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec import native, search
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.search import Index, build_index
from wordvec.vectors import Vectors


@pytest.fixture(autouse=True)
def _work(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(wordvec, "_bars_terminal_only", True)  # as the CLI's main() sets it


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def one_line(result, code, *patterns):
    assert result.exit_code == code, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


def topic_model(topics=6, per_topic=40, dim=24, seed=0):
    """Words in topics: each topic's words lie near one random direction, plus a few function
    words shared by every text (frequent: SIF weighs them down)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, dim))
    words, rows, counts = [], [], []
    for f in range(5):
        words.append(f"the{f}")
        rows.append(rng.standard_normal(dim) * 0.3 + 2.0)
        counts.append(10_000)
    for t in range(topics):
        for j in range(per_topic):
            words.append(f"t{t}w{j}")
            rows.append(centres[t] + 0.4 * rng.standard_normal(dim))
            counts.append(int(rng.integers(5, 200)))
    return Vectors(words, np.array(rows, dtype=np.float32), counts=counts)


def topic_texts(v, n=300, seed=1, topics=6, per_topic=40):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        t = int(rng.integers(topics))
        ws = [f"t{t}w{j}" for j in rng.integers(0, per_topic, 6)] + \
             [f"the{f}" for f in rng.integers(0, 5, 4)]
        rng.shuffle(ws)
        texts.append(" ".join(ws))
        labels.append(t)
    return texts, np.array(labels)


@pytest.fixture
def model(tmp_path):
    path = str(tmp_path / "model")
    native.save(topic_model(), path)
    return path


@pytest.fixture
def corpus(model, tmp_path):
    texts, labels = topic_texts(wordvec.load(model))
    texts[7] = ""  # an empty line: a zero row, never a hit
    texts[9] = "nothing known"
    (tmp_path / "texts.txt").write_text("\n".join(texts) + "\n")
    return texts, labels


# ---- exact search ----------------------------------------------------------------------------
def brute_force(X, q, n, zero=()):
    S = X.astype(np.float64) @ q.astype(np.float64)
    S[list(zero)] = -np.inf
    return np.argsort(-S, kind="stable")[:n], S


def coded(X, folder):
    search._write_codes(X, str(folder))
    return search._read_codes(str(folder), *X.shape)


@pytest.mark.parametrize("blas_from", [10**9, 1, 40], ids=["int8", "blas", "blas-at-40"])
def test_exact_search_agrees_with_brute_force(monkeypatch, tmp_path, blas_from):
    """The int8 pass with its bound check, and the BLAS pass over the float32 rows that serves
    batches of queries, both give brute force's rows and scores."""
    monkeypatch.setattr(search, "BLAS_QUERIES", blas_from)
    monkeypatch.setattr(search, "BLAS_GROUP", 9)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[[3, 500, 999]] = 0  # texts without vectors
    Q = rng.standard_normal((40, 8)).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    monkeypatch.setattr(search, "BLOCK_ROWS", 64)
    monkeypatch.setattr(search, "QUERY_BATCH", 7)
    codes, scales, errors = coded(X, tmp_path)
    assert np.all(scales[[3, 500, 999]] == 0) and codes.dtype == np.int8
    lost = np.linalg.norm(X - codes.astype(np.float64) * scales[:, None], axis=1)
    assert np.all(errors >= lost) and np.all(errors < lost + 1e-6)  # the bound, rounded up
    for n in (1, 10, 70):
        found = search.exact_top(X, codes, scales, errors, Q, n)
        for q, (rows, scores) in zip(Q, found):
            want, S = brute_force(X, q, n, (3, 500, 999))
            assert np.array_equal(rows, want)
            assert np.allclose(scores, S[rows], atol=1e-6) and np.all(np.diff(scores) <= 0)


def test_exact_search_is_exact_where_int8_codes_cannot_tell_rows_apart(tmp_path):
    """2,000 rows that differ from one another far less than int8 rounding: ranked by their
    codes alone the top 10 would be wrong; the bound check re-scores whatever could be in it."""
    rng = np.random.default_rng(1)
    base = rng.standard_normal(64)
    X = base + 2e-4 * rng.standard_normal((2000, 64))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    q = (base + 0.5 * rng.standard_normal(64))
    q = (q / np.linalg.norm(q)).astype(np.float32)
    codes, scales, errors = coded(X, tmp_path)
    approx = np.empty((1, len(X)), dtype=np.float32)
    search._code_scores(codes, scales, q[None], approx)
    want, S = brute_force(X, q, 10)
    assert not np.array_equal(np.argsort(-approx[0], kind="stable")[:10], want)  # codes alone: wrong
    rows, scores = search.exact_top(X, codes, scales, errors, q[None], 10)[0]
    assert np.array_equal(rows, want) and np.allclose(scores, S[want], atol=1e-6)
    batch = search.exact_top(X, codes, scales, errors, np.repeat(q[None], search.BLAS_QUERIES, 0), 10)
    for rows_b, scores_b in batch:  # the same query in a batch: the BLAS pass, the same answer
        assert np.array_equal(rows_b, rows) and np.array_equal(scores_b, scores)


def test_index_finds_each_text_first_and_same_topic_next(model, corpus, tmp_path):
    texts, labels = corpus
    v = wordvec.load(model)
    index, _ = build_index(v, "texts.txt", "idx", method="sif", model_path=model)
    assert index.rows == len(texts) and index.header["empty"] == 2
    hits = index.search(v, [texts[0], texts[42], texts[100]], n=10)
    for q, hs in zip((0, 42, 100), hits):
        assert hs[0].row == q and hs[0].score > 0.999 and hs[0].text == texts[q]
        assert np.mean(labels[[h.row for h in hs]] == labels[q]) >= 0.9
        assert not {7, 9} & {h.row for h in hs}
    # scores are the cosine of the stored unit rows and the embedded query
    X = np.load(tmp_path / "idx" / "vectors.npy")
    assert np.allclose(np.linalg.norm(X[[0, 1, 2]], axis=1), 1, atol=1e-5) and not X[7].any()
    q = index.encoder(v).transform([texts[42]])[0]
    q /= np.linalg.norm(q)
    assert np.isclose(hits[1][1].score, float(X[hits[1][1].row] @ q), atol=1e-5)


def test_a_query_with_no_known_word_gets_no_hits(model, corpus):
    v = wordvec.load(model)
    index, _ = build_index(v, "texts.txt", "idx", method="mean", model_path=model)
    assert index.search(v, "nothing known", n=5) == []
    assert len(index.search(v, "t1w3 t1w4", n=500)) == index.rows - 2  # n capped, zero rows never


def test_sif_ranks_topics_better_than_the_mean_here(tmp_path):
    """Frequent words shared by every text (large vectors along one common direction) pull
    every mean toward it; SIF weighs them down and removes the common component, so more of a
    text's 10 nearest texts share its topic (here, with weak topics: 0.3 x the topic direction
    plus unit noise per word)."""
    rng = np.random.default_rng(0)
    dim = 24
    centres, common = rng.standard_normal((6, dim)), rng.standard_normal(dim)
    words, rows, counts = [], [], []
    for f in range(5):
        words.append(f"the{f}")
        rows.append(3 * common + 0.5 * rng.standard_normal(dim))
        counts.append(10_000)
    for t in range(6):
        for j in range(40):
            words.append(f"t{t}w{j}")
            rows.append(0.3 * centres[t] + rng.standard_normal(dim))
            counts.append(int(rng.integers(5, 200)))
    native.save(Vectors(words, np.array(rows, dtype=np.float32), counts=counts), str(tmp_path / "m"))
    v = wordvec.load(tmp_path / "m")
    texts, labels = topic_texts(v, seed=1)
    (tmp_path / "t.txt").write_text("\n".join(texts) + "\n")
    share = {}
    for method in ("mean", "sif"):
        index, _ = build_index(v, "t.txt", f"idx-{method}", method=method, model_path="m")
        hits = index.search(v, texts, n=11)
        share[method] = np.mean([np.mean(labels[[h.row for h in hs if h.row != q][:10]] == labels[q])
                                 for q, hs in enumerate(hits)])
    assert share["mean"] > 0.5  # well above chance (1/6) either way
    assert share["sif"] > share["mean"] + 0.05, share


def test_a_model_is_checked_once_per_index(model, corpus, tmp_path, monkeypatch):
    v = wordvec.load(model)
    index, _ = build_index(v, "texts.txt", "idx", model_path=model)
    first = index.search(v, "t0w1")
    calls = []
    real = search.fingerprint
    monkeypatch.setattr(search, "fingerprint", lambda x: calls.append(x) or real(x))
    assert index.search(v, "t0w1") == first  # the same model object: not fingerprinted again
    assert calls == []
    other = Vectors(v.words, v.matrix * 1.01, counts=v.counts)
    with pytest.raises(WordvecError, match="built with another model"):
        index.search(other, "t0w1")  # another object is checked
    assert len(calls) == 1


def test_the_index_checks_its_model(model, corpus, tmp_path):
    v = wordvec.load(model)
    index, _ = build_index(v, "texts.txt", "idx", model_path=model)
    other = Vectors(v.words, v.matrix * 1.01, counts=v.counts)
    with pytest.raises(WordvecError, match="built with another model"):
        index.search(other, "t0w1")
    assert index.header["model"]["path"] == os.path.abspath(model)


# ---- approximate search -----------------------------------------------------------------------
def test_hnsw_finds_what_exact_search_finds(model, tmp_path):
    pytest.importorskip("faiss")
    v = wordvec.load(model)
    texts, _ = topic_texts(v, n=2000, seed=5)
    (tmp_path / "big.txt").write_text("\n".join(texts) + "\n")
    index, enc = build_index(v, "big.txt", "idx", ann=True, model_path=model, threads=1)
    Q = enc.transform(topic_texts(v, n=50, seed=6)[0])
    exact = index.search_vectors(Q, 10)
    approx = index.search_vectors(Q, 10, ann=True, ef=200)
    recall = np.mean([len(set(a[0]) & set(e[0])) / 10 for a, e in zip(approx, exact)])
    assert recall >= 0.95
    for (_, sa), (_, se) in zip(approx, exact):
        assert np.allclose(sa[:3], se[:3], atol=1e-4)  # the same cosine scores
    h = json.loads((tmp_path / "idx" / "index.json").read_text())
    assert h["ann"]["library"] == "faiss" and h["ann"]["M"] == 16


def test_ef_reaches_the_graph_search(model, tmp_path):
    faiss = pytest.importorskip("faiss")
    v = wordvec.load(model)
    texts, _ = topic_texts(v, n=2000, seed=5)
    (tmp_path / "big.txt").write_text("\n".join(texts) + "\n")
    index, enc = build_index(v, "big.txt", "idx", ann=True, model_path=model, threads=1)
    assert index.header["ann"]["ef"] == 160  # the default, recorded
    Q = enc.transform(topic_texts(v, n=20, seed=6)[0])
    work = []
    for ef in (10, 400):
        faiss.cvar.hnsw_stats.reset()
        index.search_vectors(Q, 10, ann=True, ef=ef)
        work.append(faiss.cvar.hnsw_stats.ndis)  # distances computed by the graph search
    assert work[1] > 3 * work[0] > 0


def test_hnsw_file_is_checked_before_it_is_read(model, corpus, tmp_path):
    pytest.importorskip("faiss")
    v = wordvec.load(model)
    build_index(v, "texts.txt", "idx", ann=True, model_path=model, threads=1)
    f = tmp_path / "idx" / "ann.bin"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(WordvecError, match="changed since the index was built"):
        Index.open("idx").search(v, "t0w1", ann=True)
    with pytest.raises(WordvecError, match="no approximate index"):
        build_index(v, "texts.txt", "plain", model_path=model)[0].search(v, "t0w1", ann=True)


# ---- damaged indexes: one line, before anything reads the arrays -------------------------------
@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "index.json").write_text("{nope"), "not valid JSON"),
    (lambda d: (d / "index.json").write_text(json.dumps({"format": "other"})), "not a wordvec index"),
    (lambda d: _edit(d, rows=10**6), "vectors.npy"),
    (lambda d: _edit(d, dim=0), "dim is 0"),
    (lambda d: _edit(d, version=99), "index version 99"),
    (lambda d: _edit(d, encoder={"method": "sif", "component": [1.0]}), "SIF component"),
    (lambda d: (d / "vectors.npy").write_bytes((d / "vectors.npy").read_bytes()[:-40]), "truncated"),
    (lambda d: np.save(d / "offsets.npy", np.arange(5)), "offsets"),
    (lambda d: (d / "texts.txt").write_bytes(b"short\n"), "do not match texts.txt"),
    (lambda d: os.unlink(d / "offsets.npy"), "missing"),
    (lambda d: np.save(d / "codes.npy", np.zeros((300, 24), dtype=np.int16)), "expected a 2-D int8"),
    (lambda d: np.save(d / "scales.npy", -np.ones(300, dtype=np.float32)), "negative or non-finite"),
    (lambda d: np.save(d / "errors.npy", np.ones(299, dtype=np.float32)), "errors.npy: shape"),
])
def test_damaged_index_files_are_refused_in_one_line(model, corpus, tmp_path, damage, message):
    build_index(wordvec.load(model), "texts.txt", "idx", model_path=model)
    damage(tmp_path / "idx")
    with pytest.raises(WordvecError, match=message):
        Index.open("idx")
    one_line(run("search", "idx", "t0w1", "-m", model), 1, message)


@pytest.mark.parametrize("bad", [np.array([object()] * 245), np.ones(3), np.full(245, np.nan)])
def test_damaged_counts_are_refused_before_use(model, corpus, tmp_path, bad):
    build_index(wordvec.load(model), "texts.txt", "idx", model_path=model)
    np.save(tmp_path / "idx" / "counts.npy", bad, allow_pickle=True)  # (an object array: a pickle)
    with pytest.raises(WordvecError, match="counts.npy"):
        Index.open("idx").search(wordvec.load(model), "t0w1")
    one_line(run("search", "idx", "t0w1"), 1, "counts.npy")


def _edit(folder, **changes):
    h = json.loads((folder / "index.json").read_text())
    h.update(changes)
    (folder / "index.json").write_text(json.dumps(h))


# ---- the commands --------------------------------------------------------------------------------
def test_index_and_search_commands(model, corpus, tmp_path):
    texts, labels = corpus
    r = run("index", "texts.txt", "-m", model, "-o", "idx")
    assert r.exit_code == 0, r.output
    assert "300 texts indexed (sif, 24 dims)" in r.output and "2 lines had no word" in r.output
    r = run("search", "idx", texts[42], "-n", "3")  # the model path comes from the index
    assert r.exit_code == 0, r.output
    first = r.output.splitlines()[0].split()
    assert float(first[0]) > 0.999 and first[1] == "43"  # line numbers are 1-based
    r = run("search", "idx", texts[42], texts[0], "-n", "2", "--json")
    out = json.loads(r.output)
    assert [q["hits"][0]["line"] for q in out] == [43, 1] and len(out[0]["hits"]) == 2
    assert out[0]["hits"][0]["text"] == texts[42]
    (tmp_path / "q.txt").write_text(f"{texts[5]}\nnothing known\n")
    r = run("search", "idx", "--queries", "q.txt", "--json")
    out = json.loads(r.output)
    assert out[0]["hits"][0]["line"] == 6 and out[1]["known_words"] is False and out[1]["hits"] == []


def test_index_from_stdin_needs_the_model_at_search(model, corpus):
    texts, _ = corpus
    r = run("index", "-", "-m", model, "--method", "mean", "-o", "idx", input="\n".join(texts) + "\n")
    assert r.exit_code == 0, r.output
    r = run("search", "idx", texts[3], "--json")
    assert r.exit_code == 0 and json.loads(r.output)["hits"][0]["line"] == 4
    assert json.loads(open("idx/index.json").read())["texts"] is None


def test_search_errors_are_one_line(model, corpus, tmp_path):
    one_line(run("search", "nosuch", "x"), 1, "no index at 'nosuch'")
    (tmp_path / "folder").mkdir()
    one_line(run("search", "folder", "x"), 1, "not a wordvec index")
    assert run("index", "texts.txt", "-m", model, "-o", "idx").exit_code == 0
    one_line(run("search", "idx"), 1, "no query")
    native.save(topic_model(seed=9), str(tmp_path / "other"))
    one_line(run("search", "idx", "t0w1", "-m", "other"), 1, "built with another model")


def test_index_never_replaces_a_users_folder(model, corpus, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    one_line(run("index", "texts.txt", "-m", model, "-o", "mine"), 1, "not replacing it")
    assert (mine / "notes.txt").read_text() == "precious" and len(os.listdir(mine)) == 1
    one_line(run("index", "texts.txt", "-m", model, "-o", "texts.txt"), 1)
    assert run("index", "texts.txt", "-m", model, "-o", "idx").exit_code == 0
    assert run("index", "texts.txt", "-m", model, "--method", "mean", "-o", "idx").exit_code == 0
    assert json.loads((tmp_path / "idx" / "index.json").read_text())["encoder"]["method"] == "mean"
    (tmp_path / "idx" / "extra.txt").write_text("mine now")
    one_line(run("index", "texts.txt", "-m", model, "-o", "idx"), 1, "extra.txt")
