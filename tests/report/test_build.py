"""From cells to rows, in memory: the difference from the published number and which cell
is bold, for cells whose runs are given directly (no run folders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsbench.report.build import Report, Row, build
from tsbench.report.collect import Run, group
from tsbench.report.table import render

#: DLinear's published ILI-24 MSE (published.yaml: the paper's, L=104).
DLINEAR_ILI_24 = 2.215


def _run(model: str, features: str, test_mse: float, seed: int = 1) -> Run:
    config = {"dataset.name": "ili", "model.name": model, "pred_len": 24, "seed": seed,
              "features": features, "seq_len": 104, "trainer.max_epochs": 10}
    return Run(Path(f"/runs/{model}-{features}-{seed}"), config, {"test_mse": test_mse}, None)


def _rows(runs: list[Run]) -> tuple[dict[str, Row], Report]:
    report = build(group(runs, warn=lambda message: None))
    return {row.cell.label: row for row in report.rows}, report


def test_the_difference_is_relative_to_the_published_number() -> None:
    rows, report = _rows([_run("dlinear", "M", 2.5), _run("dlinear", "M", 2.7, seed=2)])
    row = rows["dlinear"]
    assert row.published == DLINEAR_ILI_24
    assert row.delta == pytest.approx((2.6 - DLINEAR_ILI_24) / DLINEAR_ILI_24)
    shown = f"{100 * (2.6 - DLINEAR_ILI_24) / DLINEAR_ILI_24:+.1f} %"
    assert shown == "+17.4 %" and f"| {shown} |" in render(report)


def test_a_flagged_cell_is_never_bold_even_when_lowest() -> None:
    """Two features=M cells and a features=S one (flagged: it scores another series) with
    the lowest mean: the lowest comparable cell is bold, not the flagged one."""
    rows, report = _rows([_run("naive", "M", 1.0), _run("dlinear", "M", 0.8),
                          _run("seasonal_naive", "S", 0.1)])
    assert rows["seasonal_naive"].flags == ["features S (table: M)"]
    assert [label for label, row in rows.items() if row.best] == ["dlinear"]
    lines = render(report).splitlines()
    assert any(line.startswith("| ili | 24 | dlinear | **0.8000 (1)** |") for line in lines)
    assert any(line.startswith("| ili | 24 | seasonal_naive | 0.1000 (1) |") for line in lines)


def test_a_searched_float_is_labelled_short_unless_that_merges_two_cells() -> None:
    """A search's learning rates (16 digits) show 6 significant digits; a value the
    command line wrote shorter shows as written; two cells 6 digits cannot tell apart
    keep every digit."""
    def run(lr: float, clip: float = 1.0) -> Run:
        config = {"dataset.name": "ili", "model.name": "dlinear", "pred_len": 24, "seed": 1,
                  "features": "M", "optim.lr": lr, "trainer.gradient_clip_val": clip}
        return Run(Path(f"/runs/{lr}-{clip}"), config, {"test_mse": 2.0}, None)

    rows, _ = _rows([run(0.00031622776601683794), run(0.005, clip=0.5)])
    assert set(rows) == {"dlinear (optim.lr=0.000316228, trainer.gradient_clip_val=1.0)",
                         "dlinear (optim.lr=0.005, trainer.gradient_clip_val=0.5)"}
    # only the key 6 digits cannot tell apart keeps every digit
    rows, _ = _rows([run(0.1234567, clip=0.31622776601683794), run(0.1234568),
                     run(0.03766545260237879)])
    assert set(rows) == {
        "dlinear (optim.lr=0.1234567, trainer.gradient_clip_val=0.316228)",
        "dlinear (optim.lr=0.1234568, trainer.gradient_clip_val=1.0)",
        "dlinear (optim.lr=0.03766545260237879, trainer.gradient_clip_val=1.0)"}


#: The test windows of each dataset's published split at horizon H (2881 - H on ETTh,
#: 1518 - H on Exchange, 194 - H on ILI), and each paper's test batch: drop_last leaves
#: windows % batch unscored. iTransformer tests in batches of 1.
TEST_WINDOWS = {"etth1": 2881, "etth2": 2881, "exchange": 1518, "ili": 194}
TEST_BATCH = {("patchtst", "ili"): 16, ("patchtst", None): 128, ("dlinear", None): 32,
              ("dlinear", "exchange", 96): 8, ("dlinear", "exchange", 192): 8}


@pytest.mark.parametrize("model", ["patchtst", "dlinear", "itransformer"])
def test_a_papers_unscored_windows_are_its_windows_modulo_its_test_batch(model: str) -> None:
    from tsbench.report.published import _table, reference

    for dataset, horizons in _table()["results"][model].items():
        for pred_len in horizons:
            mse, mae = (reference(model, dataset, pred_len, m) for m in ("mse", "mae"))
            batch = TEST_BATCH.get((model, dataset, pred_len),
                                   TEST_BATCH.get((model, dataset), TEST_BATCH.get((model, None),
                                                                                   1)))
            dropped = (TEST_WINDOWS[dataset] - pred_len) % batch
            assert mae.unscored == dropped, (model, dataset, pred_len)
            assert mse.unscored == (0 if mse.all_windows else dropped), (model, dataset, pred_len)
    assert reference("dlinear", "ili", 24).unscored == 10  # 170 windows, batches of 32


def test_ranks_use_the_models_common_to_the_most_tables() -> None:
    """Three models in ili/24 and ili/36, only naive and arima in ili/48, two DLinear
    configurations in ili/60: no model is in every table, yet ranks hold over the two
    tables that share three models, and the tables left out are named with why."""
    def run(model: str, pred_len: int, mse: float, lr: float = 0.001) -> Run:
        config = {"dataset.name": "ili", "model.name": model, "pred_len": pred_len,
                  "seed": 1, "features": "M", "seq_len": 104, "optim.lr": lr}
        return Run(Path(f"/runs/{model}-{pred_len}-{lr}"), config, {"test_mse": mse}, None)

    runs = [run(m, h, mse) for h in (24, 36)
            for m, mse in (("naive", 3.0), ("dlinear", 2.0), ("patchtst", 2.5))]
    runs += [run("naive", 48, 3.0), run("arima", 48, 2.9)]
    runs += [run("naive", 60, 3.0), run("dlinear", 60, 2.0), run("dlinear", 60, 2.1, lr=0.01)]
    _, report = _rows(runs)
    ranking = report.ranking
    assert ranking is not None
    assert ranking.models == ["dlinear", "naive", "patchtst"]
    assert ranking.blocks == [("ili", 24), ("ili", 36)]
    assert ranking.friedman is None  # two horizons of one dataset: no test
    assert list(ranking.ranks) == [1.0, 3.0, 2.0]
    assert report.ranking_note == (
        "left out (not in every ranked table): arima; tables left out: ili/60 (several "
        "configurations of dlinear (optim.lr=0.001 vs optim.lr=0.01)); ili/48 (no dlinear, "
        "patchtst)")
    # one table per model pair only: no ranks, and the note says what the tables share
    _, lonely = _rows([run("naive", 24, 3.0), run("dlinear", 24, 2.0),
                       run("naive", 36, 3.0), run("arima", 36, 2.9)])
    assert lonely.ranking is None
    assert lonely.ranking_note == (
        "ranks need the same 2 or more models in 2 or more (dataset, pred_len) tables with one "
        "configuration per model; no two of the 2 such tables share 2 or more models")
    _, alone = _rows([run("naive", 24, 3.0), run("dlinear", 24, 2.0)])
    assert alone.ranking is None
    assert alone.ranking_note == (
        "ranks need the same 2 or more models in 2 or more (dataset, pred_len) tables with one "
        "configuration per model; this report has one such table")
    # every table holds two configurations of a model: the note still says what ranks need
    _, doubled = _rows([run("naive", 24, 3.0), run("dlinear", 24, 2.0),
                        run("dlinear", 24, 2.1, lr=0.01)])
    assert doubled.ranking is None
    assert doubled.ranking_note == (
        "ranks need the same 2 or more models in 2 or more (dataset, pred_len) tables with one "
        "configuration per model; no table has one: ili/24 (several configurations of dlinear "
        "(optim.lr=0.001 vs optim.lr=0.01)) -> for ranks, report one configuration of each "
        "model at a time, e.g. the folders of the dlinear (optim.lr=0.001) runs apart from "
        "those of the dlinear (optim.lr=0.01) runs")


def test_no_ranks_over_holdout_and_cv_runs_of_each_model_says_why_and_what_to_do() -> None:
    """Every model ran once with cv=holdout and once with cv=tscv (refit on train+val) at
    each horizon: no table has one configuration per model, and the note says which
    configurations those are and to report them apart."""
    def run(model: str, pred_len: int, cv: str, mse: float) -> Run:
        config = {"dataset.name": "ili", "model.name": model, "pred_len": pred_len,
                  "seed": 1, "features": "M", "seq_len": 104, "cv.name": cv}
        return Run(Path(f"/runs/{model}-{pred_len}-{cv}"), config, {"test_mse": mse}, None)

    _, report = _rows([run(m, h, cv, mse) for h in (24, 36) for cv in ("holdout", "tscv")
                       for m, mse in (("dlinear", 2.0), ("naive", 3.0))])
    assert report.ranking is None
    tables = "; ".join(f"ili/{h} (several configurations of dlinear (cv=holdout vs cv=tscv), "
                       "naive (cv=holdout vs cv=tscv))" for h in (24, 36))
    assert report.ranking_note.endswith(
        f"no table has one: {tables} -> for ranks, report one configuration of each model at "
        "a time, e.g. the folders of the dlinear (cv=holdout) runs apart from those of the "
        "dlinear (cv=tscv) runs")
    assert f"Average ranks: none ({report.ranking_note})." in render(report)
