"""The terminal report: a ranked list that reads well in 80 columns."""

from __future__ import annotations

import textwrap

import click

from parsers.naming import printable

from .base import Reporter, plain

COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


class TextReporter(Reporter):
    name = "text"
    summary = "the ranked findings for a terminal, 80 columns"

    def render(self, result, options) -> str:
        style = plain if options.color is False else click.style
        return _layout(result, show_info=options.show_info, quiet=options.quiet, style=style)


def _printable(f):
    """A finding whose names and words cannot move the cursor or fake a line:
    control characters, escapes and bidi overrides shown as ``\\xNN``."""
    from dataclasses import replace

    return replace(f, run=printable(f.run), metric=printable(f.metric),
                   message=printable(f.message), hint=printable(f.hint))


def _layout(result, *, show_info: bool, quiet: bool, style, width: int = 80) -> str:
    findings = result.findings
    shown = [f for f in findings if show_info or f.severity != "info"]
    counts = {s: sum(f.severity == s for f in findings) for s in COLOURS}
    lines = []
    runs = result.runs
    if not quiet:
        points = result.points
        summary = ", ".join(f"{n} {s}{'s' * (n != 1 and s != 'info')}"
                            for s, n in counts.items() if n) or "no findings"
        lines.append(style(f"{len(runs)} run{'s' * (len(runs) != 1)}, {points:,} points: "
                           f"{summary}", bold=True))
    axes = {r.run: r.x_axis for r in runs}
    for f in shown:
        f = _printable(f)
        axis = {"row": "row"}.get(axes.get(f.run, "step"), axes.get(f.run, "step"))
        steps = f"{axis} {f.step_start:,}" if f.step_start == f.step_end else \
            f"{axis}s {f.step_start:,}–{f.step_end:,}"
        sev = style(f"{f.severity:<7}", fg=COLOURS[f.severity], bold=True)
        lines.append("")
        head = f"{f.rank:>3}. {sev} {style(f.code, bold=True)}"
        if 20 + len(f.run) <= width:
            lines.append(f"{head}  {f.run}")
        else:  # long run ids (a path): on their own lines
            lines.append(head)
            lines.extend("     " + part for part in textwrap.wrap(
                f.run, width - 5, break_long_words=True, break_on_hyphens=False))
        lines.append(f"     {f.metric} · {steps} · score {f.score:.2f}")
        for part in textwrap.wrap(f.message, width - 5):
            lines.append("     " + part)
        if f.hint and not quiet:
            for part in textwrap.wrap("hint: " + f.hint, width - 5):
                lines.append(style("     " + part, dim=True))
    if not quiet:
        flagged = {f.run for f in findings if f.severity != "info"}
        clean = [r.run for r in runs if r.run not in flagged and not r.not_checked]
        unjudged = [r for r in runs if r.not_checked and r.run not in flagged]
        lines.append("")
        if unjudged:
            listed = "; ".join(f"{r.run} ({r.not_checked})" for r in unjudged[:8])
            more = f"; and {len(unjudged) - 8} more" if len(unjudged) > 8 else ""
            text = f"not checked, {len(unjudged)} run{'s' * (len(unjudged) != 1)}: {listed}{more}"
            lines.extend(style(part, fg="yellow") for part in textwrap.wrap(text, width))
        if clean:
            names = ", ".join(clean[:8]) + (f" and {len(clean) - 8} more"
                                            if len(clean) > 8 else "")
            which = " of the selected codes" if result.filtered else ""
            text = (f"no warnings or errors{which} in {len(clean)} run"
                    f"{'s' * (len(clean) != 1)}: {names}")
            lines.extend(style(part, fg="green") for part in textwrap.wrap(text, width))
        hidden = counts["info"] if not show_info else 0
        if hidden:
            lines.append(style(f"{hidden} info finding(s) not shown (--show-info)", dim=True))
    return "\n".join(lines).lstrip("\n")
