"""LD401 overfitting: validation loss rises from its minimum while training
loss still falls.

Statistics: Prechelt's generalization loss GL(t) = 100 * (E_va(t) / E_opt - 1),
E_opt the lowest validation loss so far ("Early Stopping - But When?", 1998),
taken at the end of the run and required to exceed ``min_gl`` percent; a
Mann-Kendall test on the validation points after the minimum (p < ``max_p``,
rising; evaluations are sparse and far apart, so no binning is needed); and
the paired training loss (rolling median) lower at the end than at the best
step by at least ``train_fall``.  Reports the best step and the share of the
run after it.

A loss is not what every run selects its model by.  Where the run's own
selection metric (a Trainer's ``best_metric``, matched to the validation
series holding it; else the main validation metric: WER, accuracy) was still
improving after the loss's best step, the finding stays, and its message and
hint name both checkpoints: best by loss at one step, best by the metric at
another, and which one the run kept.
"""

from __future__ import annotations

import math

import numpy as np

from loss_doctor import stats

from .base import Detector, RunView


class Overfitting(Detector):
    code = "LD401"
    name = "overfitting"
    kind = "overfitting"
    severity = "warning"
    summary = "validation loss rises from its minimum while training loss still falls"

    def __init__(self, *, min_gl: float = 10.0, max_p: float = 0.05, min_after: int = 3,
                 train_fall: float = 0.05):
        self.min_gl = min_gl
        self.max_p = max_p
        self.min_after = min_after
        self.train_fall = train_fall

    def check(self, run: RunView):
        out = []
        for train, val in run.pairs():
            if val.role.role != "val_loss":
                continue
            found = self._one(run, train.finite_prefix(), val.finite_prefix())
            if found:
                out.append(found)
        return out

    def _one(self, run, train, val):
        v = val.values
        if v.size < self.min_after + 2 or train.values.size < 3:
            return None
        best = int(np.argmin(v))
        after = v.size - 1 - best
        if after < self.min_after or v[best] <= 0:
            return None
        final = stats.median(v[-min(3, after):])
        gl = 100 * (final / v[best] - 1)
        # every evaluation since the best, up to the exact test's size (binned past it)
        tau, p = stats.trend(v[best:], bins=max(24, min(after + 1, stats.KENDALL_MAX)))
        if gl < self.min_gl or not (tau > 0 and p < self.max_p):
            return None
        best_step, last_step = int(val.steps[best]), int(val.steps[-1])
        t_best = train.smoothed_at(max(0, train.index_at(best_step)))
        t_end = train.smoothed_at(-1)
        if not t_end < t_best * (1 - self.train_fall):
            return None  # train rose too: divergence, not overfitting
        first_step = int(min(train.steps[0], val.steps[0]))
        span = max(last_step - first_step, 1)
        share = (last_step - best_step) / span
        unit = run.unit
        message = (f"{val.metric} rose {gl:.0f}% above its minimum {v[best]:.3g} ({unit} "
                   f"{best_step}) over the {after} evaluations since, while {train.metric} "
                   f"kept falling ({t_best:.3g} -> {t_end:.3g}): overfitting. Best checkpoint"
                   f" by {val.metric}: {unit} {best_step}; {share:.0%} of the run came after it")
        hint = (f"keep the checkpoint of {unit} {best_step} (early stopping); more data, "
                "augmentation or regularization")
        other = self._selected_later(run, val, best_step)
        if other:
            message += other["message"]
            hint = other["hint"]
        score = 0.5 + 0.3 * min(1.0, gl / 50) + 0.2 * share
        return self.finding(val, score=score, start=best_step, end=last_step,
                            message=message, hint=hint,
                            evidence={"best_step": best_step, "best_value": float(v[best]),
                                      "final_value": final, "generalization_loss": gl,
                                      "evaluations_after": after, "trend_tau": tau,
                                      "trend_p": p, "train_metric": train.metric,
                                      "train_at_best": t_best, "train_final": t_end,
                                      "share_after_best": share,
                                      "selection": other.get("selection") if other else None})

    @staticmethod
    def _selected_later(run, val, best_step: int) -> dict | None:
        """The words for a selection metric that kept improving after the
        loss's best step (None if there is none, or it agrees)."""
        sel = run.selection()
        if sel is None or sel["metric"] == val.metric or sel["step"] <= best_step:
            return None
        metric = run.series[sel["metric"]]
        then = metric.value_at(best_step)
        better = (sel["value"] < then) if metric.role.direction == "down" else \
            (sel["value"] > then)
        if not (math.isfinite(then) and better):
            return None
        unit = run.unit
        kept = sel["kept"]
        message = (f"; but {sel['metric']} kept improving: best {sel['value']:.4g} at {unit} "
                   f"{sel['step']} ({then:.4g} at {unit} {best_step})"
                   + (f", the checkpoint the run itself kept ({kept})" if kept else ""))
        hint = (f"two checkpoints: {unit} {best_step} is best by {val.metric}, {unit} "
                f"{sel['step']} by {sel['metric']}"
                + (" (the one the run kept)" if kept else "")
                + f"; ship the one whose metric you are judged by. The rise of {val.metric} "
                  "is most likely over-confidence on the examples it gets wrong: more data, label "
                  "smoothing or regularization would help both")
        return {"message": message, "hint": hint, "selection": sel}
