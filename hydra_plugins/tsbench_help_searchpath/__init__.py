"""Hydra search path plugin: ``tsbench --help`` lists the config groups of its
``hydra.searchpath`` override (:mod:`tsbench.help_searchpath`)."""
