"""Whether this command runs as a stage of ``tsbench-tune``, which says once, before its
stages, what each stage's command would say again (an unusual validation period): a
command's advice in a stage is the stage's, and such a warning its run's log file's alone.
Here, below the packages that read it (training, analysis) and the one that sets it
(tune)."""

from __future__ import annotations

import os

#: The environment variable naming the tsbench-tune stage (``a_baseline``, ...) that runs
#: this command (:func:`tsbench.tune.commands.run_stage` sets it).
TUNE_STAGE_ENV = "TSBENCH_TUNE_STAGE"


def tune_stage() -> str | None:
    """The tsbench-tune stage this command is, e.g. ``a_baseline`` (:data:`TUNE_STAGE_ENV`);
    None for a command of its own."""
    return os.environ.get(TUNE_STAGE_ENV) or None
