"""The frequency of a series: inferred from real CSV files, checked when given, mapped to a
seasonal period and calendar features; gaps refused, filled on a regular index, or kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import data_dir
from tsbench.data.frequency import parse_freq
from tsbench.data.loading import load_series
from tsbench.data.timefeatures import freq_family, seasonal_period, time_features
from tsbench.errors import ConfigError, DataError
from tsbench.models.build import model_for
from tsbench.training.train_and_score import make_data

#: alias -> (seasonal period, calendar-feature family)
CALENDARS = {
    "s": (86400, "s"), "15min": (96, "min"), "10min": (144, "min"), "h": (24, "h"),
    "2h": (12, "h"), "D": (7, "d"), "B": (5, "d"), "W": (52, "w"), "W-TUE": (52, "w"),
    "2W": (26, "w"), "7D": (52, "w"), "SME": (24, "m"), "ME": (12, "m"), "MS": (12, "m"),
    "BME": (12, "m"), "BMS": (12, "m"), "3ME": (4, "m"), "QE": (4, "q"), "QS-OCT": (4, "q"),
    "BQE": (4, "q"), "2QS": (2, "q"), "YE": (1, "y"), "YS": (1, "y"), "BYE": (1, "y"),
    "2D": (None, "d"), "5ME": (None, "m"),
}  # fmt: skip


@pytest.mark.parametrize("alias", sorted(CALENDARS))
def test_every_alias_has_a_season_and_calendar_features(alias: str) -> None:
    period, family = CALENDARS[alias]
    assert seasonal_period(alias) == period
    assert freq_family(alias) == family
    dates = pd.date_range("2021-03-01", periods=5, freq=alias)
    features = time_features(dates, alias)
    assert features.shape[0] == 5 and features.dtype == np.float32
    assert np.all(np.abs(features) <= 0.5)


@pytest.mark.parametrize("alias, message", [
    ("banana", "'banana' is not a pandas frequency alias"),
    ("M", "Please use 'ME' instead"),
    ("H", "Did you mean h?"),
    ("d", "please use 'D' instead"),  # deprecated: it would stop working with a later pandas
    ("bh", "BusinessHour steps (bh) are not supported"),
    ("ms", "sub-second steps (ms) are not supported"),
])  # fmt: skip
def test_unknown_or_unsupported_aliases_fail_with_a_message(alias: str, message: str) -> None:
    with pytest.raises(ConfigError, match="dataset.freq") as caught:
        parse_freq(alias, "dataset.freq")
    assert message in str(caught.value)


def _pattern_csv(path: Path, dates: pd.DatetimeIndex, period: int) -> Path:
    """Two channels repeating one random pattern of ``period`` steps exactly."""
    pattern = np.random.default_rng(period).normal(size=(period, 2))
    values = pattern[np.arange(len(dates)) % period]
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "a": values[:, 0],
                  "OT": values[:, 1]}).to_csv(path, index=False)
    return path


def _csv_cfg(path: Path, **fields: object) -> object:
    cfg = OmegaConf.load(Path(__file__).parents[2] / "tsbench" / "conf" / "dataset" / "csv.yaml")
    cfg.path = str(path)
    for key, value in fields.items():
        cfg[key] = value
    return cfg


def _run_cfg(dataset: object, seq_len: int, pred_len: int) -> object:
    """A run config with the seasonal-naive preset (``model.period: null``)."""
    model = OmegaConf.load(Path(__file__).parents[2] / "tsbench" / "conf" / "model"
                           / "seasonal_naive.yaml")
    return OmegaConf.create({
        "dataset": dataset, "model": model, "features": "M", "seq_len": seq_len,
        "pred_len": pred_len, "seed": 0, "trainer": {"pin_memory": False},
        "data": {"batch_size": 8, "eval_batch_size": 8, "drop_last": False},
    })


@pytest.mark.parametrize("start, alias, freq, period, marks", [
    ("2000-01-02", "W-SUN", "W-SUN", 52, ["day_of_month", "week_of_year"]),
    ("1980-01-01", "MS", "MS", 12, ["month"]),
    ("1960-03-31", "QE-DEC", "QE-DEC", 4, ["quarter"]),
    ("1800-01-01", "YS", "YS-JAN", 1, []),
    ("2010-01-04", "B", "B", 5, ["day_of_week", "day_of_month", "day_of_year"]),
])  # fmt: skip
def test_frequency_inferred_from_a_real_csv_flows_to_period_and_features(
    start: str, alias: str, freq: str, period: int, marks: list[str], tmp_path: Path
) -> None:
    dates = pd.date_range(start, periods=300, freq=alias)
    series = load_series(_csv_cfg(_pattern_csv(tmp_path / "data.csv", dates, 7)))
    assert series.freq == freq and seasonal_period(series.freq) == period
    cfg = _run_cfg(_csv_cfg(tmp_path / "data.csv"), seq_len=60, pred_len=4)
    assert model_for(cfg, series).period == period  # model.period: null = the data's season
    data = make_data(cfg, series, {"train": (0, 200), "val": (140, 300)}, with_marks=True)
    assert data.n_marks == len(marks)
    expected = {
        "day_of_month": (dates.day - 1) / 30 - 0.5,
        "week_of_year": (dates.isocalendar().week.to_numpy() - 1) / 52 - 0.5,
        "month": (dates.month - 1) / 11 - 0.5, "quarter": (dates.quarter - 1) / 3 - 0.5,
        "day_of_week": dates.day_of_week / 6 - 0.5,
        "day_of_year": (dates.day_of_year - 1) / 365 - 0.5,
    }  # fmt: skip
    _, _, x_mark = data.windows("train").batch(torch.tensor([0]))
    for j, name in enumerate(marks):
        np.testing.assert_allclose(x_mark[0, :, j].numpy(), expected[name][:60], atol=1e-6)


def test_benchmark_files_get_their_published_frequency() -> None:
    data_dir()
    conf = Path(__file__).parents[2] / "tsbench" / "conf" / "dataset"
    found = {name: load_series(OmegaConf.load(conf / f"{name}.yaml")).freq
             for name in ("etth1", "exchange", "ili")}
    assert found == {"etth1": "h", "exchange": "D", "ili": "W-TUE"}


def test_given_frequency_must_match_the_timestamps(tmp_path: Path) -> None:
    csv = _pattern_csv(tmp_path / "w.csv", pd.date_range("2000-01-02", periods=60, freq="W"), 4)
    assert load_series(_csv_cfg(csv, freq="W")).freq == "W-SUN"
    assert load_series(_csv_cfg(csv, freq="7D")).freq == "7D"  # the same steps, named otherwise
    with pytest.raises(ConfigError) as caught:
        load_series(_csv_cfg(csv, freq="W-MON"))
    assert str(caught.value) == (
        f"dataset.freq: 'W-MON' does not match the timestamps of {csv}: their frequency is "
        f"W-SUN -> set dataset.freq=W-SUN, or null to infer it")
    with pytest.raises(ConfigError, match="'D' does not match .* their frequency is W-SUN"):
        load_series(_csv_cfg(csv, freq="D"))  # a finer grid would invent 6 rows in 7


def _hourly_with_gaps(path: Path) -> tuple[Path, pd.DatetimeIndex]:
    full = pd.date_range("2020-01-01", periods=120, freq="h")
    dates = full.delete([30, 31, 77])
    values = np.arange(len(dates), dtype=float)
    pd.DataFrame({"date": dates, "a": values, "OT": -values}).to_csv(path, index=False)
    return path, full


def test_gaps_are_refused_with_the_first_gap(tmp_path: Path) -> None:
    csv, full = _hourly_with_gaps(tmp_path / "gaps.csv")
    with pytest.raises(DataError) as caught:
        load_series(_csv_cfg(csv))
    assert str(caught.value) == (
        f"{csv}: 3 steps of its frequency h are missing (the first gap follows row 29, "
        f"2020-01-02 05:00:00, whose next row is 2020-01-02 08:00:00) -> add those rows, or set "
        f"dataset.fillna=ffill to forward-fill them on a regular h index")


def test_gaps_filled_on_a_regular_index_or_kept(tmp_path: Path) -> None:
    csv, full = _hourly_with_gaps(tmp_path / "gaps.csv")
    filled = load_series(_csv_cfg(csv, fillna="ffill"))
    assert filled.freq == "h" and filled.dates.equals(full)
    a = filled.values[:, 0]
    assert list(a[28:34]) == [28, 29, 29, 29, 30, 31]  # the two missing hours repeat row 29
    assert len(a) == 120 and a[-1] == 116
    kept = load_series(_csv_cfg(csv, gaps="keep"))
    assert kept.freq == "h" and len(kept.values) == 117 and kept.values[30, 0] == 30


def test_sparse_rows_on_a_regular_grid_have_gaps(tmp_path: Path) -> None:
    full = pd.date_range("2020-01-01", periods=300, freq="h")
    keep = np.random.default_rng(0).random(300) < 0.6  # few regular stretches of 8 rows
    keep[[0, -1]] = True
    dates = full[keep]
    csv = tmp_path / "sparse.csv"
    pd.DataFrame({"date": dates, "OT": np.arange(len(dates), dtype=float)}).to_csv(
        csv, index=False)
    with pytest.raises(DataError, match=f"{300 - len(dates)} steps of its frequency h are missing"):
        load_series(_csv_cfg(csv))
    series = load_series(_csv_cfg(csv, fillna="ffill"))
    assert series.dates.equals(full) and series.freq == "h"


def test_irregular_timestamps_are_refused(tmp_path: Path) -> None:
    minutes = np.random.default_rng(0).integers(0, 50, 300)
    dates = pd.date_range("2020-01-01", periods=300, freq="h") + pd.to_timedelta(minutes, "min")
    csv = tmp_path / "irregular.csv"
    pd.DataFrame({"date": dates, "OT": np.ones(300)}).to_csv(csv, index=False)
    with pytest.raises(DataError, match="the timestamps have no regular frequency .irregular: "
                                        "most steps are"):
        load_series(_csv_cfg(csv))
    with pytest.raises(ConfigError, match="'h' does not match .* their frequency is irregular"):
        load_series(_csv_cfg(csv, freq="h", fillna="ffill"))


def test_working_hours_alone_name_the_fix_that_reads_them(tmp_path: Path) -> None:
    """Hours of the working day lie on an hourly grid, most of whose steps are missing: the
    refusal of dataset.freq=h says so, and business hours (bh, which tsbench has no calendar
    for) are not told to resample to seconds or coarser, which they are."""
    hours = pd.date_range("2024-01-01", periods=24 * 28, freq="h")
    working = hours[(hours.day_of_week < 5) & (hours.hour >= 8) & (hours.hour <= 17)]
    csv = tmp_path / "working.csv"
    pd.DataFrame({"date": working, "OT": np.ones(len(working))}).to_csv(csv, index=False)
    with pytest.raises(DataError, match=r"set dataset.freq if the rows lie on one with gaps "
                                        r"\(at most as many missing steps as rows\)"):
        load_series(_csv_cfg(csv))
    with pytest.raises(ConfigError) as caught:
        load_series(_csv_cfg(csv, freq="h", fillna="ffill"))
    assert str(caught.value) == (
        f"dataset.freq: 'h' holds every timestamp of {csv}, but most of its steps are "
        f"missing: its index from the first to the last timestamp holds 610 rows, 3.0 times "
        f"the file's 200 (at most 2 times: beyond, most of the series would be invented) -> "
        f"resample the file to a frequency its rows fill (e.g. D for working hours alone), "
        f"or add the missing rows")
    business = hours[(hours.day_of_week < 5) & (hours.hour >= 9) & (hours.hour <= 16)]
    pd.DataFrame({"date": business, "OT": np.ones(len(business))}).to_csv(csv, index=False)
    with pytest.raises(DataError) as caught:
        load_series(_csv_cfg(csv))
    assert "frequency bh is not supported" in str(caught.value)
    assert "seconds or coarser" not in str(caught.value)
    assert str(caught.value).endswith("(every hour of the day for hourly data, not business "
                                      "hours alone)")


def test_business_days_with_holidays_are_business_days_with_gaps(tmp_path: Path) -> None:
    dates = pd.date_range("2021-01-04", periods=80, freq="B").delete([10, 41])
    pd.DataFrame({"date": dates, "OT": np.ones(len(dates))}).to_csv(tmp_path / "b.csv",
                                                                     index=False)
    with pytest.raises(DataError, match="2 steps of its frequency B are missing"):
        load_series(_csv_cfg(tmp_path / "b.csv"))


def test_epoch_numbers_need_their_unit(tmp_path: Path) -> None:
    stamps = 1_600_000_000 + 3600 * np.arange(50)
    pd.DataFrame({"date": stamps, "OT": np.sin(np.arange(50))}).to_csv(tmp_path / "e.csv",
                                                                       index=False)
    series = load_series(_csv_cfg(tmp_path / "e.csv", date_unit="s"))
    assert series.dates[0] == pd.Timestamp("2020-09-13 12:26:40") and series.freq == "h"
    millis = tmp_path / "ms.csv"
    pd.DataFrame({"date": stamps * 1000, "OT": np.ones(50)}).to_csv(millis, index=False)
    assert load_series(_csv_cfg(millis, date_unit="ms")).dates.equals(series.dates)
    with pytest.raises(DataError, match="holds numbers .first 1600000000., not dates -> set "
                                        "dataset.date_unit to s, ms, us or ns"):
        load_series(_csv_cfg(tmp_path / "e.csv"))
