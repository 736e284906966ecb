"""The run directory: the names of its files, how they are written, and how a finished
run is read back.

A run directory holds what one ``tsbench`` run leaves behind. ``metrics.json`` is written
last and atomically, so a directory with it is a finished run and one without it an
unfinished or failed one. Every reader and writer of these files (training, report, tune,
tracking) goes through this module; nothing else spells their names.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from tsbench.atomic import write_bytes, write_json, write_text
from tsbench.counted import counted
from tsbench.errors import ConfigError
from tsbench.literal_text import literal_values
from tsbench.user_paths import user_path

log = logging.getLogger(__name__)

#: The resolved config of the run.
CONFIG = "config.yaml"
#: Hydra's own copy of the composed config (older runs may only have this one).
HYDRA_CONFIG = ".hydra/config.yaml"
#: Hydra's record of the run, with the option each config group took (runtime.choices).
HYDRA_RECORD = ".hydra/hydra.yaml"
#: Hydra's list of the command line's overrides.
HYDRA_OVERRIDES = ".hydra/overrides.yaml"
#: The scores, written last: its presence marks a finished run.
METRICS = "metrics.json"
#: Config keys (prefixes) that do not change a run's numbers: where logs go, progress
#: output, pictures, how many threads or windows per scoring batch, the ``pruning`` block a
#: pruning sweep gives its trials (where to report, job and trial numbers, the rule; a trial it
#: stopped is left out, one that ran its budget computed what a plain run does). Runs that
#: differ only in these are one configuration, in tsbench-report's cells and in a tracker's
#: summary of a sweep.
SCORE_NEUTRAL = ("seed", "logger.", "plots", "trainer.progress_bar", "trainer.progress_refresh",
                 "trainer.num_threads", "data.eval_batch_size", "pruning.")
#: Held while a run whose folder the command names writes there (:func:`tsbench.cli.holding`).
RUN_LOCK = "run.lock"
#: The protocol card: data, split, scaler, windows, training budget, versions (written
#: just before metrics.json; runs saved before it existed have none).
PROTOCOL = "protocol.json"
#: Per-window error of a scored split, float32 in window order (``val``/``test``), one file
#: per metric in ``SAVED_WINDOW_METRICS`` (runs saved before the MAE files have only the MSE
#: ones, before the MASE and sMAPE files only those two, before the original-unit files none).
WINDOW_ERRORS = "{split}_window_{metric}.npy"
WINDOW_METRICS = ("mse", "mae", "mase", "smape")
#: The per-window errors a run saves: :data:`WINDOW_METRICS` and the MSE and MAE in the
#: data's own units (``test_window_mse_orig.npy``).
SAVED_WINDOW_METRICS = (*WINDOW_METRICS, "mse_orig", "mae_orig")
#: The best-validation weights, as Lightning's checkpoint.
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_NAME = "best"
CHECKPOINT = f"{CHECKPOINT_DIR}/{CHECKPOINT_NAME}.ckpt"
#: The prefix of the model's weights in the checkpoint's state dict (the LightningModule's
#: ``model`` attribute).
STATE_PREFIX = "model."
#: Per-epoch metrics of the CSV and TensorBoard loggers.
LOGS = "logs"
TENSORBOARD = "tensorboard"
#: Pictures: forecasts of three windows, the loss curves, the learning-rate range test.
FORECAST_PLOT = "forecast.png"
LOSS_PLOT = "loss.png"
LR_FIND_PLOT = "lr_find.png"
#: The learning-rate range test's numbers.
LR_FIND = "lr_find.json"
#: ``tsbench-analyze``: look-back candidates and the ACF picture.
LOOKBACK = "lookback.yaml"
ACF_PLOT = "acf.png"
#: Outputs a tracker (MLflow) attaches to its run.
ARTIFACTS = (FORECAST_PLOT, LOSS_PLOT, METRICS, PROTOCOL, CONFIG, LR_FIND_PLOT)


def fold_dir(run_dir: Path, fold: int) -> Path:
    """Where cross-validation fold ``fold`` (from 0) keeps its outputs."""
    return run_dir / f"fold_{fold}"


def fold_part(fold: int, n_folds: int) -> str:
    """Fold ``fold`` (from 0) in words that cannot be read as counted from 1: its folder and
    its place, ``fold_1, the 2nd of 3 folds``."""
    place = fold + 1
    suffix = "th" if 11 <= place % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10,
                                                                                    "th")
    return f"{fold_dir(Path(), fold).name}, the {place}{suffix} of {n_folds} folds"


def fold_metric(fold: int, key: str = "") -> str:
    """The name of fold ``fold``'s ``key`` in its run's metrics.json (``fold_1_val_mse``);
    without ``key``, the prefix of them all."""
    return f"fold_{fold}_{key}"


def write_config(run_dir: Path, cfg: DictConfig) -> None:
    """``config.yaml``: ``cfg`` resolved, its literal ``${`` (a column named ``cost ${usd}``,
    given as ``cost \\${usd}``) kept escaped, so that reading the run back reads the values
    it ran with, not an interpolation that cannot resolve."""
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    write_text(run_dir / CONFIG, OmegaConf.to_yaml(literal_values(resolved)))


def remove_refused(run_dir: Path, job_log: str, found: Path | None = None) -> None:
    """Delete the directory of a run refused for bad input if it holds nothing but what such
    a run writes: Hydra's ``.hydra/`` files, the job log (file name ``job_log``),
    ``config.yaml`` and its lock (:data:`RUN_LOCK`). Anything else (metrics, checkpoints,
    logs, a user's own files) keeps it, and so does the folder above it. A directory that
    existed before the command (``found``: a user's own, empty folder) stays, emptied of
    what the run wrote."""
    hydra_dir = Path(HYDRA_CONFIG).parent.as_posix()
    if run_dir.is_symlink() or (run_dir / hydra_dir).is_symlink() or not run_dir.is_dir():
        return
    allowed = {hydra_dir, CONFIG, job_log, HYDRA_CONFIG, HYDRA_RECORD, HYDRA_OVERRIDES, RUN_LOCK}
    written = {p.relative_to(run_dir).as_posix(): p for p in run_dir.rglob("*")}
    if not (set(written) <= allowed and all(p.is_dir() == (name == hydra_dir)
                                            for name, p in written.items())):
        return
    if found is None or run_dir.absolute() != found.absolute():
        shutil.rmtree(run_dir, ignore_errors=True)  # Windows: the open job log stays
        return
    for path in run_dir.iterdir():  # the lock is the command's to remove (cli.holding)
        if path.name == hydra_dir:
            shutil.rmtree(path, ignore_errors=True)
        elif path.name != RUN_LOCK:
            path.unlink(missing_ok=True)


def clear_unfinished(run_dir: Path, job_log: str) -> None:
    """Delete what an unfinished run (killed, or failed) wrote in ``run_dir``, so that the
    same job runs there again as in a new folder (TensorBoard would otherwise show the
    killed run's events beside the new ones): Hydra's ``.hydra/`` files, the job log (file
    name ``job_log``) and tsbench's outputs, by their names. Anything else stays; a
    finished run's folder is left whole."""
    if (run_dir / METRICS).exists() or not run_dir.is_dir() or run_dir.is_symlink():
        return
    names = {Path(HYDRA_CONFIG).parent.as_posix(), job_log, CONFIG, PROTOCOL, RUN_LOCK,
             CHECKPOINT_DIR, LOGS, TENSORBOARD, FORECAST_PLOT, LOSS_PLOT, LR_FIND_PLOT, LR_FIND}
    windows = {WINDOW_ERRORS.format(split=split, metric=metric)
               for split in ("val", "test") for metric in SAVED_WINDOW_METRICS}
    for path in run_dir.iterdir():
        if path.name in names | windows or fold_number(path) is not None:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()



def ran_in(record: Path | Any) -> str | None:
    """The folder a command ran in, where its relative paths start: ``hydra.runtime.cwd``
    of a Hydra config, or of a Hydra record file (``multirun.yaml``, a job's
    :data:`HYDRA_RECORD`); None where not recorded."""
    if isinstance(record, Path):
        if not record.is_file():
            return None
        record = OmegaConf.load(record)
    cwd = OmegaConf.select(record, "hydra.runtime.cwd", default=None)
    return str(cwd) if cwd else None

#: The scaled scores a finished run's line shows, where its metrics have them (each beside
#: its twin in original units, where recorded: :func:`original_key`).
SCORES = ("test_mse", "test_mae", "val_mse", "cv_val_mse_mean")


def original_key(key: str) -> str:
    """The metrics.json key of a scaled score's twin in the data's own units:
    ``test_mse`` -> ``test_mse_orig``, ``cv_val_mse_mean`` -> ``cv_val_mse_orig_mean``."""
    stem, mean = (key.removesuffix("_mean"), "_mean") if key.endswith("_mean") else (key, "")
    return f"{stem}_orig{mean}"


def figures(metrics: dict[str, Any]) -> str:
    """A finished run's scores in one line, the scaled ones (the published convention) and,
    where the run recorded them, their twins in the data's own units (``test_mse=0.4123
    ... (scaled)  test_mse_orig=1916.4 ... (original units)``); or that it scored nothing
    (``cv=refit score_test=false``: a model to use)."""
    keys = [k for k in SCORES if k in metrics]
    if not keys:
        return "nothing scored (no validation split, and score_test=false)"
    line = "  ".join(f"{k}={metrics[k]:.4f}" for k in keys) + " (scaled)"
    originals = [original_key(k) for k in keys if original_key(k) in metrics]
    if originals:  # 5 significant digits, trailing zeros kept: units may be of any size
        line += "  " + "  ".join(f"{k}={significant(metrics[k])}" for k in originals)
        line += " (original units)"
    return line


def significant(value: float, digits: int = 5) -> str:
    """``value`` to ``digits`` significant digits, its trailing zeros kept (``31.630``, not
    ``31.63`` beside ``37.043``), without a bare trailing point (``12345``)."""
    return f"{value:#.{digits}g}".removesuffix(".")


def write_metrics(run_dir: Path, metrics: dict[str, Any]) -> None:
    write_json(run_dir / METRICS, metrics)


def write_protocol(run_dir: Path, card: dict[str, Any]) -> None:
    write_json(run_dir / PROTOCOL, card)


def read_protocol(run_dir: Path) -> dict[str, Any] | None:
    """The run's protocol card, or None for a run saved before cards were written."""
    path = run_dir / PROTOCOL
    return json.loads(path.read_text()) if path.is_file() else None


#: One split's per-window errors by metric (:data:`SAVED_WINDOW_METRICS`; window order, the
#: means are the split's scores); ``mase`` is absent where the run's MASE is undefined.
WindowErrors = dict[str, np.ndarray]


def write_window_errors(run_dir: Path, split: str, errors: WindowErrors) -> None:
    """Save one split's per-window errors, one float32 ``.npy`` file per metric
    (``WINDOW_ERRORS``: ``test_window_mse.npy``, ``test_window_mae.npy``, ...)."""
    for metric, values in errors.items():
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(values, dtype="<f4"), allow_pickle=False)
        write_bytes(run_dir / WINDOW_ERRORS.format(split=split, metric=metric),
                    buffer.getvalue())


def read_window_errors(run_dir: Path, split: str, metric: str = "mse") -> np.ndarray | None:
    """One split's per-window ``metric`` (``SAVED_WINDOW_METRICS``), or None where the run saved
    none."""
    path = run_dir / WINDOW_ERRORS.format(split=split, metric=metric)
    return np.load(path, allow_pickle=False) if path.is_file() else None


def read_window_mse(run_dir: Path, split: str) -> np.ndarray | None:
    """One split's per-window MSE, or None where the run saved none."""
    return read_window_errors(run_dir, split, "mse")


def config_path(run_dir: Path) -> Path | None:
    """The run's saved config: ``config.yaml``, else Hydra's copy, else None."""
    for name in (CONFIG, HYDRA_CONFIG):
        if (run_dir / name).is_file():
            return run_dir / name
    return None


def config_choice(run_dir: Path, group: str) -> str | None:
    """The option the run took for a config group (``dataset`` -> ``ili``, whether the command
    line or a preset chose it), or None where it took none (``experiment``, unless given) or
    Hydra's record is missing."""
    path = run_dir / HYDRA_RECORD
    if not path.is_file():
        return None
    chosen = OmegaConf.load(path).hydra.runtime.choices.get(group)
    return None if chosen is None else str(chosen)


def task_overrides(run_dir: Path) -> list[str]:
    """The settings the run's command line gave it (Hydra's task overrides: a multirun job's
    with its own swept values), none where Hydra's record is missing."""
    path = run_dir / HYDRA_RECORD
    return list(OmegaConf.load(path).hydra.overrides.task) if path.is_file() else []


#: A run's own files at its top (with its job log, ``<job name>.log``) and its own folders:
#: Hydra's record, the weights, the loggers' files, and each cross-validation fold's outputs.
OWN_FILES = frozenset({
    CONFIG, METRICS, RUN_LOCK, PROTOCOL, FORECAST_PLOT, LOSS_PLOT, LR_FIND_PLOT, LR_FIND,
    LOOKBACK, ACF_PLOT, *(WINDOW_ERRORS.format(split=split, metric=metric)
                          for split in ("val", "test") for metric in SAVED_WINDOW_METRICS)})
OWN_FOLDERS = frozenset({Path(HYDRA_CONFIG).parent.as_posix(), CHECKPOINT_DIR, LOGS,
                         TENSORBOARD})


def is_finished(run_dir: Path) -> bool:
    return (run_dir / METRICS).is_file() and config_path(run_dir) is not None


def read_metrics(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / METRICS).read_text())


def read_config(run_dir: Path) -> DictConfig:
    path = config_path(run_dir)
    if path is None:
        raise FileNotFoundError(f"{run_dir} holds no {CONFIG}")
    return OmegaConf.load(path)  # type: ignore[return-value]


def tracker_copy(parts: tuple[str, ...]) -> bool:
    """Whether a path (its ``parts`` below the folder searched) lies in a tracker's copy of
    a run's files: a W&B run's folder (``wandb/run-*``, ``wandb/offline-run-*``) or MLflow
    artifacts (``mlartifacts/.../artifacts``, ``mlruns/.../artifacts``)."""
    for i, part in enumerate(parts[:-1]):
        if part == "wandb" and parts[i + 1].startswith(("run-", "offline-run-")):
            return True
        if part in ("mlartifacts", "mlruns") and "artifacts" in parts[i + 1:]:
            return True
    return False


def find_runs(roots: list[Path]) -> list[Path]:
    """Every finished run directory under ``roots``, each once, in path order; a tracker's
    copy of a run's files (:func:`tracker_copy`) is not a run."""
    found = {p.parent.resolve() for root in roots for p in Path(root).rglob(METRICS)
             if not tracker_copy(p.relative_to(root).parts)}
    return sorted(d for d in found if is_finished(d))


def started_jobs(roots: list[Path]) -> list[Path]:
    """The job directories under ``roots`` that Hydra started (its ``.hydra/config.yaml``),
    finished or not, in path order; a tracker's copy (:func:`tracker_copy`) is none."""
    return sorted({p.parent.parent.resolve() for root in roots
                   for p in Path(root).rglob(HYDRA_CONFIG)
                   if not tracker_copy(p.relative_to(root).parts)})


def unfinished_runs(roots: list[Path]) -> list[Path]:
    """The job directories under ``roots`` that Hydra started (:func:`started_jobs`) and
    that wrote no :data:`METRICS`: killed, failed or still running. A finished
    ``tsbench-analyze`` job (a tuning run's look-back stage) writes :data:`LOOKBACK`
    instead, and is none of them."""
    return [d for d in started_jobs(roots)
            if not (d / METRICS).is_file() and not (d / LOOKBACK).is_file()]


@dataclass
class LoadedRun:
    """A finished run read back: its config and metrics, and (built on first use) its
    series and its model: a trained one with its best-validation weights, in eval mode; a
    classical one fitted again on the run's training rows (the fit is deterministic and
    keeps no file)."""

    path: Path
    config: DictConfig
    metrics: dict[str, Any] = field(repr=False)

    @cached_property
    def series(self) -> Any:
        """The run's series, from ``dataset.path`` as the run had it, or, where that
        relative path is not found from here, from the absolute file its card names (for a
        published dataset, where ``$TSBENCH_DATA_DIR`` and the cache lack it); the file must
        be the one the run read (its card's sha256), or every split moves."""
        from tsbench.data.loading import load_series
        from tsbench.data.sources import UnpublishedFileError, dataset_file, file_sha256
        from tsbench.errors import DataError

        dataset = self.config.dataset
        path = dataset.get("path")
        recorded = self.card.get("dataset") or {}
        known = Path(recorded["file"]) if recorded.get("file") else None
        if path and known and not user_path(path).is_absolute() and not user_path(
                path).exists():
            dataset = OmegaConf.merge(dataset, {"path": str(known)})
        try:
            file = dataset_file(dataset, known)
        except DataError as error:  # a file found but edited is not about the card's
            if known is None or not known.is_file() or isinstance(error, UnpublishedFileError):
                raise
            raise DataError(f"{error}; the file its protocol card names, {known}, has changed "
                            "since the run (its sha256 differs)") from None
        if recorded.get("sha256") and file is not None and file.is_file() and file_sha256(
                file) != recorded["sha256"]:
            raise DataError(
                f"{file} is not the file the run {self.root} read (its sha256 differs from "
                f"the protocol card's {recorded['sha256'][:12]}...): its splits, scaler and "
                "windows would move -> restore the file the run read (rows appended to it "
                "since: keep its first rows there, and give the longer copy to "
                "tsbench-forecast --data), or make a new run on this one")
        return load_series(dataset, known)

    @cached_property
    def card(self) -> dict[str, Any]:
        """The run's protocol card (its own run's for a fold), read once; empty for a run
        saved before cards were written."""
        return read_protocol(self.root) or {}

    @cached_property
    def model(self) -> Any:
        import torch

        from tsbench.models.build import model_for
        from tsbench.models.history import HistoryModel

        self._check_model_imports()
        model = model_for(self.config, self.series)
        folds = self.metrics.get("cv_folds")
        if isinstance(model, HistoryModel):
            self._fit_history(model)
        elif model.trainable:
            if folds and not (self.path / CHECKPOINT).is_file():
                raise FileNotFoundError(
                    f"{self.path} is a cross-validation run: each fold keeps its own model "
                    f"-> load_run(fold_dir(path, k)) for k in 0..{len(folds) - 1} (the last "
                    "fold's is holdout_model_dir(path))")
            state = torch.load(self.path / CHECKPOINT, map_location="cpu",
                               weights_only=True)["state_dict"]
            model.load_state_dict({k.removeprefix(STATE_PREFIX): v for k, v in state.items()})
        return model.eval()

    @cached_property
    def borders(self) -> Any:
        """The run's published split of its series (:func:`benchmark_borders`)."""
        from tsbench.data.splits import benchmark_borders

        series = self.series
        return benchmark_borders(len(series.values), series.split, int(self.config.seq_len),
                                 series.train_frac, series.test_frac)

    @property
    def refitted(self) -> bool:
        """Whether the run's own model trained on the train+val rows (``cv=refit``, or
        ``cv.refit`` after folds)."""
        cv = self.config.cv
        return cv.name == "refit" or (cv.name == "tscv" and bool(cv.get("refit")))

    @property
    def root(self) -> Path:
        """The run's own directory (a fold's run for a fold directory)."""
        return self.path.parent if fold_number(self.path) is not None and config_path(
            self.path) is None else self.path

    def _check_model_imports(self) -> None:
        """Raise the model class's import error, where the run's model module of the user's
        does not import from here, naming the folder to put on ``PYTHONPATH``: the one its
        card's ``source.model_file`` lies in, or the one above its package
        (``tsbench-forecast`` run from another folder than the run's)."""
        import importlib.util

        from tsbench.code_digest import import_root
        from tsbench.models.build import model_class

        try:
            model_class(self.config.model)
        except ConfigError as error:
            target = str(self.config.model.get("_target_", ""))
            source = self.card.get("source") or {}
            root = import_root(target, Path(source["model_file"])) if source.get(
                "model_file") else None
            if root is None or importlib.util.find_spec(target.split(".")[0]) is not None:
                raise
            model_file = Path(source["model_file"])
            package = target.split(".")[0]  # my_models of my_models.last_linear.LastLinear
            folder = ("the folder of" if root == model_file.parent else
                      f"the folder that holds the package {package} of")
            raise ConfigError(error.field, error.problem, f"put {root} on the Python path "
                              f"(PYTHONPATH={root}): {folder} the run's model file "
                              f"{model_file}, its protocol card's source.model_file"
                              ) from None

    @cached_property
    def _code_diff(self) -> tuple[dict[str, Any], Path | None, list[tuple[str, str, str]]]:
        """The card's ``source``, the user's model file as it lies now (None for tsbench's
        own model, or one whose class no longer imports: its model's build says why), and
        :func:`~tsbench.code_digest.changes`."""
        from tsbench import code_digest
        from tsbench.models.build import model_class

        source = self.card.get("source") or {}
        try:
            file = code_digest.model_file(model_class(self.config.model))
        except ConfigError:
            file = None
        return source, file, code_digest.changes(source, file)

    @property
    def code_changes(self) -> tuple[str, ...]:
        """What of the code its card says the run ran differs from the code that now
        rebuilds its model: tsbench's package (``source.sources_sha256``) and a model file of
        the user's (``source.model_sha256``), each with its old and new digest (12 hex
        characters); empty for a run without a card, or whose class no longer imports."""
        _, file, found = self._code_diff
        what = {"sources_sha256": "tsbench's code and configs", "model_sha256":
                f"its model file {file}"}
        return tuple(f"{what[key]} (source.{key} {old[:12]} -> {new[:12]})"
                     for key, old, new in found)

    @property
    def code_fix(self) -> str:
        """How to get the code back that the run ran
        (:func:`~tsbench.code_digest.restore_hint`)."""
        from tsbench.code_digest import restore_hint

        source, file, found = self._code_diff
        return restore_hint(source, [key for key, _, _ in found], file)

    def _fit_history(self, model: Any) -> None:
        """Fit a classical model as its run did: on the training rows of a holdout run, on
        the train+val rows of a refit (``cv=refit``, or ``cv.refit`` after folds), scaled
        as the published training rows are."""
        from tsbench.data.datamodule import ForecastData

        cfg, borders = self.config, self.borders
        if self.root != self.path or (cfg.cv.name == "tscv" and not self.refitted):
            raise FileNotFoundError(
                f"{self.path}: a classical model of a cross-validation fold is not fitted "
                "again here -> load a holdout run, or a cross-validation run with cv.refit")
        rows = (0, borders.val[1]) if self.refitted else borders.train
        data = ForecastData(self.series, {"train": rows}, int(cfg.seq_len), int(cfg.pred_len),
                            str(cfg.features), scaler_rows=borders.train)
        model.fit_series(data.scored_rows(*rows))


def load_run(path: Path, warn_code: bool = True) -> LoadedRun:
    """Read the finished run in ``path`` (its model is built when first asked for). A
    cross-validation fold's directory (``fold_dir``) is read with its run's config; its
    metrics are the fold's own (``val_mse``, ``best_epoch``, ...). With ``warn_code``, say
    when the code that rebuilds its model is not the code that ran
    (:func:`warn_code_changes`); a caller loading many runs passes False and warns once for
    them all."""
    path = Path(path)
    fold = fold_number(path)
    if fold is None or config_path(path) is not None:
        run = LoadedRun(path, read_config(path), read_metrics(path))
    else:
        prefix = fold_metric(fold)
        metrics = {k.removeprefix(prefix): v for k, v in read_metrics(path.parent).items()
                   if k.startswith(prefix)}
        run = LoadedRun(path, read_config(path.parent), metrics)
    if warn_code:
        warn_code_changes([run])
    return run


#: The runs (their own directories) :func:`warn_code_changes` has warned about in this
#: process: each is named once, however often it is read back.
_WARNED: set[Path] = set()


def warn_code_changes(runs: list[LoadedRun]) -> None:
    """One warning line per set of runs whose code changed alike since they ran
    (:attr:`LoadedRun.code_changes`): the model is rebuilt from the current code, so an edit
    since (not always one that matters: a comment) may move its forecasts away from the
    run's metrics. A warning, not an error; each run is named once per process."""
    groups: dict[tuple[tuple[str, ...], str], list[Path]] = {}
    for run in runs:
        root = run.root.resolve()
        if root in _WARNED:
            continue
        _WARNED.add(root)
        if run.code_changes:
            groups.setdefault((run.code_changes, run.code_fix), []).append(root)
    for (changes, fix), roots in groups.items():
        more = f" and {counted(len(roots) - 1, 'other run')}" if len(roots) > 1 else ""
        log.warning("%s%s: %s changed since the run: its forecasts may differ from its "
                    "metrics -> %s to reproduce them", roots[0], more, " and ".join(changes),
                    fix)


def holdout_model_dir(run_dir: Path) -> Path:
    """Where the run's model trained on the published training rows lives: the run itself,
    or, for a cross-validation run, its last fold (whose block is the validation split
    when ``cv.test_size=val``)."""
    folds = read_metrics(run_dir).get("cv_folds")
    return run_dir if folds is None else fold_dir(run_dir, len(folds) - 1)


def fold_number(path: Path) -> int | None:
    """k for a ``fold_dir(run, k)`` path, else None."""
    name = path.name.removeprefix("fold_")
    return int(name) if name != path.name and name.isdigit() else None
