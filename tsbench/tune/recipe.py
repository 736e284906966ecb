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
import io
import json
import logging
import math
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from tsbench.atomic import write_json, write_text
from tsbench.counted import counted
from tsbench.errors import ConfigError, TsbenchError
from tsbench.folder_lock import held
from tsbench.rundir import (
    LOOKBACK,
    LR_FIND,
    LR_FIND_PLOT,
    config_choice,
    is_finished,
    read_config,
    read_metrics,
    read_protocol,
)
from tsbench.search.names import OK, RECORD_COLUMNS, TRIALS_FILE
from tsbench.search.report import absolute_paths, python_path, search_marks
from tsbench.search.trials import read_rows
from tsbench.training.schedules import scaled_lr
from tsbench.tune.budget import (
    MIN_SEARCH_SECONDS,
    PACE,
    SearchPlan,
    budget_fix,
    fitting_budget_hours,
    measured_pace,
    retrain_reserve,
    searches_too_short,
    session_pace,
    trial_cap,
    trials_ahead,
)
from tsbench.tune.commands import (
    StageFailed,
    StagesStopped,
    in_recipe_terms,
    override_key,
    run_stage,
    search_path,
    tsbench,
)
from tsbench.tune.edges import LookbackBound, search_edges
from tsbench.tune.preflight import (
    check_command,
    check_search,
    check_tuning_space,
    command_warnings,
    composed,
    data_settings,
    has_tuning_space,
    validation_warning,
)
from tsbench.tune.progress import Progress, clock, epoch_time, objective_name
from tsbench.tune.refit import refit_bag, refit_seconds
from tsbench.tune.report import as_overrides, render_report
from tsbench.tune.scoring import candidates, choose, final_scores
from tsbench.tune.settings import check_recipe, recipe_arguments
from tsbench.tune.state import LOCK_FILE, TuneState
from tsbench.tune.tuning import Tuning
from tsbench.tuning_files import REPORT_FILE, STATE_FILE, SUMMARY_FILE

log = logging.getLogger("tsbench.tune")
#: The stages, in order, as tune.json records them.
STAGES = ("a_baseline", "b_lr_find", "c_lookback", "d_random", "e_bayes", "f_retrain",
          "g_report")
#: Look-backs tried when the training rows show no period (kept to those that fit).
FALLBACK_LOOKBACKS = (48, 96, 192, 336, 512, 720)
#: (d)'s sweeper settings: each point drawn uniformly when asked, from ``random_state``
#: alone, so the n-th point is the same whatever ``n_trials`` the measured pace planned (a
#: Latin hypercube, the tuning spaces' design, is laid out for ``n_trials`` points).
RANDOM_MODE = ("hydra.sweeper.mode=random", "hydra.sweeper.initial_point_generator=random")


