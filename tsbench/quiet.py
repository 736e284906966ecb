"""Silence dependency messages that tell a tsbench user nothing."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from typing import Any

from omegaconf import OmegaConf

#: The warnings filter, for the processes this one starts, that silences joblib's (loky's)
#: resource tracker: when a sweep with worker processes is stopped it prints, under the
#: stop line, the semaphores and folders it then removes ("leaked ... objects to clean up").
RESOURCE_TRACKER = "ignore:resource_tracker:UserWarning"
#: The loggers of Hydra's joblib launcher plugin.
JOBLIB_LAUNCHER = "hydra_plugins.hydra_joblib_launcher"


def quiet_dependencies() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    given = os.environ.get("PYTHONWARNINGS", "")
    if RESOURCE_TRACKER not in given.split(","):  # the tracker is a process of its own
        os.environ["PYTHONWARNINGS"] = ",".join(w for w in (given, RESOURCE_TRACKER) if w)
    for pattern in (
        ".*LeafSpec.*",
        ".*litlogger.*",
        ".*does not have many workers.*",
        ".*Checkpoint directory .* exists and is not empty.*",
        ".*The number of training batches .* is smaller than the logging interval.*",
        ".*`isinstance\\(treespec, LeafSpec\\)` is deprecated.*",
        ".*You defined a `validation_step` but have no `val_dataloader`.*",
    ):
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("pytorch_lightning.utilities.rank_zero", "pytorch_lightning.accelerators.cuda",
                 "lightning.fabric.utilities.seed",
                 "pytorch_lightning.trainer.connectors.checkpoint_connector",
                 "torch._subclasses.fake_tensor"):  # its cache statistics, logged at exit
        logging.getLogger(name).setLevel(logging.WARNING)


def launches_with_joblib(config: Any) -> bool:
    """Whether a multirun's ``config`` launches with Hydra's joblib launcher, whose launch
    lines a tsbench sweeper quiets and stands in for (:func:`joblib_launch_lines_quieted`)."""
    return str(OmegaConf.select(config, "hydra.launcher._target_", default="")).endswith(
        "JoblibLauncher")


@contextlib.contextmanager
def joblib_launch_lines_quieted() -> Iterator[None]:
    """Hydra's joblib launcher logs three lines at every launch call (its ``Parallel``
    settings, the sweep folder, ``#0 : <every override>`` numbered within the call): a
    sweep that launches each trial alone repeats them per trial, with a job number that is
    not the trial's (a resume's or a split batch's jobs numbered from 0 again). Quieted to
    its warnings while the sweep runs, in the sweep's process alone (the sweep logs its own
    lines, with the jobs' numbers); as before afterwards."""
    logger = logging.getLogger(JOBLIB_LAUNCHER)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
