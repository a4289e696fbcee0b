"""LD201 spike: a point far above its trailing window that then recovers.

Statistic, in log space for positive losses, against the trailing window of
the previous ``window`` points (never the future): the rolling median, a robust
scale from the interquartile range (IQR / 1.349) and the rolling maximum.  A
point is a spike if

* its robust z-score exceeds ``z`` (8) AND it is ``min_ratio`` (1.5x) above the
  median: the two criteria together found every planted spike without flagging
  the ordinary bump early in fine-tuning (DETECTION notes; compare OLMo-core's
  mean + 6 sigma over 128 values, Megatron's 10x); or
* with per-batch noise too heavy for a z-score (small-batch fine-tuning), it
  is ``big_ratio`` (5x) above the median AND ``over_max`` (2.5x) above every point
  of the window.

and the series comes back below 1.5x the window median within ``recovery``
points (otherwise it is a level shift: LD102's business).  O(n log window).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from loss_doctor import stats

from .base import SeriesDetector, describe_lr


class Spike(SeriesDetector):
    code = "LD201"
    name = "spike"
    kind = "spike"
    severity = "warning"
    summary = "transient jumps far outside the local noise, then recovery"
    hint = ("look at the data of those steps (a corrupted or mislabeled batch?); clip "
            "gradients or lower the lr if spikes repeat")

    def __init__(self, *, window: int = 50, z: float = 8.0, min_ratio: float = 1.5,
                 big_ratio: float = 5.0, over_max: float = 2.5, recovery: int = 10,
                 min_prior: int = 10, min_series: int = 30):
        self.window = window
        self.z = z
        self.min_ratio = min_ratio
        self.big_ratio = big_ratio
        self.over_max = over_max
        self.recovery = recovery
        self.min_prior = min_prior
        self.min_series = min_series


    def _events(self, z: np.ndarray):
        roll = pd.Series(z).rolling(self.window, min_periods=self.min_prior)
        med = roll.median().shift(1).to_numpy()
        iqr = (roll.quantile(0.75) - roll.quantile(0.25)).shift(1).to_numpy()
        top = roll.max().shift(1).to_numpy()
        scale = np.maximum(iqr / 1.349, 1e-6)
        with np.errstate(invalid="ignore"):
            lift = z - med
            hit = ((lift > self.z * scale) & (lift > math.log(self.min_ratio))) | (
                (lift > math.log(self.big_ratio)) & (z - top > math.log(self.over_max)))
        hit &= np.isfinite(med)
        events = []
        for start, end in stats.runs_of(hit):
            peak = start + int(np.argmax(z[start:end]))
            back = med[start] + math.log(self.min_ratio)
            after = z[end:end + self.recovery]
            below = np.flatnonzero(after <= back)
            if below.size == 0:
                continue  # no recovery: a level shift, not a spike
            events.append((peak, float(math.exp(z[peak] - med[start])), end + int(below[0])))
        return events

    def check_series(self, run, series):
        series = series.finite_prefix()
        if series.values.size < self.min_series:
            return None
        z, logged = stats.log_if_positive(series.values)
        if not logged:
            return None
        events = self._events(z)
        if not events:
            return None
        steps = series.steps
        spikes = [{"step": int(steps[p]), "value": float(series.values[p]),
                   "height": round(h, 2), "recovered_at_step": int(steps[r]),
                   "recovery_steps": int(steps[r] - steps[p])} for p, h, r in events]
        big = max(spikes, key=lambda s: s["height"])
        grad = run.primary("grad_norm")
        if grad is not None:
            for spike in spikes:
                g = grad.value_at(spike["step"])
                before = int(np.searchsorted(grad.steps, spike["step"], side="left"))
                window = grad.values[max(0, before - self.window):before]
                if window.size and np.isfinite(g):
                    spike["grad_norm_ratio"] = round(float(g / np.median(window)), 2)
        lr = run.lr_context(big["step"])
        if len(spikes) == 1:
            message = (f"{series.metric} spiked to {big['value']:.3g}, {big['height']:.1f}x "
                       f"its recent median, at step {big['step']} and was back within "
                       f"{big['recovery_steps']} steps")
        else:
            message = (f"{series.metric} spiked {len(spikes)} times between steps "
                       f"{spikes[0]['step']} and {spikes[-1]['step']}, the largest "
                       f"{big['height']:.1f}x its recent median at step {big['step']}")
        if "grad_norm_ratio" in big and big["grad_norm_ratio"] > 2:
            message += f"; {grad.metric} jumped {big['grad_norm_ratio']:.1f}x with it"
        message += describe_lr(lr)
        score = min(0.95, 0.45 + 0.1 * math.log2(big["height"]) + 0.03 * len(spikes))
        return self.finding(series, score=score, start=spikes[0]["step"],
                            end=spikes[-1]["recovered_at_step"], message=message,
                            evidence={"spikes": spikes[:50], "count": len(spikes), **lr})
