"""A test-only model whose worker process is killed mid-trial, as the kernel's out-of-memory
killer kills one: DLinear whose forward, in job :data:`KILLED_JOB` of a sweep, sends SIGKILL
to its own process once job :data:`FINISHED_FIRST` (the other trial of its batch) has
written its ``metrics.json``, so that the batch holds one killed and one finished trial
whatever the timing. Select it with ``model=dlinear
model._target_=tests.training.killed_model.KilledDLinear`` (other jobs train as DLinear)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig

from tsbench.models.dlinear import DLinear
from tsbench.rundir import METRICS

#: The job whose worker is killed, and the job whose run finishes before the kill.
KILLED_JOB, FINISHED_FIRST = 0, 1
#: How long the killed job waits for the other one at most.
WAIT_SECONDS = 120.0


class KilledDLinear(DLinear):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if HydraConfig.initialized() and HydraConfig.get().job.get("num") == KILLED_JOB:
            other = Path(HydraConfig.get().runtime.output_dir).parent / str(FINISHED_FIRST)
            deadline = time.monotonic() + WAIT_SECONDS
            while not (other / METRICS).is_file() and time.monotonic() < deadline:
                time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGKILL)
        return super().forward(x, x_mark)
