"""The common frame written out: what ``loss-doctor export`` (or
``df.to_csv``/``df.to_json(orient="records", lines=True)``) writes, read back as
the runs it holds.

Recognised by its columns, exactly ``run, metric, step, value, wall_time``
(the CSV header, or the keys of the first JSON line).  Each value of ``run`` is
a run, under its own name; an empty ``value`` cell (how pandas writes NaN) or a
JSON ``null`` is NaN, since the row says the point was logged.  pandas'
``to_json`` writes inf as ``null`` too, so a JSON-lines export keeps inf as NaN.
"""

from __future__ import annotations

import json
import os

import numpy as np

from . import storage
from .errors import ParseError
from .format import Format
from .frame import COLUMNS, FileData
from .lazy import lazy

pd = lazy("pandas")  # imported on first use

_cache: dict[str, tuple[str, pd.DataFrame]] = {}  # path -> (signature, table): the last file


def _header_ok(path: str) -> bool:
    lower = storage.basename(path).lower()
    try:
        with storage.open_text(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline(1 << 12).strip()
    except OSError:
        return False
    if lower.endswith(".csv"):
        return [c.strip() for c in first.split(",")] == list(COLUMNS)
    try:
        obj = json.loads(first)
    except ValueError:
        return False
    return isinstance(obj, dict) and sorted(obj) == sorted(COLUMNS)


def _classify(path: str) -> str | None:
    lower = storage.basename(path).lower()
    if lower.endswith((".csv", ".jsonl", ".ndjson")) and _header_ok(path):
        return "tidy"
    return None


def _load(path: str) -> pd.DataFrame:
    sig = storage.signature(path) or ""
    hit = _cache.get(path)
    if hit is not None and hit[0] == sig:
        return hit[1]
    try:
        with storage.open_binary(path) as fh:
            if storage.basename(path).lower().endswith(".csv"):
                table = pd.read_csv(fh, dtype={"run": str, "metric": str},
                                    keep_default_na=False, na_values={"value": [""],
                                                                      "wall_time": [""]})
            else:
                table = pd.read_json(fh, lines=True, dtype={"run": str, "metric": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(path, f"not a readable export of the frame: {exc}") from None
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ParseError(path, f"no column {', '.join(missing)}: not an export of the frame")
    _cache.clear()
    _cache[path] = (sig, table)
    return table


def runs_in(path: str) -> list[tuple[str, str | None]]:
    try:
        runs = _load(path)["run"].astype(str)
    except ParseError:
        return [(storage.basename(path), None)]  # read_tidy says what is wrong
    return [(run, run) for run in pd.unique(runs)]


def read_tidy(path: str | os.PathLike, run: str | None = None) -> FileData:
    path = os.fspath(path)
    table = _load(path)
    if run is None:
        raise ParseError(path, "an export of the frame with no runs")
    part = table[table["run"].astype(str) == run]
    steps = pd.to_numeric(part["step"], errors="coerce")
    bad = steps.isna() | (steps != steps.round()) | ~(steps.abs() < 2.0 ** 63)
    errors = []
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0])
        errors.append(ParseError(path, f"run {run}: {int(bad.sum())} step(s) that are not whole "
                                       "numbers skipped", line=int(part.index[line]) + 2))
        part, steps = part[~bad], steps[~bad]
    values = pd.to_numeric(part["value"], errors="coerce").to_numpy(np.float64)
    walls = pd.to_numeric(part["wall_time"], errors="coerce").to_numpy(np.float64)
    return FileData.from_points(path, "tidy", part["metric"].astype(str).tolist(),
                                steps.to_numpy(np.int64), values, walls, errors=errors)


FORMAT = Format(name="tidy", label="loss-doctor exports",
                files="*.csv, *.jsonl with the columns run, metric, step, value, wall_time",
                classify=_classify, read=read_tidy, grouping="contained", runs_in=runs_in)
