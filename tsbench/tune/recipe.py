"""The tuning recipe as stages of ordinary tsbench commands, each in its own folder of one
tuning directory, sized by a wall-time budget.

(a) baseline with the preset's defaults; (b) learning-rate range test; (c) look-back
candidates from the training rows' periodicity; (d) random search and (e) Bayesian search
warm-started from the best random trials, both pruned by ASHA and stopped when their share
of the budget is spent; (f) the best configurations retrained with more seeds at the full
budget; (g) the one test evaluation of the baseline, the best single run and a greedy
ensemble of the full-budget runs, all chosen on validation, and with ``recipe.refit`` of the
same choices trained again on the train+val rows (``cv=refit``: each run's configuration for
its validation-chosen epoch count, with its own seed and each of ``recipe.refit_seeds``, whose
forecasts are averaged), the rows just before the test split.

Stages (a)-(f) run with ``score_test=false``: their runs never window the test split, and
every selection uses validation scores: the published validation split's, or with
``recipe.cv_folds`` the mean over time-series cross-validation folds of the train+val rows
(blocks as long as the validation split, the last one the published split itself), for a
series whose validation split is too short to rank configurations. The models then scored on
test are the runs' last folds: trained on the published training rows, as the paper's.
``recipe.budget_hours`` is the wall time of stages (b)-(f) and (g)'s refits (which (f)
leaves time for, estimated); what a stage gets is decided when it starts, from the time
left. Each finished stage is recorded in ``tune.json``: the
same command again resumes an interrupted tuning run (finished stages are skipped, an
interrupted sweep resumes from its ``trials.csv``).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import shlex
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from omegaconf import OmegaConf

from tsbench.atomic import write_json, write_text
from tsbench.errors import TsbenchError
from tsbench.preload import run_module
from tsbench.rundir import (
    LOOKBACK,
    LR_FIND,
    METRICS,
    config_choice,
    holdout_model_dir,
    is_finished,
    read_config,
    read_metrics,
    read_protocol,
)
from tsbench.search.report import search_marks
from tsbench.search.trials import OK, RECORD_COLUMNS
from tsbench.tune.ensemble import cv_error_gram, error_gram, greedy_weights, score_runs
from tsbench.tune.preflight import check_command
from tsbench.tune.progress import TRIALS_FILE, Progress, clock
from tsbench.tune.settings import check_recipe, recipe_arguments
from tsbench.tune.state import TuneState

log = logging.getLogger("tsbench.tune")
SPACES = Path(__file__).resolve().parents[1] / "conf" / "search"
#: The stages, in order, as tune.json records them.
STAGES = ("a_baseline", "b_lr_find", "c_lookback", "d_random", "e_bayes", "f_retrain",
          "g_report")
#: Look-backs tried when the training rows show no period (kept to those that fit).
FALLBACK_LOOKBACKS = (48, 96, 192, 336, 512, 720)


class StageFailed(TsbenchError):
    """A stage's command exited non-zero."""


@dataclass
class Tuning:
    """One tuning run: its tsbench overrides, recipe settings, folder and state."""

    overrides: list[str]
    recipe: Any
    out: Path
    state: TuneState

    @property
    def model(self) -> str:
        return next((o.split("=", 1)[1] for o in self.overrides if o.startswith("model=")),
                    "patchtst")

    @property
    def cv_folds(self) -> int:
        """Folds of the cross-validation every selection uses (0: the validation split)."""
        return int(self.recipe.get("cv_folds") or 0)

    @property
    def quiet(self) -> list[str]:
        """Overrides of every stage run: validation only, quiet."""
        return [*self.overrides, "score_test=false", "trainer.progress_bar=false"]

    @property
    def base(self) -> list[str]:
        """Overrides of the runs that are compared (baseline, trials, retrained runs): with
        ``recipe.cv_folds``, cross-validated on blocks as long as the validation split."""
        if not self.cv_folds:
            return self.quiet
        return [*self.quiet, "cv=tscv", f"cv.n_splits={self.cv_folds}", "cv.test_size=val",
                "cv.refit=false"]

    @property
    def epoch_budget(self) -> list[str]:
        """The full budget of the baseline, every trial and retrained run: ``recipe.max_epochs``
        with early stopping after ``recipe.patience``."""
        r = self.recipe
        return [f"trainer.max_epochs={int(r.max_epochs)}", f"trainer.patience={int(r.patience)}"]

    def trial_base(self, lr: dict[str, float]) -> list[str]:
        """Overrides of every search trial and retrained run: the full budget, and the learning
        rate moved with the batch size (sqrt rule) from the one the range test ran at."""
        return [*self.base, *self.epoch_budget, "logger=none", "optim.lr_scaling=sqrt",
                f"optim.base_batch_size={int(lr['batch_size'])}"]

    def budget_left(self) -> float:
        """Seconds of the (b)-(f) budget not spent yet (the baseline does not count)."""
        spent = self.state.spent() - float(self.state.stages.get("a_seconds", 0.0))
        return float(self.recipe.budget_hours) * 3600.0 - spent


