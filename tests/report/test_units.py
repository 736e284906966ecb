"""``tsbench-report --units original``: the tables, tests and ranks read each run's scores in
the data's own units (``test_mse_orig``, ``test_window_mse_orig.npy``), on real runs of a
CSV whose channels differ in scale by 1000x, so that the scaled and the original-unit
rankings disagree; no published number beside them; runs without such scores named, never
mixed in; MASE and sMAPE refused."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_tsbench
from tests.report.conftest import Zoo, report, tiny_run
from tests.report.test_tuning_folder import _tuning_folder
from tsbench.report.build import build
from tsbench.report.collect import Run, group
from tsbench.report.stats import diebold_mariano, holm
from tsbench.report.table import number_format, value_text
from tsbench.report.units import ORIGINAL, PUBLISHED_SCALED

MODELS = ("naive", "seasonal_naive")
HORIZONS = (12, 24)


@dataclass(frozen=True)
class Scales:
    """``sweep``: naive and seasonal naive x pred_len 12, 24 on ``scales.csv``, whose
    ``flow`` is a random walk in thousands (naive's channel: it dominates the MSE in original
    units) and whose target an hourly sine near 1 (seasonal naive's: as heavy as ``flow`` once
    scaled); ``jobs``: each job's folder by (model, pred_len)."""

    sweep: Path
    jobs: dict[tuple[str, int], Path]


@pytest.fixture(scope="module")
def scales(tmp_path_factory: pytest.TempPathFactory) -> Scales:
    root = tmp_path_factory.mktemp("units")
    rows = 400
    t = np.arange(rows)
    rng = np.random.default_rng(0)
    data = root / "scales.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="h"),
                  "flow": 1000 * np.cumsum(rng.normal(size=rows)),
                  "OT": np.sin(2 * np.pi * t / 24) + 0.05 * rng.normal(size=rows)}
                 ).to_csv(data, index=False)
    sweep = root / "sweep"
    run_tsbench(["dataset=csv", f"dataset.path={data}", f"model={','.join(MODELS)}",
                 "seq_len=48", f"pred_len={','.join(map(str, HORIZONS))}", "trainer=debug",
                 "logger=none", "plots=false"], sweep, multirun=True)
    jobs = {}
    for job in sweep.iterdir():
        if (job / "metrics.json").is_file():
            config = (job / "config.yaml").read_text()
            model = next(m for m in MODELS if f"name: {m}\n" in config)
            pred_len = next(h for h in HORIZONS if f"pred_len: {h}\n" in config)
            jobs[model, pred_len] = job
    assert len(jobs) == 4
    return Scales(sweep, jobs)


def _metrics(job: Path) -> dict:
    return json.loads((job / "metrics.json").read_text())


def _csv(out: str) -> dict[tuple[str, int], dict[str, str]]:
    return {(r["model"], int(r["pred_len"])): r for r in csv.DictReader(io.StringIO(out))}


