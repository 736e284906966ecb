"""The names of a sweep folder's records and of a trial's states, in one place and without
imports: the report, tracking and tsbench-tune read sweep folders without loading
scikit-optimize."""

#: The sweeper's record of every ended trial, and of the best one.
TRIALS_FILE = "trials.csv"
BEST_FILE = "best.yaml"
#: What the sweep searches (checked on resume), and Hydra's record of the multirun's config.
DEFINITION_FILE = "search.yaml"
MULTIRUN_FILE = "multirun.yaml"

#: A trial's status in trials.csv.
OK, FAILED, PRUNED = "ok", "failed", "pruned"
STATUSES = (OK, FAILED, PRUNED)
#: trials.csv's columns around the searched parameters.
HEAD = ["trial", "job", "status", "objective", "seconds"]
PRUNED_AT = "pruned_at_epoch"
TAIL = ["job_dir", "error"]
#: Every column that is not a searched parameter.
RECORD_COLUMNS = (*HEAD, PRUNED_AT, *TAIL)
