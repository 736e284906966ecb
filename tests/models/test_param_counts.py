"""Trainable parameter counts equal the official implementations' at published settings."""

from pathlib import Path
from typing import Any

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

CONF = Path(__file__).resolve().parents[2] / "conf" / "model"


def build(name: str, **overrides: Any) -> nn.Module:
    """Instantiate ``conf/model/<name>.yaml`` as the run function does, with ``overrides``."""
    cfg = OmegaConf.load(CONF / f"{name}.yaml")
    assert cfg.pop("name") == name
    return instantiate(cfg, **overrides)


def n_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize(
    ("pred_len", "expected"), [(96, 81_728), (192, 146_336), (336, 243_248), (720, 501_680)]
)
def test_patchtst42(pred_len: int, expected: int) -> None:
    model = build("patchtst", seq_len=336, pred_len=pred_len, n_vars=7)
    assert n_trainable(model) == expected


def test_patchtst_ili() -> None:
    model = build("patchtst", seq_len=104, pred_len=24, n_vars=7, patch_len=24, stride=2)
    assert n_trainable(model) == 33_400


WIDE = {"d_model": 512, "d_ff": 512}


@pytest.mark.parametrize(
    ("pred_len", "overrides", "expected"),
    [
        (96, {}, 841_568),  # the YAML defaults: d_model = d_ff = 256
        (192, {}, 866_240),
        (336, WIDE, 3_379_024),
        (720, WIDE, 3_576_016),
        (96, {"d_model": 128, "d_ff": 128}, 224_224),
    ],
)
def test_itransformer(pred_len: int, overrides: dict[str, int], expected: int) -> None:
    model = build("itransformer", seq_len=96, pred_len=pred_len, n_vars=7, n_marks=4, **overrides)
    assert n_trainable(model) == expected
