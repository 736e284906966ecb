"""Collect finished runs and group them into cells of seeds.

A run is a directory with ``metrics.json`` and a saved config, found once however many
of the given folders reach it (:func:`tsbench.rundir.find_runs` resolves and dedupes).
A cell holds the runs whose resolved configs are equal except ``seed`` (and settings that
do not change what is computed: :data:`IGNORED`; the look-back of a model that does not
read it; the training settings of one that trained nothing, :data:`TRAINING_KEYS`; the
``optim.lr`` of one that trained at the learning-rate finder's suggestion, which its row
names instead (:func:`found_lr`); a null setting that a run saved before it existed
lacks; ``dataset.freq`` where a card records the frequency, which only checks the file:
null, ``h`` and ``60min`` read hourly rows alike, and a finer frequency filled in changes
the rows the card compares);
runs differing in anything else are different cells, and the row names what differs. Two
runs of one seed that differ only in the settings that change no score, but whose scores
differ, are different cells too, set apart by those settings (their model's forecast
depends on its scoring batch), said in a warning for each such pair. Runs of one
configuration, seed and code whose scores differ (nothing sets them apart) are all left
out, with any run of that seed on other old code, whatever order they are found in, and one
warning naming them and their scores: the report does not pick one of them.
What cannot be used is left out with one warning line each: unreadable files, failed runs
(by their metrics.json or by their sweep's ``trials.csv``), non-finite scores, a second
run of the same cell and seed (with both scores where they differ, as runs without
deterministic algorithms may); and one line for all the pruned runs (a search prunes
dozens), counted.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from yaml import YAMLError

from tsbench.code_digest import changes
from tsbench.counted import counted
from tsbench.report import validation
from tsbench.report.compare import CONFIG_FACTS, REFIT, facts
from tsbench.rundir import (
    METRICS,
    SCORE_NEUTRAL,
    find_runs,
    read_config,
    read_metrics,
    read_protocol,
    read_window_errors,
    unfinished_runs,
)
from tsbench.search.names import (
    BEST_FILE,
    MULTIRUN_FILE,
    OK,
    PRUNED,
    RECORD_COLUMNS,
    TRIALS_FILE,
)
from tsbench.search.record import RECORD_DIR
from tsbench.search.trials import read_rows

#: Config keys that do not change a run's numbers: they never split a cell.
IGNORED = SCORE_NEUTRAL

#: Config keys that change a run's test scores alone: they never split a cell of a
#: validation report (a search's trial, ``score_test=false``, pools with a rerun's seeds).
VAL_IGNORED = ("score_test",)

#: The settings of a generated series (``dataset=synthetic``) that make its values: the
#: others (calendar features, timestamps' frequency, which channels a run reads or
#: forecasts) are choices about one series, as they are about one file.
SERIES_SETTINGS = ("n_rows", "n_vars", "periods", "noise", "trend", "seed")

Warn = Callable[[str], None]


@dataclass
class Run:
    """One usable finished run."""

    path: Path
    config: dict[str, Any]  # flattened: {"model.name": "dlinear", ...}
    metrics: dict[str, Any]
    card: dict[str, Any] | None
    swept: frozenset[str] = frozenset()  # keys its sweep's trials.csv searched
    gridded: frozenset[str] = frozenset()  # settings a plain multirun swept (its jobs' grid)
    # which of several CSV files of one name it read, or which generated series
    file_tag: str = ""  # (:func:`_tell_files_apart`, :func:`_tell_series_apart`)
    # how a validation report's run was validated (:func:`validation.protocol`): its table's
    val_tag: str = ""

    @property
    def dataset(self) -> str:
        """The dataset's name; a CSV's file name for ``dataset=csv``, with its digest where
        other runs read another file of that name; a generated series' name with the
        settings that set it apart from the others' (``synthetic (n_rows=600, seed=0)``);
        in a validation report, with how the run was validated (``ili [val: holdout
        split]``): each protocol's runs are tables apart."""
        name = self.data_name
        return f"{name} [{self.val_tag}]" if self.val_tag else name

    @property
    def data_name(self) -> str:
        """:attr:`dataset` without how a validation report's run was validated."""
        name = str(self.config.get("dataset.name"))
        path = self.config.get("dataset.path")
        name = Path(str(path)).name if name == "csv" and path else name
        return f"{name} ({self.file_tag})" if self.file_tag else name

    def data_identity(self) -> str:
        """What the data is, not what it is called: the file's sha256 as its protocol card
        records it, a generated series' settings that make its values
        (:data:`SERIES_SETTINGS`), else (a run saved before cards) its name. A copy of a file
        under another name is the same data, and so is a series generated alike under
        another calendar setting (``dataset.calendar_freq``), as a file read with one is."""
        sha, gen = self.card_data().get("sha256"), self.card_data().get("generator")
        if sha:
            return f"sha256 {sha[:12]}"
        values = {k: v for k, v in (gen or {}).items() if k in SERIES_SETTINGS}
        return (f"generated {json.dumps(values, sort_keys=True, default=str)}" if gen
                else f"name {self.data_name}")

    def card_data(self) -> dict[str, Any]:
        """Its protocol card's facts of the data (none for a run saved before cards)."""
        return (self.card or {}).get("dataset") or {}

    def data_file(self) -> str:
        """The file it read, as its protocol card names it: its sha256, else its path."""
        sha = self.card_data().get("sha256")
        return f"sha256 {sha[:12]}" if sha else f"path {self.config.get('dataset.path')}"

    @property
    def model(self) -> str:
        return str(self.config.get("model.name"))

    @property
    def pred_len(self) -> int:
        return int(self.config["pred_len"])

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    def window_errors(self, metric: str, split: str = "test") -> np.ndarray | None:
        """The run's per-window ``metric`` (mse, mae) on ``split``; None where it saved
        none or the file is unreadable."""
        try:
            return read_window_errors(self.path, split, metric)
        except (OSError, ValueError):
            return None


