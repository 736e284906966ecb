"""From a loaded series and row ranges to scaled tensors, windows and loaders."""

from __future__ import annotations

import numpy as np
import torch

from tsbench.data.loading import Series, check_features
from tsbench.data.scaling import StandardScaler
from tsbench.data.splits import check_split_length
from tsbench.data.windows import WindowLoader, Windows


class ForecastData:
    """Scaled splits of one series.

    ``ranges`` maps split names (``train``, ``val``, ``test``; a CV fold may have only
    ``train`` and ``val``) to half-open row ranges; the scaler is fitted on
    ``ranges["train"]`` only, or on ``scaler_rows`` (a refit on train+val rows keeps the
    published training rows' scaler, so that its scores are on the published scale).
    ``features``: M = all channels in and out, S = the target alone, MS = all channels in,
    the target (last channel) scored. ``drop_last`` drops the
    last partial training batch of each epoch (as the official PatchTST, iTransformer and
    LTSF-Linear loaders do); validation and test always score every window.

    ``train_pred_len`` (default ``pred_len``) is the horizon of the training windows: a
    recursive strategy trains a model on ``step``-ahead targets, over every window of that
    horizon, and scores its rolled-out forecast on ``pred_len`` windows. ``horizon_marks``
    gives the scored splits' windows the calendar features of their look-back *and* horizon
    rows (``(batch, seq_len + pred_len, n_marks)``), which a rolled-out model needs.
    """

    def __init__(
        self,
        series: Series,
        ranges: dict[str, tuple[int, int]],
        seq_len: int,
        pred_len: int,
        features: str = "M",
        batch_size: int = 32,
        eval_batch_size: int = 256,
        seed: int = 0,
        with_marks: bool = False,
        pin_memory: bool = False,
        drop_last: bool = False,
        train_pred_len: int | None = None,
        horizon_marks: bool = False,
        scaler_rows: tuple[int, int] | None = None,
    ) -> None:
        check_features(features)
        horizons = {split: pred_len for split in ranges}
        if train_pred_len is not None:
            horizons["train"] = train_pred_len
        for split, (start, end) in ranges.items():
            check_split_length(split, start, end, seq_len, horizons[split])
        self.series = series
        self.ranges = dict(ranges)
        self.seq_len, self.pred_len = seq_len, pred_len
        self.features = features
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.seed = seed
        self.drop_last = drop_last
        raw = series.values[:, -1:] if features == "S" else series.values
        self.scaler = StandardScaler().fit(raw, scaler_rows or self.ranges["train"])
        scaled = torch.from_numpy(self.scaler.transform(raw))
        #: The whole scaled series (the splits' windows are views of its rows).
        self.scaled = scaled
        marks = torch.from_numpy(series.time_features()) if with_marks else None
        self._windows = {
            split: Windows(
                scaled[start:end], None if marks is None else marks[start:end], seq_len,
                horizons[split], pin_memory=pin_memory,
                horizon_marks=horizon_marks and split != "train",
            )
            for split, (start, end) in self.ranges.items()
        }
        self.n_vars = raw.shape[1]
        self.n_marks = 0 if marks is None else marks.shape[1]
        #: channels that are scored (and trained on): all, or the target for MS.
        self.target_dims = slice(-1, None) if features == "MS" else slice(None)
        #: how many channels are scored: those a classical model fits and forecasts.
        self.n_scored = len(range(self.n_vars)[self.target_dims])

    def windows(self, split: str) -> Windows:
        return self._windows[split]

    def loader(self, split: str) -> WindowLoader:
        """Every window of ``split`` in order, in batches of ``eval_batch_size``."""
        return WindowLoader(self._windows[split], self.eval_batch_size)

    def train_dataloader(self) -> WindowLoader:
        return WindowLoader(self._windows["train"], self.batch_size, shuffle=True,
                            seed=self.seed, drop_last=self.drop_last)

    def val_dataloader(self) -> WindowLoader:
        return self.loader("val")

    def scored_rows(self, start: int, end: int) -> np.ndarray:
        """Rows ``[start, end)`` of the scaled scored channels, as float64: what a classical
        model fits and filters (each channel's model reads that channel alone)."""
        return self.scaled[start:end, self.target_dims].double().numpy()

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled values of the scored channels back to original units."""
        return self.scaler.inverse_transform(scaled, self.target_dims)
