"""Multi-head self-attention and the post-norm Transformer encoder layer it sits in."""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from tsbench.models.base import check
from tsbench.models.layers import kernels
from tsbench.models.layers.dropout import Dropout, dropout_noise
from tsbench.models.layers.linear import Linear

Norm = Literal["batch", "layer"]
Activation = Literal["gelu", "relu"]


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention with scale ``head_dim ** -0.5`` and biased projections.

    With ``res_attention`` (RealFormer-style, as in PatchTST) the pre-softmax scores of the
    previous layer are added to this layer's scores and the new scores are returned for the
    next layer; otherwise no scores are returned. The core is :class:`Attention` on the CPU
    and for residual attention; plain attention on other devices, and everything under
    ``torch.compile``, autocast or ``trainer.fast_kernels=false``, runs through composed ops
    and :func:`torch.nn.functional.scaled_dot_product_attention`.
    ``attn_dropout`` drops attention weights; ``proj_dropout`` follows the output projection.
    The q/k/v projections are fused into one ``Linear(d_model, 3 * d_model)``: the same
    parameters and initialisation distribution as three separate ones.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        attn_dropout: float = 0.0,
        proj_dropout: float = 0.0,
        res_attention: bool = False,
    ) -> None:
        super().__init__()
        check(n_heads >= 1, "model.n_heads", f"must be >= 1, got {n_heads}")
        check(
            d_model % n_heads == 0,
            "model.d_model",
            f"must be divisible by n_heads ({n_heads}), got {d_model}",
            "pick d_model as a multiple of model.n_heads",
        )
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.scale = self.head_dim**-0.5
        self.attn_dropout = attn_dropout
        self.res_attention = res_attention
        self.qkv = Linear(d_model, 3 * d_model)
        self.out = Linear(d_model, d_model)
        self.proj_dropout = Dropout(proj_dropout)

    def forward(
        self, x: torch.Tensor, prev_scores: torch.Tensor | None = None,
        queries: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend over ``x`` of shape ``(batch, tokens, d_model)``; with ``queries``, only
        the first ``queries`` tokens attend (all tokens are keys and values).

        Returns the output, ``(batch, queries, d_model)``, and with residual attention the
        pre-softmax scores of shape ``(batch, n_heads, queries, tokens)`` (``None`` otherwise).
        """
        batch, tokens, d_model = x.shape
        n_q = tokens if queries is None else queries
        qkv = self.qkv(x).view(batch, tokens, 3, self.n_heads, self.head_dim)
        dropout_p = self.attn_dropout if self.training else 0.0
        scores = None
        device = x.device.type
        if composed_ops(device, self.res_attention, torch.compiler.is_compiling(),
                        torch.is_autocast_enabled(device), kernels.enabled()):
            # Composed ops: fused by torch.compile, autocast, flash kernels on GPUs.
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (batch, heads, tokens, dim)
            q = q[:, :, :n_q]
            if self.res_attention:
                scores = torch.matmul(q, k.mT) * self.scale
                if prev_scores is not None:
                    scores = scores + prev_scores
                out = torch.matmul(F.dropout(scores.softmax(-1), dropout_p, self.training), v)
            else:
                out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p,
                                                     scale=self.scale)
        else:
            # One copy into (3, batch * heads, tokens, head_dim): contiguous q, k, v.
            packed = qkv.permute(2, 0, 3, 1, 4).reshape(3, -1, tokens, self.head_dim)
            prev = None if prev_scores is None else prev_scores.reshape(-1, n_q, tokens)
            out, all_scores = Attention.apply(packed, prev, self.scale, dropout_p, n_q)
            out = out.view(batch, self.n_heads, n_q, self.head_dim)
            if self.res_attention:
                scores = all_scores.view(batch, self.n_heads, n_q, tokens)
        out = out.transpose(1, 2).reshape(batch, n_q, d_model)
        return self.proj_dropout(self.out(out)), scores


def composed_ops(device: str, res_attention: bool, compiling: bool, autocast: bool,
                 fast_kernels: bool) -> bool:
    """Whether :class:`MultiHeadAttention` on ``device`` runs through composed ops (plain
    attention: :func:`~torch.nn.functional.scaled_dot_product_attention`) rather than
    :class:`Attention`: under ``torch.compile`` or autocast, with the fast kernels off,
    and for plain attention off the CPU."""
    return (compiling or autocast or not (res_attention or device == "cpu")
            or not fast_kernels)


#: Below this many keys PyTorch's CPU softmax kernels are slower than composed ops (their
#: vector loops are 16 floats wide).
_NARROW = 16


def _softmax(scores: torch.Tensor) -> torch.Tensor:
    if scores.shape[-1] >= _NARROW or scores.device.type != "cpu":
        return torch.softmax(scores, dim=-1)
    weights = (scores - scores.amax(dim=-1, keepdim=True)).exp_()
    return weights.div_(weights.sum(dim=-1, keepdim=True))


def _softmax_backward(grad: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The gradient of the scores from that of ``weights = softmax(scores)`` (overwrites
    ``grad`` on the composed path): PyTorch's own kernel for wide rows, checked once against
    the composed formula since it is a private API."""
    if ((weights.shape[-1] >= _NARROW or weights.device.type != "cpu")
            and kernels.usable("softmax backward", _softmax_backward_matches)):
        return torch._softmax_backward_data(grad, weights, -1, weights.dtype)
    return grad.sub_((grad * weights).sum(dim=-1, keepdim=True)).mul_(weights)


def _softmax_backward_matches() -> bool:
    """``torch._softmax_backward_data`` equals the composed formula on a small input."""
    gen = torch.Generator().manual_seed(0)
    weights = torch.randn(3, 4, 20, generator=gen).softmax(-1)
    grad = torch.randn(3, 4, 20, generator=gen)
    private = torch._softmax_backward_data(grad, weights, -1, weights.dtype)
    composed = (grad - (grad * weights).sum(dim=-1, keepdim=True)) * weights
    return torch.allclose(private, composed, rtol=1e-4, atol=1e-6)


def _bmm_t(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, alpha: float = 1.0
           ) -> torch.Tensor:
    """``out = alpha * a^T b`` for ``a`` of shape ``(n, s, t)``, ``b`` of ``(n, s, d)``.

    With fewer dims than rows (PatchTST/42: 4 vs 42) BLAS is faster at ``(b^T a)^T``;
    otherwise at ``a^T b`` directly.
    """
    if b.shape[-1] < b.shape[-2]:
        return out.copy_(torch.baddbmm(b.new_empty(()), b.mT, a, beta=0.0, alpha=alpha).mT)
    return torch.baddbmm(b.new_empty(()), a.mT, b, beta=0.0, alpha=alpha, out=out)


def _queries(qkv: torch.Tensor, queries: int) -> torch.Tensor:
    """The first ``queries`` query rows, contiguous (strided batches hit the slow bmm)."""
    return qkv[0] if queries == qkv.shape[2] else qkv[0, :, :queries].contiguous()


class Attention(torch.autograd.Function):
    """``dropout(softmax(scale * q k^T + prev), p) v`` and the pre-softmax scores, for
    ``q, k, v`` packed as ``qkv`` of shape ``(3, n, tokens, head_dim)``, the first
    ``queries`` tokens as queries, and ``prev`` of shape ``(n, queries, tokens)`` or None.

    The same math as autograd through the composed ops, made for the small heads of
    time-series models on the CPU: a hand-written backward whose batched matmuls all take
    BLAS-friendly layouts (autograd's own falls into PyTorch's per-matrix ``bmm`` loop for
    PatchTST/42's 42 tokens x 4 dims) and write into one packed gradient, a softmax that
    avoids PyTorch's slow kernel for fewer than 16 keys (iTransformer's 11 tokens), and
    the fast dropout mask. Saves the softmax output and the mask, not the scores.
    """

    @staticmethod
    def forward(ctx: Any, qkv: torch.Tensor, prev: torch.Tensor | None, scale: float,
                p: float, queries: int) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = _queries(qkv, queries), qkv[1], qkv[2]
        if prev is None:
            scores = torch.baddbmm(q.new_empty(()), q, k.mT, beta=0.0, alpha=scale)
        else:
            scores = torch.baddbmm(prev, q, k.mT, alpha=scale)
        weights = _softmax(scores)
        noise = dropout_noise(weights, p) if p > 0.0 else None
        ctx.save_for_backward(qkv, weights, noise)
        ctx.scale, ctx.queries = scale, queries
        ctx.set_materialize_grads(False)
        return torch.bmm(weights if noise is None else weights * noise, v), scores

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor | None, grad_scores: torch.Tensor | None
                 ) -> tuple[torch.Tensor | None, ...]:
        qkv, weights, noise = ctx.saved_tensors
        queries = ctx.queries
        q, k, v = _queries(qkv, queries), qkv[1], qkv[2]
        grad = torch.empty_like(qkv)
        grad_s = grad_scores
        if grad_out is None:
            grad[2].zero_()
        else:
            grad_out = grad_out.contiguous()
            dropped = weights if noise is None else weights * noise
            _bmm_t(dropped, grad_out, out=grad[2])
            grad_w = torch.baddbmm(weights.new_empty(()), grad_out, v.mT, beta=0.0)
            if noise is not None:
                grad_w.mul_(noise)
            grad_s = _softmax_backward(grad_w, weights)
            if grad_scores is not None:
                grad_s += grad_scores
        if grad_s is None:
            return None, None, None, None, None
        grad_q = torch.baddbmm(q.new_empty(()), grad_s, k, beta=0.0, alpha=ctx.scale,
                               out=grad[0] if queries == qkv.shape[2] else None)
        if queries < qkv.shape[2]:  # non-query tokens get no gradient through q
            grad[0, :, :queries] = grad_q
            grad[0, :, queries:] = 0.0
        _bmm_t(grad_s, q, out=grad[1], alpha=ctx.scale)
        return grad, grad_s if ctx.needs_input_grad[1] else None, None, None, None


