"""A plain multirun stopped between jobs: the jobs its multirun.yaml plans that never
started are said, per sweep folder, with the command that runs them (a report over it
showed fewer seeds, or no row of a model whose turn never came, and said nothing)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.report.conftest import Zoo, report, row_labels


def test_jobs_a_stopped_sweep_never_started_are_said(zoo: Zoo, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"  # model=dlinear,naive x pred_len=24,36 x seed=1,2: 8 jobs
    shutil.copytree(zoo.sweep, sweep)
    for job in ("4", "5", "6", "7"):  # stopped before naive's turn: its folders never made
        shutil.rmtree(sweep / job)
    proc = report(sweep)
    assert set(row_labels(proc.stdout)) == {"dlinear"}
    assert proc.stderr == (
        f"tsbench-report: warning: {sweep}: 4 of the sweep's 8 jobs never started (its "
        "multirun.yaml plans 8, 4 job folders are there), e.g. job 4: model=naive "
        "pred_len=24 seed=1, so the report lacks them (stopped, or still running) -> resume "
        f"it with the same command, hydra.sweep.dir={sweep} and hydra.sweeper.resume=true "
        "(its finished jobs are not run again)\n")


def test_a_whole_sweep_and_a_searchs_folder_say_nothing(zoo: Zoo, tmp_path: Path) -> None:
    """Every planned job there; a search's trials, which its sweeper chooses (a search of
    seq_len=choice(24,36) whose second trial is gone is no sweep of both values)."""
    assert report(zoo.sweep, zoo.seq_sweep).stderr == ""
    search = tmp_path / "search"
    shutil.copytree(zoo.seq_sweep, search)
    shutil.rmtree(search / "1")
    assert "never started" not in report(search).stderr


def test_finished_jobs_that_write_no_metrics_count_as_started(tmp_path: Path) -> None:
    """A plain multirun of ``tsbench-analyze`` (each finished job writes lookback.yaml, no
    metrics.json) ran every job it plans: nothing is said to have never started."""
    from omegaconf import OmegaConf

    from tsbench.hydra_private import basic_sweeper_target
    from tsbench.report.planned import never_started
    from tsbench.rundir import HYDRA_CONFIG, LOOKBACK

    sweep = tmp_path / "analyses"
    sweep.mkdir()
    OmegaConf.save({"hydra": {
        "sweeper": {"_target_": basic_sweeper_target(), "params": None},
        "overrides": {"task": ["dataset=etth1,etth2"]}}}, sweep / "multirun.yaml")
    for job, name in enumerate(("etth1", "etth2")):
        (sweep / str(job) / HYDRA_CONFIG).parent.mkdir(parents=True)
        (sweep / str(job) / HYDRA_CONFIG).write_text(f"dataset:\n  name: {name}\n")
        (sweep / str(job) / LOOKBACK).write_text("periods: [24]\n")
    said: list[str] = []
    never_started([tmp_path], (), said.append)
    assert said == []
    (sweep / "1" / HYDRA_CONFIG).unlink()  # job 1 never started: said, as for tsbench's jobs
    (sweep / "1" / LOOKBACK).unlink()
    never_started([tmp_path], (), said.append)
    assert len(said) == 1 and ("1 of the sweep's 2 jobs never started (its multirun.yaml "
                               "plans 2, 1 job folder is there), e.g. job 1: dataset=etth2, "
                               "so the report lacks it (stopped, or still running)") in said[0]
    # Hydra's own basic sweeper ran it, which has no hydra.sweeper.resume to give
    assert "hydra.sweeper.resume" not in said[0]
    assert said[0].endswith("run the jobs left with the same command and those values "
                            "alone, in a folder of their own (Hydra's basic sweeper, which "
                            "ran it, does not resume; tsbench's default one does), and report "
                            "both folders")
