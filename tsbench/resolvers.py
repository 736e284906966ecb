"""The OmegaConf resolvers that tsbench's config files use, registered by the entry points
(``tsbench``, ``tsbench-analyze``) before Hydra composes a config.

- ``${by_horizon:${pred_len},[96,192],[256,512]}``: the value a preset lists for a horizon.

(A seasonal period is no resolver: ``model.period: null`` takes it from the frequency of the
data, known only once the data is read; see ``tsbench.models.build``.)
"""

from __future__ import annotations

from omegaconf import OmegaConf


def by_horizon(pred_len: int, horizons: list, values: list) -> object:
    """The value listed for ``pred_len``; a horizon the preset does not list is an error."""
    if pred_len not in list(horizons):
        raise ValueError(f"pred_len={pred_len} has no preset value; presets cover {list(horizons)}"
                         " -> pass the field explicitly on the command line")
    return list(values)[list(horizons).index(pred_len)]


def register_resolvers() -> None:
    """Register the resolvers once per process."""
    if not OmegaConf.has_resolver("by_horizon"):
        OmegaConf.register_new_resolver("by_horizon", by_horizon)
