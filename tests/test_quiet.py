"""What tsbench silences: dependency chatter that tells a user nothing."""

import io
import logging

import pytest
from torch._subclasses import fake_tensor

from tsbench.quiet import quiet_dependencies


def test_torch_cache_statistics_are_not_printed_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C while torch imports leaves its loggers as Hydra's INFO root sees them; at exit
    torch logged its FakeTensor cache counts under tsbench's stopped line."""
    torch_log = fake_tensor.log
    for logger in (torch_log, logging.getLogger("torch")):  # torch._logging had not run yet
        monkeypatch.setattr(logger, "level", logging.NOTSET)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "handlers", [])
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", logging.INFO)  # Hydra's job logging
    stream = io.StringIO()
    monkeypatch.setattr(root, "handlers", [logging.StreamHandler(stream)])
    root.manager._clear_cache()
    quiet_dependencies()
    fake_tensor.dump_cache_stats()
    root.manager._clear_cache()
    assert "cache_hits" not in stream.getvalue()
