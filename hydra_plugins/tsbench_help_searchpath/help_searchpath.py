"""The Hydra ``SearchPathPlugin`` class; the entries are :mod:`tsbench.help_searchpath`'s."""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class HelpSearchPath(SearchPathPlugin):
    """Adds the running ``tsbench --help``'s ``hydra.searchpath`` entries to the search path
    Hydra starts with, whose config groups its help lists; nothing in any other command."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from tsbench.help_searchpath import HELP_SEARCHPATH

        for entry in HELP_SEARCHPATH:
            search_path.append("tsbench --help", entry)
