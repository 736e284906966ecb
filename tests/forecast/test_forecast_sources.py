"""tsbench-forecast read against where each forecast comes from: a classical model's future
from the whole history up to the file's last row, a cross-validation run with cv.refit
forecast by its refit, a tuning folder's ensemble with a refitted member's weight split over
its seeds, and what the command writes or refuses for such folders."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import TOY_MODULE, TOY_YAML, read_metrics, run_tsbench
from tests.forecast import test_forecast as base
from tests.preloaded import run_module
from tsbench.code_digest import current_sources, restore_hint
from tsbench.forecast.tables import WINDOW_COLUMNS, future, tuned_future, windows
from tsbench.rundir import load_run, read_protocol

ROWS, PRED_LEN, TRAIN_ROWS = base.ROWS, base.PRED_LEN, base.TRAIN_ROWS
_run = base._run
#: Hourly load and temperature in their own units (test_forecast's module-scoped file).
csv = base.csv
#: A naive run of it, made once for the tests that leave it as it is.
naive = base.naive


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.mark.heavy(seconds=15)
def test_a_classical_models_future_reads_every_row_up_to_the_files_last(
        csv: Path, tmp_path: Path) -> None:
    """A classical model (a HistoryModel: no look-back window) forecasts the future filtered
    over the whole series from the first training row, from the origin after the last row:
    rebuilt from the file (z-scores on the training rows, population std), and moved by a
    jump in the last row alone."""
    run_dir = _run(csv, tmp_path / "ets", "model=ets", "features=S")
    ot = pd.read_csv(csv)["OT"].to_numpy(np.float64)
    mean, std = ot[:TRAIN_ROWS].mean(), ot[:TRAIN_ROWS].std()
    z = ((ot - mean) / std).astype(np.float32).astype(np.float64)
    model = load_run(run_dir).model
    expected = model.forecast_origins(z[:, None], np.array([ROWS]), PRED_LEN)[0, :, 0]
    forecast = future(run_dir)
    assert list(forecast.columns) == ["OT"]
    np.testing.assert_allclose(forecast["OT"], expected * std + mean, rtol=1e-5)
    # a wandering load (a random walk: ETS follows its last level), and the same file with
    # its last row 500 higher (the training rows, so the fit, unchanged): the first future
    # step reads that row and follows it up
    walk = pd.read_csv(csv)
    walk["OT"] = 300 + np.cumsum(np.random.default_rng(5).standard_normal(ROWS) * 10)
    steps = []
    for name, jump in (("walk", 0.0), ("jumped", 500.0)):
        walk.loc[ROWS - 1, "OT"] += jump
        walk.to_csv(tmp_path / f"{name}.csv", index=False)
        steps.append(future(_run(tmp_path / f"{name}.csv", tmp_path / name, "model=ets",
                                 "features=S"))["OT"].iloc[0])
    assert steps[1] - steps[0] > 50


def test_a_classical_ms_run_forecasts_the_target_as_the_s_run(
        csv: Path, tmp_path: Path) -> None:
    """A classical model under features=MS fits the target alone (temp's model would never
    be scored): its future and its test windows are the S run's, read off one channel."""
    runs = {features: _run(csv, tmp_path / features, "model=theta", f"features={features}")
            for features in ("S", "MS")}
    assert load_run(runs["MS"]).model.n_vars == 1
    pd.testing.assert_frame_equal(future(runs["MS"]), future(runs["S"]))
    pd.testing.assert_frame_equal(windows(runs["MS"], "test"), windows(runs["S"], "test"))


def test_a_cross_validation_run_with_refit_is_forecast_by_its_refit(
        csv: Path, tmp_path: Path) -> None:
    """cv=tscv cv.refit=true ends with one model trained on the train+val rows: its future
    is forecast (not refused as a run of one model per fold), its val windows are refused
    as in-sample, and a classical model is fitted again on the train+val rows, giving the
    run's own test score."""
    folds = ["cv=tscv", "cv.n_splits=2", "cv.refit=true"]
    naive = _run(csv, tmp_path / "naive", "model=naive", *folds)
    last = pd.read_csv(csv).drop(columns="date").to_numpy(np.float64)[-1]
    forecast = future(naive)
    assert forecast.shape == (PRED_LEN, 2)
    np.testing.assert_allclose(forecast.to_numpy(), np.tile(last, (PRED_LEN, 1)), rtol=1e-5)
    with pytest.raises(ValueError, match="is a refit: its model trained on the validation"):
        windows(naive, "val")
    ets = _run(csv, tmp_path / "ets", "model=ets", "features=S", *folds)
    table = windows(ets, "test")
    error = table["forecast"] - table["actual"]
    assert float((error ** 2).mean()) == pytest.approx(read_metrics(ets)["test_mse_orig"],
                                                       rel=1e-5)


