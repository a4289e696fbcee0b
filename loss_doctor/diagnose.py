"""frame -> roles -> detectors -> ranked findings."""

from __future__ import annotations

import os

import pandas as pd

import parsers
from parsers.frame import iter_series

from . import roles as roles_mod
from .config import Config
from .detectors import RunView, Series, registry
from .findings import Finding
from .ranking import rank
from .selection import selected


def run_views(df: pd.DataFrame, role_overrides: dict[str, str] | None = None):
    """One :class:`RunView` per run of a parsers frame (sorted by run, metric, step)."""
    current, series = None, {}
    for run, metric, steps, values in iter_series(df):
        if run != current:
            if current is not None:
                yield _view(current, series, role_overrides)
            current, series = run, {}
        series[metric] = (steps, values)
    if current is not None:
        yield _view(current, series, role_overrides)


def _view(run, raw, overrides) -> RunView:
    roles = roles_mod.assign_all(raw, overrides)
    series = {m: Series(run, m, roles[m], s, v) for m, (s, v) in raw.items()}
    return RunView(run, series, roles)


def build_detectors(config: Config):
    known = registry()
    out = []
    for name, cls in known.items():
        if not selected(cls.code, config.select, config.ignore):
            continue
        out.append(cls(**config.params.get(name, {})))
    return out


def diagnose_frame(df: pd.DataFrame, config: Config) -> list[Finding]:
    """Ranked findings for a frame."""
    detectors = build_detectors(config)
    findings: list[Finding] = []
    for view in run_views(df, config.roles):
        for detector in detectors:
            findings.extend(f for f in detector.check(view)
                            if selected(f.code, config.select, config.ignore))
    return rank(findings)


def diagnose(frame_or_path, **config) -> list[Finding]:
    """Ranked findings for a parsers frame or a log directory/file path.

    ``config`` takes what ``[tool.loss_doctor]`` takes: ``select``, ``ignore``,
    ``roles`` (metric -> role) and per-detector parameter dicts by detector
    name (``divergence={"min_ratio": 1.5}``)."""
    if isinstance(frame_or_path, (str, os.PathLike)):
        frame = parsers.read_logdir(frame_or_path)
    else:
        frame = frame_or_path
    return diagnose_frame(frame, Config.from_mapping(config))
