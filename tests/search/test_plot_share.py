"""The sweep's plots are redrawn only while drawing stays within ``plot_share`` of its time."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from skopt import Optimizer
from skopt.space import Categorical, Integer, Real

from tsbench.search import loop, plots
from tsbench.search.loop import Plotter
from tsbench.search.trials import Trial

#: What one redraw costs on the fake clock.
DRAW_SECONDS = 2.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A clock the test moves by hand, and a drawing that costs DRAW_SECONDS on it and
    records the time it started."""
    now = SimpleNamespace(t=0.0, draws=[])

    def draw(*_: object) -> bool:
        now.draws.append(now.t)
        now.t += DRAW_SECONDS
        return True

    monkeypatch.setattr(loop, "time", SimpleNamespace(perf_counter=lambda: now.t))
    monkeypatch.setattr(plots, "write_plots", draw)
    return now


def test_a_redraw_starts_only_if_it_keeps_drawing_within_the_share(
        clock: SimpleNamespace, tmp_path: Path) -> None:
    space = [Real(0, 1), Integer(1, 5), Categorical(["a", "b"])]
    plotter = Plotter(tmp_path, Optimizer(space, random_state=0), 1.0, share=0.2, enabled=True)
    expected = plots.SECONDS_PER_PANEL * plots.panels(3)  # before the first redraw
    assert plots.panels(3) == 19 and plots.panels(1) == 2
    trials = [Trial(1, 0, [0.5, 2, "a"], 1.0, 1.0, "0")]

    def at(seconds: float) -> None:
        clock.t = seconds
        trials.append(Trial(len(trials) + 1, len(trials), [0.1, 1, "b"], 2.0, 1.0, "x"))
        plotter.maybe_draw(trials)

    at(1.0)  # 0.2 * 1 s < the expected 0.665 s: no redraw after the first quick trial
    at(expected / 0.2 + 0.01)  # now within the share: drawn (2 s on the clock)
    assert clock.draws == [expected / 0.2 + 0.01]
    at(12.0)  # 2 s drawn + 2 s expected > 0.2 * 12 s
    at(19.9)
    at(20.0)  # 4 s <= 0.2 * 20 s
    assert clock.draws == [expected / 0.2 + 0.01, 20.0]
    plotter.draw(trials)  # what the last redraw shows: not drawn again
    trials.append(Trial(len(trials) + 1, len(trials), [0.9, 5, "a"], 3.0, 1.0, "y"))
    plotter.draw(trials)  # the sweep's end: drawn whatever the share
    assert clock.draws == [expected / 0.2 + 0.01, 20.0, 22.0]
