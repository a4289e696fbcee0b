"""What ``loss-doctor ls`` shows: a block per run, a line per series, then the
files that could not be read; laid out for an 80-column terminal."""

from __future__ import annotations

from loss_doctor.records import Inventory
from parsers.naming import printable

from .base import plain


def _steps(first: int, last: int) -> str:
    return f"{first:,}" if first == last else f"{first:,}–{last:,}"


def render_inventory(inv: Inventory, style=plain) -> str:
    lines = []
    runs = inv.runs
    formats = sorted({r.format for r in runs})
    lines.append(style(f"{inv.root}: {len(runs)} run{'s' * (len(runs) != 1)}, "
                       f"{inv.points:,} points ({', '.join(formats) or 'no logs found'})",
                       bold=True))
    for run in runs:
        files = len(run.files)
        head = (f"{run.format} · {files} file{'s' * (files != 1)} · "
                f"x: {run.x_axis} · {run.points:,} points")
        if run.replaced:
            head += f" · {run.replaced:,} replaced"
        lines.append("")
        lines.append(style(printable(run.run), bold=True, fg="cyan") + "  " + head)
        width = min(max([len(s.metric) for s in run.series] + [6]), 30)
        if run.series:
            lines.append(style(f"    {'metric':<{width}}  {'role':<11}  {'points':>7}  "
                               f"{'steps':<13}  notes", dim=True))
        else:
            lines.append("    (no scalars)")
        for s in run.series:
            notes = []
            if s.non_finite:
                notes.append(style(f"{s.non_finite:,} NaN/inf", fg="red"))
            if s.replaced:
                notes.append(f"{s.replaced:,} replaced")
            name = printable(s.metric)
            label = name if len(name) <= width else name[:width - 1] + "…"
            lines.append(f"    {label:<{width}}  {s.role:<11}  {s.points:>7,}  "
                         f"{_steps(s.first_step, s.last_step):<13}  {', '.join(notes)}"
                         .rstrip())
        for note in run.notes:
            lines.append(style(f"    note: {printable(note)}", fg="yellow"))
    if inv.errors:
        lines.append("")
        lines.append(style(f"{len(inv.errors)} problem(s) reading files:", bold=True,
                           fg="red"))
        lines.extend(f"  {err}" for err in inv.errors)
    return "\n".join(lines)
