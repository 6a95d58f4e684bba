"""The ``wordvec`` command line: thin click commands over the Python API.

Every command turns a :class:`~wordvec.errors.WordvecError` (and I/O errors) into one line on
stderr and exit status 1; usage mistakes exit 2 (click). ``WORDVEC_DEBUG=1`` shows tracebacks.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import sys

import click

from . import __version__
from .errors import Terminated, WordvecError

DEFAULT_MODEL = "vectors"
MODEL_ENV = "WORDVEC_MODEL"
FORMAT_CHOICES = ("native", "word2vec", "word2vec-binary", "glove", "fasttext-bin")
WRITE_ONLY_CHOICES = ("projector",)  # convert --to only: never read, so never a --from
EXPORT_SUFFIX = {"word2vec": ".txt", "word2vec-binary": ".bin", "glove": ".glove.txt",
                 "fasttext-bin": ".bin"}


class _Group(click.Group):
    """A click group that reports user errors as one line instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # one line, naming where to look, instead of click's three
            sub = e.ctx.command_path if e.ctx is not None else ctx.command_path
            raise _UsageLine(f"{e.format_message()} (see '{sub} --help')") from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except WordvecError as e:
            _fail(str(e))
        except BrokenPipeError:  # the reader went away (``| head``): not an error, say nothing
            _quiet_exit(ctx)
        except KeyError as e:  # a missing word from a query
            _fail(e.args[0] if e.args else str(e))
        except MemoryError:
            _fail("out of memory: lower --max-vocab, --bucket or --memory, or use a smaller corpus")
        except (OSError, EOFError) as e:
            _fail(f"{getattr(e, 'filename', None) or ''}{': ' if getattr(e, 'filename', None) else ''}"
                  f"{e.strerror if getattr(e, 'strerror', None) else e}")
        except Terminated as e:
            click.echo("terminated" if e.signum == signal.SIGTERM else f"stopped by signal {e.signum}",
                       err=True)
            ctx.exit(128 + int(e.signum))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as e:  # noqa: BLE001 - last resort: still one line
            if os.environ.get("WORDVEC_DEBUG"):
                raise
            _fail(f"internal error: {type(e).__name__}: {e} (set WORDVEC_DEBUG=1 for a traceback)")


class _UsageLine(click.ClickException):
    """A usage mistake, reported as one line with click's exit status for usage errors."""

    exit_code = 2


def _quiet_exit(ctx):
    """Exit as a pipeline's writer does when its reader has gone (status 141, nothing printed)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    ctx.exit(128 + getattr(signal, "SIGPIPE", 13))


def _fail(message):
    if os.environ.get("WORDVEC_DEBUG"):
        raise
    raise click.ClickException(" ".join(str(message).split()))


def _default_model():
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def _exists(path):
    """True if ``path`` exists, or names a member of an existing zip archive (``ARCHIVE:MEMBER``)."""
    from .archives import split_member
    return os.path.exists(split_member(path)[0])


def _load(path, format=None, limit=None):
    from .formats import load_vectors
    if not _exists(path):
        hint = ("train one with 'wordvec train CORPUS', or pass -m/--model (or set "
                f"{MODEL_ENV})") if path == _default_model() else "check the path"
        raise WordvecError(f"no model at {path!r}: {hint}")
    return load_vectors(path, format=format, limit=limit)


def _positive_finite(ctx, param, value):
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value} is not a positive number")
    return value


def _check_outputs(outputs_kinds, inputs, force):
    """Check every output path before any work starts (see :mod:`wordvec.outputs`)."""
    from .outputs import check_output
    seen = {}
    for path, kind in outputs_kinds:
        target = check_output(path, kind, inputs=inputs, force=force)
        if target in seen:
            raise WordvecError(f"two outputs of this command are the same path: {seen[target]!r} "
                               f"and {path!r}")
        seen[target] = path


Count = click.IntRange(min=1)
force_option = click.option(
    "--force", is_flag=True,
    help="Replace an existing file at the output path even if wordvec did not write it "
         "(a folder that is not a wordvec model is never replaced).")
model_option = click.option(
    "-m", "--model", "model_path", default=_default_model, show_default=f"${MODEL_ENV} or ./{DEFAULT_MODEL}",
    type=click.Path(dir_okay=True),
    help="Vectors to query: a native model folder, a word2vec/GloVe file (may be gzip/bz2/xz-compressed) "
         "or a member of a zip (ARCHIVE.zip:MEMBER).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="wordvec")
def cli():
    """Train and query word vectors: word2vec (skip-gram, CBOW), fastText, GloVe and LSA.

    \b
    A typical session:
      wordvec train corpus.txt --model sg -o vectors
      wordvec analogy king man woman      # king - man + woman = queen
      wordvec similar france
      wordvec eval benchmark              # analogy + word-similarity scores
    """


def main():
    # SIGTERM/SIGHUP raise Terminated (a KeyboardInterrupt) in the main thread, so every clean-up
    # path of Ctrl-C runs for them too. Only the first one raises: a second signal must not
    # abort the clean-up the first one started. A SIGHUP ignored by the caller (nohup) stays so.
    raised = []

    def _terminate(signum, frame):
        if not raised:
            raised.append(signum)
            raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            if name == "SIGHUP" and signal.getsignal(signum) is signal.SIG_IGN:
                continue
            signal.signal(signum, _terminate)
        except (OSError, ValueError):  # not the main thread, or not supported here
            pass
    import wordvec
    wordvec._bars_terminal_only = True  # progress bars only where stderr is a terminal
    cli(prog_name="wordvec")


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------
ALL = ("sg", "cbow", "fasttext", "glove", "lsa")
CONTINUE_OPTIONS = ("epochs", "min_count", "threads", "alpha", "min_alpha")


def _finite(ctx, param, value):
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number")
    return value


def _param_options():
    """The ``wordvec train`` options, one per declared parameter (:mod:`wordvec.params`):
    flag, click type and range, and help with each kind's default, all from the declaration."""
    from .params import option_table, shown_defaults
    options = []
    for name, entries in option_table().items():
        p = entries[0][1]
        kinds = [k for k, _ in entries]
        where = "" if len(kinds) == len(ALL) else ", ".join(kinds) + ": "
        text = f"{where}{p.help} {shown_defaults(entries)}"
        kw = {"default": None, "help": text}
        decls = [p.cli_flag]
        if p.type == "bool":
            decls = [f"{p.cli_flag}/{p.off_flag or '--no-' + p.cli_flag[2:]}"]
        elif p.type == "int":
            kw["type"] = click.IntRange(min=None if p.lo is None else int(p.lo),
                                        max=None if p.hi is None else int(p.hi))
        elif p.type == "float":
            kw["type"] = click.FloatRange(min=p.lo, max=p.hi, min_open=p.lo_open)
            kw["callback"] = _finite
        elif p.type == "choice":
            kw["type"] = click.Choice(list(p.choices))
        else:
            kw["type"] = click.Path()
        options.append(click.option(*decls, name, **kw))
        for alias in p.aliases:  # an older flag, still accepted (hidden from --help)
            if alias == "model":
                continue
            flag = "--" + alias.replace("_", "-")
            decl = f"{flag}/--no-{flag[2:]}" if p.type == "bool" else flag
            options.append(click.option(decl, f"{ALIAS}{name}", hidden=True,
                                        **{k: v for k, v in kw.items() if k != "help"}))
    return options


ALIAS = "old_name_of_"


def _merge_aliases(options):
    """Values given under an older flag (``--neg``, ``--shared-negatives``) under their name."""
    for key in [k for k in options if k.startswith(ALIAS)]:
        value, name = options.pop(key), key[len(ALIAS):]
        if value is None:
            continue
        if options.get(name) is not None:
            raise WordvecError(f"--{name.replace('_', '-')} is given twice (once under its "
                               "old name)")
        options[name] = value
    return options


def _with_param_options(f):
    for opt in reversed(_param_options()):
        f = opt(f)
    return f


def _interval(ctx, param, value):
    """``30s``, ``10m``, ``1h`` or plain seconds -> seconds."""
    if value is None:
        return None
    import re
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([smh]?)\s*", value)
    seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)] if m else 0
    if not m or not (math.isfinite(seconds) and seconds > 0):
        raise click.BadParameter(f"{value!r} is not a time interval such as 30s, 10m or 1h")
    return seconds


@cli.command()
@click.argument("corpus", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--model", "kind", type=click.Choice(ALL), default=None,
              help="sg / cbow (word2vec), fasttext (subwords), glove, lsa (PPMI-SVD or tf-idf LSA). "
                   "[default: sg]")
@click.option("-o", "--output", default=_default_model, show_default=f"${MODEL_ENV} or ./{DEFAULT_MODEL}",
              help="Where to write the model (a native model folder).")
@click.option("--format", "export_format", type=click.Choice(FORMAT_CHOICES[1:]),
              help="Also export the vectors in this format, beside the model (OUTPUT.txt, .bin, .glove.txt).")
@force_option
@click.option("--continue", "continue_from", type=click.Path(),
              help="Continue training the model in this folder on CORPUS (new words of CORPUS "
                   "with at least --min-count occurrences are added); -o names the new model.")
@click.option("--checkpoint-every", callback=_interval, metavar="INTERVAL",
              help="Save a resumable state every INTERVAL (30s, 10m, 1h) as OUTPUT.checkpoint, "
                   "removed when the run completes (sg, cbow, fasttext, glove).")
@click.option("--resume", type=click.Path(), metavar="CHECKPOINT",
              help="Finish the run a checkpoint saved (same corpus, settings and output).")
@click.option("--phrases", "phrase_passes", type=click.IntRange(1, 10), metavar="N",
              help="First learn N passes of phrases (wordvec phrases' defaults) and join them "
                   "in the corpus as it is read (new_york), without writing it out.")
