"""A flagged channel of a protocol card (``scaler.flat_channels``: scored, (near-)constant
over its scaler's training rows) in words, as the run's warning and the report's line say it:
one reading of the card for both, which do not import each other."""

from __future__ import annotations

from typing import Any

#: What to compare runs on instead: their scores in original units, which a channel's tiny
#: training spread does not inflate (MAE and MASE are scaled by it too).
ORIGINAL_UNITS = ("original-unit scores (test_mse_orig / test_mae_orig, cv_val_mse_orig_mean "
                  "in metrics.json; tsbench-report --units original), which a tiny training "
                  "spread does not inflate")
#: The report's version: the same report in original units.
REPORT_ORIGINAL_UNITS = ("the same tsbench-report command with --units original (MSE/MAE in "
                         "the data's own units, which a tiny training spread does not inflate)")
#: Where a channel's movement lies outside its scaler's rows.
LEAVE_OUT = "the channel left out (dataset.columns) or rescaled in the file"


def flat_case(entry: dict[str, Any]) -> str:
    """One flagged channel in words: its fold, both spreads over their rows, its shares."""
    fold = entry.get("fold")
    where = "the refit's " if entry.get("refit") else "" if fold is None else f"fold_{fold} "
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


def clean_folds_text(clean: dict[str, int], names: str) -> str:
    """The folds whose training rows hold the channels' movement, as a rerun names them:
    ``cv.n_splits=2 cv.test_size=25 (every fold's training rows then reach row 420,
    holding flat's movement)``."""
    return (f"cv.n_splits={clean['n_splits']} cv.test_size={clean['test_size']} (every "
            f"fold's training rows then reach row {clean['train_end']}, holding {names}'s "
            "movement: checked on the recomputed folds)")


def flat_advice(entries: list[dict[str, Any]]) -> str:
    """What rerun fits the protocol whose scalers ``entries`` flag: for ``cv=tscv`` folds,
    the folds whose every training block holds the channels' movement where the run found
    some (``clean_folds``; a card of before: ``clean_n_splits``, fewer folds alone), else
    the channel left out; a split whose training rows hold the channel's movement for a
    holdout run and a refit (its scaler's are the published training rows)."""
    if any("fold" in entry for entry in entries):
        names = ", ".join(sorted({e["channel"] for e in entries}))
        clean = next((e["clean_folds"] for e in entries if e.get("clean_folds")), None)
        count = next((e["clean_n_splits"] for e in entries if e.get("clean_n_splits")), None)
        first = (f"{clean_folds_text(clean, names)}, " if clean
                 else f"fewer folds (cv.n_splits={count}), " if count else "")
        return f"{first}or {LEAVE_OUT}" if first else LEAVE_OUT
    return ("a later split whose training rows hold the channel's movement "
            f"(dataset.train_frac; dataset.split=ratio for fixed borders), or {LEAVE_OUT}")
