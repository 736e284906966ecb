"""tsbench: benchmark and tune deep time-series forecasters with Hydra and Lightning."""

from omegaconf import OmegaConf


def _season(freq: str) -> int:
    from tsbench.data.timefeatures import seasonal_period

    return seasonal_period(str(freq))


def _by_horizon(pred_len: int, horizons: list, values: list) -> object:
    """``${by_horizon:${pred_len},[96,192],[256,512]}``: the value listed for this horizon."""
    if pred_len not in list(horizons):
        raise ValueError(f"pred_len={pred_len} has no preset value; presets cover {list(horizons)}"
                         " -> pass the field explicitly on the command line")
    return list(values)[list(horizons).index(pred_len)]


if not OmegaConf.has_resolver("season"):
    OmegaConf.register_new_resolver("season", _season)
if not OmegaConf.has_resolver("by_horizon"):
    OmegaConf.register_new_resolver("by_horizon", _by_horizon)

__version__ = "0.1.0"