@_with_param_options
@click.option("--cluster", metavar="ADDRESS",
              help="Train on a Dask cluster (sg, cbow, fasttext, glove): 'local' or a "
                   "scheduler's address (tcp://host:8786); each worker trains its shards (glove: "
                   "its row blocks of --cooccur, or of the matrix counted there from CORPUS) on "
                   "its own copy of the model, and the copies are combined every --sync-every "
                   "words (glove: entries). With --model lsa and --cooccur: the PPMI matrix and "
                   "its SVD on the cluster (a --cooccur blocks folder is read by the workers). "
                   "Needs pip install 'wordvec[dask]'.")
@click.option("--workers", "cluster_workers", type=Count, metavar="N",
              help="With --cluster local: how many worker processes (--threads: threads of "
                   "each). [default: one a core]")
@click.option("--sync-every", type=Count, metavar="N",
              help="With --cluster: words (sg, cbow, fasttext) or co-occurrence entries (glove: "
                   "non-zeros) each worker trains between two averagings. "
                   "[default: 1,000,000; glove: a quarter of a worker's share of an epoch, "
                   "at least 1,000,000. Both measured on 2 workers; give a large model "
                   "longer rounds on many nodes: README, Scaling out]")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def train(ctx, corpus, kind, output, export_format, force, continue_from, checkpoint_every, resume,
          phrase_passes, cluster, cluster_workers, sync_every, quiet, **options):
    """Train word vectors on CORPUS and save them as a model folder.

    CORPUS is one or more text files (.gz/.bz2/.xz read directly), folders, or - for stdin;
    whitespace-separated tokens, one sentence per line (lines longer than 10,000 tokens are cut).
    With no CORPUS the small bundled public-domain corpus is used.

    \b
    Examples:
      wordvec train                                   # skip-gram on the bundled corpus
      wordvec train text8 --model cbow -o cbow-vectors --threads 4
      wordvec train corpus.txt.xz --model fasttext --bucket 500000
      wordvec train corpus.txt --model glove --memory 2 --format word2vec
      wordvec train corpus.txt --model lsa --dim 300
      wordvec train --model lsa --cooccur cooc-blocks --cluster tcp://scheduler:8786
      wordvec train big.txt -o big --checkpoint-every 10m   # then, if it dies:
      wordvec train --resume big.checkpoint
      wordvec train more.txt --continue big -o bigger --epochs 2
    """
    from .params import option_table
    options = _merge_aliases(options)
    given = {name: value for name, value in options.items() if value is not None}
    if cluster is not None or cluster_workers is not None or sync_every is not None:
        refused = [f for f, v in (("--continue", continue_from), ("--resume", resume),
                                  ("--checkpoint-every", checkpoint_every),
                                  ("--phrases", phrase_passes)) if v]
        if refused:
            raise WordvecError(f"{refused[0]} cannot be combined with --cluster (yet)")
        return _train_on_cluster(corpus, kind or "sg", output, export_format, force, given,
                                 cluster, cluster_workers, sync_every, quiet)
    if resume is not None:
        source = ctx.get_parameter_source
        extra = [f for f, v in (("CORPUS", corpus), ("--model", kind), ("--continue", continue_from),
                                ("--format", export_format), ("--checkpoint-every", checkpoint_every),
                                ("--phrases", phrase_passes))
                 if v] + ["--" + k.replace("_", "-") for k in given]
        if source("output") != click.core.ParameterSource.DEFAULT:
            extra.append("-o")
        if extra:
            raise WordvecError(f"--resume takes the corpus, settings and output from the checkpoint: "
                               f"drop {', '.join(extra)}")
        return _resume(resume, force, quiet)
    table = option_table()
    model = None
    if continue_from is not None:
        from . import native
        from .formats import detect
        from .model import load_model
        if not _exists(continue_from):
            raise WordvecError(f"--continue {continue_from}: no such model folder")
        if not native.is_native(continue_from) and (
                os.path.isdir(continue_from) or detect(continue_from) != "fasttext-bin"):
            raise WordvecError(f"--continue {continue_from}: not a wordvec model folder (no "
                               f"{native.HEADER}) nor a fastText .bin; only models saved by "
                               "wordvec train (or fastText's .bin) train further")
        model = load_model(continue_from)
        if kind is not None and kind != model.kind:
            raise WordvecError(f"--model {kind} contradicts {continue_from}, a {model.kind} model")
        kind = model.kind
        fixed = [k for k in given if k not in CONTINUE_OPTIONS]
        if fixed:
            flag = "--" + fixed[0].replace("_", "-")
            raise WordvecError(f"{flag} cannot change when continuing a model (only "
                               f"{', '.join('--' + k.replace('_', '-') for k in CONTINUE_OPTIONS)} can)")
    kind = kind or "sg"
    if export_format == "fasttext-bin" and kind != "fasttext":
        raise WordvecError(f"--format fasttext-bin writes fastText models, not --model {kind} "
                           "(use word2vec or word2vec-binary)")
    for name in given:
        kinds = [k for k, _ in table[name]]
        if kind not in kinds:
            flag = table[name][0][1].cli_flag
            raise WordvecError(f"{flag} does not apply to --model {kind} (it is for: {', '.join(kinds)})")
    from .resources import BUNDLED_CORPUS
    inputs = list(corpus) + [given[k] for k in ("cooccur",) if given.get(k)]
    inputs += [continue_from] if continue_from else []
    if not corpus and not given.get("cooccur"):
        inputs.append(BUNDLED_CORPUS)
    targets = _model_targets(output, export_format)
    fit_corpus = list(corpus)
    if phrase_passes:
        conflict = [f for f, v in (("--checkpoint-every", checkpoint_every), ("--continue", continue_from),
                                   ("--cooccur", given.get("cooccur"))) if v]
        if conflict:
            raise WordvecError(f"--phrases cannot be combined with {conflict[0]} (train on the output "
                               "of 'wordvec phrases' instead)")
    checkpoint = None
    if checkpoint_every is not None:
        if kind == "lsa":
            raise WordvecError("--checkpoint-every does not apply to --model lsa (its SVD is a single step)")
        if "-" in corpus:
            raise WordvecError("--checkpoint-every needs a corpus of files: resuming reads the corpus "
                               "again, and stdin cannot be read twice")
        ck_path = output + ".checkpoint"
        if os.path.lexists(ck_path):
            raise WordvecError(f"{ck_path} exists (the state of a run that did not finish): finish it "
                               f"with 'wordvec train --resume {ck_path}', or delete it")
        targets.append((ck_path, "model"))
        from .model import Checkpoint
        checkpoint = Checkpoint(ck_path, checkpoint_every, {
            "output": os.path.abspath(output), "format": export_format, "kind": kind,
            "every": checkpoint_every, "inputs": [os.path.abspath(i) for i in inputs if i != "-"]})
    _check_outputs(targets, inputs, force)
    if model is not None:
        overrides = {k: v for k, v in given.items() if k != "min_count"}
        model.params = model.schema.resolve({**model.params, **overrides})
        model.train(list(corpus) or BUNDLED_CORPUS, epochs=given.get("epochs"),
                    min_count=given.get("min_count"), progress=not quiet, checkpoint=checkpoint)
    else:
        from .api import make_model
        model = make_model(kind, **given)
        if corpus and model.params.get("cooccur") is not None:
            raise WordvecError("give either a corpus or a co-occurrence matrix (--cooccur), not both")
        fit_on = fit_corpus or (None if model.params.get("cooccur") is not None else BUNDLED_CORPUS)
        if phrase_passes:  # (stdin is kept in a scratch copy: the corpus is read 1 + N times)
            from .phrases import Phrases
            with _stdin_spooled(fit_on if isinstance(fit_on, list) else [fit_on]) as spooled:
                phrased = Phrases(passes=phrase_passes).fit(spooled)
                found = " + ".join(f"{len(p.phrases):,}" for p in phrased.passes)
                if not quiet:
                    click.echo(f"phrases: {found} learned; training on the corpus with them "
                               "joined", err=True)
                model.fit(phrased.sentences(spooled), progress=not quiet, checkpoint=checkpoint)
        else:
            model.fit(fit_on, progress=not quiet, checkpoint=checkpoint)
    _save_trained(model, output, export_format, force, inputs, kind, checkpoint)


def _train_on_cluster(corpus, kind, output, export_format, force, given, cluster, workers,
                      sync_every, quiet):
    """``wordvec train --cluster``: see :mod:`wordvec.distributed_train`."""
    if cluster is None:
        flag = "--workers" if workers is not None else "--sync-every"
        raise WordvecError(f"{flag} is for training on a Dask cluster: add --cluster local (or "
                           "a scheduler address)")
    if kind == "lsa":
        return _lsa_on_cluster(corpus, output, export_format, force, given, cluster, workers,
                               sync_every, quiet)
    if kind == "glove":
        return _glove_on_cluster(corpus, output, export_format, force, given, cluster, workers,
                                 sync_every, quiet)
    if kind not in ("sg", "cbow", "fasttext"):
        raise WordvecError(f"--cluster trains --model sg, cbow, fasttext and glove for now (and "
                           f"lsa from --cooccur), not {kind}")
    if export_format == "fasttext-bin" and kind != "fasttext":
        raise WordvecError(f"--format fasttext-bin writes fastText models, not --model {kind}")
    _refuse_other_models_options(given, kind)
    from .distributed_train import SYNC_EVERY, train_word2vec
    from .resources import BUNDLED_CORPUS
    shards = list(corpus) or [BUNDLED_CORPUS]
    inputs = _local_inputs(shards, cluster)
    targets = _model_targets(output, export_format)
    _check_outputs(targets, inputs, force)
    params = {k: v for k, v in given.items() if k != "threads"}
    threads = _local_cluster_threads(given, cluster)
    if kind == "fasttext":  # (its --arch is among the settings)
        from .distributed_fasttext import train_fasttext as trainer
    else:
        trainer, params = train_word2vec, {"arch": kind, **params}
    model = trainer(
        shards, cluster, params, sync_every=sync_every or SYNC_EVERY, workers=workers,
        threads_per_worker=threads or 1, progress=not quiet,
        log=lambda line: click.echo(f"warning: {line}", err=True))
    _save_trained(model, output, export_format, force, inputs, kind, None)


