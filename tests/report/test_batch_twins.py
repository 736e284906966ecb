"""Two runs of one seed that differ only in a setting that changes no score
(``data.eval_batch_size``) are one configuration, and the report keeps one of them; where
their scores differ, though, their model's forecast depends on its batch: the report keeps
both, as cells set apart by that setting, and says why. Real runs of tiny models on
synthetic data, the report's real CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.conftest import read_metrics
from tests.report.conftest import report, row_labels, tiny_run


def _runs(tmp_path: Path, *model: str, size: int = 128) -> tuple[Path, Path]:
    """The same run scored in batches of ``size`` windows and of 1."""
    return (tiny_run(tmp_path / f"batch_{size}", *model, "seed=1", f"data.eval_batch_size={size}"),
            tiny_run(tmp_path / "batch_1", *model, "seed=1", "data.eval_batch_size=1"))


def _copy(run_dir: Path, to: Path, seed: int | None = None, test_mse: float | None = None,
          deterministic: bool | None = None) -> Path:
    """A copy of ``run_dir`` as another seed, with another test_mse, or with its card saying
    whether it ran deterministic algorithms."""
    shutil.copytree(run_dir, to)
    if seed is not None:
        config = (to / "config.yaml").read_text()
        (to / "config.yaml").write_text(re.sub(r"(?m)^seed: \d+$", f"seed: {seed}", config))
    if test_mse is not None:
        metrics = json.loads((to / "metrics.json").read_text())
        (to / "metrics.json").write_text(json.dumps({**metrics, "test_mse": test_mse}))
    if deterministic is not None:
        card = json.loads((to / "protocol.json").read_text())
        (to / "protocol.json").write_text(json.dumps({**card, "deterministic": deterministic}))
    return to



def test_twins_whose_scores_differ_are_kept_apart_and_said_so(tmp_path: Path) -> None:
    # in batches of more than 256 windows alone (more than the checks before and after
    # training forecast in one batch), it copies each window's future from the later
    # windows' look-backs: scored 512 windows a batch (the test split's 309), it forecasts
    # better than one at a time
    large, single = _runs(tmp_path, "model=naive", "model.name=peeks", "dataset.n_rows=1600",
                          "model._target_=tests.models.faulty_models.PeeksPastCap", size=512)
    mse = read_metrics(single)["test_mse"], read_metrics(large)["test_mse"]
    assert mse[1] < 0.9 * mse[0]
    # the same pair again as seed 2: every pair is named, not the first of the row alone
    copies = [_copy(run_dir, tmp_path / f"seed_2_{run_dir.name}", seed=2)
              for run_dir in (large, single)]
    proc = report(tmp_path)
    assert row_labels(proc.stdout) == ["peeks (data.eval_batch_size=1)",
                                    "peeks (data.eval_batch_size=512)"]
    assert proc.stderr == "".join(
        f"tsbench-report: warning: {one} and {other} (seed {seed}) have different scores "
        f"(test_mse {mse[0]:.6g} vs {mse[1]:.6g}) although only data.eval_batch_size differs, "
        "which should change no score: kept as separate cells of peeks -> a model whose "
        "forecast of a window depends on the other windows of its batch (a later window's "
        "look-back holds an earlier one's future): trust its scores at data.eval_batch_size=1 "
        "alone, and make its forecast read its own window alone\n"
        for seed, one, other in ((1, single, large), (2, copies[1], copies[0])))
    # trained without deterministic algorithms (a GPU's trainer=gpu), twins may differ by
    # more than the tolerance: no verdict on the model, one cell as before
    for run_dir in (large, single, *copies):
        card = json.loads((run_dir / "protocol.json").read_text())
        (run_dir / "protocol.json").write_text(json.dumps({**card, "deterministic": False}))
    proc = report(tmp_path)
    assert row_labels(proc.stdout) == ["peeks"]
    assert "have different scores" not in proc.stderr


def test_twins_whose_scores_agree_are_one_cell(tmp_path: Path) -> None:
    # DLinear forecasts each window on its own: float sums in another order, no more
    large, single = _runs(tmp_path, "model=dlinear")
    proc = report(tmp_path)
    assert row_labels(proc.stdout) == ["dlinear"]
    assert proc.stderr == (
        f"tsbench-report: warning: left out {large}: same configuration and seed 1 as "
        f"{single} (they differ only in data.eval_batch_size, which changes no score)\n")


def _cell(table: str) -> str:
    """The score column of the table's one row: mean (± std) (n), unbolded."""
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith(("| dataset", "| ---"))]
    assert len(rows) == 1, table
    return rows[0].split("|")[4].strip().strip("*")


