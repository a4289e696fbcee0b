"""LD102 divergence: the loss rose persistently above its running minimum.

Measured against the running minimum, never against the start: a run that blows
up after warmup often settles at chance level, below where it started but far
above its best (loss_doctor's DETECTION notes: every peer rule comparing the
end with the start missed such runs; "smoothed loss >= 30% above its running
minimum, sustained" caught them without firing on healthy runs or lr decays).

Statistic, in log space for positive losses: a centred rolling median ``m``
(window an eighth of the series, 15-501 points: small-batch losses are often
bimodal, and only a wide median has a stable level), its running minimum, and
the excess ``m - min``.  The
excess must pass ``max(log(min_ratio), k * sigma_m)`` where ``sigma_m =
1.25 * sigma / sqrt(window)`` is the noise of the median and ``sigma`` the
robust noise scale (MAD of first differences); and stay above it to the end of
the series ("did not come back") for at least ``min_points`` points, a
twentieth of the series or two windows, whichever is least (but not below
``min_points``).  Then it must have doubled, or stayed up for ``long_share`` (a
quarter) of the run, or a Mann-Kendall test on binned medians after the
minimum must show a significant rise (p < ``max_p``): valid under the
autocorrelated noise of per-step losses.  A series that ends in NaN/inf is left
to LD101.
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import stats

from .base import SeriesDetector, chance_level, describe_lr


class Divergence(SeriesDetector):
    code = "LD102"
    name = "divergence"
    kind = "divergence"
    severity = "error"
    summary = "the loss rose far above its running minimum and did not come back"
    hint = ("lower the peak learning rate, lengthen warmup, clip gradients; resume from the "
            "checkpoint before the rise")

    def __init__(self, *, min_ratio: float = 1.3, noise_k: float = 5.0, min_points: int = 5,
                 doubling: float = 2.0, long_share: float = 0.25, max_p: float = 0.01,
                 min_series: int = 10):
        self.min_ratio = min_ratio
        self.noise_k = noise_k
        self.min_points = min_points
        self.doubling = doubling
        self.long_share = long_share
        self.max_p = max_p
        self.min_series = min_series

    def check_series(self, run, series):
        if not np.isfinite(series.values).all():
            return None  # ends in NaN/inf: LD101 reports it, with the lr context
        n = series.values.size
        if n < self.min_series:
            return None
        z, logged = stats.log_if_positive(series.values)
        w = stats.level_window(n)
        smooth = stats.rolling_median(z, w)
        running_min = np.minimum.accumulate(smooth)
        sigma = stats.noise_scale(z)
        threshold = max(math.log(self.min_ratio) if logged else 0.3 * abs(running_min[-1]),
                        self.noise_k * 1.25 * sigma / math.sqrt(w))
        above = smooth - running_min > threshold
        if not above[-1]:
            return None  # it came back (or never left): not a divergence
        start, end = stats.runs_of(above)[-1]
        if end - start < max(self.min_points, min(n // 20, 2 * w)):
            return None
        best = int(np.argmin(smooth[:start])) if start else 0
        tail_excess = float(np.median(smooth[start:] - smooth[best]))
        doubled = tail_excess >= (math.log(self.doubling) if logged else smooth[best])
        lasting = end - start >= self.long_share * n
        tau, p = stats.trend(z[best:])
        if not (doubled or lasting or (tau > 0 and p < self.max_p)):
            return None
        peak = start + int(np.argmax(smooth[start:]))
        low_i = best
        low = float(np.exp(smooth[best])) if logged else float(smooth[best])
        final = float(np.exp(smooth[-1])) if logged else float(smooth[-1])
        peak_value = float(np.exp(smooth[peak])) if logged else float(smooth[peak])
        ratio_peak = peak_value / low if logged and low > 0 else math.nan
        ratio_final = final / low if logged and low > 0 else math.nan
        onset = int(series.steps[start])
        message = (f"{series.metric} (rolling median of {w}) rose {ratio_peak:.1f}x above its "
                   f"minimum {low:.3g} (step {int(series.steps[low_i])}) from step {onset} and "
                   f"did not come back: {final:.3g} at the end ({ratio_final:.1f}x)") if logged \
            else (
                   f"{series.metric} rose from its minimum {low:.3g} at step "
                   f"{int(series.steps[low_i])} from step {onset} on and did not come back")
        k = chance_level(final) if logged else None
        if k and np.ptp(smooth[-max(3, n // 5):]) < 0.1:
            message += f"; it sits at ln {k} = {math.log(k):.3f}, chance level for {k} classes"
        lr = run.lr_context(onset)
        message += describe_lr(lr)
        evidence = {"min_value": low, "min_step": int(series.steps[low_i]),
                    "onset_step": onset, "peak_value": peak_value, "window": w,
                    "peak_step": int(series.steps[peak]), "final_value": final,
                    "ratio_peak": ratio_peak, "ratio_final": ratio_final,
                    "threshold_ratio": math.exp(threshold) if logged else threshold,
                    "noise_sigma": sigma, "trend_tau": tau, "trend_p": p,
                    "chance_classes": k, **lr}
        badness = math.log2(max(ratio_final if logged else 2.0, 1.0))
        score = 0.6 + 0.2 * min(1.0, badness / 3) + 0.2 * min(1.0, (end - start) / n * 2)
        return self.finding(series, score=score, start=onset, end=int(series.steps[-1]),
                            message=message, evidence=evidence)
