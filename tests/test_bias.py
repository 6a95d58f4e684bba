"""wordvec bias: WEAT (effect size, permutation p-values, word lookup), directions from word
pairs, the bundled word lists, and the commands."""

import itertools
import json
import math
import os
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import bias
from wordvec.bias import (
    WEAT_TESTS,
    direction,
    direction_vector,
    effect_size,
    lookup,
    permutation_p_value,
    read_word_list,
    weat,
    weat_statistic,
    weat_test,
)
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.formats import load_vectors, save_vectors
from wordvec.vectors import FastTextVectors, Vectors


@pytest.fixture(autouse=True)
def _work(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("WORDVEC_MODEL", raising=False)
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


def write_list(path, words, comment="# a list\n"):
    with open(path, "w", encoding="utf-8") as f:
        f.write(comment + "\n".join(words) + "\n")
    return str(path)


# ---- synthetic vectors ---------------------------------------------------------------------
def planted(nx=8, ny=8, na=8, nb=8, dim=40, strength=1.0, noise=0.02, seed=0, prefix=""):
    """Orthonormal axes e0 (A), e1 (B), e2 (shared): attribute words of A lie near e0, of B
    near e1; targets X near e2 + strength * e0, Y near e2 + strength * e1. Every x is as much
    more similar to A than to B as every y is to B than to A, so s(x) = c, s(y) = -c up to the
    noise, and the effect size is 2 (its maximum for equal sets with the population std)."""
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.standard_normal((dim, 3)))[0].T
    e0, e1, e2 = axes

    def make(centre, n):
        return centre + noise * rng.standard_normal((n, dim))

    X = make(e2 + strength * e0, nx)
    Y = make(e2 + strength * e1, ny)
    A = make(e0, na)
    B = make(e1, nb)
    names = ([f"{prefix}x{i}" for i in range(nx)], [f"{prefix}y{i}" for i in range(ny)],
             [f"{prefix}a{i}" for i in range(na)], [f"{prefix}b{i}" for i in range(nb)])
    return names, np.concatenate([X, Y, A, B]).astype(np.float32)


def vectors_of(names, matrix, extra=0, seed=9):
    words = [w for group in names for w in group]
    if extra:
        rng = np.random.default_rng(seed)
        words += [f"filler{i}" for i in range(extra)]
        matrix = np.concatenate([matrix, rng.standard_normal((extra, matrix.shape[1]))])
    return Vectors(words, np.asarray(matrix, dtype=np.float32))


