"""How often the report's paired test rejects a true null (size) and a false one (power),
on simulated per-window MSE of overlapping windows, against two tests that assume
independent windows or a Newey-West variance with normal critical values.

Two forecasters' per-step errors are independent AR(1) series (coefficient ``phi``) over
the rows of a test split; each window's MSE is the mean squared error of ``pred_len``
consecutive steps, windows start one step apart (as tsbench scores them). Under the null
both error series have unit innovations; under the alternative forecaster A's innovations
are scaled by ``--effect`` (e.g. 0.95: 10 % lower MSE). Window counts are ETTh1's at
96/192/336/720 and ILI's at 24.

    python benchmarks/dm_size.py --reps 500            # the table in dm_size.md
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy import signal, stats

from tsbench.report.stats import diebold_mariano

SETTINGS = [("ETTh1", 96, 2785), ("ETTh1", 192, 2689), ("ETTh1", 336, 2545),
            ("ETTh1", 720, 2161), ("ILI", 24, 170)]


def window_mse(errors: np.ndarray, pred_len: int) -> np.ndarray:
    return np.convolve(errors ** 2, np.ones(pred_len) / pred_len, mode="valid")


def newey_west_normal(d: np.ndarray, lags: int) -> float:
    """Two-sided p of the DM statistic with a Bartlett (Newey-West) variance, ``lags``
    lags, and standard normal critical values."""
    n = d.size
    centered = d - d.mean()
    gamma = np.array([centered[k:] @ centered[:n - k] / n for k in range(lags + 1)])
    weights = 1 - np.arange(1, lags + 1) / (lags + 1)
    variance = gamma[0] + 2 * weights @ gamma[1:]
    return float(2 * stats.norm.sf(abs(d.mean()) / math.sqrt(variance / n)))


def rejection_rates(pred_len: int, n: int, phi: float, effect: float, reps: int,
                    alpha: float, rng: np.random.Generator) -> dict[str, float]:
    rows = n + pred_len - 1
    hits = {"tsbench DM (Daniell, t(2m))": 0, "Wilcoxon signed-rank": 0,
            "DM Newey-West, normal": 0}
    for _ in range(reps):
        a, b = (signal.lfilter([1.0], [1.0, -phi], rng.standard_normal(rows + 200))[200:]
                for _ in range(2))
        loss_a, loss_b = window_mse(effect * a, pred_len), window_mse(b, pred_len)
        p_values = (diebold_mariano(loss_a, loss_b, pred_len).p_value,
                    stats.wilcoxon(loss_a, loss_b).pvalue,
                    newey_west_normal(loss_a - loss_b, pred_len - 1))
        for name, p in zip(hits, p_values, strict=True):
            hits[name] += p < alpha
    return {name: count / reps for name, count in hits.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--effect", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"rejection rates at alpha={args.alpha}, {args.reps} replications, "
          f"effect={args.effect} (A's MSE x {args.effect ** 2:.4f}), seed {args.seed}")
    names = None
    for dataset, pred_len, n in SETTINGS:
        for phi in (0.0, 0.9):
            for what, effect in (("size", 1.0), ("power", args.effect)):
                rates = rejection_rates(pred_len, n, phi, effect, args.reps, args.alpha, rng)
                if names is None:
                    names = list(rates)
                    print("| dataset | pred_len | windows | phi | | " + " | ".join(names) + " |")
                    print("|---|---:|---:|---:|---|" + "---:|" * len(names))
                print(f"| {dataset} | {pred_len} | {n} | {phi} | {what} | "
                      + " | ".join(f"{rates[k]:.3f}" for k in names) + " |", flush=True)


if __name__ == "__main__":
    main()
