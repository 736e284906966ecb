"""Which learning-rate range-test rule trains best: Lightning's steepest descent over the
whole curve (``steepest_lr`` in ``lr_find.json``), or the steepest fall inside the loss's
valley (tsbench's ``suggestion``, :func:`tsbench.training.lr_find.valley_lr`).

For each cell (a paper preset at one horizon) one range test on the training rows
(``tune.lr_find=true tune.lr_find_apply=false``), then one training per rate and seed at
the preset's rate, at Lightning's suggestion and at the valley rule's, each for at most
``--epochs`` epochs (early stopping after ``--patience``); the table gives each rate and
the mean validation MSE of its runs (the test split is never windowed: ``score_test=false``).

    python benchmarks/lr_finder.py --out outputs/lr_finder              # about an hour
    python benchmarks/lr_finder.py --out /tmp/lrf --cells dlinear_ili-24 --epochs 2

Runs that finished (metrics.json) are not run again, so an interrupted call resumes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

CELLS = ("patchtst42_etth1-96", "patchtst42_etth2-96", "patchtst42_ili-24",
         "itransformer_exchange-96", "dlinear_etth1-96", "dlinear_ili-24")
RULES = ("preset", "lightning", "valley")


def tsbench(run_dir: Path, args: list[str]) -> Path:
    """Run ``tsbench`` into ``run_dir`` unless it finished there before."""
    if not (run_dir / "metrics.json").is_file():
        command = [sys.executable, "-m", "tsbench", *args, "score_test=false",
                   "trainer.progress_bar=false", "logger=none", f"hydra.run.dir={run_dir}"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return run_dir


def rates(cell: str, out: Path, threads: int) -> dict[str, float]:
    """The preset's rate and the two rules' from one range test on the training rows."""
    preset, horizon = cell.rsplit("-", 1)
    run = tsbench(out / cell / "range_test", [
        f"experiment={preset}", f"pred_len={horizon}", "tune.lr_find=true",
        "tune.lr_find_apply=false", "trainer.max_epochs=1", f"trainer.num_threads={threads}"])
    found = json.loads((run / "lr_find.json").read_text())
    lightning = found["steepest_lr"]  # None where Lightning's rule finds nothing
    return {"preset": float(OmegaConf.load(run / "config.yaml").optim.lr),
            "lightning": float("nan") if lightning is None else float(lightning),
            "valley": float(found["suggestion"])}


def val_mse(cell: str, rule: str, lr: float, seed: int, out: Path, args: argparse.Namespace
            ) -> float:
    preset, horizon = cell.rsplit("-", 1)
    run = tsbench(out / cell / rule / f"seed_{seed}", [
        f"experiment={preset}", f"pred_len={horizon}", f"optim.lr={lr}", f"seed={seed}",
        f"trainer.max_epochs={args.epochs}", f"trainer.patience={args.patience}",
        f"trainer.num_threads={args.threads}"])
    return float(json.loads((run / "metrics.json").read_text())["val_mse"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"| cell | {' | '.join(f'{r} lr' for r in RULES)} | "
          f"{' | '.join(f'val MSE at {r}' for r in RULES)} |")
    print(f"|---|{'---:|' * 2 * len(RULES)}")
    for cell in args.cells:
        lrs = rates(cell, args.out, args.threads)
        scores = {rule: statistics.mean(val_mse(cell, rule, lr, seed, args.out, args)
                                        for seed in args.seeds)
                  for rule, lr in lrs.items() if lr == lr}
        best = min(scores.values())
        shown = [f"**{scores[r]:.4f}**" if scores.get(r) == best else
                 (f"{scores[r]:.4f}" if r in scores else "no rate") for r in RULES]
        print(f"| {cell} | {' | '.join(f'{lrs[r]:.3g}' for r in RULES)} | "
              f"{' | '.join(shown)} |", flush=True)


if __name__ == "__main__":
    main()
