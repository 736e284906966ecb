"""A plain multirun resumed: ``hydra.sweeper.resume=true`` (tsbench's sweeper
``basic_resumable``, Hydra's basic one with a resume) and the same command into the same
``hydra.sweep.dir`` run only the jobs not finished before.

Before any job, the folder's ``multirun.yaml`` must hold the same sweep (the same task
overrides, in any order, a file's path written relative, from each command's folder, or
absolute alike; the same ``hydra.sweeper.params`` and ``hydra.sweep.subdir``), and
each job whose folder holds a finished run (``metrics.json``) must have run exactly this
job's overrides (its ``.hydra/overrides.yaml``); else the resume is refused, as the command
would mix two sweeps in one folder. A finished job that ran with another config (its
``.hydra/config.yaml``: a preset edited since), other code (its protocol card's digests:
:mod:`tsbench.code_digest`) or another ``dataset=csv`` file (its sha256) is refused too,
named with what changed, as its result would stand beside jobs run otherwise;
``resume=force`` keeps it, with a warning. Each finished job is said in one line with its
scores and not launched, so its folder, its tracker's run and its logs are not touched;
the others keep their job numbers (so their folders), each unfinished folder cleared of
what its killed run wrote (:func:`tsbench.rundir.clear_unfinished`), and are launched in
runs of consecutive numbers within each batch: where finished jobs lie between them, a
parallel launcher's run waits for its slowest job before the next run starts.

Without ``resume``, a job whose folder holds a finished run is refused (folders named by job
number are refused before Hydra starts, by :func:`tsbench.cli.check_not_over_other_runs`;
folders named by values, ``seed_${seed}``, here).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from tsbench.atomic import write_text
from tsbench.counted import counted
from tsbench.errors import ConfigError
from tsbench.resume_check import csv_digest
from tsbench.rundir import (
    HYDRA_CONFIG,
    HYDRA_OVERRIDES,
    HYDRA_RECORD,
    METRICS,
    LoadedRun,
    clear_unfinished,
    figures,
    load_run,
    ran_in,
)
from tsbench.search.names import MULTIRUN_FILE, SWEEP_DIR_ENV, is_search

#: The fix of a job folder that holds a finished run, without ``resume``.
RESUME_FIX = ("resume the sweep with the command that made it and hydra.sweeper.resume=true "
              "(its finished jobs are not run again), give this command a new "
              "hydra.sweep.dir (more seeds or values: report both folders together), or "
              "delete that folder first")
#: Settings differences named per finished job, at most.
SHOWN = 3

#: Batches of runs to launch: each run its first job number and its jobs' overrides.
Launches = list[list[tuple[int, list[list[str]]]]]


@dataclass(frozen=True)
class Job:
    """One job of the sweep: its number, overrides, folder and composed config."""

    num: int
    overrides: list[str]
    folder: Path
    config: DictConfig


class Jobs:
    """The jobs of a basic sweep over ``config`` (the sweep's, with its Hydra settings)."""

    def __init__(self, config: DictConfig, loader: Any, swept: list[str],
                 resume: Any) -> None:
        if not (isinstance(resume, bool) or resume == "force"):
            raise ConfigError("hydra.sweeper.resume", f"unknown value {resume!r}",
                              "use true, false or force")
        self.config, self.loader, self.swept, self.resume = config, loader, swept, resume
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        #: The jobs that finished before, by number, each read once (:func:`load_run`):
        #: a resume's summary lines count them beside the jobs it runs.
        self.finished: dict[int, LoadedRun] = {}

    def to_launch(self, batches: Sequence[Sequence[Sequence[str]]]) -> Launches:
        """Check the folder (module docstring), say the jobs finished before, clear the
        unfinished folders of the jobs left, record the sweep (``multirun.yaml``) and return
        the runs of consecutive jobs left to launch, by batch."""
        os.environ[SWEEP_DIR_ENV] = str(self.sweep_dir.absolute())  # a stop's line names it
        if self._holds_jobs():
            done = self._finished_before([list(job) for batch in batches for job in batch])
        else:
            done = set()
            if self.resume:
                print(f"tsbench: warning: hydra.sweeper.resume: {self.sweep_dir.absolute()} "
                      "holds no job of a sweep: every job runs (a stopped sweep's line names "
                      "its folder)",
                      file=sys.stderr, flush=True)
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        # atomic: a resume reads it back (_check_same_sweep), and a start killed mid-write
        # would leave it cut short
        write_text(self.sweep_dir / MULTIRUN_FILE, OmegaConf.to_yaml(self.config))
        launches, first = [], 0
        for batch in batches:
            runs = _consecutive([n for n in range(first, first + len(batch)) if n not in done])
            if runs:
                launches.append([(run[0], [list(batch[n - first]) for n in run])
                                 for run in runs])
            first += len(batch)
        return launches

    def _finished_before(self, overrides: list[list[str]]) -> set[int]:
        """The numbers of the jobs (``overrides``, in job order) that finished before, each
        said in one line, once the checks pass; with ``resume``, the other jobs' folders
        cleared."""
        if self.resume:
            self._check_same_sweep()
        jobs = [self._job(num, job) for num, job in enumerate(overrides)]
        finished = [job for job in jobs if (job.folder / METRICS).is_file()]
        self._check_finished(finished)
        for job in finished:
            print(f"tsbench: job {job.num}{self._label(job)} finished before: "
                  f"{figures(self.finished[job.num].metrics)}", flush=True)
        done = {job.num for job in finished}
        if self.resume:
            job_log = f"{self.config.hydra.job.name}.log"
            for job in jobs:
                if job.num not in done:
                    clear_unfinished(job.folder, job_log)
            print(f"tsbench: resume: {len(done)} of {len(jobs)} jobs finished before, "
                  f"{len(jobs) - len(done)} to run", flush=True)
        return done

    def folders(self, first: int, batch: Sequence[Sequence[str]]) -> dict[int, Path]:
        """The folders of a run's jobs that started (``first``: its first job number;
        ``batch``: its jobs' overrides), by job number, as Hydra names them: up to the first
        without a folder, since the basic launcher starts them one after another (each
        costs a composition, and a stopped sweep of many jobs has a signal's grace period
        to say its summary in)."""
        found: dict[int, Path] = {}
        for num, job in enumerate(batch, start=first):
            folder = self._job(num, list(job)).folder
            if not folder.is_dir():
                break
            found[num] = folder
        return found

    def _holds_jobs(self) -> bool:
        """Whether the sweep's folder holds a job's folder (a finished run, or one to clear)."""
        return self.sweep_dir.is_dir() and any(
            p.is_dir() for p in self.sweep_dir.iterdir())

    def _job(self, num: int, overrides: list[str]) -> Job:
        """Job ``num``, composed as its launcher will, and its folder as Hydra names it."""
        config = self.loader.load_sweep_config(self.config, overrides)
        with open_dict(config):
            config.hydra.job.num = num
            config.hydra.job.id = f"job_id_for_{num}"
        hydra = HydraConfig.instance()
        before = hydra.cfg
        hydra.set_config(config)  # for a ${hydra:...} in the folder's name
        try:
            folder = Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)
        finally:
            hydra.cfg = before
        return Job(num, overrides, folder, config)

    def _label(self, job: Job) -> str:
        """`` (model=dlinear seed=2)``: the job's values of the swept settings."""
        values = [o for o in job.overrides if o.split("=", 1)[0] in self.swept]
        return f" ({' '.join(values)})" if values else ""

    def _check_same_sweep(self) -> None:
        """Refuse a resume into a folder whose ``multirun.yaml`` holds another sweep."""
        path = self.sweep_dir / MULTIRUN_FILE
        if not path.is_file():
            return
        before = OmegaConf.load(path)
        if is_search(True, OmegaConf.select(before, "hydra.sweeper", default={})):
            raise ConfigError("hydra.sweeper.resume", f"{self.sweep_dir} holds a search "
                              f"({before.hydra.sweeper._target_}), not a plain multirun",
                              "resume it with its own command, or give a new hydra.sweep.dir")
        then, now = _sweep(before), _sweep(self.config)
        differs = [f"{name} {_only(then[i], now[i])} there, {_only(now[i], then[i])} in this "
                   "command" for i, name in enumerate(("its overrides", "hydra.sweeper.params",
                                                       "hydra.sweep.subdir"))
                   if then[i] != now[i]]
        if differs:
            raise ConfigError("hydra.sweeper.resume", f"{self.sweep_dir} holds another "
                              f"multirun ({'; '.join(differs)}): its finished jobs would mix "
                              "with this one's", "resume it with its own command (its "
                              f"{MULTIRUN_FILE}), or give a new hydra.sweep.dir")

    def _check_finished(self, finished: list[Job]) -> None:
        """Refuse a finished job without ``resume``, or one that ran other overrides; one
        that ran another config, code or data unless ``resume=force`` (then warned). Each
        finished job is read once, into :attr:`finished`."""
        changed: list[tuple[Job, list[str], str]] = []
        for job in finished:
            if not self.resume:
                raise ConfigError("hydra.sweep.dir", f"{job.folder} holds a finished run "
                                  f"({METRICS}) of job {job.num}{self._label(job)}: this "
                                  "multirun would mix its files with that run's", RESUME_FIX)
            ran = _ran(job.folder)
            task = [str(o) for o in job.config.hydra.overrides.task]
            if ran is None or sorted(_absolute(ran, ran_in(job.folder / HYDRA_RECORD))) != sorted(
                    _absolute(task, ran_in(job.config))):
                raise ConfigError(
                    "hydra.sweeper.resume", f"{job.folder} holds a finished run of "
                    f"{' '.join(ran) if ran else 'overrides it does not record'}, not of job "
                    f"{job.num} of this command ({' '.join(task)})", "give the overrides in "
                    "the order the sweep that ran there had (its multirun.yaml; the order "
                    "numbers the jobs), or give a new hydra.sweep.dir")
            self.finished[job.num] = load_run(job.folder, warn_code=False)
            differences, hint = _changes(job, self.finished[job.num])
            if differences:
                changed.append((job, differences, hint))
        if not changed:
            return
        job, differences, hint = changed[0]
        said = (f"job {job.num}{self._label(job)} in {job.folder}: {' and '.join(differences)} "
                "changed since it finished")
        others, results = "", "its result"
        if len(changed) > 1:
            more = len(changed) - 1
            others = f" (and for {counted(more, 'other finished job')})"
            results = "their results"
        if self.resume == "force":
            print(f"tsbench: warning: {said}{others}; hydra.sweeper.resume=force keeps "
                  f"{results} beside jobs run with those of now", file=sys.stderr, flush=True)
            return
        raise ConfigError("hydra.sweeper.resume", f"{said}{others}: {results} would stand "
                          "beside jobs run with those of now", f"restore what changed{hint}, "
                          "delete the folder of each such job to run it again, or keep them "
                          "with hydra.sweeper.resume=force")


