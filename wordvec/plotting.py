"""Word maps: words placed in 2-D and labelled, written as PNG, SVG or PDF (``wordvec plot``).

:func:`project` places words in 2-D: ``pca`` (default) is the SVD of the centred unit vectors,
its signs fixed so the same words always give the same picture; ``tsne`` is t-SNE on the unit
vectors (see :func:`tsne_2d`). :func:`plot` draws them as a matplotlib Figure: optionally each
word's nearest neighbours in one colour per group, an analogy's parallelogram as arrows, or
colours from a word2vec ``-classes`` file; labels are moved off each other
(:func:`place_labels`). :func:`save` writes the figure atomically under wordvec's output rules.

matplotlib and scikit-learn are the ``plot`` extra (``pip install 'wordvec[plot]'``). They are
imported here, when a figure is drawn or t-SNE runs, never by ``import wordvec`` or by another
command; when they are missing the one-line error names the extra.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

from .errors import WordvecError

EXTRA_HINT = "pip install 'wordvec[plot]'"
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
METHODS = ("pca", "tsne")
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE"}
MAX_WORDS = 2000  # labels beyond this are unreadable at any size, and placing them is slow
MIN_TSNE_WORDS = 5
DEFAULT_SIZE = (10.0, 8.0)  # inches
DEFAULT_DPI = 100
MAX_PIXELS = 10000  # per side
MIN_PIXELS = 200
FONT_SIZE = 9.0
MARKER_SIZE = 22.0  # points**2, matplotlib's scatter ``s``
NO_CLASS = "no class"
MAX_LEGEND = 20


# ---- optional dependencies ---------------------------------------------------------------------
def require_matplotlib():
    """Import matplotlib (without pyplot: no GUI backend, no global state); a one-line
    :class:`WordvecError` naming the extra when it is not installed."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
        from matplotlib.backends import backend_agg  # noqa: F401
    except ImportError:
        raise WordvecError(f"plotting needs matplotlib, which is not installed: {EXTRA_HINT}") from None
    return matplotlib


def require_tsne():
    """Import scikit-learn's TSNE, or a one-line error naming the extra."""
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise WordvecError("--method tsne needs scikit-learn, which is not installed: "
                           f"{EXTRA_HINT}") from None
    return TSNE


# ---- inputs --------------------------------------------------------------------------------------
def image_format(path):
    """``png``, ``svg`` or ``pdf`` from the extension of ``path``, else a one-line error."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        given = f"extension {ext!r}" if ext else "no extension"
        raise WordvecError(f"{os.fspath(path)}: {given}; name a .png, .svg or .pdf file (the format "
                           "follows the extension)")
    return FORMATS[ext]


def parse_size(text, dpi=DEFAULT_DPI):
    """``--size WxH``: inches (``10x8``, ``7.5x5in``) or pixels (``1600x1200px``) -> inches."""
    import re
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*[xX×]\s*(\d+(?:\.\d*)?|\.\d+)\s*(in|px)?\s*",
                     str(text))
    if not m:
        raise WordvecError(f"--size {text!r}: expected WxH in inches (10x8) or pixels (1600x1200px)")
    w, h, unit = float(m.group(1)), float(m.group(2)), m.group(3) or "in"
    if unit == "in" and m.group(3) is None and max(w, h) > 100:
        raise WordvecError(f"--size {text}: {w:g} x {h:g} inches is huge; for pixels write "
                           f"{text.strip()}px")
    if unit == "px":
        w, h = w / dpi, h / dpi
    check_size((w, h), dpi, shown=f"--size {text}")
    return w, h


def check_size(size, dpi, shown="size"):
    try:
        w, h = (float(x) for x in size)
        dpi = float(dpi)
    except (TypeError, ValueError):
        raise WordvecError(f"{shown}: expected (width, height) in inches and a dpi") from None
    if not all(math.isfinite(x) and x > 0 for x in (w, h, dpi)):
        raise WordvecError(f"{shown}: width, height and dpi must be positive")
    px = (round(w * dpi), round(h * dpi))
    if min(px) < MIN_PIXELS or max(px) > MAX_PIXELS:
        raise WordvecError(f"{shown}: {px[0]} x {px[1]} pixels at {dpi:g} dpi; each side must be "
                           f"{MIN_PIXELS} to {MAX_PIXELS:,} pixels")
    return w, h


def _text_lines(path, what):
    """(line number, text) of a UTF-8 file; one-line errors for unreadable or non-UTF-8 files."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise WordvecError(f"{what} {path}: {e.strerror or e}") from None
    for n, raw in enumerate(data.splitlines(), 1):
        try:
            yield n, raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WordvecError(f"{what} {path}, line {n}: not UTF-8 text") from None