# ---- the effect size and the statistic -----------------------------------------------------
def test_effect_size_matches_the_papers_definition_on_a_hand_computed_example():
    """2-D vectors with cosines that are easy to write out (norms differ: only cosines count).

    A = {a1 (1, 0), a2 (0.6, 0.8)},  B = {b1 (0, 1), b2 (-0.6, 0.8)}
    x1 (3, 0):      cos a = 1, 0.6       mean 0.8;  cos b = 0, -0.6        mean -0.3;  s = 1.1
    x2 (0.8, 0.6):  cos a = 0.8, 0.96    mean 0.88; cos b = 0.6, 0         mean 0.3;   s = 0.58
    y1 (0, 2):      cos a = 0, 0.8       mean 0.4;  cos b = 1, 0.8         mean 0.9;   s = -0.5
    y2 (0.6, 0.8):  cos a = 0.6, 1       mean 0.8;  cos b = 0.8, 0.28      mean 0.54;  s = 0.26

    statistic = (1.1 + 0.58) - (-0.5 + 0.26) = 1.68 + 0.24 = 1.92
    means: X 0.84, Y -0.12, difference 0.96
    s over X u Y: mean 1.44 / 4 = 0.36; deviations 0.74, 0.22, -0.86, -0.10;
    squares 0.5476 + 0.0484 + 0.7396 + 0.0100 = 1.3456; / 4 = 0.3364; sqrt = 0.58
    effect size = 0.96 / 0.58 = 48 / 29 = 1.65517...
    (with the sample std, ddof 1: sqrt(1.3456 / 3) = 0.66973..., d = 1.43341...)
    p: the 2-subsets of {1.1, 0.58, -0.5, 0.26} sum to 1.68 (X), 0.6, 1.36, 0.08, 0.84, -0.24:
    one of the six reaches 1.68, p = 1/6.
    """
    words = ["x1", "x2", "y1", "y2", "a1", "a2", "b1", "b2"]
    m = np.array([[3, 0], [0.8, 0.6], [0, 2], [0.6, 0.8],
                  [1, 0], [0.6, 0.8], [0, 1], [-0.6, 0.8]], dtype=np.float32)
    v = Vectors(words, m)
    r = weat(v, (["x1", "x2"], ["y1", "y2"]), (["a1", "a2"], ["b1", "b2"]))
    np.testing.assert_allclose(r.sx, [1.1, 0.58], atol=1e-6)
    np.testing.assert_allclose(r.sy, [-0.5, 0.26], atol=1e-6)
    assert r.statistic == pytest.approx(1.92, abs=1e-6) == weat_statistic(r.sx, r.sy)
    assert r.effect_size == pytest.approx(48 / 29, abs=1e-5)
    assert effect_size(r.sx, r.sy, ddof=1) == pytest.approx(0.96 / math.sqrt(1.3456 / 3), abs=1e-5)
    assert r.p.method == "exact" and r.p.partitions == 6 and r.p.hits == 1
    assert r.p_value == pytest.approx(1 / 6)
    # swapping X and Y flips the sign of d and the statistic
    flipped = weat(v, (["y1", "y2"], ["x1", "x2"]), (["a1", "a2"], ["b1", "b2"]))
    assert flipped.effect_size == pytest.approx(-48 / 29, abs=1e-5)
    assert flipped.statistic == pytest.approx(-1.92, abs=1e-6)
    assert flipped.p.hits == 6  # every partition's statistic is >= the lowest one


def test_a_planted_association_gives_a_large_effect_size_and_the_smallest_p():
    names, m = planted()
    v = vectors_of(names, m, extra=50)
    r = weat(v, names[:2], names[2:])
    # s(x) = c and s(y) = -c up to the noise: d is 2, its maximum for equal sets (ddof 0)
    assert 1.95 < r.effect_size <= 2.0 + 1e-9
    assert r.statistic > 0 and (r.sx > 0).all() and (r.sy < 0).all()
    # only the observed partition reaches the observed statistic
    assert r.p.method == "exact" and r.p.partitions == math.comb(16, 8) == 12870
    assert r.p.hits == 1 and r.p_value == pytest.approx(1 / 12870)


def test_a_weaker_planted_association_still_has_the_right_sign_and_is_significant():
    names, m = planted(nx=10, ny=12, strength=0.3, noise=0.15, seed=3)
    r = weat(vectors_of(names, m), names[:2], names[2:])
    assert r.effect_size > 1.0
    assert r.p_value < 0.01
    assert len(r.sx) == 10 and len(r.sy) == 12


def test_no_association_when_x_and_y_are_the_same_vectors():
    """Y's vectors are X's under other names: s is the same for both sets, d and S are 0."""
    names, m = planted(seed=4, noise=0.3)
    x = m[:8]
    matrix = np.concatenate([x, x.copy(), m[16:]])
    v = vectors_of(names, matrix)
    r = weat(v, names[:2], names[2:])
    assert r.effect_size == pytest.approx(0, abs=1e-6)
    assert r.statistic == pytest.approx(0, abs=1e-5)
    assert r.p_value > 0.5  # half the partitions, and the ties, reach 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_association_in_random_vectors_gives_a_small_effect_and_no_small_p(seed):
    """Random directions in 100-D for all four sets (60 targets each): no association."""
    rng = np.random.default_rng(seed)
    n = [60, 60, 25, 25]
    names = [[f"{g}{i}" for i in range(k)] for g, k in zip("xyab", n)]
    v = vectors_of(names, rng.standard_normal((sum(n), 100)))
    r = weat(v, names[:2], names[2:], permutations=5000, seed=seed)
    assert abs(r.effect_size) < 0.6
    assert r.p.method == "sampled"
    assert r.p_value > 0.02


