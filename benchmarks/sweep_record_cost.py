"""What a long sweep's own bookkeeping costs as its record grows (100, 1000, 5000 trials).

A sweep directory of ``n`` ended trials is built with the sweeper's own writers: the launch
log (``record/jobs``, :class:`~tsbench.search.record.Record`), each job's noted folder
(``record/folders``), trials.csv and best.yaml (:func:`~tsbench.search.loop.write_record`),
and one job folder per trial holding what Hydra and a tsbench run leave there
(``.hydra/{config,hydra,overrides}.yaml`` from tsbench's real composition, ``metrics.json``).
The sweep "died" with ``n_jobs`` = 4 trials running: two had noted their folders, two had
not started. Then three steps are timed as the sweeper runs them:

- ``start``: the optimizer built as a sweep of the default ``initial_point_generator``
  (``lhs``) builds it, its design (``mode=random``: the whole budget) drawn;
- ``batch ask``: one ask of ``N_JOBS`` points from it (skopt asks a copy of the optimizer);
- ``resume``: a resume's load up to its first launch: trials.csv read, the launch log's
  SLURM jobs, the lost trials (each one's folder looked for), the optimizer's replay
  (``mode=random``, ``initial_point_generator=random``: the surrogate's own fits and the
  design, the optimizer's cost, are left out), the next job number;
- ``refill``: one trial's bookkeeping when it ends and the next starts (its launch logged,
  trials.csv and best.yaml rewritten, its end logged), the median of 5;
- ``report``: the sweep's closing record (trials.csv, best.yaml, the closing warnings and
  summary line).

Each step is run once for its seconds, then again under ``tracemalloc`` for its peak of
Python memory. ``--subdir named`` names the job folders by their overrides
(``hydra.sweep.subdir=${hydra.job.override_dirname}``) instead of by job number: a job that
noted no folder is then found by the job number its ``.hydra/hydra.yaml`` records.

    python benchmarks/sweep_record_cost.py                       # 100, 1000, 5000 trials
    python benchmarks/sweep_record_cost.py --sizes 1000 --subdir named
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from sweeper_overhead import composed_once  # this folder (the script runs from it)

from tsbench.rundir import CONFIG, HYDRA_CONFIG, HYDRA_OVERRIDES, HYDRA_RECORD, METRICS
from tsbench.search import record as record_module
from tsbench.search import report
from tsbench.search.adopt import finished_trial
from tsbench.search.composition import compose_tsbench
from tsbench.search.constraints import build_constraints
from tsbench.search.faults import Teller
from tsbench.search.job_folder import WRITTEN_BY, JobFolders
from tsbench.search.loop import write_record
from tsbench.search.names import TRIALS_FILE
from tsbench.search.optimizer import make_optimizer
from tsbench.search.proposer import Proposer
from tsbench.search.rebuild import lost_trials, on_slurm, replay, run_again
from tsbench.search.record import RECORD_DIR, Launch, Record
from tsbench.search.settings import SweepSettings
from tsbench.search.space import SearchSpace, parse_space, plain
from tsbench.search.sweep import _next_job
from tsbench.search.trials import Trial, read_trials

#: The sweeper's record, its launch log read once (an older tsbench: Record, read each time).
KeptRecord = getattr(record_module, "KeptRecord", Record)
ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "conf" / "search" / "patchtst_bo.yaml"
FIXED = {"model.stride": 8, "model.n_heads": 4}  # conf/model/patchtst.yaml
SUBDIRS = {"numbered": "${hydra.job.num}", "named": "${hydra.job.override_dirname}"}
N_JOBS = 4  # trials running when the sweep died
REFILLS = 5


def objective(values: dict) -> float:
    """A cheap stand-in for a validation loss over the PatchTST space."""
    return float((np.log2(values["seq_len"]) - 8.0) ** 2 / 4
                 + (np.log10(values["optim.lr"]) + 3.5) ** 2 + 0.5)


class Sweep:
    """A sweep directory of ``n`` ended trials and ``N_JOBS`` lost ones (module docstring)."""

    def __init__(self, sweep_dir: Path, n: int, subdir: str) -> None:
        preset = yaml.safe_load(PRESET.read_text())["hydra"]["sweeper"]
        self.sweep_dir, self.n, self.subdir = sweep_dir, n, subdir
        self.space: SearchSpace = parse_space(preset["params"], [], OverridesParser.create())
        self.constraints = build_constraints(preset["constraints"], self.space.names,
                                             FIXED.__getitem__)
        # random draws: skopt's Latin hypercube of n_trials points is skopt's own cost
        self.settings = SweepSettings(n_trials=n + N_JOBS + REFILLS, mode="random",
                                      initial_point_generator="random", random_state=0,
                                      n_jobs=N_JOBS)
        self.record = Record(sweep_dir / RECORD_DIR)
        self.compose = composed_once()
        self.folders = JobFolders(sweep_dir, self.record, SUBDIRS[subdir])
        base = ["search=patchtst_bo", "dataset=etth1", "pred_len=96"]
        self.base = base
        composed = compose_tsbench(base)
        self.hydra = yaml.safe_load(OmegaConf.to_yaml(composed.hydra))  # as Hydra saves it
        self.config = OmegaConf.to_yaml(OmegaConf.masked_copy(
            composed, [k for k in composed if k != "hydra"]))

    def build(self) -> list[Trial]:
        """Write the record of ``n`` ended trials and ``N_JOBS`` lost ones; return the
        ended trials."""
        points = [
            [plain(v) for v in p] for p in make_optimizer(
                self.settings, self.space.dimensions, self.constraints).space.rvs(
                n_samples=self.n + N_JOBS, random_state=1)]
        trials = []
        for job, point in enumerate(points):
            lines = self.space.overrides(point)
            folder = str(job) if self.subdir == "numbered" else ",".join(lines) + f"_{job}"
            launch = Launch(job + 1, job, self.space.texts(point), time.time())
            self.record.launched(launch)
            lost = job >= self.n
            if lost and job >= self.n + N_JOBS // 2:
                continue  # never started: no folder, nothing noted
            self.record.started_in(job, folder)
            self._job_folder(self.sweep_dir / folder, job, lines, finished=not lost)
            if lost:
                continue
            value = objective(self.space.values(point))
            trial = Trial(job + 1, job, point, value, 60.0, folder)
            trials.append(trial)
            self.record.ended(launch, trial.status, launch.started + 60)
        write_record(self.sweep_dir, self.space, trials, False, self.compose)
        return trials

    def _job_folder(self, folder: Path, job: int, lines: list[str], finished: bool) -> None:
        (folder / ".hydra").mkdir(parents=True)
        hydra = copy.deepcopy(self.hydra)
        hydra["job"]["num"] = job
        hydra["overrides"]["task"] = [*self.base, *lines]
        (folder / HYDRA_RECORD).write_text(yaml.safe_dump({"hydra": hydra}, sort_keys=False))
        (folder / HYDRA_CONFIG).write_text(self.config)
        (folder / CONFIG).write_text(self.config)
        (folder / HYDRA_OVERRIDES).write_text(yaml.safe_dump([*self.base, *lines]))
        if finished:
            (folder / METRICS).write_text(json.dumps({"objective": 1.0, "val_mse": 1.0,
                                                      WRITTEN_BY: job}))

    def start(self) -> Proposer:
        """The optimizer of a sweep of ``lhs`` design, as a start builds it."""
        settings = dataclasses.replace(self.settings, initial_point_generator="lhs")
        return Proposer(make_optimizer(settings, self.space.dimensions, self.constraints),
                        self.constraints, 0)

    def resume(self) -> list[Trial]:
        """A resume's load, as :meth:`tsbench.search.sweep.SkoptSweep._sweep` runs it."""
        space, record = self.space, KeptRecord(self.sweep_dir / RECORD_DIR)
        trials = read_trials(self.sweep_dir / TRIALS_FILE, space, strict=True)
        on_slurm(record, trials)

        def finished(launch: Launch, point: list) -> Trial | None:
            return finished_trial(launch, point, self.sweep_dir,
                                  self.folders.subdir(launch.job), space, record, False)

        relaunch, superseded, _ = lost_trials(record, trials, space, self.constraints,
                                              finished)
        trials, again = run_again([t for t in trials if t.number not in superseded], False)
        optimizer = make_optimizer(self.settings, space.dimensions, self.constraints)
        proposer = Proposer(optimizer, self.constraints, 0)
        replay(proposer, Teller(optimizer, 1.0, True), trials, [*relaunch, *again], record,
               [])
        _next_job(self.sweep_dir, trials, record)
        max(launch.trial for launch in record.launches())  # Loop's next trial number
        return trials

    def refill(self, trials: list[Trial], number: int) -> list[Trial]:
        """One trial's bookkeeping: its launch logged, its end recorded (trials.csv and
        best.yaml), its end logged, as :class:`tsbench.search.loop.Loop` does."""
        point = trials[number % len(trials)].point
        job = number + 1000
        launch = Launch(number, job, self.space.texts(point), time.time())
        self.record.launched(launch)
        trial = Trial(number, job, point, objective(self.space.values(point)) * 1.01, 60.0,
                      str(job))
        trials = sorted([*trials, trial], key=lambda t: (t.number, t.job))
        write_record(self.sweep_dir, self.space, trials, False, self.compose)
        best = report.best_trial(trials, False)
        report.trial_line(trial, len(trials), self.settings.n_trials, best, 1.0)
        self.record.ended(launch, trial.status)
        return trials

    def final(self, trials: list[Trial]) -> None:
        """The sweep's closing record and lines (:meth:`tsbench.search.loop.Loop.run`)."""
        write_record(self.sweep_dir, self.space, trials, False, self.compose)
        best = report.best_trial(trials, False)
        report.summary(trials, best, "", report.test_split_note(best, self.sweep_dir))
        report.closing_warnings(self.space, trials, False)


