"""Published train/val/test borders (rows), with the look-back overlap of val and test."""

from __future__ import annotations

from dataclasses import dataclass

from pandas.tseries.frequencies import to_offset

from tsbench.errors import ConfigError, DataError

#: The ratio split's shares of training and test rows (validation gets the rest), 70/10/20.
TRAIN_FRAC, TEST_FRAC = 0.7, 0.2
_HOURS_PER_MONTH = 30 * 24
_ROWS_PER_HOUR = {"ett_hour": 1, "ett_minute": 4}
#: The step each ETT rule's rows must have for its row counts to be months.
ETT_FREQ = {"ett_hour": "h", "ett_minute": "15min"}


@dataclass(frozen=True)
class Borders:
    """Half-open row ranges. ``val``/``test`` start ``seq_len`` rows before their border so
    that their first target lies on the border; ``train`` are the rows a scaler may see."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]

    def __getitem__(self, split: str) -> tuple[int, int]:
        return getattr(self, split)


def benchmark_borders(
    n_rows: int, rule: str, seq_len: int, train_frac: float = TRAIN_FRAC,
    test_frac: float = TEST_FRAC
) -> Borders:
    """Borders of the standard protocol: ETT 12/4/4 months, others 70/10/20 (int rounding)."""
    if rule in _ROWS_PER_HOUR:
        month = _HOURS_PER_MONTH * _ROWS_PER_HOUR[rule]
        n_train, n_val, n_test = 12 * month, 4 * month, 4 * month
        if n_rows < n_train + n_val + n_test:
            raise DataError(f"the '{rule}' split needs {n_train + n_val + n_test} rows, the "
                            f"series has {n_rows} -> use dataset.split=ratio")
        end_val, end_test = n_train + n_val, n_train + n_val + n_test
        borders = Borders((0, n_train), (n_train - seq_len, end_val), (end_val - seq_len, end_test))
    elif rule == "ratio":
        for key, frac, use in (("train_frac", train_frac, "trains on"),
                               ("test_frac", test_frac, "holds out")):
            if not 0 < frac < 1:
                raise ConfigError(f"dataset.{key}", f"must be between 0 and 1, got {frac}: "
                                  f"every run {use} a share of the rows",
                                  f"give dataset.{key} in (0, 1)")
        if train_frac + test_frac >= 1:
            raise ConfigError(_changed(train_frac, test_frac), f"train_frac={train_frac} and "
                              f"test_frac={test_frac} leave no validation rows",
                              "use fractions with train_frac + test_frac < 1")
        n_train, n_test = int(n_rows * train_frac), int(n_rows * test_frac)
        n_val = n_rows - n_train - n_test
        borders = Borders(
            (0, n_train), (n_train - seq_len, n_train + n_val), (n_rows - n_test - seq_len, n_rows)
        )
    else:
        raise ConfigError("dataset.split", f"unknown split rule '{rule}'",
                          "use ett_hour, ett_minute or ratio")
    if borders.val[0] < 0:
        raise DataError(f"seq_len={seq_len} is longer than the {borders.train[1]} training rows "
                        f"-> lower seq_len")
    return borders


def check_split_freq(rule: str, freq: str) -> None:
    """Refuse an ETT rule on data of another step (``freq``): it counts 30-day months in
    rows of one hour (``ett_hour``) or 15 minutes (``ett_minute``), so on 15-minute data
    ``ett_hour`` would train on 90 days, on daily data on 8640 days, both called 12 months."""
    step = ETT_FREQ.get(rule)
    if step is None or to_offset(freq) == to_offset(step):
        return
    fitting = [name for name, other in ETT_FREQ.items() if to_offset(freq) == to_offset(other)]
    raise ConfigError("dataset.split", f"'{rule}' counts 12/4/4 months in rows of {step}, "
                      f"but the rows are {freq} apart",
                      f"use dataset.split={fitting[0] if fitting else 'ratio'}")


def _changed(train_frac: float, test_frac: float) -> str:
    """The fraction(s) set away from the 70/10/20 default: the field(s) a user set."""
    changed = [f"dataset.{key}" for key, frac, default in (
        ("train_frac", train_frac, TRAIN_FRAC), ("test_frac", test_frac, TEST_FRAC))
        if frac != default]
    return " and ".join(changed)


def n_windows(rows: int, seq_len: int, pred_len: int) -> int:
    """Number of (look-back, horizon) windows with stride 1 in ``rows`` rows."""
    return max(0, rows - seq_len - pred_len + 1)


def check_split_length(split: str, start: int, end: int, seq_len: int, pred_len: int) -> None:
    """Every split must hold at least one whole window. A val or test range starts
    ``seq_len`` rows before its border (its first look-back), so a look-back never makes it
    too short: only its rows after those are forecast, and the fix is a shorter horizon."""
    rows = end - start
    if n_windows(rows, seq_len, pred_len) >= 1:
        return
    if split == "train":
        raise DataError(
            f"the train split has {rows} rows, shorter than seq_len + pred_len = "
            f"{seq_len} + {pred_len} -> lower seq_len or pred_len, or use a longer series")
    targets = rows - seq_len
    raise DataError(
        f"the {split} split has {targets} rows to forecast, fewer than pred_len = {pred_len} "
        "(its look-back comes from the rows before it) -> use pred_len <= "
        f"{targets}, or a longer series")
