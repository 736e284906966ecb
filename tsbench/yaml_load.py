"""YAML text parsed safely, by libyaml's C parser where PyYAML was built with it.

A sweep reads a job folder's ``.hydra/hydra.yaml`` (300 lines) after every trial, for
best.yaml's commands (most of a trial's bookkeeping: ``benchmarks/sweep_record_cost.py``),
and a resume reads each folder's where its job noted none. PyYAML's C loader reads the
same safe subset of YAML into the same values several times faster than its pure-Python
``safe_load``; a PyYAML built without libyaml reads it with the latter, as before.
"""

from __future__ import annotations

from typing import Any

import yaml


def load_yaml(text: str) -> Any:
    """``text`` parsed as :func:`yaml.safe_load` parses it (the C loader where there is one);
    raises :class:`yaml.YAMLError` where it is no YAML."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
