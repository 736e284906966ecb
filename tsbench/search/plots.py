"""convergence.png, objective.png and evaluations.png from ``skopt.plots``.

The plots show the minimized quantity (the negated objective when
``direction=maximize``) over the trials that ran their full budget; failed and pruned
trials are left out (a pruned trial's value is an early epoch's).
``objective.png`` (partial dependence of the surrogate) needs a fitted surrogate, so it
appears once the initial points are done, and never in ``mode=random``;
``evaluations.png`` needs two or more dimensions (skopt 0.10.2 fails on one). The
partial-dependence grid is coarser than skopt's default (10 points per axis, 100
samples) so that redrawing it after every batch stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from skopt import Optimizer
from skopt.utils import create_result

from tsbench.atomic import atomic_path
from tsbench.search.blas import one_blas_thread
from tsbench.search.trials import Trial

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402 - the backend must be chosen first
from skopt import plots  # noqa: E402

log = logging.getLogger(__name__)

DPI = 100
#: Inches per dimension of the square plot matrices (partial dependence, evaluations).
PANEL_INCHES = 2.6
OBJECTIVE_GRID = {"n_points": 10, "n_samples": 100}
#: Seconds one panel of the plots takes to draw on a 2-core CPU (8 dimensions, 129 panels:
#: 4-5.5 s a redraw), the first redraw's expected cost in :class:`tsbench.search.loop.Plotter`.
SECONDS_PER_PANEL = 0.035


#: The plots, redrawn in the sweep folder as trials end.
CONVERGENCE, EVALUATIONS, OBJECTIVE = "convergence.png", "evaluations.png", "objective.png"
PLOTS = (CONVERGENCE, EVALUATIONS, OBJECTIVE)


def panels(n_dims: int) -> int:
    """How many panels the plots of ``n_dims`` dimensions have at most: convergence, and the
    evaluations and partial-dependence matrices (``n_dims`` squared each)."""
    return 1 + (2 * n_dims * n_dims if n_dims > 1 else 1)


def write_plots(
    directory: Path, trials: Sequence[Trial], optimizer: Optimizer, sign: float
) -> bool:
    """Redraw the three plots for the full-budget trials (``sign`` = -1 when maximizing);
    False when there is none to draw."""
    finished = [t for t in trials if t.ok and t.in_space]
    if not finished:
        return False
    result = create_result(
        [t.point for t in finished],
        [sign * t.objective for t in finished],  # type: ignore[operator]
        optimizer.space,
        models=optimizer.models,
    )
    _save(directory / CONVERGENCE, plots.plot_convergence, result,
          "Sweep convergence: best objective (validation loss) so far")
    if optimizer.space.n_dims > 1:
        _save(directory / EVALUATIONS, plots.plot_evaluations, result,
              "Evaluated points: samples per parameter (diagonal) and pairs",
              size=PANEL_INCHES)
    if optimizer.models:
        _save(directory / OBJECTIVE, plots.plot_objective, result,
              "Partial dependence of the surrogate (log objective with log_objective=true)",
              size=PANEL_INCHES, **OBJECTIVE_GRID)
    return True


def _save(
    path: Path, plot: Callable[..., Any], result: Any, title: str, **options: Any
) -> None:
    try:
        with one_blas_thread():
            axes = plot(result, **options)
        figure = np.asarray(axes, dtype=object).ravel()[0].figure
        if np.ndim(axes) == 2:  # a matrix of panels: room for the labels on both sides
            figure.subplots_adjust(left=0.1, right=0.88, bottom=0.1, top=0.88,
                                   wspace=0.55, hspace=0.55)
        figure.suptitle(title)
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    except Exception as error:  # a plot is a diagnostic: never end a sweep over it
        log.warning("could not draw %s: %s: %s", path.name, type(error).__name__, error)
    finally:
        plt.close("all")
