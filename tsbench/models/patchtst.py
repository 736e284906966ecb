"""PatchTST (Nie et al., ICLR 2023), supervised and channel-independent."""

from __future__ import annotations

import torch
from torch import nn

from tsbench.models.base import ForecastModel, check, check_dropout
from tsbench.models.layers.attention import EncoderLayer, Norm
from tsbench.models.layers.dropout import Dropout
from tsbench.models.layers.linear import Linear
from tsbench.models.layers.revin import RevIN


class PatchTST(ForecastModel):
    """Patches of each channel, embedded and encoded by a Transformer, then a flatten head.

    Follows the official ``PatchTST_backbone`` (padding_patch='end', learnable positional
    encoding initialised uniform(-0.02, 0.02), post-norm encoder layers, residual attention,
    flatten head shared by all channels). Channels are folded into the batch.
    """

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        n_vars: int,
        patch_len: int = 16,
        stride: int = 8,
        d_model: int = 16,
        n_heads: int = 4,
        e_layers: int = 3,
        d_ff: int = 128,
        dropout: float = 0.3,
        attn_dropout: float = 0.0,
        head_dropout: float = 0.0,
        norm: Norm = "batch",
        res_attention: bool = True,
        revin: bool = True,
        affine: bool = False,
        subtract_last: bool = False,
    ) -> None:
        super().__init__(seq_len, pred_len, n_vars)
        check(patch_len >= 1, "model.patch_len", f"must be >= 1, got {patch_len}")
        check(
            patch_len <= seq_len,
            "model.patch_len",
            f"{patch_len} is longer than seq_len ({seq_len})",
            "use patch_len <= seq_len",
        )
        check(stride >= 1, "model.stride", f"must be >= 1, got {stride}", "use stride >= 1")
        for field, value in (("d_model", d_model), ("e_layers", e_layers), ("d_ff", d_ff)):
            check(value >= 1, f"model.{field}", f"must be >= 1, got {value}")
        for field, value in (
            ("dropout", dropout),
            ("attn_dropout", attn_dropout),
            ("head_dropout", head_dropout),
        ):
            check_dropout(value, f"model.{field}")
        self.patch_len = patch_len
        self.stride = stride
        self.patch_num = (seq_len - patch_len) // stride + 2  # +1 for the end padding
        self.revin = RevIN(n_vars, affine=affine, subtract_last=subtract_last) if revin else None
        self.pad = nn.ReplicationPad1d((0, stride))
        self.embed = Linear(patch_len, d_model)
        self.pos = nn.Parameter(torch.empty(self.patch_num, d_model).uniform_(-0.02, 0.02))
        self.dropout = Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(
                d_model,
                n_heads,
                d_ff,
                dropout=dropout,
                attn_dropout=attn_dropout,
                proj_dropout=dropout,
                norm=norm,
                res_attention=res_attention,
            )
            for _ in range(e_layers)
        )
        self.head = nn.Sequential(
            nn.Flatten(start_dim=-2),
            Linear(d_model * self.patch_num, pred_len),
            Dropout(head_dropout),
        )

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        """Map ``x`` of shape ``(batch, seq_len, n_vars)`` to ``(batch, pred_len, n_vars)``."""
        batch, _, n_vars = x.shape
        if self.revin is not None:
            x = self.revin.normalize(x)
        z = self.pad(x.transpose(1, 2))  # (batch, n_vars, seq_len + stride)
        z = z.unfold(-1, self.patch_len, self.stride)  # (batch, n_vars, patch_num, patch_len)
        z = self.embed(z.reshape(batch * n_vars, self.patch_num, self.patch_len))
        z = self.dropout(z + self.pos)
        scores = None
        for layer in self.layers:
            z, scores = layer(z, scores)
        # Flatten as (d_model, patch_num) like the official head, so weights line up with it.
        z = self.head(z.transpose(1, 2)).view(batch, n_vars, self.pred_len).transpose(1, 2)
        if self.revin is not None:
            z = self.revin.denormalize(z)
        return z
