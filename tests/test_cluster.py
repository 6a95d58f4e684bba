"""wordvec cluster: spherical k-means of word vectors, classes files, and the command."""

import json

import numba
import numpy as np
import pytest
from click.testing import CliRunner

import wordvec
from wordvec import clustering as cluster_module
from wordvec import native
from wordvec.cli import cli
from wordvec.clustering import cluster, kmeans_plus_plus, read_classes
from wordvec.errors import WordvecError
from wordvec.formats import save_vectors
from wordvec.vectors import Vectors


@pytest.fixture(autouse=True)
def _work(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line(result, code, *patterns):
    assert result.exit_code == code, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


def groups_on_sphere(sizes=(20, 45, 30, 60, 25, 35, 50, 40), dim=16, noise=0.03, seed=0):
    """Words around orthogonal random directions (one per group: cosine 0 between groups,
    about 0.99 within), shuffled, with norms from 0.2 to 5 (cosine k-means must ignore them);
    returns (Vectors, true group of each word)."""
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.standard_normal((dim, len(sizes))))[0].T
    truth = np.repeat(np.arange(len(sizes)), sizes)
    X = centres[truth] + noise * rng.standard_normal((len(truth), dim))
    X *= rng.uniform(0.2, 5.0, size=(len(truth), 1))
    order = rng.permutation(len(truth))
    words = [f"w{i}" for i in range(len(truth))]
    return Vectors(words, X[order].astype(np.float32)), truth[order]


def unit(X):
    X = np.asarray(X, dtype=np.float64)
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, n, out=np.zeros_like(X), where=n > 0)


def numpy_inertia(X, labels, k):
    """The spherical k-means objective of a partition, plainly: centroids are the normalised
    sums of each class's unit vectors; inertia is the sum of 1 - cosine to them."""
    U = unit(X)
    C = np.zeros((k, U.shape[1]))
    for c in range(k):
        C[c] = U[labels == c].sum(axis=0)
    C = unit(C)
    return float((1.0 - (U * C[labels]).sum(axis=1)).sum()), C


def contingency_is_perfect(truth, labels):
    """Every class holds one group, and every group one class (adjusted Rand index 1)."""
    pairs = set(zip(truth.tolist(), labels.tolist()))
    return len(pairs) == len(set(truth.tolist())) == len(set(labels.tolist()))


# ---- the algorithm -------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_well_separated_groups_are_recovered_exactly(seed):
    v, truth = groups_on_sphere(seed=seed)
    result = cluster(v, 8, seed=seed)
    assert contingency_is_perfect(truth, result.labels)
    assert result.converged
    assert sorted(result.sizes.tolist()) == sorted(np.bincount(truth).tolist())


def test_inertia_and_centroids_agree_with_numpy():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 24)).astype(np.float32) * rng.uniform(0.1, 3, (700, 1)).astype(np.float32)
    v = Vectors([f"w{i}" for i in range(700)], X)
    for iters in (0, 2, 50):
        r = cluster(v, 13, seed=2, iters=iters)
        inertia, C = numpy_inertia(X, r.labels, 13)
        assert r.inertia == pytest.approx(inertia, rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(r.centroids, C, atol=1e-6)
        assert r.history[-1] == pytest.approx(inertia, rel=1e-9)
        # squared distance of unit vectors is twice 1 - cosine
        sq = ((unit(X) - C[r.labels]) ** 2).sum()
        assert sq == pytest.approx(2 * r.inertia, rel=1e-6)


def test_converged_classes_are_a_fixed_point_and_rounds_lower_the_inertia():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((900, 10)).astype(np.float32)
    r = cluster(Vectors([f"w{i}" for i in range(900)], X), 7, seed=1, iters=200)
    assert r.converged and r.moves[-1] == 0
    best = (unit(X) @ r.centroids.T.astype(np.float64)).argmax(axis=1)
    assert (best == r.labels).mean() > 0.999  # (a float32 tie may go either way)
    assert all(a >= b - 1e-9 for a, b in zip(r.history, r.history[1:]))
    assert r.history[0] > r.history[-1]


def test_more_rounds_than_none_and_the_iters_bound():
    v, _ = groups_on_sphere(noise=0.6, seed=9)
    none = cluster(v, 8, seed=1, iters=0)
    some = cluster(v, 8, seed=1, iters=3)
    assert none.iterations == 0 and not none.converged and none.moves == []
    assert some.iterations <= 3 and len(some.moves) == some.iterations
    assert some.inertia <= none.inertia


def test_same_seed_same_classes_different_seeds_can_differ():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((500, 12)).astype(np.float32)
    v = Vectors([f"w{i}" for i in range(500)], X)
    a, b = cluster(v, 9, seed=11), cluster(v, 9, seed=11)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.centroids, b.centroids) and a.inertia == b.inertia
    others = [cluster(v, 9, seed=s).labels for s in (1, 2, 3)]
    assert any(not np.array_equal(a.labels, o) for o in others)


