"""``tsbench.preload.run_module``: ``python -m`` forked from the preloaded server, and the same
as a subprocess where there is no fork server: argv, environment, working directory,
output appended to the files, exit code; and a caller's server forked from the caller
(:func:`tsbench.preload.serve_from_here`)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tsbench import preload

#: A module that shows what it was started with, then exits with its first argument.
SHOW = """
import os, sys
print("argv", sys.argv[1:], "cwd", os.getcwd(), "greeting", os.environ.get("GREETING"))
# the environment given, nothing of the server's own (LC_CTYPE: Python's C-locale coercion)
print("env", sorted(set(os.environ) - {"LC_CTYPE"}), file=sys.stderr)
print("to stderr", file=sys.stderr)
raise SystemExit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "subprocess"])
def test_a_module_runs_as_python_m_would(forked: bool, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if not forked:
        monkeypatch.setattr(preload, "_context", None)
    code_dir, work = tmp_path / "code", tmp_path / "work"
    code_dir.mkdir()
    work.mkdir()
    (code_dir / "show_start.py").write_text(SHOW)
    env = {"PYTHONPATH": str(code_dir), "GREETING": "hello", "PATH": "/usr/bin:/bin"}
    log, errors = tmp_path / "out.log", tmp_path / "err.log"
    log.write_text("before\n")  # appended to, not replaced
    assert preload.run_module("show_start", ["3", "a b"], log, errors, env=env, cwd=work) == 3
    assert log.read_text() == f"before\nargv ['3', 'a b'] cwd {work} greeting hello\n"
    assert errors.read_text() == "env ['GREETING', 'PATH', 'PYTHONPATH']\nto stderr\n"
    assert preload.run_module("show_start", ["0"], log, env=env, cwd=work) == 0  # one file
    last = log.read_text().splitlines()[2:]  # in the order each stream was flushed
    assert sorted(last) == [f"argv ['0'] cwd {work} greeting hello",
                            "env ['GREETING', 'PATH', 'PYTHONPATH']", "to stderr"]


#: A command that says where it was forked from, then waits to be stopped.
STAGE = """
import os, sys, time
from pathlib import Path
server = os.getppid()
grandparent = Path(f"/proc/{server}/stat").read_text().rsplit(")", 1)[1].split()[1]
said = Path(sys.argv[1])
marked = "caller_mark" in sys.modules
said.with_suffix(".part").write_text(f"{os.getpid()} {grandparent} {sys.argv[2]} {marked}")
said.with_suffix(".part").replace(said)
time.sleep(120)
"""
#: A caller, as tsbench-tune: forks its server from itself first, then starts a command.
CALLER = """
import os, sys
from tsbench import preload
if __name__ == "__main__":  # not where a fresh server imports this file as the main module
    import caller_mark  # imported before the server is forked: its commands have it too
    preload.serve_from_here()
    code = preload.run_module("stage", [sys.argv[1], str(os.getpid())], sys.argv[1] + ".log")
    raise SystemExit(code)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (not gone, not a zombie left to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_callers_own_server_is_its_fork_and_its_commands_stop_with_it(tmp_path: Path) -> None:
    """serve_from_here, tsbench-tune's first step: its server is a fork of the caller, so a
    command starts with what the caller had imported (not from a fresh interpreter importing
    torch again), a grandchild of the caller; and it watches the caller even where the
    caller, forked from a preloaded server itself (as the tests fork tsbench-tune), watches
    its own caller: a kill -9 of the caller alone stops the command (a fork inherited the
    caller's record of its watch, not the watch's thread, and so never watched)."""
    for name, text in (("caller_mark", ""), ("caller", CALLER), ("stage", STAGE)):
        (tmp_path / f"{name}.py").write_text(text)
    said = tmp_path / "said.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    caller = threading.Thread(target=preload.run_module, daemon=True, kwargs=dict(
        module="caller", args=[str(said)], stdout=tmp_path / "caller.log", env=env,
        cwd=tmp_path))
    caller.start()
    deadline = time.monotonic() + 60
    while not said.is_file():
        assert caller.is_alive() and time.monotonic() < deadline, "the command never started"
        time.sleep(0.02)
    stage, grandparent, caller_pid, marked = said.read_text().split()
    try:
        assert marked == "True" and grandparent == caller_pid
        os.kill(int(caller_pid), signal.SIGKILL)
        caller.join(30)
        deadline = time.monotonic() + 30
        while _running(int(stage)):
            assert time.monotonic() < deadline, "the command outlived its caller"
            time.sleep(0.1)
    finally:  # the test's own cleanup, where it failed
        for pid in (caller_pid, stage):
            if _running(int(pid)):
                os.kill(int(pid), signal.SIGKILL)


#: A module that says which of the plugins Hydra finds are the two this test cares about.
SHOW_PLUGINS = """
from hydra.core.plugins import Plugins
found = Plugins.instance().class_name_to_class
print(sorted(n for n in found if n.endswith(("ExtraLauncher", "SkoptSweeper"))))
"""
#: A launcher plugin of the user's own, on the command's PYTHONPATH only.
EXTRA_LAUNCHER = """
from hydra.plugins.launcher import Launcher


class ExtraLauncher(Launcher):
    def setup(self, *, hydra_context, task_function, config):
        pass

    def launch(self, job_overrides, initial_job_idx):
        return []
"""


def test_a_command_finds_the_hydra_plugins_of_its_own_path(tmp_path: Path) -> None:
    """The server scanned Hydra's plugins once (tsbench.hydra_warm); a command whose
    PYTHONPATH holds another ``hydra_plugins`` folder finds its plugins as a fresh process
    would, and one without finds the server's (tsbench's sweeper among them)."""
    plugin = tmp_path / "extra" / "hydra_plugins" / "extra_launcher"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text(EXTRA_LAUNCHER)
    (tmp_path / "show_plugins.py").write_text(SHOW_PLUGINS)
    sweeper = "hydra_plugins.tsbench_skopt_sweeper.skopt_sweeper.SkoptSweeper"
    for extra, found in ((True, ["hydra_plugins.extra_launcher.ExtraLauncher", sweeper]),
                         (False, [sweeper])):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
            str(tmp_path / "extra") if extra else "", os.environ.get("PYTHONPATH")]))}
        log = tmp_path / f"{extra}.log"
        assert preload.run_module("show_plugins", [], log, env=env, cwd=tmp_path) == 0, \
            log.read_text()
        assert log.read_text().splitlines()[-1] == str(found)
