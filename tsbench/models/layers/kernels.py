"""The switch between tsbench's CPU speed kernels and stock PyTorch (``trainer.fast_kernels``).

The kernels are the oneDNN linear layer (:mod:`~tsbench.models.layers.linear`), the attention
core with its hand-written backward (:mod:`~tsbench.models.layers.attention`) and the fast
dropout masks (:mod:`~tsbench.models.layers.dropout`); the run also tunes the allocator
(:mod:`tsbench.training.allocator`) under the same switch. Off, every layer is the stock
``F.linear``, ``F.dropout`` and ``F.scaled_dot_product_attention`` path.

Two kernels call private PyTorch APIs (``torch.ops.mkldnn._linear_pointwise``,
``torch._softmax_backward_data``). Each is checked once per process, on first use, against
the stock op on a small input: if the call raises or its result differs, that kernel is
switched off with one warning and the stock path is used from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
_state = {"enabled": True}
#: Kernel name -> whether its check passed (absent: not checked yet).
_checked: dict[str, bool] = {}


def enabled() -> bool:
    """Whether the fast kernels are switched on (the default)."""
    return _state["enabled"]


@contextmanager
def fast_kernels(on: bool) -> Iterator[None]:
    """Switch the fast kernels on or off for the duration of a run."""
    previous = _state["enabled"]
    _state["enabled"] = bool(on)
    try:
        yield
    finally:
        _state["enabled"] = previous


def usable(name: str, check: Callable[[], bool]) -> bool:
    """Whether kernel ``name`` may run: the switch is on and its one-time ``check`` (which
    compares it with the stock op) passed. A check that raises or returns False switches the
    kernel off for this process, with one warning."""
    if not _state["enabled"]:
        return False
    ok = _checked.get(name)
    if ok is None:
        try:
            ok = bool(check())
            problem = "its result differs from stock PyTorch's"
        except Exception as error:  # noqa: BLE001 - a private API may fail in any way
            ok, problem = False, f"{type(error).__name__}: {error}"
        _checked[name] = ok
        if not ok:
            log.warning("the fast %s kernel is off (%s); using stock PyTorch, which gives the "
                        "same results more slowly", name, problem)  # a run's: in its log
    return ok