def test_restarts_keep_the_start_of_lowest_inertia():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((500, 12)).astype(np.float32)
    v = Vectors([f"w{i}" for i in range(500)], X)
    one = cluster(v, 9, seed=11)
    best = cluster(v, 9, seed=11, restarts=6)
    assert one.starts == [one.inertia]
    assert len(best.starts) == 6 and best.starts[0] == one.inertia  # start 0 is the seed's own run
    assert len(set(best.starts)) > 1  # the other starts really start elsewhere
    assert best.inertia == min(best.starts) < one.inertia
    ours, _ = numpy_inertia(X, best.labels, 9)  # the classes kept are the best start's
    assert ours == pytest.approx(best.inertia, rel=1e-5)
    again = cluster(v, 9, seed=11, restarts=6)
    assert np.array_equal(again.labels, best.labels) and again.starts == best.starts
    with pytest.raises(WordvecError, match="restarts"):
        cluster(v, 9, restarts=0)


def test_same_classes_on_one_thread_or_all(monkeypatch):
    monkeypatch.setattr(cluster_module, "PARALLEL_MIN", 0)  # small, but on every core
    rng = np.random.default_rng(6)
    X = rng.standard_normal((3000, 40)).astype(np.float32)
    v = Vectors([f"w{i}" for i in range(3000)], X)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = cluster(v, 20, seed=3)
    finally:
        numba.set_num_threads(before)
    every = cluster(v, 20, seed=3)
    assert np.array_equal(one.labels, every.labels)
    assert one.inertia == every.inertia
    monkeypatch.setattr(cluster_module, "PARALLEL_MIN", 10**12)  # one core below it ...
    small = cluster(v, 20, seed=3)
    assert np.array_equal(small.labels, every.labels)
    assert numba.get_num_threads() == before  # ... and the caller's thread count is given back


