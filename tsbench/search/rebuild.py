"""A resumed sweep rebuilt from its record: which trials run again, which are recorded from
their job folders, and the optimizer brought to where the sweep left it.

:mod:`tsbench.search.sweep` states the resume contract; this module reads the record
(:mod:`tsbench.search.record`) and trials.csv's trials to keep it: trials that were
running when the sweep died are launched again or, finished as it died, recorded from
their folders (:mod:`tsbench.search.adopt`); a batch the death split is replayed as it
ran; and the recorded trials are told to the optimizer after the proposals the sweep asked
for, in the groups and order it told them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from tsbench.search import faults
from tsbench.search.constraints import ConstraintSet
from tsbench.search.loop import Earlier, Relaunch
from tsbench.search.proposer import Proposer
from tsbench.search.record import Launch, Record, told_order
from tsbench.search.space import Scalar, SearchSpace
from tsbench.search.trials import FAILED, Trial, trial_label

log = logging.getLogger(__name__)

#: The end entry of a launch that was running when its sweep died.
LOST = "lost"

#: A lost launch's trial, finished in its job folder (:func:`finished_trial`), or None.
Finished = Callable[[Launch, list[Scalar]], Trial | None]


def lost_trials(record: Record, trials: list[Trial], space: SearchSpace,
                constraints: ConstraintSet, finished: Finished
                ) -> tuple[list[Relaunch], set[int], list[tuple[Trial, Launch]]]:
    """Trials that were running when the sweep died, to launch again (their launches are
    marked lost), trials whose row was deleted from a damaged trials.csv (their launches
    ended: run again, as the error about the damage says), the numbers of recorded
    trials among them: a trial launched again by an earlier resume (stopped by max_seconds,
    or retried) whose new launch died keeps its old row until the relaunch replaces it,
    and the trials that ``finished`` as the sweep died, with their launches, recorded from
    their job folders rather than launched again (:mod:`tsbench.search.adopt`; their
    launches are left for :func:`record_adopted` to end, after their rows).
    A point outside the space or the ``constraints`` that a resume=force changed is not
    launched again."""
    ended = {t.number: t for t in trials}
    now = time.time()
    running: dict[int, list[Launch]] = {}
    told: dict[int, float] = {}  # batch -> when its recorded trials were told
    for launch in record.launches():
        if launch.ended is None or launch.trial not in ended:
            running.setdefault(launch.trial, []).append(launch)
        elif launch.told_in is not None and ended[launch.trial].job == launch.job:
            told[launch.told_in] = launch.ended
    relaunch, superseded, adopted = [], set(), []
    for number, launches in sorted(running.items()):
        row = ended.get(number)
        if row is not None and row.job in {la.job for la in launches}:
            for launch in launches:  # died between its row and its end entry: it did end,
                # told with its batch (the sweep died between their end entries), else
                # last, with the others so
                at = now if launch.told_in is None else told.get(launch.told_in, now)
                record.ended(launch, row.status, at)
            continue
        found = _finished(launches, space, constraints, finished)
        if found is not None:
            for launch in launches:
                if launch.ended is None and launch is not found[1]:
                    record.ended(launch, LOST)
            adopted.append(found)
            if row is not None:  # an earlier launch's row, which this one replaces
                superseded.add(number)
            continue
        for launch in launches:
            if launch.ended is None:
                record.ended(launch, LOST)
        died = {la.job for la in launches if la.ended is None or la.status == LOST}
        failed = {la.job for la in launches if la.status == FAILED}  # a deleted failed row
        cut = set()
        if row is not None:  # its row is an earlier launch's, which this one was to replace
            failed |= {row.job} if row.status == FAILED else set()
            cut |= {row.job} if row.stopped_by_clock else set()
        earlier = Earlier(
            lost=tuple(sorted({j for la in launches for j in la.lost_jobs} | died)),
            failed=tuple(sorted({j for la in launches for j in la.failed_jobs} | failed)),
            cut=tuple(sorted({j for la in launches for j in la.cut_jobs} | cut)),
        )
        try:
            point = space.parse_row(launches[-1].point)
        except ValueError as error:  # resume=force with a narrowed space
            log.warning("%s lies outside the new space (%s): not launched again",
                        trial_label(number, launches[-1].job), error)
            continue
        if not feasible(point, constraints):
            log.warning("%s breaks the constraints changed by resume=force (%s): not "
                        "launched again", trial_label(number, launches[-1].job),
                        "; ".join(constraints.violated(point)))
            continue
        if row is not None:
            superseded.add(number)
        relaunch.append(Relaunch(number, point, earlier))
    return relaunch, superseded, adopted


def on_slurm(record: Record, trials: Sequence[Trial]) -> dict[str, str]:
    """The SLURM jobs noted by the launches that were running when the sweep died (no end,
    and no row of their own in ``trials``), each naming its trial: SLURM job id -> label
    (:mod:`tsbench.search.slurm_jobs`). Empty where none noted one."""
    ended = {(t.number, t.job) for t in trials}
    jobs: dict[str, str] = {}
    for launch in record.launches():
        slurm_job = record.slurm_job(launch.job) if launch.ended is None and (
            launch.trial, launch.job) not in ended else None
        if slurm_job is not None:
            jobs[slurm_job] = trial_label(launch.trial, launch.job)
    return jobs


def split_batch(relaunch: list[Relaunch], adopted: list[tuple[Trial, Launch]],
                 record: Record) -> tuple[list[Relaunch], list[tuple[Trial, Launch]],
                                          list[tuple[Trial, Launch]]]:
    """Under the batch schedule, a batch the sweep died in with some trials finished
    (``adopted``) and some lost (in ``relaunch``) is replayed as it ran: its lost trials
    are launched again as a batch of their own, nothing new beside them, and its finished
    ones held back to be told with them (then the next batch is asked for as it was).
    Returns the relaunches (those of such a batch marked, first), the adopted trials told
    at once, and those held."""
    launches = record.launches()
    died_in: dict[int, int | None] = {}  # trial -> the batch its last launch was told in
    for launch in launches:
        died_in[launch.trial] = launch.told_in
    adopted_in = {launch.told_in for _, launch in adopted} - {None}
    split = {died_in.get(r.number) for r in relaunch if r.earlier.lost} & adopted_in
    if not split:
        return relaunch, adopted, []
    replayed = [dataclasses.replace(r, replays=died_in[r.number]) for r in relaunch
                if r.earlier.lost and died_in.get(r.number) in split]
    numbers = {r.number for r in replayed}
    return ([*replayed, *(r for r in relaunch if r.number not in numbers)],
            [(t, la) for t, la in adopted if la.told_in not in split],
            [(t, la) for t, la in adopted if la.told_in in split])


def _finished(launches: list[Launch], space: SearchSpace, constraints: ConstraintSet,
              finished: Finished) -> tuple[Trial, Launch] | None:
    """The last of a trial's ``launches`` with no end whose job folder holds it finished,
    at a point of the space and the ``constraints``, and that trial; None where none does."""
    for launch in reversed(launches):
        if launch.ended is not None:
            continue
        try:
            point = space.parse_row(launch.point)
        except ValueError:  # resume=force with a narrowed space: as a lost launch's
            continue
        trial = finished(launch, point) if feasible(point, constraints) else None
        if trial is not None:
            return trial, launch
    return None


def replay(proposer: Proposer, teller: faults.Teller, trials: list[Trial],
            relaunch: list[Relaunch], record: Record, held: list[Trial]) -> None:
    """Tell the optimizer the recorded trials as the sweep told them (:func:`_as_told`),
    each after the proposal the sweep asked for every trial numbered up to it (the answers
    thrown away), asked as the sweep asked: one at a time, or a batch's new points in one
    call with its relaunched ones pending (a batch of n asks skopt otherwise than n single
    asks). The optimizer's and the proposer's random states, which each ask may draw
    from (``initial_point_generator=random``, a point replaced as seen or infeasible,
    a batch's constant liar), then stand where the sweep left them, and the next point is
    the one it would have proposed (one trial at a time, or in batches; trials refilled
    side by side were asked for with others running, which the record does not hold).
    ``held``: trials of a batch split by the resume, told later with its relaunched ones."""
    points = ({t.number: t.point for t in [*trials, *held]}
              | {r.number: r.point for r in relaunch})
    launches = record.launches()
    last = max([*points, *(la.trial for la in launches)], default=0)
    asked = 0
    first: dict[int, Launch] = {}  # trial -> the launch its point was asked for
    batches: dict[int, list[Launch]] = {}
    for launch in launches:
        first.setdefault(launch.trial, launch)
        if launch.batch is not None:
            batches.setdefault(launch.batch, []).append(launch)

    def asked_with(number: int) -> tuple[list[int], list[list[Scalar]]]:
        """The trials asked for in one call with ``number`` (its batch's new points), and
        the points pending then (the batch's trials launched again)."""
        launch = first.get(number)
        if launch is None or launch.batch is None:
            return [number], []
        batch = batches[launch.batch]
        return ([la.trial for la in batch if first[la.trial] is la],
                [points[la.trial] for la in batch
                 if first[la.trial] is not la and la.trial in points])

    def ask_up_to(number: int) -> None:
        nonlocal asked
        while asked < number:
            fresh, pending = asked_with(asked + 1)
            proposer.ask(len(fresh), pending)
            for n in fresh:
                if n in points:
                    proposer.mark_seen(points[n])
            asked = max(asked + 1, *fresh)

    for told in _as_told(trials, record):
        ask_up_to(max(t.number for t in told))
        teller.tell(told)  # the values told depend on what was told with and before them
    ask_up_to(last)
    for point in points.values():
        proposer.mark_seen(point)


def _as_told(trials: list[Trial], record: Record) -> list[list[Trial]]:
    """The recorded trials in the groups and the order the sweep told them the optimizer:
    by the end time of their launch, which the trials told together share (a batch; one
    trial at a time otherwise, in the order they ended, which with trials side by side is
    not their number order); trials whose launch logged no end (a sweep of an older
    tsbench) first, one at a time in number order."""
    launches = record.launches()
    ends = {la.job: la.ended for la in launches if la.ended is not None}
    order = told_order(launches)  # a batch's job order, a split batch's as it first ran
    told: dict[float, list[Trial]] = {}
    for t in trials:
        if t.job in ends:
            told.setdefault(ends[t.job], []).append(t)
    unlogged = [[t] for t in trials if t.job not in ends]
    return unlogged + [sorted(told[at], key=lambda t: order[t.job]) for at in sorted(told)]


def run_again(trials: list[Trial], retry_failed: bool) -> tuple[list[Trial], list[Relaunch]]:
    """The recorded trials (in the current space) a resume launches again, once each: those
    ``max_seconds`` stopped short of their budget, which no rule judged, and with
    ``retry_failed`` the failed ones. They leave the record; the rest stay."""
    def again(t: Trial) -> bool:
        return t.in_space and (t.stopped_by_clock or (retry_failed and t.status == FAILED))

    for t in trials:
        if t.stopped_by_clock and not t.in_space:
            log.warning("%s was stopped at max_seconds but lies outside the space changed "
                        "by resume=force: not launched again", trial_label(t.number, t.job))

    return ([t for t in trials if not again(t)],
            [Relaunch(t.number, t.point, Earlier(failed=(t.job,)) if t.status == FAILED
                      else Earlier(cut=(t.job,))) for t in trials if again(t)])


def feasible(point: Sequence[Any], constraints: ConstraintSet) -> bool:
    """Whether ``point`` meets the sweep's ``constraints`` (none: any point)."""
    return not constraints or constraints(point)


def feasible_only(trials: list[Trial], constraints: ConstraintSet) -> list[Trial]:
    """``trials`` with those that break ``constraints`` (changed by a resume=force) outside
    the space: kept in the record, never told to the optimizer (whose space they lie
    outside) nor launched again. Those left out, by the space or the constraints, are
    counted in one warning, with each reason."""
    outside = sum(not t.in_space for t in trials)
    broken = [t for t in trials if t.in_space and not feasible(t.point, constraints)]
    if outside or broken:
        texts = dict.fromkeys(c for t in broken for c in constraints.violated(t.point))
        why = [f"{outside} outside the space"] if outside else []
        why += [f"{len(broken)} breaking {'; '.join(texts)}"] if broken else []
        log.warning("resume: %d of %d recorded trials lie outside the search changed by a "
                    "resume=force (%s); they stay in the record but are not told to the "
                    "optimizer", outside + len(broken), len(trials), ", ".join(why))
    left_out = {t.number for t in broken}
    return [dataclasses.replace(t, in_space=False) if t.number in left_out else t
            for t in trials]
