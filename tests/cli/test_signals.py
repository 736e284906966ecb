"""A run or sweep stopped by SIGTERM (a cluster's time limit or preemption) or Ctrl-C ends
with the shell's status for that signal and one line saying what it left: Lightning's own
handler ended a SIGTERM'd run with exit 0, which a requeue-on-failure wrapper takes for
success."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TINY
from tests.preloaded import Started, group_alive, run_module, running
from tests.training.slow_model import SLOW_DLINEAR, SLOW_ENV, SLOW_STEP
from tsbench.cli import check_command_line


@pytest.mark.heavy(seconds=20)
@pytest.mark.parametrize("stop, status, said", [
    (signal.SIGTERM, 143, "tsbench: stopped by SIGTERM: the run in {} did not finish (no "
                          "metrics.json) -> run it again"),
    (signal.SIGINT, 130, "tsbench: stopped by SIGINT: the run in {} did not finish (no "
                         "metrics.json) -> run it again"),
])
def test_a_run_stopped_in_training_exits_with_the_signals_status(
        tmp_path: Path, stop: signal.Signals, status: int, said: str) -> None:
    run_dir = tmp_path / "run"  # a fresh interpreter, as a shell starts one (the sweeps
    # below are forked from the suite's preloaded server: tests/preloaded.py)
    command = [sys.executable, "-m", "tsbench", *TINY, "model=patchtst", "trainer=cpu",
               "trainer.max_epochs=200", "trainer.patience=200", "trainer.progress_bar=false",
               "seq_len=24", f"hydra.run.dir={run_dir}"]
    with subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.time() + 120
        while not (run_dir / "checkpoints" / "best.ckpt").exists() and time.time() < deadline:
            time.sleep(0.1)  # an epoch validated: training under way (200 take minutes)
        proc.send_signal(stop)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == said.format(run_dir)
    assert not (run_dir / "metrics.json").exists()


@pytest.mark.parametrize("args, kind", [
    ([], "run"),
    (["-m", "seed=1,2"], "multirun"),
    (["-m", "hydra/sweeper=skopt", "seq_len=choice(24,48)"], "search"),
    (["search=random"], "search"),  # a preset that runs as a multirun without -m
])
def test_what_a_command_runs_names_what_a_stop_leaves(args: list[str], kind: str) -> None:
    tiny = [a for a in TINY if not a.startswith("model=")]  # search=random's PatchTST
    assert check_command_line([*args, *tiny]).kind == kind


def _two_workers_search(sweep: Path) -> list[str]:
    """A search of two long PatchTST trials side by side in joblib's worker processes."""
    return ["-m", "hydra/sweeper=skopt",
            "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2",
            "optim.lr=choice(0.001,0.01)", "hydra.sweeper.n_trials=2",
            "hydra.sweeper.n_initial_points=2", *TINY, "model=patchtst", "trainer=cpu",
            "trainer.max_epochs=200", "trainer.patience=200", "seq_len=24",
            f"hydra.sweep.dir={sweep}"]


@pytest.mark.heavy(seconds=40)
def test_a_search_with_worker_processes_stops_at_once_naming_its_folder(tmp_path: Path) -> None:
    """joblib's workers train the running trials: waiting for them would train them to the
    end and lose them, unrecorded. The sweep ends at once, its workers with it, and the
    line names the folder to resume (a default one is new at every start)."""
    sweep = tmp_path / "sweep"
    with Started("tsbench", _two_workers_search(sweep), {**os.environ, "OMP_NUM_THREADS": "1"},
                 new_session=True) as proc:  # its workers: its group
        deadline = time.time() + 180
        while (len(list(sweep.glob("*/checkpoints/best.ckpt"))) < 2
               and time.time() < deadline):
            time.sleep(0.05)  # both trials training in the workers: an epoch validated
        proc.send_signal(signal.SIGTERM)
        stopped = time.time()
        proc.wait(timeout=60)
        took = time.time() - stopped
        left = _left_in_group(proc.pid, 10)  # the workers end with the sweep (their watch,
        _, stderr = proc.communicate()  # at the latest), their lines written
    assert proc.returncode == 143 and took < 10, stderr[-2000:]
    assert "resource_tracker" not in stderr  # loky's list of what it cleans up after us
    said = [line for line in stderr.splitlines() if line.startswith("tsbench:")]
    assert said[-1] == (
        "tsbench: stopped by SIGTERM: the sweep's folder keeps its ended trials -> resume it "
        f"with the same command, hydra.sweep.dir={sweep} and hydra.sweeper.resume=true")
    assert not left  # no worker left behind
    assert not list(sweep.glob("*/metrics.json"))  # neither trial trained on to its end


