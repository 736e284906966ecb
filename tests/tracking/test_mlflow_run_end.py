"""A run's MLflow run ends with the status of how the run ended: FINISHED with its
objective, FAILED for an error of its own, and KILLED, with the epoch it reached, for a
stop from outside (Ctrl-C, a scheduler's SIGTERM). Lightning's logger ended it FAILED when
the stop came in training and FINISHED (without an objective) when it came once training
had ended, while the run was scored: filtered by status, it counted as a finished run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, run_tsbench
from tests.tracking.stopped_model import STOPPED_MODEL

#: Tiny runs of the test-only model logged to MLflow, two training batches per epoch.
ARGS = [*(a for a in TINY if not a.startswith("logger")), "logger=mlflow",
        "model._target_=tests.tracking.stopped_model.StoppedDLinear",
        "trainer.limit_train_batches=2", "trainer.max_epochs=5"]


def ended_run(uri: str, run_dir: Path) -> tuple[str, dict[str, float]]:
    """The status and the metrics of the MLflow run of the run in ``run_dir``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tsbench").experiment_id
    [run] = client.search_runs([experiment], f"tags.`tsbench.run_dir` = '{run_dir.resolve()}'")
    return run.info.status, run.data.metrics


@pytest.mark.heavy(seconds=20)
@pytest.mark.parametrize("stop, when, extra, epoch", [
    (signal.SIGINT, "5", [], 3),  # the first step of epoch 3 (2 steps an epoch)
    (signal.SIGTERM, "scored", ["cv=refit", "score_test=true"], 5),  # training ended
])
def test_a_run_stopped_from_outside_ends_killed_with_the_epoch_it_reached(
        tmp_path: Path, uri: str, stop: signal.Signals, when: str, extra: list[str], epoch: int
        ) -> None:
    run_dir = tmp_path / "run"
    env = {"MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT),
           STOPPED_MODEL: f"{stop.name}@{when}"}
    proc = run_tsbench([*ARGS, *extra], run_dir, env=env, check=False)  # it stops itself
    assert proc.returncode == 128 + stop, proc.stderr[-2000:]
    status, metrics = ended_run(uri, run_dir)
    assert status == "KILLED"
    assert metrics["killed_at_epoch"] == epoch and "objective" not in metrics


@pytest.mark.heavy(seconds=10)
def test_a_run_that_fails_ends_failed_and_a_finished_one_finished(tmp_path: Path, uri: str
                                                                   ) -> None:
    env = {"MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT), STOPPED_MODEL: "error@5"}
    failed = run_tsbench(ARGS, tmp_path / "failed", env=env, check=False)
    assert failed.returncode != 0 and "the model's own error" in failed.stderr
    status, metrics = ended_run(uri, tmp_path / "failed")
    assert status == "FAILED" and "killed_at_epoch" not in metrics
    run_tsbench(ARGS, tmp_path / "finished", env={**env, STOPPED_MODEL: ""})
    status, metrics = ended_run(uri, tmp_path / "finished")
    assert status == "FINISHED" and "objective" in metrics and "killed_at_epoch" not in metrics
