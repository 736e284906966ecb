"""A search's trials in the report: one validation-only table per sweep folder.

A search (``hydra/sweeper=skopt``, ``search=<preset>``) scores its trials on validation only:
none has a test score for the results table, and pooled into cells each configuration is one
run of one seed, unlabelled, its pruned and failed trials left out. What a user of a tuning
tool looks for is the trials themselves: their number in ``trials.csv``, the values they
tried, their val MSE (the search's objective) and MAE, the epochs they ran and how they
ended, the best (``best.yaml``'s) marked. The table reads the sweep's own record
(:mod:`tsbench.search.recorded`) and each trial's ``metrics.json``; it holds no test column
and no interval or test of significance: those would present a choice made on validation as
a comparison on test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from tsbench.counted import counted
from tsbench.errors import ConfigError
from tsbench.report.collect import flatten, inside
from tsbench.report.tuned import what_ran
from tsbench.report.validation import cross_validated
from tsbench.rundir import fold_metric, is_finished, read_config, read_metrics, significant
from tsbench.search import names
from tsbench.search.names import BEST_FILE, DEFINITION_FILE, TRIALS_FILE

#: How a trial ended, in the order the table shows them.
FULL, SHORT, FAILED, NO_RESULT = range(4)
#: The columns around the searched parameters.
HEAD, TAIL = ["trial"], ["val MSE", "val MAE", "epochs", "state"]
#: What an empty cell shows.
NONE = "–"


@dataclass(frozen=True)
class TrialRow:
    """One trial as the table shows it."""

    number: int  # trials.csv's ``trial``
    values: list[str]  # the searched values, as trials.csv writes them
    ended: int  # FULL, SHORT, FAILED or NO_RESULT
    state: str  # how it ended, in words
    val_mse: float | None  # the search's objective
    val_mae: float | None
    epochs: int | None  # epochs it trained
    budget: int | None  # its trainer.max_epochs (each fold's, with cv=tscv)
    folds: int | None = None  # a full cv=tscv trial's folds, each trained on the budget
    fold: int | None = None  # the fold (from 1) a cv=tscv trial was pruned in
    best: bool = False
    #: where early stopping ended a full trial before its budget: (fold from 1, or None for
    #: a holdout trial's one training; the epoch it ended at)
    early_stops: tuple[tuple[int | None, int], ...] = ()


@dataclass(frozen=True)
class SearchTable:
    """A sweep folder's trials, in table order (best first)."""

    folder: Path
    params: list[str]
    rows: list[TrialRow]
    what: str  # "dlinear on synthetic, pred_len 12"
    cv: bool  # its trials' objective is a cv=tscv mean over folds


def search_folders(roots: list[Path], apart: tuple[Path, ...]) -> list[Path]:
    """Every search's folder (one holding ``trials.csv`` and the ``search.yaml`` that says
    what its columns searched; a sweep of a tsbench older than that file has none) at or
    under ``roots``, each once, as the first root that reaches it names it; none inside the
    folders ``apart`` (tuning folders, whose searches their own table reports)."""
    found: dict[Path, Path] = {}
    for root in roots:
        for path in sorted(Path(root).rglob(TRIALS_FILE)):
            if (path.parent / DEFINITION_FILE).is_file():
                found.setdefault(path.parent.resolve(), path.parent)
    return [given for real, given in found.items() if not inside(real, apart)]