def _tune_folder(run_dir: Path, tune_dir: Path, member: str, seeds: list[int] | None) -> Path:
    """A finished tsbench-tune folder (tune.json, report.json) whose ensemble is ``member``
    alone, weight 1, refitted with ``seeds`` (copies of ``run_dir``) or not refitted."""
    shutil.copytree(run_dir, tune_dir / member)
    summary: dict = {"ensemble_weights": {str(tune_dir / member): 1.0}}
    if seeds:
        summary["refit_seeds"] = {str(tune_dir / member): seeds}
        for seed in seeds:
            shutil.copytree(run_dir, tune_dir / "g_refit" / member / f"seed_{seed}")
    (tune_dir / "tune.json").write_text("{}")
    (tune_dir / "report.json").write_text(json.dumps(summary))
    return tune_dir


def test_a_tuned_ensemble_splits_a_refitted_members_weight_over_its_seeds(
        naive: Path, tmp_path: Path) -> None:
    """A member of weight 1 refitted with two seeds is their mean (each weighs 1/2): the
    ensemble's forecast is in the file's units, not scaled by the number of seeds."""
    run_dir = naive
    tune_dir = _tune_folder(run_dir, tmp_path / "tune", "a_baseline/0", [1, 2])
    expected = future(run_dir)
    pd.testing.assert_frame_equal(tuned_future(tune_dir), expected, rtol=1e-6)
    said = run_module("tsbench.forecast", [str(tune_dir)], _env())
    assert said.returncode == 0, said.stderr
    printed = pd.read_csv(io.StringIO(said.stdout), parse_dates=["date"], index_col="date")
    pd.testing.assert_frame_equal(printed, expected, check_freq=False, rtol=1e-6)


def test_a_written_window_table_has_exactly_the_window_columns(naive: Path, tmp_path: Path
                                                              ) -> None:
    """``--split val -o FILE`` writes the long table's columns and nothing else (no index
    column), the same rows as :func:`windows`."""
    run_dir = naive
    out = tmp_path / "windows.csv"
    said = run_module("tsbench.forecast", [str(run_dir), "--split", "val", "-o", str(out)],
                      _env())
    assert said.returncode == 0, said.stderr
    written = pd.read_csv(out, parse_dates=["origin", "date"])
    assert list(written.columns) == WINDOW_COLUMNS
    pd.testing.assert_frame_equal(written, windows(run_dir, "val"), check_dtype=False,
                                  rtol=1e-6)


def test_an_unfinished_tuning_folder_and_its_test_split_are_one_line(tmp_path: Path) -> None:
    """A tsbench-tune folder without report.json is named as unfinished, and one asked for
    its test windows is refused (it forecasts the future only), each in one line."""
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "tune.json").write_text("{}")
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "tune.json").write_text("{}")
    (finished / "report.json").write_text(json.dumps({"ensemble_weights": {}}))
    for path, args, said in (
            (unfinished, [], "is an unfinished tsbench-tune run (no report.json yet) -> run "
                             "the same tsbench-tune command again to finish it"),
            (finished, ["--split", "test"], "is a tsbench-tune folder: it forecasts the "
                                            "future with the ensemble it chose; its test "
                                            "scores are in report.json -> --split future; for "
                                            "test windows (and the coverage of --intervals), "
                                            "run a configuration of its report.md with "
                                            "tsbench (cv=holdout): its own runs did not read "
                                            "the test split"),
            (finished, ["--split", "val"], "-> --split future, or --split val of one of its "
                                           "runs' folders")):
        refused = run_module("tsbench.forecast", [str(path), *args], _env())
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith(f"tsbench-forecast: error: {path} ")
        assert said in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


#: Refuses every tsbench-forecast command line it is given, then prints what it imported.
REFUSE_LIGHT = """
import sys
from tsbench.forecast.cli import main
codes = [main(line.split()) for line in sys.argv[1:]]
print(codes, sorted(m for m in ("torch", "lightning") if m in sys.modules))
"""


