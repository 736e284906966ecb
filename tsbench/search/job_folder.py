"""Where each job of a sweep ran: its folder, noted by the job itself as it starts.

Hydra names a job's folder ``<hydra.sweep.dir>/<hydra.sweep.subdir>``, and resolves the
subdir inside the job, where it is launched (``${hydra.job.num}``, the default, but also
``${hydra.job.override_dirname}``, ``${hydra.job.id}``: a cluster's job id, known only
there). The sweeper cannot name the folder when it launches a job, and a resume cannot
resolve it again (the launch's overrides included the pruning deadline of that moment), so
each job notes its subdir in the sweep's record (``record/folders/<job>.json``) before its
task runs. A resume reads it to record a trial that finished as the sweep died
(:mod:`tsbench.search.adopt`), and the sweep to name a failed launch's folder, which holds
its log, in trials.csv. A job killed after Hydra made its folder but before its task
noted it (a launcher's worker killed in that window), noted none: its folder is the one whose
``.hydra/hydra.yaml``, saved by Hydra before the task runs, holds its job number (read only
for such a job, each file once while it stays unchanged). A job of an older tsbench noted
none either; where the job folders are named by job number, its folder is that number's.

A trial launched again (its launch died with the sweep, failed and is retried, or was cut
short by ``max_seconds``) runs at the same point, so a subdir without the job number
(its values, ``seed_${seed}``, or one name for all) named its earlier launch's folder again:
the new run wrote among the old one's partial files (a checkpoint, a log, a cut run's
``metrics.json``, which a resume could take for the new launch's result). Such a
launch gets a folder of its own, ``<subdir>_job<n>`` (:meth:`JobFolders.own_folder`), and
the earlier folder stays as it was.

A folder may still hold another job's files: a subdir that names one folder for several
points (``kind_${kind}`` while ``x`` is searched too) gives each trial the folder of the last
one, and a job that died there left its own ``.hydra/overrides.yaml`` beside the other
job's ``metrics.json``. A run therefore writes into ``metrics.json`` the job that wrote it
(:func:`written_by`), and a resume takes the file for a launch's result only where that
launch wrote it (:mod:`tsbench.search.adopt`): the job number, given by the sweeper and
known inside the run, tells apart what a file's time does not (a coarse NFS clock, two
jobs side by side in one folder). The subdirs that give each point a folder of its own
are checked as the sweep starts (:mod:`tsbench.search.subdir_check`).

A job that runs as a SLURM job of its own (submitit_slurm) notes that job's id beside its
folder: a resume waits while SLURM still runs it (:mod:`tsbench.search.slurm_jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from tsbench.search.record import Record
from tsbench.search.slurm_jobs import own_job_id
from tsbench.yaml_load import load_yaml

#: Hydra's default ``hydra.sweep.subdir``: job folders named by job number.
NUMBERED = "${hydra.job.num}"
#: What a subdir holds where each job's folder is its own (one job number, one folder).
JOB_NUMBER = "hydra.job.num"
#: Where Hydra saves a job's Hydra config, in its folder, before the task runs.
HYDRA_YAML = ".hydra/hydra.yaml"
#: The ``metrics.json`` entry naming the Hydra job that wrote it (a multirun's job only).
WRITTEN_BY = "hydra_job"


def written_by() -> dict[str, int]:
    """``{"hydra_job": n}`` in job ``n`` of a Hydra multirun (for its ``metrics.json``:
    a resume adopts a folder's result only from the launch that wrote it); else empty (a
    single run: Hydra gives it no job number)."""
    if not HydraConfig.initialized():
        return {}
    number = OmegaConf.select(HydraConfig.get(), "job.num", default=None)
    return {} if number is None else {WRITTEN_BY: int(number)}


def written_subdir(config: DictConfig) -> str | None:
    """``hydra.sweep.subdir`` of ``config`` as written, unresolved; None where it has none."""
    sweep = OmegaConf.select(config, "hydra.sweep", default=None)
    subdir = None if sweep is None else OmegaConf.to_container(
        sweep, resolve=False).get("subdir")
    return None if subdir is None else str(subdir)


class NotedFolder:
    """Wraps the Hydra task function so that each job notes its folder in ``record_dir``
    (an absolute path: launchers run the job in other processes, other working
    directories, other machines sharing the sweep's folder) before the task runs, and the
    SLURM job it runs as where that is not the sweep's own, made here, in the sweep's
    process (a job of its own trains on when the sweep dies: a resume waits for it,
    :mod:`tsbench.search.slurm_jobs`; one in the sweep's job ends with it)."""

    def __init__(self, task_function: Any, record_dir: Path) -> None:
        self.task_function = task_function
        self.record_dir = record_dir
        self.sweep_slurm_job = own_job_id()

    def __call__(self, cfg: DictConfig) -> Any:
        hydra = HydraConfig.get()
        slurm_job = own_job_id()
        Record(self.record_dir).started_in(
            int(hydra.job.num), str(hydra.sweep.subdir),
            slurm_job if slurm_job != self.sweep_slurm_job else None)
        return self.task_function(cfg)


#: When a file was last written, as its ``stat`` says: its inode, size and modification time.
Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class JobFolders:
    """The job folders of the sweep in ``sweep_dir`` (see the module docstring)."""

    sweep_dir: Path
    record: Record
    written: str | None  # hydra.sweep.subdir as written (${hydra.job.num}: Hydra's default)
    # each .hydra/hydra.yaml read -> when it was written then, and the job number it records
    numbers: dict[Path, tuple[Stamp, int]] = field(default_factory=dict, compare=False,
                                                   repr=False)

    @classmethod
    def of(cls, config: DictConfig, sweep_dir: Path, record: Record) -> JobFolders:
        return cls(sweep_dir, record, written_subdir(config))

    @property
    def numbered(self) -> bool:
        """Whether the job folders are Hydra's default, named by job number."""
        return self.written == NUMBERED

    def own_folder(self, job: int) -> list[str]:
        """The override that gives job ``job``, a trial's launch after an earlier one at
        the same point, a folder of its own, ``<subdir>_job<job>`` (its subdir as written,
        resolved in the job as Hydra resolves it); none where the subdir holds the job
        number. A Hydra override: the task's own overrides, and the folder names made of
        them (``${hydra.job.override_dirname}``), stay the point's."""
        if self.written is None or JOB_NUMBER in self.written:
            return []
        quoted = self.written.replace("'", "\\'")  # in quotes, Hydra reads ${...} and , = alike
        return [f"hydra.sweep.subdir='{quoted}_job{job}'"]

    def subdir(self, job: int) -> str | None:
        """Job ``job``'s folder relative to the sweep's, where it exists; else None."""
        subdir = self.record.subdir(job)
        if subdir is None and self.numbered:  # noted by no job of an older tsbench
            subdir = str(job)
        if subdir is None:  # killed after Hydra made its folder, before it noted it
            return self._made_by_hydra(job)
        return subdir if (self.sweep_dir / subdir).is_dir() else None

    def _made_by_hydra(self, job: int) -> str | None:
        """The folder whose ``.hydra/hydra.yaml`` (saved by Hydra before the task runs)
        records job number ``job``; None where there is none. Read only for a job that
        noted no folder: a launch killed in that window, or never started."""
        depth = 1 + (self.written or "").count("/")  # a subdir may name nested folders
        for saved in sorted(self.sweep_dir.glob("*/" * depth + HYDRA_YAML)):
            if self._number_in(saved) == job:
                return saved.parent.parent.relative_to(self.sweep_dir).as_posix()
        return None

    def _number_in(self, hydra_yaml: Path) -> int | None:
        """:func:`job_number` of ``hydra_yaml``, read again only where the file was written
        since it was last read: a resume looks for the folder of each lost job that noted
        none, and each look read every folder's file (a few jobs times thousands of
        folders). A file that does not read (being written) is read again the next time;
        one rewritten in place (a folder shared by several points, its newest job's) has a
        new modification time or size."""
        try:
            status = hydra_yaml.stat()
        except OSError:
            return None
        stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
        known = self.numbers.get(hydra_yaml)
        if known is not None and known[0] == stamp:
            return known[1]
        number = job_number(hydra_yaml)
        if number is not None:
            self.numbers[hydra_yaml] = (stamp, number)
        return number


def job_number(hydra_yaml: Path) -> int | None:
    """The job number a job folder's ``.hydra/hydra.yaml`` records; None where it records
    none or does not read (another job may be writing its own as the sweep looks)."""
    try:
        number = load_yaml(hydra_yaml.read_text())["hydra"]["job"]["num"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return number if isinstance(number, int) else None
