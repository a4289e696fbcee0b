"""What ``loss-doctor ls`` shows: the runs of a frame, their series and problems.

:func:`inventory` turns a frame from :mod:`parsers` into plain data (the JSON
form); :func:`render_text` lays that out for an 80-column terminal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parsers.frame import iter_series


def inventory(df: pd.DataFrame, role_overrides: dict | None = None) -> dict:
    """The ``--format json`` document of ``ls``; each metric with its role."""
    from loss_doctor.roles import assign

    role_overrides = role_overrides or {}
    runs = []
    infos = df.attrs.get("runs", {})
    groups: dict[str, dict] = {}
    for run, metric, steps, values in iter_series(df):
        groups.setdefault(run, {})[metric] = (steps, values)
    for run, info in infos.items():
        metrics = {}
        for metric, (steps, values) in groups.get(run, {}).items():
            metrics[metric] = {
                "points": int(len(values)),
                "first_step": int(steps[0]),
                "last_step": int(steps[-1]),
                "non_finite": int(np.count_nonzero(~np.isfinite(values))),
                "replaced": int(info.get("replaced", {}).get(metric, 0)),
                "role": assign(metric, role_overrides.get(metric)).role,
            }
        runs.append({
            "run": run,
            "path": info["path"],
            "format": info["format"],
            "files": info["files"],
            "x_axis": info["x_axis"],
            "points": info["points"],
            "replaced": int(sum(info.get("replaced", {}).values())),
            "metrics": metrics,
            "notes": info.get("notes", []),
        })
    return {"version": 1, "root": df.attrs.get("root", ""), "runs": runs,
            "errors": df.attrs.get("errors", [])}


def _steps(first: int, last: int) -> str:
    return f"{first:,}" if first == last else f"{first:,}–{last:,}"


def render_text(doc: dict, style=lambda text, **kw: text) -> str:
    """The human form: a block per run, a line per series, then the errors."""
    lines = []
    runs = doc["runs"]
    total = sum(r["points"] for r in runs)
    formats = sorted({r["format"] for r in runs})
    lines.append(style(f"{doc['root']}: {len(runs)} run{'s' * (len(runs) != 1)}, "
                       f"{total:,} points ({', '.join(formats) or 'no logs found'})",
                       bold=True))
    for run in runs:
        files = len(run["files"])
        head = (f"{run['format']} · {files} file{'s' * (files != 1)} · "
                f"x: {run['x_axis']} · {run['points']:,} points")
        if run["replaced"]:
            head += f" · {run['replaced']:,} replaced"
        lines.append("")
        lines.append(style(run["run"], bold=True, fg="cyan") + "  " + head)
        if not run["metrics"]:
            lines.append("    (no scalars)")
        width = max([len(m) for m in run["metrics"]] + [6])
        width = min(width, 30)
        if run["metrics"]:
            lines.append(style(f"    {'metric':<{width}}  {'role':<11}  {'points':>7}  "
                               f"{'steps':<13}  notes", dim=True))
        for name, m in run["metrics"].items():
            notes = []
            if m["non_finite"]:
                notes.append(style(f"{m['non_finite']:,} NaN/inf", fg="red"))
            if m["replaced"]:
                notes.append(f"{m['replaced']:,} replaced")
            label = name if len(name) <= width else name[:width - 1] + "…"
            lines.append(f"    {label:<{width}}  {m.get('role', ''):<11}  {m['points']:>7,}  "
                         f"{_steps(m['first_step'], m['last_step']):<13}  {', '.join(notes)}"
                         .rstrip())
        for note in run["notes"]:
            lines.append(style(f"    note: {note}", fg="yellow"))
    if doc["errors"]:
        lines.append("")
        lines.append(style(f"{len(doc['errors'])} problem(s) reading files:", bold=True,
                           fg="red"))
        for err in doc["errors"]:
            lines.append("  " + format_error(err))
    return "\n".join(lines)


def error_message(err: dict) -> str:
    """An error's message with its place in the file: ``byte 4112: ...``."""
    if "offset" in err:
        return f"byte {err['offset']}: {err['message']}"
    if "line" in err:
        return f"line {err['line']}: {err['message']}"
    return err["message"]


def format_error(err: dict) -> str:
    return f"{err['path']}: {error_message(err)}"
