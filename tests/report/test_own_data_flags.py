"""A user's own CSV, which has no published numbers: its cells' protocols are judged among
themselves, never against the papers' (features M); cells that score other channels
(features M: every one, MS: the target alone) are never bolded, tested or ranked together;
and each kind of ⚠ shown is said once under the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.conftest import _run_in_process, _sales_csv, report
from tests.report.test_report import _row

#: What each ⚠ kind's line under the table starts with.
TABLE_LEGEND = "⚠ <fact> <value> (table: <reference>): the cell's protocol differs in that fact"
DIFFERS_LEGEND = "⚠ ... (differs): the table's cells disagree on that fact"
FEATURES_LEGEND = ("⚠ features / scored columns: features=M scores every channel, S and MS "
                   "the target alone")


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DLinear with features=M and features=MS, naive with features=M, on ``load.csv``."""
    root = tmp_path_factory.mktemp("own")
    load = _sales_csv(root / "load.csv")
    for model, features in (("dlinear", "M"), ("dlinear", "MS"), ("naive", "M")):
        _run_in_process(["dataset=csv", f"dataset.path={load}", "seq_len=24", "pred_len=12",
                         "trainer=debug", "logger=none", "plots=false", f"model={model}",
                         f"features={features}"], root / f"{model}_{features}")
    return root


def _body(out: str) -> str:
    return out.split("\n\n", 1)[0]


def test_a_tie_of_features_on_own_data_flags_both_and_bolds_neither(own: Path) -> None:
    """The trial: features M beside MS, one cell each. No paper's protocol breaks the tie on
    the user's own data (it used to make M the table's, bold it and flag MS '(table: M)')."""
    out = report(own / "dlinear_M", own / "dlinear_MS").stdout
    assert _row(out, 12, "dlinear (features=M)")[-1] == "⚠ features M (differs)"
    assert _row(out, 12, "dlinear (features=MS)")[-1] == "⚠ features MS (differs)"
    assert "**" not in _body(out)
    assert f"\n\n{DIFFERS_LEGEND}" in out and f"\n\n{FEATURES_LEGEND}" in out
    assert TABLE_LEGEND not in out


def test_features_apart_from_the_table_are_flagged_and_said_what_it_means(own: Path) -> None:
    """Two features=M cells and an MS one: MS differs from the table's (most cells') value and
    is left out; the better M cell alone is bold; every ⚠ kind shown has its line."""
    out = report(own, "--baseline", "naive").stdout
    ms = _row(out, 12, "dlinear (features=MS)")
    assert ms[-1] == "⚠ features MS (table: M)" and not ms[3].startswith("**")
    assert ms[-2] == "– (not compared: its protocol differs)"
    m_rows = [_row(out, 12, "dlinear (features=M)"), _row(out, 12, "naive")]
    assert [r[-1] for r in m_rows] == ["same", "same"]
    best = min(m_rows, key=lambda r: float(r[3].strip("*").split()[0]))
    assert [r[3].startswith("**") for r in m_rows] == [r is best for r in m_rows]
    assert f"\n\n{TABLE_LEGEND}" in out and f"\n\n{FEATURES_LEGEND}" in out
    assert DIFFERS_LEGEND not in out


def test_a_cell_alone_among_flagged_ones_is_not_bold(own: Path) -> None:
    """--baseline makes features=M the table's: the M cell is the only comparable one, best
    of nothing, so not bold beside the flagged MS cell (whose lower MSE scores another
    series)."""
    out = report(own / "dlinear_M", own / "dlinear_MS",
                 "--baseline", "dlinear (features=M)").stdout
    assert _row(out, 12, "dlinear (features=MS)")[-1] == "⚠ features MS (table: M)"
    assert _row(out, 12, "dlinear (features=M)")[-2] == "baseline"
    assert "**" not in _body(out)


@pytest.fixture(scope="module")
def target_alone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Naive with features=S and DLinear with features=MS on ``load.csv``: both score the
    target alone, DLinear reading every channel."""
    root = tmp_path_factory.mktemp("target_alone")
    load = _sales_csv(root / "load.csv")
    for model, features in (("naive", "S"), ("dlinear", "MS")):
        _run_in_process(["dataset=csv", f"dataset.path={load}", "seq_len=24", "pred_len=12",
                         "trainer=debug", "logger=none", "plots=false", f"model={model}",
                         f"features={features}"], root / f"{model}_{features}")
    return root


def test_features_s_and_ms_score_the_same_series_and_are_compared(target_alone: Path) -> None:
    """S and MS both score the target, scaled by its own column's training statistics, on the
    same windows: an MS cell is tested against an S baseline (does reading the other
    channels help?), and neither is flagged; they used to be '⚠ features MS (table: S)',
    'not compared', as if they scored other series."""
    out = report(target_alone, "--baseline", "naive").stdout
    dlinear, naive = _row(out, 12, "dlinear"), _row(out, 12, "naive")
    assert [dlinear[-1], naive[-1]] == ["same", "same"]
    assert "(p" in dlinear[-2] and naive[-2] == "baseline"
    assert FEATURES_LEGEND not in out
    tied = report(target_alone).stdout  # one cell each: no tie to break, nothing flagged
    assert [_row(tied, 12, m)[-1] for m in ("dlinear", "naive")] == ["same", "same"]
    assert "**" in _body(tied)
