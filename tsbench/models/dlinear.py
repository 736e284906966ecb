"""DLinear (Zeng et al., AAAI 2023): moving-average decomposition + two linear maps."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from tsbench.models.base import ForecastModel, check
from tsbench.models.layers.revin import RevIN


class MovingAverage(nn.Module):
    """Trend by a centered moving average with replicate padding (odd ``kernel_size``)."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L, C)
        pad = (self.kernel_size - 1) // 2
        padded = F.pad(x.transpose(1, 2), (pad, pad), mode="replicate")
        return F.avg_pool1d(padded, self.kernel_size, stride=1).transpose(1, 2)


class DLinear(ForecastModel):
    """Seasonal and trend parts each mapped seq_len -> pred_len by a linear layer, shared
    across channels (``individual=False``, the paper's setting) or one per channel."""

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        n_vars: int,
        kernel_size: int = 25,
        individual: bool = False,
        revin: bool = False,
    ) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        check(kernel_size >= 1 and kernel_size % 2 == 1, "model.kernel_size",
              f"must be an odd number >= 1, got {kernel_size}")
        self.decompose = MovingAverage(kernel_size)
        self.individual = individual
        n_maps = n_vars if individual else 1
        bound = seq_len ** -0.5  # nn.Linear's default initialization
        self.seasonal_weight, self.trend_weight, self.seasonal_bias, self.trend_bias = (
            nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
            for shape in [(n_maps, pred_len, seq_len)] * 2 + [(n_maps, pred_len)] * 2
        )
        self.revin = RevIN(n_vars) if revin else None

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if self.revin is not None:
            x = self.revin.normalize(x)
        trend = self.decompose(x)
        seasonal = x - trend
        # (B, L, C) x (maps, H, L) -> (B, H, C): both maps applied along time.
        out = torch.einsum("blc,chl->bhc", seasonal, self._expand(self.seasonal_weight))
        out = out + torch.einsum("blc,chl->bhc", trend, self._expand(self.trend_weight))
        out = out + self._expand(self.seasonal_bias + self.trend_bias).T
        if self.revin is not None:
            out = self.revin.denormalize(out)
        return out

    def _expand(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.expand(self.n_vars, *weight.shape[1:]) if not self.individual else weight
