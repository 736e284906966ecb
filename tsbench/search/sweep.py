"""The sweep loop: ask a batch -> launch it -> tell the results -> write the record.

Each batch holds ``n_jobs`` points, proposed together with the constant-liar strategy
and handed to the Hydra launcher in one call, so a parallel launcher (joblib, submitit,
ray) runs them side by side. After every batch the sweep directory gets ``trials.csv``
and ``best.yaml``, and the plots unless redrawing them would take more than
``plot_share`` of the sweep's time so far (they are always drawn when the sweep ends);
every file is written atomically.

Resume (``hydra.sweeper.resume=true``, same ``hydra.sweep.dir``): the optimizer is
rebuilt by telling it every trial recorded in trials.csv; recorded points are never
launched again; job numbers continue after the highest recorded job and the highest
job directory found (so nothing is overwritten); ``n_trials`` counts the recorded
trials too. Warm start (``hydra.sweeper.warm_start=<trials.csv>``) tells the optimizer
the trials of another sweep that lie in this search space; they are not part of this
sweep's record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from tsbench.errors import ConfigError
from tsbench.search import faults, plots, report
from tsbench.search.constraints import ConstraintSet, build_constraints
from tsbench.search.optimizer import make_optimizer
from tsbench.search.proposer import Proposer
from tsbench.search.settings import SweepSettings, check_settings
from tsbench.search.space import SearchSpace, parse_space
from tsbench.search.timing import TimedTask
from tsbench.search.trials import Trial, read_trials, write_trials
from tsbench.search.validate import check_feasible, check_keys, config_groups, fixed_lookup

log = logging.getLogger(__name__)

TRIALS_FILE = "trials.csv"
BEST_FILE = "best.yaml"


class SkoptSweep(Sweeper):
    """Bayesian (or random) search with scikit-optimize over Hydra overrides."""

    def __init__(self, settings: SweepSettings) -> None:
        super().__init__()
        self.settings = settings
        self.sign = -1.0 if settings.direction == "maximize" else 1.0
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Any = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=TimedTask(task_function), config=config
        )

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        assert self.config is not None
        s = self.settings
        space, constraints = self._checked_space(arguments)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        trials = self._recorded(sweep_dir, space)
        warm = read_trials(Path(s.warm_start), space, strict=False) if s.warm_start else []
        if s.warm_start:
            log.info("warm start: %d trials from %s", len(warm), s.warm_start)
        optimizer = make_optimizer(s, space.dimensions, constraints, len(warm) + len(trials))
        proposer = Proposer(optimizer, constraints, s.random_state)
        teller = faults.Teller(optimizer, self.sign, s.log_objective and self.sign > 0)
        _learn([*warm, *trials], proposer, teller)

        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        self._log_start(space, sweep_dir, len(trials))
        job = _next_job(sweep_dir, trials)
        plotter = _Plotter(sweep_dir, optimizer, self.sign, s.plot_share)
        launched: list[Sequence[JobReturn]] = []
        while len(trials) < s.n_trials:
            batch = proposer.ask(min(s.n_jobs, s.n_trials - len(trials)))
            if not batch:
                log.info("search space exhausted after %d trials: every point tried", len(trials))
                break
            results, new = self._launch(space, batch, job, len(trials), sweep_dir)
            launched.append(results)
            job += len(batch)
            trials += new
            _learn(new, proposer, teller)
            write_record(sweep_dir, space, trials, self.sign)
            plotter.maybe_draw(trials)
            self._report(trials, new, plotter.elapsed())
        if trials:
            write_record(sweep_dir, space, trials, self.sign)
            plotter.draw(trials)
        return launched

    def _checked_space(self, arguments: list[str]) -> tuple[SearchSpace, ConstraintSet]:
        """Parse and check the search space and constraints (all before any trial)."""
        assert self.config is not None and self.hydra_context is not None
        check_settings(self.settings)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        space = parse_space(self.settings.params, arguments, parser)
        check_keys(space, self.config)
        groups = config_groups(self.config)
        constraints = build_constraints(
            self.settings.constraints,
            space.names,
            fixed_lookup(self.config, space),
            swept_groups=[p.name for p in space.params if p.key in groups],
        )
        check_feasible(constraints, space, self.settings.random_state)
        return space, constraints

    def _launch(
        self, space: SearchSpace, batch: list[list[Any]], job: int, done: int, sweep_dir: Path
    ) -> tuple[Sequence[JobReturn], list[Trial]]:
        """Run one batch through the launcher; its jobs are numbered from ``job``."""
        overrides = [space.overrides(p) for p in batch]
        self.validate_batch_is_legal(overrides)
        results = self.launcher.launch(overrides, initial_job_idx=job)
        trials = [
            _trial(done + i + 1, job + i, point, result, sweep_dir)
            for i, (point, result) in enumerate(zip(batch, results, strict=True))
        ]
        return results, trials

    def _report(self, trials: list[Trial], new: list[Trial], elapsed: float) -> None:
        """Log one line per new trial, then stop the sweep if too many failed."""
        s = self.settings
        for t in new:
            best = report.best_trial(trials[: t.number], s.direction == "maximize")
            log.info(report.trial_line(t, s.n_trials, best, elapsed))
        failed = [t for t in trials if not t.ok]
        if failed:
            faults.check_failure_rate(
                len(failed), len(trials), s.max_failure_rate, s.initial_points, failed[-1].error
            )

    def _recorded(self, sweep_dir: Path, space: SearchSpace) -> list[Trial]:
        path = sweep_dir / TRIALS_FILE
        if not path.exists():
            if self.settings.resume:
                log.info("resume: no %s in %s, starting a new sweep", TRIALS_FILE, sweep_dir)
            return []
        if not self.settings.resume:
            raise ConfigError(
                "hydra.sweeper.resume",
                f"{sweep_dir} already holds a sweep ({TRIALS_FILE})",
                "add hydra.sweeper.resume=true to continue it, or choose a new hydra.sweep.dir",
            )
        trials = read_trials(path, space, strict=True)
        log.info("resume: %d trials recorded in %s", len(trials), path)
        return trials

    def _log_start(self, space: SearchSpace, sweep_dir: Path, n_recorded: int) -> None:
        s = self.settings
        model = "random" if s.mode == "random" else f"bayes {s.base_estimator}/{s.acq_func}"
        log.info(
            "skopt sweep (%s, %s): %d trials, %d initial (%s), %d per batch, %s in %s",
            model,
            s.direction,
            s.n_trials,
            s.initial_points,
            s.initial_point_generator,
            s.n_jobs,
            f"{n_recorded} already recorded" if n_recorded else "none recorded",
            sweep_dir,
        )
        for p in space.params:
            log.info("  %s: %s", p.key, p.dimension)
        for text in s.constraints:
            log.info("  constraint: %s", text)
        launcher = str(OmegaConf.select(self.config, "hydra.launcher._target_", default=""))
        if s.n_jobs > 1 and launcher.endswith("BasicLauncher"):
            log.info(
                "  the basic launcher runs a batch's trials one after another; "
                "hydra/launcher=joblib runs them in parallel"
            )


def _learn(trials: Sequence[Trial], proposer: Proposer, teller: faults.Teller) -> None:
    """Never propose these points again, and tell the optimizer their results."""
    for t in trials:
        proposer.mark_seen(t.point)
    teller.tell(trials)


def write_record(sweep_dir: Path, space: SearchSpace, trials: list[Trial], sign: float) -> None:
    """trials.csv and best.yaml, each written atomically."""
    write_trials(sweep_dir / TRIALS_FILE, trials, space)
    report.write_best(sweep_dir / BEST_FILE, space, trials, sign < 0)


class _Plotter:
    """Redraws the plots while that takes at most ``share`` of the sweep's wall time."""

    def __init__(self, sweep_dir: Path, optimizer: Any, sign: float, share: float) -> None:
        self.sweep_dir, self.optimizer, self.sign, self.share = sweep_dir, optimizer, sign, share
        self.start = time.perf_counter()
        self.seconds = 0.0  # spent drawing so far
        self.drawn_for = -1  # number of trials the current plots show

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def maybe_draw(self, trials: list[Trial]) -> None:
        if self.seconds <= self.share * self.elapsed():
            self.draw(trials)

    def draw(self, trials: list[Trial]) -> None:
        if self.drawn_for == len(trials):
            return
        start = time.perf_counter()
        plots.write_plots(self.sweep_dir, trials, self.optimizer, self.sign)
        self.seconds += time.perf_counter() - start
        self.drawn_for = len(trials)


def _trial(number: int, job: int, point: list[Any], result: JobReturn, sweep_dir: Path) -> Trial:
    outcome = faults.outcome_of(result, f"trial {number} (job {job})")
    return Trial(
        number=number,
        job=job,
        point=point,
        objective=outcome.objective,
        seconds=outcome.seconds,
        job_dir=_job_dir(result, sweep_dir),
        error=outcome.error,
    )


def _job_dir(result: JobReturn, sweep_dir: Path) -> str:
    output = OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir", default=None)
    if output is None:
        return ""
    path = Path(str(output))
    try:
        return str(path.relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(path)


def _next_job(sweep_dir: Path, trials: Sequence[Trial]) -> int:
    """One past the highest recorded job number and numbered directory in the sweep."""
    numbers = [t.job for t in trials]
    numbers += [int(p.name) for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(numbers, default=-1) + 1
