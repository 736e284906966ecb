"""A sweep says when its best trials sit at one end of a searched range (the best value may
lie beyond it): in best.yaml, in its closing log, and in a tuning run's report.md."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from skopt.space import Categorical, Integer, Real

from tests.search.conftest import multirun
from tsbench.search.report import range_edges
from tsbench.search.space import describe, dimension_from_text, position, value_from_text
from tsbench.tune.edges import LookbackBound, search_edges, widening

LR = Real(1e-4, 1e-2, prior="log-uniform")
DIMENSIONS = {"optim.lr": LR, "model.d_model": Categorical([64, 16, 128, 32]),
              "model.e_layers": Integer(1, 4), "model.subtract_last": Categorical([False, True]),
              "kind": Categorical(["a", "b", "c"]), "model.dropout": Real(0.0, 0.5)}


def test_position_is_on_the_prior_scale_and_the_sorted_choices() -> None:
    assert position(LR, 1e-3) == pytest.approx(0.5)  # the log midpoint
    assert position(Real(0.0, 0.5), 0.05) == pytest.approx(0.1)
    assert position(Integer(1, 4), 2) == pytest.approx(1 / 3)
    assert position(DIMENSIONS["model.d_model"], 16) == 0.0  # the smallest, listed second
    assert position(DIMENSIONS["model.d_model"], 64) == pytest.approx(2 / 3)
    for unordered, value in [(DIMENSIONS["kind"], "a"), (Categorical([8, 16]), 8),
                             (DIMENSIONS["model.subtract_last"], True)]:
        assert position(unordered, value) is None


@pytest.mark.parametrize("dimension", [
    LR, Real(0.0, 0.5), Integer(1, 4), Integer(2, 64, prior="log-uniform"),
    Categorical([8, 12, 16]), Categorical([0.0, 0.001, 0.1]), Categorical([False, True]),
    Categorical(["a", "b c"]),
])
def test_a_described_range_reads_back_as_the_same_dimension(dimension) -> None:
    back = dimension_from_text(describe(dimension))
    assert describe(back) == describe(dimension) and type(back) is type(dimension)
    if isinstance(dimension, Categorical):
        assert list(back.categories) == list(dimension.categories)  # 8, not "8"
    else:
        assert back.bounds == dimension.bounds and back.prior == dimension.prior


def point(lr: float, d_model: int = 64, e_layers: int = 2, last: bool = True,
          kind: str = "a", dropout: float = 0.2) -> dict:
    return {"optim.lr": lr, "model.d_model": d_model, "model.e_layers": e_layers,
            "model.subtract_last": last, "kind": kind, "model.dropout": dropout}


def test_an_edge_is_where_all_of_the_best_three_sit_at_one_end() -> None:
    rest = [point(1e-3), point(2e-3), point(5e-4)]
    best = [point(9e-3, 128, 1, dropout=0.01), point(1e-2, 128, 1, kind="c", dropout=0.04),
            point(7e-3, 128, 1, last=False, dropout=0.0)]
    assert range_edges(DIMENSIONS, best + rest) == {
        "optim.lr": "high", "model.d_model": "high", "model.e_layers": "low",
        "model.dropout": "low"}
    # one of the three inside the range: no edge (6.5e-3 is 0.91 of the log range, 6e-3 0.89)
    third = point(6.5e-3, 64, 2, dropout=0.06)
    assert range_edges(DIMENSIONS, [*best[:2], third, *rest]) == {"optim.lr": "high"}
    third["optim.lr"] = 6e-3
    assert range_edges(DIMENSIONS, [*best[:2], third, *rest]) == {}
    # the best three of five trials: too few to tell an edge from chance
    assert range_edges(DIMENSIONS, best + rest[:2]) == {}
    # the edge is the best three's: a worse trial at the edge does not count
    assert range_edges(DIMENSIONS, rest + best) == {}


def test_a_sweep_whose_optimum_lies_beyond_its_range_says_so(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The quadratic's optimum is x=0.3, n=3: searched below both, the best trials crowd the
    top of each range; kind's choices have no order."""
    with caplog.at_level(logging.WARNING, logger="tsbench.search.loop"):
        multirun(sweep_dir, "x=interval(-1.0, 0.1)", "n=range(0, 3)", "kind=a,b,c",
                 "hydra.sweeper.n_trials=14", "hydra.sweeper.n_initial_points=6")
    best = yaml.safe_load((sweep_dir / "best.yaml").read_text())
    assert best["at_range_edge"] == {"x": "high", "n": "high"}
    assert "best 3 trials sit at one end of a searched range" in caplog.text
    assert "x at the high end of interval(-1.0, 0.1)" in caplog.text
    assert "n at the high end of int interval(0, 2) (2, 2, 2)" in caplog.text
    assert "hydra.sweeper.resume=force" in caplog.text