def _consecutive(nums: list[int]) -> list[list[int]]:
    """``nums`` (ascending) in runs of consecutive numbers: [0, 1, 3] -> [[0, 1], [3]]."""
    runs: list[list[int]] = []
    for n in nums:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def _sweep(config: DictConfig) -> tuple[list[str], list[str], list[str]]:
    """What makes a basic sweep's jobs: its task overrides (in any order), sweeper params
    (``key=value``) and job folders' name."""
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    subdir = OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir")
    return (sorted(_absolute(config.hydra.overrides.task, ran_in(config))),
            sorted(_absolute([f"{k}={v}" for k, v in params.items()], ran_in(config))),
            [str(subdir)])


def _only(these: list[str], those: list[str]) -> str:
    """The items of ``these`` not in ``those``, in one text (``(none)`` for none)."""
    return " ".join(t for t in these if t not in those) or "(none)"


def _ran(folder: Path) -> list[str] | None:
    """The task overrides the job in ``folder`` ran (Hydra's record), or None."""
    path = folder / HYDRA_OVERRIDES
    return [str(o) for o in OmegaConf.load(path)] if path.is_file() else None


def _absolute(overrides: Sequence[Any], cwd: str | None) -> list[str]:
    """``overrides`` with each file or folder made absolute from ``cwd``
    (:func:`tsbench.search.report.absolute_paths`): a path written relative on one command
    and absolute, or from ``~``, on the other is one override."""
    from tsbench.search.report import absolute_paths  # imports scikit-optimize

    return [absolute_paths(str(o), cwd) for o in overrides]


