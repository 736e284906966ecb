"""Which cells of a table may be compared: the protocol facts every number depends on.

A run's facts come from its protocol card; a run saved before cards existed gives what its
config and metrics show (features, test windows, cross-validation) and leaves the rest
unknown, and an unknown fact is never a difference. A run whose sweep's ``trials.csv`` has
a ``seq_len`` column was a trial of a search over seq_len, card or not. Runs that differ in
a fact are never one cell (:func:`tsbench.report.collect.group`). Within a table (one
dataset and horizon) each fact has a reference value, the baseline cell's where there is
one, else the value most cells share (on a tie, on a dataset with published numbers, the
published protocol's where it is one of them; data without published numbers in
tsbench's table, a user's own CSV or weather, is judged among its cells alone); a cell
that differs from it (in a fact of what is scored, not of how a model forecasts:
:data:`MODELLING_FACTS`) is flagged and left out of bolding, paired tests and ranks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from tsbench.report.published import (
    dataset_settings,
    has_table,
    protocol,
    shipped_target,
    test_windows,
)

if TYPE_CHECKING:
    from tsbench.report.collect import Cell, Run

#: The compared facts, in the order a flag names them.
FACTS = ("data file", "rows used", "split", "scaler rows", "features", "scored columns",
         "seq_len", "test windows", "metric scale", "cross-validation", "strategy")
#: Facts that are config values too (the config already tells cells apart by them).
CONFIG_FACTS = ("features", "scored columns", "cross-validation", "strategy")
#: Facts of how a model forecasts, not of what is scored: the same windows of the same
#: series are scored whatever they are, so cells that differ in them are compared (a
#: published number still stands only beside the published choice, :func:`off_published`):
#: the strategy; whether the look-back was fixed or chosen by a search that never saw
#: the test split (one chosen on a split named test is flagged: :func:`flags`); and the
#: cross-validation, i.e. on which rows the scored model trained (a refit on train+val
#: scores the same test windows, scaled by the same training rows' scaler).
MODELLING_FACTS = ("strategy", "seq_len", "cross-validation")

#: Facts of the test split alone: unknown in a validation report (``--split val``), where a
#: run with ``score_test=false`` (a search's trial, which read no test rows) and one that
#: scored the test split validated alike.
TEST_FACTS = ("rows used", "test windows")

#: Facts that follow from another: not named again on a cell the other flags.
FOLLOWS_FROM = {"scored columns": "features"}
#: Values of a fact that score alike: features S and MS both score the target alone, scaled
#: by its own column's training statistics, on the same windows, so their cells compare
#: (whether reading the other channels helps); M scores every channel.
ALIKE = {"features": {"MS": "S"}}


def facts(run: Run) -> dict[str, str | None]:
    """The protocol facts of one run, as short text (None: unknown); in a validation
    report, the facts of the test split (:data:`TEST_FACTS`) are unknown. Its data file is
    :meth:`Run.data_identity`, the rank test's dataset: a file's sha256, a generated
    series' settings that make its values."""
    known = _facts(run)
    return {k: None if run.val_tag and k in TEST_FACTS else v for k, v in known.items()}


def _facts(run: Run) -> dict[str, str | None]:
    """:func:`facts` of both splits."""
    card, cfg, metrics = run.card, run.config, run.metrics
    cv = cfg.get("cv.name")
    known: dict[str, Any] = dict.fromkeys(FACTS)
    known["features"] = cfg.get("features")
    known["cross-validation"] = cv_text(cv, cfg.get("cv.refit"))
    strategy = cfg.get("strategy.name", "direct")  # configs from before strategies: direct
    known["strategy"] = strategy if strategy == "direct" else (
        f"{strategy} step {cfg.get('strategy.step')}")
    if "n_test_windows" in metrics:
        known["test windows"] = f"{metrics['n_test_windows']}"
    if cfg.get("features") in ("S", "MS"):  # the target alone is scored
        known["scored columns"] = cfg.get("dataset.target")
    if "seq_len" in run.swept:  # its sweep's trials.csv: a trial of a search over seq_len
        known["seq_len"] = "searched on " + ("cv folds" if cv == "tscv" else "val")
    if card is None:
        return {k: None if v is None else str(v) for k, v in known.items()}
    data, split, windows = card["dataset"], card["split"], card["windows"]
    test = windows.get("test")
    policy = card["seq_len"]
    if not policy.get("read", True):  # forecasts the same whatever the look-back
        known["seq_len"] = None
    elif known["seq_len"] is None:
        known["seq_len"] = ("fixed" if policy["policy"] == "fixed"
                            else f"searched on {policy['searched_on']}")
    known.update({
        "data file": run.data_identity(),  # the rank test's dataset, by one definition
        "rows used": f"{_span(data['rows_used'])} of {data['rows_loaded']}",
        "split": f"{split['rule']}, test targets from row {split['first_target']['test']}",
        "scaler rows": None if card["scaler"].get("fitted_rows") is None
        else _span(card["scaler"]["fitted_rows"]),
        "features": card["features"],
        "scored columns": card.get("target") if card["features"] in ("S", "MS")
        else ",".join(data.get("channels") or []) or None,
        "test windows": None if test is None else
        f"{test['scored']}" + ("" if test["all"] else f" of {test['available']}"),
        "metric scale": card["metrics_scale"]["headline"],
        "cross-validation": cv_text(split["cv"], (split.get("tscv") or {}).get("refit")),
    })
    return {k: None if v is None else str(v) for k, v in known.items()}


