"""A sweep killed with SIGKILL: its workers' trials stop with it (no orphans), and its resume
runs them again."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY
from tests.preloaded import Started, command_line, descendants, parent_of, run_module, running
from tests.training.slow_model import SLOW_DLINEAR, SLOW_ENV, SLOW_STEP
from tsbench import sweep_watch


def workers_of(sweep_pid: int) -> list[int]:
    """The processes that train the sweep's trials: those below its children (joblib's
    workers are children of the fork server it forked, submitit_local's jobs children of
    its job starters), but the resource trackers, which end once the workers have. (The
    environment a worker forked from the sweep shows in /proc is the one its first program
    started with: the sweep's mark is not in it.)"""
    return [pid for pid in descendants(sweep_pid) if parent_of(pid) != sweep_pid
            and "resource_tracker" not in (command_line(pid) or "")]


@pytest.mark.heavy(seconds=40)
@pytest.mark.parametrize("launcher", [["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                                      ["hydra/launcher=submitit_local"]])
def test_a_killed_searchs_trials_stop_with_it_and_its_resume_runs_them(
        tmp_path: Path, launcher: list[str]) -> None:
    """The sweep's process alone killed (SIGKILL, as the out-of-memory killer sends it)
    while both trials train in worker processes: the workers end within about a second
    (each watches the sweep's process), no trial trains on to its metrics.json, and the
    same command with ``hydra.sweeper.resume=true`` runs both again (joblib's, one at a
    time in its own process), to exactly ``n_trials``. The trials train a DLinear that
    sleeps in each step (tests/training/slow_model.py), seconds from their end when the
    kill lands; the resume, without the sleep, trains them at DLinear's speed."""
    sweep = tmp_path / "sweep"
    args = ["-m", "hydra/sweeper=skopt", "hydra.sweeper.n_trials=2",
            "hydra.sweeper.n_initial_points=2", "hydra.sweeper.n_jobs=2",
            "optim.lr=choice(0.001,0.002)", *launcher, *TINY, *SLOW_DLINEAR,
            f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **SLOW_ENV}
    proc = Started("tsbench", args, env, cwd=ROOT, new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while not all((sweep / job / "config.yaml").is_file() for job in ("0", "1")):
            assert proc.poll() is None and time.monotonic() < deadline, "no trial started"
            time.sleep(0.05)
        workers = workers_of(proc.pid)
        assert len(workers) >= 2  # both trials train in worker processes
        proc.send_signal(signal.SIGKILL)  # the sweep's process alone, as the OOM killer would
        proc.wait()
        killed = time.monotonic()
        while running(workers) and time.monotonic() < killed + 30:
            time.sleep(0.05)
        assert running(workers) == [] and time.monotonic() - killed < 3
    finally:
        for pid in [proc.pid, *workers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert not list(sweep.glob("*/metrics.json"))  # neither trial trained on to its end
    env.pop(SLOW_STEP)
    # joblib's resume trains in its own process, one trial at a time (no workers to start,
    # each importing torch; a resume in joblib's workers: tests/cli/test_multirun_resume.py);
    # submitit_local's in its own jobs, as it was killed
    one_at_a_time = (["hydra.launcher.n_jobs=1", "hydra.sweeper.n_jobs=1"]
                     if "hydra/launcher=joblib" in launcher else [])
    resumed = run_module("tsbench", [*args, "hydra.sweeper.resume=true", *one_at_a_time], env,
                         cwd=ROOT, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    with open(sweep / "trials.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert [(r["status"], r["error"]) for r in rows] == [
        ("ok", "relaunched: job 0 died with the sweep"),
        ("ok", "relaunched: job 1 died with the sweep")]
    assert sorted(p.parent.name for p in sweep.glob("*/metrics.json")) == ["2", "3"]


def test_without_proc_the_watch_reads_parents_from_ps(monkeypatch: pytest.MonkeyPatch) -> None:
    # macOS has no /proc: without ps, a stage forked by tsbench-tune's server (a grandchild)
    # was never watched, and a SIGTERM'd joblib sweep waited for its workers' trials
    monkeypatch.setattr(sweep_watch, "_PROC", False)
    assert sweep_watch._parent(os.getpid()) == os.getppid()
    grandparent = sweep_watch._parent(os.getppid())
    assert grandparent is not None and sweep_watch._descends_from(grandparent)
    assert not sweep_watch._descends_from(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert sweep_watch._parent(child.pid) == os.getpid()
    finally:
        child.kill()
        child.wait()
    assert sweep_watch._parent(child.pid) is None  # gone
    # a ps that cannot run: the watch cannot tell, and keeps watching (it used to read "not
    # an ancestor" and end the process)
    def no_fork(*args: object, **kwargs: object) -> None:
        raise OSError("fork: Resource temporarily unavailable")

    monkeypatch.setattr(sweep_watch.subprocess, "Popen", no_fork)
    assert sweep_watch._descends_from(grandparent) is None


def test_without_proc_children_are_seen_by_ps_and_ps_is_not_one() -> None:
    # a fresh process, whose only children are the ones it starts
    code = textwrap.dedent("""
        import subprocess, sys
        from tsbench import sweep_watch
        sweep_watch._PROC = False
        before = sweep_watch.has_children()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        during = sweep_watch.has_children()
        child.kill(); child.wait()
        print(before, during, sweep_watch.has_children())
        """)
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout.split()
    assert said == ["False", "True", "False"]
