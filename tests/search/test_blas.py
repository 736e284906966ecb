"""The surrogate's asks and tells run on one BLAS thread, the thread pools found once."""

from __future__ import annotations

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from threadpoolctl import ThreadpoolController, threadpool_info

from tsbench.search import blas
from tsbench.search.blas import one_blas_thread
from tsbench.search.faults import Teller
from tsbench.search.optimizer import make_optimizer
from tsbench.search.proposer import Proposer
from tsbench.search.settings import SweepSettings
from tsbench.search.space import parse_space
from tsbench.search.trials import Trial


def test_every_thread_pool_runs_one_thread_inside_and_as_before_after() -> None:
    before = {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}
    with one_blas_thread():
        inside = {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}
    assert before and set(inside.values()) == {1}
    assert {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()} == before


def test_asks_and_tells_find_the_thread_pools_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Looking for the pools reads every loaded library (7 ms with torch loaded): a resume's
    replay asks and tells once per recorded trial."""
    found = []
    real_init = ThreadpoolController.__init__

    def counted_init(self: ThreadpoolController) -> None:
        found.append(self)
        real_init(self)

    monkeypatch.setattr(ThreadpoolController, "__init__", counted_init)
    blas._controller.cache_clear()  # as in a new process
    space = parse_space({}, ["x=interval(0.0, 1.0)", "k=choice(a, b, c)"],
                        OverridesParser.create())
    settings = SweepSettings(random_state=0, base_estimator="ET", n_initial_points=2,
                             n_trials=6)
    optimizer = make_optimizer(settings, space.dimensions, [])
    proposer, teller = Proposer(optimizer, [], seed=0), Teller(optimizer, 1.0)
    for number in range(1, 6):
        (point,) = proposer.ask(1)
        proposer.mark_seen(point)
        teller.tell([Trial(number, number - 1, point, float(number), 1.0, "")])
    assert len(optimizer.yi) == 5 and len(found) == 1
    blas._controller.cache_clear()  # the next user finds the real pools again
