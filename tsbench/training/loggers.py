"""Lightning loggers chosen by ``logger=``: csv (default), tensorboard, mlflow, wandb, none."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from pytorch_lightning.loggers import CSVLogger, Logger, TensorBoardLogger

from tsbench.errors import ConfigError
from tsbench.resolvers import data_name
from tsbench.rundir import ARTIFACTS, LOGS, METRICS, TENSORBOARD
from tsbench.search.job_folder import WRITTEN_BY
from tsbench.tracking.mlflow_run import MlflowRunLogger
from tsbench.tracking.run_names import job_run_name
from tsbench.tracking.tensorboard_run import TensorBoardRunLogger
from tsbench.tracking.wandb_run import WandbRunLogger, wandb_logger
from tsbench.training.protocol import flat_params

log = logging.getLogger(__name__)

LOGGERS = ("csv", "tensorboard", "mlflow", "wandb", "none")


def build_logger(cfg: Any, run_dir: Path) -> Logger | bool:
    """The run's logger; an MLflow run logs the config as params (``optim.lr``) and becomes a
    child of its sweep's parent run when there is one, named by the values its job sweeps
    (:mod:`tsbench.tracking.run_names`)."""
    name = str(cfg.logger.name)
    if name == "csv":
        return CSVLogger(save_dir=str(run_dir), name=LOGS, version="")
    if name == "tensorboard":  # no placeholder hp_metric: the run's scores come at its end
        return TensorBoardRunLogger(save_dir=str(run_dir), name=TENSORBOARD, version="",
                                    default_hp_metric=False)
    if name == "mlflow":
        return _mlflow_logger(cfg, run_dir)
    if name == "wandb":
        return wandb_logger(cfg, run_dir)
    if name == "none":
        return False
    raise ConfigError("logger", f"unknown logger '{name}'", f"use one of {LOGGERS}")


def _mlflow_logger(cfg: Any, run_dir: Path) -> Logger:
    try:
        from mlflow.exceptions import MlflowException

        from tsbench.tracking.mlflow_store import (
            artifact_location,
            check_server,
            parent_run_id,
            refused,
            store_opened_alone,
            tracking_uri,
        )
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "logger", "MLflow is not installed", "pip install 'tsbench[mlflow]'"
        ) from None
    parent = parent_run_id(run_dir.parent)
    uri = tracking_uri(cfg.logger.tracking_uri, Path(str(cfg.logger.output_root)))
    check_server(uri)
    try:  # the store is opened here, before any training
        with store_opened_alone(uri):  # its tables, the experiment and the run, one by one
            logger = MlflowRunLogger(
                experiment_name=str(cfg.logger.experiment_name),
                # a multirun's child by the values it sweeps; else the seed named (a
                # seed sweep's job folders 0, 1, ... are not its seeds)
                run_name=job_run_name() or (
                    f"{cfg.model.name}-{data_name(cfg.dataset)}-{cfg.pred_len}-seed{cfg.seed}-"
                    f"{run_dir.name}"),
                tracking_uri=uri, artifact_location=artifact_location(uri),
                tags={"tsbench.run_dir": str(run_dir.resolve()),
                      **({"mlflow.parentRunId": parent} if parent else {})},
            )
            _ = logger.experiment  # opens the store, finds or creates the experiment and run
        # dotted names as the command line and the protocol params spell them (optim.lr)
        logger.log_hyperparams(flat_params(OmegaConf.to_container(cfg, resolve=True)))
    except MlflowException as error:
        raise refused(uri, error) from None
    return logger


#: Entries of metrics.json that are settings, not measurements (the config has them), and
#: the Hydra job that wrote it (a resume's check).
NOT_MEASURED = ("seed", "threads", "step", WRITTEN_BY)


def log_final_metrics(logger: Logger | bool, metrics: dict[str, Any], cfg: Any) -> None:
    """Record the scalar end-of-run metrics with the run's logger; TensorBoard's beside the
    run's resolved config (its HParams tab then compares the runs of a sweep)."""
    if not logger:
        return
    scalars = {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in NOT_MEASURED
    }
    if isinstance(logger, WandbRunLogger):
        logger.log_summary(scalars)  # a W&B run's final values are its summary
        return
    if isinstance(logger, TensorBoardLogger):
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True), metrics=scalars)
        # its first save, during training, wrote hparams.yaml empty, and save() keeps a file
        Path(logger.log_dir, logger.NAME_HPARAMS_FILE).unlink(missing_ok=True)
    else:
        logger.log_metrics(scalars)
    logger.save()


def log_protocol(logger: Logger | bool, card: dict[str, Any]) -> None:
    """Record the run's protocol card as MLflow params or W&B config entries
    (``protocol.<field>...``), or as TensorBoard's ``protocol`` text (its JSON)."""
    if isinstance(logger, (WandbRunLogger, MlflowRunLogger)):
        logger.log_hyperparams(flat_params(card, "protocol"))
    elif isinstance(logger, TensorBoardLogger):  # one hparams record per run: the config's
        text = json.dumps(card, indent=2, sort_keys=True)  # as protocol.json holds it
        logger.experiment.add_text("protocol", f"```json\n{text}\n```")


def log_artifacts(logger: Logger | bool, run_dir: Path) -> None:
    """Attach the run's outputs to an MLflow or W&B run and close it."""
    if isinstance(logger, WandbRunLogger):
        logger.finish(run_dir)
    if isinstance(logger, MlflowRunLogger):
        for name in ARTIFACTS:
            if (run_dir / name).is_file():
                logger.experiment.log_artifact(logger.run_id, str(run_dir / name))
        logger.end()


def end_broken_off(logger: Logger | bool, error: BaseException, run_dir: Path) -> None:
    """End the MLflow run of a run in ``run_dir`` that ``error`` broke off: KILLED for a
    stop from outside (Ctrl-C, SIGTERM), with the epoch it reached; FAILED for an error of
    its own (:meth:`MlflowRunLogger.end_broken_off`); FINISHED where its ``metrics.json``
    was written (it finished, only its files' upload was cut short: a resumed sweep counts
    it). A store that fails here is said in one warning: the run's own error is raised."""
    if not isinstance(logger, MlflowRunLogger):
        return
    try:
        if (run_dir / METRICS).is_file():
            logger.end()
        else:
            logger.end_broken_off(error)
    except Exception as failed:  # the run's error, not this one, is the one raised
        log.warning("MLflow: the broken-off run %s could not be ended (%s): it stays RUNNING",
                    logger.run_id, " ".join(str(failed).split())[:200])
