"""Multi-head self-attention and the post-norm Transformer encoder layer it sits in."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from tsbench.models.base import check

Norm = Literal["batch", "layer"]
Activation = Literal["gelu", "relu"]


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention with scale ``head_dim ** -0.5`` and biased projections.

    With ``res_attention`` (RealFormer-style, as in PatchTST) the pre-softmax scores of the
    previous layer are added to this layer's scores and the new scores are returned for the
    next layer; that path computes the scores explicitly. Otherwise attention runs through
    :func:`torch.nn.functional.scaled_dot_product_attention` and no scores are returned.
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
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.proj_dropout = nn.Dropout(proj_dropout)

    def forward(
        self, x: torch.Tensor, prev_scores: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend over ``x`` of shape ``(batch, tokens, d_model)``.

        Returns the output and, with residual attention, the pre-softmax scores of shape
        ``(batch, n_heads, tokens, tokens)`` (``None`` otherwise).
        """
        batch, tokens, d_model = x.shape
        qkv = self.qkv(x).view(batch, tokens, 3, self.n_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (batch, heads, tokens, head_dim)
        dropout_p = self.attn_dropout if self.training else 0.0
        scores = None
        if self.res_attention:
            scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
            if prev_scores is not None:
                scores = scores + prev_scores
            weights = F.dropout(torch.softmax(scores, dim=-1), dropout_p, self.training)
            out = torch.matmul(weights, v)
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, scale=self.scale)
        out = out.transpose(1, 2).reshape(batch, tokens, d_model)
        return self.proj_dropout(self.out(out)), scores


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
        self.dropout = nn.Dropout(dropout)
        self.ff = nn.Sequential(
            nn.Linear(d_model, d_ff),
            nn.GELU() if activation == "gelu" else nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(d_ff, d_model),
        )
        norm_cls = _BatchNormTokens if norm == "batch" else nn.LayerNorm
        self.norm1 = norm_cls(d_model)
        self.norm2 = norm_cls(d_model)

    def forward(
        self, x: torch.Tensor, prev_scores: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode ``(batch, tokens, d_model)``; pass scores on for residual attention."""
        attn_out, scores = self.attn(x, prev_scores)
        x = self.norm1(x + self.dropout(attn_out))
        x = self.norm2(x + self.dropout(self.ff(x)))
        return x, scores
