"""A tiny Hydra app for the sweeper tests: a quadratic objective with failure switches.

``fail_above``: trials whose value exceeds it fail as ``fail_mode`` says (raise,
return_nan or return_none). Environment ``QUAD_INTERRUPT_AT_JOB=<n>`` raises
KeyboardInterrupt in job ``n`` (as Ctrl-C would). Each trial writes ``result.json``
(value, pid, start, end, value types) to its job directory.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

KIND_COST = {"a": 0.0, "b": 0.5, "c": 1.0}


def objective(cfg: DictConfig) -> float | None:
    """(x - 0.3)^2 + 0.1 (n - 3)^2 + kind cost + model penalty."""
    start = time.time()
    hydra_cfg = HydraConfig.get()
    if os.environ.get("QUAD_INTERRUPT_AT_JOB") == str(hydra_cfg.job.get("num")):
        raise KeyboardInterrupt
    value = (cfg.x - 0.3) ** 2 + 0.1 * (cfg.n - 3) ** 2 + KIND_COST[cfg.kind] + cfg.model.penalty
    time.sleep(cfg.sleep)
    record = {
        "value": value,
        "pid": os.getpid(),
        "start": start,
        "end": time.time(),
        "types": {k: type(cfg[k]).__name__ for k in ("x", "n", "kind")},
    }
    out = Path(hydra_cfg.runtime.output_dir)
    (out / "result.json").write_text(json.dumps(record))
    if value > cfg.fail_above:
        if cfg.fail_mode == "raise":
            raise ValueError(f"value {value:.3f} is above fail_above")
        return math.nan if cfg.fail_mode == "return_nan" else None
    return value


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    return objective(cfg)


if __name__ == "__main__":
    main()
