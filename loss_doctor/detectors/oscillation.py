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
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import stats

from .base import SeriesDetector, describe_lr


def _swing(x: np.ndarray) -> float:
    if x.size < 4:
        return 0.0
    t = np.arange(x.size)
    resid = x - np.polyval(np.polyfit(t, x, 1), t)
    return float(np.quantile(resid, 0.95) - np.quantile(resid, 0.05))


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
        z, logged = stats.log_if_positive(series.values)
        if not logged:
            return None
        w = stats.level_window(n, share=16, high=251)
        smooth = stats.rolling_median(z, w)
        half = n // 2
        tail = smooth[half:]
        swing = _swing(tail)
        noise = 1.25 * stats.noise_scale(z) / math.sqrt(w)
        threshold = max(math.log(self.min_swing), self.noise_k * noise)
        if swing <= threshold:
            return None
        quarter = tail.size // 2
        if _swing(tail[quarter:]) < 0.5 * _swing(tail[:quarter]):
            return None  # settling down
        third = max(1, tail.size // 3)
        progress = float(np.median(tail[:third]) - np.median(tail[-third:]))
        if progress > max(-math.log(1 - self.max_progress), 0.5 * swing):
            return None  # still improving, more than the swings
        start, end = int(series.steps[half]), int(series.steps[-1])
        ratio = math.exp(swing)
        message = (f"{series.metric} swings {ratio:.1f}x (smoothed, 5-95% range) over steps "
                   f"{start}-{end} with no net progress"
                   + describe_lr(run.lr_context(start)))
        score = min(0.9, 0.5 + 0.2 * math.log2(ratio / self.min_swing + 1))
        return self.finding(series, score=score, start=start, end=end, message=message,
                            evidence={"swing_ratio": ratio, "threshold_ratio":
                                      math.exp(threshold), "noise_sigma": noise,
                                      "progress": progress, **run.lr_context(start)})