def tsbench(*args: str) -> list[str]:
    """The stage command ``python -m tsbench args``: the module, then its arguments."""
    return ["tsbench", *args]


def run_stage(name: str, command: list[str], out_dir: Path) -> None:
    """Run one stage's command (``python -m command[0] command[1:]``, forked from the
    preloaded server of :mod:`tsbench.preload`), its output appended to
    ``<out_dir>/<name>.log``; a failure names the command's own error line."""
    log.debug("stage %s: python -m %s", name, " ".join(command))
    path = out_dir / f"{name}.log"
    code = run_module(command[0], command[1:], path)
    if code != 0:
        cause = failure_cause(path.read_text(errors="replace"))
        said = f": {in_recipe_terms(cause)}" if cause else ""
        raise StageFailed(f"stage {name} failed (exit {code}){said}; see {path}")


#: Lines of a failed command's output that say why, most telling first: tsbench's own
#: error line, a Python exception (a traceback's last line), Hydra's composition error.
CAUSES = (re.compile(r": error: "), re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b"),
          re.compile(r"^(In '|Could not )"))


def failure_cause(output: str) -> str:
    """The last line of ``output`` of the most telling kind in ``CAUSES`` ('' if none)."""
    lines = output.splitlines()
    for cause in CAUSES:
        found = [line.strip() for line in lines if cause.search(line)]
        if found:
            return found[-1]
    return ""


def in_recipe_terms(said: str) -> str:
    """A stage command's error, with where the recipe sets what it names."""
    if "cv.n_splits" in said:
        return f"{said} (tsbench-tune sets cv.n_splits to recipe.cv_folds)"
    return said


