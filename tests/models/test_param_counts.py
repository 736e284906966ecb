"""Trainable parameter counts equal the official implementations' at published settings."""

from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf
from torch import nn

from tsbench.models.build import build_model

CONF = Path(__file__).resolve().parents[2] / "conf" / "model"


def build(
    name: str, seq_len: int, pred_len: int, n_vars: int, n_marks: int = 0, **overrides: Any
) -> nn.Module:
    """Build ``conf/model/<name>.yaml`` with ``overrides`` exactly as the run function does."""
    cfg = OmegaConf.merge(OmegaConf.load(CONF / f"{name}.yaml"), overrides)
    assert cfg.name == name
    cfg.pop("defaults", None)
    return build_model(cfg, seq_len, pred_len, n_vars, n_marks)


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


@pytest.mark.parametrize(
    ("seq_len", "pred_len", "overrides", "expected"),
    [
        (336, 96, {}, 64_704),  # 2 * (336 * 96 + 96): seasonal and trend maps, shared
        (336, 720, {}, 485_280),
        (104, 24, {}, 5_040),  # ILI
        (336, 96, {"individual": True}, 452_928),  # one pair per channel: 7x
    ],
)
def test_dlinear(seq_len: int, pred_len: int, overrides: dict[str, bool], expected: int) -> None:
    model = build("dlinear", seq_len=seq_len, pred_len=pred_len, n_vars=7, **overrides)
    assert n_trainable(model) == expected
