"""A Hydra callback that kills one job's process with SIGKILL as the job starts: after
Hydra made its folder and saved its ``.hydra`` files, before the task (and so before the
job notes its folder in the sweep's record). Reproduces a launcher's worker killed in that
window, which a kill from the task itself never reaches."""

from __future__ import annotations

import os
import signal
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class KillAtJobStart(Callback):
    """Kills job ``job`` (its Hydra job number) in ``on_job_start``."""

    def __init__(self, job: int) -> None:
        self.job = job

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.job.num == self.job:
            os.kill(os.getpid(), signal.SIGKILL)
