"""The committed benchmark scripts still run against today's code: every one imports and
builds its command line, every shell script parses, and the core functions that take well
under a second on a tiny input run once. A script's full run takes minutes to hours, so a
change to an API it calls would otherwise go unnoticed until someone reruns it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT
from tsbench.search.composition import compose_tsbench
from tsbench.search.names import OK, RECORD_COLUMNS

BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``path`` as its ``python benchmarks/NAME.py`` run does (``benchmarks/`` first
    on ``sys.path``: some scripts import their siblings)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_folder_holds_the_scripts() -> None:
    assert len(SCRIPTS) >= 10 and len(list(BENCHMARKS.glob("*.sh"))) >= 2


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_a_benchmark_script_imports_and_builds_its_command_line(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load(path, monkeypatch)
    monkeypatch.setattr(sys, "argv", [path.name, "--help"])
    with pytest.raises(SystemExit) as stopped:
        module.main()
    assert stopped.value.code == 0 and capsys.readouterr().out.startswith("usage:")


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.sh")), ids=lambda p: p.name)
def test_a_benchmark_shell_script_parses(path: Path) -> None:
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_sweeper_overhead_times_one_trial(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """One asked, told, recorded and plotted trial after two finished ones."""
    costs = load(BENCHMARKS / "sweeper_overhead.py", monkeypatch).step_costs(
        "GP", "EI", 3, 1, tmp_path)
    assert set(costs) == {"ask", "tell", "record", "plots"} and min(costs.values()) >= 0
    assert (tmp_path / "trials.csv").is_file() and (tmp_path / "best.yaml").is_file()


def test_sweep_record_cost_times_a_small_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record of 6 trials and 4 lost ones, under folders named by their overrides: the
    lost jobs that noted no folder are looked for among the folders Hydra made."""
    costs = load(BENCHMARKS / "sweep_record_cost.py", monkeypatch).measure(6, "named")
    steps = ("start", "batch ask", "resume", "refill", "report")
    assert set(costs) == {"build", *steps}
    assert all(seconds >= 0 and peak > 0 for seconds, peak in (costs[s] for s in steps))


@pytest.mark.parametrize("name", ["dm_size.py", "dm_seeds.py"])
def test_a_paired_test_simulation_prints_its_table(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two replications of every row of the table in ``benchmarks/dm_*.md``."""
    module = load(BENCHMARKS / name, monkeypatch)
    monkeypatch.setattr(sys, "argv", [name, "--reps", "2"])
    module.main()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 2 * len(module.SETTINGS) * (2 if name == "dm_size.py" else 4)


def test_step_memory_estimates_a_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """The script's own composition of a case's command and the estimate it compares."""
    module = load(BENCHMARKS / "step_memory.py", monkeypatch)
    [overrides] = [o for label, o in module.CASES if label.endswith("n_heads=1")]
    assert module.estimated(module.command(overrides)) > 2**20


def test_step_memory_runs_the_cases_its_words_name(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Positional words filter the cases (each case's runs, a minute each, are not the
    point here: their measurement is replaced by fixed sizes)."""
    module = load(BENCHMARKS / "step_memory.py", monkeypatch)
    monkeypatch.setattr(module, "peak_rss", lambda args: 2**30 if args[-3:] == module.TINY
                        else 3 * 2**30)
    monkeypatch.setattr(module, "estimated", lambda args: 2**30)
    monkeypatch.setattr(sys, "argv", ["step_memory.py", "n_heads=1", "d_ff=1024"])
    module.main()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[2:]] == [
        "| itransformer 200 variates n_heads=1",
        "| itransformer 400 variates dropout=0 fast_kernels=false d_ff=1024"]


