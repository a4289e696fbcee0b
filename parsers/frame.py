"""The common frame: its schema, and how the points of one run are put in order.

Every reader returns :class:`FileData` (columns in the order the file wrote
them); :func:`assemble_run` merges a run's files, sorts each series by step and
resolves steps logged more than once; :func:`to_frame` builds the DataFrame.

Schema (one row per logged scalar point)::

    run        category  run id: the run directory relative to the root given
    metric     category  the name as logged, never renamed
    step       int64     global step (or epoch/row where the format has no step;
                         ``df.attrs["runs"][run]["x_axis"]`` says which)
    value      float64   NaN and +-inf kept
    wall_time  float64   seconds since the epoch; NaN where the format has none
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import ParseError
from .lazy import lazy

pd = lazy("pandas")  # imported on first use

COLUMNS = ("run", "metric", "step", "value", "wall_time")


@dataclass
class FileData:
    """The scalars of one file, each metric's in the order they were written
    (a reader may group them by metric)."""

    path: str
    format: str
    names: list[str]
    metric: np.ndarray  # codes into names
    step: np.ndarray
    value: np.ndarray
    wall_time: np.ndarray
    x_axis: str = "step"
    start: float = float("nan")  # when the file was begun, to order a run's files
    notes: list[str] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # {key: JSON data} for attrs["runs"][run]

    @classmethod
    def from_points(cls, path, fmt, metrics, steps, values, walls=None, **kw):
        """Build from parallel Python lists (the text formats)."""
        names, codes = np.unique(np.asarray(metrics, dtype=object), return_inverse=True) \
            if metrics else (np.array([], dtype=object), np.array([], dtype=np.int64))
        count = len(codes)
        wall = np.full(count, np.nan) if walls is None else np.asarray(walls, dtype=np.float64)
        return cls(path, fmt, [str(n) for n in names], codes.astype(np.int32),
                   np.asarray(steps, dtype=np.int64).reshape(count),
                   np.asarray(values, dtype=np.float64).reshape(count), wall, **kw)


@dataclass
class RunData:
    """One run's points sorted by (metric, step), duplicates resolved."""

    run: str
    names: list[str]
    metric: np.ndarray
    step: np.ndarray
    value: np.ndarray
    wall_time: np.ndarray
    info: dict


def _order_files(files: list[FileData]) -> list[FileData]:
    """By start time; files without one after, by path."""
    return sorted(files, key=lambda f: (np.isnan(f.start), np.nan_to_num(f.start), f.path))


def assemble_run(run: str, files: list[FileData], path: str) -> RunData:
    """Merge a run's files; a step logged twice keeps the last write.

    "Last" means: files in the order they were begun (their first wall time,
    else their name), then records in the order each file holds them.
    """
    files = _order_files(files)
    names = sorted({f.names[c] for f in files for c in _used(f)})
    lookup = {n: i for i, n in enumerate(names)}
    # names no point refers to (tags filtered out) map to -1 and are never indexed
    parts = [_codes(f, lookup) for f in files]
    metric = concat(parts, np.int32)
    step = concat([f.step for f in files], np.int64)
    value = concat([f.value for f in files], np.float64)
    wall = concat([f.wall_time for f in files], np.float64)
    order, replaced, repeated = _sort_and_dedup(metric, step, value, len(names))
    if order is not None:  # not already sorted
        metric = metric[order]  # one column at a time: the unsorted one is freed
        step = step[order]
        value = value[order]
        wall = wall[order]
    del order
    formats = sorted({f.format for f in files})
    info = {
        "path": path,
        "format": formats[0] if len(formats) == 1 else "+".join(formats),
        "files": [f.path for f in files],
        "x_axis": files[0].x_axis if files else "step",
        "points": int(len(step)),
        "replaced": {names[i]: int(c) for i, c in enumerate(replaced) if c},
        "repeated": {names[i]: int(c) for i, c in enumerate(repeated) if c},
        "notes": [f"{f.path}: {note}" for f in files for note in f.notes],
    }
    for f in files:  # what a format knows of the run (W&B's config): the last file's wins
        info.update(f.facts)
    return RunData(run, names, metric, step, value, wall, info)


def _used(f: FileData) -> np.ndarray:
    """The codes of the names some point of ``f`` refers to (a count per
    name: a hash of every point, as ``np.unique`` makes, costs more)."""
    if not len(f.metric):
        return np.empty(0, np.intp)
    return np.flatnonzero(np.bincount(f.metric, minlength=len(f.names)))


