"""The one progress reporter: tqdm bars and one-line notes, shown the same way by every trainer.

Bars go to stderr. From the CLI (``wordvec._bars_terminal_only``) they appear only where stderr
is a terminal; Python callers that pass ``progress=True`` get them anywhere (a notebook's stderr
is not a terminal). After an error or a signal a bar is cleared, so the message is the only
line left.
"""

import sys


def shown(progress):
    """Whether to report: asked for, and (for the CLI) stderr is a terminal."""
    if not progress:
        return False
    from . import _bars_terminal_only
    return not _bars_terminal_only or sys.stderr.isatty()


def bar(progress, total, desc, unit="it", *, leave=True, unit_scale=True):
    """A tqdm bar, or None when progress is not shown."""
    if not shown(progress):
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, dynamic_ncols=True,
                mininterval=0.5, smoothing=0.1, leave=leave, file=sys.stderr)


def close(b, ok):
    """Close a bar; after an error or a signal clear it, so the message is the only line."""
    if b is None:
        return
    try:
        if not ok:
            b.leave = False
        b.close()
    except Exception:  # noqa: BLE001 - a bar must never hide the real error
        pass


def clear_all():
    """Close every open bar without leaving a line (after an error or a signal)."""
    try:
        from tqdm import tqdm

        for b in list(getattr(tqdm, "_instances", ())):
            b.leave = False
            b.close()
    except Exception:  # noqa: BLE001 - a bar must never hide the real error
        pass


def say(progress, message):
    """A one-line note between bars (what a step is about to do)."""
    if shown(progress):
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)
