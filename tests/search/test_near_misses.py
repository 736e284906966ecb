"""A sweep warns when the pruning rule stopped trials whose objective at their stop was
already within 1 % of the best full-budget trial's: with more epochs (a best loss so far
only falls) they might have beaten it."""

from __future__ import annotations

from skopt.space import Real

from tsbench.search.report import closing_warnings, near_misses, no_full_budget
from tsbench.search.space import Param, SearchSpace
from tsbench.search.trials import Trial


def trial(number: int, objective: float, pruned_at: int | None = None,
          error: str = "") -> Trial:
    return Trial(number=number, job=number - 1, point=[0.5], objective=objective,
                 seconds=1.0, job_dir=str(number - 1), error=error, pruned_at_epoch=pruned_at)


TRIALS = [
    trial(1, 0.400),  # the best full-budget trial
    trial(2, 0.450),
    trial(3, 0.403, pruned_at=3, error="asha rung 3: 0.403 not in the best 1 of 3"),
    trial(4, 0.398, pruned_at=1, error="asha rung 1: 0.398 not in the best 1 of 3"),
    trial(5, 0.405, pruned_at=3, error="asha rung 3: 0.405 not in the best 1 of 3"),
    trial(6, 0.401, pruned_at=2, error="max_seconds spent: stopped at epoch 2"),
    trial(7, 0.3, pruned_at=None, error=""),
]


def test_trials_pruned_within_one_percent_of_the_best_are_named_best_first() -> None:
    said = near_misses(TRIALS[:6], maximize=False)
    assert said.startswith(
        "2 pruned trials came within 1% of the best full-budget objective 0.4 (trial 1) "
        "before the rule stopped them: trials 4 (0.398 at epoch 1), 3 (0.403 at epoch 3); "
        "with more epochs they might have beaten it -> ")
    # 0.405 is 1.25 % worse; trial 6, stopped by the clock, is named apart: a resume
    # trains it to its budget
    rule, clock = said.split("; 1 pruned")
    assert "5 (" not in said and "6 (" not in rule
    assert clock == (
        " trial came within 1% of the best full-budget objective 0.4 (trial 1) before "
        "max_seconds stopped it: trial 6 (0.401 at epoch 2); with more epochs it might "
        "have beaten it -> resume the sweep (hydra.sweeper.resume=true): it trains them to "
        "their budget first")
    # a full-budget trial better than every pruned one leaves no near miss
    assert near_misses(TRIALS, maximize=False) == ""


def test_a_maximized_objective_counts_a_near_miss_from_above() -> None:
    flipped = [trial(t.number, -t.objective, t.pruned_at_epoch, t.error)  # type: ignore[operator]
               for t in TRIALS[:6]]
    assert "trials 4 (-0.398 at epoch 1), 3 (-0.403 at epoch 3)" in near_misses(
        flipped, maximize=True)


def test_the_sweep_closes_with_both_warnings() -> None:
    """Every trial at lr=0.5: mid-range in (0, 1), at the low end of (0.45, 5): there the
    sweep warns of the edge too, first."""
    many = [*TRIALS[:6], *(trial(n, 0.5 + n) for n in range(8, 12))]  # 6 full-budget
    for low, high, edge in ((0.0, 1.0, False), (0.45, 5.0, True)):
        space = SearchSpace(params=(Param("optim.lr", Real(low, high)),), fixed=())
        warnings = closing_warnings(space, many, maximize=False)
        assert len(warnings) == 1 + edge and warnings[-1].startswith("2 pruned trials came")
        assert not edge or "optim.lr" in warnings[0]


def test_a_sweep_whose_trials_were_all_pruned_says_it_has_no_best() -> None:
    pruned = [t for t in TRIALS[:6] if t.pruned_at_epoch is not None]
    space = SearchSpace(params=(Param("optim.lr", Real(0.0, 1.0)),), fixed=())
    [said] = closing_warnings(space, pruned, maximize=False)
    assert said == (
        "none of the 4 trials ran its full budget (4 pruned), so there is no best trial and no "
        "best.yaml -> resume with more time (hydra.sweeper.max_seconds) or prune later (raise "
        "hydra.sweeper.pruner.min_epochs)")
    [said] = closing_warnings(space, pruned, maximize=False, warm_best=True)
    assert "so there is no best trial and best.yaml names the warm-start file's best alone " \
        "-> resume" in said  # a warm-start trial better than none: best.yaml names it
    assert no_full_budget(TRIALS) == ""  # a full-budget trial: best.yaml names it
    failed = [Trial(1, 0, [0.5], None, 1.0, "0", "ValueError: ...")]
    assert no_full_budget(failed) == ""  # the summary names failed trials
