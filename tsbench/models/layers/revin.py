"""Reversible instance normalization (RevIN, Kim et al., ICLR 2022)."""

from __future__ import annotations

import torch
from torch import nn


class RevIN(nn.Module):
    """Normalize each series of a window by its own look-back statistics, and undo it.

    Inputs are ``(batch, time, n_vars)``; statistics run over ``time`` (dim 1), use the
    biased variance and are detached, as in the official RevIN/PatchTST/iTransformer code.
    ``eps`` inside the square root keeps constant series finite. ``affine`` adds a learnable
    per-channel scale and shift; ``subtract_last`` centres on the last value instead of the mean.
    :meth:`normalize` stores the statistics that the next :meth:`denormalize` call uses.
    """

    def __init__(
        self, n_vars: int, eps: float = 1e-5, affine: bool = False, subtract_last: bool = False
    ) -> None:
        super().__init__()
        self.eps = eps
        self.affine = affine
        self.subtract_last = subtract_last
        if affine:
            self.weight = nn.Parameter(torch.ones(n_vars))
            self.bias = nn.Parameter(torch.zeros(n_vars))
        self._center: torch.Tensor | None = None
        self._scale: torch.Tensor | None = None

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` of shape ``(batch, seq_len, n_vars)`` and remember its statistics."""
        x_detached = x.detach()
        mean = x_detached.mean(dim=1, keepdim=True)
        # Two passes (mean, then mean squared deviation): faster on the CPU than
        # torch.var's kernel over a middle dimension, and as exact.
        var = (x_detached - mean).square_().mean(dim=1, keepdim=True)
        self._center = x_detached[:, -1:, :] if self.subtract_last else mean
        self._scale = torch.sqrt(var + self.eps)
        x = (x - self._center) / self._scale
        if self.affine:
            x = x * self.weight + self.bias
        return x

    def denormalize(self, y: torch.Tensor) -> torch.Tensor:
        """Map ``y`` of shape ``(batch, pred_len, n_vars)`` back with the stored statistics."""
        if self._center is None or self._scale is None:
            raise RuntimeError("RevIN.denormalize called before normalize")
        if self.affine:
            y = (y - self.bias) / (self.weight + self.eps * self.eps)
        return y * self._scale + self._center
