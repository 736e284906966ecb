"""The contract every forecasting model follows."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tsbench.errors import ConfigError


class ForecastModel(nn.Module):
    """A forecaster mapping ``(batch, seq_len, n_vars)`` to ``(batch, pred_len, n_vars)``.

    Subclasses take ``seq_len``, ``pred_len`` and ``n_vars`` (filled in by the run
    function from the top-level config) plus their own hyperparameters, which come from
    ``conf/model/<name>.yaml``. A model that reads calendar features sets
    ``uses_time_features = True``; it then also receives ``n_marks`` in ``__init__`` and
    ``x_mark`` of shape ``(batch, seq_len, n_marks)`` in ``forward``.
    """

    uses_time_features: bool = False
    #: False for models without trainable parameters (naive baselines): no training loop.
    trainable: bool = True
    #: False where the forecasts do not depend on ``seq_len`` (the naive baselines read the
    #: last value or season, the classical ones the whole history): the protocol card says
    #: so, and the report pools runs that differ only in ``seq_len``.
    reads_look_back: bool = True

    def __init__(self, seq_len: int, pred_len: int, n_vars: int) -> None:
        super().__init__()
        check(seq_len >= 1, "seq_len", f"must be >= 1, got {seq_len}")
        check(pred_len >= 1, "pred_len", f"must be >= 1, got {pred_len}")
        check(n_vars >= 1, "n_vars", f"must be >= 1, got {n_vars}")
        self.seq_len = seq_len
        self.pred_len = pred_len
        self.n_vars = n_vars

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


def check(condition: bool, field: str, problem: str, fix: str = "") -> None:
    """Raise :class:`ConfigError` naming ``field`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(field, problem, fix)


def check_period(period: Any) -> None:
    """``model.period`` is a whole number of steps (a fraction would be truncated, or fail
    deep inside a model)."""
    check(isinstance(period, int) and not isinstance(period, bool), "model.period",
          f"must be a whole number of steps, got {period}", "e.g. model.period=24")


def check_dropout(value: float, field: str) -> None:
    """Dropout rates live in [0, 1)."""
    check(0.0 <= value < 1.0, field, f"must be in [0, 1), got {value}")
