"""The exact one-line message of each bad CSV (the CLI path is tests/cli/test_bad_input.py:
every DataError or ConfigError there ends in exit code 2 without a traceback)."""

from __future__ import annotations

import hashlib
import itertools
import pickle
import shlex
import shutil
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from tests.conftest import data_dir
from tsbench.data.loading import check_features, load_series
from tsbench.data.sources import _cached_sha256
from tsbench.errors import TsbenchError

CSV_CONF = Path(__file__).parents[2] / "tsbench" / "conf" / "dataset" / "csv.yaml"
HOURS = pd.date_range("2020-01-01", periods=6, freq="h")


def _hours_without(rows: list[int]) -> str:
    """Forty hourly rows of columns a and OT, less the rows numbered ``rows``."""
    dates = pd.date_range("2020-01-01", periods=40, freq="h").delete(rows)
    return "date,a,OT\n" + "".join(f"{t},{i},{i}\n" for i, t in enumerate(dates))


def csv_config(path: Path, **fields: Any) -> DictConfig:
    """The shipped ``dataset=csv`` config reading ``path``, with ``fields`` set."""
    cfg = OmegaConf.load(CSV_CONF)
    cfg.path = str(path)
    for key, value in fields.items():
        cfg[key] = value
    return cfg


def _rows(sep: str = ",", blank: tuple[int, str] | None = None) -> str:
    """Six hourly rows of columns a and OT; ``blank`` empties one cell (row, column)."""
    lines = []
    for i, stamp in enumerate(HOURS):
        cells = {"a": f"{i}", "OT": f"{i % 3}"}
        if blank and blank[0] == i:
            cells[blank[1]] = ""
        lines.append(sep.join([str(stamp), cells["a"], cells["OT"]]))
    return "\n".join(lines) + "\n"


