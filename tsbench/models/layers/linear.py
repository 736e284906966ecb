"""A linear layer whose float32 CPU matrix products run on oneDNN."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from tsbench.models.layers import kernels


def _onednn_linear() -> Any:
    """oneDNN's dense ``x @ w.T + b`` (the op torch.compile emits for CPU linears), or None."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        return torch.ops.mkldnn._linear_pointwise
    except (AttributeError, RuntimeError):
        return None


_LINEAR = _onednn_linear()


def _matmul_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T`` on oneDNN, for 2-d ``a`` and ``b`` of any strides."""
    return _LINEAR(a, b, None, "none", [], "")


class OneDNNLinear(torch.autograd.Function):
    """``x @ weight.T + bias`` with all three products of training on oneDNN."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
                ) -> torch.Tensor:
        # contiguous: for one series of one window reshape keeps a view, and PatchTST's
        # overlapping patches (stride < patch_len) then have strides oneDNN cannot describe
        # (a last batch of one window crashed training); otherwise it is a no-op here
        rows = x.reshape(-1, x.shape[-1]).contiguous()
        ctx.save_for_backward(rows, weight)
        ctx.x_shape, ctx.has_bias = x.shape, bias is not None
        out = _LINEAR(rows, weight, bias, "none", [], "")
        return out.view(*x.shape[:-1], weight.shape[0])

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        rows, weight = ctx.saved_tensors
        grad = grad.reshape(-1, weight.shape[0])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = _matmul_t(grad, weight.t()).view(ctx.x_shape)
        if ctx.needs_input_grad[1]:
            # grad.T @ rows. For long, narrow inputs (PatchTST/42: 37,632 rows of 16 in, 128
            # out) oneDNN is faster at (rows.T @ grad).T, a strided result.
            out_features, in_features = weight.shape
            if out_features > in_features and rows.shape[0] >= 16 * out_features:
                grad_w = _matmul_t(rows.t(), grad.t()).t()
            else:
                grad_w = _matmul_t(grad.t(), rows.t())
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(0)
        return grad_x, grad_w, grad_b


def _matches_stock() -> bool:
    """The one-time check of :mod:`~tsbench.models.layers.kernels`: outputs and gradients of
    :class:`OneDNNLinear` equal ``F.linear``'s on a small input."""
    with torch.inference_mode(False), torch.enable_grad():
        gen = torch.Generator().manual_seed(0)
        args = [torch.randn(shape, generator=gen, requires_grad=True)
                for shape in ((6, 5), (4, 5), (4,))]
        fast = OneDNNLinear.apply(*args)
        fast_grads = torch.autograd.grad(fast.square().sum(), args)
        stock = F.linear(*args)
        stock_grads = torch.autograd.grad(stock.square().sum(), args)
    return all(torch.allclose(a, b, rtol=1e-4, atol=1e-5)
               for a, b in zip((fast, *fast_grads), (stock, *stock_grads), strict=True))


class Linear(nn.Linear):
    """:class:`torch.nn.Linear` (same parameters, initialisation and state dict) whose
    float32 CPU products run on oneDNN instead of PyTorch's BLAS (MKL).

    MKL takes its AVX2 kernels on AMD CPUs, oneDNN its AVX-512 ones: faster on AMD, as fast on
    Intel (``benchmarks/step_variants.py`` measures it). Other devices, dtypes, autocast and
    ``torch.compile`` (whose CPU linears are these very oneDNN calls) use
    :func:`torch.nn.functional.linear`, as does ``trainer.fast_kernels=false`` (see
    :mod:`~tsbench.models.layers.kernels`).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            _LINEAR is None
            or x.device.type != "cpu"
            or x.dtype != torch.float32
            or self.weight.dtype != torch.float32
            or torch.is_autocast_enabled("cpu")
            or torch.compiler.is_compiling()
            or not kernels.usable("oneDNN linear", _matches_stock)
        ):
            return F.linear(x, self.weight, self.bias)
        return OneDNNLinear.apply(x, self.weight, self.bias)
