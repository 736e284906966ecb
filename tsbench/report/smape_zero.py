"""The warning of a ``--metric smape`` report whose scored actual values cross or come near
zero: there sMAPE's denominator, |forecast| + |actual|, shrinks, a small error scores up to
200, and the ranking follows those points rather than the forecasts (ETTh2 at seq_len=96
pred_len=24: naive 38.2, Theta 61.3, while Theta wins on MSE, MAE and MASE; its sMAPE on
HULL alone is 175)."""

from __future__ import annotations

from tsbench.report.collect import Cell
from tsbench.report.validation import score_key


def near_zero_warning(cells: list[Cell], split: str) -> str | None:
    """One line naming each dataset and its channels whose scored actual values crossed or
    came near zero, as the runs recorded (``<split>_smape_near_zero``, beside the sMAPE the
    report reads); None where none did, or no run recorded it (runs of an older tsbench)."""
    named: dict[str, list[str]] = {}
    for cell in cells:
        for run in cell.runs:
            key = score_key(run, split, "smape").removesuffix("_mean") + "_near_zero"
            channels = named.setdefault(cell.dataset, [])
            channels += [c for c in run.metrics.get(key) or () if c not in channels]
    where = "; ".join(f"{dataset} ({', '.join(channels)})"
                      for dataset, channels in named.items() if channels)
    if not where:
        return None
    return (f"--metric smape: the scored actual values cross or come near zero in {where}: "
            "there sMAPE's denominator |forecast| + |actual| shrinks and a small error "
            "scores up to 200, so its means and ranks follow those points, not the "
            "forecasts' accuracy -> compare with --metric mase or mae")
