"""tsbench's Hydra config tree. Importing it (as ``initialize_config_module("tsbench.conf")``
does) registers the resolvers its YAML files use."""

from tsbench.resolvers import register_resolvers

register_resolvers()
