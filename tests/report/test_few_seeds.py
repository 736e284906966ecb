"""The "Few seeds" line: said only under a test that few seeds plausibly left without a
verdict (indistinguishable on few degrees of freedom that the seeds' spread cut), naming
its cells, with a command that runs more seeds of each that a user can paste."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import TINY, read_metrics, run_tsbench
from tests.report.conftest import report, tiny_run
from tests.report.test_report import _row
from tsbench.search.composition import compose_tsbench


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DLinear at kernel_size 25 and 13 x seeds 1, 2 (a tsbench multirun: each job keeps its
    command), and naive seeds 1, 2 (in process)."""
    root = tmp_path_factory.mktemp("kernels")
    run_tsbench([*TINY, "model.kernel_size=25,13", "seed=1,2"], root / "dlinear", multirun=True)
    for seed in (1, 2):
        tiny_run(root / "naive" / f"seed_{seed}", "model=naive", f"seed={seed}")
    return root


def _jobs(kernels: Path, kernel_size: int) -> list[Path]:
    return [job for job in sorted((kernels / "dlinear").glob("[0-9]*"))
            if f"model.kernel_size={kernel_size}" in (job / ".hydra/overrides.yaml").read_text()]


def test_a_significant_test_on_few_degrees_of_freedom_gets_no_few_seeds_line(
        kernels: Path) -> None:
    """DLinear's two seeds beside naive: the seeds' spread cut the df to 1, and the gap is
    significant even so; the line saying only a very large gap could be would contradict it
    (it used to be said under every test whose df the seeds cut)."""
    out = report(*_jobs(kernels, 25), kernels / "naive", "--baseline", "naive").stdout
    verdict = _row(out, 12, "dlinear")[7]
    assert verdict.startswith("better (p=") and verdict.endswith(", df 1)")
    assert "Few seeds" not in out


def test_an_indistinguishable_test_on_few_seeds_names_its_cells_and_a_command(
        kernels: Path, tmp_path: Path) -> None:
    """Two kernel sizes of two seeds each, indistinguishable on 1 df: the line names the pair
    and gives, for each cell, its own command as a plain multirun over seeds it lacks,
    which Hydra composes as it stands."""
    out = report(kernels / "dlinear", "--baseline", "dlinear (model.kernel_size=25)").stdout
    assert _row(out, 12, "dlinear (model.kernel_size=13)")[7].startswith(
        "indistinguishable (p=")
    line = next(p for p in out.split("\n\n") if p.startswith("Few seeds: "))
    assert ("synthetic/12 dlinear (model.kernel_size=13) vs dlinear (model.kernel_size=25): "
            "df 1, 2 and 2 seeds -> run more seeds of each model that trains, as a plain "
            "multirun into a folder of its own") in line
    assert "seed=1,2,3 -m" not in line
    for kernel_size in (13, 25):
        start = f"synthetic/12 dlinear (model.kernel_size={kernel_size}): "
        command = line.split(start, 1)[1].split("; synthetic/12 ", 1)[0].removesuffix(".")
        assert command.startswith("`") and command.endswith("`")
        words = shlex.split(command.strip("`"))
        assert words[:2] == ["tsbench", "-m"] and words[-1] == "seed=3,4,5"
        assert f"model.kernel_size={kernel_size}" in words
        assert not any(w.startswith(("seed=1", "seed=2", "hydra.sweep")) for w in words)
        config = compose_tsbench(words[2:])
        assert config.model.kernel_size == kernel_size and config.dataset.n_rows == 600