#: case -> (file text, config fields, the whole message after "<path>" or the field)
CASES = {
    "minus_inf": ("date,a,OT\n" + _rows() + "2020-01-01 06:00:00,1,-inf\n", {},
                  "{path}: 1 non-finite value (first -inf in column 'OT' at row 6) -> replace "
                  "it with a number, or empty that cell and set dataset.fillna=ffill"),
    "two_non_finite": ("date,a,OT\n" + _rows() + "2020-01-01 06:00:00,inf,-inf\n", {},
                       "{path}: 2 non-finite values (first inf in column 'a' at row 6) -> "
                       "replace them with numbers, or empty those cells and set "
                       "dataset.fillna=ffill"),
    "beyond_float32": ("date,a,OT\n" + _rows() + "2020-01-01 06:00:00,1e39,1\n", {},
                       "{path}: 1 beyond float32 value (first 1e+39 in column 'a' at row 6) -> "
                       "replace it with a number, or empty that cell and set "
                       "dataset.fillna=ffill"),
    "one_row": ("date,a,OT\n2020-01-01,1,2\n", {},
                "{path} has only 1 data row; a series needs 3 rows to show its frequency, and "
                "seq_len + pred_len rows in each split -> use a longer series"),
    "two_rows": ("date,a,OT\n2020-01-01,1,2\n2020-01-02,1,2\n", {},
                 "{path} has only 2 data rows; a series needs 3 rows to show its frequency, and "
                 "seq_len + pred_len rows in each split -> use a longer series"),
    "two_empty_columns": ("date,a,b,OT\n" + "".join(f"{t},,,{i}\n" for i, t in enumerate(HOURS)),
                          {}, "{path}: columns ['a', 'b'] hold no values (every cell is empty) "
                          "-> leave them out with dataset.columns=[...]"),
    "empty_column_ffill": ("date,a,b,OT\n" + "".join(f"{t},{i},,{i}\n"
                                                      for i, t in enumerate(HOURS)),
                           {"fillna": "ffill"},
                           "{path}: column ['b'] holds no values (every cell is empty) -> leave "
                           "it out with dataset.columns=[...]"),
    "leading_nan_ffill": ("date,a,OT\n" + _rows(blank=(0, "a")), {"fillna": "ffill"},
                          "{path}: column 'a' starts with 1 missing value (until 2020-01-01 "
                          "00:00:00) that ffill cannot fill -> leave it out with "
                          "'dataset.columns=[OT]', or drop that row (keep the rows from "
                          "2020-01-01 01:00:00 on)"),
    "two_leading_nan_ffill": ("date,a,OT\n" + _rows(blank=(0, "a")).replace(
        "01:00:00,1,", "01:00:00,,"), {"fillna": "ffill"},
        "{path}: column 'a' starts with 2 missing values (until 2020-01-01 01:00:00) that "
        "ffill cannot fill -> leave it out with 'dataset.columns=[OT]', or drop those rows "
        "(keep the rows from 2020-01-01 02:00:00 on)"),
    # a column starting late among others: leaving it out, naming the others, keeps their rows
    "late_column_ffill": ("date,a,b,OT\n" + "".join(
        f"{t},{i},{'' if i < 2 else i},{i}\n" for i, t in enumerate(HOURS)), {"fillna": "ffill"},
        "{path}: column 'b' starts with 2 missing values (until 2020-01-01 01:00:00) that "
        "ffill cannot fill -> leave it out with 'dataset.columns=[a,OT]', or drop those rows "
        "(keep the rows from 2020-01-01 02:00:00 on)"),
    "late_column_of_many_ffill": ("date," + ",".join(f"c{j}" for j in range(9)) + ",OT\n" + "".join(
        f"{t},{'' if i < 1 else i}" + f",{i}" * 9 + "\n" for i, t in enumerate(HOURS)),
        {"fillna": "ffill"},
        "{path}: column 'c0' starts with 1 missing value (until 2020-01-01 00:00:00) that "
        "ffill cannot fill -> leave it out with dataset.columns=[...] naming the 9 others, or "
        "drop that row (keep the rows from 2020-01-01 01:00:00 on)"),
    "leading_nan_target_ffill": ("date,a,OT\n" + _rows(blank=(0, "OT")), {"fillna": "ffill"},
                                 "{path}: column 'OT' starts with 1 missing value (until "
                                 "2020-01-01 00:00:00) that ffill cannot fill -> drop that "
                                 "row (keep the rows from 2020-01-01 01:00:00 on)"),
    "missing_covariate": ("date,a,OT\n" + _rows(blank=(2, "a")), {},
                          "{path}: 1 missing value (first in column 'a' at row 2, 2020-01-01 "
                          "02:00:00) -> fill it in the file, or set dataset.fillna=ffill to "
                          "forward-fill it, or leave column 'a' out with dataset.columns=[...]"),
    "two_missing": ("date,a,OT\n" + _rows(blank=(2, "a")).replace("03:00:00,3,", "03:00:00,,"),
                    {}, "{path}: 2 missing values (first in column 'a' at row 2, 2020-01-01 "
                    "02:00:00) -> fill them in the file, or set dataset.fillna=ffill to "
                    "forward-fill them, or leave column 'a' out with dataset.columns=[...]"),
    "missing_target": ("date,a,OT\n" + _rows(blank=(2, "OT")), {},
                       "{path}: 1 missing value (first in column 'OT' at row 2, 2020-01-01 "
                       "02:00:00) -> fill it in the file, or set dataset.fillna=ffill to "
                       "forward-fill it"),
    "future_rows": ("date,a,OT\n" + _rows(blank=(5, "OT")), {},
                    "{path}: the last row of target 'OT' is empty (after 2020-01-01 "
                    "04:00:00): a row without its target cannot be scored, and filling it would "
                    "score an invented value -> drop that row from the file"),
    "two_future_rows": ("date,a,OT\n" + _rows(blank=(5, "OT")).replace(
        "04:00:00,4,1", "04:00:00,4,"), {},
        "{path}: the last 2 rows of target 'OT' are empty (after 2020-01-01 03:00:00): a row "
        "without its target cannot be scored, and filling it would score an invented value "
        "-> drop those rows from the file"),
    "future_rows_ffill": ("date,a,OT\n" + _rows(blank=(5, "OT")), {"fillna": "ffill"},
                          "{path}: the last row of target 'OT' is empty (after 2020-01-01 "
                          "04:00:00): a row without its target cannot be scored, and filling it "
                          "would score an invented value -> drop that row from the file"),
    "freq_mismatch_one_gap": (_hours_without([5]), {"freq": "D"},
                              "dataset.freq: 'D' does not match the timestamps of {path}: their "
                              "frequency is h with 1 missing step -> set dataset.freq=h, or "
                              "null to infer it"),
    "freq_mismatch_two_gaps": (_hours_without([5, 9]), {"freq": "D"},
                               "dataset.freq: 'D' does not match the timestamps of {path}: "
                               "their frequency is h with 2 missing steps -> set "
                               "dataset.freq=h, or null to infer it"),
    "two_text_columns": ("date,a,OT\n" + "".join(f"{t},x,y\n" for t in HOURS), {},
                         "{path}: non-numeric columns ['a', 'OT'] (e.g. 'x' in 'a' at row 0) -> "
                         "no column holds numbers: check the file and its dataset settings"),
    # a target of text or of no value: another target, and the columns without the old one
    # (dataset.columns=[...] alone left out the target; dataset.target alone kept it in)
    "text_target": ("date,a,b,OT\n" + "".join(f"{t},{i},{i % 2},low\n" for i, t in
                                               enumerate(HOURS)), {},
                    "{path}: non-numeric column ['OT'] (e.g. 'low' in 'OT' at row 0) -> the "
                    "target 'OT' must hold numbers: forecast a column that does, e.g. "
                    "dataset.target=b 'dataset.columns=[a,b]'"),
    "text_target_and_column": ("date,a,b,OT\n" + "".join(f"{t},x,{i},low\n" for i, t in
                                                          enumerate(HOURS)),
                               {}, "{path}: non-numeric columns ['a', 'OT'] (e.g. 'x' in 'a' "
                               "at row 0) -> the target 'OT' must hold numbers: forecast a "
                               "column that does, e.g. dataset.target=b 'dataset.columns=[b]'"),
    "empty_target": ("date,a,b,OT\n" + "".join(f"{t},{i},,\n" for i, t in enumerate(HOURS)),
                     {}, "{path}: columns ['b', 'OT'] hold no values (every cell is empty) -> "
                     "the target 'OT' must hold values: forecast a column that does, e.g. "
                     "dataset.target=a 'dataset.columns=[a]'"),
    "every_column_empty": ("date,a,OT\n" + "".join(f"{t},,\n" for t in HOURS), {},
                           "{path}: columns ['a', 'OT'] hold no values (every cell is empty) "
                           "-> no column holds values: check the file and its dataset "
                           "settings"),
    "decimal_commas": ("date;a;OT\n" + _rows(";").replace(";1\n", ";1,5\n"), {"sep": ";"},
                       "{path}: non-numeric column ['OT'] (e.g. '1,5' in 'OT' at row 1) -> "
                       "for decimal commas add \"dataset.decimal=','\" to the command line"),
    "thousands_in_comma_file": ("date,a,OT\n" + _rows().replace(",1\n", ',"1,234"\n'), {},
                                "{path}: non-numeric column ['OT'] (e.g. '1,234' in 'OT' at "
                                "row 1) -> if ',' separates thousands, add "
                                "\"dataset.thousands=','\" to the command line (a decimal comma "
                                "needs a field separator other than ',': save the file "
                                ";-separated, as European CSVs are, and add \"dataset.sep=';'\" "
                                "\"dataset.decimal=','\")"),
    "decimal_comma_in_comma_file": ("date,a,OT\n" + _rows().replace(",1\n", ',"1,5"\n'), {},
                                    "{path}: non-numeric column ['OT'] (e.g. '1,5' in 'OT' at "
                                    "row 1) -> a decimal comma needs a field separator other "
                                    "than ',': save the file ;-separated, as European CSVs are, "
                                    "and add \"dataset.sep=';'\" \"dataset.decimal=','\""),
    "decimal_or_thousands": ("date;a;OT\n" + _rows(";").replace(";1\n", ";1,234\n"),
                             {"sep": ";"},
                             "{path}: non-numeric column ['OT'] (e.g. '1,234' in 'OT' at row "
                             "1) -> for decimal commas add \"dataset.decimal=','\" to the command "
                             "line, or \"dataset.thousands=','\" if ',' separates thousands"),
    "thousands_dots": ("date;a;OT\n" + _rows(";").replace(";1\n", ";1.234,5\n"),
                       {"sep": ";", "decimal": ","},
                       "{path}: non-numeric column ['OT'] (e.g. '1.234,5' in 'OT' at row 1) "
                       "-> for '.' separating thousands add \"dataset.thousands='.'\" to the "
                       "command line"),
    "columns_not_in_file": ("date,a,OT\n" + _rows(), {"columns": ["a", "b", "OT"]},
                            "dataset.columns: ['b'] not in {path}; columns are ['a', 'OT'] -> "
                            "list only columns it has in dataset.columns=[...], or drop "
                            "dataset.columns to read them all"),
    # a misspelt column, and the dates' column, which is no channel
    "columns_misspelt": ("date,a,OT\n" + _rows(), {"columns": ["date", "a", "ot"]},
                         "dataset.columns: ['date', 'ot'] not in {path}; columns are ['a', "
                         "'OT'] -> list only columns it has in dataset.columns=[...], or drop "
                         "dataset.columns to read them all ('date' is dataset.date_col, read as "
                         "the timestamps: leave it out) (did you mean 'OT' for 'ot'?)"),
    "target_misspelt": ("date,a,OT\n" + _rows(), {"target": "ot"},
                        "dataset.target: column 'ot' not found in {path}; columns are ['a', "
                        "'OT'] -> did you mean dataset.target=OT? Else set "
                        "dataset.target=<column to forecast>"),
    # no name spelt near: the columns whose names hold it (case aside), quoted for the shell
    "columns_held_by_names": ("date,Load A,load b,OT\n" + "".join(
        f"{t},{i},{i},{i}\n" for i, t in enumerate(HOURS)), {"columns": ["LOAD", "OT"]},
        "dataset.columns: ['LOAD'] not in {path}; columns are ['Load A', 'load b', 'OT'] -> "
        "list only columns it has in dataset.columns=[...], or drop dataset.columns to read "
        "them all (did you mean 'Load A' or 'load b' for 'LOAD'?)"),
    "target_held_by_names": ("date,Load A,load b,OT\n" + "".join(
        f"{t},{i},{i},{i}\n" for i, t in enumerate(HOURS)), {"target": "load"},
        "dataset.target: column 'load' not found in {path}; columns are ['Load A', 'load b', "
        "'OT'] -> did you mean 'dataset.target=Load A' or 'dataset.target=load b'? Else set "
        "dataset.target=<column to forecast>"),
    # more than four hold it: naming them all would say little
    "target_held_by_many": ("date," + ",".join(f"x{j}" for j in range(5)) + ",OT\n" + "".join(
        f"{t}" + f",{i}" * 6 + "\n" for i, t in enumerate(HOURS)), {"target": "x"},
        "dataset.target: column 'x' not found in {path}; columns are ['x0', 'x1', 'x2', 'x3', "
        "'x4', 'OT'] -> set dataset.target=<column to forecast>"),
    # a misspelt value: the one meant, as for a misspelt key
    "date_col_misspelt": ("Timestamp,a,OT\n" + _rows(),
                          {"date_col": "timestamp"},
                          "dataset.date_col: column 'timestamp' not found in {path}; columns "
                          "are ['Timestamp', 'a', 'OT'] -> did you mean "
                          "dataset.date_col=Timestamp? Else set dataset.date_col=<name of the "
                          "date column>"),
    "fillna_misspelt": ("date,a,OT\n" + _rows(), {"fillna": "ffil"},
                        "dataset.fillna: unknown value 'ffil' -> did you mean "
                        "dataset.fillna=ffill? Else use null or ffill"),
    "gaps_misspelt": ("date,a,OT\n" + _rows(), {"gaps": "keeps"},
                      "dataset.gaps: unknown value 'keeps' -> did you mean dataset.gaps=keep? "
                      "Else use one of ('missing', 'keep')"),
    "decimal_is_separator": ("date,a,OT\n" + _rows(), {"decimal": ","},
                             "dataset.decimal: must be one character other than the separator "
                             "',', got ',' -> use '.', and for decimal commas a file separated "
                             "by ';' with \"dataset.sep=';'\""),
    "thousands_is_decimal": ("date,a,OT\n" + _rows(), {"thousands": "."},
                             "dataset.thousands: must be one character other than the decimal "
                             "mark '.', got '.' -> use ',', or null for none"),
    "semicolons_and_decimal_commas": (
        "date;a;OT\n" + _rows(";").replace(";1\n", ";1,5\n"), {},
        "dataset.sep: {path} reads as one column named 'date;a;OT'; its fields look separated "
        "by ';', not ',' -> add \"dataset.sep=';'\" \"dataset.decimal=','\" (its numbers have "
        "decimal commas) to the command line"),
    "semicolons_and_decimal_commas_in_every_row": (  # pandas: one column, the rest its index
        "date;a;OT\n" + "".join(f"{h};{i},5;0\n" for i, h in enumerate(HOURS)), {},
        "dataset.sep: {path} reads as one column named 'date;a;OT'; its fields look separated "
        "by ';', not ',' -> add \"dataset.sep=';'\" \"dataset.decimal=','\" (its numbers have "
        "decimal commas) to the command line"),
    "semicolons_and_decimal_commas_of_three_digits": (  # 0,500: no thousand starts with 0
        "date;a;OT\n" + _rows(";").replace(";1\n", ";0,500\n"), {},
        "dataset.sep: {path} reads as one column named 'date;a;OT'; its fields look separated "
        "by ';', not ',' -> add \"dataset.sep=';'\" \"dataset.decimal=','\" (its numbers have "
        "decimal commas) to the command line"),
    "semicolons_and_thousands_or_decimals": (  # 1,234 reads either way: only the separator
        "date;a;OT\n" + _rows(";").replace(";1\n", ";1,234\n"), {},
        "dataset.sep: {path} reads as one column named 'date;a;OT'; its fields look separated "
        "by ';', not ',' -> add \"dataset.sep=';'\" to the command line"),
    "tabs": ("date\ta\tOT\n" + _rows("\t"), {},
             "dataset.sep: {path} reads as one column named 'date\\ta\\tOT'; its fields look "
             "separated by '\\t', not ',' -> add \"dataset.sep='\\t'\" to the command line"),
    # the default separator, with dataset.sep set to another: not the date column's fault
    "commas_read_at_tabs": ("date,a,OT\n" + _rows(), {"sep": "\\t"},
                            "dataset.sep: {path} reads as one column named 'date,a,OT'; its "
                            "fields look separated by ',', not '\\t' -> add "
                            "\"dataset.sep=','\" to the command line"),
    "commas_read_at_semicolons": ("date,a,OT\n" + _rows(), {"sep": ";"},
                                  "dataset.sep: {path} reads as one column named 'date,a,OT'; "
                                  "its fields look separated by ',', not ';' -> add "
                                  "\"dataset.sep=','\" to the command line"),
    "irregular": ("date,OT\n" + "".join(f"2020-01-01 {h:02d}:00:00,1\n" for h in (0, 1, 3, 7, 8)),
                  {}, "{path}: the timestamps have no regular frequency (irregular: most steps "
                  "are h, but row 2 (2020-01-01 03:00:00) comes 2h after the row before) -> "
                  "resample the file to one frequency, or set dataset.freq if the rows lie on "
                  "one with gaps (at most as many missing steps as rows)"),
    "freq_banana": ("date,a,OT\n" + _rows(), {"freq": "banana"},
                    "dataset.freq: 'banana' is not a pandas frequency alias -> use one such as h, "
                    "15min, D, B, W-SUN, MS, ME, QE, YS, or null to infer it from the timestamps"),
    "freq_outdated": ("date,a,OT\n" + _rows(), {"freq": "M"},
                      "dataset.freq: 'M' is not a pandas frequency alias (Please use 'ME' "
                      "instead) -> use one such as h, 15min, D, B, W-SUN, MS, ME, QE, YS, or "
                      "null to infer it from the timestamps"),
    "bad_date_unit": ("date,a,OT\n1,2,3\n2,3,4\n3,4,5\n", {"date_unit": "days"},
                      "dataset.date_unit: unknown unit 'days' -> use one of ('s', 'ms', 'us', "
                      "'ns'), or null for date strings"),
    "years_as_numbers": ("date,OT\n1990,1\n1991,2\n1992,3\n", {},
                         "dataset.date_unit: column 'date' of {path} holds numbers (first 1990), "
                         "not dates -> set dataset.date_unit to s, ms, us or ns if they count "
                         "time since 1970-01-01, or write years as dates (1990 -> 1990-01-01)"),
    "yyyymmdd_numbers": ("day,OT\n20220131,1\n20220201,2\n20220202,3\n", {"date_col": "day"},
                         "dataset.date_format: column 'day' of {path} holds numbers (first "
                         "20220131) that read as dates written YYYYMMDD -> set "
                         "\"dataset.date_format='%Y%m%d'\" if they are such dates, or "
                         "dataset.date_unit to s, ms, us or ns if they count time since "
                         "1970-01-01"),
    "no_yyyymmdd_numbers": ("date,OT\n20220131,1\n20220132,2\n20220133,3\n", {},
                            "dataset.date_unit: column 'date' of {path} holds numbers (first "
                            "20220131), not dates -> set dataset.date_unit to s, ms, us or ns "
                            "if they count time since 1970-01-01"),
    "date_format_and_unit": ("date,OT\n20220131,1\n20220201,2\n20220202,3\n",
                             {"date_format": "%Y%m%d", "date_unit": "s"},
                             "dataset.date_format: '%Y%m%d' is for date strings, but "
                             "dataset.date_unit=s reads epoch numbers -> set one of them to null"),
    "bad_date_format": ("date,a,OT\n" + _rows(), {"date_format": "%Q"},
                        "dataset.date_format: '%Q': 'Q' is a bad directive in format '%Q' -> "
                        "use strptime codes, e.g. '%Y%m%d' for 20240131"),
    "dates_not_in_date_format": ("date,OT\n20220131,1\n2022-02-01,2\n20220202,3\n",
                                 {"date_format": "%Y%m%d"},
                                 "dataset.date_col: 1 value of column 'date' in {path} is not "
                                 "a date (first at row 1: '2022-02-01') -> fix or drop that row, "
                                 "or check dataset.date_format='%Y%m%d'"),
    "no_dates": ("date,a,OT\n" + "abc,1,2\n" * 600, {},
                 "dataset.date_col: none of the 600 values of column 'date' in {path} are dates "
                 "(first 'abc') -> set dataset.date_col to the column that holds the dates, or "
                 "fix column 'date'"),
    "no_epoch_numbers": ("date,a,OT\n" + "abc,1,2\n" * 5, {"date_unit": "s"},
                         "dataset.date_col: none of the 5 values of column 'date' in {path} are "
                         "epoch numbers (first 'abc') -> set dataset.date_col to the column that "
                         "holds the epoch numbers, or fix column 'date', or set "
                         "dataset.date_unit=null for date strings"),
    "some_bad_dates": ("date,a,OT\n" + _rows() + "abc,1,2\n", {},
                       "dataset.date_col: 1 value of column 'date' in {path} is not a date "
                       "(first at row 6: 'abc') -> fix or drop that row"),
    "two_bad_dates": ("date,a,OT\n" + _rows() + "abc,1,2\nxyz,1,2\n", {},
                      "dataset.date_col: 2 values of column 'date' in {path} are not dates "
                      "(first at row 6: 'abc') -> fix or drop those rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", ["text_target", "text_target_and_column", "empty_target"])
def test_the_other_target_a_bad_targets_fix_names_reads_the_file(case: str,
                                                                   tmp_path: Path) -> None:
    """The overrides the fix names, as the shell and Hydra read them, load the file (each
    alone did not: the next refusal followed)."""
    path = tmp_path / "data.csv"
    path.write_text(CASES[case][0])
    with pytest.raises(TsbenchError) as caught:
        load_series(csv_config(path))
    said = pickle.loads(pickle.dumps(caught.value))  # as a launcher's worker sends it back
    assert str(said) == str(caught.value)
    overrides = OverridesParser.create().parse_overrides(shlex.split(
        str(said).partition(", e.g. ")[2]))
    fields = {o.key_or_group.removeprefix("dataset."): o.value() for o in overrides}
    assert set(fields) == {"target", "columns"}
    series = load_series(csv_config(path, **fields))
    assert series.columns[-1] == fields["target"] and "OT" not in series.columns


@pytest.mark.parametrize("case", sorted(CASES))
def test_message(case: str, tmp_path: Path) -> None:
    text, fields, message = CASES[case]
    path = tmp_path / "data.csv"
    path.write_text(text)
    cfg = csv_config(path)
    for key, value in fields.items():
        cfg[key] = value
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    assert str(caught.value) == message.format(path=path)


@pytest.mark.parametrize("value, said", [
    ("ms", "features: unknown value 'ms' -> did you mean features=MS? Else use M, S or MS"),
    ("X", "features: unknown value 'X' -> use M, S or MS"),
])
def test_a_misspelt_features_names_the_one_meant(value: str, said: str) -> None:
    with pytest.raises(TsbenchError) as caught:
        check_features(value)
    assert str(caught.value) == said


@pytest.mark.parametrize("name, meant", [("loads.csv", "load.csv"), ("other.csv", None)])
def test_a_misspelt_file_names_the_file_of_its_folder_meant(name: str, meant: str | None,
                                                            tmp_path: Path) -> None:
    (tmp_path / "load.csv").write_text("date,a,OT\n" + _rows())
    with pytest.raises(TsbenchError) as caught:
        load_series(csv_config(tmp_path / name))
    guess = f"did you mean dataset.path={tmp_path / meant}? Else " if meant else ""
    assert str(caught.value) == (f"dataset.path: file {tmp_path / name} does not exist -> "
                                 f"{guess}check the path")


@pytest.mark.parametrize("sep, decimal, thousands, cell, value", [
    (",", ".", ",", '"1,234"', 1234.0),
    (",", ".", ",", '"12,345.5"', 12345.5),
    (";", ",", ".", "1.234,5", 1234.5),
])
def test_thousands_separators_read_as_said(sep: str, decimal: str, thousands: str, cell: str,
                                           value: float, tmp_path: Path) -> None:
    """``dataset.thousands`` reads a quoted '1,234' of a comma-separated file, or '1.234,5'
    beside decimal commas, as the number it writes."""
    path = tmp_path / "data.csv"
    path.write_text(f"date{sep}a{sep}OT\n" + _rows(sep).replace(f"{sep}1\n", f"{sep}{cell}\n"))
    cfg = csv_config(path, sep=sep, decimal=decimal, thousands=thousands)
    assert load_series(cfg).values[:, -1].tolist() == [0, value, 2, 0, value, 2]


def test_dates_written_yyyymmdd_read_with_their_format(tmp_path: Path) -> None:
    """20220131 with ``dataset.date_format='%Y%m%d'`` is 31 January 2022, not a count of
    seconds since 1970."""
    path = tmp_path / "data.csv"
    path.write_text("day,OT\n20220130,1\n20220131,2\n20220201,3\n20220202,4\n")
    cfg = csv_config(path, date_col="day", date_format="%Y%m%d")
    series = load_series(cfg)
    assert list(series.dates) == list(pd.date_range("2022-01-30", periods=4, freq="D"))
    assert series.freq == "D"


def test_dates_of_no_one_inferable_format_read_without_a_warning(tmp_path: Path) -> None:
    """pandas infers no format for 01/31/22 and warns that it parses each value alone: the
    dates, month-first, and no warning (with loading.py's path) for the user."""
    stamps = pd.date_range("2022-01-30", periods=5, freq="D")
    path = tmp_path / "data.csv"
    cfg = csv_config(path)
    # and 31.01.2022, which pandas reads day-first though dayfirst was not given, warning so
    for written in ("%m/%d/%y", "%d.%m.%Y"):
        pd.DataFrame({"date": stamps.strftime(written), "OT": range(5)}).to_csv(path,
                                                                                index=False)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            assert list(load_series(cfg).dates) == list(stamps), written
        assert [str(w.message) for w in said] == [], written


def test_monthly_day_first_dates_are_named_at_their_frequency(tmp_path: Path) -> None:
    """01.02.2000 ... hold no day past 12: read month-first (as 2 January) they passed the
    day-first check, and the frequency error that followed did not name dataset.dayfirst."""
    stamps = pd.date_range("2000-01-01", periods=40, freq="MS")
    path = tmp_path / "monthly.csv"
    pd.DataFrame({"date": stamps.strftime("%d.%m.%Y"), "OT": range(40)}).to_csv(path,
                                                                                index=False)
    cfg = csv_config(path)
    with pytest.raises(TsbenchError) as refused:
        load_series(cfg)
    assert str(refused.value) == (
        f"dataset.dayfirst: the dates of column 'date' in {path} read month-first (01.02.2000 "
        "as 2000-01-02) have no regular frequency, day-first they are MS -> set "
        "dataset.dayfirst=true if they are written day-first")
    cfg.dayfirst = True
    assert list(load_series(cfg).dates) == list(stamps)
    # irregular local times across a change of offset, which pandas cannot read day-first:
    # the frequency's own error, not the day-first reading's traceback
    base = pd.Timestamp("2024-03-29", tz="Europe/Berlin")
    local = pd.DatetimeIndex([base + pd.Timedelta(hours=int(h))
                              for h in itertools.accumulate([0] + [1, 7, 3] * 20)])
    pd.DataFrame({"date": local.strftime("%Y-%m-%d %H:%M:%S%z"), "OT": range(len(local))}
                 ).to_csv(path, index=False)
    cfg.dayfirst = False
    with pytest.raises(TsbenchError, match="the timestamps have no regular frequency"):
        load_series(cfg)


def test_day_first_dates_are_named_and_read_when_said(tmp_path: Path) -> None:
    """01/01 to 12/01 parse month-first too (as 1 January to 1 December): the file is refused
    at its first 13th day, not read with those dates, and reads right with dayfirst."""
    stamps = pd.date_range("2024-01-01", periods=24 * 14, freq="h")
    path = tmp_path / "data.csv"
    pd.DataFrame({"date": stamps.strftime("%d/%m/%Y %H:%M"), "OT": range(len(stamps))}
                 ).to_csv(path, index=False)
    cfg = csv_config(path)
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    assert str(caught.value) == (
        f"dataset.dayfirst: column 'date' in {path} holds day-first dates (row 288: "
        "'13/01/2024 00:00'), read month-first until then -> set dataset.dayfirst=true")
    cfg.dayfirst = True
    assert list(load_series(cfg).dates) == list(stamps)


def test_local_times_across_daylight_saving_read_as_their_instants_in_utc(tmp_path: Path
                                                                          ) -> None:
    """Berlin's offset moves from +01:00 to +02:00 on 31 March: the instants, hourly in UTC
    (pandas refuses offsets that change unless told to convert them)."""
    instants = pd.date_range("2024-03-29", periods=24 * 5, freq="h", tz="UTC")
    local = instants.tz_convert("Europe/Berlin")
    assert len({stamp.utcoffset() for stamp in local}) == 2
    path = tmp_path / "data.csv"
    pd.DataFrame({"date": local.strftime("%Y-%m-%d %H:%M:%S%z"), "OT": range(len(local))}
                 ).to_csv(path, index=False)
    cfg = csv_config(path)
    series = load_series(cfg)
    assert list(series.dates) == list(instants)
    assert (series.freq, series.changing_offsets) == ("h", "utc")
    pd.DataFrame({"date": [stamp.isoformat() for stamp in instants.tz_convert("Asia/Tokyo")],
                  "OT": range(len(local))}).to_csv(path, index=False)
    assert load_series(cfg).changing_offsets is None  # one offset throughout


def _written_with_offsets(local: pd.DatetimeIndex, path: Path) -> Path:
    """``local`` (zone-aware) written ISO style with each time's offset, one value a row."""
    pd.DataFrame({"date": [stamp.isoformat() for stamp in local], "OT": range(len(local))}
                 ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("freq", ["D", "MS"])
def test_daily_local_midnights_across_daylight_saving_read_on_their_local_calendar(
        freq: str, tmp_path: Path) -> None:
    """Berlin's midnights from March to November: 2021-03-28T00:00:00+02:00 follows
    2021-03-27T00:00:00+01:00, 23 h later in UTC (25 h in October), so in UTC the series is
    irregular; on its local calendar it is daily (monthly), read so, and the series says
    which reading it took."""
    local = pd.date_range("2021-03-01", "2021-11-30", freq=freq, tz="Europe/Berlin")
    assert len({stamp.utcoffset() for stamp in local}) == 2
    cfg = csv_config(_written_with_offsets(local, tmp_path / "data.csv"))
    series = load_series(cfg)
    assert list(series.dates) == list(local.tz_localize(None))
    assert (series.freq, series.changing_offsets) == (freq, "local")
    cfg.freq = freq  # the frequency given describes them too
    assert list(load_series(cfg).dates) == list(local.tz_localize(None))


#: How exports write a zone-aware time (Berlin's, or London's for ``Z``), each read by pandas.
OFFSET_WRITINGS = {
    "postgres": lambda t: t.strftime("%Y-%m-%d %H:%M:%S%z")[:-2],  # +02
    "no_colon": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S%z"),  # +0200
    "iso_basic": lambda t: t.strftime("%Y%m%dT%H%M%S%z"),
    "space_before": lambda t: t.strftime("%Y-%m-%d %H:%M %z"),
    "ctime": lambda t: t.strftime("%a %b %d %H:%M:%S %z %Y"),  # the offset before the year
    "javascript": lambda t: t.strftime("%a %b %d %Y %H:%M:%S GMT%z"),
    "z": lambda t: t.tz_convert("Europe/London").isoformat().replace("+00:00", "Z"),
}


@pytest.mark.parametrize("writing", OFFSET_WRITINGS)
def test_local_midnights_read_on_their_calendar_however_the_offset_is_written(
        writing: str, tmp_path: Path) -> None:
    """The local calendar of daily data across daylight saving is read from the offsets as
    real exports write them: in hours alone (PostgreSQL), without a colon, after a space,
    before a ctime year, after GMT, or as Z, not only as +hh:mm at the end."""
    local = pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/Berlin")
    if writing == "z":
        local = pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/London")
    path = tmp_path / "data.csv"
    pd.DataFrame({"date": [OFFSET_WRITINGS[writing](t) for t in local], "OT": range(20)}
                 ).to_csv(path, index=False)
    series = load_series(csv_config(path))
    assert list(series.dates) == list(local.tz_localize(None))
    assert (series.freq, series.changing_offsets) == ("D", "local")


@pytest.mark.parametrize("written, said", [
    ("2024-03-31 {h}:00:00 GMT+2", "UTC offsets as GMT+h, which pandas reads the POSIX way "
     "round (GMT+2 as UTC-02:00) (row 0: '2024-03-31 02:00:00 GMT+2') -> write them as "
     "+hh:mm (+02:00 for GMT+2)"),
    ("1850-01-01T{h}:00:00+00:53:28", "UTC offsets with seconds, which pandas cannot read (row "
     "0: '1850-01-01T02:00:00+00:53:28') -> write the offsets in hours and minutes (+00:53), "
     "or the times in UTC"),
    ("2024-03-31T{h}:00:00+02:00[Europe/Berlin]", "a time zone's name in brackets, which "
     "pandas cannot read (row 0: '2024-03-31T02:00:00+02:00[Europe/Berlin]') -> remove the "
     "names in brackets, keeping the UTC offsets (+02:00)"),
    ("Sun Mar 31 2024 {h}:00:00 GMT+0200 (Central European Summer Time)", "a time zone's name "
     "in brackets, which pandas cannot read (row 0: 'Sun Mar 31 2024 02:00:00 GMT+0200 "
     "(Central European Summer Time)') -> remove the names in brackets, keeping the UTC "
     "offsets (+02:00)"),
    ("2024-03-31 {h}:00:00 CEST", "time zones as abbreviations, which pandas cannot read (row "
     "0: '2024-03-31 02:00:00 CEST') -> write UTC offsets (+02:00) instead: an abbreviation "
     "may name several zones (CST: US Central or China)"),
], ids=["gmt_plus_hours", "seconds", "brackets", "javascript_name", "abbreviation"])
def test_zones_pandas_misreads_or_cannot_read_are_named_with_the_fix(
        written: str, said: str, tmp_path: Path) -> None:
    """Hourly rows (``written`` at hours 02 to 05) whose zone is written so that pandas
    reads it hours off (GMT+2 as UTC-02:00) or not at all: one error naming the column,
    the value and the writing that reads, not a wrong series or the message for a column
    of no dates."""
    path = tmp_path / "data.csv"
    pd.DataFrame({"date": [written.format(h=f"{hour:02d}") for hour in range(2, 6)],
                  "OT": range(4)}).to_csv(path, index=False)
    with pytest.raises(TsbenchError) as caught:
        load_series(csv_config(path))
    assert str(caught.value) == f"{path}: column 'date' writes {said}"


def test_a_skipped_local_day_is_a_missing_day(tmp_path: Path) -> None:
    """On the local calendar a skipped day is a gap of the daily series, refused as one
    (and filled with dataset.fillna=ffill), not an irregular series."""
    local = pd.date_range("2021-10-20", periods=20, freq="D", tz="Europe/Berlin").delete(12)
    cfg = csv_config(_written_with_offsets(local, tmp_path / "data.csv"))
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    assert "1 step of its frequency D is missing (the first gap follows row 11, " \
           "2021-10-31 00:00:00, whose next row is 2021-11-02 00:00:00) -> add that row, or " \
           "set dataset.fillna=ffill to forward-fill it on a regular D index" in str(caught.value)
    cfg.fillna = "ffill"
    series = load_series(cfg)
    assert len(series.dates) == 20 and series.changing_offsets == "local"


@pytest.mark.parametrize("local", [
    # every 6 hours of local time: across the change one step is 5 real hours
    pd.date_range("2021-03-25", periods=40, freq="6h").tz_localize("Europe/Berlin"),
    # local midnights with one step of two days among days
    pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/Berlin").delete(
        [5, 7, 9, 11, 13]).insert(5, pd.Timestamp("2021-03-25 12:00", tz="Europe/Berlin")),
], ids=["six_hourly", "irregular_days"])
def test_offsets_irregular_in_utc_and_not_daily_locally_are_refused(
        local: pd.DatetimeIndex, tmp_path: Path) -> None:
    """A series regular only on a sub-daily local clock, or regular on neither, keeps the
    UTC reading and its refusal."""
    path = _written_with_offsets(local, tmp_path / "data.csv")
    with pytest.raises(TsbenchError) as caught:
        load_series(csv_config(path))
    assert str(caught.value).startswith(
        f"{path}: the timestamps have no regular frequency (irregular: ")


def test_the_cells_ffill_filled_are_marked(tmp_path: Path) -> None:
    """An empty cell and a skipped row (every cell of it), and nothing else."""
    stamps = [str(t) for i, t in enumerate(HOURS) if i != 3]
    path = tmp_path / "data.csv"
    path.write_text("date,a,OT\n" + "".join(
        f"{t},{'' if i == 1 else i},{i}\n" for i, t in enumerate(stamps)))
    cfg = csv_config(path, fillna="ffill")
    series = load_series(cfg)
    assert series.filled is not None
    assert series.filled.tolist() == [[False, False], [True, False], [False, False],
                                      [True, True], [False, False], [False, False]]
    assert series.values[3].tolist() == series.values[2].tolist()
    cfg.path = str(tmp_path / "full.csv")
    Path(cfg.path).write_text("date,a,OT\n" + _rows())
    assert load_series(cfg).filled is None


def daylight_saving_fix(change: str, other: str) -> str:
    """The fix said for local times repeating or skipping an hour: their UTC offsets first,
    ``other`` for times that are not local."""
    return (f"if these are local times (the clock {change} that hour at a daylight-saving "
            "change), write each time with its UTC offset, e.g. 2024-10-27 02:00:00+02:00, "
            f"which tsbench reads as an instant in UTC; else {other}")


@pytest.mark.parametrize("start, said", [
    ("2024-10-26 22:00", "1 duplicate timestamp (first 2024-10-27 02:00:00 at rows 2 and 3) -> "
     + daylight_saving_fix("repeated", "keep one row per timestamp (e.g. aggregate "
                                       "duplicates)")),
    ("2024-03-30 22:00", "1 step of its frequency h is missing (the first gap follows row "
     "2, 2024-03-31 01:00:00, whose next row is 2024-03-31 03:00:00) -> " + daylight_saving_fix(
         "skipped", "add that row, or set dataset.fillna=ffill to forward-fill it on a "
                    "regular h index")),
])
def test_local_times_without_offsets_at_a_daylight_saving_change_say_so(
        start: str, said: str, tmp_path: Path) -> None:
    """Berlin's hourly local times written without offsets repeat 02:00 in October and skip
    it in March: their offsets are the fix (not aggregating two hours into one), said first;
    a gap or duplicate elsewhere, or in the day in October, or of a daily series, gets no
    such fix."""
    local = pd.date_range(start, periods=10, freq="h", tz="UTC").tz_convert("Europe/Berlin")
    path = tmp_path / "data.csv"
    pd.DataFrame({"date": local.tz_localize(None), "OT": range(10)}).to_csv(path, index=False)
    cfg = csv_config(path)
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    assert str(caught.value) == f"{path}: {said}"
    winter = pd.date_range("2024-01-10", periods=10, freq="h").delete(4)
    pd.DataFrame({"date": winter, "OT": range(9)}).to_csv(path, index=False)
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    assert "1 step of its frequency h is missing" in str(caught.value)
    assert "daylight" not in str(caught.value)
    afternoon = pd.date_range("2023-10-19 12:00", periods=10, freq="h")
    daily = pd.date_range("2023-10-15", periods=10, freq="D")
    for dates in (afternoon.insert(7, afternoon[6]), daily.insert(5, daily[4])):
        pd.DataFrame({"date": dates, "OT": range(11)}).to_csv(path, index=False)
        with pytest.raises(TsbenchError) as caught:
            load_series(cfg)
        assert "1 duplicate timestamp " in str(caught.value)
        assert "daylight" not in str(caught.value)


def test_a_long_file_is_told_to_pivot_not_to_aggregate(tmp_path: Path) -> None:
    """A long file (one row per site and timestamp) repeats each timestamp once per site:
    aggregating its duplicates would add the sites together, so the advice is to pivot on
    the column that tells them apart. Duplicates no text column separates keep the old
    advice."""
    stamps = pd.date_range("2024-01-01", periods=8, freq="h")
    long = pd.DataFrame({"timestamp": stamps.repeat(3), "region": "north",
                         "site": ["a", "b", "c"] * 8, "load_mw": range(24),
                         "temp_c": [float(i) for i in range(24)]})
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    cfg = csv_config(path, date_col="timestamp", target="load_mw")
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    said = str(caught.value)
    assert "16 duplicate timestamps" in said
    assert "looks long (one row per site and timestamp)" in said
    assert ("df.pivot(index='timestamp', columns='site', values='load_mw')" in said
            and "aggregate" not in said)
    long.assign(site="a").to_csv(path, index=False)  # the same rows, no site to pivot on
    with pytest.raises(TsbenchError) as caught:
        load_series(cfg)
    assert "aggregate duplicates" in str(caught.value) and "pivot" not in str(caught.value)


def _long_sites(sites: list[Any]) -> pd.DataFrame:
    """A long file: one row per site and each of 8 hourly timestamps, site column
    ``site_id`` and a measurement ``load_mw`` (a different number in every row)."""
    times = pd.date_range("2024-01-01", periods=8, freq="h").repeat(len(sites))
    return pd.DataFrame({"timestamp": times, "site_id": sites * 8,
                         "load_mw": [float(i) for i in range(len(times))]})


def _refusal(frame: pd.DataFrame, path: Path, **fields: Any) -> str:
    frame.to_csv(path, index=False)
    with pytest.raises(TsbenchError) as caught:
        load_series(csv_config(path, date_col="timestamp", target="load_mw", **fields))
    return str(caught.value)


@pytest.mark.parametrize("sites", [[101, 102, 103], [101.0, 102.0, 103.0]])
def test_a_long_file_keyed_by_numeric_site_ids_is_told_to_pivot(sites: list[float],
                                                                tmp_path: Path) -> None:
    """Site ids 101, 102, 103 (as integers, or whole floats) repeated at every timestamp
    name the series as a site name does; so they do where a site misses a timestamp, whose
    cell the pivot leaves empty, for dataset.fillna=ffill."""
    pivot = ("looks long (one row per site_id and timestamp)", "df.pivot(index='timestamp', "
             "columns='site_id', values='load_mw')")
    said = _refusal(_long_sites(sites), tmp_path / "long.csv")
    assert "16 duplicate timestamps" in said and all(part in said for part in pivot)
    assert "aggregate" not in said
    ragged = _long_sites(sites).drop(index=[4])  # site 102 misses 01:00
    said = _refusal(ragged, tmp_path / "long.csv")
    assert "15 duplicate timestamps" in said and all(part in said for part in pivot)
    assert said.endswith("(not every site_id has a row at every timestamp: the pivot leaves 1 "
                         "cell empty, to fill in the file or forward-fill with "
                         "dataset.fillna=ffill)")


@pytest.mark.parametrize("frame, fields", [
    # a count, distinct at each timestamp, repeating across them, but with new values as
    # time goes on (t, t + 1, t + 2 at the t-th hour)
    (_long_sites([1, 2, 3]).drop(columns="site_id").assign(
        visitors=[i // 3 + i % 3 for i in range(24)]), {}),
    # a measurement whose 1, 2, 3 look like ids, named by the user as a channel
    (_long_sites([1, 2, 3]).rename(columns={"site_id": "level"}),
     {"columns": ["level", "load_mw"]}),
    # not whole numbers
    (_long_sites([1.5, 2.5, 3.5]), {}),
    # a wide file with one duplicated row, whose 0/1 holiday flag differs
    (pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=8, freq="h").insert(
        3, pd.Timestamp("2024-01-01 02:00")), "holiday": [0, 0, 0, 1, 0, 0, 0, 0, 0],
        "load_mw": range(9)}), {}),
], ids=["count", "named_channel", "fractions", "stray_duplicate"])
def test_a_numeric_measurement_is_not_taken_for_a_site_id(frame: pd.DataFrame,
                                                          fields: dict[str, Any],
                                                          tmp_path: Path) -> None:
    """Numeric columns that tell a timestamp's rows apart but are, or may be, measurements
    keep the old advice: pivoting on them would make a column of every value."""
    said = _refusal(frame, tmp_path / "data.csv", **fields)
    assert "aggregate duplicates" in said and "pivot" not in said


def _wide_with_a_duplicated_row(text: list[str]) -> pd.DataFrame:
    """A wide hourly file of 12 rows whose 04:00 is written twice (rows 4 and 5), with a
    text column ``text`` beside its measurement."""
    hours = pd.date_range("2024-01-01", periods=11, freq="h")
    return pd.DataFrame({"timestamp": hours.insert(5, hours[4]), "note": text,
                         "load_mw": [float(i) for i in range(12)]})


@pytest.mark.parametrize("text", [
    [""] * 5 + ["recount"] + [""] * 6,  # a free-text note, empty in most rows
    ["ok"] * 5 + ["recount"] + ["ok"] * 6,  # a note in every row, one of them once
    ["ok", "fault", "ok", "ok", "ok", "fault", "ok", "fault", "ok", "ok", "fault", "ok"],
], ids=["sparse_note", "full_note", "status_flag"])
def test_a_wide_file_with_a_duplicated_row_and_a_text_column_is_told_of_the_rows(
        text: list[str], tmp_path: Path) -> None:
    """One timestamp written twice in a wide file whose text column differs between the two
    rows is a duplicate, named by its rows, not a long file keyed by that text: pivoting
    on a note or a status would make a column of each."""
    path = tmp_path / "wide.csv"
    said = _refusal(_wide_with_a_duplicated_row(text), path)
    assert said == (f"{path}: 1 duplicate timestamp (first 2024-01-01 04:00:00 at rows 4 "
                    "and 5) -> keep one row per timestamp (e.g. aggregate duplicates)")


def _staggered(layout: str) -> pd.DataFrame:
    """Long files whose sites do not all report at every timestamp: ``late_start``, hourly
    site a from 00:00 and b from 60 hours later (their 40 common hours 80 of the 200 rows),
    sorted by time; ``weekdays``, daily site a on Mondays and Wednesdays, b on Tuesdays and
    Thursdays, c every day, sorted by time (no timestamp has all three); ``by_site``, a and
    b of ``weekdays`` alone (no timestamp shared), sorted by site."""
    if layout == "late_start":
        sites = {"a": pd.date_range("2024-01-01", periods=100, freq="h"),
                 "b": pd.date_range("2024-01-03 12:00", periods=100, freq="h")}
    else:
        days = pd.date_range("2024-01-01", periods=28, freq="D")  # a Monday
        sites = {"a": days[days.day_of_week.isin([0, 2])],
                 "b": days[days.day_of_week.isin([1, 3])], "c": days}
    long = pd.concat([pd.DataFrame({"timestamp": stamps, "site": site})
                      for site, stamps in sites.items()])
    if layout == "by_site":
        long = long[long["site"] != "c"]
    else:
        long = long.sort_values(["timestamp", "site"], kind="stable")
    return long.assign(load_mw=[float(i) for i in range(len(long))])


def _pivot_advice(key: str, empty: int) -> str:
    """The advice to a long file whose sites are staggered, one starting late."""
    return (f"the file looks long (one row per {key} and timestamp), but tsbench reads wide "
            "files (one row per timestamp, one column per series) -> pivot it to one column "
            f"per {key} value, forward-fill it and drop the rows before every {key} has a "
            f"value, e.g. df.pivot(index='timestamp', columns='{key}', "
            f"values='load_mw').ffill().dropna(), and save that (not every {key} has a row "
            f"at every timestamp: the pivot leaves {empty} cells empty, and a {key}'s "
            "cells before its first row cannot be forward-filled)")


@pytest.mark.parametrize("layout, ids, said", [
    ("late_start", False, "40 duplicate timestamps (first 2024-01-03 12:00:00 at rows 60 "
                          "and 61)"),
    ("late_start", True, "40 duplicate timestamps (first 2024-01-03 12:00:00 at rows 60 "
                         "and 61)"),
    ("weekdays", False, "16 duplicate timestamps (first 2024-01-01 00:00:00 at rows 0 "
                        "and 1)"),
    ("weekdays", True, "16 duplicate timestamps (first 2024-01-01 00:00:00 at rows 0 and "
                       "1)"),
    ("by_site", False, "timestamps are not sorted (row 8, 2024-01-02 00:00:00, comes before "
                       "row 7, 2024-01-24 00:00:00)"),
    ("by_site", True, "timestamps are not sorted (row 8, 2024-01-02 00:00:00, comes before "
                      "row 7, 2024-01-24 00:00:00)"),
])
def test_a_staggered_long_file_is_told_to_pivot_and_fill(layout: str, ids: bool, said: str,
                                                         tmp_path: Path) -> None:
    """Sites that start at different dates, or report on different days, make a long file
    with few or no shared timestamps; keyed by site names or by site ids, it is told to
    pivot (not to aggregate its duplicates or sort its rows, which would mix the sites),
    and to fill the cells the pivot leaves empty. Done so, the file reads."""
    long = _staggered(layout)
    key = "site_id" if ids else "site"
    if ids:
        long = long.assign(site=long["site"].map({"a": 101, "b": 102, "c": 103}))
    long = long.rename(columns={"site": key})
    path = tmp_path / "long.csv"
    empty = long["timestamp"].nunique() * long[key].nunique() - len(long)
    assert _refusal(long, path) == f"{path}: {said}: {_pivot_advice(key, empty)}"
    wide = long.pivot(index="timestamp", columns=key, values="load_mw").ffill().dropna()
    wide.columns = [f"load_{site}" for site in wide.columns]
    wide.rename(columns={wide.columns[-1]: "load_mw"}).to_csv(path)
    cfg = csv_config(path, date_col="timestamp", target="load_mw")
    if layout == "by_site":  # Mondays to Thursdays: the weekends are skipped steps
        cfg.fillna = "ffill"
    assert load_series(cfg).values.shape[1] == long[key].nunique()


def test_exports_appended_out_of_order_are_told_to_sort(tmp_path: Path) -> None:
    """Two yearly exports of one series appended 2024 first, each row labelled with its
    file: the rows are sorted by that label, then time, but the years do not overlap, so
    the label names no series and the file is to be sorted, not pivoted."""
    years = [pd.date_range(f"{year}-01-01", periods=10, freq="D") for year in (2024, 2023)]
    appended = pd.DataFrame({"timestamp": years[0].append(years[1]),
                             "file": ["2024.csv"] * 10 + ["2023.csv"] * 10,
                             "load_mw": [float(i) for i in range(20)]})
    path = tmp_path / "appended.csv"
    assert _refusal(appended, path) == (
        f"{path}: timestamps are not sorted (row 10, 2023-01-01 00:00:00, comes before row 9, "
        "2024-01-10 00:00:00) -> sort the file by its date column")


def test_sites_that_never_share_a_timestamp_are_named_beside_the_text_column(
        tmp_path: Path) -> None:
    """Site a on Mondays and Wednesdays, b on Tuesdays and Thursdays, sorted by time: no
    timestamp twice, none out of order, so the rows' times cannot tell the site column
    from a wide file's label (a weekday's name); its refusal as text names the pivot too,
    unless the column is a one-off label or the target."""
    long = _staggered("by_site").sort_values("timestamp")
    path = tmp_path / "long.csv"
    said = _refusal(long, path)
    assert said == (f"{path}: non-numeric column ['site'] (e.g. 'a' in 'site' at row 0) -> "
                    "drop them or choose numeric ones with dataset.columns=[...]; or, if "
                    "'site' names the series (a long file, one row per site and timestamp), "
                    + _pivot_advice("site", 16).split(" -> ")[1])
    one_off = long.assign(site=["x"] + ["a"] * (len(long) - 1))  # a label, not a series
    assert _refusal(one_off, path).endswith("with dataset.columns=[...]")
    long.to_csv(path, index=False)
    with pytest.raises(TsbenchError) as caught:  # the target itself: the values, no key
        load_series(csv_config(path, date_col="timestamp", target="site"))
    assert str(caught.value).endswith("-> the target 'site' must hold numbers: forecast a "
                                      "column that does, e.g. dataset.target=load_mw "
                                      "'dataset.columns=[load_mw]'")


def _edited_copy(published: Path, folder: Path) -> Path:
    """A copy of the ``published`` file in ``folder`` with its last row's OT raised by 50:
    the rows and dates as published, one value not."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = published.read_text().splitlines()
    cells = lines[-1].split(",")
    cells[-1] = str(float(cells[-1]) + 50)
    lines[-1] = ",".join(cells)
    (folder / published.name).write_text("\n".join(lines) + "\n")
    return folder / published.name


@pytest.mark.parametrize("where", ["data_dir", "cache"])
def test_an_edited_benchmark_file_is_refused_naming_both_sha256(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A benchmark file found in $TSBENCH_DATA_DIR or the download cache must hold the
    published bytes (the dataset config's sha256), as a downloaded one must: an edited copy
    would be reported beside the published numbers. The byte-exact file reads, hashed once."""
    conf = OmegaConf.load(CSV_CONF.parent / "ili.yaml")
    published = data_dir() / "national_illness.csv"
    edited = _edited_copy(published, tmp_path / where)
    monkeypatch.setenv("TSBENCH_OFFLINE", "1")
    monkeypatch.setenv("TSBENCH_DATA_DIR", str(edited.parent if where == "data_dir"
                                               else tmp_path / "empty"))
    monkeypatch.setenv("TSBENCH_CACHE_DIR", str(edited.parent if where == "cache"
                                                else tmp_path / "empty"))
    with pytest.raises(TsbenchError) as caught:
        load_series(conf)
    found = "in $TSBENCH_DATA_DIR" if where == "data_dir" else "in the download cache"
    got = hashlib.sha256(edited.read_bytes()).hexdigest()
    assert str(caught.value) == (
        f"{edited} ({found}) has sha256 {got[:12]}..., not the published "
        f"national_illness.csv's {conf.sha256[:12]}... (dataset.sha256): its scores would not "
        "compare with the published numbers -> restore the byte-exact file (delete it to "
        "download it again when online, or copy it again from your offline copy: the "
        "dataset's config, tsbench --cfg job dataset=<name>, names its sha256), or read an "
        "edited copy "
        f"as your own data with dataset=csv dataset.path={edited}")
    assert load_series(csv_config(edited)).values.shape[0] == 966  # as one's own data
    shutil.copy(published, edited)  # restored: read, hashed once
    misses = _cached_sha256.cache_info().misses
    assert load_series(conf).values.shape == load_series(conf).values.shape == (966, 7)
    assert _cached_sha256.cache_info().misses == misses + 1
