"""``tsbench --help`` with ``hydra.searchpath=[...]``: the config groups of those folders
listed too. Hydra composes the help's config with the override, but lists the groups of
the search path it started with; :func:`help_searchpath` finds the override's entries
before Hydra starts, and the search path plugin ``hydra_plugins/tsbench_help_searchpath``
adds them to that starting search path."""

from __future__ import annotations

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from tsbench.hydra_private import args_parser, config_sources

#: The entries of ``hydra.searchpath`` that the running ``tsbench --help`` lists groups of.
HELP_SEARCHPATH: list[str] = []


def help_searchpath(argv: list[str]) -> list[str]:
    """The ``hydra.searchpath`` entries of a ``--help`` command line that Hydra can read, as
    given (one it cannot read Hydra warns of itself); none for any other command (Hydra
    reads the override itself there) or an override Hydra refuses (Hydra's to report)."""
    try:
        args = args_parser().parse_args(argv)
    except SystemExit:  # a bad flag: Hydra's own parse reports it
        return []
    if not args.help:
        return []
    try:
        overrides = OverridesParser.create().parse_overrides(args.overrides)
    except HydraException:
        return []
    for override in overrides:
        if override.get_key_element() == "hydra.searchpath":
            value = override.value()
            return available([str(entry) for entry in value]) if isinstance(value, list) else []
    return []


def available(entries: list[str]) -> list[str]:
    """The search path entries whose config source Hydra finds (a folder that exists, a
    package that imports)."""
    try:
        sources = config_sources([("tsbench --help", entry) for entry in entries])
    except ValueError:  # a scheme Hydra has no source for: Hydra's to report
        return []
    return [entry for entry, source in zip(entries, sources, strict=True) if source.available()]
