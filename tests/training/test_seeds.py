"""Same seed, same numbers, for the models with dropout and attention too: two runs of one
seed on the CPU give bitwise equal metrics and weights, another seed other numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_module

from tsbench.data.loading import load_series
from tsbench.data.splits import benchmark_borders
from tsbench.data.windows import WindowLoader
from tsbench.rundir import CHECKPOINT, read_metrics
from tsbench.training.module import ForecastModule
from tsbench.training.run import run
from tsbench.training.train_and_score import make_data

BASE = ["dataset=synthetic", "dataset.n_rows=600", "seq_len=48", "pred_len=12",
        "trainer=debug", "data.batch_size=32", "logger=none"]
#: Tiny models with every dropout they have switched on.
MODELS = {
    "patchtst": ["model=patchtst", "model.d_model=8", "model.n_heads=2", "model.e_layers=1",
                 "model.d_ff=16", "model.patch_len=8", "model.stride=8", "model.dropout=0.3",
                 "model.attn_dropout=0.1", "model.head_dropout=0.1"],
    "itransformer": ["model=itransformer", "model.d_model=16", "model.n_heads=2",
                     "model.e_layers=1", "model.d_ff=16", "model.dropout=0.1"],
}
#: Wall-clock figures, the only fields allowed to differ between two runs of one seed.
TIMINGS = {"train_seconds", "run_seconds"}


def run_seed(model: str, seed: int, run_dir: Path) -> tuple[dict[str, Any], dict]:
    """Run ``model`` with ``seed`` in this process; its metrics and checkpoint weights."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*BASE, *MODELS[model], f"seed={seed}"])
    run(cfg, run_dir)
    metrics = {k: v for k, v in read_metrics(run_dir).items() if k not in TIMINGS}
    weights = torch.load(run_dir / CHECKPOINT, map_location="cpu", weights_only=True)
    return metrics, weights["state_dict"]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_same_seed_bitwise_equal_other_seed_different(model: str, tmp_path: Path) -> None:
    metrics, weights = run_seed(model, 1, tmp_path / "a")
    again, again_weights = run_seed(model, 1, tmp_path / "b")
    assert metrics["epochs"] == 2 and metrics["test_mse"] > 0
    assert again == metrics  # every number, per-step MSEs included, bit for bit
    assert weights.keys() == again_weights.keys()
    assert all(torch.equal(weights[k], again_weights[k]) for k in weights)
    other, _ = run_seed(model, 2, tmp_path / "c")
    for key in ("val_mse", "test_mse", "test_mae"):
        assert other[key] != metrics[key], key


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_seed_draws_weights_and_dropout_not_only_the_order(
    model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every training loader shuffles with seed 0 whatever the run's seed: the two runs then
    # differ only through what the seed draws inside the model (initial weights, dropout).
    pinned = WindowLoader.__init__

    def one_order(self: WindowLoader, *args: Any, **kwargs: Any) -> None:
        pinned(self, *args, **{**kwargs, "seed": 0})

    monkeypatch.setattr(WindowLoader, "__init__", one_order)
    first, first_weights = run_seed(model, 1, tmp_path / "a")
    second, second_weights = run_seed(model, 2, tmp_path / "b")
    assert first["val_mse"] != second["val_mse"]
    assert not any(torch.equal(first_weights[k], second_weights[k]) for k in first_weights
                   if first_weights[k].is_floating_point() and first_weights[k].numel() > 1)


def _training_order(seed: int) -> list[torch.Tensor]:
    """The target windows of the first training batch of each of two epochs of a run's data
    (as ``fit_and_score`` builds it from the config) with ``seed``."""
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*BASE, "model=dlinear", f"seed={seed}"])
    series = load_series(cfg.dataset)
    borders = benchmark_borders(len(series.values), series.split, int(cfg.seq_len),
                                series.train_frac, series.test_frac)
    ranges = {"train": borders.train, "val": borders.val, "test": borders.test}
    loader = make_data(cfg, series, ranges, with_marks=False).train_dataloader()
    return [next(iter(loader))[1] for _ in range(2)]


def test_the_seed_sets_the_training_order() -> None:
    first, again, other = _training_order(1), _training_order(1), _training_order(2)
    assert first[0].shape == (32, 12, 3)  # data.batch_size windows, pred_len, channels
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], first[1])  # each epoch draws a new order
    for a, b in zip(first, other, strict=True):
        assert not torch.equal(a, b)


@pytest.mark.parametrize("deterministic", [True, False])
def test_training_runs_with_the_configured_determinism(
    deterministic: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trainer.deterministic says whether torch's deterministic algorithms are on while the
    model trains (true: one seed, one result; false: the faster kernels allowed)."""
    seen: list[bool] = []
    original = ForecastModule.on_fit_start

    def spy(self: ForecastModule) -> None:
        seen.append(torch.are_deterministic_algorithms_enabled())
        original(self)

    monkeypatch.setattr(ForecastModule, "on_fit_start", spy)
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*BASE, "model=dlinear",
                                           f"trainer.deterministic={str(deterministic).lower()}"])
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(not deterministic)  # the run must set it either way
    try:
        run(cfg, tmp_path)
    finally:
        torch.use_deterministic_algorithms(before)
    assert seen == [deterministic]