def _absolute_settings(params: dict[str, Any], cwd: str | None) -> dict[str, Any]:
    """``params`` (:func:`tsbench.training.protocol.flat_params`) with each file or folder
    setting's value made absolute from ``cwd``, as :func:`_absolute` makes an override's."""
    from tsbench.search.report import PATH_SETTINGS

    return {k: _absolute([f"{k}={v}"], cwd)[0].partition("=")[2]
            if k in PATH_SETTINGS and isinstance(v, str) else v for k, v in params.items()}


def setting_changes(then: DictConfig, then_in: str | None, now: DictConfig,
                    now_in: str | None) -> dict[str, tuple[str | None, str | None]]:
    """Each setting (flat keys, ``hydra`` left out) whose value differs between two
    configs, by key in order, with its value in each (None: not set there); a file's path
    made absolute from the folder each config's command ran in (``then_in``, ``now_in``)."""
    from tsbench.training.protocol import flat_params

    def flat(config: DictConfig, cwd: str | None) -> dict[str, Any]:
        tree = OmegaConf.to_container(config)
        assert isinstance(tree, dict)
        tree.pop("hydra", None)
        return _absolute_settings(flat_params(tree), cwd)

    old, new = flat(then, then_in), flat(now, now_in)
    return {k: (old.get(k), new.get(k)) for k in sorted(old.keys() | new.keys())
            if old.get(k) != new.get(k)}


