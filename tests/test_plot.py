"""``wordvec plot`` and ``wordvec.plot``: real images rendered (Agg, no display) and checked."""

import os
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("matplotlib")

import wordvec  # noqa: E402
from wordvec import plotting  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.errors import WordvecError  # noqa: E402
from wordvec.formats import save_vectors  # noqa: E402
from wordvec.vectors import FastTextVectors, Vectors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat", "mouse", "rat", "lion", "tiger"]
PLACES = ["paris", "london", "berlin", "rome", "madrid", "vienna", "tokyo", "cairo", "lima", "oslo"]
QUAD = ["king", "man", "woman", "queen"]
DIM = 16


def synthetic(seed=3):
    """Two tight, far-apart groups (animals along e0, places along e1), an analogy whose answer
    is built in (unit vectors on a parallelogram: queen = king - man + woman), and fillers."""
    rng = np.random.default_rng(seed)
    eye = np.eye(DIM)
    rows, words = [], []
    for w in ANIMALS:
        words.append(w)
        rows.append(3 * eye[0] + 0.3 * rng.standard_normal(DIM))
    for w in PLACES:
        words.append(w)
        rows.append(3 * eye[1] + 0.3 * rng.standard_normal(DIM))
    royal, person, male, female = eye[2], eye[3], eye[4], eye[5]
    for w, v in zip(QUAD, (royal + male, person + male, person + female, royal + female)):
        words.append(w)
        rows.append(v + 0.02 * rng.standard_normal(DIM))
    for i in range(20):
        words.append(f"filler{i}")
        rows.append(rng.standard_normal(DIM))
    return Vectors(words, np.array(rows, dtype=np.float32), counts=np.arange(len(words), 0, -1))


@pytest.fixture
def vecs():
    return synthetic()


@pytest.fixture(autouse=True)
def _work(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def model(tmp_path, vecs):
    save_vectors(vecs, tmp_path / "model", "native")
    return "model"  # (relative: the tests run in tmp_path)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line(result, code=1, *patterns):
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0] and "Traceback" not in result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


