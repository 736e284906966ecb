"""Greedy ensemble selection on validation errors (tsbench-tune stage f)."""

from __future__ import annotations

import numpy as np
import torch

from tsbench.models.base import ForecastModel
from tsbench.tune.ensemble import Ensemble, greedy_weights


def _gram(errors: np.ndarray) -> np.ndarray:
    return errors @ errors.T / errors.shape[1]


def test_gram_gives_the_mse_of_any_weighted_mean() -> None:
    rng = np.random.default_rng(0)
    truth = rng.standard_normal(500)
    preds = truth + rng.standard_normal((3, 500)) * np.array([[0.5], [1.0], [2.0]])
    weights = np.array([0.5, 0.3, 0.2])
    mse = np.mean((weights @ preds - truth) ** 2)
    assert np.isclose(weights @ _gram(preds - truth) @ weights, mse)


def test_greedy_mixes_complementary_members_and_skips_bad_ones() -> None:
    rng = np.random.default_rng(1)
    shared = rng.standard_normal(1000)
    errors = np.stack([shared + 0.1 * rng.standard_normal(1000),   # errors cancel with
                       -shared + 0.1 * rng.standard_normal(1000),  # this member's
                       3.0 + rng.standard_normal(1000)])           # biased, noisy: never
    counts = greedy_weights(_gram(errors))
    assert counts[0] >= 1 and counts[1] >= 1 and counts[2] == 0
    gram = _gram(errors)
    w = np.array(counts) / sum(counts)
    assert w @ gram @ w < 0.1 * gram.diagonal().min()


def test_greedy_keeps_the_best_alone_when_nothing_helps() -> None:
    same = np.random.default_rng(2).standard_normal(200)
    errors = np.stack([same, 1.5 * same, 2.0 * same])  # perfectly correlated, larger
    assert greedy_weights(_gram(errors)) == [1, 0, 0]


class _LastValue(ForecastModel):
    """Forecasts the last value of its look-back window, whatever the window's length."""

    def forward(self, x: torch.Tensor, x_mark: torch.Tensor | None = None) -> torch.Tensor:
        assert x.shape[1] == self.seq_len  # the window it was trained on, no longer
        return x[:, -1:].expand(-1, self.pred_len, -1)


def test_members_of_different_look_backs_each_read_their_last_rows() -> None:
    ensemble = Ensemble([_LastValue(4, 3, 1), _LastValue(8, 3, 1)], weights=[1, 3])
    x = torch.arange(8.0).reshape(1, 8, 1)  # the longest look-back's window
    members = ensemble.member_forecasts(x)
    assert members.shape == (2, 1, 3, 1) and torch.equal(members, torch.full_like(members, 7.0))
    assert torch.equal(ensemble(x), torch.full((1, 3, 1), 7.0))
