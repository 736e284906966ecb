"""MLflow refuses names with characters a data file's columns hold (ILI's ``% WEIGHTED ILI``,
``temp (C)``), and the protocol card's per-channel entries are named by them: such a run is
tracked under names MLflow takes, and a tracker's error loses no score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_module

from tests.conftest import TINY, run_tsbench
from tsbench.rundir import read_metrics
from tsbench.tracking.mlflow_run import mlflow_names
from tsbench.training import run as run_module

PREFIX = "protocol.scaler.channel_std."


def _csv(folder: Path) -> Path:
    """400 hours of three channels whose names MLflow refuses, and the target ``OT``."""
    t = np.arange(400)
    path = folder / "weather.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=400, freq="h"),
                  "% rain": t % 5, "temp (C)": np.sin(t / 3), "temp [C]": np.cos(t / 3),
                  "OT": t % 24}).to_csv(path, index=False)
    return path


def _args(folder: Path, uri: str) -> list[str]:
    return [a for a in TINY if not a.startswith(("logger", "model", "dataset"))] + [
        "model=naive", "dataset=csv", f"dataset.path={_csv(folder)}", "logger=mlflow",
        f"logger.tracking_uri={uri}"]


def test_a_run_of_columns_mlflow_refuses_is_tracked_under_names_it_takes(
        tmp_path: Path, uri: str) -> None:
    """Each refused character written ``_``; the two temperatures, which come to share a
    name, both kept (the second numbered); the run finished with its scores."""
    import mlflow

    run_tsbench(_args(tmp_path, uri), tmp_path / "run")
    assert "test_mse" in read_metrics(tmp_path / "run")
    client = mlflow.tracking.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("tsbench").experiment_id])
    assert run.info.status == "FINISHED"
    logged = {k.removeprefix(PREFIX) for k in run.data.params if k.startswith(PREFIX)}
    assert logged == {"_ rain", "temp _C_", "temp _C__2", "OT"}
    assert "test_mse" in run.data.metrics


def test_names_mlflow_takes_stay_as_they_are() -> None:
    assert mlflow_names({"optim.lr": 1, "a-b c_d.e": 2}) == {"optim.lr": 1, "a-b c_d.e": 2}
    assert mlflow_names({"x/y": 1, "x:y": 2}) == {"x_y": 1, "x_y_2": 2}


def test_a_trackers_error_after_scoring_loses_no_score(
        tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that refuses what the run logs once scored (a server gone, a name it
    refuses) ends the run with its error, its metrics.json written all the same."""
    def refused(*_: object) -> None:
        raise RuntimeError("the tracking server went away")

    monkeypatch.setattr(run_module, "log_protocol", refused)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=_args(tmp_path, uri))
    with pytest.raises(RuntimeError, match="went away"):
        run_module.run(cfg, tmp_path / "run")
    assert "test_mse" in read_metrics(tmp_path / "run")


def test_a_multirun_that_ends_on_a_failed_job_ends_its_parent_failed(
        tmp_path: Path, uri: str) -> None:
    """Hydra calls no on_multirun_end where a job's error ends the multirun: the parent
    ended FAILED then (was: RUNNING for good), its finished job's child FINISHED (the
    other job failed reading its file, before its run opened)."""
    from mlflow.tracking import MlflowClient

    good = _csv(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace(",OT", ",load"))  # no target column
    args = [a for a in _args(tmp_path, uri) if not a.startswith("dataset.path")]
    proc = run_tsbench([*args, f"dataset.path={good},{bad}"], tmp_path / "sweep",
                       multirun=True, check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("tsbench").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert [r.info.status for r in parents] == ["FAILED"]
    assert [r.info.status for r in children] == ["FINISHED"]


def test_a_search_aborted_by_its_failures_ends_its_parent_failed(
        tmp_path: Path, uri: str) -> None:
    """Every trial failing (a seasonal naive model whose season of 24 hours is longer than
    each searched look-back), the search stops on max_failure_rate with its error: the
    parent ended FAILED, not left RUNNING."""
    from mlflow.tracking import MlflowClient

    args = [a for a in TINY if not a.startswith(("logger", "model", "seq_len"))] + [
        "model=seasonal_naive", "logger=mlflow", f"logger.tracking_uri={uri}",
        "hydra/sweeper=skopt", "seq_len=choice(6,8,10,12,14,16,18,20)",
        "hydra.sweeper.n_trials=8", "hydra.sweeper.n_initial_points=2",
        "hydra.sweeper.plots=false"]
    proc = run_tsbench(args, tmp_path / "sweep", multirun=True, check=False)
    assert proc.returncode != 0 and "max_failure_rate" in proc.stderr, proc.stderr[-2000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("tsbench").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [r.info.status for r in parents] == ["FAILED"]