def _codes(f: FileData, lookup: dict) -> np.ndarray:
    """A file's metric codes as the run's (no copy where they are the same)."""
    if not len(f.names):
        return np.empty(0, np.int32)
    mapping = np.asarray([lookup.get(n, -1) for n in f.names], dtype=np.int32)
    if np.array_equal(mapping, np.arange(len(mapping))) and f.metric.dtype == np.int32:
        return f.metric
    return mapping[f.metric]


def concat(arrays, dtype):
    """Concatenate, with an empty array of ``dtype`` for no parts (one part is
    not copied)."""
    if not arrays:
        return np.empty(0, dtype)
    if len(arrays) == 1:
        return np.asarray(arrays[0]).astype(dtype, copy=False)
    return np.concatenate(arrays).astype(dtype, copy=False)


def _sort_and_dedup(metric, step, value, n_metrics):
    """Indices that sort by (metric, step) keeping the last of equal steps
    (None: the points are sorted already, with no step twice).

    Returns the indices and, per metric, how many points were dropped with a
    value different from the one kept (``replaced``) or equal to it
    (``repeated``: a writer logging the same bookkeeping column on two rows).
    """
    replaced = np.zeros(n_metrics, dtype=np.int64)
    repeated = np.zeros(n_metrics, dtype=np.int64)
    if len(step) == 0:
        return None, replaced, repeated
    if np.all(metric[1:] >= metric[:-1]):  # grouped by metric already (event files)
        order, m, s = None, metric, step
    else:
        small = metric.astype(np.int16) if n_metrics < 2 ** 15 else metric
        order = np.argsort(small, kind="stable")
        m, s = metric[order], step[order]
    if not np.any((m[1:] == m[:-1]) & (s[1:] <= s[:-1])):  # every series in step order
        identity = order is None or bool(np.all(order[1:] > order[:-1]))
        return None if identity else order, replaced, repeated
    order = np.lexsort((step, metric))  # stable: equal steps stay in write order
    m, s = metric[order], step[order]
    dup = (m[1:] == m[:-1]) & (s[1:] == s[:-1])  # entry i is overwritten by i + 1
    keep = np.ones(len(order), dtype=bool)
    keep[:-1] = ~dup
    # each dropped entry is compared with the kept (last) entry of its group
    last = np.flatnonzero(keep)
    group_last = last[np.searchsorted(last, np.arange(len(keep)))]
    dropped = np.flatnonzero(~keep)
    a = value[order[dropped]]
    b = value[order[group_last[dropped]]]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    np.add.at(replaced, m[dropped[~same]], 1)
    np.add.at(repeated, m[dropped[same]], 1)
    return order[keep], replaced, repeated


def to_frame(runs: list[RunData]) -> pd.DataFrame:
    """One DataFrame for all runs, sorted by run, metric and step."""
    run_names = [r.run for r in runs]
    metric_names = sorted({n for r in runs for n in r.names})
    lookup = {n: i for i, n in enumerate(metric_names)}
    counts = [len(r.step) for r in runs]
    run_codes = np.repeat(np.arange(len(runs), dtype=np.int32), counts)
    metric_codes = concat([np.asarray([lookup[n] for n in r.names], dtype=np.int32)[r.metric]
                         if r.names else np.empty(0, np.int32) for r in runs], np.int32)
    df = pd.DataFrame({
        "run": pd.Categorical.from_codes(run_codes, categories=pd.Index(run_names)),
        "metric": pd.Categorical.from_codes(metric_codes,
                                            categories=pd.Index(metric_names)),
        "step": concat([r.step for r in runs], np.int64),
        "value": concat([r.value for r in runs], np.float64),
        "wall_time": concat([r.wall_time for r in runs], np.float64),
    })
    df.attrs["runs"] = {r.run: r.info for r in runs}
    df.attrs["errors"] = []
    return df


def iter_series(df: pd.DataFrame):
    """(run, metric, steps, values) of each series of a parsers frame, which is
    sorted by run, metric and step: cut at the boundaries, no groupby."""
    if not len(df):
        return
    runs, metrics = df["run"].cat, df["metric"].cat
    run_codes, metric_codes = runs.codes.to_numpy(), metrics.codes.to_numpy()
    key = run_codes.astype(np.int64) * (len(metrics.categories) + 1) + metric_codes
    cuts = np.flatnonzero(np.diff(key)) + 1
    steps, values = df["step"].to_numpy(), df["value"].to_numpy()
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(key)]):
        yield (str(runs.categories[run_codes[a]]), str(metrics.categories[metric_codes[a]]),
               steps[a:b], values[a:b])
