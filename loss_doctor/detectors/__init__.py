"""The detectors: one module each, registered here and through the
``loss_doctor.detectors`` entry-point group (a class with ``code``, ``name``,
``check(run) -> list[Finding]``)."""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

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

__all__ = ["BUILTIN", "Detector", "RunView", "Series", "registry"]


def registry() -> dict[str, type[Detector]]:
    """Built-in detectors and those of installed plugins, by name."""
    return dict(_registry())


@functools.cache
def _registry() -> dict[str, type[Detector]]:
    """Scanning the installed distributions for entry points takes milliseconds:
    once per process, not once per run."""
    found = {cls.name: cls for cls in BUILTIN}
    for ep in entry_points(group="loss_doctor.detectors"):
        cls = ep.load()
        found[cls.name] = cls
    return found
