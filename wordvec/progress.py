"""The one progress reporter: tqdm bars and one-line notes, shown the same way by every trainer.

Bars go to stderr. From the CLI (``wordvec._bars_terminal_only``) they appear only where stderr
is a terminal; Python callers that pass ``progress=True`` get them anywhere (a notebook's stderr
is not a terminal). After an error or a signal a bar is cleared, so the message is the only
line left.
"""

import sys
import time


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


class TaskBar:
    """One bar for a whole cluster job: its tasks done / total, and the words per second that
    the finished counting tasks of the current phase report, summed over the cluster (their
    words divided by the time since the phase began). ``update`` as tqdm's, so that the job's
    helpers take either; ``self.shown`` is False (and every call a no-op) when not shown. The
    bar appears at the first :meth:`phase`."""

    def __init__(self, progress, total=0, desc=""):
        self.progress, self.total, self.desc = progress, int(total), desc
        self.shown = shown(progress)
        self.bar = None
        self.words = 0
        self.start = time.monotonic()

    def phase(self, desc, tasks):
        """A new phase of ``tasks`` more tasks (beyond the total given at the start): the
        description changes, the rate starts again."""
        if not self.shown:
            return
        self.words, self.start = 0, time.monotonic()
        if self.bar is None:
            self.bar = bar(self.progress, self.total + int(tasks), desc, "task", unit_scale=False)
            return
        self.bar.total += int(tasks)
        self.bar.set_description(desc, refresh=False)
        self._postfix()
        self.bar.refresh()

    def update(self, n=1, words=0):
        if self.bar is None:
            return
        if words:
            self.words += int(words)
            self._postfix()
        self.bar.update(n)
        if words and not n:
            self.bar.refresh()

    def _postfix(self):
        from tqdm import tqdm
        rate = self.words / max(time.monotonic() - self.start, 1e-9)
        self.bar.set_postfix_str(f"{tqdm.format_sizeof(rate)} words/s" if self.words else "",
                                 refresh=False)

    def close(self, ok):
        close(self.bar, ok)


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
