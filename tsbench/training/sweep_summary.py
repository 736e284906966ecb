"""The lines a plain multirun says once, at its end, for all its finished jobs (a resume's
finished before included), where each job's log file keeps its own line: N identical lines
for N jobs buried which jobs they were about."""

from __future__ import annotations

from tsbench.counted import counted, word_for
from tsbench.data.unusual_validation import unusual_validation_warning
from tsbench.rundir import LoadedRun
from tsbench.training.naive_reference import sweep_summary as naive_summary


def sweep_lines(runs: dict[int, LoadedRun], log_name: str) -> list[str]:
    """The sweep's warnings for ``runs`` (its finished jobs by number): the seasonal naive
    reference's (:func:`naive_summary`), then one line per distinct unusual-validation
    warning (:func:`unusual_summary`)."""
    return [*naive_summary(runs, log_name), *unusual_summary(runs)]


def unusual_summary(runs: dict[int, LoadedRun]) -> list[str]:
    """One line per distinct unusual-validation warning of the ratios the jobs' cards
    record (the ratio depends on the dataset, ``pred_len``, ``features`` and target, so
    jobs over several differ), naming its jobs: each job's own line, the same words."""
    warned: dict[str, list[int]] = {}
    for number, run in sorted(runs.items()):
        try:
            ratio = run.card.get("validation_naive_mse_ratio")
        except (OSError, ValueError):  # a card lost or broken since: not counted
            continue
        said = unusual_validation_warning(ratio)
        if said:
            warned.setdefault(said, []).append(number)
    return [f"{word_for(len(jobs), 'job', 'jobs')} {', '.join(map(str, jobs))} ({len(jobs)} "
            f"of the {counted(len(runs), 'finished job')}): {said}"
            for said, jobs in warned.items()]
