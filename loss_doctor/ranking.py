"""Order findings across all runs: severity first, then score; number them."""

from __future__ import annotations

from .findings import SEVERITY_ORDER, Finding


def rank(findings: list[Finding]) -> list[Finding]:
    ordered = sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], -f.score, f.run,
                                              f.metric, f.code, f.step_start))
    return [f.with_rank(i) for i, f in enumerate(ordered, 1)]
