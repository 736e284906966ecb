"""One tuning run: the user's tsbench overrides, the recipe's settings, the folder and the
recorded state; the overrides every stage's runs share, and the budget left."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsbench.errors import TsbenchError
from tsbench.rundir import config_choice, read_config
from tsbench.tune.commands import override_key
from tsbench.tune.state import TuneState


@dataclass
class Tuning:
    """One tuning run: its tsbench overrides, recipe settings, folder and state."""

    overrides: list[str]
    recipe: Any
    out: Path
    state: TuneState

    @property
    def model(self) -> str:
        """The model config the baseline ran (``model=`` or a preset such as
        ``experiment=dlinear_ili`` chose it): the searches use its tuning space."""
        chosen = config_choice(self.out / "a_baseline", "model")
        if chosen is None:
            raise TsbenchError(f"{self.out / 'a_baseline'} has no record of its config "
                               "choices -> run tsbench-tune again in a new out= folder")
        return chosen

    @property
    def plots(self) -> bool:
        """Whether the command draws pictures (``plots``, as the baseline ran it): with
        ``plots=false`` the searches draw no sweep pictures either (a search's last redraw
        costs seconds)."""
        return bool(read_config(self.out / "a_baseline").get("plots", True))

    @property
    def cv_folds(self) -> int:
        """Folds of the cross-validation every selection uses (0: the validation split)."""
        return int(self.recipe.get("cv_folds") or 0)

    @property
    def quiet(self) -> list[str]:
        """Overrides of every stage run: validation only, quiet."""
        return [*self.overrides, "score_test=false", "trainer.progress_bar=false"]

    @property
    def base(self) -> list[str]:
        """Overrides of the runs that are compared (baseline, trials, retrained runs): with
        ``recipe.cv_folds``, cross-validated on blocks as long as the validation split."""
        if not self.cv_folds:
            return self.quiet
        return [*self.quiet, "cv=tscv", f"cv.n_splits={self.cv_folds}", "cv.test_size=val",
                "cv.refit=false"]

    @property
    def epoch_budget(self) -> list[str]:
        """The full budget of the baseline, every trial and retrained run: ``recipe.max_epochs``
        with early stopping after ``recipe.patience``."""
        r = self.recipe
        return [f"trainer.max_epochs={int(r.max_epochs)}", f"trainer.patience={int(r.patience)}"]

    def trial_base(self, lr: dict[str, float]) -> list[str]:
        """Overrides of every search trial and retrained run: the full budget, and the learning
        rate moved with the batch size from the one the range test ran at, by the command's
        ``optim.lr_scaling`` where it gives one, else the square-root rule."""
        given = any(override_key(o) == "optim.lr_scaling" for o in self.overrides)
        scaling = [] if given else ["optim.lr_scaling=sqrt"]
        return [*self.base, *self.epoch_budget, "logger=none", *scaling,
                f"optim.base_batch_size={int(lr['batch_size'])}"]

    def budget_left(self) -> float:
        """Seconds of the (b)-(f) budget not spent yet (the baseline does not count)."""
        spent = self.state.spent() - float(self.state.stages.get("a_seconds", 0.0))
        return float(self.recipe.budget_hours) * 3600.0 - spent
