"""A finished run's forecasts as tables with dates, in original units: the ``pred_len``
steps after the data's last row (the future a practitioner deploys the model for), and
every window of a scored split beside its truths (what the run's scores were computed
from: their mean squared difference is the split's ``mse_orig``).

The run's model is read back by :func:`tsbench.rundir.load_run` and fed as its run fed it:
the series scaled by the scaler of the published training rows, the look-back's calendar
features (and the horizon's, which are known in advance, for a recursive roll-out).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import OmegaConf

from tsbench.counted import counted, noun_for, word_for
from tsbench.data.datamodule import ForecastData
from tsbench.data.timefeatures import time_features
from tsbench.errors import TsbenchError
from tsbench.forecast.intervals import (
    check_levels,
    half_widths,
    rough_levels,
    with_future_bounds,
    with_window_bounds,
)
from tsbench.models.history import HistoryModel
from tsbench.models.recursive import strategy_step
from tsbench.rundir import (
    LoadedRun,
    fold_number,
    holdout_model_dir,
    load_run,
    read_metrics,
    warn_code_changes,
)
from tsbench.training.evaluate import forecast_batches
from tsbench.training.train_and_score import make_data
from tsbench.tune.recipe import STAGES
from tsbench.tune.refit import refit_folder
from tsbench.tuning_files import SUMMARY_FILE

log = logging.getLogger(__name__)

#: The long table's columns, one row per window, step and scored channel.
WINDOW_COLUMNS = ["window", "origin", "step", "date", "channel", "forecast", "actual"]
#: A forecast table's attrs key: the significant digits its CSV prints (:func:`digits`).
DIGITS = "significant_digits"
#: Digits of a channel whose offset is within its spread: a float32's 7 (more would print
#: rounding noise, 10.114000399018316 for 10.114).
SPREAD_DIGITS = 7


def run_data(run: LoadedRun, calibrating: bool = False) -> ForecastData:
    """The run's splits as its run scaled them: on the published training rows, for a refit
    too. A cross-validation fold is forecast with only where it trained on those rows (the
    last fold when ``cv.test_size=val``); a cross-validation run without ``cv.refit`` has no
    model of its own (``calibrating``: the fix names a holdout run alone, since a refit has
    no validation rows left to calibrate intervals on)."""
    if run.metrics.get("pruned"):
        raise ValueError(f"{run.path} is a trial its sweep pruned at epoch "
                         f"{run.metrics.get('pruned_at_epoch', '?')}: it kept no model -> "
                         "forecast with the trial in its sweep's best.yaml (job_dir)")
    cfg, borders = run.config, run.borders
    fix = ("take --intervals from a holdout run (cv=holdout) of the same configuration (a "
           "cv.refit run trained on the validation rows they are calibrated on)" if calibrating
           else "forecast with a holdout run, or a cross-validation run with cv.refit")
    if run.path != run.root:
        fold = read_metrics(run.root)["cv_folds"][fold_number(run.path)]
        if list(fold["train"]) != list(borders.train):
            raise ValueError(
                f"{run.path}: this fold trained and was scaled on rows {fold['train']}, not "
                f"the published training rows {list(borders.train)} -> {fix}")
    elif cfg.cv.name == "tscv" and not run.refitted:
        raise ValueError(f"{run.path}: a cross-validation run without cv.refit keeps one "
                         f"model per fold, each scaled on its own rows -> {fix}")
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    return make_data(cfg, run.series, ranges, with_marks=run.model.uses_time_features,
                     scaler_rows=borders.train)


def future(run: LoadedRun | Any, data_file: Path | str | None = None,
           intervals: float | list[float] | None = None) -> pd.DataFrame:
    """The forecast of the ``pred_len`` steps after the series' last row: one row per
    future date (the data's frequency; the index named as the file's timestamp column), one
    column per scored channel. With ``data_file``
    (a newer file of the same columns and frequency, e.g. the run's CSV with rows appended)
    the steps after that file's last row, from its last rows, by the model as it trained:
    scaled by the run's scaler (fitted on the run's own training rows). With ``intervals``
    (levels, e.g. ``[0.8, 0.95]``), each channel's ``<channel>_lower_<80>`` and
    ``<channel>_upper_<80>`` beside it, calibrated on the run's validation windows
    (:func:`calibration`)."""
    run = run if isinstance(run, LoadedRun) else load_run(run)
    data_file = None if data_file is None else Path(data_file)
    if intervals:  # calibrated first: a run that cannot be is refused before forecasting
        widths = calibration(run, intervals)
        table = future(run, data_file)
        return _with_digits(with_future_bounds(table, widths), table.attrs[DIGITS])
    data, model = run_data(run), run.model
    series = run.series if data_file is None else newer_series(run, data_file)
    scaled = (data.scaled if data_file is None else torch.from_numpy(data.scaler.transform(
        series.values[:, -1:] if data.features == "S" else series.values)))
    seq_len, pred_len = data.seq_len, data.pred_len
    dates = pd.date_range(series.dates[-1], periods=pred_len + 1, freq=series.freq)[1:]
    history = isinstance(model, HistoryModel)
    start = 0 if data_file is None or not history else _history_start(run, series, data_file)
    if data_file is not None:  # the rows it reads: the whole history, or the look-back
        _warn_filled(run, series, data_file,
                     start if history else len(series.dates) - seq_len)
    with torch.inference_mode():
        if history:  # a classical model forecasts the scored channels alone
            values = scaled[start:, data.target_dims].double().numpy()
            forecast = model.forecast_origins(values, np.array([len(values)]), pred_len)[0]
        else:
            x = scaled[-seq_len:].float()[None]
            marks = None
            if model.uses_time_features:
                freq = series.calendar_freq or series.freq
                known = series.dates[-seq_len:].append(dates)
                marks = torch.from_numpy(time_features(known, freq))[None]
                marks = marks if strategy_step(run.config) else marks[:, :seq_len]
            forecast = model(x, marks).double().numpy()[0][:, data.target_dims]
    values = data.inverse(forecast)
    # the file's own timestamp column name: the forecast's rows read as the file's next rows
    name = str(run.config.dataset.get("date_col") or "date")
    return _with_digits(pd.DataFrame(values, index=pd.DatetimeIndex(dates, name=name),
                                     columns=_channels(series.columns, data)), digits(data))


def newer_series(run: LoadedRun, data_file: Path) -> Any:
    """``data_file`` read with the run's dataset settings, refused where its columns or
    frequency are not the run's, or it holds fewer rows than the look-back. Its missing
    values (empty cells, and skipped timestamps with ``dataset.gaps=missing``) are refused
    as the run's loader refused them, or forward-filled where it filled them
    (``dataset.fillna=ffill``; :func:`future` says so where they reach the forecast)."""
    from tsbench.data.loading import EmptyColumns, EmptyTargetTail, load_series

    if not data_file.is_file():
        raise ValueError(f"--data {data_file}: no such file -> give the newer CSV file")
    fillna = run.config.dataset.get("fillna")
    settings = OmegaConf.merge(run.config.dataset, {"name": "csv", "path": str(data_file),
                                                    "fillna": "ffill"})  # refused below
    try:
        series = load_series(settings)
    except EmptyColumns as error:  # the loader's fix names a setting this command lacks
        read = [c for c in error.columns if c in run.series.columns]
        fix = (f"fill {noun_for(len(read), 'column')} {read} in the file: the run read "
               f"{word_for(len(read), 'it', 'them')}" if read else
               f"leave {noun_for(len(error.columns), 'column')} {error.columns} out of the "
               f"file: the run did not read {word_for(len(error.columns), 'it', 'them')}")
        problem = str(error).partition(" -> ")[0]
        raise ValueError(f"--data {data_file}: read with the run's dataset settings, "
                         f"{problem} -> {fix}") from None
    except EmptyTargetTail as error:  # the loader's words are about scoring, not forecasting
        raise ValueError(f"--data {error.where}: the forecast starts after the file's last "
                         "row, and a look-back ending in rows without their target would "
                         "forecast from invented values -> drop those rows from the file") from None
    except TsbenchError as error:  # a fix naming settings of a run, not of this command
        problem, _, fix = str(error).partition(" -> ")
        if not fix or "dataset." in fix:
            fix = ("give a file written as the one the run read (its separator, decimal "
                   "mark, date format and columns)")
        raise ValueError(f"--data {data_file}: read with the run's dataset settings, "
                         f"{problem} -> {fix}") from None
    before = run.series
    if sorted(series.columns) == sorted(before.columns):  # the same columns, in their order
        order = [series.columns.index(c) for c in before.columns]
        series = replace(series, values=series.values[:, order], columns=list(before.columns),
                         filled=None if series.filled is None else series.filled[:, order])
    if series.columns != before.columns:
        raise ValueError(f"--data {data_file}: its columns {series.columns} are not those the "
                         f"run read, {before.columns} -> give a file with the run's "
                         "columns")
    if series.freq != before.freq:
        raise ValueError(f"--data {data_file}: its frequency {series.freq} is not the run's "
                         f"{before.freq} -> give a file at the run's frequency")
    if fillna is None and series.filled is not None:
        raise ValueError(f"--data {data_file}: {_missing(series, _skips(run))} -> fill them "
                         "in the file (the run read its data with dataset.fillna=null, which "
                         "refuses them rather than invent values)")
    seq_len = int(run.config.seq_len)
    if len(series.dates) < seq_len:
        raise ValueError(f"--data {data_file}: {len(series.dates)} rows, fewer than the "
                         f"look-back of {seq_len} -> give a file of at least {seq_len} rows")
    return series


def _missing(series: Any, skips: bool, first_row: int = 0, columns: slice = slice(None)
             ) -> str:
    """Where the loader filled cells (``series.filled``) of ``columns`` from ``first_row``
    on: at how many timestamps, in which columns, from when (``skips``: a skipped timestamp
    was a missing row, ``dataset.gaps=missing``)."""
    cells = series.filled[first_row:, columns]
    rows = np.flatnonzero(cells.any(axis=1))
    names = [c for c, hit in zip(series.columns[columns], cells.any(axis=0), strict=True)
             if hit]
    what = (f"empty cells, or timestamps skipped at its frequency {series.freq}" if skips
            else "empty cells")
    return (f"missing values ({what}) at {counted(len(rows), 'timestamp')} in "
            f"{noun_for(len(names), 'column')} {names}, the first "
            f"{series.dates[first_row + rows[0]]}")


#: The warnings :func:`_warn_filled` gave in this process (an ensemble's members read one
#: file each: said once).
_SAID: set[str] = set()


def _warn_filled(run: LoadedRun, series: Any, data_file: Path, first_row: int) -> None:
    """Say where ``dataset.fillna=ffill`` filled cells of the rows and channels a forecast
    from ``data_file`` reads: it starts from values the file does not hold."""
    columns = slice(-1, None) if run.config.features == "S" else slice(None)
    if series.filled is None or not series.filled[first_row:, columns].any():
        return
    said = (f"--data {data_file}: the rows the forecast reads hold "
            f"{_missing(series, _skips(run), first_row, columns)}: forward-filled, as the "
            "run's dataset.fillna=ffill filled its data, the forecast starts from invented "
            "values -> fill them in the file where they matter")
    if said not in _SAID:
        _SAID.add(said)
        log.warning(said)


def _skips(run: LoadedRun) -> bool:
    """Whether the run's loader took a skipped timestamp for a missing row."""
    return str(run.config.dataset.get("gaps") or "missing") == "missing"


