"""``tsbench.preload.run_module``'s limits: a module that runs past its timeout is killed and
the caller told so (``subprocess.TimeoutExpired``, as ``subprocess.run`` does), and a
forked module ends when the process that started it is killed (``kill -9`` of tsbench-tune
alone stops its stage)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tsbench import preload

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(),
                                reason="reads process states from /proc")

#: Writes its pid to its first argument, then sleeps its second argument's seconds.
SLEEPER = """
import os, sys, time
with open(sys.argv[1], "w") as handle:
    handle.write(str(os.getpid()))
time.sleep(float(sys.argv[2]))
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended and not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_for(ready: Callable[[], object], seconds: float) -> bool:
    """Poll ``ready()`` until it is true or ``seconds`` have passed; its last answer."""
    end = time.monotonic() + seconds
    while not ready() and time.monotonic() < end:
        time.sleep(0.1)
    return bool(ready())


@pytest.fixture
def sleeper(tmp_path: Path) -> dict[str, str]:
    """The environment of ``python -m sleeper`` (its module in ``tmp_path/code``)."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "sleeper.py").write_text(SLEEPER)
    return {"PYTHONPATH": str(code), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "subprocess"])
def test_a_module_past_its_timeout_is_killed_and_the_caller_told(
        forked: bool, sleeper: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not forked:
        monkeypatch.setattr(preload, "_context", None)
    log, pid_file = tmp_path / "out.log", tmp_path / "pid"
    # the fork server started (its imports take seconds) by a module that ends in time
    assert preload.run_module("sleeper", [pid_file, "0"], log, env=sleeper, cwd=tmp_path,
                              timeout=300) == 0
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        preload.run_module("sleeper", [pid_file, "60"], log, env=sleeper, cwd=tmp_path,
                           timeout=1)
    assert time.monotonic() - start < 10
    pid = int(pid_file.read_text())
    try:
        assert not _running(pid), "the module runs on past its timeout"
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


#: The caller: starts ``python -m sleeper`` forked (a fork server with tsbench.preload
#: imported only, for a quick start) and waits for it.
CALLER = """
import sys
from pathlib import Path
from tsbench import preload
preload._context.set_forkserver_preload(["tsbench.preload"])
preload.run_module("sleeper", [sys.argv[1], "60"], Path(sys.argv[2]),
                   env={"PYTHONPATH": sys.argv[3], "PATH": "/usr/bin:/bin"}, cwd=sys.argv[4])
"""


@pytest.mark.skipif(preload._context is None, reason="no fork server here")
def test_a_forked_module_ends_when_its_caller_is_killed(sleeper: dict[str, str],
                                                       tmp_path: Path) -> None:
    """The module is the fork server's child, not its caller's: it watches the caller and
    stops within seconds of a ``kill -9`` of the caller alone (not its process group)."""
    pid_file = tmp_path / "pid"
    caller = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CALLER), str(pid_file), str(tmp_path / "log"),
         sleeper["PYTHONPATH"], str(tmp_path)],
        cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    pid = 0
    try:
        assert _wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 120), \
            "the module did not start"
        pid = int(pid_file.read_text())
        assert _running(pid)
        caller.send_signal(signal.SIGKILL)
        caller.wait(10)
        assert _wait_for(lambda: not _running(pid), 5), "the module outlived its caller"
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait(10)
        if pid and _running(pid):
            os.kill(pid, signal.SIGKILL)


#: Starts the fork server as tsbench-tune does and, while it still imports torch, says
#: whether it ignores SIGINT; then whether a module forked from it has Python's handler.
SERVER_SIGNALS = """
import multiprocessing.forkserver, signal, sys
from pathlib import Path
from tsbench import preload

if __name__ == "__main__":
    preload._start_server()
    pid = multiprocessing.forkserver._forkserver._forkserver_pid
    ignored = int(Path(f"/proc/{pid}/status").read_text().split("SigIgn:")[1].split()[0], 16)
    print(bool(ignored & 1 << (signal.SIGINT - 1)))
    preload.run_module("handler", [], Path(sys.argv[1]),
                       env={"PYTHONPATH": sys.argv[2], "PATH": "/usr/bin:/bin"}, cwd=sys.argv[2])
"""


@pytest.mark.skipif(preload._context is None, reason="no fork server here")
def test_the_fork_server_ignores_ctrl_c_from_its_start_and_its_modules_do_not(
        tmp_path: Path) -> None:
    """A Ctrl-C in the server's first seconds (importing torch) printed its traceback among
    tsbench-tune's output; the modules it forks stop on Ctrl-C as any command does."""
    (tmp_path / "handler.py").write_text(
        "import signal\nprint(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n")
    (tmp_path / "server_signals.py").write_text(textwrap.dedent(SERVER_SIGNALS))
    proc = subprocess.run([sys.executable, str(tmp_path / "server_signals.py"),
                           str(tmp_path / "out.log"), str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True"]
    assert (tmp_path / "out.log").read_text().split() == ["True"]
