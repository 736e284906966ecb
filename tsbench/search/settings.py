"""The sweeper's settings (``hydra.sweeper.*``) and their validation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from tsbench.errors import ConfigError, together, too_small
from tsbench.search.pruning import KINDS, PrunerSettings

ESTIMATORS = ("GP", "RF", "ET", "GBRT")
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")
ACQ_OPTIMIZERS = ("sampling", "lbfgs", "auto")
POINT_GENERATORS = ("random", "lhs", "sobol", "halton", "hammersly", "grid")
DIRECTIONS = ("minimize", "maximize")
MODES = ("bayes", "random")
SCHEDULES = ("auto", "refill", "batch")

#: Most initial points used when ``n_initial_points`` is left unset.
MAX_AUTO_INITIAL_POINTS = 10


@dataclass
class SweepSettings:
    """Everything under ``hydra.sweeper`` except ``_target_``.

    The defaults keep the sweeper's own cost under 1 s per trial at 100 trials on 2
    cores (``benchmarks/sweeper_overhead.md``): a GP with expected improvement, its maximum
    found by sampling 10 000 candidates (L-BFGS and ``gp_hedge`` cost about 3 s per tell at
    100 trials), and plots redrawn after a batch only while drawing, that redraw included,
    stays under ``plot_share`` of the sweep's time (one redraw of the three plots costs 1-2 s
    for 4 dimensions, 4-6 s for 8: with 4 dimensions and trials of 7 s or more they are
    redrawn after every batch).
    """

    # Total number of trials that end (finished, pruned or failed), a resumed sweep's included.
    n_trials: int = 20
    # Points drawn by initial_point_generator before the surrogate is used;
    # null = min(10, n_trials // 2), at least 1.
    n_initial_points: int | None = None
    # random | lhs | sobol | halton | hammersly | grid.
    initial_point_generator: str = "lhs"
    # Surrogate model: GP | RF | ET | GBRT.
    base_estimator: str = "GP"
    # Acquisition function: EI | PI | LCB | gp_hedge.
    acq_func: str = "EI"
    # How the acquisition function is maximized: sampling | lbfgs (GP only) | auto.
    acq_optimizer: str = "sampling"
    # Trials running at once: points proposed with the constant-liar strategy, the running
    # ones counted as pending.
    n_jobs: int = 1
    # refill (start the next trial as soon as one ends; joblib, submitit) | batch (launch
    # n_jobs points together, wait for all) | auto (refill where the launcher allows it).
    schedule: str = "auto"
    # Seed of the optimizer; null = a different sequence each run.
    random_state: int | None = None
    # minimize | maximize the value returned by the task.
    direction: str = "minimize"
    # bayes (surrogate-guided) | random (skopt's random sampler, same bookkeeping).
    mode: str = "bayes"
    # Search space: parameter -> Hydra override grammar, e.g. "tag(log, interval(1e-5, 1e-2))".
    params: dict[str, str] = field(default_factory=dict)
    # Python expressions over parameters and fixed config, e.g. "model.patch_len <= seq_len".
    constraints: list[str] = field(default_factory=list)
    # Abort when failed trials exceed this share of max(ended, n_initial_points, 4).
    max_failure_rate: float = 0.5
    # true: continue the sweep recorded in hydra.sweep.dir (same space, constraints, pruner
    # and fixed overrides); force: continue it even where those differ.
    resume: Any = False
    # With resume: launch each failed trial's point again, once, before any new point (for
    # faults of the machine or the code, fixed since; its row is replaced when it ends).
    retry_failed: bool = False
    # A trials.csv of an earlier sweep whose points seed the optimizer.
    warm_start: str | None = None
    # Largest share of the sweep's time spent redrawing the plots: a redraw starts only if the
    # time spent drawing, that redraw included, stays within it (they are drawn at the end).
    plot_share: float = 0.2
    # Draw the plots at all (false: none, not even at the end, where the last redraw costs
    # seconds: benchmarks/sweeper_overhead.md).
    plots: bool = True
    # Tell the surrogate log(objective) (minimize only; needs positive objectives, as losses
    # are): one diverged trial at 200 next to losses near 0.8 no longer flattens the GP.
    log_objective: bool = True
    # Stop bad trials early from inside training (see tsbench.search.pruning).
    pruner: PrunerSettings = field(default_factory=PrunerSettings)
    # Launch no new trial once the sweep has run this many seconds (running trials end
    # normally; counted from this process's start); null = no time limit.
    max_seconds: float | None = None
    # A resume waits while trials of the dead sweep still run as SLURM jobs of their own,
    # asking squeue every this many seconds (tsbench.search.slurm_jobs).
    slurm_poll_seconds: float = 30.0

    def __post_init__(self) -> None:
        if isinstance(self.pruner, dict):  # from the Hydra plugin's plain container
            self.pruner = PrunerSettings(**self.pruner)

    @property
    def initial_points(self) -> int:
        """``n_initial_points``, or its automatic value when unset."""
        if self.n_initial_points is not None:
            return self.n_initial_points
        return max(1, min(MAX_AUTO_INITIAL_POINTS, self.n_trials // 2))


def check_settings(s: SweepSettings) -> None:
    """Raise :class:`ConfigError` naming the impossible setting, every one of them at once
    where several are (:class:`~tsbench.errors.Refusals`)."""
    errors = list(_refusals(s))
    if errors:
        raise together(errors)


def check_sweeper_config(sweeper: Mapping[str, Any]) -> None:
    """:func:`check_settings` of ``hydra.sweeper`` as composed: the command line checks it
    before Hydra starts, beside the sweep's values, so that their refusals come at once."""
    check_settings(from_config(sweeper))


