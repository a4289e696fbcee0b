"""What the interactive report draws of one run, made in the worker beside the
diagnosis: JSON-able arrays, reduced for drawing, never for analysis.

* ``charts``: one per role group (losses; error rates and perplexities; the
  lr; the gradient norm), each series as ``x``, ``y`` and wall time ``t``
  (``None`` where non-finite or unknown).  Long series keep the min and the
  max of each of :data:`COLUMNS` step bins, so a spike survives and a
  1M-point run stays a few hundred KB; ``bad`` lists the steps where the value
  was NaN/inf.
* ``sweep``: the main series of each role reduced to :data:`SWEEP_POINTS`
  bin means, for the sweep view's overlay of every run.
* ``summary``: final training loss and best validation loss, for the table.

Values are rounded to 6 significant digits (what a chart shows and hover
reads; the JSON report keeps full precision).
"""

from __future__ import annotations

import math

import numpy as np

from .plots import groups_of

COLUMNS = 1000
SWEEP_POINTS = 300
GRID = 200  # cells of the sweep view's shared step grid
SWEEP_ROLES = ("train_loss", "val_loss", "lr", "grad_norm")
CHART_GROUPS = ("losses", "errors", "lr", "grad_norm")
MAX_SERIES = 8


def _num(v, digits: int = 6) -> float | None:
    v = float(v)
    return float(f"{v:.{digits}g}") if math.isfinite(v) else None


def _reduce(steps, values, columns: int = COLUMNS):
    """Indices to draw: all of a short series, else the first, the min and the
    max of each step bin (in step order)."""
    n = steps.size
    if n <= 2 * columns:
        return np.arange(n)
    edges = np.linspace(steps[0], steps[-1], columns + 1)
    bins = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, columns - 1)
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    finite = np.where(np.isfinite(values), values, np.nan)
    keep = set(starts.tolist())
    with np.errstate(all="ignore"):
        for a, b in zip(starts, np.r_[starts[1:], n]):
            part = finite[a:b]
            if np.isnan(part).all():
                continue
            keep.add(a + int(np.nanargmin(part)))
            keep.add(a + int(np.nanargmax(part)))
    return np.array(sorted(keep))


def series_data(series) -> dict:
    idx = _reduce(series.steps, series.values)
    values = series.values
    bad = series.steps[~np.isfinite(values)]
    walls = None if series.walls is None else series.walls[idx]
    known = walls is not None and bool(np.isfinite(walls).any())
    t0 = float(walls[np.isfinite(walls)][0]) if known else None
    return {"name": series.metric, "role": series.role.role,
            "direction": series.role.direction,
            "x": series.steps[idx].tolist(), "y": [_num(v) for v in values[idx]],
            "t0": t0,  # wall times as seconds after t0, to a tenth
            "t": [round(float(w) - t0, 1) if math.isfinite(w) else None for w in walls]
            if known else None,
            "sparse": bool(series.values.size <= 30), "points": int(series.values.size),
            "bad": bad[:1000].tolist(), "bad_count": int(bad.size)}


def _sweep(series) -> dict:
    """The series as bin means of at most SWEEP_POINTS bins (the main
    process puts every run on one grid, :func:`on_grid`)."""
    steps, values = series.steps, series.values
    finite = np.isfinite(values)
    steps, values = steps[finite].astype(np.float64), values[finite]
    if steps.size > SWEEP_POINTS:
        edges = np.linspace(0, steps.size, SWEEP_POINTS + 1).astype(int)
        steps = np.add.reduceat(steps, edges[:-1]) / np.diff(edges)
        values = np.add.reduceat(values, edges[:-1]) / np.diff(edges)
    return {"name": series.metric, "x": steps.tolist(), "y": values.tolist()}


def on_grid(sweeps: list[dict | None], points: int = GRID) -> tuple[dict, list]:
    """Every run's sweep series of one role on one grid of ``points`` steps:
    ``({"lo", "hi", "n"}, [values or None per run])``, values to 4 digits,
    None where a run logged nothing in a cell (a sparse eval curve)."""
    present = [s for s in sweeps if s and s["x"]]
    if not present:
        return {}, [None] * len(sweeps)
    lo = min(s["x"][0] for s in present)
    hi = max(s["x"][-1] for s in present)
    span = hi - lo or 1.0
    out = []
    for s in sweeps:
        if not s or not s["x"]:
            out.append(None)
            continue
        cells = np.rint((np.asarray(s["x"]) - lo) / span * (points - 1)).astype(int)
        sums = np.bincount(cells, weights=np.asarray(s["y"]), minlength=points)
        counts = np.bincount(cells, minlength=points)
        out.append([_num(sums[i] / counts[i], 4) if counts[i] else None
                    for i in range(points)])
    return {"lo": lo, "hi": hi, "n": points}, out


def run_data(view, findings) -> dict:
    """The payload of one run (see the module docstring)."""
    charts = [{"group": group, "series": [series_data(s) for s in members[:MAX_SERIES]],
               "more": max(0, len(members) - MAX_SERIES)}
              for group, members in groups_of(view, CHART_GROUPS, min_points=1,
                                              main_first=CHART_GROUPS).items()]
    sweep = {}
    for role in SWEEP_ROLES:
        s = view.primary(role)
        if s is not None and s.values.size:
            sweep[role] = _sweep(s)
    train, val = view.primary("train_loss"), view.primary("val_loss")
    summary = {}
    if train is not None:
        finite = train.values[np.isfinite(train.values)]
        summary["final_train"] = _num(finite[-1]) if finite.size else None
    if val is not None:
        finite = val.values[np.isfinite(val.values)]
        summary["best_val"] = _num(finite.min()) if finite.size else None
    best = [f for f in findings if f.code == "LD501"]
    return {"unit": view.unit, "charts": charts, "sweep": sweep, "summary": summary,
            "best": {"step": best[0].step_start, "metric": best[0].metric} if best else None}