@dataclass
class Cell:
    """The runs of one configuration over seeds (one run per seed, in seed order)."""

    dataset: str
    pred_len: int
    model: str
    key: str  # the configuration without seed, as canonical JSON
    runs: list[Run] = field(default_factory=list)
    label: str = ""  # the model, plus what sets it apart from its other cells

    def values(self, key: str) -> np.ndarray:
        return np.array([float(run.metrics[key]) for run in self.runs])

    @property
    def config(self) -> dict[str, Any]:
        """The cell's configuration without seed, and its protocol facts
        (``"protocol: <fact>"`` keys)."""
        return json.loads(self.key)


@dataclass
class Collected:
    """What :func:`collect` found: usable runs, and counts for an empty result's reason."""

    runs: list[Run]
    paths: list[Path]  # every finished run directory found (resolved), usable or not
    n_skipped: int
    #: Why finished runs lack the metric (:func:`_why_without`) -> how many.
    without_metric: dict[str, int]

    @property
    def n_found(self) -> int:
        return len(self.paths)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists stay values)."""
    if not isinstance(node, dict):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def collect(roots: list[Path], metric_key: str, warn: Warn,
            apart: tuple[Path, ...] = (), split: str = "test") -> Collected:
    """Every usable finished run under ``roots`` that has ``metric_key``; none of the runs
    under the folders ``apart`` (tuning folders, reported apart: :mod:`tsbench.report.tuned`).
    With ``split="val"`` (``metric_key`` ``val_<metric>``), each run's validation score
    (:func:`validation.score_key`: a cv=tscv run's mean over folds), each run tagged with
    how it was validated (:attr:`Run.val_tag`)."""
    metric = metric_key.removeprefix(f"{split}_")
    found = [path for path in find_runs(roots) if not inside(path, apart)]
    failed_by_sweep: dict[Path, dict[Path, str]] = {}
    swept_by_sweep: dict[Path, frozenset[str]] = {}
    grid_by_sweep: dict[Path, frozenset[str]] = {}
    runs, skipped, without, pruned = [], 0, [], []
    for path in found:
        sweep = path.parent
        if sweep not in failed_by_sweep:
            failed_by_sweep[sweep], swept_by_sweep[sweep] = _read_trials(sweep, warn)
            grid_by_sweep[sweep] = frozenset() if swept_by_sweep[sweep] else grid_of(sweep)
        run = _load(path, warn)
        key = metric_key if run is None else validation.score_key(run, split, metric)
        reason = None if run is None else _exclusion(run, key)
        if run is not None and path in failed_by_sweep[sweep]:
            reason = f"its sweep's {TRIALS_FILE} marks it {failed_by_sweep[sweep][path]}"
        if reason and (run.metrics.get("pruned")  # type: ignore[union-attr]
                       or failed_by_sweep[sweep].get(path, "").startswith(PRUNED)):
            pruned.append(path)  # a search's many: one line for them all
        elif reason:
            warn(f"left out {path}: {reason}")
        if run is None or reason:
            skipped += 1
            continue
        if key not in run.metrics:
            without.append((path, _why_without(run, key)))
            continue
        run.swept, run.gridded = swept_by_sweep[sweep], grid_by_sweep[sweep]
        runs.append(run)
    _tell_files_apart(runs)
    _tell_series_apart(runs)
    for run in runs if split == "val" else ():
        run.val_tag = validation.protocol(run)
    if pruned:
        warn(f"left out {counted(len(pruned), 'pruned run')} (stopped early by their "
             f"sweep's pruner, short of their epoch budget), e.g. {pruned[0]}")
    unfinished = [path for path in unfinished_runs(roots) if not inside(path, apart)]
    for sweep in sorted({path.parent for path in unfinished}):
        if sweep not in failed_by_sweep:
            failed_by_sweep[sweep], _ = _read_trials(sweep, warn)
    marked = [path for path in unfinished if path in failed_by_sweep[path.parent]]
    for sweep in sorted({path.parent for path in marked}):  # a failed trial: its error
        failed = [path for path in marked if path.parent == sweep]
        warn(f"left out {counted(len(failed), 'job folder')} without {METRICS} that "
             f"{sweep / TRIALS_FILE} marks failed, e.g. {failed[0]}: "
             f"{failed_by_sweep[sweep][failed[0]]}")
    relaunched = _relaunched(unfinished)  # a resumed sweep's: its trials' table says so
    unfinished = [path for path in unfinished if path not in marked and path not in relaunched]
    if unfinished:
        warn(f"left out {counted(len(unfinished), 'job folder')} without {METRICS} (killed, "
             f"failed or still running), e.g. {unfinished[0]}")
    if runs:
        for why in sorted({why for _, why in without}):
            paths = [path for path, reason in without if reason == why]
            warn(f"left out {counted(len(paths), 'run')} without {metric_key} ({why}), "
                 f"e.g. {paths[0]}"
                 f"{_chosen_rerun(why, paths)}")
    counts: dict[str, int] = {}
    for _, why in without:
        counts[why] = counts.get(why, 0) + 1
    return Collected(runs, found, skipped, counts)


def _relaunched(folders: list[Path]) -> set[Path]:
    """The job ``folders`` (without metrics.json) whose sweep's record says their launch died
    with the sweep and a resume launched it again (:func:`tsbench.search.recorded.relaunched`):
    a healthy resumed sweep's, left out without a warning (the relaunch's row in its trials'
    table says it)."""
    sweeps = sorted({path.parent for path in folders if (path.parent / RECORD_DIR).is_dir()})
    if not sweeps:
        return set()
    from tsbench.search.recorded import relaunched  # scikit-optimize only where a sweep is

    return {path for sweep in sweeps
            for path in relaunched(sweep, [p for p in folders if p.parent == sweep])}


def _chosen_rerun(why: str, paths: list[Path]) -> str:
    """Where runs left out for ``score_test=false`` are a search's trials: the best.yaml
    whose command scores the search's choice on test (its trials never do)."""
    files = sorted({path.parent / BEST_FILE for path in paths
                    if why == "score_test=false" and (path.parent / BEST_FILE).is_file()})
    if not files:
        return ""
    more = (f" (and the best.yaml of {counted(len(files) - 1, 'more sweep')})"
            if len(files) > 1 else "")
    return (f" -> a search's trials score validation only: run the command in {files[0]}"
            f"{more}, which scores the configuration it chose on test, and report that "
            "run's folder")


