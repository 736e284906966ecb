"""iTransformer (Liu et al., ICLR 2024): attention across variates, one token per series."""

from __future__ import annotations

import torch
from torch import nn

from tsbench.models.base import ForecastModel, check, check_dropout
from tsbench.models.layers.attention import Activation, EncoderLayer
from tsbench.models.layers.dropout import Dropout
from tsbench.models.layers.linear import Linear
from tsbench.models.layers.revin import RevIN


class ITransformer(ForecastModel):
    """Each variate's whole look-back is one token; calendar features are extra tokens.

    Follows the official model: ``Linear(seq_len, d_model)`` token embedding shared by
    variates and time features, post-norm encoder layers with full attention (attention
    dropout = ``dropout``), a final LayerNorm and a ``Linear(d_model, pred_len)`` projector
    whose time-feature outputs are dropped. ``revin`` is the official ``use_norm`` switch
    (per-window mean/std normalization without affine parameters).
    """

    uses_time_features = True

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        n_vars: int,
        n_marks: int,
        d_model: int = 256,
        n_heads: int = 8,
        e_layers: int = 2,
        d_ff: int = 256,
        dropout: float = 0.1,
        activation: Activation = "gelu",
        use_time_features: bool = True,
        revin: bool = True,
    ) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        check(n_marks >= 0, "n_marks", f"must be >= 0, got {n_marks}")
        for field, value in (("d_model", d_model), ("e_layers", e_layers), ("d_ff", d_ff)):
            check(value >= 1, f"model.{field}", f"must be >= 1, got {value}")
        check_dropout(dropout, "model.dropout")
        self.uses_time_features = use_time_features
        self.n_marks = n_marks
        self.revin = RevIN(n_vars) if revin else None
        self.embed = Linear(seq_len, d_model)
        self.dropout = Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(
                d_model,
                n_heads,
                d_ff,
                dropout=dropout,
                attn_dropout=dropout,
                proj_dropout=0.0,
                norm="layer",
                activation=activation,
            )
            for _ in range(e_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.projector = Linear(d_model, pred_len)

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        """Map ``x`` (and ``x_mark`` of shape ``(batch, seq_len, n_marks)``) to the forecast."""
        n_vars = x.shape[-1]
        if self.uses_time_features and self.n_marks and x_mark is None:
            raise ValueError(
                f"this iTransformer reads {self.n_marks} calendar features as tokens: pass "
                "x_mark (batch, seq_len, n_marks), the look-back's features (a loaded run's "
                "data gives them), or build it with use_time_features=False")
        if self.revin is not None:
            x = self.revin.normalize(x)
        tokens = x.transpose(1, 2)  # (batch, n_vars, seq_len)
        if self.uses_time_features and x_mark is not None:
            tokens = torch.cat([tokens, x_mark.transpose(1, 2).to(tokens.dtype)], dim=1)
        z = self.dropout(self.embed(tokens))
        for i, layer in enumerate(self.layers):
            # The calendar tokens' outputs of the last layer are dropped: not computed.
            z, _ = layer(z, queries=n_vars if i == len(self.layers) - 1 else None)
        z = self.projector(self.norm(z)).transpose(1, 2)
        if self.revin is not None:
            z = self.revin.denormalize(z)
        return z
