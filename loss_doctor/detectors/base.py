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


def describe_lr(ctx: dict, unit: str = "step") -> str:
    """What the lr was doing, from :meth:`RunView.lr_context` (at a step, or
    over a span: ``through its peak`` when the span holds warmup and decay)."""
    if not ctx:
        return ""
    phase, lr = ctx["lr_phase"], ctx["lr"]
    if phase == "constant":
        return f"; the lr was constant at {lr:.3g}"
    if phase == "at its peak":
        return f"; the lr was at its peak, {lr:.3g}"
    peak = f"peak {ctx['lr_peak']:.3g} at {unit} {ctx['lr_peak_step']}"
    if "lr_end" in ctx:
        return f"; over this span the lr went from {lr:.3g} to {ctx['lr_end']:.3g} ({phase}, " \
               f"{peak})"
    return f"; the lr was {phase} ({lr:.3g}, {peak})"


# Vocabulary sizes of common tokenizers: a language model predicting uniformly
# over one of them sits at ln(V) (GPT-2 50257, LLaMA 32000, BERT 30522 ...).
VOCABULARIES = (1000, 10000, 30522, 32000, 32768, 49152, 50257, 50304, 50432, 65024, 65536,
                100277, 128000, 128256, 151936, 152064, 250002, 256000, 262144)


def chance_level(value: float) -> int | None:
    """k if ``value`` is within 1% of ln(k), k = 2..20 (a classifier at
    chance), or within 0.01% of ln(V) for a common vocabulary size V (a
    language model predicting uniformly)."""
    for k in range(2, 21):
        if abs(value - math.log(k)) <= 0.01 * math.log(k):
            return k
    for k in VOCABULARIES:
        if abs(value - math.log(k)) <= 1e-4 * math.log(k):
            return k
    return None


def chance_words(k: int) -> str:
    what = f"{k} classes" if k <= 20 else f"a {k}-token vocabulary"
    return f"it sits at ln {k} = {math.log(k):.3f}, chance level for {what}"


def far_too_low(ctx: dict) -> str:
    """The words for an lr that cannot move the weights (peak at most 1e-6)."""
    if ctx and ctx["lr_peak"] <= 1e-6:
        how = "was constant at" if ctx["lr_phase"] == "constant" else "peaked at"
        return (f"; the lr {how} {ctx['lr_peak']:.3g}, far too low to move the weights "
                f"(fine-tuning uses about 1e-5 to 1e-3)")
    return ""


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
