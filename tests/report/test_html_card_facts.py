"""The HTML report's protocol card names a cell's look-back: its value and how it was
chosen (``36, fixed``: it said ``fixed`` alone), and ``not read`` for a model that
forecasts alike whatever it is (it said ``unknown`` for a naive run whose card records
``read: false``)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.report.conftest import Zoo, report


def _cards(page: str) -> dict[str, dict[str, str]]:
    """Each card's facts by its row's label."""
    return {label: dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", body))
            for label, body in re.findall(r"<summary>protocol card: ([^<]*)</summary>(.*?)</dl>",
                                          page)}


def test_a_card_names_the_look_back_and_whether_the_model_reads_it(zoo: Zoo, tmp_path: Path
                                                                   ) -> None:
    page = tmp_path / "report.html"
    report(zoo.sweep, "-o", page)
    cards = _cards(page.read_text())
    assert cards["dlinear"]["seq_len"] == "36, fixed"  # ILI runs: seq_len=36
    assert cards["naive"]["seq_len"] == "not read"
