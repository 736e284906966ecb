"""Recursive (autoregressive, "IMS") multi-step forecasting around any forecaster.

The wrapped model forecasts ``step`` steps; the wrapper rolls it out to ``pred_len``: each
roll appends the model's forecast to the look-back (dropping as many of its oldest rows)
and forecasts the next ``step`` steps from it, until the horizon is covered.

- Training (``model.train()``) forecasts one roll of ``step`` steps, the model's own output:
  tsbench trains it on ``step``-ahead targets, over every training window of that horizon.
- Evaluation (``model.eval()``: validation, early stopping, scoring) rolls out to
  ``pred_len``, so model selection judges the forecast that is scored.
- Every channel of a roll's forecast is fed back, the non-target channels of
  ``features=MS`` too: the model's own forecasts of them are the only inputs that neither
  look into the future (the true covariates would) nor shift the inputs' distribution
  (held values would). Channel-independent models (DLinear, PatchTST) forecast the target
  from the target alone, so for them the choice does not matter; for channel-mixing ones
  (iTransformer) those forecasts are not trained (MS trains the target only), as in direct MS.
- A model that reads calendar features gets, at each roll, the marks of its shifted
  look-back: the wrapper then needs the marks of the look-back and the horizon,
  ``x_mark`` of shape ``(batch, seq_len + pred_len, n_marks)`` (calendar features are
  known in advance), which tsbench's data provides for recursive runs.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from tsbench.config_values import whole
from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel, check


class RecursiveForecaster(ForecastModel):
    """``model`` (built with ``pred_len=step``) rolled out to ``pred_len`` steps."""

    def __init__(self, model: ForecastModel, pred_len: int) -> None:
        super().__init__(model.seq_len, pred_len, model.n_vars)
        check(1 <= model.pred_len <= pred_len, "strategy.step",
              f"must be between 1 and pred_len={pred_len}, got {model.pred_len}")
        self.model = model
        self.step = model.pred_len
        self.rolls = math.ceil(pred_len / self.step)
        self.uses_time_features = model.uses_time_features
        self.trainable = model.trainable

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if self.training:
            marks = None if x_mark is None else x_mark[:, : self.seq_len]
            return self.model(x, marks)
        # the last roll reads marks up to this row (seq_len + pred_len - step when step
        # divides pred_len, more when it does not)
        needed = (self.rolls - 1) * self.step + self.seq_len
        if x_mark is not None and x_mark.shape[1] < needed:
            raise ValueError(
                f"a recursive rollout needs the marks of the look-back and the horizon "
                f"({needed} rows), got {x_mark.shape[1]}")
        window, outputs = x, []
        for roll in range(self.rolls):
            marks = (None if x_mark is None
                     else x_mark[:, roll * self.step: roll * self.step + self.seq_len])
            forecast = self.model(window, marks)
            outputs.append(forecast)
            if roll + 1 < self.rolls:
                window = torch.cat([window, forecast], dim=1)[:, -self.seq_len:]
        # one roll is the step model's own output (no copy: the same memory layout, so the
        # same float sums as the direct model's when step == pred_len)
        rolled = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
        return rolled[:, : self.pred_len]


def strategy_step(cfg: Any) -> int | None:
    """``strategy.step`` of a recursive run config, None for a direct one (and for configs
    written before strategies existed)."""
    strategy = cfg.get("strategy")
    name = "direct" if strategy is None else str(strategy.name)
    if name == "direct":
        return None
    if name != "recursive":
        raise ConfigError("strategy", f"unknown strategy '{name}'", "use direct or recursive")
    step, pred_len = whole(strategy.step, "strategy.step"), whole(cfg.pred_len, "pred_len")
    if not 1 <= step <= pred_len:
        raise ConfigError("strategy.step", f"must be between 1 and pred_len={pred_len}, got "
                          f"{step}", "forecast a part of the horizon per roll")
    return step
