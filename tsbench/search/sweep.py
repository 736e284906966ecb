"""The skopt sweeper: check the search, rebuild a resumed sweep, then run the loop.

The loop itself (schedules, recording each ended trial) is :mod:`tsbench.search.loop`; the
rebuilding of a resumed sweep from its record (what runs again, what is recorded from its
folder, the optimizer's replay) is :mod:`tsbench.search.rebuild`.

Resume contract (``hydra.sweeper.resume=true``, same ``hydra.sweep.dir``):

- the search (space, constraints, pruner, fixed overrides, direction) must be the one in
  ``search.yaml``; a difference stops the sweep before any trial with one message naming
  each, and ``resume=force`` accepts it (:mod:`tsbench.search.definition`): the recorded
  trials it leaves out (outside a narrowed space, or breaking a new constraint) stay in the
  record, untold to the optimizer, counted by reason in one warning;
- the optimizer is rebuilt by telling it every trial in trials.csv, in the groups and
  order the sweep told them, after asking again for the points the sweep asked for, one
  at a time or a batch's in one call (one trial at a time or in batches, the resumed
  sweep proposes what the uninterrupted one would have);
  recorded points are never launched again; ``n_trials`` counts the recorded trials too
  (only trials that ended: finished, pruned or failed; but see ``max_seconds`` and
  ``retry_failed`` below);
- trials that were running when the sweep died (a launch in the record with no end and
  no row) are launched again, once each, into new job directories (under a
  ``hydra.sweep.subdir`` without the job number, which names the dead job's folder again,
  ``<subdir>_job<n>``: :mod:`tsbench.search.job_folder`), before any new point;
  the dead job's directory is left as it is, its launch is marked ``lost`` in the launch
  log and the relaunched trial's row says ``relaunched: job <n> died with the sweep`` (a
  trial a resume had launched again, below, keeps its earlier row until then);
- a trial still running as a SLURM job of its own (noted as it started), or whose job was
  still pending (never started, so noted by none: under submitit_slurm, every job the sweep
  submitted, named by submitit's folders), is waited for until SLURM no longer lists its
  job (:mod:`tsbench.search.slurm_jobs`), then treated as below;
- but such a trial that finished as the sweep died, its result not yet back (its job
  folder holds the ``metrics.json`` of its point written by its own job, which a run
  broken off by a signal or killed never writes), is recorded from that folder (its row
  says ``recorded by the resume: it finished as the sweep died``) and told to the
  optimizer last, not launched again (:mod:`tsbench.search.adopt`); under
  ``schedule=batch``, where its batch had lost trials too, those run again as a batch of
  their own (its other slots idle) and the finished ones are held back to be recorded and
  told with them, as the batch was (:func:`tsbench.search.rebuild.split_batch`);
- trials that ``max_seconds`` stopped short of their budget (``stop_at_max_seconds``: no
  rule judged them) are launched again in the same way: they leave the record and are
  told to the optimizer when their new launch ends, whose row says ``resumed: job <n>
  stopped at max_seconds``;
- ``retry_failed=true`` launches the failed trials again too, once each, in the same way
  (for a fault fixed since: a full disk, a lost node, a bug): they leave the record and
  are not told to the optimizer until their retries end, whose rows say ``retried: job
  <n> failed``;
- job numbers continue after the highest recorded, logged or existing job directory, so
  nothing is overwritten;
- the per-epoch reports stay in the record, so a resumed sweep prunes against the rungs
  its trials reached before.

Warm start (``hydra.sweeper.warm_start=<trials.csv>``) tells the optimizer the trials of
another sweep that lie in this search space; they are not part of this sweep's record, but
where the best of them beats every trial of this sweep, the per-trial ``best=``, the closing
line and best.yaml (``warm_start_best``) say so. Trials of another problem (other data,
horizon or validation) are refused before any trial (:mod:`tsbench.search.warm_check`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, RunMode, TaskFunction
from joblib import effective_n_jobs
from omegaconf import DictConfig, OmegaConf

from tsbench.atomic import remove_leftovers, write_text
from tsbench.counted import counted
from tsbench.errors import ConfigError
from tsbench.folder_lock import held
from tsbench.quiet import joblib_launch_lines_quieted, launches_with_joblib
from tsbench.search import faults, plots, slots
from tsbench.search.adopt import ADOPTED, finished_trial, record_adopted
from tsbench.search.checked import tell_checked, tell_failed
from tsbench.search.constraints import ConstraintSet, build_constraints
from tsbench.search.definition import check_resume, definition, random_state, write_definition
from tsbench.search.elsewhere import key_of_another_option
from tsbench.search.job_folder import JobFolders, NotedFolder, written_subdir
from tsbench.search.loop import Loop, Plotter, Relaunch
from tsbench.search.names import (
    BEST_FILE,
    DEFINITION_FILE,
    LOCK_FILE,
    MULTIRUN_FILE,
    SWEEP_DIR_ENV,
    TRIALS_FILE,
)
from tsbench.search.optimizer import make_optimizer
from tsbench.search.proposer import Proposer
from tsbench.search.rebuild import (
    feasible,
    feasible_only,
    lost_trials,
    on_slurm,
    replay,
    run_again,
    split_batch,
)
from tsbench.search.record import RECORD_DIR, KeptRecord, Launch, Record
from tsbench.search.report import WarmStart, absolute_paths, program, python_path
from tsbench.search.seed_refusal import refuse_seed
from tsbench.search.settings import SweepSettings, check_initial_points, check_settings
from tsbench.search.slurm_jobs import submitted_jobs, wait_while_running
from tsbench.search.space import Scalar, SearchSpace, parse_space
from tsbench.search.subdir_check import check_subdir
from tsbench.search.timing import TimedTask
from tsbench.search.trials import Trial, read_trials, trial_label
from tsbench.search.validate import (
    check_feasible,
    check_keys,
    check_options,
    config_groups,
    fixed_lookup,
)
from tsbench.search.warm_check import check_warm_start

log = logging.getLogger(__name__)

#: The ``_target_`` of hydra/launcher=submitit_slurm (hydra-submitit-launcher).
SUBMITIT_SLURM = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"


class SkoptSweep(Sweeper):
    """Bayesian (or random) search with scikit-optimize over Hydra overrides."""

    def __init__(self, settings: SweepSettings) -> None:
        super().__init__()
        self.settings = settings
        self.sign = -1.0 if settings.direction == "maximize" else 1.0
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.random_state_from = "given"  # or "recorded", "drawn" (definition.random_state)
        self.composed: dict[tuple[str, ...], DictConfig] = {}  # by compose()

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, config=config,
            task_function=TimedTask(NotedFolder(task_function, _record_dir(config))))

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        assert self.config is not None
        space, constraints = self._checked_space(arguments)
        refill = self._refills()
        joblib = launches_with_joblib(self.config)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        os.environ[SWEEP_DIR_ENV] = str(sweep_dir.absolute())  # a stop's line names it
        with (contextlib.ExitStack() as lock,
              joblib_launch_lines_quieted() if joblib else contextlib.nullcontext()):
            if sweep_dir.is_dir():  # before its records are read: another sweep may run there
                lock.enter_context(_held(sweep_dir))
                _remove_leftovers(sweep_dir)
            try:
                return self._sweep(space, constraints, refill, sweep_dir, lock,
                                   log_starts=joblib)
            except Exception:  # too many failures, say: Hydra tells no callback it ended
                assert self.hydra_context is not None
                tell_failed(self.hydra_context.callbacks, self.config)
                raise

    def _sweep(self, space: SearchSpace, constraints: ConstraintSet, refill: bool,
               sweep_dir: Path, lock: contextlib.ExitStack, log_starts: bool
               ) -> list[Sequence[JobReturn]]:
        assert self.config is not None
        s = self.settings
        s.random_state, self.random_state_from = random_state(sweep_dir, s)
        current = definition(space, s)
        record = KeptRecord(sweep_dir / RECORD_DIR)  # its launch log read once
        trials = feasible_only(self._recorded(sweep_dir, space, current, record),
                                constraints)

        folders = JobFolders.of(self.config, sweep_dir, record)

        def finished(launch: Launch, point: list[Scalar], note: str = ADOPTED) -> Trial | None:
            return finished_trial(launch, point, sweep_dir, folders.subdir(launch.job), space,
                                  record, s.pruner.on, note)

        if s.resume:  # a trial still training or pending on SLURM is neither finished nor lost
            folder = _submitit_folder(self.config)
            submitted = dict.fromkeys(submitted_jobs(folder) if folder else ())
            wait_while_running({**submitted, **on_slurm(record, trials)},
                               s.slurm_poll_seconds)
        relaunch, superseded, adopted = (
            lost_trials(record, trials, space, constraints, finished) if s.resume
            else ([], set(), []))
        relaunch, adopted, held = (relaunch, adopted, []) if refill else (
            split_batch(relaunch, adopted, record))
        recorded = trials
        trials, again = run_again([t for t in trials if t.number not in superseded]
                               + [t for t, _ in adopted], s.retry_failed)
        relaunch += again
        if s.warm_start:
            check_warm_start(Path(s.warm_start), self.config, {p.key for p in space.params})
        warm = [t for t in read_trials(Path(s.warm_start), space, strict=False)
                if feasible(t.point, constraints)] if s.warm_start else []
        if s.warm_start:
            log.info("warm start: %s from %s", counted(len(warm), "trial"), s.warm_start)
            check_initial_points(s, len(warm))
        optimizer = make_optimizer(s, space.dimensions, constraints, len(warm))
        proposer = Proposer(optimizer, constraints, s.random_state)
        teller = faults.Teller(optimizer, self.sign, s.log_objective and self.sign > 0)
        for t in warm:
            proposer.mark_seen(t.point)
        teller.tell(warm)  # as the sweep told them: warm-start trials at once, then the rest
        if adopted:  # every check passed: their rows, then their ends, which order the tells
            record_adopted(sweep_dir, record, space, recorded, adopted, s.pruner.on)
        replay(proposer, teller, trials, relaunch, record, [t for t, _ in held])

        if not sweep_dir.is_dir():  # a new sweep: its folder made once every check passed
            sweep_dir.mkdir(parents=True)
            lock.enter_context(_held(sweep_dir))
        # atomic: a start killed (or out of disk) mid-write left it cut short, and every
        # later resume stopped reading it (check_resume)
        write_text(sweep_dir / MULTIRUN_FILE, OmegaConf.to_yaml(self.config))
        write_definition(sweep_dir, current)
        assert self.hydra_context is not None
        tell_checked(self.hydra_context.callbacks, self.config)  # an MLflow parent opens
        self._log_start(space, sweep_dir, len(trials), relaunch, refill,
                        [t for t, _ in held])
        loop = Loop(
            settings=s,
            space=space,
            sweep_dir=sweep_dir,
            record=record,
            launcher=self.launcher,
            validate=self.validate_batch_is_legal,
            compose=self.compose,
            proposer=proposer,
            teller=teller,
            plotter=Plotter(sweep_dir, optimizer, self.sign, s.plot_share, s.plots),
            trials=trials,
            relaunch=relaunch,
            held=held,
            first_job=_next_job(sweep_dir, trials, record),
            refill=refill,
            log_starts=log_starts,
            from_folder=finished,
            folders=folders,
            warm=WarmStart(Path(s.warm_start), tuple(warm)) if s.warm_start else None,
        )
        return loop.run()

    def _checked_space(self, arguments: list[str]) -> tuple[SearchSpace, ConstraintSet]:
        """Parse and check the search space and constraints (all before any trial)."""
        assert self.config is not None and self.hydra_context is not None
        check_settings(self.settings)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        # a file's path as one spelling (absolute), a searched choice's each path too:
        # written relative or absolute, one search (its search.yaml, trials.csv, resume)
        params = {key: absolute_paths(f"{key}={value}").split("=", 1)[1]
                  for key, value in self.settings.params.items()}
        arguments = [absolute_paths(line) for line in arguments]
        space = parse_space(params, arguments, parser)
        check_subdir(written_subdir(self.config), [p.key.lstrip("+") for p in space.params],
                     OmegaConf.select(self.config, "hydra.job.config.override_dirname."
                                      "exclude_keys", default=None) or [],
                     self.settings.n_trials)
        # as written: a line such as hydra.sweep.subdir=${hydra.job.num} is no value to resolve
        hydra_lines = list(map(str, OmegaConf.to_container(self.config.hydra.overrides.hydra,
                                                           resolve=False)))
        refuse_seed([p.key for p in space.params], [*python_path(), program()],
                    [*map(absolute_paths, hydra_lines), *arguments], self.compose)
        loader = self.hydra_context.config_loader
        check_keys(space, self.config, lambda key: key_of_another_option(
            key, self.config, loader.get_group_options, self.compose,
            key in self.settings.params))
        groups = config_groups(self.config)
        check_options(space, groups, self.validate_batch_is_legal)
        constraints = build_constraints(
            self.settings.constraints,
            space.names,
            fixed_lookup(self.config, space),
            swept_groups=[p.name for p in space.params if p.key in groups],
        )
        check_feasible(constraints, space, self.settings.random_state)
        return space, constraints

    def compose(self, overrides: list[str]) -> DictConfig:
        """``overrides`` composed by this sweep's Hydra as its own config was (a multirun's:
        the sweeps left out), once each: best.yaml's seeds command, rewritten after each
        trial, composes the same ones until the best trial changes."""
        assert self.config is not None and self.hydra_context is not None
        key = tuple(overrides)
        if key not in self.composed:
            self.composed[key] = self.hydra_context.config_loader.load_configuration(
                str(self.config.hydra.job.config_name), overrides, RunMode.MULTIRUN)
        return self.composed[key]

    def _refills(self) -> bool:
        """Whether trials start as soon as a slot frees (see :mod:`tsbench.search.slots`)."""
        s = self.settings
        if s.schedule == "batch" or s.n_jobs == 1:
            return False
        in_process = _in_process(self.config)
        if s.schedule == "auto":
            return slots.refills(self.launcher) and in_process is None
        if in_process is not None:
            raise ConfigError(
                "hydra.sweeper.schedule",
                f"refill runs trials side by side, and {in_process} runs them one by one "
                "inside the sweep's own process",
                "use hydra/launcher=joblib with hydra.launcher.n_jobs=2 or more, or "
                "submitit_local, or schedule=batch",
            )
        return True

    def _recorded(
        self, sweep_dir: Path, space: SearchSpace, current: dict, record: Record
    ) -> list[Trial]:
        """The trials of the sweep being resumed (checked against ``current``)."""
        path = sweep_dir / TRIALS_FILE
        s = self.settings
        if not path.exists() and not record.launches():
            if s.resume:
                log.info("resume: no %s in %s, starting a new sweep", TRIALS_FILE, sweep_dir)
            return []
        if not s.resume:
            raise ConfigError(
                "hydra.sweeper.resume",
                f"{sweep_dir} already holds a sweep ({TRIALS_FILE} or {RECORD_DIR}/)",
                "add hydra.sweeper.resume=true to continue it, or choose a new hydra.sweep.dir",
            )
        check_resume(sweep_dir, current, s.resume)
        if not path.exists():
            return []
        # search.yaml matched (or force): a trial outside the space predates a resume=force
        changed = s.resume == "force" or (sweep_dir / DEFINITION_FILE).is_file()
        trials = read_trials(path, space, strict=True, keep_outside=changed)
        log.info("resume: %s recorded in %s", counted(len(trials), "trial"), path)
        return trials

    def _log_start(
        self, space: SearchSpace, sweep_dir: Path, n_recorded: int, relaunch: list[Relaunch],
        refill: bool, held: list[Trial],
    ) -> None:
        s = self.settings
        model = "random" if s.mode == "random" else f"bayes {s.base_estimator}/{s.acq_func}"
        schedule = "refill at once" if refill else "batches"
        if n_recorded >= s.n_trials and not relaunch:
            ended = (f"{n_recorded} of {s.n_trials} trials ended"
                     if n_recorded == s.n_trials else
                     f"{n_recorded} trials ended, n_trials={s.n_trials}")
            log.info("resume: the sweep is complete (%s), so none is launched -> to run "
                     "more trials, raise hydra.sweeper.n_trials", ended)
        log.info(
            "skopt sweep (%s, %s): %d trials, %d initial (%s), %d at once (%s), %s in %s",
            model,
            s.direction,
            s.n_trials,
            s.initial_points,
            s.initial_point_generator,
            s.n_jobs,
            schedule,
            # a resume's failed, cut or lost trials leave the record to run again
            f"{n_recorded} recorded kept, {len(relaunch)} launched again" if relaunch else
            f"{n_recorded} already recorded" if n_recorded else "none recorded",
            sweep_dir,
        )
        if self.random_state_from != "given":
            log.info("  random state %d (%s: hydra.sweeper.random_state=%d repeats this sweep)",
                     s.random_state, self.random_state_from, s.random_state)
        for p in space.params:
            log.info("  %s: %s", p.key, p.dimension)
        for text in s.constraints:
            log.info("  constraint: %s", text)
        if s.pruner.on:
            p = s.pruner
            rungs = f"rungs at epochs {p.min_epochs} x {p.eta}^k" if p.kind == "asha" else (
                f"from epoch {p.min_epochs}")
            top = p.max_epochs if p.max_epochs is not None else "each trial's max_epochs"
            log.info("  pruner %s: %s, below %s", p.kind, rungs, top)
            # a trial's own last epoch ends its judging below any top of the ladder (one
            # above min_epochs: a lower top is refused)
            last = OmegaConf.select(self.config, "trainer.max_epochs", default=None)
            if isinstance(last, int) and last <= p.min_epochs:
                log.warning(
                    "pruner %s stops no trial: its first epoch judged, min_epochs=%d, is not "
                    "below the trials' last, trainer.max_epochs=%d (a trial that reached its "
                    "last epoch ran its full budget) -> lower hydra.sweeper.pruner.min_epochs "
                    "or raise trainer.max_epochs", p.kind, p.min_epochs, last)
        for r in relaunch:
            if r.earlier.lost:
                log.info("  %s was running when the sweep died: launched again",
                         trial_label(r.number, r.earlier.lost[-1]))
            elif r.earlier.failed:
                log.info("  %s failed: launched again", trial_label(r.number,
                                                                  r.earlier.failed[-1]))
            elif r.earlier.cut:
                log.info("  %s was stopped at max_seconds: launched again",
                         trial_label(r.number, r.earlier.cut[-1]))
            else:
                log.info("  trial %d has no row in %s: launched again", r.number, TRIALS_FILE)
        replayed = [r for r in relaunch if r.replays is not None]
        if replayed:
            log.info("  the batch of Hydra job #%d is replayed as it ran: %s again alone, "
                     "then recorded and told with %s, which finished as the sweep died "
                     "(read from %s)", replayed[0].replays, counted(len(replayed), "trial"),
                     ", ".join(trial_label(t.number, t.job) for t in held),
                     ", ".join(str(sweep_dir / t.job_dir) for t in held))
        workers = OmegaConf.select(self.config, "hydra.launcher.n_jobs", default=None)
        if isinstance(workers, int) and workers > s.n_jobs:
            log.info("  hydra.launcher.n_jobs=%d, but hydra.sweeper.n_jobs=%d trials run at "
                     "once: raise hydra.sweeper.n_jobs to use every worker", workers, s.n_jobs)
        in_process = _in_process(self.config)
        if s.n_jobs > 1 and in_process is not None:
            log.info("  %s runs a batch's trials one after another; hydra/launcher=joblib "
                     "with hydra.launcher.n_jobs=%d runs them in parallel", in_process, s.n_jobs)


def _held(sweep_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The lock of ``sweep_dir`` for this sweep's lifetime (two sweeps in one folder would
    take each other's running trials for lost and write the same job folders)."""
    return held(sweep_dir / LOCK_FILE, lambda pid: (
        f"hydra.sweeper: another sweep (pid {pid}) is running in {sweep_dir} -> wait for it "
        f"to end, or stop it (kill -INT {pid}), then resume with the same command and "
        "hydra.sweeper.resume=true"))