def from_config(settings: Mapping[str, Any]) -> SweepSettings:
    """The settings of ``hydra.sweeper`` as Hydra composed them (its ``_target_`` left
    out), in plain values: the sweeper plugin's and the command line's check's."""
    return SweepSettings(**{k: OmegaConf.to_container(v) if OmegaConf.is_config(v) else v
                            for k, v in settings.items() if k != "_target_"})


def _refusals(s: SweepSettings) -> Iterator[ConfigError]:
    """The error of each impossible setting of ``s``."""
    for name, allowed in (("base_estimator", ESTIMATORS), ("acq_func", ACQ_FUNCS),
                          ("acq_optimizer", ACQ_OPTIMIZERS),
                          ("initial_point_generator", POINT_GENERATORS),
                          ("direction", DIRECTIONS), ("mode", MODES), ("schedule", SCHEDULES)):
        yield from _one_of(name, getattr(s, name), allowed)
    if not (isinstance(s.resume, bool) or s.resume == "force"):
        yield _error("resume", f"unknown value {s.resume!r}", "use true, false or force")
    if not isinstance(s.retry_failed, bool):
        yield _error("retry_failed", f"{s.retry_failed!r} is not true or false",
                     "use true (with resume=true) or false")
    elif s.retry_failed and not s.resume:
        yield _error("retry_failed", "retries the failed trials of a resumed sweep",
                     "add hydra.sweeper.resume=true")
    yield from _pruner_refusals(s)
    if s.max_seconds is not None and not s.max_seconds > 0:
        yield _error("max_seconds", f"must be > 0 or null, got {s.max_seconds}")
    if not s.slurm_poll_seconds > 0:
        yield _error("slurm_poll_seconds", f"must be > 0, got {s.slurm_poll_seconds}")
    if s.n_trials < 1:
        yield too_small("hydra.sweeper.n_trials", s.n_trials, 1, "the trials to run", 20)
    if s.n_jobs < 1:
        yield too_small("hydra.sweeper.n_jobs", s.n_jobs, 1, "the trials to run at once", 1)
    lowest = 0 if s.warm_start else 1
    if s.initial_points < lowest:
        yield _error(
            "n_initial_points",
            f"must be >= {lowest}, got {s.initial_points}",
            "0 is allowed only with warm_start",
        )
    elif not s.warm_start and s.n_trials >= 1:  # with it, the warm-start trials count too
        try:  # (checked once read)
            check_initial_points(s, 0)
        except ConfigError as error:
            yield error
    if s.acq_optimizer == "lbfgs" and s.base_estimator != "GP":
        yield _error(
            "acq_optimizer",
            f"lbfgs needs gradients, which base_estimator={s.base_estimator} lacks",
            "use acq_optimizer=sampling",
        )
    for name in ("max_failure_rate", "plot_share"):
        if not 0.0 <= getattr(s, name) <= 1.0:
            yield _error(name, f"must be in [0, 1], got {getattr(s, name)}")
    if s.warm_start and not Path(s.warm_start).is_file():
        yield _error("warm_start", f"no such file: {s.warm_start}", "give a trials.csv path")


