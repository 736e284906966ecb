"""The standard long-term forecasting datasets: where they come from and how they split."""

from __future__ import annotations

from dataclasses import dataclass

from tsbench.errors import ConfigError

_ETT = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/"
# The Autoformer "all_six_datasets" bundle is the canonical source of the custom datasets;
# it is a Google Drive folder, so these mirrors of the same files are used for download.
_BUNDLE = "https://huggingface.co/datasets/thuml/Time-Series-Library/resolve/main/"


@dataclass(frozen=True)
class RegistryEntry:
    """One published dataset: file, source, checksum, calendar frequency, split rule."""

    filename: str
    url: str
    sha256: str | None
    freq: str
    target: str
    split: str
    n_rows: int


REGISTRY: dict[str, RegistryEntry] = {
    "etth1": RegistryEntry(
        "ETTh1.csv", _ETT + "ETTh1.csv",
        "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
        "h", "OT", "ett_hour", 17420,
    ),
    "etth2": RegistryEntry(
        "ETTh2.csv", _ETT + "ETTh2.csv",
        "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
        "h", "OT", "ett_hour", 17420,
    ),
    "ettm1": RegistryEntry(
        "ETTm1.csv", _ETT + "ETTm1.csv", None, "15min", "OT", "ett_minute", 69680
    ),
    "ettm2": RegistryEntry(
        "ETTm2.csv", _ETT + "ETTm2.csv", None, "15min", "OT", "ett_minute", 69680
    ),
    "weather": RegistryEntry(
        "weather.csv", _BUNDLE + "weather/weather.csv", None, "10min", "OT", "ratio", 52696
    ),
    "electricity": RegistryEntry(
        "electricity.csv", _BUNDLE + "electricity/electricity.csv", None, "h", "OT", "ratio", 26304
    ),
    "traffic": RegistryEntry(
        "traffic.csv", _BUNDLE + "traffic/traffic.csv", None, "h", "OT", "ratio", 17544
    ),
    "exchange": RegistryEntry(
        "exchange_rate.csv", _BUNDLE + "exchange_rate/exchange_rate.csv",
        "d55e7aa2641009814a18ba3279431b13f6d413b0eab195b9ff21988d8cf94e97",
        "d", "OT", "ratio", 7588,
    ),
    "ili": RegistryEntry(
        "national_illness.csv", _BUNDLE + "illness/national_illness.csv",
        "8594cecb98c6f2f9dc014eca11c4d5d1e38ad5ce6ed0592d4abe65b146fce395",
        "W", "OT", "ratio", 966,
    ),
}


def registry_entry(name: str) -> RegistryEntry:
    """Look a dataset up by its config name, or say which names exist."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(
            "dataset.name", f"unknown dataset '{name}'",
            f"use one of {known}, or dataset=csv dataset.path=<file> for your own CSV",
        ) from None
