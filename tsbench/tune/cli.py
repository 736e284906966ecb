"""``tsbench-tune``: the whole tuning recipe as one command.

tsbench-tune dataset=etth1 model=patchtst pred_len=96 [recipe=quick] [recipe.budget_hours=2]
             [out=DIR] [any other tsbench override, passed to every stage]
tsbench-tune --help

Without ``out=`` the folder is named after the dataset, model, horizon and a digest of all
arguments (in any order, a file's path relative or absolute), so the same command again
resumes an interrupted tuning run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from omegaconf import OmegaConf

from tsbench.closed_stdout import quiet_when_stdout_closes
from tsbench.config_values import check_interpolations
from tsbench.errors import TsbenchError, closest, error_lines
from tsbench.log_lines import RunLines
from tsbench.preload import serve_from_here
from tsbench.quiet import quiet_dependencies
from tsbench.search.report import absolute_paths
from tsbench.settings_check import refuse_a_file
from tsbench.tune.commands import StagesStopped, override_key
from tsbench.tune.preflight import compose_command
from tsbench.tune.recipe import run_recipe
from tsbench.tune.settings import RECIPES, load_recipe
from tsbench.tune.state import holds_stages
from tsbench.tuning_files import REPORT_FILE
from tsbench.user_paths import home_in_overrides, user_path


def parse(argv: list[str]) -> tuple[list[str], object, Path]:
    """Split ``argv`` into tsbench overrides, the recipe config and the output folder."""
    name, fields, passthrough = "default", [], []
    out = None
    for arg in argv:
        key, _, value = arg.partition("=")
        if key == "recipe":
            name = value
        elif key.startswith("recipe."):
            fields.append(arg[len("recipe.") :])
        elif key == "out":
            if not value.strip():  # Path("") is the working directory
                raise TsbenchError("out: empty -> give the tuning run's folder (out=DIR), or "
                                   "leave out= off for one named after the command")
            out = user_path(value)
        else:
            passthrough.append(arg)
    refuse_a_file([arg for arg in passthrough if not arg.startswith("-")], "tsbench-tune")
    passthrough = home_in_overrides(passthrough)  # as tsbench reads them
    check_not_owned(passthrough)
    recipe = load_recipe(name)
    unknown = [f.split("=")[0] for f in fields if f.split("=")[0] not in recipe]
    if unknown:
        meant = closest(unknown[0], [str(k) for k in recipe])
        raise TsbenchError(f"recipe.{unknown[0]}: no such field -> " + (
            f"did you mean recipe.{meant}? Else use one of {list(recipe)}" if meant
            else f"use one of {list(recipe)}"))
    return passthrough, OmegaConf.merge(recipe, OmegaConf.from_dotlist(fields)), (
        out or default_out(passthrough, name, fields))


#: Settings the stages set themselves, or need as they set them (a value given would be
#: replaced without a word, or move the folds off the rows (g) scores by): why, and the fix.
#: A more specific key comes before the key it starts with.
OWNED = {
    "trainer.max_epochs": ("every stage sets it", "set recipe.max_epochs"),
    "trainer.patience": ("every stage sets it", "set recipe.patience"),
    "score_test": ("stages (a)-(f) never score the test split, (g) scores it once",
                   "drop it"),
    "cv": ("tsbench-tune decides how its runs are validated: on the validation split, or "
           "with recipe.cv_folds=k on k folds of time-series cross-validation whose last "
           "trains on the published training rows, as (g) scores them",
           "drop it, and set recipe.cv_folds"),
    "hydra/sweeper": ("(d) and (e) run tsbench's skopt sweeper",
                      "drop it: recipe.search sets what they search"),
    "search": ("(d) and (e) search the model's tuning space, and stage (a) would become a "
               "search of its own", "choose the space with recipe.space=<name>"),
    "tune.lr_find": ("(b) runs the range test; a run of any other stage would run its own and "
                     "train at its suggestion, not at the learning rate searched or chosen",
                     "drop it (tune.lr_find_min_lr, _max_lr and _num_training set (b)'s test)"),
    "optim.base_batch_size": ("the searches and refits move the learning rate from the batch "
                              "size the range test (b) ran at", "drop it (optim.lr_scaling "
                              "chooses the rule; the square-root one by default)"),
    "hydra.sweeper.n_jobs": ("(d) and (e) set it", "set recipe.n_jobs"),
    "hydra.sweeper.random_state": ("(d) and (e) set it", "set recipe.random_state"),
    "hydra.sweeper": ("(d) and (e) set their sweeper from the recipe",
                      "drop it: tsbench-tune --help lists the recipe's fields"),
    "hydra.mode": ("each stage runs one run or one sweep, as the recipe says", "drop it"),
    "hydra.run.dir": ("each stage runs in its own folder", "give out=DIR"),
    "hydra.sweep.dir": ("each stage runs in its own folder", "give out=DIR"),
}


#: How long an interrupted tsbench-tune waits for its stage to end on its own.
STAGE_GRACE_SECONDS = 5.0


def check_not_owned(overrides: list[str]) -> None:
    """Refuse an override of a setting the stages set themselves (:data:`OWNED`)."""
    for override in overrides:
        if override in ("-m", "--multirun"):
            raise TsbenchError(f"{override}: tsbench-tune runs its own sweeps -> drop it")
        if override in ("-c", "--cfg"):  # tsbench's: the stages' config is a tsbench one
            raise TsbenchError(f"{override}: tsbench-tune has no {override} -> run tsbench "
                               f"<the same overrides> {override} job to see the config "
                               "every stage composes")
        key = override_key(override)
        if key == "tune.lr_find" and override.split("=", 1)[-1].lower() == "false":
            continue  # what the stages but (b) run with: it turns off a preset's range test
        owner = next((k for k in OWNED if key == k or key.startswith(f"{k}.")), None)
        if owner is not None:
            why, fix = OWNED[owner]
            raise TsbenchError(f"{key}: not a setting of tsbench-tune's command: {why} -> "
                               f"{fix}")


def default_out(overrides: list[str], recipe: str, fields: list[str]) -> Path:
    """``outputs/tune/<dataset>-<model>-<pred_len>-<digest of every argument>``, the dataset,
    model and horizon the overrides compose (an ``experiment=`` preset chooses them too).
    A file written relative or absolute is one argument (:func:`absolute_paths`); a folder
    named by a tsbench that took the path as typed is kept where it holds stages."""
    cfg = compose_command(overrides, hydra_config=True)
    check_interpolations(cfg)  # pred_len=${oops}: its line, not a traceback reading it here
    choices = cfg.hydra.runtime.choices
    prefix = [str(choices.dataset), str(choices.model), str(cfg.pred_len)]

    def folder(arguments: list[str]) -> Path:
        digest = hashlib.sha256("\n".join([recipe, *sorted(fields), *sorted(arguments)])
                                .encode()).hexdigest()[:8]
        return Path("outputs/tune") / "-".join([*prefix, digest])

    as_typed, out = folder(overrides), folder([absolute_paths(o) for o in overrides])
    return as_typed if as_typed != out and holds_stages(as_typed) else out


def usage() -> str:
    """This module's synopsis, the recipes, and every recipe field with its default and
    meaning (``conf/recipe/default.yaml``, commented)."""
    others = [p for p in sorted(RECIPES.glob("*.yaml")) if p.stem != "default"]
    text = [__doc__.replace("``", "").strip(), "",
            "Every recipe field can be set with recipe.<field>=<value>; the defaults "
            "(recipe=default):", "", (RECIPES / "default.yaml").read_text()]
    for path in others:
        text += [f"recipe={path.stem} changes:", "", path.read_text()]
    return "\n".join(text)


class StageLines(RunLines):
    """``[tsbench-tune] ...`` for the progress lines; a warning in every command's form,
    ``tsbench-tune: warning: ...`` (a dependency's naming it: :class:`RunLines`), not
    read as progress."""

    def __init__(self) -> None:
        super().__init__(command="tsbench-tune")

    def head(self, record: logging.LogRecord) -> str:
        return super().head(record) if record.levelno >= logging.WARNING else "[tsbench-tune] "


def main(argv: list[str] | None = None) -> int:
    handler = logging.StreamHandler()
    handler.setFormatter(StageLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    args = sys.argv[1:] if argv is None else argv
    if {"-h", "--help"} & set(args):
        print(usage())
        return 0
    out = None
    try:
        overrides, recipe, out = parse(args)
        with stopped_by_sigterm(out):
            summary = run_recipe(overrides, recipe, out)
    except TsbenchError as exc:
        print(error_lines("tsbench-tune", exc), file=sys.stderr)
        if isinstance(exc, StagesStopped):  # not for a refusal of the command
            print(f"tsbench-tune: what the stages wrote so far is in {out}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: the stage under way stops with it (same group)
        print(stopped_line("interrupted", out), file=sys.stderr)
        return 130
    print((out / REPORT_FILE).read_text())
    if "short_budget" in summary:  # the report's note, where the last lines are read
        print(f"tsbench-tune: warning: {summary['short_budget']}", file=sys.stderr)
    print(f"tsbench-tune: outputs in {out}")
    return 0


def stopped_line(how: str, out: Path | None) -> str:
    """What a stopped ``tsbench-tune`` says: ``how`` it stopped, and where the same command
    again resumes (where a stage wrote anything) or starts (a folder made, no stage begun)."""
    if out is not None and holds_stages(out):
        return (f"tsbench-tune: {how}; what the stages wrote so far is in {out}: the same "
                "command again resumes there")
    if out is not None and out.is_dir():  # made, its first stage not begun
        return f"tsbench-tune: {how}; the same command again starts in {out}"
    return f"tsbench-tune: {how}"


@contextlib.contextmanager
def stopped_by_sigterm(out: Path) -> Iterator[None]:
    """Within: SIGTERM (``kill``, ``timeout``, a scheduler's end of job) ends ``tsbench-tune``
    at once, saying :func:`stopped_line` first; the stage under way stops with it (it watches
    this process, :func:`tsbench.preload.run_module`). At once, not unwinding: an exit would
    wait for that stage, which the signal did not reach, to end on its own. The tuning
    clock's handler, set within, records the time spent first
    (:meth:`tsbench.tune.state.TuneState.clock`)."""

    def stop(signum: int, _frame: object) -> None:
        print(stopped_line(f"stopped by {signal.Signals(signum).name}", out),
              file=sys.stderr, flush=True)
        os._exit(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@quiet_when_stdout_closes
def entry() -> None:
    serve_from_here()  # first: no thread of this process's own yet, no torch computed
    quiet_dependencies()
    # Ctrl-C and kill -INT stop it even where it was started with SIGINT ignored (a
    # background job of a script, a test runner's worker), which Python then keeps ignoring
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = main()
    if code == 130:  # interrupted: a stage the SIGINT did not reach (kill -INT of this
        # process alone) would keep an exit waiting for minutes; one it reached (Ctrl-C:
        # the group) gets a few seconds to close its loggers, then it stops with this one
        deadline = time.monotonic() + STAGE_GRACE_SECONDS
        while multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(OSError):  # a closed pipe
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
