"""``tsbench-analyze`` and the periodicity functions: periods, strengths, look-backs."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml

from tests.conftest import data_dir
from tests.preloaded import run_module
from tests.spiked import VAL_SPIKE, spiked_csv
from tests.unseen import differences, outputs_of_both, replaced_from, series, snapshot
from tsbench.analysis.periodicity import (
    acf,
    dominant_periods,
    lookback_candidates,
    seasonal_strength,
    spread_lookbacks,
)
from tsbench.tune_stage import TUNE_STAGE_ENV


def _analyze(args: list[str], out_dir: Path, check: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = run_module("tsbench.analysis.cli", [*args, f"hydra.run.dir={out_dir}"],
                      {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"tsbench-analyze failed:\n{proc.stderr[-3000:]}")
    return proc


def test_synthetic_period_24_with_noise_and_trend(tmp_path: Path) -> None:
    proc = _analyze(["dataset=synthetic", "dataset.noise=0.5", "dataset.trend=5",
                     "pred_len=24"], tmp_path)
    report = yaml.safe_load((tmp_path / "lookback.yaml").read_text())
    assert report["training_rows"] == [0, 1400]
    assert report["periods"][0] == 24 and report["strengths"][0] > 0.3
    assert all(entry["periods"][0] == 24 for entry in report["channels"].values())
    # half of the 1400 training rows keep starting a window: seq_len <= 700 - 24
    assert report["candidates"] == list(range(48, 677, 24)) and report["longest_lookback"] == 676
    assert (tmp_path / "acf.png").stat().st_size > 10_000
    assert "overall" in proc.stdout and "48 72 96 120 144 168" in proc.stdout
    # nothing logged, no log file (Hydra's handler made an empty cli.log before)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hydra", "acf.png", "lookback.yaml"]
    assert ("to search a few (the shortest doubled), paste 'seq_len=choice(48,96,192,384)'; "
            "for one run, seq_len=96") in proc.stdout


@pytest.mark.parametrize(("candidates", "few"), [
    (list(range(14, 239, 7)), [28, 56, 112, 224]),  # a daily series' 33: the longest four
    ([48, 72, 96], [48, 96]), ([48], [48]), ([], []),
    ([24, 36, 48, 168, 336], [24, 48]),  # 96 is no candidate: the ladder stops at 48
])
def test_a_search_takes_the_shortest_look_back_doubled(candidates: list[int],
                                                       few: list[int]) -> None:
    assert spread_lookbacks(candidates) == few


@pytest.mark.parametrize(("spike_at", "stage", "warned"), [
    (VAL_SPIKE, {}, True), (None, {}, False),
    (VAL_SPIKE, {TUNE_STAGE_ENV: "c_lookback"}, False),  # tsbench-tune said it before (c)
])
def test_an_unusual_validation_period_is_said_with_its_fix(
        tmp_path: Path, spike_at: int | None, stage: dict[str, str], warned: bool) -> None:
    """A week's spike in the validation rows: one line with the ratio and the pasteable
    fix; the files stay the training rows' alone (no ratio in lookback.yaml). Not in
    tsbench-tune's stage (c), whose log repeated the line tsbench-tune says once."""
    path = spiked_csv(tmp_path / "demand.csv", spike_at)
    proc = _analyze(["dataset=csv", f"dataset.path={path}", "dataset.target=east",
                     "features=S", "pred_len=14"], tmp_path / "out", env=stage)
    lines = [line for line in proc.stderr.splitlines()
             if line.startswith("tsbench-analyze: warning: the validation rows are unusual")]
    assert "the validation rows are unusual" not in proc.stdout
    assert len(lines) == int(warned)
    if warned:
        assert "add recipe.cv_folds=4 (tsbench-tune) or cv=tscv (tsbench)" in lines[0]
    assert "validation" not in (tmp_path / "out" / "lookback.yaml").read_text()


def test_etth1_daily_period_and_candidates(tmp_path: Path) -> None:
    data_dir()
    _analyze(["dataset=etth1"], tmp_path)
    report = yaml.safe_load((tmp_path / "lookback.yaml").read_text())
    assert report["training_rows"] == [0, 8640]
    assert report["periods"][0] == 24
    assert report["channels"]["OT"]["periods"][0] == 24
    assert report["candidates"] == list(range(48, 721, 24))


