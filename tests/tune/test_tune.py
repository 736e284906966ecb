"""tsbench-tune with the quick recipe, end to end on synthetic data: the stages before (g)
never touch the test split, checked by what they record and from the outside."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import re
import runpy
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import ROOT, TINY
from tests.preloaded import Started, command_line, descendants, group_alive, run_module, running
from tests.search.conftest import multirun, read_rows
from tests.spiked import VAL_SPIKE, spiked_csv
from tests.unseen import content, differences, outputs_of_both, series, snapshot
from tsbench.errors import TsbenchError
from tsbench.folder_lock import held
from tsbench.forecast.tables import future
from tsbench.hidden_configs import OWN_CONFIGS
from tsbench.rundir import RUN_LOCK, holdout_model_dir, read_config, read_metrics
from tsbench.search.names import LOCK_FILE as SWEEP_LOCK
from tsbench.training.evaluate import forecast_windows
from tsbench.tune import recipe as recipe_module
from tsbench.tune import scoring as scoring_module
from tsbench.tune.budget import (
    SearchPlan,
    budget_fix,
    full_trial_seconds,
    retrain_reserve,
    searches_too_short,
    smaller_search_share,
    trial_cap,
    trials_ahead,
)
from tsbench.tune.cli import check_not_owned, main, parse
from tsbench.tune.commands import StageFailed, run_stage
from tsbench.tune.edges import LookbackBound
from tsbench.tune.ensemble import cv_error_gram, error_gram, load_ensemble, score_runs
from tsbench.tune.preflight import (
    check_command,
    check_search,
    check_tuning_space,
    composed,
    data_settings,
)
from tsbench.tune.progress import duration
from tsbench.tune.recipe import (
    LOCK_FILE,
    analysis_args,
    bayes_search,
    longest_rule,
    lookbacks,
    lr_range,
    max_lookback,
    random_search,
    refit_reserve,
    retrain,
    scored_channels,
    search_args,
    search_plan,
    spread,
    sweep,
    top_configs,
)
from tsbench.tune.refit import (
    REFIT_MARGIN,
    REFIT_START,
    refit,
    refit_bag,
    refit_epochs,
    refit_overrides,
    refit_seconds,
)
from tsbench.tune.report import as_overrides, render_report
from tsbench.tune.scoring import candidates, choose
from tsbench.tune.settings import RULES, check_recipe
from tsbench.tune.state import CLOCK_FILE, DATA_KEY, TuneState
from tsbench.tune.state import differences as state_differences
from tsbench.tune.tuning import Tuning
from tsbench.tuning_files import CHOICES, ORIGINAL_SCORES, STATE_FILE


def test_spread_keeps_the_ends() -> None:
    assert spread([48, 72, 96, 120, 144], 3) == [48, 96, 144]
    assert spread([24, 48], 6) == [24, 48]
    # hourly data with daily and weekly periods: the multiples of 24 and 168 up to 720;
    # two cycles of each period found are searched, the evenly spread picks nearest give way
    both = sorted({m * p for p in (24, 168) for m in range(2, 720 // p + 1)})
    assert spread(both, 3) == [48, 384, 720]  # no look-back holds two weeks
    assert spread(both, 3, keep=[48, 336]) == [48, 336, 720]
    assert spread(both, 6, keep=[48, 336]) == [48, 192, 336, 456, 576, 720]


def test_paths_under_home_written_with_a_tilde_are_the_users(tmp_path: Path,
                                                             monkeypatch) -> None:
    """``out=~/t`` (quoted, or under ``sh``: the shell leaves the ``~``) is the home
    directory's folder, and ``dataset.path=~/x.csv`` reaches every stage with it expanded,
    as tsbench reads it."""
    monkeypatch.setenv("HOME", str(tmp_path))
    overrides, _, out = parse(["dataset=csv", "dataset.path=~/x.csv", "out=~/t"])
    assert out == tmp_path / "t"
    assert overrides == ["dataset=csv", f"dataset.path={tmp_path / 'x.csv'}"]


def test_the_look_backs_hold_two_cycles_of_each_period_found(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # (c)'s analysis of hourly data with a weekly and a daily cycle, read back by the recipe;
    # its line says what the look-backs came from (a yearly cycle of daily data that does
    # not fit went unsaid)
    overrides, recipe, out = parse(["recipe=quick", f"out={tmp_path / 'out'}"])
    both = sorted({m * p for p in (24, 168) for m in range(2, 720 // p + 1)})
    (out / "c_lookback").mkdir(parents=True)
    (out / "c_lookback" / "lookback.yaml").write_text(yaml.safe_dump(  # 4224 > the cap
        {"periods": [168, 24], "candidates": both, "longest_lookback": 720,
         "training_rows": [0, 8640], "pred_len": 96, "max_lookback": 720}))
    (out / "a_baseline").mkdir()
    (out / "a_baseline" / "config.yaml").write_text("seq_len: 336\n")
    tuning = Tuning(overrides, recipe, out, TuneState.open(out, {}))
    assert recipe.n_lookbacks == 3
    with caplog.at_level(logging.INFO, logger="tsbench.tune"):
        assert lookbacks(tuning) == [48, 336, 720]  # two days, two weeks, and the longest
    assert ("(c) look-backs searched: [48, 336, 720] (periods in the training rows: 168, 24; "
            "the longest look-back: 720, recipe.max_seq_len (half the training rows less "
            "pred_len: 4224), so two cycles of a longer period do not fit)") in caplog.text
    # the baseline's own look-back is searched too, a multiple of no period or not
    wider = Tuning(overrides, OmegaConf.merge(recipe, {"n_lookbacks": 6}), out, tuning.state)
    assert lookbacks(wider) == [48, 192, 336, 456, 576, 720]
    (out / "a_baseline" / "config.yaml").write_text("seq_len: 512\n")
    assert lookbacks(wider) == [48, 192, 336, 512, 576, 720]
    (out / "a_baseline" / "config.yaml").write_text("seq_len: 800\n")  # past the longest
    assert lookbacks(wider) == [48, 192, 336, 456, 576, 720]
    # where only the periods' shortest fit, they come first
    (out / "a_baseline" / "config.yaml").write_text("seq_len: 512\n")
    two = Tuning(overrides, OmegaConf.merge(recipe, {"n_lookbacks": 2}), out, tuning.state)
    assert lookbacks(two) == [48, 336]
    # fewer training rows: half of them less pred_len bound it, under the cap
    (out / "c_lookback" / "lookback.yaml").write_text(yaml.safe_dump(
        {"periods": [168, 24], "candidates": [48, 72, 336], "longest_lookback": 404,
         "training_rows": [0, 1000], "pred_len": 96, "max_lookback": 720}))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tsbench.tune"):
        lookbacks(two)
    assert ("the longest look-back: 404, half the training rows less pred_len (at most "
            "recipe.max_seq_len: 720), so two cycles") in caplog.text
    # with recipe.cv_folds, a first fold too short for recipe.max_seq_len is the cap
    assert longest_rule(tuning, {"training_rows": [0, 8640], "pred_len": 96,
                                 "max_lookback": 361}) == (
        "361, the first fold's training rows less pred_len (half the training rows less "
        "pred_len: 4224)")


def test_lr_range_reaches_a_tenth_of_the_loss_minimum() -> None:
    # the top is a tenth of the loss minimum's rate, the bottom span**2 below
    assert lr_range(0.2, 10.0) == pytest.approx((2e-4, 0.02))
    assert lr_range(0.0316, 10.0) == pytest.approx((3.16e-5, 3.16e-3))  # ETTh1 PatchTST
    assert lr_range(0.03, 3.0) == pytest.approx((3e-3 / 9, 3e-3))


def test_a_refit_keeps_what_a_run_trained_with_not_how_it_was_validated_or_launched(
        tmp_path: Path) -> None:
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text("\n".join(f"- {o}" for o in [
        "model.n_heads=2", "search=patchtst_tune", "dataset=ili", "score_test=false",
        "trainer.progress_bar=false", "trainer.max_epochs=60", "trainer.patience=10",
        "trainer.num_threads=1", "cv=tscv", "cv.n_splits=4", "logger=none", "seq_len=104",
        "optim.lr=0.002", "model.subtract_last=true", "++pruning.kind=asha",
        "++pruning.deadline=17.5", "seed=2"]))
    assert refit_overrides(tmp_path) == [
        "model.n_heads=2", "dataset=ili", "trainer.num_threads=1", "logger=none",
        "seq_len=104", "optim.lr=0.002", "model.subtract_last=true", "seed=2"]


def test_a_refit_is_budgeted_from_its_runs_seconds_per_row_and_epoch(tmp_path: Path) -> None:
    # a 2-fold CV run: training blocks of 300 and 500 rows, 40 epochs in 80 s (1 s per 200
    # rows and epoch); the refit trains the 600 train+val rows for the median best epoch, 7
    (tmp_path / "metrics.json").write_text(json.dumps({
        "cv_folds": [{"train": [0, 300], "val": [300, 500]}, {"train": [0, 500],
                                                               "val": [500, 600]}],
        "train_seconds": 80.0, "epochs": 40, "cv_best_epoch_median": 6.5}))
    (tmp_path / "protocol.json").write_text(json.dumps({"split": {
        "train": [0, 500], "val": [500, 600], "test": [600, 700]}}))
    assert refit_seconds(tmp_path) == pytest.approx(
        REFIT_START + REFIT_MARGIN * 80.0 / 40 / 400 * 600 * 7)
    # three seeds: one multirun, so one start
    assert refit_seconds(tmp_path, 3) == pytest.approx(
        REFIT_START + 3 * REFIT_MARGIN * 80.0 / 40 / 400 * 600 * 7)


def test_the_searches_leave_time_for_the_refits_of_every_seed(tmp_path: Path) -> None:
    # the baseline's refit is estimated at refit_seconds; (f) keeps at least two such refits
    # with every seed of the bag (the baseline and one configuration), else its share
    base = tmp_path / "out" / "a_baseline"
    base.mkdir(parents=True)
    test_a_refit_is_budgeted_from_its_runs_seconds_per_row_and_epoch(base)
    (base / "config.yaml").write_text("seed: 2021\n")

    def reserve(*fields: str) -> float:
        overrides, recipe, out = parse([*fields, f"out={base.parent}"])
        return retrain_reserve(Tuning(overrides, recipe, out, TuneState.open(out, {})))

    one = refit_seconds(base) - REFIT_START  # a seed's training
    assert reserve("recipe.retrain_share=0") == pytest.approx(2 * (REFIT_START + one))
    assert reserve("recipe.retrain_share=0", "recipe.refit_seeds=[1,2]") == pytest.approx(
        2 * (REFIT_START + 3 * one))
    assert reserve("recipe.retrain_share=0", "recipe.refit=false") == 0
    assert reserve("recipe.retrain_share=0.5", "recipe.budget_hours=2") == pytest.approx(
        3600, rel=1e-3)


def test_the_time_not_the_estimate_ends_a_search(tmp_path: Path) -> None:
    # 30 epochs at most, rungs 2, 6, 18 (eta 3): an ASHA trial costs 2 + 4/3 + 12/9 + 12/27
    # epochs on average; the cap is what the time buys when every trial stops at epoch 2
    def tuning(*fields: str) -> Tuning:
        overrides, recipe, out = parse([*fields, f"out={tmp_path}"])
        return Tuning(overrides, recipe, out, TuneState.open(out, {"overrides": overrides}))

    plain = tuning()
    assert _first_guess(plain, 1000, 1.0) == int(1000 / (2 + 4 / 3 + 12 / 9 + 12 / 27))
    assert trial_cap(plain, 1000, 1.0, 195) == 500
    folds = tuning("recipe.cv_folds=4")  # a trial trains 4 folds; only the first is judged
    assert _first_guess(folds, 1000, 1.0) == int(1000 / (4 * (2 + 4 / 3 + 12 / 9 + 12 / 27)))
    assert trial_cap(folds, 1000, 1.0, 48) == 500
    assert trial_cap(tuning("recipe.max_trials=40"), 1000, 1.0, 40) == 40
    assert trial_cap(tuning("recipe.pruner=none"), 1000, 1.0, 33) == 33
    # (e) plans at the pace (d)'s trials ended, their start and evaluation included: a
    # tiny model's epochs (0.01 s) would plan thousands where each trial takes seconds
    rows = [{"seconds": "4.0"}, {"seconds": "6.0"}, {"seconds": ""}]  # 5 s a trial
    assert _first_guess(plain, 1000, 0.01) == 19565
    assert trials_ahead(plain, 1000, 0.01, 0, rows).trials == 200
    assert trials_ahead(tuning("recipe.n_jobs=2"), 1000, 0.01, 0, rows).trials == 400
    assert trials_ahead(tuning("recipe.max_trials=40"), 1000, 0.01, 0, rows).trials == 40
    assert trials_ahead(tuning("recipe.min_trials=300"), 1000, 0.01, 0, rows).trials == 300
    assert trials_ahead(plain, 1000, 0.01, 0, []).basis.startswith("a first guess")
    # resumed, recipe.min_trials (4) bounds the search's trials in all, not those after the
    # resume: 10 s left at 115 s a trial plan 3 more after 1 ended, 1 more after 16, not 4
    slow = [{"seconds": "115.0"}]
    assert trials_ahead(plain, 10, 1.0, 1, slow).trials == 3
    assert trials_ahead(plain, 10, 1.0, 16, slow * 16).trials == 1
    assert trials_ahead(tuning("recipe.max_trials=16"), 10, 1.0, 16, slow * 16).trials == 0
    # no time left of its share: it starts one trial, which its time stops, not min_trials
    for seconds in (0.0, -5.0):
        assert trials_ahead(plain, seconds, 1.0, 0, []).trials == 1
        assert trials_ahead(plain, seconds, 1.0, 1, slow).trials == 1
        assert trial_cap(plain, seconds, 1.0, 1) == 1
    assert trials_ahead(tuning("recipe.max_trials=16"), 0.0, 1.0, 16, slow * 16).trials == 0
    # a first search whose time buys less than one trial plans the one it starts, not
    # recipe.min_trials: its line says so and names the budget that fits
    assert trials_ahead(plain, 10, 1.0, 0, slow).trials == 1
    assert trials_ahead(plain, 10, 1.0, 0, slow).under_one_trial(10)
    # before any trial, each pays the baseline's start in its process besides its epochs:
    # 10 s here, so the tiny model's 1000 s buy 99 trials, not 19565
    (tmp_path / "a_baseline").mkdir()
    (tmp_path / "a_baseline" / "metrics.json").write_text(
        json.dumps({"train_seconds": 2.0, "run_seconds": 12.0}))
    assert _first_guess(plain, 1000, 0.01) == int(1000 / (0.01 * 5.111 + 10)) == 99


def _first_guess(t: Tuning, seconds: float, epoch_seconds: float) -> int:
    """The trials a first search plans in ``seconds``: none ended, no trial timed before."""
    return trials_ahead(t, seconds, epoch_seconds, 0, []).trials


def test_a_refit_setting_that_is_not_a_boolean_is_refused(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["recipe.refit=maybe", f"out={out}"]) == 2
    assert "recipe.refit: 'maybe' is not true or false" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("fields", "said"), [
    (["recipe.refit_seeds=3"], "recipe.refit_seeds: 3 is not a list of seeds -> use e.g."),
    (["recipe.refit_seeds=[1,x]"], "recipe.refit_seeds: [1, 'x'] is not a list of seeds"),
    (["recipe.refit=false", "recipe.refit_seeds=[1]"],
     "recipe.refit_seeds: seeds of refits, but recipe.refit is false -> use recipe.refit=true"),
])
def test_refit_seeds_that_are_not_seeds_of_refits_are_refused(
        tmp_path: Path, fields: list[str], said: str, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main([*fields, f"out={out}"]) == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("fields", "said"), [
    (["dataset.target=units"], "dataset.target: column 'units' not found in"),
    (["model=patchtsd"], "tsbench-tune: error: model: no option 'patchtsd' -> did you mean "
                         "model=patchtst? Else use one of "
                         "arima, dlinear, ets, itransformer, naive, patchtst, seasonal_naive, "
                         "theta, or for a model of your own, its folder of model/patchtsd.yaml "
                         "on the search path: 'hydra.searchpath=[file://conf]'\n"),
    (["optim.lrr=0.01"], "tsbench-tune: error: optim.lrr: no such setting -> did you mean "
                         "optim.lr? Else check its spelling (tsbench --cfg job shows every "
                         "setting)\n"),
    (["recipe.cv_folds=40"], "cv.n_splits: 40 folds are more than the 480 train+val rows"),
    (["recipe.cv_folds=9"], "-> use cv.n_splits <= 6 (tsbench-tune sets cv.n_splits to "
                            "recipe.cv_folds)\n"),
    (["model.patch_len=96"], "model.patch_len: 96 is longer than seq_len (48)"),
    (["seq_len=400"], "the train split has 420 rows, shorter than seq_len + pred_len = 400 + 24"),
])
def test_a_command_stage_a_would_fail_is_refused_before_any_folder(
        tmp_path: Path, fields: list[str], said: str, capsys: pytest.CaptureFixture) -> None:
    # checked in-process before stage (a) starts: no half-written tuning folder
    assert said in _refused_before_any_folder(tmp_path, capsys, [*RECIPE, *fields])


def _refused_before_any_folder(tmp_path: Path, capsys: pytest.CaptureFixture,
                               fields: list[str]) -> str:
    """What tsbench-tune says on stderr when it refuses ``fields`` on a CSV of
    :data:`N_ROWS` rows, having exited with status 2 and made no tuning folder."""
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)
    assert main(["dataset=csv", f"dataset.path={data}", *fields, f"out={out}"]) == 2
    assert not out.exists()
    return capsys.readouterr().err


def test_a_model_of_the_wrong_output_shape_is_refused_before_any_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # a user's model forecasting one channel of three would train silently in every stage
    said = _refused_before_any_folder(tmp_path, capsys, [
        "model=naive", "model._target_=tests.models.faulty_models.OneChannel", "seq_len=48",
        "pred_len=24", "recipe=quick"])
    assert ("tsbench-tune: error: model._target_: tests.models.faulty_models.OneChannel.forward "
            "returned shape (2, 24, 1) for training windows x of shape (2, 48, 3), "
            "expected (batch, pred_len, n_vars) = (2, 24, 3)") in said


def test_a_model_that_reads_the_other_windows_of_its_batch_is_refused_before_any_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # its validation scores, which every stage selects on, would be copied from the future
    said = _refused_before_any_folder(tmp_path, capsys, [
        "model=naive", "model._target_=tests.models.faulty_models.PeeksAhead", "seq_len=48",
        "pred_len=24", "recipe=quick"])
    assert ("tsbench-tune: error: model._target_: tests.models.faulty_models.PeeksAhead.forward "
            "is not batch-independent: in eval mode its forecast of training window 0 alone "
            "differs from its forecast in a batch of 8 consecutive training windows") in said


def test_a_model_without_training_is_refused_before_any_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # a classical baseline has no learning rate or epochs: stage (b) would fail on it
    said = _refused_before_any_folder(tmp_path, capsys, [
        "model=theta", "pred_len=24", "seq_len=48", "recipe=quick"])
    assert said == (
        "tsbench-tune: error: model=theta: a model without training; tsbench-tune tunes a "
        "trained model's learning rate, epochs and hyperparameters -> tune model=patchtst, "
        "itransformer, dlinear or your own trained model, and score the classical baselines "
        "with tsbench -m model=naive,seasonal_naive,ets,theta,arima\n")


def test_the_report_says_which_channels_were_scored(tmp_path: Path) -> None:
    data = tmp_path / "series.csv"
    series(N_ROWS).to_csv(data, index=False)
    for features, said in (("MS", "the target channel OT only (features=MS)"),
                           ("M", "every channel (features=M)")):
        run_dir = tmp_path / features
        proc = run_module("tsbench", ["dataset=csv", f"dataset.path={data}", "model=naive",
                                      "pred_len=24", "seq_len=48", f"features={features}",
                                      "logger=none", f"hydra.run.dir={run_dir}"], cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert scored_channels(run_dir) == said


def test_retraining_keeps_the_refits_of_what_g_would_choose(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # real runs on validation: the baseline and configuration 1 (DLinear) forecast the
    # seasonal series, configuration 2 (naive) does not and is not chosen; before (f)
    # retrains configuration 1, it keeps the refits of (g)'s current choice and of the run
    # about to be trained, not those of every top configuration
    data, out_dir = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)
    runs = {out_dir / "a_baseline": ["model=dlinear", "seed=1"],
            tmp_path / "one": ["model=dlinear", "seed=2"], tmp_path / "two": ["model=naive"]}
    for run_dir, args in runs.items():
        proc = run_module("tsbench", ["dataset=csv", f"dataset.path={data}", *args,
                                      "pred_len=24", "seq_len=48", "trainer.max_epochs=2",
                                      "score_test=false", "logger=none",
                                      f"hydra.run.dir={run_dir}"], cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
    overrides, recipe, out = parse(["recipe.refit_seeds=[7]", f"out={out_dir}"])
    tuning = Tuning(overrides, recipe, out, TuneState.open(out, {}))
    configs = [{"run": str(tmp_path / "one")}, {"run": str(tmp_path / "two")}]
    chosen = choose(tuning, candidates(tuning, configs, [])).runs
    assert tmp_path / "two" not in chosen and out_dir / "a_baseline" in chosen
    cost = {out_dir / "a_baseline": 1.0, tmp_path / "one": 10.0, tmp_path / "two": 100.0}
    monkeypatch.setattr("tsbench.tune.recipe.refit_seconds",
                        lambda run, seeds=1: cost[Path(run)] * seeds)
    expected = sum(cost[r] * 2 for r in chosen) + cost[tmp_path / "one"] * 2  # 2 seeds a bag
    assert refit_reserve(tuning, configs, [], configs[0], 3) == expected


def test_a_report_read_back_from_its_json_record_renders_as_it_was_written() -> None:
    """tune.json and report.json keep keys sorted: the rows, configurations and members
    must render in their own order either way."""
    scores = {"objective": 0.27, "val_mse": 0.21, "test_mse": 1.9, "test_mae": 0.8,
              "test_mse_orig": 2530.5, "test_mae_orig": 31.25}
    refit_scores = {k: v for k, v in scores.items() if k != "val_mse"}
    runs = ["out/a_baseline", "out/e_bayes/0"]
    summary = {
        "overrides": ["experiment=patchtst42_ili"], "wall_seconds": 61.0,
        "command": "tsbench-tune experiment=patchtst42_ili recipe.top_k=1 out=o",
        "lr": {"suggestion": 1e-4, "low": 1e-5, "high": 1e-3}, "lookbacks": [104, 156],
        "stages": {"d_random": {"trials": 4, "full_budget": 1},
                   "e_bayes": {"trials": 3, "full_budget": 1}},
        "selection": "validation", "members": runs, "best_single": runs[0],
        "results": {"baseline": scores, "best single": scores, "ensemble": scores,
                    "baseline refit": refit_scores, "best single refit": refit_scores,
                    "ensemble refit": refit_scores},
        "top_configs": [{"seq_len": "104", "model.d_model": "128", "objective": 0.2856}],
        "trial_overrides": ["optim.lr_scaling=sqrt", "optim.base_batch_size=16"],
        "ensemble_weights": {runs[1]: 0.5, runs[0]: 0.5},
        "refit_epochs": {runs[1]: 10, runs[0]: 15}, "refit_seeds": {runs[1]: [1], runs[0]: [1]},
        "scored": "every channel (features=M)",
        "range_edges": "the best 3 trials sit at one end of a searched range, so ...",
    }
    text = render_report(summary)
    assert render_report(json.loads(json.dumps(summary, sort_keys=True))) == text
    rows = [line.split("|")[1].strip() for line in text.splitlines()
            if line.startswith("| ") and "members" not in line]
    assert rows == ["baseline", "best single", "ensemble", "baseline refit",
                    "best single refit", "ensemble refit"]
    # each figure in its column: members, objective, val MSE, test MSE, test MAE, and the
    # test MSE and MAE in the data's own units
    assert ("| | members | objective (val MSE) | val MSE | test MSE | test MAE | test MSE "
            "(original units) | test MAE (original units) |") in text
    assert "Top configurations (the search trial's val MSE, scaled;" in text
    assert "| baseline | 1 | 0.2700 | 0.2100 | 1.9000 | 0.8000 | 2530.5 | 31.250 |" in text
    assert ("| ensemble refit | 2 | 0.2700 | (trained on) | 1.9000 | 0.8000 | 2530.5 | "
            "31.250 |") in text
    older = {name: {k: v for k, v in row.items() if not k.endswith("_orig")}
             for name, row in summary["results"].items()}  # a report.json before 2026-12-07
    assert "| baseline | 1 | 0.2700 | 0.2100 | 1.9000 | 0.8000 | (not saved) | (not saved) |" \
        in render_report({**summary, "results": older})
    assert "Warning" not in text  # the unusual-validation line, where stage (a) said it
    assert "\n**Warning: the validation rows are unusual: ...**  \n" in render_report(
        {**summary, "unusual_validation": "the validation rows are unusual: ..."})
    assert "- 0.2856: `model.d_model=128 seq_len=104`" in text  # copyable overrides
    assert "ran with `optim.lr_scaling=sqrt optim.base_batch_size=16`" in text
    assert "the test split was scored once, in stage (g), for the 6 rows above" in text
    assert "\nThe best 3 trials sit at one end of a searched range, so ...\n" in text
    assert "No searched parameter" in render_report({**summary, "range_edges": ""})
    assert "suggestion: 0.0001; searched 1e-05 to 0.001 (log scale)" in text
    # tune.json's clock, named as such: not the command's wall time (start-up left out)
    assert ("\nTime spent: 0:01:01 (stages (a)-(g) by tune.json's clock, every session "
            "summed; the start-up and checks before stage (a) not counted)  \n") in text
    assert "Wall time" not in text
    assert "Baseline: the command's own settings (`experiment=patchtst42_ili`; " in text
    assert "Baseline: the command's own settings (none: the config's defaults), " in \
        render_report({**summary, "overrides": []})
    replaced = {**summary["lr"], "replaced_by": "optim.lr=tag(log,interval(1e-3,1e-1))"}
    assert ("suggestion: 0.0001; searched as recipe.search says: "
            "`optim.lr=tag(log,interval(1e-3,1e-1))`") in render_report({**summary, "lr": replaced})


def _original_units(text: str) -> list[tuple[str, str]]:
    """The test MSE and MAE in original units of each row of ``text``'s result table."""
    return [tuple(line.rstrip(" |").split(" | ")[6:8]) for line in text.splitlines()
            if line.startswith("| ") and "members" not in line]