def png_size(path):
    data = open(path, "rb").read(32)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def leftovers(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp") or ".tmp." in f]


# ---- files ---------------------------------------------------------------------------------------
def test_png_has_the_requested_pixel_size(model, tmp_path):
    r = run("plot", *ANIMALS[:4], "-m", model, "-o", "map.png")
    assert r.exit_code == 0, r.output
    assert png_size("map.png") == (1000, 800)  # the default: 10x8 inches at 100 dpi
    assert "1000x800 px" in r.output
    r = run("plot", *ANIMALS[:4], "-m", model, "-o", "px.png", "--size", "1600x1200px")
    assert r.exit_code == 0, r.output
    assert png_size("px.png") == (1600, 1200)
    r = run("plot", *ANIMALS[:4], "-m", model, "-o", "dpi.png", "--size", "8x6", "--dpi", "50")
    assert r.exit_code == 0, r.output
    assert png_size("dpi.png") == (400, 300)
    r = run("plot", *ANIMALS[:4], "-m", model, "-o", "odd.png", "--size", "777x555px", "--dpi", "96")
    assert r.exit_code == 0, r.output
    assert png_size("odd.png") == (777, 555)
    PIL = pytest.importorskip("PIL.Image")
    with PIL.open("map.png") as im:
        assert im.format == "PNG" and im.size == (1000, 800)
        assert len(im.convert("RGB").getcolors(1 << 20)) > 10  # something was drawn


def test_svg_is_xml_with_a_text_label_for_each_word(model):
    words = ANIMALS[:3] + PLACES[:3] + ["a$b$c"]  # (a word with dollars is not TeX math)
    vecs = synthetic()
    vecs = Vectors(vecs.words + ["a$b$c"], np.vstack([vecs.matrix, np.ones((1, DIM))]))
    save_vectors(vecs, "dollar", "native")
    r = run("plot", *words, "-m", "dollar", "-o", "map.svg", "--title", "My own title")
    assert r.exit_code == 0, r.output
    root = ET.parse("map.svg").getroot()
    assert root.tag.endswith("svg")
    texts = ["".join(t.itertext()).strip() for t in root.iter() if t.tag.endswith("text")]
    for w in words:
        assert w in texts, (w, texts)
    assert "My own title" in texts


def test_default_title_names_the_model_and_the_projection(model):
    r = run("plot", *ANIMALS[:5], "-m", model, "-o", "t.svg", "--method", "tsne")
    assert r.exit_code == 0, r.output
    texts = ["".join(t.itertext()) for t in ET.parse("t.svg").getroot().iter() if t.tag.endswith("text")]
    title = [t for t in texts if "t-SNE" in t]
    assert title and title[0].startswith("model: t-SNE of 5 words (perplexity"), texts
    r = run("plot", *ANIMALS[:5], "-m", model, "-o", "p.svg")
    texts = ["".join(t.itertext()) for t in ET.parse("p.svg").getroot().iter() if t.tag.endswith("text")]
    assert any("PCA" in t and model in t for t in texts), texts


def test_pdf_is_a_pdf(model):
    r = run("plot", *ANIMALS[:4], "-m", model, "-o", "map.PDF")
    assert r.exit_code == 0, r.output
    data = open("map.PDF", "rb").read()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_the_same_command_writes_the_same_bytes(model, fmt):
    args = ["plot", *ANIMALS[:4], *PLACES[:4], "-m", model, "--method", "tsne", "--seed", "5"]
    assert run(*args, "-o", f"a.{fmt}").exit_code == 0
    assert run(*args, "-o", f"b.{fmt}").exit_code == 0
    assert open(f"a.{fmt}", "rb").read() == open(f"b.{fmt}", "rb").read()


# ---- projections ---------------------------------------------------------------------------------
def separated(coords, n):
    """Every point of the first n is nearer its own group's centre than the other's, and so is
    every point of the rest: the groups lie on two sides of a line."""
    a, b = coords[:n], coords[n:]
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    near_a = lambda p: np.linalg.norm(p - ca) < np.linalg.norm(p - cb)  # noqa: E731
    return all(near_a(p) for p in a) and not any(near_a(p) for p in b)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_two_groups_land_apart(vecs, method):
    coords = plotting.project(vecs, ANIMALS + PLACES, method=method, seed=2)
    assert coords.shape == (20, 2) and np.isfinite(coords).all()
    assert separated(coords, len(ANIMALS))
    if method == "pca":  # the first component is the one between the groups: two halves
        x = coords[:, 0]
        assert (np.all(x[:10] < 0) and np.all(x[10:] > 0)) or (np.all(x[:10] > 0) and np.all(x[10:] < 0))
    mixed = plotting.project(vecs, ANIMALS[:5] + PLACES[:5] + ANIMALS[5:] + PLACES[5:],
                             method=method, seed=2)
    assert not separated(mixed, 10)  # (the check does see mixed groups)


def test_pca_is_the_centred_unit_vectors_principal_plane_with_fixed_signs(vecs):
    words = ANIMALS + PLACES + QUAD
    X = np.array([vecs.unit_vector(w) for w in words], dtype=np.float64)
    coords, ratio = plotting.pca_2d(X)
    Xc = X - X.mean(axis=0)
    val, vec = np.linalg.eigh(Xc.T @ Xc)
    top = vec[:, np.argsort(val)[::-1][:2]]
    for j in range(2):  # the sign rule: each component's largest loading is positive
        if top[np.argmax(np.abs(top[:, j])), j] < 0:
            top[:, j] = -top[:, j]
    np.testing.assert_allclose(coords, Xc @ top, atol=1e-9)
    np.testing.assert_allclose(ratio, np.sort(val)[::-1][:2] / val.sum(), rtol=1e-9)
    flipped, _ = plotting.pca_2d(X[::-1])  # rows in another order: the same places
    np.testing.assert_allclose(flipped[::-1], coords, atol=1e-9)


def test_tsne_is_repeatable_and_gets_the_seed(vecs, monkeypatch):
    words = ANIMALS + PLACES
    a = plotting.project(vecs, words, "tsne", seed=7)
    b = plotting.project(vecs, words, "tsne", seed=7)
    assert np.array_equal(a, b)
    real = plotting.require_tsne()
    seen = []

    def spy(*args, **kw):
        seen.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(plotting, "require_tsne", lambda: spy)
    c = plotting.project(vecs, words, "tsne", seed=8)
    assert seen[0]["random_state"] == 8 and seen[0]["init"] == "pca"
    assert seen[0]["perplexity"] == plotting.default_perplexity(20) < 20
    assert np.array_equal(a, c)  # (starting from PCA, t-SNE draws no random numbers here)


def test_fig_carries_the_coordinates_of_project(vecs):
    fig = wordvec.plot(vecs, ANIMALS + PLACES, method="pca")
    assert list(fig.wordvec_coords) == ANIMALS + PLACES
    np.testing.assert_allclose(np.array(list(fig.wordvec_coords.values())),
                               plotting.project(vecs, ANIMALS + PLACES))
    assert wordvec.plot is plotting.plot and "plot" in wordvec.__all__


# ---- what is drawn -------------------------------------------------------------------------------
def scatter_colours(fig):
    ax = fig.axes[0]
    out = {}
    for coll in ax.collections:
        fc = coll.get_facecolors()
        offsets = coll.get_offsets()
        for xy, c in zip(offsets, fc if len(fc) == len(offsets) else [fc[0]] * len(offsets)):
            out[tuple(np.round(xy, 9))] = tuple(np.round(c, 4))
    coords = fig.wordvec_coords
    return {w: out[tuple(np.round(coords[w], 9))] for w in coords}


def test_neighbours_one_colour_per_group(vecs):
    fig = wordvec.plot(vecs, ["cat", "paris", "king"], neighbours=4)
    colours = scatter_colours(fig)
    for w in ("cat", "paris", "king"):
        group = {w} | {x for x, _ in vecs.most_similar(w, topn=4)}
        assert {fig.wordvec_groups[x] for x in group} == {w}
        assert len({colours[x] for x in group}) == 1
    assert len(set(colours.values())) == 3
    assert len(colours) == 15
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["cat", "paris", "king"]
    none = wordvec.plot(vecs, ["cat", "paris", "king"])
    assert len(set(scatter_colours(none).values())) == 1 and not none.legends


def test_neighbours_from_the_command_line(model):
    r = run("plot", "cat", "paris", "--neighbours", "3", "-m", model, "-o", "n.svg")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("8 words (PCA) plotted to n.svg")
    texts = ["".join(t.itertext()) for t in ET.parse("n.svg").getroot().iter() if t.tag.endswith("text")]
    for w in ["cat", "paris"] + [x for x, _ in synthetic().most_similar("cat", topn=3)]:
        assert w in texts


def test_a_word_in_two_groups_is_drawn_once_in_the_first(vecs):
    near_cat = [x for x, _ in vecs.most_similar("cat", topn=6)]
    near_dog = [x for x, _ in vecs.most_similar("dog", topn=6)]
    shared = (set(near_cat) & set(near_dog)) - {"cat", "dog"}
    assert "dog" in near_cat and shared  # (the case under test: groups that overlap)
    fig = wordvec.plot(vecs, ["cat", "dog"], neighbours=6)
    assert fig.wordvec_groups["dog"] == "dog" and fig.wordvec_groups["cat"] == "cat"
    assert all(fig.wordvec_groups[w] == "cat" for w in shared)
    assert set(fig.wordvec_coords) == {"cat", "dog", *near_cat, *near_dog}
    assert len(fig.wordvec_labels) == len(fig.wordvec_coords)


def test_clusters_colour_by_class(vecs, tmp_path):
    (tmp_path / "classes.txt").write_text(
        "".join(f"{w} 0\n" for w in ANIMALS[:5]) + "".join(f"{w} 7\n" for w in PLACES[:5])
        + "king 3\n")
    words = ANIMALS[:5] + PLACES[:5] + ["king", "queen"]
    fig = wordvec.plot(vecs, words, clusters=str(tmp_path / "classes.txt"))
    colours = scatter_colours(fig)
    assert len({colours[w] for w in ANIMALS[:5]}) == 1
    assert len({colours[w] for w in PLACES[:5]}) == 1
    assert len(set(colours.values())) == 4  # classes 0, 3, 7 and "no class"
    assert colours["queen"][:3] == (0.6, 0.6, 0.6) and fig.wordvec_groups["queen"] == "no class"
    assert fig.wordvec_groups["king"] == "class 3"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["class 0", "class 3", "class 7",
                                                                  "no class"]
    r = run("plot", "--clusters", "classes.txt", "-m", "m", "cat")
    assert r.exit_code == 2  # (-o is required)


@pytest.mark.parametrize("text, message", [
    ("cat 1\ndog\n", "c.txt:2: expected 'word class', got 'dog'"),
    ("cat 1 2\n", "c.txt:1: expected 'word class'"),
    ("cat x\n", "c.txt:1: class 'x' is not an integer"),
    ("cat -1\n", "class '-1'"),
    ("cat 1.5\n", "class '1.5'"),
    ("cat 1\ncat 2\n", "c.txt:2: the word 'cat' is also on line 1"),
    ("\n\n", "is empty"),
    (b"caf\xe9 1\n", "c.txt:1: not UTF-8"),
])
def test_classes_file_errors_are_one_line(model, tmp_path, text, message):
    # plot --clusters reads classes files with wordvec.read_classes (tests/test_cluster.py)
    p = tmp_path / "c.txt"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    one_line(run("plot", "cat", "dog", "--clusters", str(p), "-m", model, "-o", "x.png"), 1, message)
    assert not os.path.exists("x.png")


def test_analogy_parallelogram_arrows(vecs):
    from matplotlib.text import Annotation
    fig = wordvec.plot(vecs, [], analogy=("king", "man", "woman"))
    assert vecs.analogy("king", "man", "woman")[0][0] == "queen"
    assert fig.wordvec_analogy == ("king", "man", "woman", "queen")
    assert fig.wordvec_arrows == [("man", "king"), ("woman", "queen"), ("man", "woman"),
                                  ("king", "queen")]
    coords = {w: np.array(xy) for w, xy in fig.wordvec_coords.items()}
    arrows = [a for a in fig.axes[0].texts if isinstance(a, Annotation) and a.arrow_patch is not None]
    assert len(arrows) == 4
    for ann, (start, end) in zip(arrows, fig.wordvec_arrows):
        np.testing.assert_allclose(ann.xyann, coords[start])
        np.testing.assert_allclose(ann.xy, coords[end])
    # a linear projection keeps the parallelogram: king - man ~ queen - woman in 2-D too
    side = coords["king"] - coords["man"]
    np.testing.assert_allclose(coords["queen"] - coords["woman"], side, atol=0.1 * np.linalg.norm(side))
    assert any("king − man + woman = queen" in t.get_text() for t in fig.legends[0].get_texts())
    assert {fig.wordvec_groups[w] for w in QUAD} == {"analogy"}
    with_others = wordvec.plot(vecs, ANIMALS[:3], analogy=("king", "man", "woman"))
    assert list(with_others.wordvec_coords) == ANIMALS[:3] + QUAD
    assert {with_others.wordvec_groups[w] for w in ANIMALS[:3]} == {"words"}
    both = wordvec.plot(vecs, ["cat", "paris"], neighbours=2, analogy=("king", "man", "woman"))
    assert len(set(scatter_colours(both).values())) == 3  # two groups and the analogy


def test_a_long_title_is_wrapped_inside_the_figure_clear_of_the_legend(vecs):
    # at 7x5 inches the analogy's default title is wider than the axes: drawn on one line it
    # ran off both edges of the figure and over the legend beside the axes
    for size in ((7, 5), (5, 4)):
        fig = wordvec.plot(vecs, [], analogy=("king", "man", "woman"), size=size,
                           model_name="vectors")
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        title = fig.axes[0].title
        box = title.get_window_extent(renderer)
        assert "\n" in title.get_text()
        assert title.get_text().replace("\n", " ").startswith("vectors: PCA of 4 words")
        assert "king − man + woman = queen" in title.get_text().replace("\n", " ")
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height, box
        assert not box.overlaps(fig.legends[0].get_window_extent(renderer))
        axes = fig.axes[0].get_window_extent(renderer)
        assert box.y0 >= axes.y1 - 0.5 and box.width <= axes.width + 0.5
    # a title that fits stays one line, and a given title is wrapped the same way
    fig = wordvec.plot(vecs, ["cat", "dog"], title="Short")
    assert fig.axes[0].get_title() == "Short"
    fig = wordvec.plot(vecs, ["cat", "dog"], size=(4, 3), title="word " * 30)
    assert fig.axes[0].get_title().count("\n") >= 2


def test_analogy_from_the_command_line(model):
    r = run("plot", "--analogy", "king", "man", "woman", "-m", model, "-o", "a.svg")
    assert r.exit_code == 0, r.output
    svg = open("a.svg", encoding="utf-8").read()
    assert "queen" in svg and svg.count('id="patch') >= 4
    one_line(run("plot", "--analogy", "king", "man", "nosuch", "-m", model, "-o", "b.svg"), 1,
             "nosuch", "analogy")
    assert not os.path.exists("b.svg")


def label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in fig.wordvec_labels]


