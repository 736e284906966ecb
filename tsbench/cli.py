"""``tsbench``: one forecasting run (or, with ``-m``, a Hydra multirun sweep)."""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.types import ValueType
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from tsbench.closed_stdout import quiet_when_stdout_closes
from tsbench.config_values import check_interpolations
from tsbench.errors import Checks, ConfigError, TsbenchError, error_lines
from tsbench.folder_lock import held, removed
from tsbench.help_searchpath import HELP_SEARCHPATH, help_searchpath
from tsbench.hidden_configs import check_hidden_configs, searchpath_of
from tsbench.hydra_private import known_config, known_mode, parse_each_config_once
from tsbench.log_lines import COMMAND_WARNINGS_ENV, into_log_files
from tsbench.multirun_resume import RESUME_FIX
from tsbench.preset_check import preset_beats_option, preset_replaced
from tsbench.quiet import launches_with_joblib, quiet_dependencies
from tsbench.resolvers import register_resolvers
from tsbench.resume_check import check_resume_folder, check_resumed_data
from tsbench.rundir import METRICS, RUN_LOCK, SCORES, figures, remove_refused
from tsbench.said_once import SAID_ONCE_ENV, said_once
from tsbench.search.names import (
    LOCK_FILE,
    MULTIRUN_FILE,
    REFIT_IN_SEARCH,
    SWEEP_DIR_ENV,
    TRIALS_FILE,
    is_search,
)
from tsbench.search.record import RECORD_DIR
from tsbench.settings_check import (
    check_params_unquoted,
    check_settings,
    check_sweeper_params,
    command_overrides,
    missing_searchpath,
    near_setting,
    parse_each,
    refuse_a_file,
    target_not_alone,
    unread_additions,
)
from tsbench.sweep_watch import (
    end_children,
    exit_with_sweep,
    has_children,
    mark_sweep_process,
)
from tsbench.tracking.mlflow_store import check_store, chosen_uri
from tsbench.user_paths import home_in_overrides

register_resolvers()
parse_each_config_once()  # the check's composition and Hydra's, and each job's in a sweep


#: The environment variable naming the deepest folder of a run's (a multirun's) that existed
#: before the command: a refused run leaves that one in place (:func:`holding`).
FOUND_DIR_ENV = "TSBENCH_FOUND_DIR"


def parallel_jobs() -> int:
    """How many trials the configured launcher runs at once (for thread sharing)."""
    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return 1
    n_jobs = hc.launcher.get("n_jobs") if "launcher" in hc else None
    if isinstance(n_jobs, int) and n_jobs != 0:
        from tsbench.training.threads import usable_cores

        return n_jobs if n_jobs > 0 else max(1, usable_cores() + 1 + n_jobs)  # as joblib counts
    return 1


def job_prefix(job: int | None) -> str:
    """``tsbench: `` for a run, ``tsbench: job 3: `` for a job of a multirun: its jobs' lines
    may interleave (a parallel launcher's), so each names its job."""
    return "tsbench: " if job is None else f"tsbench: job {job}: "


