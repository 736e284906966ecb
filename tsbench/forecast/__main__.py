"""``python -m tsbench.forecast DIR...``: the same as ``tsbench-forecast``."""

from tsbench.forecast.cli import entry

entry()
