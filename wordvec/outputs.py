"""Where wordvec may write. Output paths are checked before any work starts, and again at write time.

An output path may be:

- new (its parent folders are created; the nearest existing one must be a writable folder);
- a **wordvec output of the same kind**, which is replaced (re-training over ``./vectors``):
  ``model``: a native model folder (``model.json`` of format ``wordvec``) holding nothing but the
  model's own files, or an empty folder; ``cooccur``: an ``.npz`` written by ``wordvec cooccur``;
  ``vectors``, ``vocab``, ``corpus``, ``phrases``, ``image`` and ``classes`` files: a file that wordvec
  wrote and that is unchanged since (wordvec records the device, inode, size and modification
  time of every file it writes in ``$XDG_STATE_HOME/wordvec/written.tsv``, by default
  ``~/.local/state/wordvec``);
  ``projector``, ``index`` and ``cooccur-blocks``: an empty folder, or a folder holding nothing
  but the Embedding Projector files (:data:`PROJECTOR_FILES`), the search index files
  (:data:`INDEX_FILES`), or the co-occurrence row blocks of ``wordvec cooccur --cluster``
  (:data:`BLOCK_FILES`), that wordvec wrote, unchanged since (the same record); ``embeddings``: a text-vectors ``.npy``
  file or its ``.json`` description that wordvec wrote, unchanged since;
- with ``force``, any other regular file (never a folder; never for ``projector`` or ``index``, folders).

Never: a folder that is not a wordvec output of the kind, an input of the same command (for an
input ``ARCHIVE:MEMBER``, the zip archive), a folder holding an input or a path inside an input
folder, the current folder or one of its parents. A symbolic link is followed: the checks apply
to, and the output replaces, what it points to.
"""

import json
import os
import re
import zipfile

from .archives import split_member
from .errors import WordvecError

KINDS = ("model", "vectors", "vocab", "cooccur", "projector", "corpus", "phrases", "image",
         "classes", "embeddings", "index", "cooccur-blocks")
_KIND_NAMES = {"model": "a wordvec model", "vectors": "a vectors file", "vocab": "a vocabulary file",
               "cooccur": "a co-occurrence file", "projector": "an Embedding Projector export",
               "corpus": "a phrased corpus", "phrases": "a phrases file", "image": "an image",
               "classes": "a classes file", "embeddings": "a text-vectors file",
               "index": "a search index", "cooccur-blocks": "a folder of co-occurrence row blocks"}
PROJECTOR_FILES = ("tensors.tsv", "metadata.tsv")
INDEX_FILES = ("index.json", "vectors.npy", "codes.npy", "scales.npy", "errors.npy", "texts.txt",
               "offsets.npy", "counts.npy", "ann.bin")


class _Names:
    """The file names of a folder kind whose files are numbered (``in`` matches a pattern)."""

    def __init__(self, pattern):
        self.pattern = re.compile(pattern)

    def __contains__(self, name):
        return bool(self.pattern.fullmatch(name))


BLOCK_FILES = _Names(r"blocks\.json|vocab\.txt|block-\d{5,}\.npz")  # wordvec.distributed
FOLDER_FILES = {"projector": PROJECTOR_FILES, "index": INDEX_FILES,  # folders of recorded files
                "cooccur-blocks": BLOCK_FILES}
_REGISTRY_MAX_BYTES = 1 << 20


def resolve(path):
    """The absolute path an output ``path`` writes to (symbolic links followed)."""
    path = os.fspath(path)
    if not path or not str(path).strip():
        raise WordvecError("the output path is empty: name a file or folder to write")
    return os.path.realpath(os.path.abspath(path))


