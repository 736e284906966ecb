"""The critical-difference diagram says what the text under the report's table says: the
CD joins models only where the Friedman test found a difference; otherwise one bar joins
them all and the CD is marked not applied."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import numpy as np

from tests.report.conftest import Zoo, report
from tsbench.report import stats
from tsbench.report.build import Ranking, Report
from tsbench.report.plots import cd_caption, cd_diagram, cd_figure
from tsbench.report.table import summary_lines


def ranking(scores: list[list[float]]) -> Ranking:
    models = ["a", "b", "c", "d"][: len(scores[0])]
    blocks = [(f"d{i}", 24) for i in range(len(scores))]  # one table per dataset
    result = stats.friedman(np.array(scores))
    cd, draws = stats.critical_difference(np.array(scores))
    return Ranking(models, blocks, result, cd, 0.05, draws)


def texts(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts]


def test_a_significant_ranking_shows_its_cd_and_each_models_rank() -> None:
    ranked = ranking([[1.0, 2.0, 3.0, 4.0]] * 8)  # the same order in 8 tables
    assert ranked.significant
    said = texts(cd_figure(ranked))
    assert f"CD = {ranked.cd:.2f} (exact, α = 0.05)" in said  # 8 tables: short of N > 10
    assert {"a (1.00)", "b (2.00)", "c (3.00)", "d (4.00)"} <= set(said)
    assert cd_diagram(ranked).startswith(b"\x89PNG")


def test_a_ranking_the_friedman_test_does_not_separate_marks_the_cd_not_applied() -> None:
    ranked = ranking([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]])  # no order
    assert not ranked.significant
    said = texts(cd_figure(ranked))
    # 3 tables of 3 models: the exact p decides, and the text names it so; the diagram
    # called it "Friedman p", the name the text gives the chi-square's p
    assert (f"CD = {ranked.cd:.2f}, not applied: exact p = "
            f"{ranked.friedman.p_exact:.3f} ≥ α = 0.05") in said
    assert not any(t.startswith("CD = ") and "(α" in t for t in said)


def test_past_demsars_rule_the_diagram_names_iman_davenports_p() -> None:
    rng = np.random.default_rng(0)
    scores = np.array([rng.permutation(6) for _ in range(11)], dtype=np.float64)
    result = stats.friedman(scores)  # 11 tables of 6 models: the approximations hold
    cd, draws = stats.critical_difference(scores)
    ranked = Ranking(list("abcdef"), [(f"d{i}", 24) for i in range(11)], result, cd, 0.05,
                     draws)
    assert not ranked.significant and result.p_exact is None and result.p_f is not None
    assert any(t.endswith(f"not applied: Iman-Davenport p = {result.p_f:.3f} ≥ α = 0.05")
               for t in texts(cd_figure(ranked)))


def test_too_few_tables_for_any_critical_difference_say_so() -> None:
    """2 tables of 4 models ranked alike differ (exact p 1/24) but no gap of average ranks
    is rare enough for a CD: the diagram says so, and one bar joins them all."""
    ranked = ranking([[1.0, 2.0, 3.0, 4.0]] * 2)
    assert ranked.significant
    figure = cd_figure(ranked)
    assert "no CD (exact, α = 0.05)" in texts(figure)
    bars = [line for line in figure.axes[0].lines if line.get_linewidth() == 3.5]
    assert len(bars) == 1


def test_a_cd_from_random_orders_is_not_called_exact() -> None:
    """Past the enumeration's limit the CD comes from seeded random orders of the ranks:
    the diagram says so, as the text under the table does."""
    ranked = ranking([[1.0, 2.0, 3.0, 4.0]] * 8)
    drawn = Ranking(ranked.models, ranked.blocks, ranked.friedman, ranked.cd, 0.05,
                    stats.DRAWS)
    said = texts(cd_figure(drawn))
    assert f"CD = {ranked.cd:.2f} (from {stats.DRAWS} random orders, α = 0.05)" in said
    assert not any("exact" in t for t in said)


def test_no_cd_where_the_ranks_do_not_differ_is_said_so_in_the_text() -> None:
    """2 tables of 4 models in opposite orders: the ranks do not differ, and no gap is rare
    enough for a critical difference: the text says that, not 'critical difference inf'."""
    ranked = ranking([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    assert not ranked.significant and ranked.cd == float("inf")
    line = summary_lines(Report([], "mse", None, 0.05, ranking=ranked))[-1]
    assert line.endswith(
        "so no two models are told apart (no gap of two average ranks is rare enough at α for "
        "a critical difference either, exact, from every order of each table's ranks).")
    assert "inf" not in line
    assert any(t.startswith("no CD, not applied") for t in texts(cd_figure(ranked)))


def joined(figure) -> set[frozenset[str]]:
    """The pairs of models some bar of the diagram joins: each model's place on the rank
    axis is where the line to its label starts."""
    ax = figure.axes[0]
    labels = [(t.get_position(), t.get_text().split(" (")[0]) for t in ax.texts
              if re.fullmatch(r"\S+ \(\d\.\d\d\)", t.get_text())]
    place = {}
    for line in (line for line in ax.lines if line.get_linewidth() == 0.9):
        xs, ys = line.get_xdata(), line.get_ydata()
        place[min(labels, key=lambda label: abs(label[0][0] - xs[-1])
                  + abs(label[0][1] - ys[-1]))[1]] = xs[0]
    bars = [sorted(line.get_xdata()) for line in ax.lines if line.get_linewidth() == 3.5]
    return {frozenset((a, b)) for a, b in itertools.combinations(place, 2)
            for low, high in bars if low <= min(place[a], place[b])
            and max(place[a], place[b]) <= high}


def told_apart_in_text(ranked: Ranking) -> set[frozenset[str]]:
    line = summary_lines(Report([], "mse", None, 0.05, ranking=ranked))[-1]
    found = re.search(r"are significantly different \((.*?)\)", line)
    assert found, line
    return {frozenset(pair.split(" vs ")) for pair in found.group(1).split(", ")}


def test_a_rank_gap_equal_to_the_cd_is_a_difference_in_text_diagram_and_caption() -> None:
    """Two average ranks exactly one critical difference apart differ (Demšar: 'differ by at
    least the CD'; the exact CD is the least gap rare enough). The text said Nemenyi's CD
    told apart ranks that 'differ by more' while the diagram's bars split the pair at the
    CD; now the text names the pairs the diagram does not join, by one rule, and the HTML
    caption says that rule. Exact CD: 3 tables of 3 models ranked alike, CD 2 = the gap of
    a and c; Nemenyi's: 11 tables of 6 models, the CD set to a gap that arose."""
    exact = ranking([[1.0, 2.0, 3.0]] * 3)
    assert exact.significant and exact.cd == 2.0 and exact.cd_draws == 0
    scores = np.array([np.random.default_rng(i).permutation(6) + np.arange(6)
                       for i in range(11)])
    result = stats.friedman(scores)
    cd, draws = stats.critical_difference(scores)
    nemenyi = Ranking(list("abcdef"), [(f"d{i}", 24) for i in range(11)], result, cd, 0.05,
                      draws)
    assert nemenyi.significant and draws is None
    ranks = dict(zip(nemenyi.models, result.average_ranks, strict=True))
    gap = ranks["d"] - ranks["a"]
    nemenyi = dataclasses.replace(nemenyi, cd=gap)
    for ranked, pair in ((exact, frozenset("ac")), (nemenyi, frozenset("ad"))):
        every = {frozenset(p) for p in itertools.combinations(ranked.models, 2)}
        apart = told_apart_in_text(ranked)
        assert pair in apart and pair not in joined(cd_figure(ranked))
        assert apart == every - joined(cd_figure(ranked))
        assert stats.TOLD_APART in cd_caption(ranked)
        assert f"whose average ranks {stats.TOLD_APART} are" in summary_lines(
            Report([], "mse", None, 0.05, ranking=ranked))[-1]


def test_the_diagram_files_extension_chooses_its_format(zoo: Zoo, tmp_path: Path) -> None:
    """``--cd-diagram cd.pdf`` wrote PNG bytes: each extension matplotlib writes is
    honoured; another is refused in one line before anything is written."""
    pdf, svg = tmp_path / "cd.pdf", tmp_path / "cd.svg"
    report(zoo.sweep, "--cd-diagram", pdf)
    report(zoo.sweep, "--cd-diagram", svg)
    assert pdf.read_bytes().startswith(b"%PDF") and b"<svg" in svg.read_bytes()
    for name, why in (("cd.txt", "names no format (.txt)"), ("cd", "has no extension")):
        proc = report(zoo.sweep, "--cd-diagram", tmp_path / name, "-o", tmp_path / "r.md",
                      check=False)
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr == (f"tsbench-report: error: --cd-diagram {tmp_path / name} {why} "
                               "that matplotlib writes -> name the file .png, .pdf or .svg\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cd.pdf", "cd.svg"]
