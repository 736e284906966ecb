"""A plain multirun's MLflow parent never names a lucky seed best: children that are seeds of
one configuration get their spread (mean, std, count) and no best; children of several
configurations get the configuration of the lowest mean over its seeds. The parent's
``tsbench.sweep_dir`` is absolute, as each child's ``tsbench.run_dir`` is."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import pytest

from tests.preloaded import run_module
from tests.tracking.test_mlflow_resume import ARGS, run_of
from tests.tracking.test_tracking_records import _sweep
from tsbench.tracking.children import SEEDS_OF_ONE
from tsbench.tracking.mlflow_store import PARENT_RUN_FILE


def _children(callback: object, runs: list[tuple[int, int, float]]) -> list[str]:
    """Child runs of ``callback``'s parent, one per ``(seq_len, seed, objective)``; their
    ids."""
    client, parent_id = callback._client, callback._run_id
    experiment_id = client.get_run(parent_id).info.experiment_id
    ids = []
    for seq_len, seed, objective in runs:
        child = client.create_run(experiment_id, tags={"mlflow.parentRunId": parent_id})
        for key, value in (("seq_len", seq_len), ("seed", seed), ("protocol.seed", seed)):
            client.log_param(child.info.run_id, key, value)
        client.log_metric(child.info.run_id, "objective", objective)
        client.set_terminated(child.info.run_id)
        ids.append(child.info.run_id)
    return ids


def _record(callback: object) -> tuple[dict[str, float], dict[str, str]]:
    """The parent's metrics and its tags of tsbench (less its sweep_dir)."""
    data = callback._client.get_run(callback._run_id).data
    return data.metrics, {k: v for k, v in data.tags.items()
                          if k.startswith("tsbench.") and k != "tsbench.sweep_dir"}


def test_the_best_configuration_is_the_lowest_mean_over_seeds(tmp_path: Path) -> None:
    """seq_len 24 has the luckiest seed (0.1) but the worse mean (0.5); seq_len 96's one
    finite seed (0.2) would win were its diverged seed left out: 48 is the best, its seeds
    named in numeric order."""
    callback, config, _ = _sweep(tmp_path)
    ids = _children(callback, [(24, 1, 0.1), (24, 2, 0.9), (48, 10, 0.45), (48, 2, 0.4),
                               (96, 1, 0.2), (96, 2, float("nan"))])
    callback.on_multirun_end(config)
    metrics, tags = _record(callback)
    assert metrics == pytest.approx({"best_objective": 0.425, "best_objective_seeds": 2,
                                     "best_objective_std": statistics.stdev([0.4, 0.45])})
    assert tags == {"tsbench.best_run_ids": f"{ids[3]},{ids[2]}"}


def test_seeds_of_one_configuration_get_their_spread_and_no_best(tmp_path: Path) -> None:
    """A diverged seed is left out of the spread, as tsbench-report leaves it out."""
    callback, config, _ = _sweep(tmp_path)
    _children(callback, [(24, 1, 0.3), (24, 2, 0.5), (24, 3, float("nan"))])
    callback.on_multirun_end(config)
    metrics, tags = _record(callback)
    assert metrics == pytest.approx({"objective_mean": 0.4, "objective_seeds": 2,
                                     "objective_std": statistics.stdev([0.3, 0.5])})
    assert tags == {"tsbench.children": SEEDS_OF_ONE}


