"""The optimizer's initial design, drawn once per optimizer and in n log n
(:mod:`tsbench.search.design`), is skopt's own: the same seed gives the same points, so a
sweep's record stays reproducible and a resume proposes what an unbroken run would have."""

from __future__ import annotations

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from skopt.sampler import Lhs

from tsbench.search import design
from tsbench.search import optimizer as optimizer_module
from tsbench.search.constraints import build_constraints
from tsbench.search.design import MaximinLhs
from tsbench.search.optimizer import make_optimizer
from tsbench.search.proposer import Proposer
from tsbench.search.settings import SweepSettings
from tsbench.search.space import parse_space

PARSER = OverridesParser.create()
SPACE = ["seq_len=choice(96, 192, 336, 512)", "patch=choice(8, 16, 32)", "width=range(1, 40)",
         "lr=tag(log, interval(1e-5, 1e-2))"]


@pytest.mark.parametrize("all_pairs_up_to", [design.ALL_PAIRS_UP_TO, 1],
                         ids=["pairs measured", "k-d tree"])
@pytest.mark.parametrize("n_samples", [2, 3, 17, 90])
def test_the_latin_hypercube_is_skopts_point_for_point(
        monkeypatch: pytest.MonkeyPatch, all_pairs_up_to: int, n_samples: int) -> None:
    """skopt's ``Lhs()`` keeps the hypercube whose two nearest points lie farthest apart,
    of 1000 drawn: the same draws and the same choice give the same design (``1``: a
    k-d tree finds the nearest points of a design of any size, as of a large one)."""
    monkeypatch.setattr(design, "ALL_PAIRS_UP_TO", all_pairs_up_to)
    dimensions = parse_space({}, SPACE, PARSER).dimensions
    for seed in (0, 1, 2):
        assert MaximinLhs().generate(dimensions, n_samples, random_state=seed) == (
            Lhs().generate(dimensions, n_samples, random_state=seed))


def asked(mode: str, random_state: int) -> list[list]:
    """Every point a sweep of 3 trials at a time asks for: two batches (the second's last
    point past the 5 initial ones), then one point with two running (a copy of the
    optimizer each time, told the constant liar)."""
    space = parse_space({}, SPACE, PARSER)
    constraints = build_constraints([], space.names, {}.__getitem__)
    settings = SweepSettings(n_trials=14, n_initial_points=5, mode=mode, n_jobs=3,
                             random_state=random_state, base_estimator="ET")
    proposer = Proposer(make_optimizer(settings, space.dimensions, constraints),
                        constraints, random_state)
    points: list[list] = []
    for _ in range(2):
        batch = proposer.ask(3)
        for point in batch:
            proposer.mark_seen(point)
        proposer.optimizer.tell(batch, [float(sum(map(hash, map(str, p))) % 11)
                                        for p in batch])
        points += batch
    more = proposer.ask(1, pending=points[-2:])
    return points + more


@pytest.mark.parametrize("mode", ["random", "bayes"])
def test_a_sweep_asks_for_the_points_of_skopts_own_design(
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """Drawn once, the design gives each batch and each copy of the optimizer the points
    skopt's own ``lhs`` does (skopt draws it again for every copy, then puts the first in
    its place)."""
    ours = asked(mode, 0)
    monkeypatch.setattr(optimizer_module, "initial_design", lambda name: name)  # skopt's
    assert ours == asked(mode, 0)


def test_each_optimizer_draws_its_own_design() -> None:
    """Two sweeps of other seeds in one process (tsbench-tune's stages) ask for other
    points: a design is shared by an optimizer's copies only."""
    assert asked("random", 0) != asked("random", 1)
