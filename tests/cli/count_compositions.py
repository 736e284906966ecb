"""``python -m tests.cli.count_compositions ARGS``: ``tsbench ARGS``, then, on stderr's last
line, how many times a config was composed in this process (every composition, the
check's and Hydra's, passes through Hydra's config loader)."""

from __future__ import annotations

import sys
from typing import Any

from tsbench.hydra_private import config_loader_class

loader = config_loader_class()
compose = loader.load_configuration
composed = []


def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
    composed.append(1)
    return compose(self, *args, **kwargs)


loader.load_configuration = counted
from tsbench.cli import entry  # noqa: E402 (after the loader is wrapped: it wraps it again)

sys.argv = ["tsbench", *sys.argv[1:]]
try:
    entry()
finally:
    print(f"compositions: {len(composed)}", file=sys.stderr)
