"""Multi-fidelity search on PatchTST, ETTh1, pred_len 96: pruning vs none at equal budget,
Optuna's TPE + Hyperband as the anchor, and the slot occupancy of refill-at-once.

Table 1. Every method searches the ``search=patchtst_bo`` space (seq_len, patch_len,
d_model, lr; its constraints) on the validation split only (``score_test=false``), with a
fixed per-epoch cost (``trainer.limit_train_batches=16``), 9 epochs per trial and no early
stopping, for a budget of B training epochs (a pruned trial spends the epochs it trained):

- ``random``, ``gp``: the skopt sweeper without pruning (random sampler / GP + EI) at B;
- ``gp_3b``: the GP without pruning at 3B;
- ``random_asha``, ``gp_asha``: the same with ``pruner.kind=asha``;
- ``optuna``: Optuna's TPE sampler with its Hyperband pruner (same rungs) on the same
  trial function: tsbench's ``run`` through its Python API, the epochs reported by a
  reporter that calls ``trial.report``/``trial.should_prune`` from the same Lightning
  callback (:mod:`tsbench.training.pruning`), and the same budget.

Pruned sweeps are resumed with more trials until they have spent B, then every method is
cut at its budget: a trial counts if it ended within it (trials run one at a time). Per
method the table gives the median over random states of the best validation MSE of a
trial that ran its full budget, the epochs and trial seconds spent, trials run and
pruned, and the epochs spent before a full-budget trial reached ``--target``.

ASHA's first rung is epoch 3 with eta 3 (rungs {3}; 9 is the top): in
``shared/research/pruning-calibration.md`` the clearly bad points (too small learning
rates) are last already at epoch 1, but two of the four best start among the worst and
would be cut at epoch 1; epoch 3's ranking agrees better with the final one (Spearman
0.66 vs 0.62 at epoch 1 and 0.52 at epoch 2), and a cut at 3 of 9 epochs still saves two
thirds of a pruned trial.

Table 2. Slot occupancy (busy slot-seconds / total slot-seconds; a slot is busy from a
trial's launch, in the launch log ``record/jobs``, to its ``metrics.json``) of a 12-trial
pruned sweep on the joblib launcher with 2 jobs, batch
mode vs refill-at-once, on the same proposals (random mode with a Latin hypercube: the
k-th point does not depend on results, and both schedules ask in the same order).

    python benchmarks/pruning.py                           # everything: ~90 min on 2 cores
    python benchmarks/pruning.py --methods gp gp_asha --states 0 --out outputs/pruning
    python benchmarks/pruning.py --tables occupancy         # only table 2
    python benchmarks/pruning.py --tiny                     # end-to-end check, a few minutes

Two pieces side by side on a 2-core machine, one torch thread each (a two-thread trial
beside another process runs many times slower), then the occupancy table alone:

    python benchmarks/pruning.py --methods gp_3b optuna --tables search --threads 1 &
    python benchmarks/pruning.py --methods random gp random_asha gp_asha --tables search \
        --threads 1 &
    wait; python benchmarks/pruning.py --tables occupancy

The 90 minutes are an estimate (not measured): 8 B epochs per random state at about 7 s
an epoch (the calibration's 769 s for 108 epochs), plus the occupancy sweeps. Results are
kept in ``--out`` (one folder per method and state) and reused, so the
benchmark can run in pieces; the tables summarize whatever is there for the requested
methods and states. A killed run continues where it stopped: an interrupted sweep of
table 1 resumes (``hydra.sweeper.resume=true``: the trial that was running starts again,
the epochs it had trained are not counted), an interrupted Optuna study or occupancy sweep
runs again whole.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("random", "gp", "gp_3b", "random_asha", "gp_asha", "optuna")


@dataclass(frozen=True)
class Setup:
    """The trial function, the pruning rule and the budget."""

    fixed: list[str]  # overrides of every trial
    space: list[str]  # overrides of the preset's space (empty: the preset's own)
    max_epochs: int
    min_epochs: int
    eta: int
    budget: int  # B, in training epochs
    target: float  # validation MSE for "epochs to target"
    initial: int  # n_initial_points of the GP sweeps
    occupancy_trials: int = 12


FULL = Setup(
    fixed=["dataset=etth1", "pred_len=96", "trainer.max_epochs=9", "trainer.patience=0",
           "trainer.limit_train_batches=16", "trainer.progress_bar=false", "score_test=false",
           "logger=none"],
    space=[], max_epochs=9, min_epochs=3, eta=3, budget=27, target=0.69, initial=5,
)
#: A tiny setting that runs every piece end to end in a few minutes (numbers meaningless).
TINY = Setup(
    fixed=["dataset=synthetic", "dataset.n_rows=600", "pred_len=12", "model.e_layers=1",
           "model.d_ff=16", "data.batch_size=32", "trainer.max_epochs=3", "trainer.patience=0",
           "trainer.limit_train_batches=4", "trainer.progress_bar=false", "score_test=false",
           "logger=none"],
    space=["seq_len=choice(24, 48)", "model.patch_len=choice(8, 12)",
           "model.d_model=choice(8, 16)"],
    max_epochs=3, min_epochs=1, eta=3, budget=6, target=0.2, initial=2, occupancy_trials=4,
)


@dataclass
class TrialResult:
    status: str  # ok | pruned | failed
    objective: float | None
    epochs: int
    seconds: float


@dataclass
class Summary:
    best: float | None
    epochs: int
    seconds: float
    trials: int
    pruned: int
    to_target: int | None  # epochs spent when a full-budget trial first reached the target
    extra: dict[str, Any] = field(default_factory=dict)


def tsbench(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    subprocess.run([sys.executable, "-m", "tsbench", "-m", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def sweep_results(sweep_dir: Path) -> list[TrialResult]:
    """The trials of a sweep in launch order, with the epochs each one trained."""
    if not (sweep_dir / "trials.csv").is_file():
        return []
    with open(sweep_dir / "trials.csv", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["trial"]))
    results = []
    for row in rows:
        metrics_path = sweep_dir / row["job_dir"] / "metrics.json"
        epochs = json.loads(metrics_path.read_text())["epochs"] if metrics_path.is_file() else 0
        objective = float(row["objective"]) if row["objective"] else None
        results.append(TrialResult(row["status"], objective, int(epochs),
                                   float(row["seconds"] or 0)))
    return results


def run_sweep(method: str, state: int, setup: Setup, out: Path) -> list[TrialResult]:
    """A skopt sweep of ``method`` until it has spent its budget (kept in ``out``).

    A pruned sweep starts with as many trials as the budget holds at half of them pruned,
    then is resumed with more trials until it has spent the budget."""
    sweep_dir = out / f"{method}_s{state}"
    budget = setup.budget * (3 if method == "gp_3b" else 1)
    pruned = method.endswith("asha")
    preset = "search=random" if method.startswith("random") else "search=patchtst_bo"
    args = [preset, *setup.fixed, *setup.space, f"hydra.sweeper.random_state={state}",
            f"hydra.sweep.dir={sweep_dir}"]
    if pruned:
        args += ["hydra.sweeper.pruner.kind=asha",
                 f"hydra.sweeper.pruner.min_epochs={setup.min_epochs}",
                 f"hydra.sweeper.pruner.eta={setup.eta}"]
    per_trial = (setup.min_epochs + setup.max_epochs) / 2 if pruned else setup.max_epochs
    results = sweep_results(sweep_dir)
    n_trials = math.ceil(budget / per_trial)
    while sum(r.epochs for r in results) < budget:
        if results:  # a pruned sweep that has not spent its budget yet: more trials
            spent = sum(r.epochs for r in results)
            n_trials = len(results) + math.ceil((budget - spent) / setup.max_epochs)
        extra = [f"hydra.sweeper.n_trials={n_trials}"]
        if (sweep_dir / "trials.csv").exists():
            extra.append("hydra.sweeper.resume=true")
        if method.startswith("gp"):  # at most as many initial points as trials
            extra.append(f"hydra.sweeper.n_initial_points={min(setup.initial, n_trials)}")
        tsbench(*args, *extra)
        before, results = len(results), sweep_results(sweep_dir)
        if len(results) == before:
            break  # the space is exhausted
    return results


def run_optuna(state: int, setup: Setup, out: Path) -> list[TrialResult]:
    """Optuna TPE + Hyperband on tsbench's run, until the budget is spent (kept in ``out``)."""
    import optuna
    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf
    from skopt.space import Categorical, Integer

    from tsbench.quiet import quiet_dependencies
    from tsbench.resolvers import register_resolvers
    from tsbench.search.constraints import build_constraints
    from tsbench.search.record import PrunedMark
    from tsbench.search.space import parse_space
    from tsbench.training import run as run_module
    from tsbench.training.pruning import TrialPruning

    study_dir = out / f"optuna_s{state}"
    saved = study_dir / "trials.json"
    if saved.is_file():
        return [TrialResult(**r) for r in json.loads(saved.read_text())]
    shutil.rmtree(study_dir, ignore_errors=True)  # an interrupted study starts again whole
    register_resolvers()
    quiet_dependencies()
    preset = OmegaConf.load(ROOT / "tsbench" / "conf" / "search" / "patchtst_bo.yaml")
    sweeper = preset.hydra.sweeper
    space = parse_space(dict(sweeper.params), setup.space, OverridesParser.create())
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        base = compose("config", overrides=["model=patchtst", *setup.fixed])
    constraints = build_constraints(list(sweeper.constraints), space.names,
                                    lambda path: OmegaConf.select(base, path))

    class OptunaReporter:
        """The reporter protocol of tsbench.training.pruning, answered by Optuna."""

        def __init__(self, trial: optuna.Trial) -> None:
            self.trial, self.best, self.epochs = trial, math.inf, 0
            self.stopped: PrunedMark | None = None

        def report(self, epoch: int, val_loss: float, fold: int = 0) -> bool:
            self.epochs += 1
            self.best = min(self.best, val_loss)
            self.trial.report(self.best, step=epoch)
            if not self.trial.should_prune():
                return False
            self.stopped = PrunedMark(self.trial.number, self.trial.number, fold, epoch,
                                      self.best, math.nan, "optuna hyperband")
            return True

    results: list[TrialResult] = []

    def objective(trial: optuna.Trial) -> float:
        point = []
        for p in space.params:
            dim = p.dimension
            if isinstance(dim, Categorical):
                point.append(trial.suggest_categorical(p.name, list(dim.categories)))
            elif isinstance(dim, Integer):
                point.append(trial.suggest_int(p.name, int(dim.low), int(dim.high),
                                               log=dim.prior == "log-uniform"))
            else:
                point.append(trial.suggest_float(p.name, dim.low, dim.high,
                                                 log=dim.prior == "log-uniform"))
        if constraints and not constraints(point):
            results.append(TrialResult("failed", None, 0, 0.0))
            raise optuna.TrialPruned()  # infeasible: nothing trained
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            cfg = compose("config", overrides=["model=patchtst", *setup.fixed,
                                                *space.overrides(point)])
        reporter = OptunaReporter(trial)
        start = time.perf_counter()
        with mock.patch.object(run_module, "trial_pruning", lambda cfg: TrialPruning(reporter)):
            metrics = run_module.run(cfg, study_dir / str(trial.number))
        seconds = time.perf_counter() - start
        pruned = bool(metrics.get("pruned"))
        results.append(TrialResult("pruned" if pruned else "ok", float(metrics["objective"]),
                                   int(metrics["epochs"]), seconds))
        if pruned:
            raise optuna.TrialPruned()
        return float(metrics["objective"])

    def stop_at_budget(study: optuna.Study, trial: Any) -> None:
        if sum(r.epochs for r in results) >= setup.budget:
            study.stop()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=state),
        pruner=optuna.pruners.HyperbandPruner(min_resource=setup.min_epochs,
                                              max_resource=setup.max_epochs,
                                              reduction_factor=setup.eta),
    )
    study.optimize(objective, callbacks=[stop_at_budget], n_trials=10 * setup.budget)
    study_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps([r.__dict__ for r in results]))
    return results