def overlapping_pairs(boxes):
    n = 0
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5:
                n += 1
    return n


def test_labels_do_not_pile_up():
    rng = np.random.default_rng(0)
    words = [f"w{i:02d}longish" for i in range(60)]
    m = rng.standard_normal((60, 8)) * 0.05 + np.eye(8)[0]  # one tight cloud
    m[:30, 1] += 0.8  # and two of them
    vecs = Vectors(words, m.astype(np.float32))
    placed = wordvec.plot(vecs, words)
    plain = wordvec.plot(vecs, words, place_labels=False)
    piled, spread = overlapping_pairs(label_boxes(plain)), overlapping_pairs(label_boxes(placed))
    assert piled >= 20  # (without placement these labels do pile up)
    assert spread <= 1, spread
    frame = placed.axes[0].get_window_extent(placed.canvas.get_renderer())
    for b in label_boxes(placed):  # all inside the axes
        assert frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 and frame.y0 - 1 <= b.y0 and b.y1 <= frame.y1 + 1
    report = plotting.label_report(placed)
    assert report["overlapping_pairs"] == spread and report["outside"] == 0


def test_readable_default_size(vecs):
    fig = wordvec.plot(vecs, ANIMALS + PLACES)
    assert tuple(fig.get_size_inches()) == (10, 8) and fig.dpi == 100
    assert all(t.get_fontsize() >= 8 for t in fig.wordvec_labels)


