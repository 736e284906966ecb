"""``tune.lr_find``: Lightning's learning-rate range test on the training split, its plot
and numbers in the run directory, and (unless told otherwise) training at the suggestion:
the steepest fall of the smoothed loss inside its valley (:func:`valley_lr`)."""

from __future__ import annotations

import io
import logging
import math
from contextlib import AbstractContextManager, nullcontext, redirect_stderr
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pytorch_lightning.tuner import Tuner  # noqa: E402

from tsbench.atomic import atomic_path, write_json  # noqa: E402
from tsbench.config_values import number, whole  # noqa: E402
from tsbench.data.datamodule import ForecastData  # noqa: E402
from tsbench.errors import ConfigError  # noqa: E402
from tsbench.rundir import LR_FIND, LR_FIND_PLOT  # noqa: E402
from tsbench.training.module import ForecastModule  # noqa: E402
from tsbench.training.trainer import make_trainer  # noqa: E402

log = logging.getLogger(__name__)
#: The range test's fewest steps: the rule reads the curve after its first ``_SKIPPED``.
_MIN_STEPS = 20
#: The first steps of the smoothed curve, left out (as Lightning does): the smoothing has
#: not settled there.
_SKIPPED = 10


def lr_find_settings(tune: Any) -> tuple[float, float, int]:
    """The range test's lowest and highest rate and its steps, or the :class:`ConfigError`
    naming the setting that is out of range."""
    low = number(tune.lr_find_min_lr, "tune.lr_find_min_lr")
    high = number(tune.lr_find_max_lr, "tune.lr_find_max_lr")
    steps = whole(tune.lr_find_num_training, "tune.lr_find_num_training")
    if not 0 < low < high:
        raise ConfigError(
            "tune.lr_find_min_lr",
            f"need 0 < min_lr < max_lr, got {low} and {high}",
            "e.g. tune.lr_find_min_lr=1e-6 tune.lr_find_max_lr=1",
        )
    if steps < _MIN_STEPS:
        raise ConfigError(
            "tune.lr_find_num_training",
            f"must be >= {_MIN_STEPS}, got {steps}",
            "the suggestion needs a curve of at least 20 steps",
        )
    return low, high, steps


def tune_lr(
    module: ForecastModule, data: ForecastData, cfg: Any, out_dir: Path
) -> dict[str, float]:
    """Run the range test; write ``lr_find.png`` and ``lr_find.json`` (the suggestion, by
    :func:`valley_lr`, or where the loss has no valley Lightning's own, which is recorded
    as ``steepest_lr`` either way) into ``out_dir``; set
    ``module.lr`` to the suggestion when ``tune.lr_find_apply``. Returns ``lr_suggested``."""
    tune = cfg.tune
    low, high, steps = lr_find_settings(tune)
    loader = data.train_dataloader()
    trainer = make_trainer(cfg.trainer, out_dir, math.ceil(steps / len(loader)),
                           progress_bar=False, checkpointing=False, limit_batches=False)
    with _finder_bar(bool(cfg.trainer.progress_bar)):
        finder = Tuner(trainer).lr_find(
            module,
            train_dataloaders=loader,
            min_lr=low,
            max_lr=high,
            num_training=steps,
            update_attr=False,
        )
    lrs, losses = finder.results["lr"], finder.results["loss"]
    steepest = finder.suggestion()
    suggestion, rule = valley_lr(lrs, losses), "valley"
    if suggestion is None and steepest is not None:
        suggestion, rule = steepest, "steepest"
        log.warning("lr finder: the loss has no valley from %g to %g (after its first %d "
                    "steps it falls for under two steps to its lowest point: the range starts "
                    "too high): the suggestion is Lightning's steepest descent, %.3g; check "
                    "lr_find.png, or lower tune.lr_find_min_lr", low, high, _SKIPPED,
                    steepest)
    if suggestion is None:
        raise ConfigError(
            "tune.lr_find_min_lr",
            f"the loss diverged before the range test could suggest a rate (from {low})",
            "lower tune.lr_find_min_lr or raise tune.lr_find_num_training",
        )
    lowest = min_loss_lr(lrs, losses, suggestion)
    others = {"Lightning's steepest descent": steepest, "loss minimum": lowest}
    _plot(lrs, losses, suggestion,
          {label: rate for label, rate in others.items() if rate not in (None, suggestion)},
          str(cfg.model.name), out_dir / LR_FIND_PLOT)
    doubt = far_below(suggestion, lowest, bool(tune.lr_find_apply))
    if doubt:
        log.warning(doubt)
    write_json(
        out_dir / LR_FIND,
        {
            "suggestion": suggestion,
            "rule": rule,  # valley, or steepest where the loss has no valley
            "steepest_lr": steepest,  # Lightning's rule, for comparison
            "min_loss_lr": lowest,
            "applied": bool(tune.lr_find_apply),
            "lrs": [float(x) for x in lrs],
            "losses": [float(x) if math.isfinite(x) else None for x in losses],
        },
    )
    if bool(tune.lr_find_apply):
        module.lr = suggestion
    return {"lr_suggested": float(suggestion)}


