"""``python -m tsbench.report DIR...``: the same as ``tsbench-report``."""

from tsbench.report.cli import entry

entry()
