"""The critical-difference diagram says what the text under the report's table says: the
CD joins models only where the Friedman test found a difference; otherwise one bar joins
them all and the CD is marked not applied."""

from __future__ import annotations

import numpy as np

from tsbench.report import stats
from tsbench.report.build import Ranking
from tsbench.report.plots import cd_diagram, cd_figure


def ranking(scores: list[list[float]]) -> Ranking:
    models = ["a", "b", "c", "d"][: len(scores[0])]
    blocks = [("ili", 24 + 12 * i) for i in range(len(scores))]
    result = stats.friedman(np.array(scores))
    return Ranking(models, blocks, result, stats.nemenyi_cd(len(models), len(blocks)), 0.05)


def texts(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts]


def test_a_significant_ranking_shows_its_cd_and_each_models_rank() -> None:
    ranked = ranking([[1.0, 2.0, 3.0, 4.0]] * 8)  # the same order in 8 tables
    assert ranked.significant
    said = texts(cd_figure(ranked))
    assert f"CD = {ranked.cd:.2f} (α = 0.05)" in said
    assert {"a (1.00)", "b (2.00)", "c (3.00)", "d (4.00)"} <= set(said)
    assert cd_diagram(ranked).startswith(b"\x89PNG")


def test_a_ranking_the_friedman_test_does_not_separate_marks_the_cd_not_applied() -> None:
    ranked = ranking([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]])  # no order
    assert not ranked.significant
    said = texts(cd_figure(ranked))
    assert (f"CD = {ranked.cd:.2f}, not applied: Friedman p = "
            f"{ranked.friedman.p_value:.3f} ≥ α = 0.05") in said
    assert not any(t.startswith("CD = ") and "(α" in t for t in said)
