"""``run`` hands the kept heap back when a run fails too (a sweep's worker goes on)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from hydra import compose, initialize_config_module

from tests.conftest import TINY
from tsbench.training import run as run_module


def test_failed_run_releases_freed_memory(tmp_path: Path) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=TINY)
    with (mock.patch.object(run_module, "release_freed_memory") as release,
          mock.patch.object(run_module, "load_series", side_effect=RuntimeError("disk gone"))):
        with pytest.raises(RuntimeError, match="disk gone"):
            run_module.run(cfg, tmp_path)
    release.assert_called_once_with()
    assert not (tmp_path / "metrics.json").exists()
