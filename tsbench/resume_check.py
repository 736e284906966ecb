"""A search resumed on a CSV file that changed since its trials ran, refused; so is a
resume into a folder named by the time it starts, which holds nothing to resume.

``search.yaml`` makes a resumed sweep search what it searched before (:mod:`tsbench.search.
definition`), but a sweep's trials also depend on the data: a file edited, appended to or
replaced between two sessions would feed old and new scores to one surrogate, and
``best.yaml`` could name a trial of the old file. Each trial's protocol card names the file's
sha256; a resume whose file no finished trial read is refused before any trial, naming both
digests (``hydra.sweeper.resume=force`` goes on, with a warning). The published datasets are
checked against their own sha256 when loaded, so only ``dataset=csv`` is read here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsbench.data.sources import file_sha256
from tsbench.errors import ConfigError
from tsbench.rundir import PROTOCOL
from tsbench.search.names import TRIALS_FILE
from tsbench.user_paths import user_path

log = logging.getLogger(__name__)


def csv_digest(ds_cfg: Any) -> str | None:
    """The sha256 of a ``dataset=csv`` file (None for another dataset, or no such file)."""
    if str(ds_cfg.get("name")) != "csv" or not ds_cfg.get("path"):
        return None
    path = user_path(ds_cfg.path)
    return file_sha256(path) if path.is_file() else None


def check_resume_folder(cfg: DictConfig) -> None:
    """Refuse a multirun's ``hydra.sweeper.resume`` into the default ``hydra.sweep.dir``,
    named by the time it starts: a new folder, it holds no sweep to resume, and the command
    would start the whole sweep anew (a user who left the folder out meant the one the
    stopped sweep's line names)."""
    if not cfg.hydra.sweeper.get("resume"):
        return
    folder = str(OmegaConf.to_container(cfg.hydra.sweep, resolve=False).get("dir"))
    if "${now:" in folder:
        raise ConfigError("hydra.sweeper.resume",
                          f"hydra.sweep.dir is {folder}, a new folder at every start: it "
                          "holds no sweep to resume",
                          "add hydra.sweep.dir=<the sweep's folder> (the line that stopped "
                          "it names it), or drop hydra.sweeper.resume to start a new sweep")


def check_resumed_data(cfg: DictConfig, swept: set[str]) -> None:
    """Refuse (``resume=force``: warn) a resumed search of ``dataset=csv`` whose file no
    finished trial of the sweep read. Not checked where the search sweeps the file itself
    (``swept``: the keys it searches)."""
    resume = cfg.hydra.sweeper.get("resume")
    if not resume or "dataset.path" in swept or "dataset" in swept:
        return
    now = csv_digest(cfg.dataset)
    sweep_dir = Path(str(cfg.hydra.sweep.dir))
    if now is None or not (sweep_dir / TRIALS_FILE).is_file():
        return
    read = digests_read(sweep_dir)
    if not read or now in read:
        return
    said = (f"the sweep in {sweep_dir} ran its trials on {cfg.dataset.path} with sha256 "
            f"{', '.join(d[:12] for d in sorted(read))}; the file now has sha256 {now[:12]}")
    if resume == "force":
        log.warning("resume=force: %s: old and new scores share one search", said)
        return
    raise ConfigError("hydra.sweeper.resume", said,
                      "restore the file to resume, or search the new file in a new "
                      "hydra.sweep.dir (hydra.sweeper.resume=force goes on mixing them)")


def digests_read(sweep_dir: Path) -> set[str]:
    """The data files' sha256 that the protocol cards of the sweep's trials name (a pruned
    trial's too: it read the file as well)."""
    found = set()
    for card in sweep_dir.glob(f"*/{PROTOCOL}"):
        try:
            digest = json.loads(card.read_text())["dataset"]["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if digest:
            found.add(str(digest))
    return found
