"""Silence dependency messages that tell a tsbench user nothing."""

from __future__ import annotations

import logging
import os
import warnings

#: The warnings filter, for the processes this one starts, that silences joblib's (loky's)
#: resource tracker: when a sweep with worker processes is stopped it prints, under the
#: stop line, the semaphores and folders it then removes ("leaked ... objects to clean up").
RESOURCE_TRACKER = "ignore:resource_tracker:UserWarning"


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
