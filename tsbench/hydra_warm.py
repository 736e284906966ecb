"""Imported by the fork server of :mod:`tsbench.preload`: Hydra's first composition in a
process scans its plugins (importing every ``hydra_plugins`` module: the launchers, the
sweeper) and builds its parsers, some 0.2-0.4 s of CPU that every command forked from the
server would spend again before its first line of work. Composing tsbench's config once
here leaves them built in the server, and so in each of its commands, with the config files
it read parsed (:func:`tsbench.hydra_private.parse_each_config_once`).

A command that puts other folders on its path (``PYTHONPATH``, its working directory)
may find plugins the server's scan could not: :func:`rescan_where_plugins_moved` drops the
scan there, and Hydra scans again on first use, as in a fresh process.
"""

from __future__ import annotations

from hydra import compose, initialize_config_module
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton

import hydra_plugins
from tsbench.hydra_private import parse_each_config_once

parse_each_config_once()  # the files parsed here stay parsed for the server's commands
with initialize_config_module("tsbench.conf", version_base="1.3"):
    compose("config", return_hydra_config=True)

#: The folders of the ``hydra_plugins`` namespace package the scan above read.
SCANNED = frozenset(hydra_plugins.__path__)


def rescan_where_plugins_moved() -> None:
    """Forget the server's plugin scan where ``hydra_plugins`` now spans a folder it did not."""
    if not SCANNED.issuperset(hydra_plugins.__path__):
        Singleton._instances.pop(Plugins, None)
