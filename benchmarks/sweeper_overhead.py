"""The skopt sweeper's own cost per trial, with the task excluded.

For each surrogate (GP, RF, ET, GBRT) and acquisition function (EI, PI, LCB,
gp_hedge), the sweeper is brought to k - 1 finished trials of a trivial objective
(k = 10, 50, 100; one batch tell), then the steps of trial k are timed as the sweep
runs them: ``ask`` (a proposal that is feasible and new), ``tell`` (surrogate refit
and acquisition maximization), ``record`` (trials.csv and best.yaml, after every
batch) and ``plots`` (one redraw of the three plots). Each figure is the median over
``--repeats`` trials. ``per trial`` is what a sweep of a zero-time task pays on
average: the plots are redrawn only while they take at most ``plot_share`` (0.2) of
the sweep's time, so they add at most 0.2 / 0.8 of the other costs (and never more
than one redraw). The space and constraints are those of conf/search/patchtst_bo.yaml
(4 dimensions, 3 constraints); other settings are the sweeper's defaults
(``acq_optimizer=sampling``, ``n_jobs=1``). Hydra's own per-job cost (config
composition, job directory) is not included: ``--end-to-end`` measures a real
100-trial multirun of a trivial app with the default settings instead.

    python benchmarks/sweeper_overhead.py                 # full table, about 10 min
    python benchmarks/sweeper_overhead.py --estimators GP --acq-funcs EI --end-to-end
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from tsbench.search.composition import Compose, compose_tsbench
from tsbench.search.constraints import build_constraints
from tsbench.search.faults import Teller
from tsbench.search.loop import write_record
from tsbench.search.optimizer import make_optimizer
from tsbench.search.plots import write_plots
from tsbench.search.proposer import Proposer
from tsbench.search.settings import ACQ_FUNCS, ESTIMATORS, SweepSettings
from tsbench.search.space import SearchSpace, parse_space, plain
from tsbench.search.trials import Trial

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "conf" / "search" / "patchtst_bo.yaml"
FIXED = {"model.stride": 8, "model.n_heads": 4}  # conf/model/patchtst.yaml
APP = ROOT / "tests" / "search" / "app" / "quadratic.py"


def objective(values: dict) -> float:
    """A cheap stand-in for a validation loss over the PatchTST space."""
    return float(
        (np.log2(values["seq_len"]) - 8.0) ** 2 / 4
        + (values["model.patch_len"] - 16) ** 2 / 256
        + (np.log10(values["optim.lr"]) + 3.5) ** 2
        + 0.1 * np.log2(values["model.d_model"] / 16)
    )


def composed_once() -> Compose:
    """tsbench's composition of each list of overrides once, as a sweep's own Hydra keeps
    them (``SkoptSweep.compose``): best.yaml's seeds command composes after every batch."""
    composed: dict[tuple[str, ...], DictConfig] = {}

    def compose(overrides: list[str]) -> DictConfig:
        key = tuple(overrides)
        if key not in composed:
            composed[key] = compose_tsbench(overrides)
        return composed[key]

    return compose


def step_costs(estimator: str, acq_func: str, k: int, repeats: int, out: Path) -> dict:
    """Median seconds of ask, tell, record and plots for trials k .. k + repeats - 1."""
    sweeper = yaml.safe_load(PRESET.read_text())["hydra"]["sweeper"]
    space = parse_space(sweeper["params"], [], OverridesParser.create())
    constraints = build_constraints(sweeper["constraints"], space.names, FIXED.__getitem__)
    settings = SweepSettings(
        n_trials=k + repeats,
        n_initial_points=min(10, k - 1),
        base_estimator=estimator,
        acq_func=acq_func,
        random_state=0,
    )
    optimizer = make_optimizer(settings, space.dimensions, constraints)
    proposer = Proposer(optimizer, constraints, seed=0)
    teller = Teller(optimizer, sign=1.0)
    prefill = optimizer.space.rvs(n_samples=k - 1, random_state=1)  # feasible points
    trials = [trial(i + 1, [plain(v) for v in p], space) for i, p in enumerate(prefill)]
    for t in trials:
        proposer.mark_seen(t.point)
    teller.tell(trials)
    compose = composed_once()
    costs: dict[str, list[float]] = {"ask": [], "tell": [], "record": [], "plots": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        (point,) = proposer.ask(1)
        t1 = time.perf_counter()
        trials.append(trial(len(trials) + 1, point, space))
        proposer.mark_seen(point)
        teller.tell(trials[-1:])
        t2 = time.perf_counter()
        write_record(out, space, trials, maximize=False, compose=compose)
        t3 = time.perf_counter()
        write_plots(out, trials, optimizer, 1.0)
        t4 = time.perf_counter()
        for name, seconds in zip(costs, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            costs[name].append(seconds)
    return {name: statistics.median(values) for name, values in costs.items()}


def trial(number: int, point: list, space: SearchSpace) -> Trial:
    return Trial(number, number - 1, point, objective(space.values(point)), 0.0, "")


def end_to_end(n_trials: int) -> tuple[float, float]:
    """Wall seconds of a real multirun of the trivial app, and its trials' own seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, str(APP), "-m", "hydra/sweeper=skopt",
            "x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c",
            f"hydra.sweeper.n_trials={n_trials}", "hydra.sweeper.random_state=0",
            f"hydra.sweep.dir={tmp}/sweep",
        ]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=tmp)
        wall = time.perf_counter() - start
        with open(Path(tmp) / "sweep" / "trials.csv") as handle:
            task = sum(float(r["seconds"]) for r in csv.DictReader(handle))
    return wall, task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS))
    parser.add_argument("--acq-funcs", nargs="+", default=list(ACQ_FUNCS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 50, 100])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--end-to-end", action="store_true", help="also time a real multirun")
    args = parser.parse_args()

    share = SweepSettings().plot_share
    print("seconds at trial k (median): ask + tell + record | one plots redraw -> per trial")
    print(f"{'surrogate':<10}{'acq_func':<10}" + "".join(f"{f'k={k}':>32}" for k in args.sizes))
    with tempfile.TemporaryDirectory() as tmp:
        for estimator in args.estimators:
            for acq_func in args.acq_funcs:
                cells = []
                for k in args.sizes:
                    c = step_costs(estimator, acq_func, k, args.repeats, Path(tmp))
                    base = c["ask"] + c["tell"] + c["record"]
                    per_trial = base + min(c["plots"], base * share / (1 - share))
                    cells.append(
                        f"{c['ask']:.2f}+{c['tell']:.2f}+{c['record']:.2f}"
                        f" | {c['plots']:.2f} -> {per_trial:.2f}"
                    )
                print(f"{estimator:<10}{acq_func:<10}" + "".join(f"{c:>32}" for c in cells))
    if args.end_to_end:
        n = max(args.sizes)
        wall, task = end_to_end(n)
        print(
            f"end to end, defaults, {n} trials of a trivial app: {wall:.1f} s wall, "
            f"{task:.1f} s in the task, {(wall - task) / n:.2f} s per trial for sweeper + Hydra"
        )


if __name__ == "__main__":
    main()
