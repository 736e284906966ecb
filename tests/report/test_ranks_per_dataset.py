"""Tables of one dataset (its horizons) share its test period: the rank test runs over
datasets, each ranking the models by their mean rank over its tables, and with one dataset no
significance is claimed, in the text or the CD diagram."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsbench.report.build import Report, build
from tsbench.report.collect import Run, group
from tsbench.report.plots import cd_figure
from tsbench.report.table import ranking_line

#: Test MSE of three models, ranked alike in every table (dlinear < snaive < naive).
MSE = {"dlinear": 0.4, "snaive": 0.6, "naive": 0.8}


def _report(tables: list[tuple[str, int]]) -> Report:
    runs = [Run(Path(f"/runs/{dataset}-{pred_len}-{model}"),
                {"dataset.name": dataset, "model.name": model, "pred_len": pred_len,
                 "seed": 1, "features": "M", "seq_len": 96},
                {"test_mse": mse * (1 + pred_len / 1000)}, None)
            for dataset, pred_len in tables for model, mse in MSE.items()]
    return build(group(runs, warn=lambda message: None))


def _texts(report: Report) -> list[str]:
    assert report.ranking is not None
    return [t.get_text() for t in cd_figure(report.ranking).axes[0].texts]


def test_four_horizons_of_one_dataset_are_described_not_tested() -> None:
    """Four ETTh1 horizons ranked alike gave 'exact p = 0.005 ... the ranks differ' as if
    they were four datasets: now the ranks describe ETTh1 and nothing is called significant."""
    report = _report([("etth1", h) for h in (96, 192, 336, 720)])
    ranking = report.ranking
    assert ranking is not None and ranking.friedman is None and not ranking.significant
    line = ranking_line(report)
    assert line.startswith(
        "Average ranks (1 = best test MSE) over 4 tables (etth1/96, etth1/192, etth1/336, "
        "etth1/720), all of 1 dataset (etth1): dlinear 1.00, snaive 2.00, naive 3.00. No "
        "significance can be claimed across these tables")
    assert "report 2 or more datasets to test the ranks" in line
    assert "differ at" not in line and "Friedman" in line and "critical difference" in line
    said = _texts(report)
    assert any(t.startswith("no test, no CD: 4 tables of 1 dataset (etth1)") for t in said)
    assert not any(t.startswith("CD = ") for t in said)


def test_one_horizon_of_three_datasets_is_tested_over_its_tables() -> None:
    report = _report([("etth1", 96), ("etth2", 96), ("exchange", 96)])
    ranking = report.ranking
    assert ranking is not None and ranking.independent
    assert ranking.friedman is not None and ranking.friedman.n_blocks == 3
    line = ranking_line(report)
    assert line.startswith("Average ranks (1 = best test MSE) over 3 tables (etth1/96, "
                           "etth2/96, exchange/96), one per dataset: dlinear 1.00, "
                           "snaive 2.00, naive 3.00. Friedman χ² = 6.00")
    assert "exact p = 0.028 decides (3 tables of 3 models" in line


def test_horizons_of_several_datasets_are_tested_over_the_datasets() -> None:
    """ETTh1 at four horizons with ETTh2 and exchange at one: three datasets, not six
    tables, in the test and the CD."""
    report = _report([*(("etth1", h) for h in (96, 192, 336, 720)), ("etth2", 96),
                      ("exchange", 96)])
    ranking = report.ranking
    assert ranking is not None and not ranking.independent
    assert ranking.friedman is not None and ranking.friedman.n_blocks == 3
    assert ranking.datasets == ["etth1", "etth2", "exchange"]
    line = ranking_line(report)
    assert "over 6 tables (etth1/96, etth1/192, etth1/336, etth1/720, etth2/96, exchange/96)" \
           ", of 3 datasets, ranked per dataset" in line
    assert "exact p = 0.028 decides (3 datasets of 3 models" in line  # 6 tables: 0.0001
    assert any("over 3 datasets" in t for t in _texts(report))


def test_a_dataset_ranks_the_models_by_their_mean_rank_over_its_tables() -> None:
    """Dataset a's three tables rank x 1, 1, 3; y 2, 3, 1; z 3, 2, 2 (mean ranks x 1.67,
    y 2.00, z 2.33: a ranks x, y, z 1, 2, 3) and b's one y, z, x: the ranks over the two
    datasets are y 1.50, x 2.00, z 2.50, where the mean of the mean ranks (y 1.50, z 2.17,
    x 2.33) would put z before x, and the line says which it printed."""
    order = {("a", 96): "xyz", ("a", 192): "xzy", ("a", 336): "yzx", ("b", 96): "yzx"}
    runs = [Run(Path(f"/runs/{dataset}-{pred_len}-{model}"),
                {"dataset.name": dataset, "model.name": model, "pred_len": pred_len,
                 "seed": 1, "features": "M", "seq_len": 96},
                {"test_mse": 0.1 * (1 + ranked.index(model))}, None)
            for (dataset, pred_len), ranked in order.items() for model in "xyz"]
    line = ranking_line(build(group(runs, warn=lambda message: None)))
    assert "each dataset ranks the models by their mean rank over its tables" in line
    assert "average ranks over the 2 datasets: y 1.50, x 2.00, z 2.50." in line


def test_a_copy_of_a_file_is_its_dataset_again_and_at_one_horizon_its_table_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of one sha256 under two names: at another horizon the copy's table joins its
    dataset (one dataset, described); at the same horizon it is the same table, left out,
    so that a tie is not broken by counting one table twice."""
    data = {"mix": "sha256 aaaa", "copy": "sha256 aaaa", "other": "sha256 bbbb"}
    monkeypatch.setattr(Run, "data_identity", lambda run: data[run.config["dataset.name"]])

    def ranked(tables: list[tuple[str, int]]) -> str:
        made = [Run(Path(f"/runs/{name}-{pred_len}-{model}"),
                    {"dataset.name": name, "model.name": model, "pred_len": pred_len,
                     "seed": 1, "features": "M", "seq_len": 96},
                    {"test_mse": mse}, None)
                for name, pred_len in tables
                for model, mse in (("x", 0.4), ("y", 0.5 if pred_len == 24 else 0.3))]
        return ranking_line(build(group(made, warn=lambda message: None)))

    line = ranked([("mix", 24), ("copy", 48)])
    assert "over 2 tables (copy/48, mix/24), all of 1 dataset (copy; copy and mix are one " \
           "file (sha256 aaaa))" in line and "x 1.50, y 1.50" in line
    line = ranked([("mix", 24), ("copy", 24), ("mix", 48), ("other", 24)])
    assert "over 3 tables (copy/24, mix/48, other/24), of 2 datasets (copy and mix are " \
           "one file (sha256 aaaa))" in line
    assert "tables left out: mix/24 (the data and horizon of copy/24)" in line
