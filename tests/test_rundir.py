"""The run directory read back: which folders are finished runs, each found once however
its root is reached, which fold holds a cross-validation run's model of the published
training rows, and what removing a refused run's folder leaves alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY, read_metrics, run_tsbench
from tsbench.forecast.tables import future
from tsbench.rundir import (
    find_runs,
    fold_dir,
    holdout_model_dir,
    is_finished,
    load_run,
    remove_refused,
)


def _finished(run_dir: Path) -> Path:
    """A folder with what marks a finished run: metrics.json beside its config.yaml."""
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text("{}")
    (run_dir / "config.yaml").write_text("seed: 1\n")
    return run_dir


def test_a_finished_run_has_its_config_beside_its_metrics(tmp_path: Path) -> None:
    """metrics.json alone (a folder whose config was never written or was lost) is not a
    run the report or tune can read; Hydra's copy of the config is enough."""
    run_dir = tmp_path / "a"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text("{}")
    assert not is_finished(run_dir)
    assert find_runs([tmp_path]) == []
    (run_dir / ".hydra").mkdir()
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 1\n")
    assert is_finished(run_dir)
    assert find_runs([tmp_path]) == [run_dir]


def test_a_run_reached_through_two_roots_is_found_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same sweep given twice, by a link to it or by a relative and an absolute path,
    is one sweep: each run once, by its real absolute path."""
    runs = [_finished(tmp_path / "sweep" / str(job)) for job in range(2)]
    (tmp_path / "alias").symlink_to(tmp_path / "sweep", target_is_directory=True)
    assert find_runs([tmp_path / "sweep", tmp_path / "alias"]) == runs
    monkeypatch.chdir(tmp_path)
    assert find_runs([Path("sweep"), tmp_path / "sweep"]) == runs


def test_a_cross_validation_runs_holdout_model_is_its_last_fold(tmp_path: Path) -> None:
    """With cv.test_size=val the last fold trained on the published training rows and
    validated on the validation split: it stands for the run where one model of those rows
    is needed (tune's scores and tuned forecasts); fold 0 trained on fewer rows. A holdout
    run is its own."""
    args = [a for a in TINY if not a.startswith("model")]
    holdout = tmp_path / "holdout"
    run_tsbench([*args, "model=naive"], holdout)
    assert holdout_model_dir(holdout) == holdout
    folds = tmp_path / "tscv"
    run_tsbench([*args, "model=naive", "cv=tscv", "cv.n_splits=3", "cv.test_size=val"], folds)
    assert len(read_metrics(folds)["cv_folds"]) == 3
    assert holdout_model_dir(folds) == fold_dir(folds, 2)
    # the last fold's model of the published training rows forecasts as the holdout run's
    np.testing.assert_allclose(future(load_run(holdout_model_dir(folds))).to_numpy(),
                               future(holdout).to_numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="this fold trained and was scaled on rows"):
        future(load_run(fold_dir(folds, 0)))


def _refused_run(run_dir: Path) -> Path:
    """What a run refused for bad input leaves: Hydra's config copy and config.yaml."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 1\n")
    (run_dir / "config.yaml").write_text("seed: 1\n")
    return run_dir


def test_removing_a_refused_run_does_not_follow_links(tmp_path: Path) -> None:
    """A refused run's folder is removed only as tsbench made it: a run folder that is a
    link to another folder, or whose .hydra is a link to a folder elsewhere, is the user's
    arrangement and stays, with what the links point to."""
    plain = _refused_run(tmp_path / "plain")
    remove_refused(plain, "x.log")
    assert not plain.exists()  # what the promise is about: such a folder goes
    real = _refused_run(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    remove_refused(link, "x.log")
    assert link.is_symlink() and (real / "config.yaml").is_file()
    assert (real / ".hydra" / "config.yaml").is_file()
    elsewhere = _refused_run(tmp_path / "elsewhere") / ".hydra"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("seed: 1\n")
    (run_dir / ".hydra").symlink_to(elsewhere, target_is_directory=True)
    remove_refused(run_dir, "x.log")
    assert (run_dir / "config.yaml").is_file() and (run_dir / ".hydra").is_symlink()
    assert (elsewhere / "config.yaml").is_file()
