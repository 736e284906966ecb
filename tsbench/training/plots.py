"""Pictures of a run: forecasts against the truth."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.dates import ConciseDateFormatter  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from tsbench.atomic import atomic_path  # noqa: E402


def plot_forecasts(
    inputs: np.ndarray, truths: np.ndarray, preds: np.ndarray, starts: list[int],
    dates: list[pd.DatetimeIndex], channel: str, title: str, path: Path,
    channel_index: int = -1, split: str = "test",
) -> None:
    """One panel per window: look-back, truth and forecast of one channel (original units)
    against the timestamps of its rows (``dates``: each window's look-back and horizon)."""
    n = len(starts)
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.6 * n), squeeze=False)
    panels = zip(axes[:, 0], inputs, truths, preds, starts, dates, strict=True)
    for ax, x, y, p, start, when in panels:
        lookback, horizon = when[: x.shape[0]], when[x.shape[0]:]
        ax.plot(lookback, x[:, channel_index], color="0.45", lw=1, label="look-back")
        ax.plot(horizon, y[:, channel_index], color="tab:blue", lw=1.2, label="truth")
        ax.plot(horizon, p[:, channel_index], color="tab:orange", lw=1.2, label="forecast")
        ax.axvline(horizon[0], color="0.7", lw=0.8, ls="--")
        ax.xaxis.set_major_formatter(ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.set_title(f"{split} window {start}: origin {lookback[-1]}, forecast {horizon[0]} "
                     f"to {horizon[-1]}", fontsize=9)  # origin: as tsbench-forecast's CSV
        ax.set_ylabel(f"{channel} (original units)")
    axes[-1, 0].set_xlabel("date")
    axes[0, 0].legend(loc="upper left", fontsize=8, ncol=3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:  # a run stopped mid-write leaves no cut picture
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def plot_losses(history: dict[str, list[float]], title: str, path: Path) -> None:
    """Training loss and validation MSE per epoch (scaled units), best epoch marked."""
    fig, ax = plt.subplots(figsize=(7, 4))
    train, val = history.get("train_loss", []), history.get("val_loss", [])
    ax.plot(range(1, len(train) + 1), train, marker="o", ms=3, label="training loss (MSE)")
    if val:
        ax.plot(range(1, len(val) + 1), val, marker="o", ms=3, label="validation MSE")
        best = int(np.argmin(val))
        ax.axvline(best + 1, color="0.6", ls="--", lw=0.8, label=f"best epoch ({best + 1})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled units)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:  # a run stopped mid-write leaves no cut picture
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
