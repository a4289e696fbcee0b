"""What was read: a :class:`RunInfo` per run, built from the run's view (the
roles the diagnosis uses, assigned once), and the :class:`Inventory` that
``loss-doctor ls`` shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from parsers import ReadError
from parsers.read import read_source

from .records import Inventory, RunInfo, SeriesInfo
from .views import RunView, run_views, view_of

if TYPE_CHECKING:  # pandas is imported only where a frame is asked for
    import pandas as pd


def run_info(view: RunView, info: dict) -> RunInfo:
    """A run's record from its view and the reader's facts (``attrs["runs"]``)."""
    replaced = info.get("replaced", {})
    series = tuple(
        SeriesInfo(metric=name, points=int(s.values.size), first_step=int(s.steps[0]),
                   last_step=int(s.steps[-1]),
                   non_finite=int(np.count_nonzero(~np.isfinite(s.values))),
                   replaced=int(replaced.get(name, 0)), role=s.role.role)
        for name, s in view.series.items())
    return RunInfo(run=view.run, path=info["path"], format=info["format"],
                   files=tuple(info["files"]), x_axis=info["x_axis"], points=info["points"],
                   replaced=int(sum(replaced.values())), series=series,
                   notes=tuple(info.get("notes", ())), not_checked=not_checked(view))


def not_checked(view: RunView) -> str | None:
    """Why no detector can judge a run, or None: a run with nothing to judge
    is "not checked", never "healthy"."""
    judged = [s for s in view.series.values() if s.role.role != "bookkeeping"]
    if not view.series:
        return "no scalars"
    if not judged:
        names = ", ".join(sorted(view.series)[:4])
        return f"only bookkeeping series ({names}{', ...' if len(view.series) > 4 else ''})"
    if max(s.values.size for s in judged) < 2:
        return "one point per series: no curve to judge"
    return None


def read_view(source, roles: dict, cache_dir: str | None, *, walls: bool = True):
    """(view or None, RunInfo or None, read errors) of one discovered run
    (``walls=False``: a view without wall times, see :func:`view_of`)."""
    data, errors = read_source(source, cache_dir)
    errors = [e.record() for e in errors]
    if data is None:
        return None, None, errors
    view = view_of(data, roles, walls=walls)
    return view, run_info(view, data.info), errors


def collect(sources, roles: dict, cache_dir: str | None, *, root: str = "",
            progress=None) -> Inventory:
    """The inventory of discovered runs, read one at a time (no frame)."""
    runs, errors = [], list(getattr(sources, "skipped", ()))
    for source in (progress(sources) if progress else sources):
        _, info, errs = read_view(source, roles, cache_dir)
        errors += errs
        if info is not None:
            runs.append(info)
    return Inventory(root, tuple(runs), tuple(errors))


def inventory(df: pd.DataFrame, role_overrides: dict | None = None) -> Inventory:
    """The inventory of a parsers frame (its runs in ``attrs`` order)."""
    views = {v.run: v for v in run_views(df, role_overrides)}
    runs = []
    for run, info in df.attrs.get("runs", {}).items():
        runs.append(run_info(views.get(run) or RunView(run, {}), info))
    errors = tuple(ReadError.from_dict(e) for e in df.attrs.get("errors", []))
    return Inventory(df.attrs.get("root", ""), tuple(runs), errors)
