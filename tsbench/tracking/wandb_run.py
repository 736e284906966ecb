"""``logger=wandb``: one Weights & Biases run per tsbench run, a multirun as one W&B group.

Without an API key the runs are written offline (``wandb sync`` uploads them later), so a
run never needs the network. Everything wandb writes goes under one folder: ``logger.dir``,
else ``$WANDB_DIR``, else the sweep directory of a multirun or the run directory of a single
run (``<folder>/wandb/``: the runs, wandb's cache, config and the core service's logs).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from pytorch_lightning.loggers import WandbLogger

from tsbench.errors import ConfigError
from tsbench.resolvers import data_name
from tsbench.rundir import ARTIFACTS
from tsbench.user_paths import user_path

MODES = ("online", "offline", "disabled")


class WandbRunLogger(WandbLogger):
    """Lightning's W&B logger with the final metrics as the run's summary and the run's
    files attached when it closes. Its curves keep the names every logger gives them
    (``val_loss``), beside the summary's ``val_mse``, the run's score."""

    def log_summary(self, scalars: dict[str, float]) -> None:
        """End-of-run values: the run's summary, not one more point of its curves."""
        self.experiment.summary.update(scalars)

    def finish(self, run_dir: Path) -> None:
        """Copy the run's outputs (metrics.json, forecast.png, ...) into the W&B run's files
        and close it."""
        run = self.experiment
        for name in ARTIFACTS:
            if (run_dir / name).is_file():
                shutil.copy2(run_dir / name, Path(run.dir) / name)
                run.save(str(Path(run.dir) / name), base_path=run.dir, policy="now")
        run.finish()


def wandb_logger(cfg: Any, run_dir: Path) -> WandbRunLogger:
    """Start the W&B run of ``cfg`` (its resolved config, plus a multirun trial's overrides)."""
    try:
        import wandb
    except ImportError:
        raise ConfigError("logger", "Weights & Biases is not installed",
                          "pip install 'tsbench[wandb]'") from None
    settings = cfg.logger
    mode = settings.mode or os.environ.get("WANDB_MODE") or (
        "online" if os.environ.get("WANDB_API_KEY") else "offline")
    if mode not in MODES:
        raise ConfigError("logger.mode", f"unknown mode '{mode}'", f"use one of {MODES}")
    sweep_dir, overrides = _hydra_job()
    folder = user_path(settings.dir or os.environ.get("WANDB_DIR") or sweep_dir or run_dir)
    group = settings.group or (sweep_dir.name if sweep_dir else None)
    config = {**OmegaConf.to_container(cfg, resolve=True), "overrides": overrides,
              "run_dir": str(run_dir)}
    if wandb.run is not None:  # left open by a failed trial of this process
        wandb.run.finish(exit_code=1)
    folder.mkdir(parents=True, exist_ok=True)
    with _inside(folder):
        logger = WandbRunLogger(
            name=f"{cfg.model.name}-{data_name(cfg.dataset)}-{cfg.pred_len}-{run_dir.name}",
            save_dir=str(folder), project=str(settings.project), entity=settings.entity,
            group=group, tags=[str(t) for t in settings.tags or []], mode=mode, config=config,
        )
        logger.experiment  # noqa: B018 - start the run (and wandb's service) in the folder
    return logger


def _hydra_job() -> tuple[Path | None, list[str]]:
    """The sweep directory (None outside a multirun) and the job's command-line overrides."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None, []
    hc = HydraConfig.get()
    sweep_dir = Path(hc.sweep.dir) if hc.mode == RunMode.MULTIRUN else None
    return sweep_dir, list(hc.overrides.task)


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Point wandb's cache (where its core service also keeps its debug logs), config, data
    and artifact folders into ``folder/wandb`` while the run starts (and wandb's service
    with it); a variable the user has set wins."""
    root = folder / "wandb"
    wanted = {"WANDB_CACHE_DIR": root / "cache", "WANDB_CONFIG_DIR": root / "config",
              "WANDB_DATA_DIR": root / "data", "WANDB_ARTIFACT_DIR": root / "artifacts"}
    added = {k: str(v) for k, v in wanted.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
