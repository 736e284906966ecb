"""Run ``python -m MODULE ARGS`` as a fresh process that skips the imports (forked from
the preloaded fork server of :mod:`tsbench.preload`, as tsbench-tune's stages are), with
what ``subprocess.run(..., capture_output=True, text=True)`` returns. The suite starts
dozens of tsbench commands; those a test signals as they run are started so too
(:class:`Started`); tests whose subject is the installed entry point or a fresh
interpreter's own start (a run stopped by SIGTERM or Ctrl-C) start a real subprocess. The
suite's own fork server also imports the report's CLI (some 200 ``tsbench.report``
commands here, each 0.17 s of CPU less); the product's :data:`tsbench.preload.PRELOAD`
stays what tsbench-tune's stages need. Below, what those tests read of the processes
they started: process groups and the tree below a pid, from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tsbench import preload

if preload._context is not None:  # POSIX: set before the server starts, on first use
    preload._context.set_forkserver_preload([*preload.PRELOAD, "tsbench.report.cli"])


def run_module(module: str, args: list[str], env: dict[str, str] | None = None,
               cwd: Path | str | None = None, timeout: float = 600,
               ) -> subprocess.CompletedProcess:
    """``python -m module args`` with ``env`` (the whole environment, default this one) in
    ``cwd``; returns what ``subprocess.run(..., capture_output=True, text=True)`` would."""
    with tempfile.TemporaryDirectory(prefix="tsbench-run-") as folder:
        stdout, stderr = Path(folder, "stdout"), Path(folder, "stderr")
        code = preload.run_module(module, args, stdout, stderr, env=env,
                                  cwd=cwd or os.getcwd(), timeout=timeout)
        said = [p.read_text(errors="replace") if p.is_file() else "" for p in (stdout, stderr)]
    return subprocess.CompletedProcess([sys.executable, "-m", module, *args], code, *said)


def _in_session(new_session: bool, *args: object) -> None:
    """The child of :class:`Started`: its own session first where asked (Popen's
    ``start_new_session``), then what :func:`tsbench.preload.run_module`'s child does."""
    if new_session:
        os.setsid()
    preload._main(*args)  # type: ignore[arg-type]


class Started:
    """``python -m module args`` started as :func:`run_module` starts it, for a test that
    signals it while it runs (POSIX only, as the fork server is): what a test reads of
    ``subprocess.Popen`` (``pid``, ``send_signal``, ``poll``, ``wait``, ``returncode``,
    ``communicate``), its stdout and stderr kept in files until it ends. ``new_session`` as
    Popen's ``start_new_session``: its process group is then its pid, its own and its
    workers'. ``stdout`` and ``stderr``: files the streams are appended to (the same one
    for both: Popen's ``stderr=STDOUT``), else files of its own."""

    def __init__(self, module: str, args: list[str], env: dict[str, str] | None = None,
                 cwd: Path | str | None = None, new_session: bool = False,
                 stdout: Path | None = None, stderr: Path | None = None) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="tsbench-started-")
        self.stdout_path = stdout or Path(self._folder.name, "stdout")
        self.stderr_path = stderr or Path(self._folder.name, "stderr")
        preload._start_server()
        self._child = preload._context.Process(target=_in_session, args=(
            new_session, module, [str(a) for a in args],
            dict(os.environ if env is None else env), str(cwd or os.getcwd()),
            str(self.stdout_path), str(self.stderr_path), os.getpid()))
        self._child.start()
        self.pid: int = self._child.pid

    @property
    def returncode(self) -> int | None:
        """Its exit status once it ended (negative: killed by that signal), else None."""
        return self._child.exitcode

    def poll(self) -> int | None:
        return self._child.exitcode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float | None = None) -> int:
        """Its exit status; :class:`subprocess.TimeoutExpired` after ``timeout`` seconds."""
        self._child.join(timeout)
        if self._child.exitcode is None:
            raise subprocess.TimeoutExpired(self._child.name, timeout or 0.0)
        return self._child.exitcode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Its stdout and stderr once it ended (:meth:`wait`)."""
        self.wait(timeout)
        return self.output()

    def output(self) -> tuple[str, str]:
        """What it wrote to stdout and stderr so far."""
        return tuple(p.read_text(errors="replace") if p.is_file() else ""  # type: ignore
                     for p in (self.stdout_path, self.stderr_path))

    def __enter__(self) -> Started:
        return self

    def __exit__(self, *exc: object) -> None:
        """As Popen's, it waits for the process to end; a test that failed kills it first."""
        if exc[0] is not None and self.returncode is None:
            self.send_signal(signal.SIGKILL)
        self.wait()
        self._folder.cleanup()


def group_alive(group: int) -> bool:
    """Whether a process of the process group ``group`` still runs (a zombie counts until
    its parent reaps it)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def parent_of(pid: int) -> int | None:
    """``pid``'s parent (None once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, their children, ...)."""
    parents = {int(e.name): parent_of(int(e.name)) for e in Path("/proc").iterdir()
               if e.name.isdigit()}
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += sorted(frontier)
    return found


def command_line(pid: int) -> str | None:
    """``pid``'s command line (None once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return None


def running(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (not gone, not a zombie)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive
