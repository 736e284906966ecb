"""The fast CPU layers (oneDNN linear, attention core) change no result: whole models give
the outputs and gradients of the standard composed ops (the torch.compile / GPU path)."""

from typing import Any

import pytest
import torch

from tsbench.models.itransformer import ITransformer
from tsbench.models.layers.linear import Linear
from tsbench.models.patchtst import PatchTST


def outputs_and_grads(model: torch.nn.Module, x: torch.Tensor, marks: Any
                      ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad()
    out = model(x, marks)
    out.pow(2).mean().backward()
    return out.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("name", ["patchtst", "itransformer"])
def test_fast_layers_match_composed_ops(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    seq_len = 336 if name == "patchtst" else 96
    if name == "patchtst":  # residual attention over 42 patches of 4 dims, BatchNorm
        model = PatchTST(seq_len, 24, 3, d_model=16, n_heads=4, e_layers=2, d_ff=32,
                         dropout=0.0)
        marks = None
    else:  # 7 tokens (the narrow softmax) in heads of 32 dims
        model = ITransformer(seq_len, 24, 3, 4, d_model=64, n_heads=2, e_layers=2, d_ff=64,
                             dropout=0.0)
        marks = torch.randn(8, seq_len, 4)
    assert any(isinstance(m, Linear) for m in model.modules())
    x = torch.randn(8, seq_len, 3)
    model.train()  # BatchNorm on batch statistics; dropout 0 keeps both paths comparable
    fast_out, fast_grads = outputs_and_grads(model, x, marks)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    out, grads = outputs_and_grads(model, x, marks)
    torch.testing.assert_close(fast_out, out, rtol=1e-4, atol=1e-5)
    for fast, plain in zip(fast_grads, grads, strict=True):
        torch.testing.assert_close(fast, plain, rtol=1e-3, atol=1e-5)