def test_a_tuning_reports_scores_in_original_units_keep_their_digits_at_any_size() -> None:
    """A series in tiny units (MSE near 1e-7: 4 fixed decimals printed 0.0000) or huge ones
    (near 1e9: 4 decimals on 10 digits) is written as the report's columns in original
    units are, each column in one format for all its rows."""
    def summary(mse: list[float], mae: list[float]) -> dict:
        rows = {name: {"objective": 0.27, "val_mse": 0.21, "test_mse": 0.4, "test_mae": 0.5,
                       "test_mse_orig": m, "test_mae_orig": a}
                for name, m, a in zip(CHOICES, mse, mae, strict=True)}
        return {"command": "tsbench-tune out=o", "wall_seconds": 1.0, "lookbacks": [96],
                "lr": {"suggestion": 1e-4, "low": 1e-5, "high": 1e-3}, "stages": {},
                "members": ["o/a_baseline"], "best_single": "o/a_baseline", "results": rows,
                "top_configs": [], "ensemble_weights": {"o/a_baseline": 1.0},
                "scored": "the target"}

    tiny = render_report(summary([3.1e-7, 2.87e-7, 2.9e-7], [4.2e-4, 4.05e-4, 4.1e-4]))
    assert _original_units(tiny) == [("3.1000e-07", "4.2000e-04"),
                                     ("2.8700e-07", "4.0500e-04"),
                                     ("2.9000e-07", "4.1000e-04")]
    huge = render_report(summary([4.2e9, 3.95e9, 4.0e9], [51234.5, 48000.25, 4.1]))
    assert _original_units(huge) == [("4.2000e+09", "51234.5000"),
                                     ("3.9500e+09", "48000.2500"),
                                     ("4.0000e+09", "4.1000")]
    # a column's decimals are its smallest figure's 5 significant digits
    sized = render_report(summary([2530.5, 12.5, 731.0], [31.25, 3.5, 21.0]))
    assert _original_units(sized) == [("2530.500", "31.2500"), ("12.500", "3.5000"),
                                      ("731.000", "21.0000")]