def _history_start(run: LoadedRun, series: Any, data_file: Path) -> int:
    """The row of ``series`` (a newer file's) where the run's history started: a classical
    model filters its states over the whole history from there, so a file that starts
    later would forecast from other states."""
    first = run.series.dates[run.borders.train[0]]
    if first not in series.dates:
        raise ValueError(f"--data {data_file}: {run.config.model.name} forecasts from its "
                         f"whole history, which starts at {first}, a date the file lacks -> "
                         "give a file that holds the run's rows from that date on, and the "
                         "new ones after them")
    return int(series.dates.get_loc(first))


def tuned_future(tune_dir: Path | str, data_file: Path | str | None = None,
                 intervals: float | list[float] | None = None) -> pd.DataFrame:
    """:func:`future` (after ``data_file``'s rows, where given) of the model a finished
    ``tsbench-tune`` run ended with: its ensemble,
    chosen on validation, as the weighted mean of its members' forecasts; where the recipe
    refitted its choices on the train+val rows, each member's refits, its weight split
    evenly over their seeds (as (g) scored them). With ``intervals``, an ensemble of runs
    that kept the validation rows out (``recipe.refit=false``) has each level's bounds
    beside each channel, calibrated on the ensemble's own validation residuals."""
    tune_dir = Path(tune_dir)
    summary = json.loads((tune_dir / SUMMARY_FILE).read_text())
    bags = summary.get("refit_seeds") or {}
    if intervals and any(bags.values()):  # the fix names a run --intervals accepts
        best = holdout_model_dir(_in_folder(tune_dir, Path(summary["best_single"])))
        raise ValueError(f"{tune_dir}: its ensemble's members were refitted on the train+val "
                         "rows (recipe.refit), so no held-out rows are left to calibrate "
                         "intervals on -> take --intervals from one of its holdout runs' "
                         f"folders, e.g. its best single run's, {best}, or tune with "
                         "recipe.refit=false to have them on the tuning folder itself")
    parts: list[tuple[Path, float]] = []
    for member, weight in summary["ensemble_weights"].items():
        run_dir = _in_folder(tune_dir, Path(member))
        seeds = bags.get(member)
        dirs = ([refit_folder(tune_dir, run_dir) / f"seed_{s}" for s in seeds] if seeds
                else [holdout_model_dir(run_dir)])
        parts += [(d, weight / len(dirs)) for d in dirs]
    runs = [load_run(d, warn_code=False) for d, _ in parts]
    warn_code_changes(runs)  # one line for members of one code, not one each
    # calibrated first: levels the validation windows cannot give are refused before
    # forecasting
    widths = _ensemble_widths(runs, [w for _, w in parts], intervals) if intervals else None
    tables = [future(run, data_file) for run in runs]
    table: pd.DataFrame = sum(weight * member  # type: ignore[assignment]
                              for member, (_, weight) in zip(tables, parts, strict=True))
    return _with_digits(table if widths is None else with_future_bounds(table, widths),
                        max(member.attrs[DIGITS] for member in tables))


