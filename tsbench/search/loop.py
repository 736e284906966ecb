"""The sweep loop: propose -> launch -> record each trial as it ends -> tell the optimizer.

Two schedules (``hydra.sweeper.schedule``):

- ``batch``: ``n_jobs`` points proposed together (constant liar), handed to the launcher
  in one call, and told together when the call returns; the next batch waits for the
  slowest trial of the last one. The basic launcher always runs this way (one trial
  after another when ``n_jobs`` > 1).
- ``refill``: up to ``n_jobs`` trials run at once, each as its own launcher call in a
  thread (:mod:`tsbench.search.slots`); when one ends (finished, pruned or failed) it is
  recorded and told, and the next point, proposed with the running ones counted as
  pending, starts at once. ``auto`` picks refill for joblib and submitit.

With ``n_jobs=1`` both are one trial at a time and propose exactly the same points. A
launch that raises (its worker process killed, as by the out-of-memory killer: loky then
ends the other workers, and with them the other trials of the batch) fails its trials that
had not finished, and the sweep goes on; a trial whose job folder holds its finished run is
recorded from there (:func:`tsbench.search.adopt.finished_trial`). The sweep's own stop
(SIGTERM, Ctrl-C) is no exception of the launch: it still ends the sweep. Every
launch is logged in the record before it starts (:mod:`tsbench.search.record`), so a
sweep that dies leaves its running trials findable; trials.csv, best.yaml and the launch
log's end entry are rewritten, atomically and in that order, after every end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

from tsbench.counted import counted, noun_for
from tsbench.search import faults, plots, report
from tsbench.search.composition import Compose
from tsbench.search.job_folder import JobFolders
from tsbench.search.names import BEST_FILE, TRIALS_FILE
from tsbench.search.proposer import Proposer
from tsbench.search.pruning import trial_overrides
from tsbench.search.record import Launch, Record, told_order
from tsbench.search.settings import SweepSettings
from tsbench.search.slots import Slots
from tsbench.search.space import Scalar, SearchSpace
from tsbench.search.trials import FAILED, Trial, trial_label, write_trials
from tsbench.search.validate import composition_shape

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Earlier:
    """The earlier launches of a trial launched again (job numbers), by how they ended."""

    lost: tuple[int, ...] = ()  # running when their sweep died
    failed: tuple[int, ...] = ()  # failed, and retried by ``retry_failed``
    cut: tuple[int, ...] = ()  # stopped short of their budget when max_seconds was spent


@dataclass(frozen=True)
class Relaunch:
    """A trial launched again, once, before any new point (see :class:`Earlier` for why)."""

    number: int
    point: list[Scalar]
    earlier: Earlier
    # The batch (its first job) this lost trial ran in, split by the resume: relaunched
    # with its other lost trials alone, told with its finished ones (``Loop``'s ``held``).
    replays: int | None = None


#: ``launch``'s trial as its job folder holds it, finished, its row marked with the note
#: (:func:`tsbench.search.adopt.finished_trial`), or None.
FromFolder = Callable[[Launch, list[Scalar], str], Trial | None]
#: The trials.csv note of a trial recorded from its folder after its launch raised.
FROM_FOLDER = "recorded from its job folder: it finished before its launch failed"


@dataclass(frozen=True)
class _Running:
    launch: Launch
    point: list[Scalar]


class Loop:
    """Runs a sweep's trials until ``n_trials`` have ended (see the module docstring)."""

    def __init__(
        self,
        *,
        settings: SweepSettings,
        space: SearchSpace,
        sweep_dir: Path,
        record: Record,
        launcher: Any,
        validate: Callable[[list[list[str]]], None],
        compose: Compose,
        proposer: Proposer,
        teller: faults.Teller,
        plotter: Plotter,
        trials: list[Trial],
        relaunch: list[Relaunch],
        held: list[tuple[Trial, Launch]],
        first_job: int,
        refill: bool,
        from_folder: FromFolder,
        log_starts: bool = False,
        folders: JobFolders,
        warm: report.WarmStart | None = None,
    ) -> None:
        self.s = settings
        self.space = space
        self.sweep_dir = sweep_dir
        self.record = record
        self.launcher = launcher
        self.validate = validate
        self.compose = compose
        self.proposer = proposer
        self.teller = teller
        self.plotter = plotter
        self.from_folder = from_folder
        self.folders = folders  # a failed launch's row names its folder, which holds its log
        self.warm = warm  # its best is named where it beats this sweep's
        self.trials = trials
        # the failure rate counts the others
        self.recorded_jobs = {t.job for t in trials} | {t.job for t, _ in held}
        self.relaunch = relaunch
        self.held = held  # finished trials of a split batch, told with its relaunched ones
        self.launched_before = {r.number for r in relaunch}  # each gets a folder of its own
        self.job = first_job
        self.slots = Slots(launcher) if refill else None
        self.log_starts = log_starts  # the launcher's own lines are quieted
        numbers = [t.number for t in trials] + [r.number for r in relaunch]
        numbers += [launch.trial for launch in record.launches()]
        self.number = max(numbers, default=0) + 1
        self.running: dict[int, _Running] = {}
        self.composed: set[tuple[str, ...]] = set()  # point shapes checked to compose
        self.launched: list[Sequence[JobReturn]] = []
        self.exhausted = False
        self.abort: faults.SweepAbortedError | None = None
        self.warned_silent = False
        self.out_of_time = False

    def run(self) -> list[Sequence[JobReturn]]:
        while True:
            started = self._fill()
            if self.slots is None:  # batch: the batch has ended inside _fill
                if not started:
                    break
                continue
            self.plotter.maybe_draw(self.trials)  # after the free slots were refilled
            if not self.running:
                break
            ended = self.slots.next()
            self.launched.append([ended.result] if ended.result is not None else [])
            self._ended([self._trial(ended.job, ended.result, ended.error)])
        if self.held:  # their batch's relaunch never started (max_seconds, an abort)
            self._ended(self._with_held([]))
        if self.trials:
            self._write_record()
            self.plotter.draw(self.trials)
        else:  # none ran (the warm start had tried every point): best.yaml names its best
            report.write_best(self.sweep_dir / BEST_FILE, self.space, [],
                              self.s.direction == "maximize", self.compose, self.warm)
        if self.abort is not None:
            raise self.abort
        better = self._better_warm()
        note = "" if better is None or self.warm is None else (
            report.warm_text(self.space, better, self.warm))
        test_note = "" if note else report.test_split_note(self._best(), self.sweep_dir)
        log.info(report.summary(self.trials, self._best(), note, test_note))
        for warning in report.closing_warnings(self.space, self.trials,
                                               self.s.direction == "maximize", bool(note)):
            log.warning(warning)
        return self.launched

    def _fill(self) -> bool:
        """Launch as many trials as free slots and the budget allow (batch: only when
        nothing runs); False when none could be launched."""
        if self.abort is not None or (self.slots is None and self.running):
            return False
        if self._time_spent():
            return False
        free = self.s.n_jobs - len(self.running)
        want = min(free, self.s.n_trials - len(self.trials) - len(self.running)
                   - len(self.held))
        if want <= 0:
            return False
        replayed = [r for r in self.relaunch if r.replays is not None]
        again = (replayed or self.relaunch)[:want]
        taken = {r.number for r in again}
        self.relaunch = [r for r in self.relaunch if r.number not in taken]
        fresh: list[list[Scalar]] = []
        if not replayed and want > len(again) and not self.exhausted:
            pending = [r.point for r in self.running.values()] + [r.point for r in again]
            fresh = self.proposer.ask(want - len(again), pending)
            if len(fresh) < want - len(again):
                self.exhausted = True
                warm = "" if self.warm is None else (
                    f", {len(self.warm.trials)} of them by the warm-start file")
                tried = len(self.trials) + len(self.running) + len(again) + len(fresh)
                log.info("search space exhausted after %s: every point tried%s",
                         counted(tried, "trial"), warm)
        starts = [(r.number, r.point, r.earlier) for r in again]
        for point in fresh:
            starts.append((self.number, point, Earlier()))
            self.number += 1
        if starts:
            self._launch(starts, replayed[0].replays if replayed else None)
        return bool(starts)

    def _time_spent(self) -> bool:
        """Whether ``max_seconds`` has passed (logged once): no new trial starts then."""
        if self.s.max_seconds is None or self.plotter.elapsed() < self.s.max_seconds:
            return False
        if not self.out_of_time:
            self.out_of_time = True
            log.info("max_seconds=%g spent after %s: no new trial is launched",
                     self.s.max_seconds, counted(len(self.trials), "ended trial"))
        return True

    def _deadline(self) -> float | None:
        """When ``max_seconds`` is spent, in seconds since the epoch (None without it)."""
        if self.s.max_seconds is None:
            return None
        return time.time() + self.s.max_seconds - self.plotter.elapsed()

    def _launch(self, starts: list[tuple[int, list[Scalar], Earlier]],
                told_with: int | None = None) -> None:
        """Launch ``starts``; ``told_with``: they replay that batch, split by the resume,
        and its held trials are told with them, in that batch's order."""
        overrides = []
        for i, (number, point, _) in enumerate(starts):
            lines = self.space.overrides(point)
            if self.s.pruner.on:
                lines += trial_overrides(
                    self.s.pruner, self.record.directory.resolve(), number, self.job + i,
                    self._deadline(),
                )
            if number in self.launched_before:  # its earlier launch's folder is not its own
                lines += self.folders.own_folder(self.job + i)
            overrides.append(lines)
        shapes = [composition_shape(point) for _, point, _ in starts]
        fresh = {shape: lines for shape, lines in zip(shapes, overrides, strict=True)
                 if shape not in self.composed}
        self.validate(list(fresh.values()))  # Hydra's check that they compose, once a shape
        self.composed.update(fresh)
        jobs = list(range(self.job, self.job + len(starts)))
        self.job += len(starts)
        for job, (number, point, earlier) in zip(jobs, starts, strict=True):
            launch = Launch(number, job, self.space.texts(point), time.time(), earlier.lost,
                            earlier.failed, earlier.cut,
                            batch=jobs[0] if self.slots is None else None,
                            told_with=told_with)
            self.record.launched(launch)
            self.proposer.mark_seen(point)
            self.running[job] = _Running(launch, point)
            if self.log_starts:
                log.info("%s: started, %s", trial_label(number, job),
                         " ".join(f"{k}={v}" for k, v in launch.point.items()))
        if self.slots is not None:
            for job, lines in zip(jobs, overrides, strict=True):
                self.slots.start(lines, job)
            return
        try:
            results = self.launcher.launch(overrides, initial_job_idx=jobs[0])
        except Exception as error:  # a worker killed; the sweep's stop is a BaseException
            log.error("the launch of Hydra jobs %s raised (%s): the trials that finished "
                      "are recorded from their job folders, the others as failed, and the "
                      "sweep goes on", ", ".join(f"#{job}" for job in jobs),
                      faults.launch_error(error))
            self.launched.append([])
            self._ended(self._with_held([self._trial(job, None, error) for job in jobs]))
            return
        self.launched.append(results)
        self._ended(self._with_held([self._trial(job, r, None)
                                     for job, r in zip(jobs, results, strict=True)]))

    def _with_held(self, new: list[Trial]) -> list[Trial]:
        """``new`` and the held trials of the batch it replays (none held: ``new``), in
        that batch's order (:func:`tsbench.search.record.told_order`)."""
        if not self.held:
            return new
        for t, launch in self.held:
            self.running[launch.job] = _Running(launch, t.point)
        ended = [*new, *(t for t, _ in self.held)]
        self.held = []
        order = told_order(self.record.launches())
        return sorted(ended, key=lambda t: order.get(t.job, t.job))

    def _ended(self, new: list[Trial]) -> None:
        """Record, log and tell ended trials (a whole batch is told at once). A trial's
        line follows its row at once: the tell (a surrogate's fit, seconds in a long sweep)
        may stop the sweep (log_objective), or a Ctrl-C may land in it, and the row would
        be in trials.csv without its line in the sweep's log."""
        self.trials = sorted([*self.trials, *new], key=lambda t: (t.number, t.job))
        for t in new:
            self.proposer.mark_seen(t.point)
        self._write_record()
        best = self._best()
        before = len(self.trials) - len(new)
        for i, t in enumerate(new, start=1):
            log.info(report.trial_line(t, before + i, self.s.n_trials, best,
                                       self.plotter.elapsed(), self._better_warm()))
        self.teller.tell(new)
        told = time.time()  # one end time for the trials told together (Record.ended)
        for t in new:
            self.record.ended(self.running.pop(t.job).launch, t.status, told)
        if self.slots is None:
            self.plotter.maybe_draw(self.trials)
        self._check_failures()

    def _trial(self, job: int, result: JobReturn | None, error: BaseException | None) -> Trial:
        running = self.running[job]
        label = trial_label(running.launch.trial, job)
        if result is None:
            finished = self.from_folder(running.launch, running.point, FROM_FOLDER)
            if finished is not None:
                log.warning("%s finished before its launch failed: recorded from %s", label,
                            self.sweep_dir / finished.job_dir)
                return finished
            outcome = faults.launch_failure(error or RuntimeError("no result"), label)
        else:
            outcome = faults.outcome_of(result, label)
        mark = self.record.pruned(job) if outcome.ok and self.s.pruner.on else None
        if outcome.ok and self.s.pruner.on and mark is None:
            self._warn_if_silent(running.launch.trial)
        notes = [mark.reason if mark else outcome.error, *earlier_notes(running.launch)]
        return Trial(
            number=running.launch.trial,
            job=job,
            point=running.point,
            objective=outcome.objective,
            seconds=outcome.seconds,
            job_dir=(_job_dir(result, self.sweep_dir) if result is not None
                     else self.folders.subdir(job) or ""),
            error="; ".join(n for n in notes if n),
            pruned_at_epoch=mark.epoch if mark else None,
        )

    def _warn_if_silent(self, number: int) -> None:
        if self.warned_silent or self.record.has_reports(number):
            return
        self.warned_silent = True
        log.warning(
            "pruner.kind=%s, but trial %d reported no epoch to %s, so nothing prunes it: "
            "tsbench reports every trained epoch (models without training report none); "
            "another task must use tsbench.search.pruning.Reporter",
            self.s.pruner.kind, number, self.record.directory,
        )

    def _check_failures(self) -> None:
        """Stop launching when too many trials failed, unless nothing is left to launch
        (then the sweep ends normally and its summary names the failures). Only the trials
        that ended since the sweep (re)started count: a resume after an abort follows the
        advice to fix the cause, and gets the grace window again."""
        ended = [t for t in self.trials if t.job not in self.recorded_jobs]
        failed = [t for t in ended if t.status == FAILED]
        left = self.s.n_trials - len(self.trials) - len(self.running)
        if not failed or left <= 0 or self.abort is not None:
            return
        try:
            faults.check_failure_rate(
                len(failed), len(ended), self.s.max_failure_rate,
                self.s.initial_points, failed[-1].error,
            )
        except faults.SweepAbortedError as error:
            self.abort = error
            if self.running:
                log.error("%s; waiting for the %d running trials to end", error,
                          len(self.running))

    def _write_record(self) -> None:
        write_record(self.sweep_dir, self.space, self.trials, self.s.direction == "maximize",
                     self.compose, self.s.pruner.on, self.warm)

    def _best(self) -> Trial | None:
        return report.best_trial(self.trials, self.s.direction == "maximize")

    def _better_warm(self) -> Trial | None:
        return report.better_warm(self.trials, self.warm, self.s.direction == "maximize")