def test_b_names_a_range_test_without_a_valley_and_a_range_recipe_search_replaces(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out"
    (out / "b_lr_find").mkdir(parents=True)
    (out / "b_lr_find" / "config.yaml").write_text("data:\n  batch_size: 32\n")
    found = {"suggestion": 2e-5, "rule": "steepest", "steepest_lr": 2e-5, "min_loss_lr": 0.03}
    (out / "b_lr_find" / "lr_find.json").write_text(json.dumps(found))
    overrides, recipe, out = parse(
        ["recipe.search=[model.dropout=choice(0.1,0.2),'optim.lr=tag(log,interval(1e-3,1e-1))']",
         f"out={out}"])
    tuning = Tuning(overrides, recipe, out, TuneState.open(out, {"overrides": overrides}))
    with caplog.at_level("INFO", logger="tsbench.tune"):
        lr = recipe_module.lr_find(tuning)
    assert (lr["low"], lr["high"]) == pytest.approx((3e-5, 3e-3))  # a tenth, two decades down
    assert lr["replaced_by"] == "optim.lr=tag(log,interval(1e-3,1e-1))"
    # the line says which rates are searched; no valley is no matter where they are given
    assert ("(b) learning rate: searched as recipe.search gives it, "
            "optim.lr=tag(log,interval(1e-3,1e-1))") in caplog.text
    assert "searched 3e-05" not in caplog.text and "no valley" not in caplog.text
    caplog.clear()
    tuning.recipe.search = ["model.dropout=choice(0.1,0.2)"]
    with caplog.at_level("INFO", logger="tsbench.tune"):
        assert "replaced_by" not in recipe_module.lr_find(tuning)
    assert "(b) learning rate: searched 3e-05 to 0.003" in caplog.text
    assert "the range test's loss has no valley" in caplog.text


def test_a_refit_bag_starts_with_the_runs_own_seed_and_takes_each_seed_once(
        tmp_path: Path) -> None:
    run = tmp_path / "out" / "e_bayes" / "0"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("seed: 2\n")
    overrides, recipe, out = parse(["recipe.refit_seeds=[1,2,3]", f"out={tmp_path / 'out'}"])
    tuning = Tuning(overrides, recipe, out, TuneState.open(out, {"overrides": overrides}))
    assert refit_bag(tuning, run) == [2, 1, 3]


def test_a_model_and_a_dataset_config_outside_the_package_reach_every_stage(
        toy_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the README's "Add a model" path through tsbench-tune, with a dataset config of the
    # user's too: a run records no hydra.* override, so (c)'s analysis and (g)'s refit
    # take the config search path from the command
    monkeypatch.setenv("PYTHONPATH", str(toy_dir))
    series(N_ROWS).to_csv(tmp_path / "shop.csv", index=False)
    (toy_dir / "conf" / "dataset").mkdir(exist_ok=True)
    (toy_dir / "conf" / "dataset" / "shop.yaml").write_text(
        f"defaults:\n  - csv\n  - _self_\npath: {tmp_path / 'shop.csv'}\n")
    overrides, recipe, out = parse([
        "dataset=shop", "model=toy", "seq_len=32", "pred_len=8", "trainer=debug",
        "logger=none", f"hydra.searchpath=[file://{toy_dir / 'conf'}]", f"out={tmp_path}/out"])
    baseline = out / "a_baseline"
    proc = run_module("tsbench", [*overrides, "score_test=false", f"hydra.run.dir={baseline}"],
                      cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tuning = Tuning(overrides, recipe, out, TuneState.open(out, {"overrides": overrides}))
    found = lookbacks(tuning)  # multiples of the synthetic series' period, read in shop.csv
    assert 32 in found and all(v % 24 == 0 for v in found if v != 32), found  # and seq_len
    (seed_dir,) = refit(tuning, baseline)
    assert read_config(seed_dir).model.name == "toy"
    assert read_metrics(seed_dir)["epochs"] == refit_epochs(baseline)
    # the searches take the model's tuning space from the search path's search/ folder
    lr = {"low": 1e-4, "high": 1e-2, "batch_size": 32}
    assert search_args(tuning, lr, [32])[0] == "hydra/sweeper=skopt"  # none yet
    (toy_dir / "conf" / "search").mkdir(exist_ok=True)
    (toy_dir / "conf" / "search" / "toy_tune.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /hydra/sweeper: skopt\n"
        "  - override /model: toy\nhydra:\n  sweeper:\n    params:\n"
        "      optim.weight_decay: choice(0.0, 0.01)\n")
    assert search_args(tuning, lr, [32])[0] == "search=toy_tune"
    # a space of another name, chosen by recipe.space
    (toy_dir / "conf" / "search" / "toy_wide_tune.yaml").write_text(
        (toy_dir / "conf" / "search" / "toy_tune.yaml").read_text())
    named = Tuning(overrides, OmegaConf.merge(recipe, {"space": "toy_wide_tune"}), out,
                   tuning.state)
    assert search_args(named, lr, [32])[0] == "search=toy_wide_tune"


@pytest.mark.parametrize(("field", "said"), [
    ("recipe.budget_hours=0", "recipe.budget_hours: 0 is not a number of hours > 0 -> use e.g. "
                              "recipe.budget_hours=0.5"),
    ("recipe.budget_hours=-1", "recipe.budget_hours: -1 is not a number of hours > 0"),
    ("recipe.budget_hour=1", "recipe.budget_hour: no such field -> did you mean "
                             "recipe.budget_hours? Else use one of ['budget_hours', "),
    ("recipe.top_k=0", "recipe.top_k: 0 is not a whole number >= 1 -> use e.g. recipe.top_k=3"),
    ("recipe.eta=1", "recipe.eta: 1 is not a whole number >= 2 (the top 1/eta of a rung goes "
                     "on)"),
    ("recipe.random_share=1.5", "recipe.random_share: 1.5 is not a share in (0, 1)"),
    ("recipe.random_share=1", "recipe.random_share: 1 is not a share in (0, 1)"),  # no (e)
    ("recipe.random_share=0", "recipe.random_share: 0 is not a share in (0, 1)"),  # no (d)
    ("recipe.retrain_share=1", "recipe.retrain_share: 1 is not a share in [0, 1)"),
    ("recipe.pruner=ashaa", "recipe.pruner: 'ashaa' is not one of ['none', 'asha', 'median']"),
    ("recipe.max_epochs=2.5", "recipe.max_epochs: 2.5 is not a whole number of epochs >= 1"),
    ("recipe.n_jobs=0", "recipe.n_jobs: 0 is not a whole number of trials at once >= 1"),
    ("recipe.seeds=[1,x]", "recipe.seeds: [1, 'x'] is not a list of seeds"),
    ("recipe.cv_folds=1", "recipe.cv_folds: 1 is not a number of folds that selects anything "
                          "-> use e.g. recipe.cv_folds=0 (the validation split) or 2 or more"),
    ("recipe.cv_folds=-2", "recipe.cv_folds: -2 is not a number of folds that selects"),
    ("recipe.space=search/my_tune.yaml", "recipe.space: 'search/my_tune.yaml' is not null or "
     "the name of a config in search/ (no folder, no .yaml) -> use e.g. "
     "recipe.space=my_patchtst_tune"),
    ("recipe.space=my_tune.yaml", "recipe.space: 'my_tune.yaml' is not null or the name of "
     "a config in search/ (no folder, no .yaml)"),
    ("recipe.space=my_patchtst_tune", "tsbench-tune: error: recipe.space (the space the "
     "searches (d) and (e) tune in): search: no option 'my_patchtst_tune' -> did you mean "
     "search=patchtst_tune? Else use one of"),
    # recipe.search, which the searches (d) and (e) would otherwise meet an hour in
    ("recipe.search=['model.e_layer=choice(1,2)']", "tsbench-tune: error: recipe.search: "
     "model.e_layer=choice(1,2): model.e_layer: no such setting of model=patchtst -> did you "
     "mean model.e_layers? Else check its spelling, or choose a model that has it (tsbench "
     "--cfg job model=<option> shows its settings)"),
    ("recipe.search=['optim.weight_decay=interval(-0.1,0.1)']", "tsbench-tune: error: "
     "recipe.search: optim.weight_decay=interval(-0.1,0.1): optim.weight_decay: must be >= 0, "
     "got -0.1"),
    ("recipe.search=['model.dropout=choice(0.1,0.2']", "tsbench-tune: error: recipe.search: "
     "cannot parse 'model.dropout=choice(0.1,0.2'"),
    # unquoted, Hydra splits the list at the commas of choice(...) and interval(...)
    ("recipe.search=[model.dropout=interval(0.0,0.3)]", "tsbench-tune: error: recipe.search: "
     "['model.dropout=interval(0.0', '0.3)'] is split at the commas inside its parentheses "
     "(Hydra splits an unquoted list at every comma) -> quote it: "
     "\"recipe.search=['model.dropout=interval(0.0,0.3)']\"\n"),
    ("recipe.search=[model.e_layers=choice(1,2,3),model.dropout=interval(0.0,0.3)]",
     "-> quote it: \"recipe.search=['model.e_layers=choice(1,2,3)',"
     "'model.dropout=interval(0.0,0.3)']\"\n"),
    # the model's own check, met when it is built with that value
    ("recipe.search=['model.dropout=interval(0.0,1.5)']", "tsbench-tune: error: "
     "recipe.search: model.dropout=interval(0.0,1.5): model.dropout: must be in [0, 1), got "
     "1.5"),
])
def test_a_recipe_value_no_stage_can_use_is_refused_before_any_folder(
        tmp_path: Path, field: str, said: str, capsys: pytest.CaptureFixture) -> None:
    # a command that runs (quickly) with a valid value instead
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)
    assert main(["dataset=csv", f"dataset.path={data}", *RECIPE, field, f"out={out}"]) == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("first", ["direct", "recursive"])
def test_a_recipe_search_option_every_trial_of_it_would_fail_on_is_refused(first: str) -> None:
    """Each option of a config group is composed and checked, not only the first: with
    TINY's pred_len=12, strategy=recursive forecasts 24 steps a roll, more than the horizon."""
    options = ",".join(sorted({"direct", "recursive"}, key=lambda o: o != first))
    with pytest.raises(TsbenchError, match=re.escape(
            f"recipe.search: strategy=choice({options}): strategy.step: must be between 1 and "
            f"pred_len=12, got 24 (at strategy=recursive of the sweep strategy=choice("
            f"{options}))")):
        check_search(TINY, [f"strategy=choice({options})"])
    check_search([*TINY, "pred_len=24"], [f"strategy=choice({options})"])


def test_a_recipe_search_value_the_model_cannot_take_is_refused() -> None:
    with pytest.raises(TsbenchError, match=re.escape(
            "recipe.search: model.n_heads=choice(2,2.5): model.n_heads: must be a whole number, "
            "got 2.5 (at model.n_heads=2.5 of the sweep model.n_heads=choice(2,2.5))")):
        check_search([*TINY, "model=patchtst", "model.d_model=16"], ["model.n_heads=choice(2,2.5)"])


@pytest.mark.parametrize("name", ["default", "quick"])
def test_every_recipe_field_is_checked_and_the_shipped_recipes_pass(name: str) -> None:
    _, recipe, _ = parse([f"recipe={name}"])
    plain = OmegaConf.to_container(recipe)
    assert set(plain) == set(RULES)
    check_recipe(plain)


def test_cv_folds_cap_the_look_backs_at_the_first_folds_training_rows(tmp_path: Path) -> None:
    # ILI's shapes, 4 folds of 97 rows: the first fold trains on rows [0, 385), so a
    # look-back over 385 - 24 = 361 fails every trial that draws it
    baseline = tmp_path / "a_baseline"
    baseline.mkdir()
    (baseline / "config.yaml").write_text("pred_len: 24\n")
    folds = [{"train": [0, end], "val": [end, end + 97]} for end in (385, 482, 579, 676)]
    (baseline / "metrics.json").write_text(json.dumps({"cv_folds": folds}))

    def longest(*fields: str) -> int:
        overrides, recipe, out = parse([*fields, f"out={tmp_path}"])
        return max_lookback(Tuning(overrides, recipe, out, TuneState.open(out, {})))

    assert longest("recipe.cv_folds=4") == 361
    assert longest("recipe.cv_folds=4", "recipe.max_seq_len=200") == 200
    assert longest() == 720  # the validation split: recipe.max_seq_len


def test_a_failed_stage_names_the_error_of_its_command(tmp_path: Path) -> None:
    # a real tsbench command (forked from the preloaded server), failing after its data read
    command = ["tsbench", *TINY, "cv=tscv", "cv.n_splits=40", f"hydra.run.dir={tmp_path}/a"]
    with pytest.raises(StageFailed) as info:
        run_stage("a_baseline", command, tmp_path)
    said = ("tsbench: error: cv.n_splits: 40 folds are more than the 480 train+val rows allow: "
            "validation blocks of 11 rows and a first training block of 40 rows, which needs "
            "seq_len + pred_len = 60 -> use cv.n_splits <= 7")
    assert str(info.value) == (
        f"stage a_baseline failed (exit 2): {said} (tsbench-tune sets cv.n_splits to "
        f"recipe.cv_folds); see {tmp_path / 'a_baseline.log'}")
    assert said in (tmp_path / "a_baseline.log").read_text()  # the command's own output


def test_a_stage_whose_folder_an_earlier_stage_still_holds_says_to_wait(tmp_path: Path
                                                                        ) -> None:
    """tsbench-tune started again at once after a kill: the old stage ends within seconds
    of it (its parent watch), holding its run folder until then."""
    folder = tmp_path / "a_baseline"
    folder.mkdir()
    with held(folder / RUN_LOCK, lambda pid: pid), pytest.raises(StageFailed) as info:
        run_stage("a_baseline", ["tsbench", *TINY, f"hydra.run.dir={folder}"], tmp_path)
    assert (f"another tsbench (pid {os.getpid()}) is writing into {folder} -> wait for it to "
            "end, or give another hydra.run.dir (a stage of a tsbench-tune stopped moments "
            "ago ends within seconds of it: run the same command again then)") in str(info.value)


def test_a_stage_that_fails_without_an_error_line_names_its_cause(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Hydra's composition error (no tsbench error line), then a traceback's last line
    with pytest.raises(StageFailed) as info:
        run_stage("g_refit", ["tsbench", "-m", *TINY, "hydra.job.chdir=notabool",
                              f"hydra.sweep.dir={tmp_path}"], tmp_path)
    assert str(info.value) == ("stage g_refit failed (exit 1): Error merging override "
                               "hydra.job.chdir=notabool; see "
                               f"{tmp_path / 'g_refit.log'}")
    (tmp_path / "broken_stage.py").write_text(
        "def load():\n    raise ValueError('no rows in shop.csv')\n\nload()\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with pytest.raises(StageFailed) as info:
        run_stage("c_lookback", ["broken_stage"], tmp_path)
    assert str(info.value) == ("stage c_lookback failed (exit 1): ValueError: no rows in "
                               f"shop.csv; see {tmp_path / 'c_lookback.log'}")


def test_a_resumed_search_keeps_its_trial_count(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # the first start records the cap; a resume, with less time left, launches the same
    # n_trials (a Bayesian search's initial design is sized by it)
    overrides, recipe, out = parse([f"out={tmp_path}"])
    state = TuneState.open(out, {"overrides": overrides})
    state.stages["f_reserve"] = 5000.0  # kept for (f) and (g): not the search's to spend
    tuning = Tuning(overrides, recipe, out, state)
    launched: list[list[str]] = []
    monkeypatch.setattr("tsbench.tune.recipe.run_stage",
                        lambda name, argv, out_dir: launched.append(argv))
    sweep(tuning, "d_random", "(d)", [], 1000.0, 195, 1.0, best_before=0.5)
    sweep(tuning, "d_random", "(d)", [], 300.0, 58, 1.0, best_before=0.5)
    counts = [[a for a in argv if a.startswith("hydra.sweeper.n_trials=")] for argv in launched]
    assert counts == [["hydra.sweeper.n_trials=500"]] * 2
    # each launch's max_seconds is the time the search was given, nothing more
    assert [[a for a in argv if a.startswith("hydra.sweeper.max_seconds=")]
            for argv in launched] == [["hydra.sweeper.max_seconds=1000"],
                                      ["hydra.sweeper.max_seconds=300"]]
    assert json.loads((out / "tune.json").read_text())["stages"]["d_random_cap"] == 500


def test_a_resumed_random_search_gets_what_is_left_of_its_share(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(d) gets ``random_share`` of the search time when it first starts; killed 1000 s into
    it and resumed, it gets the rest of that, not a share of the time left then (1040 s
    more: 57% of the search time instead of 40%, and (e) 600 s less)."""
    overrides, recipe, out = parse([f"out={tmp_path}", "recipe.budget_hours=1",
                                    "recipe.random_share=0.4"])
    (out / "a_baseline").mkdir()
    (out / "a_baseline" / "metrics.json").write_text(json.dumps({"objective": 1.0}))
    state = TuneState.open(out, {"overrides": overrides})
    state.stages.update(f_reserve=0.0, a_seconds=0.0)
    given: list[float] = []
    monkeypatch.setattr("tsbench.tune.recipe.sweep",
                        lambda t, stage, label, args, seconds, *rest, **kw: given.append(seconds)
                        or [])
    tuning = Tuning(overrides, recipe, out, state)
    random_search(tuning, [], 1.0)
    state.spent_before += 1000.0  # killed 1000 s into (d), then resumed
    random_search(tuning, [], 1.0)
    assert given[0] == pytest.approx(1440.0, abs=1.0)
    assert given[1] == pytest.approx(440.0, abs=1.0)


def test_a_resumed_search_plans_its_ended_trials_and_what_the_time_left_buys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Killed 1000 s into (d) with 5 trials ended (12 s each), the resumed search plans those
    5 and what its 440 s left buy at their pace: not the baseline's epochs for 440 s alone, a
    figure below the one shown before the kill; (e) alike, at its own trials' pace."""
    overrides, recipe, out = parse([f"out={tmp_path}", "recipe.budget_hours=1",
                                    "recipe.random_share=0.4"])
    (out / "a_baseline").mkdir()
    (out / "a_baseline" / "metrics.json").write_text(json.dumps({"objective": 1.0}))
    (out / "a_baseline" / "config.yaml").write_text("seq_len: 48\n")
    state = TuneState.open(out, {"overrides": overrides})
    state.stages.update(f_reserve=0.0, a_seconds=0.0)
    plans: list[int] = []
    monkeypatch.setattr("tsbench.tune.recipe.sweep",
                        lambda t, stage, label, args, seconds, planned, *rest, **kw:
                        plans.append(planned) or [])
    tuning = Tuning(overrides, recipe, out, state)
    random_search(tuning, [], 1.0)
    state.spent_before += 1000.0
    _trials(out / "d_random", [("ok", "0.3", "8", 12.0)] + [("pruned", "0.5", "16", 12.0)] * 4)
    with caplog.at_level("INFO", logger="tsbench.tune"):
        random_search(tuning, [], 1.0)
    assert plans == [_first_guess(tuning, 1440.0, 1.0), 5 + 440 // 12]
    assert "(d) random search: 5 trials ended before the resume, about 36 more in 0:07:" in (
        caplog.text)
    _trials(out / "e_bayes", [("ok", "0.3", "8", 20.0)] * 2)
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 400.0)
    bayes_search(tuning, [], 1.0)
    assert plans[-1] == 2 + 400 // 20
    # resumed with no time left of its share: the one trial it starts, not recipe.min_trials
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 0.0)
    bayes_search(tuning, [], 1.0)
    assert plans[-1] == 2 + 1


@pytest.mark.parametrize(("fields", "name"), [
    ([], "val MSE (scaled)"), (["recipe.cv_folds=3"], "CV val MSE (scaled, mean of 3 folds)")])
def test_every_line_showing_an_objective_says_what_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        fields: list[str], name: str) -> None:
    """(a)'s line and a search's progress lines said "objective" and "best val": the
    validation MSE on the training rows' scale, or the folds' mean of it."""
    t = _tuning(tmp_path, *fields)
    run = t.out / "a_baseline"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"objective": 0.5, "epochs": 3,
                                                  "train_seconds": 3.0}))
    (run / "config.yaml").write_text("seq_len: 48\n")
    monkeypatch.setattr(recipe_module, "run_stage", lambda *args: None)
    with caplog.at_level("INFO", logger="tsbench.tune"):
        recipe_module.baseline(t)
        sweep(t, "d_random", "(d) random search", [], 60.0, 4, 1.0, best_before=0.5)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith(f"(a) baseline: {name} 0.5000 in 3 epochs")
    assert lines[1].startswith(f"(d) random search: 0/~4 trials, best {name} 0.5000 (this "
                               "search: none at full budget)")  # its last line: no trial ran


def test_the_random_search_tries_the_same_first_points_whatever_its_plan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(d)'s n_trials follows the machine's measured pace; with random_state fixed its points
    must not: a search planned for more trials tries the same first ones, then more (a Latin
    hypercube of the tuning space, laid out for n_trials points, moved every point)."""
    overrides, recipe, out = parse([f"out={tmp_path}"])
    (out / "a_baseline").mkdir()
    (out / "a_baseline" / "metrics.json").write_text(json.dumps({"objective": 1.0}))
    state = TuneState.open(out, {"overrides": overrides})
    state.stages.update(f_reserve=0.0, a_seconds=0.0)
    given: list[list[str]] = []
    monkeypatch.setattr("tsbench.tune.recipe.sweep",
                        lambda t, stage, label, args, *rest, **kw: given.append(args) or [])
    # the tuning spaces' own design, which (d)'s settings replace
    random_search(Tuning(overrides, recipe, out, state),
                  ["hydra.sweeper.initial_point_generator=lhs"], 1.0)
    space = ["x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c"]
    for n in (4, 5):
        multirun(tmp_path / f"plan_{n}", *space, *given[0], f"hydra.sweeper.n_trials={n}")
    short, long = (read_rows(tmp_path / f"plan_{n}") for n in (4, 5))
    assert [(r["x"], r["n"], r["kind"]) for r in long[:4]] == [
        (r["x"], r["n"], r["kind"]) for r in short]


#: The quick recipe on a tiny PatchTST: 2 random and 2 Bayesian trials (ASHA from epoch 1 of
#: 3), the best 2 configurations retrained with one more seed. Two trials a search are the
#: fewest that still make each search a search (the second trial proposed after a first
#: one ended, and up for pruning at ASHA's rung against it) and leave top_k=2 full-budget
#: configurations to retrain; each trial more costs a run in each of the two recipe runs
#: of a test. The budget is large enough that the trial counts, not the clock, end each
#: stage: two runs make the same choices. The refits of (g) are checked with
#: cross-validated selection only (they cost a run each).
RECIPE = ["model=patchtst", "model.e_layers=1", "model.d_ff=16", "model.n_heads=2",
          "pred_len=24", "seq_len=48", "trainer=debug", "data.batch_size=64",
          "tune.lr_find_num_training=20", "recipe=quick",
          "recipe.budget_hours=1", "recipe.min_trials=2", "recipe.max_trials=2",
          "recipe.top_k=2", "recipe.seeds=[1]", "recipe.max_seq_len=120", "recipe.refit=false",
          "plots=false"]
#: The synthetic series' rows; the ratio split's test rows are the last int(0.2 * 600).
N_ROWS, TEST_START = 600, 600 - 120
#: What stage (g) writes: the only files that may hold test scores (tune.json records
#: every stage's result, (g)'s too).
FINAL = ("report.json", "report.md", "tune.json")


def run_tune(path: Path, out: Path, *extra: str) -> None:
    """tsbench-tune with RECIPE (and ``extra``) on the CSV series ``path``, outputs in
    ``out``; the file named relative to the working directory, as a user types it (the
    stages' runs and the searches' trials then name it alike)."""
    args = ["dataset=csv", f"dataset.path={path.name}", *RECIPE, *extra, f"out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench.tune.cli", args, env=env, cwd=path.parent, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]


def check_the_quick_recipe_end_to_end(out: Path) -> None:
    """The clean run's report: its results, members, greedy weights and window counts."""
    report = json.loads((out / "report.json").read_text())
    assert set(report["results"]) == {"baseline", "best single", "ensemble"}
    # the file, given relative, recorded as the stages ran it: absolute (report.md's Baseline)
    [path] = [o.split("=", 1)[1] for o in report["overrides"] if o.startswith("dataset.path=")]
    assert Path(path).is_absolute() and f"`dataset=csv dataset.path={path} " in (
        out / "report.md").read_text()
    # the baseline (the trials' epoch budget), and the top 2 configurations: their trial and
    # one more seed each
    assert report["members"][0] == str(out / "a_baseline") and len(report["members"]) == 5
    weights = report["ensemble_weights"]
    assert set(weights) <= set(report["members"]) and sum(weights.values()) == pytest.approx(1)
    results = report["results"]  # greedy selection starts from the best single run
    assert results["ensemble"]["val_mse"] <= results["best single"]["val_mse"] * (1 + 1e-6)
    members = [Path(m) for m in report["members"]]  # the streamed Gram predicts the score
    w = np.array([weights.get(str(m), 0.0) for m in members])
    gram = error_gram(members, "val")
    assert w @ gram @ w == pytest.approx(results["ensemble"]["val_mse"], rel=1e-6)
    # each member re-forecasts its own validation windows as it scored them (its look-back's
    # rows, the training rows' scaler), and the rows report the runs they name
    own = {str(m): read_metrics(m)["val_mse"] for m in members}
    np.testing.assert_allclose(np.diag(gram), [own[str(m)] for m in members], rtol=1e-5)
    assert report["best_single"] == min(own, key=own.__getitem__)
    assert results["best single"]["val_mse"] == pytest.approx(own[report["best_single"]],
                                                              rel=1e-5)
    assert results["baseline"]["val_mse"] == pytest.approx(own[str(out / "a_baseline")],
                                                           rel=1e-5)
    for scores in report["results"].values():
        assert scores["n_test_windows"] == N_ROWS - TEST_START - 24 + 1  # every test window
    stage_runs = [p for p in out.rglob("metrics.json")]
    assert len(stage_runs) == 1 + 1 + 2 + 2 + 2  # a, b, d, e (pruned trials too), f
    for path in stage_runs:
        metrics = json.loads(path.read_text())
        assert metrics["splits_read"] == ["train", "val"], path
        assert not [k for k in metrics if k.startswith(("test_", "n_test"))], path
        card = json.loads((path.parent / "protocol.json").read_text())  # a pruned trial's too
        assert card["split"]["splits_read"] == ["train", "val"], path
        assert ("pruned" in card) == bool(metrics.get("pruned")), path
    assert f"| ensemble | {len(weights)} |" in (out / "report.md").read_text()
    # plots=false: no run's nor search's pictures; (b)'s range test and (c)'s ACF, which
    # the stages' lines point to, stay
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "b_lr_find/lr_find.png", "c_lookback/acf.png"]
    assert "Scores: MSE and MAE of every channel (features=M)" in (out / "report.md").read_text()
    found = json.loads((out / "b_lr_find" / "lr_find.json").read_text())
    assert [report["lr"]["low"], report["lr"]["high"]] == list(
        lr_range(found["min_loss_lr"], 10.0))