def summarize(results: list[TrialResult], budget: int, target: float) -> Summary:
    """The trials that ended within ``budget`` epochs, in launch order."""
    spent, seconds, kept, to_target = 0, 0.0, [], None
    for r in results:
        if spent + r.epochs > budget:
            break
        spent += r.epochs
        seconds += r.seconds
        kept.append(r)
        if to_target is None and r.status == "ok" and r.objective <= target:
            to_target = spent
    full = [r.objective for r in kept if r.status == "ok"]
    return Summary(min(full, default=None), spent, seconds, len(kept),
                   sum(r.status == "pruned" for r in kept), to_target)


def median(values: list[float | None]) -> str:
    found = [v for v in values if v is not None]
    if not found:
        return "-"
    text = f"{statistics.median(found):.4g}"
    return text if len(found) == len(values) else f"{text} ({len(found)}/{len(values)})"


def table1(setup: Setup, methods: list[str], states: list[int], out: Path) -> None:
    print(f"\nTable 1: best validation MSE at budget B = {setup.budget} epochs "
          f"(gp_3b: 3B), median over random states {states}; target {setup.target}")
    print("| method | budget | best val MSE | epochs | trial s | trials | pruned | "
          "epochs to target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for method in methods:
        budget = setup.budget * (3 if method == "gp_3b" else 1)
        runs = [run_optuna(s, setup, out) if method == "optuna" else run_sweep(method, s, setup,
                                                                                out)
                for s in states]
        sums = [summarize(r, budget, setup.target) for r in runs]
        print(f"| {method} | {budget} | {median([s.best for s in sums])} | "
              f"{median([s.epochs for s in sums])} | {median([s.seconds for s in sums])} | "
              f"{median([s.trials for s in sums])} | {median([s.pruned for s in sums])} | "
              f"{median([s.to_target for s in sums])} |", flush=True)


def occupancy(schedule: str, setup: Setup, out: Path) -> tuple[dict[str, Any], list[str]]:
    """Slot occupancy of a pruned joblib sweep with 2 jobs, and its proposals."""
    from tsbench.search.record import Record

    sweep_dir = out / f"occupancy_{schedule}"
    if len(sweep_results(sweep_dir)) < setup.occupancy_trials:
        # an interrupted sweep's spans are no measure of a schedule: run it whole again
        shutil.rmtree(sweep_dir, ignore_errors=True)
        tsbench("search=random", *setup.fixed, *setup.space,
                "hydra.sweeper.initial_point_generator=lhs",
                f"hydra.sweeper.n_trials={setup.occupancy_trials}", "hydra.sweeper.random_state=0",
                "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2",
                f"hydra.sweeper.schedule={schedule}", "hydra.sweeper.pruner.kind=asha",
                f"hydra.sweeper.pruner.min_epochs={setup.min_epochs}",
                f"hydra.sweeper.pruner.eta={setup.eta}", f"hydra.sweep.dir={sweep_dir}")
    # A slot is busy from the launch of its trial to the trial's own end (metrics.json is
    # written last): in batch mode the launcher returns only when the slowest job ends.
    spans = []
    for la in Record(sweep_dir / "record").launches():
        metrics = sweep_dir / str(la.job) / "metrics.json"
        end = min(la.ended, metrics.stat().st_mtime) if metrics.is_file() else la.ended
        spans.append((la.started, end))
    busy = sum(end - start for start, end in spans)
    span = max(end for _, end in spans) - min(start for start, _ in spans)
    results = sweep_results(sweep_dir)
    with open(sweep_dir / "trials.csv", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["trial"]))
    proposals = [" ".join(f"{k}={r[k]}" for k in ("seq_len", "model.patch_len",
                                                   "model.d_model", "optim.lr")) for r in rows]
    return {"occupancy": busy / (2 * span), "busy": busy, "total": 2 * span,
            "epochs": sum(r.epochs for r in results),
            "pruned": sum(r.status == "pruned" for r in results)}, proposals