def _ranks(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Average ranks"))


def test_original_units_show_test_mse_orig_and_rank_and_test_by_it(scales: Scales) -> None:
    scaled = report(scales.sweep, "--baseline", "naive").stdout
    original = report(scales.sweep, "--baseline", "naive", "--units", "original").stdout
    assert "| test MSE, scaled (mean ± std, n) |" in scaled
    assert "| test MSE, original units (mean ± std, n) |" in original
    # the setup: each model wins in one unit, by the runs' own scores
    for h in HORIZONS:
        naive, seasonal = (_metrics(scales.jobs[m, h]) for m in MODELS)
        assert seasonal["test_mse"] < naive["test_mse"]
        assert naive["test_mse_orig"] < seasonal["test_mse_orig"]
    assert "seasonal_naive 1.00, naive 2.00" in _ranks(scaled)
    assert _ranks(original).startswith(
        "Average ranks (1 = best test MSE in original units) over 2 tables")
    assert "naive 1.00, seasonal_naive 2.00" in _ranks(original)
    means = [_metrics(job)["test_mse_orig"] for job in scales.jobs.values()]
    assert min(means) >= 1e5  # flow's thousands, squared: the column in scientific notation
    for (model, h), job in scales.jobs.items():
        value = f"{_metrics(job)['test_mse_orig']:.4e} (1)"
        row = next(line for line in original.splitlines()
                   if line.startswith(f"| scales.csv | {h} | {model} |"))
        assert row.split(" | ")[3] == (f"**{value}**" if model == "naive" else value)
    assert "per-window test MSE in original units averaged" in original
    # the CSV: the runs' scores and the paired test on their original-unit window errors
    rows = _csv(report(scales.sweep, "--baseline", "naive", "--units", "original",
                       "--format", "csv").stdout)
    p_values = []
    for h in HORIZONS:
        naive, seasonal = (scales.jobs[m, h] for m in MODELS)
        row = rows["seasonal_naive", h]
        assert row["scale"] == "original" and row["metric"] == "mse"
        assert float(row["mean"]) == _metrics(seasonal)["test_mse_orig"]
        assert float(rows["naive", h]["mean"]) == _metrics(naive)["test_mse_orig"]
        errors = [np.load(job / "test_window_mse_orig.npy").astype(np.float64)
                  for job in (seasonal, naive)]
        assert errors[0].mean() == pytest.approx(_metrics(seasonal)["test_mse_orig"],
                                                 rel=1e-5)
        expected = diebold_mariano(*errors, h)
        assert float(row["dm_statistic"]) == pytest.approx(expected.statistic, rel=1e-9)
        assert float(row["dm_statistic"]) > 0  # worse than naive in original units
        assert float(_csv(report(scales.sweep, "--baseline", "naive", "--format", "csv")
                          .stdout)["seasonal_naive", h]["dm_statistic"]) < 0  # better scaled
        p_values.append(expected.p_value)
    assert [float(rows["seasonal_naive", h]["p_holm"]) for h in HORIZONS] == pytest.approx(
        list(holm(np.array(p_values))))


def test_every_format_names_the_units_and_the_cd_diagram_follows_them(
        scales: Scales, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    cd = tmp_path / "cd.svg"
    proc = report(scales.sweep, "--units", "original", "-o", page, "--cd-diagram", cd)
    assert proc.stderr == ""
    html = page.read_text()
    assert "Test MSE in original units of 4 runs" in html
    assert "<th>test MSE, original units (mean ± std, n)</th>" in html
    assert "<th>published</th>" not in html  # scaled numbers: not beside these
    assert "naive 1.00, seasonal_naive 2.00" in html
    # each card's metric scale names the runs' headline scale and the report's units apart
    shown = "run&#x27;s headline scale: scaled; this report: original units"
    assert html.count(f"<dt>metric scale</dt><dd>{shown}</dd>") == 4
    assert "<dt>metric scale</dt><dd>scaled</dd>" not in html
    svg = cd.read_text()  # matplotlib writes each label's text in a comment
    assert "<!-- naive (1.00) -->" in svg and "<!-- seasonal_naive (2.00) -->" in svg
    latex = report(scales.sweep, "--units", "original", "--format", "latex").stdout
    assert "test MSE, original units (mean $\\pm$ std, n)" in latex
    assert "\\begin{tabular}{lrlrrl}" in latex  # no published columns


def test_original_units_leave_published_numbers_out_with_a_note(zoo: Zoo) -> None:
    scaled = _csv(report(zoo.sweep, "--format", "csv").stdout)
    assert scaled["dlinear", 24]["published"] == "2.215"  # scaled: beside its cell
    out = report(zoo.sweep, "--units", "original").stdout
    head = out.splitlines()[0]
    assert "published" not in head and "original units" in head
    assert out.count(PUBLISHED_SCALED) == 1
    rows = _csv(report(zoo.sweep, "--units", "original", "--format", "csv").stdout)
    assert rows["dlinear", 24]["published"] == "" and rows["dlinear", 24]["delta"] == ""
    assert {r["scale"] for r in rows.values()} == {"original"}
    assert PUBLISHED_SCALED not in report(zoo.sweep).stdout


@pytest.mark.parametrize("metric", ["mase", "smape"])
def test_a_unit_free_metric_is_refused_in_original_units(scales: Scales, tmp_path: Path,
                                                         metric: str) -> None:
    out = tmp_path / "report.md"
    proc = report(scales.sweep, "--units", "original", "--metric", metric, "-o", out,
                  check=False)
    assert proc.returncode == 2 and proc.stdout == "" and not out.exists()
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"tsbench-report: error: --units original --metric {metric}:"
                                  f" {metric.upper()} has no units to convert")
    assert "-> drop --units original, or report --metric mse or mae" in proc.stderr
    assert report(scales.sweep, "--metric", metric).returncode == 0  # scale-free as ever


def test_runs_without_original_unit_scores_are_named_never_mixed_in(
        scales: Scales, tmp_path: Path) -> None:
    old = tmp_path / "old"
    for (model, h), job in scales.jobs.items():
        shutil.copytree(job, old / f"{model}_{h}")
    # a run saved before its metrics.json held original-unit scores: left out and named
    stale = old / "seasonal_naive_12"
    metrics = _metrics(stale)
    del metrics["test_mse_orig"]
    (stale / "metrics.json").write_text(json.dumps(metrics))
    proc = report(old, "--units", "original")
    assert "| scales.csv | 12 | seasonal_naive |" not in proc.stdout
    assert "| scales.csv | 24 | seasonal_naive |" in proc.stdout
    assert proc.stderr == (
        "tsbench-report: warning: left out 1 run without test_mse_orig (no original-unit "
        f"score: a run saved before tsbench recorded it), e.g. {stale}\n")
    # one saved before the per-window files in original units: its paired test not made
    for name in ("test_window_mse_orig.npy", "test_window_mae_orig.npy"):
        (old / "seasonal_naive_24" / name).unlink()
    out = report(old, "--units", "original", "--baseline", "naive").stdout
    assert ("– (not tested: no test_window_mse_orig.npy (a run saved before runs wrote "
            "per-window errors in original units; rerun it, or drop --units original))") in out
    # none has them: one line, the fix, nothing written
    for job in old.iterdir():
        metrics = _metrics(job)
        metrics.pop("test_mse_orig", None)
        (job / "metrics.json").write_text(json.dumps(metrics))
    written = tmp_path / "report.md"
    proc = report(old, "--units", "original", "-o", written, check=False)
    assert proc.returncode == 2 and not written.exists()
    assert proc.stderr == (
        f"tsbench-report: error: none of the 4 finished runs under {old} has test_mse_orig: "
        "4 runs: no original-unit score: a run saved before tsbench recorded it -> rerun "
        "them (tsbench records original-unit scores now), or drop --units original\n")


def test_a_cross_validated_runs_validation_score_in_original_units(tmp_path: Path) -> None:
    """cv=tscv records its folds' mean in original units (``cv_val_mse_orig_mean``), and
    ``--split val --units original`` reports it."""
    run = tiny_run(tmp_path / "cv", "model=naive", "cv=tscv", "cv.n_splits=2")
    metrics = _metrics(run)
    folds = [np.load(run / f"fold_{k}" / "val_window_mse_orig.npy").astype(np.float64).mean()
             for k in range(2)]  # each fold's val_mse_orig: its windows' mean
    expected = metrics["cv_val_mse_orig_mean"]
    assert expected == pytest.approx(np.mean(folds), rel=1e-5)
    assert expected != pytest.approx(metrics["cv_val_mse_mean"], rel=1e-2)  # other units
    out = report(tmp_path, "--split", "val", "--units", "original").stdout
    assert "validation MSE, original units (mean ± std, n)" in out
    assert f"**{expected:.{4 - int(np.floor(np.log10(expected)))}f} (1)**" in out
    assert "(cv_val_mse_orig_mean)" in out


def test_a_tuning_folders_scaled_table_is_left_out_of_original_units(tmp_path: Path) -> None:
    tune = tmp_path / "outputs" / "tune"
    _tuning_folder(tune)
    proc = report(tune, "--units", "original", check=False)  # its table alone: refused
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"tsbench-report: error: {tune}: a tsbench-tune folder's result "
                           "table holds scaled scores only -> drop --units original\n")
    tiny_run(tmp_path / "outputs" / "preset", "seed=1")  # beside runs: theirs, said so
    proc = report(tmp_path / "outputs", "--units", "original")
    assert "tsbench-tune" not in proc.stdout and "original units" in proc.stdout
    assert proc.stderr == (f"tsbench-report: warning: left out of the original-unit report: "
                           f"the result table of the tsbench-tune run {tune} (scaled "
                           f"scores only) -> tsbench-report {tune}\n")


