"""Dropout whose CPU masks are drawn fast.

PyTorch's CPU dropout draws its mask with ``bernoulli_``: one double-precision variate per
element, on one thread (most of a PatchTST/42 training step in the reference code's profile:
``benchmarks/RESULTS-throughput.md``). Here each element gets one random byte from a PCG64
stream, filled in parallel chunks that jump ahead in one stream (so a mask depends on its
seed only, not on the thread count): a byte below ``k = floor(256 p)`` drops its element,
and of the rest each is dropped with the small remaining probability ``q = (p - k/256) / (1
- k/256)``, whose rare positions are drawn by geometric skips (one draw per extra drop, not
one per element). An element is thus dropped with probability ``p`` (to float64 rounding)
and a kept one scaled by ``1 / (1 - p)``, as in :func:`torch.nn.functional.dropout`. Eight
times fewer random bits than one 32-bit word per element: on the CPU a training step spends
less on drawing them than on using them. Each mask's seed comes from torch's default
generator, so ``torch.manual_seed`` fixes the masks. Inside :meth:`PassMasks.drawing` (a
training forward pass) the masks of the whole pass come from one draw per rate: see
:class:`PassMasks`. Off the CPU and under ``torch.compile`` (whose kernels draw their own
fused masks) and with ``trainer.fast_kernels=false`` this is
:func:`torch.nn.functional.dropout`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsbench.models.layers import kernels

#: 64-bit draws below which one thread fills a whole mask (thread hand-off costs more).
MIN_CHUNK = 1 << 17

_MASK64 = (1 << 64) - 1
#: The PCG64 increment (stream constant, odd) of every mask's stream.
_INCREMENT = 0xDA3E39CB94B95BDB_5851F42D4C957F2D
_threads = threading.local()


@cache
def _executor(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(workers, thread_name_prefix="tsbench-dropout")


def _splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _thread_generator() -> np.random.Generator:
    """This thread's generator (a PCG64 underneath), built once: building one costs
    several times more inside a training step than out of it."""
    numbers = getattr(_threads, "numbers", None)
    if numbers is None:
        numbers = _threads.numbers = np.random.Generator(np.random.PCG64(0))
    return numbers


def stream(seed: int, offset: int = 0) -> np.random.PCG64:
    """This thread's PCG64, set to output ``offset`` of the stream of ``seed`` (its 128-bit
    state is SplitMix64-hashed from the seed)."""
    generator = _thread_generator().bit_generator
    high = _splitmix64(seed & _MASK64)
    generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (high << 64) | _splitmix64(high), "inc": _INCREMENT},
        "has_uint32": 0,
        "uinteger": 0,
    }
    if offset:
        generator.advance(offset)
    return generator


def random_bits(count: int, seed: int, workers: int) -> np.ndarray:
    """The first ``count`` 64-bit outputs of ``stream(seed)``, filled by up to ``workers``
    threads (each jumps ahead to its chunk; numpy fills without holding the GIL). Leaves
    this thread's generator at output ``count``: it fills the last chunk."""
    chunks = max(1, min(workers, count // MIN_CHUNK))
    if chunks == 1:
        return stream(seed).random_raw(count)
    out = np.empty(count, dtype=np.uint64)
    bounds = [count * i // chunks for i in range(chunks + 1)]

    def fill(start: int, end: int) -> None:
        out[start:end] = stream(seed, start).random_raw(end - start)

    spans = list(pairwise(bounds))
    futures = [_executor(chunks - 1).submit(fill, *span) for span in spans[:-1]]
    fill(*spans[-1])
    for future in futures:
        future.result()
    return out


def extra_drops(n: int, q: float, numbers: np.random.Generator) -> np.ndarray:
    """The increasing positions in ``range(n)`` where independent Bernoulli(``q``) draws
    come up 1, found by geometric skips: one draw per success, not one per element."""
    if q <= 0.0:
        return np.empty(0, dtype=np.int64)
    found: list[np.ndarray] = []
    last = -1
    while last < n:
        expected = (n - last) * q
        gaps = numbers.geometric(q, int(expected + 6 * expected**0.5) + 16)
        gaps[0] += last  # gaps count trials: the first success is at last + gaps[0]
        found.append(np.cumsum(gaps, out=gaps))
        last = int(found[-1][-1])
    positions = np.concatenate(found) if len(found) > 1 else found[0]
    return positions[: np.searchsorted(positions, n)]


def keep_mask(n: int, p: float, seed: int, workers: int) -> np.ndarray:
    """Which of ``n`` elements dropout keeps: each with probability ``1 - p``, independently.

    Bytes are the first ``ceil(n / 8)`` outputs of ``stream(seed)``; the extra drops'
    draws follow them in the same stream."""
    k = min(int(p * 256), 255)
    keep = random_bits((n + 7) // 8, seed, workers).view(np.uint8)[:n] >= k
    keep[extra_drops(n, (p - k / 256) / (1 - k / 256), _thread_generator())] = False
    return keep


def _flat_noise(n: int, p: float, dtype: torch.dtype) -> torch.Tensor:
    """``n`` independent values of ``dtype``: ``1 / (1 - p)`` with probability ``1 - p``,
    else 0, from a seed drawn from torch's default generator."""
    seed = int(torch.empty((), dtype=torch.int64).random_())
    keep = keep_mask(n, p, seed, torch.get_num_threads())
    # numpy's one-thread pass beats torch's bool -> float conversion at these sizes.
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    return torch.from_numpy(np.multiply(keep, np_dtype(1.0 / (1.0 - p)), dtype=np_dtype)
                            ).to(dtype)


class PassMasks:
    """Dropout masks for the forward passes of one model, each pass's drawn together.

    A pass inside :meth:`drawing` makes one draw per dropout rate and dtype, sized by what
    the previous pass used, and hands each mask out as the next slice of it; a mask that
    does not fit (the first pass, a larger batch) gets its own draw. Each element is still
    dropped independently with probability ``p``: the slices do not overlap and every draw
    is fresh. One draw instead of one per mask (9 per iTransformer step) saves the
    per-mask seeding, thresholding and numpy calls, whose cost inside a training step is
    twice their cost in a tight loop or more. The masks depend on torch's
    generator and on the sizes requested since this object was made, so a model gets a
    fresh one with each training run. Passes needing more than ``max_elements`` at one
    rate draw per mask: their masks are large enough that the per-mask cost does not
    matter (PatchTST/42: 62 M elements a pass, no faster drawn together), and one draw
    that large would be mapped and unmapped by the allocator every step.
    """

    def __init__(self, max_elements: int = 1 << 22) -> None:
        self.max_elements = max_elements
        self._sizes: dict[tuple[float, torch.dtype], int] = {}
        self._drawn: dict[tuple[float, torch.dtype], torch.Tensor] = {}
        self._used: dict[tuple[float, torch.dtype], int] = {}

    @contextmanager
    def drawing(self) -> Iterator[None]:
        """Serve this thread's CPU dropout masks from this object for one forward pass."""
        previous = getattr(_threads, "pass_masks", None)
        self._drawn, self._used = {}, {}
        _threads.pass_masks = self
        try:
            yield
        finally:
            _threads.pass_masks = previous
            self._sizes, self._drawn = self._used, {}

    def take(self, x: torch.Tensor, p: float) -> torch.Tensor:
        """The noise for ``x`` (see :func:`dropout_noise`): the next slice of this pass's draw."""
        key, n = (p, x.dtype), x.numel()
        start = self._used.get(key, 0)
        self._used[key] = start + n
        drawn = self._drawn.get(key)
        if drawn is None and start == 0 and n <= self._sizes.get(key, 0) <= self.max_elements:
            drawn = self._drawn[key] = _flat_noise(self._sizes[key], p, x.dtype)
        if drawn is None or start + n > drawn.numel():
            return _flat_noise(n, p, x.dtype).view(x.shape)
        return drawn[start:start + n].view(x.shape)


def dropout_noise(x: torch.Tensor, p: float) -> torch.Tensor:
    """A tensor like ``x`` holding ``1 / (1 - p)`` with probability ``1 - p``, else 0."""
    if x.device.type != "cpu":
        return torch.empty_like(x).bernoulli_(1.0 - p).div_(1.0 - p)
    masks = getattr(_threads, "pass_masks", None)
    if masks is not None:
        return masks.take(x, p)
    return _flat_noise(x.numel(), p, x.dtype).view(x.shape)


def _fast_path(x: torch.Tensor, p: float, training: bool) -> bool:
    return (training and 0.0 < p < 1.0 and x.device.type == "cpu"
            and not torch.compiler.is_compiling() and kernels.enabled())


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    if not training or p == 0.0:
        return x
    if not _fast_path(x, p, training):
        return F.dropout(x, p, training)
    return x * dropout_noise(x, p)


def add_dropout(residual: torch.Tensor, x: torch.Tensor, p: float, training: bool = True
                ) -> torch.Tensor:
    """``residual + dropout(x, p)``: on the CPU fast path one ``addcmul`` (one kernel and
    one autograd node instead of two)."""
    if _fast_path(x, p, training):
        return torch.addcmul(residual, x, dropout_noise(x, p))
    return residual + dropout(x, p, training)


class Dropout(nn.Module):
    """Drop-in for :class:`torch.nn.Dropout` built on :func:`dropout` (identity in eval)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def residual(self, residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``residual + self(x)``, fused (see :func:`add_dropout`)."""
        return add_dropout(residual, x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
