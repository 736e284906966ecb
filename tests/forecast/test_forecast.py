"""tsbench-forecast: a finished run's forecasts with dates and in original units, read
against the CSV itself: the future after its last row, and every scored window beside the
file's values, whose squared differences give the run's own test score."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import read_metrics, run_tsbench
from tests.preloaded import run_module
from tsbench.errors import DataError
from tsbench.forecast.tables import WINDOW_COLUMNS, future, windows
from tsbench.rundir import fold_dir, load_run

ROWS, SEQ_LEN, PRED_LEN = 400, 48, 12
#: ratio split: int(0.7 * 400) = 280 training rows, the last int(0.2 * 400) = 80 test rows
TRAIN_ROWS, TEST_ROWS = 280, 80


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hourly load and temperature in their own units (far from z-scores)."""
    t = np.arange(ROWS)
    noise = np.random.default_rng(3).standard_normal((ROWS, 2))
    path = tmp_path_factory.mktemp("data") / "load.csv"
    pd.DataFrame({"date": pd.date_range("2024-03-01", periods=ROWS, freq="h"),
                  "temp": 15 + 5 * np.cos(2 * np.pi * t / 24) + noise[:, 0],
                  "OT": 300 + 80 * np.sin(2 * np.pi * t / 24) + 10 * noise[:, 1]}
                 ).to_csv(path, index=False)
    return path


def _run(csv: Path, run_dir: Path, *extra: str) -> Path:
    """A run of ``csv`` in ``run_dir``, without pictures (no forecast test reads them)."""
    run_tsbench(["dataset=csv", f"dataset.path={csv}", f"seq_len={SEQ_LEN}",
                 f"pred_len={PRED_LEN}", "trainer=debug", "logger=none", "plots=false",
                 *extra], run_dir)
    return run_dir


