"""(g) The one test evaluation: the baseline, the best single run and the greedy ensemble,
each chosen on validation (or the CV folds) before the test split is read, and with
``recipe.refit`` the same choices refitted on the train+val rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tsbench.rundir import METRICS, holdout_model_dir, read_metrics
from tsbench.tune.ensemble import cv_error_gram, error_gram, greedy_weights, score_runs
from tsbench.tune.refit import refit, refit_bag, refit_epochs
from tsbench.tune.tuning import Tuning


def final_scores(t: Tuning, retrained: dict[str, Any]) -> dict[str, Any]:
    """(g) The one test evaluation: baseline, best single run and greedy ensemble, chosen
    among every full-budget run (the baseline, which ran the trials' epoch budget, the
    searches and retraining) by the objective only: validation MSE, or with
    ``recipe.cv_folds`` the folds' mean and out-of-fold errors; then the runs' models
    trained on the published training rows (a CV run's last fold) are scored, and with
    ``recipe.refit`` the same choices refitted on the train+val rows too."""
    members = [t.out / "a_baseline", *(Path(c["run"]) for c in retrained["configs"])]
    members += [Path(r) for r in retrained["runs"]]
    members = [m for m in dict.fromkeys(members) if (m / METRICS).is_file()]
    objective = {m: read_metrics(m)["objective"] for m in members}
    best_single = min(members, key=objective.__getitem__)
    gram = cv_error_gram(members) if t.cv_folds else error_gram(members, "val")
    counts = greedy_weights(gram)
    picked = {m: c for m, c in zip(members, counts, strict=True) if c}
    entries = {"baseline": {t.out / "a_baseline": 1}, "best single": {best_single: 1},
               "ensemble": picked}
    models = {name: [holdout_model_dir(m) for m in chosen] for name, chosen in entries.items()}
    shares = {name: list(chosen.values()) for name, chosen in entries.items()}
    refits: dict[Path, list[Path]] = {}
    if t.recipe.get("refit"):  # each chosen run once, then the same three choices refitted
        refits = {m: refit(t, m) for m in dict.fromkeys(
            m for chosen in entries.values() for m in chosen)}
        for name, chosen in list(entries.items()):  # a run's share split over its seeds
            entries[f"{name} refit"] = chosen
            models[f"{name} refit"] = [d for m in chosen for d in refits[m]]
            shares[f"{name} refit"] = [c / len(refits[m]) for m, c in chosen.items()
                                       for _ in refits[m]]
    results = {}
    for name, chosen in entries.items():
        weights = np.array([chosen.get(m, 0) for m in members], dtype=float)
        weights /= weights.sum()
        splits = ["test"] if name.endswith("refit") else ["val", "test"]  # val was trained on
        results[name] = {"objective": float(weights @ gram @ weights),
                         **score_runs(models[name], splits, shares[name])}
    return {"members": [str(m) for m in members], "best_single": str(best_single),
            "selection": f"{t.cv_folds}-fold time-series CV" if t.cv_folds else "validation",
            "ensemble_weights": {str(m): c / sum(counts) for m, c in picked.items()},
            "refit_epochs": {str(m): refit_epochs(m) for m in refits},
            "refit_seeds": {str(m): refit_bag(t, m) for m in refits},
            "results": results}
