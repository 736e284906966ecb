"""Direct vs recursive deep forecasters and classical baselines under one protocol.

For each cell (ETTh1-96, ETTh1-336, ILI-24): naive, seasonal_naive, ets, theta and arima
(one run each: they have no seed), and DLinear and PatchTST/42 with their paper presets,
3 seeds, once with ``strategy=direct`` and once with ``strategy=recursive`` (a step of a
quarter of the shortest horizon: 24 hours on ETTh1, 6 weeks on ILI). Every run scores every
test window. The tables are ``tsbench-report`` output (it groups by dataset, model and
pred_len, so direct and recursive runs are reported apart); the wall time of each classical
run is the whole ``tsbench`` command (fit on the training rows, filtering and scoring of
every validation and test window, plots).

    python benchmarks/strategies_and_baselines.py --out outputs/sab            # everything
    python benchmarks/strategies_and_baselines.py --out outputs/sab --parts classical \\
        --cells etth1-96                                                      # minutes
    python benchmarks/strategies_and_baselines.py --tiny --out /tmp/sab       # a check

Runs that finished (metrics.json) are not run again, so an interrupted call resumes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CLASSICAL = ("naive", "seasonal_naive", "ets", "theta", "arima")
SEEDS = "1,2,3"


@dataclass(frozen=True)
class Cell:
    """One dataset and horizon: the presets of its deep models and the recursive step."""

    dataset: str
    pred_len: int
    seq_len: int
    step: int
    presets: tuple[str, ...]
    extra: tuple[str, ...] = field(default=())  # overrides of every run (the tiny check's)

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.pred_len}"


CELLS = {
    cell.name: cell for cell in (
        Cell("etth1", 96, 336, 24, ("dlinear_etth1", "patchtst42_etth1")),
        Cell("etth1", 336, 336, 24, ("dlinear_etth1", "patchtst42_etth1")),
        Cell("ili", 24, 104, 6, ("dlinear_ili", "patchtst42_ili")),
    )
}
#: A few seconds per run on a synthetic series (checks the script, not the numbers).
TINY = Cell("synthetic", 12, 48, 4, ("dlinear_etth1", "patchtst42_etth1"),
            ("dataset.n_rows=700", "trainer.max_epochs=1", "trainer.progress_bar=false"))


def tsbench(args: list[str], multirun: bool = False) -> float:
    """Run ``python -m tsbench``; return its wall time in seconds."""
    cmd = [sys.executable, "-m", "tsbench", *(["-m"] if multirun else []), *args]
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def run_classical(cell: Cell, out: Path) -> list[dict]:
    """One run per classical model; returns model, wall seconds and the run's figures."""
    rows = []
    for model in CLASSICAL:
        run_dir = out / "classical" / cell.name / model
        timing = run_dir / "wall_seconds.json"
        if not (run_dir / "metrics.json").is_file():
            seconds = tsbench([f"dataset={cell.dataset}", f"model={model}",
                               f"seq_len={cell.seq_len}", f"pred_len={cell.pred_len}",
                               "logger=none", *cell.extra, f"hydra.run.dir={run_dir}"])
            timing.write_text(json.dumps({"wall_seconds": round(seconds, 1)}))
        metrics = json.loads((run_dir / "metrics.json").read_text())
        wall = json.loads(timing.read_text())["wall_seconds"] if timing.is_file() else None
        rows.append({"cell": cell.name, "model": model, "wall_seconds": wall,
                     "fit_seconds": metrics["train_seconds"], "n_params": metrics["n_params"],
                     "n_test_windows": metrics["n_test_windows"],
                     "test_mse": metrics["test_mse"]})
    return rows


def run_deep(cell: Cell, out: Path, strategy: str, extra: list[str]) -> None:
    """Each preset with 3 seeds as one multirun per strategy."""
    for preset in cell.presets:
        sweep = out / strategy / cell.name / preset
        if len(list(sweep.glob("*/metrics.json"))) == len(SEEDS.split(",")):
            continue
        shutil.rmtree(sweep, ignore_errors=True)  # a sweep cut short runs all its seeds again
        step = [f"strategy.step={cell.step}"] if strategy == "recursive" else []
        dataset = [f"dataset={cell.dataset}", f"seq_len={cell.seq_len}"] if cell.extra else []
        tsbench([f"experiment={preset}", *dataset, f"pred_len={cell.pred_len}",
                 f"seed={SEEDS}", f"strategy={strategy}", *step, "logger=none", *cell.extra,
                 *extra, f"hydra.sweep.dir={sweep}"], multirun=True)


def report(dirs: list[Path]) -> str:
    dirs = [d for d in dirs if d.is_dir()]
    if not dirs:
        return "(no runs)\n"
    cmd = [sys.executable, "-c", "import sys; from tsbench.report.cli import main; "
           "sys.exit(main(sys.argv[1:]))", *map(str, dirs)]  # = tsbench-report DIR...
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def timing_table(rows: list[dict]) -> str:
    lines = ["| cell | model | wall s | fit s | fitted values | test windows | test MSE |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        wall = "-" if r["wall_seconds"] is None else f"{r['wall_seconds']:.1f}"
        lines.append(f"| {r['cell']} | {r['model']} | {wall} | {r['fit_seconds']:.1f} | "
                     f"{r['n_params']} | {r['n_test_windows']} | {r['test_mse']:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of every run")
    parser.add_argument("--cells", nargs="+", choices=sorted(CELLS), default=sorted(CELLS))
    parser.add_argument("--parts", nargs="+", choices=("classical", "direct", "recursive"),
                        default=["classical", "direct", "recursive"])
    parser.add_argument("--deep-overrides", nargs="*", default=[],
                        help="extra overrides of the deep runs, e.g. trainer.patience=10")
    parser.add_argument("--tiny", action="store_true", help="a quick check on a tiny series")
    args = parser.parse_args()
    cells = [TINY] if args.tiny else [CELLS[name] for name in args.cells]
    args.out.mkdir(parents=True, exist_ok=True)
    timings: list[dict] = []
    for cell in cells:
        if "classical" in args.parts:
            timings += run_classical(cell, args.out)
        for strategy in ("direct", "recursive"):
            if strategy in args.parts:
                run_deep(cell, args.out, strategy, args.deep_overrides)
    text = ["## Direct strategy and classical baselines\n",
            report([args.out / "classical", args.out / "direct"]),
            "\n## Recursive strategy (steps: " +
            ", ".join(f"{c.name} {c.step}" for c in cells) + ")\n",
            report([args.out / "recursive"]),
            "\n## Classical baselines: wall time of the whole tsbench run\n",
            timing_table(timings) if timings else "(not run)\n"]
    summary = args.out / "strategies_and_baselines.md"
    summary.write_text("\n".join(text))
    print("\n".join(text))
    print(f"written: {summary}")


if __name__ == "__main__":
    main()
