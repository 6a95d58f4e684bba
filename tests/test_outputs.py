"""Outputs never destroy what wordvec did not write (issue: never lose a user's data).

Each test builds the situation a user would be in, runs the command, and checks both the one-line
refusal and that every file of the user is still there, byte for byte.
"""

import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from wordvec import io_util, native, scratch
from wordvec.cli import cli
from wordvec.errors import WordvecError
from wordvec.vectors import Vectors

FAST = ["-q", "--dim", "8", "--epochs", "1", "--threads", "1", "--min-count", "1"]


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    """Each test: its own record of written files, and the temporary folder as current folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "c.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    return work


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def refused(result, *patterns):
    assert result.exit_code == 1, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    for p in patterns:
        assert p in lines[0], lines[0]
    return lines[0]


def snapshot(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = fh.read()
    return out


# ---- folders that are not wordvec models ----------------------------------------------------
def test_user_folder_is_never_replaced(tmp_path):
    d = tmp_path / "work" / "d"
    d.mkdir()
    (d / "notes.txt").write_text("my thesis")
    (d / "sub").mkdir()
    (d / "sub" / "data.csv").write_text("1,2,3")
    before = snapshot(d)
    refused(run("train", "c.txt", "-o", "d", *FAST), "'d'", "not a wordvec model")
    refused(run("train", "c.txt", "-o", "d", "--force", *FAST), "not a wordvec model")
    assert snapshot(d) == before


@pytest.mark.parametrize("out", [".", "", "..", "./"])
def test_current_folder_and_empty_path_refused(tmp_path, out):
    before = snapshot(tmp_path / "work")
    line = refused(run("train", "c.txt", "-o", out, *FAST, "--force"))
    assert "current folder" in line or "empty" in line
    assert snapshot(tmp_path / "work") == before


def test_default_output_and_env_model_protected(tmp_path):
    work = tmp_path / "work"
    (work / "vectors").mkdir()
    (work / "vectors" / "glove.6B.100d.txt").write_text("the 0.1 0.2\n")
    refused(run("train", "c.txt", *FAST), "'vectors'", "not a wordvec model")
    (work / "mine").mkdir()
    (work / "mine" / "keep.txt").write_text("keep")
    refused(run("train", "c.txt", *FAST, env={"WORDVEC_MODEL": "mine"}), "'mine'")
    assert (work / "vectors" / "glove.6B.100d.txt").read_text() == "the 0.1 0.2\n"
    assert (work / "mine" / "keep.txt").read_text() == "keep"


def test_convert_into_user_folder_refused(tmp_path):
    work = tmp_path / "work"
    assert run("train", "c.txt", "-o", "m", "--format", "word2vec", *FAST).exit_code == 0
    (work / "somefolder").mkdir()
    (work / "somefolder" / "a.txt").write_text("a")
    refused(run("convert", "m.txt", "somefolder", "--to", "native"), "somefolder", "not a wordvec model")
    assert (work / "somefolder" / "a.txt").read_text() == "a"


def test_model_folder_with_extra_user_file_is_not_replaced(tmp_path):
    work = tmp_path / "work"
    assert run("train", "c.txt", "-o", "m", *FAST).exit_code == 0
    (work / "m" / "README.txt").write_text("notes about this model")
    refused(run("train", "c.txt", "-o", "m", *FAST), "'m'", "README.txt")
    assert (work / "m" / "README.txt").exists()


def test_empty_folder_becomes_the_model(tmp_path):
    (tmp_path / "work" / "empty").mkdir()
    r = run("train", "c.txt", "-o", "empty", *FAST)
    assert r.exit_code == 0, r.output
    assert native.is_native(str(tmp_path / "work" / "empty"))


# ---- regular files --------------------------------------------------------------------------
def test_regular_file_needs_force(tmp_path):
    f = tmp_path / "work" / "user.txt"
    f.write_text("precious")
    r = run("vocab", "c.txt", "-o", "user.txt")
    refused(r, "'user.txt'", "--force")
    assert f.read_text() == "precious"
    r = run("vocab", "c.txt", "-o", "user.txt", "--force")
    assert r.exit_code == 0, r.output
    assert f.read_text().startswith("the ")


def test_inputs_are_never_outputs(tmp_path):
    work = tmp_path / "work"
    before = (work / "c.txt").read_bytes()
    for args in (["train", "c.txt", "-o", "c.txt", *FAST],
                 ["train", "c.txt", "-o", "c", "--format", "word2vec", *FAST],  # exports c.txt
                 ["vocab", "c.txt", "-o", "c.txt"],
                 ["cooccur", "c.txt", "-o", "c.txt", "-q"]):
        refused(run(*args), "input")
        refused(run(*args, "--force"), "input")
    assert (work / "c.txt").read_bytes() == before
    # a folder of inputs: neither replaced nor written into
    (work / "corpus").mkdir()
    (work / "corpus" / "a.txt").write_text("the cat sat\n" * 20)
    refused(run("train", "corpus", "-o", "corpus", *FAST), "input")
    refused(run("train", "corpus", "-o", "corpus/vectors", *FAST), "inside the input folder")
    # a folder that holds an input
    refused(run("train", "corpus/a.txt", "-o", "corpus", *FAST, "--force"), "holds an input")
    # convert: the source
    assert run("train", "c.txt", "-o", "m", *FAST).exit_code == 0
    refused(run("convert", "m", "m", "--to", "native"), "input")
    refused(run("convert", "m", "m/x.txt", "--to", "word2vec"), "inside the input folder")


def test_hard_link_to_an_input_is_an_input(tmp_path):
    work = tmp_path / "work"
    os.link(work / "c.txt", work / "alias.txt")
    refused(run("vocab", "c.txt", "-o", "alias.txt", "--force"), "input")


def test_retraining_replaces_own_outputs_but_not_edited_ones(tmp_path):
    work = tmp_path / "work"
    for _ in range(2):
        r = run("train", "c.txt", "-o", "m", "--format", "word2vec", *FAST)
        assert r.exit_code == 0, r.output
        r = run("vocab", "c.txt", "-o", "v.txt")
        assert r.exit_code == 0, r.output
        r = run("cooccur", "c.txt", "-o", "co.npz", "-q", "--min-count", "1")
        assert r.exit_code == 0, r.output
    with open(work / "m.txt", "a") as f:
        f.write("my own line\n")
    refused(run("train", "c.txt", "-o", "m", "--format", "word2vec", *FAST), "'m.txt'", "changed since")
    assert (work / "m.txt").read_text().endswith("my own line\n")
    # another kind of wordvec output is not "the same kind"
    refused(run("vocab", "c.txt", "-o", "co.npz"), "co.npz")
    # the npz is recognised by its content even without a record
    os.unlink(tmp_path / "state" / "wordvec" / "written.tsv")
    assert run("cooccur", "c.txt", "-o", "co.npz", "-q", "--min-count", "1").exit_code == 0


def test_checks_come_before_the_work(tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "f").write_text("a file")
    called = []
    import wordvec.encode
    monkeypatch.setattr(wordvec.encode, "encode", lambda *a, **k: called.append(1))
    refused(run("train", "c.txt", "-o", "f/model", *FAST), "not a folder")
    refused(run("train", "c.txt", "-o", "c", "--format", "word2vec", *FAST, "--force"), "input")
    assert not called
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        refused(run("train", "c.txt", "-o", "ro/m", *FAST), "no permission")
    finally:
        ro.chmod(0o755)
    assert not called


def test_symlink_is_followed(tmp_path):
    work = tmp_path / "work"
    assert run("train", "c.txt", "-o", "real", *FAST).exit_code == 0
    os.symlink("real", work / "link")
    r = run("train", "c.txt", "-o", "link", *FAST, "--seed", "7")
    assert r.exit_code == 0, r.output
    assert os.path.islink(work / "link")
    assert native.read_header(str(work / "real"))["params"]["seed"] == 7


# ---- the Python API keeps the same rules ------------------------------------------------------
def small_vectors():
    return Vectors(["a", "b"], np.eye(2, dtype=np.float32), counts=[2, 1], meta={"kind": "vectors"})


def test_api_refuses_like_the_cli(tmp_path):
    from wordvec.formats import save_vectors
    work = tmp_path / "work"
    (work / "keep").mkdir()
    (work / "keep" / "x").write_text("x")
    with pytest.raises(WordvecError, match="not a wordvec model"):
        save_vectors(small_vectors(), work / "keep")
    (work / "f.txt").write_text("user")
    with pytest.raises(WordvecError, match="--force"):
        save_vectors(small_vectors(), work / "f.txt", "word2vec")
    save_vectors(small_vectors(), work / "f.txt", "word2vec", force=True)
    assert (work / "f.txt").read_text().startswith("2 2")
    save_vectors(small_vectors(), work / "f.txt", "word2vec")  # now it is ours


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    work = tmp_path / "work"
    target = work / "out.txt"
    with io_util.atomic_write(target, "w", kind="vocab") as f:
        f.write("old\n")
    with pytest.raises(RuntimeError):
        with io_util.atomic_write(target, "w", kind="vocab") as f:
            f.write("half of the new")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert sorted(os.listdir(work)) == ["c.txt", "out.txt"]
    # a model folder likewise
    native.save(small_vectors(), work / "m")
    before = snapshot(work / "m")
    with pytest.raises(RuntimeError):
        with io_util.atomic_dir(work / "m") as tmp:
            open(os.path.join(tmp, "model.json"), "w").write("{")
            raise RuntimeError("boom")
    assert snapshot(work / "m") == before
    assert sorted(os.listdir(work)) == ["c.txt", "m", "out.txt"]


def test_files_follow_the_umask(tmp_path):
    work = tmp_path / "work"
    old = os.umask(0o002)
    io_util._umask = None
    try:
        native.save(small_vectors(), work / "m")
        with io_util.atomic_write(work / "v.txt", "w", kind="vocab") as f:
            f.write("a 1\n")
    finally:
        os.umask(old)
        io_util._umask = None
    assert stat.S_IMODE(os.stat(work / "m").st_mode) == 0o775
    assert stat.S_IMODE(os.stat(work / "m" / "vectors.npy").st_mode) == 0o664
    assert stat.S_IMODE(os.stat(work / "v.txt").st_mode) == 0o664


def test_stale_temp_of_a_dead_process_is_removed(tmp_path):
    work = tmp_path / "work"
    me = scratch.tag()
    host_boot, _pid, _start = me.split("-")
    dead = f"{host_boot}-999999999-1"
    other_host = f"{'0' * 16}-999999999-1"
    for tag in (dead, other_host, me):
        (work / f".v.txt.{tag}-abc12345.tmp").write_text("half")
    with io_util.atomic_write(work / "v.txt", "w", kind="vocab") as f:
        f.write("a 1\n")
    left = sorted(os.listdir(work))
    assert f".v.txt.{dead}-abc12345.tmp" not in left
    assert f".v.txt.{other_host}-abc12345.tmp" in left  # maybe a live process elsewhere
    assert f".v.txt.{me}-abc12345.tmp" in left  # this process's own


# ---- several processes saving one path -----------------------------------------------------------
@pytest.mark.parametrize("fmt, name", [("native", "m"), ("word2vec", "m.txt")])
def test_concurrent_saves_all_complete_and_leave_nothing(tmp_path, fmt, name):
    work = tmp_path / "work"
    code = textwrap.dedent("""
        import sys, numpy as np
        from wordvec.formats import save_vectors
        from wordvec.vectors import Vectors
        v = Vectors(["a", "b", "c"], np.full((3, 4), float(sys.argv[2]), np.float32), counts=[3, 2, 1])
        errors = 0
        for i in range(int(sys.argv[3])):
            try:
                save_vectors(v, sys.argv[1], sys.argv[4])
            except Exception as e:
                errors += 1
                print(type(e).__name__, e, file=sys.stderr)
        sys.exit(1 if errors else 0)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(work / name), str(k), "150", fmt],
                              stderr=subprocess.PIPE, text=True) for k in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert sorted(os.listdir(work)) == ["c.txt", name]
    from wordvec.formats import load_vectors
    v = load_vectors(str(work / name))
    assert float(v.matrix[0, 0]) in (1.0, 2.0)


