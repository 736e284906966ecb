"""An argparse parser for tsbench's commands that take options (tsbench-report,
tsbench-forecast): its refusals read as the commands' others do."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse's refusals (a bad option value, an unknown flag, a missing argument) as the
    command's other refusals are said: one line with its fix, exit 2, no usage block
    before it."""

    def error(self, message: str) -> NoReturn:
        fix = "" if " -> " in message else f" -> see {self.prog} --help"
        self.exit(2, f"{self.prog}: error: {message}{fix}\n")
