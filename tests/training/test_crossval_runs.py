"""Real ``tsbench cv=tscv`` subprocess runs, tiny DLinear and PatchTST on synthetic data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import read_metrics, run_tsbench
from tests.unseen import differences, outputs_of_both, series, snapshot
from tsbench.rundir import load_run

#: 1000 rows, ratio split: 800 train+val rows, three validation blocks of 200 rows.
BASE = ["dataset=synthetic", "dataset.n_rows=1000", "seq_len=48", "pred_len=24",
        "trainer=debug", "data.batch_size=64", "cv=tscv", "cv.n_splits=3", "plots=false"]
PATCHTST = ["model=patchtst", "model.d_model=8", "model.n_heads=2", "model.e_layers=1",
            "model.d_ff=16", "model.patch_len=8", "model.stride=8"]


@pytest.mark.parametrize("model, refit", [(["model=dlinear"], True), (PATCHTST, False)],
                         ids=["dlinear-refit", "patchtst"])
def test_tscv_run_end_to_end(model: list[str], refit: bool, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = run_tsbench([*BASE, *model, f"cv.refit={str(refit).lower()}"], run_dir)
    metrics = read_metrics(run_dir)
    folds = [metrics[f"fold_{k}_val_mse"] for k in range(3)]
    assert "fold_3_val_mse" not in metrics
    assert metrics["cv_val_mse_mean"] == pytest.approx(np.mean(folds))
    assert metrics["cv_val_mse_std"] == pytest.approx(np.std(folds))
    assert metrics["objective"] == metrics["cv_val_mse_mean"]
    for metric in ("mae", "mase", "smape"):  # each fold's scale-free scores, averaged too
        assert metrics[f"cv_val_{metric}_mean"] == pytest.approx(
            np.mean([metrics[f"fold_{k}_val_{metric}"] for k in range(3)]))
    assert all(metrics[f"fold_{k}_best_epoch"] in (1, 2) for k in range(3))
    assert [f["val"] for f in metrics["cv_folds"]] == [[200, 400], [400, 600], [600, 800]]
    for k in range(3):
        assert (run_dir / f"fold_{k}" / "checkpoints" / "best.ckpt").is_file()
        assert (run_dir / f"fold_{k}" / "logs" / "metrics.csv").is_file()
    assert "cv_val_mse_mean=" in proc.stdout
    refit_note = " + refit" if refit else ""
    assert f"epochs={metrics['epochs']} (summed over 3 folds{refit_note})" in proc.stdout
    if refit:
        assert metrics["n_test_windows"] == 200 - 24 + 1
        assert np.isfinite(metrics["test_mse"]) and metrics["refit_epochs"] == 2
        assert metrics["epochs"] == 3 * 2 + 2
    else:  # without a refit the test rows are never scored, and there is no model of its own
        assert not any(key.startswith(("test_", "n_test")) for key in metrics)
        with pytest.raises(FileNotFoundError, match=re.escape(
                f"{run_dir} is a cross-validation run: each fold keeps its own model -> "
                "load_run(fold_dir(path, k)) for k in 0..2")):
            _ = load_run(run_dir).model
        assert load_run(run_dir / "fold_2").model.seq_len == 48


def test_too_many_folds_is_one_clear_error(tmp_path: Path) -> None:
    proc = run_tsbench([*BASE, "model=dlinear", "cv.n_splits=20"], tmp_path / "run",
                       check=False)
    assert proc.returncode == 2
    assert "tsbench: error: cv.n_splits: 20 folds are more than" in proc.stderr
    assert "use cv.n_splits <= 11" in proc.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.heavy
def test_folds_never_read_the_test_rows(tmp_path: Path) -> None:
    """Checked from the outside: with the test rows replaced by a huge period-7 pattern, a
    ``cv=tscv score_test=false`` run writes exactly the same files (every fold's
    checkpoint, per-epoch log and plot, the metrics), wall-clock timings aside."""
    frame = series(1000)  # ratio split: train+val rows [0, 800), test rows [800, 1000)
    csv_base = [a for a in BASE if not a.startswith("dataset")] + ["dataset=csv"]
    clean, replaced = outputs_of_both(tmp_path, frame, 800, lambda path, out: run_tsbench(
        [*csv_base, f"dataset.path={path}", "model=dlinear", "score_test=false", "logger=csv"],
        out))
    files = snapshot(clean)
    assert {f"fold_{k}/checkpoints/best.ckpt" for k in range(3)} <= set(files)
    assert {f"fold_{k}/logs/metrics.csv" for k in range(3)} <= set(files)
    assert differences(files, snapshot(replaced)) == []


def test_a_fold_scores_the_same_without_the_folds_before_it(tmp_path: Path) -> None:
    """Each fold starts from the run's seed: the last two of three folds score exactly as
    the two folds of a run over just their blocks (no earlier fold's draws carried over)."""
    run_tsbench([*BASE, "model=dlinear"], tmp_path / "three")
    run_tsbench([*BASE, "model=dlinear", "cv.n_splits=2", "cv.test_size=200"], tmp_path / "two")
    three, two = read_metrics(tmp_path / "three"), read_metrics(tmp_path / "two")
    assert three["cv_folds"][1:] == two["cv_folds"]
    for k in (0, 1):
        assert two[f"fold_{k}_val_mse"] == three[f"fold_{k + 1}_val_mse"]


def test_refit_reports_its_own_learning_rate(tmp_path: Path) -> None:
    """With cv.refit the run's lr_suggested and lr_used are the refit's (the model scored on
    test), the rate its own range test suggested and trained at."""
    run_dir = tmp_path / "run"
    run_tsbench([*BASE, "model=dlinear", "cv.refit=true", "tune.lr_find=true",
                 "tune.lr_find_num_training=20"], run_dir)
    metrics = read_metrics(run_dir)
    found = json.loads((run_dir / "lr_find.json").read_text())  # the refit's range test
    assert metrics["lr_suggested"] == metrics["lr_used"] == found["suggestion"]
    assert all(f"fold_{k}_lr_used" in metrics for k in range(3))
