"""A real ``tsbench`` subprocess: outputs, determinism, the returned objective."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY, read_metrics, run_tsbench
from tsbench.rundir import figures

REQUIRED = ("val_mse", "val_mae", "test_mse", "test_mae", "epochs", "train_seconds", "n_params",
            "n_test_windows", "test_mse_orig", "test_mae_orig", "test_mse_per_step")


def test_run_writes_complete_outputs(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = run_tsbench([*TINY, "logger=csv", "plots=true"], run_dir)
    metrics = read_metrics(run_dir)
    assert set(REQUIRED) <= set(metrics)
    assert metrics["objective"] == metrics["val_mse"]
    assert len(metrics["test_mse_per_step"]) == 12
    # Each horizon step's MSE is over every window and channel (the synthetic series has 3),
    # so the 12 steps' mean is the test MSE.
    assert sum(metrics["test_mse_per_step"]) / 12 == pytest.approx(metrics["test_mse"],
                                                                    rel=1e-9)
    # 600 rows: 420/60/120 -> test windows 120 + 48 - 48 - 12 + 1
    assert metrics["n_test_windows"] == 109
    for name in ("config.yaml", "forecast.png", "checkpoints/best.ckpt", "logs/metrics.csv"):
        assert (run_dir / name).is_file(), name
    assert f"outputs in {run_dir}" in proc.stdout
    # the scores in the data's units beside the scaled ones (the published convention)
    m = metrics
    assert proc.stdout.splitlines()[-1] == (
        f"tsbench: test_mse={m['test_mse']:.4f}  test_mae={m['test_mae']:.4f}  "
        f"val_mse={m['val_mse']:.4f} (scaled)  test_mse_orig={m['test_mse_orig']:#.5g}  "
        f"test_mae_orig={m['test_mae_orig']:#.5g}  val_mse_orig={m['val_mse_orig']:#.5g} "
        f"(original units)  epochs={m['epochs']}")


def test_a_run_names_its_folder_as_it_starts_and_its_scores_as_it_ends(
        tmp_path: Path) -> None:
    """The folder is said once, before training (a long run's logs are to watch while it
    trains): when its line is read the run has written no metrics.json yet; the scores
    close stdout without the folder again."""
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsbench", *TINY, "trainer.max_epochs=3",
         f"hydra.run.dir={run_dir}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.stdout is not None
    first = proc.stdout.readline()
    unfinished = not (run_dir / "metrics.json").exists()
    rest = proc.stdout.read().splitlines()
    assert proc.wait() == 0
    assert first == f"tsbench: outputs in {run_dir}\n" and unfinished
    assert rest == [f"tsbench: {figures(read_metrics(run_dir))}  epochs=3"]


def test_original_unit_scores_keep_five_digits_and_their_trailing_zeros() -> None:
    """``.5g`` wrote ``test_mse_orig=31.63`` beside ``37.043``; a whole number keeps no
    bare point."""
    line = figures({"test_mse": 0.5, "test_mae": 0.25, "val_mse": 0.75, "test_mse_orig": 31.63,
                    "test_mae_orig": 37.043, "val_mse_orig": 12345.0})
    assert line.endswith("(scaled)  test_mse_orig=31.630  test_mae_orig=37.043  "
                         "val_mse_orig=12345 (original units)")


@pytest.mark.heavy
def test_same_seed_same_metrics(tmp_path: Path) -> None:
    first = read_metrics(_run(tmp_path / "a", seed=7))
    second = read_metrics(_run(tmp_path / "b", seed=7))
    other = read_metrics(_run(tmp_path / "c", seed=8))
    for key in ("val_mse", "test_mse", "test_mae"):
        assert first[key] == second[key]
    assert first["test_mse"] != other["test_mse"]


def test_naive_baselines_need_no_training(tmp_path: Path) -> None:
    for model in ("naive", "seasonal_naive"):
        args = [a for a in TINY if not a.startswith("model")] + [f"model={model}"]
        metrics = read_metrics(_run(tmp_path / model, args=args))
        assert metrics["epochs"] == 0 and metrics["n_params"] == 0
    # On a period-24 series, the seasonal naive forecast beats the last value.
    assert (read_metrics(tmp_path / "seasonal_naive")["test_mse"]
            < read_metrics(tmp_path / "naive")["test_mse"])


def _run(run_dir: Path, seed: int = 1, args: list[str] | None = None) -> Path:
    run_tsbench([*(args or TINY), f"seed={seed}"], run_dir)
    return run_dir


def test_a_refit_that_scores_nothing_says_so_and_how_to_use_its_model(tmp_path: Path) -> None:
    """``cv=refit score_test=false`` trains a model on train+val to forecast with; its
    summary says that nothing was scored rather than print an empty line of figures."""
    proc = run_tsbench([*TINY, "cv=refit", "score_test=false"], tmp_path / "run")
    metrics = read_metrics(tmp_path / "run")
    assert metrics["epochs"] == 2 and not any(k.startswith("test_") for k in metrics)
    assert ("tsbench: nothing scored (no validation split, and score_test=false)  epochs=2\n"
            f"tsbench: `tsbench-forecast {tmp_path / 'run'}` forecasts with its model\n"
            ) in proc.stdout


def test_a_validation_split_of_a_few_windows_is_a_warning(tmp_path: Path) -> None:
    """ILI's 97 validation rows hold 2 windows at pred_len 96 (74 at 24): early stopping
    and a search's objective would rest on 2 overlapping windows, said once."""
    said = {}
    for model, pred_len in (("naive", 96), ("naive", 24), ("dlinear", 96)):
        proc = run_tsbench(["dataset=ili", f"model={model}", "seq_len=36",
                            f"pred_len={pred_len}", "logger=none", "trainer=debug",
                            "plots=false"],
                           tmp_path / f"{model}{pred_len}")
        said[model, pred_len] = [line for line in (proc.stdout + proc.stderr).splitlines()
                                 if "the validation split holds" in line]
        assert read_metrics(tmp_path / f"{model}{pred_len}")["n_val_windows"] == (
            97 - pred_len + 1)
    fix = "-> a shorter pred_len, or cv=tscv (validation blocks of the training rows)"
    assert len(said["dlinear", 96]) == 1 and said["dlinear", 96][0].endswith(
        "the validation split holds 2 windows of seq_len 36 + pred_len 96: early stopping, "
        f"the best epoch and a search's objective rest on them {fix}")
    # naive trains nothing: no early stopping or best epoch to name
    assert len(said["naive", 96]) == 1 and said["naive", 96][0].endswith(
        "the validation split holds 2 windows of seq_len 36 + pred_len 96: its validation "
        f"scores and a search's objective rest on them {fix}")
    assert said["naive", 24] == []
    # a look-back the training rows cannot hold: refused with its reason alone
    proc = run_tsbench(["dataset=ili", "model=naive", "seq_len=600", "pred_len=96",
                        "logger=none", "plots=false"], tmp_path / "long", check=False)
    assert proc.returncode == 2 and "the validation split holds" not in proc.stderr
    assert "the train split has 676 rows, shorter than seq_len + pred_len" in proc.stderr


def test_nine_validation_windows_are_warned_ten_are_not(tmp_path: Path) -> None:
    """The warning starts below 10 validation windows: ILI's 97 validation rows hold 9 at
    pred_len 89 (warned) and 10 at pred_len 88 (not)."""
    said = {}
    for pred_len, windows in ((89, 9), (88, 10)):
        run_dir = tmp_path / str(pred_len)
        proc = run_tsbench(["dataset=ili", "model=naive", "seq_len=36", f"pred_len={pred_len}",
                            "logger=none", "trainer=debug", "plots=false"], run_dir)
        assert read_metrics(run_dir)["n_val_windows"] == windows
        said[windows] = [line for line in (proc.stdout + proc.stderr).splitlines()
                         if "the validation split holds" in line]
    assert len(said[9]) == 1 and "holds 9 windows of seq_len 36 + pred_len 89" in said[9][0]
    assert said[10] == []
