"""What a plain multirun's children tell its MLflow parent, one table of tsbench-report at a
time: the best configuration by its mean objective over seeds where the children are
several configurations, the spread over the seeds where they are one configuration (seeds
are replicates, not options: the luckiest one is never named best)."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from tsbench.rundir import SCORE_NEUTRAL

#: The parent's tag naming its best child, where the best configuration is one run
#: (a table's: ``tsbench.best_run_id/etth1/96``), and the one naming its runs, where it is
#: several seeds (their ids, comma-separated, in seed order).
BEST_RUN_TAG, BEST_RUNS_TAG = "tsbench.best_run_id", "tsbench.best_run_ids"
#: The parent's tag telling that its children (a table's) are seeds of one configuration.
CHILDREN_TAG, SEEDS_OF_ONE = "tsbench.children", "seeds of one configuration"
#: The parent's tag telling that the seeds of its spread (a table's: of its one
#: configuration, or of its best) all gave the same objective, as tsbench-report's
#: ``(3 seeds, identical)``: they replicate one computation, and no std is logged (a 0.0
#: would read as a measured spread).
IDENTICAL_TAG = "tsbench.seeds_identical"
#: The parent's tags a multirun's end writes from its children (a resume drops stale ones).
SUMMARY_TAGS = (BEST_RUN_TAG, BEST_RUNS_TAG, CHILDREN_TAG, IDENTICAL_TAG)


@dataclass(frozen=True)
class Child:
    """A child run with an objective (possibly not finite: its training diverged), started
    at ``started`` (MLflow's milliseconds)."""

    run_id: str
    params: dict[str, str]
    objective: float
    started: int = 0


def table_of(params: dict[str, str]) -> tuple[str, ...]:
    """The table of tsbench-report a child run's objective belongs to: its dataset (name and
    file) and horizon (``pred_len``), from its params; objectives of two tables (another
    series, another horizon) do not compare."""
    return tuple(params.get(key, "") for key in ("dataset.name", "dataset.path", "pred_len"))


def configuration_of(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A child's configuration: its config params less those that change no score
    (:data:`~tsbench.rundir.SCORE_NEUTRAL`: its ``seed``, where it logs, its threads, ...,
    as tsbench-report pools them into one cell) and its ``protocol.*`` params (a record of
    the run: how it was stopped, its seed)."""
    return tuple(sorted((k, v) for k, v in params.items()
                        if not k.startswith((*SCORE_NEUTRAL, "protocol."))))


def summary(children: list[Child]) -> tuple[dict[str, float], dict[str, str]]:
    """The metrics and tags of one table's ``children`` for their parent. One configuration
    (its seeds alone, or one run): ``objective_mean``, ``objective_std`` (sample std, two
    seeds or more) and ``objective_seeds`` over its seeds with a finite objective (a
    diverged one left out, as tsbench-report leaves it out), tagged ``tsbench.children``:
    "seeds of one configuration"; no best. Several: the configuration of the lowest mean
    objective over its seeds, none of them diverged, as ``best_objective`` (with
    ``best_objective_std`` and ``best_objective_seeds`` where it is several seeds) and its
    run as ``tsbench.best_run_id``, or its runs as ``tsbench.best_run_ids``. Seeds that
    agree exactly get no std but :data:`IDENTICAL_TAG` (:func:`_spread`). A seed run
    again (a resumed multirun's job) counts once: its latest run."""
    latest = {(configuration_of(c.params), c.params.get("seed")): c
              for c in sorted(children, key=lambda c: c.started)}
    configurations: dict[tuple[tuple[str, str], ...], list[Child]] = {}
    for (configuration, _), child in latest.items():
        configurations.setdefault(configuration, []).append(child)
    if len(configurations) == 1:
        [runs] = configurations.values()
        finite = [c.objective for c in runs if math.isfinite(c.objective)]
        metrics, tags = _spread("objective_mean", "objective", finite)
        return metrics, {CHILDREN_TAG: SEEDS_OF_ONE, **tags}
    candidates = [runs for runs in configurations.values()
                  if all(math.isfinite(c.objective) for c in runs)]
    if not candidates:
        return {}, {}
    best = min(candidates, key=lambda runs: statistics.fmean(c.objective for c in runs))
    best = sorted(best, key=lambda c: _seed_order(c.params.get("seed", "")))
    if len(best) == 1:
        return {"best_objective": best[0].objective}, {BEST_RUN_TAG: best[0].run_id}
    metrics, tags = _spread("best_objective", "best_objective", [c.objective for c in best])
    return metrics, {BEST_RUNS_TAG: ",".join(c.run_id for c in best), **tags}


def _spread(mean: str, name: str, values: list[float]
            ) -> tuple[dict[str, float], dict[str, str]]:
    """The mean of ``values`` as ``mean``, their number as ``<name>_seeds`` and their sample
    std as ``<name>_std`` (two values or more); two or more that agree exactly get their
    value, no std and :data:`IDENTICAL_TAG`, as tsbench-report's rule. Nothing for none."""
    if not values:
        return {}, {}
    seeds = {f"{name}_seeds": float(len(values))}
    if len(values) > 1 and all(value == values[0] for value in values):
        return {mean: values[0], **seeds}, {IDENTICAL_TAG: "true"}
    spread = {f"{name}_std": statistics.stdev(values)} if len(values) > 1 else {}
    return {mean: statistics.fmean(values), **seeds, **spread}, {}


def _seed_order(seed: str) -> tuple[int, str]:
    """Seeds in numeric order (``2`` before ``10``)."""
    return (int(seed), "") if seed.lstrip("-").isdigit() else (0, seed)


def table_names(tables: list[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """``/<dataset>/<pred_len>`` for each of :func:`table_of`'s ``tables``: the dataset's
    name, a CSV file's name for ``dataset=csv``, its path where two files share a name;
    only the characters MLflow allows in a metric's name."""
    def dataset(table: tuple[str, ...]) -> str:
        name, path, _ = table
        return Path(path).name if name == "csv" and path else name

    shared = [dataset(t) for t in {t[:2]: t for t in tables}.values()]  # one per file
    names = {}
    for table in tables:
        label = dataset(table)
        if shared.count(label) > 1:
            label = table[1].strip("/") or label
        names[table] = "/" + re.sub(r"[^\w\-. /]", "_", f"{label}/{table[2]}")
    return names
