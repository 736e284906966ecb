"""The naive forecasts' validation MSE beside every run's: the simplest honest references on
the windows the run was chosen on (the last value repeated, and the last season repeated),
and the warning where a run scores worse than the better of the two."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from tsbench.counted import counted, word_for
from tsbench.data.datamodule import ForecastData
from tsbench.data.seasons import mase_season
from tsbench.models.build import model_class
from tsbench.models.history import HistoryModel
from tsbench.preset_check import PRESET_KEYS
from tsbench.rundir import LoadedRun, config_choice, significant, task_overrides

#: The metrics.json key of the seasonal naive forecast's scaled MSE on the run's validation
#: windows (each fold's ``fold_<k>_`` one and ``cv_val_mse_seasonal_naive_mean`` with
#: ``cv=tscv``).
NAIVE_VAL_KEY = "val_mse_seasonal_naive"
#: The same for the naive forecast, the last value repeated: on a series that wanders like a
#: random walk (exchange rates) it beats repeating a season, and is hard to beat at all.
LAST_VALUE_VAL_KEY = "val_mse_naive"
#: A trained model's validation MSE up to this many times the reference's is near it: told
#: the reference is hard to beat on the series, not that the model has not learnt it (the
#: published DLinear on Exchange at pred_len 96 scores 1.14x the naive forecast's there
#: after 2 epochs, and reproduces the paper's test MSE).
NEAR_REFERENCE = 1.25


def reference_season(data: ForecastData) -> int:
    """The season the reference repeats: MASE's (:func:`mase_season` of the scaler's rows)."""
    start, end = data.scaler.fitted_rows  # type: ignore[misc]
    return mase_season(data.series.freq, end - start)


@torch.inference_mode()
def repeat_mse(data: ForecastData, split: str, season: int) -> float:
    """The scaled MSE of the forecast repeating the last ``season`` rows over every window x
    horizon step x scored channel of ``split``: what ``model=seasonal_naive`` with that
    ``model.period`` scores there at any ``seq_len`` of at least one season (step ``h`` of
    a window is the row one season before); season 1 is ``model=naive``'s. A season longer
    than ``seq_len`` reads rows before the look-back, which the scaler's rows hold."""
    first_target = data.ranges[split][0] + data.seq_len
    count = len(data.windows(split))
    rows = data.scaled[:, data.target_dims]
    total = torch.zeros((), dtype=torch.float64)
    for step in range(data.pred_len):  # per step: memory of one step's windows, not all
        truth = rows[first_target + step:first_target + step + count]
        source = first_target + step % season - season
        total += (rows[source:source + count] - truth).double().pow(2).sum()
    return float(total / (count * data.pred_len * rows.shape[1]))


def seasonal_naive_mse(data: ForecastData, split: str) -> float:
    """:func:`repeat_mse` of the reference's season (:func:`reference_season`)."""
    return repeat_mse(data, split, reference_season(data))


def naive_mse(data: ForecastData, split: str) -> float:
    """:func:`repeat_mse` of the last value (``model=naive``'s forecast)."""
    return repeat_mse(data, split, 1)


#: What a trained model worse than the reference is told, as a diagnosis and its fix: far
#: from it (:attr:`Gap.near` false), near it (``{percent}``: how far above), and the fix for a
#: run of an ``experiment=`` preset, whose settings are a paper's (``{preset}``; ``{naive}``:
#: the naive forecast to compare with where near).
NOT_LEARNT = "it has not learnt the series"
NOT_LEARNT_FIX = ("raise optim.lr or trainer.max_epochs (see README \"Your own CSV\"), or tune "
                  "it with tsbench-tune")
NEAR = "it scores within {percent}% of a forecast that learns nothing, hard to beat {where}"
#: Where that forecast is hard to beat: the last value repeated (a random walk's best
#: forecast) or the last season repeated (a season that repeats itself closely).
NEAR_WHERE = {True: "where the series wanders like a random walk (exchange rates)",
              False: "where the series repeats its last season closely"}
NEAR_FIX = ("compare its test scores with model=naive's before raising optim.lr or "
            "trainer.max_epochs")