MIXED = "⚠ Original-unit MSE of features=M cells whose channels differ widely in scale"


def test_a_features_m_cell_one_wide_channel_carries_is_named_in_original_units(
        scales: Scales, tmp_path: Path) -> None:
    """``flow`` (std in thousands) beside ``OT`` (near 1): under features=M the original-unit
    MSE is flow's alone, so one line under the table names each cell and flow; the cards
    record the channels' training stds; a features=MS run of the same CSV (OT alone) and a
    scaled report get no such line."""
    card = json.loads((scales.jobs["naive", 12] / "protocol.json").read_text())
    stds = card["scaler"]["channel_std"]
    assert set(stds) == {"flow", "OT"} and stds["flow"] > 100 * stds["OT"]
    original = report(scales.sweep, "--units", "original").stdout
    (line,) = [x for x in original.splitlines() if x.startswith(MIXED)]
    for model, h in scales.jobs:
        assert f"{model} at scales.csv/{h}: dominated by channel flow (std " in line
    assert "compare per channel with features=S or MS dataset.target=<channel>" in line
    assert "original units suit one target (S/MS) or channels in one unit" in line
    assert MIXED not in report(scales.sweep).stdout
    data = report(scales.sweep, "--units", "original", "--format", "csv")
    assert f"tsbench-report: warning: {MIXED.removeprefix('⚠ ')}" in data.stderr
    one = tmp_path / "ms"
    run_tsbench(["dataset=csv", f"dataset.path={scales.sweep.parent / 'scales.csv'}",
                 "features=MS", "model=naive", "seq_len=48", "pred_len=12", "trainer=debug",
                 "logger=none", "plots=false"], one)
    assert MIXED not in report(one, "--units", "original").stdout


