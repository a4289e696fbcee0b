"""``--format markdown``: a GitHub-flavoured Markdown report (also what goes
into ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import html

from parsers.naming import printable

from .base import Reporter
from .common import listed

ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def cell(text) -> str:
    """Text from logs (run and metric names, messages) as table-cell text: no
    markup (HTML is escaped), no column breaks, one line, and control
    characters, bytes that were not UTF-8 and bidi overrides shown escaped
    (``\\x1b``), as in every text output."""
    text = html.escape(printable(str(text).replace("\r", " ").replace("\n", " ")),
                       quote=False).replace("\\", "\\\\")
    for char in "|[]*`~":
        text = text.replace(char, "\\" + char)
    return text


def code(text) -> str:
    """A name shown as code: ``<code>`` rather than backticks, which a name
    may hold itself."""
    text = html.escape(printable(str(text)), quote=False)
    return f"<code>{text.replace('|', '&#124;')}</code>"


class MarkdownReporter(Reporter):
    name = "markdown"
    summary = "a GitHub-flavoured Markdown table (a PR comment, a job summary)"

    def render(self, result, options) -> str:
        return document(result, listed=listed(result, options)).rstrip("\n")


def document(result, *, images: dict | None = None, listed=None) -> str:
    """The Markdown page; ``images``: run -> plot paths to link (report.md);
    ``listed``: the findings in the table (default: all), counted all the same."""
    counts = {s: sum(f.severity == s for f in result.findings) for s in ICON}
    findings = result.findings if listed is None else listed
    runs = result.runs
    lines = ["## loss-doctor", "",
             f"{len(runs)} run(s), {result.points:,} points: "
             + (", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}"
                          for s, n in counts.items() if n) or "no findings"), ""]
    if findings:
        lines += ["| # | severity | code | run | metric | steps | finding |",
                  "|---:|---|---|---|---|---|---|"]
        for f in findings:
            steps = f"{f.step_start}" if f.step_start == f.step_end else \
                f"{f.step_start}–{f.step_end}"
            lines.append(f"| {f.rank} | {ICON[f.severity]} {f.severity} | `{f.code}` | "
                         f"{cell(f.run)} | {code(f.metric)} | {steps} | {cell(f.message)} |")
    if len(findings) < len(result.findings):
        lines += ["", f"{len(result.findings) - len(findings)} info finding(s) not listed "
                      "(--show-info)"]
    unjudged = [r for r in runs if r.not_checked]
    if unjudged:
        lines += ["", "### Runs not checked", ""]
        lines += [f"- {cell(r.run)}: {cell(r.not_checked)}" for r in unjudged]
    if result.errors:
        lines += ["", "### Files that could not be read", ""]
        lines += [f"- {code(e.path)}: {cell(e.message)}" for e in result.errors]
    if images:
        lines += ["", "### Plots", ""]
        for run, paths in images.items():
            lines.append(f"#### {cell(run)}")
            lines += [f"![{cell(run)}]({p})" for p in paths]
    return "\n".join(lines) + "\n"
