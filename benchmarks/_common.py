"""Helpers shared by the benchmark scripts: corpus preparation, per-tool subprocess runs, the
run record printed at the top of every write-up, and mean / spread over seeds."""

import contextlib
import datetime
import fcntl
import hashlib
import json
import lzma
import os
import platform
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(REPO), "shared")
BENCH_CORPUS = os.path.join(SHARED, "corpora", "bench-en.txt.xz")


LOCK = "/tmp/wordvec-bench.lock"  # timed runs hold it, so benchmarks never overlap on a machine


@contextlib.contextmanager
def bench_lock():
    """Hold the machine's benchmark lock (the one ``flock /tmp/wordvec-bench.lock`` takes)."""
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def plain_corpus(path, repeat=1, folder=None, tokens=None):
    """An uncompressed copy of ``path`` (repeated ``repeat`` times), cached in the temp folder;
    with ``tokens``, only its first lines up to that many tokens (a slice: ``--tokens``)."""
    folder = folder or os.path.join(tempfile.gettempdir(), "wordvec-bench")
    os.makedirs(folder, exist_ok=True)
    if tokens:
        return slice_corpus(plain_corpus(path, repeat, folder), tokens, folder)
    base = os.path.basename(path)
    for ext in (".xz", ".gz", ".bz2"):
        base = base.removesuffix(ext)
    out = os.path.join(folder, f"{base}.x{repeat}" if repeat > 1 else base)
    if os.path.exists(out) and os.path.getsize(out) > 0:
        return out
    opener = lzma.open if path.endswith(".xz") else open
    tmp = out + ".part"
    with open(tmp, "wb") as f:
        for _ in range(repeat):
            with opener(path, "rb") as src:
                while chunk := src.read(1 << 24):
                    f.write(chunk)
    os.replace(tmp, out)
    return out


