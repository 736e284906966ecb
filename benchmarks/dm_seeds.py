"""How often the report's paired test calls two equally good *training procedures*
different when each cell holds a few seeds: the windows' variance alone (tsbench's test
before the seeds joined it) against the windows' variance plus each cell's spread over its seeds
(:func:`tsbench.report.stats.with_seed_variance`).

Every seed of both procedures forecasts the same test split, so the per-step errors share
a component (an AR(1) series with coefficient 0.9: hard stretches are hard for every
model); each seed adds its own AR(1) component (scale 0.5) and trains better or worse as
a whole: its errors are scaled by ``1 + delta``, ``delta ~ N(0, sigma)`` (sigma 0.01: the
seed's MSE spread is about 2 % of the MSE; in ``benchmarks/reproduction.md`` the seeds'
std is 0.2-8 % of the test MSE on ETTh1). Under the null both procedures draw their
seeds alike; for power, procedure A's errors are scaled by ``--effect``. Windows start
one step apart and a window's loss is the MSE of ``pred_len`` steps, as tsbench scores
them (window counts: ETTh1-96, ILI-24).

    python benchmarks/dm_seeds.py --reps 400          # the table in dm_seeds.md
"""

from __future__ import annotations

import argparse

import numpy as np
from dm_size import window_mse  # this folder (the script runs as benchmarks/dm_seeds.py)
from scipy import signal

from tsbench.report.stats import diebold_mariano, with_seed_variance

SETTINGS = [("ETTh1", 96, 2785), ("ILI", 24, 170)]


def ar1(rng: np.random.Generator, phi: float, rows: int) -> np.ndarray:
    return signal.lfilter([1.0], [1.0, -phi], rng.standard_normal(rows + 200))[200:]


def cell(shared: np.ndarray, seeds: int, sigma: float, scale: float, pred_len: int,
         rng: np.random.Generator) -> np.ndarray:
    """Per-window losses of one procedure, one row per seed."""
    return np.stack([
        window_mse(scale * (1 + sigma * rng.standard_normal())
                   * (shared + 0.5 * ar1(rng, 0.9, shared.size)), pred_len)
        for _ in range(seeds)])


def rejection_rates(pred_len: int, n: int, seeds: int, sigma: float, effect: float,
                    reps: int, alpha: float, rng: np.random.Generator) -> tuple[float, float]:
    """Share of replications with p < alpha: windows only, and with the seeds' spread."""
    hits = np.zeros(2)
    for _ in range(reps):
        shared = ar1(rng, 0.9, n + pred_len - 1)
        a = cell(shared, seeds, sigma, effect, pred_len, rng)
        b = cell(shared, seeds, sigma, 1.0, pred_len, rng)
        windows = diebold_mariano(a.mean(axis=0), b.mean(axis=0), pred_len)
        both = with_seed_variance(windows, a, b, pred_len)
        hits += [windows.p_value < alpha, both.p_value < alpha]
    return float(hits[0] / reps), float(hits[1] / reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per cell")
    parser.add_argument("--effect", type=float, default=0.97)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"rejection rates at alpha={args.alpha}, {args.reps} replications, {args.seeds} "
          f"seeds per cell, effect={args.effect} (A's MSE x {args.effect ** 2:.4f}), "
          f"seed {args.seed}")
    print("| dataset | pred_len | windows | sigma | | windows only | windows + seeds |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for dataset, pred_len, n in SETTINGS:
        for sigma in (0.0, 0.005, 0.02, 0.04):
            for what, effect in (("size", 1.0), ("power", args.effect)):
                only, both = rejection_rates(pred_len, n, args.seeds, sigma, effect,
                                             args.reps, args.alpha, rng)
                print(f"| {dataset} | {pred_len} | {n} | {sigma} | {what} | {only:.3f} | "
                      f"{both:.3f} |", flush=True)


if __name__ == "__main__":
    main()