def test_the_commands_are_code_in_latex_and_html(kernels: Path, tmp_path: Path) -> None:
    """LaTeX sets each command in \\texttt with its specials escaped (a backtick would print
    as a quote, ``_`` stop the document); HTML in <code>, not between literal backticks."""
    args = [str(kernels / "dlinear"), "--baseline", "dlinear (model.kernel_size=25)"]
    latex = report(*args, "--format", "latex").stdout
    note = next(p for p in latex.split("\n\n") if p.startswith("Few seeds: "))
    assert "`" not in note
    assert "\\texttt{tsbench -m dataset=synthetic dataset.n\\_rows=600" in note
    html = tmp_path / "r.html"
    report(*args, "-o", str(html))
    text = html.read_text()
    assert "<code>tsbench -m dataset=synthetic dataset.n_rows=600" in text
    assert "`tsbench -m" not in text


def test_a_test_the_seeds_widened_above_the_windows_df_still_gets_the_line(
        tmp_path: Path) -> None:
    """At pred_len 24 the 97 test windows give the windows' variance 2 df (one Fourier
    frequency); three seeds of each kernel size add two parts of 2 df that make nearly all
    of the variance, so the test has df 4 and is indistinguishable: few seeds again, but
    the df were not cut below the windows' own, and the line used to be left out."""
    run_tsbench([*TINY, "pred_len=24", "model.kernel_size=25,13", "seed=1,2,3"],
                tmp_path / "dlinear", multirun=True)
    out = report(tmp_path / "dlinear", "--baseline", "dlinear (model.kernel_size=25)").stdout
    verdict = _row(out, 24, "dlinear (model.kernel_size=13)")[7]
    assert verdict.startswith("indistinguishable (p=") and verdict.endswith(", df 4)")
    line = next(p for p in out.split("\n\n") if p.startswith("Few seeds: "))
    assert ("synthetic/24 dlinear (model.kernel_size=13) vs dlinear (model.kernel_size=25): "
            "df 4, 3 and 3 seeds") in line
    assert line.count("seed=4,5`") == 2


def test_an_indistinguishable_test_the_windows_bound_gets_a_few_windows_line(
        tmp_path: Path) -> None:
    """Seasonal naive at periods 24 and 48 (no seeds' spread: neither trains) over the 97
    test windows of pred_len 24, whose variance has 2 df: indistinguishable, and more seeds
    could not change it, so the line says the test period bounds it, not "Few seeds"."""
    for period in (24, 48):
        tiny_run(tmp_path / f"period_{period}", "model=seasonal_naive",
                 f"model.period={period}", "pred_len=24")
    out = report(tmp_path, "--baseline", "seasonal_naive (model.period=24)").stdout
    verdict = _row(out, 24, "seasonal_naive (model.period=48)")[7]
    assert verdict.startswith("indistinguishable (p=") and verdict.endswith(", df 2)")
    line = next(p for p in out.split("\n\n") if p.startswith("Few windows: "))
    assert ("synthetic/24 seasonal_naive (model.period=48) vs seasonal_naive "
            "(model.period=24): df 2 from 97 windows -> read such a pair as not told apart "
            "by this test period") in line
    assert "Few seeds" not in out


def test_the_few_windows_line_under_validation_tables_counts_the_validation_windows(
        tmp_path: Path) -> None:
    """``--split val``: the test pairs the 37 validation windows, not the 97 test ones, and
    the line says the validation period bounds it (periods 24 and 72 on a noisy series:
    indistinguishable there on 2 df)."""
    for period in (24, 72):
        tiny_run(tmp_path / f"period_{period}", "model=seasonal_naive", "dataset.noise=2",
                 "seq_len=96", f"model.period={period}", "pred_len=24")
    out = report(tmp_path, "--split", "val", "--baseline",
                 "seasonal_naive (model.period=24)").stdout
    windows = read_metrics(tmp_path / "period_72")
    assert (windows["n_val_windows"], windows["n_test_windows"]) == (37, 97)
    line = next(p for p in out.split("\n\n") if p.startswith("Few windows: "))
    assert "degrees of freedom that the validation windows bound" in line
    assert ("synthetic [val: holdout split]/24 seasonal_naive (model.period=72) vs "
            "seasonal_naive (model.period=24): df 2 from 37 windows -> read such a pair as not "
            "told apart by this validation period") in line
