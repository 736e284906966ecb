"""A tiny Hydra app for the sweeper tests: a quadratic objective with failure switches.

``fail_above``: trials whose value exceeds it fail as ``fail_mode`` says (raise,
return_nan or return_none). Environment ``QUAD_INTERRUPT_AT_JOB=<n>`` raises
KeyboardInterrupt in job ``n`` (as Ctrl-C would); ``kill_job`` kills that job's process
with SIGKILL (a launcher's worker taken by the out-of-memory killer; a setting, not an
environment variable, which a joblib worker reused from an earlier sweep would not see);
``QUAD_BROKEN=1`` makes every trial raise OSError (a fault of the machine, not of the
settings). Job ``slow_job`` sleeps ``slow_sleep``
seconds instead of ``sleep``; job ``fail_job`` raises ValueError. Each trial writes ``result.json``
(value, pid, start, end, value types, epochs run, pruned epoch) to its job directory;
``write_metrics`` makes a trial that returns a value also write ``metrics.json`` last, as a
tsbench run does (its objective, run seconds and the Hydra job that wrote it).

``epochs`` > 0 makes it a trainable stand-in: epoch ``e`` (after ``epoch_sleep`` seconds)
has the loss ``value * (1 + curve / e)``, which falls towards ``value``, reported to a
pruning sweep's record through :class:`tsbench.search.pruning.Reporter`; the trial
returns its last (best) loss, or the loss where the rule stopped it.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tsbench.rundir import METRICS
from tsbench.search.job_folder import written_by
from tsbench.search.pruning import BLOCK, Reporter

KIND_COST = {"a": 0.0, "b": 0.5, "c": 1.0}


def objective(cfg: DictConfig) -> float | None:
    """(x - 0.3)^2 + 0.1 (n - 3)^2 + kind cost + model penalty."""
    start = time.time()
    hydra_cfg = HydraConfig.get()
    if os.environ.get("QUAD_INTERRUPT_AT_JOB") == str(hydra_cfg.job.get("num")):
        raise KeyboardInterrupt
    if hydra_cfg.job.get("num") == cfg.kill_job:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("QUAD_BROKEN"):
        raise OSError("planted fault of the machine")
    if hydra_cfg.job.get("num") == cfg.fail_job:
        raise ValueError("planted failure")
    value = (cfg.x - 0.3) ** 2 + 0.1 * (cfg.n - 3) ** 2 + KIND_COST[cfg.kind] + cfg.model.penalty
    time.sleep(cfg.slow_sleep if hydra_cfg.job.get("num") == cfg.slow_job else cfg.sleep)
    returned, epochs, pruned_at = train(cfg, value)
    record = {
        "value": value,
        "returned": returned,
        "pid": os.getpid(),
        "start": start,
        "end": time.time(),
        "types": {k: type(cfg[k]).__name__ for k in ("x", "n", "kind")},
        "epochs": epochs,
        "pruned_at": pruned_at,
    }
    out = Path(hydra_cfg.runtime.output_dir)
    (out / "result.json").write_text(json.dumps(record))
    if value > cfg.fail_above:
        if cfg.fail_mode == "raise":
            raise ValueError(f"value {value:.3f} is above fail_above")
        return math.nan if cfg.fail_mode == "return_nan" else None
    result = -returned if cfg.negate else returned
    if cfg.write_metrics:
        metrics = {"objective": result, "run_seconds": time.time() - start, **written_by()}
        (out / METRICS).write_text(json.dumps(metrics))
    return result


def train(cfg: DictConfig, value: float) -> tuple[float, int, int | None]:
    """(returned loss, epochs run, epoch where pruning stopped it or None)."""
    if cfg.epochs == 0:
        return value, 0, None
    reporter = Reporter.from_config(cfg.get(BLOCK), max_epochs=cfg.epochs)
    for epoch in range(1, cfg.epochs + 1):
        time.sleep(cfg.epoch_sleep)
        loss = value * (1 + cfg.curve / epoch)
        if reporter is not None and reporter.report(epoch, loss):
            return loss, epoch, epoch
    return loss, cfg.epochs, None


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    return objective(cfg)


if __name__ == "__main__":
    main()