def test_kmeans_plus_plus_same_on_one_core_or_all_and_never_repeats_a_point():
    rng = np.random.default_rng(7)
    U = unit(rng.standard_normal((5000, 30))).astype(np.float32)
    a = kmeans_plus_plus(U, 60, 4, parallel=False)
    b = kmeans_plus_plus(U, 60, 4, parallel=True)
    assert np.array_equal(a, b)
    assert len(set(a.tolist())) == 60
    # three distinct points, each many times: k-means++ takes each of the three once
    P = np.repeat(U[:3], 50, axis=0)
    picks = kmeans_plus_plus(P, 3, 1)
    assert sorted(set((picks // 50).tolist())) == [0, 1, 2]


def test_k_equal_to_one_and_to_the_number_of_words():
    v, _ = groups_on_sphere(seed=2)
    one = cluster(v, 1)
    assert set(one.labels.tolist()) == {0}
    s = unit(v.matrix).sum(axis=0)
    assert one.inertia == pytest.approx(len(v) - np.linalg.norm(s), rel=1e-9)
    np.testing.assert_allclose(one.centroids[0], s / np.linalg.norm(s), atol=1e-6)
    small = Vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    every = cluster(small, 3)
    assert sorted(every.labels.tolist()) == [0, 1, 2] and every.inertia == pytest.approx(0, abs=1e-9)


def test_k_larger_than_the_words_and_bad_arguments_are_refused():
    v, _ = groups_on_sphere(seed=2)
    with pytest.raises(WordvecError, match=f"k = 500 classes but only {len(v)} words"):
        cluster(v, 500)
    with pytest.raises(WordvecError, match=r"only 10 words to cluster \(the top 10\)"):
        cluster(v, 11, top=10)
    for kw in ({"k": 0}, {"k": 2.5}, {"k": 2, "iters": -1}, {"k": 2, "seed": -3}, {"k": 2, "top": 0}):
        with pytest.raises(WordvecError):
            cluster(v, **kw)


def test_a_non_finite_vector_is_refused_naming_the_word():
    X = np.ones((4, 3), dtype=np.float32)
    X[2, 1] = np.nan
    with pytest.raises(WordvecError, match="'c'"):
        cluster(Vectors(list("abcd"), X), 2)


def test_zero_vectors_are_clustered_and_count_one_each():
    X = np.array([[1, 0], [0.9, 0.1], [0, 0], [0, 1], [0.1, 0.9]], dtype=np.float32)
    r = cluster(Vectors(list("abcde"), X), 2, seed=1)
    inertia, _ = numpy_inertia(X, r.labels, 2)
    assert r.inertia == pytest.approx(inertia, rel=1e-9)
    assert r.labels[0] == r.labels[1] != r.labels[3] == r.labels[4]
    assert np.isfinite(r.centroids).all()


def test_an_empty_class_takes_the_farthest_word():
    labels = np.array([0, 0, 0, 2, 2], dtype=np.int32)
    sims = np.array([0.9, 0.1, 0.8, 0.95, 0.5], dtype=np.float32)
    cluster_module._relocate_empty(labels, sims, np.ones(5), 3)
    assert labels.tolist() == [0, 1, 0, 2, 2]
    # ... but never the only word of its class (nor a zero vector: inv 0)
    labels = np.array([0, 1, 1, 1, 1], dtype=np.int32)
    sims = np.array([0.1, 0.9, 0.5, 0.8, 0.0], dtype=np.float32)
    cluster_module._relocate_empty(labels, sims, np.array([1.0, 1, 1, 1, 0]), 3)
    assert labels.tolist() == [0, 1, 2, 1, 1]


def test_classes_are_numbered_in_vocabulary_order():
    v, _ = groups_on_sphere(seed=3)
    r = cluster(v, 8, seed=7)
    firsts = [int(np.flatnonzero(r.labels == c)[0]) for c in range(8)]
    assert firsts == sorted(firsts) and firsts[0] == 0
    assert r.members(0)[0] == v.words[0]


def test_top_clusters_only_the_most_frequent_words():
    v, _ = groups_on_sphere(seed=4)
    r = cluster(v, 4, top=50, seed=1)
    assert r.words == v.words[:50] and len(r.labels) == 50


def test_the_api_is_wordvec_cluster_and_takes_a_path(tmp_path):
    v, truth = groups_on_sphere(seed=5)
    save_vectors(v, tmp_path / "v.txt", "word2vec", precision=9)
    r = wordvec.cluster(str(tmp_path / "v.txt"), 8, seed=5)
    assert contingency_is_perfect(truth, r.labels)
    assert wordvec.read_classes is read_classes


# ---- classes files -------------------------------------------------------------------------
def test_saved_classes_read_back_sorted_by_class(tmp_path):
    v, _ = groups_on_sphere(seed=6)
    r = cluster(v, 8, seed=6)
    r.save(tmp_path / "classes.txt")
    lines = (tmp_path / "classes.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split(" ") for line in lines]
    assert all(len(p) == 2 for p in pairs)
    classes = [int(c) for _, c in pairs]
    assert classes == sorted(classes)
    for c in range(8):  # within a class: vocabulary order
        ws = [w for w, x in pairs if int(x) == c]
        assert ws == r.members(c)
    assert read_classes(tmp_path / "classes.txt") == r.classes()
    assert len(r.classes()) == len(v)


def test_read_classes_takes_word2vec_c_files_in_any_order(tmp_path):
    p = tmp_path / "w2v-classes.txt"
    p.write_bytes("</s> 0\nthe 3\nof 3\ncafé 1\n\nzebra 2\n".encode())
    assert read_classes(p) == {"</s>": 0, "the": 3, "of": 3, "café": 1, "zebra": 2}


@pytest.mark.parametrize("content, pattern", [
    (b"a 1\nb 2 3\n", ":2: expected 'word class'"),
    (b"a 1\nb\n", ":2: expected 'word class'"),
    (b"a x\n", ":1: class 'x' is not an integer"),
    (b"a -1\n", "class '-1' is not an integer"),
    (b"a 1.5\n", "class '1.5' is not an integer"),
    (b"a 99999999999\n", "not an integer from 0 to 2,147,483,647"),
    (b"a 1\nb 2\na 3\n", ":3: the word 'a' is also on line 1"),
    (b"a 1\n\xff\xfe 2\n", ":2: not UTF-8 text"),
    (b"a 1\x00\n", "a NUL byte"),
    (b"", "is empty"),
    (b"\n \n", "is empty"),
])
def test_read_classes_refuses_malformed_files_in_one_line(tmp_path, content, pattern):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(WordvecError, match=None) as e:
        read_classes(p)
    assert pattern in str(e.value) and "\n" not in str(e.value)


def test_read_classes_of_a_missing_file(tmp_path):
    with pytest.raises(WordvecError, match="no such classes file"):
        read_classes(tmp_path / "nope.txt")


# ---- the command ---------------------------------------------------------------------------
@pytest.fixture
def model(tmp_path):
    v, truth = groups_on_sphere(seed=8)
    v.counts = np.arange(len(v), 0, -1)
    path = tmp_path / "vectors"
    native.save(v, path)
    return path, v, truth


def test_cli_writes_the_classes_file(model, tmp_path):
    path, v, truth = model
    r = run("cluster", "-m", path, "-k", 8, "-o", "classes.txt", "--seed", 3)
    assert r.exit_code == 0, r.output
    assert "305 words in 8 classes" in r.output and "saved to classes.txt" in r.output
    classes = read_classes("classes.txt")
    assert list(classes) == sorted(classes, key=lambda w: classes[w])  # file order: by class
    labels = np.array([classes[w] for w in v.words])
    assert contingency_is_perfect(truth, labels)
    assert np.array_equal(labels, cluster(v, 8, seed=3).labels)


def test_cli_same_seed_same_bytes_and_rerun_replaces_its_own_file(model):
    path, _, _ = model
    assert run("cluster", "-m", path, "-k", 5, "-o", "a.txt", "--seed", 9).exit_code == 0
    first = open("a.txt", "rb").read()
    assert run("cluster", "-m", path, "-k", 5, "-o", "a.txt", "--seed", 9).exit_code == 0
    assert open("a.txt", "rb").read() == first


def test_cli_top_json_and_stdout(model):
    path, v, _ = model
    r = run("cluster", "-m", path, "-k", 3, "--top", 20, "-o", "t.txt", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["words"] == 20 and out["k"] == 3 and out["classes"] == 3
    assert out["restarts"] == 1 and out["start_inertias"] == [out["inertia"]]
    r = run("cluster", "-m", path, "-k", 3, "--restarts", 4, "-o", "r.txt", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["restarts"] == 4 and len(out["start_inertias"]) == 4
    assert out["inertia"] == min(out["start_inertias"])
    assert set(read_classes("t.txt")) == set(v.words[:20])
    r = run("cluster", "-m", path, "-k", 3, "--top", 20, "-o", "-")
    assert r.exit_code == 0
    lines = [x for x in r.stdout.splitlines() if x]
    assert len(lines) == 20 and all(len(x.split()) == 2 for x in lines)


@pytest.mark.parametrize("args, code, patterns", [
    (["-k", "500", "-o", "c.txt"], 1, ["k = 500 classes but only 305 words"]),
    (["-k", "50", "--top", "10", "-o", "c.txt"], 1, ["only 10 words to cluster (the top 10)"]),
    (["-k", "0", "-o", "c.txt"], 2, ["-k", "0"]),
    (["-k", "2", "--top", "0", "-o", "c.txt"], 2, ["--top"]),
    (["-k", "2", "--seed", "-1", "-o", "c.txt"], 2, ["--seed"]),
    (["-k", "2", "--iters", "-1", "-o", "c.txt"], 2, ["--iters"]),
    (["-k", "2", "--restarts", "0", "-o", "c.txt"], 2, ["--restarts"]),
    (["-o", "c.txt"], 2, ["Missing option '-k'"]),
    (["-k", "2"], 2, ["Missing option '-o'"]),
])
def test_cli_mistakes_get_one_line(model, args, code, patterns):
    path, _, _ = model
    one_line(run("cluster", "-m", path, *args), code, *patterns)


def test_cli_missing_or_bad_model(tmp_path):
    one_line(run("cluster", "-m", "nope", "-k", 2, "-o", "c.txt"), 1, "no model at 'nope'")
    (tmp_path / "junk.txt").write_text("2 3\na 1 2 x\nb 1 2 3\n")
    one_line(run("cluster", "-m", "junk.txt", "-k", 2, "-o", "c.txt"), 1, "junk.txt")
    assert not (tmp_path / "c.txt").exists()


def test_cli_never_overwrites_an_input_or_a_users_file(model, tmp_path):
    path, v, _ = model
    save_vectors(v, tmp_path / "v.txt", "word2vec")
    before = (tmp_path / "v.txt").read_bytes()
    one_line(run("cluster", "-m", "v.txt", "-k", 2, "-o", "v.txt", "--force"), 1, "is an input")
    assert (tmp_path / "v.txt").read_bytes() == before
    one_line(run("cluster", "-m", path, "-k", 2, "-o", path / "classes.txt"), 1, "inside the input")
    one_line(run("cluster", "-m", path, "-k", 2, "-o", path), 1, "is an input")
    (tmp_path / "folder").mkdir()
    one_line(run("cluster", "-m", path, "-k", 2, "-o", "folder"), 1, "is a folder")
    (tmp_path / "mine.txt").write_text("my notes\n")
    one_line(run("cluster", "-m", path, "-k", 2, "-o", "mine.txt"), 1, "not a classes file written by wordvec",
             "--force")
    assert (tmp_path / "mine.txt").read_text() == "my notes\n"
    # the output is checked before the model is read: a missing model is not even looked for
    one_line(run("cluster", "-m", "missing", "-k", 2, "-o", "mine.txt"), 1, "mine.txt")
    r = run("cluster", "-m", path, "-k", 2, "-o", "mine.txt", "--force")
    assert r.exit_code == 0 and len(read_classes("mine.txt")) == len(v)


def test_cli_a_users_file_changed_after_wordvec_wrote_it_is_refused(model, tmp_path):
    path, _, _ = model
    assert run("cluster", "-m", path, "-k", 2, "-o", "c.txt").exit_code == 0
    with open("c.txt", "a") as f:
        f.write("extra 1\n")
    one_line(run("cluster", "-m", path, "-k", 2, "-o", "c.txt"), 1, "not a classes file written by wordvec")
    assert open("c.txt").read().endswith("extra 1\n")


def test_cli_help_has_examples():
    r = run("cluster", "--help")
    assert r.exit_code == 0 and "Example" in r.output and "word class" in r.output
