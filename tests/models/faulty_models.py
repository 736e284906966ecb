"""Test-only models outside the package, each with one fault a user's own model may have
(and a few valid ones the contract must accept). A run selects one with
``model=naive model._target_=tests.models.faulty_models.<Class>`` (``naive``'s config holds
``revin`` alone) and ``PYTHONPATH`` at the repository root."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tsbench.models.base import ForecastModel
from tsbench.models.classical import Theta
from tsbench.models.layers.revin import RevIN


class TimeLinear(ForecastModel):
    """A valid model: one linear map over time, shared by all channels."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.proj = nn.Linear(seq_len, pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2)


class NoRevin(ForecastModel):
    """Takes no ``revin``, which every model's config sets."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.proj = nn.Linear(seq_len, pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2)


class OneChannel(TimeLinear):
    """Forecasts the first channel only: ``(batch, pred_len, 1)`` whatever ``n_vars`` is."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark)[..., :1]


class LookbackSteps(TimeLinear):
    """Returns ``seq_len`` steps instead of ``pred_len``."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars, revin)
        self.proj = nn.Linear(seq_len, seq_len)


class NoMarks(TimeLinear):
    """``forward(self, x)``: takes no ``x_mark``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)


class ReadsMarks(TimeLinear):
    """Reads ``x_mark`` without setting ``uses_time_features``: it gets None and raises."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x) + x_mark[:, -1:, :1]  # type: ignore[index]


class OwnNames(ForecastModel):
    """A constructor with its own names for the sizes tsbench fills in."""

    def __init__(self, input_len: int, horizon: int, revin: bool = False) -> None:
        super().__init__(input_len, horizon, 1)
        self.proj = nn.Linear(input_len, horizon)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.proj(x.transpose(1, 2)).transpose(1, 2)


class NeedsHidden(TimeLinear):
    """A required hyperparameter (no default) that ``naive``'s config does not set."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, hidden: int,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)


class TupleOut(TimeLinear):
    """Returns the forecast in a tuple."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None
                ) -> tuple[torch.Tensor]:  # type: ignore[override]
        return (super().forward(x, x_mark),)


class RepeatsLast(ForecastModel):
    """Repeats the last value: no parameters, yet ``trainable`` (the default) left True."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return x[:, -1:, :].repeat(1, self.pred_len, 1)