@pytest.fixture(scope="module")
def naive(csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A naive run of :func:`csv`, made once for the tests that read it and leave it as it
    is (a test that writes in it, or names it among its own folders, copies it)."""
    return _run(csv, tmp_path_factory.mktemp("naive") / "naive", "model=naive")


def test_the_future_follows_the_last_row(csv: Path, naive: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(csv, parse_dates=["date"]).set_index("date")
    last = future(naive)
    dates = pd.date_range(frame.index[-1], periods=PRED_LEN + 1, freq="h")[1:]
    pd.testing.assert_index_equal(last.index, pd.DatetimeIndex(dates, name="date"))
    assert list(last.columns) == ["temp", "OT"]
    for column in last:  # the last value, in the file's units
        np.testing.assert_allclose(last[column], frame[column].iloc[-1], rtol=1e-5)
    seasonal = future(_run(csv, tmp_path / "seasonal", "model=seasonal_naive", "features=S"))
    assert list(seasonal.columns) == ["OT"]
    np.testing.assert_allclose(seasonal["OT"], frame["OT"].iloc[-24:-24 + PRED_LEN], rtol=1e-5)
    # the dates are named as the file names its timestamps: its next rows, as they would read
    renamed = tmp_path / "time.csv"
    frame.rename_axis("time").to_csv(renamed)
    timed = future(_run(renamed, tmp_path / "timed", "model=naive", "dataset.date_col=time"))
    pd.testing.assert_index_equal(timed.index, pd.DatetimeIndex(dates, name="time"))


def test_a_trained_models_future_reads_the_last_look_back_scaled_on_training_rows(
        csv: Path, tmp_path: Path) -> None:
    """Rebuilt from the file: z-scores of the training rows (population std), the last
    seq_len rows through the loaded model, back to the file's units."""
    run_dir = _run(csv, tmp_path / "dlinear", "model=dlinear", "optim.lr=0.005")
    values = pd.read_csv(csv).drop(columns="date").to_numpy(np.float64)
    mean, std = values[:TRAIN_ROWS].mean(axis=0), values[:TRAIN_ROWS].std(axis=0)
    x = torch.from_numpy(((values[-SEQ_LEN:] - mean) / std).astype(np.float32))[None]
    with torch.no_grad():
        expected = load_run(run_dir).model(x)[0].double().numpy() * std + mean
    np.testing.assert_allclose(future(run_dir).to_numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("extra", [
    ["model=dlinear", "features=MS"],
    ["model=ets", "features=S"],
    ["model=itransformer", "model.d_model=16", "model.d_ff=16", "model.n_heads=2",
     "strategy=recursive", "strategy.step=5"],
    ["model=dlinear", "cv=refit", "trainer.max_epochs=1"],
])
def test_every_window_beside_the_files_values_gives_the_runs_score(
        csv: Path, tmp_path: Path, extra: list[str]) -> None:
    run_dir = _run(csv, tmp_path / "run", *extra)
    metrics = read_metrics(run_dir)
    frame = pd.read_csv(csv, parse_dates=["date"]).set_index("date")
    table = windows(run_dir, "test")
    assert list(table.columns) == WINDOW_COLUMNS
    scored = ["OT"] if "features" in " ".join(extra) else ["temp", "OT"]
    assert table["window"].nunique() == metrics["n_test_windows"] == TEST_ROWS - PRED_LEN + 1
    assert len(table) == metrics["n_test_windows"] * PRED_LEN * len(scored)
    first = table[table["window"] == 0]
    assert first["date"].iloc[0] == frame.index[ROWS - TEST_ROWS]  # the first test target
    assert (first["origin"] == frame.index[ROWS - TEST_ROWS - 1]).all()
    for channel in scored:
        rows = table[table["channel"] == channel]
        np.testing.assert_allclose(rows["actual"], frame.loc[rows["date"], channel], rtol=1e-5)
        assert (rows["date"] - rows["origin"] == pd.to_timedelta(rows["step"], "h")).all()
    error = table["forecast"] - table["actual"]
    assert float((error ** 2).mean()) == pytest.approx(metrics["test_mse_orig"], rel=1e-5)
    assert float(error.abs().mean()) == pytest.approx(metrics["test_mae_orig"], rel=1e-5)
    assert future(run_dir).shape == (PRED_LEN, len(scored))
    assert np.isfinite(future(run_dir).to_numpy()).all()


@pytest.mark.parametrize("extra, recent", [
    (["model=dlinear"], True), (["model=dlinear", "features=S"], True),
    # a classical model filters its states over the whole history: a file from its start
    (["model=ets", "features=S"], False)])
def test_a_newer_file_is_forecast_from_its_last_rows_by_the_runs_model_and_scaler(
        csv: Path, tmp_path: Path, extra: list[str], recent: bool) -> None:
    """``--data`` with the recent rows up to a test window's origin forecasts that window
    as the run scored it (the run's scaler, not one fitted on the newer file); with more
    rows (new ones appended, in another folder) the steps after them."""
    run_dir = _run(csv, tmp_path / "run", *extra)
    frame = pd.read_csv(csv)
    table = windows(run_dir, "test")
    window = 7
    origin = table[table["window"] == window]["origin"].iloc[0]
    cut = tmp_path / "cut.csv"  # the recent rows alone, as an export of the last weeks
    dates = pd.to_datetime(frame["date"])
    start = origin - pd.Timedelta(hours=SEQ_LEN + 20) if recent else dates.iloc[0] - pd.Timedelta(
        hours=1)
    frame[(dates <= origin) & (dates > start)].to_csv(cut, index=False)
    if not recent:  # nor from the recent rows alone: other states, said
        recent_only = tmp_path / "recent.csv"
        frame[(dates <= origin) & (dates > origin - pd.Timedelta(hours=SEQ_LEN + 20))].to_csv(
            recent_only, index=False)
        with pytest.raises(ValueError, match="forecasts from its whole history, which starts "
                                             "at 2024-03-01 00:00:00, a date the file lacks"):
            future(run_dir, recent_only)
    ahead = future(run_dir, cut)
    expected = table[table["window"] == window].pivot(index="date", columns="channel",
                                                       values="forecast")
    assert list(ahead.index) == list(pd.DatetimeIndex(expected.index))
    np.testing.assert_allclose(ahead[expected.columns].to_numpy(), expected.to_numpy(),
                               rtol=1e-5, atol=1e-4)
    longer = tmp_path / "new" / "load.csv"
    longer.parent.mkdir()
    more = frame.tail(30).assign(date=pd.date_range(pd.to_datetime(frame["date"]).iloc[-1],
                                                    periods=31, freq="h")[1:])
    pd.concat([frame, more]).to_csv(longer, index=False)
    assert future(run_dir, longer).index[0] == pd.Timestamp(more["date"].iloc[-1]) + pd.Timedelta(
        "1h")


def test_a_newer_file_of_other_columns_or_too_few_rows_is_one_line(
        csv: Path, naive: Path, tmp_path: Path) -> None:
    run_dir = naive
    frame = pd.read_csv(csv)
    frame.rename(columns={"temp": "temperature"}).to_csv(tmp_path / "renamed.csv",
                                                          index=False)
    frame.head(SEQ_LEN - 1).to_csv(tmp_path / "short.csv", index=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name, said in (
            ("renamed.csv", f"--data {tmp_path / 'renamed.csv'}: its columns ['temperature', "
                            "'OT'] are not those the run read, ['temp', 'OT'] -> give a file "
                            "with the run's columns"),
            ("short.csv", f"--data {tmp_path / 'short.csv'}: {SEQ_LEN - 1} rows, fewer than the "
                          f"look-back of {SEQ_LEN} -> give a file of at least {SEQ_LEN} rows")):
        proc = run_module("tsbench.forecast", [str(run_dir), "--data", str(tmp_path / name)],
                          env)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.splitlines()[-1] == f"tsbench-forecast: error: {said}"
    proc = run_module("tsbench.forecast", [str(run_dir), "--split", "test", "--data",
                                           str(csv)], env)
    assert proc.returncode == 2 and "--data forecasts the future" in proc.stderr
    # another separator: the run's settings read it, and the fix names the file's format,
    # not a dataset.* setting this command does not take
    frame.to_csv(tmp_path / "semicolons.csv", index=False, sep=";")
    proc = run_module("tsbench.forecast", [str(run_dir), "--data",
                                           str(tmp_path / "semicolons.csv")], env)
    assert proc.returncode == 2
    said = proc.stderr.splitlines()[-1]
    assert said.startswith(f"tsbench-forecast: error: --data {tmp_path / 'semicolons.csv'}: "
                           "read with the run's dataset settings, ")
    assert said.endswith("-> give a file written as the one the run read (its separator, "
                         "decimal mark, date format and columns)")
    # a wholly empty column: the loader's own advice, in this command's terms
    frame.assign(temp=np.nan).to_csv(tmp_path / "no_temp.csv", index=False)
    frame.assign(note=np.nan).to_csv(tmp_path / "note.csv", index=False)
    for name, column, fix in (
            ("no_temp.csv", "temp", "fill column ['temp'] in the file: the run read it"),
            ("note.csv", "note", "leave column ['note'] out of the file: the run did not "
                                 "read it")):
        proc = run_module("tsbench.forecast", [str(run_dir), "--data", str(tmp_path / name)],
                          env)
        assert proc.returncode == 2 and proc.stderr.splitlines()[-1] == (
            f"tsbench-forecast: error: --data {tmp_path / name}: read with the run's dataset "
            f"settings, {tmp_path / name}: column ['{column}'] holds no values (every cell "
            f"is empty) -> {fix}")
    # the run's columns in another order: read by name
    three = frame.assign(wind=np.arange(len(frame)) % 5)[["date", "temp", "wind", "OT"]]
    three.to_csv(tmp_path / "three.csv", index=False)
    three_run = _run(tmp_path / "three.csv", tmp_path / "three_run", "model=naive")
    three[["date", "wind", "temp", "OT"]].to_csv(tmp_path / "reordered.csv", index=False)
    pd.testing.assert_frame_equal(future(three_run, tmp_path / "reordered.csv"),
                                  future(three_run))
    # -o over a file the forecast reads (the run's CSV, or --data's) would replace the data
    newer = tmp_path / "newer.csv"
    frame.to_csv(newer, index=False)
    for target, extra in ((csv, []), (newer, ["--data", str(newer)])):
        before = target.read_bytes()
        proc = run_module("tsbench.forecast", [str(run_dir), *extra, "-o", str(target)], env)
        assert proc.returncode == 2 and proc.stderr == (
            f"tsbench-forecast: error: -o {target}: is a data file this forecast reads: "
            "writing there would replace it -> give a file of your own, e.g. "
            f"{target.parent / 'forecast.csv'}\n")
        assert target.read_bytes() == before


def test_missing_values_of_a_newer_file_are_read_as_the_run_read_its_data(
        csv: Path, tmp_path: Path) -> None:
    """An empty cell or a skipped timestamp in ``--data`` is refused where the run refused
    missing values (``dataset.fillna=null``, the default), naming the columns, the first
    timestamp and the fix; forward-filled where the run filled them (``fillna=ffill``), as
    its loader fills them, and then said wherever the forecast reads a filled cell."""
    frame = pd.read_csv(csv)
    dates = pd.to_datetime(frame["date"])
    files = {"empty": frame.assign(OT=frame["OT"].mask(frame.index == ROWS - 10)),
             "skipped": frame.drop(index=[ROWS - 20, ROWS - 19]),
             "early": frame.assign(temp=frame["temp"].mask(frame.index == 10)),
             "other": frame.assign(temp=frame["temp"].mask(frame.index == ROWS - 10)),
             "future_rows": frame.assign(OT=frame["OT"].mask(frame.index >= ROWS - 2))}
    for name, rows in files.items():
        rows.to_csv(tmp_path / f"{name}.csv", index=False)
    refusing = _run(csv, tmp_path / "refusing", "model=dlinear", "trainer.max_epochs=1")
    filling = _run(csv, tmp_path / "filling", "model=dlinear", "trainer.max_epochs=1",
                   "dataset.fillna=ffill")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name, where, first in (("empty", "1 timestamp in column ['OT']", dates[ROWS - 10]),
                               ("skipped", "2 timestamps in columns ['temp', 'OT']",
                                dates[ROWS - 20])):
        path = tmp_path / f"{name}.csv"
        missing = (f"missing values (empty cells, or timestamps skipped at its frequency h) at "
                   f"{where}, the first {first}")
        refused = run_module("tsbench.forecast", [str(refusing), "--data", str(path)], env)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.splitlines()[-1] == (
            f"tsbench-forecast: error: --data {path}: {missing} -> fill them in the file (the "
            "run read its data with dataset.fillna=null, which refuses them rather than "
            "invent values)")
        said = run_module("tsbench.forecast", [str(filling), "--data", str(path)], env)
        assert said.returncode == 0, said.stderr
        assert said.stderr.splitlines()[-1:] == [
            f"tsbench-forecast: warning: --data {path}: the rows the forecast reads hold "
            f"{missing}: forward-filled, as "
            "the run's dataset.fillna=ffill filled its data, the forecast starts from "
            "invented values -> fill them in the file where they matter"]
        filled = tmp_path / f"{name}_filled.csv"  # the same rows, filled in the file
        files[name].set_index(pd.to_datetime(files[name]["date"])).drop(columns="date").reindex(
            dates).ffill().rename_axis("date").to_csv(filled)
        printed = pd.read_csv(io.StringIO(said.stdout), parse_dates=["date"], index_col="date")
        pd.testing.assert_frame_equal(printed, future(filling, filled), check_freq=False,
                                      rtol=1e-6)
    # rows without their target at the end (the future's) are refused, whatever fillna,
    # in a forecast's words (it scores nothing); the loader's own fix names no setting
    for run_dir in (refusing, filling):
        refused = run_module("tsbench.forecast", [str(run_dir), "--data",
                                                  str(tmp_path / "future_rows.csv")], env)
        assert refused.returncode == 2 and refused.stderr.splitlines()[-1] == (
            f"tsbench-forecast: error: --data {tmp_path / 'future_rows.csv'}: the last 2 "
            "rows of target 'OT' are empty (after 2024-03-17 13:00:00): the forecast starts "
            "after the file's last row, and a look-back ending in rows without their target "
            "would forecast from invented values -> drop those rows from the file")
    # refused anywhere, as the run's loader refuses; said only where the forecast reads it
    early = tmp_path / "early.csv"
    refused = run_module("tsbench.forecast", [str(refusing), "--data", str(early)], env)
    assert refused.returncode == 2 and f"the first {dates[10]} -> fill them" in refused.stderr
    quiet = run_module("tsbench.forecast", [str(filling), "--data", str(early)], env)
    assert quiet.returncode == 0 and "forward-filled" not in quiet.stderr
    target_alone = _run(csv, tmp_path / "target_alone", "model=naive", "features=S",
                        "dataset.fillna=ffill")  # reads OT alone: temp's gap is not read
    quiet = run_module("tsbench.forecast", [str(target_alone), "--data",
                                            str(tmp_path / "other.csv")], env)
    assert quiet.returncode == 0 and "forward-filled" not in quiet.stderr
    said = run_module("tsbench.forecast", [str(target_alone), "--data",
                                           str(tmp_path / "empty.csv")], env)
    assert "column ['OT'], the first" in said.stderr and "forward-filled" in said.stderr


def test_the_command_writes_csv_and_refuses_what_it_cannot_forecast(
        csv: Path, naive: Path, tmp_path: Path) -> None:
    run_dir = Path(shutil.copytree(naive, tmp_path / "naive"))  # one of tmp_path's runs
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    said = run_module("tsbench.forecast", [str(run_dir)], env)
    assert said.returncode == 0, said.stderr
    printed = pd.read_csv(io.StringIO(said.stdout), parse_dates=["date"], index_col="date")
    # printed to the 7 significant digits (a float32's) that channels within a few spreads
    # of 0 need, not its rounding noise (9.829694853186913)
    pd.testing.assert_frame_equal(printed, future(run_dir), check_freq=False, rtol=1e-6)
    numbers = [v for line in said.stdout.splitlines()[1:] for v in line.split(",")[1:]]
    assert max(len(v.lstrip("-").replace(".", "").lstrip("0")) for v in numbers) <= 7
    out = tmp_path / "windows.csv"
    assert run_module("tsbench.forecast", [str(run_dir), "--split", "val", "-o", str(out)],
                      env).returncode == 0
    assert len(pd.read_csv(out)) == read_metrics(run_dir)["n_val_windows"] * PRED_LEN * 2
    folds = _run(csv, tmp_path / "cv", "model=naive", "cv=tscv", "cv.n_splits=2")
    unseen = _run(csv, tmp_path / "unseen", "model=naive", "score_test=false")
    (tmp_path / "empty").mkdir()
    sweep = tmp_path / "sweep"  # a search's folder: a finished trial and a pruned one
    for job in ("0", "1"):
        shutil.copytree(run_dir, sweep / job)
    pruned = json.loads((sweep / "1" / "metrics.json").read_text())
    (sweep / "1" / "metrics.json").write_text(json.dumps({**pruned, "pruned": True}))
    for path, split, message in (
            (sweep, "future", "is not a run but holds 1 finished run with a model -> give "
                              f"one of them: {sweep / '0'} (a search's best.yaml names its "
                              "best trial)"),
            (tmp_path / "empty", "future", "is not a finished run (no metrics.json)"),
            (tmp_path / "nothere", "future", ": no such folder -> check the path"),
            (sweep / "9", "future", ": no such folder -> check the path"),
            (tmp_path, "future", "is not a run but holds 4 finished runs with a model -> "
                                 f"give one of them: {folds}, {run_dir}, {sweep / '0'}, ... "),
            (folds, "future", "a cross-validation run without cv.refit keeps one model per "
                              "fold, each scaled on its own rows"),
            (fold_dir(folds, 0), "future", "this fold trained and was scaled on rows [0, "),
            (unseen, "test", "was made not to read the test split (score_test=false")):
        refused = run_module("tsbench.forecast", [str(path), "--split", split], env)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith(f"tsbench-forecast: error: {path}")
        assert message in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize("args, said", [
    ([], "the following arguments are required: run"),
    (["run", "--split", "train"], "argument --split: invalid choice: 'train' (choose from "),
    (["run", "--level", "0.9"], "unrecognized arguments: --level 0.9")])
def test_what_argparse_refuses_is_one_line_with_its_fix(args: list[str], said: str) -> None:
    """A missing run folder, an option's bad value or a misspelt option: the command's one
    ``error:`` line with a fix, as its other refusals, not argparse's usage block first
    (how argparse lists the choices varies with Python's version)."""
    refused = run_module("tsbench.forecast", args)
    assert refused.returncode == 2 and refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"tsbench-forecast: error: {said}"), line
    assert line.endswith(" -> see tsbench-forecast --help"), line


def test_a_data_file_changed_since_the_run_is_refused(csv: Path, tmp_path: Path) -> None:
    """Rows added to the file move the ratio split, the scaler's rows and the windows: the
    run's forecasts would be of another protocol than its scores."""
    data = tmp_path / "load.csv"
    shutil.copy(csv, data)
    run_dir = _run(data, tmp_path / "naive", "model=naive")
    assert future(run_dir).shape == (PRED_LEN, 2)
    with open(data, "a") as handle:
        handle.write("2024-03-17 16:00:00,15.0,300.0\n")
    with pytest.raises(DataError, match=r"is not the file the run .* read \(its sha256 "):
        _ = load_run(run_dir).series
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    refused = run_module("tsbench.forecast", [str(run_dir), "--split", "test"], env)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith(f"tsbench-forecast: error: {data} is not the file the run")


def test_what_the_command_cannot_write_or_would_show_in_sample_is_refused(
        csv: Path, tmp_path: Path) -> None:
    refit = _run(csv, tmp_path / "refit", "model=dlinear", "cv=refit", "trainer.max_epochs=1")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for args, said in (
            (["--split", "val"], "is a refit: its model trained on the validation rows"),
            (["-o", str(tmp_path)], f"-o {tmp_path} is a folder -> give the CSV file to write")):
        refused = run_module("tsbench.forecast", [str(refit), *args], env)
        assert refused.returncode == 2 and refused.stdout == ""
        assert said in refused.stderr and "Traceback" not in refused.stderr


def test_paths_under_home_written_with_a_tilde_are_the_users(csv: Path, tmp_path: Path
                                                             ) -> None:
    """A run of ``dataset.path='~/load.csv'`` (its config keeps the ``~``) forecasts from
    the home directory's file, and ``--output=~/f.csv`` (the shell leaves that ``~``) writes
    there, not in a folder named ``~`` of the working directory."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    shutil.copy(csv, home / "load.csv")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HOME": str(home)}
    run_tsbench(["dataset=csv", "dataset.path='~/load.csv'", f"seq_len={SEQ_LEN}",
                 f"pred_len={PRED_LEN}", "trainer=debug", "logger=none", "plots=false",
                 "model=naive"], home / "naive", env=env)
    said = run_module("tsbench.forecast", ["~/naive", "--output=~/f.csv"], env, cwd=cwd)
    assert said.returncode == 0, said.stderr
    assert pd.read_csv(home / "f.csv").shape == (PRED_LEN, 3)
    assert not (cwd / "~").exists()


def test_an_output_file_that_is_one_of_the_runs_own_is_refused(naive: Path, tmp_path: Path
                                                               ) -> None:
    """``-o RUN/metrics.json`` replaced the run's scores with the CSV: a finished run's own
    files are refused in one line and left as they were; a new file in its folder is not."""
    run_dir = Path(shutil.copytree(naive, tmp_path / "naive"))  # written in
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for own in ("metrics.json", "config.yaml", ".hydra/config.yaml"):
        refused = run_module("tsbench.forecast", [str(run_dir), "-o", str(run_dir / own)], env)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr == (
            f"tsbench-forecast: error: -o {run_dir / own}: is the finished run "
            f"{run_dir.resolve()}'s own {own}: writing there would replace it -> give a file "
            f"of your own, e.g. {run_dir.resolve() / 'forecast.csv'}\n")
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
    said = run_module("tsbench.forecast", [str(run_dir), "-o", str(run_dir / "next.csv")], env)
    assert said.returncode == 0, said.stderr
    assert (run_dir / "next.csv").read_text().startswith("date,")


def test_a_pruned_trial_and_a_tuning_folder_whose_model_does_not_import_are_one_line(
        naive: Path, tmp_path: Path) -> None:
    run_dir = naive
    pruned = tmp_path / "pruned"
    shutil.copytree(run_dir, pruned)
    metrics = read_metrics(pruned)
    (pruned / "metrics.json").write_text(json.dumps({**metrics, "pruned": True,
                                                     "pruned_at_epoch": 1}))
    tune_dir = tmp_path / "tune"  # a finished tuning folder whose one member is a model of
    member = tune_dir / "a_baseline"  # the user's own, run without its PYTHONPATH
    shutil.copytree(run_dir, member)
    config = OmegaConf.load(member / "config.yaml")
    config.model._target_ = "my_models.mlp.MLP"
    OmegaConf.save(config, member / "config.yaml")
    (tune_dir / "tune.json").write_text("{}")
    (tune_dir / "report.json").write_text(json.dumps({"ensemble_weights": {str(member): 1.0}}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for path, said in ((pruned, "is a trial its sweep pruned at epoch 1: it kept no model"),
                       (tune_dir, "model._target_: cannot import 'my_models.mlp.MLP'")):
        refused = run_module("tsbench.forecast", [str(path)], env)
        assert refused.returncode == 2 and refused.stdout == ""
        assert said in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_a_published_datasets_run_forecasts_from_the_file_its_card_names(
        tmp_path: Path) -> None:
    """Offline, with neither $TSBENCH_DATA_DIR nor the cache holding ILI, a finished ILI run
    reads the file its protocol card names, where that still holds the published bytes; an
    edited copy there is not taken for it, and an edited copy elsewhere does not stop it."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(Path(os.environ["TSBENCH_DATA_DIR"]) / "national_illness.csv", data)
    run_dir = tmp_path / "run"
    run_tsbench(["dataset=ili", "model=naive", "seq_len=36", "pred_len=24", "logger=none",
                 "plots=false"], run_dir, env={"TSBENCH_DATA_DIR": str(data)})
    expected = future(run_dir)
    bare = {**os.environ, "OMP_NUM_THREADS": "1", "TSBENCH_DATA_DIR": str(tmp_path / "none"),
            "TSBENCH_CACHE_DIR": str(tmp_path / "cache"), "TSBENCH_OFFLINE": "1"}
    said = run_module("tsbench.forecast", [str(run_dir)], bare)
    assert said.returncode == 0, said.stderr
    printed = pd.read_csv(io.StringIO(said.stdout), parse_dates=["date"], index_col="date")
    pd.testing.assert_frame_equal(printed, expected, check_freq=False, check_dtype=False,
                                  rtol=1e-6)
    (data / "national_illness.csv").write_text(  # the same rows, other bytes
        (data / "national_illness.csv").read_text().replace("\n", "\r\n", 1))
    refused = run_module("tsbench.forecast", [str(run_dir)], bare)
    assert refused.returncode == 2 and "national_illness.csv" in refused.stderr
    assert "TSBENCH_DATA_DIR" in refused.stderr and "Traceback" not in refused.stderr
    assert (f"the file its protocol card names, {data / 'national_illness.csv'}, has changed "
            "since the run (its sha256 differs)") in refused.stderr
    # the card's file as published again, an edited copy in $TSBENCH_DATA_DIR: the run reads
    # its own file, the copy is no matter
    shutil.copy(Path(os.environ["TSBENCH_DATA_DIR"]) / "national_illness.csv", data)
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "national_illness.csv").write_text(
        (data / "national_illness.csv").read_text().replace("\n", "\r\n", 1))
    again = run_module("tsbench.forecast", [str(run_dir)],
                       {**bare, "TSBENCH_DATA_DIR": str(edited)})
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(io.StringIO(again.stdout), parse_dates=["date"], index_col="date"),
        expected, check_freq=False, check_dtype=False, rtol=1e-6)
