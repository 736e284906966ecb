"""``tsbench.preload.run_module``: ``python -m`` forked from the preloaded server, and the same
as a subprocess where there is no fork server: argv, environment, working directory,
output appended to the files, exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsbench import preload

#: A module that shows what it was started with, then exits with its first argument.
SHOW = """
import os, sys
print("argv", sys.argv[1:], "cwd", os.getcwd(), "greeting", os.environ.get("GREETING"))
# the environment given, nothing of the server's own (LC_CTYPE: Python's C-locale coercion)
print("env", sorted(set(os.environ) - {"LC_CTYPE"}), file=sys.stderr)
print("to stderr", file=sys.stderr)
raise SystemExit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "subprocess"])
def test_a_module_runs_as_python_m_would(forked: bool, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if not forked:
        monkeypatch.setattr(preload, "_context", None)
    code_dir, work = tmp_path / "code", tmp_path / "work"
    code_dir.mkdir()
    work.mkdir()
    (code_dir / "show_start.py").write_text(SHOW)
    env = {"PYTHONPATH": str(code_dir), "GREETING": "hello", "PATH": "/usr/bin:/bin"}
    log, errors = tmp_path / "out.log", tmp_path / "err.log"
    log.write_text("before\n")  # appended to, not replaced
    assert preload.run_module("show_start", ["3", "a b"], log, errors, env=env, cwd=work) == 3
    assert log.read_text() == f"before\nargv ['3', 'a b'] cwd {work} greeting hello\n"
    assert errors.read_text() == "env ['GREETING', 'PATH', 'PYTHONPATH']\nto stderr\n"
    assert preload.run_module("show_start", ["0"], log, env=env, cwd=work) == 0  # one file
    last = log.read_text().splitlines()[2:]  # in the order each stream was flushed
    assert sorted(last) == [f"argv ['0'] cwd {work} greeting hello",
                            "env ['GREETING', 'PATH', 'PYTHONPATH']", "to stderr"]
