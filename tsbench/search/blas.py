"""One BLAS thread for the surrogate's linear algebra, its thread pools found once.

The surrogate's matrices are small (one row per trial), and on a 2-core machine further
BLAS threads only contend with the running trials for the cores, so every ask, tell and
plot runs under :func:`one_blas_thread`. threadpoolctl's ``threadpool_limits`` looks for
the thread pools anew on each call, reading every library the process has loaded (torch's
among them), twice per trial: most of a 5000-trial resume's 270 s, whose replay asks and
tells once per recorded trial (``benchmarks/sweep_record_cost.md``). The pools are found
once, at the first call, when numpy, scipy and scikit-learn, whose pools these are, are
loaded.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    """The process's thread pools, found at the first call."""
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """Limit every thread pool found to one thread inside the ``with`` block."""
    return _controller().limit(limits=1)
