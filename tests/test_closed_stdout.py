"""A command whose reader stops early (``tsbench --help | head``) ends quietly: no
traceback, exit 1; a pipe of its own that broke is still an error."""

from __future__ import annotations

import ast
import os
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tsbench.closed_stdout import CLOSED_STDOUT_EXIT, quiet_when_stdout_closes


def help_text() -> None:
    print("usage: " * 20_000)  # more than a pipe holds: the write meets the closed end
    sys.stdout.flush()


def test_a_closed_stdout_ends_the_command_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader (head) has its lines and is gone
    with os.fdopen(write, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(SystemExit) as stopped:
            quiet_when_stdout_closes(help_text)()
        assert stopped.value.code == CLOSED_STDOUT_EXIT
        help_text()  # stdout now writes to os.devnull: the exit's flush does not fail again


def test_another_broken_pipe_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def worker_pipe_broke() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    read, write = os.pipe()  # stdout's reader still reads
    with os.fdopen(read) as _, os.fdopen(write, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(BrokenPipeError):
            quiet_when_stdout_closes(worker_pipe_broke)()


def decorators(module: str, function: str) -> list[str]:
    """The decorators of ``module``'s top-level ``function``, read from its source
    (importing the commands costs seconds of torch and Lightning)."""
    tree = ast.parse((ROOT / Path(*module.split("."))).with_suffix(".py").read_text())
    node = next(node for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name == function)
    return [ast.unparse(d) for d in node.decorator_list]


def test_every_command_ends_quietly_when_its_reader_stops() -> None:
    """Each console script's entry is wrapped, and so are the Hydra tasks that print:
    tsbench-analyze's table, a tsbench run's scores (Hydra reported their broken pipe as an
    error with a traceback: ``tsbench ... | head -1``)."""
    scripts = [e for e in distribution("tsbench").entry_points if e.group == "console_scripts"]
    assert scripts
    wrapper = quiet_when_stdout_closes.__name__
    for script in scripts:
        assert decorators(*script.value.split(":")) == [wrapper], script.name
    for module in ("tsbench.analysis.cli", "tsbench.cli"):
        assert decorators(module, "main")[-1] == wrapper, module
