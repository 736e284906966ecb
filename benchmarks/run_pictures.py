"""What a run's pictures (forecast.png, loss.png) cost a sweep of short trials.

One process runs the same skopt sweep of tiny DLinear trials (600-row synthetic series,
2 epochs) with ``plots=true`` (the default) and ``plots=false``, each ``--repeats`` times
in turn after one warm-up sweep, and prints the median CPU seconds per trial of each and
their difference: what the two pictures cost a trial. Long trials pay the same seconds,
a smaller share.

    python benchmarks/run_pictures.py                # 6 trials a sweep, 3 repeats
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from tsbench.cli import entry

SWEEP = ["-m", "dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48",
         "pred_len=12", "trainer=debug", "data.batch_size=32", "logger=none",
         "hydra/sweeper=skopt", "optim.lr=interval(0.0001,0.01)"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sweep_seconds(folder: Path, trials: int, plots: bool) -> float:
    """CPU seconds of one sweep of ``trials`` trials into ``folder``."""
    sys.argv = ["tsbench", *SWEEP, f"hydra.sweeper.n_trials={trials}",
                f"plots={str(plots).lower()}", f"hydra.sweep.dir={folder}"]
    start = cpu_seconds()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        entry()
    return cpu_seconds() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sweep_seconds(Path(tmp, "warm-up"), args.trials, True)
        seconds: dict[bool, list[float]] = {True: [], False: []}
        for repeat in range(args.repeats):
            for plots in (True, False):
                folder = Path(tmp, f"{plots}-{repeat}")
                seconds[plots].append(sweep_seconds(folder, args.trials, plots) / args.trials)
    with_plots, without = (statistics.median(seconds[p]) for p in (True, False))
    print(f"CPU s per trial (median of {args.repeats} sweeps of {args.trials} tiny DLinear "
          f"trials): plots=true {with_plots:.2f}, plots=false {without:.2f}; the pictures "
          f"{with_plots - without:.2f} s a trial ({1 - without / with_plots:.0%} of it)")


if __name__ == "__main__":
    main()