def _ensemble_widths(runs: list[LoadedRun], weights: list[float],
                     levels: float | list[float]) -> dict[float, np.ndarray]:
    """:func:`calibration` of the weighted mean of ``runs`` (holdout members): the
    half-widths from the ensemble's own validation residuals."""
    levels = check_levels(levels)  # a bad level refused before the members forecast
    arrays = [_window_arrays(run, run_data(run), "val") for run in runs]
    ensemble = sum(weight * forecasts for (forecasts, _), weight
                   in zip(arrays, weights, strict=True))
    return _calibrated(np.abs(ensemble - arrays[0][1]), levels)


def _in_folder(tune_dir: Path, member: Path) -> Path:
    """A run of the tuning folder as report.json names it (under the path the folder had
    when it was tuned), found under ``tune_dir`` (from its stage folder on)."""
    first = next(i for i, part in enumerate(member.parts) if part in STAGES)
    return tune_dir.joinpath(*member.parts[first:])


def windows(run: LoadedRun | Any, split: str = "test",
            intervals: float | list[float] | None = None) -> pd.DataFrame:
    """Every window of ``split`` (``val`` or ``test``): one row per window, step and scored
    channel, with the window's ``origin`` (the date of its last look-back row), the forecast
    and the actual value in original units; with ``intervals`` (levels, e.g. ``[0.8,
    0.95]``, test only) the bounds of each level's conformal interval (:func:`calibration`)."""
    run = run if isinstance(run, LoadedRun) else load_run(run)
    if split not in ("val", "test"):
        raise ValueError(f"split must be val or test, got {split!r}")
    if split == "val" and run.path == run.root and run.refitted:
        raise ValueError(f"{run.path} is a refit: its model trained on the validation rows, "
                         "so its val forecasts are in-sample -> --split test, or the val "
                         "split of the run it refits")
    if split == "val" and intervals:
        raise ValueError(f"{run.path}: intervals are calibrated on the validation windows, so "
                         "their coverage there is in-sample -> --split test to check it on "
                         "held-out windows, or drop --intervals")
    if split == "test" and not run.config.get("score_test", True):
        raise ValueError(f"{run.path} was made not to read the test split (score_test=false, "
                         "as a search's trials and tsbench-tune's stages are): its test "
                         "forecasts would let a choice "
                         "among such runs see the test period -> use --split val, or the run "
                         "that scored the chosen configuration on test")
    widths = calibration(run, intervals) if intervals else None
    data, series = run_data(run), run.series
    forecasts, actuals = _window_arrays(run, data, split)
    n_windows, pred_len, n_channels = forecasts.shape
    first_target = data.ranges[split][0] + data.seq_len
    rows = first_target + np.arange(n_windows)[:, None] + np.arange(pred_len)[None, :]
    shape = (n_windows, pred_len, n_channels)
    table = pd.DataFrame({
        "window": np.broadcast_to(np.arange(n_windows)[:, None, None], shape).ravel(),
        "origin": np.broadcast_to(series.dates[rows[:, 0] - 1].to_numpy()[:, None, None],
                                  shape).ravel(),
        "step": np.broadcast_to(np.arange(1, pred_len + 1)[None, :, None], shape).ravel(),
        "date": np.broadcast_to(series.dates[rows.ravel()].to_numpy().reshape(
            n_windows, pred_len)[:, :, None], shape).ravel(),
        "channel": np.broadcast_to(np.array(_channels(series.columns, data)), shape).ravel(),
        "forecast": forecasts.ravel(),
        "actual": actuals.ravel(),
    }, columns=WINDOW_COLUMNS)
    return _with_digits(table if widths is None else with_window_bounds(table, widths),
                        digits(data))