def _pruner_refusals(s: SweepSettings) -> Iterator[ConfigError]:
    p = s.pruner
    yield from _one_of("pruner.kind", p.kind, KINDS)
    if not p.on:
        if p.stop_at_max_seconds:
            yield _error("pruner.stop_at_max_seconds", "stops trials through the pruning "
                         "callback, which pruner.kind=none does not install",
                         "set pruner.kind=asha or median")
        return
    if p.min_epochs < 1:
        yield _error("pruner.min_epochs", f"must be >= 1, got {p.min_epochs}")
    if p.eta < 2:
        yield _error("pruner.eta", f"must be >= 2, got {p.eta}")
    if p.max_epochs is not None and p.max_epochs <= p.min_epochs:
        yield _error(
            "pruner.max_epochs",
            f"{p.max_epochs} leaves no epoch to judge after min_epochs={p.min_epochs}",
            "raise max_epochs or lower min_epochs",
        )
    if s.direction != "minimize":
        yield _error(
            "pruner.kind",
            "pruning compares validation losses, which are minimized",
            "use direction=minimize, or pruner.kind=none",
        )


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> Iterator[ConfigError]:
    if value not in allowed:
        yield _error(name, f"unknown value {value!r}", f"use one of {', '.join(allowed)}")


def check_initial_points(s: SweepSettings, n_warm: int) -> None:
    """The random initial points are drawn from the sweep's trials and the ``n_warm``
    warm-start trials the optimizer is told (skopt counts each told point as one): a
    warm-started Bayesian sweep must leave the surrogate at least one of its trials. A warm
    start that told no point (none of its rows in the space: tsbench-tune's (e) after a (d)
    that ran none to its full budget) is a sweep without one."""
    if (s.warm_start and n_warm > 0 and s.mode == "bayes"
            and s.initial_points >= s.n_trials + n_warm):
        most = s.n_trials + n_warm - 1
        every = f" (k <= {n_warm} leaves it all {s.n_trials})" if n_warm < most else ""
        raise _error(
            "n_initial_points",
            f"{s.initial_points} initial points take the {n_warm} warm-start trials and all "
            f"n_trials={s.n_trials}, so the {s.base_estimator} proposes no trial",
            f"set hydra.sweeper.n_initial_points=<k> with k <= {most}{every} or raise "
            f"hydra.sweeper.n_trials above {s.initial_points - n_warm}",
        )
    if s.initial_points > s.n_trials + n_warm:
        warm = f" plus the {n_warm} warm-start trials" if s.warm_start else ""
        raise _error(
            "n_initial_points",
            f"{s.initial_points} is more than n_trials={s.n_trials}{warm}",
            "lower n_initial_points or raise n_trials",
        )


def _error(name: str, problem: str, fix: str = "") -> ConfigError:
    return ConfigError(f"hydra.sweeper.{name}", problem, fix)
