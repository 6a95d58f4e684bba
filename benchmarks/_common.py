"""Helpers shared by the benchmark scripts: corpus preparation and per-tool subprocess runs."""

import json
import lzma
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(REPO), "shared")
BENCH_CORPUS = os.path.join(SHARED, "corpora", "bench-en.txt.xz")


def plain_corpus(path, repeat=1, folder=None):
    """An uncompressed copy of ``path`` (repeated ``repeat`` times), cached in the temp folder."""
    folder = folder or os.path.join(tempfile.gettempdir(), "wordvec-bench")
    os.makedirs(folder, exist_ok=True)
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


def run_json(code, *args, env=None):
    """Run ``python -c code args`` in a fresh process; return (its JSON result, peak RSS in MB).

    The child prints one JSON object on its last stdout line. Peak RSS comes from the child's
    own getrusage (ru_maxrss, KB on Linux), so each tool is measured alone.
    """
    wrapper = (
        "import json, resource, sys\n"
        f"{code}\n"
        "out = main(*sys.argv[1:])\n"
        "out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
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
