"""What a sweep on Hydra's joblib launcher logs as its trials start: its own line per trial,
none of the launcher's (three per launch call, and with refill every trial is a call)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.search.conftest import APP, read_rows

#: What Hydra's joblib launcher logs at every launch call.
LAUNCHER_LINES = ("Joblib.Parallel(", "Launching jobs, sweep output dir", "\t#0 : ")


def test_a_joblib_sweep_logs_one_start_line_per_trial_and_none_of_the_launchers(
        sweep_dir: Path) -> None:
    """A real sweep of three trials, two at a time, with Hydra's own logging, in a process
    of its own: each trial's start line names it, its job and its point as trials.csv
    does, and its end line follows; the launcher says nothing."""
    command = [sys.executable, str(APP), "-m", "hydra/sweeper=skopt",
               "hydra.sweeper.random_state=0", "hydra.sweeper.plots=false",
               "x=interval(-1.0, 1.0)", "hydra.sweeper.mode=random",
               "hydra.sweeper.n_trials=3", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
               "hydra.sweeper.n_jobs=2", f"hydra.sweep.dir={sweep_dir}"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout + proc.stderr
    assert not [line for line in LAUNCHER_LINES if line in said], said
    rows = read_rows(sweep_dir)
    assert len(rows) == 3
    for row in rows:
        label = f"trial {row['trial']} (Hydra job #{row['job']})"
        assert said.count(f"{label}: started, x={row['x']}\n") == 1, said
        assert said.index(f"{label}: started") < said.index(f"{label}: value=")
    assert "sweep done: 3 trials" in said
