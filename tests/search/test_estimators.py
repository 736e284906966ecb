"""Every surrogate and acquisition function runs, GBRT through the repaired shim."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import is_regressor
from skopt.space import Categorical, Integer, Real
from threadpoolctl import threadpool_limits

from tsbench.search.constraints import ConstraintSet
from tsbench.search.gbrt import QuantileGBRT, make_gbrt
from tsbench.search.optimizer import make_optimizer
from tsbench.search.settings import SweepSettings

#: The fitted surrogate's class for each ``base_estimator``.
SURROGATES = {"GP": "GaussianProcessRegressor", "RF": "RandomForestRegressor",
              "ET": "ExtraTreesRegressor", "GBRT": "QuantileGBRT"}
DIMS = [Integer(1, 10, name="n"), Real(0.0, 1.0, name="r"), Categorical(["a", "b"], name="c")]


def test_gbrt_shim_is_a_regressor_with_std() -> None:
    model = make_gbrt(0)
    assert isinstance(model, QuantileGBRT) and is_regressor(model)
    x = np.random.RandomState(0).rand(20, 2)
    mean, std = model.fit(x, x.sum(axis=1)).predict(x, return_std=True)
    assert mean.shape == std.shape == (20,) and np.all(std >= 0)


@pytest.mark.parametrize(
    "estimator, acq_func",
    [
        ("GP", "EI"),
        ("RF", "EI"),
        ("ET", "EI"),
        ("GBRT", "EI"),
        ("ET", "PI"),
        ("ET", "LCB"),
        ("GBRT", "gp_hedge"),
    ],
)
def test_each_surrogate_and_acquisition(estimator: str, acq_func: str) -> None:
    settings = SweepSettings(
        base_estimator=estimator, acq_func=acq_func, n_initial_points=3, random_state=0
    )
    opt = make_optimizer(settings, DIMS, ConstraintSet([], [], {}))
    with threadpool_limits(limits=1):
        for _ in range(2):
            points = opt.ask(n_points=2)
            opt.tell(points, [float((x[0] - 3) ** 2 + x[1]) for x in points])
        assert len(opt.models) == 1
        assert len(opt.ask(n_points=2)) == 2
    assert type(opt.models[0]).__name__ == SURROGATES[estimator]  # the one asked for
    assert opt.acq_func == acq_func
