"""The Hydra ``Sweeper`` plugin class; the resume is :mod:`tsbench.multirun_resume`'s."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus, filter_overrides

from tsbench.hydra_private import basic_sweeper_class

if TYPE_CHECKING:
    from tsbench.rundir import LoadedRun

log = logging.getLogger(__name__)


class ResumableBasicSweeper(basic_sweeper_class()):  # type: ignore[misc]
    """Hydra's basic sweeper (every combination of the swept values); with ``resume``, the
    jobs whose folders hold their finished runs are not launched again, and the others
    keep their job numbers (and so their folders)."""

    def __init__(self, max_batch_size: int | None, params: dict[str, str] | None = None,
                 resume: Any = False) -> None:
        super().__init__(max_batch_size, params)
        self.resume = resume

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Launch the jobs not finished before, in runs of consecutive job numbers within
        each batch (:class:`tsbench.multirun_resume.Jobs`); a refused resume ends with one
        message and exit status 2, before any job and before the callbacks are told the
        sweep's checks passed (:mod:`tsbench.search.checked`). Stopped in a job (Ctrl-C,
        SIGTERM: :class:`tsbench.cli.Stopped`), it says the summary of the jobs that
        finished, as at its end, before the stop's line (how to resume)."""
        from tsbench.cli import Stopped
        from tsbench.errors import TsbenchError
        from tsbench.multirun_resume import Jobs
        from tsbench.quiet import joblib_launch_lines_quieted, launches_with_joblib
        from tsbench.search.checked import tell_checked, tell_failed

        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        lines = [*self._parse_config(), *arguments]
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(lines)
        self.overrides = self.split_arguments(overrides, self.max_batch_size)
        swept = [o.get_key_element() for o in overrides if o.is_sweep_override()]
        jobs = Jobs(self.config, self.hydra_context.config_loader, swept, self.resume)
        try:
            launches = jobs.to_launch(self.overrides)
        except TsbenchError as error:
            print(f"tsbench: error: {error}", file=sys.stderr)
            raise SystemExit(2) from error
        tell_checked(self.hydra_context.callbacks, self.config)  # an MLflow parent opens
        job_name = str(self.config.hydra.job.name)
        returns: list[Sequence[JobReturn]] = []
        results: list[JobReturn] = []
        launching: tuple[int, Sequence[Sequence[str]]] = (0, [])  # the run launched last
        joblib = launches_with_joblib(self.config)  # its lines number each launch from 0
        try:
            with joblib_launch_lines_quieted() if joblib else contextlib.nullcontext():
                for runs in launches:  # each batch's runs; none after a failed job's batch
                    results = []
                    for first, batch in runs:
                        self.validate_batch_is_legal(batch)
                        if joblib:
                            _log_launch(first, batch)
                        launching = (first, batch)
                        results += self.launcher.launch(batch, initial_job_idx=first)
                    returns.append(results)
                    if any(result.status is JobStatus.FAILED for result in results):
                        break
            ended = [result for results in returns for result in results]
            _say_summary({**jobs.finished, **_finished(_folders(ended))}, job_name)
            for result in ended:  # a failed job's error, after the lines of those that ended
                _ = result.return_value
        except Stopped:  # the launcher returns a run's jobs together: the folders of the
            # run it launched last say which of its jobs finished
            ended = [*(result for results in returns for result in results), *results]
            folders = {**jobs.folders(*launching), **_folders(ended)}
            _say_summary({**jobs.finished, **_finished(folders)}, job_name)
            raise
        except Exception:  # Hydra then tells no callback the multirun ended
            tell_failed(self.hydra_context.callbacks, self.config)
            raise
        return returns


def _folders(results: Sequence[JobReturn]) -> dict[int, Path]:
    """The folders of the jobs that ``results`` return, by job number."""
    return {int(result.hydra_cfg.hydra.job.num): Path(result.hydra_cfg.hydra.runtime.output_dir)
            for result in results if result.hydra_cfg is not None}


def _finished(folders: dict[int, Path]) -> dict[int, LoadedRun]:
    """The runs of ``folders`` (by job number) that finished: a failed job's folder holds no
    ``metrics.json`` (Hydra says why), nor does one a stop broke off; one whose files were
    lost since it finished is not counted."""
    from tsbench.rundir import METRICS, load_run

    runs = {}
    for number, folder in folders.items():
        if not (folder / METRICS).is_file():
            continue
        try:
            runs[number] = load_run(folder, warn_code=False)
        except (OSError, ValueError):
            continue
    return runs


def _say_summary(runs: dict[int, LoadedRun], job_name: str) -> None:
    """The sweep's warnings, once for all its finished jobs (``runs``, by number: a
    resume's finished before included): :func:`tsbench.training.sweep_summary.sweep_lines`.
    Each job's log keeps its own lines, which it does not print."""
    from tsbench.training.sweep_summary import sweep_lines

    for said in sweep_lines(runs, f"{job_name}.log"):
        print(f"tsbench: warning: {said}", file=sys.stderr, flush=True)


def _log_launch(first: int, batch: Sequence[Sequence[str]]) -> None:
    """The lines Hydra's basic launcher logs for ``batch``, its jobs numbered from ``first``
    (their folders' numbers), standing in for the joblib launcher's, numbered from 0."""
    log.info("Launching %d jobs with joblib", len(batch))
    for number, overrides in enumerate(batch, start=first):
        log.info("\t#%d : %s", number, " ".join(filter_overrides(list(overrides))))
