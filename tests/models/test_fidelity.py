"""The presets compute what the papers' official code computes.

Each test builds a model from its ``conf/model`` YAML (the preset's architecture) and
compares its forecast with a forward pass written here in plain tensor ops, step by step as
the official code describes it, reading the model's own weights:

- PatchTST (``yuqinie98/PatchTST``, ``PatchTST_backbone``): RevIN without affine
  parameters, the look-back padded at the end by ``stride`` copies of its last value, patches
  embedded and given a learnable position, post-norm encoder layers with BatchNorm over all
  patches of all series and residual attention (each layer adds the previous layer's
  pre-softmax scores), a flatten head reading features d_model-major.
- iTransformer (``thuml/iTransformer``): per-window mean/std normalization of the series
  (not of the calendar features), one token per variate and per calendar feature, post-norm
  LayerNorm encoder layers, a final LayerNorm, and the calendar tokens' outputs dropped.
- DLinear (``cure-lab/LTSF-Linear``): a moving average with both ends repeated, and one
  linear map each for the seasonal part and the trend, shared by all channels, no RevIN.

A changed architecture (pre-norm, no residual attention, LayerNorm in PatchTST, normalized
calendar tokens, ...) keeps the parameter counts of ``test_param_counts.py`` but fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch import nn

from tsbench.models.build import build_model

CONF = Path(__file__).resolve().parents[2] / "tsbench" / "conf" / "model"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def preset(name: str, seq_len: int, pred_len: int, n_vars: int, n_marks: int = 0,
           **overrides: Any) -> nn.Module:
    """``conf/model/<name>.yaml`` built as a run builds it, with ``overrides``."""
    cfg = OmegaConf.merge(OmegaConf.load(CONF / f"{name}.yaml"), overrides)
    cfg.pop("defaults", None)
    return build_model(cfg, seq_len, pred_len, n_vars, n_marks)


def walk(batch: int, length: int, n_vars: int) -> torch.Tensor:
    """Random walks with their own level and scale: RevIN has something to undo."""
    level = torch.randn(batch, 1, n_vars) * 10
    return level + torch.randn(batch, length, n_vars).cumsum(1) * (1 + torch.rand(n_vars))


def normalize(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-window, per-channel mean and biased std (eps 1e-5 inside the root)."""
    mean = x.mean(1, keepdim=True)
    std = torch.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-5)
    return (x - mean) / std, mean, std


