"""Write the pinned trials.csv files of ``tests/search/test_pinned.py``.

They were made by the sweeper as it was before pruning and refill existed (commit
41ea8f1), so that the test shows that ``pruner.kind=none`` still proposes and records
exactly the same trials:

    git archive 41ea8f1 | tar -x -C /tmp/old
    cd /tmp/old && PYTHONPATH=/tmp/old python <this file> <repo>/tests/search/data/pinned
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.search.conftest import multirun

SPACE = ["x=interval(-1.0, 1.0)", "n=range(1, 6)", "kind=a,b,c"]
BAYES = [*SPACE, "hydra.sweeper.n_trials=8", "hydra.sweeper.n_initial_points=3"]
CASES = {
    "bayes_gp": BAYES,
    "bayes_gp_batch2": [*BAYES, "hydra.sweeper.n_jobs=2"],
    "random": [*SPACE, "hydra.sweeper.mode=random", "hydra.sweeper.n_trials=6"],
    "failures": [*BAYES, "hydra.sweeper.max_failure_rate=1.0", "fail_above=0.6"],
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in CASES.items():
            multirun(Path(tmp) / name, *args)
            shutil.copy(Path(tmp) / name / "trials.csv", out / f"{name}.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
