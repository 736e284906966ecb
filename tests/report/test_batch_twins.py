"""Two runs of one seed that differ only in a setting that changes no score
(``data.eval_batch_size``) are one configuration, and the report keeps one of them; where
their scores differ, though, their model's forecast depends on its batch: the report keeps
both, as cells set apart by that setting, and says why. Real runs of tiny models on
synthetic data, the report's real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from hydra import compose, initialize_config_module

from tests.conftest import TINY, read_metrics
from tests.report.conftest import report
from tsbench.training.run import run


def _runs(tmp_path: Path, *model: str) -> tuple[Path, Path]:
    """The same run scored in batches of 128 windows and of 1."""
    dirs = []
    for size in (128, 1):
        with initialize_config_module("tsbench.conf", version_base="1.3"):
            cfg = compose("config", overrides=[*TINY, *model, "seed=1",
                                                f"data.eval_batch_size={size}"])
        run(cfg, tmp_path / f"batch_{size}")
        dirs.append(tmp_path / f"batch_{size}")
    return dirs[0], dirs[1]


def _labels(table: str) -> list[str]:
    return [line.split("|")[3].strip() for line in table.splitlines()
            if line.startswith("| ") and not line.startswith(("| dataset", "| ---"))]


def test_twins_whose_scores_differ_are_kept_apart_and_said_so(tmp_path: Path) -> None:
    # once trained (after the pre-run check, which forecasts before training), it copies
    # each window's future from the later windows' look-backs: scored 128 windows a batch,
    # it forecasts better than one at a time
    large, single = _runs(tmp_path, "model=naive", "model.name=peeks",
                          "model._target_=tests.models.faulty_models.PeeksOnceTrained")
    mse = read_metrics(single)["test_mse"], read_metrics(large)["test_mse"]
    assert mse[1] < 0.9 * mse[0]
    proc = report(tmp_path)
    assert _labels(proc.stdout) == ["peeks (data.eval_batch_size=1)",
                                    "peeks (data.eval_batch_size=128)"]
    assert proc.stderr == (
        f"tsbench-report: warning: {single} and {large} (seed 1) have different scores "
        f"(test_mse {mse[0]:.6g} vs {mse[1]:.6g}) although only data.eval_batch_size differs, "
        "which should change no score: kept as separate cells of peeks -> a model whose "
        "forecast of a window depends on the other windows of its batch (a later window's "
        "look-back holds an earlier one's future): trust its scores at data.eval_batch_size=1 "
        "alone, and make its forecast read its own window alone\n")
    # trained without deterministic algorithms (a GPU's trainer=gpu), twins may differ by
    # more than the tolerance: no verdict on the model, one cell as before
    for run_dir in (large, single):
        card = json.loads((run_dir / "protocol.json").read_text())
        (run_dir / "protocol.json").write_text(json.dumps({**card, "deterministic": False}))
    proc = report(tmp_path)
    assert _labels(proc.stdout) == ["peeks"]
    assert "have different scores" not in proc.stderr


def test_twins_whose_scores_agree_are_one_cell(tmp_path: Path) -> None:
    # DLinear forecasts each window on its own: float sums in another order, no more
    large, single = _runs(tmp_path, "model=dlinear")
    proc = report(tmp_path)
    assert _labels(proc.stdout) == ["dlinear"]
    assert proc.stderr == (
        f"tsbench-report: warning: left out {large}: same configuration and seed 1 as "
        f"{single} (they differ only in data.eval_batch_size, which changes no score)\n")
