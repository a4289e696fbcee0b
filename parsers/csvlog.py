"""CSV logs: plain ``step,metric...`` files, Keras and Lightning ``CSVLogger``,
and TensorBoard's own "download CSV" export (``Wall time,Step,Value``).

Every numeric column is a metric, named as in the header.  The x axis is the
first of step/global_step/_step/iteration/iter/epoch whose cells are whole
numbers (Keras: ``epoch``; Lightning: ``step``, with ``epoch`` kept as a metric);
with none of them, the row number (from 0) is the x axis.

Cells: an empty cell is "not logged on this row" (Lightning writes train and
validation metrics on separate, sparse rows); ``nan``/``inf``/``-inf`` in any
spelling are kept as values; any other text in a numeric column is reported
with its line and skipped.  A column with no number at all is not a metric.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from . import storage
from .errors import ParseError
from .frame import FileData, concat
from .naming import NAN_SPELLINGS, STEP_FIELDS, WALL_FIELDS, find_field, x_axis_name

TB_EXPORT = ["wall time", "step", "value"]


def kind_of(path: str, header: list[str]) -> str:
    """``lightning``, ``keras``, ``tensorboard-csv`` or ``csv`` from a header."""
    cols = [c.strip().lower() for c in header]
    if cols == TB_EXPORT:
        return "tensorboard-csv"
    parent = storage.parent_name(path)
    if storage.basename(path) == "metrics.csv" and "step" in cols and (
            parent.startswith("version_") or "epoch" in cols):
        return "lightning"
    if cols and cols[0] == "epoch" and "step" not in cols:
        return "keras"
    return "csv"


def _separator(first_line: str) -> str:
    if "," in first_line:
        return ","
    for sep in ("\t", ";"):
        if sep in first_line:
            return sep
    return ","


def _first_line(path: str) -> str:
    with storage.open_text(path, encoding="utf-8-sig", errors="replace") as fh:
        return fh.readline(1 << 16).rstrip("\r\n")


def read_header(path: str) -> list[str]:
    line = _first_line(path)
    return [c.strip() for c in line.split(_separator(line))]


def is_keras_log(path: str) -> bool:
    """A ``.log`` file that is really Keras' CSVLogger output: a header that
    starts with ``epoch`` and names only identifier-like columns."""
    try:
        header = read_header(path)
    except OSError:
        return False
    return (len(header) >= 2 and header[0] == "epoch"
            and all(h.replace("_", "").replace("/", "").isalnum() for h in header))


def read_csv(path: str | os.PathLike) -> FileData:
    path = os.fspath(path)
    try:
        sep = _separator(_first_line(path))
        with storage.open_text(path, encoding="utf-8-sig", errors="strict") as fh:
            table = pd.read_csv(fh, dtype=str, keep_default_na=False, sep=sep,
                                skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                         offset=exc.start) from None
    except pd.errors.EmptyDataError:
        raise ParseError(path, "empty file: no header") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise ParseError(path, f"not a readable CSV: {str(exc).strip()}") from None
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    cut = _cut_last_row(path, sep, len(table.columns))
    if cut and len(table):
        table = table.iloc[:-1]
    data = _to_points(path, table, kind_of(path, list(table.columns)))
    if cut:
        data.notes.insert(0, "last row incomplete (no newline, too few cells): a run "
                             "still being written? kept the rows before it")
    return data


def _cut_last_row(path: str, sep: str, columns: int) -> bool:
    """Does the file end in a row cut short by a writer still at work?"""
    with storage.open_binary(path) as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    if not tail or tail.endswith(b"\n"):
        return False
    last = tail.rsplit(b"\n", 1)[-1]
    return b"\n" in tail and last.count(sep.encode()) < columns - 1


def _numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, present, bad) for one column of strings."""
    text = column.str.strip()
    present = (text != "").to_numpy()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    nan_word = text.str.lower().isin(NAN_SPELLINGS).to_numpy()
    bad = present & np.isnan(values) & ~nan_word
    return values, present, bad


def _to_points(path: str, table: pd.DataFrame, kind: str) -> FileData:
    errors: list[ParseError] = []
    notes: list[str] = []
    columns = list(table.columns)
    parsed = {c: _numbers(table[c]) for c in columns}
    wall_col = find_field(columns, WALL_FIELDS)
    x_col = None
    for want in STEP_FIELDS:
        col = find_field(columns, (want,))
        if col is None:
            continue
        vals, present, bad = parsed[col]
        good = vals[present & ~bad]
        if good.size and np.all(np.isfinite(good)) and np.all(good == np.round(good)):
            x_col = col
            break
    rows = len(table)
    if x_col is None:
        x = np.arange(rows, dtype=np.int64)
    else:
        vals, present, bad = parsed[x_col]
        filled = pd.Series(np.where(present & ~bad, vals, np.nan)).ffill()
        if filled.isna().any():
            first = int(np.flatnonzero(filled.isna().to_numpy())[0])
            notes.append(f"{int(filled.isna().sum())} row(s) before the first "
                         f"{x_col!r} value skipped (first at line {first + 2})")
        x = filled.to_numpy()
    wall = parsed[wall_col][0] if wall_col is not None else np.full(rows, np.nan)
    metric_cols = [c for c in columns if c not in (x_col, wall_col)]
    if kind == "tensorboard-csv":
        metric_cols = [find_field(columns, ("value",))]
    names, codes, steps, values, walls = [], [], [], [], []
    x_ok = ~np.isnan(x.astype(np.float64))
    for col in metric_cols:
        vals, present, bad = parsed[col]
        if not (present & ~bad).any():
            if present.any():
                notes.append(f"column {col!r} holds no numbers; not a metric")
            continue
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            cell = table[col].iloc[first].strip()
            errors.append(ParseError(path, f"column {col!r}: {cell[:40]!r} is not a number "
                                           f"({int(bad.sum())} such cell(s) skipped)",
                                     line=first + 2))
        take = present & ~bad & x_ok
        name = os.path.splitext(storage.basename(path))[0] if kind == "tensorboard-csv" \
            else str(col).strip()
        names.append(name)
        idx = np.flatnonzero(take)
        codes.append(np.full(idx.size, len(names) - 1, dtype=np.int32))
        steps.append(x[idx])
        values.append(vals[idx])
        walls.append(wall[idx])
    # column by column: each metric's points stay in row (write) order
    return FileData(path, kind, names, concat(codes, np.int32), concat(steps, np.int64),
                    concat(values, np.float64), concat(walls, np.float64),
                    x_axis=x_axis_name(x_col),
                    start=float(np.nanmin(wall)) if np.isfinite(wall).any() else float("nan"),
                    notes=notes, errors=errors)