@pytest.mark.heavy(seconds=40)
@pytest.mark.parametrize("under_way", [".hydra/config.yaml", "config.yaml"])
def test_a_ctrl_c_to_a_search_with_worker_processes_ends_in_its_stop_line(
        tmp_path: Path, under_way: str) -> None:
    """A terminal's Ctrl-C sends SIGINT to the whole process group, the joblib workers
    too, whose KeyboardInterrupt breaks their trials off: the sweep's process kills them
    before its stop line (tsbench.sweep_watch.end_children), so no traceback follows it,
    no worker is left hung (one broken off in its first seconds, importing torch as Hydra
    started its first job, waited minutes for its next task), and none outlives the sweep
    to say that the sweep's process died. Stopped as the jobs start (Hydra wrote their
    .hydra/ folders) and while they train (tsbench wrote their config.yaml)."""
    sweep = tmp_path / "sweep"
    with Started("tsbench", _two_workers_search(sweep), {**os.environ, "OMP_NUM_THREADS": "1"},
                 new_session=True) as proc:
        deadline = time.time() + 180
        while len(list(sweep.glob(f"*/{under_way}"))) < 2 and time.time() < deadline:
            time.sleep(0.05)  # both jobs under way in the workers
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        left = _left_in_group(proc.pid, 10)  # the workers watch the sweep's process
        stdout, stderr = proc.communicate()  # (tsbench.sweep_watch): the workers' lines too
    assert proc.returncode == 130, stderr[-2000:]
    for noise in ("KeyboardInterrupt", "Traceback", "stops with it", "resource_tracker"):
        assert noise not in stdout + stderr, stdout[-2000:] + stderr[-2000:]
    said = [line for line in stderr.splitlines() if line.startswith("tsbench:")]
    assert said[-1] == (
        "tsbench: stopped by SIGINT: the sweep's folder keeps its ended trials -> resume it "
        f"with the same command, hydra.sweep.dir={sweep} and hydra.sweeper.resume=true")
    assert not left  # no worker left behind (one hung would wait minutes for its next task)
    assert not list(sweep.glob("*/metrics.json"))  # neither trial trained on to its end


def _left_in_group(group: int, seconds: float) -> bool:
    """Whether a process of the process group ``group`` still runs after up to ``seconds``
    (killed then: the test's own cleanup)."""
    deadline = time.time() + seconds
    while group_alive(group) and time.time() < deadline:
        time.sleep(0.05)
    if not group_alive(group):
        return False
    os.killpg(group, signal.SIGKILL)
    return True


DEAF = ("import signal, subprocess, sys, time; "
        "[signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]; ")
STOPPED_WITH_A_CHILD = f"""
import subprocess, sys, time
from tsbench.cli import stop_on_signals
stop_on_signals("search")  # before the pids are printed: the test's signal comes after them
child = subprocess.Popen([sys.executable, "-c", {DEAF!r} + "grandchild = subprocess.Popen("
                          "[sys.executable, '-c', {DEAF!r} + 'time.sleep(300)']); "
                          "print(grandchild.pid, flush=True); time.sleep(300)"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
print(child.pid, child.stdout.readline().strip(), flush=True)
time.sleep(300)
"""