def summary(run_dir: Path, metrics: dict, job: int | None = None) -> str:
    """The line a finished run prints: its scores and epochs (its folder was said as it
    started: :func:`job_prefix`'s ``outputs in``)."""
    scores = figures(metrics)
    epochs = f"epochs={metrics['epochs']}"
    if metrics.get("pruned"):  # stopped by a pruning sweep (tsbench.training.pruning)
        scores = f"pruned  objective={metrics['objective']:.4f}"
    elif not any(k in metrics for k in SCORES):  # cv=refit score_test=false: a model to use
        epochs += f"\ntsbench: `tsbench-forecast {run_dir}` forecasts with its model"
    if "cv_folds" in metrics:  # cross-validation: every fold's training (and the refit's)
        refit = " + refit" if "refit_epochs" in metrics else ""
        epochs += f" (summed over {len(metrics['cv_folds'])} folds{refit})"
    return f"{job_prefix(job)}{scores}  {epochs}"


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
@quiet_when_stdout_closes  # inside Hydra, which reports a task's error as a traceback
def main(cfg: DictConfig) -> float:
    """Run one configuration and return its validation objective to Hydra (NaN for a
    refit: a search records such trials as failed)."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun:  # before the heavy imports, seconds in a new worker that a Ctrl-C broke off
        exit_with_sweep()  # in a launcher's worker: no orphan trial when the sweep is killed
    from tsbench.training.run import run  # heavy imports after Hydra parsed the command line

    quiet_dependencies()  # again: a launcher's worker process has its own filters and loggers
    into_log_files(json.loads(os.environ.get(COMMAND_WARNINGS_ENV, "[]")))
    job = HydraConfig.get().job.num if multirun else None

    def started() -> None:  # as training begins, not with the scores: a long run's
        print(f"{job_prefix(job)}outputs in {run_dir}", flush=True)  # logs are to watch
    try:
        check_refit(cfg, multirun, HydraConfig.get().sweeper)
        side_by_side = parallel_jobs()
        if side_by_side > 1:  # their progress bars would interleave on one terminal
            cfg.trainer.progress_bar = False
        metrics = run(cfg, run_dir, parallel_jobs=side_by_side, started=started)
    except Stopped as stopped:
        end_progress_bar(cfg)  # before the stopped line
        if not multirun:
            stopped.run_dir = run_dir
        raise
    except TsbenchError as exc:
        if multirun and records_failures(HydraConfig.get().sweeper):
            raise  # the sweeper records the failed trial and goes on
        remove_refused(run_dir, f"{HydraConfig.get().job.name}.log",  # no half-written
                       Path(os.environ[FOUND_DIR_ENV]) if FOUND_DIR_ENV in os.environ  # results
                       else None)
        if multirun:  # said now; Hydra's sweeper runs the other jobs, then stops on this
            said = f"tsbench: error: job {HydraConfig.get().job.num}: {exc}"
            print(said, file=sys.stderr, flush=True)
            raise JobRefused(f"{said} (the first job refused; the sweep tried every other "
                             "job, and those that ended keep their folders)") from None
        end_progress_bar(cfg)
        if run_dir.is_dir():  # it holds what the run wrote before failing (its logs)
            print(f"tsbench: the failed run's folder is kept: {run_dir}", file=sys.stderr)
        print(f"tsbench: error: {exc}", file=sys.stderr)
        raise Refused(2, run_dir) from None
    print(summary(run_dir, metrics, job), flush=True)
    objective = metrics["objective"]  # None for cv=refit, which has no validation split
    return math.nan if objective is None else float(objective)


def end_progress_bar(cfg: DictConfig) -> None:
    """End the progress bar's line on stdout: a line said after it (``tsbench: error: ...``
    on stderr, the same terminal or log) would otherwise start in the middle of it, where
    a reader or ``grep '^tsbench'`` misses it. Only where a bar's line is open: a run
    refused before training drew none, and its stdout stays empty."""
    from tsbench.training.module import LossProgressBar  # imported with the run already

    if cfg.trainer.get("progress_bar") and LossProgressBar.line_open:
        print(flush=True)


class Refused(SystemExit):
    """A run refused for bad input (exit status 2), with the folder Hydra named for it: the
    folders made for that one are removed where empty (:func:`holding`)."""

    def __init__(self, code: int, run_dir: Path) -> None:
        super().__init__(code)
        self.run_dir = run_dir


class JobRefused(CompactHydraException):
    """A job refused for bad input in a sweep that does not record failed jobs (Hydra's
    basic sweeper): Hydra ends the sweep with this one line, not a traceback."""


def records_failures(sweeper: DictConfig) -> bool:
    """Whether the sweeper records a failed trial and goes on (tsbench's skopt sweeper)."""
    return str(sweeper.get("_target_", "")).endswith("SkoptSweeper")


def check_refit(cfg: DictConfig, multirun: bool, sweeper: DictConfig) -> None:
    """Refuse ``cv=refit`` in a search: a refit has no validation split to optimize (a plain
    multirun over seeds, Hydra's basic sweeper, may refit); and ``cv.refit``, which scores
    the test split, where the search's trials do not."""
    if not is_search(multirun, sweeper):
        return
    if cfg.cv.name == "refit":
        raise ConfigError("cv", "refit has no validation split, so a search has nothing "
                          "to optimize", "search with cv=holdout or cv=tscv, then refit "
                          "the configuration it chose with cv=refit")
    if cfg.cv.get("refit") and cfg.score_test is None:
        raise ConfigError("cv.refit", *REFIT_IN_SEARCH)


#: List-valued settings whose shipped default is null, so the config cannot say they take one.
NULL_LISTS = ("dataset.columns",)


def sweep_in_a_run(line: str, overrides: list[str]) -> str:
    """The error of a sweep (``line``) in a single run. A comma list of a setting that takes
    a list (``dataset.columns=a,b``) was most likely meant as one: its list, quoted for
    the shell, is the first fix."""
    (override,) = parse_each([line])
    said = f"{line} is a sweep, and a single run takes one value -> "
    fix = "run the sweep with tsbench -m ..., or give one value"
    key = override.key_or_group
    if override.value_type != ValueType.SIMPLE_CHOICE_SWEEP:
        return said + fix
    if key not in NULL_LISTS:
        rest = check_settings([o for o in overrides if o != line])
        if not isinstance(OmegaConf.select(rest, key, default=None), ListConfig):
            return said + fix
    listed = shlex.quote(f"{key}=[{line.split('=', 1)[1]}]")
    return f"{said}{key} takes a list: did you mean {listed}? Else {fix}"


def check_command_line(argv: list[str]) -> Checked:
    """Before Hydra makes any folder: a misspelt setting (:func:`check_settings`; a ``+``
    addition tsbench never reads is a warning), a config of the search path that tsbench's
    own hides (:func:`check_hidden_configs`), a search over the seed (first, so that its
    refusal is all the command says: :func:`tsbench.search.seed_refusal.refuse_seed_first`), a
    sweep without ``-m``, a run or plain multirun into a search's folder, a search resumed
    on a CSV file that changed (:func:`check_resumed_data`), and, in a multirun, a search
    over refits, values no job could run (:func:`check_sweep`) and an MLflow server that
    does not answer, which would otherwise fail job by job. Skipped for ``--help``, shell
    completion, and another config path or name. Returns what the command runs (``run``,
    ``multirun`` or ``search``; None where not known), for a run or plain multirun the
    folder it names (:func:`named_folder`), and ``hydra.mode`` as Hydra reads it where the
    check's config tells it (:func:`hydra_mode`)."""
    args = command_overrides(argv)
    if args is None:
        return Checked(None)
    refuse_a_file(list(args.overrides), "tsbench")
    cfg = check_settings(list(args.overrides))
    if cfg is None:  # Hydra says why, but for sweeper params it cannot take (a traceback)
        check_sweeper_params(list(args.overrides))
        return Checked(None)
    composed = run_config(args, cfg)  # before the checks below read it
    mode = hydra_mode(cfg, list(args.overrides))
    check_params_unquoted(list(args.overrides))
    check_hidden_configs(searchpath_of(cfg))
    multirun = args.multirun or cfg.hydra.mode == RunMode.MULTIRUN
    if not multirun:  # before the warnings that read values; a sweep's value that cannot
        check_interpolations(cfg)  # resolve is its trial's to say
    if multirun and records_failures(cfg.hydra.sweeper):  # before the command's warnings
        from tsbench.search.report import absolute_paths, program, python_path
        from tsbench.search.seed_refusal import refuse_seed_first

        refuse_seed_first(cfg, [absolute_paths(o) for o in args.overrides],
                          [*python_path(), program()])
    for line in unread_additions(list(args.overrides), cfg):
        key, _, value = line.lstrip("+").partition("=")
        near = near_setting(list(args.overrides), key)
        meant = f"did you mean {shlex.quote(f'{near}={value}')}? Else " if near else ""
        command_warning(f"{line} adds a setting tsbench reads nowhere: it changes nothing "
                        "but the run's saved config (a report then shows it as a cell of its "
                        f"own) -> {meant}drop it, or check its spelling (tsbench --cfg job "
                        "shows every setting)")
    for said in [*preset_replaced(list(args.overrides), cfg),
                 *preset_beats_option(list(args.overrides), cfg),
                 *target_not_alone(list(args.overrides), cfg)]:
        command_warning(said)
    swept = [line for line, override in zip(args.overrides, parse_each(args.overrides),
                                            strict=True) if override.is_sweep_override()]
    if swept and not multirun:
        raise TsbenchError(sweep_in_a_run(swept[0], list(args.overrides)))
    check_refit(cfg, multirun, cfg.hydra.sweeper)
    search = is_search(multirun, cfg.hydra.sweeper)
    if not search and not args.cfg:  # --cfg prints the config and writes nothing
        check_not_over_other_runs(cfg, multirun)
    if multirun:
        if not args.cfg:  # --cfg prints the config and resumes nothing
            check_resume_folder(cfg)
        from tsbench.sweep_check import check_sweep, fixed_params  # imports torch

        refused, warnings = Checks(), []  # every refusal of the sweep at once
        with refused.check():
            warnings = check_sweep(cfg, list(args.overrides))
        if records_failures(cfg.hydra.sweeper):  # its sweeper's settings (checked again
            from tsbench.search.settings import check_sweeper_config  # there, then passed)

            with refused.check(), contextlib.suppress(OmegaConfBaseException):  # unresolved:
                check_sweeper_config(cfg.hydra.sweeper)  # the sweeper's to say
        if search:
            with refused.check():
                check_resumed_data(cfg, {override.key_or_group for override in
                                         parse_each(swept)}
                                   | set(cfg.hydra.sweeper.get("params") or {}))
        if cfg.logger.name == "mlflow":  # else every job would find out on its own
            with refused.check():
                check_store(chosen_uri(cfg.logger.tracking_uri) or "")
        refused.raise_all()
        for said in [*warnings, *fixed_params(cfg, list(args.overrides))]:
            command_warning(said)
    elif cfg.logger.name == "mlflow" and not args.cfg:  # else after reading the data
        check_store(chosen_uri(cfg.logger.tracking_uri) or "")
    kind = "multirun" if multirun else "run"
    joblib = multirun and launches_with_joblib(cfg)
    if search or args.cfg:  # a sweeper holds its folder itself; --cfg writes no folder
        return Checked("search" if search else kind, mode=mode, joblib=joblib)
    folder = named_folder(cfg, multirun)
    return Checked(kind, folder, lambda: check_not_over_other_runs(cfg, multirun),
                   *planned(cfg, multirun), mode=mode,
                   composed=None if multirun else composed, joblib=joblib)


def run_config(args: argparse.Namespace, cfg: DictConfig) -> KnownConfig | None:
    """The config the check composed (``cfg``), copied for Hydra's run of the same command
    line to take (:func:`tsbench.hydra_private.known_config`) instead of composing it again:
    a config that leaves ``hydra.mode`` unset, as Hydra composes it for a run (with
    ``hydra.mode=RUN`` added to the command line). None where Hydra's composition would
    differ or say more: ``-m``, ``--cfg`` (Hydra composes its config another way), a mode
    the config sets, and a ``hydra.searchpath`` folder that is missing (Hydra's composition
    warns of it; the check's keeps quiet)."""
    if (args.multirun or args.cfg or OmegaConf.is_interpolation(cfg.hydra, "mode")
            or cfg.hydra.mode is not None or missing_searchpath(list(args.overrides))):
        return None
    config = copy.deepcopy(cfg)
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.mode = RunMode.RUN
        config.hydra.overrides.hydra.append(RUN_MODE)
    return KnownConfig([*args.overrides, RUN_MODE], config)


#: What Hydra adds to a command line whose config leaves ``hydra.mode`` unset, to run it once.
RUN_MODE = "hydra.mode=RUN"


def command_warning(said: str) -> None:
    """Print a warning about the command, said before Hydra runs its job(s), and keep it
    for the jobs' log files (:data:`~tsbench.log_lines.COMMAND_WARNINGS_ENV`), where a
    run's own warnings are: a job folder's log then holds every warning of its run."""
    print(f"tsbench: warning: {said}", file=sys.stderr)
    kept = json.loads(os.environ.get(COMMAND_WARNINGS_ENV, "[]"))
    os.environ[COMMAND_WARNINGS_ENV] = json.dumps([*kept, said])


class KnownMode(NamedTuple):
    """``hydra.mode`` (None where the config leaves it unset) that Hydra's ``get_mode``
    reads for the command line ``overrides``."""

    overrides: list[str]
    mode: RunMode | None


class KnownConfig(NamedTuple):
    """The config Hydra composes of a run's command line ``overrides``."""

    overrides: list[str]
    config: DictConfig


class Checked(NamedTuple):
    """What :func:`check_command_line` found the command runs, the folder it names and the
    check of that folder's finished runs, to repeat once it holds the folder; the run's or
    multirun's folder as resolved now and the deepest folder above it that exists now
    (:func:`planned`); ``hydra.mode`` as Hydra will read it, where known
    (:func:`hydra_mode`); a run's config as Hydra composes it (:func:`run_config`); whether
    a multirun launches its jobs in joblib's workers."""

    kind: str | None
    folder: Path | None = None
    recheck: Callable[[], None] = lambda: None
    plan: Path | None = None
    existing: Path | None = None
    mode: KnownMode | None = None
    composed: KnownConfig | None = None
    joblib: bool = False


def hydra_mode(cfg: DictConfig, overrides: list[str]) -> KnownMode | None:
    """``hydra.mode`` as Hydra's ``get_mode`` reads it for ``overrides`` (composing the
    whole config again, only for that), taken from ``cfg``: the config the check composed
    of them, each sweep at its first value. ``get_mode`` leaves the sweeps out instead, so
    where a sweep could change the mode, None (Hydra composes it): a swept config group
    (its first option may set the mode, a search preset does) or Hydra setting, or a mode
    given by an interpolation."""
    groups = set(OmegaConf.select(cfg, "hydra.runtime.choices", default={}) or {})
    for override in parse_each(overrides):
        if override.is_sweep_override() and (
                override.is_hydra_override() or override.package is not None
                or override.key_or_group in groups or "/" in override.key_or_group):
            return None
    if OmegaConf.is_interpolation(cfg.hydra, "mode"):
        return None
    return KnownMode(list(overrides), cfg.hydra.mode)


def planned(cfg: DictConfig, multirun: bool) -> tuple[Path | None, Path | None]:
    """``hydra.run.dir`` (``hydra.sweep.dir``) resolved now, a moment before Hydra does, and
    the deepest folder above it that exists: the folders below that one are this command's
    to make (the default ``outputs/runs/<day>/<time>`` in a new working directory:
    ``outputs/``, ``runs/`` and the day's folder). Both None where it cannot be resolved
    here (a ``${hydra:...}`` value: Hydra's own)."""
    try:
        folder = Path(str((cfg.hydra.sweep if multirun else cfg.hydra.run).dir)).absolute()
    except Exception:  # noqa: BLE001 (a resolver not at hand here: Hydra's to resolve)
        return None, None
    return folder, next(p for p in (folder, *folder.parents) if p.exists())


def named_folder(cfg: DictConfig, multirun: bool) -> Path | None:
    """The ``hydra.run.dir`` (``hydra.sweep.dir`` of a multirun) that the command names, as
    Hydra will resolve it; None for one named by its start time (the default's
    ``${now:...}``, to the microsecond: each command's own) or by a Hydra value known only
    once Hydra runs (``${hydra.job.name}``, ``${hydra:...}``); ``${hydra.job.override_dirname}``
    and the like resolve here as Hydra will."""
    node = cfg.hydra.sweep if multirun else cfg.hydra.run
    written = str(OmegaConf.to_container(node, resolve=False).get("dir"))
    if any(part in written for part in ("${now:", "${hydra:", "hydra.job.name")):
        return None
    try:
        return Path(str(node.dir))
    except Exception:  # noqa: BLE001 (a resolver not at hand here: Hydra's to resolve)
        return None


@contextlib.contextmanager
def holding(checked: Checked) -> Iterator[None]:
    """Hold the lock of the folder a run or plain multirun names while it writes there: a
    second command into it, started meanwhile, is refused naming the first's pid, where
    it used to overwrite the first's files (its finished-run check runs before either has
    finished; it is repeated once the lock is held). A folder made here, and each parent
    made for it, that holds nothing but the lock at the end (Hydra refused the command, or
    the run removed what it wrote) is removed; for a folder Hydra names, the folders made
    for it that are empty at the end (:func:`remove_made`): a refused run's, whose folder
    it removed, or a multirun's whose jobs were all refused."""
    if checked.existing is None:
        os.environ.pop(FOUND_DIR_ENV, None)
    else:  # a refused run in a folder found in place leaves it there (rundir.remove_refused)
        os.environ[FOUND_DIR_ENV] = str(checked.existing)
    folder = checked.folder
    if folder is None:
        os.environ.pop(SWEEP_DIR_ENV, None)  # the sweeper's to set: the folder it made
        made = checked.plan
        try:
            yield
        except Refused as refused:
            made = refused.run_dir  # Hydra's own: the day may have turned since the plan
            raise
        finally:
            if checked.kind == "multirun" and os.environ.get(SWEEP_DIR_ENV):
                made = Path(os.environ[SWEEP_DIR_ENV])
            remove_made(made, checked.existing)
        return
    key = "hydra.sweep.dir" if checked.kind == "multirun" else "hydra.run.dir"
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / (LOCK_FILE if checked.kind == "multirun" else RUN_LOCK)
    with held(lock, lambda pid: (
            f"{key}: another tsbench (pid {pid}) is writing into {folder} -> wait for it to "
            f"end, or give another {key}")):
        try:
            checked.recheck()  # a run that finished while this command was checked
            yield
        finally:
            remove_made(folder, checked.existing, lock)  # the lock released after it


def remove_made(folder: Path | None, existing: Path | None, lock: Path | None = None
                ) -> None:
    """Remove ``folder``, made by this command, where it holds nothing but a multirun's
    ``multirun.yaml`` and ``lock``, its lock, which this command holds (a refused run
    removed what it wrote, each job of a multirun was refused), then each folder above it
    where empty, up to ``existing``: it existed before the command, and stays with all
    above it (``folder`` itself emptied of those files where it is ``existing``).

    The other files go first, while the lock, still at its path, refuses a second command
    into the folder; then the lock, marked first (:func:`tsbench.folder_lock.removed`),
    which the caller releases once the folders are gone. A command that opened the lock
    file before and locks it after sees the mark and makes the folder and a new lock again;
    one that makes a new lock meanwhile keeps the folder, which only an empty one's
    ``rmdir`` removes. A lock file this command does not hold (a sweep's, released) keeps
    the folder: another process may hold it now, and removing it is
    :mod:`tsbench.folder_lock`'s race."""
    if folder is None or existing is None:
        return
    folder = folder.absolute()
    lock = None if lock is None else lock.absolute()
    for made in (folder, *folder.parents):  # deepest first, until one is not empty
        if made == folder and made.is_dir() and not made.is_symlink():
            entries = list(made.iterdir())
            if all(p.name == MULTIRUN_FILE or p == lock for p in entries):
                for path in entries:
                    if path != lock:
                        path.unlink()
                if lock in entries:
                    removed(lock)
        if made == existing or made in existing.parents:
            return
        try:
            made.rmdir()
        except FileNotFoundError:  # never made, or a refused run's own, removed
            continue
        except OSError:
            return


def check_not_over_other_runs(cfg: DictConfig, multirun: bool) -> None:
    """Refuse a run or plain multirun whose folder holds a search's record: its job folders
    (0/, 1/, ...) or files would overwrite the trials that trials.csv and best.yaml name;
    and one whose folder holds a finished run (a multirun's: in a job folder): its files
    would mix with the new run's (a model's checkpoint beside a baseline's metrics), unless
    the multirun resumes (``hydra.sweeper.resume``: :mod:`tsbench.multirun_resume` checks
    its jobs). The folder is :func:`named_folder`'s."""
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    folder = named_folder(cfg, multirun)  # the folder the lock holds, by the same rule
    if folder is None:  # each command's own, or known to Hydra alone
        return
    kind = "multirun" if multirun else "run"
    if (folder / TRIALS_FILE).is_file() or (folder / RECORD_DIR).is_dir():
        raise ConfigError(key, f"{folder} holds a search's record ({TRIALS_FILE}, "
                          f"{RECORD_DIR}/): this {kind} would overwrite the folders of the "
                          "trials it names", f"give a new {key}")
    if multirun and cfg.hydra.sweeper.get("resume"):  # the sweeper's to check, job by job
        return
    for metrics in [folder / METRICS] if not multirun else _job_metrics(cfg, folder):
        if metrics.is_file():
            raise ConfigError(key, f"{metrics.parent} holds a finished run ({METRICS}): this "
                              f"{kind} would mix its files with that run's",
                              RESUME_FIX if multirun and "resume" in cfg.hydra.sweeper
                              else f"give a new {key}, or delete that folder first")


def _job_metrics(cfg: DictConfig, folder: Path) -> list[Path]:
    """The finished jobs' metrics a multirun into ``folder`` would write over: with job
    folders named by their number (``hydra.sweep.subdir`` holding ``${hydra.job.num}``,
    Hydra's 0/, 1/, ..., which a new multirun numbers from 0 again), any there. Job folders
    named by their values (``seed_${seed}``, as tsbench-tune's refits run only the seeds
    not yet finished) are the command's to keep apart."""
    subdir = str(OmegaConf.to_container(cfg.hydra.sweep, resolve=False).get("subdir"))
    if "hydra.job.num" not in subdir or not folder.is_dir():
        return []
    return sorted(folder.glob(f"*/{METRICS}"))


class Stopped(SystemExit):
    """tsbench stopped by a signal, with the shell's exit status for it (128 + its number):
    not Lightning's exit 0 after SIGTERM, which a cluster's requeue takes for success; a
    run's folder, once known (``run_dir``), for the line that says so."""

    run_dir: Path | None = None


def stop_on_signals(kind: str | None) -> None:
    """SIGTERM and SIGINT stop this run or sweep with :class:`Stopped`; a sweep whose
    trials run in worker processes (joblib, submitit_local) ends at once instead, its
    workers killed first (:func:`tsbench.sweep_watch.end_children`): waiting for them would
    train their trials to the end and then lose them, unrecorded, and none starts or writes
    a job after the stop line (a trial killed mid-run leaves no metrics.json: a resume runs
    it again)."""

    def stop(signum: int, _frame: object) -> None:
        if has_children():
            end_children()
            print(stopped_line(signum, kind), file=sys.stderr, flush=True)
            os._exit(128 + signum)
        raise Stopped(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):  # Lightning's handler calls this one too
        signal.signal(signum, stop)


def stopped_line(signum: int, kind: str | None, run_dir: Path | None = None) -> str:
    """``tsbench: stopped by SIGTERM: ...``: what the stopped command left (:data:`LEFT`),
    the sweep's or the run's folder named where it is known."""
    left = LEFT.get(kind or "", LEFT["run"])
    if kind in ("search", "multirun") and os.environ.get(SWEEP_DIR_ENV):
        left = left.replace("the same command", "the same command, "
                            f"hydra.sweep.dir={os.environ[SWEEP_DIR_ENV]}")
    if run_dir is not None:
        left = left.replace("the run did not", f"the run in {run_dir} did not")
    return f"tsbench: stopped by {signal.Signals(signum).name}: {left}"


#: What a stopped command left, by what it ran (check_command_line's answer).
LEFT = {
    "search": "the sweep's folder keeps its ended trials -> resume it with the same command "
              "and hydra.sweeper.resume=true",
    "multirun": "the jobs that ended kept their outputs -> resume it with the same command "
                "and hydra.sweeper.resume=true (its finished jobs are not run again)",
    "run": "the run did not finish (no metrics.json) -> run it again",
}


@quiet_when_stdout_closes
def entry() -> None:
    os.environ.pop(COMMAND_WARNINGS_ENV, None)  # this command's alone (command_warning)
    os.environ.pop(SAID_ONCE_ENV, None)  # and a sweep's lines said, its own (said_once)
    quiet_dependencies()
    mark_sweep_process()
    sys.argv[1:] = home_in_overrides(sys.argv[1:])  # before Hydra parses them
    HELP_SEARCHPATH[:] = help_searchpath(sys.argv[1:])  # --help lists their groups too
    try:
        checked = check_command_line(sys.argv[1:])
        folder = contextlib.ExitStack()
        folder.enter_context(holding(checked))
        if checked.mode is not None:  # Hydra need not compose the config again to read it
            folder.enter_context(known_mode("config", *checked.mode))
        if checked.composed is not None:  # nor to run it
            folder.enter_context(known_config("config", *checked.composed))
    except TsbenchError as exc:
        print(error_lines("tsbench", exc), file=sys.stderr)
        sys.exit(2)
    kind = checked.kind
    if kind in ("search", "multirun"):  # its jobs say each warning line once on the terminal
        folder.enter_context(said_once())
    stop_on_signals(kind)
    if checked.joblib:  # before the sweep starts: its workers then fork, imports made here
        from tsbench.preload import fork_joblib_workers

        fork_joblib_workers()
    try:
        with folder:
            main()
    except Stopped as stopped:
        print(stopped_line(int(stopped.code) - 128, kind,  # type: ignore[arg-type]
                           getattr(stopped, "run_dir", None)), file=sys.stderr)
        raise
    except ValueError as exc:  # Hydra's own refusal of its flags (-m with --cfg)
        if not str(exc).startswith("Only one of --run"):
            raise
        print(f"tsbench: error: {exc} -> drop -m to print the config", file=sys.stderr)
        sys.exit(2)
