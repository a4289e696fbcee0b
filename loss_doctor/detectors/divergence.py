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
the series ("did not come back"; a run whose last smoothed point is within the
threshold of :func:`loss_doctor.median_bounds.floor` is cleared without the
median, most runs) for at least ``min_points`` points, a
twentieth of the series or two windows, whichever is least (but not below
``min_points``).  Then it must have doubled, or stayed up for ``long_share`` (a
quarter) of the run, or a Mann-Kendall test on binned medians after the
minimum must show a significant rise (p < ``max_p``): valid under the
autocorrelated noise of per-step losses.  A series that ends in NaN/inf is left
to LD101; one that swings with a period (unshuffled data) is LD202's.

Validation losses are judged the same way, with a narrower window (5 to 15
points: an evaluation averages a whole set, it has no per-batch noise), when
the training loss is too sparse to judge (fewer than ``min_series`` points, a
train loss logged every 500 steps) or absent; where the training loss fell
meanwhile the rise is LD401's overfitting, not a divergence.

Short runs (``min_short`` to ``short_series`` points, a smoke test) cannot make
a trend significant: they are judged by magnitude against the run's own
start.  The loss rose to at least ``doubling`` times its lowest point before
the last third, stayed there, and the tail is frozen (constant to 1e-4), at
chance level (ln(k) for k classes or a vocabulary) or an order of magnitude
up.

Where the minimum is near zero (below 1% of the start: a memorised training
set) ratios against it mean nothing (0.42 is "7000x" 6e-5): the message gives
the values.
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import median_bounds, stats

from .base import SeriesDetector, chance_level, chance_words, describe_lr


