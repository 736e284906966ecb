"""(g) The one test evaluation: the baseline, the best single run and the greedy ensemble,
each chosen on validation (or the CV folds) before the test split is read, and with
``recipe.refit`` the same choices refitted on the train+val rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tsbench.rundir import METRICS, holdout_model_dir, read_metrics
from tsbench.tune.ensemble import cv_error_gram, error_gram, greedy_weights, score_runs
from tsbench.tune.refit import refit, refit_bag, refit_epochs
from tsbench.tune.tuning import Tuning


def candidates(t: Tuning, configs: list[dict[str, Any]], runs: list[str]) -> list[Path]:
    """The full-budget runs (g) chooses among: the baseline (it ran the trials' epoch
    budget), the top configurations' search runs and their retrained runs."""
    members = [t.out / "a_baseline", *(Path(c["run"]) for c in configs), *map(Path, runs)]
    return [m for m in dict.fromkeys(members) if (m / METRICS).is_file()]


@dataclass
class Choice:
    """(g)'s choices among ``members``, by the objective only (validation MSE, or with
    ``recipe.cv_folds`` the folds' mean and out-of-fold errors): the best single run and
    the greedy ensemble's counts (``gram``: the members' error products)."""

    members: list[Path]
    gram: np.ndarray
    counts: list[int]
    best_single: Path

    @property
    def entries(self) -> dict[str, dict[Path, int]]:
        """Each scored choice: the runs it averages and their counts."""
        picked = {m: c for m, c in zip(self.members, self.counts, strict=True) if c}
        return {"baseline": {self.members[0]: 1}, "best single": {self.best_single: 1},
                "ensemble": picked}

    @property
    def runs(self) -> list[Path]:
        """Every run some choice uses, once."""
        return list(dict.fromkeys(m for chosen in self.entries.values() for m in chosen))


def choose(t: Tuning, members: list[Path]) -> Choice:
    """(g)'s choices among ``members`` (the baseline first); reads no test split."""
    objective = {m: read_metrics(m)["objective"] for m in members}
    gram = cv_error_gram(members) if t.cv_folds else error_gram(members, "val")
    return Choice(members, gram, greedy_weights(gram), min(members, key=objective.__getitem__))


def final_scores(t: Tuning, retrained: dict[str, Any]) -> dict[str, Any]:
    """(g) The one test evaluation of :func:`choose`'s choices among every full-budget run:
    the runs' models trained on the published training rows (a CV run's last fold) are
    scored, and with ``recipe.refit`` the same choices refitted on the train+val rows too."""
    choice = choose(t, candidates(t, retrained["configs"], retrained["runs"]))
    members, gram, counts = choice.members, choice.gram, choice.counts
    entries = choice.entries
    picked = entries["ensemble"]
    models = {name: [holdout_model_dir(m) for m in chosen] for name, chosen in entries.items()}
    shares = {name: list(chosen.values()) for name, chosen in entries.items()}
    refits: dict[Path, list[Path]] = {}
    if t.recipe.get("refit"):  # each chosen run once, then the same three choices refitted
        refits = {m: refit(t, m) for m in choice.runs}
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
    return {"members": [str(m) for m in members], "best_single": str(choice.best_single),
            "selection": f"{t.cv_folds}-fold time-series CV" if t.cv_folds else "validation",
            "ensemble_weights": {str(m): c / sum(counts) for m, c in picked.items()},
            "refit_epochs": {str(m): refit_epochs(m) for m in refits},
            "refit_seeds": {str(m): refit_bag(t, m) for m in refits},
            "results": results}
