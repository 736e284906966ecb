"""Baselines without parameters: repeat the last value, or the last season."""

from __future__ import annotations

import torch

from tsbench.models.base import ForecastModel, check, check_period


class Naive(ForecastModel):
    """Forecast every horizon step as the last observed value.

    Both baselines are scale-invariant, so ``revin`` is accepted (``model.revin`` works
    for every model) and leaves the forecast unchanged.
    """

    trainable = False
    reads_look_back = False
    #: No seasonal part (the protocol card records a model's ``season``).
    season: int | None = None

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return x[:, -1:, :].expand(-1, self.pred_len, -1).clone()


class SeasonalNaive(ForecastModel):
    """Forecast step ``h`` as the value one ``period`` earlier, repeating the last season.
    ``model.period: null`` (the preset) takes the season of the data's frequency. Any
    ``seq_len`` of at least one season gives the same forecasts."""

    trainable = False
    reads_look_back = False

    def __init__(
        self, seq_len: int, pred_len: int, n_vars: int, period: int, revin: bool = False
    ) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        check_period(period)
        check(1 <= period <= seq_len, "model.period",
              f"must be between 1 and seq_len={seq_len}, got {period}",
              "raise seq_len to at least one season or set model.period")
        steps = torch.arange(pred_len) % period
        self.register_buffer("_rows", seq_len - period + steps, persistent=False)
        self.period = period
        #: The seasonal period the forecasts use.
        self.season: int | None = period

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return x[:, self._rows, :]
