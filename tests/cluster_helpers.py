"""Helpers shared by the Dask cluster tests (test_distributed*.py): the bundled corpus cut into
shards, a killer that SIGKILLs the worker running a given task, and the quality measure the
training tests compare (MEN rho, analogy accuracy)."""

import lzma
import os
import signal
import threading
import time
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent.parent / "wordvec" / "data" / "gutenberg-pd.txt.xz"


def shard_texts(n):
    """The bundled corpus's lines cut into ``n`` texts of about equal line counts."""
    lines = lzma.open(BUNDLED, "rt", encoding="utf-8").read().splitlines(keepends=True)
    step = -(-len(lines) // n)
    return ["".join(lines[i:i + step]) for i in range(0, len(lines), step)]


def write_shards(folder, n, name="shard-{}.txt"):
    """The bundled corpus in ``n`` plain text files in ``folder`` -> their paths."""
    paths = []
    for k, text in enumerate(shard_texts(n)):
        p = Path(folder) / name.format(k)
        p.write_text(text, encoding="utf-8")
        paths.append(str(p))
    return paths


def quality(vectors):
    """(MEN rho, analogy accuracy) of ``vectors``."""
    from wordvec.evaluate import dataset_path, evaluate_analogy, evaluate_similarity
    men = evaluate_similarity(vectors, dataset_path("EN-MEN-TR-3k"))
    analogy = evaluate_analogy(vectors, dataset_path("questions-words"))
    return men["spearman"], analogy["accuracy"]


class Killer:
    """A thread that SIGKILLs the first worker seen processing a task whose key starts with
    ``prefix`` (within ``wait`` seconds); ``pid`` and ``addr`` say which, if any."""

    def __init__(self, client, prefix, wait=60):
        self.client, self.prefix, self.wait = client, prefix, wait
        self.pid = self.addr = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline and self.pid is None:
            for addr, keys in self.client.processing().items():
                if any(str(k).startswith(self.prefix) for k in keys):
                    pid = self.client.run(os.getpid, workers=[addr])[addr]
                    self.addr = addr
                    os.kill(pid, signal.SIGKILL)
                    self.pid = pid
                    break
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join(5)
        return False
