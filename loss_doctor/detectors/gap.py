"""LD503 generalization gap (info): final validation against training loss.

Statistic: the last finite validation loss over the training loss (rolling
median) at that step, for the main train/validation pair.  A training loss
near zero (below 1% of where it started: a memorised training set) gives no
ratio ("4200x" means nothing): the values are given instead.
"""

from __future__ import annotations

from loss_doctor import stats

from .base import Detector, RunView


class Gap(Detector):
    code = "LD503"
    name = "gap"
    kind = "info"
    severity = "info"
    summary = "final validation loss against training loss"
    hint = ""

    def check(self, run: RunView):
        for train, val in run.pairs():
            if val.role.role != "val_loss" or train.metric != getattr(
                    run.primary("train_loss"), "metric", None):
                continue
            train, val = train.finite_prefix(), val.finite_prefix()
            if val.values.size == 0 or train.values.size < 3:
                continue
            step = int(val.steps[-1])
            t = train.smoothed_at(max(0, train.index_at(step)))
            v = float(val.values[-1])
            if t <= 0:
                continue
            ratio = v / t
            relation = "above" if ratio > 1 else "below"
            start = stats.median(train.values[:max(1, train.values.size // 10)])
            at = run.at(step)
            if t < 0.01 * start:
                message = (f"final gap: {val.metric} {v:.4g} against {train.metric} {t:.4g} at "
                           f"{at}; the training loss is near zero ({start:.3g} at the start): "
                           f"memorised, so no ratio is given")
            else:
                message = (f"final gap: {val.metric} {v:.4g} is {ratio:.2f}x {train.metric} "
                           f"{t:.4g} at {at} ({relation} it)")
            return [self.finding(val, score=0.15, start=step, end=step, message=message,
                                 evidence={"val": v, "train": t, "ratio": ratio,
                                           "train_metric": train.metric})]
        return []