def test_a_stopped_sweep_ends_its_workers_that_do_not_watch_it() -> None:
    """A worker broken off by the Ctrl-C before it began to watch the sweep (Hydra setting
    its first job up) waited for its next task for minutes, loky's idle timeout, holding
    the terminal's pipes; a worker training took SIGTERM for Lightning's request to end the
    trial, and went on to its next job; submitit_local's jobs (grandchildren) ignore
    SIGTERM. The sweep's stop kills its children and theirs before its stop line (here a
    child and a grandchild that ignore SIGINT and SIGTERM, and watch nothing)."""
    with subprocess.Popen([sys.executable, "-c", STOPPED_WITH_A_CHILD], text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        workers = [int(pid) for pid in proc.stdout.readline().split()]
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stderr.startswith("tsbench: stopped by SIGINT: the sweep's folder keeps"), stderr
    left = running(workers)
    for pid in left:  # the test's own cleanup
        os.kill(pid, signal.SIGKILL)
    assert left == []  # none outlives the stop line


def _running_in_group(group: int) -> list[str]:
    """The processes of the process group ``group`` that still run, but the resource
    trackers, which end once the workers have, and the processes exiting (zombies, and
    those whose memory, command line included, is already released)."""
    running = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if (int(fields[2]) == group and fields[0] != "Z" and command
                and "resource_tracker" not in command):
            running.append(f"{proc.name} {fields[0]} {command}")
    return running


def _written_since(folder: Path, since: float) -> list[Path]:
    """The files and folders under ``folder`` changed after ``since`` (a time.time())."""
    return [path for path in folder.rglob("*") if path.stat().st_mtime > since]


@pytest.mark.heavy(seconds=30)
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
@pytest.mark.parametrize("sweep_over, one_at_a_time", [
    (["seed=1,2,3,4"], []),  # two jobs training, two queued in the workers' pipe
    (["hydra/sweeper=skopt", "hydra.sweeper.n_trials=4", "hydra.sweeper.n_initial_points=4",
      "hydra.sweeper.n_jobs=4", "optim.lr=choice(0.001,0.002,0.003,0.004)"],
     ["hydra.sweeper.n_jobs=1"]),
])
def test_a_stopped_sweep_starts_and_writes_no_job_after_its_stop_line(
        tmp_path: Path, sweep_over: list[str], one_at_a_time: list[str]) -> None:
    """A sweep's process stopped alone (``kill -INT``): SIGTERM'd workers that were
    training took it for Lightning's request to end the trial, which loky reported as the
    trial's error, and went on to the next jobs queued in their pipe after the sweep had
    said it stopped, writing into the folder that a resume then ran in too. The workers
    are killed before the stop line; the jobs they broke off are run by the resume (one
    that had written its metrics.json just before is recorded from its folder, not run
    again: tests/search/test_adopted_trials.py). The trials train a DLinear that sleeps
    in each step (tests/training/slow_model.py), still training when the signal lands;
    the resume, the same command without the sleep, trains them at DLinear's speed."""
    sweep, log = tmp_path / "sweep", tmp_path / "log.txt"
    args = ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *sweep_over, *TINY,
            *SLOW_DLINEAR, f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **SLOW_ENV}
    with Started("tsbench", args, env, new_session=True, stdout=log, stderr=log) as proc:
        try:
            deadline = time.time() + 120
            while len(list(sweep.glob("*/config.yaml"))) < 2 and time.time() < deadline:
                time.sleep(0.05)  # both workers training
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130, log.read_text()[-2000:]
            stopped = time.time()
            left = _running_in_group(proc.pid)
            while group_alive(proc.pid) and time.time() < stopped + 4.0:
                time.sleep(0.05)  # a process of the sweep's could still write, till it ends
        finally:
            if group_alive(proc.pid):  # the test's own cleanup
                os.killpg(proc.pid, signal.SIGKILL)
    assert left == [], left  # no worker outlives the sweep's process
    said = log.read_text().strip().splitlines()
    assert said[-1].startswith("tsbench: stopped by SIGINT:"), said[-5:]  # nothing after
    assert _written_since(sweep, stopped) == []  # nor starts or writes a job after it
    assert [job for job in sweep.glob("*/config.yaml")  # trials broken off
            if not (job.parent / "metrics.json").exists()]
    env.pop(SLOW_STEP)
    # the resume trains in its own process, one trial at a time (joblib's n_jobs=1: no
    # workers to start, each importing torch); a resume in joblib's workers:
    # tests/cli/test_multirun_resume.py, tests/search/test_resume_state.py (skopt)
    resumed = run_module("tsbench", [*args, "hydra.sweeper.resume=true",
                                     "hydra.launcher.n_jobs=1", *one_at_a_time], env,
                         timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert len(list(sweep.glob("*/metrics.json"))) == 4