# ---- p-values --------------------------------------------------------------------------------
def brute_force_p(values, nx):
    """The share of the ways to choose X' (nx of the values) with sum(X') - sum(rest) >= that
    of the first nx values, in exact rational arithmetic (decimal strings of the values)."""
    exact = [Fraction(str(v)) for v in values]
    total = sum(exact)
    observed = 2 * sum(exact[:nx]) - total
    hits = count = 0
    for chosen in itertools.combinations(range(len(exact)), nx):
        count += 1
        hits += 2 * sum(exact[i] for i in chosen) - total >= observed
    return Fraction(hits, count), count


@pytest.mark.parametrize("n,nx,seed", [(12, 6, 0), (12, 5, 1), (12, 7, 2), (9, 2, 3), (10, 8, 4)])
def test_exact_enumeration_counts_every_partition(n, nx, seed):
    rng = np.random.default_rng(seed)
    s = np.round(rng.standard_normal(n), 3)
    expected, count = brute_force_p(s.tolist(), nx)
    p = permutation_p_value(s, nx)
    assert p.method == "exact" and p.partitions == count == math.comb(n, nx)
    assert Fraction(p.hits, p.partitions) == expected


def test_ties_count_as_reaching_the_observed_statistic():
    # exactly equal values: {1, 1} is the only 2-subset with sum 2
    assert permutation_p_value([1.0, 1.0, 0.0, 0.0], 2).hits == 1
    # observed {1, 0} = 1: {1, 0} four ways and {1, 1} reach it, {0, 0} does not
    p = permutation_p_value([1.0, 0.0, 1.0, 0.0], 2)
    assert (p.hits, p.partitions) == (5, 6)
    # 0.1 + 0.2 is 0.30000000000000004 in floating point, 0.3 + 0.0 is 0.3: still a tie
    s = [0.1, 0.2, 0.3, 0.0]
    expected, _ = brute_force_p(s, 2)
    assert Fraction(permutation_p_value(s, 2).hits, 6) == expected == Fraction(4, 6)


def test_exact_and_sampled_p_values_agree():
    names, m = planted(nx=8, ny=8, strength=0.12, noise=0.2, seed=11)
    v = vectors_of(names, m)
    exact = weat(v, names[:2], names[2:])
    sampled = weat(v, names[:2], names[2:], exact_limit=0, permutations=40_000, seed=5)
    assert exact.p.method == "exact" and sampled.p.method == "sampled"
    assert 0.01 < exact.p_value < 0.5  # a p-value where sampling error shows
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / 40_000)
    assert abs(sampled.p_value - exact.p_value) < 5 * se
    assert sampled.effect_size == exact.effect_size  # the p-value method changes nothing else


def test_sampled_p_value_is_one_plus_hits_over_one_plus_draws_and_follows_the_seed():
    s = np.random.default_rng(2).standard_normal(40)
    a = permutation_p_value(s, 20, permutations=3000, seed=7, exact_limit=0)
    assert a.method == "sampled" and a.partitions == 3000 and a.seed == 7
    assert a.p == (1 + a.hits) / 3001
    assert permutation_p_value(s, 20, permutations=3000, seed=7, exact_limit=0) == a
    others = {permutation_p_value(s, 20, permutations=3000, seed=k, exact_limit=0).hits
              for k in (1, 2, 3)}
    assert others != {a.hits}
    # every partition ties when all associations are equal
    flat = permutation_p_value(np.full(30, 0.25), 15, permutations=500, exact_limit=0)
    assert flat.hits == 500 and flat.p == 1.0
    # a planted association among 50 words: no random partition reaches it
    names, m = planted(nx=25, ny=25)
    r = weat(vectors_of(names, m), names[:2], names[2:], permutations=2000)
    assert r.p.method == "sampled" and r.p.hits == 0 and r.p_value == 1 / 2001


