"""The report's pictures as PNG bytes: the critical-difference diagram (Demšar, 2006,
Fig. 1a) and the test metric by horizon per model."""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tsbench.report.build import Ranking, Report
from tsbench.report.stats import TOLD_APART, Friedman, cliques, told_apart
from tsbench.report.validation import SPLIT_NAMES


def _saved(fig: Figure, fmt: str = "png") -> bytes:
    """The figure as a file of ``fmt`` (PNG unless told: any format matplotlib writes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=110)
    return buffer.getvalue()


def deciding_p(friedman: Friedman) -> str:
    """The p-value that decides whether the ranks differ, named as the text under the
    report's table names it (the exact one is not Friedman's chi-square p)."""
    if friedman.p_exact is not None:
        name = "permutation p" if friedman.draws else "exact p"
    else:
        name = "Friedman p" if friedman.p_f is None else "Iman-Davenport p"
    return f"{name} = {friedman.p_value:.3f}"


def cd_diagram(ranking: Ranking, fmt: str = "png") -> bytes:
    """:func:`cd_figure` as the bytes of a ``fmt`` file (PNG unless told)."""
    return _saved(cd_figure(ranking), fmt)


def cd_figure(ranking: Ranking) -> Figure:
    """Average ranks on an axis with the best (rank 1) on the right, each model's name
    beside its rank, bars joining models within one critical difference (one bar joining
    all where the Friedman test finds no difference, and the CD then marked not applied),
    and the CD; where the tables are of one dataset, no CD at all: one bar, and a line that
    says no test was made."""
    ranks = np.asarray(ranking.ranks, dtype=np.float64)
    k = len(ranks)
    order = np.argsort(ranks, kind="stable")  # best first
    groups = cliques(ranks, ranking.cd) if ranking.significant else [(0, k - 1)]
    half = (k + 1) // 2
    rows = max(half, k - half)
    height = 1.4 + 0.14 * len(groups) + 0.32 * (rows - 1)
    fig = Figure(figsize=(6.5, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    left, right = 0.27, 0.73

    def x_of(rank: float) -> float:
        return left + (right - left) * (k - rank) / (k - 1)

    axis_y = height - 0.75
    ax.plot([left, right], [axis_y, axis_y], color="black", lw=1)
    for tick in range(1, k + 1):
        ax.plot([x_of(tick)] * 2, [axis_y, axis_y + 0.08], color="black", lw=1)
        ax.text(x_of(tick), axis_y + 0.12, str(tick), ha="center", va="bottom", fontsize=9)
    if ranking.friedman is None:
        ax.text((left + right) / 2, height - 0.2,
                f"no test, no CD: {len(ranking.blocks)} tables of 1 dataset "
                f"({ranking.datasets[0]}), not independent; ranks describe it",
                ha="center", va="top", fontsize=8)
    else:
        _cd_scale(ax, ranking, (left, x_of(k - ranking.cd)) if applies_cd(ranking) else None,
                  height)
    for level, (first, last) in enumerate(groups):
        y = axis_y - 0.18 - 0.14 * level
        # from just left of the worse end to just right of the better (rank 1 is right)
        ax.plot([x_of(ranks[order[last]]) - 0.005, x_of(ranks[order[first]]) + 0.005], [y, y],
                color="black", lw=3.5, solid_capstyle="round")
    base = axis_y - 0.3 - 0.14 * len(groups)
    for position, index in enumerate(order):
        better = position < half
        row = position if better else k - 1 - position
        y = base - 0.32 * row
        x = x_of(ranks[index])
        label_x = right + 0.03 if better else left - 0.03
        ax.plot([x, x, label_x], [axis_y, y, y], color="0.3", lw=0.9)
        ax.text(label_x + (0.01 if better else -0.01), y,
                f"{ranking.models[index]} ({ranks[index]:.2f})", ha="left" if better else "right",
                va="center", fontsize=9)
    return fig


def cd_caption(ranking: Ranking) -> str:
    """What the diagram shows, in the words of its own line: bars as a CD's verdict only
    where the CD applies (:func:`applies_cd`)."""
    shown = "Critical-difference diagram: average ranks (1 = best)"
    if ranking.friedman is None:
        return (f"{shown} of {len(ranking.blocks)} tables of 1 dataset: no test, no CD; the "
                "one bar joins every model, none is told apart from another.")
    if not ranking.significant:
        return (f"{shown}: the ranks do not differ ({deciding_p(ranking.friedman)} ≥ α = "
                f"{ranking.alpha}), no CD applied; the one bar joins every model, none is "
                "told apart.")
    if not applies_cd(ranking):
        return (f"{shown}: the ranks differ at α = {ranking.alpha}, but no gap of two "
                "average ranks reaches the CD; the one bar joins every model, none is told "
                "apart.")
    return (f"{shown}; models joined by a bar are not significantly different: two models "
            f"are where their average ranks {TOLD_APART}.")


def applies_cd(ranking: Ranking) -> bool:
    """Whether the critical difference tells models apart: the ranks differ at α and the
    widest gap two average ranks can have (k - 1) reaches it (:func:`told_apart`); only
    then is it drawn."""
    return ranking.significant and told_apart(len(ranking.models) - 1, ranking.cd)


def _cd_scale(ax: Axes, ranking: Ranking, ends: tuple[float, float] | None,
              height: float) -> None:
    """The CD drawn as a scale from ``ends[0]`` to ``ends[1]`` where it applies (``ends``
    None: no scale, a CD not applied or longer than any gap looks like none), and what it
    is."""
    if ends is not None:
        ax.plot(list(ends), [height - 0.2] * 2, color="black", lw=1.5)
        for x in ends:
            ax.plot([x, x], [height - 0.26, height - 0.14], color="black", lw=1)
    cd = "no CD" if math.isinf(ranking.cd) else f"CD = {ranking.cd:.2f}"
    exact = ("" if ranking.cd_draws is None else "exact, " if not ranking.cd_draws else
             f"from {ranking.cd_draws} random orders, ")
    over = "" if ranking.independent else f"over {len(ranking.datasets)} datasets, "
    assert ranking.friedman is not None
    said = f"{cd} ({exact}{over}α = {ranking.alpha})" if ranking.significant else (
        f"{cd}, not applied: {deciding_p(ranking.friedman)} ≥ α = {ranking.alpha}")
    middle = 0.5 if ends is None else (ends[0] + ends[1]) / 2
    ax.text(middle, height - (0.3 if ends else 0.2), said, ha="center", va="top", fontsize=8)


def metric_by_horizon(report: Report) -> bytes | None:
    """:func:`horizon_figure` as PNG bytes (None: no figure)."""
    fig = horizon_figure(report)
    return None if fig is None else _saved(fig)


def horizon_figure(report: Report) -> Figure | None:
    """Test metric (mean over seeds, 95 % t-interval bars, cut at 0 like the table's)
    against pred_len, one line per model and one panel per dataset, from the tables where
    the model has exactly one comparable (unflagged) cell. None when no model has two such
    horizons."""
    cells: dict[tuple[str, str, int], list] = {}
    for row in report.rows:
        if not row.flags:
            cells.setdefault((row.cell.dataset, row.cell.model, row.cell.pred_len), []).append(row)
    series: dict[str, dict[str, list[tuple[int, float, float, float]]]] = {}
    for (dataset, model, pred_len), rows in cells.items():
        if len(rows) != 1:
            continue
        mean, ci = rows[0].spread.mean, rows[0].spread.ci
        below, above = (0.0, 0.0) if ci is None else (mean - ci[0], ci[1] - mean)
        series.setdefault(dataset, {}).setdefault(model, []).append(
            (pred_len, mean, below, above))
    datasets = [d for d, lines in series.items() if any(len(p) > 1 for p in lines.values())]
    if not datasets:
        return None
    fig = Figure(figsize=(7.0, 3.2 * len(datasets)))
    axes = fig.subplots(len(datasets), 1, squeeze=False)[:, 0]
    for ax, dataset in zip(axes, datasets, strict=True):
        for label, points in sorted(series[dataset].items()):
            points.sort()
            horizons, means, below, above = zip(*points, strict=True)
            ax.errorbar(horizons, means, yerr=[below, above], marker="o", ms=4, capsize=3,
                        label=label)
        ax.set_xticks(sorted({p[0] for pts in series[dataset].values() for p in pts}))
        ax.set_xlabel("pred_len (horizon)")
        ax.set_ylabel(f"{SPLIT_NAMES[report.split]} {report.metric_text}")
        ax.set_title(f"{dataset}: {SPLIT_NAMES[report.split]} {report.metric_words} by horizon "
                     "(mean over seeds, 95 % t-interval cut at 0)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
