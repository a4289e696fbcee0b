"""What the CI formats share: where a finding lives and a stable identity."""

from __future__ import annotations

import hashlib
import os

from loss_doctor.findings import Finding


def step_bucket(step: int) -> int:
    """``step`` rounded down to 4 significant bits (within ~6%): a finding that
    moves a little as a run grows keeps its bucket."""
    step = max(int(step), 0)
    shift = max(0, step.bit_length() - 4)
    return (step >> shift) << shift


def identity(f: Finding) -> str:
    """Rule, run, metric and step bucket: what baselines and SARIF match on."""
    return f"{f.code}|{f.run}|{f.metric}|{step_bucket(f.step_start)}"


def fingerprint(f: Finding) -> str:
    return hashlib.sha256(identity(f).encode()).hexdigest()[:32]


def run_files(inventory: dict) -> dict[str, str]:
    """Run id -> the log file to point at (its first file), relative to the
    current directory where possible, with ``/`` separators."""
    out = {}
    for run in inventory["runs"]:
        path = run["files"][0] if run["files"] else run["path"]
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            rel = path
        if rel.startswith(".."):
            rel = path
        out[run["run"]] = rel.replace(os.sep, "/")
    return out


def location_of(f: Finding, files: dict[str, str]) -> str:
    return files.get(f.run, f.run)
