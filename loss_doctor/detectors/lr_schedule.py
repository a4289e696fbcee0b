"""LD504 lr schedule (info): what the logged learning rate did.

Statistic: the main lr series' peak and its step; warmup if it rose to the
peak from below half of it over several points, a jump if it rose in one
(an lr raised by hand on resuming); after the peak, the decay shape by which
of linear, cosine and step (few distinct values) fits best (least squares), or
constant if it moved by less than 1%; cyclic (a triangular cycle, warm
restarts) where it rises again after falling and repeats with a period (a
step decay's staircase repeats too, and is a step decay).
"""

from __future__ import annotations

import numpy as np

from loss_doctor import stats

from .base import Detector, RunView


def _shape(x: np.ndarray) -> str:
    if x.size < 4 or x[0] <= 0:
        return "decay"
    y = x / x[0]
    t = np.linspace(0, 1, x.size)
    end = y[-1]
    fits = {"linear": 1 - (1 - end) * t,
            "cosine": end + (1 - end) * 0.5 * (1 + np.cos(np.pi * t))}
    errors = {k: float(np.mean((y - f) ** 2)) for k, f in fits.items()}
    if _distinct(np.round(y, 6)) <= max(3, x.size // 20):
        return "step"
    best = min(errors, key=errors.get)
    return best if errors[best] < 1e-3 else "decay"


def _distinct(y: np.ndarray) -> int:
    """How many distinct values ``y`` holds: its runs of equal values where it
    is monotone (a decay, without sorting millions of points), else by sorting."""
    if y.size < 2:
        return int(y.size)
    if np.all(y[1:] <= y[:-1]) or np.all(y[1:] >= y[:-1]):
        return 1 + int(np.count_nonzero(y[1:] != y[:-1]))
    return int(np.unique(y).size)


class LrSchedule(Detector):
    code = "LD504"
    name = "lr_schedule"
    kind = "info"
    severity = "info"
    summary = "the learning-rate schedule seen in the logs"
    hint = ""

    def check(self, run: RunView):
        lr = run.primary("lr")
        if lr is None:
            return []
        lr = lr.finite_prefix()
        x = lr.values
        if x.size < 3 or np.max(x) <= 0:
            return []
        peak_i = int(np.argmax(x))
        peak = float(x[peak_i])
        steps = lr.steps
        unit = run.unit
        constant = np.ptp(x) <= 0.01 * peak
        cycle = None if constant else stats.cyclic(x)
        if constant:
            message = f"lr constant at {peak:.3g}"
            shape = "constant"
        elif cycle is not None:
            every = cycle[0] * (int(np.median(np.diff(steps))) if steps.size > 1 else 1)
            message = (f"lr schedule: cyclic, between {float(np.min(x)):.3g} and {peak:.3g} "
                       f"with a period of {every} {unit}s (a cyclic schedule or warm restarts)")
            shape = "cyclic"
        else:
            parts = []
            before = x[:peak_i]
            if peak_i > 0 and x[peak_i - 1] < 0.5 * peak and \
                    np.ptp(before) <= 0.01 * float(np.max(before)):
                parts.append(f"{float(before[-1]):.3g} until {unit} {int(steps[peak_i - 1])}, "
                             f"then raised to {peak:.3g} at {unit} {int(steps[peak_i])}")
            elif peak_i > 0 and x[0] < 0.5 * peak:
                parts.append(f"warmup to {peak:.3g} over {unit}s {int(steps[0])}-"
                             f"{int(steps[peak_i])}")
            else:
                parts.append(f"peak {peak:.3g} at {unit} {int(steps[peak_i])}")
            after = x[peak_i:]
            shape = _shape(after) if after.size > 3 and np.ptp(after) > 0.01 * peak \
                else "constant"
            if shape != "constant":
                kind = "" if shape == "decay" else f"{shape} "
                parts.append(f"then {kind}decay to {float(x[-1]):.3g} at {unit} "
                             f"{int(steps[-1])}")
            message = "lr schedule: " + ", ".join(parts)
        return [self.finding(lr, score=0.1, start=int(steps[0]), end=int(steps[-1]),
                             message=message,
                             evidence={"peak": peak, "peak_step": int(steps[peak_i]),
                                       "final": float(x[-1]), "shape": shape})]
