"""Tensor memory: keep freed blocks for reuse, and skip the NaN fill of deterministic mode."""

from __future__ import annotations

import ctypes
import gc
import sys

import torch

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks from this size up are mapped from the kernel and returned when freed (glibc's max).
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap beyond this goes back to the kernel.
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """On glibc, keep freed blocks below 32 MB in the heap for reuse; return whether set.

    glibc's default trims the heap top as soon as twice the largest block freed so far is
    free there, so every training step's activations are handed back to the kernel and
    faulted in again, page by page: about 30,000 page faults and 20 % of a PatchTST/42
    step on the CPU. Blocks of 32 MB and more are still mapped and returned on free, so a
    sweep over differently sized models does not pile up heap. No-op elsewhere (macOS,
    Windows, musl). :func:`release_freed_memory` hands the kept memory back.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_freed_memory() -> None:
    """Return the free heap to the kernel (``malloc_trim``), e.g. when a run ends: a joblib
    worker whose resident memory grew by 300 MB over a task is restarted as leaking. In a
    process that used CUDA, also hand the blocks PyTorch's caching allocator keeps back to
    the driver, so that the other trials packed on the same GPU can use them."""
    if torch.cuda.is_initialized():
        gc.collect()  # Lightning's trainer and module refer to each other: free them first
        torch.cuda.empty_cache()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def skip_deterministic_fill() -> None:
    """Do not fill every new tensor with NaN under ``torch.use_deterministic_algorithms``
    (``trainer.deterministic``). The fill only makes reads of uninitialized memory
    reproducible, which correct code never does, and costs a memory pass per allocation:
    5 % of a two-thread training step. Results are unchanged."""
    torch.utils.deterministic.fill_uninitialized_memory = False
