"""The model contract, checked for every config in conf/model/ and for a toy model added
from outside the package (one module + one YAML)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from tests.conftest import ROOT, read_metrics, run_tsbench
from tsbench.models.build import build_model
from tsbench.training.run import run

MODEL_DIR = ROOT / "tsbench" / "conf" / "model"
#: Small sizes so each contract check runs in well under a second.
SMALL: dict[str, dict[str, Any]] = {
    "patchtst": {"d_model": 8, "n_heads": 2, "e_layers": 1, "d_ff": 16, "patch_len": 8,
                 "stride": 4},
    "itransformer": {"d_model": 16, "n_heads": 2, "e_layers": 1, "d_ff": 16},
    "seasonal_naive": {"period": 8},
}
SHAPES = [(32, 8, 3), (48, 24, 1), (64, 16, 5)]

TOY_MODULE = '''
"""A toy model: one linear map over time, shared by all channels."""
import torch
from torch import nn

from tsbench.models.base import ForecastModel


class LastLinear(ForecastModel):
    def __init__(self, seq_len: int, pred_len: int, n_vars: int, hidden: int = 8,
                 revin: bool = False) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        self.net = nn.Sequential(nn.Linear(seq_len, hidden), nn.ReLU(),
                                 nn.Linear(hidden, pred_len))

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)
'''
TOY_YAML = """
_target_: toy_models.LastLinear
name: toy
hidden: 8       # hidden width
revin: false    # unused by this toy
compile: false  # torch.compile the model
"""


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``toy_models.py`` and ``conf/model/toy.yaml``, importable."""
    root = tmp_path_factory.mktemp("toy")
    (root / "toy_models.py").write_text(textwrap.dedent(TOY_MODULE))
    (root / "conf" / "model").mkdir(parents=True)
    (root / "conf" / "model" / "toy.yaml").write_text(TOY_YAML)
    sys.path.insert(0, str(root))
    return root


def _configs(toy_dir: Path) -> dict[str, Path]:
    found = {p.stem: p for p in sorted(MODEL_DIR.glob("*.yaml"))}
    return {**found, "toy": toy_dir / "conf" / "model" / "toy.yaml"}


def _build(path: Path, seq_len: int, pred_len: int, n_vars: int) -> torch.nn.Module:
    cfg = OmegaConf.merge(OmegaConf.load(path), SMALL.get(path.stem, {}))
    cfg.pop("defaults", None)  # a defaults list is Hydra's, not a hyperparameter
    return build_model(cfg, seq_len, pred_len, n_vars, n_marks=4)


def _inputs(model: torch.nn.Module, batch: int, seq_len: int, n_vars: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, seq_len, n_vars, generator=gen)
    marks = torch.rand(batch, seq_len, 4, generator=gen) - 0.5
    return x, (marks if model.uses_time_features else None)


def test_every_shipped_model_is_covered(toy_dir: Path) -> None:
    names = set(_configs(toy_dir))
    assert {"dlinear", "naive", "seasonal_naive", "patchtst", "itransformer", "toy"} <= names


@pytest.mark.parametrize("name", ["dlinear", "naive", "seasonal_naive", "patchtst",
                                  "itransformer", "toy"])
def test_contract(name: str, toy_dir: Path) -> None:
    path = _configs(toy_dir)[name]
    torch.manual_seed(0)
    for seq_len, pred_len, n_vars in SHAPES:
        model = _build(path, seq_len, pred_len, n_vars)
        for batch in (4, 1):
            x, marks = _inputs(model, batch, seq_len, n_vars)
            assert model(x, marks).shape == (batch, pred_len, n_vars)

    seq_len, pred_len, n_vars = SHAPES[0]
    model = _build(path, seq_len, pred_len, n_vars)
    x, marks = _inputs(model, 4, seq_len, n_vars)
    params = [p for p in model.parameters() if p.requires_grad]
    assert bool(params) == model.trainable
    if params:
        model.train()
        model(x, marks).pow(2).mean().backward()
        for pname, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), pname
            assert p.grad.abs().sum() > 0, f"no gradient reaches {pname}"

    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x, marks), model(x, marks))
        constant = torch.full_like(x, 3.0)
        assert torch.isfinite(model(constant, marks)).all()
        clone = _build(path, seq_len, pred_len, n_vars)
        clone.load_state_dict(model.state_dict())
        clone.eval()
        assert torch.equal(clone(x, marks), model(x, marks))


@pytest.mark.parametrize("name", ["dlinear", "naive", "seasonal_naive", "patchtst",
                                  "itransformer"])
def test_short_fit_through_the_training_loop(name: str, tmp_path: Path) -> None:
    small = [f"model.{k}={v}" for k, v in SMALL.get(name, {}).items()]
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            "dataset=synthetic", "dataset.n_rows=500", f"model={name}", *small,
            "seq_len=32", "pred_len=8", "trainer=debug", "logger=none", "data.batch_size=32",
        ])
    metrics = run(cfg, tmp_path)
    assert metrics["n_test_windows"] == 100 + 32 - 32 - 8 + 1
    assert torch.isfinite(torch.tensor([metrics["val_mse"], metrics["test_mse"]])).all()
    assert (metrics["epochs"] == 2) == (name not in ("naive", "seasonal_naive"))


def test_toy_model_end_to_end_from_outside_the_package(toy_dir: Path, tmp_path: Path) -> None:
    """The README's "Add a model" path: a module on PYTHONPATH + a YAML on Hydra's search path."""
    args = ["dataset=synthetic", "dataset.n_rows=500", "model=toy", "seq_len=32", "pred_len=8",
            "trainer=debug", "logger=none", f"hydra.searchpath=[file://{toy_dir / 'conf'}]"]
    run_tsbench(args, tmp_path / "run", env={"PYTHONPATH": str(toy_dir)})
    metrics = read_metrics(tmp_path / "run")
    assert metrics["n_params"] == 32 * 8 + 8 + 8 * 8 + 8
    assert metrics["epochs"] == 2
