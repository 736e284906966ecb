"""A sweep resumed after a kill, or refused, leaves the MLflow store telling the truth: the
runs the kill left RUNNING are marked KILLED, and a refused command neither reopens the
folder's parent run nor makes one of its own (its callback used to, before the sweeper's
checks: a refused resume left the parent RUNNING for good); a resumed parent's best tags
are those that hold now, and a resumed search's parent holds every trial's run. (A resumed
plain multirun's killed job: test_loggers.py's MLflow sweep test, on the sweep it makes.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, run_tsbench
from tests.tracking.stopped_model import STOPPED_MODEL
from tsbench.folder_lock import held
from tsbench.search.names import LOCK_FILE
from tsbench.tracking.children import CHILDREN_TAG, SEEDS_OF_ONE
from tsbench.tracking.mlflow_store import PARENT_RUN_FILE

#: A tiny sweep's trials logged to MLflow, one epoch each.
ARGS = [*(a for a in TINY if not a.startswith("logger")), "logger=mlflow",
        "trainer.max_epochs=1"]

#: A user's experiment preset of the tiny runs, at a horizon.
PRESET = """# @package _global_
defaults:
  - override /dataset: synthetic
  - override /model: dlinear
dataset:
  n_rows: 600
pred_len: {pred_len}
"""


def statuses(uri: str) -> dict[str, str]:
    """Each run of the store's ``tsbench`` experiment: its status, by run id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tsbench").experiment_id
    return {run.info.run_id: run.info.status for run in client.search_runs([experiment])}


def run_of(uri: str, job: Path) -> str:
    """The id of the MLflow run of the job in folder ``job``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tsbench").experiment_id
    [run] = client.search_runs([experiment],
                               f"tags.`tsbench.run_dir` = '{job.resolve()}'")
    return run.info.run_id


def children_of(uri: str, parent: str) -> dict[str, str]:
    """The children of run ``parent``: their ``tsbench.run_dir`` folders' names, by run id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tsbench").experiment_id
    return {run.info.run_id: Path(run.data.tags["tsbench.run_dir"]).name
            for run in client.search_runs([experiment],
                                          f"tags.mlflow.parentRunId = '{parent}'")}


def best_tags(uri: str, run_id: str) -> dict[str, str]:
    """The tags of run ``run_id`` naming a best child (``tsbench.best_run_id...``)."""
    from mlflow.tracking import MlflowClient

    tags = MlflowClient(uri).get_run(run_id).data.tags
    return {k: v for k, v in tags.items() if k.startswith("tsbench.best_run_id")}


def summary_tags(uri: str, run_id: str) -> dict[str, str]:
    """The tags of run ``run_id`` summing up its children (``tsbench.children...``)."""
    from mlflow.tracking import MlflowClient

    tags = MlflowClient(uri).get_run(run_id).data.tags
    return {k: v for k, v in tags.items() if k.startswith(CHILDREN_TAG)}


def killed_in(uri: str, *run_ids: str) -> None:
    """Leave ``run_ids`` as a kill of their processes does: RUNNING, never ended."""
    from mlflow.tracking import MlflowClient

    for run_id in run_ids:
        MlflowClient(uri).update_run(run_id, status="RUNNING")


@pytest.mark.heavy(seconds=25)
def test_a_resumed_search_marks_its_killed_runs_killed_and_a_refused_one_touches_none(
        tmp_path: Path, uri: str) -> None:
    from mlflow.tracking import MlflowClient

    env = {"MLFLOW_TRACKING_URI": uri}
    sweep = tmp_path / "sweep"
    search = [*(a for a in ARGS if not a.startswith("seq_len")), "hydra/sweeper=skopt",
              "hydra.sweeper.mode=random", "hydra.sweeper.random_state=0",
              "hydra.sweeper.resume=true"]
    args = [*search, "seq_len=choice(24,36,48)"]
    run_tsbench([*args, "hydra.sweeper.n_trials=2"], sweep, env=env, multirun=True)
    parent = (sweep / PARENT_RUN_FILE).read_text()
    running = run_of(uri, sweep / "1")  # as another sweep's trial, under way in the folder
    killed_in(uri, parent, running)
    before = statuses(uri)

    with held(sweep / LOCK_FILE, lambda pid: pid):  # that sweep holds the folder
        busy = run_tsbench([*args, "hydra.sweeper.n_trials=3"], sweep, env=env,
                           multirun=True, check=False)
    assert busy.returncode == 2 and "another sweep" in busy.stderr
    assert statuses(uri) == before  # its runs left running, no parent made
    assert (sweep / PARENT_RUN_FILE).read_text() == parent  # its trials' parent kept
    other = run_tsbench([*search, "seq_len=choice(24,48)", "hydra.sweeper.n_trials=3"],
                        sweep, env=env, multirun=True, check=False)  # another search
    assert other.returncode == 2 and "different search" in other.stderr
    assert statuses(uri) == before and (sweep / PARENT_RUN_FILE).read_text() == parent

    run_tsbench([*args, "hydra.sweeper.n_trials=3"], sweep, env=env, multirun=True)
    after = statuses(uri)  # that sweep was killed as it ended, its best params logged
    assert after[parent] == "KILLED"
    assert after[running] == "FINISHED"  # its trial had written metrics.json: recorded
    resumed = (sweep / PARENT_RUN_FILE).read_text()  # so a new parent, which MLflow lets
    assert resumed != parent and after[resumed] == "FINISHED"  # log the best now known
    assert after[run_of(uri, sweep / "2")] == "FINISHED"
    assert sorted(children_of(uri, resumed).values()) == ["0", "1", "2"]  # every trial
    assert children_of(uri, parent) == {}
    client = MlflowClient(uri)
    assert client.get_run(resumed).data.tags["tsbench.resumed_from"] == parent
    assert client.get_run(parent).data.tags["tsbench.resumed_by"] == resumed