def test_a_sweep_around_its_optimum_finds_no_edge(
        sweep_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tsbench.search.loop"):
        multirun(sweep_dir, "x=interval(-1.0, 1.0)", "n=range(0, 7)", "kind=a,b,c",
                 "hydra.sweeper.n_trials=14", "hydra.sweeper.n_initial_points=6")
    assert yaml.safe_load((sweep_dir / "best.yaml").read_text())["at_range_edge"] == {}
    assert "sit at one end" not in caplog.text


#: (c)'s limits in a tuning run of 1000 training rows at pred_len=84: half of them less
#: pred_len, 416, applied under recipe.max_seq_len's 720.
BOUND = LookbackBound(half=416, cap=720, cap_rule="recipe.max_seq_len", periods=(52, 104))


def test_a_tuning_run_reads_its_searches_ranges_and_trials_as_written(tmp_path: Path) -> None:
    """report.md's sentence: the ranges from the Bayesian search's search.yaml, the values
    as trials.csv writes them (text), the configurations best first."""
    sweep = tmp_path / "e_bayes"
    sweep.mkdir()
    (sweep / "search.yaml").write_text(yaml.safe_dump({"params": {
        "seq_len": "choice(104, 208, 416)", "optim.lr": describe(LR),
        "model.subtract_last": "choice(False, True)"}}))
    texts = [("416", "0.0095", "True"), ("416", "0.0099", "False"), ("416", "0.009", "True"),
             ("104", "0.001", "True"), ("208", "0.0002", "False"), ("104", "0.005", "True")]
    configs = [{"params": {"seq_len": s, "optim.lr": lr, "model.subtract_last": last}}
               for s, lr, last in texts]
    note = search_edges([sweep, tmp_path / "d_random"], configs, BOUND)
    assert "seq_len at the high end of choice(104, 208, 416) (416, 416, 416)" in note
    assert "optim.lr at the high end of log interval(0.0001, 0.01) (0.0095, 0.0099, 0.009)" \
        in note
    assert "subtract_last" not in note
    assert note.endswith("-> in a new tuning run, an optim.lr range reaching higher in "
                         "recipe.search, 'optim.lr=tag(log,interval(low,high))' (it replaces the "
                         "recipe's, whose top is a tenth of the range test's loss-minimum rate); "
                         "a longer series for seq_len: (c)'s look-backs stopped at 416, half the "
                         "training rows less pred_len, so that half of those rows start a "
                         "training window (recipe.max_seq_len, 720, did not bind: raising it "
                         "changes nothing)")
    low = [{"params": {**c["params"], "seq_len": {"416": "104", "104": "416"}.get(
        c["params"]["seq_len"], "208")}} for c in configs]  # the best three at the shortest
    assert "no shorter seq_len: (c)'s shortest candidate already holds two cycles of the " \
        "training rows' period 52" in search_edges([sweep], low, BOUND)
    aperiodic = LookbackBound(half=416, cap=720, cap_rule="recipe.max_seq_len")  # no period
    assert search_edges([sweep], low, aperiodic).endswith(
        "; shorter look-backs in recipe.search, e.g. "
        "'seq_len=choice(12,24,48)' (it replaces (c)'s: (c) found no period in the training "
        "rows, so it searched common look-backs, not multiples of one)")
    assert search_edges([sweep], configs[3:] + configs[:3], BOUND) == ""  # best first
    slow = [{"params": {**c["params"], "optim.lr": lr}} for c, lr in zip(
        configs, ("0.00011", "0.0001", "0.00012", "0.001", "0.0002", "0.005"), strict=True)]
    assert "a wider recipe.lr_span for optim.lr" in search_edges([sweep], slow, BOUND)  # the bottom
    assert search_edges([tmp_path / "d_random"], configs, BOUND) == ""  # no search.yaml


def test_value_from_text_reads_a_described_choice() -> None:
    choice = dimension_from_text("choice(8, 16, 32)")
    assert value_from_text(choice, "16") == 16 and position(choice, 32) == 1.0


@pytest.mark.parametrize("bound, advice", [
    # recipe.max_seq_len applied: raise it
    (LookbackBound(half=4224, cap=720, cap_rule="recipe.max_seq_len"),
     "a higher recipe.max_seq_len for seq_len: recipe.max_seq_len stopped (c)'s look-backs at "
     "720 (half the training rows less pred_len allows 4224)"),
    # half the training rows applied: a higher recipe.max_seq_len would change nothing
    (LookbackBound(half=314, cap=720, cap_rule="recipe.max_seq_len"),
     "a longer series for seq_len: (c)'s look-backs stopped at 314, half the training rows "
     "less pred_len, so that half of those rows start a training window (recipe.max_seq_len, "
     "720, did not bind: raising it changes nothing)"),
    # with recipe.cv_folds, the first fold's rows applied
    (LookbackBound(half=314, cap=200, cap_rule="the first fold's training rows less pred_len"),
     "fewer recipe.cv_folds (a longer first fold) for seq_len: the first fold's training rows "
     "less pred_len stopped (c)'s look-backs at 200 (half the training rows less pred_len "
     "allows 314)"),
])  # fmt: skip
def test_a_best_look_back_at_the_top_names_the_limit_that_applied_with_its_number(
        bound: LookbackBound, advice: str) -> None:
    assert widening("seq_len", "high", bound) == advice
    assert widening("model.d_model", "high", bound) == "a wider range for model.d_model in " \
        "recipe.search"
