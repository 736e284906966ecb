"""Run ``python -m MODULE ARGS`` as a fresh process that skips the imports (forked from
the preloaded fork server of :mod:`tsbench.preload`, as tsbench-tune's stages are), with
what ``subprocess.run(..., capture_output=True, text=True)`` returns. The suite starts
dozens of tsbench commands; tests whose subject is a signal or the installed entry point
start a real subprocess. The suite's own fork server also imports the report's CLI (some
200 ``tsbench.report`` commands here, each 0.17 s of CPU less); the product's
:data:`tsbench.preload.PRELOAD` stays what tsbench-tune's stages need."""

from __future__ import annotations

import os
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