def test_exact_limit_switches_between_enumeration_and_sampling():
    s = np.arange(14, dtype=float)
    assert permutation_p_value(s, 7, exact_limit=math.comb(14, 7)).method == "exact"
    assert permutation_p_value(s, 7, exact_limit=math.comb(14, 7) - 1).method == "sampled"


# ---- words ---------------------------------------------------------------------------------
def test_missing_words_are_reported_and_lowercase_forms_are_used():
    names, m = planted()
    v = vectors_of(names, m)
    X = names[0][:6] + ["X6", "nosuchword"]  # x7 is left out; X6 only exists lowercased
    r = weat(v, (X, names[1]), names[2:], names=["mine", "theirs", "good", "bad"])
    tx = r.targets[0]
    assert tx.name == "mine" and tx.missing == ["nosuchword"] and tx.lowercased == ["X6"]
    assert tx.words == names[0][:7]
    assert len(r.sx) == 7 and len(r.sy) == 8  # unequal sizes are fine
    assert r.p.partitions == math.comb(15, 7)
    d = r.to_dict()
    assert d["targets"][0]["missing"] == ["nosuchword"] and d["targets"][0]["used"] == 7
    assert d["associations"]["X"][6][0] == "x6"
    json.dumps(d)


def test_a_list_left_with_fewer_than_two_words_is_refused():
    names, m = planted()
    v = vectors_of(names, m)
    with pytest.raises(WordvecError, match=r"target Y list 'Y' has 1 word with a vector \(of 3; "
                                           r"missing: gone1 gone2\): each list needs at least 2"):
        weat(v, (names[0], ["y0", "gone1", "gone2"]), names[2:])
    with pytest.raises(WordvecError, match="attribute B list 'B' has 0 words"):
        weat(v, names[:2], (names[2], ["nope", "never"]))


def test_fasttext_models_build_vectors_for_unseen_words():
    rng = np.random.default_rng(3)
    words = ["alpha", "beta", "gamma", "delta", "good", "fine", "bad", "poor"]
    ft = FastTextVectors(words, rng.standard_normal((8, 16)).astype(np.float32),
                         rng.standard_normal((500, 16)).astype(np.float32), 3, 5, 500)
    r = weat(ft, (["alpha", "beta", "alphabet"], ["gamma", "delta"]),
             (["good", "fine"], ["bad", "poor"]))
    assert r.targets[0].subword == ["alphabet"] and r.targets[0].missing == []
    assert r.builds_unseen and len(r.sx) == 3
    assert not weat(Vectors(words, ft.matrix), (["alpha", "beta"], ["gamma", "delta"]),
                    (["good", "fine"], ["bad", "poor"])).builds_unseen


def test_read_word_list_skips_comments_and_refuses_bad_files(tmp_path):
    p = write_list(tmp_path / "l.txt", ["one", "two  # a note", "", "one", "three"])
    assert read_word_list(p) == ["one", "two", "three"]
    with pytest.raises(WordvecError, match="no such file"):
        read_word_list(tmp_path / "gone.txt")
    with pytest.raises(WordvecError, match="no words in it"):
        read_word_list(write_list(tmp_path / "e.txt", [], "# only a comment\n"))
    with pytest.raises(WordvecError, match="line 3: 'two words' is more than one word"):
        read_word_list(write_list(tmp_path / "t.txt", ["one", "two words"]))
    (tmp_path / "b.bin").write_bytes(b"a\x00b\n")
    with pytest.raises(WordvecError, match="binary"):
        read_word_list(tmp_path / "b.bin")
    with pytest.raises(WordvecError, match="a folder"):
        read_word_list(tmp_path)


def test_lookup_uses_a_form_once():
    v = Vectors(["bill", "paul"], np.eye(2, dtype=np.float32))
    ws, m = lookup(v, ["Bill", "bill", "Paul"], "names")
    assert ws.words == ["bill", "paul"] and ws.lowercased == ["Bill", "Paul"] and m.shape == (2, 2)