def test_rows_after_the_training_split_change_nothing(tmp_path: Path) -> None:
    """Checked from the outside: with every row after the training split (validation and
    test) replaced by a huge period-7 pattern, the analysis writes exactly the same files
    (report and ACF plot), although those rows alone have another dominant period."""
    frame = series(900)
    border = int(0.7 * 900)  # the ratio split's training rows are [0, 630)
    clean, replaced = outputs_of_both(tmp_path, frame, border, lambda path, out: _analyze(
        ["dataset=csv", f"dataset.path={path}", "pred_len=24", "max_lookback=120"], out))
    report = yaml.safe_load((clean / "lookback.yaml").read_text())
    assert report["training_rows"] == [0, border] and report["periods"][0] == 24
    assert differences(snapshot(clean), snapshot(replaced)) == []
    values = replaced_from(frame, border).drop(columns="date").to_numpy()
    assert dominant_periods(values, 60)[0].period == 7  # what reading them would find


@pytest.mark.parametrize(("args", "said"), [
    (["pred_len=0"], "pred_len: must be >= 1, got 0 -> give the horizon in time steps, e.g. "
                     "pred_len=96"),
    (["acf_lags=-5"], "acf_lags: must be >= 1, got -5 -> give the lags to draw, e.g. "
                      "acf_lags=400"),
    # an autocorrelation is at most 1: 2 found no period and wrote an empty analysis
    (["min_strength=2"], "min_strength: must lie between 0 and 1 (a seasonal "
                         "autocorrelation), got 2 -> give the least strength a period counts "
                         "from, e.g. min_strength=0.1"),
    # a fraction where a whole number is read (96.5 analyzed as 96 before), or no number
    (["pred_len=24.5"], "pred_len: must be a whole number, got 24.5 -> give pred_len as an "
                        "integer"),
    (["min_strength=x"], "min_strength: must be a finite number, got 'x' -> give min_strength "
                         "as a number"),
    (["dataset.n_rows=abc"], "dataset.n_rows: must be a whole number, got 'abc' -> give "
                             "dataset.n_rows as an integer"),
])
def test_bad_setting_is_one_clear_error_and_no_folder(
        args: list[str], said: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _analyze(["dataset=synthetic", *args], out, check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"tsbench-analyze: error: {said}\n"
    assert not out.exists()  # Hydra's folder for the refused run is removed


@pytest.mark.parametrize("arg", ["min_strength=2", "pred_len=0", "max_lookback=2"])
def test_a_setting_out_of_range_makes_no_folder_in_outputs(arg: str, tmp_path: Path) -> None:
    """Refused before Hydra makes the run's folder, not removed after: no empty
    outputs/analyze/<dataset>/ is left behind either."""
    proc = run_module("tsbench.analysis.cli", ["dataset=synthetic", arg],
                      {**os.environ, "OMP_NUM_THREADS": "1"}, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith(
        f"tsbench-analyze: error: {arg.split('=')[0]}: must ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "said"), [
    # a tsbench run's setting, spelt right, is not called misspelt: it is not analyze's
    *[(["dataset=etth1", arg], f"{arg.split('=')[0]}: a setting of a tsbench run, not of "
       "tsbench-analyze -> leave it out (tsbench-analyze reads dataset=<name>, "
       "dataset.<field>, pred_len, features, max_lookback, n_periods, min_strength, "
       "min_prominence, acf_lags; see tsbench-analyze --help)")
      for arg in ("seq_len=96", "trainer.num_threads=1", "model=dlinear")],
    # a setting of another option's runs, not the default's (patchtst lacks kernel_size)
    (["dataset=etth1", "model.kernel_size=25"], "model.kernel_size: a setting of a tsbench "
     "run with model=dlinear, not of tsbench-analyze -> leave it out (tsbench-analyze reads "
     "dataset=<name>, dataset.<field>, pred_len, features, max_lookback, n_periods, "
     "min_strength, min_prominence, acf_lags; see tsbench-analyze --help)"),
    (["dataset=etth1", "strategy.step=4"], "strategy.step: a setting of a tsbench run with "
     "strategy=recursive, not of tsbench-analyze -> leave it out (tsbench-analyze reads "
     "dataset=<name>, dataset.<field>, pred_len, features, max_lookback, n_periods, "
     "min_strength, min_prominence, acf_lags; see tsbench-analyze --help)"),
    (["dataset=etth1", "model.kernl_size=25"], "model.kernl_size: no such setting -> check "
     "its spelling (tsbench-analyze --cfg job shows every setting)"),
    (["dataset=etth1", "pred_ln=96"], "pred_ln: no such setting -> did you mean pred_len? "
     "Else check its spelling (tsbench-analyze --cfg job shows every setting)"),
    # the command the user ran, which has --cfg job too, not tsbench
    (["dataset=etth1", "pred_len=${oops}"], "pred_len: Interpolation key 'oops' not found -> "
     "check the ${...} in its value (tsbench-analyze --cfg job shows every setting)"),
    (["dataset=ettx"], "dataset: no option 'ettx' -> use one of csv, electricity, etth1, etth2, "
     "ettm1, ettm2, exchange, ili, synthetic, traffic, weather, or for a dataset of your own, "
     "its folder of dataset/ettx.yaml on the search path: 'hydra.searchpath=[file://conf]'"),
])
def test_a_setting_or_option_it_lacks_is_one_line_and_no_folder(
        args: list[str], said: str, tmp_path: Path) -> None:
    proc = _analyze(args, tmp_path / "out", check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"tsbench-analyze: error: {said}\n"
    assert not (tmp_path / "out").exists()


def test_a_horizon_no_split_can_forecast_is_refused(tmp_path: Path) -> None:
    data_dir()  # ILI's validation split holds 97 weeks to forecast
    proc = _analyze(["dataset=ili", "pred_len=500"], tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr == ("tsbench-analyze: error: pred_len: 500 is longer than the val "
                           "split's 97 rows to forecast -> use pred_len <= 97\n")


def test_features_s_finds_the_targets_period_among_channels_of_another(tmp_path: Path
                                                                       ) -> None:
    """A weekly target beside three monthly channels: M reads the periods of all channels
    together, S and MS the target's alone (the channel their runs score)."""
    rng = np.random.default_rng(5)
    days = 700
    walks = np.sin(2 * np.pi * np.arange(days) / 30)[:, None] + 0.3 * rng.standard_normal(
        (days, 3))
    target = np.sin(2 * np.pi * np.arange(days) / 7) + 0.3 * rng.standard_normal(days)
    csv = tmp_path / "shop.csv"
    pd.DataFrame({"date": pd.date_range("2022-01-01", periods=days, freq="D"),
                  "a": walks[:, 0], "b": walks[:, 1], "c": walks[:, 2], "sales": target}
                 ).to_csv(csv, index=False)
    train = pd.read_csv(csv).iloc[:490, 1:].to_numpy(np.float32)
    settings = {"max_period": 360, "n_periods": 3, "min_strength": 0.1, "min_prominence": 20.0}
    for features, rows in (("M", train), ("S", train[:, -1:]), ("MS", train[:, -1:])):
        out = tmp_path / features
        proc = _analyze(["dataset=csv", f"dataset.path={csv}", "dataset.target=sales",
                         "pred_len=14", f"features={features}"], out)
        report = yaml.safe_load((out / "lookback.yaml").read_text())
        # named by its file, as a run's pictures and tsbench-report name it, not "csv"
        assert report["dataset"] == "shop.csv"
        assert proc.stdout.startswith("tsbench-analyze: shop.csv, training rows 0-489\n")
        expected = [p.period for p in dominant_periods(rows, **settings)]
        assert report["periods"] == expected and report["features"] == features
        assert report["channels"]["sales"]["periods"][0] == 7
        if features != "M":
            assert expected[0] == 7 and report["candidates"][:3] == [14, 21, 28]
            assert [line.split()[:2] for line in proc.stdout.splitlines()
                    if line.startswith("target ")] == [["target", "7"]]
    assert yaml.safe_load((tmp_path / "M" / "lookback.yaml").read_text())["periods"] != \
        yaml.safe_load((tmp_path / "S" / "lookback.yaml").read_text())["periods"]


def test_no_candidate_says_why(tmp_path: Path) -> None:
    # a daily cycle in 150 training rows: half of them less pred_len 40 leaves a look-back
    # of 35, shorter than two cycles (48)
    csv = _csv(tmp_path / "short.csv", np.sin(2 * np.pi * np.arange(300) / 24))
    proc = _analyze(["dataset=csv", f"dataset.path={csv}", "dataset.train_frac=0.5",
                     "dataset.test_frac=0.2", "pred_len=40"], tmp_path / "out")
    assert ("look-back candidates for pred_len=40 (0): none: two cycles of period 24 are "
            "longer than the longest look-back that fits, 35 (half the training rows less "
            "pred_len, at most max_lookback) -> lower pred_len, or raise max_lookback") in \
        proc.stdout


def test_noise_and_random_walks_have_no_period() -> None:
    rng = np.random.default_rng(0)
    assert dominant_periods(rng.standard_normal((2000, 3)), 360) == []
    assert dominant_periods(np.cumsum(rng.standard_normal((4000, 2)), axis=0), 360) == []


def test_daily_and_weekly_periods_under_a_drift() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(4000.0)
    x = (np.sin(2 * np.pi * t / 24) + 0.6 * np.sin(2 * np.pi * t / 168) + t / 200
         + np.cumsum(rng.standard_normal(4000)) * 0.05 + 0.3 * rng.standard_normal(4000))
    found = dominant_periods(x, 360)
    assert [p.period for p in found[:2]] == [24, 168]
    assert seasonal_strength(np.sin(2 * np.pi * t / 24), 24) == pytest.approx(1.0)


def test_a_daily_cycle_under_a_stronger_weekly_one_is_not_taken_for_its_harmonic() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(24 * 7 * 40.0)
    noise = 0.1 * rng.standard_normal(len(t))
    day = (t % 24) / 24 * 2 - 1  # a sawtooth day: its line at 24 rows is 168 / 7
    found = dominant_periods(day + 1.5 * np.sin(2 * np.pi * t / 168) + noise, 400)
    assert [p.period for p in found] == [168, 24]
    # the harmonics of a weekly cycle alone are no periods: a sawtooth week, a weekend step
    for week in ((t % 168) / 168, np.where(t // 24 % 7 >= 5, -1.0, 1.0)):
        assert [p.period for p in dominant_periods(week + noise, 400)] == [168]
    # nor a harmonic of the week (21 = 168 / 8) near a daily cycle, whose autocorrelation
    # it borrows (0.53 at 21 rows)
    found = dominant_periods(np.sin(2 * np.pi * t / 24) + np.where(t // 24 % 7 >= 5, -1.0, 1.0)
                             + 2 * noise, 400)
    assert [p.period for p in found] == [24, 168]
    # nor half a day, the harmonic of a day with two rush hours, however self-similar
    rush = (np.sin(2 * np.pi * t / 24) + 0.9 * np.sin(2 * np.pi * t / 12 + 0.5)
            + 0.6 * np.sin(2 * np.pi * t / 168) + noise)
    assert [p.period for p in dominant_periods(rush, 400)] == [24, 168]


def test_a_strong_cycle_leaks_no_periods_one_row_beside_it() -> None:
    """A daily line leaks power into every bin, the more the nearer it: the ripples on that
    skirt at 23 and 25 rows stood 60 times above their wide neighbourhood, and a smooth day
    has a high autocorrelation there (0.95), so they were reported as periods of their own
    (and look-backs of 46, 69, ... searched)."""
    rng = np.random.default_rng(0)
    t = np.arange(18396.0)  # 766.5 days: the daily line falls between two bins
    day = np.sin(2 * np.pi * t / 24)
    noise = 0.1 * rng.standard_normal(len(t))
    assert [p.period for p in dominant_periods(day + noise, 360)] == [24]
    week = 0.6 * np.sin(2 * np.pi * t / 168)
    assert [p.period for p in dominant_periods(day + week + noise, 360)] == [24, 168]


def test_a_period_on_the_edge_of_its_frequency_bin_is_found_whole() -> None:
    """A week in 2100 hourly rows (the training rows of a 3000-row file) spans 12.5 bins:
    its period lies on the edge of both neighbouring bins, and the edge, computed in floating
    point as 167.99999999999997 rows, was left out of the peak's bin where the weekend fell
    so that bin 13 peaked: 167 was reported (look-backs 334, 501, ... searched)."""
    rng = np.random.default_rng(0)
    t = np.arange(2100.0)
    day = np.sin(2 * np.pi * t / 24) + 0.3 * rng.standard_normal(len(t))
    for start in range(0, 168, 24):  # the file starting on each weekday
        weekend = np.where((t + start) // 24 % 7 >= 5, -1.0, 1.0)
        assert sorted(p.period for p in dominant_periods(day + weekend, 720)) == [24, 168], start


def test_two_cycles_close_together_are_both_found() -> None:
    """A second cycle stands above the skirt of the first, however near: periods of 24 and
    25 rows (their lines 31 bins apart), and 24 and 30."""
    rng = np.random.default_rng(1)
    t = np.arange(18396.0)
    day = np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(len(t))
    for other in (25, 30):
        found = dominant_periods(day + 0.5 * np.sin(2 * np.pi * t / other + 1.0), 360)
        assert sorted(p.period for p in found) == [24, other], other


def test_a_flat_channel_does_not_dilute_the_seasonal_strength() -> None:
    """A constant (dead sensor's) channel beside a daily cycle is left out of the strength's
    mean, as out of the ACF's: the cycle is as strong as alone, and is found as a period."""
    t = np.arange(24 * 60)
    rng = np.random.default_rng(0)
    daily = np.sin(2 * np.pi * t / 24) + 0.8 * rng.standard_normal(len(t))
    alone = seasonal_strength(daily, 24)
    with_dead = np.column_stack([daily, np.full(len(t), 3.0), 0.5 * t])
    assert seasonal_strength(with_dead, 24) == pytest.approx(alone)
    assert seasonal_strength(np.column_stack([np.full(len(t), 3.0), 0.5 * t]), 24) == 0.0
    assert [p.period for p in dominant_periods(with_dead, 200, min_strength=0.2)] == [24]


def test_the_acf_is_of_the_detrended_series() -> None:
    """A straight line has no autocorrelation left once its trend is removed (NaN, not the
    near-1 of a trending series); a cycle under a steep trend shows its half-period trough."""
    t = np.arange(480.0)
    assert np.isnan(acf(3.0 * t + 1.0, 30)).all()
    curve = acf(5.0 * t + np.sin(2 * np.pi * t / 24), 30)[:, 0]
    assert curve[12] < -0.8 and curve[24] > 0.8


def test_the_acf_picture_marks_each_period_at_its_lag(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import pyplot as plt

    from tsbench.analysis.periodicity import Period
    from tsbench.analysis.plots import plot_acf

    monkeypatch.setattr(plt, "close", lambda fig: None)  # keep the figure to read it back
    curves = acf(np.sin(2 * np.pi * np.arange(480.0) / 24), 60)
    plot_acf(curves, ["OT"], [Period(24, 0.9, 50.0)], "t", "hours", tmp_path / "acf.png")
    dashed = [line.get_xdata() for line in plt.gcf().axes[0].lines
              if line.get_linestyle() == "--"]
    plt.close("all")
    assert [list(x) for x in dashed] == [[24, 24]]


def test_the_acf_pictures_mean_leaves_a_flat_channel_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A constant channel has no autocorrelation (NaN): the mean over channels is the other
    channels', where it was NaN at every lag and drawn nowhere."""
    from matplotlib import pyplot as plt

    from tsbench.analysis.plots import plot_acf

    monkeypatch.setattr(plt, "close", lambda fig: None)  # keep the figure to read it back
    sine = np.sin(2 * np.pi * np.arange(480.0) / 24)
    curves = acf(np.c_[np.full(480, 5.0), sine], 60)
    plot_acf(curves, ["const", "OT"], [], "t", "hours", tmp_path / "acf.png")
    (mean,) = [line.get_ydata() for line in plt.gcf().axes[0].lines
               if line.get_label() == "mean over channels"]
    plt.close("all")
    np.testing.assert_allclose(mean, curves[:, 1])


def test_with_features_s_the_picture_draws_the_channel_whose_periods_it_marks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A weekly target beside monthly channels: the picture marks the target's period 7,
    so it draws the target's ACF (peaking at lag 7), not every channel's mean under it."""
    from hydra import compose, initialize_config_module
    from matplotlib import pyplot as plt

    from tsbench.analysis.cli import analyze

    days = np.arange(700)
    csv = tmp_path / "shop.csv"
    pd.DataFrame({"date": pd.date_range("2022-01-01", periods=700, freq="D"),
                  **{name: np.sin(2 * np.pi * days / 30) for name in "abc"},
                  "sales": np.sin(2 * np.pi * days / 7)}).to_csv(csv, index=False)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("analyze", overrides=["dataset=csv", f"dataset.path={csv}",
                                            "dataset.target=sales", "pred_len=14",
                                            "features=S", "acf_lags=20"])
    monkeypatch.setattr(plt, "close", lambda fig: None)  # keep the figure to read it back
    report = analyze(cfg, tmp_path)
    ax = plt.gcf().axes[0]
    drawn = {line.get_label(): line.get_ydata() for line in ax.lines
             if line.get_linestyle() == "-" and not line.get_label().startswith("_")}
    title = ax.get_title()
    plt.close("all")
    assert report["periods"] == [7] and title.startswith("ACF of shop.csv (target sales)")
    assert list(drawn) == ["sales"]  # one channel: its own curve, no mean of it
    assert np.argmax(drawn["sales"][2:]) + 2 == 7


def test_a_period_longer_than_half_the_longest_look_back_is_not_reported(tmp_path: Path
                                                                         ) -> None:
    """Two cycles must fit in a look-back: with max_lookback=60, a strong period of 40 is
    not a period here, the weaker 12 is."""
    t = np.arange(1200)
    values = 3 * np.sin(2 * np.pi * t / 40) + np.sin(2 * np.pi * t / 12)
    csv = _csv(tmp_path / "two.csv", values + 0.1 * np.random.default_rng(1).standard_normal(1200))
    _analyze(["dataset=csv", f"dataset.path={csv}", "pred_len=12", "max_lookback=60"],
             tmp_path / "out")
    report = yaml.safe_load((tmp_path / "out" / "lookback.yaml").read_text())
    assert report["periods"] and all(p <= 30 for p in report["periods"])
    assert 12 in report["periods"] and 40 not in report["periods"]


def test_lookback_candidates() -> None:
    assert lookback_candidates([24], pred_len=96, max_len=300) == [48, 72, 96, 120, 144, 168, 192]
    assert lookback_candidates([24, 36], pred_len=0, max_len=150) == [48, 72, 96, 108, 120, 144]
    assert lookback_candidates([24], pred_len=96, max_len=100) == []


def _sunspots() -> np.ndarray:
    """Yearly sunspot numbers 1700-2008 (statsmodels' copy): a cycle of 9 to 14 years."""
    return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()


def test_a_broad_long_cycle_is_found() -> None:
    # The 216 training rows (70 %) of the sunspot series: ACF 0.55 at lag 11, but the cycle's
    # varying length spreads its line over several periodogram bins; the highest bin alone
    # stands only 17.7 times above its neighbours.
    train = _sunspots()[:216]
    assert acf(train, 11)[11, 0] > 0.5
    found = dominant_periods(train, 100)
    assert found and found[0].period == 11 and found[0].strength > 0.5


def test_short_random_walks_have_no_period() -> None:
    # A falling (red) spectrum must not be measured against its lower neighbours only.
    for seed in range(20):
        walk = np.cumsum(np.random.default_rng(seed).standard_normal(216))
        assert dominant_periods(walk, 100) == [], seed


def _csv(path: Path, values: np.ndarray, freq: str = "h", start: str = "2020-01-01") -> Path:
    dates = pd.date_range(start, periods=len(values), freq=freq)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d %H:%M:%S"), "OT": values}).to_csv(
        path, index=False)
    return path


def test_yearly_csv_cycle_through_the_cli(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "sunspots.csv", _sunspots(), freq="YS", start="1700-01-01")
    proc = _analyze(["dataset=csv", f"dataset.path={csv}", "pred_len=4"], tmp_path / "out")
    report = yaml.safe_load((tmp_path / "out" / "lookback.yaml").read_text())
    assert report["freq"] == "YS-JAN" and report["training_rows"] == [0, 216]
    assert report["periods"] == [11]
    assert report["candidates"] == list(range(22, 105, 11))  # up to 216 // 2 - 4 = 104
    assert "look-back candidates for pred_len=4 (8): 22 33 44" in proc.stdout


def test_the_default_folder_names_the_csv_file_or_the_dataset(tmp_path: Path) -> None:
    """Without hydra.run.dir, a CSV's analysis lands under its file's name (as runs name
    their data), a named dataset's under that name: two files are never one folder. The
    CSV's command is the README's check of a file of one's own ("Your own CSV")."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    own = shlex.split(next(line for line in readme.splitlines()
                           if line.startswith("tsbench-analyze dataset=csv ")))[1:]
    pd.DataFrame({"day": pd.date_range("2020-01-01", periods=400, freq="h"),
                  "units": np.sin(np.arange(400) * 2 * np.pi / 24)}).to_csv(
        tmp_path / "sales.csv", index=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for args, name in ((own, "sales.csv"),
                       (["dataset=synthetic", "dataset.n_rows=400"], "synthetic")):
        proc = run_module("tsbench.analysis.cli", [*args, "pred_len=24"], env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert f"tsbench-analyze: outputs in {tmp_path / 'outputs' / 'analyze' / name}/" in \
            proc.stdout
        assert len(list((tmp_path / "outputs" / "analyze" / name).glob("*/lookback.yaml"))) == 1
    assert sorted(p.name for p in (tmp_path / "outputs" / "analyze").iterdir()) == [
        "sales.csv", "synthetic"]


def test_no_period_found_is_one_line(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "noise.csv", np.random.default_rng(0).standard_normal(1500))
    proc = _analyze(["dataset=csv", f"dataset.path={csv}", "pred_len=24"], tmp_path / "out")
    report = yaml.safe_load((tmp_path / "out" / "lookback.yaml").read_text())
    assert report["periods"] == [] and report["candidates"] == []
    lines = [line for line in proc.stdout.splitlines() if "no period found" in line]
    assert lines == ["no period found overall, so no look-back candidates (weaker cycles show "
                     "with lower min_prominence or min_strength)"]
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr


def test_non_finite_values_are_refused(tmp_path: Path) -> None:
    values = np.sin(np.arange(300.0))
    values[40] = np.inf
    csv = _csv(tmp_path / "inf.csv", values)
    proc = _analyze(["dataset=csv", f"dataset.path={csv}"], tmp_path / "out", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (f"tsbench-analyze: error: {csv}: 1 non-finite value (first inf in column 'OT' "
            f"at row 40)") in proc.stderr
    assert not (tmp_path / "out" / "lookback.yaml").exists()


def test_the_help_names_the_tool_and_only_what_it_reads() -> None:
    """tsbench-analyze reads the dataset group alone: its help must not offer tsbench's model,
    experiment or trainer groups (each refused as "no such setting")."""
    said = run_module("tsbench.analysis.cli", ["--help"], {**os.environ})
    assert said.returncode == 0 and said.stdout.startswith("tsbench-analyze: the periods")
    assert "experiment:" not in said.stdout and "model:" not in said.stdout
    assert "dataset=<name>" in said.stdout and "max_lookback: 720" in said.stdout
    # every setting of its own is explained, one line each, above the config dump
    explained = said.stdout.split("== Config ==")[0]
    settings = yaml.safe_load(said.stdout.split("== Config ==")[1])
    own = [key for key in settings if key != "dataset"]
    assert len(own) >= 7 and all(f"\n  {key}  " in explained for key in own), own
    main = run_module("tsbench", ["--help"], {**os.environ})
    assert main.stdout.startswith("tsbench is powered by Hydra.")
    assert "experiment: dlinear_etth1" in main.stdout