def read_words(path):
    """Words of a ``--words`` file: one a line; blank lines and lines starting with ``#`` are
    skipped, and so is ``# ...`` after a word. Duplicates are kept once, in order."""
    words = []
    for n, line in _text_lines(path, "--words"):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) > 1 and not fields[1].startswith("#"):
            raise WordvecError(f"--words {path}, line {n}: {line.strip()[:60]!r} is more than one "
                               "word (one word a line; # starts a comment)")
        words.append(fields[0])
    if not words:
        raise WordvecError(f"--words {path}: no words in it (one word a line)")
    return list(dict.fromkeys(words))


# ---- projections ---------------------------------------------------------------------------------
def unit_matrix(vectors, words):
    """The unit vectors of ``words`` (unseen words of fastText models built from n-grams)."""
    rows = []
    for w in words:
        try:
            rows.append(np.asarray(vectors.unit_vector(w), dtype=np.float64))
        except KeyError as e:
            raise WordvecError(e.args[0] if e.args else f"word {w!r} is not in the vocabulary") from None
    if not rows:
        raise WordvecError("no words to place")
    return np.stack(rows)


def pca_2d(X):
    """PCA of the rows of ``X`` (centred) to 2-D: (coordinates (n, 2), explained variance ratio
    of the two components). Each component's sign is fixed so that its largest loading is
    positive, so the same input gives the same picture on any machine."""
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    coords = np.zeros((len(X), 2))
    ratio = np.zeros(2)
    if len(X) < 2:
        return coords, ratio
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    k = min(2, len(s))
    for j in range(k):
        i = int(np.argmax(np.abs(vt[j])))
        if vt[j, i] < 0:
            vt[j] = -vt[j]
    coords[:, :k] = X @ vt[:k].T
    total = float((s ** 2).sum())
    if total > 0:
        ratio[:k] = s[:k] ** 2 / total
    return coords, ratio


def default_perplexity(n):
    """t-SNE's usual 30, lowered for few words (it must stay below (n - 1) / 3)."""
    return float(min(30.0, max(1.0, (n - 1) / 3)))


