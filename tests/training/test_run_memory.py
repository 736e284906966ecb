"""A run's process-wide memory settings are put back when it ends, also when it fails (a
sweep's worker goes on), and left alone with ``trainer.fast_kernels=false``."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import torch
from hydra import compose, initialize_config_module

from tests.conftest import TINY
from tsbench.training import allocator
from tsbench.training import run as run_module


@pytest.mark.parametrize("fast", [True, False])
def test_failed_run_restores_memory_settings(tmp_path: Path, fast: bool) -> None:
    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, f"trainer.fast_kernels={fast}"])
    libc = mock.MagicMock()
    seen_fill = []

    def fail(*_: object) -> None:
        seen_fill.append(torch.utils.deterministic.fill_uninitialized_memory)
        raise RuntimeError("disk gone")

    before = torch.utils.deterministic.fill_uninitialized_memory
    with (mock.patch.object(allocator.ctypes, "CDLL", return_value=libc),
          mock.patch.object(run_module, "load_series", side_effect=fail)):
        with pytest.raises(RuntimeError, match="disk gone"):
            run_module.run(cfg, tmp_path)
    assert torch.utils.deterministic.fill_uninitialized_memory == before
    assert not (tmp_path / "metrics.json").exists()
    if fast:
        assert seen_fill == [False]  # the fill was skipped during the run
        assert libc.mallopt.call_args_list[-2:] == [
            mock.call(allocator.M_MMAP_THRESHOLD, allocator.GLIBC_DEFAULT),
            mock.call(allocator.M_TRIM_THRESHOLD, allocator.GLIBC_DEFAULT)]
        libc.malloc_trim.assert_called_once_with(0)
    else:
        assert seen_fill == [before]
        libc.mallopt.assert_not_called()