class UntrainedLinear(ForecastModel):
    """A linear map over the look-back, yet ``trainable = False``: never trained."""

    trainable = False

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.linear = torch.nn.Linear(seq_len, pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(x.transpose(1, 2)).transpose(1, 2)


class ShortTheta(Theta):
    """A classical model whose forecasts stop one step short of the horizon."""

    def _forecast_channel(self, filtered: object, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        return super()._forecast_channel(filtered, origins, pred_len)[:, :-1]


class OffByOneTheta(Theta):
    """A classical model one row off: it forecasts from the level after each origin's row,
    its first target, not after the row before it."""

    def _forecast_channel(self, filtered: object, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        return super()._forecast_channel(filtered, origins + 1, pred_len)


class DrawsInEval(TimeLinear):
    """A valid model with dropout that also draws random numbers in eval mode (torch's and
    NumPy's): a draw that training does not undo would change its dropout masks."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.drop = nn.Dropout(0.3)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        noise = torch.randn(()) + float(np.random.rand())
        return self.drop(super().forward(x, x_mark)) + 0.0 * noise


class ZeroOutput(ForecastModel):
    """A valid model with a zero-initialised output layer: before training every forecast
    is zero, and the layers before the output get exactly zero gradients."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, hidden: int = 8,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.inp = nn.Linear(seq_len, hidden)
        self.out = nn.Linear(hidden, pred_len)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(torch.relu(self.inp(x.transpose(1, 2)))).transpose(1, 2)


class LearnedConstant(ForecastModel):
    """Ignores its input: a learned, randomly initialised forecast, the same for every
    window (with ``revin``, moved by the window's mean and scale alone)."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.forecast = nn.Parameter(torch.randn(pred_len, n_vars))
        self.revin = RevIN(n_vars) if revin else None

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if self.revin is not None:
            self.revin.normalize(x)
        out = self.forecast.expand(x.shape[0], -1, -1)
        return out if self.revin is None else self.revin.denormalize(out)


class InPlaceNorm(TimeLinear):
    """A valid model that normalises its window in place, as many ported models do."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        means = x.mean(1, keepdim=True)
        x = x - means
        x /= torch.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-5)
        return super().forward(x, x_mark) + means


class AttachedRevinConstant(LearnedConstant):
    """:class:`LearnedConstant` whose own RevIN keeps the statistics attached, on by default:
    with ``revin`` its forecast moves with the input through the de-normalisation alone."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = True) -> None:
        super().__init__(seq_len, pred_len, n_vars, revin)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        out = self.forecast.expand(x.shape[0], -1, -1)
        if self.revin is None:
            return out
        mean, std = x.mean(dim=1, keepdim=True), x.std(dim=1, keepdim=True) + 1e-5
        return out * std + mean


class RaisesInInit(TimeLinear):
    """A bug in ``__init__`` (a ValueError of the model's own code, not a ConfigError)."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars, revin)
        raise ValueError("a bug in __init__")


class BatchCentered(TimeLinear):
    """Centres each window on the mean over the batch (``x - x.mean(0)``), not over its own
    steps: a window's forecast depends on the other windows scored beside it."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x - x.mean(0, keepdim=True), x_mark)


class BatchNormed(TimeLinear):
    """A valid model with BatchNorm over the channels: batch statistics in training, its
    running statistics in eval mode (each window's forecast its own, as PatchTST's)."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.norm = nn.BatchNorm1d(n_vars)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(self.norm(x.transpose(1, 2)).transpose(1, 2), x_mark)


class PeeksAhead(TimeLinear):
    """Honest on a batch of unrelated windows; in eval mode, on consecutive windows (each
    the one before moved one step, as a scored split batches them) it copies each window's
    future from the last rows of the later windows' look-backs."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        out = super().forward(x, x_mark)
        if self.training or len(x) < 2 or not torch.equal(x[1:, :-1], x[:-1, 1:]):
            return out
        out = out.clone()
        for step in range(min(self.pred_len, len(x) - 1)):
            out[: len(x) - 1 - step, step] = x[1 + step:, -1]
        return out


class RemembersRows(TimeLinear):
    """In eval mode, keeps the row that followed each row it was shown (in a dict, outside
    its state dict) and forecasts a window by following those rows from its last one."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.following: dict[bytes, torch.Tensor] = {}

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        out = super().forward(x, x_mark)
        if self.training:
            return out
        windows = x.detach().cpu()
        for window in windows:
            for row, after in zip(window[:-1], window[1:], strict=True):
                self.following[row.numpy().tobytes()] = after
        out = out.clone()
        for i, window in enumerate(windows):
            key = window[-1].numpy().tobytes()
            for step in range(self.pred_len):
                after = self.following.get(key)
                if after is None:
                    break
                out[i, step] = after.to(out.device)
                key = after.numpy().tobytes()
        return out


class PeeksPastEight(PeeksAhead):
    """:class:`PeeksAhead` on a batch of more than 8 windows only: batches of 8 and 1 do not
    show it, scoring at ``data.eval_batch_size=128`` does."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if len(x) > 8:
            return super().forward(x, x_mark)
        return TimeLinear.forward(self, x, x_mark)


class PeeksPastCap(PeeksAhead):
    """:class:`PeeksAhead` on a batch of more than 256 windows only (the most the checks
    forecast in one batch): scoring at ``data.eval_batch_size=512`` shows it."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        if len(x) > 256:
            return super().forward(x, x_mark)
        return TimeLinear.forward(self, x, x_mark)


class PeeksOnceTrained(PeeksAhead):
    """:class:`PeeksAhead` once it has trained a step: before training, where the pre-run
    check forecasts, it is honest; the check after training is not."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.trained = False

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        self.trained = self.trained or (self.training and torch.is_grad_enabled())
        if self.trained:
            return super().forward(x, x_mark)
        return TimeLinear.forward(self, x, x_mark)


class NanOnceTrained(TimeLinear):
    """Finite before training (its ``gain`` starts at 0); once training has moved ``gain``,
    NaN for the windows whose first row lies beyond ``-1 / (SCALE * gain)`` (a log of a
    negative number), as diverged weights overflow on some inputs alone: after one Adam
    step at optim.lr=1e-4, on a few windows of each period of the synthetic series."""

    SCALE = 7e3  # one Adam step moves gain by about optim.lr: the bound is about 1.4

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.gain = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x, x_mark) + torch.log1p(self.SCALE * self.gain * x[:, :1])
