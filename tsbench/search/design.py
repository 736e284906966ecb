"""The optimizer's initial design: drawn once per optimizer, its Latin hypercube in n log n.

skopt's ``Optimizer`` draws its whole initial design as it is built, and so does each copy
of it (skopt's ``copy``, made by every ask of a batch or with trials pending, then puts
the original's design in place of the copy's). With ``mode=random`` the design is the
whole budget (``n_trials + 1`` points), and skopt's Latin hypercube (``lhs``: of 1000
random hypercubes, the one whose two nearest points lie farthest apart) measures every
pair of points of each: 2.8 s at 500 trials, growing with the square of the budget, at
every start and every copy. Here

- :class:`MaximinLhs` finds each large hypercube's nearest points with a k-d tree
  (n log n), and passes over one with a pair nearer than the widest so far at the first
  such pair found, drawing from the random state as skopt's ``Lhs`` does: a seed gives
  the same design, point for point;
- :class:`OnceDrawn` hands an optimizer's copies the design drawn for it, which skopt's
  ``copy`` puts in place of theirs anyway (the seed each copy draws for it is still
  drawn, so the copy's random state stands where skopt's would).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist
from sklearn.utils import check_random_state
from skopt.sampler import InitialPointGenerator, Lhs
from skopt.space import Space
from skopt.utils import cook_initial_point_generator

#: Relative slack of the k-d tree's distances against scipy's ``pdist`` (rounding only).
ROUNDING = 1e-9
#: Largest design whose every pair is measured: up to it, cheaper than a k-d tree.
ALL_PAIRS_UP_TO = 500
#: Neighbours in the order of the first coordinate looked at before a k-d tree.
NEIGHBOURS = 4


def initial_design(name: str) -> str | InitialPointGenerator:
    """skopt's initial point generator ``name``, drawn once per optimizer (one generator per
    optimizer: its copies share it); ``random`` (no design: skopt draws each point as
    asked) as skopt takes it."""
    if name == "random":
        return name
    return OnceDrawn(MaximinLhs() if name == "lhs" else cook_initial_point_generator(name))


class OnceDrawn(InitialPointGenerator):
    """``generator``'s design drawn at the first call, returned again to the later calls of
    the same size (the optimizer's copies)."""

    def __init__(self, generator: InitialPointGenerator) -> None:
        self.generator = generator
        self._drawn: tuple[int, list[list[Any]]] | None = None  # (size, design)

    def generate(self, dimensions: list[Any], n_samples: int,
                 random_state: Any = None) -> list[list[Any]]:
        if self._drawn is None or self._drawn[0] != n_samples:
            self._drawn = (n_samples,
                           self.generator.generate(dimensions, n_samples, random_state))
        return self._drawn[1]


class MaximinLhs(Lhs):
    """skopt's default ``Lhs()`` (classic hypercubes, maximin over 1000), the same design
    from the same random state, each hypercube's nearest points found in n log n."""

    def __init__(self) -> None:
        super().__init__(lhs_type="classic", criterion="maximin", iterations=1000)

    def generate(self, dimensions: list[Any], n_samples: int,
                 random_state: Any = None) -> list[list[Any]]:
        if n_samples < 2:  # no pair to measure: skopt draws one hypercube
            return super().generate(dimensions, n_samples, random_state)
        rng = check_random_state(random_state)
        space = Space(dimensions)  # shares the dimensions, whose transformer it sets
        transformer = space.get_transformer()
        space.set_transformer("normalize")
        best = self._lhs_normalized(space.n_dims, n_samples, rng)  # kept if none is wider
        widest = 0.0
        for _ in range(self.iterations):
            cube = self._lhs_normalized(space.n_dims, n_samples, rng)
            nearest = _nearest(cube, widest)
            if nearest is not None and widest < nearest:
                widest, best = nearest, cube
        design = space.inverse_transform(best)
        space.set_transformer(transformer)
        return design

    def _lhs_normalized(self, n_dim: int, n_samples: int, random_state: Any) -> np.ndarray:
        """skopt's classic hypercube from the same draws (its ``permutation(range(n))``
        shuffles as ``permutation(n)`` does, without a Python range made an array)."""
        rng = check_random_state(random_state)
        edges = np.linspace(0, 1, n_samples + 1)
        cube = rng.rand(n_samples, n_dim) * np.diff(edges)[:, None] + edges[:n_samples, None]
        return np.column_stack([cube[rng.permutation(n_samples), j] for j in range(n_dim)])


def _nearest(points: np.ndarray, widest: float) -> float | None:
    """The smallest distance between two of ``points`` as skopt measures it (the least of
    scipy's ``pdist``), or None where two lie nearer than ``widest`` by more than rounding
    (the hypercube is no wider). A small design has every pair measured; a larger one has
    a k-d tree find its nearest pairs, and any within rounding of them, for ``pdist`` to
    measure: skopt's comparisons come out the same."""
    if len(points) <= ALL_PAIRS_UP_TO:
        return float(pdist(points).min())
    if widest > 0 and _nearer_than(points, widest * (1 - ROUNDING)):
        return None
    tree = cKDTree(points)
    nearest = float(tree.query(points, k=2)[0][:, 1].min())
    pairs = tree.query_pairs(nearest * (1 + ROUNDING), output_type="ndarray")
    return float(min(pdist(points[pair])[0] for pair in pairs))


def _nearer_than(points: np.ndarray, distance: float) -> bool:
    """Whether two of ``points`` lie nearer than ``distance``: first among the neighbours
    in the order of the first coordinate (most hypercubes have such a pair there), then
    by a k-d tree."""
    ordered = points[np.argsort(points[:, 0], kind="stable")]
    for step in range(1, min(NEIGHBOURS, len(points) - 1) + 1):
        gaps = ordered[step:] - ordered[:-step]
        if np.sqrt((gaps * gaps).sum(axis=1)).min() < distance:
            return True
    near = cKDTree(points).query(points, k=2, distance_upper_bound=distance)[0][:, 1]
    return bool(near.min() < distance)
