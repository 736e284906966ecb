"""Bayesian vs random search at equal budget on PatchTST, ETTh1, pred_len 96 (validation only).

Runs ``tsbench -m search=patchtst_bo`` in both modes for several ``random_state`` values
with a short training budget, then prints the best-so-far validation MSE at given trial
counts (median over repetitions). Every trial scores the validation split only
(``score_test=false``).

    python benchmarks/bayes_vs_random.py --trials 20 --states 0 1 2 --out outputs/bvr
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The short training budget of every trial (documented in the printed table).
BUDGET = ["trainer.max_epochs=1", "trainer.limit_train_batches=8", "data.batch_size=128",
          "trainer.patience=0", "logger=none", "trainer.progress_bar=false", "score_test=false",
          "trainer.num_threads=1"]


def run_sweep(mode: str, state: int, trials: int, out: Path, extra: list[str]) -> Path:
    """The trials.csv of the ``mode`` sweep at ``state``, run first where it holds fewer
    than ``trials`` ended trials: an interrupted sweep leaves its trials.csv behind, and is
    resumed (its ended trials kept) rather than read short."""
    sweep_dir = out / f"{mode}_{state}"
    path = sweep_dir / "trials.csv"
    if ended_trials(path) < trials:
        cmd = [sys.executable, "-m", "tsbench", "-m", "search=patchtst_bo", "dataset=etth1",
               "pred_len=96", *BUDGET, f"hydra.sweeper.mode={mode}",
               f"hydra.sweeper.n_trials={trials}", f"hydra.sweeper.random_state={state}",
               f"hydra.sweep.dir={sweep_dir}", *(extra if mode == "bayes" else []),
               *(["hydra.sweeper.resume=true"] if sweep_dir.exists() else [])]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ended = ended_trials(path)
        if ended < trials:
            raise SystemExit(f"{sweep_dir}: the sweep ended after {ended} of {trials} trials "
                             f"(its lines above say why) -> fix that and run this command again")
    return path


def ended_trials(path: Path) -> int:
    """How many trials the sweep's ``path`` (trials.csv) records as ended; 0 where none."""
    if not path.is_file():
        return 0
    with open(path) as handle:
        return len({row["trial"] for row in csv.DictReader(handle)})


def best_so_far(path: Path) -> list[float]:
    with open(path) as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["trial"]))
    best, out = float("inf"), []
    for row in rows:
        if row["status"] == "ok":
            best = min(best, float(row["objective"]))
        out.append(best)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--states", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--out", type=Path, default=Path("outputs/bayes_vs_random"))
    parser.add_argument("--bayes-overrides", nargs="*", default=[],
                        help="extra overrides of the Bayesian sweeps, e.g. "
                             "hydra.sweeper.n_initial_points=5")
    args = parser.parse_args()
    start = time.perf_counter()
    curves = {mode: [best_so_far(run_sweep(mode, s, args.trials, args.out, args.bayes_overrides))
                     for s in args.states] for mode in ("random", "bayes")}
    print(f"PatchTST, ETTh1, pred_len 96, search=patchtst_bo, {args.trials} trials, "
          f"random_state {args.states}; budget per trial: {' '.join(BUDGET)}; "
          f"Bayesian overrides: {' '.join(args.bayes_overrides) or 'none'}; "
          f"{time.perf_counter() - start:.0f} s in all\n")
    print("| mode | " + " | ".join(f"best val MSE @ {k} (median)" for k in args.checkpoints)
          + " | per repetition @ " + str(args.checkpoints[-1]) + " |")
    print("|---|" + "---:|" * (len(args.checkpoints) + 1))
    for mode, runs in curves.items():
        cells = [statistics.median(c[k - 1] for c in runs) for k in args.checkpoints]
        last = ", ".join(f"{c[args.checkpoints[-1] - 1]:.4f}" for c in runs)
        print(f"| {mode} | " + " | ".join(f"{v:.4f}" for v in cells) + f" | {last} |")


if __name__ == "__main__":
    main()
