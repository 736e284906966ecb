"""(g)'s refits: a chosen run's configuration trained again on every train+val row for its
validation-chosen epoch count (``cv=refit``), once with each seed of its bag, and how long
that is estimated to take (which (f) keeps inside the budget)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import yaml

from tsbench.rundir import HYDRA_OVERRIDES, is_finished, read_config, read_metrics, read_protocol
from tsbench.search.report import search_marks
from tsbench.training.crossval import refit_epoch_count
from tsbench.tune.commands import override_key, run_stage, search_path, tsbench
from tsbench.tune.tuning import Tuning

log = logging.getLogger("tsbench.tune")


def refit_epochs(run_dir: Path) -> int:
    """A run's epoch count chosen on validation: its best epoch, or for a cross-validation
    run the folds' median best epoch (rounded up, as ``cv.refit`` does)."""
    metrics = read_metrics(run_dir)
    if "cv_folds" in metrics:
        return refit_epoch_count(float(metrics["cv_best_epoch_median"]))
    return max(1, int(metrics["best_epoch"]))


#: Refit time estimates are multiplied by this (the refits of ILI-24 took 1.0-2.0 times
#: the seconds per row and epoch of their runs' folds), plus the start of the one multirun
#: that refits a run's seeds.
REFIT_MARGIN, REFIT_START = 1.5, 10.0


def refit_seconds(run_dir: Path, seeds: int = 1) -> float:
    """About how long :func:`refit` takes for a run with ``seeds`` seeds: the run's seconds
    per training row and epoch (over all its folds for a CV run) times the train+val rows,
    its refit epochs and the seeds."""
    metrics, split = read_metrics(run_dir), read_protocol(run_dir)["split"]
    folds = metrics.get("cv_folds")
    rows = np.mean([f["train"][1] - f["train"][0] for f in folds]) if folds else (
        split["train"][1] - split["train"][0])
    per_row_epoch = float(metrics["train_seconds"]) / max(1, int(metrics["epochs"])) / rows
    return REFIT_START + REFIT_MARGIN * per_row_epoch * split["val"][1] * refit_epochs(
        run_dir) * seeds


#: Override keys a refit does not take over from the run it refits: how the run was
#: validated, budgeted and launched (a search's trial carries its sweep's settings).
NOT_REFIT = ("cv", "search", "score_test", "trainer.max_epochs", "trainer.patience",
             "trainer.progress_bar", "hydra", "pruning")


def refit_overrides(run_dir: Path) -> list[str]:
    """The run's own command-line overrides (``.hydra/overrides.yaml``) less ``NOT_REFIT``."""
    overrides = yaml.safe_load((run_dir / HYDRA_OVERRIDES).read_text()) or []
    kept = []
    for override in overrides:
        key = override_key(override)
        if not any(key == k or key.startswith(f"{k}.") or key.startswith(f"{k}/")
                   for k in NOT_REFIT):
            kept.append(override)
    return kept


def refit_bag(t: Tuning, run_dir: Path) -> list[int]:
    """The seeds a run is refitted with: its own, then each of ``recipe.refit_seeds``."""
    own = int(read_config(run_dir)["seed"])
    return list(dict.fromkeys([own, *(int(s) for s in t.recipe.get("refit_seeds") or [])]))


def refit_folder(out: Path, run_dir: Path) -> Path:
    """Where (g) refits ``run_dir``, a run of the tuning folder ``out``: a ``seed_<s>``
    folder per seed of its bag."""
    return out / "g_refit" / run_dir.relative_to(out)


def refit(t: Tuning, run_dir: Path) -> list[Path]:
    """(g) The run's configuration trained again on every train+val row for its
    validation-chosen epoch count (``cv=refit``), without scoring, once with each seed of
    its bag (one multirun for the seeds not refitted yet); returns their folders."""
    out = refit_folder(t.out, run_dir)
    bag = refit_bag(t, run_dir)
    todo = [s for s in bag if not is_finished(out / f"seed_{s}")]
    if todo:
        epochs = refit_epochs(run_dir)
        log.info("(g) refit on train+val rows, %d epochs, seeds %s: %s", epochs, todo,
                 run_dir.relative_to(t.out))
        kept = [o for o in refit_overrides(run_dir)
                if override_key(o) not in ("seed", "seq_len_searched_on")]
        # a run records no hydra.* override: the config search path is the command's
        run_stage(f"g_refit_{'_'.join(run_dir.relative_to(t.out).parts)}", tsbench(
            "-m", *kept, *search_marks(run_dir), *search_path(t.overrides), "cv=refit",
            f"trainer.max_epochs={epochs}",
            "score_test=false", "trainer.progress_bar=false", f"seed={','.join(map(str, todo))}",
            f"hydra.sweep.dir={out}", "hydra.sweep.subdir=seed_${seed}"), t.out)
    return [out / f"seed_{s}" for s in bag]
