"""Calibrate tsbench's unusual-validation check (tsbench/data/unusual_validation.py): the
seasonal naive forecast's MSE on the validation windows over that on the training windows,
for the four benchmark datasets on their standard splits at each published horizon, and for
a CSV given on the command line (e.g. a daily demand series with a spike in validation).

    TSBENCH_DATA_DIR=... python benchmarks/unusual_validation.py \
        [--csv PATH --target COLUMN --fillna ffill --pred-len 7 14 28]
"""

from __future__ import annotations

import argparse

from omegaconf import OmegaConf

from tsbench.data.loading import load_series
from tsbench.data.unusual_validation import UNUSUAL_RATIO, naive_mse_ratio

BENCHMARKS = {"etth1": (96, 192, 336, 720), "etth2": (96, 192, 336, 720),
              "exchange": (96, 192, 336, 720), "ili": (24, 36, 48, 60)}


def dataset_config(name: str, **fields: str) -> object:
    """The composed ``dataset`` group of ``dataset=<name>`` with ``fields`` overridden."""
    from hydra import compose, initialize_config_module

    with initialize_config_module("tsbench.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"dataset={name}",
                                           *(f"dataset.{k}={v}" for k, v in fields.items())])
    return OmegaConf.create(OmegaConf.to_container(cfg.dataset, resolve=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="a CSV file (dataset=csv) to score after the benchmarks")
    parser.add_argument("--target", default="OT", help="its target column")
    parser.add_argument("--fillna", default="none", help="its dataset.fillna")
    parser.add_argument("--pred-len", type=int, nargs="+", default=[14], help="its horizons")
    args = parser.parse_args()
    print(f"threshold: {UNUSUAL_RATIO:g}")
    print(f"{'dataset':<28} {'features':<8} {'pred_len':>8} {'ratio':>7}  unusual")
    runs = [(name, {}, lens) for name, lens in BENCHMARKS.items()]
    if args.csv:
        runs.append(("csv", {"path": args.csv, "target": args.target, "fillna": args.fillna},
                     tuple(args.pred_len)))
    for name, fields, lens in runs:
        series = load_series(dataset_config(name, **fields))  # once per dataset
        for features in ("S", "M") if name != "csv" else ("S",):
            for pred_len in lens:
                ratio = naive_mse_ratio(series, pred_len, target_only=features == "S")
                shown = "-" if ratio is None else f"{ratio:.2f}"
                unusual = ratio is not None and ratio > UNUSUAL_RATIO
                print(f"{fields.get('path', name):<28} {features:<8} {pred_len:>8} "
                      f"{shown:>7}  {'yes' if unusual else 'no'}")

if __name__ == "__main__":
    main()
