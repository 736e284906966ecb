"""How the recipe spends ``recipe.budget_hours``: trials a search's time buys under ASHA,
the cap that lets time end a search, the reserve kept for (f) and (g)'s refits, and what to
change when the searches cannot run one trial to its full budget."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from tsbench.rundir import METRICS, read_metrics
from tsbench.search.names import FAILED, OK, PRUNED
from tsbench.search.record import RECORD_DIR, Record
from tsbench.tune.progress import duration, epoch_time
from tsbench.tune.refit import refit_bag, refit_seconds
from tsbench.tune.tuning import Tuning


def baseline_trial_seconds(t: Tuning, epoch_seconds: float) -> float:
    """A trial's seconds at ``epoch_seconds`` an epoch (of each fold, with
    ``recipe.cv_folds``), when ASHA stops all but 1/eta of the trials at each rung
    ``min_epochs * eta**k``, and :func:`trial_start_seconds` once: a tiny model's epochs
    cost less. A first guess: the sweeper's own time a trial (Hydra's job, the record, the
    optimizer's tell: 0.8 s of a tiny model's 1.4 s) is not known before a sweep ran."""
    r = t.recipe
    eta, last = int(r.eta), int(r.max_epochs)
    rungs = [e for e in (int(r.min_epochs) * eta**k for k in range(16)) if e < last] + [last]
    if r.pruner == "none":
        rungs, eta = [last], 1
    epochs = sum((b - a) / eta**k for k, (a, b) in enumerate(pairwise([0, *rungs])))
    epochs *= max(1, t.cv_folds)
    return epochs * epoch_seconds + trial_start_seconds(t)


def trial_start_seconds(t: Tuning) -> float:
    """The seconds a search's trial spends besides its epochs (building its data and model,
    scoring): as the baseline's run spent them in its process (``run_seconds`` less
    ``train_seconds``), the process's own start left out, which the trials of a sweep, run
    by its one process, share (:func:`start_seconds` counts it, paid once per search); 0
    where not known (no baseline yet, or a folder of an older tsbench)."""
    path = t.out / "a_baseline" / METRICS
    metrics = read_metrics(path.parent) if path.is_file() else {}
    if "run_seconds" not in metrics:
        return 0.0
    return max(0.0, float(metrics["run_seconds"]) - float(metrics.get("train_seconds") or 0.0))


def rows_trial_seconds(t: Tuning, rows: list[dict[str, str]]) -> float | None:
    """The wall seconds a trial of ``rows`` (a search's ended trials, pruned and failed ones
    too) takes, ``recipe.n_jobs`` at once, from their own ``seconds`` in trials.csv: their
    runs' time, which leaves out the sweeper's own time a trial; None where none has one."""
    times = [float(row["seconds"]) for row in rows if row.get("seconds")]
    if not times or sum(times) <= 0:
        return None
    return sum(times) / len(times) / int(t.recipe.n_jobs)


def within_trial_bounds(t: Tuning, estimate: int, ended: int = 0) -> int:
    """``estimate`` more trials, within ``recipe.min_trials`` and ``recipe.max_trials``, which
    bound a search's trials in all, ``ended`` of them before a resume among them: a resumed
    search plans at least one more (its time is not spent), not ``min_trials`` more."""
    r = t.recipe
    more = max(int(r.min_trials) - ended, 1, estimate)
    return more if r.max_trials is None else max(0, min(more, int(r.max_trials) - ended))


#: Where tune.json keeps ``<stage><PACE>``: what a search's last session measured
#: (:func:`session_pace`).
PACE = "_pace"
#: The statuses of a trial that ended (neither lost with its sweep nor running).
ENDED = (OK, PRUNED, FAILED)


def session_pace(sweep_dir: Path, since: float) -> dict[str, float]:
    """What the session of a sweep started at ``since`` (``time.time()``) measured, from its
    record of launches: ``start_seconds`` before its first launch (its process's start, the
    space composed), then ``trials`` that ended in ``seconds`` from that launch to the last
    end (Hydra's jobs, the runs, the record and the optimizer's tells: a tiny model's trial
    took 1.4 s where its run took 0.57 s); nothing where no trial ended."""
    launches = [la for la in Record(sweep_dir / RECORD_DIR).launches()
                if la.started >= since and la.ended is not None and la.status in ENDED]
    if not launches:
        return {}
    first = min(la.started for la in launches)
    return {"trials": len(launches), "seconds": max(la.ended for la in launches) - first,
            "start_seconds": first - since}


def measured_pace(t: Tuning, stage: str) -> tuple[float, float] | None:
    """The seconds ``stage``'s last session took to start its first trial, and the wall
    seconds a trial after it (:func:`session_pace`): what a later search pays too; None
    where not measured (no trial ended in it, it was killed, or an older tsbench ran it)."""
    pace = t.state.stages.get(f"{stage}{PACE}") or {}
    if not pace.get("trials"):
        return None
    return float(pace["start_seconds"]), float(pace["seconds"]) / int(pace["trials"])


@dataclass(frozen=True)
class SearchPlan:
    """What a search expects to run: ``trials`` more, each about ``trial_seconds`` of wall
    time after ``start_seconds`` to start, the figures that ``basis`` names (for the
    stage's first line)."""

    trials: int
    trial_seconds: float
    start_seconds: float
    basis: str

    def under_one_trial(self, seconds: float) -> bool:
        """Whether ``seconds`` buy less than one trial and the start: the search starts one,
        which its deadline stops."""
        return seconds < self.start_seconds + self.trial_seconds


def trials_ahead(t: Tuning, seconds: float, epoch_seconds: float, ended: int,
                 rows: list[dict[str, str]],
                 measured: tuple[float, float] | None = None) -> SearchPlan:
    """How many more trials a search plans in ``seconds``, ``ended`` of its trials recorded
    before (a resume): at the start and wall time a trial of an earlier search took
    (``measured``, :func:`measured_pace`), else at the pace ``rows`` ran at (its own ended
    trials, or an earlier search's) where they recorded their time, else a first guess from
    the baseline (:func:`baseline_trial_seconds`, :func:`start_seconds`);
    ``recipe.min_trials`` and ``recipe.max_trials`` bound the search's trials in all, the
    ended ones among them. Under a second left, or for a first search less than one trial
    and its start, one: the search starts one trial, which its time stops."""
    from_rows = rows_trial_seconds(t, rows)
    if measured and not ended:
        start, trial = measured
        basis = f"at (d)'s measured pace ({duration(trial)} a trial, {duration(start)} to start)"
    elif from_rows is not None:
        start, trial = 0.0, from_rows
        basis = (f"at the {duration(trial)} a trial their runs took" if ended else
                 f"at the {duration(trial)} a trial (d)'s runs took, the sweeper's own "
                 "time a trial left out")
    else:
        start, trial = start_seconds(t), baseline_trial_seconds(t, epoch_seconds)
        basis = (f"a first guess at the baseline's pace ({duration(trial)} a trial, "
                 f"{duration(start)} to start), the sweeper's own time a trial not known yet")
    if seconds < 1 or (not ended and seconds < start + trial):  # it starts one, stopped
        return SearchPlan(min(1, within_trial_bounds(t, 0, ended)), trial, start, basis)
    bought = int((seconds - start) / max(1e-9, trial))
    return SearchPlan(within_trial_bounds(t, bought, ended), trial, start, basis)


def trial_cap(t: Tuning, seconds: float, epoch_seconds: float, planned: int) -> int:
    """The most trials a search may run: as many as ``seconds`` buy when every trial stops
    at the first rung (``recipe.min_epochs`` of its first fold), so that the time, not the
    estimate, ends a search whose trials are pruned sooner than planned (ILI with 4 folds:
    25 planned Bayesian trials ended with 12 of 24 minutes left); ``recipe.max_trials`` at
    most, ``planned`` without pruning."""
    r = t.recipe
    if r.pruner == "none":
        return planned
    cap = max(planned, int(seconds / max(1e-9, int(r.min_epochs) * epoch_seconds)))
    return cap if r.max_trials is None else min(cap, int(r.max_trials))


def full_trial_seconds(t: Tuning) -> float:
    """About how long a trial that runs ``recipe.max_epochs`` takes, at the baseline's
    seconds per epoch (of each fold, with ``recipe.cv_folds``)."""
    epoch = float(t.state.stages["a_baseline"]["seconds_per_epoch"])
    return int(t.recipe.max_epochs) * epoch * max(1, t.cv_folds)


def start_seconds(t: Tuning) -> float:
    """The seconds a run spends besides its epochs (starting, reading the data, scoring),
    as the baseline's: stage (a)'s wall time less its training. A search pays them before
    its first trial ends; a tiny model's epochs cost less than they do. Its later trials
    pay only :func:`trial_start_seconds` each (the process's start is not theirs): one
    figure for both would plan too few trials or call too short a search long enough."""
    baseline = t.out / "a_baseline"
    if "a_seconds" not in t.state.stages or not (baseline / METRICS).is_file():
        return 0.0  # a folder of an older tsbench: not known
    trained = float(read_metrics(baseline).get("train_seconds") or 0.0)
    return max(0.0, float(t.state.stages["a_seconds"]) - trained)


def smaller_search_share(t: Tuning) -> float:
    """The share of the search time that the shorter of (d) and (e) gets."""
    random = float(t.recipe.random_share)
    return min(random, 1.0 - random)


#: The least time a search is given (``hydra.sweeper.max_seconds``), however little is left:
#: a trial shorter than this still runs its full budget.
MIN_SEARCH_SECONDS = 1


def searches_too_short(t: Tuning) -> bool:
    """Whether the time left for (d) and (e), at least :data:`MIN_SEARCH_SECONDS` each,
    gives either less than one full-budget trial and its start (:func:`start_seconds`)."""
    searches = t.budget_left() - t.state.stages["f_reserve"]
    share = max(MIN_SEARCH_SECONDS, searches * smaller_search_share(t))
    return share < full_trial_seconds(t) + start_seconds(t)


def budget_fix(t: Tuning) -> str:
    """What to change when the searches cannot run one trial to its full budget: the trial's
    cost, and the budget that gives each search one (:func:`fitting_budget_hours`)."""
    r = t.recipe
    start = start_seconds(t)
    trial = full_trial_seconds(t) + start
    epoch = float(t.state.stages["a_baseline"]["seconds_per_epoch"])
    return (f"a trial of recipe.max_epochs={r.max_epochs} takes about "
            f"{duration(trial)} ({epoch_time(epoch)}, "
            "the baseline's"
            f"{f', x {t.cv_folds} folds' if t.cv_folds else ''}"
            f"{f', and up to {duration(start)} besides its epochs' if start else ''}): raise "
            f"recipe.budget_hours to {fitting_budget_hours(t):g} or more, or lower "
            f"recipe.max_epochs (with a new out=DIR: {t.out} keeps the recipe it started with)")


def fitting_budget_hours(t: Tuning) -> float:
    """The budget, in hours rounded up to 0.01, that gives each search one trial of
    ``recipe.max_epochs`` and its start (the time spent before the searches and the reserve
    for (f) and (g)'s refits as in this run: the same figure before the searches as after
    them)."""
    r = t.recipe
    trial = full_trial_seconds(t) + start_seconds(t)
    before = float(t.state.stages.get("searches_from", t.state.spent())) - float(
        t.state.stages.get("a_seconds", 0.0))
    reserve = float(t.state.stages.get("f_reserve", 0.0))
    searches = trial / smaller_search_share(t)
    hours = (before + max(reserve, searches * float(r.retrain_share) / (
        1 - float(r.retrain_share))) + searches) / 3600
    return math.ceil(hours * 100) / 100


def retrain_reserve(t: Tuning) -> float:
    """Seconds set aside for (f) and (g)'s refits, once, when the searches start:
    ``recipe.retrain_share`` of the budget left, and with ``recipe.refit`` at least the
    estimated refits of the baseline and of one configuration as costly, every seed of
    their bags (so that more refit seeds shorten the searches, not overrun the budget)."""
    share = float(t.recipe.retrain_share) * t.budget_left()
    if not t.recipe.get("refit"):
        return share
    base = t.out / "a_baseline"
    return max(share, 2 * refit_seconds(base, len(refit_bag(t, base))))