def slice_corpus(path, tokens, folder):
    """The first lines of the plain text ``path`` holding ``tokens`` tokens (the line that
    reaches the count included), cached in ``folder``."""
    out = os.path.join(folder, f"{os.path.basename(path)}.first{tokens}")
    if os.path.exists(out) and os.path.getsize(out) > 0:
        return out
    n = 0
    with open(path, encoding="utf-8") as src, open(out + ".part", "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(line)
            n += len(line.split())
            if n >= tokens:
                break
    os.replace(out + ".part", out)
    return out


def peak_rss_mb():
    """This process's peak resident memory in MB: ``VmHWM`` of /proc/self/status.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries a process's high-water mark across
    ``exec``, so in a child started by a large parent ru_maxrss reports at least the parent's
    size at the fork (measured: 407 MB in a child whose own peak was 11 MB). Figures in
    benchmarks/README.md measured before 2026-12-01 were read that way.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_json(code, *args, env=None):
    """Run ``python -c code args`` in a fresh process; return (its JSON result, peak RSS in MB).

    The child prints one JSON object on its last stdout line. Peak RSS is the child's own
    high-water mark (:func:`peak_rss_mb`), so each tool is measured alone, unless the child
    reports ``peak_rss_mb`` itself (read before its evaluation, or a C tool's own peak): that
    figure is kept. (Until December 2026 it was overwritten here, so Stanford GloVe's peak
    was reported as that of the Python process that ran it and evaluated its vectors.)
    """
    wrapper = (
        "import json, sys\n"
        f"sys.path.insert(0, {HERE!r})\n"
        f"{code}\n"
        "from _common import peak_rss_mb\n"
        "out = main(*sys.argv[1:])\n"
        "out.setdefault('peak_rss_mb', peak_rss_mb())\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper, *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(headers, rows):
    """Format rows as a Markdown table."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"]
    out += [line(r) for r in cells]
    return "\n".join(out)


def count_tokens(path):
    """Whitespace tokens in a plain file, read 16 MB at a time."""
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += len(chunk.split())
    return n  # a token split by a chunk border counts twice: off by at most one per 16 MB


def fmt(x, pct=False):
    """A score for a table: '-' when missing, a percentage with ``pct``."""
    if x is None:
        return "-"
    return f"{100 * x:.1f}" if pct else f"{x:.3f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def shown(path):
    """``path`` as a write-up prints it: relative (``../shared/...``), never an absolute path of
    this machine; a scratch file outside the project shows its name only."""
    rel = os.path.relpath(os.path.abspath(path))
    return os.path.basename(path) if rel.startswith(os.path.join("..", "..")) else rel


# ---- the run record: what was measured, where, with what -------------------------------------
# distribution names (importlib.metadata) of the tools a script may use
DISTRIBUTIONS = {"numpy": "numpy", "numba": "numba", "scipy": "scipy", "gensim": "gensim",
                 "fasttext": ("fasttext-wheel", "fasttext"), "scikit-learn": "scikit-learn",
                 "matplotlib": "matplotlib", "opentsne": "openTSNE", "umap": "umap-learn",
                 "adjusttext": "adjustText", "wefe": "wefe", "dask": "dask",
                 "distributed": "distributed"}

_VERSIONS = r"""
import importlib.metadata as md
import os
import platform
import sys

def main(names_json):
    import json
    import wordvec
    out = {"wordvec": wordvec.__version__, "python": platform.python_version(),
           "wordvec_from": os.path.relpath(os.path.dirname(wordvec.__file__))}
    if out["wordvec_from"].startswith(".."):
        out["wordvec_from"] = "an installation outside this checkout: NOT the commit above"
    else:
        out["wordvec_from"] += "/ of this checkout"
    for name, dists in json.loads(names_json).items():
        for d in ([dists] if isinstance(dists, str) else dists):
            try:
                out[name] = md.version(d)
                break
            except md.PackageNotFoundError:
                out[name] = "not installed"
    return out
"""


def _git(*args):
    try:
        proc = subprocess.run(["git", "--no-optional-locks", "-C", REPO, *args],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def commit():
    """``git rev-parse --short HEAD`` of this checkout, ``+dirty`` when files differ from it."""
    head = _git("rev-parse", "--short", "HEAD")
    if head is None:
        return "unknown (not a git checkout)"
    status = _git("status", "--porcelain")
    return head + ("+dirty" if status else "")


def cpu_model():
    """The CPU's model name (/proc/cpuinfo, else lscpu, else the platform's word)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model name", "cpu model", "Processor"):
                    return " ".join(value.split())
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                return " ".join(value.split())
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 ** 2
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sha256(path, limit=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            h.update(chunk)
    return h.hexdigest()[:limit]


def c_tool(path):
    """A C tool's identification: path as shown, sha256 of the binary, and the git commit of
    the checkout it sits in, if any (word2vec C and GloVe have no version option)."""
    parts = [shown(path)]
    try:
        parts.append(f"sha256 {_sha256(path, 16)}")
    except OSError as e:
        parts.append(f"unreadable: {e.strerror}")
    folder = os.path.dirname(os.path.realpath(path))
    try:
        proc = subprocess.run(["git", "--no-optional-locks", "-C", folder, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True, timeout=30)
        if proc.returncode == 0:
            parts.append(f"git {proc.stdout.strip()}")
    except (OSError, subprocess.SubprocessError):
        pass
    return ", ".join(parts)


def _argv_shown(argv):
    out = []
    for a in argv:
        key, eq, value = a.partition("=") if a.startswith("--") else ("", "", a)
        if os.path.isabs(value) or value.startswith("~"):
            value = shown(os.path.expanduser(value))
        out.append(key + eq + value)
    return shlex.join(out)


def run_record(tools=(), corpus=None, c_tools=None, seeds=None):
    """The header block of a write-up, as text: date, commit, command, machine, versions of
    wordvec, Python and ``tools`` (keys of DISTRIBUTIONS) as the benchmark children import
    them, C tools ({label: path}), the corpus (shown relative, with size and checksum)."""
    names = {t: DISTRIBUTIONS[t] for t in ("numpy", "numba", "scipy", *tools)}
    v = run_json(_VERSIONS, json.dumps(names))
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    mem = _memory_gb()
    lines = [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("commit", commit()),
        ("command", "python " + _argv_shown([shown(sys.argv[0]), *sys.argv[1:]])),
        ("machine", f"{cpu_model()}; {cores} cores ({usable} usable by this run)"
                    + (f"; {mem:.1f} GB RAM" if mem else "")
                    + f"; {platform.system()} {platform.release()} {platform.machine()}"),
        ("versions", ", ".join(f"{k} {v[k]}" for k in ("wordvec", "python", *names))
                     + f" (wordvec imported from {v['wordvec_from']})"),
    ]
    for label, path in (c_tools or {}).items():
        if path:
            lines.append((label, c_tool(path)))
    if corpus:
        try:
            size = os.path.getsize(corpus)
            lines.append(("corpus", f"{shown(corpus)} ({size:,} bytes, sha256 {_sha256(corpus, 16)})"))
        except OSError as e:
            lines.append(("corpus", f"{shown(corpus)} (unreadable: {e.strerror})"))
    if seeds:
        lines.append(("seeds", f"{seeds} runs per tool, seeds 1..{seeds}: quality as mean "
                               "[min, max], speed as the fastest run, peak RSS as the largest"))
    width = max(len(k) for k, _ in lines)
    return "\n".join(["run record"] + [f"  {k.ljust(width)}  {val}" for k, val in lines]) + "\n"


# ---- several seeds: mean and spread ----------------------------------------------------------
def mean_range(values):
    """(mean, min, max) of the values that are not None; None when there are none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return sum(vals) / len(vals), min(vals), max(vals)


VERDICTS = ("(tie: the means differ by no more than the larger spread, max - min, of the two "
            "tools' runs; ahead / behind: by more)")


def verdict(ours, theirs):
    """``tie`` when two tools' mean scores differ by no more than the larger spread (max - min)
    of their runs, else ``ahead`` / ``behind`` (ours against theirs); ``1 run`` when a side has
    fewer than two runs (no spread to judge by); None when a side has no score."""
    a = [v for v in ours if v is not None]
    b = [v for v in theirs if v is not None]
    if not a or not b:
        return None
    if len(a) < 2 or len(b) < 2:
        return "1 run"
    diff = sum(a) / len(a) - sum(b) / len(b)
    width = max(max(a) - min(a), max(b) - min(b))
    return "tie" if abs(diff) <= width else ("ahead" if diff > 0 else "behind")


def quality_vs(ours, theirs):
    """``analogy +0.3 points (tie), rho WS-353-ALL -0.003 (tie), ...``: mean differences of two
    tools' per-run scores (dicts with ``analogy``, a fraction, and ``sim`` {name: [rho, ...]}),
    each with its :func:`verdict`."""
    def part(a, b, scale, form, unit=""):
        ma, mb = mean_range(a), mean_range(b)
        if ma is None or mb is None:
            return "-"
        return f"{(ma[0] - mb[0]) * scale:{form}}{unit} ({verdict(a, b)})"

    out = "analogy " + part([r["analogy"] for r in ours], [r["analogy"] for r in theirs], 100,
                            "+.1f", " points") + ", rho "
    return out + ", ".join(
        f"{k.removeprefix('EN-')} "
        + part([r["sim"][k][0] for r in ours], [r["sim"][k][0] for r in theirs], 1, "+.3f")
        for k in ours[0]["sim"])


def spread(values, pct=False, digits=None):
    """``mean [min, max]`` of several runs' scores for a table; one value alone is shown plain."""
    m = mean_range(values)
    if m is None:
        return "-"
    if digits is None:
        f = lambda x: fmt(x, pct)  # noqa: E731
    else:
        f = lambda x: f"{x:.{digits}f}"  # noqa: E731
    mean, lo, hi = m
    return f(mean) if len([v for v in values if v is not None]) == 1 else f"{f(mean)} [{f(lo)}, {f(hi)}]"