def table2(setup: Setup, out: Path) -> None:
    print(f"\nTable 2: slot occupancy, {setup.occupancy_trials}-trial ASHA sweep, "
          "joblib n_jobs=2 (random mode, Latin hypercube, random_state 0)")
    print("| schedule | occupancy | busy slot-s | total slot-s | epochs | pruned |")
    print("|---|---:|---:|---:|---:|---:|")
    proposals = {}
    for schedule in ("batch", "refill"):
        figures, proposals[schedule] = occupancy(schedule, setup, out)
        print(f"| {schedule} | {figures['occupancy']:.3f} | {figures['busy']:.0f} | "
              f"{figures['total']:.0f} | {figures['epochs']} | {figures['pruned']} |",
              flush=True)
    same = proposals["batch"] == proposals["refill"]
    print(f"same proposals in the same order: {'yes' if same else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--states", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, help="B in epochs (default: the setup's)")
    parser.add_argument("--target", type=float, help="validation MSE for 'epochs to target'")
    parser.add_argument("--initial", type=int,
                        help="Latin-hypercube points before the GP proposes (default: the "
                             "setup's); give another --out, the sweeps differ")
    parser.add_argument("--tables", nargs="+", choices=("search", "occupancy"),
                        default=["search", "occupancy"])
    parser.add_argument("--tiny", action="store_true", help="a few-minute end-to-end check")
    parser.add_argument("--threads", type=int,
                        help="torch threads per trial of table 1 (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path("outputs/pruning"))
    args = parser.parse_args()
    setup = TINY if args.tiny else FULL
    if args.budget or args.target or args.initial:
        setup = Setup(**{**setup.__dict__, "budget": args.budget or setup.budget,
                         "target": args.target or setup.target,
                         "initial": args.initial or setup.initial})
    if args.threads:
        setup = Setup(**{**setup.__dict__,
                         "fixed": [*setup.fixed, f"trainer.num_threads={args.threads}"]})
    start = time.perf_counter()
    print(f"setup: {' '.join(setup.fixed + setup.space)}; asha/hyperband min_epochs="
          f"{setup.min_epochs} eta={setup.eta}; GP n_initial_points={setup.initial}")
    if "search" in args.tables:
        table1(setup, args.methods, args.states, args.out)
    if "occupancy" in args.tables:
        table2(setup, args.out)
    print(f"\nwall: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
