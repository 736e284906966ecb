"""A dataset of the rank test is its data, not its name: a copy of a file under another
name is one dataset (its sha256 on the protocol card), generated series with other
settings are datasets (and tables) of their own, and a validation report ranks the tables
of one validation protocol alone, a file's protocols never counted as its datasets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_tsbench
from tests.report.conftest import _run_in_process, report, tiny_run
from tsbench.report.build import build
from tsbench.report.collect import collect, group
from tsbench.report.compare import facts
from tsbench.report.plots import cd_figure

#: The fast models: no training.
MODELS = ("naive", "seasonal_naive", "theta")


def _csv(path: Path, phase: float) -> Path:
    t = np.arange(300)
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=300, freq="h"),
                  "x": np.sin(2 * np.pi * t / 24 + phase) + 0.01 * t,
                  "OT": np.cos(2 * np.pi * t / 24 + phase) + 0.1 * np.sin(t / 7.0)}
                 ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three models on ``mix.csv``, its byte-identical copy ``mixcopy.csv`` and
    ``other.csv``. (Each fixture builds its own runs: a worker builds those of its tests.)"""
    root = tmp_path_factory.mktemp("identity")
    mix = _csv(root / "mix.csv", 0.0)
    shutil.copyfile(mix, root / "mixcopy.csv")
    _csv(root / "other.csv", 1.0)
    for name in ("mix.csv", "mixcopy.csv", "other.csv"):
        for model in MODELS:
            _run_in_process(["dataset=csv", f"dataset.path={root / name}", f"model={model}",
                             "seq_len=24", "pred_len=12", "trainer=debug", "logger=none",
                             "plots=false"], root / "files" / f"{name}_{model}")
    return root / "files"


@pytest.fixture(scope="module")
def cv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Naive and seasonal naive cross-validated on one series with 3 folds (pred_len 12,
    24) and 4 folds (pred_len 12)."""
    root = tmp_path_factory.mktemp("cv")
    for model in MODELS[:2]:
        for folds, pred_len in ((3, 12), (3, 24), (4, 12)):
            tiny_run(root / f"{model}_{folds}_{pred_len}", f"model={model}",
                     "cv=tscv", f"cv.n_splits={folds}", f"pred_len={pred_len}")
    return root


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain multirun of naive and seasonal naive over two generated series lengths and
    generator seeds."""
    root = tmp_path_factory.mktemp("series")
    run_tsbench(["dataset=synthetic", "dataset.n_rows=600,800", "dataset.seed=0,5",
                 "model=naive,seasonal_naive", "seq_len=48", "pred_len=12", "trainer=debug",
                 "logger=none", "plots=false"], root / "series", multirun=True)
    return root / "series"


def _ranks_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Average ranks"))


def test_a_copy_of_a_file_under_another_name_is_one_dataset(files: Path) -> None:
    """mixcopy.csv, byte for byte mix.csv, counted as a third dataset and turned exact
    p = 0.167 (two datasets, do not differ) into p = 0.028 (three, the ranks differ); at the
    same horizon it is mix.csv's table again, left out (its ranks would count twice)."""
    line = _ranks_line(report(files).stdout)
    assert line.startswith("Average ranks (1 = best test MSE) over 2 tables (mix.csv/12, "
                           "other.csv/12), one per dataset")
    assert "tables left out: mixcopy.csv/12 (the data and horizon of mix.csv/12)." in line
    assert "exact p = 0.167 decides (2 tables of 3 models" in line
    assert "the ranks do not differ significantly" in line and "0.028" not in line


def test_validation_ranks_one_protocol_of_one_file_as_one_dataset(cv: Path) -> None:
    """CV with 3 and 4 folds of one series ranked as if they were datasets (Friedman over
    'one per dataset'): now the 3-fold tables alone, described as one dataset, whose
    tables share its validation rows; the 4-fold table named as left out."""
    three = "synthetic [val: CV, 3 folds, rows [120, 480)]"
    line = _ranks_line(report(cv, "--split", "val").stdout)
    assert line.startswith(f"Average ranks (1 = best validation MSE) over 2 tables ({three}/12, "
                           f"{three}/24), all of 1 dataset (synthetic): seasonal_naive 1.00, "
                           "naive 2.00. No significance can be claimed")
    assert "share its validation rows" in line and "test period" not in line
    assert ("ranked on the [val: CV, 3 folds, rows [120, 480)] tables alone: the other "
            "validation protocols' tables (synthetic [val: CV, 4 folds, rows [96, 480)]/12) "
            "are left out") in line
    assert "Friedman χ²" not in line