def timed(step: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds of ``step``, then its peak of Python memory (MiB) in a second run."""
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def measure(n: int, subdir: str) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Sweep(Path(tmp) / "sweep", n, subdir)
        start = time.perf_counter()
        sweep.build()
        built = time.perf_counter() - start
        start = timed(sweep.start)
        batch_ask = timed(lambda: start[2].ask(N_JOBS))
        resume = timed(sweep.resume)
        trials = resume[2]
        refills = []
        for i in range(REFILLS):
            seconds = time.perf_counter()
            trials = sweep.refill(trials, n + N_JOBS + 1 + i)
            refills.append(time.perf_counter() - seconds)
        tracemalloc.start()
        sweep.refill(trials, n + N_JOBS + 1 + REFILLS)
        refill_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        final = timed(lambda: sweep.final(trials))
    return {"build": (built, float("nan")), "start": start[:2],
            "batch ask": batch_ask[:2], "resume": resume[:2],
            "refill": (statistics.median(refills), refill_peak), "report": final[:2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 1000, 5000])
    parser.add_argument("--subdir", choices=sorted(SUBDIRS), default="numbered")
    args = parser.parse_args()
    print(f"job folders {args.subdir} ({SUBDIRS[args.subdir]}); seconds (peak Python MiB)")
    steps = ("start", "batch ask", "resume", "refill", "report")
    print(f"{'trials':>7}" + "".join(f"{k:>18}" for k in steps) + f"{'[build]':>10}")
    for n in args.sizes:
        m = measure(n, args.subdir)
        cells = [f"{m[k][0]:.3f} ({m[k][1]:.1f})" for k in steps]
        print(f"{n:>7}" + "".join(f"{c:>18}" for c in cells) + f"{m['build'][0]:>9.0f}s",
              flush=True)


if __name__ == "__main__":
    main()
