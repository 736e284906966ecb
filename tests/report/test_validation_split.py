"""``tsbench-report --split val``: each run's validation score (a holdout run's val split, a
cv=tscv run's mean over its folds), each protocol a table of its own, with paired tests on
the per-window validation errors, Holm and ranks; the test report names it for the
cross-validated runs it cannot show."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.report.conftest import report, tiny_run
from tsbench.report.collect import collect
from tsbench.report.stats import diebold_mariano, holm
from tsbench.report.validation import window_errors

CV = ("cv=tscv", "cv.n_splits=3")


@dataclass(frozen=True)
class Runs:
    """``holdout``: naive and DLinear at pred_len 12 and 24; ``cv``: both at 12 with
    cv=tscv (3 folds, no refit: no test split scored); ``refit``: naive with cv=refit."""

    root: Path
    holdout: Path
    cv: Path
    refit: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("validation")
    for model in ("naive", "dlinear"):
        for pred_len in (12, 24):
            # the HTML page's pictures: one run per model (its first table's) is shown
            tiny_run(root / "holdout" / f"{model}_{pred_len}", f"model={model}",
                     f"pred_len={pred_len}", f"plots={'true' if pred_len == 12 else 'false'}")
        tiny_run(root / "cv" / model, f"model={model}", *CV)
    tiny_run(root / "refit" / "naive", "model=naive", "cv=refit")
    return Runs(root, root / "holdout", root / "cv", root / "refit")


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def _body(out: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()
            if line.startswith("| ") and not line.startswith(("| dataset", "| ---"))]


def _csv(out: str) -> dict[tuple[str, str, str], dict[str, str]]:
    """A validation report's CSV rows by table (its dataset and validation columns, as the
    Markdown names the table), pred_len and model."""
    return {(f"{r['dataset']} [val: {r['validation']}]", r["pred_len"], r["model"]): r
            for r in csv.DictReader(io.StringIO(out))}


def _cv_windows(run_dir: Path) -> np.ndarray:
    return np.concatenate([np.load(run_dir / f"fold_{k}" / "val_window_mse.npy")
                           for k in range(3)]).astype(np.float64)


def _cv_table(runs: Runs) -> str:
    folds = _metrics(runs.cv / "naive")["cv_folds"]
    return f"synthetic [val: CV, 3 folds, rows [{folds[0]['val'][0]}, {folds[-1]['val'][1]})]"


HOLDOUT = "synthetic [val: holdout split]"


def test_the_test_report_leaves_cv_runs_without_refit_out_and_names_split_val(
        runs: Runs) -> None:
    alone = report(runs.cv, check=False)
    assert alone.returncode == 2 and alone.stdout == ""
    assert "2 runs: cv=tscv scores the folds' validation blocks; cv.refit=true adds the " \
           "test split; --split val reports their cross-validation score" in alone.stderr
    mixed = report(runs.cv, runs.holdout)
    assert "left out 2 runs without test_mse (cv=tscv scores the folds' validation " \
           "blocks; cv.refit=true adds the test split; --split val reports their " \
           "cross-validation score)" in mixed.stderr
    assert "[val:" not in mixed.stdout and "test MSE, scaled (mean ± std, n)" in mixed.stdout


def test_split_val_reports_validation_scores_labelled_on_every_line(runs: Runs) -> None:
    out = report(runs.cv, runs.holdout, "--split", "val").stdout
    head = out.splitlines()[0]
    assert "validation MSE, scaled (mean ± std, n)" in head
    assert "test" not in head and "published" not in head  # published numbers are test's
    rows = {(r[0], r[1], r[2]): r[3].strip("*") for r in _body(out)}
    expected = {(_cv_table(runs), "12", model): _metrics(runs.cv / model)["cv_val_mse_mean"]
                for model in ("naive", "dlinear")}
    expected |= {(HOLDOUT, str(h), model): _metrics(runs.holdout / f"{model}_{h}")["val_mse"]
                 for model in ("naive", "dlinear") for h in (12, 24)}
    assert rows == {key: f"{value:.4f} (1)" for key, value in expected.items()}
    assert "Validation scores, no test score" in out and "test_mse" not in out
    # a cv=tscv run's own test split was never scored: nothing left out, nothing warned
    assert "left out" not in report(runs.cv, "--split", "val").stderr


def test_validation_paired_tests_pair_each_protocols_own_windows(runs: Runs) -> None:
    out = report(runs.cv, runs.holdout, "--split", "val", "--baseline", "naive",
                 "--format", "csv").stdout
    rows = _csv(out)
    assert {r["split"] for r in rows.values()} == {"val"}
    # cv names the cross-validation as a test report's CSV does; validation, how it validated
    assert {(r["cv"], r["validation"].split(",")[0]) for r in rows.values()} == {
        ("holdout", "holdout split"), ("tscv", "CV")}
    holdout = [diebold_mariano(*(np.load(runs.holdout / f"{m}_{h}" / "val_window_mse.npy")
                                 .astype(np.float64) for m in ("dlinear", "naive")), h)
               for h in (12, 24)]
    cv = diebold_mariano(_cv_windows(runs.cv / "dlinear"), _cv_windows(runs.cv / "naive"), 12)
    [run] = collect([runs.cv / "dlinear"], "val_mse", lambda message: None, split="val").runs
    assert np.array_equal(window_errors(run, "mse"), _cv_windows(runs.cv / "dlinear"))
    tested = [rows[(HOLDOUT, "12", "dlinear")], rows[(HOLDOUT, "24", "dlinear")],
              rows[(_cv_table(runs), "12", "dlinear")]]
    for row, test in zip(tested, [*holdout, cv], strict=True):
        assert float(row["p_value"]) == pytest.approx(test.p_value, rel=1e-9)
    adjusted = holm(np.array([float(row["p_value"]) for row in tested]))
    assert [float(row["p_holm"]) for row in tested] == pytest.approx(list(adjusted), rel=1e-9)
    assert rows[(_cv_table(runs), "12", "naive")]["vs_baseline"] == "baseline"


def test_validation_ranks_one_protocol_and_say_the_other_is_left_out(runs: Runs) -> None:
    out = report(runs.cv, runs.holdout, "--split", "val").stdout
    assert (f"Average ranks (1 = best validation MSE) over 2 tables ({HOLDOUT}/12, "
            f"{HOLDOUT}/24)") in out
    assert (f"ranked on the [val: holdout split] tables alone: the other validation "
            f"protocols' tables ({_cv_table(runs)}/12) are left out, scores of different "
            "validation protocols are not ranked together") in out


def test_validation_tests_without_per_window_errors_are_left_out_with_a_line(
        runs: Runs, tmp_path: Path) -> None:
    shutil.copytree(runs.cv, tmp_path / "cv")
    (tmp_path / "cv" / "dlinear" / "fold_1" / "val_window_mse.npy").unlink()
    out = report(tmp_path / "cv", "--split", "val", "--baseline", "naive").stdout
    row = next(r for r in _body(out) if r[2] == "dlinear")
    assert row[5] == ("– (not tested: no readable fold_<k>/val_window_mse.npy of every fold "
                      "(a run saved before runs wrote them?))")
    assert ("Paired tests left out where a cell's runs saved no per-window validation "
            f"errors, so the test has no windows to pair: dlinear at {_cv_table(runs)}/12."
            ) in out


def test_a_search_trial_without_the_test_split_is_compared_and_pooled_on_validation(
        runs: Runs, tmp_path: Path) -> None:
    """A search's trial (score_test=false: no test rows read, no test windows) validated
    as a run that scored the test split did: one cell with a rerun's seed, tested against
    the baseline, not flagged for the test split's rows and windows."""
    tiny_run(tmp_path / "trial", "model=dlinear", "pred_len=12", "score_test=false")
    tiny_run(tmp_path / "rerun", "model=dlinear", "pred_len=12", "seed=2")
    out = report(tmp_path, runs.holdout / "naive_12", "--split", "val",
                 "--baseline", "naive").stdout
    [row] = [r for r in _body(out) if r[2].startswith("dlinear")]
    scores = [_metrics(tmp_path / d)["val_mse"] for d in ("trial", "rerun")]
    cell = row[3].strip("*")
    assert row[2] == "dlinear" and cell.startswith(f"{np.mean(scores):.4f} ± ")
    assert cell.endswith("(2)") and "(p=" in row[5] and row[6] == "same"  # tested


