"""Build the scikit-optimize ``Optimizer`` that a sweep asks and tells."""

from __future__ import annotations

from skopt import Optimizer
from skopt.space import Dimension

from tsbench.search.constraints import ConstraintSet
from tsbench.search.design import initial_design
from tsbench.search.gbrt import make_gbrt
from tsbench.search.settings import SweepSettings


def make_optimizer(
    settings: SweepSettings,
    dimensions: list[Dimension],
    constraints: ConstraintSet,
    n_warm: int = 0,
) -> Optimizer:
    """An optimizer over ``dimensions`` that samples only points meeting ``constraints``.

    ``n_warm`` is the number of warm-start trials told before the sweep starts.
    ``mode=random`` keeps skopt in its initial phase for the whole budget, so every point
    comes from ``initial_point_generator`` (``random`` = uniform draws) and no surrogate is
    ever fitted; the design holds the warm-start trials and ``n_trials`` more, the same when
    the sweep resumes (the resumed trials, told, are its first points: the next point is the
    one the uninterrupted sweep would have drawn); skopt's own ``"dummy"`` estimator cannot
    be used, as scikit-learn >= 1.6 rejects ``is_regressor(None)``. ``GBRT`` uses the
    repaired surrogate of :mod:`tsbench.search.gbrt`. With constraints skopt maximizes the
    acquisition function by sampling (``acq_optimizer`` is then always ``sampling``).
    The initial design is skopt's, drawn once and in n log n (:mod:`tsbench.search.design`).
    """
    random = settings.mode == "random"
    if settings.base_estimator == "GBRT" and not random:
        estimator: object = make_gbrt(settings.random_state)
    else:
        estimator = settings.base_estimator
    initial_points = n_warm + settings.n_trials + 1 if random else settings.initial_points
    return Optimizer(
        dimensions,
        base_estimator=estimator,
        n_initial_points=initial_points,
        # skopt's generators fail on an empty design (warm start with 0 initial points)
        initial_point_generator=initial_design(
            settings.initial_point_generator if initial_points else "random"),
        acq_func=settings.acq_func,
        acq_optimizer="sampling" if random else settings.acq_optimizer,
        random_state=settings.random_state,
        space_constraint=constraints if constraints else None,
    )
