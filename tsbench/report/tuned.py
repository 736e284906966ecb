"""A ``tsbench-tune`` folder in the report: its own result table, apart from the cells.

Its stages (a)-(f) run with ``score_test=false``: the search never sees the test split, so
their runs have no test score to report (and scoring them now would let a choice among
them see it). Stage (g) scores the tuning run's choices once on the test split: the
baseline, the best single run and the ensemble, chosen on validation (or CV folds), and
their refits. Each of those rows is one choice scored once, not a configuration over
seeds: no spread over seeds, no per-window errors, an ensemble no config names. Pooled
into cells, they would be tested and ranked as if they were runs; so the report prints
the table ``report.json`` holds, with the protocol its numbers carry, and says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from tsbench.rundir import find_runs, read_config
from tsbench.tuning_files import (
    REPORT_FILE,
    STATE_FILE,
    SUMMARY_FILE,
    result_header,
    result_rows,
)

#: Why its rows stand apart from the cells of runs.
APART = ("Not pooled with runs into cells, tests or ranks: stages (a)-(f) never read the "
         "test split, so their runs have no test score (scoring them now would let a choice "
         "among them see it), and each row here is one choice scored once in stage (g), not "
         "a configuration over seeds (no spread over seeds, no per-window errors).")


@dataclass
class Tuned:
    """A tuning folder and its summary (None: stage (g) has not scored yet)."""

    folder: Path
    summary: dict[str, Any] | None
    what: str  # "dlinear on ili, pred_len 24", from its runs' config


def tuning_folders(roots: list[Path]) -> list[Path]:
    """Every tuning folder (one holding ``tune.json``) at or under ``roots``, each once."""
    found = {p.parent.resolve() for root in roots for p in Path(root).rglob(STATE_FILE)}
    return sorted(found)


def read_tuned(folder: Path) -> Tuned:
    """``folder``'s summary and what it tuned; ``ValueError`` where ``report.json`` is
    unreadable."""
    path = folder / SUMMARY_FILE
    summary = None
    if path.is_file():
        try:
            summary = json.loads(path.read_text())
            if not isinstance(summary, dict) or not isinstance(summary.get("results"), dict):
                raise ValueError("no results in it")
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} is unreadable: {exc}") from exc
    return Tuned(folder, summary, what_ran(folder))


def what_ran(folder: Path) -> str:
    """The model, dataset and horizon the runs under ``folder`` share (the first run's
    config): a tuning folder's stages, a search's trials."""
    runs = find_runs([folder])
    if not runs:
        return "no finished run"
    config = OmegaConf.to_container(read_config(runs[0]), resolve=False)
    dataset = config.get("dataset") or {}
    name = str(dataset.get("name"))
    if name == "csv" and dataset.get("path"):
        name = Path(str(dataset["path"])).name
    return f"{(config.get('model') or {}).get('name')} on {name}, pred_len {config.get('pred_len')}"


def unfinished(tuned: Tuned) -> str:
    """Why an unfinished tuning folder has nothing to report, with the fix."""
    return (f"{tuned.folder} ({tuned.what}) is a tsbench-tune run that has not finished: "
            f"its stages score no test split, and stage (g), which scores its choices once, "
            f"has not run (no {SUMMARY_FILE}) -> finish it with the same tsbench-tune command "
            f"(out={tuned.folder})")


def markdown(tuned: Tuned, metric: str, baseline: str | None) -> str:
    """The tuning run's result table as a Markdown section, with its protocol and why it
    stands apart from the cells."""
    summary = tuned.summary
    assert summary is not None
    results = summary["results"]
    selection = summary.get("selection", "validation")
    lines = [f"## tsbench-tune {tuned.folder}", "",
             f"{tuned.what}: the tuning run's choices, each made on MSE on {selection} in "
             f"stages (a)-(f) and scored once on the test split in stage (g) ({SUMMARY_FILE}; "
             f"the whole report: {tuned.folder / REPORT_FILE}). {APART}", "",
             *result_header(f"MSE on {selection}"), *result_rows(summary)]
    notes = [f"Short budget: {summary['short_budget']}"] if "short_budget" in summary else []
    notes += [f"Scores: MSE and MAE of {summary.get('scored', 'the scored channels')}, on the "
             "training rows' scaler (the published convention), and in the data file's own "
             "units (the forecasts and actuals inverse-transformed with that scaler); the test "
             f"split was scored once, for the {len(results)} rows above, all chosen before it "
             "was read."]
    if any(name.endswith(" refit") for name in results):
        notes.append("Rows marked refit: the same choices trained again on the training and "
                     "validation rows for each run's validation-chosen epoch count (no "
                     "validation score left: their objective is their choice's).")
    if metric not in ("mse", "mae"):
        notes.append(f"Stage (g) scores MSE and MAE only: no test {metric.upper()}.")
    if baseline:
        notes.append(f"Not tested against --baseline {baseline}: no per-window errors of "
                     "these rows are saved.")
    return "\n".join([*lines, "", *notes, ""])
