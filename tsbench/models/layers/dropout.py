"""Dropout whose CPU masks are drawn fast, on all cores.

PyTorch's CPU dropout draws its mask with ``bernoulli_``: one double-precision variate per
element, on one thread (60 % of a PatchTST/42 training step in the reference code's
profile). Here each element gets 32 random bits from numpy's PCG64, filled in parallel
chunks that jump ahead in one stream (so a mask depends on its seed only, not on the
thread count), and torch's parallel elementwise kernels turn the bits into
``keep / (1 - p)``. An element is kept with probability ``1 - p``
(``p`` rounded to a multiple of 2**-32) and scaled by ``1 / (1 - p)``, as in
:func:`torch.nn.functional.dropout`. Each mask's seed comes from torch's default generator,
so ``torch.manual_seed`` fixes the masks. Off the CPU and under ``torch.compile`` (whose
kernels draw their own fused masks) this is :func:`torch.nn.functional.dropout`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: 64-bit draws below which one thread fills a whole mask (thread hand-off costs more).
MIN_CHUNK = 1 << 17


@cache
def _executor(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(workers, thread_name_prefix="tsbench-dropout")


def random_bits(count: int, seed: int, workers: int) -> np.ndarray:
    """The first ``count`` 64-bit outputs of ``PCG64(seed)``, filled by up to ``workers``
    threads (each jumps ahead to its chunk; numpy fills without holding the GIL)."""
    chunks = max(1, min(workers, count // MIN_CHUNK))
    if chunks == 1:
        return np.random.PCG64(seed).random_raw(count)
    out = np.empty(count, dtype=np.uint64)
    bounds = [count * i // chunks for i in range(chunks + 1)]

    def fill(start: int, end: int) -> None:
        stream = np.random.PCG64(seed)
        stream.advance(start)
        out[start:end] = stream.random_raw(end - start)

    spans = list(pairwise(bounds))
    futures = [_executor(chunks - 1).submit(fill, *span) for span in spans[1:]]
    fill(*spans[0])  # this thread fills the first chunk
    for future in futures:
        future.result()
    return out


def keep_threshold(p: float) -> int:
    """The signed 32-bit threshold ``t`` with P(uniform int32 >= t) = 1 - p (to 2**-32)."""
    return min(round(p * 2**32), 2**32 - 1) - 2**31


def dropout_noise(x: torch.Tensor, p: float) -> torch.Tensor:
    """A tensor like ``x`` holding ``1 / (1 - p)`` with probability ``1 - p``, else 0."""
    if x.device.type != "cpu":
        return torch.empty_like(x).bernoulli_(1.0 - p).div_(1.0 - p)
    n = x.numel()
    seed = int(torch.empty((), dtype=torch.int64).random_())
    words = random_bits((n + 1) // 2, seed, torch.get_num_threads())
    bits = torch.from_numpy(words.view(np.int32))[:n].view(x.shape)
    return bits.ge(keep_threshold(p)).to(x.dtype).mul_(1.0 / (1.0 - p))


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    if not training or p == 0.0:
        return x
    if not 0.0 < p < 1.0 or x.device.type != "cpu" or torch.compiler.is_compiling():
        return F.dropout(x, p, training)
    return x * dropout_noise(x, p)


class Dropout(nn.Module):
    """Drop-in for :class:`torch.nn.Dropout` built on :func:`dropout` (identity in eval)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
