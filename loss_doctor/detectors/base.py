"""What every detector shares: its parameters, its findings, lr context.

The series a detector sees are :class:`loss_doctor.views.RunView` and
:class:`loss_doctor.views.Series` (re-exported here for detector plugins).
"""

from __future__ import annotations

import inspect
import math

from loss_doctor.findings import Finding
from loss_doctor.views import RunView, Series

__all__ = ["Detector", "RunView", "Series", "SeriesDetector", "chance_level", "describe_lr"]


def describe_lr(ctx: dict) -> str:
    if not ctx:
        return ""
    if ctx["lr_phase"] == "constant":
        return f"; the lr was constant at {ctx['lr']:.3g}"
    if ctx["lr_phase"] == "at its peak":
        return f"; the lr was at its peak, {ctx['lr']:.3g}"
    return (f"; the lr was {ctx['lr_phase']} ({ctx['lr']:.3g}, peak {ctx['lr_peak']:.3g} "
            f"at step {ctx['lr_peak_step']})")


def chance_level(value: float) -> int | None:
    """k if ``value`` is within 1% of ln(k), k = 2..20: a classifier at chance."""
    for k in range(2, 21):
        if abs(value - math.log(k)) <= 0.01 * math.log(k):
            return k
    return None


class Detector:
    """Base class.  Subclasses set ``code``, ``name``, ``kind``, ``severity``,
    ``summary`` (one line) and ``hint``, take keyword-only parameters with
    defaults in ``__init__`` (config maps onto them) and implement ``check``."""

    code = ""
    name = ""
    kind = ""
    severity = "warning"
    summary = ""
    hint = ""

    def check(self, run: RunView) -> list[Finding]:
        raise NotImplementedError

    @classmethod
    def parameters(cls) -> dict:
        """Parameter names and defaults, from ``__init__``'s signature."""
        sig = inspect.signature(cls.__init__)
        return {p.name: p.default for p in sig.parameters.values()
                if p.kind == p.KEYWORD_ONLY}

    def finding(self, series: Series, *, score: float, start: int, end: int, message: str,
                evidence: dict, severity: str | None = None, hint: str | None = None,
                code: str | None = None) -> Finding:
        return Finding(code=code or self.code, kind=self.kind,
                       severity=severity or self.severity, score=score, run=series.run,
                       metric=series.metric, step_start=int(start), step_end=int(end),
                       message=message, evidence=evidence,
                       hint=self.hint if hint is None else hint)


class SeriesDetector(Detector):
    """A detector that judges each series of some roles on its own:
    subclasses implement ``check_series(run, series) -> Finding | None``."""

    roles: tuple[str, ...] = ("train_loss",)

    def check(self, run: RunView) -> list[Finding]:
        found = (self.check_series(run, s) for s in run.of_role(*self.roles))
        return [f for f in found if f is not None]

    def check_series(self, run: RunView, series: Series) -> Finding | None:
        raise NotImplementedError