def _remove_leftovers(sweep_dir: Path) -> None:
    """Remove the hidden temporary files that a sweep killed while writing its own files
    (trials.csv, best.yaml, the plots, ...) left at the top of ``sweep_dir`` (never under
    its record or job folders, whose writers may be other processes): with the lock held,
    no other sweep writes them."""
    names = (TRIALS_FILE, BEST_FILE, DEFINITION_FILE, MULTIRUN_FILE, *plots.PLOTS)
    removed = remove_leftovers(sweep_dir, names)
    if removed:
        log.info("removed %s left by a killed sweep in %s",
                 counted(len(removed), "temporary file"), sweep_dir)


def _record_dir(config: DictConfig) -> Path:
    """The absolute folder of the sweep's record, for its jobs to write in."""
    return Path(str(config.hydra.sweep.dir)).absolute() / RECORD_DIR


def _submitit_folder(config: DictConfig) -> str | None:
    """``hydra.launcher.submitit_folder``, resolved, where the launcher is submitit_slurm
    (its trials are SLURM jobs that outlive the sweep, pending ones too); else None."""
    launcher = str(OmegaConf.select(config, "hydra.launcher._target_", default=""))
    if launcher != SUBMITIT_SLURM:
        return None
    folder = OmegaConf.select(config, "hydra.launcher.submitit_folder", default=None)
    return None if folder is None else str(folder)


def _in_process(config: DictConfig | None) -> str | None:
    """The launcher, named, where it runs each job inside the calling thread of the sweep's
    process: Hydra's basic launcher, and joblib's with one worker (joblib runs the jobs of
    a single worker in the caller, no worker process: refilled from several threads, the
    trials ran side by side in one process and took each other's Hydra config); None where
    jobs run in processes of their own."""
    launcher = str(OmegaConf.select(config, "hydra.launcher._target_", default=""))
    if launcher.endswith("BasicLauncher"):
        return "the basic launcher"
    workers = OmegaConf.select(config, "hydra.launcher.n_jobs", default=None)
    if launcher.endswith("JoblibLauncher") and isinstance(workers, int) and (
            effective_n_jobs(workers) == 1):
        return f"joblib with hydra.launcher.n_jobs={workers} (one worker)"
    return None


def _next_job(sweep_dir: Path, trials: Sequence[Trial], record: Record) -> int:
    """One past the highest recorded or logged job number and numbered directory."""
    numbers = [t.job for t in trials] + [launch.job for launch in record.launches()]
    if sweep_dir.is_dir():
        numbers += [int(p.name) for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(numbers, default=-1) + 1