def _glove_on_cluster(corpus, output, export_format, force, given, cluster, workers, sync_every,
                      quiet):
    """``wordvec train --model glove --cluster``: see :mod:`wordvec.distributed_glove`."""
    if export_format == "fasttext-bin":
        raise WordvecError("--format fasttext-bin writes fastText models, not --model glove")
    _refuse_other_models_options(given, "glove")
    cooccur = given.get("cooccur")
    if corpus and cooccur:
        raise WordvecError("give either a corpus or a co-occurrence matrix (--cooccur), not both")
    threads = _local_cluster_threads(given, cluster)
    from .distributed_glove import train_glove
    shards = None
    if cooccur:
        inputs = [cooccur]
    else:
        from .resources import BUNDLED_CORPUS
        shards = list(corpus) or [BUNDLED_CORPUS]
        inputs = _local_inputs(shards, cluster)
    targets = _model_targets(output, export_format)
    _check_outputs(targets, inputs, force)
    params = {k: v for k, v in given.items() if k not in ("threads", "cooccur")}
    model = train_glove(
        cooccur, cluster, params, corpus=shards, sync_every=sync_every,
        workers=workers, threads_per_worker=threads or 1, progress=not quiet,
        log=lambda line: click.echo(f"warning: {line}", err=True))
    _save_trained(model, output, export_format, force, inputs, "glove", None)


def _model_targets(output, export_format):
    """The outputs of a training command: the model folder, and the exported vectors."""
    targets = [(output, "model")]
    if export_format:
        targets.append((output + EXPORT_SUFFIX[export_format], "vectors"))
    return targets


def _local_cluster_threads(given, cluster):
    """``--threads`` with ``--cluster``: the threads of each local worker (None: not given)."""
    threads = given.get("threads")
    if threads is not None and cluster != "local":
        raise WordvecError("--threads with --cluster sets the threads of each local worker; a "
                           "running cluster's workers have the threads they have")
    return threads


def _refuse_other_models_options(given, kind):
    """One line for the first option given that is not a setting of ``--model kind``."""
    from .params import option_table
    table = option_table()
    for name in given:
        if kind not in [k for k, _ in table[name]]:
            raise WordvecError(f"{table[name][0][1].cli_flag} does not apply to --model {kind}")


def _lsa_on_cluster(corpus, output, export_format, force, given, cluster, workers, sync_every,
                    quiet):
    """``wordvec train --model lsa --cooccur ... --cluster``: see :mod:`wordvec.distributed_lsa`."""
    if sync_every is not None:
        raise WordvecError("--sync-every is for training sg, cbow, fasttext, glove on a cluster; "
                           "LSA's SVD has no replicas to average")
    if corpus:
        raise WordvecError("--cluster: LSA on a cluster reads a counted matrix (--cooccur), not a "
                           "corpus: count it with 'wordvec cooccur --cluster ... --blocks-dir'")
    if not given.get("cooccur"):
        raise WordvecError("--cluster: LSA on a cluster reads a counted matrix: give --cooccur "
                           "(a folder from 'wordvec cooccur --cluster ... --blocks-dir', or an .npz)")
    if export_format == "fasttext-bin":
        raise WordvecError("--format fasttext-bin writes fastText models, not --model lsa")
    from .api import make_model
    _refuse_other_models_options(given, "lsa")
    inputs = [given["cooccur"]]
    targets = _model_targets(output, export_format)
    _check_outputs(targets, inputs, force)
    model = make_model("lsa", **given)
    model.cluster, model.workers = cluster, workers
    model.fit(None, progress=not quiet)
    _save_trained(model, output, export_format, force, inputs, "lsa", None)


def _save_trained(model, output, export_format, force, inputs, kind, checkpoint):
    from .formats import save_vectors
    vectors = model.wv
    model.save(output, force=force, inputs=inputs, vectors=vectors)
    stats = vectors.meta.get("stats", {})
    line = f"{kind}: {len(vectors):,} words x {vectors.dim} dims"
    if stats.get("corpus_tokens"):
        line += f" from {stats['corpus_tokens']:,} tokens"
    if stats.get("wall_seconds"):
        line += f" in {stats['wall_seconds']:.1f} s"
    if stats.get("words_per_second"):
        line += f" ({stats['words_per_second']:,.0f} words/s)"
    click.echo(f"{line}; saved to {output}")
    if export_format:
        path = output + EXPORT_SUFFIX[export_format]
        if export_format == "fasttext-bin":
            from .fasttext_bin import save_model
            save_model(model, path, force=force, inputs=inputs)
        else:
            save_vectors(vectors, path, export_format, force=force, inputs=inputs)
        what = "the fastText model" if export_format == "fasttext-bin" else f"{export_format} vectors"
        click.echo(f"exported {what} to {path}")
    if checkpoint is not None:
        _remove_checkpoint(checkpoint.path)


def _remove_checkpoint(path):
    """Delete a checkpoint folder this run wrote (only if it holds nothing but its own files)."""
    import shutil

    from .outputs import is_model_folder
    if os.path.isdir(path) and not os.path.islink(path) and is_model_folder(path):
        shutil.rmtree(path)


def _resume(path, force, quiet):
    from .model import resume
    if not os.path.exists(path):
        raise WordvecError(f"--resume {path}: no such checkpoint")
    from . import native
    header = native.read_header(path) if native.is_native(path) else {}
    info = header.get("fields", {}).get("checkpoint", {}).get("info", {}) if header else {}
    output = info.get("output") if isinstance(info, dict) else None
    if not isinstance(output, str):
        raise WordvecError(f"{path}: not a wordvec checkpoint (no output recorded in it)")
    export_format = info.get("format")
    if export_format not in (None, *FORMAT_CHOICES[1:]):
        raise WordvecError(f"{path}: unknown export format {export_format!r} in the checkpoint")
    inputs = [i for i in info.get("inputs", []) if isinstance(i, str)] + [path]
    targets = _model_targets(output, export_format)
    _check_outputs(targets, inputs, force)
    model, info = resume(path, progress=not quiet)
    from .model import Checkpoint
    _save_trained(model, output, export_format, force, inputs, info.get("kind", model.kind),
                  Checkpoint(path, 1))


# ---------------------------------------------------------------------------------------------
# corpus tools
# ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _stdin_spooled(corpus):
    """``corpus`` with ``-`` (stdin) replaced by a scratch copy in TMPDIR, for commands that
    read their corpus more than once; the copy is removed afterwards (and, after a kill -9, by
    the next run: its name carries this process's owner tag)."""
    if "-" not in corpus:
        yield corpus
        return
    import shutil
    import tempfile

    from . import scratch
    fd, path = tempfile.mkstemp(prefix=f"wordvec-corpus-{scratch.tag()}-", suffix="stdin")
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                shutil.copyfileobj(sys.stdin.buffer, f, 1 << 20)
        except OSError as e:
            raise WordvecError(f"cannot keep a copy of stdin in {os.path.dirname(path)}: "
                               f"{e.strerror or e} (set TMPDIR to a folder with room)") from None
        yield [path if c == "-" else c for c in corpus]
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def cluster_options(f):
    """``--cluster ADDRESS`` and ``--workers N`` (see :mod:`wordvec.distributed`)."""
    f = click.option("--workers", type=Count, metavar="N",
                     help="With --cluster local: how many worker processes. [default: one a core]")(f)
    return click.option(
        "--cluster", metavar="ADDRESS",
        help="Count on a Dask cluster, a task per file: 'local' (worker processes on this "
             "machine) or a scheduler's address (tcp://host:8786). CORPUS may then also hold "
             "quoted globs and fsspec URLs (s3://bucket/part-*.gz); every worker must be able "
             "to read every file. Needs pip install 'wordvec[dask]'.")(f)


def _local_inputs(corpus, cluster):
    """The inputs an output must not overwrite: the corpus, URLs as local paths where they are
    (``file://``), globs expanded (with --cluster)."""
    if cluster is None:
        return list(corpus)
    import glob

    from .distributed import is_url, local_path
    out = []
    for c in corpus:
        if is_url(c):
            c = local_path(c)
            if c is None:
                continue
        out.extend(sorted(glob.glob(c)) if not os.path.exists(c) and glob.has_magic(c) else [c])
    return out


def _no_workers_without_cluster(workers):
    if workers is not None:
        raise WordvecError("--workers is the size of a --cluster local: add --cluster local")


@cli.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("-o", "--output", type=click.Path(allow_dash=True), required=True,
              help="Where to write the text with its phrases joined (- for stdout). With "
                   "--cluster: a folder, one file a shard (its name, compression suffix dropped).")
@click.option("--apply", "apply_path", type=click.Path(), metavar="PHRASES",
              help="Join the phrases of this file (from --save) instead of learning them.")
@click.option("--save", "save_path", type=click.Path(), metavar="PHRASES",
              help="Also save the learned phrases (JSON: settings, phrases, scores, counts).")
@click.option("--min-count", default=5, show_default=True, type=Count,
              help="default scoring: both words at least this frequent; npmi: the pair.")
@click.option("--threshold", type=float,
              help="Keep pairs scoring above this. [default: 100; npmi 0.5]")
@click.option("--scoring", type=click.Choice(["default", "npmi"]), default="default",
              show_default=True,
              help="default: (count(ab) - min_count) / (count(a) count(b)) x N, as word2phrase "
                   "and the word2vec paper; npmi: normalised PMI, -1..1.")
@click.option("--connectors", "connectors_file", type=click.Path(exists=True, dir_okay=False),
              help="Connector words (may sit inside a phrase, never start or end one), "
                   "whitespace-separated, replacing the English default (a, an, the, for, of, "
                   "with, without, at, from, to, in, on, by, and, or).")
