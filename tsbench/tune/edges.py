"""Which searched parameters a tuning run's best configurations push to one end of their
range (both searches together), for ``report.md``: the range may have cut off the best."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tsbench.search.names import DEFINITION_FILE
from tsbench.search.report import edge_note, range_edges
from tsbench.search.space import dimension_from_text, value_from_text


def search_edges(sweep_dirs: Sequence[Path], configs: Sequence[dict[str, Any]]) -> str:
    """The searches' parameters whose best configurations (``configs``: distinct, best
    first, their ``params`` as trials.csv writes them) sit at one end of the range the first
    of ``sweep_dirs`` with a ``search.yaml`` searched, as a sentence ("" when none)."""
    found = [d / DEFINITION_FILE for d in sweep_dirs if (d / DEFINITION_FILE).is_file()]
    if not found:
        return ""
    ranges = yaml.safe_load(found[0].read_text(encoding="utf-8"))["params"]
    dimensions = {name: dimension_from_text(text) for name, text in ranges.items()}
    points = []
    for config in configs:
        try:
            points.append({n: value_from_text(d, config["params"][n])
                           for n, d in dimensions.items()})
        except (KeyError, ValueError):  # recorded outside a space a resume changed
            continue
    edges = range_edges(dimensions, points)
    if not edges:
        return ""
    fixes = "; ".join(dict.fromkeys(widening(name, end) for name, end in edges.items()))
    return edge_note(edges, dimensions, points, f"in a new tuning run, {fixes}")


def widening(name: str, end: str) -> str:
    """How a tuning run widens ``name``'s range past its ``end`` (``low`` or ``high``)."""
    if name == "optim.lr":
        return ("a wider recipe.lr_span for optim.lr" if end == "low" else
                "an optim.lr range reaching higher in recipe.search, "
                "'optim.lr=tag(log,interval(low,high))' (it replaces the recipe's, whose top is "
                "a tenth of the range test's loss-minimum rate)")
    if name == "seq_len":
        return ("a higher recipe.max_seq_len for seq_len, where the training split allows "
                "it ((c) keeps look-backs short enough that half its rows start a window; a "
                "longer series otherwise)" if end == "high" else
                "no shorter seq_len: (c)'s shortest candidate already holds two periods")
    return f"a wider range for {name} in recipe.search"