def tsne_2d(X, seed=1, perplexity=None):
    """t-SNE of the rows of ``X`` (unit vectors, so Euclidean ranks as cosine) to 2-D.

    scikit-learn's ``TSNE`` at its defaults (1,000 iterations, Barnes-Hut, learning rate
    "auto") with PCA initialisation, which keeps more of the global layout; the same ``seed``
    gives the same coordinates (measured with 1 and 2 threads). Chosen over openTSNE by
    measurement (benchmarks/bench_plot.py): as good or better on trustworthiness and distances
    at every size, as fast at 500 words, and one dependency instead of two.
    """
    TSNE = require_tsne()
    X = np.asarray(X, dtype=np.float64)
    if len(X) < MIN_TSNE_WORDS:
        raise WordvecError(f"t-SNE needs at least {MIN_TSNE_WORDS} words (got {len(X)}); "
                           "use --method pca")
    p = default_perplexity(len(X)) if perplexity is None else float(perplexity)
    if not (math.isfinite(p) and 0 < p < len(X)):
        raise WordvecError(f"perplexity {perplexity} must be positive and below the number of words")
    tsne = TSNE(n_components=2, perplexity=p, init="pca", learning_rate="auto",
                random_state=int(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return np.asarray(tsne.fit_transform(X), dtype=np.float64)


def project(vectors, words, method="pca", seed=1):
    """2-D coordinates (n, 2) of ``words`` by ``method`` (``pca`` or ``tsne``)."""
    return _project(vectors, list(words), method, seed)[0]


def _project(vectors, words, method, seed):
    if method not in METHODS:
        raise WordvecError(f"unknown projection {method!r}: use {' or '.join(METHODS)}")
    X = unit_matrix(vectors, words)
    if method == "pca":
        coords, ratio = pca_2d(X)
        return coords, {"explained": [float(r) for r in ratio]}
    p = default_perplexity(len(X))
    return tsne_2d(X, seed=seed, perplexity=p), {"perplexity": p}


# ---- what to draw --------------------------------------------------------------------------------
def _words_list(words, what="words"):
    if words is None:
        return []
    if isinstance(words, str):
        words = [words]
    out = list(words)
    bad = [w for w in out if not isinstance(w, str) or not w]
    if bad:
        raise WordvecError(f"{what} must be non-empty strings (got {bad[0]!r})")
    return list(dict.fromkeys(out))


def _missing_message(missing):
    shown = ", ".join(repr(w) for w in missing[:10])
    more = f" and {len(missing) - 10:,} more" if len(missing) > 10 else ""
    what = "word" if len(missing) == 1 else "words"
    return f"{what} not in the model: {shown}{more}"


def _palette(n):
    """``n`` distinct colours: matplotlib's tab10 / tab20, then spread hues."""
    import matplotlib
    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return [cmap(2 * i if i < 10 else 2 * (i - 10) + 1) for i in range(n)]
    from matplotlib.colors import hsv_to_rgb
    return [tuple(hsv_to_rgb(((i * 0.618034) % 1.0, 0.75 if i % 2 else 0.55, 0.85 if i % 3 else 0.6)))
            + (1.0,) for i in range(n)]


def plot(vectors, words=(), method="pca", neighbours=0, analogy=None, clusters=None, seed=1,
         size=DEFAULT_SIZE, dpi=DEFAULT_DPI, title=None, skip_missing=False, restrict=None,
         model_name=None, place_labels=True, fontsize=FONT_SIZE):
    """Draw ``words`` of ``vectors`` in 2-D, labelled; returns the matplotlib Figure.

    - ``method``: ``"pca"`` (default; deterministic) or ``"tsne"`` (scikit-learn, ``seed``).
    - ``neighbours=K``: each word with its K nearest words (cosine; among the ``restrict`` most
      frequent if given), one colour per word's group, with a legend. A word in several groups
      is drawn once, in the first.
    - ``analogy=(a, b, c)``: also draw ``a``, ``b``, ``c`` and the model's answer ``d`` to
      ``a - b + c`` (3CosAdd), with arrows b→a and c→d (the offset, solid) and b→c and a→d
      (dashed): the parallelogram.
    - ``clusters``: {word: class} or the path of a word2vec ``-classes`` file; each word coloured
      by its class (words without one in grey).
    - Words without a vector raise one :class:`WordvecError` naming them, or with
      ``skip_missing`` are left out (listed in ``fig.wordvec_skipped``).
    - ``size`` (inches) and ``dpi``; ``title`` replaces the default (model, projection, words).

    The figure carries what it shows: ``fig.wordvec_coords`` ({word: (x, y)}, in drawing
    order), ``wordvec_groups`` ({word: group name}), ``wordvec_labels`` (the label Text
    artists), ``wordvec_arrows`` ([(from, to)]), ``wordvec_analogy`` ((a, b, c, d) or None),
    ``wordvec_skipped`` and ``wordvec_notes``.
    """
    require_matplotlib()
    if method not in METHODS:
        raise WordvecError(f"unknown projection {method!r}: use {' or '.join(METHODS)}")
    if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) or neighbours < 0:
        raise WordvecError(f"neighbours must be a whole number >= 0 (got {neighbours!r})")
    neighbours = int(neighbours)
    if neighbours and clusters is not None:
        raise WordvecError("colour by --neighbours or by --clusters, not both")
    size = check_size(size, dpi)
    words = _words_list(words)
    if analogy is not None:
        analogy = _words_list(analogy, "analogy words")
        if len(analogy) != 3:
            raise WordvecError("an analogy takes three different words: a b c, for a - b + c")
    if isinstance(clusters, (str, os.PathLike)):
        from .clustering import read_classes
        clusters = read_classes(clusters)

    missing = [w for w in words if not vectors.has_vector(w)]
    skipped = []
    if missing:
        if not skip_missing:
            raise WordvecError(f"{_missing_message(missing)} (--skip-missing leaves them out)")
        skipped = missing
        gone = set(missing)
        words = [w for w in words if w not in gone]
    if analogy is not None:
        bad = [w for w in analogy if not vectors.has_vector(w)]
        if bad:
            raise WordvecError(f"analogy: {_missing_message(bad)}")

    # points, in drawing order, and the group of each: keys (kind, value), so that a word
    # named "analogy" or "words" is its own group; the legend shows their names
    group_of, heads, names = {}, [], {}
    if neighbours:
        for w in words:
            group_of.setdefault(w, ("word", w))
            names[("word", w)] = w
            heads.append(w)
        for w in words:
            for x, _ in vectors.most_similar(positive=[w], topn=neighbours, restrict=restrict):
                group_of.setdefault(x, ("word", w))
    elif clusters is not None:
        for w in words:
            c = clusters.get(w)
            group_of[w] = ("none",) if c is None else ("class", c)
        try:
            classes = sorted({clusters[w] for w in words if w in clusters})
        except TypeError:  # (classes of mixed types, from Python)
            classes = sorted({clusters[w] for w in words if w in clusters}, key=str)
        names.update({("class", c): f"class {c}" for c in classes})
        names[("none",)] = NO_CLASS
    else:
        for w in words:
            group_of[w] = ("words",)
        names[("words",)] = "words"
    answer = None
    if analogy is not None:
        a, b, c = analogy
        found = vectors.analogy(a, b, c, topn=1, restrict=restrict)
        if not found:
            raise WordvecError(f"analogy {a} - {b} + {c}: no answer (the vocabulary is too small)")
        answer = (found[0][0], found[0][1])
        quad = (a, b, c, answer[0])
        for w in quad:
            group_of.setdefault(w, ("analogy",))
        names[("analogy",)] = "analogy"
        heads.extend(w for w in quad if w not in heads)
    points = list(group_of)
    if not points:
        raise WordvecError("no words to plot" + (" (all were skipped)" if skipped else ""))
    if len(points) > MAX_WORDS:
        raise WordvecError(f"{len(points):,} words to plot; at most {MAX_WORDS:,} can be labelled "
                           "readably (lower --top or --neighbours)")
    if len(points) < 2:
        raise WordvecError(f"one word ({points[0]!r}) makes no map: give at least two, or "
                           "--neighbours K")
    coords, info = _project(vectors, points, method, seed)

    fig = _draw(points, coords, group_of, names, heads, info, method, size, dpi, title,
                model_name or _model_name(vectors), answer, analogy, neighbours, clusters,
                place_labels, fontsize)
    fig.wordvec_skipped = skipped
    fig.wordvec_analogy = None if analogy is None else (*analogy, answer[0])
    return fig


def _model_name(vectors):
    kind = vectors.meta.get("kind") if isinstance(getattr(vectors, "meta", None), dict) else None
    return f"{kind} vectors" if isinstance(kind, str) else "word vectors"


def _default_title(model_name, method, n, info, neighbours, analogy, answer, clusters):
    what = f"{METHOD_NAMES[method]} of {n:,} words"
    if method == "pca":
        pct = 100 * sum(info["explained"])
        what += f" ({pct:.0f} % of their variance)"
    else:
        what += f" (perplexity {info['perplexity']:.3g})"
    parts = [f"{model_name}: {what}"]
    if neighbours:
        parts.append(f"each with its {neighbours} nearest")
    if analogy is not None:
        parts.append(f"{analogy[0]} − {analogy[1]} + {analogy[2]} = {answer[0]}")
    if clusters is not None:
        parts.append("coloured by class")
    return "; ".join(parts)


def _style():
    return {"font.size": FONT_SIZE, "svg.fonttype": "none", "pdf.fonttype": 42,
            "svg.hashsalt": "wordvec", "axes.titlesize": "medium", "legend.fontsize": "medium"}


def _draw(points, coords, group_of, names, heads, info, method, size, dpi, title, model_name,
          answer, analogy, neighbours, clusters, place, fontsize):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with matplotlib.rc_context(_style()), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure(figsize=size, dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_xticks([])
        ax.set_yticks([])
        if method == "pca":
            ax.set_xlabel(f"PC1 ({100 * info['explained'][0]:.1f} % of the variance)")
            ax.set_ylabel(f"PC2 ({100 * info['explained'][1]:.1f} %)")
        index = {w: i for i, w in enumerate(points)}
        present = set(group_of.values())
        used = [g for g in names if g in present]  # (legend order: as the groups were made)
        coloured = [g for g in used if g != ("none",)]
        colours = dict(zip(coloured, _palette(len(coloured))))
        colours[("none",)] = (0.6, 0.6, 0.6, 1.0)
        handles = []
        for g in used:
            rows = [index[w] for w in points if group_of[w] == g]
            ax.scatter(coords[rows, 0], coords[rows, 1], s=MARKER_SIZE, color=[colours[g]],
                       edgecolors="none", zorder=3)
            handles.append(Line2D([], [], marker="o", linestyle="", color=colours[g],
                                  markersize=6))
        head_set = set(heads)
        labels = []
        for w in points:
            x, y = coords[index[w]]
            t = ax.text(x, y, w, fontsize=fontsize, ha="left", va="bottom", parse_math=False,
                        zorder=4, color="0.1",
                        fontweight="bold" if w in head_set else "normal")
            labels.append(t)
        arrows = []
        if analogy is not None:
            a, b, c = analogy
            d = answer[0]
            for start, end, style, colour in ((b, a, "-", "C3"), (c, d, "-", "C3"),
                                              (b, c, "--", "0.45"), (a, d, "--", "0.45")):
                ax.annotate("", xy=coords[index[end]], xytext=coords[index[start]],
                            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.4,
                                        "linestyle": style, "shrinkA": 4, "shrinkB": 4,
                                        "mutation_scale": 12}, zorder=2)
                arrows.append((start, end))
            handles.append(Line2D([], [], color="C3", lw=1.4))
        texts = [names[g] for g in used]
        if analogy is not None:
            texts.append(f"{analogy[0]} − {analogy[1]} + {analogy[2]} = {answer[0]} ({answer[1]:.2f})")
        _set_limits(ax, coords)
        ax.set_title(title if title is not None else _default_title(
            model_name, method, len(points), info, neighbours, analogy, answer, clusters),
            parse_math=False)
        if len(handles) > 1 and len(handles) <= MAX_LEGEND + 1:
            legend = fig.legend(handles, texts, loc="outside right upper", frameon=False)
            for text in legend.get_texts():
                text.set_parse_math(False)
        fig.canvas.draw()  # the layout: then frozen, so label places stay where they were put
        whole = ax.get_title()
        for _ in range(3):  # (the new layout can narrow the axes a little: wrap again)
            if not _wrap_title(ax, whole):
                break
            fig.canvas.draw()  # room for the title's lines
        fig.set_layout_engine("none")
        avoid = np.concatenate([np.linspace(coords[index[s]], coords[index[e]], 24)[1:-1]
                                for s, e in arrows]) if arrows else None
        leaders = place_labels(ax, labels, coords, [w in head_set for w in points],
                               avoid) if place else []
    fig.wordvec_coords = {w: (float(coords[i, 0]), float(coords[i, 1])) for i, w in enumerate(points)}
    fig.wordvec_groups = {w: names[g] for w, g in group_of.items()}
    fig.wordvec_labels = labels
    fig.wordvec_leaders = leaders
    fig.wordvec_arrows = arrows
    fig.wordvec_method = method
    fig.wordvec_notes = _notes(caught)
    return fig


def _wrap_title(ax, text):
    """Set the title to ``text`` broken into lines no wider than the axes (at "; " between its
    parts if it can, else between words), so that a long title is neither cut off at the
    figure's edges nor drawn over the legend beside the axes. Returns whether the title changed."""
    title = ax.title
    shown = title.get_text()
    renderer = ax.figure.canvas.get_renderer()
    room = ax.get_window_extent(renderer).width
    wrapped = shown

    def width(s):
        title.set_text(s)
        return title.get_window_extent(renderer).width

    try:
        if not text or width(text) <= room:
            wrapped = text
            return wrapped != shown
        lines = []
        parts = text.split("; ")
        for part in [p + ";" for p in parts[:-1]] + parts[-1:]:
            if lines and width(f"{lines[-1]} {part}") <= room:
                lines[-1] = f"{lines[-1]} {part}"
                continue
            words = part.split(" ")
            line = words[0]
            for w in words[1:]:
                if width(f"{line} {w}") <= room:
                    line = f"{line} {w}"
                else:
                    lines.append(line)
                    line = w
            lines.append(line)
        wrapped = "\n".join(lines)
        return wrapped != shown
    finally:
        title.set_text(wrapped)


def _notes(caught):
    notes = []
    for w in caught:
        text = str(w.message)
        if "missing from font" in text or "Glyph" in text:
            note = "the font lacks some characters of the words; they show as boxes"
        else:
            note = text.split("\n")[0][:200]
        if note not in notes:
            notes.append(note)
    return notes


def _set_limits(ax, coords):
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = hi - lo
    span = np.where(span > 0, span, max(float(span.max()), 1.0))
    # room for labels: more on the right, where a label goes first
    ax.set_xlim(lo[0] - 0.06 * span[0], hi[0] + 0.14 * span[0])
    ax.set_ylim(lo[1] - 0.07 * span[1], hi[1] + 0.07 * span[1])


# ---- labels --------------------------------------------------------------------------------------
_DIRECTIONS = np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)],
                       dtype=np.float64)