@click.option("--no-connectors", is_flag=True, help="No connector words (word2phrase's behaviour).")
@click.option("--delimiter", default="_", show_default=True, help="What joins a phrase's words.")
@click.option("--passes", default=1, show_default=True, type=click.IntRange(1, 10),
              help="Rounds of learning: 2 finds phrases of up to 4 words (the word2vec demo).")
@click.option("--max-vocab", default=40_000_000, show_default=True, type=click.IntRange(min=100),
              help="Word pairs counted before the rarest are pruned (memory: ~40 bytes a pair; "
                   "with --cluster, each task's).")
@force_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (--cluster).")
@cluster_options
def phrases(corpus, output, apply_path, save_path, min_count, threshold, scoring, connectors_file,
            no_connectors, delimiter, passes, max_vocab, force, quiet, cluster, workers):
    """Join frequent phrases of CORPUS into single tokens (new_york), line by line.

    Learns which word pairs occur together more often than chance (word2phrase's score, or
    normalised PMI), then writes CORPUS with them joined. Run with --passes 2 for phrases of up to
    four words. --save keeps the phrases; --apply joins saved phrases in new text, as the run that
    learned them did.

    \b
    Examples:
      wordvec phrases corpus.txt -o phrased.txt --passes 2 --save phrases.json
      wordvec phrases --apply phrases.json new.txt -o new-phrased.txt
      wordvec phrases corpus.txt -o phrased.txt --scoring npmi --threshold 0.5
      wordvec train phrased.txt && wordvec similar new_york
      wordvec phrases 'shards/*.txt.gz' --cluster tcp://scheduler:8786 -o phrased/ --passes 2
    """
    from .phrases import ENGLISH_CONNECTORS, Phrases, read_connectors
    inputs = _local_inputs(corpus, cluster) + [p for p in (apply_path, connectors_file) if p]
    if cluster is None:
        _no_workers_without_cluster(workers)
        targets = [] if output == "-" else [(output, "corpus")]
        if save_path:
            targets.append((save_path, "phrases"))
        _check_outputs(targets, inputs, force)
    elif output == "-":
        raise WordvecError("--cluster writes the phrased shards into a folder: give -o FOLDER, "
                           "not stdout")
    if apply_path:
        given = [flag for flag, v in (("--save", save_path), ("--threshold", threshold),
                                      ("--connectors", connectors_file),
                                      ("--no-connectors", no_connectors)) if v]
        if given:
            raise WordvecError(f"--apply uses the settings saved with the phrases: drop "
                               f"{', '.join(given)}")
        model = Phrases.load(apply_path)
    else:
        if connectors_file and no_connectors:
            raise WordvecError("give --connectors FILE or --no-connectors, not both")
        conn = () if no_connectors else (read_connectors(connectors_file) if connectors_file
                                         else ENGLISH_CONNECTORS)
        if threshold is None:
            threshold = 0.5 if scoring == "npmi" else 100.0
        model = Phrases(min_count=min_count, threshold=threshold, scoring=scoring,
                        connectors=conn, delimiter=delimiter, passes=passes, max_vocab=max_vocab)
    if cluster is not None:
        from .distributed_phrases import phrases_on_cluster
        model, n, files = phrases_on_cluster(
            list(corpus), model, cluster, learn=not apply_path, output=output,
            save=None if apply_path else save_path, force=force, inputs=inputs, workers=workers,
            progress=not quiet)
        output = f"{output.rstrip(os.sep)}{os.sep} ({files:,} file{'s' if files != 1 else ''})"
    else:
        n = _phrases_here(model, corpus, output, apply_path, save_path, force, inputs)
        if n is None:
            return
    found = " + ".join(f"{len(p.phrases):,}" for p in model.passes)
    what = "applied" if apply_path else "learned"
    click.echo(f"{what} {found} phrases ({model.settings['scoring']} > "
               f"{model.settings['threshold']:g}); wrote {n:,} tokens to {output}"
               + (f"; phrases saved to {save_path}" if save_path and not apply_path else ""), err=True)


def _phrases_here(model, corpus, output, apply_path, save_path, force, inputs):
    """``wordvec phrases`` on this machine -> the tokens written (None: to stdout)."""
    with _stdin_spooled(corpus if not apply_path else [c for c in corpus if c != "-"]) as spooled:
        # (--apply reads its corpus once: stdin is streamed, not spooled)
        corpus = spooled if not apply_path else corpus
        if not apply_path:
            model.fit(list(corpus))
            if save_path:
                model.save(save_path, force=force, inputs=inputs)
        if output == "-":
            for text in model.iter_bytes(list(corpus)):
                click.echo(text, nl=False)
            return None
        return model.write(list(corpus), output, force=force, inputs=inputs)


@cli.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--min-count", default=5, show_default=True, type=Count, help="Ignore words rarer than this.")
@click.option("--max-vocab", type=Count, help="Keep at most this many words.")
@click.option("--lowercase", is_flag=True, help="Lowercase the text before counting.")
@click.option("-o", "--output", type=click.Path(), help="Save 'word count' lines (word2vec -save-vocab format).")
@force_option
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many of the most frequent words to show.")
@json_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (--cluster).")
@cluster_options
def vocab(corpus, min_count, max_vocab, lowercase, output, force, top, as_json, quiet, cluster,
          workers):
    """Count the words of CORPUS: vocabulary size, tokens, most frequent words.

    \b
    Example:
      wordvec vocab corpus.txt --min-count 5 -o vocab.txt
      wordvec vocab 'shards/part-*.txt.gz' --cluster tcp://scheduler:8786 -o vocab.txt
    """
    from .encode import count_words

    if output is not None:
        _check_outputs([(output, "vocab")], _local_inputs(corpus, cluster), force)
    if cluster is not None:
        from .distributed import count_words as count_on_cluster
        v = count_on_cluster(list(corpus), cluster, min_count=min_count, max_vocab=max_vocab,
                             lowercase=lowercase, workers=workers, progress=not quiet)
    else:
        _no_workers_without_cluster(workers)
        v = count_words(list(corpus), min_count=min_count, max_vocab=max_vocab, lowercase=lowercase)
    if output is not None:
        v.save(output, force=force, inputs=_local_inputs(corpus, cluster))
    top_words = [(w, int(c)) for w, c in zip(v.words[:top], v.counts[:top])]
    if as_json:
        click.echo(json.dumps({"tokens": v.raw_tokens, "vocab_size": len(v), "vocab_tokens": v.total,
                               "min_count": min_count, "top": top_words}))
        return
    click.echo(f"{v.raw_tokens:,} tokens; {len(v):,} words with count >= {min_count} "
               f"covering {v.total:,} tokens ({100 * v.total / max(v.raw_tokens, 1):.1f} %)")
    for w, c in top_words:
        click.echo(f"  {c:>12,}  {w}")
    if output is not None:
        click.echo(f"saved to {output}")


@cli.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("-o", "--output", type=click.Path(),
              help="The .npz file to write. [required, unless --blocks-dir with --cluster]")
@force_option
@click.option("--window", default=10, show_default=True, type=Count, help="Context window.")
@click.option("--symmetric/--asymmetric", default=True, show_default=True,
              help="Count context on both sides, or only the left (as GloVe's cooccur -symmetric 0).")
@click.option("--distance-weighting/--no-distance-weighting", default=True, show_default=True,
              help="Weight a co-occurrence at distance d by 1/d (GloVe).")
@click.option("--memory", default=4.0, show_default=True, type=float, callback=_positive_finite,
              help="Soft memory limit in GB, as Stanford's -memory: the counters take at most "
                   "a fifth of it; beyond, sorted chunks spill to disk. (--cluster: each task's.)")
@click.option("--min-count", default=5, show_default=True, type=Count, help="Ignore words rarer than this.")
@click.option("--max-vocab", type=Count, help="Keep at most this many words.")
@click.option("--lowercase", is_flag=True, help="Lowercase the text before counting.")
@click.option("--threads", type=Count,
              help="Worker threads. [default: all cores; with --cluster, 1 a task]")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@cluster_options
@click.option("--row-blocks", type=Count, metavar="N",
              help="With --cluster: cut the matrix into N row blocks, each summed over the shards "
                   "on one worker. [default: two per worker thread]")
@click.option("--blocks-dir", type=click.Path(), metavar="FOLDER",
              help="With --cluster: also write the row blocks (block-00000.npz..., vocab.txt, "
                   "blocks.json) into this folder; without -o, only them (no whole matrix).")
def cooccur(corpus, output, force, window, symmetric, distance_weighting, memory, min_count, max_vocab,
            lowercase, threads, quiet, cluster, workers, row_blocks, blocks_dir):
    """Count word co-occurrences of CORPUS into a sparse matrix (.npz) for glove/lsa --cooccur.

    \b
    Example:
      wordvec cooccur corpus.txt -o cooc.npz --window 10 --memory 2
      wordvec train --model glove --cooccur cooc.npz
      wordvec cooccur 'shards/*.txt.gz' --cluster tcp://scheduler:8786 -o cooc.npz
    """
    from .cooccur import count_cooccurrence
    from .cooccur_file import save_cooccurrence
    from .encode import encode

    params = {"window": window, "symmetric": symmetric, "distance_weighting": distance_weighting}
    if cluster is None:
        _no_workers_without_cluster(workers)
        given = [f for f, v in (("--row-blocks", row_blocks), ("--blocks-dir", blocks_dir)) if v]
        if given:
            raise WordvecError(f"{', '.join(given)}: row blocks are counted with --cluster only")
    if output is None and blocks_dir is None:
        raise click.UsageError("Missing option '-o' / '--output'.")
    inputs = _local_inputs(corpus, cluster)
    _check_outputs([(p, k) for p, k in ((output, "cooccur"), (blocks_dir, "cooccur-blocks")) if p],
                   inputs, force)
    if cluster is not None:
        from .distributed import count_cooccurrence as count_on_cluster
        m, vocab = count_on_cluster(
            list(corpus), cluster, window=window, symmetric=symmetric,
            distance_weighting=distance_weighting, memory_gb=memory, threads=threads or 1,
            min_count=min_count, max_vocab=max_vocab, lowercase=lowercase, row_blocks=row_blocks,
            gather=output is not None, blocks_dir=blocks_dir, force=force, inputs=inputs,
            workers=workers, progress=not quiet)
        if output is not None:
            save_cooccurrence(output, m, vocab, params=params, force=force, inputs=inputs)
        nnz = m.nnz if m is not None else None
        where = " and ".join(p for p in (output, blocks_dir and f"{blocks_dir}/ (row blocks)") if p)
        click.echo(f"{len(vocab):,} words" + (f", {nnz:,} non-zeros" if nnz is not None else "")
                   + f"; saved to {where}")
        return
    with encode(list(corpus), min_count=min_count, max_vocab=max_vocab, lowercase=lowercase) as enc:
        m = count_cooccurrence(enc, window=window, symmetric=symmetric,
                               distance_weighting=distance_weighting, memory_gb=memory,
                               threads=threads, progress=not quiet)
        save_cooccurrence(output, m, enc.vocab, params=params, force=force, inputs=corpus)
    click.echo(f"{m.shape[0]:,} words, {m.nnz:,} non-zeros; saved to {output}")