def test_unseen_words_of_fasttext_models_get_a_place(tmp_path):
    rng = np.random.default_rng(1)
    words = ["alpha", "beta", "gamma", "delta"]
    ft = FastTextVectors(words, rng.standard_normal((4, 8)).astype(np.float32),
                         rng.standard_normal((500, 8)).astype(np.float32), 3, 5, 500)
    assert "alphabeta" not in ft.index
    fig = wordvec.plot(ft, words + ["alphabeta"])
    assert list(fig.wordvec_coords) == words + ["alphabeta"]
    oov = ft.oov_vector("alphabeta")
    np.testing.assert_allclose(plotting.unit_matrix(ft, ["alphabeta"])[0], oov / np.linalg.norm(oov),
                               rtol=1e-6)
    save_vectors(ft, tmp_path / "ft", "native")
    r = run("plot", "alpha", "beta", "alphabeta", "-m", "ft", "-o", "ft.png")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("3 words")


# ---- mistakes ------------------------------------------------------------------------------------
def test_unknown_words_are_one_line_naming_them(model):
    line = one_line(run("plot", "cat", "nosuch", "dog", "zzz", "-m", model, "-o", "m.png"), 1,
                    "'nosuch'", "'zzz'", "--skip-missing")
    assert "'cat'" not in line
    assert not os.path.exists("m.png") and not leftovers(".")


