"""Seconds one tiny ``tsbench`` command takes as a subprocess and as a fork of the preloaded
server of ``tsbench.preload`` (how ``tsbench-tune`` runs its stages): the difference is what
each stage command saves.

    python benchmarks/stage_start.py [--repeats 3]

The command trains DLinear for one epoch on a 600-row synthetic series, so nearly all of
its time is starting up. The server's own start (importing torch and Lightning, which
this script has not: ``tsbench-tune`` has, and forks its server from itself) is printed
apart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tsbench import preload

COMMAND = ["dataset=synthetic", "dataset.n_rows=600", "model=dlinear", "seq_len=48",
           "pred_len=12", "trainer=debug", "trainer.max_epochs=1", "logger=none",
           "trainer.progress_bar=false"]


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder, "out.log")

        def subprocess_run(k: int) -> None:
            subprocess.run([sys.executable, "-m", "tsbench", *COMMAND,
                            f"hydra.run.dir={folder}/sub_{k}"], check=True,
                           capture_output=True)

        def forked_run(k: int) -> None:
            code = preload.run_module("tsbench", [*COMMAND, f"hydra.run.dir={folder}/fork_{k}"],
                                      log)
            if code != 0:
                raise SystemExit(f"the forked command failed (exit {code}): {log.read_text()}")

        server = timed(lambda: forked_run(-1))  # starts the server: its imports, then a run
        sub = [timed(lambda k=k: subprocess_run(k)) for k in range(repeats)]
        fork = [timed(lambda k=k: forked_run(k)) for k in range(repeats)]
    print(f"subprocess (python -m tsbench): median {statistics.median(sub):.2f} s over {repeats}")
    print(f"forked from the preloaded server: median {statistics.median(fork):.2f} s over "
          f"{repeats}")
    print(f"first forked run, starting the server: {server:.2f} s (once per process that had "
          "not imported torch: tsbench-tune forks its server from itself)")
    print(f"saved per stage command: {statistics.median(sub) - statistics.median(fork):.2f} s")


if __name__ == "__main__":
    main()