# ---- a closed pipe ----------------------------------------------------------------------------------
def test_closed_pipe_is_quiet(tmp_path):
    work = tmp_path / "work"
    with open(work / "big.txt", "w") as f:
        for i in range(3000):
            f.write(f"w{i} w{i} w{i} w{i} w{i}\n")
    p1 = subprocess.Popen([sys.executable, "-m", "wordvec.cli", "vocab", "big.txt", "--top", "3000",
                           "--min-count", "1"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p1.stdout.readline()
    p1.stdout.close()  # as `| head -1` does
    err = p1.stderr.read().decode()
    p1.wait(timeout=60)
    assert err == ""
    assert p1.returncode == 141


# ---- a full disk ------------------------------------------------------------------------------------
def test_disk_full_names_the_target_and_leaves_nothing(mount_tmpfs):
    tiny_disk = mount_tmpfs("256k")
    big = Vectors([f"w{i}" for i in range(2000)], np.random.default_rng(0).random((2000, 50), np.float32),
                  counts=np.arange(2000, 0, -1))
    from wordvec.formats import save_vectors
    for fmt, name in (("native", "m"), ("word2vec", "v.txt")):
        with pytest.raises(WordvecError, match=f"no space left on device while writing .*{name}$"):
            save_vectors(big, tiny_disk / name, fmt)
        assert os.listdir(tiny_disk) == []
