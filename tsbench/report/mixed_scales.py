"""The line of an original-unit report on features=M cells whose channels differ widely in
scale: their MSE (MAE) in original units is the plain mean over the channels, so the widest
channel carries it (a channel in thousands beside one near 1: all of it). The channels'
scales are the stds over the scaler's training rows that each run's card records
(``scaler.channel_std``); a run saved before cards recorded them is unknown, never named."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tsbench.report.units import ORIGINAL, WITH_UNITS

if TYPE_CHECKING:
    from tsbench.report.build import Report
    from tsbench.report.collect import Cell

#: Channels whose stds lie more than this factor apart (their squared errors, 100 x) make a
#: features=M cell's original-unit score one channel's.
SCALE_RATIO = 10.0


def mixed_scale_lines(report: Report) -> list[str]:
    """One line naming each features=M cell of an original-unit report whose channels'
    scales lie more than :data:`SCALE_RATIO` apart, with the channel that carries its
    number, or none."""
    if report.units != ORIGINAL or report.metric not in WITH_UNITS:
        return []
    cases = [case for row in report.rows if (case := _case(row.cell))]
    if not cases:
        return []
    name = report.metric.upper()
    return [f"⚠ Original-unit {name} of features=M cells whose channels differ widely in "
            f"scale: the number is the plain mean of the channels' {name}, so the widest "
            f"channel carries it and it compares that channel alone: {'; '.join(cases)} -> "
            "compare per channel with features=S or MS dataset.target=<channel>, or all "
            "channels in scaled units (drop --units original); original units suit one "
            "target (S/MS) or channels in one unit (protocol.json: scaler.channel_std)."]


def _case(cell: Cell) -> str:
    """The cell's dominating channel in words, or ``""`` (not features=M, scales unknown or
    within :data:`SCALE_RATIO`)."""
    stds = _stds(cell)
    if str(cell.config.get("features")) != "M" or len(stds) < 2:
        return ""
    widest, narrowest = max(stds, key=stds.__getitem__), min(stds, key=stds.__getitem__)
    if stds[widest] <= SCALE_RATIO * stds[narrowest]:
        return ""
    share = stds[widest] ** 2 / sum(s ** 2 for s in stds.values())
    return (f"{cell.label} at {cell.dataset}/{cell.pred_len}: dominated by channel {widest} "
            f"(std {stds[widest]:.3g} over the scaler's training rows, {narrowest} "
            f"{stds[narrowest]:.3g}: {100 * share:.1f} % of the channels' variance)")


def _stds(cell: Cell) -> dict[str, float]:
    """The scored channels' training stds of the cell's first run whose card has them."""
    for run in cell.runs:
        stds: Any = ((run.card or {}).get("scaler") or {}).get("channel_std")
        if stds:
            return {str(k): float(v) for k, v in stds.items()}
    return {}
