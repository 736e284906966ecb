"""Run ``python -m MODULE ARGS`` as a fresh process that skips the slow imports.

Every ``python -m tsbench`` spends seconds importing torch and Lightning (which pulls in
torch._dynamo and torchmetrics) before its first line of work: about 8 s on a 2-core CPU
(``benchmarks/stage_start.py``), minutes over the stage commands of one ``tsbench-tune``
run. Here each
command is forked from a multiprocessing fork server that imported those modules once
(importing starts no thread pools, so forking after it is safe): still a new process with
its own argv, environment, working directory, exit code and output, in the caller's
process group (a signal to the group reaches it as it reaches a subprocess). Unlike a
subprocess, it is not the caller's child but the fork server's: it watches the caller and
exits when the caller dies (a ``kill -9`` of ``tsbench-tune`` alone stops its stage too).
A caller that imported those modules itself (``tsbench-tune`` does) forks its server from
itself (:func:`serve_from_here`) instead of starting one that imports them again.
"""

from __future__ import annotations

import atexit
import importlib
import multiprocessing
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tsbench.sweep_watch import exit_with

#: Imported once by the fork server.
PRELOAD = ["torch", "pytorch_lightning", "tsbench.training.run", "tsbench.preload",
           "tsbench.hydra_warm"]

if "forkserver" in multiprocessing.get_all_start_methods():
    _context: Any = multiprocessing.get_context("forkserver")
    _context.set_forkserver_preload(PRELOAD)
else:  # Windows: no fork server, so plain subprocesses
    _context = None


def _main(module: str, args: list[str], env: dict[str, str], cwd: str, stdout: str,
          stderr: str, caller: int) -> None:
    """The child: what ``python -m module args`` would do, its output appended to files;
    it ends when ``caller`` (the process that asked for it) dies."""
    exit_with(caller, "the process that started this one")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the server's was ignored
    for fd, path in ((1, stdout), (2, stderr)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(handle, fd)
        os.close(handle)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = [cwd, *extra]
    warm = sys.modules.get("tsbench.hydra_warm")  # None where the server has not composed
    if warm is not None:
        warm.rescan_where_plugins_moved()
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:  # what interpreter exit does and a Process child skips: loky stops its workers
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()  # type: ignore[attr-defined]


def run_module(module: str, args: Sequence[str], stdout: Path, stderr: Path | None = None,
               env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
               timeout: float | None = None) -> int:
    """``python -m module args`` with ``env`` (the whole environment, default this one) in
    ``cwd``, its stdout appended to ``stdout`` and its stderr to ``stderr`` (default: the
    same file). Returns its exit code (negative: killed by that signal); after ``timeout``
    seconds it is killed and :class:`subprocess.TimeoutExpired` raised."""
    if _context is None:
        return _subprocess(module, args, stdout, stderr or stdout, env, cwd, timeout)
    _start_server()
    child = _context.Process(target=_main, args=(
        module, [str(a) for a in args], dict(os.environ if env is None else env),
        str(cwd or os.getcwd()), str(stdout), str(stderr or stdout), os.getpid()))
    child.start()
    child.join(timeout)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise subprocess.TimeoutExpired([module, *map(str, args)], timeout or 0.0)
    return child.exitcode


def _start_server() -> None:
    """Start the fork server (once) with SIGINT ignored, which it keeps: a Ctrl-C in its
    first seconds, while it imports :data:`PRELOAD`, printed its traceback among the
    command's output (it ignores SIGINT only once its imports are done). Its children
    take Python's own handler back (:func:`_main`)."""
    import multiprocessing.forkserver  # POSIX only, as the fork server is

    if threading.current_thread() is not threading.main_thread():
        multiprocessing.forkserver.ensure_running()
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, before)


def serve_from_here() -> None:
    """Start this process's fork server as a fork of this process, which then imports
    :data:`PRELOAD` (a no-op where it did): the server of a command that imported them
    itself starts without a fresh interpreter importing torch and Lightning again (about 5 s
    of CPU, which the first stage waited for). Call it first thing, before this process
    starts threads of its own or computes with torch: a fork is then as safe as the
    server's own forks (an ancestor's watch thread, :func:`tsbench.sweep_watch.exit_with`,
    only sleeps and reads /proc). The server ends once this process and the processes it
    forked for it have ended. Nothing is done on Windows (no fork server), nor where the
    server authenticates its clients (newer Pythons hand it a key as it starts; 3.10 to
    3.13.0 do not): there the server starts as a fresh interpreter, as before."""
    if _context is None:
        return
    from multiprocessing import connection, forkserver, util  # POSIX only, as forking is

    server = forkserver._forkserver  # type: ignore[attr-defined]
    if hasattr(server, "_forkserver_authkey"):
        return
    for module in PRELOAD:
        importlib.import_module(module)
    with socket.socket(socket.AF_UNIX) as listener:
        address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
        listener.bind(address)
        if not util.is_abstract_socket_namespace(address):  # type: ignore[attr-defined]
            os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()  # the server ends at EOF: every holder of alive_w gone
        pid = os.fork()
        if pid == 0:  # the server, serving until then; never back into the caller's code
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # as _start_server's
            os.close(alive_w)
            try:
                forkserver.main(listener.fileno(), alive_r, [])  # type: ignore[attr-defined]
            finally:
                os._exit(0)
        os.close(alive_r)
    # what ForkServer.ensure_running records of the server it starts: it now finds this one
    server._forkserver_address, server._forkserver_alive_fd = address, alive_w
    server._forkserver_pid = pid


def fork_joblib_workers() -> None:
    """Have joblib's (loky's) workers forked from a fork server of this process
    (:func:`serve_from_here`), which has imported :data:`PRELOAD`, instead of each starting
    as a fresh interpreter that imports torch and Lightning on its first trial (about 6 s of
    CPU per worker, and again for each worker loky starts in place of a dead one): the
    imports are made once, here. Call it before the sweep starts (no threads yet, none of
    loky's workers): they start with this process's environment as it is now. Their torch
    threads are tsbench's to set (:func:`tsbench.training.threads.apply_threads`, the cores
    shared out between the parallel trials), as before; joblib's caps on other libraries'
    thread pools, passed to a fresh interpreter in its environment, reach no fork. Ctrl-C
    reaches the workers ignored (the server's), and the sweep's process ends them
    (:func:`tsbench.sweep_watch.end_children`). Nothing is done where there is no fork server
    (Windows): loky starts its workers itself, as before."""
    if _context is None:
        return
    from joblib.externals.loky.backend.context import set_start_method

    serve_from_here()
    set_start_method("forkserver", force=True)


def _subprocess(module: str, args: Sequence[str], stdout: Path, stderr: Path,
                env: Mapping[str, str] | None, cwd: Path | str | None,
                timeout: float | None) -> int:
    """:func:`run_module` without a fork server: ``python -m`` as a subprocess."""
    with open(stdout, "ab") as out, open(stderr, "ab") as err:
        same = Path(stdout).resolve() == Path(stderr).resolve()
        return subprocess.run([sys.executable, "-m", module, *map(str, args)], stdout=out,
                              stderr=subprocess.STDOUT if same else err, env=env, cwd=cwd,
                              timeout=timeout).returncode
