"""A plain multirun stopped part-way (Ctrl-C, a cluster's time limit) resumes: the same command
with ``hydra.sweeper.resume=true``, into the same ``hydra.sweep.dir``, runs only the jobs left.
Hydra's basic sweeper resumed nothing: the user had to work out the jobs left and run them
into a new folder, and the same command again was refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import TINY, read_metrics, run_tsbench
from tests.preloaded import run_module
from tests.unseen import TIMINGS
from tsbench.cli import check_command_line, stopped_line
from tsbench.errors import ConfigError
from tsbench.multirun_resume import RESUME_FIX, Jobs
from tsbench.rundir import figures
from tsbench.search.names import SWEEP_DIR_ENV


def files(folder: Path) -> dict[Path, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and modification time."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def job_files(sweep: Path) -> dict[Path, tuple[bytes, int]]:
    """:func:`files` of the sweep's job folders (its multirun.yaml and lock are each
    command's)."""
    return {p: v for p, v in files(sweep).items() if p.parent != sweep}


def scores(job: Path) -> dict:
    return {k: v for k, v in read_metrics(job).items() if k not in TIMINGS}


def stopped_part_way(sweep: Path) -> dict[str, dict]:
    """Make ``sweep`` (jobs 0, 1, 2 finished) a sweep stopped in job 1, before job 2: job 1
    without its metrics (a TensorBoard file and the log of the killed run left in it), job
    2's folder never made. Returns the jobs' scores as they finished."""
    before = {job: scores(sweep / job) for job in ("0", "1", "2")}
    (sweep / "1" / "metrics.json").unlink()
    (sweep / "1" / "tensorboard").mkdir()
    (sweep / "1" / "tensorboard" / "events.out.tfevents.killed").write_text("old curves")
    (sweep / "1" / "tsbench.log").write_text("the killed run's log\n")
    for path in sorted((sweep / "2").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (sweep / "2").rmdir()
    return before


@pytest.mark.heavy(seconds=35)
def test_the_same_command_resumed_runs_only_the_jobs_left(tmp_path: Path) -> None:
    """Stopped in job 1, the same command runs jobs 1 and 2 alone. Then stopped in jobs 0
    and 2 and resumed in joblib's workers (the same three finished jobs serve both, so one
    sweep): the finished job between two left is not launched, and each job left keeps its
    number (so its folder) though the two run as separate launches."""
    sweep = tmp_path / "sweep"
    args = [*TINY, "seed=1,2,3"]
    run_tsbench(args, sweep, multirun=True)
    before = stopped_part_way(sweep)
    kept = files(sweep / "0")
    again = run_tsbench(args, sweep, multirun=True, check=False)  # without resume: refused
    assert again.returncode == 2
    assert again.stderr == (
        f"tsbench: error: hydra.sweep.dir: {sweep / '0'} holds a finished run (metrics.json): "
        f"this multirun would mix its files with that run's -> {RESUME_FIX}\n")

    resumed = run_tsbench([*args, "hydra.sweeper.resume=true"], sweep, multirun=True)
    said = [line for line in resumed.stdout.splitlines() if line.startswith("tsbench: ")]
    assert said[:2] == [
        f"tsbench: job 0 (seed=1) finished before: {figures(before['0'])}",
        "tsbench: resume: 1 of 3 jobs finished before, 2 to run"]
    assert said[2:] == [f"tsbench: job 1: outputs in {sweep / '1'}", said[3],
                        f"tsbench: job 2: outputs in {sweep / '2'}", said[5]]
    assert said[3].startswith("tsbench: job 1: test_mse=")  # each job's lines name it
    assert files(sweep / "0") == kept  # not run again: not a byte, nor a time, changed
    assert {job: scores(sweep / job) for job in ("0", "1", "2")} == before  # as uninterrupted
    assert not (sweep / "1" / "tensorboard").exists()  # the killed run's curves cleared
    assert "killed" not in (sweep / "1" / "tsbench.log").read_text()
    record = yaml.safe_load((sweep / "1" / ".hydra" / "hydra.yaml").read_text())
    assert record["hydra"]["job"]["num"] == 1  # the job keeps its number

    # stopped in jobs 0 and 2, resumed in joblib's workers
    for job in ("0", "2"):
        (sweep / job / "metrics.json").unlink()
    kept = files(sweep / "1")
    joblib = run_tsbench([*args, "hydra.sweeper.resume=true", "hydra/launcher=joblib",
                          "hydra.launcher.n_jobs=2"], sweep, multirun=True)
    assert files(sweep / "1") == kept
    launched = [(line.split("\t", 1)[1].split(" : ")[0], line.rsplit(" ", 1)[1])
                for line in joblib.stdout.splitlines() if "\t#" in line]
    assert launched == [("#0", "seed=1"), ("#2", "seed=3")]  # the folders' (joblib's: #0, #0)
    assert {job: scores(sweep / job) for job in ("0", "1", "2")} == before

    # another sweep into the folder is refused, before any job
    kept = job_files(sweep)
    other = run_tsbench([*TINY, "seed=1,2,4", "hydra.sweeper.resume=true"], sweep,
                        multirun=True, check=False)
    assert other.returncode == 2 and other.stderr == (
        f"tsbench: error: hydra.sweeper.resume: {sweep} holds another multirun (its overrides "
        "seed=1,2,3 there, seed=1,2,4 in this command): its finished jobs would mix with this "
        "one's -> resume it with its own command (its multirun.yaml), or give a new "
        "hydra.sweep.dir\n")
    assert job_files(sweep) == kept


def test_a_job_finished_with_other_code_config_or_data_is_named_and_kept_only_by_force(
        tmp_path: Path) -> None:
    """Its result would stand beside jobs run with the code, config or data of now, as one
    sweep's."""
    data = tmp_path / "sales.csv"
    rows = [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{i % 7},{(i * 5) % 11}"
            for i in range(400)]
    data.write_text("\n".join(["date,price,OT", *rows]) + "\n")
    sweep = tmp_path / "sweep"
    args = [*(a for a in TINY if not a.startswith("dataset")), "dataset=csv",
            f"dataset.path={data}", "seq_len=24", "seed=1,2,3", "hydra.sweeper.resume=true"]
    run_tsbench(args, sweep, multirun=True)

    recorded = sweep / "1" / ".hydra" / "config.yaml"  # a preset edited since job 1 ran
    as_run = recorded.read_text()
    config = yaml.safe_load(as_run)
    config["data"]["batch_size"] = 16
    recorded.write_text(yaml.safe_dump(config))
    refused = run_tsbench(args, sweep, multirun=True, check=False)
    assert refused.returncode == 2 and refused.stderr.startswith(
        f"tsbench: error: hydra.sweeper.resume: job 1 (seed=2) in {sweep / '1'}: its config "
        "(data.batch_size 16 -> 32) changed since it finished: ")
    assert "-> restore what changed, delete the folder" in refused.stderr  # no code to name
    recorded.write_text(as_run)

    with data.open("a") as more:  # the file appended to since
        more.write("2024-01-17 16:00:00,1,2\n")
    refused = run_tsbench(args, sweep, multirun=True, check=False)
    assert refused.returncode == 2 and refused.stderr.startswith(
        f"tsbench: error: hydra.sweeper.resume: job 0 (seed=1) in {sweep / '0'}: its data file "
        f"{data} (sha256 ")
    assert "(and for 2 other finished jobs): their results would stand" in refused.stderr
    data.write_text("\n".join(["date,price,OT", *rows]) + "\n")

    card = json.loads((sweep / "1" / "protocol.json").read_text())
    card["source"]["sources_sha256"] = "0" * 64  # tsbench edited since job 1 ran
    (sweep / "1" / "protocol.json").write_text(json.dumps(card))
    kept = job_files(sweep)
    refused = run_tsbench(args, sweep, multirun=True, check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        f"tsbench: error: hydra.sweeper.resume: job 1 (seed=2) in {sweep / '1'}: tsbench's "
        "code and configs (source.sources_sha256 000000000000 -> ")
    assert ("changed since it finished: its result would stand beside jobs run with those "
            "of now -> restore what changed: that code") in refused.stderr
    assert refused.stderr.endswith("delete the folder of each such job to run it again, or "
                                   "keep them with hydra.sweeper.resume=force\n")
    assert job_files(sweep) == kept
    forced = run_tsbench([*args[:-1], "hydra.sweeper.resume=force"], sweep, multirun=True)
    assert "changed since it finished; hydra.sweeper.resume=force keeps its result" in (
        forced.stderr)
    assert "tsbench: resume: 3 of 3 jobs finished before, 0 to run" in forced.stdout
    assert job_files(sweep) == kept


def test_a_data_file_written_relative_then_absolute_is_one_sweep(tmp_path: Path) -> None:
    """The sweep's overrides were compared as written: ``dataset.path=data/sales.csv`` and
    the same file's absolute path, given in another folder, were two sweeps, and the resume
    was refused. Each command's relative path is read from the folder it ran in, each path
    of a sweep over files too (``a.csv,b.csv`` was made absolute as one path)."""
    data = tmp_path / "data" / "sales.csv"
    data.parent.mkdir()
    rows = [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{i % 7},{(i * 5) % 11}"
            for i in range(400)]
    data.write_text("\n".join(["date,price,OT", *rows]) + "\n")
    more = data.with_name("more.csv")
    shutil.copy(data, more)
    sweep = tmp_path / "sweep"
    args = ["-m", *(a for a in TINY if not a.startswith(("dataset", "seq_len"))),
            "dataset=csv", "seq_len=24", "trainer.max_epochs=1", f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = run_module("tsbench", [*args, "dataset.path=data/sales.csv,data/more.csv"], env,
                       cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    (sweep / "1" / "metrics.json").unlink()  # stopped in job 1
    resumed = run_module("tsbench", [*args, f"dataset.path={data},more.csv",
                                     "hydra.sweeper.resume=true"], env, cwd=data.parent)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "tsbench: resume: 1 of 2 jobs finished before, 1 to run" in resumed.stdout


def test_job_folders_named_by_values_are_not_written_over_without_resume(
        tmp_path: Path) -> None:
    """Hydra wrote a finished job's folder over when the same command ran again; only a
    multirun's folders named by number were refused."""
    sweep = tmp_path / "sweep"
    args = [*TINY, "seed=1,2", "hydra.sweep.subdir=seed_${seed}"]
    run_tsbench(args, sweep, multirun=True)
    kept = job_files(sweep)
    again = run_tsbench(args, sweep, multirun=True, check=False)
    assert again.returncode == 2 and again.stderr == (
        f"tsbench: error: hydra.sweep.dir: {sweep / 'seed_1'} holds a finished run "
        f"(metrics.json) of job 0 (seed=1): this multirun would mix its files with that "
        f"run's -> {RESUME_FIX}\n")
    resumed = run_tsbench([*args, "hydra.sweeper.resume=true"], sweep, multirun=True)
    assert "tsbench: resume: 2 of 2 jobs finished before, 0 to run" in resumed.stdout
    assert job_files(sweep) == kept


def test_the_folder_a_stop_names_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The default sweep folder is relative: a stop's line naming it so, run again from
    another folder, resumed nothing there and ran every job anew. So is the warning of a
    resume whose folder holds no job: it names where it looked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SWEEP_DIR_ENV, raising=False)
    config = OmegaConf.create({"hydra": {"sweep": {"dir": "outputs/multiruns/a"}}})
    assert Jobs(config, None, [], False).to_launch([]) == []
    assert os.environ[SWEEP_DIR_ENV] == str(tmp_path / "outputs" / "multiruns" / "a")
    assert Jobs(config, None, [], True).to_launch([]) == []
    assert capsys.readouterr().err.startswith(
        f"tsbench: warning: hydra.sweeper.resume: {tmp_path / 'outputs' / 'multiruns' / 'a'} "
        "holds no job of a sweep")


def test_a_stopped_multirun_says_how_to_resume_it(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWEEP_DIR_ENV, str(tmp_path / "sweep"))
    assert stopped_line(signal.SIGTERM, "multirun") == (
        "tsbench: stopped by SIGTERM: the jobs that ended kept their outputs -> resume it with "
        f"the same command, hydra.sweep.dir={tmp_path / 'sweep'} and hydra.sweeper.resume=true "
        "(its finished jobs are not run again)")
    # the folder's finished jobs are the sweeper's to check, job by job
    (tmp_path / "sweep" / "0").mkdir(parents=True)
    (tmp_path / "sweep" / "0" / "metrics.json").write_text("{}")
    command = ["-m", *TINY, "seed=1,2", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    with pytest.raises(ConfigError, match="resume the sweep with the command that made it"):
        check_command_line(command)
    assert check_command_line([*command, "hydra.sweeper.resume=true"]).kind == "multirun"
    # a search preset, or hydra/sweeper=skopt, still chooses its sweeper
    assert check_command_line(["-m", *TINY, "hydra/sweeper=skopt",
                               "seq_len=choice(24,48)"]).kind == "search"


@pytest.mark.parametrize("sweeper", [[], ["hydra/sweeper=skopt"]])
def test_a_resume_without_the_sweeps_folder_is_refused(tmp_path: Path, sweeper: list[str]
                                                       ) -> None:
    """hydra.sweeper.resume=true without hydra.sweep.dir went to the default folder, named
    by the time it starts: new, it held nothing, and the whole sweep ran anew in it after
    one log line; the folder to add is the one the stopped sweep's line names."""
    command = ["-m", *TINY, "seq_len=choice(24,48)", *sweeper, "hydra.sweeper.resume=true"]
    with pytest.raises(ConfigError) as refused:
        check_command_line(command)
    assert str(refused.value) == (
        "hydra.sweeper.resume: hydra.sweep.dir is outputs/multiruns/${now:%Y-%m-%d}/"
        "${now:%H-%M-%S-%f}, a new folder at every start: it holds no sweep to resume -> add "
        "hydra.sweep.dir=<the sweep's folder> (the line that stopped it names it), or drop "
        "hydra.sweeper.resume to start a new sweep")
    assert check_command_line([*command, f"hydra.sweep.dir={tmp_path}"]).kind in (
        "multirun", "search")
