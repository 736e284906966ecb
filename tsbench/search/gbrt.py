"""skopt's GBRT surrogate, repaired for scikit-learn >= 1.6 and numpy >= 2.4.

skopt 0.10.2 lists ``RegressorMixin`` after ``BaseEstimator``, so scikit-learn's tags no
longer see ``GradientBoostingQuantileRegressor`` as a regressor ("has to be a
regressor"), and its ``predict(return_std=True)`` calls ``np.in1d``, removed in numpy
2.4. This subclass fixes both without touching skopt or numpy.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import GradientBoostingRegressor
from sklearn.utils import RegressorTags
from skopt.learning import GradientBoostingQuantileRegressor

_STD_QUANTILES = (0.16, 0.5, 0.84)


class QuantileGBRT(GradientBoostingQuantileRegressor):
    """Gradient-boosted quantile regressor usable as a skopt surrogate."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        return tags

    def predict(self, X: Any, return_std: bool = False, return_quantiles: bool = False) -> Any:
        if not return_std or return_quantiles:
            return super().predict(X, return_quantiles=return_quantiles)
        low, mean, high = (self._quantile(q).predict(X) for q in _STD_QUANTILES)
        return mean, (high - low) / 2.0

    def _quantile(self, q: float) -> Any:
        if q not in self.quantiles:
            raise ValueError(f"return_std needs quantiles {_STD_QUANTILES}, got {self.quantiles}")
        return self.regressors_[list(self.quantiles).index(q)]


def make_gbrt(random_state: int | None) -> QuantileGBRT:
    """The GBRT surrogate skopt builds for ``base_estimator="GBRT"``, repaired."""
    trees = GradientBoostingRegressor(n_estimators=30, loss="quantile")
    return QuantileGBRT(base_estimator=trees, random_state=random_state)
