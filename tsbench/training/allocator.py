"""Memory settings of a run: keep freed heap blocks for reuse, and skip the NaN fill of
deterministic mode. Both are process-wide, so :func:`run_memory` sets them for one run and
puts them back when it ends."""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks from this size up are mapped from the kernel and returned when freed (glibc's max).
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap beyond this goes back to the kernel.
TRIM_THRESHOLD = 1 << 30
#: glibc's documented defaults of both thresholds (mallopt(3)).
GLIBC_DEFAULT = 128 * 1024


def _mallopt() -> ctypes._CFuncPtr | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return None


@contextmanager
def run_memory(tuned: bool) -> Iterator[None]:
    """With ``tuned`` (``trainer.fast_kernels``), for the duration of a run:

    - on glibc, keep freed blocks below 32 MB in the heap for reuse. glibc's default trims
      the heap top as soon as twice the largest block freed so far is free there, so every
      training step's activations go back to the kernel and are faulted in again, page by
      page (``benchmarks/RESULTS-throughput.md`` measures the cost). Larger blocks are still
      mapped and returned on free. At the end the thresholds go back to glibc's defaults
      (its dynamic adjustment of them stays off, as after any mallopt call) and the free
      heap is handed back (``malloc_trim``): a joblib worker whose memory grew over a task
      is restarted as leaking.
    - skip the NaN fill of every new tensor under ``torch.use_deterministic_algorithms``
      (``trainer.deterministic``): it only makes reads of uninitialized memory
      reproducible, which correct code never does, and costs a memory pass per allocation.

    Results are the same either way. Without ``tuned`` nothing is changed.
    """
    if not tuned:
        yield
        return
    mallopt = _mallopt()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = fill
        if mallopt is not None:
            mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT)
            mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT)
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def release_gpu_memory() -> None:
    """In a process that used CUDA, hand the blocks PyTorch's caching allocator keeps back to
    the driver, so that the other trials packed on the same GPU can use them (a no-op, and
    no CUDA context opened, in a process that never used CUDA)."""
    if torch.cuda.is_initialized():
        gc.collect()  # Lightning's trainer and module refer to each other: free them first
        torch.cuda.empty_cache()