# ---- the bundled lists -----------------------------------------------------------------------
def test_bundled_tests_have_their_lists_and_the_papers_sizes():
    sizes = {"flowers-insects": [25] * 4, "instruments-weapons": [25] * 4,
             "career-family": [8] * 4, "math-arts": [8] * 4, "science-arts": [8] * 4,
             "mental-physical-disease": [6, 6, 7, 7], "young-old-names": [8] * 4}
    assert {r["name"]: r["sizes"] for r in bias.tests_table()} == sizes
    assert [WEAT_TESTS[n].number for n in sizes] == [1, 2, 6, 7, 8, 9, 10]
    sources = open(os.path.join(bias.WEAT_DIR, "SOURCES.md"), encoding="utf-8").read()
    assert "Caliskan" in sources and "Science 356" in sources and "Greenwald" in sources
    for t in WEAT_TESTS.values():
        for stem in t.targets + t.attributes:
            assert f"`{stem}`" in sources


def test_bundled_lists_hold_the_papers_words():
    """Spot checks against the supplementary material of Caliskan et al. 2017."""
    def words(stem):
        return read_word_list(os.path.join(bias.WEAT_DIR, stem + ".txt"))
    assert words("male-names") == ["John", "Paul", "Mike", "Kevin", "Steve", "Greg", "Jeff", "Bill"]
    assert words("female-names") == ["Amy", "Joan", "Lisa", "Sarah", "Diana", "Kate", "Ann", "Donna"]
    assert words("career") == ["executive", "management", "professional", "corporation", "salary",
                               "office", "business", "career"]
    assert words("flowers")[:4] == ["aster", "clover", "hyacinth", "marigold"]
    assert words("unpleasant-25")[-2:] == ["agony", "prison"]
    assert words("arts-8")[2] == "Shakespeare" and "sculpture" in words("arts-7")
    assert words("temporary")[4] == "short-term" and words("young-names")[-1] == "Billy"
    occupations = read_word_list(bias.WORD_LISTS["occupations"])
    assert 90 <= len(occupations) <= 120 and "nurse" in occupations


def career_family_model(tmp_path, associated=True):
    """A model holding the words of the career-family test, lowercased as a lowercase corpus
    has them: male names near career words, female names near family words (or, with
    ``associated=False``, all names alike)."""
    t = WEAT_TESTS["career-family"]
    lists = [[w.lower() for w in read_word_list(p)] for p in t.paths()]
    names, m = planted(seed=6, strength=1.0 if associated else 0.0)
    save_vectors(vectors_of(lists, m, extra=30), tmp_path / "cf", "native")
    return str(tmp_path / "cf")


def test_cli_weat_runs_a_bundled_test_on_a_model_with_its_words(tmp_path):
    model = career_family_model(tmp_path)
    r = run("bias", "weat", "--test", "career-family", "-m", model)
    assert r.exit_code == 0, r.output
    out = r.output
    assert out.startswith("WEAT career-family (Caliskan et al. 2017, WEAT 6): male-names vs "
                          "female-names, career vs family")
    assert "exact: 1 of all 12,870 partitions of X+Y into 8 and 8 words" in out
    assert "p-value      7.77e-05" in out
    assert "note: used lowercased: John Paul Mike" in out
    d = float(out.split("effect size")[1].split()[0])
    assert 1.95 < d <= 2.0
    j = json.loads(run("bias", "weat", "--test", "career-family", "-m", model, "--json").output)
    assert j["test"] == "career-family" and j["weat"] == 6 and j["p_method"] == "exact"
    assert j["p_value"] == pytest.approx(1 / 12870) and j["effect_size"] == pytest.approx(d, abs=1e-4)
    assert j["targets"][0]["lowercased"][:2] == ["John", "Paul"] and j["std_ddof"] == 0
    api = weat_test(load_vectors(model), "career-family")
    assert api.effect_size == pytest.approx(d, abs=1e-4) and api.to_dict()["p_value"] == j["p_value"]
    with pytest.raises(WordvecError, match="unknown WEAT test 'nope': use one of flowers-insects"):
        weat_test(load_vectors(model), "nope")


def test_cli_weat_without_association(tmp_path):
    model = career_family_model(tmp_path, associated=False)
    j = json.loads(run("bias", "weat", "--test", "career-family", "-m", model, "--json").output)
    assert abs(j["effect_size"]) < 1.0 and j["p_value"] > 0.05


