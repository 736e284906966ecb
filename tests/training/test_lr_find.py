"""``tune.lr_find``: the range test's outputs, and the rate the training optimizer gets;
``optim.lr_scaling`` relative to ``optim.base_batch_size``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from tests.conftest import TINY, read_metrics, run_tsbench
from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.errors import ConfigError
from tsbench.models.build import model_for
from tsbench.training.lr_find import far_below, min_loss_lr, tune_lr, valley_lr
from tsbench.training.module import ForecastModule
from tsbench.training.run import run
from tsbench.training.schedules import scaled_lr
from tsbench.training.train_and_score import make_data

FINDER = ["tune.lr_find=true", "tune.lr_find_num_training=30"]


def test_lr_find_run_writes_plot_and_trains_at_the_suggestion(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_tsbench([*TINY, *FINDER], run_dir)
    found = json.loads((run_dir / "lr_find.json").read_text())
    metrics = read_metrics(run_dir)
    assert (run_dir / "lr_find.png").stat().st_size > 10_000
    assert 20 <= len(found["lrs"]) == len(found["losses"]) <= 30  # stops once the loss diverges
    assert found["lrs"] == sorted(found["lrs"]) and found["lrs"][-1] > 1e4 * found["lrs"][0]
    assert found["applied"] is True
    # Lightning's rule, recorded: the steepest fall of the finite losses over the rate
    # (d loss / d lr), the first 10 and the last step left out
    kept = [(lr, loss) for lr, loss in zip(found["lrs"][10:-1], found["losses"][10:-1],
                                           strict=True) if loss is not None]
    steepest = int(np.argmin(np.gradient([loss for _, loss in kept], [lr for lr, _ in kept])))
    assert found["steepest_lr"] == kept[steepest][0]
    # the suggestion: the steepest fall over log(rate) from the top of the valley down to
    # the lowest loss (the first 10 steps left out)
    rates = np.log(found["lrs"][10:])
    curve = np.array([np.nan if v is None else v for v in found["losses"][10:]])
    bottom = int(np.nanargmin(curve))
    top = int(np.argmax(curve[:bottom + 1]))
    fall = np.gradient(curve[top:bottom + 1], rates[top:bottom + 1])[1:-1]
    assert found["suggestion"] == found["lrs"][10 + top + 1 + int(np.argmin(fall))]
    assert found["rule"] == "valley"
    above = [(loss, lr) for lr, loss in zip(found["lrs"], found["losses"], strict=True)
             if loss is not None and lr >= found["suggestion"]]
    assert found["min_loss_lr"] == min(above)[1]
    assert metrics["lr_suggested"] == metrics["lr_used"] == found["suggestion"]
    assert not list(run_dir.glob(".lr_find*.ckpt"))  # Lightning's scratch checkpoint is gone


@pytest.mark.parametrize("bar", [False, True])
def test_range_test_bar_follows_trainer_progress_bar(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], bar: bool
) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, *FINDER, f"trainer.progress_bar={bar}"])
    run(cfg, tmp_path)
    assert ("Finding best initial lr" in capfd.readouterr().err) is bar


def test_min_loss_lr_ignores_the_noise_below_the_suggestion() -> None:
    lrs = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    losses = [0.1, 0.9, 0.8, 0.5, float("nan"), 2.0]  # first batch happens to be easy
    assert min_loss_lr(lrs, losses, suggestion=1e-4) == 1e-3
    assert min_loss_lr(lrs, losses, suggestion=1e-1) == 1e-1


def test_a_suggestion_far_below_the_loss_minimum_is_flagged() -> None:
    assert far_below(1e-3, 5e-3, applied=True) == ""  # a rate near the fall's bottom
    assert far_below(2.4e-5, 0.5, applied=True) == (
        "lr finder: the suggestion 2.4e-05 is 20,833 times below the rate at the loss minimum "
        "(0.5); check lr_find.png (it is applied; tune.lr_find_apply=false keeps optim.lr)")
    assert far_below(2.4e-5, 0.5, applied=False).endswith("(not applied)")


def _optimizer_lrs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: list[str]
                   ) -> tuple[dict, list[float]]:
    """Run in-process; return the metrics and the initial lr of every optimizer built."""
    built: list[float] = []
    original = ForecastModule.configure_optimizers

    def spy(self: ForecastModule) -> dict:
        config = original(self)
        built.append(config["optimizer"].param_groups[0]["initial_lr"])
        return config

    monkeypatch.setattr(ForecastModule, "configure_optimizers", spy)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, *FINDER, *overrides])
    return run(cfg, tmp_path), built


def test_training_optimizer_gets_the_suggested_rate(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, built = _optimizer_lrs(tmp_path, monkeypatch, [])
    assert len(built) == 2  # the range test's optimizer, then the training's
    assert built[-1] == metrics["lr_suggested"] == metrics["lr_used"]


def test_report_only_keeps_the_configured_scaled_rate(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, built = _optimizer_lrs(tmp_path, monkeypatch, [
        "tune.lr_find_apply=false", "optim.lr=0.001", "optim.lr_scaling=sqrt",
        "optim.base_batch_size=8"])  # TINY trains with batches of 32: sqrt(32 / 8) = 2
    assert built[-1] == metrics["lr_used"] == pytest.approx(0.002)
    assert metrics["lr_suggested"] != metrics["lr_used"]
    assert json.loads((tmp_path / "lr_find.json").read_text())["applied"] is False


@pytest.mark.parametrize("override, field", [
    ("tune.lr_find_num_training=5", "tune.lr_find_num_training"),
    ("tune.lr_find_min_lr=2.0", "tune.lr_find_min_lr"),
])
def test_bad_finder_settings(override: str, field: str, tmp_path: Path) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, *FINDER, override])
    with pytest.raises(ConfigError) as info:
        run(cfg, tmp_path)
    assert info.value.field == field


@pytest.mark.parametrize("rule, batch, expected", [
    ("none", 128, 1e-3), ("sqrt", 128, 2e-3), ("linear", 128, 4e-3), ("linear", 16, 5e-4),
    ("sqrt", 8, 5e-4),
])
def test_lr_scaling_relative_to_base_batch_size(rule: str, batch: int, expected: float) -> None:
    optim = OmegaConf.create({"lr": 1e-3, "lr_scaling": rule, "base_batch_size": 32})
    assert math.isclose(scaled_lr(optim, batch), expected)


def test_unknown_lr_scaling_rule() -> None:
    optim = OmegaConf.create({"lr": 1e-3, "lr_scaling": "cubic", "base_batch_size": 32})
    with pytest.raises(ConfigError) as info:
        scaled_lr(optim, 64)
    assert info.value.field == "optim.lr_scaling"


class _SeenBatches(ForecastModule):
    """The module, keeping the inputs of every batch it trains on."""

    inputs: list[torch.Tensor]

    def training_loss(self, batch: tuple) -> torch.Tensor:
        self.inputs.append(batch[0].detach().clone())
        return super().training_loss(batch)


@pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no")
def test_range_test_runs_every_step_on_training_rows_only(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The range test trains tune.lr_find_num_training steps (over more than one epoch of
    training batches), every one of them on training windows, none on validation ones."""
    steps = 30
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            *TINY, *FINDER, f"tune.lr_find_num_training={steps}", "tune.lr_find_max_lr=1e-3"])
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len))
    data = make_data(cfg, series, {"train": borders.train, "val": borders.val},
                     with_marks=False)
    batches = len(data.train_dataloader())
    assert steps % batches and steps > batches  # the last epoch is a partial one
    seen = _SeenBatches(model_for(cfg, series), cfg.optim, float(cfg.optim.lr),
                        data.target_dims, batches, int(cfg.trainer.max_epochs))
    seen.inputs = []
    with caplog.at_level("WARNING", logger="tsbench.training.lr_find"):
        tune_lr(seen, data, cfg, tmp_path)
    assert len(seen.inputs) == steps
    found = json.loads((tmp_path / "lr_find.json").read_text())
    assert len(found["lrs"]) == steps
    # up to 1e-3 the loss has no valley: Lightning's steepest descent stands in, said so
    assert found["rule"] == "steepest" and found["suggestion"] == found["steepest_lr"]
    assert "the loss has no valley from 1e-06 to 0.001" in caplog.text

    def flat(split: str) -> torch.Tensor:
        return torch.cat([x for x, _, _ in data.loader(split)]).flatten(1)

    def nearest(x: torch.Tensor, split: str) -> torch.Tensor:
        return torch.cdist(x.flatten(1), flat(split), compute_mode="donot_use_mm_for_euclid_dist"
                           ).min(dim=1).values

    for x in seen.inputs:
        assert bool((nearest(x, "train") < 1e-5).all())
        assert bool((nearest(x, "val") > 1e-3).all())


