"""What every detector shares: the series it sees, its parameters, lr context."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from loss_doctor import stats
from loss_doctor.findings import Finding
from loss_doctor.roles import Role, pairs, primary


@dataclass(frozen=True)
class Series:
    """One metric of one run, sorted by step (values may hold NaN/inf)."""

    run: str
    metric: str
    role: Role
    steps: np.ndarray
    values: np.ndarray

    def finite_prefix(self) -> "Series":
        """The points before the first non-finite value (what a curve detector
        should judge: after a NaN the rest is LD101's business)."""
        bad = np.flatnonzero(~np.isfinite(self.values))
        if not bad.size:
            return self
        end = int(bad[0])
        return Series(self.run, self.metric, self.role, self.steps[:end], self.values[:end])

    def index_at(self, step: int) -> int:
        """The index of the last point at or before ``step`` (-1 before the first)."""
        return int(np.searchsorted(self.steps, step, side="right")) - 1

    def value_at(self, step: int) -> float:
        """The value at the last point at or before ``step`` (NaN before the first)."""
        i = self.index_at(step)
        return float(self.values[i]) if i >= 0 else math.nan

    def smoothed(self) -> np.ndarray:
        """The centred rolling median the detectors judge levels by (linear space)."""
        return stats.rolling_median(self.values, stats.smoothing_window(self.values.size))


@dataclass
class RunView:
    """Everything a detector may look at for one run."""

    run: str
    series: dict[str, Series]
    roles: dict[str, Role] = field(default_factory=dict)

    def of_role(self, *roles: str) -> list[Series]:
        return [s for s in self.series.values() if s.role.role in roles]

    def primary(self, role: str) -> Series | None:
        found = primary(self.roles, role)
        return self.series[found.name] if found else None

    def main_curve(self, *roles: str, min_points: int = 1) -> Series | None:
        """The finite part of the first role's main series that exists, if it
        has at least ``min_points`` points."""
        for role in roles:
            series = self.primary(role)
            if series is not None:
                series = series.finite_prefix()
                return series if series.values.size >= min_points else None
        return None

    def pairs(self) -> list[tuple[Series, Series]]:
        return [(self.series[t.name], self.series[v.name]) for t, v in pairs(self.roles)]

    def lr_context(self, step: int) -> dict:
        """What the learning rate was doing at ``step`` (empty if not logged)."""
        lr = self.primary("lr")
        if lr is None or lr.values.size < 3:
            return {}
        values = lr.values
        i = max(0, lr.index_at(step))
        peak_i = int(np.nanargmax(values))
        peak = float(values[peak_i])
        now = float(values[i])
        if peak <= 0 or not math.isfinite(peak):
            return {}
        if np.ptp(values[np.isfinite(values)]) <= 0.01 * peak:
            phase = "constant"
        elif now >= 0.95 * peak:
            phase = "at its peak"
        elif i < peak_i:
            phase = "warming up"
        else:
            phase = "decaying"
        return {"lr": now, "lr_peak": peak, "lr_peak_step": int(lr.steps[peak_i]),
                "lr_phase": phase}


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
