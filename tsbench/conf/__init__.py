"""tsbench's Hydra config tree. Importing it (as ``initialize_config_module("tsbench.conf")``
does) registers the resolvers its YAML files use, and has the compositions that follow parse
each of its files once (:func:`tsbench.hydra_private.parse_each_config_once`)."""

from tsbench.hydra_private import parse_each_config_once
from tsbench.resolvers import register_resolvers

register_resolvers()
parse_each_config_once()