def test_loss_minimum_at_the_suggestion_and_the_hundredfold_threshold() -> None:
    """The loss minimum may be the suggestion's own rate; a suggestion is flagged only when
    it lies FAR_BELOW (100) times below that minimum's rate, not at 50 times."""
    lrs = [1e-4, 1e-3, 1e-2, 1e-1]
    losses = [0.5, 0.3, 0.4, 0.9]
    assert min_loss_lr(lrs, losses, suggestion=1e-3) == 1e-3
    assert far_below(1e-4, 5e-3, applied=True) == ""  # 50 times below: a plausible pick
    assert far_below(1e-4, 1e-2, applied=True).startswith("lr finder: the suggestion 0.0001 is 100")


def test_the_valley_rule_takes_the_steepest_fall_between_the_top_and_the_lowest_loss() -> None:
    # ETTh2 PatchTST's shape: settling noise in the first steps, a bumpy stretch (a sharp
    # dip at 5.6e-4), the top, then the valley with its steepest fall at 1.8e-2, the bottom
    # at 0.1, divergence; the whole curve's steepest descent is the dip
    lrs = list(np.geomspace(1e-6, 1.0, 25))
    losses = [0.35, 0.45, 0.55, 0.6, 0.62, 0.63, 0.64, 0.64, 0.64, 0.64,  # settling
              0.64, 0.70, 0.45, 0.62, 0.72, 0.63, 0.58, 0.53, 0.44, 0.41, 0.36,
              0.5, 0.9, 3.0, float("nan")]
    assert min(range(11, 23), key=lambda i: losses[i + 1] - losses[i - 1]) == 11
    assert lrs[17] == pytest.approx(1.78e-2, rel=0.01)
    assert valley_lr(lrs, losses) == lrs[17]  # 0.58 -> 0.44 across it
    # the first ten steps never count: a steeper fall there, or a lower loss, is settling
    assert valley_lr(lrs, [0.9, 0.1, *losses[2:]]) == lrs[17]
    # no valley: the loss only rises after settling, or falls for too few steps
    assert valley_lr(lrs, [*losses[:10], *np.linspace(0.6, 3.0, 15)]) is None
    assert valley_lr(lrs[:12], losses[:12]) is None