def check_output(path, kind, inputs=(), force=False):
    """Raise :class:`WordvecError` unless ``path`` may receive an output of ``kind``.

    Returns the resolved target path (what :func:`resolve` gives).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    shown = os.fspath(path)
    target = resolve(path)
    cwd = os.path.realpath(os.getcwd())
    if target == cwd or _inside(cwd, target):
        raise WordvecError(f"refusing to write {shown!r}: it is the current folder or one of its "
                           "parents; name a new file or folder")
    for inp in inputs or ():
        if inp is None or os.fspath(inp) == "-":
            continue
        _check_not_input(shown, target, os.fspath(inp))
    _check_parent(shown, target)
    if not os.path.lexists(target):
        return target
    if os.path.isdir(target):
        if kind == "model" and (is_model_folder(target) or _is_empty_dir(target)):
            return target
        if kind == "model":
            raise WordvecError(f"{shown!r} is a folder that is not a wordvec model "
                               f"({_why_not_model(target)}): not replacing it; choose another output path")
        if kind in FOLDER_FILES and (is_recorded_folder(target, kind) or _is_empty_dir(target)):
            return target
        if kind in FOLDER_FILES:
            raise WordvecError(f"{shown!r} is a folder that is not {_KIND_NAMES[kind]} "
                               f"written by wordvec ({_why_not_recorded(target, kind)}): not replacing "
                               "it, --force or not; choose another output path")
        raise WordvecError(f"{shown!r} is a folder: not replacing it with {_KIND_NAMES[kind]}; "
                           "choose another output path")
    if not os.path.isfile(target):
        raise WordvecError(f"{shown!r} exists and is not a regular file: not replacing it")
    if kind in FOLDER_FILES:
        raise WordvecError(f"{shown!r} exists and is a file, not a folder ({_KIND_NAMES[kind]} is a "
                           "folder): not replacing it, --force or not; choose another output path")
    if kind != "model" and written_by_wordvec(target, kind):
        return target
    if force:
        return target
    what = ("is a file, not a wordvec model folder" if kind == "model"
            else f"is not {_KIND_NAMES[kind]} written by wordvec (or was changed since)")
    raise WordvecError(f"{shown!r} exists and {what}: not replacing it (pass --force to replace "
                       "a file, or choose another output path)")


def _inside(path, folder):
    """True if ``path`` lies strictly inside ``folder`` (both resolved)."""
    folder = folder.rstrip(os.sep) + os.sep
    return path.startswith(folder)


def _check_not_input(shown, target, inp):
    real = os.path.realpath(os.path.abspath(split_member(inp)[0]))  # ARCHIVE:MEMBER: the archive
    same = real == target
    if not same and os.path.exists(real) and os.path.exists(target):
        try:
            same = os.path.samefile(real, target)
        except OSError:
            same = False
    if same:
        raise WordvecError(f"refusing to write {shown!r}: it is an input of this command ({inp!r}); "
                           "choose another output path")
    if _inside(real, target):
        raise WordvecError(f"refusing to write {shown!r}: it holds an input of this command ({inp!r}); "
                           "choose another output path")
    if os.path.isdir(real) and _inside(target, real):
        raise WordvecError(f"refusing to write {shown!r}: it is inside the input folder {inp!r}; "
                           "choose another output path")


def _check_parent(shown, target):
    parent = os.path.dirname(target)
    while not os.path.lexists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    if not os.path.isdir(parent):
        raise WordvecError(f"cannot write {shown!r}: {parent!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WordvecError(f"cannot write {shown!r}: no permission to write in {parent!r}")


def _is_empty_dir(path):
    try:
        return not os.listdir(path)
    except OSError:
        return False


def _model_files(path):
    """The file names a native model folder consists of, or None if it is not a model."""
    try:
        with open(os.path.join(path, "model.json"), encoding="utf-8") as f:
            header = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or header.get("format") != "wordvec":
        return None
    arrays = header.get("arrays", {})
    if not isinstance(arrays, dict) or not all(isinstance(v, str) for v in arrays.values()):
        return None
    return {"model.json", "vocab.txt"} | {os.path.basename(v) for v in arrays.values()}


def is_model_folder(path):
    """True if ``path`` is a native model folder holding only the model's own files."""
    own = _model_files(path)
    if own is None:
        return False
    try:
        entries = os.listdir(path)
    except OSError:
        return False
    return all(e in own and os.path.isfile(os.path.join(path, e)) and
               not os.path.islink(os.path.join(path, e)) for e in entries)