def test_a_tuning_folders_refusals_come_before_torch_is_imported(tmp_path: Path) -> None:
    """Refusals that need only a tsbench-tune folder's files (unfinished; --split test or
    val, with --intervals too) come before the tables' torch and Lightning import (27 s on a
    busy machine, for one line): in a fresh interpreter neither is imported."""
    unfinished, finished = tmp_path / "unfinished", tmp_path / "finished"
    for folder in (unfinished, finished):
        folder.mkdir()
        (folder / "tune.json").write_text("{}")
    (finished / "report.json").write_text(json.dumps({"ensemble_weights": {}}))
    lines = [str(unfinished), f"{finished} --split test", f"{finished} --split test "
             "--intervals 0.8", f"{finished} --split val"]
    said = subprocess.run([sys.executable, "-c", REFUSE_LIGHT, *lines], capture_output=True,
                          text=True, env=_env(), check=True)
    assert said.stdout == "[2, 2, 2, 2] []\n", said.stderr
    assert len(said.stderr.strip().splitlines()) == 4


#: What a forecast of a run whose code changed since says, after the run and the change.
CHANGED = ("changed since the run: its forecasts may differ from its metrics -> {fix} to "
           "reproduce them")


def test_a_run_whose_model_file_changed_since_warns_once_and_still_forecasts(
        csv: Path, tmp_path: Path) -> None:
    """A model of the user's trained with GELU, its file then edited to ReLU: the forecast
    is made (an edit may be a comment) with one line naming the run, the file and its old
    and new sha256; an ensemble of two runs of that code says it once for both; before the
    edit nothing is said. Without the check the ReLU model scored silently."""
    mine = tmp_path / "mine"
    (mine / "conf" / "model").mkdir(parents=True)
    module = mine / "gelu_models.py"
    module.write_text(textwrap.dedent(TOY_MODULE).replace("nn.ReLU()", "nn.GELU()"))
    (mine / "conf" / "model" / "gelu.yaml").write_text(
        TOY_YAML.replace("toy_models", "gelu_models").replace("name: toy", "name: gelu"))
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(mine), os.environ.get("PYTHONPATH", "")])}
    run_dir = tmp_path / "run"
    run_tsbench(["dataset=csv", f"dataset.path={csv}", "seq_len=48", f"pred_len={PRED_LEN}",
                 "trainer=debug", "logger=none", "plots=false", "model=gelu",
                 f"hydra.searchpath=[file://{mine / 'conf'}]"], run_dir, env=env)
    said = run_module("tsbench.forecast", [str(run_dir), "--split", "test"], env)
    assert said.returncode == 0, said.stderr
    assert "changed since the run" not in said.stderr
    # without its folder on the Python path: the folder is named, from the card's model_file
    lost = run_module("tsbench.forecast", [str(run_dir), "--split", "test"], _env())
    assert lost.returncode == 2 and lost.stderr.splitlines()[-1] == (
        "tsbench-forecast: error: model._target_: cannot import 'gelu_models.LastLinear': no "
        f"module named 'gelu_models' -> put {mine.resolve()} on the Python path (PYTHONPATH="
        f"{mine.resolve()}): the folder of the run's model file {module.resolve()}, its "
        "protocol card's source.model_file")
    old = hashlib.sha256(module.read_bytes()).hexdigest()
    module.write_text(module.read_text().replace("nn.GELU()", "nn.ReLU()"))
    new = hashlib.sha256(module.read_bytes()).hexdigest()
    said = run_module("tsbench.forecast", [str(run_dir), "--split", "test"], env)
    assert said.returncode == 0, said.stderr
    # outside tsbench's checkout: no git checkout of the card's commit restores it
    change = (f"its model file {module.resolve()} (source.model_sha256 {old[:12]} -> "
              f"{new[:12]}) " + CHANGED.format(
                  fix=f"restore {module.resolve()} as it was when the run ran (outside "
                      "tsbench's checkout: no commit the card names holds it)"))
    assert [line for line in said.stderr.splitlines() if "changed since" in line] == [
        f"tsbench-forecast: warning: {run_dir.resolve()}: {change}"]
    tune_dir = _tune_folder(run_dir, tmp_path / "tune", "a_baseline/0", [1, 2])
    said = run_module("tsbench.forecast", [str(tune_dir)], env)
    assert said.returncode == 0, said.stderr
    first = (tune_dir / "g_refit" / "a_baseline" / "0" / "seed_1").resolve()
    assert [line for line in said.stderr.splitlines() if "changed since" in line] == [
        f"tsbench-forecast: warning: {first} and 1 other run: {change}"]


