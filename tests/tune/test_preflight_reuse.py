"""tsbench-tune's checks compose a command line once within :func:`reusing_compositions`,
and what each caller gets is what a composition of its own would have given."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from tsbench.tune import preflight
from tsbench.tune.preflight import compose_command, reusing_compositions

COMMAND = ["dataset=synthetic", "model=dlinear", "seq_len=48", "pred_len=12"]


def plain(cfg: DictConfig) -> dict:
    """The config as written, its run-time values apart (the working directory)."""
    found = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(found, dict)
    found.get("hydra", {}).get("runtime", {}).pop("cwd", None)
    return found


def test_a_command_line_composed_once_within_the_checks_gives_fresh_copies(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    own = {flag: plain(compose_command(COMMAND, hydra_config=flag)) for flag in (False, True)}
    calls = []
    compose = preflight.compose
    monkeypatch.setattr(preflight, "compose",
                        lambda *a, **k: calls.append(a) or compose(*a, **k))
    with reusing_compositions():
        first = compose_command(COMMAND)
        first.seq_len = 999  # a caller's change stays its own
        with reusing_compositions():  # nested: the same configs
            with_hydra = compose_command(COMMAND, hydra_config=True)
        again = compose_command(COMMAND)
        assert len(calls) == 1
        assert plain(again) == own[False] and plain(with_hydra) == own[True]
        assert "hydra" not in again and again.seq_len == 48
        monkeypatch.chdir(tmp_path)  # another folder: a relative search path reads others
        compose_command(COMMAND)
        assert len(calls) == 2
    compose_command(COMMAND)  # after the checks: the files as they are now
    assert len(calls) == 3