def _original_cells(values: dict[str, list[float]]) -> list[str]:
    """The mean cells of an original-unit report of one run per model and seed value."""
    runs = [Run(Path(f"/runs/{model}/{seed}"), {"dataset.name": "load", "model.name": model,
                                                 "pred_len": 24, "seed": seed,
                                                 "features": "M", "seq_len": 96},
                {"test_mse": 1.0 + seed, "test_mse_orig": value}, None)
            for model, seeds in values.items() for seed, value in enumerate(seeds, start=1)]
    report = build(group(runs, warn=lambda message: None), units=ORIGINAL)
    return sorted(value_text(row, number_format(report)) for row in report.rows)


def test_one_original_unit_column_keeps_one_notation() -> None:
    """Means of 48473 and 110920 in one report: both in scientific notation (``.5g`` wrote
    ``48473`` beside ``1.1092e+05``); means all between 1e-3 and 1e5 in fixed notation."""
    assert _original_cells({"a": [48473.0], "b": [110920.0]}) == [
        "1.1092e+05 (1)", "4.8473e+04 (1)"]
    assert _original_cells({"a": [48473.0], "b": [1109.2]}) == [
        "1109.2 (1)", "48473.0 (1)"]


def test_one_original_unit_column_keeps_one_number_of_decimals() -> None:
    """Every number of the column, a mean and its ±, has the decimals that give the
    smallest mean 5 significant digits: ``.5g`` wrote ``31.63`` beside ``37.043`` and
    ``18.048 ± 0.069458``."""
    cells = _original_cells({"a": [31.63], "b": [37.043], "c": [18.0, 18.098228]})
    std = float(np.std([18.0, 18.098228], ddof=1))
    assert cells == [f"18.049 ± {std:.3f} (2)", "31.630 (1)", "37.043 (1)"]
    assert f"{std:.5g}" == "0.069458"  # as .5g wrote it