class _BatchNormTokens(nn.BatchNorm1d):
    """BatchNorm1d over the feature axis of ``(batch, tokens, d_model)`` inputs.

    Statistics pool batch and tokens, exactly as ``Transpose -> BatchNorm1d -> Transpose``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).view_as(x)


class EncoderLayer(nn.Module):
    """Post-norm Transformer encoder layer, as PatchTST's and iTransformer's official ones.

    ``x = norm1(x + dropout(attn(x)))``; ``x = norm2(x + dropout(W2 dropout(act(W1 x))))``.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float,
        attn_dropout: float,
        proj_dropout: float,
        norm: Norm = "layer",
        activation: Activation = "gelu",
        res_attention: bool = False,
    ) -> None:
        super().__init__()
        check(
            norm in ("batch", "layer"), "model.norm", f"unknown norm {norm!r}", "use batch or layer"
        )
        check(
            activation in ("gelu", "relu"),
            "model.activation",
            f"unknown activation {activation!r}",
            "use gelu or relu",
        )
        self.attn = MultiHeadAttention(d_model, n_heads, attn_dropout, proj_dropout, res_attention)
        self.dropout = Dropout(dropout)
        self.ff = nn.Sequential(
            Linear(d_model, d_ff),
            nn.GELU() if activation == "gelu" else nn.ReLU(),
            Dropout(dropout),
            Linear(d_ff, d_model),
        )
        norm_cls = _BatchNormTokens if norm == "batch" else nn.LayerNorm
        self.norm1 = norm_cls(d_model)
        self.norm2 = norm_cls(d_model)

    def forward(
        self, x: torch.Tensor, prev_scores: torch.Tensor | None = None,
        queries: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode ``(batch, tokens, d_model)``; pass scores on for residual attention.

        With ``queries``, only the first ``queries`` tokens are encoded (all still serve as
        keys and values): the rest of a last layer's output, if unused, need not be
        computed. Layer norm only: batch norm would pool over the tokens left out.
        """
        if queries is not None and isinstance(self.norm1, _BatchNormTokens):
            raise ValueError("queries needs layer norm: batch norm pools over all tokens")
        attn_out, scores = self.attn(x, prev_scores, queries)
        x = x if queries is None else x[:, :queries]
        x = self.norm1(self.dropout.residual(x, attn_out))
        x = self.norm2(self.dropout.residual(x, self.ff(x)))
        return x, scores
