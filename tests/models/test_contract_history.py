"""check_model on a HistoryModel (one that forecasts from the whole history, as the
classical baselines do): its fit_series and forecast_origins are checked, since it has no
per-window forward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsbench.models import ContractError, check_model
from tsbench.models.history import HistoryModel


class _Smoothed(HistoryModel):
    """Exponential smoothing of a fixed weight; ``fault`` breaks one promise."""

    def __init__(self, seq_len: int, pred_len: int, n_vars: int, alpha: float = 0.3,
                 revin: bool = False, fault: str = "") -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.alpha, self.fault = alpha, fault
        if fault == "parameter":
            self.weight = torch.nn.Parameter(torch.zeros(1))

    def _fit_channel(self, y: np.ndarray) -> tuple[object, int]:
        if self.fault == "fit_raises":
            raise ValueError("cannot fit")
        return float(y[0]), 1

    def _filter_channel(self, fitted: object, y: np.ndarray) -> object:
        level = np.empty(len(y) + 1)
        level[0] = fitted
        for t, value in enumerate(y):
            level[t + 1] = self.alpha * value + (1 - self.alpha) * level[t]
        return level  # level[t]: after rows 0 .. t-1

    def _forecast_channel(self, filtered: object, origins: np.ndarray, pred_len: int
                          ) -> np.ndarray:
        late = 1 if self.fault == "peek" else 0  # the level after the origin's own row
        steps = pred_len - 1 if self.fault == "short" else pred_len
        return np.repeat(filtered[origins + late][:, None], steps, axis=1)


def test_a_history_model_that_keeps_the_contract_passes() -> None:
    assert check_model(_Smoothed, alpha=0.5) is None


@pytest.mark.parametrize(("fault", "message"), [
    ("peek", r"forecast_origins reads the rows it forecasts: its forecast from origin row 96 "
             r"changed .* -> forecast from each origin with the rows before it alone"),
    ("short", r"forecast_origins returns \(57, 7, 3\) for 57 origins, not \(57, 8, 3\)"),
    ("fit_raises", r"fit_series on 96 rows of 3 channels raised ValueError: cannot fit "
                   r"\(at .*test_contract_history.py:\d+\)"),
    ("parameter", r"is a HistoryModel \(fitted, never trained\) with trainable parameters "
                  r"\['weight'\]"),
])
def test_a_history_model_that_breaks_the_contract_is_named(fault: str, message: str) -> None:
    broken = r"^_Smoothed breaks the model contract: "
    with pytest.raises(ContractError, match=broken + message):
        check_model(_Smoothed, fault=fault)
