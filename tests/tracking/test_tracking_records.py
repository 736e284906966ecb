"""What the trackers record and where: a sweep's MLflow parent with best.yaml's counts under
their own names and, without best.yaml, the best finite child; W&B's files under logger.dir
before $WANDB_DIR, and a W&B folder the user set kept while the run starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from tests.conftest import TINY, run_tsbench
from tests.search.conftest import multirun
from tests.tracking import test_wandb
from tsbench.tracking import wandb_run
from tsbench.tracking.mlflow_store import PARENT_RUN_FILE
from tsbench.tracking.mlflow_sweep import MlflowSweepCallback
from tsbench.tracking.wandb_run import _inside
from tsbench.training import loggers

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


def test_a_warm_start_trial_that_beats_the_sweep_is_on_its_parent(tmp_path: Path) -> None:
    """A warm-started search whose every trial is worse than the warm-start file's best: the
    parent keeps this sweep's best (best.yaml's main block) as ``best_objective`` and logs
    the warm-start trial beside it, tagged as the best known and where it was found, not
    the sweep's best alone as if it were the best."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracked = ["+hydra.callbacks.mlflow_sweep._target_=tsbench.tracking.mlflow_sweep."
               "MlflowSweepCallback", f"+hydra.callbacks.mlflow_sweep.tracking_uri={store}",
               f"+hydra.callbacks.mlflow_sweep.output_root={tmp_path}"]
    multirun(tmp_path / "rs", "x=choice(0.3, -0.9)", "kind=a,b", "hydra.sweeper.mode=random",
             "hydra.sweeper.n_trials=4")  # every point, the best (0.3, a) among them
    warm = tmp_path / "rs" / "trials.csv"
    multirun(tmp_path / "bo", "x=choice(0.3, -0.9, -0.8)", "kind=a,b", *tracked,
             "hydra.sweeper.n_trials=2", "hydra.sweeper.n_initial_points=0",
             f"hydra.sweeper.warm_start={warm}")  # only worse points left
    best = yaml.safe_load((tmp_path / "bo" / "best.yaml").read_text())
    ahead = best["warm_start_best"]
    parent = MlflowClient(store).get_run((tmp_path / "bo" / PARENT_RUN_FILE).read_text()).data
    assert parent.metrics == {"best_objective": best["objective"],
                              "warm_start_best_objective": ahead["objective"],
                              "trials_finished": 2, "trials_pruned": 0, "trials_failed": 0}
    assert ahead["objective"] < best["objective"] and ahead["job_dir"]  # its folder found
    assert parent.params == {"best.x": "-0.8", "best.kind": best["params"]["kind"],
                             "warm_start_best.x": "0.3", "warm_start_best.kind": "a"}
    assert {k: v for k, v in parent.tags.items() if k.startswith("tsbench.")} == {
        "tsbench.sweep_dir": str((tmp_path / "bo").resolve()),
        "tsbench.best_found_in": "warm start", "tsbench.best_job_dir": best["job_dir"],
        "tsbench.warm_start_file": str(warm),
        "tsbench.warm_start_best_trial": str(ahead["trial"]),
        "tsbench.warm_start_best_job_dir": ahead["job_dir"]}