# ---------------------------------------------------------------------------------------------
# queries
# ---------------------------------------------------------------------------------------------
@cli.command()
@click.argument("a")
@click.argument("b")
@click.argument("c")
@model_option
@click.option("-n", "--topn", default=10, show_default=True, type=Count, help="How many answers.")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="3CosAdd or 3CosMul (Levy & Goldberg 2014).")
@click.option("--restrict", type=Count, help="Only answer with the N most frequent words.")
@json_option
def analogy(a, b, c, model_path, topn, method, restrict, as_json):
    """Solve A - B + C: "king is to man as ? is to woman".

    The three words are excluded from the answers.

    \b
    Example:
      wordvec analogy king man woman       # king - man + woman = queen
      wordvec analogy paris france italy   # -> rome
    """
    vectors = _load(model_path)
    answers = vectors.analogy(a, b, c, topn=topn, method=method, restrict=restrict)
    if as_json:
        click.echo(json.dumps({"query": f"{a} - {b} + {c}", "method": method,
                               "answers": [{"word": w, "score": s} for w, s in answers]}))
        return
    click.echo(f"{a} - {b} + {c} = ?  (3Cos{method.capitalize()})")
    _print_ranked(answers)


@cli.command()
@click.argument("words", nargs=-1, required=True)
@model_option
@click.option("-n", "--topn", default=10, show_default=True, type=Count, help="How many neighbours.")
@click.option("--restrict", type=Count, help="Only list the N most frequent words.")
@json_option
def similar(words, model_path, topn, restrict, as_json):
    """Nearest neighbours (cosine similarity) of each WORD.

    \b
    Example:
      wordvec similar france
      wordvec similar king queen --topn 5 --json
    """
    vectors = _load(model_path)
    results = {w: vectors.most_similar(positive=[w], topn=topn, restrict=restrict) for w in words}
    if as_json:
        click.echo(json.dumps({w: [{"word": x, "score": s} for x, s in r] for w, r in results.items()}))
        return
    for i, (w, ranked) in enumerate(results.items()):
        if i:
            click.echo()
        click.echo(f"nearest to {w}:")
        _print_ranked(ranked)


def _print_ranked(ranked):
    for i, (w, s) in enumerate(ranked, 1):
        click.echo(f"{i:>4}. {w:<24} {s:.4f}")


@cli.command()
@click.argument("words", nargs=-1)
@model_option
@click.option("-o", "--output", required=True, type=click.Path(),
              help="The image to write: .png, .svg or .pdf (the format follows the extension).")
@click.option("--words", "words_file", type=click.Path(), metavar="FILE",
              help="Also plot the words of FILE (one a line; # starts a comment).")
@click.option("--top", type=Count, metavar="N", help="Also plot the N most frequent words.")
@click.option("--neighbours", "--neighbors", "neighbours", type=click.IntRange(0, 100), default=0,
              metavar="K", help="Add each word's K nearest words, one colour per word's group.")
@click.option("--analogy", nargs=3, metavar="A B C",
              help="Draw A - B + C and the model's answer as a parallelogram of arrows.")
@click.option("--clusters", "clusters_file", type=click.Path(), metavar="CLASSES",
              help="Colour the words by class: a word2vec -classes file ('word class' lines).")
@click.option("--method", type=click.Choice(["pca", "tsne"]), default="pca", show_default=True,
              help="pca: a linear view (keeps analogy parallelograms and the large-scale "
                   "layout), instant; tsne: scikit-learn's t-SNE, keeps each word's near "
                   "neighbours near (slower; for many words).")
@click.option("--restrict", type=Count, metavar="N",
              help="Neighbours and the analogy answer only among the N most frequent words.")
@click.option("--skip-missing", is_flag=True,
              help="Leave out words the model has no vector for (with a note), instead of stopping.")
@click.option("--size", default="10x8", show_default=True, metavar="WxH",
              help="Image size in inches (10x8) or pixels (1600x1200px).")
@click.option("--dpi", type=click.IntRange(20, 1200), default=100, show_default=True,
              help="Pixels per inch (PNG size; text scale of pixel sizes).")
@click.option("--title", help="Title of the picture. [default: the model, projection and words]")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True,
              help="Random seed of t-SNE (starting from the PCA layout it draws none in "
                   "practice, so maps repeat; PCA needs none).")
@force_option
def plot(words, model_path, output, words_file, top, neighbours, analogy, clusters_file, method,
         restrict, skip_missing, size, dpi, title, seed, force):
    """Draw WORDs in 2-D, labelled, as an image (.png, .svg or .pdf).

    Words come from WORD arguments, --words FILE and --top N (together, each once); --analogy
    adds its four words. A word the model has no vector for stops the command with one line
    naming it, unless --skip-missing (fastText models build vectors for unseen words). Needs the
    plot extra: pip install 'wordvec[plot]'.

    \b
    Examples:
      wordvec plot king queen man woman paris france -o map.png
      wordvec plot france japan --neighbours 8 -o neighbours.svg
      wordvec plot --analogy king man woman -o analogy.pdf
      wordvec plot --top 300 --method tsne --size 1600x1200px -o top.png
      wordvec plot --top 300 --clusters classes.txt -o classes.png
    """
    from . import plotting
    plotting.image_format(output)
    if not (words or words_file or top or analogy):
        raise WordvecError("name the words to plot: WORD..., --words FILE, --top N or --analogy A B C")
    if neighbours and clusters_file:
        raise WordvecError("colour by --neighbours or by --clusters, not both")
    inches = plotting.parse_size(size, dpi)
    inputs = [model_path] + [p for p in (words_file, clusters_file) if p]
    _check_outputs([(output, "image")], inputs, force)
    plotting.require_matplotlib()
    if method == "tsne":
        plotting.require_tsne()
    chosen = list(words)
    if words_file:
        chosen += plotting.read_words(words_file)
    if clusters_file:
        from .clustering import read_classes
    classes = read_classes(clusters_file) if clusters_file else None
    vectors = _load(model_path)
    if top:
        chosen += vectors.words[:top]
    name = model_path if len(model_path) <= 60 else os.path.basename(model_path.rstrip(os.sep))
    fig = plotting.plot(vectors, chosen, method=method, neighbours=neighbours,
                        analogy=tuple(analogy) if analogy else None, clusters=classes, seed=seed,
                        size=inches, dpi=dpi, title=title, skip_missing=skip_missing,
                        restrict=restrict, model_name=name)
    for note in fig.wordvec_notes:
        click.echo(f"note: {note}", err=True)
    if fig.wordvec_skipped:
        from .plotting import _missing_message
        click.echo(f"note: left out {len(fig.wordvec_skipped):,} "
                   f"{_missing_message(fig.wordvec_skipped)}", err=True)
    fmt = plotting.save(fig, output, force=force, inputs=inputs)
    n = len(fig.wordvec_coords)
    px = f", {round(inches[0] * dpi)}x{round(inches[1] * dpi)} px" if fmt == "png" else ""
    click.echo(f"{n:,} words ({plotting.METHOD_NAMES[method]}) plotted to {output} ({fmt}{px})")


# ---------------------------------------------------------------------------------------------
# word classes
# ---------------------------------------------------------------------------------------------
@cli.command()
@model_option
@click.option("-k", "--classes", "k", required=True, type=Count, help="How many classes.")
@click.option("-o", "--output", required=True, type=click.Path(allow_dash=True),
              help="The classes file to write ('word class' lines; - for stdout).")
