"""The OmegaConf resolvers that tsbench's config files use, registered by the entry points
(``tsbench``, ``tsbench-analyze``) before Hydra composes a config.

- ``${by_horizon:${pred_len},[96,192],[256,512]}``: the value a preset lists for a horizon.
- ``${data_name:${dataset}}``: what the data is called (:func:`data_name`), e.g. in
  ``tsbench-analyze``'s output folder.

(A seasonal period is no resolver: ``model.period: null`` takes it from the frequency of the
data, known only once the data is read; see ``tsbench.models.build``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf


def by_horizon(pred_len: int, horizons: list, values: list) -> object:
    """The value listed for ``pred_len``; a horizon the preset does not list is an error."""
    if pred_len not in list(horizons):
        raise ValueError(f"pred_len={pred_len} has no preset value; presets cover {list(horizons)}"
                         " -> pass the field explicitly on the command line")
    return list(values)[list(horizons).index(pred_len)]


def data_name(dataset: Any) -> str:
    """What a dataset config's data is called in folders, pictures and printed lines: the
    file's name for ``dataset=csv`` (``sales.csv``, as ``tsbench-report`` names it), else the
    dataset's name (``etth1``, ``synthetic``; ``csv`` while no file is given)."""
    path = dataset.get("path")
    return Path(str(path)).name if str(dataset.name) == "csv" and path else str(dataset.name)


def register_resolvers() -> None:
    """Register the resolvers once per process."""
    for name, resolver in (("by_horizon", by_horizon), ("data_name", data_name)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
