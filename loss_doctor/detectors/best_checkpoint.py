"""LD501 best checkpoint (info): where the main validation loss was lowest.

Statistic: argmin of the main validation loss (argmax of the main validation
metric when no loss is logged), over finite evaluations only.
"""

from __future__ import annotations

import numpy as np

from .base import Detector, RunView


class BestCheckpoint(Detector):
    code = "LD501"
    name = "best_checkpoint"
    kind = "info"
    severity = "info"
    summary = "the step with the best validation loss"
    hint = ""

    def __init__(self, *, min_evaluations: int = 2):
        self.min_evaluations = min_evaluations

    def check(self, run: RunView):
        series = run.primary("val_loss") or run.primary("val_metric")
        if series is None:
            return []
        finite = np.isfinite(series.values)
        if finite.sum() < self.min_evaluations:
            return []
        values = np.where(finite, series.values, np.nan)
        best = int(np.nanargmax(values) if series.role.direction == "up"
                   else np.nanargmin(values))
        step = int(series.steps[best])
        last = best == int(np.flatnonzero(finite)[-1])
        where = "the last evaluation" if last else \
            f"{int(finite[best + 1:].sum())} evaluation(s) before the end"
        message = (f"best {series.metric}: {series.values[best]:.4g} at step {step} "
                   f"({where})")
        return [self.finding(series, score=0.3, start=step, end=step, message=message,
                             evidence={"best_step": step,
                                       "best_value": float(series.values[best]),
                                       "is_last": last})]