def read_search(folder: Path) -> SearchTable:
    """``folder``'s trials; ``ValueError`` naming the file where its record is unreadable."""
    from tsbench.search.recorded import read_sweep  # scikit-optimize only where a search is

    try:
        sweep = read_sweep(folder)
    except ConfigError as error:  # the sweep's reader names the damaged line
        raise ValueError(error.problem) from None
    rows: list[TrialRow] = []
    cv = False
    for trial in sweep.trials:
        metrics, config = _job_files(folder / trial.job_dir if trial.job_dir else None)
        cv = cv or cross_validated(config)
        stops: list[tuple[int | None, int]] = []
        if trial.status == names.FAILED:
            ended, state = FAILED, f"failed: {trial.error.split(' -> ')[0] or 'no reason'}"
        elif trial.status == names.PRUNED:
            ended = SHORT
            state = (f"stopped at epoch {trial.pruned_at_epoch}: max_seconds spent"
                     if trial.stopped_by_clock else f"pruned at epoch {trial.pruned_at_epoch}")
        else:
            stops = _early_stops(metrics, config)
            ended, state = FULL, _finished(metrics, stops, config)
            if trial is sweep.best:
                state += ", best (best.yaml)"
            if not trial.in_space:
                state += ", outside the space a resume=force narrowed"
            if trial.error:  # relaunched, recorded by a resume, retried
                state += f" ({trial.error})"
        # a pruned trial's objective is its best after the epoch it was stopped at
        epochs = trial.pruned_at_epoch if ended == SHORT else metrics.get("epochs")
        mae = metrics.get("cv_val_mae_mean" if cross_validated(config) else "val_mae")
        folds, fold = len(metrics.get("cv_folds") or []), metrics.get("pruned_at_fold")
        rows.append(TrialRow(
            trial.number, [str(v) for v in trial.point], ended, state, trial.objective,
            None if ended != FULL or mae is None else float(mae),
            None if ended == FAILED or epochs is None else int(epochs),
            _budget(config), folds if ended == FULL and folds else None,
            None if ended != SHORT or fold is None else int(fold) + 1, trial is sweep.best,
            tuple(stops)))
    rows += [TrialRow(launch.trial, [launch.point.get(n, NONE) for n in sweep.names],
                      NO_RESULT, "no result: running, or lost when its sweep died",
                      None, None, None, None)
             for launch in sweep.unended]
    sign = -1.0 if sweep.maximize else 1.0
    rows.sort(key=lambda r: (r.ended, sign * r.val_mse if r.ended in (FULL, SHORT)
                             else 0.0, r.number))  # type: ignore[operator]
    what = what_ran(folder)  # its first run's model, unless the search chose among models
    return SearchTable(folder, sweep.names, rows,
                       what.split(" on ", 1)[-1] if "model" in sweep.names else what, cv)