def spread(values: list[int], n: int, keep: Sequence[int] = ()) -> list[int]:
    """At most ``n`` values evenly spread over ``values`` (ends included); each value of
    ``keep`` found in ``values`` takes the place of the nearest pick (not one kept before)."""
    if len(values) <= n:
        return values
    picks = sorted({values[round(i * (len(values) - 1) / (n - 1))] for i in range(n)} if n > 1
                   else {values[len(values) // 2]})
    kept: list[int] = []
    for value in sorted(set(keep) & set(values)):
        free = [p for p in picks if p not in kept]
        if value not in picks and free:
            picks[picks.index(min(free, key=lambda p: abs(p - value)))] = value
        kept.append(value)
    return sorted(picks)


def lr_range(min_loss_lr: float, span: float) -> tuple[float, float]:
    """The searched learning rates: up to a tenth of the rate at the range test's loss
    minimum (fastai's rule of thumb), down ``span**2`` from there. The suggestion plays no
    part. With Lightning's rule (the finder's before the valley rule) the range tests of
    ``benchmarks/tune_results.md`` suggested rates 1,500 and 24,000 times below the
    minimum, and the earlier rule put the range here too (its top on every run there, all
    of it since a61440d); a range around the valley rule's suggestion would have left out
    the paper rates of ETTh1 and ETTh2 PatchTST, which this one holds
    (``benchmarks/lr_finder.md``)."""
    high = min_loss_lr / 10.0
    return high / span**2, high


def read_trials(sweep_dir: Path) -> list[dict[str, str]]:
    """The rows of a stage's trials.csv (none if the sweep recorded nothing); a file the
    stages cannot read (damaged by hand, or cut short) is an error naming its line."""
    path = sweep_dir / TRIALS_FILE
    try:
        rows, columns = read_rows(path)
        for line, row in enumerate(rows, start=2):
            _check_row(row, len(columns), f"{path} line {line}")
    except ValueError as error:
        raise ConfigError("out", str(error), "restore the file, or give a new out=DIR") from None
    return rows


def _check_row(row: dict[str, str], fields: int, where: str) -> None:
    """ValueError where a trials.csv row lacks fields of the header or has more, or where
    the numbers the stages read do not read as numbers."""
    if None in row or None in row.values():  # DictReader's marks of extra and missing fields
        given = sum(v is not None for k, v in row.items() if k is not None)
        raise ValueError(f"{where} has {given + len(row.get(None) or [])} fields, its header "
                         f"{fields}")
    for key in ("objective", "seconds"):
        value = row.get(key)
        if value and (key == "seconds" or row.get("status") == OK):
            try:
                float(value)
            except ValueError:
                raise ValueError(f"{where} {key} {value!r} is no number") from None


def params_of(row: dict[str, str]) -> dict[str, str]:
    """The searched parameters of a trials.csv row."""
    return {k: v for k, v in row.items() if k not in RECORD_COLUMNS}


def _finite(value: object) -> float | None:
    """``value`` as a float, None where it is not finite (a diverged baseline's NaN)."""
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


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
    log.info("(a) baseline: %s %.4f in %d epochs%s (%s)", objective_name(t.cv_folds),
             metrics["objective"], metrics["epochs"],
             f" (its {t.cv_folds} folds together)" if t.cv_folds else "", epoch_time(epoch))
    return {"objective": metrics["objective"], "seconds_per_epoch": epoch}


def lr_find(t: Tuning) -> dict[str, float]:
    """(b) The learning-rate range test; the searched range below its loss minimum."""
    run_dir = t.out / "b_lr_find"
    if not (run_dir / LR_FIND).is_file():
        # the range test trains on its own; the run's epoch after it, unused, is one batch
        run_stage("b_lr_find", tsbench(*t.quiet, "tune.lr_find=true", "tune.lr_find_apply=false",
                                       "trainer.max_epochs=1", "trainer.limit_train_batches=1",
                                       f"hydra.run.dir={run_dir}"), t.out)
    found = json.loads((run_dir / LR_FIND).read_text())
    low, high = lr_range(float(found["min_loss_lr"]), float(t.recipe.lr_span))
    replaced = [str(o) for o in t.recipe.search if override_key(str(o)) == "optim.lr"]
    if replaced:
        log.info("(b) learning rate: searched as recipe.search gives it, %s (the range test's "
                 "loss minimum %.3g; its suggestion %.3g)", replaced[-1],
                 float(found["min_loss_lr"]), float(found["suggestion"]))
    else:
        log.info("(b) learning rate: searched %.3g to %.3g (up to a tenth of the rate at the "
                 "range test's loss minimum, %.3g; its suggestion %.3g)", low, high,
                 float(found["min_loss_lr"]), float(found["suggestion"]))
    if found.get("rule") == "steepest" and not replaced:
        log.warning("(b) the range test's loss has no valley: the searched rates rest on its "
                    "lowest loss at %.3g; check %s, or give optim.lr's range in recipe.search",
                    float(found["min_loss_lr"]), run_dir / LR_FIND_PLOT)
    return {"suggestion": float(found["suggestion"]), "low": low, "high": high,
            **({"replaced_by": replaced[-1]} if replaced else {}),
            "batch_size": int(read_config(run_dir).data.batch_size)}


def analysis_args(baseline: Path, overrides: list[str]) -> list[str]:
    """tsbench-analyze's arguments for the series the baseline run read: the dataset its config
    took (a preset such as ``experiment=patchtst42_ili`` chooses one too), the dataset fields
    of the command line, the run's pred_len and features (S or MS: the target's periods),
    and the config search path."""
    config = read_config(baseline)
    dataset = config_choice(baseline, "dataset") or str(config.dataset.name)
    fields = [o for o in overrides if o.startswith("dataset.")]
    return [f"dataset={dataset}", *fields, f"pred_len={int(config.pred_len)}",
            f"features={config.features}", *search_path(overrides)]


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
    common look-backs that fit when the analysis finds no period. The baseline's own
    look-back (the command's, a preset's published one) is always among them where it fits:
    the searches could otherwise not return to the configuration they set out to beat."""
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
    # the shortest look-back holding two cycles of each period found is always searched: an
    # even spread of 24's multiples could miss every multiple of a weekly 168
    shortest = [min((c for c in candidates if c % p == 0 and c >= 2 * p), default=0)
                for p in found.get("periods", [])]
    own = int(read_config(t.out / "a_baseline").seq_len)
    if own <= int(found["longest_lookback"]):
        candidates = sorted({*candidates, own})
    n = int(t.recipe.n_lookbacks)  # the periods' shortest first, where not all fit
    kept = set(shortest) & set(candidates)
    chosen = spread(candidates, n, keep=[*shortest, own] if len(kept) < n else shortest)
    periods = found.get("periods") or []
    log.info("(c) look-backs searched: %s (periods in the training rows: %s; the longest "
             "look-back: %s, so two cycles of a longer period do not fit)", chosen,
             ", ".join(map(str, periods)) or "none", longest_rule(t, found))
    return chosen


def lookback_bound(t: Tuning, found: dict[str, Any] | None = None) -> LookbackBound:
    """The limits of (c)'s look-backs (its analysis ``found``, read from its folder where not
    given): half the training rows less pred_len, and the cap (:func:`max_lookback`:
    ``recipe.max_seq_len``, or with ``recipe.cv_folds`` the first fold's training rows less
    pred_len where fewer), and the periods it found."""
    if found is None:
        found = yaml.safe_load((t.out / "c_lookback" / LOOKBACK).read_text())
    start, end = (int(v) for v in found["training_rows"])
    cap = int(found["max_lookback"])
    return LookbackBound(
        half=max(1, (end - start) // 2 - int(found["pred_len"])), cap=cap,
        cap_rule=("recipe.max_seq_len" if cap >= int(t.recipe.max_seq_len)
                  else "the first fold's training rows less pred_len"),
        periods=tuple(int(p) for p in found.get("periods") or []))


def longest_rule(t: Tuning, found: dict[str, Any]) -> str:
    """The longest look-back of (c)'s analysis ``found`` and the rule that bound it, with
    the other's number (:func:`lookback_bound`)."""
    return str(lookback_bound(t, found))


def search_args(t: Tuning, lr: dict[str, float], seq_lens: list[int]) -> list[str]:
    """The sweep overrides shared by (d) and (e): the model's tuning space, the look-backs and
    learning rates found, ASHA pruning up to ``recipe.max_epochs``, and the sweep pictures
    only where the command draws its runs' (``plots``)."""
    r = t.recipe
    space = r.space or f"{t.model}_tune"
    found = has_tuning_space(t.overrides, space, named=bool(r.space))
    preset = f"search={space}" if found else "hydra/sweeper=skopt"
    if not found:
        log.info("(d, e) no tuning space for model %s (search/%s_tune.yaml in tsbench/conf "
                 "or a hydra.searchpath folder): searching seq_len, optim.lr and "
                 "recipe.search %s only", t.model, t.model, list(r.search))
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
        f"hydra.sweeper.plots={str(t.plots).lower()}",
        # a trial launched just before a search's time is up stops with it, not in (f)'s
        *([] if r.pruner == "none" else ["hydra.sweeper.pruner.stop_at_max_seconds=true"]),
    ]


def sweep(t: Tuning, stage: str, label: str, args: list[str], seconds: float, planned: int,
          epoch_seconds: float, best_before: float | None) -> list[dict[str, str]]:
    """Run (or resume) one search stage until ``seconds`` are spent or
    :func:`~tsbench.tune.budget.trial_cap` trials have ended (``best_before``: the best
    objective of the stages before, for the progress line); what it measured is kept as
    ``<stage>_pace`` (:func:`~tsbench.tune.budget.session_pace`), which plans the next
    search."""
    sweep_dir = t.out / stage
    # set once: a resumed search keeps its n_trials, so that it proposes what it would have
    cap = t.state.stage(f"{stage}_cap", lambda: trial_cap(t, seconds, epoch_seconds, planned))
    # resume=true starts a new sweep in an empty folder, and resumes one killed at any
    # point: after its first trial ended (trials.csv) or before (only its record/)
    argv = tsbench("-m", *args, f"hydra.sweeper.n_trials={cap}",
                   f"hydra.sweeper.max_seconds={max(MIN_SEARCH_SECONDS, int(seconds))}",
                   f"hydra.sweep.dir={sweep_dir}", "hydra.sweeper.resume=true")
    with Progress(label, sweep_dir, min(planned, cap), t.budget_left, seconds, cap,
                  metric=objective_name(t.cv_folds), best_before=best_before):
        started = time.time()  # the sweeper's clock, which its record keeps
        run_stage(stage, argv, t.out)
    t.state.stages[f"{stage}{PACE}"] = session_pace(sweep_dir, started)
    return read_trials(sweep_dir)


def search_plan(plan: SearchPlan, seconds: float, ended: int = 0,
                fix: Callable[[], str] = lambda: "") -> str:
    """What a search stage expects to run in ``seconds`` (``plan``), ``ended`` of its trials
    recorded by an earlier session: under 1 s left of a resumed search's share, that the
    session before spent it; time for less than one trial, that it starts one, which its
    deadline stops, and the ``fix``; a first search's estimate, what it rests on and that
    its progress lines revise it (a first guess was 137 trials where 58 ran)."""
    if ended:
        before = f"{counted(ended, 'trial')} ended before the resume, "
        if seconds < 1:
            return f"{before}no time left of its share of the budget (the session before spent it)"
        return f"{before}about {plan.trials} more in {clock(seconds)}"
    if plan.under_one_trial(seconds):
        return (f"{clock(seconds)} of the budget, less than one trial, {plan.basis}: it "
                f"starts one, which its deadline stops -> {fix()}")
    return (f"about {counted(plan.trials, 'trial')} in {clock(seconds)}, {plan.basis}; its "
            "progress lines revise it as trials end")


def budget_that_fits(t: Tuning) -> str:
    """The fix a search with time for less than one trial names."""
    return (f"raise recipe.budget_hours to {fitting_budget_hours(t):g} or more (a new out=DIR: "
            "a folder keeps the budget it started with)")


def random_search(t: Tuning, args: list[str], epoch_seconds: float) -> dict[str, Any]:
    """(d) Random search over the space, its share of the search time, set when it first
    starts: resumed, it gets what is left of that share (a share of the time left then gave
    it more, and (e) less). Its points follow ``recipe.random_state`` alone
    (:data:`RANDOM_MODE`): a longer search tries the same first points, then more."""
    r = t.recipe
    now = t.state.spent()  # once: the clock moves while the stage's end is recorded
    until = t.state.stage("d_random_until", lambda: now + (
        t.budget_left() - t.state.stages["f_reserve"]) * float(r.random_share))
    seconds = until - now
    ended = read_trials(t.out / "d_random")  # resumed: what is left at the pace they ran at
    plan = trials_ahead(t, seconds, epoch_seconds, len(ended), ended)
    log.info("(d) random search: %s",
             search_plan(plan, seconds, len(ended), lambda: budget_that_fits(t)))
    rows = sweep(t, "d_random", "(d) random search",
                 [*args, *RANDOM_MODE], seconds, len(ended) + plan.trials, epoch_seconds,
                 best_before=_finite(read_metrics(t.out / "a_baseline")["objective"]))
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
    if "optim.lr" in row:  # the rate it trained at (a command's optim.lr_scaling moved it):
        # a trial at the baseline's batch size, the range test's, trains at its optim.lr
        row["optim.lr"] = str(scaled_lr(config.optim, int(config.data.batch_size)))
    row.update(status=OK, objective=repr(float(read_metrics(run_dir)["objective"])))
    return row


def bayes_search(t: Tuning, args: list[str], epoch_seconds: float) -> dict[str, Any]:
    """(e) Bayesian search warm-started with the baseline and the best random trials, the
    rest of the search time."""
    r = t.recipe
    seconds = t.budget_left() - t.state.stages["f_reserve"]
    random_rows = read_trials(t.out / "d_random")  # their pace, where they ran, plans (e)
    ended = read_trials(t.out / "e_bayes")  # resumed: its own trials' pace
    plan = trials_ahead(t, seconds, epoch_seconds, len(ended), ended or random_rows,
                        measured_pace(t, "d_random"))
    # their job folders absolute: the file lies beside (d)'s folder, not in it
    ranked = [{**row, "job_dir": str(t.out / "d_random" / row["job_dir"]) if row.get(
        "job_dir") else ""} for row in full_budget(random_rows)[: int(r.warm_start_top)]]
    warm = t.out / "e_warm_start.csv"
    warm_args: list[str] = []
    if random_rows:  # its header names the searched parameters
        write_text(warm, _csv([baseline_row(t, list(random_rows[0])), *ranked]))
        warm_args = [f"hydra.sweeper.warm_start={warm}", "hydra.sweeper.n_initial_points=1"]
    log.info("(e) Bayesian search, warm-started with the baseline and %s: %s",
             counted(len(ranked), "random trial"),
             search_plan(plan, seconds, len(ended), lambda: budget_that_fits(t)))
    before = [_finite(row["objective"]) for row in full_budget(random_rows)]
    before.append(_finite(read_metrics(t.out / "a_baseline")["objective"]))
    rows = sweep(t, "e_bayes", "(e) Bayesian search",
                 [*args, "hydra.sweeper.mode=bayes", *warm_args], seconds,
                 len(ended) + plan.trials,
                 epoch_seconds, best_before=min((v for v in before if v is not None),
                                                default=None))
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


def refit_reserve(t: Tuning, configs: list[dict[str, Any]], runs: list[str],
                  config: dict[str, Any], seed: int) -> float:
    """Seconds (f) keeps for (g)'s refits before retraining ``config`` with ``seed``: the
    refits of what (g) would choose now (on validation only), and of the run about to be
    trained, which (g) may choose too (estimated from the configuration's search run)."""
    if not t.recipe.get("refit"):
        return 0.0
    chosen = choose(t, candidates(t, configs, runs)).runs
    bag = len(dict.fromkeys([seed, *(int(s) for s in t.recipe.get("refit_seeds") or [])]))
    return sum(refit_seconds(r, len(refit_bag(t, r))) for r in chosen) + refit_seconds(
        Path(config["run"]), bag)


def short_budget(t: Tuning) -> str:
    """What a run whose searches ran no trial to its full budget ends with, and the fix."""
    return (f"no search trial ran its full budget (recipe.max_epochs={t.recipe.max_epochs}), "
            f"so the run ends with the baseline: every result is the preset's -> "
            f"{budget_fix(t)}")


def retrain(t: Tuning, lr: dict[str, float]) -> dict[str, Any]:
    """(f) The best configurations again with each of ``recipe.seeds`` (their search run is
    one more member: a seed it ran with is skipped, not trained twice), best first, while
    the budget lasts; with ``recipe.refit`` it keeps what (g)'s refits will take
    (:func:`refit_reserve`)."""
    configs = top_configs(t)[: int(t.recipe.top_k)]
    if not configs:  # (g) then scores the baseline, the one full-budget run there is
        if _finite(read_metrics(t.out / "a_baseline")["objective"]) is None:
            raise StageFailed("no search trial ran its full budget and the baseline diverged "
                              f"(val MSE nan): no model to end with -> {budget_fix(t)}")
        log.warning("(f) nothing to retrain: %s", short_budget(t))
        return {"runs": [], "configs": []}
    runs: list[str] = []
    for rank, config in enumerate(configs, start=1):
        own = int(read_config(Path(config["run"])).seed)
        for seed in t.recipe.seeds:
            run_dir = t.out / "f_retrain" / f"{rank}" / f"seed_{seed}"
            # the search trial is this run: a copy would add nothing (one an older tsbench
            # trained stays, so that its folder resumes to the same choices)
            if int(seed) == own and not is_finished(run_dir):
                log.info("(f) configuration %d/%d, seed %s: its search trial ran with it",
                         rank, len(configs), seed)
                continue
            if not is_finished(run_dir):
                refit_time = refit_reserve(t, configs, runs, config, int(seed))
                left = t.budget_left()
                if left < config["seconds"] + refit_time:
                    log.info("(f) %s retrained: the next (about %s) and (g)'s refits "
                             "(about %s) need more than the %s of the budget left; (g) runs "
                             "its refits whatever is left",
                             counted(len(runs), "run"), clock(config["seconds"]),
                             clock(refit_time), clock(left))
                    return {"runs": runs, "configs": configs}
                log.info("(f) configuration %d/%d, seed %s (%s left): %s", rank, len(configs),
                         seed, clock(left), as_overrides(config["params"]))
                params = [f"{k}={v}" for k, v in config["params"].items()]
                kept = [o for o in t.trial_base(lr) if override_key(o) not in config["params"]]
                run_stage(f"f_retrain_{rank}_{seed}", tsbench(
                    *kept, *params, *search_marks(Path(config["run"])), f"seed={seed}",
                    f"hydra.run.dir={run_dir}"), t.out)
            runs.append(str(run_dir))
    return {"runs": runs, "configs": configs}


def scored_channels(run_dir: Path) -> str:
    """Which channels the run's scores cover, as its protocol card says."""
    card = read_protocol(run_dir)
    if card["features"] == "M":
        return "every channel (features=M)"
    return f"the target channel {card['target']} only (features={card['features']})"


def run_stages(t: Tuning) -> dict[str, Any]:
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
    if not (t.out / "d_random").exists():  # what (a)-(c) took, for budget_fix (a folder
        t.state.stage("searches_from", t.state.spent)  # of an older tsbench: not known)
    if not t.state.done("d_random") and searches_too_short(t):
        log.warning("the searches' time looks too short for one trial to run its full "
                    "budget, so the run may end with the baseline alone (the estimate counts "
                    "the baseline's start, which a search's trials, run by its one process, "
                    "may not pay each) -> %s", budget_fix(t))
    t.state.stage("d_random", lambda: random_search(t, args, epoch))
    t.state.stage("e_bayes", lambda: bayes_search(t, args, epoch))
    retrained = t.state.stage("f_retrain", lambda: retrain(t, lr))
    final = t.state.stage("g_report", lambda: final_scores(t, retrained))
    command = [*python_path(), "tsbench-tune", *map(shlex.quote, t.overrides),
               *recipe_arguments(_plain(t.recipe)), shlex.quote(f"out={t.out.absolute()}")]
    return {  # the overrides with their files absolute, as the stages ran them
        "overrides": list(t.overrides), "command": " ".join(command), "lr": lr,
        "lookbacks": seq_lens,
        "stages": {s: t.state.stages[s] for s in ("d_random", "e_bayes")},
        "top_configs": [{**c["params"], "objective": c["objective"]}
                        for c in retrained["configs"]],
        "range_edges": search_edges([t.out / "e_bayes", t.out / "d_random"], top_configs(t),
                                    lookback_bound(t)),
        "trial_overrides": [o for o in t.trial_base(lr) if o.startswith("optim.")],
        "wall_seconds": t.state.spent(), "scored": scored_channels(t.out / "a_baseline"),
        **final,
        "splits_read": {"a-f": ["train", "val"], "g": ["train", "val", "test"]},
        **({} if retrained["configs"] else {"short_budget": short_budget(t)}),
    }


def run_recipe(overrides: list[str], recipe: Any, out_dir: Path) -> dict[str, Any]:
    """Run (or resume) stages (a)-(g) for the tsbench ``overrides`` (dataset=, model=, ...)."""
    plain = _plain(recipe)
    check_recipe(plain)
    cfg = composed(list(overrides))
    # files and folders as absolute paths: the same command from another folder resumes it,
    # and every stage's run names the data file alike (the searches' trials get it absolute)
    absolute = [absolute_paths(o) for o in overrides]
    settings = {"overrides": absolute, "recipe": plain, **data_settings(cfg)}
    t = Tuning(absolute, recipe, out_dir, TuneState.open(out_dir, settings))
    if _finished(t):
        return json.loads((out_dir / SUMMARY_FILE).read_text())
    for said in command_warnings(list(overrides), cfg):
        log.warning("%s", said)
    try:  # stage (a)'s command and the searches' own settings, before any folder
        check_command([*t.base, *t.epoch_budget])
        check_search([*t.base, *t.epoch_budget], [str(s) for s in recipe.search])
        check_tuning_space([*t.base, *t.epoch_budget], recipe.space)
    except TsbenchError as error:
        raise TsbenchError(in_recipe_terms(str(error))) from None
    # said once, on a command checked, before any stage; not where the choices are made on
    # folds already
    unusual = None if plain.get("cv_folds") else validation_warning(cfg)
    if unusual:
        log.warning("%s", unusual)
    out_dir.mkdir(parents=True, exist_ok=True)
    with held(out_dir / LOCK_FILE, lambda pid: (
            f"out={out_dir}: another tsbench-tune (pid {pid}) is running this tuning run -> "
            f"wait for it to end, or stop it (kill -INT {pid}), then run the same command "
            "again to resume")):
        # read again under the lock: a run that held it until now may have moved on
        t = Tuning(absolute, recipe, out_dir, TuneState.open(out_dir, settings))
        if _finished(t):
            return json.loads((out_dir / SUMMARY_FILE).read_text())
        if not (out_dir / STATE_FILE).is_file():  # its settings, before stage (a) writes
            t.state.save()  # anything: a command with others is refused even then
        log.info("outputs in %s", out_dir)
        with t.state.clock():  # a killed run's unfinished stage counts on resume
            try:
                summary = run_stages(t)
            except TsbenchError as error:
                raise StagesStopped(str(error)) from error
        if unusual:
            summary["unusual_validation"] = unusual
        write_json(out_dir / SUMMARY_FILE, summary)
        write_text(out_dir / REPORT_FILE, render_report(summary))
    return summary


def _finished(t: Tuning) -> bool:
    """Whether the folder holds a finished run's report (which then stays as written)."""
    if t.state.done("g_report") and (t.out / SUMMARY_FILE).is_file():
        log.info("%s is finished: its report stays as it was written", t.out)
        return True
    return False


def _plain(recipe: Any) -> dict[str, Any]:
    """The recipe as plain data, its interpolations resolved (as tune.json records it)."""
    return OmegaConf.to_container(recipe, resolve=True) if OmegaConf.is_config(recipe) else dict(
        recipe)


def _csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


