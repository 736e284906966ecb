"""Proposals: feasible, never evaluated before, distinct within a batch."""

from __future__ import annotations

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from tsbench.search.constraints import build_constraints
from tsbench.search.optimizer import make_optimizer
from tsbench.search.proposer import Proposer, point_key
from tsbench.search.settings import SweepSettings
from tsbench.search.space import parse_space

PARSER = OverridesParser.create()


def proposer(lines: list[str], constraints: list[str] = (), **settings) -> Proposer:
    space = parse_space({}, lines, PARSER)
    checks = build_constraints(list(constraints), space.names, lambda p: {"fixed": 4}[p])
    s = SweepSettings(random_state=0, base_estimator="ET", **settings)
    return Proposer(make_optimizer(s, space.dimensions, checks), checks, seed=0)


def run(p: Proposer, n_points: int, batches: int) -> list[list]:
    """Ask and tell like the sweep does; return every launched point."""
    launched = []
    for _ in range(batches):
        batch = p.ask(n_points)
        if not batch:
            break
        for point in batch:
            p.mark_seen(point)
        p.optimizer.tell(batch, [float(hash(point_key(x)) % 7) for x in batch])
        launched += batch
    return launched


@pytest.mark.parametrize("n_points", [1, 3])
def test_small_categorical_space_never_repeats_and_then_runs_dry(n_points: int) -> None:
    p = proposer(["a=choice(x, y, z)", "b=choice(1, 2)"], n_trials=20, n_initial_points=2)
    launched = run(p, n_points, batches=20)
    assert len(launched) == 6  # every point once, then nothing more to propose
    assert len({point_key(x) for x in launched}) == 6
    assert p.ask(n_points) == []


def test_constraints_hold_on_every_proposal_including_initial_design() -> None:
    p = proposer(
        ["a=range(1, 9)", "b=choice(1, 2, 4, 8)"],
        ["a >= b", "a % fixed != 1"],
        initial_point_generator="lhs",
        n_initial_points=5,
    )
    launched = run(p, 2, batches=5)
    assert len(launched) == 10
    assert all(a >= b and a % 4 != 1 for a, b in launched)


def test_values_are_plain_python() -> None:
    p = proposer(["a=choice(x, y)", "b=range(1, 50)", "c=interval(0.0, 1.0)"], n_initial_points=1)
    for point in run(p, 2, batches=3):
        assert [type(v) for v in point] == [str, int, float]


def test_random_mode_proposes_without_a_surrogate() -> None:
    p = proposer(["b=range(1, 1000)"], mode="random", n_trials=10)
    launched = run(p, 2, batches=5)
    assert len({point_key(x) for x in launched}) == 10
    assert p.optimizer.models == []


def test_a_point_asked_while_others_run_is_the_next_of_a_cl_min_batch() -> None:
    """The running points are told the constant-liar value (the lowest seen), as skopt
    proposes the rest of a batch: with the first point of skopt's own cl_min batch
    running, the point asked is that batch's second."""
    lines = ["a=interval(0.0, 1.0)", "b=interval(0.0, 1.0)"]
    told = [[0.1, 0.2], [0.5, 0.9], [0.8, 0.4], [0.3, 0.7], [0.9, 0.9], [0.2, 0.5],
            [0.6, 0.1], [0.4, 0.6]]
    values = [(a - 0.3) ** 2 + (b - 0.6) ** 2 for a, b in told]
    p, reference = proposer(lines, n_initial_points=2), proposer(lines, n_initial_points=2)
    for optimizer in (p.optimizer, reference.optimizer):
        optimizer.tell([list(x) for x in told], list(values))
    first, second = reference.optimizer.ask(n_points=2, strategy="cl_min")
    p.mark_seen(first)
    assert p.ask(1, pending=[first]) == [[float(v) for v in second]]