def test_generated_series_of_other_settings_are_datasets_of_their_own(series: Path) -> None:
    """Four generated series (n_rows x generator seed) landed in one table of four naive
    'configurations' labelled by a JSON dump of the generator, each cell '(differs)', and
    a selection-on-test line for a sweep over series."""
    out = report(series, "--baseline", "naive").stdout
    tables = [f"synthetic (n_rows={n}, seed={s})" for n in (600, 800) for s in (0, 5)]
    for table in tables:
        assert f"| {table} | 12 | naive | " in out and f"| {table} | 12 | seasonal_naive | " in out
    assert "data file" not in out and "(differs)" not in out and "selection on test" not in out
    assert (f"over 4 tables ({', '.join(f'{t}/12' for t in tables)}), one per dataset: "
            "seasonal_naive 1.00, naive 2.00") in _ranks_line(out)


def test_a_cd_not_applied_is_neither_drawn_nor_captioned_as_one(files: Path,
                                                               tmp_path: Path) -> None:
    """Two datasets, exact p = 0.167: the text said 'no CD, not applied' while the PNG drew
    a CD scale from rank 3 to rank 1 and the HTML caption read 'models joined by a bar are
    not significantly different'."""
    cells = group(collect([files], "test_mse", lambda message: None).runs,
                  warn=lambda message: None)
    ranking = build(cells).ranking
    assert ranking is not None and not ranking.significant
    figure = cd_figure(ranking)
    assert "no CD, not applied: exact p = 0.167 ≥ α = 0.05" in [
        t.get_text() for t in figure.axes[0].texts]
    assert not [line for line in figure.axes[0].lines if line.get_linewidth() == 1.5]
    page = tmp_path / "report.html"
    report(files, "--format", "html", "--output", page)
    html = page.read_text()
    assert "not significantly different" not in html
    assert ("the ranks do not differ (exact p = 0.167 ≥ α = 0.05), no CD applied; the one "
            "bar joins every model, none is told apart.</figcaption>") in html


def test_a_file_and_its_copy_alone_are_one_table_not_tables_without_shared_models(
        files: Path) -> None:
    """mix.csv and its copy at one horizon, the same three models: no ranks, as one table of
    data; the line said 'no two of the 2 such tables share 2 or more models', which they
    do."""
    runs = [files / f"{name}_{model}" for name in ("mix.csv", "mixcopy.csv")
            for model in MODELS]
    line = _ranks_line(report(*runs).stdout)
    assert line.startswith("Average ranks: none (ranks need the same 2 or more models in 2 "
                           "or more (dataset, pred_len) tables")
    assert "share 2 or more models" not in line
    assert ("the 2 tables that share them are one table's data and horizon; left out: "
            "mixcopy.csv/12 (the data and horizon of mix.csv/12)") in line


def test_a_generated_series_under_another_calendar_setting_is_one_dataset(
        tmp_path: Path) -> None:
    """dataset.calendar_freq=null and =h (the series' own frequency) generate the same
    series, and the three models scored alike in both; its tables were ranked as two
    datasets, 'one per dataset', with a Friedman test over them (a third such setting:
    exact p = 0.028, 'the ranks differ')."""
    run_tsbench(["dataset=synthetic", "dataset.n_rows=600", "dataset.calendar_freq=null,h",
                 f"model={','.join(MODELS)}", "seq_len=48", "pred_len=12", "trainer=debug",
                 "logger=none", "plots=false"], tmp_path / "calendar", multirun=True)
    line = _ranks_line(report(tmp_path / "calendar").stdout)
    assert "Friedman χ²" not in line and "one per dataset" not in line
    assert ("left out: synthetic (calendar_freq=h)/12 (the data and horizon of "
            "synthetic (calendar_freq=None)/12)") in line
    # the protocol facts name one data source too: their data file listed the whole
    # generator block, calendar_freq with it, two sources where the ranks saw one
    runs = collect([tmp_path / "calendar"], "test_mse", lambda message: None).runs
    assert {run.card_data()["generator"]["calendar_freq"] for run in runs} == {None, "h"}
    assert {facts(run)["data file"] for run in runs} == {run.data_identity() for run in runs}
    assert len({facts(run)["data file"] for run in runs}) == 1
    assert facts(runs[0])["data file"].startswith('generated {"n_rows": 600, "n_vars": ')
