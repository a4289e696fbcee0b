"""The detectors: one module each, registered here and through the
``loss_doctor.detectors`` entry-point group (a class with ``code``, ``name``,
``check(run) -> list[Finding]``)."""

from __future__ import annotations

import inspect

from loss_doctor.plugins import by_name
from loss_doctor.records import Rule

from .base import Detector, RunView, Series
from .best_checkpoint import BestCheckpoint
from .converged import Converged
from .divergence import Divergence
from .gap import Gap
from .lr_schedule import LrSchedule
from .nonfinite import NonFinite
from .oscillation import Oscillation
from .overfitting import Overfitting
from .plateau import Plateau
from .spike import Spike

BUILTIN: tuple[type[Detector], ...] = (NonFinite, Divergence, Spike, Oscillation, Plateau,
                                       Overfitting, BestCheckpoint, Converged, Gap,
                                       LrSchedule)

__all__ = ["BUILTIN", "Detector", "RunView", "Series", "registry", "rule_of", "rules"]


def registry() -> dict[str, type[Detector]]:
    """Built-in detectors and those of installed plugins, by name."""
    return dict(by_name("loss_doctor.detectors", BUILTIN))


def rule_of(cls: type[Detector]) -> Rule:
    """What reports say of a detector: its code, summary, hint, docstring."""
    doc = inspect.getmodule(cls).__doc__ or ""
    description = " ".join(doc.strip().split("\n\n")[0].split())
    return Rule(cls.code, cls.name, cls.kind, cls.severity, cls.summary, cls.hint, description)


def rules() -> tuple[Rule, ...]:
    """Every known detector's rule, by code."""
    return tuple(sorted((rule_of(cls) for cls in registry().values()), key=lambda r: r.code))
