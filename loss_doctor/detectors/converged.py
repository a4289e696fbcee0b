"""LD502 converged (info): the training loss fell and has been flat since.

Statistic: the main training loss, log space, rolling median; it fell by at
least ``min_drop`` (half) from its first tenth, its last ``tail`` share shows no
significant Mann-Kendall trend on binned medians (p >= ``max_p``) or moves by
less than ``flat`` (5%), and it ends within ``near_best`` of its best level (a
run that blew up and sits at chance did not converge).  Where the lr is logged
and decayed, the message says so: a flat tail after the lr decayed is expected.
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import median_bounds, stats

from .base import Detector, RunView


class Converged(Detector):
    code = "LD502"
    name = "converged"
    kind = "info"
    severity = "info"
    summary = "the training loss fell and then flattened"
    hint = ""

    def __init__(self, *, min_drop: float = 0.5, tail: float = 0.25, max_p: float = 0.05,
                 flat: float = 0.05, near_best: float = 1.3, min_series: int = 20):
        self.min_drop = min_drop
        self.tail = tail
        self.max_p = max_p
        self.flat = flat
        self.near_best = near_best
        self.min_series = min_series

    def check(self, run: RunView):
        series = run.main_curve("train_loss", min_points=self.min_series)
        if series is None:
            return []
        n = series.values.size
        z, logged = series.logged()
        if not logged:
            return []
        w = stats.smoothing_window(n)
        last = stats.centred_median_at(z, w, n - 1)
        start = stats.median(z[: max(3, n // 10)])
        if last > start + math.log(1 - self.min_drop):
            return []
        # near its best: certain from the median's floor for most runs, else
        # from the median's lowest point itself
        if last > median_bounds.floor(z, w) + math.log(self.near_best) and \
                last > stats.rolling_median(z, w).min() + math.log(self.near_best):
            return []
        cut = int(n * (1 - self.tail))
        tau, p = stats.trend(z[cut:])
        moved = abs(last - stats.centred_median_at(z, w, cut))
        if p < self.max_p and moved > -math.log(1 - self.flat):
            return []
        level = math.exp(stats.median(z[cut:]))
        step = int(series.steps[cut])
        message = (f"{series.metric} converged: flat at about {level:.3g} since {run.at(step)} "
                   f"(from {math.exp(start):.3g} at the start)")
        lr = run.primary("lr")
        if lr is not None and lr.values.size and np.nanmax(lr.values) > 0 and \
                lr.values[-1] < 0.1 * np.nanmax(lr.values):
            message += f"; the lr had decayed to {lr.values[-1]:.3g}"
        return [self.finding(series, score=0.2, start=step, end=int(series.steps[-1]),
                             message=message,
                             evidence={"level": level, "since_step": step,
                                       "start_level": math.exp(start), "trend_tau": tau,
                                       "trend_p": p})]
