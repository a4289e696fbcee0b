"""LD202 oscillation: the smoothed loss swings widely with no net progress.

Statistic (variance windows), in log space, over the second half of the run:
the centred rolling median ``m`` (window a sixteenth of the series, 15-251
points) with its linear trend removed.  Per-batch
noise alone moves a median of ``w`` points by about ``1.25 * sigma / sqrt(w)``
(``sigma``: MAD of first differences), so the spread of the detrended median
(its 5%-95% range) is compared with ``noise_k`` times that, and with
``log(min_swing)``.  It fires only if the swing is large, not shrinking (the
last quarter swings at least half as much as the third), and the loss made no
net progress over the window (the median of its last third is not below that
of its first third by more than ``max_progress`` or half the swing).  Compare
AutoTrainer's count of local max/min pairs and BTTackler's coefficient of
variation of the second half against the first (DETECTION notes): both fire
on plain per-batch noise; this compares the swing with what that noise can do.

Periodic swings (data sorted by class and never shuffled: the same swing
every epoch) are found by autocorrelation (:func:`loss_doctor.stats.periodic`:
a peak at lag L after a dip, high again at 2L) of the log loss: the median
profile over the periods of the second half must swing ``min_swing`` or more,
and the per-period medians make no net progress.  Where the logged lr is
itself cyclic (:func:`loss_doctor.stats.cyclic`: a triangular cycle, warm
restarts; it rises again after falling) the swings are the schedule's, and
nothing is said.
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import stats

from .base import SeriesDetector, describe_lr


def _swing(x: np.ndarray) -> float:
    if x.size < 4:
        return 0.0
    low, high = stats.quantiles(stats.detrend(x), (0.05, 0.95))
    return float(high - low)


class Oscillation(SeriesDetector):
    code = "LD202"
    name = "oscillation"
    kind = "oscillation"
    severity = "warning"
    summary = "large swings of the smoothed loss with no net progress"
    hint = "the lr is likely too high for this batch size: lower it or add decay"

    def __init__(self, *, min_swing: float = 1.5, noise_k: float = 8.0,
                 max_progress: float = 0.1, min_series: int = 60):
        self.min_swing = min_swing
        self.noise_k = noise_k
        self.max_progress = max_progress
        self.min_series = min_series


    def check_series(self, run, series):
        series = series.finite_prefix()
        n = series.values.size
        if n < self.min_series:
            return None
        z, logged = series.logged()
        if not logged:
            return None
        found = stats.periodic(z)
        if found is not None:
            return self._periodic(run, series, z, *found)
        w = stats.level_window(n, share=16, high=251)
        half = n // 2
        tail = stats.rolling_median(z, w, half)  # only the second half is judged
        swing = _swing(tail)
        noise = 1.25 * stats.noise_scale(z) / math.sqrt(w)
        threshold = max(math.log(self.min_swing), self.noise_k * noise)
        if swing <= threshold:
            return None
        quarter = tail.size // 2
        if _swing(tail[quarter:]) < 0.5 * _swing(tail[:quarter]):
            return None  # settling down
        third = max(1, tail.size // 3)
        progress = stats.median(tail[:third]) - stats.median(tail[-third:])
        if progress > max(-math.log(1 - self.max_progress), 0.5 * swing):
            return None  # still improving, more than the swings
        start, end = int(series.steps[half]), int(series.steps[-1])
        ratio = math.exp(swing)
        message = (f"{series.metric} swings {ratio:.1f}x (smoothed, 5-95% range) over "
                   f"{run.unit}s {start}-{end} with no net progress"
                   + describe_lr(run.lr_context(start, end), run.unit))
        score = min(0.9, 0.5 + 0.2 * math.log2(ratio / self.min_swing + 1))
        return self.finding(series, score=score, start=start, end=end, message=message,
                            evidence={"swing_ratio": ratio, "threshold_ratio":
                                      math.exp(threshold), "noise_sigma": noise,
                                      "progress": progress, **run.lr_context(start)})

    def _periodic(self, run, series, z, lag: int, acf: float):
        lr = run.primary("lr")
        if lr is not None and stats.cyclic(lr.finite_prefix().values) is not None:
            return None  # a cyclic schedule or warm restarts: the swings are its
        periods = z.size // lag
        rows = z[z.size - periods * lag:].reshape(periods, lag)
        medians = np.median(rows, axis=1)
        profile = np.median(rows[periods // 2:], axis=0)
        swing = float(np.ptp(profile))
        if swing < math.log(self.min_swing):
            return None
        head = max(1, periods // 4)
        progress = float(np.median(medians[:head * 2]) - np.median(medians[-head:]))
        if progress > max(-math.log(1 - self.max_progress), 0.25 * swing):
            return None  # it swings, and it still learns
        steps = series.steps
        span = int(np.median(np.diff(steps))) if steps.size > 1 else 1
        unit = run.unit
        start, end = int(steps[0]), int(steps[-1])
        lo, hi = float(np.exp(profile.min())), float(np.exp(profile.max()))
        message = (f"{series.metric} swings between {lo:.3g} and {hi:.3g} with a period of "
                   f"{lag * span} {unit}s (autocorrelation {acf:.2f} at that lag), the same "
                   f"swing every period over {unit}s {start}-{end}, with no net progress"
                   + describe_lr(run.lr_context(start, end), unit))
        score = min(0.9, 0.5 + 0.2 * math.log2(hi / lo / self.min_swing + 1))
        return self.finding(series, score=score, start=start, end=end, message=message,
                            hint="the same swing every period is the order of the data: "
                                 "shuffle the training set every epoch (a file sorted by "
                                 "class, read in order, teaches one class at a time)",
                            evidence={"period": lag * span, "autocorrelation": acf,
                                      "swing_low": lo, "swing_high": hi,
                                      "progress": progress, "periods": periods})
