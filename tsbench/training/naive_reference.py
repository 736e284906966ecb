"""The seasonal naive forecast's validation MSE beside every run's: the simplest honest
reference on the windows the run was chosen on, and the warning where a run scores worse."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from tsbench.counted import counted, word_for
from tsbench.data.datamodule import ForecastData
from tsbench.data.seasons import mase_season
from tsbench.models.build import model_class
from tsbench.models.history import HistoryModel
from tsbench.rundir import LoadedRun, significant

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


#: What a model worse than the reference should change, by its kind (:func:`model_kind`):
#: a trained model's training settings; a classical model's season and settings (its
#: class's ``settings``, ``{settings}`` here).
ADVICE = {
    "trained": "it has not learnt the series: raise optim.lr or trainer.max_epochs (see "
               "README \"Your own CSV\"), or tune it with tsbench-tune",
    "classical": "it fits the series worse than repeating its last season: check "
                 "model.period against the series' season (tsbench-analyze prints the "
                 "training rows' dominant periods), or its settings ({settings})",
}
#: :data:`ADVICE` for a multirun's jobs of a kind, said once for them all.
SWEEP_ADVICE = {
    "trained": "not learnt: raise optim.lr or trainer.max_epochs (see README \"Your own "
               "CSV\"), or tune the model with tsbench-tune",
    "classical": "the model fits the series worse than repeating its last season: check "
                 "model.period against the series' season (tsbench-analyze prints the "
                 "training rows' dominant periods), or the model's settings",
}
#: A trained model's advice in a run of a tsbench-tune stage (by the stage's letter), which
#: tunes it already; None: no warning (stage b's range test trains one batch, not a model).
TUNE_ADVICE = {
    "a": "the baseline has not learnt the series at the preset's settings: the searches "
         "that follow try other rates and look-backs",
    "b": None,
}
#: A trained model's advice in any other tsbench-tune stage (a retrained choice).
TUNE_ADVICE_LATER = ("the searches found no configuration that learns the series within "
                     "recipe.max_epochs: raise recipe.max_epochs or recipe.budget_hours")


class Gap(NamedTuple):
    """A run whose validation MSE (``folds``: the mean over that many folds) is above the
    seasonal naive forecast's on the same windows; ``kind`` as :func:`model_kind` says."""

    kind: str
    mse: float
    naive: float
    folds: int | None


def model_kind(model_cfg: Any) -> str | None:
    """``trained`` for a model tsbench trains, ``classical`` for one fitted per channel on
    the training rows (ETS, Theta, ARIMA: :class:`HistoryModel`), None for the naive
    baselines, the reference's own kind: nothing to fit, nothing to advise."""
    cls = model_class(model_cfg)
    if cls.trainable:
        return "trained"
    return "classical" if issubclass(cls, HistoryModel) else None


def reference_gap(cfg: Any, metrics: dict[str, Any]) -> Gap | None:
    """The run's :class:`Gap` where a model that fits anything (:func:`model_kind`) scores a
    validation MSE (the folds' mean with ``cv=tscv``) above the seasonal naive forecast's;
    None where it does not, or the run scores no validation (a refit)."""
    tscv = cfg.cv.name == "tscv"
    naive = metrics.get(f"cv_{NAIVE_VAL_KEY}_mean" if tscv else NAIVE_VAL_KEY)
    mse = metrics.get("cv_val_mse_mean" if tscv else "val_mse")
    if naive is None or mse is None or mse <= naive:
        return None
    kind = model_kind(cfg.model)
    if kind is None:
        return None
    return Gap(kind, mse, naive, len(metrics.get("cv_folds") or []) if tscv else None)


def advice(kind: str, model_cfg: Any, tune_stage: str | None = None) -> str | None:
    """What a model of ``kind`` worse than the reference should change: :data:`ADVICE`; in
    a tsbench-tune stage (its name, e.g. ``a_baseline``) a trained model's stage advice
    (:data:`TUNE_ADVICE`), None where that stage says nothing."""
    if kind == "classical":
        return ADVICE[kind].format(settings=getattr(model_class(model_cfg), "settings",
                                                    "model"))
    if tune_stage:
        return TUNE_ADVICE.get(tune_stage[0], TUNE_ADVICE_LATER)
    return ADVICE[kind]


def not_learnt_warning(model: str, gap: Gap, seasons: list[int], fix: str) -> str:
    """The run's line where its validation MSE is above the seasonal naive forecast's on
    the same windows (``gap``), with the ``fix`` (:func:`advice`)."""
    what = f"mean val MSE over {gap.folds} folds" if gap.folds else "val MSE"
    season = (f"season {seasons[0]}" if len(seasons) == 1 else
              f"seasons {', '.join(map(str, seasons))} by fold")
    return (f"{model}'s {what} {significant(gap.mse, 4)} is worse than the seasonal naive "
            f"forecast's {significant(gap.naive, 4)} on the same windows ({season}) -> {fix}")


def sweep_summary(runs: dict[int, LoadedRun], log_name: str) -> list[str]:
    """A multirun's lines for its jobs worse than the seasonal naive forecast
    (:func:`reference_gap`), one per kind of model, naming the jobs: each job's own line,
    with its numbers, is in its log file (``log_name``) alone, not said N times for N
    jobs. ``runs``: its finished jobs by number, a resume's finished before included."""
    worse: dict[str, list[int]] = {}
    for number, run in sorted(runs.items()):
        gap = reference_gap(run.config, run.metrics)
        if gap is not None:
            worse.setdefault(gap.kind, []).append(number)
    lines = []
    for kind, jobs in worse.items():
        lines.append(f"{word_for(len(jobs), 'job', 'jobs')} {', '.join(map(str, jobs))} "
                     f"({len(jobs)} of the {counted(len(runs), 'finished job')}) "
                     f"{word_for(len(jobs), 'scores', 'score')} a val MSE worse than the "
                     "seasonal naive forecast's on the same windows (each job's "
                     f"{log_name} gives both) -> {SWEEP_ADVICE[kind]}")
    return lines