def _write_trials(path: Path, count: int) -> None:
    """A trials.csv of ``count`` ended trials, as the sweeper writes its columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [",".join(RECORD_COLUMNS)] + [
        ",".join([str(t), str(t), OK, str(1.0 - t / 10), "1.0"] + [""] * 3)
        for t in range(count)]
    path.write_text("\n".join(rows) + "\n")


def test_bayes_vs_random_resumes_an_interrupted_sweep_and_keeps_a_finished_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An interrupted sweep leaves a short trials.csv: the rerun resumes it (not reading
    the missing trials); a finished one is read as it is; a new one starts afresh."""
    module = load(BENCHMARKS / "bayes_vs_random.py", monkeypatch)
    commands: list[list[str]] = []

    def sweep(cmd: list[str], **_: object) -> None:
        commands.append(cmd)
        folder = Path(next(a for a in cmd if a.startswith("hydra.sweep.dir=")).split("=")[1])
        _write_trials(folder / "trials.csv", 3)

    monkeypatch.setattr(module.subprocess, "run", sweep)
    _write_trials(tmp_path / "random_0" / "trials.csv", 2)  # interrupted after 2 of 3
    _write_trials(tmp_path / "random_1" / "trials.csv", 3)  # finished
    assert len(module.best_so_far(module.run_sweep("random", 0, 3, tmp_path, []))) == 3
    assert len(commands) == 1 and "hydra.sweeper.resume=true" in commands[0]
    assert len(module.best_so_far(module.run_sweep("random", 1, 3, tmp_path, []))) == 3
    assert len(commands) == 1
    module.run_sweep("bayes", 0, 3, tmp_path, [])
    assert len(commands) == 2 and "hydra.sweeper.resume=true" not in commands[1]


def test_tune_summary_prints_the_final_scores_in_original_units_where_saved(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """report.json's test MSE and MAE in the data's units beside the scaled ones, each
    column as report.md writes it; a report.json before they were saved says so."""
    module = load(BENCHMARKS / "tune_summary.py", monkeypatch)
    scores = {"objective": 0.27, "val_mse": 0.21, "val_mae": 0.33, "test_mse": 0.4321,
              "test_mae": 0.5432, "n_test_windows": 170}
    report = {"results": {"baseline": {**scores, "test_mse_orig": 2.9e-7,
                                       "test_mae_orig": 41.25},
                          "ensemble": {**scores, "test_mse_orig": 3.1e-7,
                                       "test_mae_orig": 5.5}}}
    rows = module.final_rows(report)
    assert rows[0].endswith("| test MSE (original units) | test MAE (original units) | "
                            "test windows |")
    assert rows[2:] == [
        "| baseline | 0.2700 | 0.2100 | 0.3300 | 0.4321 | 0.5432 | 2.9000e-07 | 41.2500 | 170 |",
        "| ensemble | 0.2700 | 0.2100 | 0.3300 | 0.4321 | 0.5432 | 3.1000e-07 | 5.5000 | 170 |"]
    older = {"results": {"baseline": scores}}  # a report.json before 2026-12-07
    assert module.final_rows(older)[2] == (
        "| baseline | 0.2700 | 0.2100 | 0.3300 | 0.4321 | 0.5432 | (not saved) | (not saved) | "
        "170 |")


#: The scripts' constant settings of every ``tsbench`` run they start (their tables'
#: protocol): a renamed or removed config key stops the composition.
RUN_SETTINGS = {
    "stage_start.py": lambda m: m.COMMAND,
    "bayes_vs_random.py": lambda m: ["search=patchtst_bo", *m.BUDGET],
    "pruning.py": lambda m: ["search=patchtst_bo", *m.FULL.fixed],
    "pruning.py tiny": lambda m: ["search=patchtst_bo", *m.TINY.fixed],
    "strategies_and_baselines.py tiny": lambda m: ["dataset=synthetic", *m.TINY.extra],
}


@pytest.mark.parametrize("case", RUN_SETTINGS)
def test_a_benchmark_scripts_run_settings_compose(case: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    module = load(BENCHMARKS / case.split()[0], monkeypatch)
    overrides = RUN_SETTINGS[case](module)
    assert list(compose_tsbench(overrides).hydra.overrides.task) == overrides
