"""Phrases: the scores and the greedy rewriting of word2phrase / gensim, checked against gensim
itself, by hand on small texts, through save/apply, in bounded memory, and from the shell."""

import json
import lzma

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.formats import load_vectors
from wordvec.phrases import ENGLISH_CONNECTORS, Phrases
from wordvec.resources import BUNDLED_CORPUS


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    path = tmp_path_factory.mktemp("phrases") / "corpus.txt"
    with lzma.open(BUNDLED_CORPUS, "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(6000)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _n_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    """gensim with word2phrase's score: N (the corpus size) where gensim's default takes the
    number of distinct unigrams and bigrams."""
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count


@pytest.mark.parametrize("connectors", [(), ENGLISH_CONNECTORS])
@pytest.mark.parametrize("scoring, threshold", [("default", 10.0), ("npmi", 0.4)])
def test_same_phrases_and_text_as_gensim(text, connectors, scoring, threshold):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    sentences = [line.split() for line in text.read_text(encoding="utf-8").splitlines()]
    ours = Phrases(min_count=3, threshold=threshold, scoring=scoring, connectors=connectors)
    ours.fit(str(text))
    theirs = gensim_phrases.Phrases(sentences, min_count=3, threshold=threshold,
                                    scoring=_n_scorer if scoring == "default" else "npmi",
                                    connector_words=frozenset(connectors))
    exported = theirs.export_phrases()
    # (gensim allows any number of connector words inside a phrase; we allow two)
    exported = {p: s for p, s in exported.items() if len(p.split("_")) <= 4}
    assert len(exported) > 100
    assert set(ours.phrases) == set(exported)
    for p, s in ours.phrases.items():
        assert s == pytest.approx(exported[p], rel=1e-9)
    frozen = theirs.freeze()
    assert sum(ours.transform(s) != frozen[s] for s in sentences) == 0
    assert sum("_" in t for s in sentences for t in ours.transform(s)) > 100


def _fit(lines, **kw):
    return Phrases(**{"min_count": 1, "threshold": 0.0, **kw}).fit([ln.split() for ln in lines])


def test_score_by_hand():
    # N = 9 tokens; count(new york) = 3, count(new) = 3, count(york) = 4
    lines = ["new york new york", "new york is big", "york"]
    ph = _fit(lines, min_count=1, threshold=0.0, connectors=())
    assert ph.passes[0].corpus_words == 9
    assert ph.phrases["new_york"] == pytest.approx((3 - 1) / 3 / 4 * 9)
    assert "york_new" not in ph.phrases  # (1 - 1) / 12 * 9 = 0: not above 0
    # kept only ABOVE the threshold: (3 - 1) / 12 * 9 = 1.5
    assert "new_york" not in _fit(lines, threshold=1.5, connectors=()).phrases
    assert "new_york" in _fit(lines, threshold=1.5 - 1e-9, connectors=()).phrases
    # npmi by hand: p(ab) = 3/9, p(a) = 3/9, p(b) = 4/9
    npmi = _fit(lines, scoring="npmi", threshold=-1.0, connectors=()).phrases["new_york"]
    assert npmi == pytest.approx(np.log((3 / 9) / (3 / 9 * 4 / 9)) / -np.log(3 / 9))


def test_min_count_applies_to_both_words():
    lines = ["a b"] * 4 + ["a"] * 5  # a: 9, b: 4, a b: 4; scores are negative below
    assert "a_b" in _fit(lines, min_count=4, threshold=-1.0, connectors=()).phrases
    assert "a_b" not in _fit(lines, min_count=5, threshold=-1.0, connectors=()).phrases


def test_greedy_rewriting_and_line_ends():
    lines = ["a b c"] * 4 + ["b c"] * 4
    ph = _fit(lines, connectors=())
    assert {"a_b", "b_c"} <= set(ph.phrases)
    assert ph.transform(["a", "b", "c"]) == ["a_b", "c"]  # b, joined to a, starts nothing
    assert ph.transform(["b", "c", "a", "b"]) == ["b_c", "a_b"]
    # a pair across a line end is never counted nor joined
    ph = _fit(["x y", "z"] * 5 + ["y z"], threshold=-1.0, connectors=())
    assert ph.passes[0].phrases[("y", "z")][1] == 1  # counted once (not across the 5 line ends)
    lines = list(ph.sentences([["x", "y"], ["z", "q"]]))
    assert lines == [["x_y"], ["z", "q"]]


def test_connectors_sit_inside_only():
    lines = ["bank of america said", "the bank of america", "of america the bank"] * 3
    ph = _fit(lines, connectors=("of", "the"))
    assert "bank_of_america" in ph.phrases
    assert not any(p.startswith(("of_", "the_")) or p.endswith(("_of", "_the"))
                   for p in ph.phrases)
    assert ph.transform("the bank of america said".split()) == ["the", "bank_of_america", "said"]
    # three connectors in a row: no candidate through them (at most two)
    ph = _fit(["x of the of y"] * 5, connectors=("of", "the"))
    assert not ph.phrases


def test_two_passes_make_longer_phrases(tmp_path):
    lines = (["the new york times"] * 30 + ["new york is big"] * 10 +
             ["times change"] * 10 + ["old times"] * 5 + ["a new day"] * 5)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    ph = Phrases(min_count=2, threshold=1.0, passes=2).fit(str(path))
    # pass 1 finds new_york and york_times, but joining new_york first leaves times alone;
    # pass 2 joins new_york and times
    assert {("new", "york"), ("york", "times")} <= set(ph.passes[0].phrases)
    assert ("new_york", "times") in ph.passes[1].phrases
    assert ph.transform("the new york times reported".split())[1] == "new_york_times"


def test_bounded_memory_prunes_rare_pairs(text):
    small = Phrases(min_count=3, threshold=10.0, connectors=(), max_vocab=2000).fit(str(text))
    full = Phrases(min_count=3, threshold=10.0, connectors=()).fit(str(text))
    assert small.stats[0]["pruned_candidates"] > 0 and full.stats[0]["pruned_candidates"] == 0
    assert full.stats[0]["candidates"] > 10 * 2000
    # what survives the pruning is exact for frequent pairs: their counts are not touched
    common = set(small.phrases) & set(full.phrases)
    assert len(common) > 20
    top = sorted(full.passes[0].phrases.items(), key=lambda kv: -kv[1][1])[:20]
    for words, (_, count) in top:
        got = small.passes[0].phrases.get(words)
        if got is not None:
            assert got[1] <= count


def test_save_load_apply_same_output(text, tmp_path):
    ph = Phrases(min_count=3, threshold=20.0, passes=2).fit(str(text))
    ph.save(tmp_path / "p.json")
    back = Phrases.load(tmp_path / "p.json")
    assert back.settings == ph.settings and back.phrases == ph.phrases
    ph.write(str(text), tmp_path / "a.txt")
    back.write(str(text), tmp_path / "b.txt")
    a = (tmp_path / "a.txt").read_text(encoding="utf-8")
    assert a == (tmp_path / "b.txt").read_text(encoding="utf-8")
    assert a.count("\n") == text.read_text(encoding="utf-8").count("\n")  # same lines
    assert [ln.replace("_", " ").split() for ln in a.splitlines()] == \
        [ln.split() for ln in text.read_text(encoding="utf-8").splitlines()]


def test_cli_learn_save_apply(text, tmp_path):
    run = CliRunner().invoke
    out, saved = tmp_path / "out.txt", tmp_path / "p.json"
    r = run(cli, ["phrases", str(text), "-o", str(out), "--save", str(saved), "--passes", "2",
                  "--threshold", "20", "--min-count", "3"])
    assert r.exit_code == 0, r.output
    again = tmp_path / "again.txt"
    r = run(cli, ["phrases", "--apply", str(saved), str(text), "-o", str(again)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == again.read_bytes() and b"_" in out.read_bytes()
    r = run(cli, ["phrases", "--apply", str(saved), "-", "-o", "-"],
            input="the old man and the sea\n\nmy dear sir\n")
    assert r.exit_code == 0 and r.output.count("\n") == 3, r.output
    doc = json.loads(saved.read_text())
    assert doc["settings"]["threshold"] == 20.0 and len(doc["passes"]) == 2
    # learning from stdin (kept in a scratch copy, read twice, removed) gives the same text
    piped = tmp_path / "piped.txt"
    r = run(cli, ["phrases", "-", "-o", str(piped), "--passes", "2", "--threshold", "20",
                  "--min-count", "3"], input=text.read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.output
    assert piped.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("args, message", [
    (["phrases", "{text}", "-o", "{text}"], "input"),
    (["phrases", "{text}", "-o", "{out}", "--scoring", "npmi", "--threshold", "3"], "between -1"),
    (["phrases", "--apply", "{bad}", "{text}", "-o", "{out}"], "not a wordvec phrases file"),
    (["phrases", "--apply", "{text}", "{text}", "-o", "{out}"], "not a wordvec phrases file"),
    (["phrases", "{text}", "-o", "{out}", "--no-connectors", "--connectors", "{text}"], "not both"),
    (["train", "{text}", "--phrases", "1", "--checkpoint-every", "1m", "-o", "{out}"], "--phrases"),
])
def test_cli_refusals(text, tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    args = [a.format(text=text, out=tmp_path / "o.txt", bad=bad) for a in args]
    r = CliRunner().invoke(cli, args, input="a b\n")
    assert r.exit_code != 0 and message in r.output and r.output.count("\n") == 1, r.output
    assert not (tmp_path / "o.txt").exists()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d["settings"].update(threshold="x"), "threshold"),
    (lambda d: d["settings"].update(delimiter=" "), "delimiter"),
    (lambda d: d["passes"][0]["phrases"].append([["of", "x"], 1.0, 3]), "connector"),
    (lambda d: d["passes"][0]["phrases"].append([["a b", "x"], 1.0, 3]), "whitespace"),
    (lambda d: d["passes"][0]["phrases"].append([["a"], 1.0, 3]), "2 to 4 words"),
    (lambda d: d["passes"][0]["phrases"].append([["a", "b"], "NaN", 3]), "score"),
    (lambda d: d["passes"].append({"corpus_words": 3, "phrases": []}), "passes"),
    (lambda d: d["passes"][0].update(corpus_words=-1), "malformed"),
])
def test_bad_phrases_files(tmp_path, mutate, message):
    ph = _fit(["new york"] * 3)
    ph.save(tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    mutate(doc)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(WordvecError) as e:
        Phrases.load(tmp_path / "p.json")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_train_with_phrases_and_query_them(text, tmp_path):
    out = tmp_path / "m"
    r = CliRunner().invoke(cli, ["train", str(text), "--phrases", "1", "--dim", "20",
                                 "--epochs", "1", "--threads", "1", "--min-count", "3", "-o",
                                 str(out), "-q"])
    assert r.exit_code == 0, r.output
    v = load_vectors(out)
    joined = [w for w in v.words if "_" in w]
    assert len(joined) > 20
    # from stdin too (kept in a scratch copy for the passes): the same vocabulary
    piped = tmp_path / "piped"
    r = CliRunner().invoke(cli, ["train", "-", "--phrases", "1", "--dim", "20", "--epochs", "1",
                                 "--threads", "1", "--min-count", "3", "-o", str(piped), "-q"],
                           input=text.read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.output
    assert load_vectors(piped).words == v.words
    r = CliRunner().invoke(cli, ["similar", "-m", str(out), joined[0], "-n", "3"])
    assert r.exit_code == 0 and joined[0] in r.output
    # an analogy file whose words are phrases is scored like any other
    quads = tmp_path / "q.txt"
    quads.write_text(": phrases\n" + " ".join(joined[:4]) + "\n")
    r = CliRunner().invoke(cli, ["eval", "analogy", str(quads), "-m", str(out), "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)["analogy"]["q"]
    assert result["questions"] == 1 and result["skipped"] == 0


def _scan_tokens(text):
    from wordvec.phrases import LINE_END, _Words
    b = text.encode("utf-8")
    ids, starts, ends = _Words().scan(np.frombuffer(b, dtype=np.uint8), add=True)
    return [b[s:e].decode("utf-8") if i != LINE_END else "\n"
            for i, s, e in zip(ids.tolist(), starts.tolist(), ends.tolist())]


def test_tokens_are_str_split_tokens():
    """The byte tokeniser splits where str.split (wordvec train's tokeniser) does: at every
    character str.isspace calls whitespace, and nowhere else; a line end is a boundary."""
    spaces = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and chr(c).isspace()]
    assert len(spaces) >= 25
    for c in spaces:
        expect = ["a", "b", "\n"] if c != "\n" else ["a", "\n", "b", "\n"]
        if c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":  # whitespace, but not our line end
            expect = ["a", "b", "\n"]
        assert _scan_tokens(f"a{c}b\n") == expect, hex(ord(c))
    rng = np.random.default_rng(0)
    others = [chr(c) for c in rng.integers(0x21, 0x30000, 3000)
              if not 0xD800 <= c < 0xE000 and not chr(c).isspace()]
    for c in others:
        assert _scan_tokens(f"a{c}b\n") == [f"a{c}b", "\n"], hex(ord(c))


def test_empty_lines_and_odd_spacing_keep_the_lines(tmp_path):
    text = "\n\n\n  new york \t is\u00a0big\n\n\nnew   york\n" + "\n" * 5000 + "new york\n"
    path = tmp_path / "c.txt"
    path.write_text(text * 3, encoding="utf-8")
    ph = Phrases(min_count=1, threshold=0.0, connectors=()).fit(str(path))
    ph.write(str(path), tmp_path / "o.txt")
    out = (tmp_path / "o.txt").read_text(encoding="utf-8").split("\n")
    assert len(out) == len((text * 3).split("\n"))
    assert out[3].startswith("new_york ") and out[3].replace("_", " ") == "new york is big"
    assert out[6] == "new_york"
    assert all(line == "" for line in out[:3])
