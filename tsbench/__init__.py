"""tsbench: benchmark and tune deep time-series forecasters with Hydra and Lightning."""

__version__ = "0.1.0"
