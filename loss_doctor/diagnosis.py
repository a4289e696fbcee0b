"""views -> detectors -> ranked findings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import parsers

from .config import Config, ConfigError
from .detectors import Detector, registry
from .findings import Finding, Findings
from .grouping import merge_related
from .ranking import rank
from .selection import selected
from .views import RunView, run_views

if TYPE_CHECKING:  # pandas is imported only where a frame is asked for
    import pandas as pd


def build_detectors(config: Config) -> list[Detector]:
    """The selected detectors with their configured parameters, in registry
    order.  A code prefix in ``select`` or ``ignore`` that matches no detector
    (a typo: ``LD9``, ``LD10l``) and a parameter a detector refuses are a
    :class:`ConfigError`."""
    known = registry()
    codes = sorted(cls.code for cls in known.values())
    for what, prefixes in (("select", config.select), ("ignore", config.ignore)):
        unknown = [p for p in prefixes if not any(code.startswith(p) for code in codes)]
        if unknown:
            raise ConfigError(f"{what} {', '.join(unknown)}: no detector has such a code "
                              f"(codes: {', '.join(codes)})")
    out = []
    for name, cls in known.items():
        if not selected(cls.code, config.select, config.ignore):
            continue
        try:
            out.append(cls(**config.params.get(name, {})))
        except TypeError as exc:
            raise ConfigError(f"bad detector parameter: {exc}") from None
    return out


def diagnose_view(view: RunView, detectors: list[Detector], config: Config) -> list[Finding]:
    """The findings of one run, unranked: every detector's, of the selected codes
    (a detector may report codes of several families), one per problem.
    (Detectors side by side in threads were tried on the 10M-point run: no
    faster within the noise of a 2-core machine, and 100 MB more at the peak,
    the threads' malloc arenas keeping what they freed.)"""
    findings: list[Finding] = []
    for detector in detectors:
        findings.extend(f for f in detector.check(view)
                        if selected(f.code, config.select, config.ignore))
    return merge_related(findings, view.unit)


def diagnose_frame(df: pd.DataFrame, config: Config) -> list[Finding]:
    """Ranked findings for a frame."""
    detectors = build_detectors(config)
    findings: list[Finding] = []
    for view in run_views(df, config.roles):
        findings.extend(diagnose_view(view, detectors, config))
    return rank(findings)


def diagnose(frame_or_path, **config) -> Findings:
    """Ranked findings for a parsers frame or a log directory/file path, as a
    :class:`loss_doctor.findings.Findings` (a list; ``.to_frame()``; a table in
    a notebook).

    ``config`` takes what ``[tool.loss_doctor]`` takes: ``select``, ``ignore``,
    ``roles`` (metric -> role) and per-detector parameter dicts by detector
    name (``divergence={"min_ratio": 1.5}``)."""
    if isinstance(frame_or_path, (str, os.PathLike)):
        frame = parsers.read_logdir(frame_or_path)
    else:
        frame = frame_or_path
    return Findings(diagnose_frame(frame, Config.from_mapping(config)))