def test_twins_of_one_configuration_whose_scores_differ_are_neither_reported(
        tmp_path: Path) -> None:
    # the same configuration, seed and code twice (or three times) with other scores: which
    # one the table shows cannot be chosen, so neither is, and a line names them all
    seeds = [tiny_run(tmp_path / f"seed_{seed}", "model=dlinear", f"seed={seed}")
             for seed in (1, 2, 3)]
    mse = [read_metrics(run_dir)["test_mse"] for run_dir in seeds]
    again = _copy(seeds[0], tmp_path / "seed_1_again", test_mse=1.1 * mse[0])
    third = _copy(seeds[1], tmp_path / "seed_2_again", test_mse=0.9 * mse[1])
    same = _copy(seeds[1], tmp_path / "seed_2_same")
    proc = report(tmp_path)
    assert _cell(proc.stdout).startswith(f"{mse[2]:.4f}") and "(1)" in _cell(proc.stdout)
    fix = (" -> rerun it to see which reproduces (a model that reads something besides its "
           "config and seed, e.g. an unseeded generator or a file, scores otherwise each run)")
    assert proc.stderr == (
        f"tsbench-report: warning: left out {seeds[0]} and {again}: the same configuration, "
        f"seed 1 and code, but different scores (test_mse {mse[0]:.6g} vs "
        f"{1.1 * mse[0]:.6g}), so seed 1 of dlinear is not reported{fix}\n"
        f"tsbench-report: warning: left out {seeds[1]}, {third} and {same}: the same "
        f"configuration, seed 2 and code, but different scores (test_mse {mse[1]:.6g} vs "
        f"{0.9 * mse[1]:.6g} vs {mse[1]:.6g}), so seed 2 of dlinear is not reported{fix}\n")
    # nothing else to report: said, exit 2
    proc = report(seeds[0], again, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.endswith(
        f"tsbench-report: error: none of the 2 finished runs under {seeds[0]}, {again} can "
        "be reported (see the warnings above)\n")
    # trained without deterministic algorithms, twins may differ: the first found is
    # reported, and the note gives both scores
    for run_dir in (*seeds, again, third, same):
        _copy(run_dir, tmp_path / "gpu" / run_dir.name, deterministic=False)
    proc = report(tmp_path / "gpu")
    assert "(3)" in _cell(proc.stdout)
    gpu = tmp_path / "gpu"
    assert (f"tsbench-report: warning: left out {gpu / 'seed_1_again'}: same configuration "
            f"and seed 1 as {gpu / 'seed_1'}; their test_mse differs ({1.1 * mse[0]:.6g} vs "
            f"{mse[0]:.6g}), as runs without deterministic algorithms or in half precision "
            f"may, and {gpu / 'seed_1'}'s is reported\n") in proc.stderr


def test_a_rerun_after_a_fix_is_kept_over_twins_whose_scores_differ(tmp_path: Path) -> None:
    # two runs of the code before a fix clash (the same seed, other scores); the rerun on the
    # code installed now is kept, whichever folder comes first, as over one earlier run
    current = tiny_run(tmp_path / "current", "model=dlinear", "seed=1")
    mse = read_metrics(current)["test_mse"]
    for fixed_name in ("a", "c"):
        runs = tmp_path / f"runs_{fixed_name}"
        fixed = _copy(current, runs / fixed_name)
        before = [_copy(current, runs / name, test_mse=factor * mse)
                  for name, factor in (("b", 1.1), ("a" if fixed_name == "c" else "c", 1.2))]
        for run_dir in before:
            card = json.loads((run_dir / "protocol.json").read_text())
            card["source"]["sources_sha256"] = "0" * 64  # the code before the fix
            (run_dir / "protocol.json").write_text(json.dumps(card))
        proc = report(runs)
        assert _cell(proc.stdout) == f"{mse:.4f} (1)"
        assert "not reported" not in proc.stderr
        for run_dir in before:
            assert (f"left out {run_dir}: same configuration and seed 1 as {fixed}, which ran "
                    "the code installed now") in proc.stderr


def test_a_twin_set_apart_by_a_setting_is_kept_whether_found_before_or_after_a_clash(
        tmp_path: Path) -> None:
    # seed 1 at data.eval_batch_size=128 twice with other scores (a clash: neither reported),
    # and at data.eval_batch_size=1 with a score of its own: that run is a cell of its own
    # (the setting sets it apart), whichever folder comes first
    large = tiny_run(tmp_path / "large", "model=dlinear", "seed=1", "data.eval_batch_size=128")
    single = tiny_run(tmp_path / "single", "model=dlinear", "seed=1", "data.eval_batch_size=1")
    mse = read_metrics(large)["test_mse"]
    tables = []
    for first in ("a", "z"):
        runs = tmp_path / f"runs_{first}"
        _copy(large, runs / "m_large")
        _copy(large, runs / "n_large_again", test_mse=1.1 * mse)
        _copy(single, runs / f"{first}_single", test_mse=0.9 * mse)
        proc = report(runs)
        assert _cell(proc.stdout) == f"{0.9 * mse:.4f} (1)"
        assert "so seed 1 of dlinear is not reported" in proc.stderr
        tables.append(proc.stdout)
    assert tables[0] == tables[1]


def _as_code(run_dir: Path, digest: str) -> Path:
    """``run_dir`` as a run of another version of tsbench's code (its card's digest)."""
    card = json.loads((run_dir / "protocol.json").read_text())
    card["source"]["sources_sha256"] = digest
    (run_dir / "protocol.json").write_text(json.dumps(card))
    return run_dir


def test_a_clash_names_the_code_each_of_its_runs_ran(tmp_path: Path) -> None:
    # two runs of one old code clash; a run of a third version of the code (neither is the
    # code installed now) joins them: the line says which code each ran, not "same code"
    current = tiny_run(tmp_path / "current", "model=dlinear", "seed=1")
    mse = read_metrics(current)["test_mse"]
    runs = tmp_path / "runs"
    a, b, c = (_as_code(_copy(current, runs / name, test_mse=factor * mse), digest * 64)
               for name, factor, digest in (("a", 1.1, "0"), ("b", 1.2, "0"), ("c", 1.3, "1")))
    proc = report(runs, check=False)
    assert proc.returncode == 2
    assert (f"tsbench-report: warning: left out {a}, {b} and {c}: the same configuration and "
            f"seed 1, but different scores (test_mse {1.1 * mse:.6g} vs {1.2 * mse:.6g} vs "
            f"{1.3 * mse:.6g}) and code ({a} and {b} ran tsbench's code 000000000000, {c} "
            f"111111111111, by their protocol.json source.sources_sha256), so seed 1 of "
            "dlinear is not reported") in proc.stderr
    assert "seed 1 and code" not in proc.stderr


def test_a_clash_leaves_out_a_run_of_other_old_code_whichever_folder_comes_first(
        tmp_path: Path) -> None:
    # two runs of one old code clash, a third ran another old code (none is the code
    # installed now): the seed is not reported, and the line names all three, in whatever
    # order the folders are found (the third found first once kept itself and left the
    # clash unsaid: "the first found is kept")
    current = tiny_run(tmp_path / "current", "model=dlinear", "seed=1")
    mse = read_metrics(current)["test_mse"]
    for names in (("a", "b", "c"), ("b", "c", "a"), ("a", "c", "b")):
        runs = tmp_path / "".join(names)
        one, two, other = (
            _as_code(_copy(current, runs / name, test_mse=factor * mse), digest * 64)
            for name, factor, digest in zip(names, (1.1, 1.2, 1.3), "001", strict=True))
        proc = report(runs, check=False)
        assert proc.returncode == 2 and proc.stdout == "", names
        assert "first found is kept" not in proc.stderr
        clash = next(line for line in proc.stderr.splitlines() if "not reported" in line)
        assert clash.startswith(f"tsbench-report: warning: left out {runs / 'a'}, "
                                f"{runs / 'b'} and {runs / 'c'}: the same configuration and "
                                "seed 1, but different scores (test_mse "), names
        assert (f"{one} and {two} ran tsbench's code 000000000000" in clash
                or f"{other} ran tsbench's code 111111111111, {one} and {two} 000000000000"
                in clash), names


def test_a_clash_joined_by_a_run_without_the_score_they_differ_in_names_it(
        tmp_path: Path) -> None:
    # two runs clash on test_smape alone; a third of the same seed was saved without it
    current = tiny_run(tmp_path / "current", "model=dlinear", "seed=1")
    smape = read_metrics(current)["test_smape"]
    runs = tmp_path / "runs"
    for name, value in (("a", smape), ("b", 1.1 * smape), ("c", None)):
        metrics = read_metrics(_copy(current, runs / name))
        if value is None:
            del metrics["test_smape"]
        else:
            metrics["test_smape"] = value
        (runs / name / "metrics.json").write_text(json.dumps(metrics))
    proc = report(runs, check=False)
    assert proc.returncode == 2
    assert (f"left out {runs / 'a'}, {runs / 'b'} and {runs / 'c'}: the same configuration, "
            f"seed 1 and code, but different scores (test_smape {smape:.6g} vs "
            f"{1.1 * smape:.6g} vs none)") in proc.stderr