_RINGS = 7
_PASSES = 3
_PAD = np.array([-0.5, -0.5, 0.5, 0.5])


def _overlap(boxes, others):
    """Overlap areas (len(boxes), len(others)) of boxes given as (x0, y0, x1, y1) rows."""
    if len(others) == 0:
        return np.zeros((len(boxes), 0))
    w = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(boxes[:, None, 0], others[None, :, 0])
    h = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(boxes[:, None, 1], others[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def place_labels(ax, labels, coords, important=None, avoid=None):
    """Move each label to a free spot near its point. Candidates are 8 directions around the
    point at growing distances; each costs its overlap with the other labels, with other points'
    markers (and the points ``avoid``, data coordinates: the analogy's arrows) and with the
    outside of the axes, plus a little for distance. First greedily, in drawing order (the
    ``important`` ones first) against the labels already placed; then :data:`_PASSES` rounds in
    which each label still overlapping one moves to its cheapest spot against all the others.
    A label set away from its point gets a thin leader line. Returns the leader lines."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    pts = to_px(coords)
    frame = ax.get_window_extent(renderer)
    r = math.sqrt(MARKER_SIZE) / 2 * fig.dpi / 72  # marker radius, pixels
    markers = np.column_stack([pts - r, pts + r])
    if avoid is not None and len(avoid):
        extra = to_px(np.asarray(avoid, dtype=np.float64))
        blocked = np.column_stack([extra - 2.0, extra + 2.0])
    else:
        blocked = np.zeros((0, 4))
    n = len(labels)
    sizes = np.array([(b.width, b.height) for b in (t.get_window_extent(renderer) for t in labels)])
    order = list(range(n))
    if important is not None:
        order.sort(key=lambda i: not important[i])
    placed = np.zeros((n, 4))
    ring = np.zeros(n, dtype=int)
    done = np.zeros(n, dtype=bool)

    def candidates(i):
        (w, h), (x, y) = sizes[i], pts[i]
        d = (r + 2.0 + 0.8 * h * np.arange(_RINGS))[:, None]  # (rings, 1)
        dx, dy = _DIRECTIONS[:, 0][None, :], _DIRECTIONS[:, 1][None, :]
        diag = np.where((dx != 0) & (dy != 0), 0.7, 1.0)
        x0 = x + dx * d * diag - np.where(dx < 0, w, np.where(dx == 0, w / 2, 0))
        y0 = y + dy * d * diag - np.where(dy < 0, h, np.where(dy == 0, h / 2, 0))
        x0, y0 = x0.ravel(), y0.ravel()
        return np.column_stack([x0, y0, x0 + w, y0 + h])

    def costs(i, boxes, against):
        w, h = sizes[i]
        others = np.concatenate([np.delete(markers, i, axis=0), blocked])
        hits = _overlap(boxes + _PAD, placed[against] - _PAD)  # (1 pixel of air between labels)
        cost = hits.sum(axis=1) + 0.2 * w * h * (hits > 0).sum(axis=1)  # any overlap > 10 rings
        cost += _overlap(boxes, others).sum(axis=1)
        inside_w = np.clip(np.minimum(boxes[:, 2], frame.x1) - np.maximum(boxes[:, 0], frame.x0), 0, None)
        inside_h = np.clip(np.minimum(boxes[:, 3], frame.y1) - np.maximum(boxes[:, 1], frame.y0), 0, None)
        cost += 3.0 * (w * h - inside_w * inside_h)
        k = np.arange(len(boxes))
        return cost + w * h * (0.02 * (k // len(_DIRECTIONS)) + 0.001 * (k % len(_DIRECTIONS)))

    for i in order:  # greedy: against the labels placed so far
        boxes = candidates(i)
        best = int(np.argmin(costs(i, boxes, done)))
        placed[i], ring[i], done[i] = boxes[best], best // len(_DIRECTIONS), True
    for _ in range(_PASSES):  # then move the labels that still overlap another
        moved = False
        for i in order:
            others = np.arange(n) != i
            if not _overlap(placed[i:i + 1] + _PAD, placed[others] - _PAD).any():
                continue
            boxes = candidates(i)
            cost = costs(i, boxes, others)
            best = int(np.argmin(cost))
            current = int(np.argmin(np.abs(boxes - placed[i]).sum(axis=1)))
            if cost[best] < cost[current] - 1e-9:
                placed[i], ring[i], moved = boxes[best], best // len(_DIRECTIONS), True
        if not moved:
            break
    inverse = ax.transData.inverted()
    leaders = []
    for i in range(n):
        labels[i].set_position(inverse.transform(placed[i][:2]))
        if ring[i] > 0:
            (x, y), b = pts[i], placed[i]
            end = (min(max(x, b[0]), b[2]), min(max(y, b[1]), b[3]))
            (line,) = ax.plot(*inverse.transform([(x, y), end]).T, color="0.6", lw=0.6, zorder=1)
            leaders.append(line)
    return leaders


def label_report(fig):
    """What the labels of a :func:`plot` figure look like once drawn, from the renderer's
    bounding boxes: pairs of overlapping labels, labels over a point other than their own,
    labels reaching outside the axes, leader lines."""
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = fig.wordvec_labels
    boxes = np.array([[b.x0, b.y0, b.x1, b.y1] for b in (t.get_window_extent(renderer) for t in labels)])
    tol = 0.5  # pixels: touching is not overlapping
    inner = boxes + np.array([tol, tol, -tol, -tol])
    ov = _overlap(inner, inner)
    np.fill_diagonal(ov, 0)
    pairs = int(np.count_nonzero(np.triu(ov > 0)))
    words = list(fig.wordvec_coords)
    pts = ax.transData.transform(np.array([fig.wordvec_coords[w] for w in words]))
    r = math.sqrt(MARKER_SIZE) / 2 * fig.dpi / 72
    marks = np.column_stack([pts - r, pts + r])
    om = _overlap(inner, marks) > 0
    np.fill_diagonal(om, False)
    frame = ax.get_window_extent(renderer)
    outside = int(np.count_nonzero((boxes[:, 0] < frame.x0 - tol) | (boxes[:, 1] < frame.y0 - tol)
                                   | (boxes[:, 2] > frame.x1 + tol) | (boxes[:, 3] > frame.y1 + tol)))
    return {"labels": len(labels), "overlapping_pairs": pairs,
            "labels_over_points": int(np.count_nonzero(om.any(axis=1))), "outside": outside,
            "leaders": len(getattr(fig, "wordvec_leaders", []))}


# ---- writing -------------------------------------------------------------------------------------
def save(fig, path, force=False, inputs=()):
    """Write ``fig`` to ``path`` (format from the extension), atomically, under wordvec's output
    rules (:mod:`wordvec.outputs`, kind ``image``): returns the format written."""
    fmt = image_format(path)
    matplotlib = require_matplotlib()
    from .io_util import atomic_write
    metadata = {"png": {"Software": "wordvec"}, "svg": {"Date": None, "Creator": "wordvec"},
                "pdf": {"CreationDate": None, "Creator": "wordvec", "Producer": "wordvec"}}[fmt]
    with matplotlib.rc_context(_style()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (any missing glyphs were noted when drawing)
        with atomic_write(path, "wb", kind="image", force=force, inputs=inputs) as f:
            fig.savefig(f, format=fmt, dpi=fig.dpi, metadata=metadata)
    return fmt
