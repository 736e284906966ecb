"""What a ``drop_last`` test loader would have scored: finished runs re-scored on all test
windows and on the first ``floor(n / batch) * batch`` of them only, the windows the
official PatchTST and LTSF-Linear test loaders (``drop_last=True``) keep.

    TSBENCH_DATA_DIR=... python benchmarks/drop_last_scores.py --batch-size 16 RUN_OR_SWEEP_DIR...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from omegaconf import OmegaConf

from tsbench.quiet import quiet_dependencies
from tsbench.tune.ensemble import load_ensemble


def run_dirs(paths: list[str]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        found += [path] if (path / "metrics.json").is_file() else sorted(
            (p.parent for p in path.glob("*/metrics.json")),
            key=lambda run: int(run.name) if run.name.isdigit() else run.name)
    return found


@torch.inference_mode()
def window_mses(run: Path) -> torch.Tensor:
    """Test MSE of each window (scaled data, scored channels), in order."""
    model, data = load_ensemble([run], ["test"])
    dims = data.target_dims
    errors = []
    for x, y, x_mark in data.loader("test"):  # every window, in order
        err = (model(x, x_mark)[..., dims] - y[..., dims]).double()
        errors.append(err.pow(2).mean(dim=(1, 2)))
    return torch.cat(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batch-size", type=int, required=True, help="the test loader's batch")
    parser.add_argument("dirs", nargs="+", help="run or multirun directories")
    args = parser.parse_args()
    quiet_dependencies()
    print(f"| model | dataset | pred_len | seed | windows | test MSE, all | kept (batch "
          f"{args.batch_size}) | test MSE, kept |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for run in run_dirs(args.dirs):
        cfg = OmegaConf.load(run / "config.yaml")
        mses = window_mses(run)
        kept = len(mses) // args.batch_size * args.batch_size
        print(f"| {cfg.model.name} | {cfg.dataset.name} | {cfg.pred_len} | {cfg.seed} | "
              f"{len(mses)} | {mses.mean():.4f} | {kept} | {mses[:kept].mean():.4f} |")


if __name__ == "__main__":
    main()