def test_every_page_of_killed_children_is_marked_killed_and_scored(
        tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ``search_runs`` call returns one page (1000 runs): a killed sweep of more children
    had only the first page marked KILLED, and its best looked for there alone. Pages of 2
    here, over 5 children: marking each page as it came would shift the next one."""
    from mlflow.tracking import MlflowClient

    from tsbench.tracking import mlflow_sweep

    monkeypatch.setattr(mlflow_sweep, "PAGE", 2)
    client = MlflowClient(uri)
    experiment = client.create_experiment("tsbench")
    parent = client.create_run(experiment).info.run_id
    children = [client.create_run(experiment, start_time=1000 + i,  # newest first: the
                                  tags={"mlflow.parentRunId": parent}).info.run_id
                for i in range(5)]  # first child is on the last page, the best of them
    for objective, child in enumerate(children):
        client.log_param(child, "seq_len", objective)  # five configurations
        client.log_metric(child, "objective", float(objective))
    callback = mlflow_sweep.MlflowSweepCallback()
    callback._client, callback._run_id, callback._experiment_id = client, parent, experiment
    callback._killed(parent, reopened=False)
    assert statuses(uri) == {run_id: "KILLED" for run_id in [parent, *children]}
    callback.log_best(tmp_path)
    best = client.get_run(parent).data
    assert best.metrics["best_objective"] == 0.0
    assert best.tags["tsbench.best_run_id"] == children[0]


@pytest.mark.heavy(seconds=25)
def test_a_resumed_multirun_over_a_new_table_drops_the_parents_stale_best_tag(
        tmp_path: Path, uri: str) -> None:
    """A preset edited since (pred_len 12 -> 24), a job to run again and resume=force: that
    job's new child is another table's, so the parent's best over all, written by the first
    run's end, no longer holds and goes: pred_len 12 names its best (job 1's first run is
    still its child), pred_len 24, one run, its summary."""
    env = {"MLFLOW_TRACKING_URI": uri}
    sweep, preset = tmp_path / "sweep", tmp_path / "conf" / "experiment" / "horizon.yaml"
    preset.parent.mkdir(parents=True)
    preset.write_text(PRESET.format(pred_len=12))
    args = [*(a for a in ARGS if not a.startswith(("dataset", "model", "pred_len", "seq_len"))),
            "experiment=horizon", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
            "seq_len=36,48"]
    run_tsbench([*args, "hydra.sweeper.resume=true"], sweep, env=env, multirun=True)
    parent = (sweep / PARENT_RUN_FILE).read_text()
    [best] = best_tags(uri, parent).values()  # one table: the best over all

    preset.write_text(PRESET.format(pred_len=24))
    (sweep / "1" / "metrics.json").unlink()
    run_tsbench([*args, "hydra.sweeper.resume=force"], sweep, env=env, multirun=True)
    assert (sweep / PARENT_RUN_FILE).read_text() == parent
    assert best_tags(uri, parent) == {"tsbench.best_run_id/synthetic/12": best}
    assert summary_tags(uri, parent) == {"tsbench.children/synthetic/24": SEEDS_OF_ONE}


@pytest.mark.heavy(seconds=25)
def test_a_pruned_trials_run_carries_its_protocol_and_is_closed(tmp_path: Path, uri: str
                                                                 ) -> None:
    """A trial the sweep prunes ends its MLflow run as a finished one does: FINISHED, with
    its protocol card (how it was stopped) as params, not left RUNNING without one."""
    from mlflow.tracking import MlflowClient

    sweep = tmp_path / "sweep"
    run_tsbench([*(a for a in ARGS if not a.startswith("trainer.max_epochs")),
                 "trainer.max_epochs=3", "hydra/sweeper=skopt", "hydra.sweeper.mode=random",
                 "hydra.sweeper.random_state=0", "hydra.sweeper.n_trials=3",
                 "optim.lr=choice(0.01,1e-7,2e-7)", "hydra.sweeper.pruner.kind=asha",
                 "hydra.sweeper.pruner.min_epochs=2"], sweep, env={"MLFLOW_TRACKING_URI": uri},
                multirun=True)
    pruned = [job for job in sorted(sweep.iterdir()) if (job / "metrics.json").is_file()
              and '"pruned": true' in (job / "metrics.json").read_text()]
    assert pruned, "the setup needs a pruned trial"
    client = MlflowClient(uri)
    for job in pruned:
        run = client.get_run(run_of(uri, job))
        assert run.info.status == "FINISHED"
        assert run.data.params["protocol.pruned.at_epoch"] == "2"
        # a column to filter and sort the runs by, not an early objective beside full ones
        assert run.data.metrics["pruned_at_epoch"] == 2 and "objective" not in run.data.metrics


@pytest.mark.heavy(seconds=25)
def test_a_search_stopped_by_ctrl_c_and_resumed_keeps_every_trial_under_one_parent(
        tmp_path: Path, uri: str) -> None:
    """``kill -INT`` mid-search, then its resume: the killed sweep's parent, which logged no
    result, is opened again and ends holding every trial's run, the trial the signal broke
    off unfinished beside its relaunch's; its counts and best are over the trials it holds.
    (The resume used to open a new parent holding only its own trials.) The trials run in
    the sweep's process and train a DLinear that sends that process SIGINT at its 7th
    training step (tests/tracking/stopped_model.py): 2 steps an epoch, 2 epochs, so trial 0
    has ended and trial 1, its first epoch checkpointed, is training, with no race against
    a watching test nor CPU-bound epochs to make room for one; the resume is the same
    command without the signal."""
    from mlflow.tracking import MlflowClient

    sweep = tmp_path / "sweep"
    args = [*(a for a in ARGS if not a.startswith(("seq_len", "trainer.max_epochs"))),
            "model._target_=tests.tracking.stopped_model.StoppedDLinear",
            "trainer.limit_train_batches=2", "trainer.max_epochs=2", "hydra/sweeper=skopt",
            "hydra.sweeper.mode=random", "hydra.sweeper.random_state=0",
            "hydra.sweeper.n_trials=3", "seq_len=choice(24,36,48)", f"hydra.sweep.dir={sweep}"]
    env = {"MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT), STOPPED_MODEL: "SIGINT@7"}
    proc = run_tsbench(args, sweep, env=env, multirun=True, check=False)  # it stops itself
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert (sweep / "1" / "checkpoints").is_dir()  # trial 1 was training, its run open
    parent = (sweep / PARENT_RUN_FILE).read_text()
    assert statuses(uri)[parent] == "RUNNING"  # the kill left it under way

    run_tsbench([*args, "hydra.sweeper.resume=true"], sweep,
                env={"MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT), STOPPED_MODEL: ""},
                multirun=True)
    assert (sweep / PARENT_RUN_FILE).read_text() == parent
    runs = statuses(uri)
    assert runs[parent] == "FINISHED"
    assert [run for run in runs if run != parent and run not in children_of(uri, parent)
            ] == []  # no other parent, no trial elsewhere
    client = MlflowClient(uri)
    scored = {job: client.get_run(run).data.metrics["objective"]
              for run, job in children_of(uri, parent).items()
              if "objective" in client.get_run(run).data.metrics}
    best = client.get_run(parent).data.metrics
    assert sorted(scored) == ["0", "2", "3"]  # job 1 broken off, its trial relaunched as 2
    assert runs[run_of(uri, sweep / "1")] != "FINISHED"
    names = {job: client.get_run(run).info.run_name
             for run, job in children_of(uri, parent).items()}
    assert [names[job].split(":")[0] for job in ("0", "1", "2", "3")] == [
        "trial 1", "trial 2", "trial 2", "trial 3"]  # the relaunch named as its trial
    assert names["1"] == names["2"]
    assert best["trials_finished"] == len(scored)
    assert best["best_objective"] == min(scored.values())  # over the trials it holds
