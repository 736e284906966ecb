"""Average ranks of models over a report's (dataset, horizon) tables, with the Friedman test
and the critical difference (Demšar 2006) over its datasets; a validation report's over the
tables of one validation protocol alone (:mod:`tsbench.report.validation`).

The tables of one dataset (its horizons, look-backs or other settings) share its test
period and overlap in target rows: they are one piece of evidence, not several. So each
dataset ranks the models by their mean rank over its tables, and the test runs over those
per-dataset ranks; with one dataset there is no test, and the ranks only describe it. A dataset is
its data (:meth:`Run.data_identity`), not its name: a copy of a file is the same dataset."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats as scipy_stats

from tsbench.report import stats

if TYPE_CHECKING:
    from tsbench.report.build import Row


@dataclass
class Ranking:
    """Ranks of ``models`` over ``blocks``, the (dataset, pred_len) tables, with the Friedman
    test over their datasets (each model's score in a dataset: its mean rank over that
    dataset's tables) and the critical difference at ``alpha``
    (:func:`stats.critical_difference`: ``cd_draws`` None for Nemenyi's, 0 for the exact one
    enumerated, else its random draws). ``friedman`` is None where the tables are of one
    dataset: no test, and ``table_ranks`` (the average ranks over the tables) describe it.
    ``dataset_of`` names each table's dataset, told by the data's content
    (:meth:`Run.data_identity`): a copy of a file under another name is its dataset again;
    ``same_data`` says which names were found to be one dataset."""

    models: list[str]
    blocks: list[tuple[str, int]]
    friedman: stats.Friedman | None
    cd: float
    alpha: float
    cd_draws: int | None = None
    table_ranks: np.ndarray | None = None
    dataset_of: list[str] | None = None
    same_data: list[str] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        """The distinct datasets of the ranked tables, in their order."""
        return list(dict.fromkeys(self.dataset_of or [dataset for dataset, _ in self.blocks]))

    @property
    def independent(self) -> bool:
        """Whether every ranked table is of a dataset of its own."""
        return len(self.datasets) == len(self.blocks)

    @property
    def ranks(self) -> np.ndarray:
        """Each model's average rank: over the datasets where tested, else over the tables."""
        if self.friedman is not None:
            return self.friedman.average_ranks
        assert self.table_ranks is not None
        return self.table_ranks

    @property
    def significant(self) -> bool:
        """Whether the ranks differ at ``alpha`` (:attr:`stats.Friedman.p_value`); only then
        does the critical difference tell models apart (Demšar's post-hoc rule). Never
        where the tables are of one dataset (no test)."""
        return self.friedman is not None and self.friedman.p_value < self.alpha

    def told_apart(self) -> list[tuple[str, str]]:
        """The pairs of models (better first) whose average ranks the critical difference
        tells apart (:func:`stats.told_apart`, the rule the diagram's bars follow); none
        where the ranks do not differ."""
        if not self.significant:
            return []
        ordered = sorted(zip(self.ranks, self.models, strict=True))
        return [(better, worse) for i, (high, better) in enumerate(ordered)
                for low, worse in ordered[i + 1:] if stats.told_apart(low - high, self.cd)]


#: What average ranks (and so the critical-difference diagram) need, where a report has none.
RANKS_NEED = ("ranks need the same 2 or more models in 2 or more (dataset, pred_len) tables "
              "with one configuration per model")


def rank(tables: dict[tuple[str, int], list[Row]], alpha: float, split: str = "test"
         ) -> tuple[Ranking | None, str]:
    """:func:`_rank` over a report's ``tables``; in a validation report, over the tables of
    one validation protocol (:func:`validation.protocol`: the one whose ranks span the most
    tables), the others' left out and said so: scores of different validation protocols
    (holdout, or CV over other folds) are not ranked together."""
    if split == "test":
        return _rank(tables, alpha)
    by_protocol: dict[str, dict[tuple[str, int], list[Row]]] = {}
    for table, rows in tables.items():
        by_protocol.setdefault(rows[0].cell.runs[0].val_tag, {})[table] = rows
    ranked = {name: _rank(protocol_tables, alpha)
              for name, protocol_tables in by_protocol.items()}
    if len(ranked) == 1:
        return next(iter(ranked.values()))
    chosen = max(sorted(ranked), key=lambda k: (0, 0) if ranked[k][0] is None else (
        len(ranked[k][0].blocks), len(ranked[k][0].models)))  # type: ignore[union-attr]
    ranking, note = ranked[chosen]
    left = [f"{d}/{h}" for name in sorted(ranked) if name != chosen for d, h in by_protocol[name]]
    apart = (f"ranked on the [{chosen}] tables alone: the other validation protocols' tables "
             f"({'; '.join(left)}) are left out, scores of different validation protocols "
             "are not ranked together")
    if ranking is None:
        return None, f"{note}; {apart}"
    return ranking, f"{apart}; {note}" if note else apart


def _rank(tables: dict[tuple[str, int], list[Row]], alpha: float
          ) -> tuple[Ranking | None, str]:
    """Ranks over the blocks where every ranked model has exactly one comparable cell: the
    models common to the most such tables (ties: the most models; :func:`_widest`)."""
    blocks: dict[tuple[str, int], dict[str, float]] = {}
    skipped, apart = [], []
    for (dataset, pred_len), rows in tables.items():
        comparable = [r for r in rows if not r.flags]
        models = [r.cell.model for r in comparable]
        if len(set(models)) == len(models):
            blocks[(dataset, pred_len)] = {r.cell.model: r.spread.mean for r in comparable}
        else:  # several configurations of a model: which one would it rank?
            several = {m: [r.cell.label for r in comparable if r.cell.model == m]
                       for m in sorted({m for m in models if models.count(m) > 1})}
            apart = apart or next(iter(several.values()))
            skipped.append(f"{dataset}/{pred_len} (several configurations of "
                           f"{', '.join(map(_configurations, several.values()))})")
    if not blocks:
        return None, (f"{RANKS_NEED}; no table has one: {'; '.join(skipped)} -> for ranks, "
                      f"report one configuration of each model at a time, e.g. the folders of "
                      f"the {apart[0]} runs apart from those of the {apart[1]} runs")
    models, widest = _widest(blocks)
    used, twins = _distinct(tables, widest)
    skipped += twins
    if len(models) < 2 or len(used) < 2:
        skipped_text = f"; left out: {'; '.join(skipped)}" if skipped else ""
        found = ("this report has one such table" if len(blocks) == 1 else
                 f"no two of the {len(blocks)} such tables share 2 or more models"
                 if len(models) < 2 or len(widest) < 2 else
                 f"the {len(widest)} tables that share them are one table's data and horizon")
        return None, f"{RANKS_NEED}; {found}{skipped_text}"
    dataset_of, same_data = _datasets(tables, used)
    ranking = _tested(np.array([[blocks[b][m] for m in models] for b in used]), models,
                      used, alpha, dataset_of)
    ranking.same_data = same_data
    every = sorted({m for b in blocks.values() for m in b})
    left = [m for m in every if m not in models]
    skipped += [f"{d}/{h} (no {', '.join(m for m in models if m not in blocks[(d, h)])})"
                for d, h in sorted(blocks) if (d, h) not in widest]
    notes = [f"left out (not in every ranked table): {', '.join(left)}"] if left else []
    notes += [f"tables left out: {'; '.join(skipped)}"] if skipped else []
    return ranking, "; ".join(notes)


def _distinct(tables: dict[tuple[str, int], list[Row]], used: list[tuple[str, int]]
              ) -> tuple[list[tuple[str, int]], list[str]]:
    """``used`` less each table of the data and horizon of one before it under another name
    (a copy of a file: the same table, which would count its ranks twice), and a note for
    each left out."""
    first: dict[tuple[str, int], tuple[str, int]] = {}
    kept, twins = [], []
    for table in used:
        key = (tables[table][0].cell.runs[0].data_identity(), table[1])
        if key in first:
            twins.append(f"{table[0]}/{table[1]} (the data and horizon of "
                         f"{first[key][0]}/{first[key][1]})")
        else:
            first[key] = table
            kept.append(table)
    return kept, twins


def _datasets(tables: dict[tuple[str, int], list[Row]], used: list[tuple[str, int]]
              ) -> tuple[list[str], list[str]]:
    """Each used table's dataset, told by its data's content (:meth:`Run.data_identity`)
    and named by the first table of that data, and a sentence for each data found under
    several names (``mix.csv and mixcopy.csv are one file (sha256 e2e4f43c58dc)``)."""
    runs = {table: tables[table][0].cell.runs[0] for table in used}
    names: dict[str, list[str]] = {}
    for run in runs.values():
        names.setdefault(run.data_identity(), [])
        if run.data_name not in names[run.data_identity()]:
            names[run.data_identity()].append(run.data_name)
    same = [f"{' and '.join(shown)} are one "
            f"{'file (' + data + ')' if data.startswith('sha256') else 'series'}"
            for data, shown in names.items() if len(shown) > 1]
    return [names[runs[table].data_identity()][0] for table in used], same


def _tested(scores: np.ndarray, models: list[str], tables: list[tuple[str, int]],
            alpha: float, dataset_of: list[str]) -> Ranking:
    """The ranking of ``scores`` (tables x models): the Friedman test and critical
    difference over the datasets (``dataset_of``: each table's), on each model's mean rank
    over a dataset's tables; none with one dataset."""
    ranks = scipy_stats.rankdata(scores, axis=1)
    datasets = list(dict.fromkeys(dataset_of))
    table_ranks = ranks.mean(axis=0)
    if len(datasets) < 2:
        return Ranking(models, tables, None, math.inf, alpha, None, table_ranks, dataset_of)
    by_dataset = np.array([ranks[[d == dataset for d in dataset_of]].mean(axis=0)
                           for dataset in datasets])
    cd, cd_draws = stats.critical_difference(by_dataset, alpha)
    return Ranking(models, tables, stats.friedman(by_dataset), cd, alpha, cd_draws,
                   table_ranks, dataset_of)


def _configurations(labels: list[str]) -> str:
    """``dlinear (cv=holdout vs cv=tscv)``: a model and what tells its cells in a table
    apart, from their row labels."""
    model = labels[0].partition(" (")[0]
    inner = [label.partition(" (")[2].removesuffix(")") or "plain" for label in labels]
    return f"{model} ({' vs '.join(inner)})"


#: Up to this many models, :func:`_widest` tries every subset of them.
MAX_MODELS_TRIED = 12


def _widest(blocks: dict[tuple[str, int], dict[str, float]]
            ) -> tuple[list[str], list[tuple[str, int]]]:
    """The models and tables to rank: the set of 2 or more models that the most tables
    hold all of (ties: the most models, then the first in name order), and those tables.
    A table without one of the other models would otherwise remove every rank; with
    more than :data:`MAX_MODELS_TRIED` models, the models every table holds."""
    every = sorted({m for b in blocks.values() for m in b})
    candidates = ([set(c) for k in range(len(every), 1, -1)
                   for c in itertools.combinations(every, k)]
                  if len(every) <= MAX_MODELS_TRIED
                  else [set.intersection(*(set(b) for b in blocks.values()))])
    best: tuple[list[str], list[tuple[str, int]]] = ([], [])
    for chosen in candidates:
        holding = [b for b in sorted(blocks) if chosen <= set(blocks[b])]
        if (len(holding), len(chosen)) > (len(best[1]), len(best[0])):
            best = (sorted(chosen), holding)
    return best