def test_cli_weat_with_list_files_sampled_and_missing_words(tmp_path):
    names, m = planted(nx=12, ny=12)
    save_vectors(vectors_of(names, m), tmp_path / "v", "native")
    paths = [write_list(tmp_path / f"{g}.txt", ws) for g, ws in zip("xyab", names)]
    with open(paths[1], "a") as f:
        f.write("absentword\n")
    r = run("bias", "weat", "-m", "v", "--targets", paths[0], paths[1], "--attributes", *paths[2:],
            "--exact-limit", "1000", "--permutations", "999", "--seed", "3")
    assert r.exit_code == 0, r.output
    assert "WEAT: x vs y, a vs b" in r.output
    assert "sampled: 0 of 999 random partitions (seed 3)" in r.output
    assert "p-value      0.001  " in r.output
    assert "  Y y                       13    12  absentword" in r.output


def test_cli_weat_list(tmp_path):
    r = run("bias", "weat", "--list")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert len(lines) == 1 + len(WEAT_TESTS)
    assert lines[3].split()[:2] == ["career-family", "6"] and lines[3].endswith("8+8 x 8+8")
    assert json.loads(run("bias", "weat", "--list", "--json").output)[0]["name"] == "flowers-insects"


def test_cli_weat_errors_are_one_line(tmp_path):
    names, m = planted()
    save_vectors(vectors_of(names, m), tmp_path / "v", "native")
    paths = [write_list(tmp_path / f"{g}.txt", ws) for g, ws in zip("xyab", names)]
    one_line(run("bias", "weat", "-m", "v"), 1, "name a test")
    one_line(run("bias", "weat", "-m", "v", "--test", "nope"), 1, "unknown WEAT test 'nope'",
             "career-family")
    one_line(run("bias", "weat", "-m", "v", "--test", "math-arts", "--targets", *paths[:2]), 1,
             "not both")
    one_line(run("bias", "weat", "-m", "v", "--targets", "gone.txt", paths[1],
                 "--attributes", *paths[2:]), 1, "--targets gone.txt: no such file")
    empty = write_list(tmp_path / "empty.txt", [], "# nothing\n")
    one_line(run("bias", "weat", "-m", "v", "--targets", *paths[:2], "--attributes", empty,
                 paths[3]), 1, "empty.txt: no words in it")
    absent = write_list(tmp_path / "absent.txt", ["foo", "bar"])
    one_line(run("bias", "weat", "-m", "v", "--targets", absent, paths[1], "--attributes",
                 *paths[2:]), 1, "target X list 'absent' has 0 words with a vector",
             "missing: foo bar")
    # the bundled career-family test on a model without most of its names
    one_line(run("bias", "weat", "-m", "v", "--test", "career-family"), 1,
             "target X list 'male-names' has 0 words")
    one_line(run("bias", "weat", "--test", "math-arts", "-m", "nomodel"), 1, "no model at")
    one_line(run("bias", "weat", "-m", "v", "--targets", paths[0], "--attributes", *paths[2:]), 2)


# ---- direction -----------------------------------------------------------------------------
def axis_model(seed=0, dim=30, noise=0.0):
    """Axis e0 is 'gender'; pairs (he, she), (man, woman), (king, queen) differ along it (plus
    noise), and words w_k have projection t_k / |w_k| on it, k = 0..8."""
    rng = np.random.default_rng(seed)
    e = np.linalg.qr(rng.standard_normal((dim, dim)))[0].T
    rows, words = [], []
    for i, (a, b) in enumerate([("he", "she"), ("man", "woman"), ("king", "queen")]):
        common = 2 * e[1 + i]
        for sign, w in ((1, a), (-1, b)):
            words.append(w)
            rows.append(common + sign * (0.8 + 0.1 * i) * e[0] + noise * rng.standard_normal(dim))
    ts = [0.9, 0.5, 0.2, 0.0, -0.1, -0.4, -0.7, -0.95, 0.3]
    for k, t in enumerate(ts):
        words.append(f"w{k}")
        rows.append(t * e[0] + math.sqrt(1 - t * t) * e[5 + k])
    return Vectors(words, np.array(rows, dtype=np.float32)), e[0], dict(
        (f"w{k}", t) for k, t in enumerate(ts))


