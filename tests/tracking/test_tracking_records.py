"""What the trackers record and where: a sweep's MLflow parent with best.yaml's counts under
their own names and, without best.yaml, the best finite child; W&B's files under logger.dir
before $WANDB_DIR, and a W&B folder the user set kept while the run starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import TINY, run_tsbench
from tests.tracking import test_wandb
from tsbench.tracking.mlflow_sweep import MlflowSweepCallback
from tsbench.tracking.wandb_run import _inside

#: An empty $HOME with no W&B key or folders set (test_wandb's fixture).
clean_home = test_wandb.clean_home


def _sweep(tmp_path: Path) -> tuple[MlflowSweepCallback, object, Path]:
    """The multirun callback of logger=mlflow on a SQLite store in ``tmp_path``, its parent
    run started for ``tmp_path/sweep``; returns it, its hydra config and the sweep folder."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    sweep_dir = tmp_path / "sweep"
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    callback = MlflowSweepCallback(tracking_uri=uri, output_root=str(tmp_path))
    callback.on_multirun_start(config)
    return callback, config, sweep_dir


def test_a_sweeps_parent_holds_best_yamls_counts_under_their_names(tmp_path: Path) -> None:
    """Pruned and failed trials are told apart on the parent run: each count of best.yaml
    under its own name, beside the best objective and parameters."""
    callback, config, sweep_dir = _sweep(tmp_path)
    (sweep_dir / "best.yaml").write_text(yaml.safe_dump({
        "objective": 0.5, "trials_finished": 3, "trials_pruned": 1, "trials_failed": 2,
        "params": {"seq_len": 48}, "job_dir": str(sweep_dir / "4")}))
    callback.on_multirun_end(config)
    parent = callback._client.get_run(callback._run_id)
    assert parent.data.metrics == {"best_objective": 0.5, "trials_finished": 3,
                                   "trials_pruned": 1, "trials_failed": 2}
    assert parent.data.params == {"best.seq_len": "48"}
    assert parent.data.tags["tsbench.best_job_dir"] == str(sweep_dir / "4")
    assert parent.info.status == "FINISHED"


def test_a_diverged_child_is_never_a_sweeps_best(tmp_path: Path) -> None:
    """Without best.yaml (Hydra's basic sweeper) the parent's best is the lowest objective
    of its children that have a number: a child whose objective is NaN (its training
    diverged) is left out, wherever the store lists it."""
    callback, config, sweep_dir = _sweep(tmp_path)
    client, parent_id = callback._client, callback._run_id
    experiment_id = client.get_run(parent_id).info.experiment_id
    start = client.get_run(parent_id).info.start_time
    children = {}
    # the store lists the latest started first: the NaN child in first place and in last
    for offset, objective in ((1, 0.5), (2, 0.3), (3, float("nan")), (0, float("nan"))):
        child = client.create_run(experiment_id, start_time=start + offset,
                                  tags={"mlflow.parentRunId": parent_id})
        client.log_metric(child.info.run_id, "objective", objective)
        client.set_terminated(child.info.run_id)
        children[objective] = child.info.run_id
    callback.on_multirun_end(config)
    parent = client.get_run(parent_id)
    assert parent.data.metrics == {"best_objective": 0.3}
    assert parent.data.tags["tsbench.best_run_id"] == children[0.3]


def test_wandb_files_go_to_logger_dir_before_wandb_dir(tmp_path: Path, clean_home: Path
                                                       ) -> None:
    """logger.dir is the folder given for this run: it wins over $WANDB_DIR (the user's
    default for every run), which then stays untouched."""
    args = [a for a in TINY if not a.startswith("logger")] + [
        "logger=wandb", f"logger.dir={tmp_path / 'tracking'}"]
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    run_tsbench(args, tmp_path / "run", env={"WANDB_DIR": str(env_dir)})
    assert len(list((tmp_path / "tracking" / "wandb").glob("offline-run-*/run-*.wandb"))) == 1
    assert not list(env_dir.rglob("*")), "wandb wrote into $WANDB_DIR"
    assert not (tmp_path / "run" / "wandb").exists()


def test_wandbs_folders_the_user_set_are_kept_while_a_run_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the W&B folders the user left unset are pointed into the run's folder, and
    only while the run starts."""
    for name in test_wandb.WANDB_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_CACHE_DIR", "/mine/cache")
    monkeypatch.setenv("WANDB_CONFIG_DIR", "/mine/config")
    with _inside(tmp_path):
        assert os.environ["WANDB_CACHE_DIR"] == "/mine/cache"
        assert os.environ["WANDB_CONFIG_DIR"] == "/mine/config"
        assert os.environ["WANDB_DATA_DIR"] == str(tmp_path / "wandb" / "data")
        assert os.environ["WANDB_ARTIFACT_DIR"] == str(tmp_path / "wandb" / "artifacts")
    assert "WANDB_DATA_DIR" not in os.environ and "WANDB_ARTIFACT_DIR" not in os.environ
    assert os.environ["WANDB_CACHE_DIR"] == "/mine/cache"
    assert os.environ["WANDB_CONFIG_DIR"] == "/mine/config"