def test_a_warm_start_that_left_the_sweep_no_trial_is_on_its_parent(tmp_path: Path) -> None:
    """A warm-started search that runs no trial (the warm start had tried every point):
    its best.yaml names the warm-start file's best, and the parent logs that result as the
    warm start's, with this sweep's counts (none ran) and no best of its own."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracked = ["+hydra.callbacks.mlflow_sweep._target_=tsbench.tracking.mlflow_sweep."
               "MlflowSweepCallback", f"+hydra.callbacks.mlflow_sweep.tracking_uri={store}",
               f"+hydra.callbacks.mlflow_sweep.output_root={tmp_path}"]
    space = ["x=choice(0.3, -0.9)", "kind=a,b"]
    multirun(tmp_path / "rs", *space, "hydra.sweeper.mode=random",
             "hydra.sweeper.n_trials=4")  # every point, the best (0.3, a) among them
    warm = tmp_path / "rs" / "trials.csv"
    multirun(tmp_path / "bo", *space, *tracked, "hydra.sweeper.n_trials=2",
             "hydra.sweeper.n_initial_points=0", f"hydra.sweeper.warm_start={warm}")
    ahead = yaml.safe_load((tmp_path / "bo" / "best.yaml").read_text())["warm_start_best"]
    run = MlflowClient(store).get_run((tmp_path / "bo" / PARENT_RUN_FILE).read_text())
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"warm_start_best_objective": ahead["objective"],
                                "trials_finished": 0, "trials_pruned": 0, "trials_failed": 0}
    assert run.data.params == {"warm_start_best.x": "0.3", "warm_start_best.kind": "a"}
    assert {k: v for k, v in run.data.tags.items() if k.startswith("tsbench.")} == {
        "tsbench.sweep_dir": str((tmp_path / "bo").resolve()),
        "tsbench.best_found_in": "warm start", "tsbench.warm_start_file": str(warm),
        "tsbench.warm_start_best_trial": str(ahead["trial"]),
        "tsbench.warm_start_best_job_dir": ahead["job_dir"]}


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
        client.log_param(child.info.run_id, "seq_len", offset)  # four configurations
        client.log_metric(child.info.run_id, "objective", objective)
        client.set_terminated(child.info.run_id)
        children[objective] = child.info.run_id
    callback.on_multirun_end(config)
    parent = client.get_run(parent_id)
    assert parent.data.metrics == {"best_objective": 0.3}
    assert parent.data.tags["tsbench.best_run_id"] == children[0.3]


def test_a_multirun_over_tables_names_a_best_child_per_table(tmp_path: Path) -> None:
    """Children of other datasets or horizons (another table of tsbench-report) are not
    compared: the parent's best is each table's, named after it, and no best over all."""
    callback, config, sweep_dir = _sweep(tmp_path)
    client, parent_id = callback._client, callback._run_id
    experiment_id = client.get_run(parent_id).info.experiment_id
    children = {}
    for name, path, pred_len, objective in (
            ("etth1", "/d/ETTh1.csv", 96, 0.4), ("etth1", "/d/ETTh1.csv", 96, 0.5),
            ("etth1", "/d/ETTh1.csv", 192, 0.45), ("etth1", "/d/ETTh1.csv", 192, 0.55),
            ("ili", "/d/ili.csv", 96, 2.0), ("ili", "/d/ili.csv", 96, 2.5),
            ("csv", "/a/sales.csv", 96, 0.1), ("csv", "/a/sales.csv", 96, 0.15),
            ("csv", "/b/sales.csv", 96, 0.2), ("csv", "/b/sales.csv", 96, 0.25)):
        child = client.create_run(experiment_id, tags={"mlflow.parentRunId": parent_id})
        for key, value in (("dataset.name", name), ("dataset.path", path),
                           ("pred_len", pred_len), ("seq_len", objective)):
            client.log_param(child.info.run_id, key, value)
        client.log_metric(child.info.run_id, "objective", objective)
        client.set_terminated(child.info.run_id)
        children[objective] = child.info.run_id
    callback.on_multirun_end(config)
    parent = client.get_run(parent_id)
    assert parent.data.metrics == {
        "best_objective/etth1/96": 0.4, "best_objective/etth1/192": 0.45,
        "best_objective/ili/96": 2.0, "best_objective/a/sales.csv/96": 0.1,
        "best_objective/b/sales.csv/96": 0.2}
    assert {k: v for k, v in parent.data.tags.items() if "best" in k} == {
        "tsbench.best_run_id/etth1/96": children[0.4],
        "tsbench.best_run_id/etth1/192": children[0.45],
        "tsbench.best_run_id/ili/96": children[2.0],
        "tsbench.best_run_id/a/sales.csv/96": children[0.1],
        "tsbench.best_run_id/b/sales.csv/96": children[0.2]}


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


def test_a_sweeps_parent_holds_its_trials_csv(tmp_path: Path) -> None:
    """The sweep's files are the parent run's artifacts: best.yaml and trials.csv."""
    callback, config, sweep_dir = _sweep(tmp_path)
    (sweep_dir / "best.yaml").write_text(yaml.safe_dump({
        "objective": 0.5, "trials_finished": 1, "trials_pruned": 0, "trials_failed": 0,
        "params": {"seq_len": 48}, "job_dir": str(sweep_dir / "0")}))
    (sweep_dir / "trials.csv").write_text("trial,status,objective\n0,ok,0.5\n")
    callback.on_multirun_end(config)
    names = {a.path for a in callback._client.list_artifacts(callback._run_id)}
    assert {"best.yaml", "trials.csv"} <= names


class _Started:
    """Stands in for the W&B logger: records what the run would start with."""

    runs: list[dict] = []

    def __init__(self, **settings: object) -> None:
        _Started.runs.append(settings)

    @property
    def experiment(self) -> None:
        return None


class _LeftOpen:
    """A W&B run a failed trial of this process left open."""

    def __init__(self) -> None:
        self.exit_codes: list[int | None] = []

    def finish(self, exit_code: int | None = None) -> None:
        self.exit_codes.append(exit_code)


def _start_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **logger: object) -> dict:
    """The settings :func:`wandb_logger` starts a run of a multirun (sweep ``sweep_7``)
    with, W&B's logger stubbed; the config's ``copy`` interpolates its ``lr``."""
    monkeypatch.setattr(wandb_run, "WandbRunLogger", _Started)
    monkeypatch.setattr(wandb_run, "_hydra_job", lambda: (tmp_path / "sweep_7", ["lr=0.1"]))
    cfg = OmegaConf.create({
        "logger": {"mode": None, "dir": str(tmp_path), "group": None, "project": "p",
                   "entity": None, "tags": [], **logger},
        "model": {"name": "m"}, "dataset": {"name": "d"}, "pred_len": 24, "lr": 0.1,
        "copy": "${lr}"})
    _Started.runs = []
    wandb_run.wandb_logger(cfg, tmp_path / "sweep_7" / "0")
    return _Started.runs[0]


def test_wandb_settings_win_over_the_environment_and_the_sweeps_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """logger.mode wins over $WANDB_MODE, logger.group over the sweep folder's name; either
    unset, the environment's mode and the sweep's group. The config is logged resolved."""
    monkeypatch.setattr(pytest.importorskip("wandb"), "run", None)  # none left open
    monkeypatch.setenv("WANDB_MODE", "disabled")
    mine = _start_wandb(tmp_path, monkeypatch, mode="offline", group="mine")
    assert mine["mode"] == "offline" and mine["group"] == "mine"
    assert mine["config"]["copy"] == 0.1 and mine["config"]["overrides"] == ["lr=0.1"]
    unset = _start_wandb(tmp_path, monkeypatch)
    assert unset["mode"] == "disabled" and unset["group"] == "sweep_7"


def test_a_wandb_run_left_open_by_a_failed_trial_is_closed_as_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wandb = pytest.importorskip("wandb")
    left = _LeftOpen()
    monkeypatch.setattr(wandb, "run", left)
    _start_wandb(tmp_path, monkeypatch, mode="offline")
    assert left.exit_codes == [1]


def test_mlflow_logs_the_resolved_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """A config value that interpolates another is logged as its value, under the key an
    override names it by (``logger.experiment_name``), as MLflow keeps it: a string."""
    pytest.importorskip("mlflow")
    logged: list[dict] = []

    class Recorded:
        experiment = None  # the store, opened under its lock

        def __init__(self, **settings: object) -> None:
            pass

        def log_hyperparams(self, params: dict) -> None:
            logged.append(params)

    monkeypatch.setattr(loggers, "MlflowRunLogger", Recorded)
    cfg = OmegaConf.create({
        "logger": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
                   "output_root": str(tmp_path), "experiment_name": "e"},
        "model": {"name": "m"}, "dataset": {"name": "d"}, "pred_len": 24, "seed": 1,
        "lr": 0.1, "copy": "${lr}"})
    loggers._mlflow_logger(cfg, tmp_path / "run")
    assert logged[0]["copy"] == "0.1"
    assert logged[0]["logger.experiment_name"] == "e"


def test_tensorboard_logs_the_resolved_config_beside_the_scores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The HParams tab's config has an interpolated value as that value."""
    logged: list[tuple[dict, dict]] = []

    class Recorded:
        log_dir, NAME_HPARAMS_FILE = str(tmp_path), "hparams.yaml"

        def log_hyperparams(self, params: dict, metrics: dict) -> None:
            logged.append((params, metrics))

        def save(self) -> None:
            pass

    monkeypatch.setattr(loggers, "TensorBoardLogger", Recorded)
    cfg = OmegaConf.create({"lr": 0.1, "copy": "${lr}"})
    loggers.log_final_metrics(Recorded(), {"test_mse": 0.5, "seed": 1}, cfg)
    assert logged == [({"lr": 0.1, "copy": 0.1}, {"test_mse": 0.5})]