def test_one_pair_is_the_normalised_difference_and_projections_are_cosines():
    v, axis, truth = axis_model()
    u, explained, used = direction_vector(v, [("he", "she")])
    expected = v.unit_vector("he") - v.unit_vector("she")
    np.testing.assert_allclose(u, expected / np.linalg.norm(expected), atol=1e-6)
    np.testing.assert_allclose(u, axis, atol=1e-6)  # the pair differs only along the axis
    assert explained is None and used == [("he", "she")]
    r = direction(v, ["he", "she"], words=list(truth))
    assert r.words == sorted(truth, key=lambda w: -truth[w])
    for w, p in zip(r.words, r.projections):
        assert p == pytest.approx(truth[w], abs=1e-5)  # unit words: the cosine is t
    assert r.positive(3) == [(w, pytest.approx(truth[w], abs=1e-5)) for w in ("w0", "w1", "w8")]
    assert [w for w, _ in r.negative(2)] == ["w7", "w6"]
    assert [w for w, _ in r.negative(20)] == ["w7", "w6", "w5", "w4"]  # w3 is 0: neither side


def test_several_pairs_give_the_first_principal_component_signed_by_the_first_pair():
    v, axis, truth = axis_model(noise=0.05, seed=2)
    for pairs in (["he", "she", "man", "woman", "king", "queen"],
                  ["she", "he", "woman", "man", "queen", "king"]):
        u, explained, used = direction_vector(v, pairs)
        sign = 1 if pairs[0] == "he" else -1
        assert float(u @ axis) * sign > 0.97
        assert 0.8 < explained < 1.0
        # the same as PCA by eigendecomposition of the covariance of the pair-centred vectors
        rows = []
        for a, b in used:
            ua, ub = v.unit_vector(a).astype(np.float64), v.unit_vector(b).astype(np.float64)
            mid = (ua + ub) / 2
            rows += [ua - mid, ub - mid]
        M = np.array(rows)
        M -= M.mean(axis=0)
        vals, vecs = np.linalg.eigh(M.T @ M)
        assert abs(float(vecs[:, -1] @ u)) == pytest.approx(1, abs=1e-9)
        assert explained == pytest.approx(vals[-1] / vals.sum(), abs=1e-9)
    exact, _, _ = axis_model(noise=0.0)
    assert direction_vector(exact, ["he", "she", "man", "woman"])[1] == pytest.approx(1.0)


def test_direction_over_the_top_words_leaves_out_the_pair_words():
    v, axis, truth = axis_model()
    r = direction(v, ["he", "she", "man", "woman"], top=8)
    assert r.excluded == ["he", "she", "man", "woman"]
    assert sorted(r.words) == ["king", "queen", "w0", "w1"]
    # king = 2 e3 + 1.0 e0 and queen = 2 e3 - 1.0 e0: cosines +-1/sqrt(5) with the axis
    assert r.words == ["w0", "w1", "king", "queen"]
    np.testing.assert_allclose(r.projections, [0.9, 0.5, 5 ** -0.5, -(5 ** -0.5)], atol=1e-5)
    assert "the 8 most frequent words" in r.source
    d = r.to_dict()
    assert d["method"] == "pca" and [p["word"] for p in d["projections"]] == r.words
    json.dumps(d)


def test_direction_errors():
    v, _, _ = axis_model()
    with pytest.raises(WordvecError, match="odd number"):
        direction(v, ["he", "she", "man"])
    with pytest.raises(WordvecError, match="pair word 'nobody' is not in the vocabulary"):
        direction(v, ["he", "nobody"])
    same = Vectors(["a", "b", "c"], np.array([[1, 0], [2, 0], [0, 1]], dtype=np.float32))
    with pytest.raises(WordvecError, match="same vector"):
        direction(same, ["a", "b"])
    with pytest.raises(WordvecError, match="no words to project: the 2 words are all missing"):
        direction(v, ["he", "she"], words=["nope", "never"])


