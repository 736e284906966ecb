"""A flagged channel of a protocol card (``scaler.flat_channels``: scored, (near-)constant
over its scaler's training rows) in words, as the run's warning and the report's line say it:
one reading of the card for both, which do not import each other."""

from __future__ import annotations

from typing import Any


def flat_case(entry: dict[str, Any]) -> str:
    """One flagged channel in words: its fold, both spreads over their rows, its shares."""
    fold = entry.get("fold")
    where = "the refit's " if entry.get("refit") else "" if fold is None else f"fold {fold} "
    ratio = entry["spread_ratio"]
    spread = "constant, left unscaled" if ratio is None else f"{ratio:.0f} x"
    share = entry["share_of_val_mse"]
    parts = [f"std {entry['train_std']:.3g} over training rows "
             f"[{entry['train_rows'][0]}, {entry['train_rows'][1]}), {entry['val_std']:.3g} "
             f"over validation rows [{entry['val_rows'][0]}, {entry['val_rows'][1]}) "
             f"({spread})"]
    if share is not None:
        parts.append(f"{100 * share:.1f} % of the {'fold' if fold is not None else 'split'}'s "
                     "scaled val MSE")
    if entry.get("share_of_cv_mse") is not None:
        parts.append(f"the fold {100 * entry['share_of_cv_mse']:.1f} % of cv_val_mse_mean")
    return f"{where}channel {entry['channel']}: {', '.join(parts)}"
