"""LaTeX output writes < and > in math mode: in text mode under OT1 they print as ¡ and ¿
(``p<0.001`` read ``p¡0.001``)."""

from __future__ import annotations

import re

import numpy as np

from tsbench.report import stats
from tsbench.report.build import Ranking, Report
from tsbench.report.table import latex_text, render


def test_latex_has_no_bare_angle_brackets() -> None:
    scores = np.array([[1.0, 2.0, 3.0, 4.0]] * 8)  # 8 datasets ranked alike: p < 0.001
    cd, draws = stats.critical_difference(scores)
    ranking = Ranking(list("abcd"), [(f"d{i}", 24) for i in range(8)], stats.friedman(scores),
                      cd, 0.05, draws)
    latex = render(Report([], "mse", None, 0.05, ranking=ranking), "latex")
    assert "exact p $<$ 0.001" in latex and "N $>$ 10" in latex
    assert not re.search(r"(?<!\$)[<>]|[<>](?!\$)", latex)


def test_latex_escapes_every_special_and_sets_commands_in_texttt() -> None:
    """A deleted setting (``~key``), a Hydra interpolation (``${...}``), a power and a dollar
    print as typed; a backticked command is \\texttt; an unpaired backtick stays text."""
    said = latex_text("run `tsbench ~model.x ${oc.env:A} 2^3 $5 a_b` -> ok 50%")
    assert said == ("run \\texttt{tsbench \\textasciitilde{}model.x \\$\\{oc.env:A\\} "
                    "2\\textasciicircum{}3 \\$5 a\\_b} $\\rightarrow$ ok 50\\%")
    assert latex_text("a ` b") == "a ` b"
