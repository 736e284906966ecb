"""A test-only model that runs out of GPU memory: DLinear whose forward raises
``torch.cuda.OutOfMemoryError`` when its ``kernel_size`` is above ``TOO_BIG``, as a model
too big for the memory left on a shared GPU would, on any machine (no GPU needed).
Select it with ``model=dlinear model._target_=tests.training.oom_model.OutOfMemoryDLinear``."""

from __future__ import annotations

import weakref

import torch

from tsbench.models.dlinear import DLinear

#: Models with a larger kernel_size "do not fit".
TOO_BIG = 11
#: What torch says when an allocation fails (the figures are made up).
MESSAGE = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
           "139.80 GiB of which 1.06 GiB is free.")
#: Every instance alive in this process (to check that a failed run frees its model).
LIVE: weakref.WeakSet = weakref.WeakSet()


class OutOfMemoryDLinear(DLinear):
    def __init__(self, seq_len: int, pred_len: int, n_vars: int, kernel_size: int = 25,
                 individual: bool = False, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars, kernel_size, individual, revin)
        LIVE.add(self)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if self.decompose.kernel_size > TOO_BIG:
            raise torch.cuda.OutOfMemoryError(MESSAGE)
        return super().forward(x, x_mark)
