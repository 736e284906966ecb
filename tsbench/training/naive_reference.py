"""The seasonal naive forecast's validation MSE beside every run's: the simplest honest
reference on the windows the run was chosen on, and the warning where a run scores worse."""

from __future__ import annotations

import torch

from tsbench.data.datamodule import ForecastData
from tsbench.data.seasons import mase_season
from tsbench.rundir import significant

#: The metrics.json key of the seasonal naive forecast's scaled MSE on the run's validation
#: windows (each fold's ``fold_<k>_`` one and ``cv_val_mse_seasonal_naive_mean`` with
#: ``cv=tscv``).
NAIVE_VAL_KEY = "val_mse_seasonal_naive"


def reference_season(data: ForecastData) -> int:
    """The season the reference repeats: MASE's (:func:`mase_season` of the scaler's rows)."""
    start, end = data.scaler.fitted_rows  # type: ignore[misc]
    return mase_season(data.series.freq, end - start)


@torch.inference_mode()
def seasonal_naive_mse(data: ForecastData, split: str) -> float:
    """The scaled MSE of the seasonal naive forecast (:func:`reference_season`) over every
    window x horizon step x scored channel of ``split``: what ``model=seasonal_naive`` with
    that ``model.period`` scores there at any ``seq_len`` of at least one season (step
    ``h`` of a window is the row one season before, repeating the last season). A season
    longer than ``seq_len`` reads rows before the look-back, which the scaler's rows hold."""
    season = reference_season(data)
    first_target = data.ranges[split][0] + data.seq_len
    count = len(data.windows(split))
    rows = data.scaled[:, data.target_dims]
    total = torch.zeros((), dtype=torch.float64)
    for step in range(data.pred_len):  # per step: memory of one step's windows, not all
        truth = rows[first_target + step:first_target + step + count]
        source = first_target + step % season - season
        total += (rows[source:source + count] - truth).double().pow(2).sum()
    return float(total / (count * data.pred_len * rows.shape[1]))


def not_learnt_warning(model: str, mse: float, naive: float, seasons: list[int],
                       folds: int | None) -> str:
    """The run's line where its validation MSE (``folds``: the mean over that many folds)
    is above the seasonal naive forecast's on the same windows."""
    what = f"mean val MSE over {folds} folds" if folds else "val MSE"
    season = (f"season {seasons[0]}" if len(seasons) == 1 else
              f"seasons {', '.join(map(str, seasons))} by fold")
    return (f"{model}'s {what} {significant(mse, 4)} is worse than the seasonal naive "
            f"forecast's {significant(naive, 4)} on the same windows ({season}) -> it has not "
            "learnt the series: raise optim.lr or trainer.max_epochs (see README \"Your own "
            "CSV\"), or tune it with tsbench-tune")