def test_a_refit_run_has_no_validation_score(runs: Runs) -> None:
    proc = report(runs.refit, runs.holdout, "--split", "val")
    assert ("left out 1 run without val_mse (cv=refit trains on the train+val rows, so "
            f"it has no validation score), e.g. {runs.refit / 'naive'}") in proc.stderr
    alone = report(runs.refit, "--split", "val", check=False)
    assert alone.returncode == 2 and "error: the only finished run under " \
        f"{runs.refit} has no validation score (val_mse, or a cv=tscv run's " \
        "cv_val_mse_mean): 1 run: cv=refit" in alone.stderr


def test_the_html_validation_page_says_validation_and_draws_no_test_forecast(
        runs: Runs, tmp_path: Path) -> None:
    page = tmp_path / "val.html"
    report(runs.cv, runs.holdout, "--split", "val", "-o", page)
    text = page.read_text()
    assert "Validation MSE of 6 runs" in text and "<th>validation MSE, scaled (mean" in text
    assert "<th>published</th>" not in text and "Test MSE" not in text
    assert "<figcaption>dlinear: " not in text  # a run's forecast picture draws test windows
    assert "Left out of a validation report: a run draws its forecast picture" in text
    test_page = tmp_path / "test.html"
    report(runs.holdout, "-o", test_page)
    assert "<figcaption>dlinear: " in test_page.read_text()