def test_a_model_in_a_package_names_the_folder_that_holds_the_package(
        csv: Path, tmp_path: Path) -> None:
    """The README's layout, ``my_models/last_linear.py`` beside ``conf/``: the folder to put
    on the Python path is the one that holds ``my_models/``, not the model file's own
    folder, which the error called it."""
    mine = tmp_path / "mine"
    (mine / "conf" / "model").mkdir(parents=True)
    (mine / "my_models").mkdir()
    (mine / "my_models" / "__init__.py").write_text("")
    module = mine / "my_models" / "toy_models.py"
    module.write_text(textwrap.dedent(TOY_MODULE))
    (mine / "conf" / "model" / "toy.yaml").write_text(
        TOY_YAML.replace("toy_models.", "my_models.toy_models."))
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(mine), os.environ.get("PYTHONPATH", "")])}
    run_dir = tmp_path / "run"
    run_tsbench(["dataset=csv", f"dataset.path={csv}", "seq_len=48", f"pred_len={PRED_LEN}",
                 "trainer=debug", "logger=none", "plots=false", "model=toy",
                 f"hydra.searchpath=[file://{mine / 'conf'}]"], run_dir, env=env)
    lost = run_module("tsbench.forecast", [str(run_dir)], _env())
    assert lost.returncode == 2 and lost.stderr.splitlines()[-1] == (
        "tsbench-forecast: error: model._target_: cannot import "
        "'my_models.toy_models.LastLinear': no module named 'my_models' -> put "
        f"{mine.resolve()} on the Python path (PYTHONPATH={mine.resolve()}): the folder that "
        f"holds the package my_models of the run's model file {module.resolve()}, its "
        "protocol card's source.model_file")
    said = run_module("tsbench.forecast", [str(run_dir)], {**_env(), "PYTHONPATH": str(mine)})
    assert said.returncode == 0, said.stderr


def test_a_run_of_other_tsbench_code_warns_once_per_run(
        naive: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A run of tsbench's own model whose card records another digest of the package's code
    and configs is read back with one warning naming both digests, however often it is
    read back."""
    run_dir = Path(shutil.copytree(naive, tmp_path / "naive"))  # its card edited
    card = read_protocol(run_dir)
    # run from a checkout with uncommitted changes: its commit alone is not its code
    card["source"].update(sources_sha256="0" * 64, git_commit="1" * 40, git_dirty=True)
    (run_dir / "protocol.json").write_text(json.dumps(card))
    with caplog.at_level(logging.WARNING, logger="tsbench.rundir"):
        load_run(run_dir)
        load_run(run_dir)
    assert [r.getMessage() for r in caplog.records] == [
        f"{run_dir.resolve()}: tsbench's code and configs (source.sources_sha256 "
        f"{'0' * 12} -> {current_sources()[:12]}) " + CHANGED.format(
            fix=f"restore that code (its card names commit {'1' * 12} with uncommitted "
                "changes: that commit alone is not the code it ran)")]


@pytest.mark.parametrize("changed, model, fix", [
    (["sources_sha256"], None, "restore that code (git checkout 111111111111)"),
    (["model_sha256"], "/repo/models/mine.py", "restore that code (git checkout 111111111111)"),
    (["model_sha256"], "/home/me/my_models/mine.py", "restore /home/me/my_models/mine.py as "
     "it was when the run ran (outside tsbench's checkout: no commit the card names holds it)"),
    (["sources_sha256", "model_sha256"], "/home/me/mine.py", "restore that code (git checkout "
     "111111111111) and /home/me/mine.py as it was when the run ran (outside tsbench's "
     "checkout: no commit the card names holds it)"),
])
def test_the_card_commit_is_offered_only_for_the_code_it_holds(
        changed: list[str], model: str | None, fix: str) -> None:
    """A user's model file outside tsbench's checkout was told to 'git checkout' tsbench's
    commit, which does not hold it; a model file inside the checkout is restored by it."""
    source = {"git_commit": "1" * 40, "git_dirty": False, "checkout": "/repo"}
    assert restore_hint(source, changed, None if model is None else Path(model)) == fix