def _why_not_model(path):
    own = _model_files(path)
    if own is None:
        return "no wordvec model.json in it"
    try:
        extra = sorted(e for e in os.listdir(path) if e not in own
                       or not os.path.isfile(os.path.join(path, e)))
    except OSError as e:
        return str(e)
    return f"it also holds {extra[0]!r}" if extra else "unreadable"


def is_recorded_folder(path, kind):
    """True if ``path`` is a folder holding only files of a folder ``kind`` (:data:`FOLDER_FILES`)
    that wordvec wrote and nobody changed since."""
    try:
        entries = os.listdir(path)
    except OSError:
        return False
    return bool(entries) and all(
        e in FOLDER_FILES[kind] and not os.path.islink(os.path.join(path, e))
        and os.path.isfile(os.path.join(path, e)) and written_by_wordvec(os.path.join(path, e), kind)
        for e in entries)


def is_projector_folder(path):
    """True if ``path`` is a folder holding only Embedding Projector files (:data:`PROJECTOR_FILES`)
    that wordvec wrote and nobody changed since."""
    return is_recorded_folder(path, "projector")


def _why_not_recorded(path, kind):
    try:
        entries = sorted(os.listdir(path))
    except OSError as e:
        return str(e)
    extra = [e for e in entries if e not in FOLDER_FILES[kind] or os.path.islink(os.path.join(path, e))
             or not os.path.isfile(os.path.join(path, e))]
    if extra:
        return f"it holds {extra[0]!r}"
    changed = [e for e in entries if not written_by_wordvec(os.path.join(path, e), kind)]
    return f"{changed[0]!r} was not written by wordvec or was changed since" if changed else "unreadable"


# ---- the record of files wordvec wrote -----------------------------------------------------
def _registry():
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "wordvec", "written.tsv")


def _fingerprint(st):
    return f"{st.st_dev}\t{st.st_ino}\t{st.st_size}\t{st.st_mtime_ns}"


def record(path, kind, target=None):
    """Remember that wordvec wrote ``path`` (an output of ``kind``, to be renamed to ``target``)
    as it is now. Never fails."""
    try:
        st = os.stat(path)
        reg = _registry()
        os.makedirs(os.path.dirname(reg), exist_ok=True)
        where = os.path.realpath(target or path)
        line = f"{_fingerprint(st)}\t{kind}\t{where}\n".encode("utf-8", "replace")
        fd = os.open(reg, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > _REGISTRY_MAX_BYTES:
            _prune(reg)
    except (OSError, ValueError):
        pass


def _prune(reg):
    """Keep only the records of files that are still as wordvec wrote them."""
    keep = []
    with open(reg, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 5)
            if len(parts) == 6:
                try:
                    if _fingerprint(os.stat(parts[5])) == "\t".join(parts[:4]):
                        keep.append(line)
                except OSError:
                    pass
    tmp = f"{reg}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(keep)
    os.replace(tmp, reg)


def written_by_wordvec(path, kind):
    """True if ``path`` is an output of ``kind`` that wordvec wrote and nobody changed since."""
    if kind == "cooccur" and _is_cooccur_file(path):
        return True
    try:
        want = f"{_fingerprint(os.stat(path))}\t{kind}\t"
        with open(_registry(), encoding="utf-8", errors="replace") as f:
            return any(line.startswith(want) for line in f)
    except OSError:
        return False


def _is_cooccur_file(path):
    try:
        with zipfile.ZipFile(path) as z:
            if "format.npy" not in z.namelist():
                return False
            with z.open("format.npy") as f:
                return "wordvec-cooccur".encode("utf-32-le") in f.read(4096)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
