"""LD501 best checkpoint (info): where the main validation loss was lowest.

Statistic: argmin of the main validation loss (argmax of the main validation
metric when no loss is logged), over finite evaluations only; evaluations
after it that were NaN/inf are counted apart (the best is not "the last
evaluation" when NaN ones came after it).  Where the run's own selection
metric (a Trainer's ``best_metric``, WER, accuracy) is best elsewhere, both are
named.
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
        later = finite[best + 1:]
        good, bad = int(later.sum()), int((~later).sum())
        last = good == 0
        if not later.size:
            where = "the last evaluation"
        elif last:
            where = (f"the last finite evaluation; the {bad} after it were NaN/inf" if bad > 1
                     else "the last finite evaluation; the one after it was NaN/inf")
        else:
            where = f"{good} finite evaluation(s) came after it" + \
                (f", and {bad} NaN/inf" if bad else "")
        unit = run.unit
        message = (f"best {series.metric}: {series.values[best]:.4g} at {unit} {step} "
                   f"({where})")
        sel = run.selection()
        if sel and sel["metric"] != series.metric and sel["step"] != step:
            message += (f"; best {sel['metric']}: {sel['value']:.4g} at {unit} {sel['step']}"
                        + (f", the checkpoint the run kept ({sel['kept']})"
                           if sel["kept"] else ""))
        return [self.finding(series, score=0.3, start=step, end=step, message=message,
                             evidence={"best_step": step,
                                       "best_value": float(series.values[best]),
                                       "is_last": last, "nonfinite_after": bad,
                                       "selection": sel})]