def test_seeds_that_agree_exactly_are_said_identical_with_no_std(tmp_path: Path) -> None:
    """Three seeds of 0.1 (a model that trains nothing): their value, exactly (not a mean
    rounded to 0.10000000000000002), no std of 0.0 that reads as a measured spread, and
    the tag that they are identical, as tsbench-report's "(3 seeds, identical)"; so too
    for the best of several configurations."""
    callback, config, _ = _sweep(tmp_path)
    _children(callback, [(24, seed, 0.1) for seed in (1, 2, 3)])
    callback.on_multirun_end(config)
    metrics, tags = _record(callback)
    assert metrics == {"objective_mean": 0.1, "objective_seeds": 3}
    assert tags == {"tsbench.children": SEEDS_OF_ONE, "tsbench.seeds_identical": "true"}
    callback, config, _ = _sweep(tmp_path / "several")
    ids = _children(callback, [(24, 1, 0.7), (24, 2, 0.7), (48, 1, 0.8), (48, 2, 0.9)])
    callback.on_multirun_end(config)
    metrics, tags = _record(callback)
    assert metrics == {"best_objective": 0.7, "best_objective_seeds": 2}
    assert tags == {"tsbench.best_run_ids": f"{ids[0]},{ids[1]}",
                    "tsbench.seeds_identical": "true"}


def test_settings_that_change_no_score_make_no_second_configuration(tmp_path: Path) -> None:
    """Seeds at two scoring batch sizes and thread counts are one configuration, as
    tsbench-report pools them into one cell: no best batch size is named."""
    callback, config, _ = _sweep(tmp_path)
    ids = _children(callback, [(24, 1, 0.3), (24, 2, 0.5)])
    for run_id, (batch, threads) in zip(ids, [(64, 1), (128, 2)], strict=True):
        callback._client.log_param(run_id, "data.eval_batch_size", batch)
        callback._client.log_param(run_id, "trainer.num_threads", threads)
    callback.on_multirun_end(config)
    metrics, tags = _record(callback)
    assert metrics == pytest.approx({"objective_mean": 0.4, "objective_seeds": 2,
                                     "objective_std": statistics.stdev([0.3, 0.5])})
    assert tags == {"tsbench.children": SEEDS_OF_ONE}


def _multirun(tmp_path: Path, uri: str, *args: str) -> tuple[object, str, Path]:
    """Run ``tsbench -m`` tiny trials at ``seq_len`` and ``seed`` (``args``) with
    logger=mlflow to the store ``uri`` from ``tmp_path``, into the sweep folder ``mr/mlf``
    given relative; the store's client, the parent's id and the sweep folder."""
    from mlflow.tracking import MlflowClient

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_TRACKING_URI": uri}
    tiny = [a for a in ARGS if not a.startswith("seq_len")]
    proc = run_module("tsbench", ["-m", *tiny, *args, "hydra.sweep.dir=mr/mlf"], env,
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = tmp_path / "mr" / "mlf"
    return MlflowClient(uri), (sweep / PARENT_RUN_FILE).read_text(), sweep


@pytest.mark.heavy(seconds=35)
def test_a_multirun_over_settings_and_seeds_names_the_best_mean(tmp_path: Path, uri: str
                                                                ) -> None:
    """``seq_len=24,48 seed=1,2``: the best is a look-back, its mean over both seeds, with
    both its runs; not the luckiest run."""
    client, parent, sweep = _multirun(tmp_path, uri, "seq_len=24,48", "seed=1,2")
    runs: dict[str, list[tuple[str, str, float]]] = {}
    for job in sorted(sweep.glob("[0-9]")):
        run = client.get_run(run_of(uri, job))
        runs.setdefault(run.data.params["seq_len"], []).append(
            (run.data.params["seed"], run.info.run_id, run.data.metrics["objective"]))
    best = min(runs.values(), key=lambda seeds: statistics.fmean(s[2] for s in seeds))
    best.sort()
    data = client.get_run(parent).data
    assert data.metrics == pytest.approx({
        "best_objective": statistics.fmean(s[2] for s in best), "best_objective_seeds": 2,
        "best_objective_std": statistics.stdev(s[2] for s in best)})
    assert {k: v for k, v in data.tags.items() if k.startswith("tsbench.")} == {
        "tsbench.best_run_ids": ",".join(s[1] for s in best),
        "tsbench.sweep_dir": str(sweep.resolve())}