def test_skip_missing_leaves_them_out_with_a_note(model):
    r = CliRunner().invoke(cli, ["plot", "cat", "nosuch", "dog", "-m", model, "-o", "m.png",
                                 "--skip-missing"])
    assert r.exit_code == 0, r.output
    assert "note: left out 1 word not in the model: 'nosuch'" in r.output
    assert "2 words (PCA) plotted to m.png" in r.output
    one_line(run("plot", "nosuch", "zzz", "-m", model, "-o", "n.png", "--skip-missing"), 1,
             "no words to plot (all were skipped)")


@pytest.mark.parametrize("name", ["map.jpg", "map", "map.png.txt", "map.svgz"])
def test_unknown_extension_is_one_line(model, name):
    one_line(run("plot", "cat", "dog", "-m", model, "-o", name), 1, ".png, .svg or .pdf")
    one_line(run("plot", "cat", "dog", "-m", "no-such-model", "-o", name), 1, ".png, .svg or .pdf")
    assert not os.path.exists(name)
    with pytest.raises(WordvecError, match="extension"):
        plotting.save(None, name)


@pytest.mark.parametrize("args, message", [
    ([], "name the words to plot"),
    (["cat", "--neighbours", "2", "--clusters", "c.txt"], "not both"),
    (["cat", "--size", "1600x1200"], "1600x1200px"),
    (["cat", "--size", "big"], "expected WxH"),
    (["cat", "--size", "1x1"], "each side must be"),
    (["cat", "--size", "200x100px"], "each side must be"),
    (["cat"], "one word ('cat') makes no map"),
    (["cat", "dog", "cow", "--method", "tsne"], "t-SNE needs at least 5 words"),
])
def test_mistakes_are_one_line(model, args, message):
    open("c.txt", "w").write("cat 1\n")
    one_line(run("plot", *args, "-m", model, "-o", "x.png"), 1, message)
    assert not os.path.exists("x.png")


