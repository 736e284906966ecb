"""How a command's log records read: as its own lines (``tsbench: warning: ...``,
``tsbench-forecast: warning: ...``), on the terminal and in a job's log file, where the
time stands in front."""

from __future__ import annotations

import logging

from tsbench.said_once import first_to_say

#: Loggers whose records are tsbench's own: the root logger, its package's, its Hydra
#: plugins' (``hydra_plugins.tsbench_skopt_sweeper...``).
OWN, OWN_PREFIXES = ("root", "tsbench"), ("tsbench.", "hydra_plugins.tsbench_")
#: The environment variable holding the warnings (a JSON list) that ``tsbench`` printed
#: about its command line before Hydra ran a job: each job's log file holds them too.
COMMAND_WARNINGS_ENV = "TSBENCH_COMMAND_WARNINGS"
#: ``extra`` of a record that goes to the job's log file alone, not to the terminal
#: (something the command says once for all its jobs: :class:`TerminalLines`).
FILE_ONLY = {"terminal": False}


def speaker(logger_name: str, command: str = "tsbench") -> str:
    """Who says a record: the ``command`` running (``tsbench``, ``tsbench-tune``) for
    tsbench's own loggers (:data:`OWN`), else the logger's top package
    (``pytorch_lightning``), so that a dependency's warning is not taken for tsbench's."""
    own = logger_name in OWN or logger_name.startswith(OWN_PREFIXES)
    return command if own else logger_name.split(".", 1)[0]


class RunLines(logging.Formatter):
    """``<command>: warning: <message>`` (``error:`` for an error, no word for a progress
    line), the form of the command's own lines, so that a run's warnings read alike
    wherever they come from; ``stamped``: with the record's time in front, as the job's log
    file keeps it. ``command``: the one the user ran, which its own lines name."""

    def __init__(self, stamped: bool = False, command: str = "tsbench") -> None:
        super().__init__(f"{'[%(asctime)s] ' if stamped else ''}%(head)s%(message)s")
        self.command = command

    def head(self, record: logging.LogRecord) -> str:
        """What stands before the record's message: who says it, and its word."""
        word = ("error: " if record.levelno >= logging.ERROR else
                "warning: " if record.levelno >= logging.WARNING else "")
        return f"{speaker(record.name, self.command)}: {word}"

    def format(self, record: logging.LogRecord) -> str:
        record.head = self.head(record)
        return super().format(record)


class TerminalLines(logging.Filter):
    """The terminal's filter: every record but those logged with :data:`FILE_ONLY`, and in
    a multirun, a warning that another of its jobs said already (:func:`first_to_say`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "terminal", True):
            return False
        return record.levelno != logging.WARNING or first_to_say(
            f"{speaker(record.name)}: {record.getMessage()}")


class Warnings(logging.Filter):
    """The warnings alone (``wanted``), or every record but the warnings: a sweep's
    warnings go to stderr in a run's form, its progress lines (and its trials' failures,
    errors the sweep records and goes on from) to stdout in Hydra's."""

    def __init__(self, wanted: bool = True) -> None:
        super().__init__()
        self.wanted = wanted

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.levelno == logging.WARNING) == self.wanted


def into_log_files(warnings: list[str]) -> None:
    """Write ``warnings`` that the command printed before Hydra ran this job (its
    command-line checks) into the job's log file, where its run's own warnings go; not on
    the terminal again, which has them."""
    root = logging.getLogger()
    for said in warnings:
        record = root.makeRecord("tsbench", logging.WARNING, __file__, 0, said, None, None)
        for handler in root.handlers:
            if isinstance(handler, logging.FileHandler) and record.levelno >= handler.level:
                handler.handle(record)
