"""LD301 plateau: no significant progress from the start ("not learning").

Statistic, on the main training loss (the main validation loss if there is no
training loss), in log space: the median of the first tenth against the lowest
point of the rolling median after it; progress below ``min_progress`` (10%)
with no significant downward Mann-Kendall trend on binned medians (p >= 0.05)
means the run never learned.  A significant but tiny descent is no learning
either when the loss sits at chance level, ln(k), or fell by less than
``stuck_progress`` (2%): over a whole run, a trend test finds a 0.5% fall
significant when the batches are large, and it is still nothing.  An lr that
peaked at 1e-6 or lower is named as the likely cause.  A loss constant to 1e-4 (coefficient of
variation, BTTackler; "exactly constant", DeepDiagnosis) is frozen.  A loss
sitting at ln(k) for k classes is at chance.

A flat tail *after* progress is not a plateau warning: it is convergence,
reported by LD502 as information.
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import stats

from .base import Detector, RunView, chance_level, chance_words, describe_lr, far_too_low


class Plateau(Detector):
    code = "LD301"
    name = "plateau"
    kind = "plateau"
    severity = "warning"
    summary = "no significant progress from the start: not learning"
    hint = ("check that gradients reach the weights (frozen layers, detached loss), that "
            "labels match inputs, and the lr: too low barely moves, too high stays at chance")

    def __init__(self, *, min_progress: float = 0.1, max_p: float = 0.05,
                 frozen_cv: float = 1e-4, min_series: int = 20,
                 stuck_progress: float = 0.02):
        self.stuck_progress = stuck_progress
        self.min_progress = min_progress
        self.max_p = max_p
        self.frozen_cv = frozen_cv
        self.min_series = min_series

    def check(self, run: RunView):
        series = run.main_curve("train_loss", "val_loss", min_points=self.min_series)
        if series is None:
            return []
        n = series.values.size
        values = series.values
        start, end = int(series.steps[0]), int(series.steps[-1])
        mean = float(np.mean(values))
        cv = float(np.std(values) / abs(mean)) if mean else float(np.std(values))
        if cv < self.frozen_cv:
            return [self.finding(series, score=0.9, start=start, end=end, evidence={"cv": cv},
                                 message=f"{series.metric} is constant ({mean:.6g}) over all "
                                         f"{n} points: nothing is being learned"
                                         + far_too_low(run.lr_context(start)))]
        z, logged = series.logged()
        head = max(3, n // 10)
        first = stats.median(z[:head])
        w = stats.smoothing_window(n)

        def progress_to(best):
            return (1 - math.exp(best - first)) if logged else (first - best) / abs(first or 1)

        # the best is at or below the end: a run that ends well below its
        # start made progress, whatever the median's lowest point (the margin
        # keeps the test certain whatever the last bit of exp)
        if progress_to(stats.centred_median_at(z, w, n - 1)) >= self.min_progress + 1e-12:
            return []
        best = float(np.min(stats.rolling_median(z, w, head)))
        progress = progress_to(best)
        if progress >= self.min_progress:
            return []
        tau, p = stats.trend(z)
        level = stats.median(values[-head:])
        k = chance_level(level) if logged else None
        stuck = progress < self.stuck_progress
        if tau < 0 and p < self.max_p and not k and not stuck:
            return []  # a slow but significant descent is learning, unless at chance
        unit = run.unit
        message = (f"{series.metric} made no significant progress over {n} points ({unit}s "
                   f"{start}-{end}): {math.exp(first) if logged else first:.3g} at the start, "
                   f"{level:.3g} at the end, best {max(progress, 0):.1%} below the start")
        if k:
            message += "; " + chance_words(k)
        lr = run.lr_context(start, end)  # the lr over the run it never learned in
        message += far_too_low(lr) or describe_lr(lr, unit)
        score = 0.55 + 0.3 * (1 - min(max(progress, 0) / self.min_progress, 1)) + \
            (0.1 if k else 0)
        return [self.finding(series, score=score, start=start, end=end, message=message,
                             evidence={"start_level": math.exp(first) if logged else first,
                                       "end_level": level, "progress": progress,
                                       "trend_tau": tau, "trend_p": p, "chance_classes": k,
                                       **lr})]