#: A suggestion this many times below the loss minimum's rate is doubtful: fastai's rule of
#: thumb puts a good rate about ten times below it.
FAR_BELOW = 100.0


def far_below(suggestion: float, lowest: float, applied: bool) -> str:
    """A warning when the suggestion lies more than ``FAR_BELOW`` times below the rate at the
    loss minimum (a valley that falls gently for decades: iTransformer on Exchange, 380
    times); '' otherwise. Lightning's rule sat 760 to 21,000 times below it on the six
    presets of ``benchmarks/lr_finder.md``."""
    if lowest < FAR_BELOW * suggestion:
        return ""
    kept = ("it is applied; tune.lr_find_apply=false keeps optim.lr" if applied
            else "not applied")
    return (f"lr finder: the suggestion {suggestion:.3g} is {lowest / suggestion:,.0f} times "
            f"below the rate at the loss minimum ({lowest:.3g}); check lr_find.png ({kept})")


def valley_lr(lrs: list[float], losses: list[float]) -> float | None:
    """The rate of the steepest fall of the smoothed loss over log(rate) within its valley:
    from the highest point before the lowest loss down to that lowest loss (the first
    ``_SKIPPED`` steps left out). None where the fall to the lowest loss spans under two
    steps (the loss only rises: the range starts too high).

    Lightning's suggestion takes the steepest descent over the rate itself (d loss / d lr)
    along the whole curve, which the noise among the closely spaced small rates wins
    (ETTh2 PatchTST: 1.05e-05, where the loss rises, while it falls from 4.4e-04 to
    9.5e-02); ``benchmarks/lr_finder.md`` trains at both."""
    finite = [(lr, loss) for lr, loss in zip(lrs[_SKIPPED:], losses[_SKIPPED:], strict=True)
              if math.isfinite(loss)]
    if len(finite) < 3:
        return None
    rates = [math.log(lr) for lr, _ in finite]
    curve = [loss for _, loss in finite]
    bottom = curve.index(min(curve))
    top = curve.index(max(curve[:bottom + 1]))
    if bottom - top < 2:
        return None
    slopes = [(curve[i + 1] - curve[i - 1]) / (rates[i + 1] - rates[i - 1])
              for i in range(top + 1, bottom)]
    return float(finite[top + 1 + slopes.index(min(slopes))][0])


def min_loss_lr(lrs: list[float], losses: list[float], suggestion: float) -> float:
    """The rate at the lowest finite (smoothed) loss at or above ``suggestion``.

    Below the suggestion the curve is settling or batch-to-batch noise: its global minimum
    there (the first batch, at 1e-6) means nothing.
    """
    finite = [(loss, lr) for lr, loss in zip(lrs, losses, strict=True)
              if lr >= suggestion and math.isfinite(loss)]
    return float(min(finite)[1]) if finite else float(suggestion)


def _finder_bar(show: bool) -> AbstractContextManager:
    """Lightning's range test always draws its own "Finding best initial lr" bar on stderr
    and has no switch for it; with ``trainer.progress_bar=false`` stderr goes to a sink for
    the test's duration, as the training bar is hidden. (Errors still raise.)"""
    return nullcontext() if show else redirect_stderr(io.StringIO())


def _plot(lrs: list[float], losses: list[float], suggestion: float, others: dict[str, float],
          model: str, path: Path) -> None:
    """The curve, the suggestion, and ``others`` (label: rate) as grey marks."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(lrs, losses, color="tab:blue", lw=1.3, label="smoothed training loss")
    for (label, rate), marker in zip(others.items(), "xv", strict=False):
        ax.plot([rate], [losses[lrs.index(rate)]], marker, color="dimgray", ls="none",
                label=f"{label} = {rate:.3g}")
    ax.plot(
        [suggestion],
        [losses[lrs.index(suggestion)]],
        "o",
        color="tab:red",
        label=f"suggested lr = {suggestion:.3g}",
    )
    ax.axvline(suggestion, color="tab:red", ls="--", lw=0.8)
    finite = [loss for loss in losses[_SKIPPED:] if math.isfinite(loss)]
    if finite:  # the settled curve down to its lowest loss: the divergence after it (and
        # the settling before) would flatten the valley
        shown = finite[:finite.index(min(finite)) + 1]
        pad = 0.1 * (max(shown) - min(shown)) or 0.1 * abs(min(shown)) or 1.0
        ax.set_ylim(min(shown) - pad, max(shown) + pad)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (per optimizer step, log scale)")
    ax.set_ylabel("training loss (MSE, scaled units)")
    ax.set_title(f"Learning-rate range test: {model}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:  # a run stopped mid-write leaves no cut picture
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
