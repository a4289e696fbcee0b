"""``--format github``: GitHub Actions workflow commands.

``::error file=F,line=1,title=T::message`` (``::warning``, ``::notice`` for
info).  Messages escape ``%``, CR and LF; property values also ``:`` and ``,``.
GitHub shows at most 10 errors and 10 warnings per step, so at most 10 per
level are printed, then one notice with the count left out; the whole table
goes to ``$GITHUB_STEP_SUMMARY`` (Markdown) when that is set.
"""

from __future__ import annotations

import os

from parsers.naming import printable

from .base import Reporter
from .common import listed, location_of, run_files
from .markdown import MarkdownReporter

LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
PER_LEVEL = 10


def escape_data(text: str) -> str:
    """A workflow command's message: GitHub's own escapes for %, CR and LF
    (callers pass text through :func:`parsers.naming.printable` first, so no
    other control character reaches the log)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    name = "github"
    summary = "GitHub Actions annotations; the full table into $GITHUB_STEP_SUMMARY"

    def render(self, result, options) -> str:
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:  # the full table, beyond GitHub's 10 annotations per level
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(MarkdownReporter().render(result, options) + "\n")
        return _commands(result, listed(result, options))


def annotation(f, props: str = "") -> str:
    """One finding as a workflow command; ``props``: ``file=...,line=...,``."""
    title = escape_property(printable(f"{f.code} {f.kind}: {f.run} {f.metric}"))
    return f"::{LEVEL[f.severity]} {props}title={title}::{escape_data(printable(f.message))}"


def _commands(result, findings) -> str:
    files = run_files(result.runs)
    lines, shown, left = [], {}, {}
    for f in findings:
        level = LEVEL[f.severity]
        if shown.get(level, 0) >= PER_LEVEL:
            left[level] = left.get(level, 0) + 1
            continue
        shown[level] = shown.get(level, 0) + 1
        lines.append(annotation(f, f"file={escape_property(printable(location_of(f, files)))},"
                                   "line=1,"))
    for level, count in left.items():
        lines.append(f"::notice title=loss-doctor::{count} more {level} finding(s) not shown "
                     "here (GitHub shows 10 per level); see the step summary")
    unjudged = [r for r in result.runs if r.not_checked]
    if unjudged:
        names = "; ".join(f"{r.run} ({r.not_checked})" for r in unjudged[:PER_LEVEL])
        more = f"; and {len(unjudged) - PER_LEVEL} more" if len(unjudged) > PER_LEVEL else ""
        lines.append(f"::notice title=loss-doctor: not checked::{len(unjudged)} run(s) "
                     f"nothing could judge: {escape_data(printable(names + more))}")
    for err in result.errors:
        lines.append(f"::error file={escape_property(printable(err.path))},title=unreadable "
                     f"log::{escape_data(printable(err.message))}")
    return "\n".join(lines)