class Divergence(SeriesDetector):
    code = "LD102"
    name = "divergence"
    kind = "divergence"
    severity = "error"
    summary = "the loss rose far above its running minimum and did not come back"
    hint = ("lower the peak learning rate, lengthen warmup, clip gradients; resume from the "
            "checkpoint before the rise")

    roles = ("train_loss", "val_loss")

    def __init__(self, *, min_ratio: float = 1.3, noise_k: float = 5.0, min_points: int = 5,
                 doubling: float = 2.0, long_share: float = 0.25, max_p: float = 0.01,
                 min_series: int = 10, min_short: int = 5, short_series: int = 20):
        self.min_short = min_short
        self.short_series = short_series
        self.min_ratio = min_ratio
        self.noise_k = noise_k
        self.min_points = min_points
        self.doubling = doubling
        self.long_share = long_share
        self.max_p = max_p
        self.min_series = min_series

    def _judge_eval(self, run, series) -> bool:
        """Whether a validation loss is this detector's to judge: the training
        loss is too sparse or absent, and did not fall while it rose."""
        train = run.primary("train_loss")
        if train is None:
            return True
        train = train.finite_prefix()
        if train.values.size >= self.min_series:
            return False
        if train.values.size < 2:
            return True
        best = int(np.argmin(series.values))
        at_best = train.value_at(int(series.steps[best]))
        if not np.isfinite(at_best):
            at_best = float(train.values[0])
        return float(train.values[-1]) >= at_best  # it fell: overfitting, LD401's

    def check_series(self, run, series):
        if not np.isfinite(series.values).all():
            return None  # ends in NaN/inf: LD101 reports it, with the lr context
        n = series.values.size
        evaluations = series.role.role == "val_loss"
        if evaluations and not self._judge_eval(run, series):
            return None
        if self.min_short <= n < self.short_series and not evaluations:
            found = self._short(run, series)
            if found is not None or n < self.min_series:
                return found
        if n < self.min_series:
            return None
        z, logged = series.logged()
        w = stats.level_window(n, low=5, high=15) if evaluations else stats.level_window(n)
        sigma = stats.noise_scale(z)
        noise = self.noise_k * 1.25 * sigma / math.sqrt(w)
        if logged:  # most runs end near their best: certain without the median
            last = stats.centred_median_at(z, w, n - 1)
            if last - median_bounds.floor(z, w) <= max(math.log(self.min_ratio), noise):
                return None
        smooth = stats.rolling_median(z, w)
        running_min = np.minimum.accumulate(smooth)
        threshold = max(math.log(self.min_ratio) if logged else 0.3 * abs(running_min[-1]),
                        noise)
        above = smooth - running_min > threshold
        if not above[-1]:
            return None  # it came back (or never left): not a divergence
        start, end = stats.runs_of(above)[-1]
        if end - start < max(self.min_points, min(n // 20, 2 * w)):
            return None
        best = int(np.argmin(smooth[:start])) if start else 0
        tail_excess = stats.median(smooth[start:] - smooth[best])
        doubled = tail_excess >= (math.log(self.doubling) if logged else smooth[best])
        lasting = end - start >= self.long_share * n
        tau, p = stats.trend(z[best:])
        if not (doubled or lasting or (tau > 0 and p < self.max_p)):
            return None
        if logged and stats.periodic(z) is not None:  # asked only of a would-be finding
            return None  # swings with a period: oscillation (LD202), not a divergence
        peak = start + int(np.argmax(smooth[start:]))
        low_i = best
        low = float(np.exp(smooth[best])) if logged else float(smooth[best])
        final = float(np.exp(smooth[-1])) if logged else float(smooth[-1])
        peak_value = float(np.exp(smooth[peak])) if logged else float(smooth[peak])
        ratio_peak = peak_value / low if logged and low > 0 else math.nan
        ratio_final = final / low if logged and low > 0 else math.nan
        onset = int(series.steps[start])
        unit = run.unit
        low_at = f"{unit} {int(series.steps[low_i])}"
        start_level = float(np.exp(np.median(z[:max(1, n // 10)]))) if logged else math.nan
        near_zero = logged and low < 0.01 * start_level
        what = f"{series.metric} (rolling median of {w})"
        if logged and not near_zero:
            message = (f"{what} rose {ratio_peak:.1f}x above its minimum {low:.3g} ({low_at}) "
                       f"from {unit} {onset} and did not come back: {final:.3g} at the end "
                       f"({ratio_final:.1f}x)")
        elif near_zero:
            message = (f"{what} rose from its minimum {low:.3g} ({low_at}, near zero: "
                       f"{start_level:.3g} at the start) to {peak_value:.3g} from {unit} "
                       f"{onset} and did not come back: {final:.3g} at the end")
        else:
            message = (f"{series.metric} rose from its minimum {low:.3g} at {low_at} from "
                       f"{unit} {onset} on and did not come back")
        k = chance_level(final) if logged else None
        if k and np.ptp(smooth[-max(3, n // 5):]) < 0.1:
            message += "; " + chance_words(k)
        if evaluations:
            message += (f"; judged on {series.metric}: the training loss has too few points "
                        f"to judge, and it did not fall meanwhile")
        lr = run.lr_context(onset)
        message += describe_lr(lr, unit)
        evidence = {"min_value": low, "min_step": int(series.steps[low_i]),
                    "onset_step": onset, "peak_value": peak_value, "window": w,
                    "peak_step": int(series.steps[peak]), "final_value": final,
                    "ratio_peak": ratio_peak, "ratio_final": ratio_final,
                    "threshold_ratio": math.exp(threshold) if logged else threshold,
                    "noise_sigma": sigma, "trend_tau": tau, "trend_p": p,
                    "chance_classes": k, **lr}
        badness = math.log2(max(ratio_final if logged and not near_zero else 8.0
                                if near_zero else 2.0, 1.0))
        score = 0.6 + 0.2 * min(1.0, badness / 3) + 0.2 * min(1.0, (end - start) / n * 2)
        return self.finding(series, score=score, start=onset, end=int(series.steps[-1]),
                            message=message, evidence=evidence)

    def _short(self, run, series):
        """A run of ``min_short`` to ``min_series`` points, judged by magnitude."""
        v = series.values
        n = v.size
        tail = v[-max(3, n // 3):]
        head = v[:n - tail.size]
        low_i = int(np.argmin(head))
        low = float(head[low_i])
        if not low > 0 or float(np.min(tail)) < self.doubling * low:
            return None
        level = float(np.median(tail))
        frozen = np.ptp(tail) <= 1e-4 * abs(level)
        k = chance_level(level)
        if not (frozen or k or level >= 10 * low):
            return None
        unit = run.unit
        jump = low_i + 1 + int(np.argmax(v[low_i + 1:] >= self.doubling * low))
        message = (f"a short run ({n} points): {series.metric} jumped from {low:.4g} "
                   f"({unit} {int(series.steps[low_i])}) to {float(v[jump]):.6g} at {unit} "
                   f"{int(series.steps[jump])} ({level / low:.1f}x) and stayed there")
        if frozen:
            message += (f"; constant to the last digit ({level:.6g}) over the last "
                        f"{n - jump} points: nothing moves the weights any more")
        if k:
            message += "; " + chance_words(k)
        lr = run.lr_context(int(series.steps[jump]))
        message += describe_lr(lr, unit)
        return self.finding(series, score=0.9, start=int(series.steps[jump]),
                            end=int(series.steps[-1]), message=message,
                            evidence={"min_value": low, "min_step": int(series.steps[low_i]),
                                      "onset_step": int(series.steps[jump]),
                                      "final_value": float(v[-1]), "ratio_final": level / low,
                                      "frozen": bool(frozen), "chance_classes": k,
                                      "points": n, **lr})
