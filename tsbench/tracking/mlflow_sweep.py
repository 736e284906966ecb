"""A Hydra callback that groups a multirun's trials under one MLflow parent run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from tsbench.atomic import write_text
from tsbench.rundir import METRICS
from tsbench.search.checked import tells_checked
from tsbench.search.names import BEST_FILE, TRIALS_FILE, is_search
from tsbench.swept import sweeper_lines, swept_keys
from tsbench.tracking.children import SUMMARY_TAGS, Child, summary, table_names, table_of
from tsbench.tracking.mlflow_store import (
    PARENT_RUN_FILE,
    artifact_location,
    check_server,
    parent_run_id,
    store_opened_alone,
    tracking_uri,
)
from tsbench.tracking.run_names import parent_name

#: Files of a sweep directory logged as the parent run's artifacts when they exist.
SWEEP_ARTIFACTS = (
    BEST_FILE,
    TRIALS_FILE,
    "convergence.png",
    "objective.png",
    "evaluations.png",
    "optimization_results.yaml",
)


#: best.yaml's trial counts, logged as the parent's metrics.
COUNTS = ("trials_finished", "trials_pruned", "trials_failed")
#: The parent's tag naming where its search found the best configuration known: ``this
#: sweep`` (``best_objective``), or ``warm start`` (a trial of the warm-start file better
#: than every trial of the sweep: ``warm_start_best_objective``, best.yaml's
#: ``warm_start_best``).
BEST_FOUND_TAG = "tsbench.best_found_in"
#: MLflow's status of a run under way, and of one killed before its end.
RUNNING, KILLED = "RUNNING", "KILLED"
#: The tags linking a resumed search's new parent to the earlier one whose children it took
#: over (a search's parent that logged its result: its ``best.<name>`` params cannot change).
RESUMED_FROM_TAG, RESUMED_BY_TAG = "tsbench.resumed_from", "tsbench.resumed_by"
#: Runs asked of the store at a time: one page of ``search_runs`` (MLflow's own most).
PAGE = 1000


class MlflowSweepCallback(Callback):
    """Once the sweep's checks passed (:mod:`tsbench.search.checked`; at multirun start
    under another sweeper): create the parent run (a resumed sweep's: open its own again,
    or take over its children, :meth:`on_sweep_checked`), mark the runs a killed sweep left
    running in the folder as KILLED, and record the parent's id in the sweep directory
    (each trial's MLflow run reads it and becomes a child). On multirun end: log the
    sweep's result to the parent (:meth:`log_best`), its files (best.yaml, trials.csv,
    plots), and close it."""

    def __init__(
        self,
        experiment_name: str = "tsbench",
        tracking_uri: str | None = None,
        output_root: str = "outputs",
    ) -> None:
        self.experiment_name = experiment_name
        self.configured_uri = tracking_uri
        self.output_root = Path(output_root)
        self._client: Any = None
        self._run_id: str | None = None
        self._experiment_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Open the parent run now under a sweeper that does not tell when its checks
        passed (Hydra's basic one); tsbench's open it then (:meth:`on_sweep_checked`)."""
        if not tells_checked(config):
            self.on_sweep_checked(config)

    def on_sweep_checked(self, config: DictConfig) -> None:
        """Create the parent run, mark the runs the folder's earlier sweep left running as
        killed (:meth:`_killed`) and record the parent's id in the sweep directory. A
        resumed sweep opens its earlier parent again, so that it holds every trial and its
        result is over them all; where that parent logged a search's result (its
        ``best.<name>`` params, which MLflow does not let change), a new parent takes over
        its children instead (:meth:`_adopt`)."""
        from mlflow.tracking import MlflowClient

        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        uri = tracking_uri(self.configured_uri, self.output_root)
        check_server(uri)
        with store_opened_alone(uri):  # its tables, the experiment and the run, one by one
            self._client = MlflowClient(uri)
            experiment = self._client.get_experiment_by_name(self.experiment_name)
            experiment_id = (
                experiment.experiment_id
                if experiment
                else self._client.create_experiment(
                    self.experiment_name, artifact_location=artifact_location(uri)
                )
            )
            recorded = parent_run_id(sweep_dir)
            earlier = self._resumed(config, recorded, experiment_id)
            reopened = earlier is not None and not earlier.data.params
            if recorded is not None:
                self._killed(recorded, reopened)
            if reopened:
                self._client.update_run(earlier.info.run_id, status=RUNNING)
                self._run_id = earlier.info.run_id
            else:
                self._run_id = self._client.create_run(
                    experiment_id, run_name=_parent_name(config, sweep_dir),
                    tags={"tsbench.sweep_dir": str(sweep_dir.resolve()),
                          **({RESUMED_FROM_TAG: earlier.info.run_id} if earlier else {})},
                ).info.run_id
                if earlier is not None:
                    self._adopt(earlier.info.run_id, experiment_id)
        self._experiment_id = experiment_id
        write_text(sweep_dir / PARENT_RUN_FILE, self._run_id)

    def _resumed(self, config: DictConfig, earlier: str | None, experiment_id: str
                 ) -> Any:
        """The run of parent ``earlier`` of the sweep this one resumes
        (``hydra.sweeper.resume``). None for a new sweep, or a parent the store does not
        hold (deleted, another experiment's)."""
        from mlflow.exceptions import MlflowException

        sweeper = OmegaConf.select(config, "hydra.sweeper")
        if sweeper is None or not sweeper.get("resume") or earlier is None:
            return None
        try:
            run = self._client.get_run(earlier)
        except MlflowException:
            return None
        held = run.info.experiment_id == experiment_id and run.info.lifecycle_stage == "active"
        return run if held else None

    def _adopt(self, earlier: str, experiment_id: str) -> None:
        """Make the children of parent ``earlier`` (a search's that ended, its result
        logged) children of this sweep's new parent, so that it holds every trial, and
        link the two (:data:`RESUMED_FROM_TAG`, :data:`RESUMED_BY_TAG`)."""
        children = self._all_runs(experiment_id, f"tags.mlflow.parentRunId = '{earlier}'")
        for child in children:  # each page read before any moves: the pages shift
            self._client.set_tag(child.info.run_id, "mlflow.parentRunId", self._run_id)
        self._client.set_tag(earlier, RESUMED_BY_TAG, self._run_id)

    def _killed(self, earlier: str, reopened: bool) -> None:
        """Mark as KILLED the runs of the folder's earlier sweep (parent ``earlier``) still
        RUNNING: its children (jobs killed with it) and, unless ``reopened``, itself. Its
        sweep is over: this one holds the folder (a running sweep's lock refuses another).
        A child whose folder holds its ``metrics.json`` (written once its run was scored,
        before the run was closed) finished as the sweep died: FINISHED, as the resume
        counts it (not run again)."""
        from mlflow.exceptions import MlflowException

        try:
            parent = self._client.get_run(earlier).info
        except MlflowException:  # another store's, or deleted
            return
        children = self._all_runs(parent.experiment_id, f"tags.mlflow.parentRunId = "
                                  f"'{earlier}' and attributes.status = '{RUNNING}'")
        for child in children:  # each page read before any is marked: the pages shift
            folder = child.data.tags.get("tsbench.run_dir")
            ended = folder is not None and (Path(folder) / METRICS).is_file()
            self._client.set_terminated(child.info.run_id, "FINISHED" if ended else KILLED)
        if not reopened and parent.status == RUNNING:
            self._client.set_terminated(earlier, status=KILLED)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._client is None or self._run_id is None:
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        self.log_best(sweep_dir)
        self._log_files(sweep_dir)
        self._client.set_terminated(self._run_id)

    def on_sweep_failed(self, config: DictConfig) -> None:
        """The sweep ended by an error (a job's, or too many failed trials), for which
        Hydra calls no :meth:`on_multirun_end`: the parent ends FAILED, not left RUNNING
        for good, with the sweep's files as they are (its children ended as each run did).
        A resume opens it again as it opens a killed sweep's."""
        if self._client is None or self._run_id is None:
            return
        self._log_files(Path(config.hydra.sweep.dir))
        self._client.set_terminated(self._run_id, status="FAILED")

    def _log_files(self, sweep_dir: Path) -> None:
        """Attach the sweep's files (:data:`SWEEP_ARTIFACTS`) that exist to the parent."""
        for name in SWEEP_ARTIFACTS:
            if (sweep_dir / name).is_file():
                self._client.log_artifact(self._run_id, str(sweep_dir / name))

    def log_best(self, sweep_dir: Path) -> None:
        """The sweep's result on the parent: ``best.yaml``'s when a tsbench sweeper wrote it
        (:meth:`_log_best_yaml`), else what the child runs' ``objective`` tell
        (:func:`~tsbench.tracking.children.summary`: the best configuration by its mean
        over seeds, or the spread of one configuration's seeds). Only children of one table
        (:func:`~tsbench.tracking.children.table_of`) compare: where they span several,
        each table's is logged under its name (``best_objective/etth1/96``,
        ``tsbench.best_run_id/etth1/96``), and none over all. A resumed sweep's parent
        loses the tags its earlier end wrote that no longer hold (the best over all, once a
        child of another table joined)."""
        stamp = int(time.time() * 1000)
        best_file = sweep_dir / BEST_FILE
        if best_file.is_file():
            self._log_best_yaml(yaml.safe_load(best_file.read_text()), stamp)
            return
        children = self._all_runs(self._experiment_id,
                                  f"tags.mlflow.parentRunId = '{self._run_id}'")
        tables: dict[tuple[str, ...], list[Child]] = {}
        for run in children:
            if "objective" in run.data.metrics:  # a run killed before its end has none
                tables.setdefault(table_of(run.data.params), []).append(Child(
                    run.info.run_id, run.data.params, run.data.metrics["objective"],
                    run.info.start_time or 0))
        names = table_names(list(tables)) if len(tables) > 1 else {next(iter(tables), ()): ""}
        summaries = {names[table]: summary(runs) for table, runs in tables.items()}
        kept = {f"{tag}{name}" for name, (_, tags) in summaries.items() for tag in tags}
        for tag in self._client.get_run(self._run_id).data.tags:
            if tag.split("/")[0] in SUMMARY_TAGS and tag not in kept:
                self._client.delete_tag(self._run_id, tag)
        for name, (metrics, tags) in summaries.items():  # not log_batch: 100 tags at most
            for key, value in metrics.items():
                self._client.log_metric(self._run_id, f"{key}{name}", value, stamp)
            for key, value in tags.items():
                self._client.set_tag(self._run_id, f"{key}{name}", value)

    def _log_best_yaml(self, best: dict[str, Any], stamp: int) -> None:
        """best.yaml's main block, this sweep's best trial, as ``best_objective``, the best
        parameters as ``best.<name>`` params and ``tsbench.best_job_dir``; its trial counts
        as metrics. Where its ``warm_start_best`` leads it (a warm-start trial better than
        every trial of the sweep, the best configuration known), that trial beside it, as
        ``warm_start_best_objective``, ``warm_start_best.<name>`` params and tags naming
        its file, trial and folder (where found); :data:`BEST_FOUND_TAG` says which leads.
        A sweep with no best trial of its own (no main block: it ran none, the warm start
        having tried its points, or none ran its full budget) logs the warm-start trial
        and the counts alone."""
        from mlflow.entities import Metric, Param, RunTag

        warm = best.get("warm_start_best")
        metrics = {key: best[key] for key in COUNTS}
        params: dict[str, Any] = {}
        tags = {BEST_FOUND_TAG: "this sweep" if warm is None else "warm start"}
        if "objective" in best:  # this sweep's best trial
            metrics["best_objective"] = best["objective"]
            params |= {f"best.{k}": v for k, v in best["params"].items()}
            tags["tsbench.best_job_dir"] = best["job_dir"]
        if warm is not None:
            metrics["warm_start_best_objective"] = warm["objective"]
            params |= {f"warm_start_best.{k}": v for k, v in warm["params"].items()}
            tags |= {"tsbench.warm_start_file": warm["file"],
                     "tsbench.warm_start_best_trial": warm["trial"]}
            if warm["job_dir"]:
                tags["tsbench.warm_start_best_job_dir"] = warm["job_dir"]
        self._client.log_batch(
            self._run_id,
            metrics=[Metric(key, float(value), stamp, 0) for key, value in metrics.items()],
            params=[Param(key, str(value)) for key, value in params.items()],
            tags=[RunTag(key, str(value)) for key, value in tags.items()],
        )

    def _all_runs(self, experiment_id: Any, query: str) -> list[Any]:
        """Every run of ``experiment_id`` that ``query`` finds, page after page of
        :data:`PAGE` (one ``search_runs`` call stops at its page: a sweep of more
        children)."""
        runs: list[Any] = []
        token = None
        while True:
            page = self._client.search_runs([experiment_id], query, max_results=PAGE,
                                            page_token=token)
            runs += page
            token = page.token
            if not token:
                return runs


def _parent_name(config: DictConfig, sweep_dir: Path) -> str:
    """The parent's name: a search's or a plain sweep's, its folder, and what it sweeps
    (its sweeper's params and its command line, which the multirun's config holds)."""
    sweeper = OmegaConf.select(config, "hydra.sweeper")
    keys = swept_keys([*sweeper_lines(sweeper),
                       *OmegaConf.select(config, "hydra.overrides.task", default=[])])
    return parent_name(sweep_dir, keys, sweeper is not None and is_search(True, sweeper))
