"""A trial whose job finished after its sweep died, recorded by the resume from its folder.

A sweep killed while trials run (Ctrl-C, its own job's time limit) records none of them;
trials on SLURM nodes, which do not watch the sweep's process, train on to their end, and a
worker's trial may end in the moment before the sweep's death. Their folders then hold a
finished run (``metrics.json``, written last and atomically, with the ``objective`` the task
returned). A resume records such a trial from there instead of training it again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from tsbench.rundir import METRICS
from tsbench.search.loop import cut_note, relaunch_note, retry_note
from tsbench.search.record import Launch, Record
from tsbench.search.space import SearchSpace
from tsbench.search.trials import Trial


def finished_unrecorded(sweep_dir: Path, launch: Launch, record: Record, space: SearchSpace
                        ) -> Trial | None:
    """``launch``'s trial as its job folder (``<sweep>/<job>``) says it ended, or None where
    the folder holds no finished run with a finite objective (the trial is launched again)."""
    try:
        metrics = json.loads((sweep_dir / str(launch.job) / METRICS).read_text())
        objective = float(metrics["objective"])
        point = space.parse_row(launch.point)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    mark = record.pruned(launch.job)
    if not math.isfinite(objective) or bool(metrics.get("pruned")) != (mark is not None):
        return None
    notes = [mark.reason if mark else "",
             retry_note(launch.failed_jobs) if launch.failed_jobs else "",
             cut_note(launch.cut_jobs) if launch.cut_jobs else "",
             relaunch_note(launch.lost_jobs) if launch.lost_jobs else "",
             f"recorded by a resume: job {launch.job} ended after its sweep died"]
    return Trial(number=launch.trial, job=launch.job, point=point, objective=objective,
                 seconds=metrics.get("run_seconds", metrics.get("train_seconds")),
                 job_dir=str(launch.job), error="; ".join(n for n in notes if n),
                 pruned_at_epoch=mark.epoch if mark else None)
