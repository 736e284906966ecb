"""The run function: config in -> trained model, metrics and outputs in the run directory.

The CLI and every sweep go through :func:`run`; it returns the metrics, and the task
function hands the validation objective (never a test metric) to the sweeper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.accelerators import CUDAAccelerator, MPSAccelerator

from tsbench.config_values import check_interpolations, flag, number, whole
from tsbench.counted import counted, word_for
from tsbench.data.datamodule import ForecastData
from tsbench.data.loading import Series, check_features, load_series
from tsbench.data.seasons import frequency_season, mase_season
from tsbench.data.splits import Borders, benchmark_borders, n_windows
from tsbench.data.unusual_validation import naive_mse_ratio, unusual_validation_warning
from tsbench.errors import ConfigError, too_small
from tsbench.log_lines import FILE_ONLY
from tsbench.models.build import check_model_settings, model_class
from tsbench.models.layers.kernels import fast_kernels
from tsbench.models.recursive import strategy_step
from tsbench.resolvers import data_name
from tsbench.rundir import FORECAST_PLOT, write_config, write_metrics, write_protocol
from tsbench.search.job_folder import written_by
from tsbench.search.names import REFIT_IN_SEARCH
from tsbench.training.allocator import release_gpu_memory, run_memory
from tsbench.training.crossval import clean_folds, cross_validate, fold_blocks, refit_and_score
from tsbench.training.evaluate import (
    MASE_KEY,
    forecast_windows,
    mase_undefined_warning,
)
from tsbench.training.flat_channels import FLAT_KEY, flat_warning
from tsbench.training.gpu import out_of_memory, out_of_memory_error, trainer_devices
from tsbench.training.loggers import (
    build_logger,
    end_broken_off,
    log_artifacts,
    log_final_metrics,
    log_protocol,
)
from tsbench.training.lr_find import lr_find_settings
from tsbench.training.model_check import trains_on_cpu
from tsbench.training.naive_reference import advice, not_learnt_warning, reference_gap
from tsbench.training.plots import plot_forecasts
from tsbench.training.protocol import filled_scored_channels, protocol_card, pruned_card
from tsbench.training.pruning import TrialPruned, pruned_metrics, trial_pruning
from tsbench.training.schedules import WARMUP_KEY, check_schedule, warmup_warning
from tsbench.training.search_trial import (
    command_settings,
    experiment_preset,
    in_search,
    scores_test,
    summed_by_sweep,
)
from tsbench.training.step_memory import check_step_memory
from tsbench.training.threads import apply_threads
from tsbench.training.train_and_score import DEVICE_KEY, fit_and_score
from tsbench.training.trainer import check_cpu_precision, precision
from tsbench.tune_stage import tune_stage

log = logging.getLogger(__name__)

#: The number a sweeper optimizes, per cross-validation mode (a refit has no validation).
OBJECTIVE = {"holdout": "val_mse", "tscv": "cv_val_mse_mean", "refit": None}
#: Lightning's GPU accelerator names and the backends each can use.
GPU_BACKENDS = {"gpu": (CUDAAccelerator, MPSAccelerator), "cuda": (CUDAAccelerator,),
                "mps": (MPSAccelerator,)}


def validate_config(cfg: Any, here: bool = True) -> None:
    """Fail before any data is read when a top-level setting is impossible (``here``: on
    this machine too, its GPUs; not for a sweep's values, whose trials a launcher such as
    SLURM may run on GPU nodes)."""
    check_interpolations(cfg)
    for key, what in (("seq_len", "the look-back"), ("pred_len", "the horizon")):
        if whole(cfg[key], key) < 1:
            raise too_small(key, cfg[key], 1, f"{what} in time steps", 96)
    whole(cfg.seed, "seed")
    check_features(cfg.features)
    for key in ("batch_size", "eval_batch_size"):
        if whole(cfg.data[key], f"data.{key}") < 1:
            raise too_small(f"data.{key}", cfg.data[key], 1, "the windows per batch", 32)
    if number(cfg.optim.lr, "optim.lr", "0.001") <= 0:
        raise too_small("optim.lr", cfg.optim.lr, 0, "the learning rate", 0.001, strict=True)
    if number(cfg.optim.weight_decay, "optim.weight_decay") < 0:
        raise ConfigError("optim.weight_decay", f"must be >= 0, got {cfg.optim.weight_decay}")
    check_schedule(cfg.optim)
    if whole(cfg.trainer.max_epochs, "trainer.max_epochs") < 1:
        raise too_small("trainer.max_epochs", cfg.trainer.max_epochs, 1,
                        "the epochs to train at most", 10)
    if whole(cfg.trainer.patience, "trainer.patience") < 0:
        raise ConfigError("trainer.patience", f"must be >= 0, got {cfg.trainer.patience}",
                          "use 0 to turn early stopping off, or the epochs without a better "
                          "validation loss to wait for (e.g. 3)")
    limit = cfg.trainer.get("limit_train_batches")
    if limit is not None and number(limit, "trainer.limit_train_batches") <= 0:
        raise ConfigError("trainer.limit_train_batches", f"must be > 0, got {limit}: no batch "
                          "would train, and the untrained model would be scored",
                          "give the batches per epoch (e.g. 10), a share of them in (0, 1], "
                          "or null for all")
    precision(cfg.trainer)  # one the weights stay float32 at
    accelerator = str(cfg.trainer.accelerator)  # "auto" trains on this machine's device
    check_cpu_precision(cfg.trainer, trains_on_cpu(accelerator) if here else accelerator == "cpu")
    clip = cfg.trainer.get("gradient_clip_val")
    if clip is not None and number(clip, "trainer.gradient_clip_val") < 0:
        raise ConfigError("trainer.gradient_clip_val", f"must be >= 0, got {clip}",
                          "give the gradient norm to clip at, or null for no clipping")
    if not cfg.model.get("name"):
        raise ConfigError("model.name", "is not set", "add 'name: <model>' to the model's YAML "
                          "(the name its runs are reported and plotted under)")
    threads = cfg.trainer.get("num_threads")
    if threads is not None and whole(threads, "trainer.num_threads") < 1:
        raise ConfigError("trainer.num_threads", f"must be >= 1, got {threads}",
                          "give torch's threads per run, or null for the cores shared out")
    if whole(cfg.trainer.progress_refresh, "trainer.progress_refresh") < 1:
        raise ConfigError("trainer.progress_refresh", f"must be >= 1, got "
                          f"{cfg.trainer.progress_refresh}", "give the steps between refreshes "
                          "(trainer.progress_bar=false hides the bar)")
    scores_test(cfg)  # refuses a score_test that is not true, false or null
    for key in ("data.drop_last", "trainer.fast_kernels", "trainer.deterministic",
                "trainer.progress_bar", "trainer.pin_memory", "model.compile", "tune.lr_find",
                "tune.lr_find_apply", "cv.refit", "dataset.dayfirst"):
        value = OmegaConf.select(cfg, key, default=None)
        if value is not None:
            flag(value, key)
    if cfg.tune.lr_find:
        lr_find_settings(cfg.tune)
    check_model_settings(cfg.model)
    backends = GPU_BACKENDS.get(accelerator, ())
    if here and backends and not any(backend.is_available() for backend in backends):
        raise ConfigError(
            "trainer.accelerator",
            f"'{accelerator}' asks for a GPU, but torch {torch.__version__} finds none",
            "use trainer=cpu, or a GPU build of torch on a machine with a GPU")
    if here:
        trainer_devices(cfg.trainer)
    if str(cfg.cv.name) not in OBJECTIVE:
        raise ConfigError("cv", f"unknown cross-validation '{cfg.cv.name}'",
                          "use holdout, tscv or refit")
    if cfg.cv.get("refit") and not scores_test(cfg):
        if cfg.score_test is None:
            raise ConfigError("cv.refit", *REFIT_IN_SEARCH)
        raise ConfigError("cv.refit", "scores the test split, but score_test=false",
                          "drop cv.refit=true, or set score_test=true")
    strategy_step(cfg)  # unknown strategies and impossible steps too


#: A pruned run's metrics its tracker gets, so that its runs list tells it from a finished
#: or a crashed one; not its objective, an early epoch's, which would sort beside full ones.
PRUNED_LOGGED = ("pruned_at_epoch", "epochs", "train_seconds")


def run(cfg: DictConfig, run_dir: Path, parallel_jobs: int = 1,
        started: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run one configuration; write ``config.yaml``, plots, checkpoint, ``protocol.json``
    and, last, ``metrics.json`` into ``run_dir`` (a trial its sweep pruned: the card and
    :func:`pruned_metrics`). Returns the metrics, ``objective`` included;
    ``score_test`` is resolved (:func:`scores_test`) and saved so. ``started`` is called
    once the data is read and the run's logger made, as training begins: the command says
    the folder then, where a long run's logs can be watched (a refusal before says nothing
    on stdout)."""
    validate_config(cfg)
    cfg.score_test = scores_test(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    threads = apply_threads(cfg.trainer.num_threads, parallel_jobs)
    fast = bool(cfg.trainer.fast_kernels)
    try:
        with fast_kernels(fast), run_memory(fast):  # undone when the run fails too
            return _run(cfg, run_dir, threads, started)
    except Exception as error:
        if not out_of_memory(error):
            raise
        failure = out_of_memory_error(error, parallel_jobs)
    finally:
        release_gpu_memory()  # also when the run fails: other trials share the GPU
    raise failure  # after the release: the failed run's tensors died with its traceback


def _run(cfg: DictConfig, run_dir: Path, threads: int,
         started: Callable[[], None] | None) -> dict[str, Any]:
    began = time.perf_counter()
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    check_step_memory(cfg, series, borders)  # before the kernel's OOM killer ends it
    write_config(run_dir, cfg)
    _warn_filled(cfg, series, borders)
    _warn_short_season(cfg, series, borders)
    _warn_few_val_windows(cfg, borders)
    ratio = _warn_unusual_validation(cfg, series)
    logger = build_logger(cfg, run_dir)
    if started is not None:
        started()
    try:
        return _logged_run(cfg, series, borders, run_dir, logger, threads, began, ratio)
    except BaseException as error:  # a stop from outside too: its tracker run says which
        end_broken_off(logger, error, run_dir)
        raise


def _logged_run(cfg: DictConfig, series: Series, borders: Borders, run_dir: Path,
                logger: Any, threads: int, began: float, ratio: float | None) -> dict[str, Any]:
    """Train, score and record the run (started at ``began``, a ``perf_counter``) with
    its tracker's ``logger``, which it ends once the run's files are attached; its card
    keeps the unusual-validation check's ``ratio`` (:func:`_warn_unusual_validation`)."""
    try:
        metrics, data = _fit(cfg, series, borders, run_dir, logger)
    except TrialPruned as stopped:  # a pruning sweep stopped this trial: no test scores
        if stopped.warmup:
            log.warning(warmup_warning(stopped.warmup))
        metrics = pruned_metrics(cfg, run_dir, stopped, threads)
        metrics["run_seconds"] = round(time.perf_counter() - began, 3)  # as a finished run's
        metrics.update(written_by())  # a resume adopts it for this job only
        card = pruned_card(cfg, series, borders, metrics, run_dir, stopped.trained_on)
        write_protocol(run_dir, card)
        log_protocol(logger, card)  # its tracker run says how it was stopped, and closes
        log_final_metrics(logger, {k: metrics[k] for k in PRUNED_LOGGED if k in metrics}, cfg)
        write_metrics(run_dir, metrics)  # last, as a finished run's
        log_artifacts(logger, run_dir)
        return metrics
    objective = OBJECTIVE[str(cfg.cv.name)]
    metrics["objective"] = None if objective is None else metrics[objective]
    step = strategy_step(cfg)
    metrics.update(seed=int(cfg.seed), threads=threads, step=step or int(cfg.pred_len),
                   strategy="direct" if step is None else "recursive")
    # reading, training, scoring: the process's start left out (a sweep's trials share one)
    metrics["run_seconds"] = round(time.perf_counter() - began, 3)
    metrics.update(written_by())  # a resume adopts it for this job only
    if overruns := metrics.pop(WARMUP_KEY, None):  # the log's, not a metric
        log.warning(warmup_warning(overruns))
    if undefined := metrics.pop(MASE_KEY, None):  # the log's, not a metric
        log.warning(mase_undefined_warning(undefined))
    _warn_not_learnt(cfg, series, borders, metrics)
    flat = metrics.pop(FLAT_KEY, None)  # the card's, not a metric (None: not checked)
    if flat:
        clean = clean_folds(cfg, series, borders) if cfg.cv.name == "tscv" else None
        log.warning(flat_warning(cfg, flat, clean))
        flat = [{**entry, "clean_folds": clean} if "fold" in entry else entry
                for entry in flat]  # the report's advice names those folds too
    trained_on = metrics.pop(DEVICE_KEY)  # the card's, not a metric
    card = protocol_card(cfg, series, borders, metrics, run_dir, data, flat, ratio,
                         trained_on=trained_on)
    write_protocol(run_dir, card)  # before metrics.json, which marks a finished run
    try:  # a tracker's error (a store refusing a name, a server gone) loses no score
        log_protocol(logger, card)
        log_final_metrics(logger, metrics, cfg)
    finally:
        write_metrics(run_dir, metrics)
    log_artifacts(logger, run_dir)
    return metrics


def _fit(cfg: DictConfig, series: Series, borders: Borders, run_dir: Path, logger: Any
         ) -> tuple[dict[str, Any], ForecastData | None]:
    """Train and score as ``cv`` says: the metrics, and the holdout data (None for
    cross-validation, whose folds each had their own); raises :class:`TrialPruned` where a
    pruning sweep stopped the run."""
    pruning = trial_pruning(cfg)  # None unless a pruning sweep launched this run
    if cfg.cv.name == "tscv":
        return cross_validate(cfg, series, borders, run_dir, logger, pruning), None
    if cfg.cv.name == "refit":
        return _refit(cfg, series, borders, run_dir, logger)
    ranges = {"train": borders.train, "val": borders.val}
    if cfg.score_test:
        ranges["test"] = borders.test
    metrics, model, data = fit_and_score(cfg, series, ranges, run_dir, logger, pruning=pruning)
    _plot(model, data, series, run_dir, cfg)
    return metrics, data


def _warn_filled(cfg: DictConfig, series: Series, borders: Borders) -> None:
    """Say where filled cells are scored as if observed: in the target rows this run scores
    (:func:`_scored_rows`; with ``cv=tscv`` its folds' validation blocks, while the card's
    ``filled.in_target_rows`` counts the published splits' rows)."""
    if series.filled is None:
        return
    cells = filled_scored_channels(series.filled, str(cfg.features))
    counts = {where: sum(int(cells[start:end].sum()) for start, end in spans)
              for where, spans in _scored_rows(cfg, borders).items()}
    scored = {where: n for where, n in counts.items() if n}
    if scored:
        where = ", ".join(f"{n} in {split}" for split, n in scored.items())
        log.warning("dataset.fillna=%s filled scored target cells (%s): they are scored as "
                    "if observed -> where they matter, fill the file from a better source",
                    cfg.dataset.fillna, where)


def _scored_rows(cfg: DictConfig, borders: Borders) -> dict[str, list[tuple[int, int]]]:
    """The target rows a run scores, by where: the validation split (holdout), the folds'
    validation blocks (``cv=tscv``: no validation split of its own), and the test split
    where it is scored (a refit's, with ``cv=tscv``)."""
    seq_len = int(cfg.seq_len)
    test = {"test": [(borders.test[0] + seq_len, borders.test[1])]} if scores_test(cfg) else {}
    if cfg.cv.name == "tscv":
        return {"the folds' validation blocks": [block for _, block in _folds(cfg, borders)]} | (
            test if cfg.cv.refit else {})
    if cfg.cv.name == "refit":
        return test
    return {"val": [(borders.val[0] + seq_len, borders.val[1])]} | test


def _folds(cfg: DictConfig, borders: Borders) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(training rows, validation block) of each ``cv=tscv`` fold (:func:`fold_blocks`)."""
    return fold_blocks(borders.val[1], int(cfg.seq_len), int(cfg.pred_len), cfg.cv,
                       val_rows=borders.val[1] - borders.train[1])


def _warn_short_season(cfg: DictConfig, series: Series, borders: Borders) -> None:
    """Say where MASE is scaled by the one-step naive forecast because the training rows
    (a fold's, with ``cv=tscv``) hold no more than one of the frequency's seasons (the card
    says so too)."""
    season = frequency_season(series.freq)
    spans = {"the": borders.train}  # the scaler's rows: the published training rows
    if cfg.cv.name == "tscv":
        spans = {f"fold_{k}'s": train for k, (train, _) in enumerate(_folds(cfg, borders))}
        spans.update({"the refit's": borders.train} if cfg.cv.refit else {})
    short = {whose: end - start for whose, (start, end) in spans.items()
             if mase_season(series.freq, end - start) != season}
    if short:
        rows = ", ".join(f"{whose} {n}" for whose, n in short.items())
        log.warning("MASE is scaled by the one-step naive forecast (season 1) where the "
                    "training rows hold no more than one season of %d steps (freq %s): %s "
                    "training rows -> compare its MASE only with runs scaled so "
                    "(protocol.json: metrics_scale.mase_season)", season, series.freq, rows)


def _warn_not_learnt(cfg: DictConfig, series: Series, borders: Borders,
                     metrics: dict[str, Any]) -> None:
    """Say where a model that fits anything scores a validation MSE (the folds' mean with
    ``cv=tscv``) above the better of the naive and seasonal naive forecasts' on the same
    windows (:func:`reference_gap`), with the advice for its kind, its gap, its preset and
    the command (:func:`advice`).
    Not in a search's trials (poor ones are expected there). In a job of tsbench's plain
    multirun, in its log file alone: the sweep names such jobs once, in one line."""
    gap = reference_gap(cfg, metrics)
    fix = None if gap is None or in_search() else advice(
        gap.kind, cfg.model, tune_stage(), gap=gap, preset=experiment_preset(),
        overrides=command_settings())
    if gap is None or fix is None:
        return
    tscv = cfg.cv.name == "tscv"
    spans = [train for train, _ in _folds(cfg, borders)] if tscv else [borders.train]
    seasons = sorted({mase_season(series.freq, end - start) for start, end in spans})
    log.warning(not_learnt_warning(str(cfg.model.name), gap, seasons, fix),
                extra=FILE_ONLY if summed_by_sweep() else None)


#: Fewer validation windows than this make early stopping, the best epoch and a search's
#: objective rest on a handful of overlapping windows: said once per run.
MIN_VAL_WINDOWS = 10


def _warn_few_val_windows(cfg: DictConfig, borders: Borders) -> None:
    """Say where a holdout run's validation split holds only a few windows (ILI at
    pred_len=96: 2 of its 97 validation rows' windows)."""
    seq_len, pred_len = int(cfg.seq_len), int(cfg.pred_len)
    if cfg.cv.name != "holdout" or n_windows(borders.train[1] - borders.train[0], seq_len,
                                             pred_len) < 1:  # refused next, with the reason
        return
    count = n_windows(borders.val[1] - borders.val[0], seq_len, pred_len)
    if 0 < count < MIN_VAL_WINDOWS:  # none: the data checks refuse the run
        rests = ("early stopping, the best epoch and a search's objective" if
                 model_class(cfg.model).trainable else "its validation scores and a search's "
                 "objective")
        log.warning("the validation split holds %s of seq_len %s + pred_len %s: "
                    "%s rest on %s -> a shorter pred_len, or cv=tscv (validation blocks of "
                    "the training rows)", counted(count, "window"), cfg.seq_len, cfg.pred_len,
                    rests, word_for(count, "it", "them"))


def _warn_unusual_validation(cfg: DictConfig, series: Series) -> float | None:
    """Say where a holdout run's validation rows are unusual (:mod:`.unusual_validation`):
    its early stopping and best epoch fit that period; returns the ratio checked (None:
    not checked, or none). Not in a search's trials (the sweep's command is one, said by
    each trial), nor for a model that does not train. In a job of a plain multirun, or a
    tsbench-tune stage, in its log file alone: the sweep says it once for its jobs
    (:mod:`.sweep_summary`), tsbench-tune once for its stages."""
    if cfg.cv.name != "holdout" or in_search() or not model_class(cfg.model).trainable:
        return None
    ratio = naive_mse_ratio(series, int(cfg.pred_len), str(cfg.features) in ("S", "MS"))
    said = unusual_validation_warning(ratio)
    if said:
        log.warning("%s", said, extra=FILE_ONLY if summed_by_sweep() or tune_stage() else None)
    return ratio


def _refit(cfg: DictConfig, series: Series, borders: Borders, run_dir: Path, logger: Any
           ) -> tuple[dict[str, Any], ForecastData]:
    """``cv=refit``: :func:`refit_and_score` for exactly ``trainer.max_epochs``."""
    metrics, model, data = refit_and_score(cfg, series, borders, run_dir, logger)
    metrics["splits_read"] = sorted({*data.ranges, "val"})  # val rows were trained on
    if cfg.score_test:
        _plot(model, data, series, run_dir, cfg)
    return metrics, data


def _plot(model: Any, data: ForecastData, series: Series, run_dir: Path, cfg: Any) -> None:
    if not cfg.plots:
        return
    split = "test" if "test" in data.ranges else "val"
    count = len(data.windows(split))
    starts = sorted({0, count // 2, count - 1})
    x, y, pred = forecast_windows(model, data, split, starts)
    channel = series.columns[-1]  # the target is always the last column
    title = (f"{cfg.model.name} on {data_name(cfg.dataset)}: seq_len={cfg.seq_len}, "
             f"pred_len={cfg.pred_len}, features={cfg.features}")
    first = data.ranges[split][0]  # window k reads rows first + k on, look-back then horizon
    span = data.seq_len + data.pred_len
    dates = [series.dates[first + start:first + start + span] for start in starts]
    plot_forecasts(x.numpy(), y.numpy(), pred.numpy(), starts, dates, channel, title,
                   run_dir / FORECAST_PLOT, split=split)


