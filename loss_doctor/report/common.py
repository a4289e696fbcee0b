"""What the CI formats share: where a finding lives and a stable identity."""

from __future__ import annotations

import hashlib
import os

from loss_doctor.findings import Finding


def fingerprint(f: Finding) -> str:
    return hashlib.sha256(f.identity.encode()).hexdigest()[:32]


def listed(result, options) -> list[Finding]:
    """The findings a CI format lists: info findings only with ``--show-info``
    (a job summary of 30 "converged" notes hides the one error)."""
    if options.show_info:
        return list(result.findings)
    return [f for f in result.findings if f.severity != "info"]


def run_files(runs) -> dict[str, str]:
    """Run id -> the log file to point at (its first file), relative to the
    current directory where possible, with ``/`` separators."""
    out = {}
    for run in runs:
        path = run.files[0] if run.files else run.path
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            rel = path
        if rel.startswith(".."):
            rel = path
        out[run.run] = rel.replace(os.sep, "/")
    return out


def location_of(f: Finding, files: dict[str, str]) -> str:
    return files.get(f.run, f.run)


# The colours of series in every chart, PNG and interactive alike (matplotlib's tab10).
PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f"]