def inside(path: Path, folders: tuple[Path, ...]) -> bool:
    """Whether ``path`` lies in one of ``folders``."""
    return any(path.is_relative_to(folder) for folder in folders)


def _tell_files_apart(runs: list[Run]) -> None:
    """Tag the runs of ``dataset=csv`` whose file shares its name with another file some run
    read (two folders' ``sales.csv``, or one file edited between runs): each file is a table
    of its own, its runs never ranked against another file's."""
    files: dict[str, set[str]] = {}
    for run in runs:
        if run.config.get("dataset.name") == "csv" and run.card is not None:
            files.setdefault(run.dataset, set()).add(run.data_file())
    for run in runs:  # a run saved before cards: its file unknown, left in the plain table
        if run.card is not None and len(files.get(run.dataset, ())) > 1:
            run.file_tag = run.data_file()


def _tell_series_apart(runs: list[Run]) -> None:
    """Tag the runs of generated series (``dataset=synthetic``) whose generating settings
    differ from another run's with the settings that differ (``n_rows=600, seed=0``): each
    series is a dataset and a table of its own, never one table of unlike series."""
    series = {run.path: gen for run in runs if run.config.get("dataset.name") == "synthetic"
              and (gen := run.card_data().get("generator"))}
    distinct = {json.dumps(gen, sort_keys=True, default=str) for gen in series.values()}
    if len(distinct) < 2:
        return
    keys = sorted({k for gen in series.values() for k in gen
                   if len({json.dumps(g.get(k), default=str) for g in series.values()}) > 1})
    for run in runs:
        if run.path in series:
            run.file_tag = ", ".join(f"{k}={series[run.path].get(k)}" for k in keys)


#: Swept settings that choose what a table compares (its rows, tables or seeds), not a
#: configuration of one model.
COMPARED = ("seed", "model", "dataset", "pred_len", "experiment")


def grid_of(sweep: Path) -> frozenset[str]:
    """The settings other than :data:`COMPARED` that the plain multirun in ``sweep`` swept
    (``optim.lr=1e-4,1e-3`` on its command line or in ``hydra.sweeper.params``, as
    ``search=grid`` gives them), from the ``multirun.yaml`` Hydra wrote there: its rows are
    configurations of one model, a choice among them by test scores a selection on test.
    Nothing for a folder that is no multirun's."""
    path = sweep / MULTIRUN_FILE
    try:
        hydra = OmegaConf.load(path).hydra if path.is_file() else None
        lines = [] if hydra is None else [*map(str, hydra.overrides.task), *(
            f"{key}={value}" for key, value in (OmegaConf.to_container(
                hydra.sweeper, resolve=False).get("params") or {}).items())]
        overrides = OverridesParser.create().parse_overrides(lines)
    except (OSError, YAMLError, OmegaConfBaseException, HydraException):
        return frozenset()
    return frozenset(o.key_or_group for o in overrides
                     if o.is_sweep_override() and o.key_or_group not in COMPARED)


