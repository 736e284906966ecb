"""What a ``drop_last`` test loader would have scored: finished runs re-scored on all test
windows and on the first ``floor(n / batch) * batch`` of them only, the windows the
official PatchTST and LTSF-Linear test loaders (``drop_last=True``) keep. Read from each
run's per-window test MSE and MAE (``test_window_mse.npy``, ``test_window_mae.npy``), so any
model works, the classical
ones included; ``tsbench-report`` makes the same like-for-like comparison with the published
numbers (its ``Δ vs published ... (first N)``).

    python benchmarks/drop_last_scores.py --batch-size 16 RUN_OR_SWEEP_DIR...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from tsbench.rundir import read_window_errors


def run_dirs(paths: list[str]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        found += [path] if (path / "metrics.json").is_file() else sorted(
            (p.parent for p in path.glob("*/metrics.json")),
            key=lambda run: int(run.name) if run.name.isdigit() else run.name)
    return found


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batch-size", type=_positive, required=True,
                        help="the test loader's batch")
    parser.add_argument("dirs", nargs="+", help="run or multirun directories")
    args = parser.parse_args()
    runs = run_dirs(args.dirs)
    if not runs:
        sys.exit(f"no finished run (metrics.json) in or directly under {', '.join(args.dirs)}")
    print(f"| model | dataset | pred_len | seed | windows | test MSE / MAE, all | kept (batch "
          f"{args.batch_size}) | test MSE / MAE, kept |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        cfg = OmegaConf.load(run / "config.yaml")
        saved = [read_window_errors(run, "test", metric) for metric in ("mse", "mae")]
        if any(errors is None for errors in saved):
            missing = [f"test_window_{m}.npy" for m, e in zip(("mse", "mae"), saved,
                                                              strict=True) if e is None]
            sys.exit(f"{run} saved no {' / '.join(missing)} (score_test=false, a cv=tscv run "
                     "without cv.refit, or a run saved before runs wrote per-window MAE): "
                     "nothing to re-score")
        mse, mae = (errors.astype(np.float64) for errors in saved)
        kept = len(mse) // args.batch_size * args.batch_size
        kept_scores = (f"{mse[:kept].mean():.4f} / {mae[:kept].mean():.4f}" if kept
                       else "– (no whole batch)")
        print(f"| {cfg.model.name} | {cfg.dataset.name} | {cfg.pred_len} | {cfg.seed} | "
              f"{len(mse)} | {mse.mean():.4f} / {mae.mean():.4f} | {kept} | {kept_scores} |")


if __name__ == "__main__":
    main()