def without_test_scores(report: dict) -> dict:
    """``report`` without stage (g)'s test scores (its validation scores stay)."""
    results = {name: {k: v for k, v in scores.items() if not k.startswith(("test_", "n_test"))}
               for name, scores in report["results"].items()}
    return {**report, "results": results}


def check_stages_before_g_never_see_the_test_rows(clean: Path, replaced: Path,
                                                  refit: bool = False) -> None:
    """Checked from the outside: with the test rows replaced by a huge period-7 pattern,
    stages (a)-(f) write exactly the same files (look-backs, learning-rate range test,
    trials and their objectives, best configurations, every run's weights, curves and
    metrics), and so do (g)'s refits on train+val rows; the report makes the same choices
    (members, ensemble weights, validation scores); only the test scores of (g) change.
    Console logs, which carry clock times, are left out."""

    def stage_files(out: Path) -> dict:
        return snapshot(out, skip=lambda name: name in FINAL or Path(name).name in (
            CLOCK_FILE, LOCK_FILE, SWEEP_LOCK) or name.endswith(".log"))  # locks hold a pid

    files = stage_files(clean)
    kinds = ["lookback.yaml", "lr_find.json", "trials.csv", "best.ckpt", "metrics.json"]
    refits = [f"g_refit/a_baseline/seed_{s}/checkpoints/best.ckpt" for s in (2021, REFIT_SEED)]
    for kind in kinds + (refits if refit else []):
        assert any(name.endswith(kind) for name in files), kind  # what the comparison covers
    assert differences(files, stage_files(replaced)) == []
    report, other = (content(out / "report.json") for out in (clean, replaced))
    assert without_test_scores(report) == without_test_scores(other)
    stages = [content(out / "tune.json")["stages"] for out in (clean, replaced)]
    for record in stages:
        record["g_report"] = without_test_scores(record["g_report"])
    assert stages[0] == stages[1]
    for name, scores in report["results"].items():  # the replaced rows did reach stage (g)
        assert scores["test_mse"] != other["results"][name]["test_mse"], name


@pytest.mark.heavy(240)
def test_quick_recipe_end_to_end_never_sees_the_test_rows_before_g(tmp_path: Path) -> None:
    """The recipe on the synthetic series and on the same series with its test rows
    replaced by a huge period-7 pattern (same paths: see tests/unseen.py). One test for
    both checks, so that the two recipe runs are made once in the suite."""
    clean, replaced = outputs_of_both(tmp_path, series(N_ROWS), TEST_START, run_tune)
    check_the_quick_recipe_end_to_end(clean)
    check_stages_before_g_never_see_the_test_rows(clean, replaced)
    check_the_ensembles_forecast(clean, tmp_path / "moved")


def check_the_ensembles_forecast(out: Path, moved: Path) -> None:
    """tsbench-forecast of a finished tuning folder: the weighted mean of the future
    forecasts of the ensemble's members, each member's refits (one per seed, sharing its
    weight) where (g) refitted, else its model trained on the published training rows (a
    CV run's last fold); read from the folder moved elsewhere."""
    report = json.loads((out / "report.json").read_text())
    expected: pd.DataFrame | int = 0
    for member, weight in report["ensemble_weights"].items():
        seeds = report.get("refit_seeds", {}).get(member)
        runs = ([out / "g_refit" / Path(member).relative_to(out) / f"seed_{seed}"
                 for seed in seeds] if seeds else [holdout_model_dir(Path(member))])
        for run_dir in runs:
            expected = expected + weight / len(runs) * future(run_dir)
    assert isinstance(expected, pd.DataFrame)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    shutil.move(out, moved)  # report.json names the runs where they were made
    try:
        proc = run_module("tsbench.forecast", [str(moved)], env, cwd=moved.parent)
        assert proc.returncode == 0, proc.stderr[-2000:]
        printed = pd.read_csv(io.StringIO(proc.stdout), parse_dates=["date"], index_col="date")
        pd.testing.assert_frame_equal(printed, expected, check_freq=False, rtol=1e-6)
        refused = run_module("tsbench.forecast", [str(moved), "--split", "test"], env)
        assert refused.returncode == 2 and "it forecasts the future with the ensemble it " \
            "chose" in refused.stderr
    finally:
        shutil.move(moved, out)


#: The ratio split of the synthetic series: training rows [0, 420), validation rows [420, 480).
TRAIN_END, VAL_END = 420, 480


def check_cross_validated_selection(out: Path) -> None:
    """With ``recipe.cv_folds=2`` every compared run is cross-validated on two blocks as long
    as the validation split, the last one the published split; (g) chooses on the folds'
    mean and out-of-fold errors and scores each chosen run's last fold."""
    report = json.loads((out / "report.json").read_text())
    assert report["selection"] == "2-fold time-series CV"
    members = [Path(m) for m in report["members"]]
    for member in members:
        metrics = read_metrics(member)
        assert metrics["cv_folds"] == [{"train": [0, 360], "val": [360, TRAIN_END]},
                                       {"train": [0, TRAIN_END], "val": [TRAIN_END, VAL_END]}]
    objective = {str(m): read_metrics(m)["cv_val_mse_mean"] for m in members}
    best = report["best_single"]
    assert objective[best] == min(objective.values())
    gram = cv_error_gram(members)  # out-of-fold errors: equal blocks give the folds' mean
    np.testing.assert_allclose(np.diag(gram), list(objective.values()), rtol=1e-5)
    results = report["results"]
    assert results["best single"]["objective"] == pytest.approx(objective[best], rel=1e-5)
    # the scored model is the last fold's: its validation score is the fold's own
    assert results["best single"]["val_mse"] == pytest.approx(
        read_metrics(Path(best))["fold_1_val_mse"], rel=1e-5)
    weights = report["ensemble_weights"]
    w = np.array([weights.get(str(m), 0.0) for m in members])
    assert w @ gram @ w == pytest.approx(results["ensemble"]["objective"], rel=1e-6)
    assert results["ensemble"]["objective"] <= objective[best] * (1 + 1e-6)
    for scores in results.values():
        assert scores["n_test_windows"] == N_ROWS - TEST_START - 24 + 1
    # (e) learns from the baseline too: first row of its warm start, told to the optimizer
    with open(out / "e_warm_start.csv", newline="") as handle:
        warm = list(csv.DictReader(handle))
    assert float(warm[0]["objective"]) == objective[str(out / "a_baseline")]
    assert (warm[0]["seq_len"], warm[0]["optim.lr"], warm[0]["model.patch_len"]) == (
        "48", "0.002", "16")
    assert f"warm start: {len(warm)} trials" in (out / "e_bayes.log").read_text()


#: The extra seed every refit of the CV recipe test is also trained with.
REFIT_SEED = 7


def check_the_refits(out: Path) -> None:
    """(g) also scores its choices trained again on the train+val rows: each refit is its
    run's configuration, trained with the run's seed and with REFIT_SEED on rows [0, VAL_END)
    for the folds' median best epoch (rounded up), scaled as the published training rows,
    and never scored by itself; the refit rows score every test window with the weights
    chosen on the folds, a run's weight split evenly over its two seeds' forecasts."""
    report = json.loads((out / "report.json").read_text())
    results = report["results"]
    assert set(results) == {f"{name}{refit}" for name in ("baseline", "best single", "ensemble")
                            for refit in ("", " refit")}
    chosen = {str(out / "a_baseline"), report["best_single"], *report["ensemble_weights"]}
    assert set(report["refit_epochs"]) == set(report["refit_seeds"]) == chosen
    bags = {}
    for run, epochs in report["refit_epochs"].items():
        source = Path(run)
        theirs = content(source / "config.yaml")
        assert report["refit_seeds"][run] == [theirs["seed"], REFIT_SEED]
        bags[run] = [out / "g_refit" / source.relative_to(out) / f"seed_{seed}"
                     for seed in report["refit_seeds"][run]]
        for refitted, seed in zip(bags[run], report["refit_seeds"][run], strict=True):
            metrics, card = read_metrics(refitted), content(refitted / "protocol.json")
            assert epochs == metrics["epochs"] == np.ceil(
                read_metrics(source)["cv_best_epoch_median"])
            ours = content(refitted / "config.yaml")
            assert metrics["n_train_windows"] == VAL_END - int(ours["seq_len"]) - 24 + 1
            assert card["split"]["refit"]["train"] == [0, VAL_END]
            assert card["scaler"]["fitted_rows"] == [0, TRAIN_END]
            assert metrics["splits_read"] == ["train", "val"]  # trained on val; test never read
            for key in ("model", "optim", "data", "seq_len"):
                assert ours[key] == theirs[key], (run, key)
            # how the look-back was chosen: the source run's (searched for a trial's)
            source_card = content(source / "protocol.json")
            assert [card["seq_len"][k] for k in ("policy", "searched_on")] == [
                source_card["seq_len"][k] for k in ("policy", "searched_on")], run
            assert ours["seed"] == metrics["seed"] == seed
    trial_card = content(out / "d_random" / "0" / "protocol.json")
    assert trial_card["seq_len"]["policy"] == "searched"
    assert content(out / "a_baseline" / "protocol.json")["seq_len"]["policy"] == "fixed"
    retrained = list((out / "f_retrain").glob("*/seed_*"))
    assert retrained
    for run_dir in retrained:  # a configuration the searches chose, look-back included
        assert content(run_dir / "protocol.json")["seq_len"]["searched_on"] == trial_card[
            "seq_len"]["searched_on"], run_dir
    assert results["ensemble refit"]["objective"] == results["ensemble"]["objective"]
    for name in ("baseline refit", "best single refit", "ensemble refit"):
        assert results[name]["n_test_windows"] == N_ROWS - TEST_START - 24 + 1
        assert "val_mse" not in results[name]
        assert results[name]["test_mse"] != results[name.removesuffix(" refit")]["test_mse"]
    # the baseline's refit row is the mean forecast of its two seeds, not either alone
    bag = bags[str(out / "a_baseline")]
    assert results["baseline refit"]["test_mse"] == pytest.approx(
        score_runs(bag, ["test"])["test_mse"], rel=1e-6)
    for alone in bag:
        assert results["baseline refit"]["test_mse"] != pytest.approx(
            score_runs([alone], ["test"])["test_mse"], rel=1e-6)


@pytest.mark.heavy(250)
def test_cross_validated_selection_never_sees_the_test_rows_before_g(tmp_path: Path) -> None:
    """``recipe.cv_folds=2`` (2 trials a search, the best configuration retrained; the
    baseline's learning rate inside the searched range) and ``recipe.refit`` with one more
    seed: the choices are the CV folds', the refits train on the train+val rows, and stages
    (a)-(f) and the refits write the same files when the test rows are replaced."""
    def run(path: Path, out: Path) -> None:
        run_tune(path, out, "recipe.cv_folds=2", "recipe.top_k=1", "optim.lr=0.002",
                 "recipe.refit=true", f"recipe.refit_seeds=[{REFIT_SEED}]")

    clean, replaced = outputs_of_both(tmp_path, series(N_ROWS), TEST_START, run)
    check_cross_validated_selection(clean)
    check_the_refits(clean)
    check_stages_before_g_never_see_the_test_rows(clean, replaced, refit=True)
    check_the_ensembles_forecast(clean, tmp_path / "moved")