def test_too_many_words(model, monkeypatch):
    monkeypatch.setattr(plotting, "MAX_WORDS", 10)
    one_line(run("plot", "--top", "11", "-m", model, "-o", "x.png"), 1, "11 words to plot",
             "at most 10")
    assert run("plot", "--top", "10", "-m", model, "-o", "x.png").exit_code == 0


def test_words_file_and_top(model, vecs):
    open("words.txt", "w", encoding="utf-8").write(
        "# animals\ncat\n\n  dog   # a comment\n#not-a-word\ncat\nparis\n")
    assert plotting.read_words("words.txt") == ["cat", "dog", "paris"]
    r = run("plot", "lion", "--words", "words.txt", "--top", "3", "-m", model, "-o", "w.svg")
    assert r.exit_code == 0, r.output
    fig_words = ["lion", "cat", "dog", "paris", *vecs.words[:3]]
    assert r.output.startswith(f"{len(dict.fromkeys(fig_words))} words")
    texts = ["".join(t.itertext()) for t in ET.parse("w.svg").getroot().iter() if t.tag.endswith("text")]
    assert all(w in texts for w in fig_words)
    open("two.txt", "w").write("cat\nnew york\n")
    one_line(run("plot", "--words", "two.txt", "-m", model, "-o", "x.png"), 1,
             "two.txt, line 2", "more than one word")
    open("empty.txt", "w").write("# nothing\n\n")
    one_line(run("plot", "--words", "empty.txt", "-m", model, "-o", "x.png"), 1, "no words in it")
    one_line(run("plot", "--words", "absent.txt", "-m", model, "-o", "x.png"), 1, "absent.txt")


# ---- the output path -----------------------------------------------------------------------------
def test_a_file_wordvec_did_not_write_is_not_replaced(model):
    open("mine.png", "wb").write(b"my holiday picture")
    one_line(run("plot", "cat", "dog", "-m", model, "-o", "mine.png"), 1, "mine.png", "--force")
    # checked before any work: the missing model is not what is reported
    one_line(run("plot", "cat", "dog", "-m", "absent", "-o", "mine.png"), 1, "mine.png", "not replacing")
    assert open("mine.png", "rb").read() == b"my holiday picture"
    assert run("plot", "cat", "dog", "-m", model, "-o", "mine.png", "--force").exit_code == 0
    assert png_size("mine.png") == (1000, 800)