def attention(x: torch.Tensor, qkv: nn.Linear, out: nn.Linear, n_heads: int,
              prev: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head self-attention, scale head_dim ** -0.5, ``prev`` added to the scores."""
    batch, tokens, d_model = x.shape
    q, k, v = (t.reshape(batch, tokens, n_heads, -1).transpose(1, 2)
               for t in F.linear(x, qkv.weight, qkv.bias).chunk(3, dim=-1))
    scores = q @ k.transpose(-1, -2) / (d_model // n_heads) ** 0.5
    if prev is not None:
        scores = scores + prev
    heads = scores.softmax(-1) @ v
    return F.linear(heads.transpose(1, 2).reshape(batch, tokens, d_model),
                    out.weight, out.bias), scores


def batch_norm(x: torch.Tensor, bn: nn.BatchNorm1d, training: bool) -> torch.Tensor:
    """BatchNorm1d over d_model, statistics pooled over every series and patch."""
    if training:
        flat = x.reshape(-1, x.shape[-1])
        mean, var = flat.mean(0), flat.var(0, unbiased=False)
    else:
        mean, var = bn.running_mean, bn.running_var
    return (x - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias


def patchtst_reference(model: nn.Module, x: torch.Tensor, patch_len: int, stride: int,
                       n_heads: int, training: bool) -> torch.Tensor:
    batch, seq_len, n_vars = x.shape
    z, mean, std = normalize(x)
    z = z.transpose(1, 2)  # (batch, n_vars, seq_len)
    z = torch.cat([z, z[..., -1:].expand(-1, -1, stride)], dim=-1)
    starts = range(0, seq_len + stride - patch_len + 1, stride)
    patches = torch.stack([z[..., s:s + patch_len] for s in starts], dim=2)
    assert patches.shape[2] == (seq_len - patch_len) // stride + 2
    u = F.linear(patches, model.embed.weight, model.embed.bias)
    u = u.reshape(batch * n_vars, len(starts), -1) + model.pos
    prev = None
    for layer in model.layers:
        attended, prev = attention(u, layer.attn.qkv, layer.attn.out, n_heads, prev)
        u = batch_norm(u + attended, layer.norm1, training)
        ff = F.linear(F.gelu(F.linear(u, layer.ff[0].weight, layer.ff[0].bias)),
                      layer.ff[3].weight, layer.ff[3].bias)
        u = batch_norm(u + ff, layer.norm2, training)
    flat = u.transpose(1, 2).reshape(batch * n_vars, -1)  # d_model-major, as the official
    head = model.head[1]
    y = F.linear(flat, head.weight, head.bias).reshape(batch, n_vars, -1).transpose(1, 2)
    return y * std + mean


@pytest.mark.parametrize(("seq_len", "pred_len", "patch_len", "stride"),
                         [(336, 96, 16, 8), (104, 24, 24, 2)])  # ETTh1 and ILI presets
def test_patchtst_preset_is_the_official_forward(seq_len: int, pred_len: int,
                                                 patch_len: int, stride: int) -> None:
    model = preset("patchtst", seq_len, pred_len, 7, patch_len=patch_len, stride=stride)
    assert model.patch_num == 42  # "PatchTST/42"
    # the official scripts' RevIN: affine=0 (identity at initialisation, so said here)
    assert model.revin is not None and not model.revin.affine
    with torch.no_grad():  # eval mode reads the running statistics: make them non-trivial
        for layer in model.layers:
            for bn in (layer.norm1, layer.norm2):
                bn.running_mean.normal_(0, 0.3)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.normal_(0, 0.3)
    x = walk(6, seq_len, 7)
    with torch.no_grad():
        want = patchtst_reference(model, x, patch_len, stride, 4, training=False)
        torch.testing.assert_close(model.eval()(x), want, rtol=1e-4, atol=1e-4)
        # training mode: batch statistics (dropout off to compare)
        for module in model.modules():
            if hasattr(module, "p"):
                module.p = 0.0
        want = patchtst_reference(model, x, patch_len, stride, 4, training=True)
        torch.testing.assert_close(model.train()(x), want, rtol=1e-4, atol=1e-4)


def itransformer_reference(model: nn.Module, x: torch.Tensor, marks: torch.Tensor,
                           n_heads: int) -> torch.Tensor:
    n_vars = x.shape[-1]
    z, mean, std = normalize(x)
    tokens = torch.cat([z.transpose(1, 2), marks.transpose(1, 2)], dim=1)  # marks as given
    u = F.linear(tokens, model.embed.weight, model.embed.bias)
    for layer in model.layers:
        attended, _ = attention(u, layer.attn.qkv, layer.attn.out, n_heads, None)
        u = layer.norm1(u + attended)
        ff = F.linear(F.gelu(F.linear(u, layer.ff[0].weight, layer.ff[0].bias)),
                      layer.ff[3].weight, layer.ff[3].bias)
        u = layer.norm2(u + ff)
    y = F.linear(model.norm(u), model.projector.weight, model.projector.bias)
    return y.transpose(1, 2)[:, :, :n_vars] * std + mean


def test_itransformer_preset_is_the_official_forward() -> None:
    model = preset("itransformer", 96, 96, 7, n_marks=4).eval()
    with torch.no_grad():  # LayerNorms away from their identity initialisation
        for norm in [model.norm, *(n for layer in model.layers
                                   for n in (layer.norm1, layer.norm2))]:
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.3)
    x = walk(6, 96, 7)
    marks = torch.rand(6, 96, 4) - 0.5
    with torch.no_grad():
        torch.testing.assert_close(model(x, marks), itransformer_reference(model, x, marks, 8),
                                   rtol=1e-4, atol=1e-4)


def test_dlinear_preset_is_the_official_forward() -> None:
    model = preset("dlinear", 336, 96, 7).eval()
    x = walk(6, 336, 7)
    half = 12  # kernel 25
    padded = torch.cat([x[:, :1].expand(-1, half, -1), x, x[:, -1:].expand(-1, half, -1)], 1)
    trend = torch.stack([padded[:, t:t + 25].mean(1) for t in range(336)], dim=1)
    seasonal = x - trend
    weight_s, weight_t = model.seasonal_weight[0], model.trend_weight[0]
    want = (torch.einsum("blc,hl->bhc", seasonal, weight_s) + model.seasonal_bias[0][:, None]
            + torch.einsum("blc,hl->bhc", trend, weight_t) + model.trend_bias[0][:, None])
    with torch.no_grad():
        torch.testing.assert_close(model(x), want, rtol=1e-4, atol=1e-4)
