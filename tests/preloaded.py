"""Run ``python -m MODULE ARGS`` as a fresh process that skips the imports.

Every ``python -m tsbench`` spends ~4 s importing torch, Lightning (which pulls in
torch._dynamo and torchmetrics) before its first line of work; the suite starts dozens.
Here each run is forked from a multiprocessing fork server that imported those modules
once per test worker: still a new process with its own argv, environment, working
directory, exit code and stdout/stderr, so a test sees what the command line gives.
Tests whose subject is a signal or the installed entry point start a real subprocess.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

#: Imported once by the fork server (never run: importing starts no thread pools).
PRELOAD = ["torch", "pytorch_lightning", "tsbench.training.run", "tests.preloaded"]

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def _main(module: str, args: list[str], env: dict[str, str], cwd: str,
          stdout_path: str, stderr_path: str) -> None:
    """The child: what ``python -m module args`` would do, output into two files."""
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = [cwd, *extra]
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:  # what interpreter exit does and a Process child skips: loky stops its workers
        threading._shutdown()
        atexit._run_exitfuncs()


def run_module(module: str, args: list[str], env: dict[str, str] | None = None,
               cwd: Path | str | None = None, timeout: float = 600,
               ) -> subprocess.CompletedProcess:
    """``python -m module args`` with ``env`` (the whole environment, default this one) in
    ``cwd``; returns what ``subprocess.run(..., capture_output=True, text=True)`` would."""
    cwd = str(cwd or os.getcwd())
    with tempfile.TemporaryDirectory(prefix="tsbench-run-") as folder:
        stdout_path, stderr_path = Path(folder, "stdout"), Path(folder, "stderr")
        stdout_path.touch()  # there to read even when the child dies before redirecting
        stderr_path.touch()
        child = _context.Process(target=_main, args=(
            module, [str(a) for a in args], dict(env if env is not None else os.environ),
            cwd, str(stdout_path), str(stderr_path)))
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired([module, *args], timeout)
        return subprocess.CompletedProcess(
            [sys.executable, "-m", module, *args], child.exitcode,
            stdout_path.read_text(errors="replace"), stderr_path.read_text(errors="replace"))
