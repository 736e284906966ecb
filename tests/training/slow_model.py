"""A test-only model that trains slowly without using the CPU, for the signal tests: DLinear
whose forward sleeps the seconds that the environment variable :data:`SLOW_STEP` gives.
A trial is then still in Lightning's training loop when a test's signal lands, with no
need for hundreds of epochs, and a resume with the same command (the same config, which a
resume compares) but without the variable trains at DLinear's speed. Select it with
``SLOW_DLINEAR`` and the environment ``SLOW_ENV``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from tsbench.models.dlinear import DLinear

#: The environment variable holding a forward's sleep in seconds (unset: no sleep).
SLOW_STEP = "TSBENCH_TEST_SLOW_STEP"
#: The overrides that select the model.
SLOW_DLINEAR = ["model=dlinear", "model._target_=tests.training.slow_model.SlowDLinear"]
#: The environment that makes it slow, half a second a step, and importable by tsbench's
#: subprocess and its joblib workers (the repository on their path).
SLOW_ENV = {SLOW_STEP: "0.5", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


class SlowDLinear(DLinear):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        time.sleep(float(os.environ.get(SLOW_STEP, "0")))
        return super().forward(x, x_mark)
