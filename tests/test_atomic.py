"""The one atomic writer: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tsbench.atomic import write_json, write_with


def test_atomic_write_keeps_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("old")

    def explode(handle) -> None:
        handle.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_with(path, explode)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_json_written_whole_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.json"
    write_json(path, {"b": 1, "a": [1.5]})
    assert path.read_text() == '{\n  "a": [\n    1.5\n  ],\n  "b": 1\n}\n'
    write_json(path, {"c": None})
    assert path.read_text() == '{\n  "c": null\n}\n'
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]


def test_written_files_get_the_permissions_open_gives(tmp_path: Path) -> None:
    """Results on a shared cluster folder stay readable by the group (umask 022: 0644),
    not owner-only as ``mkstemp`` makes its files."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = tmp_path / "written.json"
    write_json(written, {"a": 1})
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