@pytest.mark.heavy(70)
def test_a_killed_tuning_run_resumes_without_rerunning_ended_trials(tmp_path: Path) -> None:
    """kill -9 while the random search's first trial runs (nothing recorded but the sweep's
    record/), the same command again, SIGTERM to tsbench-tune alone after a trial ended (it
    says so and where it resumes), then the same command once more: it finishes, and every
    trial that had ended (and the stages before) is kept as it was, not run again."""
    frame = series(N_ROWS)
    data, out = tmp_path / "series.csv", tmp_path / "out"
    frame.to_csv(data, index=False)
    recipe = [o for o in RECIPE if not o.startswith("recipe.top_k=")]
    recipe.append("recipe.top_k=1")  # RECIPE's 2 trials a search, 1 retrained
    argv = ["dataset=csv", f"dataset.path={data}", *recipe, f"out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    trials = out / "d_random" / "trials.csv"

    said = tmp_path / "stderr"

    def kill_when(ready: Callable[[], bool], group: bool) -> list[int]:
        """Start the command; once ``ready``, SIGKILL its process group, or SIGTERM
        tsbench-tune alone; the processes it had started, still running."""
        said.write_text("")
        proc = Started("tsbench.tune.cli", argv, env, cwd=ROOT, new_session=True,
                       stderr=said)
        deadline = time.monotonic() + 600
        while not ready():
            assert proc.poll() is None and time.monotonic() < deadline, "not reached"
            time.sleep(0.01)
        started = descendants(proc.pid)
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # as `kill` or a scheduler would: its stage is not this process's child
            os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait() == (-signal.SIGKILL if group else 128 + signal.SIGTERM)
        deadline = time.monotonic() + 30
        while running(started) and time.monotonic() < deadline:
            time.sleep(0.2)
        return running(started)

    assert kill_when(lambda: (out / "d_random" / "record" / "jobs" / "0.json").is_file(),
                     group=True) == []
    assert not trials.exists()  # the first trial was running: only the record holds it
    # tsbench-tune alone: its stage (a random-search sweep) and trials stop with it, so the
    # command run again does not run the stage twice over in one folder
    assert kill_when(lambda: trials.is_file() and len(trials.read_text().splitlines()) >= 2,
                     group=False) == []
    assert said.read_text().splitlines()[-1] == (
        f"tsbench-tune: stopped by SIGTERM; what the stages wrote so far is in {out}: the "
        "same command again resumes there")
    before = {row["trial"]: row for row in csv.DictReader(io.StringIO(trials.read_text()))}
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")
              if p.is_file() and p.parent.name != "record" and "record" not in p.parts
              and p.name not in (STATE_FILE, CLOCK_FILE, LOCK_FILE, SWEEP_LOCK, "trials.csv",
                                 "best.yaml", "d_random.log",
                                 "multirun.yaml", "search.yaml")  # the sweep's own record
              and not (p.name.startswith(".") and p.suffix == ".tmp")  # a write the kill cut
              and not p.suffix == ".png"}
    assert not (out / "report.json").exists() and before

    resumed = run_module("tsbench.tune.cli", argv, env=env, cwd=ROOT, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (out / "report.json").is_file()
    after = {row["trial"]: row for row in csv.DictReader(io.StringIO(trials.read_text()))}
    for number, row in before.items():  # ended trials kept: same job, same score
        assert {k: after[number][k] for k in ("job", "status", "objective")} == {
            k: row[k] for k in ("job", "status", "objective")}, number
    assert len(after) == 2
    changed = [str(p) for p, stamp in stamps.items() if p.stat().st_mtime_ns != stamp]
    assert changed == []  # no run of stages (a)-(c) or of an ended trial was written again

    finished = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*")
                if p.is_file()}
    # the report's command is this run's: run again, it finds its settings unchanged
    command = re.search(r"^Command: `(.*)`", (out / "report.md").read_text(), re.M)[1]
    assert "recipe=" not in command  # the recipe's own fields, as given on top of default
    words = shlex.split(command)
    if os.environ.get("PYTHONPATH"):  # where a user's own modules are found: it leads
        assert words.pop(0) == f"PYTHONPATH={os.path.abspath(os.environ['PYTHONPATH'])}"
    assert words[0] == "tsbench-tune"
    again = run_module("tsbench.tune.cli", words[1:], env=env, cwd=ROOT, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "is finished: its report stays as it was written" in again.stderr
    assert (out / "report.md").read_text() in again.stdout  # the report, printed again
    now = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert now == finished  # a finished folder is left as it is, report.md included


@pytest.mark.heavy
@pytest.mark.parametrize(("now", "said"), [
    (["trainer.num_threads=2", "recipe.top_k=3"],
     "(recipe.top_k: 2 then, 3 now) -> run the same command to resume it"),
    (["trainer.num_threads=1"], "(overrides: trainer.num_threads=2 only then, "
                                "trainer.num_threads=1 only now)"),
    ([], "(overrides: trainer.num_threads=2 only then, none only now)"),
])
def test_a_folder_started_with_other_settings_is_refused_naming_each_difference(
        tmp_path: Path, now: list[str], said: str, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    then = ["model=dlinear", "dataset=csv", f"dataset.path={tmp_path / 'none.csv'}",
            "recipe=quick", "trainer.num_threads=2", f"out={out}"]
    overrides, recipe, _ = parse(then)
    TuneState.open(out, {"overrides": overrides, "recipe": OmegaConf.to_container(recipe)}
                   ).save()
    assert main([*then[:4], *now, f"out={out}"]) == 2
    assert f"tsbench-tune: error: out: {out} holds a tuning run started with other settings " \
           f"{said}" in capsys.readouterr().err
    # the same settings, overrides in another order: not refused (it then reads the data)
    assert main(list(reversed(then))) == 2
    assert f"dataset.path: file {tmp_path / 'none.csv'} does not exist" in capsys.readouterr(
        ).err


def test_a_folder_whose_csv_file_changed_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Its stages ran on the file as it was: the same command on an edited file (a row
    appended, values revised) must not resume them."""
    data, out = tmp_path / "series.csv", tmp_path / "out"
    frame = series(N_ROWS)
    frame.to_csv(data, index=False)
    command = ["model=dlinear", "dataset=csv", f"dataset.path={data}", "recipe=quick",
               f"out={out}"]
    overrides, recipe, _ = parse(command)
    TuneState.open(out, {"overrides": overrides, "recipe": OmegaConf.to_container(recipe),
                         **data_settings(composed(overrides))}).save()
    old = hashlib.sha256(data.read_bytes()).hexdigest()
    frame.iloc[-1, 1:] += 1.0
    frame.to_csv(data, index=False)
    new = hashlib.sha256(data.read_bytes()).hexdigest()
    assert main(command) == 2
    assert (f"out: {out} holds a tuning run started with other settings (the CSV file's "
            f"sha256: {old[:12]} then, {new[:12]} now (its stages ran on the file as it was)) "
            "-> restore the file to resume it, or give a new out=DIR to tune on the new "
            "file") in capsys.readouterr().err
    # a finished folder stays as it was written: its report is printed again, with a word
    state = json.loads((out / STATE_FILE).read_text())
    state["stages"]["g_report"] = {}
    (out / STATE_FILE).write_text(json.dumps(state))
    (out / "report.json").write_text("{}")
    (out / "report.md").write_text("# the report\n")
    assert main(command) == 0
    said = capsys.readouterr()
    assert said.out.startswith("# the report\n")
    assert (f"out: {out}: the CSV file has changed since this finished run (sha256 "
            f"{old[:12]} then, {new[:12]} now); its report stays as it was written"
            ) in caplog.text
    # a folder of a tsbench that kept no digest: not told apart by it
    assert state_differences({"overrides": overrides}, {"overrides": overrides,
                                                        DATA_KEY: new}) == []


@pytest.mark.parametrize(("override", "said"), [
    ("trainer.max_epochs=5", "trainer.max_epochs: not a setting of tsbench-tune's command: "
                             "every stage sets it -> set recipe.max_epochs"),
    ("score_test=true", "score_test: not a setting of tsbench-tune's command: stages (a)-(f) "
                        "never score the test split, (g) scores it once -> drop it"),
    ("+cv.gap=4", "cv.gap: not a setting of tsbench-tune's command: tsbench-tune decides how "
                  "its runs are validated: on the validation split, or with recipe.cv_folds=k "
                  "on k folds of time-series cross-validation whose last trains on the "
                  "published training rows, as (g) scores them -> drop it, and set "
                  "recipe.cv_folds"),
    ("hydra.sweeper.n_jobs=2", "hydra.sweeper.n_jobs: not a setting of tsbench-tune's "
                               "command: (d) and (e) set it -> set recipe.n_jobs"),
    ("hydra.sweeper.n_trials=9", "hydra.sweeper.n_trials: not a setting of tsbench-tune's "
     "command: (d) and (e) set their sweeper from the recipe -> drop it: tsbench-tune --help "
     "lists the recipe's fields"),
    ("search=dlinear_tune", "search: not a setting of tsbench-tune's command: (d) and (e) "
     "search the model's tuning space, and stage (a) would become a search of its own -> "
     "choose the space with recipe.space=<name>"),
    ("optim.base_batch_size=64", "optim.base_batch_size: not a setting of tsbench-tune's "
     "command: the searches and refits move the learning rate from the batch size the range "
     "test (b) ran at -> drop it (optim.lr_scaling chooses the rule; the square-root one by "
     "default)"),
    ("tune.lr_find=true", "tune.lr_find: not a setting of tsbench-tune's command: (b) runs "
     "the range test; a run of any other stage would run its own and train at its suggestion, "
     "not at the learning rate searched or chosen -> drop it (tune.lr_find_min_lr, _max_lr "
     "and _num_training set (b)'s test)"),
    ("-m", "-m: tsbench-tune runs its own sweeps -> drop it"),
    ("--cfg", "--cfg: tsbench-tune has no --cfg -> run tsbench <the same overrides> --cfg job "
              "to see the config every stage composes"),
    ("hydra.mode=MULTIRUN", "hydra.mode: not a setting of tsbench-tune's command: each stage "
                            "runs one run or one sweep, as the recipe says -> drop it"),
])
def test_a_setting_the_stages_set_themselves_is_refused(
        override: str, said: str, capsys: pytest.CaptureFixture) -> None:
    """The stages' own value came after it and replaced it without a word (a baseline of
    three epochs where one was asked; cv.gap moving the folds off the published rows that
    (g) scales by), or reached every stage (tune.lr_find: each trial trained at its own range
    test's suggestion, the searched optim.lr unused)."""
    assert main(["dataset=ili", "model=dlinear", override]) == 2
    assert capsys.readouterr().err == f"tsbench-tune: error: {said}\n"


@pytest.mark.parametrize(("override", "said"), [
    ("+seed=3", "Could not append to config. An item is already at 'seed'. Either remove + "
                "prefix: 'seed=3' Or add a second + to add or override 'seed': '++seed=3' -> "
                "check the command's overrides, which every stage gives tsbench: tsbench "
                "dataset=ili model=dlinear +seed=3 --cfg job says the same, and prints the "
                "config they compose once fixed (tsbench --help lists the config groups)"),
    ("model.d_model=[1", "cannot read the override 'model.d_model=[1' (no viable alternative "
                         "at input '[1') -> check its syntax; a value holding , ; : = ( ) [ ] "
                         "{ } or spaces needs Hydra's quotes inside the shell's, e.g. "
                         "\"dataset.sep=';'\" or \"dataset.decimal=','\""),
])
def test_an_override_hydra_cannot_compose_is_refused_as_tsbench_would_say_it(
        override: str, said: str, capsys: pytest.CaptureFixture) -> None:
    """The overrides are the stages' tsbench ones: one Hydra cannot read is said in
    tsbench's words; another error of Hydra's names the tsbench command that shows it (it
    named ``tsbench --cfg job``, the default config, and tsbench-tune has no --cfg)."""
    assert main(["dataset=ili", "model=dlinear", override]) == 2
    assert capsys.readouterr().err == f"tsbench-tune: error: {said}\n"


def test_a_range_test_a_preset_turns_on_is_refused_and_false_turns_it_off(
        tmp_path: Path) -> None:
    """A preset (here a config file of the user's) that sets tune.lr_find: true would reach
    every stage as the command's did: refused before any folder, with the command's
    ``tune.lr_find=false`` as the fix, which tsbench-tune lets in."""
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "finder.yaml").write_text(
        "# @package _global_\ntune:\n  lr_find: true\n")
    command = ["dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48",
               "pred_len=24", f"hydra.searchpath=[file://{tmp_path}]", "experiment=finder"]
    with pytest.raises(TsbenchError) as refused:
        check_command(command)
    assert str(refused.value).startswith(
        "tune.lr_find: True in the composed config (a preset or config file sets it): every "
        "stage would run its own range test")
    assert str(refused.value).endswith("-> add tune.lr_find=false to the command ((b) runs "
                                       "the range test)")
    check_not_owned([*command, "tune.lr_find=false"])
    check_command([*command, "tune.lr_find=false"])


def test_a_folder_stopped_before_its_first_stage_ended_keeps_its_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """tune.json is written before stage (a): a command with other settings was let into a
    folder stopped in (a), both logs in one file. Its files are recorded as absolute paths:
    the same command from another folder resumes it."""
    def stopped_in_a(t: Tuning) -> dict:
        raise KeyboardInterrupt

    monkeypatch.setattr("tsbench.tune.recipe.run_stages", stopped_in_a)
    series(N_ROWS).to_csv(tmp_path / "series.csv", index=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    command = ["dataset=csv", "dataset.path=series.csv", "model=dlinear", "seq_len=48",
               "pred_len=24", "recipe=quick", f"out={out}"]
    assert main(command) == 130
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    absolute = [f"dataset.path={tmp_path / 'series.csv'}" if o.startswith("dataset.path")
                else o for o in command]
    assert main(absolute) == 130  # let in: the same settings
    assert main([*absolute, "seed=7"]) == 2
    assert ("holds a tuning run started with other settings (overrides: none only then, "
            "seed=7 only now) -> run the same command to resume it, or give a new out=DIR (no "
            f"stage of it has finished: deleting {out} starts it anew with this command)"
            ) in capsys.readouterr().err


def test_the_commands_warnings_are_said_before_the_stages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """A target named under features=M: every column is tuned for, which tsbench says; the
    stages said it in their logs alone. On stderr in every command's form, the progress
    lines in tsbench-tune's own (the handler main() sets up, not pytest's)."""
    def stopped(t: Tuning) -> dict:
        raise KeyboardInterrupt

    monkeypatch.setattr("tsbench.tune.recipe.run_stages", stopped)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as a console script starts
    out = tmp_path / "out"
    assert main(["dataset=ili", "dataset.target=OT", "model=dlinear", "recipe=quick",
                 f"out={out}"]) == 130
    said = capsys.readouterr().err.splitlines()
    assert [line for line in said if ": warning: " in line] == [
        "tsbench-tune: warning: dataset.target=OT with features=M: every column is forecast "
        "and scored (test_mse is their mean), OT only plotted -> add features=MS to score OT "
        "alone from all columns, or features=S to forecast it from itself"]
    assert f"[tsbench-tune] outputs in {out}" in said


@pytest.mark.parametrize(("spike_at", "folds", "warned"), [
    (VAL_SPIKE, [], True), (None, [], False), (VAL_SPIKE, ["recipe.cv_folds=4"], False)])
def test_an_unusual_validation_period_is_said_once_before_the_stages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        spike_at: int | None, folds: list[str], warned: bool) -> None:
    """A week's spike in the validation rows steers every choice: said once before stage
    (a), with the fix; not for a plain series, nor where the choices are made on folds."""
    def stopped(t: Tuning) -> dict:
        raise KeyboardInterrupt

    monkeypatch.setattr("tsbench.tune.recipe.run_stages", stopped)
    path = spiked_csv(tmp_path / "demand.csv", spike_at)
    with caplog.at_level("WARNING", logger="tsbench.tune"):
        assert main(["dataset=csv", f"dataset.path={path}", "dataset.target=east",
                     "features=S", "seq_len=28", "pred_len=14", "model=dlinear",
                     "recipe=quick", *folds,
                     f"out={tmp_path / 'out'}"]) == 130
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == int(warned)
    assert not warned or (said[0].startswith("the validation rows are unusual: the seasonal "
                                             "naive forecast's MSE there is ")
                          and "-> choose on cross-validation folds: add recipe.cv_folds=4"
                          in said[0])


def test_a_relative_path_written_absolute_is_the_same_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """report.md's command writes the folder's relative paths absolute, so that it reruns
    from anywhere; run from where the folder was started, it resumes it."""
    monkeypatch.chdir(tmp_path)
    then = {"overrides": ["dataset.path=sales.csv", "hydra.searchpath=[file://conf]"]}
    now = {"overrides": [f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
                         f"dataset.path={tmp_path / 'sales.csv'}"]}
    assert state_differences(then, now) == []
    moved = {"overrides": [now["overrides"][0], f"dataset.path={tmp_path / 'b' / 'sales.csv'}"]}
    assert state_differences(then, moved) == [
        f"overrides: dataset.path={tmp_path / 'sales.csv'} only then, "
        f"dataset.path={tmp_path / 'b' / 'sales.csv'} only now"]


@pytest.mark.heavy(40)
def test_a_budget_too_short_for_one_full_trial_ends_with_the_baseline_and_the_budget_that_fits(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """No search trial runs its full budget: the run ends with the baseline (it ran the
    trials' full budget), scored as usual, instead of exit 2 with the baseline's work
    thrown away; a warning before the searches, report.md and the last lines give a
    trial's cost and a budget that buys one per search. --help lists the fields.

    The same finished run is on a series with a week's spike in its validation rows: one
    unusual-validation warning line, first, and the same line in report.md and in the
    stage runs' own logs, not in their stage logs too (one run of the suite for both)."""
    data, out = spiked_csv(tmp_path / "demand.csv", VAL_SPIKE), tmp_path / "out"
    argv = [sys.executable, "-m", "tsbench.tune.cli", "dataset=csv", f"dataset.path={data}",
            "dataset.target=east", "features=S",
            *[o for o in RECIPE
              if not o.startswith(("recipe.budget_hours", "pred_len", "data.batch_size"))],
            "pred_len=14", "data.batch_size=32", "recipe.budget_hours=0.0001",
            "recipe.max_epochs=40", "recipe.patience=0", f"out={out}"]
    # each search's one trial is stopped at its deadline (1 s: 40 epochs of 5 batches
    # outlast it; 10 tiny epochs did not always, and the trial ran its full budget)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = run_module("tsbench.tune.cli", argv[3:], env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (unusual,) = [line.split("warning: ", 1)[1] for line in proc.stderr.splitlines()
                  if "the validation rows are unusual" in line]
    assert f"**Warning: {unusual}**" in (out / "report.md").read_text()
    for stage in ("a_baseline", "b_lr_find"):  # in each run's own log, not its stage's output
        assert unusual in (out / stage / "tsbench.log").read_text()
        assert "the validation rows are unusual" not in (out / f"{stage}.log").read_text()
    state = json.loads((out / STATE_FILE).read_text())["stages"]
    epoch = state["a_baseline"]["seconds_per_epoch"]
    fix = re.search(r"a trial of recipe.max_epochs=40 takes about (\S+(?: s)?) \(([\d.]+) s an "
                    r"epoch, the baseline's, and up to ([\d.]+) s besides its epochs\): raise "
                    r"recipe.budget_hours to ([\d.]+) or more, or lower recipe.max_epochs \(with "
                    r"a new out=DIR: (\S+) keeps the recipe it started with\)", proc.stderr)
    assert fix and float(fix[2]) == pytest.approx(epoch, abs=0.05) and fix[5] == str(out)
    # a tiny model's epochs cost less than its start: the trial's time holds both
    start = state["a_seconds"] - read_metrics(out / "a_baseline")["train_seconds"]
    assert float(fix[3]) == pytest.approx(start, rel=0.05)
    warning = proc.stderr.index("tsbench-tune: warning: the searches' time looks too short "
                                "for one trial to run its full budget, so the run may end with "
                                "the baseline alone")
    assert warning < proc.stderr.index("(d) random search")
    said = ("no search trial ran its full budget (recipe.max_epochs=40), so the run ends with "
            f"the baseline: every result is the preset's -> {fix[0]}")
    assert f"tsbench-tune: warning: (f) nothing to retrain: {said}" in proc.stderr
    assert proc.stderr.rstrip().endswith(f"tsbench-tune: warning: {said}")
    assert f"**Short budget: {said}**" in proc.stdout
    assert proc.stderr.splitlines()[:2] == [f"tsbench-tune: warning: {unusual}",
                                            f"[tsbench-tune] outputs in {out}"]
    report = json.loads((out / "report.json").read_text())
    baseline = str(out / "a_baseline")
    assert report["members"] == [baseline] and report["best_single"] == baseline
    assert report["ensemble_weights"] == {baseline: 1.0} and report["top_configs"] == []
    scores = {name: row["test_mse"] for name, row in report["results"].items()}
    assert set(scores) == {"baseline", "best single", "ensemble"}
    assert len(set(scores.values())) == 1
    # each row's test scores in the file's units too: the baseline's forecasts of every test
    # window and their actuals, inverse-transformed with the training rows' scaler
    model, data = load_ensemble([Path(baseline)], ["test"])
    every = list(range(len(data.windows("test"))))
    _, truth, forecast = forecast_windows(model, data, "test", every)
    error = forecast - truth
    for row in report["results"].values():
        assert row["test_mse_orig"] == pytest.approx(float(error.pow(2).mean()), rel=1e-6)
        assert row["test_mae_orig"] == pytest.approx(float(error.abs().mean()), rel=1e-6)
    row = report["results"]["ensemble"]
    cells = next(line for line in (out / "report.md").read_text().splitlines()
                 if line.startswith("| ensemble |")).split(" | ")[4:]
    assert cells[:2] == [f"{row['test_mse']:.4f}", f"{row['test_mae']:.4f}"]
    for cell, key in zip(cells[2:], ORIGINAL_SCORES, strict=True):  # 5 digits each
        assert float(cell.rstrip(" |")) == pytest.approx(row[key], rel=1e-4)
    assert (out / "report.md").read_text() in proc.stdout
    # in this process: neither promise is about a fresh one (each start imports torch anew)
    capsys.readouterr()
    assert main(["--help"]) == 0
    helped = capsys.readouterr().out
    assert all(f"\n{field}:" in helped for field in parse([])[1])
    summary = ROOT / "benchmarks" / "tune_summary.py"  # exits non-zero on a folder it refuses
    monkeypatch.setattr(sys, "argv", [str(summary), str(out)])
    monkeypatch.syspath_prepend(str(summary.parent))  # as `python benchmarks/...` runs it
    runpy.run_path(str(summary), run_name="__main__")
    assert "Final scores (g), every window:" in capsys.readouterr().out


def test_a_folder_that_another_tsbench_tune_runs_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)
    out.mkdir()
    argv = ["dataset=csv", f"dataset.path={data}", *RECIPE, f"out={out}"]
    with held(out / LOCK_FILE, str):  # as a tsbench-tune in another terminal holds it
        assert main(argv) == 2
    assert capsys.readouterr().err.startswith(
        f"tsbench-tune: error: out={out}: another tsbench-tune (pid {os.getpid()}) is running "
        f"this tuning run -> wait for it to end, or stop it (kill -INT {os.getpid()}), then "
        "run the same command again to resume\n")
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # no stage started


