"""Sweep throughput: trials per hour of a 20-configuration PatchTST multirun, run by
Hydra's basic launcher (one trial at a time, all cores) and by the joblib launcher
(``--jobs`` trials at once, cores / jobs torch threads each). A third sweep runs the basic
launcher with one thread per trial: against the first it shows how well one trial uses
the cores (which bounds what parallel trials can gain: with all cores sped up s-fold by
threads, k jobs gain at most k / s), against the joblib sweep what running trials side
by side costs each of them.

The grid (Hydra's basic sweeper): ``model.d_model`` 16, 32 x ``model.patch_len`` 8, 16 x
``optim.lr`` 1e-4 .. 1e-2 (5 values), on PatchTST/42 ETTh1-96 (``experiment=patchtst42_etth1
pred_len=96``) with a small budget per trial: one epoch of ``--batches`` batches, then the
validation split scored (``score_test=false``, as in tuning), no logger. The wall time is
that of the whole ``tsbench -m`` command (start-up included); each trial's torch thread
count is read back from its ``metrics.json``. ``other`` is the average number of cores
that other processes used meanwhile (keep runs with other ~ 0).

``--device cuda`` measures packing on one GPU instead: a 16-configuration grid (the lr
values 1e-4 .. 3e-3 only) with ``trainer=gpu``, run by the joblib launcher with 1, 2, 4 and 8
trials at once (``--gpu-jobs``), every trial on the same GPU and the cores shared out as
for CPU trials; the speed-up is against one trial at a time. Without CUDA it exits with
status 2 and one line.

    TSBENCH_DATA_DIR=... python benchmarks/sweep_throughput.py
    python benchmarks/sweep_throughput.py --batches 5 --repeat 2
    python benchmarks/sweep_throughput.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from throughput import busy_seconds, machine, require_cuda

GRID = ["model.d_model=16,32", "model.patch_len=8,16", "optim.lr=1e-4,3e-4,1e-3,3e-3,1e-2"]
TRIALS = 20
#: --device cuda: a 16-configuration grid, run with these numbers of trials at once.
GPU_GRID = ["model.d_model=16,32", "model.patch_len=8,16", "optim.lr=1e-4,3e-4,1e-3,3e-3"]
GPU_TRIALS = 16
GPU_JOBS = "1,2,4,8"


def sweep(launcher: list[str], batches: int, extra: list[str], grid: list[str] = GRID
          ) -> dict[str, float]:
    """Run the grid once; wall seconds, trials finished, thread counts, other cores."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "tsbench", "-m", "experiment=patchtst42_etth1",
                   "pred_len=96", "trainer.max_epochs=1", f"trainer.limit_train_batches={batches}",
                   "trainer.progress_bar=false", "logger=none", "score_test=false", *grid,
                   *launcher, f"hydra.sweep.dir={tmp}", *extra]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, start = busy_seconds(), time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"sweep failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        own = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        metrics = [json.loads(p.read_text()) for p in Path(tmp).glob("*/metrics.json")]
    return {"wall": wall, "trials": len(metrics),
            "threads": sorted({m["threads"] for m in metrics}),
            "other": max(0.0, (busy_seconds() - busy - own) / wall)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=2, help="joblib launcher n_jobs")
    parser.add_argument("--batches", type=int, default=10, help="training batches per trial")
    parser.add_argument("--repeat", type=int, default=1, help="sweeps per launcher; best shown")
    parser.add_argument("--override", action="append", default=[],
                        help="extra Hydra override for every trial")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: trials/hour with --gpu-jobs trials at once on one GPU")
    parser.add_argument("--gpu-jobs", default=GPU_JOBS,
                        help="with --device cuda: comma-separated joblib n_jobs values")
    args = parser.parse_args()
    require_cuda("sweep_throughput.py", args.device)
    grid, trials, extra = GRID, TRIALS, args.override
    launchers = {
        "basic": [],
        "basic, 1 thread": ["trainer.num_threads=1"],
        f"joblib, n_jobs={args.jobs}": ["hydra/launcher=joblib",
                                        f"hydra.launcher.n_jobs={args.jobs}"],
    }
    if args.device == "cuda":
        grid, trials, extra = GPU_GRID, GPU_TRIALS, ["trainer=gpu", *args.override]
        launchers = {f"joblib, n_jobs={k}": ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={k}"]
                     for k in args.gpu_jobs.split(",")}
    print(f"Machine: {machine(args.device)}\n")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in launchers}
    for _ in range(args.repeat):
        for name, launcher in launchers.items():
            runs[name].append(sweep(launcher, args.batches, extra, grid))
    where = ", trainer=gpu, all trials on the one GPU" if args.device == "cuda" else ""
    print(f"PatchTST/42 ETTh1-96, {trials}-configuration grid, {args.batches} training batches "
          f"of 128 per trial + validation{where}\n")
    print("| launcher | trials | wall s | trials/hour | torch threads per trial | speed-up "
          "| other |")
    print("|---|---:|---:|---:|---|---:|---:|")
    base = min(r["wall"] for r in next(iter(runs.values())))
    for name, rs in runs.items():
        best = min(rs, key=lambda r: r["wall"])
        threads = ", ".join(str(t) for t in best["threads"])
        print(f"| {name} | {best['trials']} | {best['wall']:.1f} | "
              f"{trials / best['wall'] * 3600:,.0f} | {threads} | {base / best['wall']:.2f}x | "
              f"{sum(r['other'] for r in rs) / len(rs):.2f} |")


if __name__ == "__main__":
    main()