#: Why a run has a scaled score but not its twin in original units.
NO_ORIGINAL = "no original-unit score: a run saved before tsbench recorded it"


def _why_without(run: Run, metric_key: str) -> str:
    """Why a finished run lacks ``metric_key``, as its config says."""
    if metric_key.startswith("val_") and run.config.get("cv.name") == "refit":
        return "cv=refit trains on the train+val rows, so it has no validation score"
    if "_orig" in metric_key and metric_key.replace("_orig", "") in run.metrics:
        return NO_ORIGINAL
    if not metric_key.startswith("test_"):
        return f"its metrics.json has no {metric_key}"
    if metric_key == "test_mase" and "test_mse" in run.metrics:
        return ("MASE left out when it ran: a channel's seasonal naive MAE on the training "
                "rows is 0 (its log names it)")
    if run.config.get("score_test") is False:
        return "score_test=false"
    if run.config.get("cv.name") == "tscv" and not run.config.get("cv.refit"):
        return ("cv=tscv scores the folds' validation blocks; cv.refit=true adds the test "
                "split; --split val reports their cross-validation score")
    return f"its metrics.json has no {metric_key}"


def _load(path: Path, warn: Warn) -> Run | None:
    """Read one run directory; None (after one warning) when a file cannot be read."""
    try:
        metrics = read_metrics(path)
        if not isinstance(metrics, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        warn(f"skipped {path}: metrics.json is unreadable (truncated?): {_first_line(exc)}")
        return None
    try:
        config = flatten(OmegaConf.to_container(read_config(path), resolve=True))
    except (OSError, YAMLError, OmegaConfBaseException, ValueError) as exc:
        warn(f"skipped {path}: its config is unreadable: {_first_line(exc)}")
        return None
    missing = [k for k in ("dataset.name", "model.name", "pred_len", "seed") if k not in config]
    if missing:
        warn(f"skipped {path}: its config has no {', '.join(missing)}")
        return None
    try:
        card = read_protocol(path)
        if card is not None and not isinstance(card, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        warn(f"skipped {path}: protocol.json is unreadable: {_first_line(exc)}")
        return None
    return Run(path, config, metrics, card)


def _exclusion(run: Run, metric_key: str) -> str | None:
    """Why a readable run must not be counted (None: it counts)."""
    metrics = run.metrics
    if metrics.get("pruned"):
        return "pruned (metrics.json: pruned: true)"
    status = metrics.get("status")
    if metrics.get("failed") or (status is not None and status != OK):
        why = metrics.get("error") or metrics.get("reason") or metrics.get("failed") or status
        return f"failed ({why})"
    value = metrics.get(metric_key)
    if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
        return f"{metric_key} is {value} (diverged?)"
    return None


def _read_trials(sweep: Path, warn: Warn) -> tuple[dict[Path, str], frozenset[str]]:
    """Job directories the sweep in ``sweep`` did not mark ``ok`` (-> their status and
    error: failed, pruned), and the parameters it searched; nothing where there is no
    readable ``trials.csv``."""
    try:
        rows, columns = read_rows(sweep / TRIALS_FILE)
    except ValueError as exc:
        warn(f"{exc}: its failed trials cannot be told apart")
        return {}, frozenset()
    failed = {(sweep / row["job_dir"]).resolve():
              row["status"] + (f" ({row['error']})" if row.get("error") else "")
              for row in rows
              if row.get("status") not in (None, OK) and row.get("job_dir")}
    return failed, frozenset(c for c in columns if c not in RECORD_COLUMNS)


def group(runs: list[Run], warn: Warn) -> list[Cell]:
    """Cells of runs with equal configs except the keys no score depends on (see the module)
    and equal protocol facts (:func:`tsbench.report.compare.facts`), one run per seed;
    cells of one model on one dataset and horizon are labelled with the keys and facts
    that set them apart. Two runs of one seed and code that differ only in settings that
    change no score, yet whose scores differ (:func:`scores_differ`), are not one
    configuration: those settings set apart the cells of their model, dataset and horizon,
    and a warning says so for each such pair; where nothing sets them apart, that seed of
    that cell is not reported (:func:`_clash_note`)."""
    splitting: dict[tuple, set[str]] = {}  # (dataset, pred_len, model) -> keys kept
    said: list[str] = []
    while True:
        cells, notes, split = _cells(runs, splitting)
        if not split:
            break
        for row, (keys, pairs) in split.items():
            splitting.setdefault(row, set()).update(keys)
            said.extend(pairs)
    for note in [*said, *notes]:
        warn(note)
    for cell in cells.values():
        cell.runs.sort(key=lambda r: r.seed)
    _label(list(cells.values()))
    for cell in cells.values():
        _warn_if_mixed_code(cell, warn)
    return sorted(cells.values(), key=lambda c: (c.dataset, c.pred_len, c.model, c.label))


def _cells(runs: list[Run], splitting: dict[tuple, set[str]]
           ) -> tuple[dict[tuple, Cell], list[str], dict[tuple, tuple[set[str], list[str]]]]:
    """:func:`group`'s cells with the keys of ``splitting`` kept for their rows (a cell
    whose every seed was left out is dropped), the notes on the runs left out, and the rows
    where runs that would be twins have scores that differ: the keys they differ in, and a
    warning for each such pair. Which run of a seed is kept is settled over all its runs
    at once (:func:`_settle`), so it does not depend on the order they are found."""
    cells: dict[tuple, Cell] = {}
    split: dict[tuple, tuple[set[str], list[str]]] = {}
    seats: dict[tuple, list[Run]] = {}  # (cell, seed) -> its runs, in the order found
    for run in runs:
        row = (run.dataset, run.pred_len, run.model)
        unread = () if reads_look_back(run) else LOOK_BACK_KEYS
        untrained = TRAINING_KEYS if run.metrics.get("epochs") == 0 else ()
        unused = unread + (FOUND_LR_KEYS if applied_finder(run) else ())
        unused += VAL_IGNORED if run.val_tag else ()
        kept = {k: v for k, v in run.config.items() if k in splitting.get(row, ()) or (
            not k.startswith(IGNORED) and k not in unused
            and not (untrained and k.startswith(untrained)))}
        read = ((run.card or {}).get("dataset") or {}).get("file")
        if kept.get("dataset.path") and read:  # the file it read, not how its path was
            kept["dataset.path"] = read  # written (best.yaml's command writes it absolute)
        if ((run.card or {}).get("dataset") or {}).get("freq"):  # the data's, as the card
            kept.pop("dataset.freq", None)  # records it: null (inferred), h, 60min alike
        trained_at = ((run.card or {}).get("device") or {}).get("precision")
        if trained_at and "trainer.precision" in kept:  # by Lightning's full name, as the
            kept["trainer.precision"] = trained_at  # card records it: bf16 is bf16-mixed
        kept.update({f"protocol: {k}": v for k, v in facts(run).items()
                     if k not in CONFIG_FACTS and k not in unread})
        key = json.dumps(kept, sort_keys=True, default=str)
        # a null setting is one a run saved before the setting existed lacks: no difference
        same = json.dumps({k: v for k, v in kept.items()
                           if v is not None or k.startswith("protocol: ")},
                          sort_keys=True, default=str)
        cells.setdefault((*row, same), Cell(run.dataset, run.pred_len, run.model, key))
        seat = seats.setdefault((*row, same, run.seed), [])
        apart = next(((twin, differ, settings) for twin in seat
                      if (differ := scores_differ(run, twin)) is not None
                      and set(settings := _differing(run, twin)) - splitting.get(row, set())),
                     None)
        if apart is None:
            seat.append(run)
        else:  # a setting that should change no score does: it sets them apart
            twin, differ, settings = apart
            keys, pairs = split.setdefault(row, (set(), []))
            keys.update(settings)
            pairs.append(_split_note(twin, run, settings, differ))
    notes: list[str] = []
    for seat_key, seat in seats.items():
        kept_runs, said = _settle(seat)
        cells[seat_key[:-1]].runs.extend(kept_runs)
        notes.extend(said)
    return {k: cell for k, cell in cells.items() if cell.runs}, notes, split


def _settle(seat: list[Run]) -> tuple[list[Run], list[str]]:
    """The run kept of one configuration and seed (none or one) and the notes on those left
    out, whatever order they were found in. Runs of the code installed now are kept over
    runs of older code (a rerun after a fix). Among the rest, runs of one code whose scores
    differ (:func:`scores_differ`) clash: nothing tells which to report, so none of the
    seat's runs is (one note names them all, and the code each ran): a run of yet another
    old code is one more score that may not reproduce, not the answer. Without a clash,
    the first found is kept (runs of other old code, or not reproducible to the tolerance,
    as :func:`_twin_note` says)."""
    current = [run for run in seat if _runs_current_code(run)]
    pool = current or seat
    by_code: dict[tuple[str | None, str | None], list[Run]] = {}
    for run in pool:
        by_code.setdefault(_code(run), []).append(run)
    metric = next((k for runs in by_code.values() for i, run in enumerate(runs)
                   for other in runs[i + 1:] if (k := scores_differ(run, other))), None)
    if metric is not None:
        return [], [_clash_note(seat, metric)]
    return [pool[0]], [_twin_note(run, pool[0]) for run in seat if run is not pool[0]]


#: How far apart two runs' scores may be and still count as the same: float sums in
#: another order (another ``data.eval_batch_size`` batches a matmul otherwise), no more.
SAME_SCORE_RTOL = 1e-5


def scores_differ(run: Run, twin: Run) -> str | None:
    """The first score (``test_mse`` first, then the other ``val_``/``test_`` scores, in
    order) where two runs of one seed that ran the same code (their cards' digests) and
    differ only in settings that change no score (:data:`IGNORED`) are more than
    :data:`SAME_SCORE_RTOL` apart; None where all agree, or where the runs ran different
    code or differ in their look-back (said by :func:`_twin_note`), and where either run is
    not reproducible to that tolerance: trained without deterministic algorithms (a GPU's
    ``trainer=gpu``) or in half precision (kernels chosen by batch shape round otherwise)."""
    if _code(run) != _code(twin) or any(k in LOOK_BACK_KEYS for k in _differing(run, twin)):
        return None
    if not (_reproducible(run) and _reproducible(twin)):
        return None
    return _first_gap(run, twin)


def _first_gap(run: Run, twin: Run) -> str | None:
    """The first score (``test_mse`` first, then the other ``val_``/``test_`` scores, in
    order) where ``run`` and ``twin`` are more than :data:`SAME_SCORE_RTOL` apart."""
    shared = sorted((k for k in run.metrics.keys() & twin.metrics.keys()
                     if k.startswith(("val_", "test_"))
                     and isinstance(run.metrics[k], float)
                     and isinstance(twin.metrics[k], float)),
                    key=lambda k: (k != "test_mse", k))
    for k in shared:
        if not math.isclose(run.metrics[k], twin.metrics[k], rel_tol=SAME_SCORE_RTOL,
                            abs_tol=1e-12):
            return k
    return None


def _reproducible(run: Run) -> bool:
    """Whether ``run`` repeats its scores to :data:`SAME_SCORE_RTOL`: its card says it ran
    deterministic algorithms, in 32-bit floats."""
    return bool((run.card or {}).get("deterministic")) and "16" not in str(
        run.config.get("trainer.precision"))


def _differing(run: Run, twin: Run) -> list[str]:
    return sorted(k for k in run.config.keys() | twin.config.keys()
                  if run.config.get(k) != twin.config.get(k))


def _split_note(first: Run, second: Run, settings: list[str], metric: str) -> str:
    """The warning that two runs, twins but for their scores, are kept as separate cells."""
    a, b = first.metrics[metric], second.metrics[metric]
    why = ("a model whose forecast of a window depends on the other windows of its batch "
           "(a later window's look-back holds an earlier one's future): trust its scores at "
           "data.eval_batch_size=1 alone, and make its forecast read its own window alone"
           if "data.eval_batch_size" in settings else "rerun both to see which reproduces")
    return (f"{first.path} and {second.path} (seed {first.seed}) have different scores "
            f"({metric} {a:.6g} vs {b:.6g}) although only {', '.join(settings)} "
            f"{'differ' if len(settings) > 1 else 'differs'}, which should change no score: "
            f"kept as separate cells of {first.model} -> {why}")


#: A run's look-back and how it was chosen: no difference for a model that does not read it.
LOOK_BACK_KEYS = ("seq_len", "seq_len_searched_on")
#: Settings of training alone: a model that trained no epoch (naive, the classical
#: baselines) forecasts the same whatever they are (``optim.lr=1e-3,1e-2`` beside DLinear).
TRAINING_KEYS = ("optim.", "tune.", "data.batch_size", "data.drop_last", "trainer.max_epochs",
                 "trainer.patience", "trainer.gradient_clip_val", "trainer.limit_train_batches")


#: The learning rate a run that applied the range test's suggestion did not train at.
FOUND_LR_KEYS = ("optim.lr",)


def applied_finder(run: Run) -> bool:
    """Whether the run trained at the learning-rate finder's suggestion
    (``tune.lr_find=true`` with ``tune.lr_find_apply``, true where a run saved before that
    setting lacks it), not at ``optim.lr``."""
    return (bool(run.config.get("tune.lr_find")) and run.config.get("tune.lr_find_apply")
            is not False and run.metrics.get("epochs") != 0)


#: How a row's label names the rate its finder runs trained at: ``lr found=0.00525``.
FOUND_LR = "lr found"


def found_rates(cell: Cell) -> list[float]:
    """The rates the cell's finder runs trained at (``lr_used``, each fold's of a CV run),
    in order, each once."""
    return sorted({float(v) for run in cell.runs for k, v in run.metrics.items()
                   if k == "lr_used" or (k.startswith("fold_") and k.endswith("_lr_used"))})


def found_lr(cell: Cell) -> str:
    """The rate the cell's finder runs trained at (:func:`found_rates`): ``0.00525``, or
    over seeds that found other rates ``0.00457 to 0.00525``."""
    rates = found_rates(cell)
    if not rates:
        return "unknown"
    return f"{rates[0]:.3g}" if len(rates) == 1 else f"{rates[0]:.3g} to {rates[-1]:.3g}"


def reads_look_back(run: Run) -> bool:
    """Whether the run's forecasts depend on its ``seq_len``: its card's ``seq_len.read``,
    or, for a run saved before cards said so, its model class's ``reads_look_back`` (true
    where the class cannot be imported here)."""
    read = ((run.card or {}).get("seq_len") or {}).get("read")
    if read is not None:
        return bool(read)
    module, _, name = str(run.config.get("model._target_") or "").rpartition(".")
    try:
        return bool(getattr(getattr(importlib.import_module(module), name),
                            "reads_look_back", True))
    except (ImportError, AttributeError, ValueError):  # a user's model not on the path here
        return True


def _code(run: Run) -> tuple[str | None, str | None]:
    """The digests of the code a run ran (its card's ``source``): tsbench's, the model's."""
    source = (run.card or {}).get("source") or {}
    return source.get("sources_sha256"), source.get("model_sha256")


def _runs_current_code(run: Run) -> bool:
    """Whether the run ran the code installed now: tsbench's (its card's
    ``source.sources_sha256``) and its model file's, where it is a user's; False without a
    card."""
    source = (run.card or {}).get("source") or {}
    file = Path(source["model_file"]) if source.get("model_file") else None
    if not source.get("sources_sha256") or (source.get("model_sha256") and not (
            file is not None and file.is_file())):
        return False  # no card, or a model file gone: not known to be the code now
    return not changes(source, file)


def _clash_note(runs: list[Run], metric: str) -> str:
    """The warning that runs of one configuration and seed, some of one code whose
    ``metric`` differs (:func:`scores_differ`), are all left out, with each one's score
    (``none`` where a run has no such score) and, where runs of another code joined them,
    which code each ran."""
    first = runs[0]
    scores = " vs ".join(f"{r.metrics[metric]:.6g}" if isinstance(r.metrics.get(metric), float)
                         else "none" for r in runs)
    by_code: dict[tuple[str | None, str | None], list[Run]] = {}
    for run in runs:
        by_code.setdefault(_code(run), []).append(run)
    if len(by_code) == 1:
        same, code = f"configuration, seed {first.seed} and code", ""
    else:
        same, code = f"configuration and seed {first.seed}", f" and code ({_code_text(by_code)})"
    return (f"left out {_and(r.path for r in runs)}: the same {same}, but different scores "
            f"({metric} {scores}){code}, so seed {first.seed} of {first.model} is not "
            "reported -> rerun it to see which reproduces (a model that reads something "
            "besides its config and seed, e.g. an unseeded generator or a file, scores "
            "otherwise each run)")


def _code_text(by_code: dict[tuple[str | None, str | None], list[Run]]) -> str:
    """``A and B ran tsbench's code 1a2b3c4d5e6f, C 0f9e8d7c6b5a, by their protocol.json
    source.sources_sha256``: which code each group of runs ran, by the digests that differ
    (tsbench's, a user's model file's; ``unknown`` without a card)."""
    which = [(i, what, key) for i, what, key in (
        (0, "tsbench's code", "sources_sha256"), (1, "the model's file", "model_sha256"))
        if len({code[i] for code in by_code}) > 1]
    parts = []
    for n, (code, group) in enumerate(by_code.items()):
        digests = " and ".join(f"{what + ' ' if n == 0 else ''}"
                               f"{str(code[i])[:12] if code[i] else 'unknown'}"
                               for i, what, _ in which)
        parts.append(f"{_and(r.path for r in group)}{' ran' if n == 0 else ''} {digests}")
    keys = " and ".join(f"source.{key}" for _, _, key in which)
    return f"{', '.join(parts)}, by their protocol.json {keys}"


def _and(items: Iterable[object]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    texts = [str(item) for item in items]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"


def _twin_note(run: Run, twin: Run) -> str:
    """Why ``run`` is left out: the same configuration and seed as ``twin`` (where the two ran
    different code, the one that ran the code installed now is kept: a rerun after a fix),
    or, where they
    differ only in the look-back their model does not read, the same forecasts (said so;
    scores that differ contradict the model's ``reads_look_back``)."""
    differ = _differing(run, twin)
    if not any(k in LOOK_BACK_KEYS for k in differ):  # the rest changes no score (IGNORED)
        changes_no = "change no score" if len(differ) > 1 else "changes no score"
        only = (f" (they differ only in {', '.join(differ)}, which {changes_no})"
                if differ else "")
        if _code(run) != _code(twin):
            only += (", which ran the code installed now (their protocol.json source digests "
                     "differ: a rerun after a fix is kept)" if _runs_current_code(twin) else
                     " (they ran different code, by their protocol.json source digests, and "
                     "neither is the code installed now: the first found is kept)")
        elif gap := _first_gap(run, twin):  # not reproducible to the tolerance: said
            only += (f"; their {gap} differs ({run.metrics[gap]:.6g} vs "
                     f"{twin.metrics[gap]:.6g}), as runs without deterministic algorithms or "
                     f"in half precision may, and {twin.path}'s is reported")
        return (f"left out {run.path}: same configuration and seed {run.seed} as "
                f"{twin.path}{only}")
    looks = f"seq_len {run.config.get('seq_len')} vs {twin.config.get('seq_len')}"
    shared = [k for k in run.metrics if k.startswith("test_") and k in twin.metrics
              and isinstance(run.metrics[k], float)]
    if all(math.isclose(run.metrics[k], twin.metrics[k], rel_tol=1e-9) for k in shared):
        return (f"left out {run.path}: {run.model} does not read seq_len, so it repeats "
                f"{twin.path} (seed {run.seed}; {looks})")
    return (f"left out {run.path}: its scores differ from {twin.path}'s (seed {run.seed}; "
            f"{looks}), though its card says {run.model} does not read seq_len -> check the "
            "model's reads_look_back")


def _warn_if_mixed_code(cell: Cell, warn: Warn) -> None:
    """Say when a cell pools seeds that ran different code (their cards' digest of the
    package, ``source.sources_sha256``, and of a user's model file, ``source.model_sha256``):
    a change between them may be in the numbers."""
    by_code: dict[tuple[str, str], list[int]] = {}
    for run in cell.runs:
        source = (run.card or {}).get("source") or {}
        digest = source.get("sources_sha256")
        if digest:
            by_code.setdefault((str(digest), str(source.get("model_sha256"))), []).append(
                run.seed)
    if len(by_code) > 1:
        seeds = " | ".join(", ".join(map(str, s)) for s in by_code.values())
        which = [what for i, what in ((0, "tsbench's code"), (1, "the model's file"))
                 if len({key[i] for key in by_code}) > 1]
        keys = [key for i, key in ((0, "sources_sha256"), (1, "model_sha256"))
                if len({k[i] for k in by_code}) > 1]
        warn(f"{cell.label} at {cell.dataset}/{cell.pred_len} pools seeds that ran "
             f"{len(by_code)} versions of {' and '.join(which)} (seeds {seeds}; their "
             f"protocol.json source.{' and source.'.join(keys)} differ): rerun them on one "
             "version where the change may touch the numbers")


def _label(cells: list[Cell]) -> None:
    by_row: dict[tuple, list[Cell]] = {}
    for cell in cells:
        by_row.setdefault((cell.dataset, cell.pred_len, cell.model), []).append(cell)
    for group_cells in by_row.values():
        configs = [c.config for c in group_cells]
        keys = sorted({k for config in configs for k in config})
        differing = [k for k in keys if _differs(configs, k)]
        # a config group chosen differently (cv=holdout, cv=tscv) is named by its choice;
        # its other fields only where they differ among the cells of the same choice
        chosen = {k.removesuffix(".name") for k in differing if k.endswith(".name")}
        differing.sort(key=lambda k: (k.rsplit(".", 1)[0], not k.endswith(".name"), k))
        # a search's floats (lr=0.00031622776601683794) as 6 significant digits, except a
        # key whose values 6 digits would not tell apart
        digits = {k: None if len({short(c, k, 6) for c in configs}) < len(
            {short(c, k) for c in configs}) else 6 for k in differing}
        for cell, config in zip(group_cells, configs, strict=True):
            carded = any(run.card is not None for run in cell.runs)
            found = found_lr(cell) if all(map(applied_finder, cell.runs)) else None
            cell.label = _cell_label(cell.model, config, configs, differing, chosen, digits,
                                     carded, found)


def _cell_label(model: str, config: dict[str, Any], configs: list[dict[str, Any]],
                differing: list[str], chosen: set[str], digits: dict[str, int | None],
                carded: bool = True, found: str | None = None) -> str:
    """``model (key=value, fact: value, ...)`` with what sets the cell apart; the facts a
    cell of runs saved before protocol cards cannot know said once, as ``no card``; the
    rate ``found`` by the finder its runs trained at (:func:`found_lr`) for their
    ``optim.lr``, which they did not train at."""
    parts: list[str] = []
    for k in differing:
        group = k.rsplit(".", 1)[0] if "." in k else None
        if k == "seq_len_searched_on" and "protocol: seq_len" in differing:
            continue  # the card's seq_len fact says it: "seq_len: searched on val"
        if found is not None and k in FOUND_LR_KEYS and k not in config:
            parts.append(f"{FOUND_LR}={found}")
            continue
        if k.startswith("protocol: "):
            fact = config.get(k)
            if fact is None and not carded:
                parts += [] if "no card" in parts else ["no card"]
                continue
            parts.append(f"{k.removeprefix('protocol: ')}: {'unknown' if fact is None else fact}")
        elif group in chosen and k == f"{group}.name":
            refit = k == "cv.name" and config.get(k) == "tscv" and config.get("cv.refit")
            parts.append(f"{group}={short(config, k, digits[k])}"
                         + (f" {REFIT}" if refit else ""))
        elif k == "cv.refit" and "cv" in chosen and config.get("cv.name") == "tscv":
            continue  # said by cv=tscv's part: "cv=tscv refit on train+val"
        elif group in chosen:
            same = [c for c in configs if c.get(f"{group}.name") == config.get(f"{group}.name")]
            if _differs(same, k):
                parts.append(f"{k}={short(config, k, digits[k])}")
        else:
            parts.append(f"{k}={short(config, k, digits[k])}")
    named = ", ".join(parts)
    return f"{model} ({named})" if named else model


def _differs(configs: list[dict[str, Any]], key: str) -> bool:
    return len({json.dumps(c.get(key), default=str) for c in configs}) > 1


def short(config: dict[str, Any], key: str, digits: int | None = None) -> str:
    """A config value as the command line writes it (``null`` for None; a float of more
    than ``digits`` significant digits to that many, where given); ``unknown`` where the
    run's config has no such key (a run saved before it existed)."""
    if key not in config:
        return "unknown"
    value = config[key]
    if isinstance(value, float) and digits is not None and float(f"{value:.{digits}g}") != value:
        return f"{value:.{digits}g}"
    return "null" if value is None else str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