@click.option("--top", type=Count, help="Cluster only the N most frequent words.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="Random seed (k-means++ seeding); the same seed gives the same classes.")
@click.option("--iters", default=None, type=click.IntRange(min=0),
              help="At most this many rounds after seeding; they stop earlier when no word "
                   "changes class. [default: 20]")
@click.option("--restarts", default=1, show_default=True, type=click.IntRange(min=1),
              help="Run k-means this many times from different seeds and keep the classes of "
                   "lowest inertia (scikit-learn's n_init); takes that many times as long.")
@force_option
@json_option
def cluster(model_path, k, output, top, seed, iters, restarts, force, as_json):
    """Group words into K classes by k-means on their unit vectors (cosine similarity).

    Writes 'word class' lines sorted by class, the format of word2vec's -classes; class 0
    holds the most frequent word, and the words of a class are listed most frequent first.
    Seeding is k-means++; each round moves every word to its most similar centroid (cosine)
    and recomputes the centroids. The inertia printed is the sum over words of 1 - cosine to
    their class's centroid.

    \b
    Examples:
      wordvec cluster -m vectors -k 500 -o classes.txt
      wordvec cluster -m vectors.bin -k 100 --top 10000 -o - | head
    """
    from .clustering import DEFAULT_ITERS
    from .clustering import cluster as run_cluster
    targets = [] if output == "-" else [(output, "classes")]
    _check_outputs(targets, [model_path], force)
    vectors = _load(model_path, limit=top)
    result = run_cluster(vectors, k, top=top, seed=seed, restarts=restarts,
                         iters=DEFAULT_ITERS if iters is None else iters)
    if output == "-":
        order = sorted(range(len(result.words)), key=lambda i: result.labels[i])
        for i in order:
            click.echo(f"{result.words[i]} {result.labels[i]}")
    else:
        result.save(output, force=force, inputs=[model_path])
    n = len(result.words)
    used = int((result.sizes > 0).sum())
    if as_json:
        click.echo(json.dumps({"words": n, "k": k, "classes": used, "inertia": result.inertia,
                               "mean_cosine": 1 - result.inertia / n, "rounds": result.iterations,
                               "converged": result.converged, "seed": seed,
                               "restarts": restarts, "start_inertias": result.starts,
                               "output": output}), err=output == "-")
        return
    click.echo(f"{n:,} words in {used:,} classes"
               + (f" (of {k:,}: the others would be empty, the vectors are not distinct enough)"
                  if used < k else "")
               + f"; {result.iterations} round{'' if result.iterations == 1 else 's'}"
               f"{', converged' if result.converged else ''}; "
               f"inertia {result.inertia:,.2f} (sum of 1 - cosine to the centroid; mean cosine "
               f"{1 - result.inertia / n:.4f})"
               + (f", the best of {restarts} starts" if restarts > 1 else "")
               + ("" if output == "-" else f"; saved to {output}"), err=output == "-")


# ---------------------------------------------------------------------------------------------
# bias
# ---------------------------------------------------------------------------------------------
@cli.group(name="bias", cls=_Group)
def bias_group():
    """Measure associations in word vectors: WEAT and directions from word pairs.

    \b
    Examples:
      wordvec bias weat --test career-family          # a bundled test of Caliskan et al. 2017
      wordvec bias weat --list
      wordvec bias weat --targets X.txt Y.txt --attributes A.txt B.txt --json
      wordvec bias direction he she --words occupations
      wordvec bias direction he she man woman his her --top 20000 -n 30
    """


def _preview(words, limit=12):
    more = len(words) - limit
    return " ".join(words[:limit]) + (f" ... (+{more:,})" if more > 0 else "")


@bias_group.command(name="weat")
@click.option("--test", "test_name", metavar="NAME",
              help="A bundled test (see --list), e.g. career-family: works offline.")
@click.option("--targets", nargs=2, type=click.Path(), metavar="X Y",
              help="Two target word lists (one word a line; # starts a comment).")
@click.option("--attributes", nargs=2, type=click.Path(), metavar="A B",
              help="Two attribute word lists.")
@click.option("--list", "list_tests", is_flag=True, help="List the bundled tests and exit.")
@model_option
@click.option("--permutations", default=100_000, show_default=True, type=Count, metavar="N",
              help="Random partitions drawn for the p-value when there are more than "
                   "--exact-limit partitions (otherwise all are enumerated).")
@click.option("--exact-limit", default=1_000_000, show_default=True, type=click.IntRange(min=0),
              metavar="N", help="Enumerate all partitions when there are at most N of them.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="Random seed of the sampled partitions.")
@json_option
def bias_weat(test_name, targets, attributes, list_tests, model_path, permutations, exact_limit,
              seed, as_json):
    """Word Embedding Association Test (Caliskan, Bryson & Narayanan 2017).

    s(w) = mean cosine of w with the words of A minus that with B. Effect size: the mean s
    of X minus that of Y, over the standard deviation of s on X and Y together (population,
    ddof 0). p-value, one-sided: the share of the partitions of X+Y into sets of the sizes of
    X and Y whose statistic (sum of s over X minus over Y) is >= the observed one; exact when
    there are at most --exact-limit partitions, else --permutations random ones,
    (1 + hits) / (1 + N). Words missing from the model are listed and left out (a word found
    only lowercased is used lowercased); each list needs at least 2 words left. fastText
    models build vectors for unseen words.

    \b
    Examples:
      wordvec bias weat --test career-family
      wordvec bias weat --test flowers-insects --permutations 1000000 --seed 7
      wordvec bias weat --targets math.txt arts.txt --attributes male.txt female.txt --json
    """
    from . import bias
    if list_tests:
        rows = bias.tests_table()
        if as_json:
            click.echo(json.dumps(rows))
            return
        click.echo(f"{'test':<24} {'WEAT':>4}  {'targets X / Y':<34} {'attributes A / B':<30} words")
        for r in rows:
            x, y, a, b = r["sizes"]
            click.echo(f"{r['name']:<24} {r['weat']:>4}  {' / '.join(r['targets']):<34} "
                       f"{' / '.join(r['attributes']):<30} {x}+{y} x {a}+{b}")
        return
    if test_name and (targets or attributes):
        raise WordvecError("give --test NAME or --targets X Y --attributes A B, not both")
    if not test_name and not (targets and attributes):
        raise WordvecError("name a test (--test NAME, see --list) or the lists: "
                           "--targets X Y --attributes A B")
    if test_name and test_name not in bias.WEAT_TESTS:
        raise WordvecError(f"unknown WEAT test {test_name!r}: use one of "
                           f"{', '.join(bias.WEAT_TESTS)}")
    options = {"permutations": permutations, "seed": seed, "exact_limit": exact_limit}
    if test_name:
        vectors = _load(model_path)
        result = bias.weat_test(vectors, test_name, **options)
    else:
        paths = list(targets) + list(attributes)
        lists = [bias.read_word_list(p, what) for p, what in
                 zip(paths, ("--targets", "--targets", "--attributes", "--attributes"))]
        vectors = _load(model_path)
        result = bias.weat(vectors, lists[:2], lists[2:], names=[bias.list_name(p) for p in paths],
                           **options)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    _print_weat(result, bias)


def _print_weat(r, bias):
    t = bias.WEAT_TESTS.get(r.test)
    X, Y = r.targets
    A, B = r.attributes
    head = f"WEAT {r.test} (Caliskan et al. 2017, WEAT {t.number})" if t else "WEAT"
    click.echo(f"{head}: {X.name} vs {Y.name}, {A.name} vs {B.name}")
    click.echo(f"  {'list':<22} {'words':>5} {'used':>5}  missing from the model")
    for role, ws in zip("XYAB", (X, Y, A, B)):
        click.echo(f"  {role} {ws.name:<20} {len(ws.given):>5} {len(ws.words):>5}  "
                   f"{_preview(ws.missing) if ws.missing else '-'}")
    d = "undefined (s is the same for every target word)" if math.isnan(r.effect_size) \
        else f"{r.effect_size:+.4f}"
    click.echo(f"effect size  {d}  (mean s(X) - mean s(Y), over the std of s on X and Y, ddof 0)")
    click.echo(f"statistic    {r.statistic:+.4f}  (sum s(X) - sum s(Y))")
    p = r.p
    if p.method == "exact":
        how = (f"exact: {p.hits:,} of all {p.partitions:,} partitions of X+Y into {len(X.words)} "
               f"and {len(Y.words)} words have a statistic >= the observed")
    else:
        how = (f"sampled: {p.hits:,} of {p.partitions:,} random partitions (seed {p.seed}) have "
               f"a statistic >= the observed; (1 + {p.hits:,}) / (1 + {p.partitions:,})")
    click.echo(f"p-value      {p.p:.4g}  (one-sided, {how})")
    lowered = [w for ws in (X, Y, A, B) for w in ws.lowercased]
    if lowered:
        click.echo(f"note: used lowercased: {_preview(lowered)}")
    built = [w for ws in (X, Y, A, B) for w in ws.subword]
    if built:
        click.echo(f"note: not in the vocabulary, vectors built from character n-grams "
                   f"(fastText): {_preview(built)}")


@bias_group.command(name="direction")
@click.argument("pairs", nargs=-1, required=True, metavar="A1 B1 [A2 B2 ...]")
@model_option
@click.option("--words", "words_file", metavar="FILE",
              help="Project the words of FILE (one a line; # starts a comment); "
                   "'occupations' is a bundled list of 104 occupation words.")
@click.option("--top", type=Count, metavar="N",
              help="Project the N most frequent words of the model. [default: 10000, "
                   "without --words]")
@click.option("-n", "--topn", default=20, show_default=True, type=Count,
              help="How many words to show on each side (--json lists all).")
@json_option
def bias_direction(pairs, model_path, words_file, top, topn, as_json):
    """Project words on a direction defined by word pairs (Bolukbasi et al. 2016).

    One pair (he she): the normalised difference of the two unit vectors. Several pairs:
    the first principal component of the pair-centred vectors, signed so that A1 is on the
    positive side, with the share of the pairs' variance it explains. A word's projection is
    the cosine of its vector with the direction; the pair words are left out of the ranking.

    \b
    Examples:
      wordvec bias direction he she --words occupations
      wordvec bias direction he she man woman his her himself herself --top 20000
      wordvec bias direction good bad --words adjectives.txt --json
    """
    from . import bias
    pair_list = bias.split_pairs(pairs)
    if words_file and top:
        raise WordvecError("project either the words of --words FILE or the --top N words, "
                           "not both")
    words = None
    if words_file:
        words = bias.read_word_list(bias.word_list_path(words_file), "--words")
    vectors = _load(model_path)
    result = bias.direction(vectors, pair_list, words=words, top=top or bias.DEFAULT_TOP,
                            source=None if not words_file else
                            f"{len(words):,} words of {bias.list_name(words_file)}")
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    if len(result.pairs) == 1:
        a, b = result.pairs[0]
        click.echo(f"direction {a} - {b}: the normalised difference of their unit vectors")
    else:
        shown = ", ".join(f"{a}-{b}" for a, b in result.pairs)
        click.echo(f"direction: first principal component of {len(result.pairs)} pairs ({shown}), "
                   f"{result.explained:.1%} of their variance")
    click.echo(f"projection: cosine with the direction, of {len(result.words):,} words "
               f"({result.source}); {result.pairs[0][0]} side positive")
    if result.excluded:
        click.echo(f"left out (pair words): {' '.join(result.excluded)}")
    if result.missing:
        click.echo(f"missing from the model: {len(result.missing):,} words: "
                   f"{_preview(result.missing)}")
    if result.lowercased:
        click.echo(f"note: used lowercased: {_preview(result.lowercased)}")
    if result.subword:
        click.echo(f"note: not in the vocabulary, vectors built from character n-grams "
                   f"(fastText): {_preview(result.subword)}")
    pos, neg = result.positive(topn), result.negative(topn)
    a, b = result.pairs[0]
    click.echo()
    click.echo(f"{'':>5} {(a + ' side'):<24} {'':>8}   {'':>5} {b} side")
    for i in range(max(len(pos), len(neg))):
        left = f"{i + 1:>4}. {pos[i][0]:<24} {pos[i][1]:+.4f}" if i < len(pos) else " " * 39
        right = f"{i + 1:>4}. {neg[i][0]:<24} {neg[i][1]:+.4f}" if i < len(neg) else ""
        click.echo(f"{left}   {right}".rstrip())


# ---------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------
@cli.group(name="eval", cls=_Group)
def eval_group():
    """Score vectors on word-analogy and word-similarity datasets.

    \b
    Examples:
      wordvec eval benchmark                      # every bundled dataset, one table
      wordvec eval benchmark -m vectors.bin --json
      wordvec eval analogy my-questions.txt --method mul
      wordvec eval similarity my-pairs.txt
    """


eval_options = [
    model_option,
    click.option("--restrict", default=30000, show_default=True, type=Count,
                 help="Analogy: only the N most frequent words count as vocabulary (word2vec/gensim use 30000)."),
    click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
                 help="Analogy: 3CosAdd or 3CosMul."),
    click.option("--case-sensitive", is_flag=True,
                 help="Match dataset words to the vocabulary exactly (default: ignore case)."),
    click.option("--sections", is_flag=True, help="Show per-section analogy accuracy."),
    json_option,
]


def _eval_options(f):
    for opt in reversed(eval_options):
        f = opt(f)
    return f


@eval_group.command(name="benchmark")
@_eval_options
def eval_benchmark(model_path, restrict, method, case_sensitive, sections, as_json):
    """All bundled datasets: Google analogy, WS-353 (all/sim/rel), SimLex-999, MEN.

    Analogy counts only the --restrict most frequent words as vocabulary and skips questions
    outside it; similarity skips pairs with a word that has no vector (fastText builds vectors
    for unseen words, so it scores them). Coverage is printed beside each score.

    \b
    Example:
      wordvec eval benchmark -m vectors
      wordvec eval benchmark -m GoogleNews-vectors.bin --json
    """
    from .evaluate import benchmark, format_table
    results = benchmark(_load(model_path), restrict=restrict, method=method, lowercase=not case_sensitive)
    click.echo(json.dumps(results) if as_json else format_table(results, sections=sections))


@eval_group.command(name="analogy")
@click.argument("file", type=click.Path())
@_eval_options
def eval_analogy(file, model_path, restrict, method, case_sensitive, sections, as_json):
    """Analogy accuracy on FILE (Google format: ': section' lines, then 'a b c d').

    'a b c d' means a : b :: c : d; the answer is the word nearest to b - a + c, the three
    question words excluded. Sections named gram* count as syntactic, the others semantic.

    \b
    Example:
      wordvec eval analogy questions-words.txt --method mul --restrict 30000
    """
    from .evaluate import evaluate_analogy, format_table
    name = _stem(file)
    result = evaluate_analogy(_load(model_path), file, restrict=restrict, method=method,
                              lowercase=not case_sensitive)
    results = {"analogy": {name: result}}
    click.echo(json.dumps(results) if as_json else format_table(results, sections=sections))


@eval_group.command(name="similarity")
@click.argument("file", type=click.Path())
@_eval_options
def eval_similarity(file, model_path, restrict, method, case_sensitive, sections, as_json):
    """Spearman correlation on FILE ('word1 word2 score' lines); pairs without vectors are skipped.

    \b
    Example:
      wordvec eval similarity EN-SIMLEX-999.txt --json
    """
    from .evaluate import evaluate_similarity, format_table
    name = _stem(file)
    results = {"similarity": {name: evaluate_similarity(_load(model_path), file, lowercase=not case_sensitive)}}
    click.echo(json.dumps(results) if as_json else format_table(results))


def _stem(path):
    base = os.path.basename(path)
    for ext in (".gz", ".txt", ".csv", ".tsv"):
        if base.endswith(ext):
            base = base[: -len(ext)]
    return base


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
@cli.command()
@click.argument("source", type=click.Path())
@click.argument("target", type=click.Path())
@click.option("--to", "fmt", type=click.Choice(FORMAT_CHOICES + WRITE_ONLY_CHOICES), required=True,
              help="Format to write (projector: a folder of tensors.tsv and metadata.tsv for the "
                   "TensorFlow Embedding Projector).")
@click.option("--from", "from_fmt", type=click.Choice(FORMAT_CHOICES), help="Input format. [default: detected]")
@click.option("--precision", default=6, show_default=True, type=click.IntRange(1, 17),
              help="Significant digits in text output (9 is exact for float32).")
@click.option("--limit", type=Count, help="Keep only the first N (most frequent) words.")
@force_option
def convert(source, target, fmt, from_fmt, precision, limit, force):
    """Convert vectors between formats (the input format is detected).

    SOURCE may be a member of a zip archive: ARCHIVE.zip:MEMBER.

    \b
    Examples:
      wordvec convert vectors vectors.bin --to word2vec-binary
      wordvec convert glove.6B.zip:glove.6B.100d.txt glove100 --to native
      wordvec convert vectors projector --to projector --limit 10000
    """
    from .formats import detect, save_vectors
    kind = {"native": "model", "projector": "projector"}.get(fmt, "vectors")
    _check_outputs([(target, kind)], [source], force)
    source_fmt = from_fmt or (detect(source) if _exists(source) else None)
    if fmt == "fasttext-bin" or (fmt == "native" and source_fmt == "fasttext-bin"):
        # a trained model, not only vectors: fastText .bin <-> native fastText model
        from .fasttext_bin import save_model
        from .model import load_model
        if limit is not None:
            raise WordvecError(f"--limit does not apply to a whole fastText model "
                               f"({source_fmt} to {fmt})")
        if not _exists(source):
            _load(source)  # the one-line "no model" error
        model = load_model(source) if source_fmt in ("native", "fasttext-bin") else None
        if model is None or model.family != "fasttext":
            raise WordvecError(f"{source}: --to fasttext-bin needs a fastText model (a wordvec "
                               "fastText model folder or a fastText .bin), not "
                               f"{model.kind + ' model' if model else source_fmt + ' vectors'}")
        if fmt == "native":
            model.save(target, force=force, inputs=[source])
        else:
            save_model(model, target, force=force, inputs=[source])
        click.echo(f"{len(model.vocab):,} words x {model.params['dim']} dims "
                   f"(+ {model.params['bucket']:,} n-gram buckets) written to {target} ({fmt})")
        return
    vectors = _load(source, from_fmt, limit)
    save_vectors(vectors, target, fmt, precision=precision, force=force, inputs=[source])
    click.echo(f"{len(vectors):,} words x {vectors.dim} dims written to {target} ({fmt})")


@cli.command()
@click.argument("model_path", required=False, type=click.Path())
@json_option
def info(model_path, as_json):
    """What a model file holds: kind, size, settings, training statistics.

    MODEL_PATH defaults to $WORDVEC_MODEL or ./vectors.

    \b
    Example:
      wordvec info vectors
    """
    path = model_path or _default_model()
    from . import native
    if native.is_native(path):
        header = native.read_header(path)  # its fields checked
        native.check_vectors_shape(path, header)  # and the array it describes (cheaply)
    else:
        from .formats import describe
        if not _exists(path):
            _load(path)  # the one-line "no model" error
        d = describe(path)
        header = {"kind": d.get("kind", d["format"]), "format": d["format"], "vocab_size": d["words"],
                  "dim": d["dim"]}
        if d.get("params"):  # a fastText .bin: a whole model
            header["params"] = d["params"]
    if as_json:
        click.echo(json.dumps(header))
        return
    click.echo(f"{path}: {header.get('kind')} vectors, {header.get('vocab_size'):,} words x "
               f"{header.get('dim')} dims"
               + (f" (wordvec {header['wordvec_version']})" if header.get("wordvec_version") else ""))
    params, changed = _declared_order(header)
    for section, items in (("params", params), ("stats", header.get("stats") or {})):
        if items:
            note = "  (* = not the default)" if changed and section == "params" else ""
            click.echo(f"{section}:{note}")
            for k, v in items.items():
                mark = "*" if k in changed else " "
                click.echo(f" {mark}{k:<28} {_fmt(v)}")



# ---------------------------------------------------------------------------------------------
# text vectors and semantic search
# ---------------------------------------------------------------------------------------------
def _text_vector_options(default_method):
    def wrap(f):
        for opt in reversed([
            click.option("--method", type=click.Choice(["mean", "sif"]), default=default_method,
                         show_default=True,
                         help="mean: the average of the word vectors; sif: smooth inverse "
                              "frequency weights a / (a + p(w)) and the first principal component "
                              "removed (Arora et al. 2017)."),
            click.option("--unit", is_flag=True,
                         help="mean: average unit word vectors (fastText's print-sentence-vectors)."),
            click.option("--sif-a", type=float, default=1e-3, show_default=True, callback=_positive_finite,
                         help="sif: the weight parameter a."),
            click.option("--counts", "counts_file", type=click.Path(), metavar="VOCAB",
                         help="sif: word counts ('word count' lines) for a model without them "
                              "(word2vec and GloVe text files)."),
            click.option("--lowercase", is_flag=True, help="Lowercase the texts first."),
        ]):
            f = opt(f)
        return f
    return wrap


def _json_sidecar(output):
    return (output[:-4] if output.lower().endswith(".npy") else output) + ".json"


@cli.command()
@click.argument("texts", type=click.Path(allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="The .npy file to write (float32, one row per line of TEXTS); a .json beside it "
                   "describes it.")
@model_option
@_text_vector_options("mean")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@force_option
@json_option
def embed(texts, output, model_path, method, unit, sif_a, counts_file, lowercase, quiet, force, as_json):
    """Turn each line of TEXTS (- for stdin) into a vector: sentence and document vectors.

    Row i of the output is line i + 1 of TEXTS. A word without a vector is skipped (fastText
    models build one for unseen words); a line with no such word gets a zero row and is
    reported. --method mean --unit gives what fastText's print-sentence-vectors gives.

    \b
    Examples:
      wordvec embed texts.txt -o texts.npy
      wordvec embed texts.txt --method sif -o texts.npy
      cat texts.txt | wordvec embed - -m model.bin --unit -o texts.npy
    """
    from .io_util import atomic_write
    from .sentences import SentenceEncoder, write_npy
    if method == "sif" and unit:
        raise WordvecError("--unit is an option of --method mean")
    sidecar = _json_sidecar(output)
    inputs = [model_path, texts] + ([counts_file] if counts_file else [])
    _check_outputs([(output, "embeddings"), (sidecar, "embeddings")], inputs, force)
    if texts != "-" and not os.path.isfile(texts):
        raise WordvecError(f"no such file of texts: {texts!r}")
    vectors = _load(model_path)
    encoder = SentenceEncoder(vectors, method=method, unit=unit, sif_a=sif_a, lowercase=lowercase,
                              counts=counts_file)
    from . import progress
    b = progress.bar(not quiet, None, "embedding", unit=" texts")
    ok = False
    try:
        with atomic_write(output, "w+b", kind="embeddings", force=force, inputs=inputs) as f:
            rows = write_npy(encoder, texts, f, on_block=b.update if b is not None else None)
        ok = True
    finally:
        progress.close(b, ok)
    empty = [i + 1 for i in encoder.empty]
    info = {"format": "wordvec-text-vectors", "rows": rows, "dim": vectors.dim,
            "texts": texts if texts == "-" else os.path.abspath(texts),
            "model": os.path.abspath(model_path), "encoder": encoder.state(),
            "empty_lines": empty}
    with atomic_write(sidecar, "w", kind="embeddings", force=force, inputs=inputs,
                      encoding="utf-8") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    if as_json:
        click.echo(json.dumps({k: v for k, v in info.items() if k != "encoder"}
                              | {"method": method, "output": output, "description": sidecar}))
        return
    click.echo(f"{rows:,} texts x {vectors.dim} dims ({method}{', unit word vectors' if unit else ''})"
               f" saved to {output}; described in {sidecar}")
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (", ..." if len(empty) > 10 else "")
        click.echo(f"{len(empty):,} line{'s' if len(empty) != 1 else ''} had no word with a vector "
                   f"(zero rows): {shown}", err=True)


@cli.command(name="index")
@click.argument("texts", type=click.Path(allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(), help="The index folder to write.")
@model_option
@_text_vector_options("sif")
@click.option("--ann", is_flag=True,
              help="Also build an approximate (HNSW) index for fast search of large collections "
                   "(needs the extra wordvec[search]).")
@click.option("--ann-m", type=click.IntRange(2, 256), default=16, show_default=True,
              help="HNSW: links per node.")
@click.option("--ef-construction", type=click.IntRange(8, 10_000), default=200, show_default=True,
              help="HNSW: candidate list size while building.")
@click.option("--threads", type=click.IntRange(min=1), help="Threads for the HNSW build. [default: all cores]")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@force_option
@json_option
def index_cmd(texts, output, model_path, method, unit, sif_a, counts_file, lowercase, ann, ann_m,
              ef_construction, threads, quiet, force, as_json):
    """Build a searchable collection of the lines of TEXTS (- for stdin).

    The index folder holds the texts, their unit vectors, how they were embedded and the
    model's identity: 'wordvec search' embeds a query the same way, with the same model.

    \b
    Examples:
      wordvec index paragraphs.txt -o paragraphs.idx
      wordvec index paragraphs.txt --ann -o paragraphs.idx      # + an HNSW graph
    """
    from .search import build_index
    if method == "sif" and unit:
        raise WordvecError("--unit is an option of --method mean")
    inputs = [model_path, texts] + ([counts_file] if counts_file else [])
    _check_outputs([(output, "index")], inputs, force)
    if texts != "-" and not os.path.isfile(texts):
        raise WordvecError(f"no such file of texts: {texts!r}")
    vectors = _load(model_path)
    from . import progress
    b = progress.bar(not quiet, None, "indexing", unit=" texts")
    ok = False
    try:
        index, encoder = build_index(vectors, texts, output, method=method, unit=unit, sif_a=sif_a,
                                     lowercase=lowercase, counts=counts_file, model_path=model_path,
                                     ann=ann, ann_params={"M": ann_m, "ef_construction": ef_construction},
                                     threads=threads, force=force, inputs=inputs,
                                     progress=b.update if b is not None else None)
        ok = True
    finally:
        progress.close(b, ok)
    h = index.header
    if as_json:
        click.echo(json.dumps({"output": output, "rows": h["rows"], "dim": h["dim"], "method": method,
                               "empty": h["empty"], "embed_seconds": h["embed_seconds"],
                               "ann": h["ann"]}))
        return
    line = (f"{h['rows']:,} texts indexed ({method}, {h['dim']} dims) in {h['embed_seconds']:.1f} s")
    if h["ann"]:
        line += f"; HNSW graph built in {h['ann']['build_seconds']:.1f} s"
    click.echo(f"{line}; saved to {output}")
    if h["empty"]:
        click.echo(f"{h['empty']:,} line{'s' if h['empty'] != 1 else ''} had no word with a vector "
                   "(never returned by search)", err=True)


@cli.command()
@click.argument("index_path", metavar="INDEX", type=click.Path())
@click.argument("queries", nargs=-1)
@click.option("-n", "topn", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many texts to print per query.")
@click.option("-m", "--model", "model_path", type=click.Path(),
              help="The model the index was built with. [default: the path recorded in the index]")
@click.option("--queries", "queries_file", type=click.Path(allow_dash=True),
              help="A file of queries, one a line (- for stdin).")
@click.option("--ann", is_flag=True, help="Search the approximate (HNSW) index instead of every text.")
@click.option("--ef", type=click.IntRange(1, 100_000), help="HNSW: candidate list size per query "
              "(more: slower, closer to exact). [default: the index's, 160]")
@json_option
def search(index_path, queries, topn, model_path, queries_file, ann, ef, as_json):
    """Print the texts of INDEX nearest to each query, with cosine scores.

    \b
    Examples:
      wordvec search paragraphs.idx "the ship sailed at dawn"
      wordvec search paragraphs.idx --queries questions.txt -n 3 --json
    """
    from .search import Index
    from .sentences import iter_text_lines
    queries = list(queries)
    if queries_file:
        queries += list(iter_text_lines(queries_file))
    if not queries:
        raise WordvecError("no query: give QUERY text or --queries FILE")
    index = Index.open(index_path)
    path = model_path or index.header["model"]["path"]
    if not path:
        raise WordvecError("the index does not record its model's path (built from stdin?): "
                           "pass it with -m")
    vectors = _load(path)
    encoder = index.encoder(vectors)
    Q = encoder.transform(queries)
    found = index.search_vectors(Q, topn, ann=ann, ef=ef)
    missing = set(encoder.empty)
    results = []
    for j, (rows, scores) in enumerate(found):
        hits = [{"line": int(r) + 1, "score": round(float(sc), 6), "text": index.text(int(r))}
                for r, sc in zip(rows, scores)]
        results.append({"query": queries[j], "known_words": j not in missing, "hits": hits})
    if as_json:
        click.echo(json.dumps(results if len(results) > 1 else results[0], ensure_ascii=False))
        return
    width = shutil.get_terminal_size((100, 20)).columns
    for k, r in enumerate(results):
        if len(results) > 1:
            click.echo(("" if k == 0 else "\n") + f"query: {r['query']}")
        if not r["known_words"]:
            click.echo("  (no word of this query has a vector: no results)")
            continue
        for h in r["hits"]:
            lead = f"{h['score']:.4f}  {h['line']:>8}  "
            text = h["text"]
            room = max(20, width - len(lead))
            click.echo(lead + (text if len(text) <= room else text[:room - 1] + "…"))


def _declared_order(header):
    """A model's params in the order its family declares them (wordvec.params; old names
    mapped), then any others; and the names whose value is not the default."""
    from .params import KINDS, schema_for
    params = header.get("params") or {}
    kind = header.get("kind")
    if kind not in KINDS or not isinstance(params, dict):
        return params, set()
    schema = schema_for(kind)
    try:
        named = schema.canonical(params)
    except WordvecError:
        return params, set()
    ordered = {k: named[k] for k in schema.names() if k in named}
    ordered.update({k: v for k, v in named.items() if k not in ordered})
    if "arch" in schema.by_name and "arch" not in ordered and kind in ("sg", "cbow"):
        ordered = {"arch": kind, **ordered}
    try:
        changed = schema.changed({k: v for k, v in ordered.items() if k in schema.by_name})
    except WordvecError:
        changed = set()
    return ordered, changed


def _fmt(v):
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return ", ".join(_fmt(x) if isinstance(x, int) else f"{x:.4g}" for x in v)
    return str(v)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