def changed(key: str, old: str | None, new: str | None) -> str:
    """``key old -> new`` (``(none)`` where not set)."""
    return f"{key} {'(none)' if old is None else old} -> {'(none)' if new is None else new}"


def _changes(job: Job, run: LoadedRun) -> tuple[list[str], str]:
    """What differs between the finished ``run`` in ``job.folder`` and ``job`` as it would
    run now (its config, tsbench's code or the user's model file, its csv file), and how to
    get that code back (the commit its card names)."""
    found = []
    recorded = job.folder / HYDRA_CONFIG
    if recorded.is_file():
        changes = setting_changes(OmegaConf.load(recorded), ran_in(job.folder / HYDRA_RECORD),
                                  job.config, ran_in(job.config))
        keys = list(changes)
        shown = [changed(k, *changes[k]) for k in keys[:SHOWN]]
        more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
        if keys:
            found.append(f"its config ({', '.join(shown)}{more})")
    found += run.code_changes
    read = (run.card.get("dataset") or {}).get("sha256")
    try:
        digest = csv_digest(job.config.dataset)
    except OmegaConfBaseException:  # a path only the job can resolve: its run checks it
        digest = None
    if read and digest and digest != read:
        found.append(f"its data file {job.config.dataset.path} (sha256 {str(read)[:12]} -> "
                     f"{digest[:12]})")
    # how to get the code back, where that changed: ": that code (git checkout ...)"
    return found, f": {run.code_fix.removeprefix('restore ')}" if run.code_changes else ""
