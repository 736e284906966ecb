"""Ask skopt for a batch of points that are feasible, new, and distinct.

skopt re-proposes evaluated points on small categorical spaces (it then warns "using
random point" and may still collide), and its initial point generators ignore
constraints. Every proposed point therefore passes a gate here: a point that is
infeasible, already evaluated (or recorded by a resumed or warm-started sweep), or
already in the batch is replaced by a random feasible point that is none of these.
When a finite space has no such point left, the batch comes back short (possibly
empty) and the sweep ends early.

Points still running are *pending*: the optimizer is asked on a copy that was told each
pending point with the constant-liar value (the lowest value seen so far, skopt's
``cl_min``), exactly as skopt proposes the rest of a batch; without pending points the
optimizer is asked directly, so a sweep without parallel trials proposes what it always
did.

The surrogate's linear algebra runs on one BLAS thread (:mod:`tsbench.search.blas`).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from skopt import Optimizer
from skopt.space import Categorical, Integer

from tsbench.search.blas import one_blas_thread
from tsbench.search.constraints import ConstraintSet
from tsbench.search.space import Scalar, plain

#: Random draws tried before a finite space is enumerated to find an unseen point.
RANDOM_TRIES = 200
#: Largest finite space that is enumerated when random draws find nothing new.
MAX_ENUMERATED = 200_000

Key = tuple[str, ...]


def point_key(point: Sequence[Any]) -> Key:
    """A hashable identity of a point (values compared as text, as in trials.csv)."""
    return tuple(str(plain(v)) for v in point)


class Proposer:
    """Turns ``Optimizer.ask`` into batches of feasible, never-seen points."""

    def __init__(self, optimizer: Optimizer, constraints: ConstraintSet, seed: int | None):
        self.optimizer = optimizer
        self.constraints = constraints
        self.seen: set[Key] = set()
        self.rng = np.random.RandomState(seed)

    def mark_seen(self, point: Sequence[Any]) -> None:
        self.seen.add(point_key(point))

    def ask(self, n_points: int, pending: Sequence[Sequence[Any]] = ()) -> list[list[Scalar]]:
        """Up to ``n_points`` points (constant liar for ``pending`` points and when more
        than one is asked); ``pending`` points must already be marked seen."""
        with warnings.catch_warnings(), one_blas_thread():
            warnings.filterwarnings("ignore", message="The objective has been evaluated")
            optimizer = self._lied_to(pending) if pending else self.optimizer
            if n_points == 1:
                proposed = [optimizer.ask()]
            else:
                proposed = optimizer.ask(n_points=n_points, strategy="cl_min")
        batch: list[list[Scalar]] = []
        for raw in proposed:
            point: list[Scalar] | None = [plain(v) for v in raw]
            if not self._admissible(point, batch):
                point = self._fresh(batch)
                if point is None:
                    break
            batch.append(point)
        return batch

    def _lied_to(self, pending: Sequence[Sequence[Any]]) -> Optimizer:
        """A copy of the optimizer told ``pending`` with the constant-liar value."""
        seed = self.optimizer.rng.randint(0, np.iinfo(np.int32).max)
        copy = self.optimizer.copy(random_state=seed)
        lie = float(np.min(copy.yi)) if copy.yi else 0.0
        copy.tell([list(p) for p in pending], [lie] * len(pending))
        return copy

    def _admissible(self, point: list[Scalar], batch: list[list[Scalar]]) -> bool:
        key = point_key(point)
        if key in self.seen or key in {point_key(p) for p in batch}:
            return False
        return self.constraints(point) if self.constraints else True

    def _fresh(self, batch: list[list[Scalar]]) -> list[Scalar] | None:
        space = self.optimizer.space
        for _ in range(RANDOM_TRIES):
            point = [plain(v) for v in space.rvs(n_samples=1, random_state=self.rng)[0]]
            if self._admissible(point, batch):
                return point
        candidates = [p for p in self._enumerate() if self._admissible(p, batch)]
        if not candidates:
            return None
        return candidates[self.rng.randint(len(candidates))]

    def _enumerate(self) -> list[list[Scalar]]:
        """Every point of a finite space (empty when infinite or too large)."""
        axes: list[list[Scalar]] = []
        for dim in self.optimizer.space.dimensions:
            if isinstance(dim, Categorical):
                axes.append([plain(c) for c in dim.categories])
            elif isinstance(dim, Integer):
                axes.append(list(range(int(dim.low), int(dim.high) + 1)))
            else:
                return []
        if math.prod(len(a) for a in axes) > MAX_ENUMERATED:
            return []
        return [list(p) for p in itertools.product(*axes)]
