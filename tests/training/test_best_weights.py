"""The scored weights are the best-validation weights: a run whose validation loss gets
worse after its best epoch stops ``trainer.patience`` epochs later, reports the best epoch's
validation loss (the exact MSE over every validation window), and the checkpoint it leaves
scores the reported numbers again."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import read_metrics, run_tsbench
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.rundir import LOGS, load_run
from tsbench.training.evaluate import evaluate
from tsbench.training.train_and_score import make_data

#: The learning rate grows 4x per epoch (a step schedule with gamma 4), so training first
#: improves (best at epoch 2), then overshoots: every later epoch is worse, so early stopping
#: ends the run PATIENCE epochs after the best one, well before MAX_EPOCHS, at its worst
#: epoch. The 49 validation windows are scored in batches of 16, 16, 16 and 1: a mean of
#: batch means would weigh the last window 16 times more than the exact MSE does.
PATIENCE, MAX_EPOCHS = 3, 8
DIVERGING = [
    "dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48", "pred_len=12",
    "trainer=debug", f"trainer.max_epochs={MAX_EPOCHS}", f"trainer.patience={PATIENCE}",
    "data.batch_size=32", "data.eval_batch_size=16", "logger=csv",
    "optim=adamw_step", "optim.lr=0.01", "optim.step_size=1", "optim.gamma=4", "seed=1",
    "plots=false",
]  # fmt: skip


def logged_val_losses(run_dir: Path) -> list[float]:
    """The per-epoch validation losses of the CSV logger, in epoch order."""
    with open(run_dir / LOGS / "metrics.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("val_loss")]
    assert [int(r["epoch"]) for r in rows] == list(range(len(rows)))
    return [float(r["val_loss"]) for r in rows]


def test_scores_come_from_the_best_validation_epoch(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_tsbench(DIVERGING, run_dir)
    metrics = read_metrics(run_dir)
    losses = logged_val_losses(run_dir)
    best = min(range(len(losses)), key=losses.__getitem__)
    # The construction holds: the best epoch early, the last far worse.
    assert best + 1 < len(losses) and losses[-1] > 2 * losses[best]
    assert metrics["best_epoch"] == best + 1  # 1-based
    # Early stopping: PATIENCE epochs without improvement after the best, then no more
    # (epochs counts the epochs run; without the callback all MAX_EPOCHS would run).
    assert len(losses) == metrics["epochs"] == metrics["best_epoch"] + PATIENCE == 5
    assert metrics["epochs"] < MAX_EPOCHS
    assert all(loss > losses[best] for loss in losses[best + 1:])
    # The reported validation MSE is the best epoch's (float64 sums vs the logged float32):
    # both are the MSE over all 49 windows, whatever the batches (eval_batch_size=16).
    assert metrics["n_val_windows"] == 49
    assert metrics["val_mse"] == pytest.approx(losses[best], rel=1e-6)
    assert metrics["objective"] == metrics["val_mse"]

    # The checkpoint holds the weights that were scored: they give the same numbers again.
    run = load_run(run_dir)
    series = load_series(run.config.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(run.config.seq_len),
                                series.train_frac, series.test_frac)
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    data = make_data(run.config, series, ranges, with_marks=run.model.uses_time_features)
    for split in ("val", "test"):
        scores = evaluate(run.model, data, split)
        assert scores["mse"] == metrics[f"{split}_mse"], split
        assert scores["mae"] == metrics[f"{split}_mae"], split


def test_patience_zero_trains_every_epoch(tmp_path: Path) -> None:
    """trainer.patience=0 turns early stopping off: the run trains all max_epochs though its
    validation loss worsens after the best epoch, and still scores the best epoch."""
    run_dir = tmp_path / "run"
    run_tsbench([*DIVERGING, "trainer.patience=0"], run_dir)
    metrics = read_metrics(run_dir)
    losses = logged_val_losses(run_dir)
    assert len(losses) == metrics["epochs"] == MAX_EPOCHS
    assert metrics["best_epoch"] + 1 < MAX_EPOCHS  # it got worse, and kept training
    assert metrics["val_mse"] == pytest.approx(min(losses), rel=1e-6)
