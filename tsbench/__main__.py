"""``python -m tsbench`` = the ``tsbench`` command."""

from tsbench.cli import entry

entry()
