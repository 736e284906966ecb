"""forecast.png of a real tiny run: titled with the data file's name, each window drawn
against the timestamps of its rows; a cross-validation's loss.png files, each titled with
its fold or the refit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module
from matplotlib.figure import Figure

from tsbench.training import plots
from tsbench.training.run import run

ROWS, SEQ_LEN, PRED_LEN = 300, 24, 6
#: ratio split: the last int(0.2 * 300) = 60 rows are the test split's targets
TEST_ROWS = 60


def test_the_forecast_plot_names_the_file_and_shows_dates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = tmp_path / "shop_sales.csv"
    dates = pd.date_range("2023-01-02", periods=ROWS, freq="D")
    t = np.arange(ROWS)
    noise = np.random.default_rng(0).standard_normal(ROWS)
    pd.DataFrame({"date": dates, "OT": 100 + 30 * np.sin(2 * np.pi * t / 7) + noise}).to_csv(
        csv, index=False)
    drawn: list[Figure] = []
    close = plots.plt.close
    monkeypatch.setattr(plots.plt, "close", lambda fig: (drawn.append(fig), close(fig)))
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=csv", f"dataset.path={csv}", "model=dlinear", f"seq_len={SEQ_LEN}",
            f"pred_len={PRED_LEN}", "trainer=debug", "trainer.max_epochs=1", "logger=none"])
    run(cfg, tmp_path / "run")
    assert (tmp_path / "run" / "forecast.png").is_file()
    (figure,) = [f for f in drawn if f.get_suptitle()]  # loss.png's has none
    assert figure.get_suptitle().startswith("dlinear on shop_sales.csv: seq_len=24")
    axes = figure.get_axes()
    assert axes[-1].get_xlabel() == "date"
    for ax in axes:  # "test window k: origin <its last look-back date>, forecast <first> to <last>"
        window = int(ax.get_title().split(":")[0].removeprefix("test window "))
        first = ROWS - TEST_ROWS + window  # the window's first target row
        lines = ax.lines[:3]
        assert [line.get_label() for line in lines] == ["look-back", "truth", "forecast"]
        lookback, truth, forecast = (pd.DatetimeIndex(line.get_xdata()) for line in lines)
        assert list(lookback) == list(dates[first - SEQ_LEN:first])
        assert list(truth) == list(forecast) == list(dates[first:first + PRED_LEN])
        assert ax.get_title().endswith(f": origin {dates[first - 1]}, forecast {dates[first]} "
                                       f"to {dates[first + PRED_LEN - 1]}")


def test_each_loss_plot_of_a_cross_validation_names_its_fold_or_the_refit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fold's loss.png and the refit's (the run's own, without validation) had one
    title, so none said which training it showed."""
    drawn: list[Figure] = []
    close = plots.plt.close
    monkeypatch.setattr(plots.plt, "close", lambda fig: (drawn.append(fig), close(fig)))
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=synthetic", "dataset.n_rows=400", "model=dlinear", f"seq_len={SEQ_LEN}",
            f"pred_len={PRED_LEN}", "trainer=debug", "trainer.max_epochs=1", "logger=none",
            "cv=tscv", "cv.n_splits=2", "cv.refit=true"])
    run(cfg, tmp_path / "run")
    titles = [ax.get_title() for fig in drawn for ax in fig.get_axes()
              if ax.get_title().endswith("loss per epoch")]
    assert titles == [f"dlinear on synthetic, {part}: loss per epoch"
                      for part in ("fold_0, the 1st of 2 folds", "fold_1, the 2nd of 2 folds",
                                   "refit on the train+val rows")]


@pytest.mark.parametrize("cv", [["cv=holdout"], ["cv=tscv", "cv.n_splits=2", "cv.refit=true"]])
def test_a_run_with_plots_false_draws_no_picture(tmp_path: Path, cv: list[str]) -> None:
    """``plots=false`` (a long sweep of short trials): no forecast.png, no loss.png of the
    run, its folds or its refit; the run itself is scored as ever."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=synthetic", "dataset.n_rows=400", "model=dlinear", f"seq_len={SEQ_LEN}",
            f"pred_len={PRED_LEN}", "trainer=debug", "trainer.max_epochs=1", "logger=none",
            "plots=false", *cv])
    run(cfg, tmp_path / "run")
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert list((tmp_path / "run").rglob("*.png")) == []


def _broken_off(figure: Figure, target: object, **kwargs: object) -> None:
    """savefig stopped half-way: some bytes written, then the run's Ctrl-C."""
    Path(str(target)).write_bytes(b"\x89PNG half")
    raise KeyboardInterrupt


def test_a_picture_broken_off_mid_write_leaves_no_cut_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stopped while it draws (a killed trial) left a cut forecast.png or loss.png
    that looks like a result; the picture is written whole or not at all."""
    monkeypatch.setattr(Figure, "savefig", _broken_off)
    with pytest.raises(KeyboardInterrupt):
        plots.plot_losses({"train_loss": [1.0, 0.5], "val_loss": [0.9, 0.6]}, "t",
                          tmp_path / "loss.png")
    dates = [pd.date_range("2024-01-01", periods=9, freq="D")]
    with pytest.raises(KeyboardInterrupt):
        plots.plot_forecasts(np.zeros((1, 6, 1)), np.zeros((1, 3, 1)), np.zeros((1, 3, 1)),
                             [0], dates, "OT", "t", tmp_path / "forecast.png")
    assert list(tmp_path.iterdir()) == []