PRESET_FIX = ("experiment={preset} is a paper's preset, its settings the paper's: keep them "
              "to reproduce the paper, and compare its test scores with the published ones "
              "(tsbench-report prints them){naive}")
#: The fix for a preset's run whose command line changed the paper's settings
#: (``{changed}``, e.g. ``trainer.max_epochs=1``): those, not the paper's, trained it.
PRESET_CHANGED_FIX = ("experiment={preset} is a paper's preset, but {changed} changed its "
                      "settings: drop {them} to reproduce the paper, and compare its test "
                      "scores with the published ones (tsbench-report prints them){naive}")
#: The settings of a paper's preset that, set on the command line, make its run another
#: training than the paper's: :data:`tsbench.preset_check.PRESET_KEYS` and a batch limit.
CHANGED_KEYS = (*PRESET_KEYS, "trainer.limit_train_batches")
#: What a classical model worse than the reference should change: its season and settings
#: (its class's ``settings``, ``{settings}`` here).
CLASSICAL_ADVICE = ("it fits the series worse than repeating its last season: check "
                    "model.period against the series' season (tsbench-analyze prints the "
                    "training rows' dominant periods), or its settings ({settings})")
#: The advice (:func:`advice`'s) for a multirun's jobs of a kind, said once for them all:
#: a trained model's far from the reference, near it (:attr:`Gap.near`), or of a preset.
SWEEP_ADVICE = {
    "trained": "not learnt: raise optim.lr or trainer.max_epochs (see README \"Your own "
               "CSV\"), or tune the model with tsbench-tune",
    "near": (f"within {round(100 * (NEAR_REFERENCE - 1))}% of a forecast that learns nothing, "
             "hard to beat where the series wanders like a random walk (exchange rates) or "
             "repeats its last season closely: compare their test scores with model=naive's "
             "before raising optim.lr or trainer.max_epochs"),
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
    better naive forecast's on the same windows (``naive``: the reference; ``last_value``:
    whether it repeats the last value rather than the last season; ``other``: the other
    forecast's MSE, None where the run recorded only the seasonal one); ``kind`` as
    :func:`model_kind` says."""

    kind: str
    mse: float
    naive: float
    folds: int | None
    last_value: bool = False
    other: float | None = None

    @property
    def near(self) -> bool:
        """Whether the model scores near the reference (:data:`NEAR_REFERENCE`)."""
        return self.mse <= NEAR_REFERENCE * self.naive


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
    validation MSE (the folds' mean with ``cv=tscv``) above the better of the seasonal
    naive and naive forecasts' (the seasonal one alone for a run saved before the naive
    one was recorded); None where it does not, or the run scores no validation (a
    refit)."""
    tscv = cfg.cv.name == "tscv"
    seasonal = metrics.get(f"cv_{NAIVE_VAL_KEY}_mean" if tscv else NAIVE_VAL_KEY)
    last = metrics.get(f"cv_{LAST_VALUE_VAL_KEY}_mean" if tscv else LAST_VALUE_VAL_KEY)
    mse = metrics.get("cv_val_mse_mean" if tscv else "val_mse")
    if seasonal is None or mse is None:
        return None
    last_value = last is not None and last < seasonal
    naive, other = (last, seasonal) if last_value else (seasonal, last)
    if mse <= naive:
        return None
    kind = model_kind(cfg.model)
    if kind is None:
        return None
    return Gap(kind, mse, naive, len(metrics.get("cv_folds") or []) if tscv else None,
               last_value, other)


def preset_fix(preset: str, overrides: list[str], near: bool) -> str:
    """The fix for a run of a paper's ``preset`` worse than the reference: keep the paper's
    settings, or, where the command line (``overrides``, Hydra's task overrides) set any of
    :data:`CHANGED_KEYS` (``trainer.max_epochs=1``), drop those: the run did not train as the
    paper did. ``near``: compare with ``model=naive`` too (:attr:`Gap.near`)."""
    naive = " and model=naive's" if near else ""
    changed = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in CHANGED_KEYS]
    if not changed:
        return PRESET_FIX.format(preset=preset, naive=naive)
    return PRESET_CHANGED_FIX.format(preset=preset, changed=" ".join(changed), naive=naive,
                                     them=word_for(len(changed), "it", "them"))


