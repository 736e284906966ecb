"""A warm start from another problem, refused before any trial.

``hydra.sweeper.warm_start=<trials.csv>`` tells the optimizer the objectives of another
sweep's trials, and best.yaml may name its best trial as the best configuration known (with
this sweep's settings besides its searched ones): both hold only where those trials
measured the same thing. Every setting that neither sweep searches and that changes a
score (all but :data:`NOT_MEASURED`: where logs go, threads, the seed, whether the test
split is scored) is compared between the warm-start sweep (its ``multirun.yaml``, next to
the file) and this one: the data and its fields, ``pred_len``, ``features`` and the
cross-validation, and as much the look-back, the model's fixed settings and the training
budget (a trial of 1 epoch at ``seq_len=48`` measured another objective than one of 3 at
96), as a resume compares a job's settings (:func:`tsbench.multirun_resume.
setting_changes`), and a ``dataset=csv`` file with the sha256 its trials' protocol cards name
(:func:`tsbench.resume_check.digests_read`). A difference is refused in one line naming
each; the searched parameters may differ, and a setting one sweep's tsbench lacks is not
compared. A file with no sweep next to it (a hand-written or merged CSV, as
``tsbench-tune`` writes) is taken on the user's word, with a warning that it was not checked.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from tsbench.errors import ConfigError
from tsbench.multirun_resume import changed, setting_changes
from tsbench.resume_check import csv_digest, digests_read
from tsbench.rundir import SCORE_NEUTRAL, ran_in
from tsbench.search.names import MULTIRUN_FILE

log = logging.getLogger(__name__)

#: Settings (and their fields) that change no trial's objective.
NOT_MEASURED = (*SCORE_NEUTRAL, "score_test")


def check_warm_start(file: Path, config: DictConfig, searched: set[str]) -> None:
    """Raise :class:`ConfigError` where the sweep that wrote ``file`` ran another problem
    than this sweep (``config``, searching ``searched``); warn where it cannot be told."""
    recorded = file.parent / MULTIRUN_FILE
    if not recorded.is_file():
        log.warning("warm start: %s has no %s beside it (not a sweep's own trials.csv): its "
                    "trials are taken as run on this sweep's data and settings, unchecked",
                    file, MULTIRUN_FILE)
        return
    then = OmegaConf.load(recorded)
    skipped = searched | _columns(file)
    differ = [changed(key, old, new) for key, (old, new) in setting_changes(
        then, ran_in(recorded), config, ran_in(config)).items()
        if _measured(key) and old is not None and new is not None
        and not any(key == s or key.startswith(f"{s}.") for s in skipped)]
    dataset = OmegaConf.select(config, "dataset", default=None)
    digest = None if dataset is None or "dataset.path" in skipped else csv_digest(dataset)
    read = digests_read(file.parent)
    if digest is not None and read and digest not in read:
        differ.append(f"the data file's sha256 {', '.join(d[:12] for d in sorted(read))} -> "
                      f"{digest[:12]}")
    if differ:
        raise ConfigError(
            "hydra.sweeper.warm_start",
            f"{file} holds trials of another problem ({'; '.join(differ)}, there -> here): "
            "their objectives measure something else",
            "warm-start from a sweep run on the same data and settings, or drop "
            "hydra.sweeper.warm_start")


def _measured(key: str) -> bool:
    return not any(key == n or key.startswith(n if n.endswith(".") else f"{n}.")
                   for n in NOT_MEASURED)


def _columns(file: Path) -> set[str]:
    """The header of ``file``: the warm-start sweep's searched parameters among them."""
    with file.open(newline="", encoding="utf-8") as handle:
        return set(next(csv.reader(handle), []))
