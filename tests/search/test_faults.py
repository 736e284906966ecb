"""Failed trials: classification, penalty rule, failure-rate gate."""

from __future__ import annotations

import math

import pytest
from hydra.core.utils import JobReturn, JobStatus

from tsbench.errors import ConfigError
from tsbench.search.faults import (
    SweepAbortedError,
    Teller,
    check_failure_rate,
    outcome_of,
    penalty,
)
from tsbench.search.timing import SECONDS_ATTR, TimedTask, TimedValue


def job(value=None, error: BaseException | None = None) -> JobReturn:
    ret = JobReturn(overrides=["x=1"])
    ret.status = JobStatus.FAILED if error else JobStatus.COMPLETED
    ret.return_value = error if error else value
    return ret


@pytest.mark.parametrize(
    "returned, objective",
    [
        (TimedValue(0.5, 2.0), 0.5),
        (TimedValue(3, 1.0), 3.0),
        (0.25, 0.25),  # a launcher that bypasses the timing wrapper
        (TimedValue(math.nan, 1.0), None),
        (TimedValue(math.inf, 1.0), None),
        (TimedValue(None, 1.0), None),
        (TimedValue("0.5", 1.0), None),
        (TimedValue(True, 1.0), None),
    ],
)
def test_completed_jobs(returned, objective) -> None:
    outcome = outcome_of(job(returned), "trial 1")
    assert outcome.objective == objective
    assert outcome.ok is (objective is not None)
    if objective is None:
        assert "not a finite number" in outcome.error


def test_failed_job_keeps_message_and_seconds(capsys) -> None:
    error = ValueError("boom\nsecond line")
    setattr(error, SECONDS_ATTR, 1.5)
    outcome = outcome_of(job(error=error), "trial 2")
    assert outcome == outcome.__class__(None, 1.5, "ValueError: boom second line")


def test_timed_task_reports_seconds_and_reraises() -> None:
    assert TimedTask(lambda cfg: cfg * 2)(3).value == 6

    def fail(cfg):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError) as caught:
        TimedTask(fail)(None)
    assert getattr(caught.value, SECONDS_ATTR) >= 0.0


@pytest.mark.parametrize(
    "finite, expected",
    [
        ([1.0, 3.0], 3.2),  # worst + 10% of the spread
        ([2.0], 2.2),  # one value: 10% of |worst|
        ([-2.0, -2.0], -1.8),
        ([0.0], 0.1),
    ],
)
def test_penalty(finite: list[float], expected: float) -> None:
    assert penalty(finite) == pytest.approx(expected)


@pytest.mark.parametrize(
    "failed, launched, rate, initial, aborts",
    [
        (1, 1, 0.0, 10, True),  # 0 stops at the first failure
        (5, 5, 0.5, 10, False),  # grace window: 5 <= 0.5 * 10
        (6, 6, 0.5, 10, True),
        (10, 20, 0.5, 10, False),
        (11, 20, 0.5, 10, True),
        (20, 20, 1.0, 10, False),  # 1 never stops
        (1, 1, 0.5, 1, False),  # warm-started (tsbench-tune's e): 1 <= 0.5 * 4
        (2, 3, 0.5, 1, False),
        (3, 3, 0.5, 1, True),
        (1, 1, 0.0, 1, True),
    ],
)
def test_failure_rate_gate(failed, launched, rate, initial, aborts) -> None:
    if aborts:
        with pytest.raises(SweepAbortedError, match="hydra.sweeper.max_failure_rate"):
            check_failure_rate(failed, launched, rate, initial, "ValueError: x")
    else:
        check_failure_rate(failed, launched, rate, initial, "ValueError: x")


class _Recorder:
    def __init__(self) -> None:
        self.told: list[tuple[list, list]] = []

    def tell(self, xs: list, ys: list) -> None:
        self.told.append((xs, ys))


def _trial(number: int, objective: float | None):
    from tsbench.search.trials import Trial

    return Trial(number, number, [number], objective, 1.0, str(number))


def test_log_objective_tells_logs_and_penalizes_in_log_space() -> None:
    recorder = _Recorder()
    teller = Teller(recorder, sign=1.0, log_objective=True)
    teller.tell([_trial(1, 0.8), _trial(2, 200.0), _trial(3, None)])
    (xs, ys), = recorder.told
    logs = [math.log(0.8), math.log(200.0)]
    assert ys[:2] == pytest.approx(logs)
    assert ys[2] == pytest.approx(penalty(logs))  # the failed trial, in the same space
    with pytest.raises(ConfigError, match="log_objective"):
        teller.tell([_trial(4, 0.0)])


def test_plain_objective_is_told_as_is() -> None:
    recorder = _Recorder()
    Teller(recorder, sign=-1.0).tell([_trial(1, 0.5)])
    assert recorder.told == [([[1]], [-0.5])]


def _pruned(number: int, objective: float, epoch: int):
    from tsbench.search.trials import Trial

    return Trial(number, number, [number], objective, 1.0, str(number), "asha", epoch)


def test_pruned_trials_are_told_no_better_than_the_best_full_budget_trial() -> None:
    recorder = _Recorder()
    teller = Teller(recorder, sign=1.0, log_objective=True)
    teller.tell([_pruned(1, 0.3, 2)])  # nothing finished yet: its own value
    teller.tell([_trial(2, 0.5), _pruned(3, 0.9, 2), _pruned(4, 0.4, 6), _trial(5, None)])
    (xs1, ys1), (xs2, ys2) = recorder.told
    assert ys1 == pytest.approx([math.log(0.3)])
    assert xs2 == [[2], [3], [4], [5]]  # full-budget trials first, then pruned, then failed
    assert ys2[:3] == pytest.approx([math.log(0.5), math.log(0.9), math.log(0.5)])
    assert ys2[3] > math.log(0.9)  # a failure is penalized beyond every pruned value
