"""RecursiveForecaster: the rollout equals a hand-written loop over the same step model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tsbench.errors import ConfigError
from tsbench.models.base import ForecastModel
from tsbench.models.dlinear import DLinear
from tsbench.models.recursive import RecursiveForecaster

SEQ_LEN, STEP, PRED_LEN, N_VARS, N_MARKS = 16, 5, 12, 3, 2


class MarkedLinear(ForecastModel):
    """A step model that reads calendar features: its forecast moves with the last mark."""

    uses_time_features = True

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, n_marks: int) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.time = nn.Linear(seq_len, pred_len)
        self.marks = nn.Linear(seq_len * n_marks, pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        assert x_mark is not None and x_mark.shape[1] == self.seq_len
        calendar = self.marks(x_mark.flatten(1))[:, :, None]
        return self.time(x.transpose(1, 2)).transpose(1, 2) + calendar


def hand_rollout(model: ForecastModel, x: torch.Tensor, marks: torch.Tensor | None,
                 pred_len: int) -> torch.Tensor:
    """Window by window, roll by roll: forecast ``step`` rows from the last ``seq_len`` rows
    of the history, append them, shift the marks by the rows forecast so far."""
    out = []
    for b in range(x.shape[0]):
        history = list(x[b])
        forecast: list[torch.Tensor] = []
        while len(forecast) < pred_len:
            window = torch.stack(history[-model.seq_len:])[None]
            done = len(forecast)
            mark = None if marks is None else marks[b:b + 1, done:done + model.seq_len]
            rows = list(model(window, mark)[0])
            forecast += rows
            history += rows
        out.append(torch.stack(forecast[:pred_len]))
    return torch.stack(out)


@pytest.mark.parametrize("step", [1, STEP, PRED_LEN])
@pytest.mark.parametrize("revin", [False, True])
def test_rollout_equals_a_hand_written_loop(step: int, revin: bool) -> None:
    """With RevIN each roll normalizes by its own look-back, forecasts included, as the
    hand-written loop's separate calls do."""
    torch.manual_seed(0)
    inner = DLinear(SEQ_LEN, step, N_VARS, kernel_size=5, revin=revin).eval()
    wrapper = RecursiveForecaster(inner, PRED_LEN).eval()
    x = torch.randn(4, SEQ_LEN, N_VARS)
    with torch.no_grad():
        got, want = wrapper(x), hand_rollout(inner, x, None, PRED_LEN)
    assert got.shape == (4, PRED_LEN, N_VARS)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def test_rollout_shifts_the_calendar_features_with_the_look_back() -> None:
    torch.manual_seed(0)
    inner = MarkedLinear(SEQ_LEN, STEP, N_VARS, N_MARKS).eval()
    wrapper = RecursiveForecaster(inner, PRED_LEN).eval()
    assert wrapper.uses_time_features
    x = torch.randn(4, SEQ_LEN, N_VARS)
    marks = torch.rand(4, SEQ_LEN + PRED_LEN, N_MARKS) - 0.5  # look-back and horizon
    with torch.no_grad():
        torch.testing.assert_close(wrapper(x, marks), hand_rollout(inner, x, marks, PRED_LEN),
                                   rtol=0, atol=1e-6)
        with pytest.raises(ValueError, match="marks of the look-back and the horizon"):
            wrapper(x, marks[:, :SEQ_LEN])


def test_rollout_refuses_marks_short_of_its_last_roll() -> None:
    """With pred_len not a multiple of step the last roll reads up to row
    (rolls - 1) * step + seq_len: fewer marks are refused by name, not cut short."""
    inner = MarkedLinear(SEQ_LEN, STEP, N_VARS, N_MARKS).eval()
    wrapper = RecursiveForecaster(inner, PRED_LEN).eval()  # rolls read marks[0:16], [5:21], [10:26]
    needed = 2 * STEP + SEQ_LEN
    x, marks = torch.randn(2, SEQ_LEN, N_VARS), torch.rand(2, needed, N_MARKS)
    with torch.no_grad():
        assert wrapper(x, marks).shape == (2, PRED_LEN, N_VARS)
        with pytest.raises(ValueError, match=f"needs the marks .* \\({needed} rows\\), got "
                                             f"{needed - 1}"):
            wrapper(x, marks[:, :needed - 1])


def test_training_mode_is_the_step_model() -> None:
    """Training fits the step model on step-ahead targets: one roll, the model's own output."""
    torch.manual_seed(0)
    inner = DLinear(SEQ_LEN, STEP, N_VARS)
    wrapper = RecursiveForecaster(inner, PRED_LEN).train()
    x = torch.randn(4, SEQ_LEN, N_VARS)
    torch.testing.assert_close(wrapper(x), inner(x), rtol=0, atol=0)
    assert wrapper.state_dict().keys() == {f"model.{k}" for k in inner.state_dict()}


def test_step_longer_than_the_horizon_is_refused() -> None:
    with pytest.raises(ConfigError, match="strategy.step"):
        RecursiveForecaster(DLinear(SEQ_LEN, PRED_LEN + 1, N_VARS), PRED_LEN)


def test_recursive_training_gives_the_model_the_look_back_marks() -> None:
    """In training the step model sees the marks of the look-back, the first seq_len rows
    of x_mark (which holds the look-back's and the horizon's)."""
    seq_len, step, pred_len = 16, 4, 12
    inner = MarkedLinear(seq_len, step, 2, n_marks=3)
    wrapper = RecursiveForecaster(inner, pred_len).train()
    x, marks = torch.randn(4, seq_len, 2), torch.randn(4, seq_len + pred_len, 3)
    with torch.no_grad():
        got, want = wrapper(x, marks), inner(x, marks[:, :seq_len])
    torch.testing.assert_close(got, want, rtol=0, atol=0)
