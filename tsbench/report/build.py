"""From cells to the report: per-cell spread over seeds, protocol flags, paired tests
against a baseline (Holm-adjusted over the whole report), and average ranks with the
Friedman test and Nemenyi's critical difference over the (dataset, horizon) blocks.

What a paired test compares: the per-window test MSE of each run (``test_window_mse.npy``)
averaged over the cell's seeds, window by window, against the same for the baseline cell.
That is the expected error of one training run on each window, not the error of the
seed-averaged forecast (the forecasts themselves are not saved).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsbench.report import stats
from tsbench.report.collect import Cell
from tsbench.report.compare import flags
from tsbench.report.published import published, published_seq_len

#: Verdicts of a paired test against the baseline.
BETTER, WORSE, SAME, BASELINE = "better", "worse", "indistinguishable", "baseline"


@dataclass
class Row:
    """One cell of the report with everything shown about it."""

    cell: Cell
    spread: stats.Spread
    published: float | None
    delta: float | None
    flags: list[str]
    has_card: bool
    best: bool = False
    test: stats.PairedTest | None = None
    p_holm: float | None = None
    verdict: str = ""  # BETTER, WORSE, SAME, BASELINE or "" (no test: see ``note``)
    note: str = ""
    published_seq_len: int | None = None  # the look-back the published number was got at

    @property
    def published_elsewhere(self) -> bool:
        """Whether the published number was obtained at another look-back than the cell's
        (an unknown look-back, of a run saved without it, is no difference)."""
        own = self.cell.runs[0].config.get("seq_len")
        return None not in (own, self.published_seq_len) and own != self.published_seq_len


@dataclass
class Ranking:
    """Average ranks of ``models`` over ``blocks`` (dataset, pred_len) with the Friedman
    test and the Nemenyi critical difference at ``alpha``."""

    models: list[str]
    blocks: list[tuple[str, int]]
    friedman: stats.Friedman
    cd: float
    alpha: float


@dataclass
class Report:
    rows: list[Row]
    metric: str
    baseline: str | None
    alpha: float
    n_tests: int = 0
    ranking: Ranking | None = None
    ranking_note: str = ""

    def tables(self) -> dict[tuple[str, int], list[Row]]:
        out: dict[tuple[str, int], list[Row]] = {}
        for row in self.rows:
            out.setdefault((row.cell.dataset, row.cell.pred_len), []).append(row)
        return out


def build(cells: list[Cell], metric: str = "mse", baseline: str | None = None,
          alpha: float = 0.05) -> Report:
    """The report of ``cells`` on ``test_<metric>``."""
    key = f"test_{metric}"
    report = Report([], metric, baseline, alpha)
    by_table: dict[tuple[str, int], list[Cell]] = {}
    for cell in cells:
        by_table.setdefault((cell.dataset, cell.pred_len), []).append(cell)
    for (dataset, pred_len), table_cells in sorted(by_table.items()):
        # the baseline: the cell of that row label, else the cells of that model
        bases = [c for c in table_cells if c.label == baseline] or [
            c for c in table_cells if c.model == baseline]
        reference = bases[0] if len(bases) == 1 else None
        flagged = flags(table_cells, reference)
        rows = []
        for cell in table_cells:
            spread = stats.t_interval(cell.values(key))
            ref = published(cell.model, dataset, pred_len, metric)
            rows.append(Row(cell, spread, ref, None if ref is None else (spread.mean - ref) / ref,
                            flagged[id(cell)], all(r.card is not None for r in cell.runs),
                            published_seq_len=published_seq_len(cell.model, dataset, pred_len)))
        comparable = [r for r in rows if not r.flags]
        if comparable:
            low = min(r.spread.mean for r in comparable)
            for row in comparable:
                row.best = row.spread.mean == low
        if baseline is not None:
            _paired_tests(rows, baseline, bases, pred_len)
        report.rows += rows
    _adjust(report)
    report.ranking, report.ranking_note = _ranking(report, alpha)
    return report


def seed_mean_window_mse(cell: Cell) -> tuple[np.ndarray | None, str]:
    """The cell's per-window test MSE averaged over its seeds, or None and why not."""
    arrays = [run.window_mse("test") for run in cell.runs]
    if any(a is None for a in arrays):
        return None, "no readable per-window errors (a run saved before they were?)"
    sizes = {int(a.size) for a in arrays} | {int(r.metrics.get("n_test_windows", -1))
                                             for r in cell.runs}
    if len(sizes) > 1:
        return None, "its per-window error files do not match its window counts"
    return np.stack(arrays).astype(np.float64).mean(axis=0), ""


def _paired_tests(rows: list[Row], baseline: str, bases: list[Cell], pred_len: int) -> None:
    if len(bases) != 1:
        why = (f"no {baseline} run in this table" if not bases
               else f"{len(bases)} {baseline} configurations in this table: none is the "
                    f"baseline -> name one by its row, e.g. --baseline '{bases[0].label}'")
        for row in rows:
            row.note = why
        return
    base = next(r for r in rows if r.cell is bases[0])
    base.verdict = BASELINE  # the table's reference protocol: never flagged
    base_errors, why = seed_mean_window_mse(base.cell)
    for row in rows:
        if row is base:
            continue
        if row.flags:
            row.note = "not compared: its protocol differs"
            continue
        if base_errors is None:
            row.note = f"baseline: {why}"
            continue
        errors, why_not = seed_mean_window_mse(row.cell)
        if errors is None:
            row.note = why_not
        else:
            row.test = stats.diebold_mariano(errors, base_errors, pred_len)


def _adjust(report: Report) -> None:
    """Holm over every paired test of the report, then each tested row's verdict."""
    tested = [row for row in report.rows if row.test is not None]
    report.n_tests = len(tested)
    if not tested:
        return
    adjusted = stats.holm(np.array([row.test.p_value for row in tested]))
    for row, p in zip(tested, adjusted, strict=True):
        row.p_holm = float(p)
        if p >= report.alpha:
            row.verdict = SAME
        else:
            row.verdict = BETTER if row.test.mean_diff < 0 else WORSE


def _ranking(report: Report, alpha: float) -> tuple[Ranking | None, str]:
    """Ranks over the blocks where every ranked model has exactly one comparable cell."""
    blocks: dict[tuple[str, int], dict[str, float]] = {}
    for (dataset, pred_len), rows in report.tables().items():
        comparable = [r for r in rows if not r.flags]
        models = [r.cell.model for r in comparable]
        if len(set(models)) == len(models):  # several configurations of a model: no rank
            blocks[(dataset, pred_len)] = {r.cell.model: r.spread.mean for r in comparable}
    if not blocks:
        return None, "no table has one comparable configuration per model"
    models = sorted(set.intersection(*(set(b) for b in blocks.values())))
    every = sorted({m for b in blocks.values() for m in b})
    if len(models) < 2 or len(blocks) < 2:
        return None, (f"ranks need at least 2 models in at least 2 (dataset, pred_len) tables; "
                      f"found {len(models)} model(s) common to {len(blocks)} table(s)")
    scores = np.array([[blocks[b][m] for m in models] for b in sorted(blocks)])
    result = stats.friedman(scores)
    ranking = Ranking(models, sorted(blocks), result,
                      stats.nemenyi_cd(len(models), len(blocks), alpha), alpha)
    left = [m for m in every if m not in models]
    note = f"left out (not in every table): {', '.join(left)}" if left else ""
    return ranking, note
