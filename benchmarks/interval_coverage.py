"""Do ``tsbench-forecast --intervals`` cover what they promise on held-out windows? One
small DLinear on ETTh1's target (``features=S``) for a few epochs, then, per level, the
split-conformal intervals calibrated on its validation windows against every test window:
the share of test actuals inside (all windows and steps, and the lowest and highest share
of one horizon step), and the mean width in the file's units.

    python benchmarks/interval_coverage.py --out /tmp/coverage          # about a minute

A run that finished there (metrics.json) is not trained again.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tsbench.forecast.intervals import label
from tsbench.forecast.tables import windows


def train(run_dir: Path, args: argparse.Namespace) -> Path:
    """The tiny DLinear run, unless it finished in ``run_dir`` before."""
    if not (run_dir / "metrics.json").is_file():
        subprocess.run([sys.executable, "-m", "tsbench", "dataset=etth1", "model=dlinear",
                        "features=S", f"seq_len={args.seq_len}", f"pred_len={args.pred_len}",
                        f"trainer.max_epochs={args.epochs}", "optim.lr=0.005",
                        f"trainer.num_threads={args.threads}", "trainer.progress_bar=false",
                        "logger=none", f"hydra.run.dir={run_dir}"],
                       check=True, stdout=subprocess.DEVNULL)
    return run_dir


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--levels", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seq-len", type=int, default=336)
    p.add_argument("--pred-len", type=int, default=96)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    run_dir = train(args.out / "dlinear_etth1_S", args)
    table = windows(run_dir, "test", intervals=args.levels)
    print(f"run: {run_dir}  test windows: {table['window'].nunique()}  "
          f"steps: {table['step'].nunique()}  channel: {', '.join(table['channel'].unique())}")
    print("| nominal | empirical (all) | lowest step | highest step | mean width |")
    print("|---|---|---|---|---|")
    for level in args.levels:
        lower, upper = table[f"lower_{label(level)}"], table[f"upper_{label(level)}"]
        inside = (lower <= table["actual"]) & (table["actual"] <= upper)
        by_step = inside.groupby(table["step"]).mean()
        print(f"| {level:.2f} | {inside.mean():.4f} | {by_step.min():.4f} "
              f"| {by_step.max():.4f} | {(upper - lower).mean():.4g} |")


if __name__ == "__main__":
    main()