def spread(values: list[int], n: int) -> list[int]:
    """At most ``n`` values evenly spread over ``values`` (ends included)."""
    if len(values) <= n:
        return values
    picks = ({values[round(i * (len(values) - 1) / (n - 1))] for i in range(n)} if n > 1
             else {values[len(values) // 2]})
    return sorted(picks)


def lr_range(suggestion: float, min_loss_lr: float, span: float) -> tuple[float, float]:
    """The searched learning rates: ``suggestion / span`` up to ``suggestion * span``, or up
    to a tenth of the rate at the range test's loss minimum where that is higher (fastai's
    rule of thumb; the steepest-descent suggestion often sits at the start of the fall).
    The range spans ``span**2`` at most: a suggestion far below the top (2e-05 against a
    top of 3e-03 on ETTh1, 7e-06 against 2e-02 on ILI) would otherwise spend most trials on
    rates too small to learn in the epoch budget, and ASHA prunes them at the first rung."""
    high = max(suggestion * span, min_loss_lr / 10.0)
    return max(suggestion / span, high / span**2), high


def read_trials(sweep_dir: Path) -> list[dict[str, str]]:
    """The rows of a stage's trials.csv (none if the sweep recorded nothing)."""
    path = sweep_dir / TRIALS_FILE
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def params_of(row: dict[str, str]) -> dict[str, str]:
    """The searched parameters of a trials.csv row."""
    return {k: v for k, v in row.items() if k not in RECORD_COLUMNS}


def full_budget(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Trials that ran their whole budget (neither pruned nor failed), best first."""
    return sorted((r for r in rows if r["status"] == OK), key=lambda r: float(r["objective"]))


# -- the stages -------------------------------------------------------------------------

def baseline(t: Tuning) -> dict[str, Any]:
    """(a) The preset at the recipe's epoch budget (``recipe.max_epochs``, early stopping with
    ``recipe.patience``, as every trial); its cost per epoch sizes the searches."""
    run_dir = t.out / "a_baseline"
    if not is_finished(run_dir):
        run_stage("a_baseline", tsbench(*t.base, *t.epoch_budget, f"hydra.run.dir={run_dir}"),
                  t.out)
    metrics = read_metrics(run_dir)  # epochs and seconds of every fold together
    epoch = metrics["train_seconds"] / max(1, metrics["epochs"])
    log.info("(a) baseline: objective %.4f in %d epochs%s (%.1f s an epoch)",
             metrics["objective"], metrics["epochs"],
             f" (its {t.cv_folds} folds together)" if t.cv_folds else "", epoch)
    return {"objective": metrics["objective"], "seconds_per_epoch": epoch}


def lr_find(t: Tuning) -> dict[str, float]:
    """(b) The learning-rate range test; the searched range around its suggestion."""
    run_dir = t.out / "b_lr_find"
    if not (run_dir / LR_FIND).is_file():
        run_stage("b_lr_find", tsbench(*t.quiet, "tune.lr_find=true", "tune.lr_find_apply=false",
                                       "trainer.max_epochs=1", f"hydra.run.dir={run_dir}"), t.out)
    found = json.loads((run_dir / LR_FIND).read_text())
    low, high = lr_range(float(found["suggestion"]), float(found["min_loss_lr"]),
                         float(t.recipe.lr_span))
    log.info("(b) learning rate: suggestion %.3g, searched %.3g to %.3g", found["suggestion"],
             low, high)
    return {"suggestion": float(found["suggestion"]), "low": low, "high": high,
            "batch_size": int(read_config(run_dir).data.batch_size)}


def override_key(override: str) -> str:
    """The key an override sets: ``model.d_model`` of ``+model.d_model=64``."""
    return override.split("=", 1)[0].lstrip("+~")


def search_path(overrides: list[str]) -> list[str]:
    """The command's ``hydra.searchpath`` override (config groups of the user's, outside the
    package), for the stage commands that take not every override of the command."""
    return [o for o in overrides if override_key(o) == "hydra.searchpath"]


def analysis_args(baseline: Path, overrides: list[str]) -> list[str]:
    """tsbench-analyze's arguments for the series the baseline run read: the dataset its config
    took (a preset such as ``experiment=patchtst42_ili`` chooses one too), the dataset fields
    of the command line, the run's pred_len, and the config search path."""
    config = read_config(baseline)
    dataset = config_choice(baseline, "dataset") or str(config.dataset.name)
    fields = [o for o in overrides if o.startswith("dataset.")]
    return [f"dataset={dataset}", *fields, f"pred_len={int(config.pred_len)}",
            *search_path(overrides)]


def max_lookback(t: Tuning) -> int:
    """``recipe.max_seq_len``, and with ``recipe.cv_folds`` no more than the first fold's
    training rows hold with a horizon after them (read from the baseline's folds): a longer
    look-back fails every trial that draws it."""
    longest = int(t.recipe.max_seq_len)
    if not t.cv_folds:
        return longest
    baseline = t.out / "a_baseline"
    first_fold_rows = int(read_metrics(baseline)["cv_folds"][0]["train"][1])
    return min(longest, first_fold_rows - int(read_config(baseline).pred_len))


def lookbacks(t: Tuning) -> list[int]:
    """(c) Look-back candidates: multiples of the training rows' periods up to
    :func:`max_lookback`, at most ``recipe.n_lookbacks`` of them evenly spread; a ladder of
    common look-backs that fit when the analysis finds no period."""
    run_dir = t.out / "c_lookback"
    if not (run_dir / LOOKBACK).is_file():
        run_stage("c_lookback", ["tsbench.analysis.cli",
                                 *analysis_args(t.out / "a_baseline", t.overrides),
                                 f"max_lookback={max_lookback(t)}",
                                 f"hydra.run.dir={run_dir}"], t.out)
    found = yaml.safe_load((run_dir / LOOKBACK).read_text())
    candidates = sorted(int(v) for v in found["candidates"])
    if not candidates:
        longest = int(found["longest_lookback"])
        candidates = [v for v in FALLBACK_LOOKBACKS if v <= longest] or [longest]
        log.info("(c) no period in the training rows: look-backs %s", candidates)
    chosen = spread(candidates, int(t.recipe.n_lookbacks))
    log.info("(c) look-backs searched: %s", chosen)
    return chosen


def search_args(t: Tuning, lr: dict[str, float], seq_lens: list[int]) -> list[str]:
    """The sweep overrides shared by (d) and (e): the model's tuning space, the look-backs and
    learning rates found, ASHA pruning up to ``recipe.max_epochs``."""
    r = t.recipe
    space = SPACES / f"{t.model}_tune.yaml"
    preset = f"search={t.model}_tune" if space.is_file() else "hydra/sweeper=skopt"
    if not space.is_file():
        log.info("(d, e) no tuning space for model %s (tsbench/conf/search/%s_tune.yaml): "
                 "searching seq_len, optim.lr and recipe.search %s only", t.model, t.model,
                 list(r.search))
    searched = ("seq_len=", "optim.lr=")
    return [
        preset, *[o for o in t.trial_base(lr) if not o.startswith(searched)],
        f"seq_len=choice({','.join(map(str, seq_lens))})",
        f"optim.lr=tag(log,interval({lr['low']:.3g},{lr['high']:.3g}))",
        *[str(o) for o in r.search],
        f"hydra.sweeper.random_state={int(r.random_state)}",
        f"hydra.sweeper.n_jobs={int(r.n_jobs)}",
        f"hydra.sweeper.pruner.kind={r.pruner}",
        f"hydra.sweeper.pruner.min_epochs={int(r.min_epochs)}",
        f"hydra.sweeper.pruner.eta={int(r.eta)}",
        # a trial launched just before a search's time is up stops with it, not in (f)'s
        *([] if r.pruner == "none" else ["hydra.sweeper.pruner.stop_at_max_seconds=true"]),
    ]


def planned_trials(t: Tuning, seconds: float, epoch_seconds: float) -> int:
    """How many trials ``seconds`` buy at ``epoch_seconds`` an epoch (of each fold, with
    ``recipe.cv_folds``), when ASHA stops all but 1/eta of the trials at each rung
    ``min_epochs * eta**k``: an estimate, within ``recipe.min_trials`` and
    ``recipe.max_trials``, shown as the stage's progress (:func:`trial_cap` ends it)."""
    r = t.recipe
    eta, last = int(r.eta), int(r.max_epochs)
    rungs = [e for e in (int(r.min_epochs) * eta**k for k in range(16)) if e < last] + [last]
    if r.pruner == "none":
        rungs, eta = [last], 1
    epochs = sum((b - a) / eta**k for k, (a, b) in enumerate(pairwise([0, *rungs])))
    epochs *= max(1, t.cv_folds)
    estimate = max(int(r.min_trials), int(seconds / max(1e-9, epochs * epoch_seconds)))
    return estimate if r.max_trials is None else min(estimate, int(r.max_trials))


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


def sweep(t: Tuning, stage: str, label: str, args: list[str], seconds: float, planned: int,
          epoch_seconds: float) -> list[dict[str, str]]:
    """Run (or resume) one search stage until ``seconds`` are spent or :func:`trial_cap`
    trials have ended."""
    sweep_dir = t.out / stage
    # set once: a resumed search keeps its n_trials, so that it proposes what it would have
    cap = t.state.stage(f"{stage}_cap", lambda: trial_cap(t, seconds, epoch_seconds, planned))
    # resume=true starts a new sweep in an empty folder, and resumes one killed at any
    # point: after its first trial ended (trials.csv) or before (only its record/)
    argv = tsbench("-m", *args, f"hydra.sweeper.n_trials={cap}",
                   f"hydra.sweeper.max_seconds={max(1, int(seconds))}",
                   f"hydra.sweep.dir={sweep_dir}", "hydra.sweeper.resume=true")
    with Progress(label, sweep_dir, planned, t.budget_left, seconds, cap,
                  metric="CV val" if t.cv_folds else "val"):
        run_stage(stage, argv, t.out)
    return read_trials(sweep_dir)


def random_search(t: Tuning, args: list[str], epoch_seconds: float) -> dict[str, Any]:
    """(d) Random search over the space, its share of the search time."""
    r = t.recipe
    seconds = (t.budget_left() - t.state.stages["f_reserve"]) * float(r.random_share)
    planned = planned_trials(t, seconds, epoch_seconds)
    log.info("(d) random search: about %d trials in %s", planned, clock(seconds))
    rows = sweep(t, "d_random", "(d) random search",
                 [*args, "hydra.sweeper.mode=random"], seconds, planned, epoch_seconds)
    return {"trials": len(rows), "full_budget": len(full_budget(rows))}


def baseline_row(t: Tuning, columns: list[str]) -> dict[str, str]:
    """The baseline as a trials.csv row with ``columns``: its values of the searched
    parameters and its objective. It ran the trials' epoch budget and is scored as they
    are, so it is a point the Bayesian search may learn from (the sweeper skips it where
    the preset lies outside the searched space)."""
    run_dir = t.out / "a_baseline"
    config = read_config(run_dir)
    row = {c: "" for c in columns}
    row.update({c: str(OmegaConf.select(config, c)) for c in columns
                if c not in RECORD_COLUMNS})
    row.update(status=OK, objective=repr(float(read_metrics(run_dir)["objective"])))
    return row


def bayes_search(t: Tuning, args: list[str], epoch_seconds: float) -> dict[str, Any]:
    """(e) Bayesian search warm-started with the baseline and the best random trials, the
    rest of the search time."""
    r = t.recipe
    seconds = t.budget_left() - t.state.stages["f_reserve"]
    planned = planned_trials(t, seconds, epoch_seconds)
    random_rows = read_trials(t.out / "d_random")
    ranked = full_budget(random_rows)[: int(r.warm_start_top)]
    warm = t.out / "e_warm_start.csv"
    warm_args: list[str] = []
    if random_rows:  # its header names the searched parameters
        write_text(warm, _csv([baseline_row(t, list(random_rows[0])), *ranked]))
        warm_args = [f"hydra.sweeper.warm_start={warm}", "hydra.sweeper.n_initial_points=1"]
    log.info("(e) Bayesian search: about %d trials in %s, warm-started with the baseline and "
             "%d random trials", planned, clock(seconds), len(ranked))
    rows = sweep(t, "e_bayes", "(e) Bayesian search",
                 [*args, "hydra.sweeper.mode=bayes", *warm_args], seconds, planned,
                 epoch_seconds)
    return {"trials": len(rows), "full_budget": len(full_budget(rows))}


def top_configs(t: Tuning) -> list[dict[str, Any]]:
    """The distinct searched configurations, best objective first (full-budget trials of
    both searches), each with its run directory and seconds."""
    found: list[dict[str, Any]] = []
    for stage in ("d_random", "e_bayes"):
        for row in full_budget(read_trials(t.out / stage)):
            found.append({"params": params_of(row), "objective": float(row["objective"]),
                          "run": str(t.out / stage / row["job_dir"]),
                          "seconds": float(row["seconds"] or 0.0)})
    found.sort(key=lambda c: c["objective"])
    distinct: list[dict[str, Any]] = []
    for config in found:
        if config["params"] not in [c["params"] for c in distinct]:
            distinct.append(config)
    return distinct


def full_trial_seconds(t: Tuning) -> float:
    """About how long a trial that runs ``recipe.max_epochs`` takes, at the baseline's
    seconds per epoch (of each fold, with ``recipe.cv_folds``)."""
    epoch = float(t.state.stages["a_baseline"]["seconds_per_epoch"])
    return int(t.recipe.max_epochs) * epoch * max(1, t.cv_folds)


def smaller_search_share(t: Tuning) -> float:
    """The share of the search time that the shorter of (d) and (e) gets."""
    random = float(t.recipe.random_share)
    return min(random, 1.0 - random)


def searches_too_short(t: Tuning) -> bool:
    """Whether the time left for (d) and (e) gives either less than one full-budget trial."""
    searches = t.budget_left() - t.state.stages["f_reserve"]
    return searches * smaller_search_share(t) < full_trial_seconds(t)


def budget_fix(t: Tuning) -> str:
    """What to change when the searches cannot run one trial to its full budget: the trial's
    cost, and the budget that gives each search one (the time spent before the searches and
    the reserve for (f) and (g) as in this run)."""
    r = t.recipe
    trial = full_trial_seconds(t)
    before = t.state.spent() - float(t.state.stages.get("a_seconds", 0.0))
    reserve = float(t.state.stages.get("f_reserve", 0.0))
    searches = trial / smaller_search_share(t)
    hours = (before + max(reserve, searches * float(r.retrain_share) / (
        1 - float(r.retrain_share))) + searches) / 3600
    epoch = float(t.state.stages["a_baseline"]["seconds_per_epoch"])
    return (f"a trial of recipe.max_epochs={r.max_epochs} takes about "
            f"{clock(trial)} ({epoch:.1f} s an epoch, the baseline's"
            f"{f', x {t.cv_folds} folds' if t.cv_folds else ''}): raise recipe.budget_hours to "
            f"{math.ceil(hours * 100) / 100:g} or more, or lower recipe.max_epochs")


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


def retrain(t: Tuning, lr: dict[str, float]) -> dict[str, Any]:
    """(f) The best configurations again with each of ``recipe.seeds`` (their search run is
    one more member), best first, while the budget lasts; with ``recipe.refit`` it keeps
    what (g)'s refits of the baseline and of each configuration will take."""
    configs = top_configs(t)[: int(t.recipe.top_k)]
    if not configs:
        raise StageFailed(f"no search trial ran its full budget: nothing to retrain -> "
                          f"{budget_fix(t)}")
    refits = [t.out / "a_baseline", *(Path(c["run"]) for c in configs)]
    refit_time = sum(refit_seconds(r, len(refit_bag(t, r))) for r in refits) if t.recipe.get(
        "refit") else 0.0
    runs: list[str] = []
    for rank, config in enumerate(configs, start=1):
        for seed in t.recipe.seeds:
            run_dir = t.out / "f_retrain" / f"{rank}" / f"seed_{seed}"
            if not is_finished(run_dir):
                if t.budget_left() < config["seconds"] + refit_time:
                    log.info("(f) budget spent after %d runs (%s kept for (g)'s refits)",
                             len(runs), clock(refit_time))
                    return {"runs": runs, "configs": configs}
                log.info("(f) configuration %d/%d, seed %s (%s left): %s", rank, len(configs),
                         seed, clock(t.budget_left()), config["params"])
                params = [f"{k}={v}" for k, v in config["params"].items()]
                kept = [o for o in t.trial_base(lr) if override_key(o) not in config["params"]]
                run_stage(f"f_retrain_{rank}_{seed}", tsbench(
                    *kept, *params, *search_marks(Path(config["run"])), f"seed={seed}",
                    f"hydra.run.dir={run_dir}"), t.out)
            runs.append(str(run_dir))
    return {"runs": runs, "configs": configs}


def refit_epochs(run_dir: Path) -> int:
    """A run's epoch count chosen on validation: its best epoch, or for a cross-validation
    run the folds' median best epoch (rounded up, as ``cv.refit`` does)."""
    metrics = read_metrics(run_dir)
    if "cv_folds" in metrics:
        return max(1, math.ceil(float(metrics["cv_best_epoch_median"])))
    return max(1, int(metrics["best_epoch"]))


#: Refit time estimates are multiplied by this (the refits of ILI-24 took 1.0-2.0 times
#: the seconds per row and epoch of their runs' folds), plus the start of the one multirun
#: that refits a run's seeds.
REFIT_MARGIN, REFIT_START = 1.5, 10.0


def refit_seconds(run_dir: Path, seeds: int = 1) -> float:
    """About how long :func:`refit` takes for a run with ``seeds`` seeds: the run's seconds
    per training row and epoch (over all its folds for a CV run) times the train+val rows,
    its refit epochs and the seeds."""
    metrics, split = read_metrics(run_dir), read_protocol(run_dir)["split"]
    folds = metrics.get("cv_folds")
    rows = np.mean([f["train"][1] - f["train"][0] for f in folds]) if folds else (
        split["train"][1] - split["train"][0])
    per_row_epoch = float(metrics["train_seconds"]) / max(1, int(metrics["epochs"])) / rows
    return REFIT_START + REFIT_MARGIN * per_row_epoch * split["val"][1] * refit_epochs(
        run_dir) * seeds


#: Override keys a refit does not take over from the run it refits: how the run was
#: validated, budgeted and launched (a search's trial carries its sweep's settings).
NOT_REFIT = ("cv", "search", "score_test", "trainer.max_epochs", "trainer.patience",
             "trainer.progress_bar", "hydra", "pruning")


def refit_overrides(run_dir: Path) -> list[str]:
    """The run's own command-line overrides (``.hydra/overrides.yaml``) less ``NOT_REFIT``."""
    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or []
    kept = []
    for override in overrides:
        key = override_key(override)
        if not any(key == k or key.startswith(f"{k}.") or key.startswith(f"{k}/")
                   for k in NOT_REFIT):
            kept.append(override)
    return kept


def refit_bag(t: Tuning, run_dir: Path) -> list[int]:
    """The seeds a run is refitted with: its own, then each of ``recipe.refit_seeds``."""
    own = int(read_config(run_dir)["seed"])
    return list(dict.fromkeys([own, *(int(s) for s in t.recipe.get("refit_seeds") or [])]))


def refit(t: Tuning, run_dir: Path) -> list[Path]:
    """(g) The run's configuration trained again on every train+val row for its
    validation-chosen epoch count (``cv=refit``), without scoring, once with each seed of
    its bag (one multirun for the seeds not refitted yet); returns their folders."""
    out = t.out / "g_refit" / run_dir.relative_to(t.out)
    bag = refit_bag(t, run_dir)
    todo = [s for s in bag if not is_finished(out / f"seed_{s}")]
    if todo:
        epochs = refit_epochs(run_dir)
        log.info("(g) refit on train+val rows, %d epochs, seeds %s: %s", epochs, todo,
                 run_dir.relative_to(t.out))
        kept = [o for o in refit_overrides(run_dir)
                if override_key(o) not in ("seed", "seq_len_searched_on")]
        # a run records no hydra.* override: the config search path is the command's
        run_stage(f"g_refit_{'_'.join(run_dir.relative_to(t.out).parts)}", tsbench(
            "-m", *kept, *search_marks(run_dir), *search_path(t.overrides), "cv=refit",
            f"trainer.max_epochs={epochs}",
            "score_test=false", "trainer.progress_bar=false", f"seed={','.join(map(str, todo))}",
            f"hydra.sweep.dir={out}", "hydra.sweep.subdir=seed_${seed}"), t.out)
    return [out / f"seed_{s}" for s in bag]


def final_scores(t: Tuning, retrained: dict[str, Any]) -> dict[str, Any]:
    """(g) The one test evaluation: baseline, best single run and greedy ensemble, chosen
    among every full-budget run (the baseline, which ran the trials' epoch budget, the
    searches and retraining) by the objective only: validation MSE, or with
    ``recipe.cv_folds`` the folds' mean and out-of-fold errors; then the runs' models
    trained on the published training rows (a CV run's last fold) are scored, and with
    ``recipe.refit`` the same choices refitted on the train+val rows too."""
    members = [t.out / "a_baseline", *(Path(c["run"]) for c in retrained["configs"])]
    members += [Path(r) for r in retrained["runs"]]
    members = [m for m in dict.fromkeys(members) if (m / METRICS).is_file()]
    objective = {m: read_metrics(m)["objective"] for m in members}
    best_single = min(members, key=objective.__getitem__)
    gram = cv_error_gram(members) if t.cv_folds else error_gram(members, "val")
    counts = greedy_weights(gram)
    picked = {m: c for m, c in zip(members, counts, strict=True) if c}
    entries = {"baseline": {t.out / "a_baseline": 1}, "best single": {best_single: 1},
               "ensemble": picked}
    models = {name: [holdout_model_dir(m) for m in chosen] for name, chosen in entries.items()}
    shares = {name: list(chosen.values()) for name, chosen in entries.items()}
    refits: dict[Path, list[Path]] = {}
    if t.recipe.get("refit"):  # each chosen run once, then the same three choices refitted
        refits = {m: refit(t, m) for m in dict.fromkeys(
            m for chosen in entries.values() for m in chosen)}
        for name, chosen in list(entries.items()):  # a run's share split over its seeds
            entries[f"{name} refit"] = chosen
            models[f"{name} refit"] = [d for m in chosen for d in refits[m]]
            shares[f"{name} refit"] = [c / len(refits[m]) for m, c in chosen.items()
                                       for _ in refits[m]]
    results = {}
    for name, chosen in entries.items():
        weights = np.array([chosen.get(m, 0) for m in members], dtype=float)
        weights /= weights.sum()
        splits = ["test"] if name.endswith("refit") else ["val", "test"]  # val was trained on
        results[name] = {"objective": float(weights @ gram @ weights),
                         **score_runs(models[name], splits, shares[name])}
    return {"members": [str(m) for m in members], "best_single": str(best_single),
            "selection": f"{t.cv_folds}-fold time-series CV" if t.cv_folds else "validation",
            "ensemble_weights": {str(m): c / sum(counts) for m, c in picked.items()},
            "refit_epochs": {str(m): refit_epochs(m) for m in refits},
            "refit_seeds": {str(m): refit_bag(t, m) for m in refits},
            "results": results}


def run_stages(t: Tuning, overrides: list[str]) -> dict[str, Any]:
    """Stages (a)-(g), each skipped if ``tune.json`` records it; the report's summary."""
    if t.state.stages:
        log.info("resuming %s: stages %s done, %s of the budget spent", t.out,
                 ", ".join(s for s in t.state.stages if s in STAGES),
                 clock(t.state.spent_before - float(t.state.stages.get("a_seconds", 0.0))))
    if not t.state.done("a_baseline"):
        base = baseline(t)
        t.state.stages["a_seconds"] = t.state.spent()
        t.state.finish("a_baseline", base)
    base = t.state.stages["a_baseline"]
    lr = t.state.stage("b_lr_find", lambda: lr_find(t))
    seq_lens = t.state.stage("c_lookback", lambda: lookbacks(t))
    args = search_args(t, lr, seq_lens)
    epoch = float(base["seconds_per_epoch"])
    t.state.stage("f_reserve", lambda: retrain_reserve(t))
    if not t.state.done("d_random") and searches_too_short(t):
        log.warning("the searches' time is too short for one trial to run its full budget, "
                    "so (f) will have nothing to retrain -> %s", budget_fix(t))
    t.state.stage("d_random", lambda: random_search(t, args, epoch))
    t.state.stage("e_bayes", lambda: bayes_search(t, args, epoch))
    retrained = t.state.stage("f_retrain", lambda: retrain(t, lr))
    final = t.state.stage("g_report", lambda: final_scores(t, retrained))
    command = ["tsbench-tune", *map(shlex.quote, overrides),
               *recipe_arguments(_plain(t.recipe)), shlex.quote(f"out={t.out}")]
    return {
        "overrides": list(overrides), "command": " ".join(command), "lr": lr,
        "lookbacks": seq_lens,
        "stages": {s: t.state.stages[s] for s in ("d_random", "e_bayes")},
        "top_configs": [{**c["params"], "objective": c["objective"]}
                        for c in retrained["configs"]],
        "trial_overrides": [o for o in t.trial_base(lr) if o.startswith("optim.")],
        "wall_seconds": t.state.spent(), **final,
        "splits_read": {"a-f": ["train", "val"], "g": ["train", "val", "test"]},
    }


def run_recipe(overrides: list[str], recipe: Any, out_dir: Path) -> dict[str, Any]:
    """Run (or resume) stages (a)-(g) for the tsbench ``overrides`` (dataset=, model=, ...)."""
    plain = _plain(recipe)
    check_recipe(plain)
    settings = {"overrides": list(overrides), "recipe": plain}
    t = Tuning(list(overrides), recipe, out_dir, TuneState.open(out_dir, settings))
    if t.state.done("g_report") and (out_dir / "report.json").is_file():
        log.info("%s is finished: its report stays as it was written", out_dir)
        return json.loads((out_dir / "report.json").read_text())
    try:  # stage (a)'s command, before any folder
        check_command([*t.base, *t.epoch_budget])
    except TsbenchError as error:
        raise TsbenchError(in_recipe_terms(str(error))) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    log.info("outputs in %s", out_dir)
    with t.state.clock():  # a killed run's unfinished stage counts on resume
        summary = run_stages(t, overrides)
    write_json(out_dir / "report.json", summary)
    write_text(out_dir / "report.md", render_report(summary))
    return summary


def _plain(recipe: Any) -> dict[str, Any]:
    return OmegaConf.to_container(recipe, resolve=True) if OmegaConf.is_config(recipe) else dict(
        recipe)


def _csv(rows: list[dict[str, str]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_report(summary: dict[str, Any]) -> str:
    lr = summary["lr"]
    weights = summary["ensemble_weights"]
    selection = summary.get("selection", "validation")
    lines = [
        "# tsbench-tune report", "",
        f"Command: `{summary['command']}`  ",
        f"Wall time: {clock(summary['wall_seconds'])}  ",
        f"Learning-rate finder suggestion: {lr['suggestion']:.3g}; searched {lr['low']:.3g} to "
        f"{lr['high']:.3g} (log scale)  ",
        f"Look-back candidates searched: {summary['lookbacks']}  ",
        "Searches: " + "; ".join(f"{stage}: {s['trials']} trials, {s['full_budget']} at full "
                                 "budget" for stage, s in summary["stages"].items()) + "  ",
        f"Selection objective: MSE on {selection}",
        "", "| | members | objective | val MSE | test MSE | test MAE |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    counts = {"baseline": 1, "best single": 1, "ensemble": len(weights)}
    results = summary["results"]
    for name in sorted(results, key=lambda n: (n.endswith(" refit"),
                                               list(counts).index(n.removesuffix(" refit")))):
        scores = results[name]
        val = f"{scores['val_mse']:.4f}" if "val_mse" in scores else "(trained on)"
        lines.append(f"| {name} | {counts[name.removesuffix(' refit')]} | "
                     f"{scores['objective']:.4f} | {val} | {scores['test_mse']:.4f} | "
                     f"{scores['test_mae']:.4f} |")
    lines += ["", "Top configurations (objective of the search trial; every trial also ran "
              f"with `{' '.join(summary.get('trial_overrides', []))}`: the learning rate it "
              "trained at moved with its batch size):", ""]
    lines += [f"- {cfg['objective']:.4f}: `"
              + " ".join(f"{k}={v}" for k, v in sorted(cfg.items()) if k != "objective") + "`"
              for cfg in summary["top_configs"]]
    lines += ["", f"Best single run: `{summary['best_single']}`", "",
              f"Ensemble: picked greedily by the objective from the "
              f"{len(summary['members'])} candidates (the baseline, the top configurations' "
              "search trials and their retrained runs; weight: run):", ""]
    lines += [f"- {w:.3f}: `{m}`" for m, w in sorted(weights.items())]
    lines += ["", "Stages (a)-(f) read only the training and validation splits; the test "
              f"split was scored once, in stage (g), for the {len(results)} rows above, all "
              "chosen before it was read (a refit row's objective is its choice's: a refit "
              "has no validation rows left)."]
    if selection != "validation":
        lines += ["Scored models: each run's last fold, trained on the published training "
                  "rows (val MSE: the published validation split)."]
    if summary.get("refit_epochs"):
        seeds = summary.get("refit_seeds", {})
        lines += ["Rows marked refit: the same choices trained again on the training and "
                  "validation rows for each run's validation-chosen epoch count, with its own "
                  "seed and `recipe.refit_seeds` (a run's share split evenly over its seeds' "
                  "forecasts; scaler and scores on the published scale; the published numbers "
                  "train on the training rows only). Epochs and seeds: " + ", ".join(
                      f"`{m}` {e} {seeds.get(m, '')}".rstrip()
                      for m, e in sorted(summary["refit_epochs"].items()))]
    return "\n".join([*lines, ""])
