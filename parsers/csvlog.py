"""CSV logs: plain ``step,metric...`` files, Keras and Lightning ``CSVLogger``,
and TensorBoard's own "download CSV" export (``Wall time,Step,Value``).

Every numeric column is a metric, named as in the header.  The x axis is the
first of step/global_step/_step/iteration/iter/epoch whose cells are whole
numbers (Keras: ``epoch``; Lightning: ``step``, with ``epoch`` kept as a metric);
with none of them, the row number (from 0) is the x axis.

Cells: an empty cell, or ``NA``/``n/a``/``None``/``null``/``-``, is "not
logged on this row" (Lightning writes train and validation metrics on
separate, sparse rows); ``nan``/``inf``/``-inf`` in any spelling (``Infinity``,
C's ``1.#INF``) are kept as values; a number too large for a double is
``inf``; any other text in a numeric column is reported with its line and
skipped.  A column with no number at all is not a metric.  Semicolon-separated
files may use decimal commas.

Damage: a row with more cells than the header is skipped and reported; a row
with a step that is not a whole number below 2**63 is skipped and reported; the
header written again (a resumed writer) and lines with no number at all (print
output) are skipped with a note; bytes that are not UTF-8 are replaced, so the
cells holding them are reported as not numbers.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import warnings
import zlib

import numpy as np

from . import storage
from .cells import numbers, shown
from .errors import ParseError
from .format import Format
from .frame import FileData, concat
from .lazy import lazy
from .naming import STEP_FIELDS, WALL_FIELDS, find_field, x_axis_name

pd = lazy("pandas")  # imported on first use

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


MAX_GUNZIPPED = 1 << 30  # a compressed CSV is read up to 1 GB, not a gzip bomb's worth


def _decompressed(path: str, raw: bytes) -> bytes:
    """A CSV that is gzip-compressed (``metrics.csv`` that is really a ``.gz``)."""
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            data = gz.read(MAX_GUNZIPPED + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(path, f"gzip-compressed, and the compression is damaged: {exc}"
                         ) from None
    if len(data) > MAX_GUNZIPPED:
        raise ParseError(path, "gzip-compressed to over 1 GB: gunzip it first")
    return data


def _decode(raw: bytes) -> str:
    """The text of a CSV: UTF-16 where a BOM says so (Excel's "Unicode text"),
    else UTF-8 (a BOM dropped), bytes that are not UTF-8 replaced."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def read_csv(path: str | os.PathLike) -> FileData:
    path = os.fspath(path)
    try:
        with storage.open_binary(path) as fh:  # one snapshot: a writer may be appending
            raw = _decompressed(path, fh.read())
        text = _decode(raw)
        sep = _separator(text.split("\n", 1)[0].rstrip("\r"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep,
                                skipinitialspace=True, on_bad_lines="warn")
    except pd.errors.EmptyDataError:
        raise ParseError(path, "empty file: no header") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise ParseError(path, f"not a readable CSV: {str(exc).strip()}") from None
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    long_rows = [(int(m[1]), int(m[3])) for w in caught
                 for m in _BAD_LINE.finditer(str(w.message))]
    # a last row without its line end is a write in progress (buffered writers
    # flush mid-row, even mid-number: "0.0123" read as "0.0"): left out
    cut = "\n" in text and not text.endswith(("\n", "\r")) and len(table) > 0
    if cut:
        table = table.iloc[:-1]
    rows = _Rows(text, [line for line, _ in long_rows], len(table))
    parsed = {c: numbers(table[c], decimal_comma=sep == ";") for c in table.columns}
    table, parsed, notes = _drop_non_rows(table, parsed, rows)
    kind = kind_of(path, list(table.columns))
    data = _to_points(path, table, parsed, kind, rows)
    if kind == "lightning":  # CSVLogger writes the hyperparameters beside the metrics
        hparams = storage.join(storage.dirname(path), "hparams.yaml")
        if storage.isfile(hparams):
            data.facts["hparams"] = hparams
    data.notes[:0] = notes
    if long_rows:
        line, cells = long_rows[0]
        more = f" ({len(long_rows) - 1} more such row(s))" if len(long_rows) > 1 else ""
        data.errors.insert(0, ParseError(
            path, f"{cells} cells where the header has {len(table.columns)}; row "
                  f"skipped{more}", line=line))
    if cut:
        data.notes.insert(0, "last row incomplete (no line end): a run still being "
                             "written? kept the rows before it")
    if not len(table) and not cut:
        data.notes.append("header only: no rows yet")
    return data


_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields?, saw (\d+)")


class _Rows:
    """File line numbers of table rows, worked out from the file's text only
    when a message needs one: pandas skips blank lines and rows with too many
    cells, and rows left out since (repeated headers, print lines) are dropped
    here too."""

    def __init__(self, text: str, skipped: list[int], count: int):
        self.text, self.skipped, self._lines = text, set(skipped), None
        self.kept = np.arange(count)  # the original row of each row left

    def drop(self, dropped: np.ndarray) -> None:
        self.kept = np.delete(self.kept, dropped)

    def line(self, row: int) -> int:
        if self._lines is None:
            self._lines = [number for number, text in enumerate(self.text.split("\n")[1:], 2)
                           if text.strip() and number not in self.skipped]
        original = int(self.kept[row])
        return self._lines[original] if original < len(self._lines) else original + 2


def _drop_non_rows(table: pd.DataFrame, parsed: dict, rows: _Rows):
    """Leave out the header written again (a resumed writer appends its header)
    and lines with no number in any cell (print output that landed in the
    file); a note says where.  Returns the table, its parsed columns and notes."""
    if not len(table):
        return table, parsed, []
    header = [str(c).strip() for c in table.columns]
    first = table[table.columns[0]].str.strip() == header[0]
    repeated = np.zeros(len(table), dtype=bool)
    if first.any():  # only rows starting with the first column's name are candidates
        candidates = table[first.to_numpy()]
        same = (candidates.apply(lambda c: c.str.strip()) == header).all(axis=1)
        repeated[np.flatnonzero(first.to_numpy())[same.to_numpy()]] = True
    numeric = np.zeros(len(table), dtype=bool)
    blank = np.ones(len(table), dtype=bool)
    for _, present, bad in parsed.values():
        numeric |= present & ~bad
        blank &= ~present
    junk = ~numeric & ~blank & ~repeated
    notes = []
    if repeated.any():
        at = rows.line(int(np.flatnonzero(repeated)[0]))
        notes.append(f"header repeated {int(repeated.sum())} time(s), first at line {at} "
                     "(a resumed writer?); skipped")
    if junk.any():
        at = int(np.flatnonzero(junk)[0])
        text = _row_text(table.iloc[at])
        notes.append(f"{int(junk.sum())} line(s) with no number in any cell skipped (print "
                     f"output?), first at line {rows.line(at)}: {text[:50]!r}")
    drop = repeated | junk
    if drop.any():
        rows.drop(np.flatnonzero(drop))
        table = table[~drop].reset_index(drop=True)
        parsed = {c: tuple(a[~drop] for a in v) for c, v in parsed.items()}
    return table, parsed, notes


def _row_text(row: pd.Series) -> str:
    return ",".join(v for v in row.astype(str).tolist() if v)


def _to_points(path: str, table: pd.DataFrame, parsed: dict, kind: str,
               lines: _Rows) -> FileData:
    errors: list[ParseError] = []
    notes: list[str] = []
    columns = list(table.columns)
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
        bad = bad | (present & ~bad & ~(np.abs(vals) < 2.0 ** 63))  # no int64 step
        filled = pd.Series(np.where(present & ~bad, vals, np.nan)).ffill()
        before = filled.isna().to_numpy() & ~bad
        if before.any():
            notes.append(f"{int(before.sum())} row(s) before the first {x_col!r} value "
                         f"skipped (first at line {lines.line(int(np.flatnonzero(before)[0]))})")
        x = filled.to_numpy()
        if bad.any():  # a row whose step cannot be read: its points have no place
            first = int(np.flatnonzero(bad)[0])
            errors.append(ParseError(
                path, f"column {x_col!r}: {shown(table[x_col].iloc[first])} is not a step "
                      f"({int(bad.sum())} such row(s) skipped)", line=lines.line(first)))
            x = np.where(bad, np.nan, x)
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
            cell = shown(table[col].iloc[first])
            errors.append(ParseError(path, f"column {col!r}: {cell} is not a number "
                                           f"({int(bad.sum())} such cell(s) skipped)",
                                     line=lines.line(first)))
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


def _classify(path: str) -> str | None:
    lower = storage.basename(path).lower()
    if lower.endswith((".csv", ".tsv")):
        try:
            return kind_of(path, read_header(path))
        except OSError:
            return "csv"
    if lower.endswith((".log", ".txt")) and is_keras_log(path):
        return "keras"  # keras.callbacks.CSVLogger("training.log"), as Keras documents
    return None


FORMAT = Format(name="csv", label="CSV (plain, Keras, Lightning)",
                files="*.csv, *.tsv; a *.log/*.txt with an epoch header (Keras)",
                classify=_classify, read=read_csv,
                variants=("keras", "lightning", "tensorboard-csv"))
