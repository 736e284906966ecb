"""Torch intra-op threads: all cores for one run, shared out between parallel trials."""

from __future__ import annotations

import os

import torch


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS reports it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def choose_threads(requested: int | None, parallel_jobs: int = 1) -> int:
    """``requested`` if given, else the usable cores divided by the parallel jobs."""
    if requested:
        return int(requested)
    return max(1, usable_cores() // max(1, parallel_jobs))


def apply_threads(requested: int | None, parallel_jobs: int = 1) -> int:
    """Set torch's thread count (unless OMP_NUM_THREADS pins it) and return it."""
    if not requested and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    threads = choose_threads(requested, parallel_jobs)
    torch.set_num_threads(threads)
    return threads
