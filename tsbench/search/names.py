"""The names of a sweep folder's records and of a trial's states, and which multiruns are
searches, in one place and without imports: the report, tracking, training and tsbench-tune
read them without loading scikit-optimize."""

from typing import Any

#: The sweeper's record of every ended trial, and of the best one.
TRIALS_FILE = "trials.csv"
BEST_FILE = "best.yaml"
#: What the sweep searches (checked on resume), and Hydra's record of the multirun's config.
DEFINITION_FILE = "search.yaml"
MULTIRUN_FILE = "multirun.yaml"
#: The lock a running sweep holds in its folder (:mod:`tsbench.folder_lock`).
LOCK_FILE = "sweep.lock"
#: The environment variable naming the running sweep's folder (for the line a stop prints).
SWEEP_DIR_ENV = "TSBENCH_SWEEP_DIR"

#: A trial's status in trials.csv.
OK, FAILED, PRUNED = "ok", "failed", "pruned"
STATUSES = (OK, FAILED, PRUNED)
#: trials.csv's columns around the searched parameters.
HEAD = ["trial", "job", "status", "objective", "seconds"]
PRUNED_AT = "pruned_at_epoch"
#: How the reason of a trial stopped because the sweep's max_seconds was spent begins.
CLOCK_STOP = "max_seconds spent"
TAIL = ["job_dir", "error"]
#: Every column that is not a searched parameter.
RECORD_COLUMNS = (*HEAD, PRUNED_AT, *TAIL)


#: The sweepers that run the jobs they are given: Hydra's basic one, and tsbench's resumable
#: one (``hydra/sweeper=basic_resumable``); any other sweeper optimizes an objective.
#: tsbench's plain multirun sweeper (``conf/sweeper.yaml``), Hydra's basic one resumable.
RESUMABLE_SWEEPER = "hydra_plugins.tsbench_basic_sweeper.basic_sweeper.ResumableBasicSweeper"
BASIC_SWEEPERS = ("hydra._internal.core_plugins.basic_sweeper.BasicSweeper", RESUMABLE_SWEEPER)


def is_search(multirun: bool, sweeper: Any) -> bool:
    """Whether a run belongs to a search: a multirun whose sweeper (its config, with
    ``_target_``) is not a basic one, e.g. ``hydra/sweeper=skopt``."""
    return multirun and str(sweeper.get("_target_", "")) not in BASIC_SWEEPERS


#: Why ``cv.refit`` cannot run in a search's trial, and the fix.
REFIT_IN_SEARCH = ("scores the test split, which a search's trials do not (score_test=null)",
                   "drop cv.refit=true from the search and add it to best.yaml's command, or "
                   "set score_test=true")