def advice(kind: str, model_cfg: Any, tune_stage: str | None = None, *,
           gap: Gap | None = None, preset: str | None = None,
           overrides: list[str] | None = None) -> str | None:
    """What a model of ``kind`` worse than the reference should change; in
    a tsbench-tune stage (its name, e.g. ``a_baseline``) a trained model's stage advice
    (:data:`TUNE_ADVICE`), None where that stage says nothing. A trained model near the
    reference (``gap``: :attr:`Gap.near`) is told the reference is hard to beat, not that
    it has not learnt; one of an ``experiment=`` preset (``preset``) is told the settings
    are a paper's, to keep and compare with the paper, not to change, or to restore where
    its command line (``overrides``) changed them (:func:`preset_fix`)."""
    if kind == "classical":
        return CLASSICAL_ADVICE.format(settings=getattr(model_class(model_cfg), "settings",
                                                        "model"))
    if tune_stage:
        return TUNE_ADVICE.get(tune_stage[0], TUNE_ADVICE_LATER)
    near = gap is not None and gap.near
    said = NEAR.format(percent=round(100 * (gap.mse / gap.naive - 1)),
                       where=NEAR_WHERE[gap.last_value]) if near else NOT_LEARNT
    if preset:
        fix = preset_fix(preset, overrides or [], near)
    else:
        fix = NEAR_FIX if near else NOT_LEARNT_FIX
    return f"{said}: {fix}"


def not_learnt_warning(model: str, gap: Gap, seasons: list[int], fix: str) -> str:
    """The run's line where its validation MSE is above the better naive forecast's on the
    same windows (``gap``), naming which and giving the other's, with the ``fix``
    (:func:`advice`)."""
    what = f"mean val MSE over {gap.folds} folds" if gap.folds else "val MSE"
    season = (f"season {seasons[0]}" if len(seasons) == 1 else
              f"seasons {', '.join(map(str, seasons))} by fold")
    if gap.last_value:
        reference = "naive"
        detail = f"the last value; seasonal naive, {season}: {significant(gap.other, 4)}"
    else:
        reference = "seasonal naive"
        detail = season + ("" if gap.other is None else
                           f"; naive, the last value: {significant(gap.other, 4)}")
    return (f"{model}'s {what} {significant(gap.mse, 4)} is worse than the {reference} "
            f"forecast's {significant(gap.naive, 4)} on the same windows ({detail}) -> {fix}")


def sweep_summary(runs: dict[int, LoadedRun], log_name: str) -> list[str]:
    """A multirun's lines for its jobs worse than the better naive forecast
    (:func:`reference_gap`), one per advice (:data:`SWEEP_ADVICE`; a paper's preset's, as
    :func:`advice` words it), naming the jobs: each job's own line, with its numbers, is in
    its log file (``log_name``) alone, not said N times for N jobs. ``runs``: its finished
    jobs by number, a resume's finished before included."""
    worse: dict[str, list[int]] = {}
    for number, run in sorted(runs.items()):
        gap = reference_gap(run.config, run.metrics)
        if gap is None:
            continue
        if gap.kind == "classical":
            said = SWEEP_ADVICE["classical"]
        else:
            preset = config_choice(run.root, "experiment")
            said = (preset_fix(preset, task_overrides(run.root), gap.near) if preset else
                    SWEEP_ADVICE["near" if gap.near else "trained"])
        worse.setdefault(said, []).append(number)
    return [f"{word_for(len(jobs), 'job', 'jobs')} {', '.join(map(str, jobs))} "
            f"({len(jobs)} of the {counted(len(runs), 'finished job')}) "
            f"{word_for(len(jobs), 'scores', 'score')} a val MSE worse than the better naive "
            "forecast's (the last value or the last season repeated) on the same windows "
            f"(each job's {log_name} gives both) -> {said}"
            for said, jobs in worse.items()]