def _job_files(job_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A trial's metrics.json and flattened config; empty where its folder holds none (a
    failed trial's, or a folder since removed)."""
    if job_dir is None or not is_finished(job_dir):
        return {}, {}
    try:
        config = OmegaConf.to_container(read_config(job_dir), resolve=False)
        metrics = read_metrics(job_dir)
    except (OSError, ValueError):
        return {}, {}
    return metrics, flatten(config)


def _budget(config: dict[str, Any]) -> int | None:
    value = config.get("trainer.max_epochs")
    return value if isinstance(value, int) else None


def _finished(metrics: dict[str, Any], stops: list[tuple[int | None, int]],
              config: dict[str, Any]) -> str:
    """How a trial that neither its sweep stopped nor a failure ended, in words: its full
    budget, early stopping (``stops``: where, at which epoch), or an untrained model's no
    epochs. Its val MSE is a finished trial's either way (its best epoch's), as the sweep
    ranks it."""
    if metrics.get("epochs") == 0:
        return "untrained model: no epochs"
    if not stops:
        return "full budget"
    where = ", ".join(f"{'' if fold is None else f'in fold {fold} '}at epoch {epoch}"
                      for fold, epoch in stops)
    return f"early stopping {where} (patience {config['trainer.patience']})"


def _early_stops(metrics: dict[str, Any], config: dict[str, Any]
                 ) -> list[tuple[int | None, int]]:
    """Each training of a finished trial that early stopping ended before its budget: its fold
    (from 1; None for a holdout trial's one training) and the epoch it ended at. Early
    stopping ends a training ``trainer.patience`` epochs after its best one (metrics.json's
    ``best_epoch``, a cv=tscv trial's ``fold_<k>_best_epoch``), else the budget does: none
    where those ends do not add up to the epochs the record says it trained."""
    budget, patience = _budget(config), config.get("trainer.patience")
    if budget is None or not isinstance(patience, int) or patience <= 0:
        return []
    folds: list[int | None] = (
        list(range(1, len(metrics.get("cv_folds") or []) + 1)) if cross_validated(config)
        else [None])
    bests = [metrics.get("best_epoch" if fold is None else fold_metric(fold - 1, "best_epoch"))
             for fold in folds]
    if not all(isinstance(best, int) for best in bests):
        return []
    ends = [min(best + patience, budget) for best in bests]
    if sum(ends) != metrics.get("epochs"):
        return []
    return [(fold, end) for fold, end in zip(folds, ends, strict=True) if end < budget]


def header(table: SearchTable) -> list[str]:
    return [*HEAD, *table.params, *TAIL]


def cells(row: TrialRow) -> list[str]:
    """A row's cells as text: a short-budget trial's val MSE names the epochs it scored at."""
    mse = NONE if row.val_mse is None else significant(row.val_mse, 6)
    if row.ended == SHORT:
        mse += f" (after {_epochs(row, ' epochs')})"
    mae = NONE if row.val_mae is None else significant(row.val_mae, 6)
    return [str(row.number), *map(_value, row.values), mse, mae, _epochs(row), row.state]


def _value(text: str) -> str:
    """A searched value as trials.csv writes it, a float to 6 significant digits (the
    file keeps every digit)."""
    try:
        number = float(text)
    except ValueError:
        return text
    return text if number.is_integer() or "." not in text else f"{number:.6g}"


def _epochs(row: TrialRow, unit: str = "") -> str:
    """``2 of 27``: the epochs it trained of its budget; a cv=tscv trial's, every fold's
    (``54 of 81 (3 folds)``), or the fold it was pruned in (``3 of 27 in fold 1``)."""
    if row.epochs is None:
        return NONE
    if row.budget is None:
        count = f"{row.epochs}{unit}"
    elif row.folds:
        count = f"{row.epochs} of {row.budget * row.folds}{unit} ({row.folds} folds)"
    else:
        count = f"{row.epochs} of {row.budget}{unit}"
    return count + ("" if row.fold is None else f" in fold {row.fold}")


def caption(table: SearchTable) -> list[str]:
    """What the table is and is not, one paragraph per line."""
    where = "mean over its cv=tscv folds' validation blocks (cv_val_mse_mean)" if table.cv \
        else "on the val split (val_mse)"
    lines = [f"{table.what}: the {counted(len(table.rows), 'trial')} of the search in "
             f"{table.folder / TRIALS_FILE}, validation only: the search never read the test "
             f"split, so no test score is here, and this order is no comparison on test. "
             f"Val MSE is the search's objective, scaled, {where}; val MAE that run's; each "
             "trial is one run of one seed. The trials that ran to their end first (their "
             "full budget, or until early stopping), best val MSE first, then those their "
             "search stopped short, then failed ones."]
    best = table.folder / BEST_FILE
    if any(row.best for row in table.rows):
        lines.append(f"The best is best.yaml's; its command trains that configuration and "
                     f"scores it on test: {best}" if best.is_file() else
                     "The best is the lowest val MSE of the trials that ran to their end.")
    if any(row.early_stops for row in table.rows):
        lines.append("Early stopping: trainer.patience epochs without a better val loss ended "
                     "the training before its epoch budget (a cv=tscv trial's in the folds "
                     "named); its val MSE is its best epoch's, as a full-budget trial's, and "
                     "the search ranks it with them.")
    if any(row.ended == SHORT for row in table.rows):
        lines.append("Pruned (or stopped at max_seconds): stopped short of the epoch budget, "
                     "its val MSE is the best after the epochs shown, not a full budget's: "
                     "do not compare it with a full-budget trial's.")
    waiting = sum(row.ended == NO_RESULT for row in table.rows)
    if waiting:
        lines.append(f"{counted(waiting, 'trial')} launched without a result: still running, "
                     "or lost when the sweep died -> resume the sweep with its command, "
                     f"hydra.sweep.dir={table.folder} hydra.sweeper.resume=true")
    return lines


def markdown(table: SearchTable) -> str:
    """The table as a Markdown section, the best's val MSE in bold."""
    names = header(table)
    lines = [f"## Search trials (validation only): {table.folder}", "",
             "| " + " | ".join(names) + " |",
             "| " + " | ".join("---:" if n in TAIL[:3] else "---" for n in names) + " |"]
    for row in table.rows:
        text = [c.replace("|", "\\|") for c in cells(row)]
        if row.best:
            text[len(HEAD) + len(table.params)] = f"**{text[len(HEAD) + len(table.params)]}**"
        lines.append("| " + " | ".join(text) + " |")
    return "\n".join([*lines, "", "\n\n".join(caption(table)), ""])
