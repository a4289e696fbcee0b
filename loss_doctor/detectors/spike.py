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
points (otherwise it is a level shift: LD102's business), and it is rare for
this series: at most ``max_share`` (1%) of the other points rise even half as
far above their own trailing median (per-example losses at batch size 1 jump
10x all the time; a spike is what the series does not otherwise do).

Validation losses are judged too, against a trailing window of a quarter of
the evaluations (5 to ``window``): Keras-style logs of a few dozen epochs have
no more history than that.  O(n log window), in bottleneck; the IQR only
where a point is ``min_ratio`` above the median.
"""

from __future__ import annotations

import math

import numpy as np

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

    roles = ("train_loss", "val_loss")

    def __init__(self, *, window: int = 50, z: float = 8.0, min_ratio: float = 1.5,
                 big_ratio: float = 5.0, over_max: float = 2.5, recovery: int = 10,
                 min_prior: int = 10, min_series: int = 30, max_share: float = 0.01,
                 min_evaluations: int = 20):
        self.window = window
        self.max_share = max_share
        self.min_evaluations = min_evaluations
        self.z = z
        self.min_ratio = min_ratio
        self.big_ratio = big_ratio
        self.over_max = over_max
        self.recovery = recovery
        self.min_prior = min_prior
        self.min_series = min_series


    def _events(self, z: np.ndarray, window: int, min_prior: int):
        med, top = stats.trailing(z, window, min_prior)
        with np.errstate(invalid="ignore"):
            lift = z - med
            hit = (lift > math.log(self.big_ratio)) & (z - top > math.log(self.over_max))
            # the z-score needs the window's IQR, and only where the ratio holds too
            tall = np.flatnonzero(lift > math.log(self.min_ratio))
            scale = np.maximum(stats.trailing_iqr(z, window, tall) / 1.349, 1e-6)
            hit[tall] |= lift[tall] > self.z * scale
        hit &= np.isfinite(med)
        found = []
        for start, end in stats.runs_of(hit):
            peak = start + int(np.argmax(z[start:end]))
            back = med[start] + math.log(self.min_ratio)
            after = z[end:end + self.recovery]
            below = np.flatnonzero(after <= back)
            if below.size == 0:
                continue  # no recovery: a level shift, not a spike
            found.append((start, peak, float(math.exp(z[peak] - med[start])),
                          end + int(below[0])))
        # rare for this series: away from every candidate and the ``recovery``
        # points after it (a val loss decays back over a few evaluations), at
        # most max_share of the points rise half as far above their median
        quiet = np.isfinite(lift)
        for start, _, _, back in found:
            quiet[start:back + self.recovery + 1] = False
        rest = lift[quiet]
        return [(peak, height, back) for start, peak, height, back in found
                if not rest.size or np.mean(rest >= 0.5 * math.log(height)) <= self.max_share]

    def check_series(self, run, series):
        series = series.finite_prefix()
        n = series.values.size
        evaluations = series.role.role == "val_loss"
        if n < (self.min_evaluations if evaluations else self.min_series):
            return None
        z, logged = series.logged()
        if not logged:
            return None
        if evaluations:
            window = int(min(self.window, max(5, n // 4)))
            events = self._events(z, window, min(self.min_prior, window))
        else:
            events = self._events(z, self.window, self.min_prior)
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
        unit = run.unit
        if len(spikes) == 1:
            message = (f"{series.metric} spiked to {big['value']:.3g}, {big['height']:.1f}x "
                       f"its recent median, at {unit} {big['step']} and was back within "
                       f"{big['recovery_steps']} {unit}s")
        elif len(spikes) <= 5:
            message = (f"{series.metric} spiked {len(spikes)} times, each far above its recent "
                       f"median: " + ", ".join(f"{s['height']:.1f}x at {unit} {s['step']}"
                                               for s in spikes))
        else:
            message = (f"{series.metric} spiked {len(spikes)} times between {unit}s "
                       f"{spikes[0]['step']} and {spikes[-1]['step']}, the largest "
                       f"{big['height']:.1f}x its recent median at {unit} {big['step']}")
        if "grad_norm_ratio" in big and big["grad_norm_ratio"] > 2:
            message += f"; {grad.metric} jumped {big['grad_norm_ratio']:.1f}x with it"
        message += describe_lr(lr, unit)
        score = min(0.95, 0.45 + 0.1 * math.log2(big["height"]) + 0.03 * len(spikes))
        return self.finding(series, score=score, start=spikes[0]["step"],
                            end=spikes[-1]["recovered_at_step"], message=message,
                            evidence={"spikes": spikes[:50], "count": len(spikes), **lr})
