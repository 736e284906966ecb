"""The OmegaConf resolvers that tsbench's config files use, registered by the entry points
(``tsbench``, ``tsbench-analyze``) before Hydra composes a config.

- ``${season:${dataset.freq}}``: the seasonal period of a frequency alias (24 for ``h``).
- ``${by_horizon:${pred_len},[96,192],[256,512]}``: the value a preset lists for a horizon.
"""

from __future__ import annotations

from omegaconf import OmegaConf

from tsbench.data.timefeatures import seasonal_period


def by_horizon(pred_len: int, horizons: list, values: list) -> object:
    """The value listed for ``pred_len``; a horizon the preset does not list is an error."""
    if pred_len not in list(horizons):
        raise ValueError(f"pred_len={pred_len} has no preset value; presets cover {list(horizons)}"
                         " -> pass the field explicitly on the command line")
    return list(values)[list(horizons).index(pred_len)]


def register_resolvers() -> None:
    """Register the resolvers once per process."""
    if not OmegaConf.has_resolver("season"):
        OmegaConf.register_new_resolver("season", lambda freq: seasonal_period(str(freq)))
    if not OmegaConf.has_resolver("by_horizon"):
        OmegaConf.register_new_resolver("by_horizon", by_horizon)