def test_only_an_error_once_the_stages_began_points_to_what_they_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stage that fails leaves its folder to look at; a command refused (here another
    budget for that folder) changed nothing, and says nothing of it."""
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)

    def stage_fails(t: Tuning) -> None:
        (out / "a_baseline").mkdir()
        raise StageFailed(f"stage a_baseline failed (exit 1): boom; see {out}/a_baseline.log")

    monkeypatch.setattr("tsbench.tune.recipe.run_stages", stage_fails)
    command = ["dataset=csv", f"dataset.path={data}", *RECIPE, f"out={out}"]
    assert main(command) == 2
    assert capsys.readouterr().err.endswith(
        f"boom; see {out}/a_baseline.log\ntsbench-tune: what the stages wrote so far is in "
        f"{out}\n")
    assert main([*command, "recipe.budget_hours=2"]) == 2
    said = capsys.readouterr().err
    assert f"tsbench-tune: error: out: {out} holds a tuning run started with other " in said
    assert "so far" not in said


def test_the_folder_is_read_again_once_the_lock_is_held(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tsbench-tune that held the folder during this one's checks may have moved on: what
    it recorded (here: another command's run, started meanwhile) is what counts."""
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)

    def another_run_started(overrides: list[str]) -> None:
        out.mkdir()
        (out / "tune.json").write_text(json.dumps(
            {"settings": {"overrides": ["model=dlinear"], "recipe": {}}, "stages": {}}))

    monkeypatch.setattr("tsbench.tune.recipe.check_command", another_run_started)
    assert main(["dataset=csv", f"dataset.path={data}", *RECIPE, f"out={out}"]) == 2
    assert f"tsbench-tune: error: out: {out} holds a tuning run started with other settings" \
        in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["tune.json", LOCK_FILE]  # no stage ran


def test_a_value_that_cannot_resolve_is_one_line_before_any_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """``pred_len=${oops}`` without out=: the folder named after the command reads the
    horizon, which raised OmegaConf's traceback; now the line tsbench says for it."""
    monkeypatch.chdir(tmp_path)
    assert main(["dataset=etth1", "model=dlinear", "pred_len=${oops}"]) == 2
    assert capsys.readouterr().err == (
        "tsbench-tune: error: pred_len: Interpolation key 'oops' not found -> check the ${...} "
        "in its value (tsbench --cfg job shows every setting)\n")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_out_is_refused(capsys: pytest.CaptureFixture) -> None:
    assert main(["dataset=etth1", "model=dlinear", "out="]) == 2  # not the working directory
    assert capsys.readouterr().err == (
        "tsbench-tune: error: out: empty -> give the tuning run's folder (out=DIR), or leave "
        "out= off for one named after the command\n")


def test_a_folder_of_something_else_is_refused_as_it_is(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "multirun"
    (out / "0").mkdir(parents=True)
    (out / "multirun.yaml").write_text("hydra: {}\n")
    assert main(["dataset=etth1", "model=dlinear", f"out={out}"]) == 2
    assert capsys.readouterr().err == (
        f"tsbench-tune: error: out: {out} holds the output of something else (multirun.yaml), "
        "not a tsbench-tune run -> give a new or empty out=DIR\n")  # no stage wrote there
    assert sorted(p.name for p in out.iterdir()) == ["0", "multirun.yaml"]
    killed = tmp_path / "killed"  # killed in stage (a), before tune.json: resumed as it is
    (killed / "a_baseline").mkdir(parents=True)
    for stray in (".tune_clock.json.x1y2.tmp", "nohup.out"):  # a cut write, the user's log
        (killed / stray).write_text("")
    assert TuneState.open(killed, {}).stages == {}


def test_a_file_system_without_locks_runs_unlocked_with_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_flock(handle: object, operation: int) -> None:
        raise OSError(38, "Function not implemented")  # Lustre mounted with noflock

    monkeypatch.setattr("tsbench.folder_lock.fcntl.flock", no_flock)
    ran = []
    with held(tmp_path / LOCK_FILE, str):
        ran.append(True)
    assert ran == [True]
    assert "cannot lock" in caplog.text and "Function not implemented" in caplog.text


def test_ctrl_c_says_how_to_resume_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(overrides: list[str], recipe: object, out: Path) -> None:
        (out / "a_baseline").mkdir(parents=True)
        raise KeyboardInterrupt  # Ctrl-C during stage (a)

    monkeypatch.setattr("tsbench.tune.cli.run_recipe", interrupted)
    out = tmp_path / "out"
    assert main(["dataset=etth1", "model=dlinear", f"out={out}"]) == 130
    assert capsys.readouterr().err == (
        f"tsbench-tune: interrupted; what the stages wrote so far is in {out}: the same "
        "command again resumes there\n")

    def before_a_stage(overrides: list[str], recipe: object, out: Path) -> None:
        out.mkdir(parents=True)
        (out / "tune.lock").touch()
        raise KeyboardInterrupt  # Ctrl-C while the first stage starts

    monkeypatch.setattr("tsbench.tune.cli.run_recipe", before_a_stage)
    out = tmp_path / "early"
    assert main(["dataset=etth1", "model=dlinear", f"out={out}"]) == 130
    assert capsys.readouterr().err == (
        f"tsbench-tune: interrupted; the same command again starts in {out}\n")


@pytest.mark.heavy(30)
def test_sigint_to_tsbench_tune_alone_ends_its_stage_with_it(tmp_path: Path) -> None:
    """``kill -INT <pid>``, as the busy-folder message names it: the stage under way, which
    the signal did not reach, ran on for minutes past the interrupted line, its time not
    counted. tsbench-tune now ends at once, and the stage with it (its watch); a resume
    counts the time to the stop. Its fork server is a fork of itself, not a fresh
    interpreter importing torch and Lightning a second time."""
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)
    long_baseline = ["recipe.max_epochs=2000", "recipe.patience=2000"]  # ~40 s of stage (a)
    argv = ["dataset=csv", f"dataset.path={data}", *RECIPE, *long_baseline, f"out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with Started("tsbench.tune.cli", argv, env, cwd=ROOT, new_session=True) as proc:
        deadline, seen = time.monotonic() + 120, None
        while not (out / "a_baseline" / "config.yaml").is_file():  # stage (a) under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.output()
            if seen is None and (out / STATE_FILE).is_file():  # as the clock starts
                seen = time.monotonic()
            time.sleep(0.05)
        seen = seen or time.monotonic()
        own, *below = [command_line(pid) for pid in [proc.pid, *descendants(proc.pid)]]
        stopped = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        while group_alive(proc.pid):  # the stage and the fork server end with it
            assert time.monotonic() - stopped < 30, "a stage outlived tsbench-tune"
            time.sleep(0.1)
        ended = time.monotonic() - stopped
    assert proc.returncode == 130 and "tsbench-tune: interrupted;" in err
    first = json.loads((out / STATE_FILE).read_text())  # a resume counts the time to the stop
    assert TuneState.open(out, first["settings"]).spent_before >= first["spent_seconds"] + (
        stopped - seen)
    assert ended < 15, ended  # its few seconds' grace, not the stage's ~40 s
    # its fork server, and the stage forked from it, are forks of tsbench-tune (which had
    # imported torch and Lightning): no fresh interpreter imported them again
    fresh = [c for c in below if c not in (own, None) and "resource_tracker" not in c]
    assert fresh == [] and own in below, (own, below)
    assert not (out / "a_baseline" / "metrics.json").exists()


def test_a_trial_shorter_than_the_least_time_a_search_gets_is_not_too_short(
        tmp_path: Path) -> None:
    """A search is given at least MIN_SEARCH_SECONDS however little time is left, so a
    trial that fits in it (a tiny model's) runs its full budget: no warning that the run
    will end with the baseline alone (it ended with its search trials)."""
    overrides, recipe, out = parse(["recipe=quick", "recipe.budget_hours=0.0001",
                                    "recipe.max_epochs=3", "recipe.refit=false",
                                    f"out={tmp_path}"])
    state = TuneState(out / STATE_FILE, {}, spent_before=30.0)  # (a)-(c) spent the budget
    state.stages = {"a_baseline": {"seconds_per_epoch": 0.02}, "a_seconds": 1.0}
    t = Tuning(overrides, recipe, out, state)
    state.stages["f_reserve"] = retrain_reserve(t)
    assert not searches_too_short(t)  # 0.06 s a trial, in the search's least 1 s
    state.stages["a_baseline"]["seconds_per_epoch"] = 0.5
    assert searches_too_short(t)  # 1.5 s a trial
    # what a run spends besides its epochs (the baseline's stage less its training) counts
    state.stages["a_baseline"]["seconds_per_epoch"] = 0.02
    (out / "a_baseline").mkdir(parents=True)
    (out / "a_baseline" / "metrics.json").write_text(json.dumps({"train_seconds": 0.5}))
    assert not searches_too_short(t)  # 0.06 s and 0.5 s to start
    state.stages["a_seconds"] = 6.5
    assert searches_too_short(t)  # 0.06 s and 6 s to start


@pytest.mark.parametrize("extra", [[], ["recipe.cv_folds=3", "recipe.random_share=0.7"]])
def test_the_budget_told_for_a_too_short_search_buys_each_search_one_full_trial(
        tmp_path: Path, extra: list[str]) -> None:
    """With the budget budget_fix names (the time already spent as it was), each search's
    share of what the reserve leaves holds one trial of max_epochs; 0.01 h less does not."""
    def tuning(hours: float) -> Tuning:
        overrides, recipe, out = parse(["recipe=quick", f"recipe.budget_hours={hours}",
                                        "recipe.refit=false", *extra, f"out={tmp_path}"])
        state = TuneState(out / STATE_FILE, {}, spent_before=100.0 + 40.0)  # (a) 100 s
        state.stages = {"a_baseline": {"seconds_per_epoch": 20.0}, "a_seconds": 100.0}
        t = Tuning(overrides, recipe, out, state)
        state.stages["f_reserve"] = retrain_reserve(t)
        return t

    t = tuning(0.01)
    assert searches_too_short(t)
    told = float(re.search(r"raise recipe.budget_hours to ([\d.]+)", budget_fix(t))[1])
    assert not searches_too_short(tuning(told))
    assert searches_too_short(tuning(told - 0.01))
    # after the searches ran (their time spent), the error names the budget the warning
    # before them named: the time before the searches is what it was then
    t.state.stages["searches_from"] = t.state.spent()
    before = budget_fix(t)
    t.state.spent_before += 600.0
    assert budget_fix(t) == before


def test_the_budget_fix_writes_its_seconds_as_a_clock_from_a_minute_up(tmp_path: Path) -> None:
    """A run's 150 s besides its epochs read ``0:02:30``, not ``1.5e+02 s``; a second below
    a minute stays in seconds."""
    overrides, recipe, out = parse(["recipe=quick", "recipe.budget_hours=0.01",
                                    "recipe.refit=false", f"out={tmp_path}"])
    state = TuneState(out / STATE_FILE, {}, spent_before=300.0)
    state.stages = {"a_baseline": {"seconds_per_epoch": 20.0}, "a_seconds": 250.0}
    (out / "a_baseline").mkdir(parents=True)
    (out / "a_baseline" / "metrics.json").write_text(json.dumps({"train_seconds": 100.0}))
    told = budget_fix(Tuning(overrides, recipe, out, state))
    assert "and up to 0:02:30 besides its epochs" in told and "e+" not in told, told
    assert [duration(s) for s in (0.043, 45.2, 60.0, 3723.0)] == [
        "0.043 s", "45 s", "0:01:00", "1:02:03"]


def test_the_default_folder_is_the_same_for_the_same_settings_in_any_order() -> None:
    """Without out=, the same command resumes its folder; overrides in another order are
    the same command (Hydra composes them alike), other values are another folder."""
    command = ["model=dlinear", "dataset=ili", "pred_len=24", "recipe=quick",
               "recipe.top_k=3", "recipe.eta=4", "trainer.num_threads=2", "seed=7"]
    _, _, out = parse(command)
    assert out.parent == Path("outputs/tune") and out.name.startswith("ili-dlinear-24-")
    assert parse(list(reversed(command)))[2] == out
    for other in (["seed=8"], ["recipe.eta=5"], ["recipe=default"]):
        changed = [a for a in command if a.split("=")[0] != other[0].split("=")[0]]
        assert parse([*changed, *other])[2] != out


def test_the_default_folder_takes_a_file_written_relative_or_absolute_as_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``dataset.path=sales.csv`` and the same file's absolute path (as report.md's command
    writes it) are one command: one folder, which the other resumes. A folder named by the
    path as typed (a tsbench before this rule) is kept where its stages wrote."""
    monkeypatch.chdir(tmp_path)
    command = ["dataset=csv", "model=dlinear", "pred_len=12"]
    relative = parse([*command, "dataset.path=sales.csv"])[2]
    assert parse([*command, f"dataset.path={tmp_path / 'sales.csv'}"])[2] == relative
    for spelling in (f"'{tmp_path / 'sales.csv'}'", f"{tmp_path}/../{tmp_path.name}/sales.csv",
                     "./sales.csv"):  # quoted, through .., with ./
        assert parse([*command, f"dataset.path={spelling}"])[2] == relative, spelling
    assert parse([*command, "dataset.path=other.csv"])[2] != relative
    typed = Path("outputs/tune") / "-".join([
        "csv", "dlinear", "12", hashlib.sha256("\n".join(
            ["default", *sorted([*command, "dataset.path=sales.csv"])]).encode()).hexdigest()[:8]])
    assert typed != relative
    typed.mkdir(parents=True)
    (typed / "a_baseline").mkdir()
    assert parse([*command, "dataset.path=sales.csv"])[2] == typed


def test_a_killed_run_counts_the_time_of_its_unfinished_stage(tmp_path: Path) -> None:
    """tune.json is written when a stage ends; the clock's ticks keep the time of a stage
    that was running when ``tsbench-tune`` was killed (the budget counts it on resume)."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tsbench.tune.state import TuneState\n"
        "state = TuneState.open(Path(sys.argv[1]), {'overrides': []})\n"
        "state.finish('a_baseline', {})\n"
        "with state.clock(interval=0.1):\n"
        "    time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / CLOCK_FILE).is_file():
            assert proc.poll() is None and time.monotonic() < deadline, "no clock"
            time.sleep(0.05)
        time.sleep(1.5)  # the unfinished stage runs on
    finally:
        proc.kill()
        proc.wait()
    recorded = json.loads((tmp_path / STATE_FILE).read_text())["spent_seconds"]
    assert TuneState.open(tmp_path, {"overrides": []}).spent_before >= recorded + 1.4


