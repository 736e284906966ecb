"""Seeds of a model that trains nothing give identical scores: the report shows the one
value and says the seeds agree, with no ± and no interval (a zero-width 95 % CI over n = 2
read as certainty), in every output format."""

from __future__ import annotations

import csv
import io

from tests.report.conftest import Zoo, report

#: The naive cell at ILI-24 (seeds 1, 2 of the zoo's sweep), in Markdown.
NAIVE = "| ili | 24 | naive | "


def test_identical_seeds_show_one_value_and_no_interval(zoo: Zoo) -> None:
    markdown = report(zoo.sweep).stdout
    naive = next(line for line in markdown.splitlines() if line.startswith(NAIVE))
    value, interval = [c.strip() for c in naive.split("|")[4:6]]
    assert value.strip("*").endswith(" (2 seeds, identical)") and "±" not in value
    assert interval == "–"
    dlinear = next(line for line in markdown.splitlines() if line.startswith("| ili | 24 | dl"))
    assert "±" in dlinear and "identical" not in dlinear  # its seeds differ: a spread
    rows = {(r["pred_len"], r["model"]): r
            for r in csv.DictReader(io.StringIO(report(zoo.sweep, "--format", "csv").stdout))}
    naive_csv = rows[("24", "naive")]
    assert naive_csv["seeds_identical"] == "True" and naive_csv["std"] == "0.0"
    assert naive_csv["ci_low"] == naive_csv["ci_high"] == ""
    assert rows[("24", "dlinear")]["seeds_identical"] == "False"
    assert f"{float(naive_csv['mean']):.4f} (2 seeds, identical)" in value
    latex = report(zoo.sweep, "--format", "latex").stdout
    assert "(2 seeds, identical)" in latex and "0.0000" not in latex.split("naive", 1)[1][:60]
    page = report(zoo.sweep, "--format", "html").stdout
    assert "(2 seeds, identical)" in page