def _window_arrays(run: LoadedRun, data: ForecastData, split: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The forecasts and actual values of ``split``'s windows, ``(windows, pred_len,
    scored channels)``, in original units."""
    with torch.inference_mode():
        pairs = [(pred.double().numpy(), y.double().numpy())
                 for pred, y in forecast_batches(run.model.eval(), data, split,
                                                 torch.device("cpu"))]
    return (data.inverse(np.concatenate([p for p, _ in pairs])),
            data.inverse(np.concatenate([y for _, y in pairs])))


def calibration(run: LoadedRun | Any, levels: float | list[float]
                ) -> dict[float, np.ndarray]:
    """Per level, the half-width of each horizon step and channel's split-conformal
    interval, ``(pred_len, scored channels)`` in original units, from the absolute residuals
    of the run's validation windows alone (:func:`~tsbench.forecast.intervals.half_widths`).
    Refused for a refit, whose model trained on those rows."""
    run = run if isinstance(run, LoadedRun) else load_run(run)
    levels = check_levels(levels)
    if run.path == run.root and run.refitted:
        raise ValueError(f"{run.path} is a refit ({_refit_setting(run)}): its model trained on "
                         "the validation rows, so no held-out rows are left to calibrate "
                         "intervals on -> take --intervals from a holdout run (cv=holdout) of "
                         "the same configuration")
    forecasts, actuals = _window_arrays(run, run_data(run, calibrating=True), "val")
    return _calibrated(np.abs(forecasts - actuals), levels)


def _calibrated(residuals: np.ndarray, levels: list[float]) -> dict[float, np.ndarray]:
    """:func:`~tsbench.forecast.intervals.half_widths` of ``residuals``, with a warning where
    there are too few of them for the levels' coverage to be more than rough."""
    widths = half_widths(residuals, levels)
    if said := rough_levels(len(residuals), levels):
        log.warning(said)
    return widths


def _refit_setting(run: LoadedRun) -> str:
    """The setting that made ``run`` a refit."""
    return "cv=refit" if run.config.cv.name == "refit" else "cv.refit=true"


def digits(data: ForecastData) -> int:
    """Significant digits that print each scored channel's values to ~1e-7 of its spread
    (a float32 model's precision in scaled units): 7, plus one per power of ten its
    offset exceeds its spread by (``1e6 + 0.05 sin t`` needs 14), at most 17."""
    dims = data.target_dims
    ratio = np.abs(data.scaler.mean_[dims]) / data.scaler.scale_[dims]
    return int(min(SPREAD_DIGITS + np.floor(np.log10(np.maximum(ratio, 1.0))).max(), 17))


def _with_digits(table: pd.DataFrame, count: int) -> pd.DataFrame:
    """``table`` with the significant digits its CSV needs (:func:`digits`) in its attrs."""
    table.attrs[DIGITS] = count
    return table


def _channels(columns: list[str], data: ForecastData) -> list[str]:
    """The scored channels' names: the target alone with features S or MS."""
    return list(columns[-1:] if data.features in ("S", "MS") else columns)
