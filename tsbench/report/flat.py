"""The report's line on cells whose scaled scores a (near-)constant training channel
dominates: what their runs' protocol cards record (``scaler.flat_channels``: a scored
channel almost flat over a scaler's training rows that the validation rows scored against
that scaler move, or exactly constant there and so left unscaled)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tsbench.flat_words import REPORT_ORIGINAL_UNITS, flat_advice, flat_case

if TYPE_CHECKING:
    from tsbench.report.build import Report, Row
    from tsbench.report.collect import Cell

#: The metrics a run scores on the scaled data (z-scores of its scaler's rows, the published
#: convention), which the scaler's spread enters; MASE and sMAPE are scale-free.
SCALED = ("mse", "mae")
#: How a cell's protocol flag starts where its runs' cards flag such a channel.
FLAT_FLAG = "scaled scores distorted"


def flat_lines(report: Report) -> list[str]:
    """One line naming each cell whose runs' cards flag a channel, with the rerun that
    fits its protocol (:func:`flat_advice`), or none. A test report names only the scaler
    of the scored model (a holdout run's; a ``cv=tscv`` run's folds scored no test
    window)."""
    if report.metric not in SCALED:
        return []
    cases = [case for row in report.rows if (case := _cell_case(row, report.split))]
    if not cases:
        return []
    test = ("" if report.split == "val" else " (the test split is scaled by the same rows; "
            "it was not read to check)")
    return [f"⚠ Scaled scores distorted by a channel (near-)constant over its scaler's "
            f"training rows, or spread far less there, which the validation rows move{test}: "
            "the standard scaler divides by that small spread (a constant channel is left "
            f"unscaled, in original units): {'; '.join(cases)}; compare these cells in "
            f"{REPORT_ORIGINAL_UNITS} (protocol.json: scaler.flat_channels)."]


def _cell_case(row: Row, split: str) -> str:
    """The flagged channels of a cell, from the first of its runs whose card has any."""
    flagged = [(run, entries) for run in row.cell.runs if (entries := split_entries(run, split))]
    if not flagged:
        return ""
    run, entries = flagged[0]
    runs = "" if len(row.cell.runs) == 1 else f", {len(flagged)} of {len(row.cell.runs)} runs"
    return (f"{row.cell.label} at {row.cell.dataset}/{row.cell.pred_len} ({run.path}{runs}): "
            + "; ".join(flat_case(e) for e in entries)
            + f" -> rerun it with {flat_advice(entries)}")


def flat_flag(cell: Cell, split: str) -> str | None:
    """The protocol flag of a cell whose runs' cards flag a channel bearing on ``split``
    (a scaled report leaves it out of bold, tests and ranks, as a differing protocol), or
    None."""
    names = sorted({e["channel"] for run in cell.runs for e in split_entries(run, split)})
    return f"{FLAT_FLAG} by {', '.join(names)}" if names else None


def split_entries(run: Any, split: str) -> list[dict[str, Any]]:
    """A run's flagged channels that bear on ``split``'s scores: a validation split's
    scalers (a holdout run's, the folds'), or the test split's (a holdout run's, a
    refit's)."""
    entries = ((run.card or {}).get("scaler") or {}).get("flat_channels") or []
    if split == "val":
        return [e for e in entries if not e.get("refit")]
    return [e for e in entries if e.get("fold") is None]
