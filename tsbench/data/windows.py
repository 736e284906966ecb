"""Sliding windows as index gathers over one contiguous tensor per split."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]


class Windows:
    """All stride-1 windows of one split: input rows ``[i, i+L)``, target rows
    ``[i+L, i+L+H)``. A batch of windows is one gather of precomputed row offsets; with
    ``pin_memory`` it gathers into page-locked memory, so that the copy to a GPU can be
    asynchronous (Lightning copies batches with ``non_blocking=True``); without CUDA,
    ``pin_memory`` is ignored, as by torch's DataLoader. With ``horizon_marks`` the marks
    cover the input and target rows ``[i, i+L+H)``."""

    def __init__(
        self, values: torch.Tensor, marks: torch.Tensor | None, seq_len: int, pred_len: int,
        pin_memory: bool = False, horizon_marks: bool = False,
    ) -> None:
        self.values = values.contiguous()
        self.marks = None if marks is None else marks.contiguous()
        self.seq_len = seq_len
        self.pred_len = pred_len
        self.pin_memory = pin_memory and torch.cuda.is_available()
        self._x_offsets = torch.arange(seq_len)
        self._y_offsets = torch.arange(seq_len, seq_len + pred_len)
        self._mark_offsets = torch.arange(seq_len + pred_len if horizon_marks else seq_len)

    def __len__(self) -> int:
        return max(0, self.values.shape[0] - self.seq_len - self.pred_len + 1)

    def batch(self, starts: torch.Tensor) -> Batch:
        """Inputs ``(B, L, C)``, targets ``(B, H, C)`` and marks ``(B, L, M)`` (``(B, L+H, M)``
        with ``horizon_marks``) or None."""
        x_rows = starts[:, None] + self._x_offsets
        y_rows = starts[:, None] + self._y_offsets
        x_mark = (None if self.marks is None
                  else self._gather(self.marks, starts[:, None] + self._mark_offsets))
        return self._gather(self.values, x_rows), self._gather(self.values, y_rows), x_mark

    def _gather(self, source: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """``source[rows]``, by ``index_select`` (faster on CPU than advanced indexing)."""
        out = torch.empty((rows.numel(), source.shape[1]), dtype=source.dtype,
                          pin_memory=self.pin_memory)
        torch.index_select(source, 0, rows.reshape(-1), out=out)
        return out.view(*rows.shape, source.shape[1])


def drops_last(n_windows: int, batch_size: int, drop_last: bool) -> bool:
    """Whether a training loader of ``n_windows`` windows drops its last partial batch:
    asked to (``drop_last``), and holding a whole batch (it never leaves zero batches)."""
    return drop_last and n_windows >= batch_size


class WindowLoader:
    """Batches of windows; shuffling is a seeded permutation of window indices.

    Each pass draws a new permutation from its own generator, so the order depends only
    on ``seed`` and the pass number. The last partial batch is kept (every window counts)
    unless ``drop_last``, which only training loaders may set.
    """

    def __init__(
        self, windows: Windows, batch_size: int, shuffle: bool = False, seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        self.windows = windows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drops_last(len(windows), batch_size, drop_last)
        self._generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.windows)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.windows)
        order = torch.randperm(n, generator=self._generator) if self.shuffle else torch.arange(n)
        for chunk in order.split(self.batch_size)[: len(self)]:
            yield self.windows.batch(chunk)