def earlier_notes(launch: Launch) -> list[str]:
    """The trials.csv notes of ``launch``'s earlier launches: retried, resumed, relaunched."""
    notes = [retry_note(launch.failed_jobs)] if launch.failed_jobs else []
    notes += [cut_note(launch.cut_jobs)] if launch.cut_jobs else []
    return notes + ([relaunch_note(launch.lost_jobs)] if launch.lost_jobs else [])


def retry_note(failed_jobs: Sequence[int]) -> str:
    """The trials.csv note of a failed trial launched again by ``retry_failed``."""
    return f"retried: {_jobs(failed_jobs)} failed"


def relaunch_note(lost_jobs: Sequence[int]) -> str:
    """The mark in trials.csv of a trial launched again after its sweep died."""
    return f"relaunched: {_jobs(lost_jobs)} died with the sweep"


def cut_note(cut_jobs: Sequence[int]) -> str:
    """The mark in trials.csv of a trial launched again by a resume after ``max_seconds``
    stopped it."""
    return f"resumed: {_jobs(cut_jobs)} stopped at max_seconds"


def _jobs(jobs: Sequence[int]) -> str:
    return f"{noun_for(len(jobs), 'job')} {', '.join(map(str, jobs))}"


def write_record(
    sweep_dir: Path, space: SearchSpace, trials: list[Trial], maximize: bool,
    compose: Compose, pruning: bool = False, warm: report.WarmStart | None = None,
) -> None:
    """trials.csv and best.yaml (``compose``: the sweep's Hydra; ``warm``: the trials it was
    warm-started with), each written atomically."""
    write_trials(sweep_dir / TRIALS_FILE, trials, space, pruning)
    report.write_best(sweep_dir / BEST_FILE, space, trials, maximize, compose, warm)


