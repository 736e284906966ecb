"""A count in a message takes its noun's singular for one."""

from __future__ import annotations

from tsbench.counted import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "trial") == "1 trial"
    assert counted(1, "random trial") == "1 random trial"
    assert [counted(n, "trial") for n in (0, 2, 12)] == ["0 trials", "2 trials", "12 trials"]