def test_its_own_image_is_replaced_and_inputs_never(model):
    assert run("plot", "cat", "dog", "-m", model, "-o", "own.svg").exit_code == 0
    first = open("own.svg", "rb").read()
    r = run("plot", "cat", "dog", "cow", "-m", model, "-o", "own.svg")
    assert r.exit_code == 0, r.output
    assert open("own.svg", "rb").read() != first
    save_vectors(synthetic(), "vectors.png", "word2vec")  # (read by content, whatever its name)
    one_line(run("plot", "cat", "dog", "-m", "vectors.png", "-o", "vectors.png", "--force"), 1,
             "input of this command")
    open("w.png", "w").write("cat\ndog\n")
    one_line(run("plot", "--words", "w.png", "-m", model, "-o", "w.png", "--force"), 1,
             "input of this command")
    one_line(run("plot", "cat", "dog", "-m", model, "-o", model + "/x.png"), 1, "inside the input folder")
    os.mkdir("folder.png")
    one_line(run("plot", "cat", "dog", "-m", model, "-o", "folder.png", "--force"), 1, "is a folder")
    assert not leftovers(".")


def test_save_is_atomic_and_checked(vecs, tmp_path):
    fig = wordvec.plot(vecs, ANIMALS)
    assert plotting.save(fig, tmp_path / "sub" / "f.svg") == "svg"
    open(tmp_path / "theirs.pdf", "wb").write(b"x")
    with pytest.raises(WordvecError, match="not replacing"):
        plotting.save(fig, tmp_path / "theirs.pdf")
    assert open(tmp_path / "theirs.pdf", "rb").read() == b"x"
    assert not leftovers(tmp_path) and not leftovers(tmp_path / "sub")


# ---- the extra -----------------------------------------------------------------------------------
def _cli_in_subprocess(tmp_path, block, args, check_modules=()):
    code = textwrap.dedent(f"""
        import atexit, sys
        for name in {block!r}:
            sys.modules[name] = None  # as if not installed: importing it raises ImportError
        atexit.register(lambda: print("LOADED", [m for m in {list(check_modules)!r}
                                                 if sys.modules.get(m) is not None]))
        sys.argv = ["wordvec", *{args!r}]
        from wordvec.cli import main
        main()
    """)
    env = {**os.environ, "PYTHONPATH": ROOT, "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)


@pytest.mark.parametrize("block, extra_args", [
    (["matplotlib"], []),
    (["sklearn"], ["--method", "tsne"]),
])
def test_missing_extra_is_one_line_naming_it(model, tmp_path, block, extra_args):
    p = _cli_in_subprocess(tmp_path, block, ["plot", *ANIMALS[:6], "-m", model, "-o", "x.png",
                                             *extra_args])
    assert p.returncode == 1, p.stderr
    lines = [x for x in p.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "pip install 'wordvec[plot]'" in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    assert not os.path.exists(tmp_path / "x.png")


def test_other_commands_and_import_wordvec_do_not_import_matplotlib(model, tmp_path):
    p = _cli_in_subprocess(tmp_path, [], ["similar", "cat", "-m", model, "-n", "2"],
                           ["matplotlib", "sklearn"])
    assert p.returncode == 0, p.stderr
    assert "LOADED []" in p.stdout, p.stdout
    code = ("import sys, wordvec, wordvec.cli, wordvec.plotting; f = wordvec.plot; "
            "print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": ROOT})
    assert p.returncode == 0 and p.stdout.strip() == "[]", (p.stdout, p.stderr)
    p = _cli_in_subprocess(tmp_path, ["matplotlib"], ["similar", "cat", "-m", model, "-n", "2"])
    assert p.returncode == 0 and "nearest to cat" in p.stdout, p.stderr  # works without it


def test_plot_extra_is_declared():
    import configparser
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"), encoding="utf-8")
    extras = cfg["options.extras_require"]
    names = lambda key: {line.split(">")[0].split("=")[0].strip().lower()  # noqa: E731
                         for line in extras[key].strip().splitlines()}
    assert {"matplotlib", "scikit-learn"} <= names("plot")
    assert names("plot") <= names("test")  # CI installs what the tests of plot need
    install = cfg["options"]["install_requires"].lower()
    assert "matplotlib" not in install and "scikit-learn" not in install
