"""A user's own model with a wrong output or constructor, or whose forecast of a window reads
the other windows of its batch or what it forecast before, fails before training, through the
real CLI: one line naming what came back and what was expected (and check_model for the
whole contract), exit code 2, no traceback, no run folder left; on every path a run trains
or fits by (holdout, cv=tscv folds, a recursive strategy, an untrained or classical model).
The models are in tests/models/faulty_models.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, run_tsbench

ENV = {"PYTHONPATH": str(ROOT)}
FAULTY = "model._target_=tests.models.faulty_models."
#: What every shape error ends with.
CONTRACT = (r"; tsbench\.models\.contract\.check_model\({cls}, \.\.\.\) checks the whole "
            "model contract")
DIRECT = "return (batch, pred_len, n_vars) with the pred_len and n_vars that __init__ gets"
MODULE = "tests.models.faulty_models."
#: How far a forecast moved, as the errors write it.
GAP = r"\d[\d.e+-]*"

CASES = {
    "one_channel": (
        ["model=naive", f"{FAULTY}OneChannel"],
        re.escape(f"model._target_: {MODULE}OneChannel.forward returned shape (2, 12, 1) for "
                  "training windows x of shape (2, 48, 3), expected (batch, pred_len, n_vars) "
                  f"= (2, 12, 3) -> {DIRECT}") + CONTRACT.format(cls="OneChannel")),
    "lookback_steps": (
        ["model=naive", f"{FAULTY}LookbackSteps"],
        re.escape(f"model._target_: {MODULE}LookbackSteps.forward returned shape (2, 48, 3) "
                  "for training windows x of shape (2, 48, 3), expected (batch, pred_len, "
                  f"n_vars) = (2, 12, 3) -> {DIRECT}") + CONTRACT.format(cls="LookbackSteps")),
    "no_x_mark": (
        ["model=naive", f"{FAULTY}NoMarks"],
        re.escape(f"model._target_: {MODULE}NoMarks.forward does not take x_mark: tsbench "
                  "calls forward(x, x_mark) (x_mark is None unless the model sets "
                  "uses_time_features = True) -> define forward(self, x, x_mark=None)")
        + CONTRACT.format(cls="NoMarks")),
    "reads_x_mark": (
        ["model=naive", f"{FAULTY}ReadsMarks"],
        re.escape(f"model._target_: {MODULE}ReadsMarks.forward raised TypeError: 'NoneType' "
                  f"object is not subscriptable (at {ROOT / 'tests/models/faulty_models.py'}:")
        + r"\d+" + re.escape(") for training windows x of shape (2, 48, 3) and x_mark None -> "
                             "fix the model's forward (a model that reads x_mark sets "
                             "uses_time_features = True)") + CONTRACT.format(cls="ReadsMarks")),
    "own_names": (
        ["model=naive", f"{FAULTY}OwnNames"],
        re.escape(f"model._target_: {MODULE}OwnNames.__init__(input_len, horizon, revin) "
                  "takes no 'seq_len', 'pred_len' or 'n_vars': tsbench builds every model "
                  "with seq_len, pred_len and n_vars (from the config and the data) plus the "
                  "model config's hyperparameters -> name them so: __init__(self, seq_len, "
                  "pred_len, n_vars, ..., revin=False)") + CONTRACT.format(cls="OwnNames")),
    "required_hyperparameter": (
        ["model=naive", f"{FAULTY}NeedsHidden"],
        re.escape(f"model.hidden: {MODULE}NeedsHidden.__init__ requires 'hidden', which the "
                  "model config does not set -> add 'hidden: <value>' to the model's YAML, or "
                  "give +model.hidden=<value> on the command line")),
    "no_parameters": (
        ["model=naive", f"{FAULTY}RepeatsLast"],
        re.escape(f"model._target_: {MODULE}RepeatsLast has trainable = True (ForecastModel's "
                  "default) but no trainable parameters, so there is nothing to train -> set "
                  "trainable = False in RepeatsLast (a model without parameters is scored "
                  "without training, as model=naive is)") + CONTRACT.format(cls="RepeatsLast")),
    "parameters_never_trained": (
        ["model=naive", f"{FAULTY}UntrainedLinear"],
        re.escape(f"model._target_: {MODULE}UntrainedLinear has trainable = False but 588 "
                  "trainable parameters, which would be scored at their initial values, never "
                  "trained -> set trainable = True in UntrainedLinear to train them, or freeze "
                  "fixed ones with requires_grad_(False)") + CONTRACT.format(
                      cls="UntrainedLinear")),
    "peeks_ahead": (
        ["model=naive", f"{FAULTY}PeeksAhead"],
        re.escape(f"model._target_: {MODULE}PeeksAhead.forward is not batch-independent: in "
                  "eval mode its forecast of training window 0 alone differs from its "
                  "forecast in a batch of 8 consecutive training windows (by up to ")
        + GAP + re.escape("), so it depends on the other windows of its batch (where it "
                          "reads them, a later window's look-back holds an earlier one's "
                          "future) and its scores would change with data.eval_batch_size -> "
                          "forecast each window from that "
                          "window alone (no statistics, lookups or copies across the batch "
                          "dimension; BatchNorm in eval mode is fine)")
        + CONTRACT.format(cls="PeeksAhead")),
    "remembers_rows": (
        ["model=naive", f"{FAULTY}RemembersRows"],
        re.escape(f"model._target_: {MODULE}RemembersRows.forward is not stateless in eval "
                  "mode: its forecast of 8 training windows changed (by up to ")
        + GAP + re.escape(") after it forecast the 8 windows that follow them, so it keeps "
                          "something of the windows it has seen and its scores would depend "
                          "on what it forecast before -> keep nothing between forecasts in "
                          "eval mode (no rows or caches outside the parameters and buffers "
                          "training sets)") + CONTRACT.format(cls="RemembersRows")),
    "peeks_ahead_recursive": (
        ["model=naive", f"{FAULTY}PeeksAhead", "strategy=recursive", "strategy.step=4"],
        ".*" + re.escape("PeeksAhead.forward is not batch-independent") + ".*"),
    # the other paths: every fold of a cross-validation, the step model of a roll-out,
    # features=S, the default logger (nothing of it left behind), a classical model
    "tscv": (
        ["model=naive", f"{FAULTY}OneChannel", "cv=tscv", "cv.n_splits=2", "cv.refit=true",
         "logger=csv"],
        ".*" + re.escape("OneChannel.forward returned shape (2, 12, 1) for training "
                         "windows x of shape (2, 48, 3)") + ".*"),
    "recursive": (
        ["model=naive", f"{FAULTY}LookbackSteps", "strategy=recursive", "strategy.step=4"],
        re.escape(f"model._target_: {MODULE}LookbackSteps.forward returned shape (2, 48, 3) "
                  "for training windows x of shape (2, 48, 3), expected (batch, "
                  "strategy.step, n_vars) = (2, 4, 3) -> return (batch, pred_len, n_vars) "
                  "with the pred_len and n_vars that __init__ gets (a recursive run builds the "
                  "model with pred_len = strategy.step)") + CONTRACT.format(cls="LookbackSteps")),
    "features_s": (
        ["model=naive", f"{FAULTY}LookbackSteps", "features=S"],
        ".*" + re.escape("shape (2, 48, 1) for training windows x of shape (2, 48, 1), "
                         "expected (batch, pred_len, n_vars) = (2, 12, 1)") + ".*"),
    "classical": (
        ["model=theta", f"{FAULTY}ShortTheta", "model.period=24"],
        re.escape(f"model._target_: {MODULE}ShortTheta.forecast_origins returned shape "
                  "(2, 11, 3) for 2 val windows, expected (windows, pred_len, n_vars) = "
                  "(2, 12, 3) -> make forecast_origins return (origins, pred_len, n_vars), "
                  "one forecast per fitted channel") + CONTRACT.format(cls="ShortTheta")),
    "classical_reads_targets": (
        ["model=theta", f"{FAULTY}OffByOneTheta", "model.period=24"],
        re.escape(f"model._target_: {MODULE}OffByOneTheta.forecast_origins reads the rows it "
                  "forecasts: its forecast of the first training window (origin row 48) "
                  "changed (by up to ") + GAP + re.escape(
                      ") when that window's 12 target rows, row 48 on, were reversed and moved "
                      "up by one, so its scores would be read off each window's targets -> "
                      "forecast from each origin with the rows before it alone "
                      "(values[:origin]: a filter's state after row origin - 1)")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_faulty_model_fails_in_one_line_before_training(case: str, tmp_path: Path) -> None:
    args, pattern = CASES[case]
    run_dir = tmp_path / "run"
    proc = run_tsbench([*TINY, *args], run_dir, env=ENV, check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "UserWarning" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("tsbench: error:")]
    assert len(errors) == 1, proc.stderr
    assert re.fullmatch(f"tsbench: error: {pattern}", errors[0]), errors[0]
    assert not run_dir.exists()  # no half-written results, not even Hydra's files


def test_a_valid_model_from_outside_the_package_still_runs(tmp_path: Path) -> None:
    run_tsbench([*TINY, "model=naive", f"{FAULTY}ZeroOutput", "strategy=recursive",
                 "strategy.step=4"], tmp_path / "run", env=ENV)
    assert (tmp_path / "run" / "metrics.json").is_file()
