"""Which searched parameters a tuning run's best configurations push to one end of their
range (both searches together), for ``report.md``: the range may have cut off the best."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tsbench.search.names import DEFINITION_FILE
from tsbench.search.report import edge_note, range_edges
from tsbench.search.space import dimension_from_text, value_from_text

#: The rule that half the training rows start a window, as the lines name it.
HALF_RULE = "half the training rows less pred_len"


@dataclass(frozen=True)
class LookbackBound:
    """The two limits of (c)'s look-backs, the lower of which applied: ``half``
    (:data:`HALF_RULE`, so that half of them start a training window) and ``cap``, named
    ``cap_rule`` (``recipe.max_seq_len``, or with ``recipe.cv_folds`` the first fold's
    training rows less pred_len, where fewer); and the ``periods`` (c) found in the training
    rows, whose multiples it searched (none: it searched common look-backs instead)."""

    half: int
    cap: int
    cap_rule: str
    periods: tuple[int, ...] = ()

    def __str__(self) -> str:
        """The longest look-back and the rule that set it, with the other's number."""
        if self.cap < self.half:
            return f"{self.cap}, {self.cap_rule} ({HALF_RULE}: {self.half})"
        return f"{self.half}, {HALF_RULE} (at most {self.cap_rule}: {self.cap})"


def search_edges(sweep_dirs: Sequence[Path], configs: Sequence[dict[str, Any]],
                 bound: LookbackBound) -> str:
    """The searches' parameters whose best configurations (``configs``: distinct, best
    first, their ``params`` as trials.csv writes them) sit at one end of the range the first
    of ``sweep_dirs`` with a ``search.yaml`` searched, as a sentence ("" when none); a
    seq_len at the top names the limit of (c)'s look-backs that applied (``bound``)."""
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
    fixes = "; ".join(dict.fromkeys(widening(name, end, bound) for name, end in edges.items()))
    return edge_note(edges, dimensions, points, f"in a new tuning run, {fixes}")


def widening(name: str, end: str, bound: LookbackBound) -> str:
    """How a tuning run widens ``name``'s range past its ``end`` (``low`` or ``high``); for
    seq_len's top, past the limit of (c)'s look-backs that applied (``bound``)."""
    if name == "optim.lr":
        return ("a wider recipe.lr_span for optim.lr" if end == "low" else
                "an optim.lr range reaching higher in recipe.search, "
                "'optim.lr=tag(log,interval(low,high))' (it replaces the recipe's, whose top is "
                "a tenth of the range test's loss-minimum rate)")
    if name == "seq_len":
        return longer_lookbacks(bound) if end == "high" else shorter_lookbacks(bound)
    return f"a wider range for {name} in recipe.search"


def shorter_lookbacks(bound: LookbackBound) -> str:
    """What a tuning run can do about a best seq_len at (c)'s shortest look-back: nothing
    where (c) found a period (its shortest candidate holds two cycles of it); where it found
    none, its look-backs were common lengths, so shorter ones are the user's to give."""
    if bound.periods:
        return ("no shorter seq_len: (c)'s shortest candidate already holds two cycles of "
                f"the training rows' period {min(bound.periods)}")
    return ("shorter look-backs in recipe.search, e.g. 'seq_len=choice(12,24,48)' (it replaces "
            "(c)'s: (c) found no period in the training rows, so it searched common "
            "look-backs, not multiples of one)")


def longer_lookbacks(bound: LookbackBound) -> str:
    """The change that lets (c) search longer look-backs than ``bound`` allowed: the cap
    that applied raised, or where half the training rows bound them, a longer series."""
    if bound.cap >= bound.half:
        return (f"a longer series for seq_len: (c)'s look-backs stopped at {bound.half}, "
                f"{HALF_RULE}, so that half of those rows start a training window "
                f"({bound.cap_rule}, {bound.cap}, did not bind: raising it changes nothing)")
    raise_it = ("a higher recipe.max_seq_len" if bound.cap_rule == "recipe.max_seq_len" else
                "fewer recipe.cv_folds (a longer first fold)")
    return (f"{raise_it} for seq_len: {bound.cap_rule} stopped (c)'s look-backs at "
            f"{bound.cap} ({HALF_RULE} allows {bound.half})")
