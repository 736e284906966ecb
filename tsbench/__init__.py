"""tsbench: benchmark and tune deep time-series forecasters with Hydra and Lightning."""

from omegaconf import OmegaConf


def _season(freq: str) -> int:
    from tsbench.data.timefeatures import seasonal_period

    return seasonal_period(str(freq))


if not OmegaConf.has_resolver("season"):
    OmegaConf.register_new_resolver("season", _season)

__version__ = "0.1.0"