def test_cli_direction_table_and_json(tmp_path):
    v, _, truth = axis_model()
    save_vectors(v, tmp_path / "v", "native")
    listed = write_list(tmp_path / "jobs.txt", list(truth) + ["He", "absent"])
    r = run("bias", "direction", "he", "she", "-m", "v", "--words", listed, "-n", "2")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "direction he - she: the normalised difference of their unit vectors"
    assert "of 9 words (11 words of jobs); he side positive" in lines[1]
    assert "left out (pair words): he" in r.output
    assert "missing from the model: 1 words: absent" in r.output
    assert "note: used lowercased: He" in r.output
    rows = lines[-2:]
    assert rows[0].split() == ["1.", "w0", "+0.9000", "1.", "w7", "-0.9500"]
    assert rows[1].split() == ["2.", "w1", "+0.5000", "2.", "w6", "-0.7000"]
    j = json.loads(run("bias", "direction", "he", "she", "-m", "v", "--words", listed, "--json",
                       "-n", "2").output)
    assert len(j["projections"]) == 9 and j["method"] == "difference"  # --json lists all
    assert j["missing"] == ["absent"] and j["excluded"] == ["he"]
    r = run("bias", "direction", "he", "she", "man", "woman", "-m", "v", "--top", "9")
    assert r.exit_code == 0, r.output
    assert "first principal component of 2 pairs (he-she, man-woman), 100.0% of their variance" \
        in r.output


def test_cli_direction_bundled_occupations(tmp_path):
    words = ["he", "she"] + read_word_list(bias.WORD_LISTS["occupations"])[:10]
    rng = np.random.default_rng(0)
    save_vectors(Vectors(words, rng.standard_normal((len(words), 12)).astype(np.float32)),
                 tmp_path / "v", "native")
    r = run("bias", "direction", "he", "she", "-m", "v", "--words", "occupations", "--json")
    assert r.exit_code == 0, r.output
    j = json.loads(r.output)
    assert len(j["projections"]) == 10 and "words of occupations" in j["source"]
    # a file of that name in the working folder wins
    write_list(tmp_path / "occupations", ["he", "accountant"])
    j = json.loads(run("bias", "direction", "he", "she", "-m", "v", "--words", "occupations",
                       "--json").output)
    assert [p["word"] for p in j["projections"]] == ["accountant"]


def test_cli_direction_errors_are_one_line(tmp_path):
    v, _, _ = axis_model()
    save_vectors(v, tmp_path / "v", "native")
    one_line(run("bias", "direction", "he", "-m", "v"), 1, "odd number")
    one_line(run("bias", "direction", "he", "she", "man", "-m", "v"), 1, "got 3 words")
    one_line(run("bias", "direction", "he", "ghost", "-m", "v"), 1, "'ghost' is not in the vocabulary")
    one_line(run("bias", "direction", "he", "she", "-m", "v", "--words", "nofile.txt"), 1,
             "--words nofile.txt: no such file")
    one_line(run("bias", "direction", "he", "she", "-m", "v", "--words",
                 write_list(tmp_path / "e.txt", [], "#\n")), 1, "no words in it")
    one_line(run("bias", "direction", "he", "she", "-m", "v", "--words",
                 write_list(tmp_path / "a.txt", ["zzz", "qqq"])), 1,
             "no words to project: the 2 words are all missing")
    one_line(run("bias", "direction", "he", "she", "-m", "v", "--words",
                 write_list(tmp_path / "p.txt", ["he", "she"])), 1, "all pair words")
    one_line(run("bias", "direction", "he", "she", "-m", "v", "--top", "5", "--words",
                 write_list(tmp_path / "w.txt", ["w1"])), 1, "not both")
    one_line(run("bias", "direction", "-m", "v"), 2, "Missing argument")
    one_line(run("bias", "direction", "he", "she", "-m", "nomodel"), 1, "no model at")