#: How a cross-validation fact names a model trained on the train+val rows before scoring
#: the test split (``cv=refit``, ``cv=tscv cv.refit=true``).
REFIT = "refit on train+val"


def cv_text(cv: Any, refit: Any = False) -> str | None:
    """The cross-validation fact: ``holdout``, ``tscv``, or with a refit on the train+val
    rows, ``tscv, refit on train+val`` and ``refit on train+val``; None where unknown."""
    if cv == "refit":
        return REFIT
    if cv == "tscv" and refit:
        return f"tscv, {REFIT}"
    return None if cv is None else str(cv)


def _span(rows: Any) -> str:
    """A card's row range ``[start, end]`` (end excluded, as Python slices) as ``[0, 5311)``;
    anything else as JSON."""
    if isinstance(rows, list) and len(rows) == 2 and all(isinstance(r, int) for r in rows):
        return f"[{rows[0]}, {rows[1]})"
    return json.dumps(rows)


def cell_facts(cell: Cell) -> dict[str, str | None]:
    """The facts of a cell (its runs share them: they are part of what groups them)."""
    return facts(cell.runs[0])


def off_published(cell: Cell) -> list[str]:
    """How a cell's protocol differs from the one the published numbers share (unknown
    facts never do): ``["features S (published: M)"]``, another class than tsbench's model
    of that name (a user's model called ``dlinear``), and each dataset setting that
    differs from the shipped one (``dataset.train_frac 0.5 (published: 0.7)``: another
    scaler, other scored columns, another file)."""
    known = cell_facts(cell)
    off = [f"{fact} {known[fact]} (published: {value})" for fact, value in protocol().items()
           if known.get(fact) is not None and known[fact] != value]
    windows, expected = known.get("test windows"), test_windows(cell.dataset, cell.pred_len)
    if windows is not None and expected is not None and windows != str(expected):
        off.append(f"test windows {windows} (published: {expected})")
    config = cell.config
    mine, shipped = config.get("model._target_"), shipped_target(cell.model)
    if mine is not None and shipped is not None and mine != shipped:  # a user's model that
        off.append(f"model._target_ {mine} (published: {shipped})")  # took its name
    for key, value in (dataset_settings(cell.dataset) or {}).items():
        mine = config.get(f"dataset.{key}", value)  # a run saved before the key: unknown
        if mine != value:
            off.append(f"dataset.{key} {_shown(mine)} (published: {_shown(value)})")
    return off


def _shown(value: Any) -> str:
    """A setting's value as a flag shows it: as YAML writes it (null, a list), a digest's
    first 12 characters."""
    if isinstance(value, str):
        return value[:12] if len(value) == 64 else value
    return json.dumps(value)


def flags(cells: list[Cell], reference: Cell | None = None) -> dict[int, list[str]]:
    """For the cells of one table: ``id(cell)`` -> what sets it apart (empty: comparable).
    ``reference`` (the baseline cell) fixes the expected values; otherwise the most
    common value of each fact does, a tie broken by the published protocol's value
    (:func:`tsbench.report.published.protocol`: features M, ...) on a dataset with
    published numbers (on a user's own data, no paper's choice is the table's), else by the
    one value of the cells no earlier fact flagged (the M cells' columns where features M
    was chosen), else flagging every cell."""
    known = {id(c): cell_facts(c) for c in cells}
    out: dict[int, list[str]] = {id(c): [] for c in cells}
    papers = bool(cells) and has_table(str(cells[0].runs[0].config.get("dataset.name")))
    for fact in (f for f in FACTS if f not in MODELLING_FACTS):
        shown_as = {id(c): known[id(c)][fact] for c in cells}
        values = {key: ALIKE.get(fact, {}).get(v, v) for key, v in shown_as.items()}
        counts = Counter(v for v in values.values() if v is not None)
        if len(counts) < 2:
            continue
        holders = None  # the cells whose value is the table's, as shown
        if reference is not None and values[id(reference)] is not None:
            expected: str | None = values[id(reference)]
            holders = [id(reference)]
        else:
            n_top = counts.most_common(1)[0][1]
            tied = [v for v, n in counts.items() if n == n_top]
            published = protocol().get(fact) if papers else None
            unflagged = {values[id(c)] for c in cells if not out[id(c)]} & set(tied)
            expected = (tied[0] if len(tied) == 1 else published if published in tied
                        else unflagged.pop() if len(unflagged) == 1 else None)
        for cell in cells:
            value = values[id(cell)]
            source = FOLLOWS_FROM.get(fact)
            if source and any(f.startswith(f"{source} ") for f in out[id(cell)]):
                continue
            if value is not None and value != expected:
                table = "/".join(sorted({shown_as[key] for key in holders or values
                                         if values[key] == expected}))
                shown = "differs" if expected is None else f"table: {table}"
                out[id(cell)].append(f"{fact} {shown_as[id(cell)]} ({shown})")
    for cell in cells:
        policy = known[id(cell)]["seq_len"] or ""
        # test, Test, test_split, val+test, ..., latest too: free text, and a flag too many
        # costs less than a selection on test missed
        if policy.startswith("searched on") and re.search("test", policy, re.IGNORECASE):
            out[id(cell)].append(f"seq_len {policy} (selection on test)")
    return out
