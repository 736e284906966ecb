"""Pictures of the periodicity analysis: the ACF with the detected periods marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tsbench.analysis.periodicity import Period  # noqa: E402
from tsbench.atomic import atomic_path  # noqa: E402

#: Channels drawn one by one; wider datasets show their mean only.
_MAX_CHANNELS = 8


def plot_acf(
    curves: np.ndarray,
    channels: list[str],
    periods: list[Period],
    title: str,
    lag_unit: str,
    path: Path,
) -> None:
    """ACF curves ``(lags, channels)``, their mean in bold (one channel's own curve in bold),
    detected periods as dashed lines."""
    lags = np.arange(curves.shape[0])
    fig, ax = plt.subplots(figsize=(10, 4.2))
    single = curves.shape[1] == 1
    if 1 < curves.shape[1] <= _MAX_CHANNELS:
        for curve, name in zip(curves.T, channels, strict=True):
            ax.plot(lags, curve, lw=0.8, alpha=0.7, label=name)
    drawn = curves[:, ~np.isnan(curves).all(axis=0)]  # a flat channel has no ACF (NaN)
    if drawn.shape[1]:
        ax.plot(lags, drawn.mean(axis=1), color="black", lw=1.8,
                label=channels[0] if single else "mean over channels")
    for period in periods:
        ax.axvline(period.period, color="tab:red", ls="--", lw=1.0)
        ax.annotate(
            f"period {period.period}\nstrength {period.strength:.2f}",
            (period.period, 0.95),
            xycoords=("data", "axes fraction"),
            ha="left",
            va="top",
            fontsize=8,
            color="tab:red",
        )
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlim(0, lags[-1])
    ax.set_xlabel(f"lag ({lag_unit})")
    ax.set_ylabel("autocorrelation (linear trend removed)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    fig.tight_layout()
    with atomic_path(path) as tmp:  # a run stopped mid-write leaves no cut picture
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
