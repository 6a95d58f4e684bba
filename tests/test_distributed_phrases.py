"""Phrases on a real Dask cluster (LocalCluster: 2 worker processes of 1 thread), no mocks.

The bundled corpus in 4 shards (one gzip, one xz): the phrases, their scores and counts, the
statistics, the saved file and the phrased text must be one machine's, byte for byte, when
nothing is pruned; with pruning, the result is the documented one (each shard pruned as one
machine prunes, merges pruned alike, in a fixed tree).
"""

import gzip
import lzma
import os
import sys
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402

from wordvec import distributed_phrases as dp  # noqa: E402
from wordvec.cli import cli  # noqa: E402
from wordvec.phrases import Phrases  # noqa: E402

pytestmark = pytest.mark.hard_timeout(120)  # a hang fails (tests/conftest.py)

BUNDLED = Path(__file__).resolve().parent.parent / "wordvec" / "data" / "gutenberg-pd.txt.xz"
N_SHARDS = 4
SUFFIX = {1: ".gz", 2: ".xz"}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    lines = lzma.open(BUNDLED, "rt", encoding="utf-8").read().splitlines(keepends=True)
    step = -(-len(lines) // N_SHARDS)
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for i in range(N_SHARDS):
        data = "".join(lines[i * step:(i + 1) * step]).encode("utf-8")
        ext = SUFFIX.get(i, "")
        p = folder / f"part-{i}.txt{ext}"
        p.write_bytes(gzip.compress(data) if ext == ".gz" else lzma.compress(data) if ext == ".xz"
                      else data)
        paths.append(str(p))
    return paths


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _phrased(folder):
    """The folder's phrased shards, concatenated in the shards' order."""
    return b"".join((Path(folder) / f"part-{i}.txt").read_bytes() for i in range(N_SHARDS))


@pytest.mark.parametrize("urls, kwargs", [
    (False, dict(passes=2)),                                       # word2phrase's score, connectors
    (True, dict(scoring="npmi", threshold=0.4, min_count=3, connectors=())),  # file:// (fsspec)
])
def test_identical_to_one_machine(client, shards, tmp_path, urls, kwargs):
    one = Phrases(**kwargs).fit(shards)
    one.save(tmp_path / "one.json")
    one.write(shards, tmp_path / "one.txt")
    job = [f"file://{p}" for p in shards] if urls else shards
    many, tokens, files = dp.phrases_on_cluster(job, Phrases(**kwargs), client,
                                                output=tmp_path / "many",
                                                save=tmp_path / "many.json")
    assert files == N_SHARDS and tokens == one.tokens_written
    assert len(one.passes) == len(many.passes) == kwargs.get("passes", 1)
    for a, b in zip(one.passes, many.passes):
        assert len(a.phrases) > 100
        assert list(a.phrases.items()) == list(b.phrases.items())  # scores: the same float64
        assert a.corpus_words == b.corpus_words
    assert one.stats == many.stats and one.stats[0]["pruned_candidates"] == 0
    assert (tmp_path / "many.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    assert _phrased(tmp_path / "many") == (tmp_path / "one.txt").read_bytes()
    assert sorted(os.listdir(tmp_path / "many")) == [f"part-{i}.txt" for i in range(N_SHARDS)]
    # the saved phrases applied to the shards on the cluster: the same text again
    loaded = Phrases.load(tmp_path / "many.json")
    _, tokens, _ = dp.phrases_on_cluster(job, loaded, client, learn=False,
                                         output=tmp_path / "applied")
    assert _phrased(tmp_path / "applied") == (tmp_path / "one.txt").read_bytes()
    assert tokens == one.tokens_written


def test_pruning_per_shard_then_merged_in_a_fixed_tree(client, shards):
    """With a small pair table each shard's counter prunes as one machine would on that shard,
    and merges prune alike: the cluster gives exactly that (the same on every run), no table
    ever holds more than max_vocab pairs, and every count is at most the exact one."""
    max_vocab = 20_000
    settings = Phrases(max_vocab=max_vocab, min_count=3).settings
    connectors = tuple(settings["connectors"])
    max_words = Phrases().max_words
    tables = [dp.count_shard(s, settings, []) for s in shards]
    assert all(0 < t.pruned_candidates and len(t.counts) <= max_vocab for t in tables)
    while len(tables) > 1:  # the fixed tree: 0+1, 2+3, then the sums
        tables = [dp.merge_counts(tables[i], tables[i + 1], max_vocab, max_words, connectors)
                  for i in range(0, len(tables), 2)]
        assert all(len(t.counts) <= max_vocab for t in tables)
    expected, total, stats = dp.score_counts(tables[0], settings)
    for _ in range(2):
        many, _, _ = dp.phrases_on_cluster(shards, Phrases(max_vocab=max_vocab, min_count=3),
                                           client)
        assert list(many.passes[0].phrases.items()) == list(expected.items())
        assert many.stats == [stats] and stats["pruned_candidates"] > 0
    # pruning only lowers pair counts, and a score grows with its pair's count: every phrase
    # kept is one that exact counts keep, seen at most as often
    exact = Phrases(min_count=3).fit(shards).passes[0].phrases
    kept = many.passes[0].phrases
    assert len(kept) > 100 and set(kept) <= set(exact) and len(kept) < len(exact)
    assert all(c <= exact[w][1] for w, (_, c) in kept.items())
    assert many.passes[0].corpus_words == stats["corpus_words"] == sum(t.tokens for t in tables)
    # one shard: the single-machine counter itself, pruning and all
    one = Phrases(max_vocab=max_vocab, min_count=3).fit(shards[:1])
    many, _, _ = dp.phrases_on_cluster(shards[:1], Phrases(max_vocab=max_vocab, min_count=3),
                                       client)
    assert list(one.passes[0].phrases.items()) == list(many.passes[0].phrases.items())
    assert one.stats == many.stats and one.stats[0]["pruned_candidates"] > 0


def test_merge_adds_and_prunes():
    sep = "\x00"
    a = dp.Counts(sep.join(["a", "b", "of"]), np.array([5, 4, 2]),
                  np.array([[0, 1, -1, -1], [0, 2, 1, -1]], np.int32), np.array([3, 1]),
                  11, 0, 0, 1, 1)
    b = dp.Counts(sep.join(["b", "c"]), np.array([1, 7]),
                  np.array([[0, 1, -1, -1]], np.int32), np.array([2]), 8, 0, 0, 1, 1)
    m = dp.merge_counts(a, b, 100, 100, ("of",))
    assert m.words.split(sep) == ["a", "b", "c", "of"] and m.word_counts.tolist() == [5, 5, 7, 2]
    rows = {tuple(m.words.split(sep)[j] for j in k if j >= 0): c
            for k, c in zip(m.keys.tolist(), m.counts.tolist())}
    assert rows == {("a", "b"): 3, ("a", "of", "b"): 1, ("b", "c"): 2} and m.tokens == 19
    m = dp.merge_counts(a, m, 2, 100, ("of",))  # 3 pairs > 2: drop those seen < 2, then < 3
    rows = {tuple(m.words.split(sep)[j] for j in k if j >= 0): c
            for k, c in zip(m.keys.tolist(), m.counts.tolist())}
    assert rows == {("a", "b"): 6} and m.pruned_candidates == 2 and m.min_reduce == 3
    # past max_words words (connectors included, never pruned) the rarest go, and their pairs
    b = dp.Counts(sep.join(["b", "c"]), np.array([1, 1]),
                  np.array([[0, 1, -1, -1]], np.int32), np.array([2]), 2, 0, 0, 1, 1)
    m = dp.merge_counts(a, b, 100, 3, ("of",))  # 4 words > 3: down to 2 (0.7 x 3): floors 1..6
    assert m.words.split(sep) == ["of"] and m.word_counts.tolist() == [2] and len(m.counts) == 0
    assert m.pruned_words == 3 and m.pruned_candidates == 3 and m.word_min_reduce == 7


def test_an_empty_shard_counts_nothing(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    settings = Phrases().settings
    c = dp.count_shard(str(empty), settings, [])
    assert c.tokens == 0 and len(c.counts) == 0 and c.keys.shape == (0, 4) and c.words == ""
    m = dp.merge_counts(c, c, 100, 100, tuple(settings["connectors"]))
    assert m.tokens == 0 and len(m.counts) == 0 and m.words == ""
    assert dp.score_counts(m, settings)[0] == {}


def test_one_bar_per_job_with_words_per_second(client, shards, capsys):
    from wordvec import distributed as wd
    capsys.readouterr()
    for job in (lambda: wd.count_words(shards, client, progress=True),
                lambda: wd.count_cooccurrence(shards[:2], client, window=2, progress=True),
                lambda: dp.phrases_on_cluster(shards[:2], Phrases(passes=2), client,
                                              progress=True)):
        job()
        err = capsys.readouterr().err
        assert "words/s" in err, err
        assert len([line for line in err.split("\n") if line.strip()]) == 1, err  # one bar


def test_cli_end_to_end(shards, tmp_path):
    run = CliRunner().invoke
    one, saved = tmp_path / "one.txt", tmp_path / "one.json"
    r = run(cli, ["phrases", *shards, "-o", str(one), "--passes", "2", "--save", str(saved)])
    assert r.exit_code == 0, r.output
    out, kept = tmp_path / "out", tmp_path / "many.json"
    args = ["phrases", *shards, "--passes", "2", "--cluster", "local", "--workers", "2", "-q"]
    r = run(cli, [*args, "-o", str(out), "--save", str(kept)])
    assert r.exit_code == 0, r.output
    assert "learned" in r.output and f"{N_SHARDS} files" in r.output
    assert kept.read_bytes() == saved.read_bytes() and _phrased(out) == one.read_bytes()
    # again into the same folder: its files are wordvec's, so they may be replaced; then --apply
    r = run(cli, ["phrases", "--apply", str(kept), *shards, "-o", str(out), "--cluster", "local",
                  "--workers", "2", "-q"])
    assert r.exit_code == 0, r.output
    assert "applied" in r.output and _phrased(out) == one.read_bytes()


def _refused(args, *words):
    r = CliRunner().invoke(cli, ["phrases", *args])
    lines = r.output.strip().splitlines()
    assert r.exit_code != 0 and len(lines) == 1, r.output
    assert all(w in lines[0] for w in words), r.output
    return lines[0]


def test_cli_refusals(shards, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "part-0.txt").write_text("my own file\n")
    _refused([*shards, "-o", str(folder), "--cluster", "local"], "not replacing")
    assert (folder / "part-0.txt").read_text() == "my own file\n"
    assert sorted(os.listdir(folder)) == ["part-0.txt"]
    _refused([*shards, "-o", "-", "--cluster", "local"], "-o FOLDER")
    _refused(["-", "-o", str(tmp_path / "x"), "--cluster", "local"], "stdin")
    (tmp_path / "file").write_text("x\n")
    _refused([*shards, "-o", str(tmp_path / "file"), "--cluster", "local"], "is a file")
    other = tmp_path / "other"
    other.mkdir()
    (other / "part-0.txt").write_bytes(b"a b\n")
    _refused([shards[0], str(other / "part-0.txt"), "-o", str(tmp_path / "y"), "--cluster",
              "local"], "same file", "part-0.txt")
    _refused([*shards, "-o", str(Path(shards[0]).parent), "--cluster", "local"], "part-0.txt")
    _refused([*shards, "-o", str(tmp_path / "z.txt"), "--workers", "2"], "--cluster local")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="named pipes and /proc")
def test_a_worker_killed_while_counting_phrases_changes_nothing(client, shards, tmp_path):
    """One shard is a named pipe: its counting task reads half of it, its worker is killed
    (SIGKILL), and Dask's re-run reads it again (as do the writing task and any task whose
    result was lost): the phrases and the text are still one machine's."""
    from test_distributed import _Killer  # (tests/ is on the path: pytest's rootdir layout)
    one = Phrases(passes=1).fit(shards)
    one.write(shards, tmp_path / "one.txt")
    fifo = tmp_path / "part-1.txt"
    os.mkfifo(fifo)
    data = gzip.decompress(Path(shards[1]).read_bytes())
    killer = _Killer(client, fifo, data, "wordvec-phrases-count-0-1-")
    killer.start()
    try:
        many, _, _ = dp.phrases_on_cluster([shards[0], str(fifo), *shards[2:]], Phrases(passes=1),
                                           client, output=tmp_path / "many")
    finally:
        killer.check()
    assert list(many.passes[0].phrases.items()) == list(one.passes[0].phrases.items())
    assert one.stats == many.stats
    assert _phrased(tmp_path / "many") == (tmp_path / "one.txt").read_bytes()
