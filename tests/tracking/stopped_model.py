"""A test-only model whose run is stopped at a chosen moment, as a Ctrl-C or a scheduler's
SIGTERM stops one, or fails there with an error of its own: DLinear whose forward does what
``$STOPPED_MODEL`` says, ``<what>@<when>``. ``what``: ``SIGINT`` or ``SIGTERM`` (sent to
its own process) or ``error`` (a RuntimeError); ``when``: the number of a training step
(its forward in training mode, from 1), or ``scored``: its first forward out of training
once it has trained (the run's checks and scores after training; with ``cv=refit``, which
validates nothing while it trains). Select it with ``model=dlinear
model._target_=tests.tracking.stopped_model.StoppedDLinear``."""

from __future__ import annotations

import os
import signal

import torch

from tsbench.models.dlinear import DLinear

#: The environment variable that says what to do when (see the module's text).
STOPPED_MODEL = "STOPPED_MODEL"
_trained = 0  # training steps so far in this process


class StoppedDLinear(DLinear):
    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        global _trained
        what, _, when = os.environ.get(STOPPED_MODEL, "@").partition("@")
        _trained += self.training
        now = (str(_trained) == when if self.training
               else when == "scored" and _trained > 0)
        if now and what == "error":
            raise RuntimeError("the model's own error")
        if now and what:
            os.kill(os.getpid(), signal.Signals[what])
        return super().forward(x, x_mark)
