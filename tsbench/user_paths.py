"""A user's files and folders with ``~`` read as the home directory, as the shell reads it.

The shell expands ``~`` after ``=`` only in a word that looks like a shell variable's
assignment (``out=~/x`` in bash, not ``dataset.path=~/x``, nor anything under ``sh``), and
Hydra's parser refuses a bare ``~`` in a value: tsbench expands it itself, on the command
line (:func:`home_in_overrides`) and wherever it reads a path a user gave (:func:`user_path`:
a quoted ``'~/x'``, a YAML value, ``$TSBENCH_DATA_DIR``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: A ``~`` that starts a path in an override's value: at its start, after , [ ( of a
#: sweep or list, or after the ``file://`` of a ``hydra.searchpath`` entry, followed by /
#: or the item's end.
_TILDE = re.compile(r"(^|[,\[(]|file://)~(?=/|$|[,\])])")
#: A ``~`` after ``file://`` in a quoted entry of ``hydra.searchpath``, which Hydra parses
#: (and reads as a folder named ``~``).
_QUOTED_FILE_TILDE = re.compile(r"(file://)~(?=/|['\"])")
#: Hydra's folders of configs, which Hydra reads: tsbench expands ``~`` there quoted too.
SEARCHPATH = "hydra.searchpath"


def user_path(text: object) -> Path:
    """``text`` as a path, a leading ``~`` (``~user``) read as the home directory."""
    return Path(str(text)).expanduser()


def home_in_overrides(args: list[str]) -> list[str]:
    """``args`` with each override Hydra cannot parse for a bare ``~`` in its value
    (``dataset.path=~/sales.csv``, ``hydra.run.dir=~/runs``,
    ``hydra.searchpath=[file://~/conf]``) given with the home directory in its place, and a
    quoted ``file://~`` of ``hydra.searchpath`` too (Hydra reads its folders, not
    tsbench); every other argument (one Hydra parses, a flag) as given."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()

    def parses(line: str) -> bool:
        try:
            parser.parse_overrides([line])
        except HydraException:
            return False
        return True

    home = os.path.expanduser("~")
    expanded = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and not key.startswith("-") and "~" in value:
            if not parses(arg):
                line = f"{key}={_TILDE.sub(lambda found: found[1] + home, value)}"
                arg = line if parses(line) else arg  # else its own error names it as given
            elif key.lstrip("+~") == SEARCHPATH:
                arg = f"{key}={_QUOTED_FILE_TILDE.sub(lambda found: found[1] + home, value)}"
        expanded.append(arg)
    return expanded
