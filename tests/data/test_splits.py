"""Published borders and window counts on the real benchmark files."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from tests.conftest import ROOT, data_dir
from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders, n_windows
from tsbench.errors import ConfigError, DataError


def _series(name: str):
    data_dir()
    cfg = OmegaConf.load(ROOT / "tsbench" / "conf" / "dataset" / f"{name}.yaml")
    return load_series(cfg)


@pytest.mark.parametrize("seq_len", [96, 336, 512])
@pytest.mark.parametrize("pred_len, expected", [(96, 2785), (192, 2689), (336, 2545), (720, 2161)])
def test_etth1_borders_and_test_windows(seq_len: int, pred_len: int, expected: int) -> None:
    series = _series("etth1")
    assert series.values.shape == (17420, 7)
    assert series.columns[-1] == "OT"
    borders = benchmark_borders(len(series.values), series.split, seq_len)
    assert borders.train == (0, 8640)
    assert borders.val == (8640 - seq_len, 11520)
    assert borders.test == (11520 - seq_len, 14400)
    rows = borders.test[1] - borders.test[0]
    assert n_windows(rows, seq_len, pred_len) == expected


def test_exchange_and_ili_counts() -> None:
    exchange = _series("exchange")
    borders = benchmark_borders(len(exchange.values), "ratio", 96)
    assert borders.train == (0, 5311)
    assert borders.test == (7588 - 1517 - 96, 7588)
    data = ForecastData(exchange, {"train": borders.train, "val": borders.val,
                                   "test": borders.test}, 96, 96)
    assert len(data.windows("train")) == 5311 - 96 - 96 + 1 == 5120
    assert len(data.windows("val")) == 665
    assert len(data.windows("test")) == 1422

    ili = _series("ili")
    borders = benchmark_borders(len(ili.values), "ratio", 104)
    assert borders.train == (0, 676)
    rows = borders.test[1] - borders.test[0]
    assert [n_windows(rows, 104, h) for h in (24, 36, 48, 60)] == [170, 158, 146, 134]


def test_a_split_too_short_names_the_fix_that_helps() -> None:
    # ILI's validation split forecasts 97 weeks: a horizon of 100 is too long whatever the
    # look-back, which comes from the training rows
    ili = _series("ili")
    borders = benchmark_borders(len(ili.values), "ratio", 4)
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    with pytest.raises(DataError) as caught:
        ForecastData(ili, ranges, 4, 100)
    assert str(caught.value) == ("the val split has 97 rows to forecast, fewer than pred_len "
                                 "= 100 (its look-back comes from the rows before it) -> use "
                                 "pred_len <= 97, or a longer series")
    assert len(ForecastData(ili, ranges, 4, 97).windows("val")) == 1  # the bound told holds
    borders = benchmark_borders(len(ili.values), "ratio", 600)
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    with pytest.raises(DataError, match="the train split has 676 rows, shorter than seq_len "
                                        r"\+ pred_len = 600 \+ 100 -> lower seq_len or"):
        ForecastData(ili, ranges, 600, 100)


def test_a_look_back_longer_than_the_training_rows_is_refused() -> None:
    """The val and test ranges start seq_len rows before their borders, in the training
    rows: a longer look-back is one error naming the fix, never a negative (wrapping)
    start."""
    with pytest.raises(DataError) as caught:
        benchmark_borders(100, "ratio", 71)
    assert str(caught.value) == "seq_len=71 is longer than the 70 training rows -> lower seq_len"
    borders = benchmark_borders(100, "ratio", 70)
    assert (borders.val, borders.test) == ((0, 80), (10, 100))
    with pytest.raises(DataError, match="seq_len=8641 is longer than the 8640 training rows"):
        benchmark_borders(17420, "ett_hour", 8641)


def test_scaler_sees_only_train_rows() -> None:
    series = _series("etth1")
    borders = benchmark_borders(len(series.values), series.split, 336)
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    data = ForecastData(series, ranges, 336, 96)
    train_rows = series.values[: borders.train[1]].astype("float64")
    assert data.scaler.fitted_rows == (0, 8640)
    assert data.scaler.mean_ == pytest.approx(train_rows.mean(axis=0))
    assert data.scaler.scale_ == pytest.approx(train_rows.std(axis=0))
    # Changing rows outside the training range changes nothing in the scaler.
    poisoned = series.values.copy()
    poisoned[8640:] *= 1000.0
    from dataclasses import replace

    again = ForecastData(replace(series, values=poisoned), ranges, 336, 96)
    assert again.scaler.mean_ == pytest.approx(data.scaler.mean_)
    assert again.scaler.scale_ == pytest.approx(data.scaler.scale_)


@pytest.mark.parametrize("fractions, said", [
    ((0.7, 0.0), "dataset.test_frac: must be between 0 and 1, got 0.0: every run holds out a "
                 "share of the rows -> give dataset.test_frac in (0, 1)"),
    ((1.2, 0.2), "dataset.train_frac: must be between 0 and 1, got 1.2: every run trains on a "
                 "share of the rows -> give dataset.train_frac in (0, 1)"),
    # the field (or fields) set away from the default, not train_frac whichever was set
    ((0.7, 0.9), "dataset.test_frac: train_frac=0.7 and test_frac=0.9 leave no validation "
                 "rows -> use fractions with train_frac + test_frac < 1"),
    ((0.85, 0.2), "dataset.train_frac: train_frac=0.85 and test_frac=0.2 leave no validation "
                  "rows -> use fractions with train_frac + test_frac < 1"),
    ((0.8, 0.3), "dataset.train_frac and dataset.test_frac: train_frac=0.8 and test_frac=0.3 "
                 "leave no validation rows -> use fractions with train_frac + test_frac < 1"),
])
def test_fractions_out_of_range_name_the_one_at_fault(fractions: tuple[float, float],
                                                      said: str) -> None:
    """test_frac=0 was told that train_frac + test_frac must stay under 1, which 0.7 does."""
    with pytest.raises(ConfigError) as refused:
        benchmark_borders(1000, "ratio", 24, *fractions)
    assert str(refused.value) == said


def _synthetic(freq: str, split: str):
    cfg = OmegaConf.load(ROOT / "tsbench" / "conf" / "dataset" / "synthetic.yaml")
    cfg.freq, cfg.split, cfg.n_rows = freq, split, 200
    return load_series(cfg)


@pytest.mark.parametrize("freq, split, fix", [
    ("15min", "ett_hour", "ett_minute"), ("D", "ett_hour", "ratio"),
    ("h", "ett_minute", "ett_hour"), ("30min", "ett_minute", "ratio"),
])
def test_an_ett_split_on_rows_of_another_step_is_refused(freq: str, split: str,
                                                         fix: str) -> None:
    """The ETT rules count months in rows: on 15-minute rows ett_hour's "12 months" of
    training were 90 days, on daily rows 8640 days, and the card called them months."""
    step = {"ett_hour": "h", "ett_minute": "15min"}[split]
    with pytest.raises(ConfigError) as refused:
        _synthetic(freq, split)
    assert str(refused.value) == (f"dataset.split: '{split}' counts 12/4/4 months in rows "
                                  f"of {step}, but the rows are {freq} apart -> use "
                                  f"dataset.split={fix}")


@pytest.mark.parametrize("freq, split", [("h", "ett_hour"), ("60min", "ett_hour"),
                                         ("15min", "ett_minute"), ("D", "ratio")])
def test_a_split_rule_of_the_rows_step_loads(freq: str, split: str) -> None:
    assert _synthetic(freq, split).split == split