class Plotter:
    """Redraws the plots while that takes at most ``share`` of the sweep's wall time.

    A redraw starts only if the time spent drawing, this redraw included, stays within the
    share: its cost is the last redraw's, or before the first one
    :data:`tsbench.search.plots.SECONDS_PER_PANEL` per panel (``plots.panels``). Checking
    only the time already spent let a sweep of short trials spend half its time drawing
    (8 dimensions: 4-6 s a redraw after each 1-2 s trial)."""

    def __init__(self, sweep_dir: Path, optimizer: Any, sign: float, share: float,
                 enabled: bool) -> None:
        self.sweep_dir, self.optimizer, self.sign, self.share = sweep_dir, optimizer, sign, share
        self.enabled = enabled  # hydra.sweeper.plots
        self.start = time.perf_counter()
        self.seconds = 0.0  # spent drawing so far
        self.last = plots.SECONDS_PER_PANEL * plots.panels(optimizer.space.n_dims)
        self.drawn_for = -1  # number of trials the current plots show

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def maybe_draw(self, trials: list[Trial]) -> None:
        if self.seconds + self.last <= self.share * self.elapsed():
            self.draw(trials)

    def draw(self, trials: list[Trial]) -> None:
        if self.drawn_for == len(trials) or not self.enabled:
            return
        start = time.perf_counter()
        drawn = plots.write_plots(self.sweep_dir, trials, self.optimizer, self.sign)
        spent = time.perf_counter() - start
        self.seconds += spent
        if drawn:  # nothing to draw yet says nothing of a redraw's cost
            self.last = spent
        self.drawn_for = len(trials)


def _job_dir(result: JobReturn, sweep_dir: Path) -> str:
    output = OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir", default=None)
    if output is None:
        return ""
    path = Path(str(output))
    try:
        return str(path.relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(path)