def test_a_sigterm_where_nothing_handles_it_counts_its_time_and_still_ends(
        tmp_path: Path) -> None:
    """The clock of a caller that set no SIGTERM handler of its own (not tsbench-tune's
    command) counts the time to the signal too, and the signal still ends the process."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tsbench.tune.state import TuneState\n"
        "state = TuneState.open(Path(sys.argv[1]), {'overrides': []})\n"
        "state.save()\n"
        "with state.clock(interval=600):\n"
        "    print('ticking', flush=True)\n"
        "    time.sleep(600)\n")
    with subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline() == "ticking\n"
            seen = time.monotonic()  # after tune.json's figure was taken
            time.sleep(0.5)
            stopped = time.monotonic()
            proc.terminate()
            assert proc.wait(timeout=30) == -signal.SIGTERM
        finally:
            proc.kill()
    recorded = json.loads((tmp_path / STATE_FILE).read_text())["spent_seconds"]
    counted = TuneState.open(tmp_path, {"overrides": []}).spent_before
    assert counted >= recorded + (stopped - seen)


@pytest.mark.heavy
def test_a_sigterm_counts_the_time_to_the_signal(tmp_path: Path) -> None:
    """SIGTERM ends tsbench-tune at once, unwinding nothing: the time since the clock's last
    tick (up to its 5 s) went uncounted. It now counts to the signal: stopped a second
    after tune.json was written, before the clock's first tick, a resume counts it."""
    data, out = tmp_path / "series.csv", tmp_path / "out"
    series(N_ROWS).to_csv(data, index=False)
    long_baseline = ["recipe.max_epochs=2000", "recipe.patience=2000"]  # ~40 s of stage (a)
    argv = ["dataset=csv", f"dataset.path={data}", *RECIPE, *long_baseline, f"out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    deadline = time.monotonic() + 120
    with Started("tsbench.tune.cli", argv, env, cwd=ROOT, new_session=True) as proc:
        try:
            absent = time.monotonic()  # a moment before which tune.json was not written
            while True:  # it is written as the clock starts
                looked = time.monotonic()
                if (out / STATE_FILE).is_file():
                    break
                absent = looked
                assert proc.poll() is None and looked < deadline, proc.output()
                time.sleep(0.01)
            seen = time.monotonic()
            time.sleep(1)  # the clock's first tick comes 5 s after its start
            stopped = time.monotonic()
            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(timeout=30) == 128 + signal.SIGTERM  # at once, not the stage's end
            ended = time.monotonic()
        finally:
            with contextlib.suppress(ProcessLookupError):  # the stage and the fork server
                os.killpg(proc.pid, signal.SIGKILL)
    first = json.loads((out / STATE_FILE).read_text())
    counted = TuneState.open(out, first["settings"]).spent_before  # what a resume counts
    # tune.json's figure: the time spent when it was written, between absent and seen (less
    # its write's milliseconds, 0.5 s on a busy machine at most); the signal's: between
    # stopped and ended
    assert first["spent_seconds"] + (stopped - seen) <= counted <= (
        first["spent_seconds"] + (ended - absent) + 0.5)


def test_an_interrupted_run_counts_its_time_to_the_interrupt(tmp_path: Path) -> None:
    """Ctrl-C between two ticks of the clock: the time since the last tick counts too (an
    interrupted run's resume lost 2-4 s of its budget's time each time)."""
    state = TuneState.open(tmp_path, {"overrides": []})
    state.finish("a_baseline", {})
    with pytest.raises(KeyboardInterrupt), state.clock(interval=600):
        time.sleep(0.5)
        raise KeyboardInterrupt
    assert TuneState.open(tmp_path, {"overrides": []}).spent_before >= 0.5
    # a clock that cannot be written (its folder replaced by a file) does not hide the
    # interrupt
    gone = TuneState.open(tmp_path / "gone", {"overrides": []})
    gone.finish("a_baseline", {})
    with pytest.raises(KeyboardInterrupt), gone.clock(interval=600):
        shutil.rmtree(tmp_path / "gone")
        (tmp_path / "gone").write_text("")
        raise KeyboardInterrupt


def test_the_stages_use_the_series_and_model_a_preset_chose(tmp_path: Path) -> None:
    # experiment=dlinear_ili chooses the ILI file, DLinear and pred_len 24 with no dataset=,
    # model= or pred_len= on the command line: (c) must analyse ILI (weekly, period 52), not
    # the default ETTh1 (hourly, period 24), and (d, e) search DLinear's space, not PatchTST's
    assert parse(["experiment=dlinear_ili"])[2].name.startswith("ili-dlinear-24-")
    overrides, recipe, out = parse(["experiment=dlinear_ili", "logger=none",
                                    f"out={tmp_path}"])
    baseline = out / "a_baseline"
    proc = run_module("tsbench", [*overrides, "trainer.max_epochs=1", "score_test=false",
                                  "trainer.progress_bar=false", f"hydra.run.dir={baseline}"],
                      cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert analysis_args(baseline, overrides) == ["dataset=ili", "pred_len=24", "features=M"]
    tuning = Tuning(overrides, recipe, out, TuneState.open(out, {"overrides": overrides}))
    found = lookbacks(tuning)
    assert found and all(v % 52 == 0 for v in found), found
    lr = {"low": 1e-4, "high": 1e-2, "batch_size": 32}
    assert search_args(tuning, lr, found)[0] == "search=dlinear_tune"


def _trials(sweep_dir: Path, rows: list[tuple[str, str, str, float]], seed: int = 2021
            ) -> None:
    """A stage's trials.csv: (status, objective, patch_len, seconds) per trial; each trial's
    job folder holds its config (its ``seed``: the command's, tsbench's default 2021)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    lines = ["trial,job,status,objective,seconds,model.patch_len,job_dir,error"]
    lines += [f"{i},{i},{status},{objective},{seconds},{patch},{i}," for i, (status, objective,
              patch, seconds) in enumerate(rows)]
    (sweep_dir / "trials.csv").write_text("\n".join(lines) + "\n")
    for i in range(len(rows)):
        (sweep_dir / str(i)).mkdir(exist_ok=True)
        (sweep_dir / str(i) / "config.yaml").write_text(f"seed: {seed}\n")


def _tuning(tmp_path: Path, *fields: str) -> Tuning:
    overrides, recipe, out = parse([*fields, f"out={tmp_path / 'out'}"])
    return Tuning(overrides, recipe, out, TuneState.open(out, {}))


def test_the_configurations_retrained_are_the_best_full_budget_ones_each_once(
        tmp_path: Path) -> None:
    """Pruned and failed trials are no candidates (a pruned trial's early objective is not a
    full-budget one); a configuration found by both searches counts once, at its best."""
    t = _tuning(tmp_path)
    _trials(t.out / "d_random", [("ok", "0.3", "8", 5.0), ("pruned", "0.05", "4", 1.0),
                                 ("ok", "0.1", "16", 6.0), ("failed", "", "32", 0.5)])
    _trials(t.out / "e_bayes", [("ok", "0.2", "24", 7.0), ("ok", "0.15", "16", 8.0)])
    configs = top_configs(t)
    assert [(c["objective"], c["params"]) for c in configs] == [
        (0.1, {"model.patch_len": "16"}), (0.2, {"model.patch_len": "24"}),
        (0.3, {"model.patch_len": "8"})]
    assert configs[0]["run"] == str(t.out / "d_random" / "2") and configs[0]["seconds"] == 6.0


def test_an_unreadable_stage_record_is_one_clear_error(tmp_path: Path) -> None:
    """A stage's trials.csv that is no readable CSV (binary) is a one-line error naming it
    and the fix (tsbench-tune's main prints it), not a traceback."""
    t = _tuning(tmp_path)
    _trials(t.out / "d_random", [("ok", "0.3", "8", 5.0)])
    path = t.out / "d_random" / "trials.csv"
    path.write_bytes(b"\x00\x9f\x92\x96" * 50)
    with pytest.raises(TsbenchError) as caught:
        top_configs(t)
    assert str(caught.value) == (
        f"out: {path} is not a readable CSV file ('utf-8' codec can't decode byte 0x9f in "
        "position 1: invalid start byte) -> restore the file, or give a new out=DIR")
    # a row cut short (a file truncated by hand or a full disk), or a score that is no
    # number: float(None), a traceback, before
    header = "trial,job,status,objective,seconds,model.patch_len,job_dir,error\n"
    for row, why in [("0,0,ok\n", "has 3 fields, its header 8"),
                     ("0,0,ok,0.3,5.0,8,0,,x,y\n", "has 10 fields, its header 8"),
                     ("0,0,ok,abc,5.0,8,0,\n", "objective 'abc' is no number"),
                     ("0,0,ok,0.3,soon,8,0,\n", "seconds 'soon' is no number")]:
        path.write_text(header + row)
        with pytest.raises(TsbenchError) as caught:
            top_configs(t)
        assert str(caught.value) == (f"out: {path} line 2 {why} -> restore the file, or give "
                                     "a new out=DIR")


def test_without_a_full_budget_trial_retraining_ends_with_the_baseline_unless_it_diverged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """(f) with no search trial at full budget leaves (g) the baseline, naming the budget
    that fits; a diverged baseline is no model to end with: the run stops saying so."""
    t = _tuning(tmp_path, "recipe.max_epochs=40")
    t.state.stages.update(a_baseline={"seconds_per_epoch": 2.0}, f_reserve=0.0)
    _trials(t.out / "d_random", [("pruned", "0.05", "4", 1.0), ("failed", "", "32", 0.5)])
    (t.out / "a_baseline").mkdir()
    (t.out / "a_baseline" / "metrics.json").write_text('{"objective": 0.5}')
    with caplog.at_level("INFO", logger="tsbench.tune"):
        assert retrain(t, {"batch_size": 32}) == {"runs": [], "configs": []}
    assert ("(f) nothing to retrain: no search trial ran its full budget (recipe.max_epochs=40), "
            "so the run ends with the baseline: every result is the preset's -> a trial of "
            "recipe.max_epochs=40 takes about 0:01:20") in caplog.text
    (t.out / "a_baseline" / "metrics.json").write_text('{"objective": NaN}')
    with pytest.raises(StageFailed, match=r"no search trial ran its full budget and the "
                       r"baseline diverged \(val MSE nan\): no model to end with -> a trial"):
        retrain(t, {"batch_size": 32})


def test_a_resumed_retraining_stage_trains_only_the_runs_not_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = _tuning(tmp_path, "recipe.top_k=1", "recipe.seeds=[1,2]", "recipe.refit=false")
    _trials(t.out / "d_random", [("ok", "0.1", "16", 6.0)])
    done = t.out / "f_retrain" / "1" / "seed_1"  # finished before the kill
    done.mkdir(parents=True)
    (done / "metrics.json").write_text("{}")
    (done / "config.yaml").write_text("seed: 1\n")
    launched: list[str] = []
    monkeypatch.setattr(recipe_module, "run_stage",
                        lambda stage, command, out: launched.append(stage))
    ran = retrain(t, {"batch_size": 32})
    assert launched == ["f_retrain_1_2"]
    assert ran["runs"] == [str(done), str(t.out / "f_retrain" / "1" / "seed_2")]


def test_retraining_skips_a_seed_the_search_trial_ran_with(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A command's ``seed=1`` is its trials' seed too: (f) with ``recipe.seeds=[1,2]``
    trains seed 2 alone (seed 1 would repeat the search trial, a full-budget run spent on a
    copy of a member the ensemble already has)."""
    t = _tuning(tmp_path, "seed=1", "recipe.top_k=1", "recipe.seeds=[1,2]",
                "recipe.refit=false")
    _trials(t.out / "d_random", [("ok", "0.1", "16", 6.0)], seed=1)
    launched: list[str] = []
    monkeypatch.setattr(recipe_module, "run_stage",
                        lambda stage, command, out: launched.append(stage))
    with caplog.at_level("INFO", logger="tsbench.tune"):
        ran = retrain(t, {"batch_size": 32})
    assert launched == ["f_retrain_1_2"]
    assert ran["runs"] == [str(t.out / "f_retrain" / "1" / "seed_2")]
    assert "(f) configuration 1/1, seed 1: its search trial ran with it" in caplog.text
    # a folder whose seed-1 copy an older tsbench trained keeps it: it resumes to its choices
    done = t.out / "f_retrain" / "1" / "seed_1"
    done.mkdir(parents=True)
    (done / "metrics.json").write_text("{}")
    (done / "config.yaml").write_text("seed: 1\n")
    launched.clear()
    assert retrain(t, {"batch_size": 32})["runs"] == [
        str(done), str(t.out / "f_retrain" / "1" / "seed_2")] and launched == ["f_retrain_1_2"]


def test_retraining_stops_where_a_run_and_the_refits_kept_for_g_would_overrun(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    t = _tuning(tmp_path, "recipe.top_k=1", "recipe.seeds=[1]")
    _trials(t.out / "d_random", [("ok", "0.1", "16", 200.0)])
    launched: list[str] = []
    monkeypatch.setattr(recipe_module, "run_stage",
                        lambda stage, command, out: launched.append(stage))
    monkeypatch.setattr(recipe_module, "refit_reserve", lambda *args: 500.0)
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 650.0)  # < 200 s + 500 s
    with caplog.at_level("INFO", logger="tsbench.tune"):
        assert retrain(t, {"batch_size": 32})["runs"] == [] and launched == []
    # the line says why with the time left, not "budget spent" and more "kept" than is left
    assert ("(f) 0 runs retrained: the next (about 0:03:20) and (g)'s refits (about "
            "0:08:20) need more than the 0:10:50 of the budget left; (g) runs its refits "
            "whatever is left") in caplog.text
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 750.0)
    assert len(retrain(t, {"batch_size": 32})["runs"]) == 1 and launched == ["f_retrain_1_1"]


def test_the_searches_split_the_time_left_less_what_f_keeps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(d) gets random_share of the search time, (e) the rest: the time left less (f)'s
    reserve when each starts."""
    t = _tuning(tmp_path, "recipe.random_share=0.4")
    t.state.stages["f_reserve"] = 1000.0
    (t.out / "a_baseline").mkdir(parents=True)
    (t.out / "a_baseline" / "metrics.json").write_text('{"objective": 0.5}')
    (t.out / "a_baseline" / "config.yaml").write_text("seq_len: 48\n")
    given: dict[str, float] = {}
    plans: dict[str, int] = {}

    def record(t: Tuning, stage: str, label: str, args: list[str], seconds: float,
               planned: int, *rest: object, **named: object) -> list[dict[str, str]]:
        given[stage], plans[stage] = seconds, planned
        return []

    monkeypatch.setattr(recipe_module, "sweep", record)
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 3600.0)
    ticks = iter(range(100))  # a clock that moves between any two readings (a busy machine)
    monkeypatch.setattr(type(t.state), "spent", lambda self: float(next(ticks)))
    random_search(t, [], epoch_seconds=10.0)
    bayes_search(t, [], epoch_seconds=10.0)
    assert given == {"d_random": 2600 * 0.4, "e_bayes": 2600}
    # where (d) ran, (e) plans at the pace its trials ended (13 s each), not by epochs
    assert plans["e_bayes"] == _first_guess(t, 2600, 10.0)
    _trials(t.out / "d_random", [("ok", "0.3", "8", 12.0), ("pruned", "0.5", "16", 14.0)])
    bayes_search(t, [], epoch_seconds=10.0)
    assert plans["e_bayes"] == 2600 // 13


def test_the_bayesian_search_plans_at_the_wall_time_the_random_searchs_trials_took(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A real (d) of two tiny trials, then (e)'s first plan. A tiny model's trial costs
    its sweep more than its run (Hydra's job, the record, the tell: 1.4 s a trial where
    trials.csv said 0.57 s), so (e) planned 208 trials at the runs' seconds and ran 40:
    its plan is what its time buys after (d)'s start at the wall time (d) took a trial, as
    the sweeper's record of launches and ends has them. (d), with no trial timed before
    it, says its plan is a first guess."""
    t = _tuning(tmp_path, "recipe=quick", "recipe.max_trials=2")
    t.state.stages["f_reserve"] = 0.0
    (t.out / "a_baseline").mkdir(parents=True)
    (t.out / "a_baseline" / "metrics.json").write_text('{"objective": 1.0}')
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 100.0)
    args = ["hydra/sweeper=skopt", *TINY, "score_test=false", "hydra.sweeper.plots=false",
            "optim.lr=tag(log,interval(0.001,0.01))", "hydra.sweeper.random_state=0"]
    called = time.time()
    with caplog.at_level("INFO", logger="tsbench.tune"):
        random_search(t, args, epoch_seconds=1.0)
    rows = read_rows(t.out / "d_random")
    assert len(rows) == 2
    first = caplog.records[0].getMessage()
    assert first.startswith("(d) random search: about 2 trials in 0:00:40, a first guess at "
                            "the baseline's pace (") and first.endswith(
        "to start), the sweeper's own time a trial not known yet; its progress lines revise "
        "it as trials end"), first
    jobs = [json.loads(p.read_text()) for p in (t.out / "d_random" / "record" / "jobs").glob(
        "*.json")]
    trial = (max(j["ended"] for j in jobs) - min(j["started"] for j in jobs)) / 2
    start = min(j["started"] for j in jobs) - called
    # (e), 600 s: the baseline is the first full-budget trial of (d), as the recipe has it
    shutil.copytree(t.out / "d_random" / rows[0]["job_dir"], t.out / "a_baseline",
                    dirs_exist_ok=True)
    plans: list[int] = []
    monkeypatch.setattr(recipe_module, "sweep", lambda t, stage, label, args, seconds,
                        planned, *rest, **kw: plans.append(planned) or [])
    monkeypatch.setattr(Tuning, "budget_left", lambda self: 600.0)
    t.recipe.max_trials = None  # (e)'s plan, not the cap that held (d) to two trials
    caplog.clear()
    with caplog.at_level("INFO", logger="tsbench.tune"):
        bayes_search(t, args, epoch_seconds=1.0)
    own = sum(float(row["seconds"]) for row in rows) / 2  # what the runs themselves took
    assert plans[0] == pytest.approx((600 - start) / trial, rel=0.1), (plans, start, trial)
    assert plans[0] < 600 / own  # the runs' own seconds leave out the sweep's time a trial
    assert f"about {plans[0]} trials in 0:10:00, at (d)'s measured pace (" in caplog.text
    assert "to start); its progress lines revise it as trials end" in caplog.text


def test_a_refit_trains_for_the_validation_chosen_epochs(tmp_path: Path) -> None:
    """The best epoch, not the epochs run (early stopping ran on past it); for a CV run the
    folds' median best epoch rounded up."""
    single, folds = tmp_path / "single", tmp_path / "folds"
    for run_dir, metrics in ((single, {"best_epoch": 3, "epochs": 8}),
                             (folds, {"cv_folds": [{}, {}], "cv_best_epoch_median": 2.5,
                                      "epochs": 12})):
        run_dir.mkdir()
        (run_dir / "metrics.json").write_text(json.dumps(metrics))
    assert refit_epochs(single) == 3 and refit_epochs(folds) == 3


def test_a_search_stage_without_time_left_says_so() -> None:
    """A run resumed after a search's share was spent said "about 3 trials in 0:00:00"; a
    first search's estimate says what it rests on and that it is revised; time for less
    than one trial (a tiny budget) says so and names the fix, instead of "about 3 trials"
    (recipe.min_trials) where one trial, stopped at the deadline, ran."""
    guess = SearchPlan(3, 1.4, 0.5, "a first guess at the baseline's pace")
    assert search_plan(guess, 0.0, 1) == ("1 trial ended before the resume, no time left of "
                                          "its share of the budget (the session before spent "
                                          "it)")
    assert search_plan(guess, -5.0, 1) == search_plan(guess, 0.0, 1)
    assert search_plan(SearchPlan(12, 1.9, 2.0, "at (d)'s measured pace"),
                       3725.0) == ("about 12 trials in 1:02:05, at (d)'s measured pace; its "
                                   "progress lines revise it as trials end")
    # one is one trial, ended before a resume or planned
    assert search_plan(SearchPlan(1, 1.9, 0.0, "x"), 3725.0).startswith("about 1 trial in 1:02:05")
    assert search_plan(SearchPlan(2, 1.9, 0.0, "x"), 60.0, 1) == (
        "1 trial ended before the resume, about 2 more in 0:01:00")
    for seconds in (0.0, 1.5):
        assert search_plan(guess, seconds, fix=lambda: "raise recipe.budget_hours to 0.01") == (
            f"0:00:0{int(seconds)} of the budget, less than one trial, a first guess at the "
            "baseline's pace: it starts one, which its deadline stops -> raise "
            "recipe.budget_hours to 0.01")
    assert search_plan(guess, 1.9).startswith("about 3 trials in 0:00:01")  # its start too


def test_trials_move_the_learning_rate_by_the_commands_rule_else_the_square_root_one(
        tmp_path: Path) -> None:
    """A command's optim.lr_scaling=linear was replaced in every trial by the sqrt rule
    without a word; the rate moves from the range test's batch size either way."""
    def rules(t: Tuning) -> list[str]:
        return [o for o in t.trial_base({"batch_size": 64}) if o.startswith("optim.lr_scaling")]

    assert rules(_tuning(tmp_path / "a")) == ["optim.lr_scaling=sqrt"]
    linear = _tuning(tmp_path / "b", "optim.lr_scaling=linear")
    assert rules(linear) == ["optim.lr_scaling=linear"]
    assert linear.trial_base({"batch_size": 64})[-1] == "optim.base_batch_size=64"


def test_retraining_trains_the_best_configurations_each_with_its_seed_and_full_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """(f) retrains the best top_k configurations, best first, each with every seed of
    ``recipe.seeds`` and the trials' overrides (full epoch budget, no logger, sqrt rule);
    its line names each configuration as the overrides a user could paste."""
    t = _tuning(tmp_path, "recipe.top_k=2", "recipe.seeds=[5]", "recipe.refit=false")
    _trials(t.out / "d_random", [("ok", "0.3", "8", 5.0), ("ok", "0.1", "16", 5.0),
                                 ("ok", "0.2", "24", 5.0)])
    launched: dict[str, list[str]] = {}
    monkeypatch.setattr(recipe_module, "run_stage",
                        lambda stage, command, out: launched.update({stage: command}))
    with caplog.at_level("INFO", logger="tsbench.tune"):
        ran = retrain(t, {"batch_size": 32})
    assert [r.getMessage().split("): ", 1)[1] for r in caplog.records] == [
        "model.patch_len=16", "model.patch_len=24"]
    assert as_overrides({"model.d_model": "64", "data.path": "my data.csv"}) == (
        "model.d_model=64 'data.path=my data.csv'")
    assert [c["params"] for c in ran["configs"]] == [{"model.patch_len": "16"},
                                                     {"model.patch_len": "24"}]
    assert list(launched) == ["f_retrain_1_5", "f_retrain_2_5"]
    for command, patch in zip(launched.values(), ("16", "24"), strict=True):
        assert f"model.patch_len={patch}" in command and "seed=5" in command
        assert set(t.trial_base({"batch_size": 32})) <= set(command)
        assert "trainer.max_epochs=30" in command and "optim.base_batch_size=32" in command


def test_the_bayesian_search_is_warm_started_with_the_best_full_budget_random_trials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """e_warm_start.csv: the baseline, then the best ``warm_start_top`` random trials that
    ran their full budget, best first (a pruned trial's early objective is no such point)."""
    t = _tuning(tmp_path, "recipe.warm_start_top=2")
    t.state.stages["f_reserve"] = 0.0
    (t.out / "a_baseline").mkdir(parents=True)
    (t.out / "a_baseline" / "metrics.json").write_text('{"objective": 0.5}')
    (t.out / "a_baseline" / "config.yaml").write_text("model:\n  patch_len: 12\n")
    _trials(t.out / "d_random", [("pruned", "0.05", "4", 1.0), ("ok", "0.3", "8", 5.0),
                                 ("ok", "0.1", "16", 6.0), ("failed", "", "32", 0.5),
                                 ("ok", "0.2", "24", 7.0)])
    monkeypatch.setattr(recipe_module, "sweep", lambda *args, **named: [])
    bayes_search(t, [], epoch_seconds=10.0)
    warm = list(csv.DictReader(io.StringIO((t.out / "e_warm_start.csv").read_text())))
    assert [(r["objective"], r["model.patch_len"], r["status"]) for r in warm] == [
        ("0.5", "12", "ok"), ("0.1", "16", "ok"), ("0.2", "24", "ok")]
    # (d)'s trial numbers kept, its job folders absolute: the file lies beside (d)'s folder
    assert [(r["trial"], r["job_dir"]) for r in warm[1:]] == [
        ("2", str(t.out / "d_random" / "2")), ("4", str(t.out / "d_random" / "4"))]


def test_the_baseline_seeds_the_bayesian_search_at_the_rate_it_trained_at(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command's ``optim.lr_scaling`` moves the baseline's rate (linear from 32 to its
    batch of 128: 4e-4 for optim.lr=1e-4); the trials move theirs (by that rule too) from the
    range test's batch size, the baseline's, where a trial trains at its optim.lr. Its row
    in e_warm_start.csv says the rate it trained at, not 1e-4."""
    t = _tuning(tmp_path)
    t.state.stages["f_reserve"] = 0.0
    (t.out / "a_baseline").mkdir(parents=True)
    (t.out / "a_baseline" / "metrics.json").write_text('{"objective": 0.5}')
    (t.out / "a_baseline" / "config.yaml").write_text(
        "optim:\n  lr: 0.0001\n  lr_scaling: linear\n  base_batch_size: 32\n"
        "data:\n  batch_size: 128\n")
    (t.out / "d_random").mkdir()
    (t.out / "d_random" / "trials.csv").write_text(
        "trial,job,status,objective,seconds,optim.lr,data.batch_size,job_dir,error\n"
        "1,0,ok,0.3,5.0,0.001,64,0,\n")
    monkeypatch.setattr(recipe_module, "sweep", lambda *args, **named: [])
    bayes_search(t, [], epoch_seconds=10.0)
    warm = list(csv.DictReader(io.StringIO((t.out / "e_warm_start.csv").read_text())))
    assert [(r["optim.lr"], r["data.batch_size"]) for r in warm] == [
        ("0.0004", "128"), ("0.001", "64")]


def test_the_learning_rate_is_searched_on_a_log_scale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Tuning, "model", "patchtst")  # as the baseline's record would say
    monkeypatch.setattr(Tuning, "plots", True)
    t = _tuning(tmp_path)
    args = search_args(t, {"low": 1e-4, "high": 1e-2, "batch_size": 32}, [48, 96])
    assert [a for a in args if a.startswith("optim.lr=")] == [
        "optim.lr=tag(log,interval(0.0001,0.01))"]
    assert "seq_len=choice(48,96)" in args


@pytest.mark.parametrize(("saved", "drawn"), [("plots: false\n", "false"),
                                              ("plots: true\n", "true"),
                                              ("seed: 1\n", "true")])  # an older tsbench's
def test_the_searches_draw_their_pictures_as_the_baseline_drew_its(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, saved: str, drawn: str) -> None:
    monkeypatch.setattr(Tuning, "model", "patchtst")
    t = _tuning(tmp_path)
    (t.out / "a_baseline").mkdir(parents=True)
    (t.out / "a_baseline" / "config.yaml").write_text(saved)
    args = search_args(t, {"low": 1e-4, "high": 1e-2, "batch_size": 32}, [48])
    assert [a for a in args if a.startswith("hydra.sweeper.plots=")] == [
        f"hydra.sweeper.plots={drawn}"]


def test_the_budget_figures_follow_the_recipe(tmp_path: Path) -> None:
    """The shorter search's share, a full trial's seconds (every fold), the trials planned
    without pruning (every trial runs max_epochs) and at least ``recipe.min_trials``."""
    assert smaller_search_share(_tuning(tmp_path, "recipe.random_share=0.7")) == (
        pytest.approx(0.3))
    assert smaller_search_share(_tuning(tmp_path, "recipe.random_share=0.2")) == (
        pytest.approx(0.2))
    folds = _tuning(tmp_path, "recipe.cv_folds=3", "recipe.max_epochs=10")
    folds.state.stages["a_baseline"] = {"seconds_per_epoch": 2.0}
    assert full_trial_seconds(folds) == pytest.approx(10 * 2.0 * 3)
    assert _first_guess(_tuning(tmp_path, "recipe.pruner=none"), 1000, 1.0) == 1000 // 30
    plain = _tuning(tmp_path, "recipe.min_trials=4")
    assert _first_guess(plain, 10, 1.0) == 4  # the time buys 1 ASHA trial


def test_a_refitted_runs_share_is_split_evenly_over_its_seeds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ensemble of 2 copies of one run (refitted with 2 seeds) and 1 of another (3
    seeds): its refit averages the five forecasts with weights 1/3, 1/3 and 1/9 each."""
    t = _tuning(tmp_path, "recipe.refit=true")
    a, b, c = (t.out / name for name in ("a_baseline", "b", "c"))
    bags = {a: 1, b: 2, c: 3}
    choice = scoring_module.Choice([a, b, c], np.eye(3), [0, 2, 1], a)
    monkeypatch.setattr(scoring_module, "candidates", lambda *args: [a, b, c])
    monkeypatch.setattr(scoring_module, "choose", lambda *args: choice)
    monkeypatch.setattr(scoring_module, "holdout_model_dir", lambda run: run)
    monkeypatch.setattr(scoring_module, "refit", lambda t, run: [
        run / f"seed_{s}" for s in range(bags[run])])
    monkeypatch.setattr(scoring_module, "refit_epochs", lambda run: 1)
    monkeypatch.setattr(scoring_module, "refit_bag", lambda t, run: list(range(bags[run])))
    scored: dict[tuple[Path, ...], list[float]] = {}

    def score(runs: list[Path], splits: list[str], weights: list[float]) -> dict:
        scored[tuple(runs)] = list(weights)
        return {}

    monkeypatch.setattr(scoring_module, "score_runs", score)
    scoring_module.final_scores(t, {"configs": [], "runs": []})
    weights = scored[(b / "seed_0", b / "seed_1", c / "seed_0", c / "seed_1", c / "seed_2")]
    assert np.allclose(np.array(weights) / sum(weights), [1 / 3, 1 / 3, 1 / 9, 1 / 9, 1 / 9])


def test_a_finished_refit_seed_is_not_run_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = _tuning(tmp_path, "recipe.refit_seeds=[1,2]")
    run = t.out / "e_bayes" / "0"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- model.patch_len=16\n- seed=3\n")
    (run / "config.yaml").write_text("seed: 3\n")
    (run / "metrics.json").write_text('{"best_epoch": 4}')
    done = t.out / "g_refit" / "e_bayes" / "0" / "seed_1"  # finished before a kill
    done.mkdir(parents=True)
    (done / "metrics.json").write_text("{}")
    (done / "config.yaml").write_text("seed: 1\n")
    launched: list[list[str]] = []
    monkeypatch.setattr("tsbench.tune.refit.run_stage",
                        lambda stage, command, out: launched.append(command))
    assert refit(t, run) == [done.parent / f"seed_{s}" for s in (3, 1, 2)]
    assert len(launched) == 1 and "seed=3,2" in launched[0]
    assert "trainer.max_epochs=4" in launched[0]


def test_a_report_names_its_selection_and_only_a_cv_one_the_last_fold_note() -> None:
    scores = {"objective": 0.27, "val_mse": 0.21, "test_mse": 1.9, "test_mae": 0.8}
    summary = {
        "command": "tsbench-tune out=o", "wall_seconds": 61.0,
        "lr": {"suggestion": 1e-4, "low": 1e-5, "high": 1e-3}, "lookbacks": [104],
        "stages": {"d_random": {"trials": 4, "full_budget": 1}},
        "members": ["out/a_baseline"], "best_single": "out/a_baseline",
        "results": {"baseline": scores}, "top_configs": [],
        "ensemble_weights": {"out/a_baseline": 1.0}, "scored": "every channel (features=M)",
    }
    note = "Scored models: each run's last fold"
    cv = render_report({**summary, "selection": "3-fold time-series CV"})
    assert "Selection objective: MSE on 3-fold time-series CV" in cv and note in cv
    plain = render_report({**summary, "selection": "validation"})
    assert "Selection objective: MSE on validation" in plain and note not in plain


def _run_stages_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                     ) -> tuple[dict[str, int], list[tuple[list[dict], LookbackBound]], Tuning,
                                Tuning]:
    """run_stages with every stage stubbed, then resumed: the calls of the baseline and of
    the reserve, what the range-edge note read (the configurations, (c)'s limits), and the
    first and the resumed session. The reserve would differ on a second call; two
    configurations searched, one retrained; (c)'s analysis of 1000 training rows at
    pred_len=96 under a cap of 720."""
    configs = [{"params": {"model.patch_len": p}, "objective": o, "run": "r", "seconds": 1.0}
               for p, o in (("16", 0.1), ("24", 0.2))]
    calls = {"baseline": 0, "reserve": 0}
    edges: list[tuple[list[dict], LookbackBound]] = []

    def count(name: str, result: object) -> Callable[..., object]:
        def work(*args: object) -> object:
            calls[name] += 1
            return result if name != "reserve" else 100.0 * calls[name]
        return work

    stub = {"baseline": count("baseline", {"objective": 0.5, "seconds_per_epoch": 1.0}),
            "retrain_reserve": count("reserve", None),
            "lr_find": lambda t: {"suggestion": 1e-3, "low": 1e-4, "high": 1e-2,
                                  "batch_size": 32},
            "lookbacks": lambda t: [48], "search_args": lambda *args: [],
            "searches_too_short": lambda t: False,
            "random_search": lambda *args: {"trials": 2, "full_budget": 2},
            "bayes_search": lambda *args: {"trials": 0, "full_budget": 0},
            "retrain": lambda t, lr: {"runs": [], "configs": configs[:1]},
            "final_scores": lambda t, retrained: {}, "top_configs": lambda t: configs,
            "search_edges": lambda dirs, found, bound: edges.append((found, bound)) or "",
            "scored_channels": lambda run: "every channel (features=M)"}
    for name, value in stub.items():
        monkeypatch.setattr(recipe_module, name, value)
    first = _tuning(tmp_path)
    (first.out / "c_lookback").mkdir(parents=True)
    (first.out / "c_lookback" / "lookback.yaml").write_text(yaml.safe_dump(
        {"periods": [24], "candidates": [48, 96, 192], "longest_lookback": 404,
         "training_rows": [0, 1000], "pred_len": 96, "max_lookback": 720}))
    recipe_module.run_stages(first)
    again = _tuning(tmp_path)
    recipe_module.run_stages(again)
    return calls, edges, first, again


def test_a_resumed_run_keeps_its_baseline_time_and_its_reserve(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resuming runs no recorded stage again: the baseline's seconds and (f)'s reserve are
    the first session's."""
    calls, _, first, again = _run_stages_twice(tmp_path, monkeypatch)
    assert calls["baseline"] == 1
    assert again.state.stages["a_seconds"] == first.state.stages["a_seconds"]
    assert again.state.stages["f_reserve"] == first.state.stages["f_reserve"] == 100.0


def test_the_range_edge_note_reads_every_searched_configuration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every distinct full-budget configuration of both searches, not only the top_k that
    (f) retrained."""
    _, edges, _, _ = _run_stages_twice(tmp_path, monkeypatch)
    assert [[c["params"]["model.patch_len"] for c in found] for found, _ in edges] == [
        ["16", "24"], ["16", "24"]]


def test_the_range_edge_note_is_told_the_limit_of_the_look_backs_that_applied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(c)'s analysis of the run read back: half of its 1000 training rows less pred_len,
    404, under recipe.max_seq_len's 720, and its period (a resumed session's too)."""
    _, edges, _, _ = _run_stages_twice(tmp_path, monkeypatch)
    assert [bound for _, bound in edges] == [
        LookbackBound(half=404, cap=720, cap_rule="recipe.max_seq_len", periods=(24,))] * 2


def test_without_a_period_the_ladder_keeps_the_longest_look_back_that_fits(
        tmp_path: Path) -> None:
    """No period found: the common look-backs up to the longest that fits, that one
    included (192 when 192 fits exactly)."""
    t = _tuning(tmp_path, "recipe.n_lookbacks=6")
    (t.out / "c_lookback").mkdir(parents=True)
    (t.out / "c_lookback" / "lookback.yaml").write_text(
        "candidates: []\nperiods: []\nlongest_lookback: 192\ntraining_rows: [0, 576]\n"
        "pred_len: 96\nmax_lookback: 720\n")
    (t.out / "a_baseline").mkdir()
    (t.out / "a_baseline" / "config.yaml").write_text("seq_len: 96\n")  # one of the ladder
    assert lookbacks(t) == [48, 96, 192]


def test_a_model_tuning_space_that_does_not_compose_is_refused_before_any_folder(
        toy_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # without the check the searches took it for none and ran seq_len and optim.lr only
    data, out, conf = tmp_path / "series.csv", tmp_path / "out", tmp_path / "conf"
    series(N_ROWS).to_csv(data, index=False)
    (conf / "search").mkdir(parents=True)
    (conf / "search" / "toy_tune.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /hydra/sweeper: skopt\n"
        "  - override /model: toy\n  - override /optim: adamww\n")
    # a folder of its own (toy_dir's conf may hold another test's toy_tune.yaml)
    shutil.copytree(toy_dir / "conf" / "model", conf / "model")
    searchpath = f"hydra.searchpath=[file://{conf}]"
    command = [o for o in RECIPE if not o.startswith("model")]
    assert main(["dataset=csv", f"dataset.path={data}", *command, "model=toy", searchpath,
                 f"out={out}"]) == 2
    assert ("search/toy_tune.yaml (the space the searches (d) and (e) tune in): "
            "optim: no option 'adamww' -> did you mean optim=adamw? Else use one of"
            ) in capsys.readouterr().err
    assert not out.exists()
    # a value valid only beside a searched look-back is the constraints' to judge: a patch
    # of 32 against the command's look-back of 24
    assert check_tuning_space(["model=patchtst", "seq_len=24", "pred_len=8"], None) is None


def test_a_tuning_space_of_the_users_that_tsbenchs_own_hides_is_refused_before_any_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # Hydra reads tsbench's search/patchtst_tune.yaml first: the user's was never searched
    data, out, conf = tmp_path / "series.csv", tmp_path / "out", tmp_path / "conf"
    series(N_ROWS).to_csv(data, index=False)
    (conf / "search").mkdir(parents=True)
    mine = (OWN_CONFIGS / "search" / "patchtst_tune.yaml").read_text().replace(
        "interval(0.0, 0.5)", "interval(0.0, 0.3)")
    (conf / "search" / "patchtst_tune.yaml").write_text(mine)
    searchpath = f"hydra.searchpath=[file://{conf}]"
    assert main(["dataset=csv", f"dataset.path={data}", *RECIPE, searchpath,
                 f"out={out}"]) == 2
    assert capsys.readouterr().err == (
        f"tsbench-tune: error: {conf}/search/patchtst_tune.yaml: never read, tsbench's own "
        "search/patchtst_tune.yaml hides it (Hydra reads tsbench's configs before the folders "
        "of hydra.searchpath) -> rename it, e.g. search/my_patchtst_tune.yaml, and choose it "
        "with recipe.space=my_patchtst_tune\n")
    assert not out.exists()
    (conf / "search" / "patchtst_tune.yaml").rename(conf / "search" / "my_patchtst_tune.yaml")
    command = ["dataset=csv", f"dataset.path={data}", "model=patchtst", searchpath]
    assert check_tuning_space(command, "my_patchtst_tune") is None
