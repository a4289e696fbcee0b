"""LD101 nan: NaN or inf in a loss or the gradient norm.

Statistic: the first non-finite step of each loss and grad-norm series and the
share of points non-finite from there on.  Also HuggingFace's signature: the
Trainer's ``logging_nan_inf_filter`` (on by default) logs a non-finite step loss
as 0.0, so what shows is ``grad_norm`` NaN/inf beside ``loss`` == 0.0 (HF
Trainer docs, ``TrainingArguments.logging_nan_inf_filter``).  One finding per
run, on the series that went first; the others are in its evidence.
"""

from __future__ import annotations

import numpy as np

from .base import Detector, RunView, describe_lr


class NonFinite(Detector):
    code = "LD101"
    name = "nan"
    kind = "nan"
    severity = "error"
    summary = "NaN or inf in a loss or gradient norm"
    hint = ("look at the batch and the lr at that step: lower the lr or add warmup, clip "
            "gradients, check the inputs for NaN/inf, use bf16 or loss scaling with fp16")

    def __init__(self, *, roles: tuple = ("train_loss", "val_loss", "grad_norm")):
        self.roles = tuple(roles)

    def check(self, run: RunView):
        affected = []
        losses = {s.metric: s for s in run.of_role("train_loss")}
        for series in run.of_role(*self.roles):
            bad = ~np.isfinite(series.values)
            if not bad.any():
                continue
            hf_zero = np.zeros_like(bad)
            if series.role.role == "grad_norm":
                for loss in losses.values():  # HF: grad_norm NaN where loss logged 0.0
                    at = np.searchsorted(loss.steps, series.steps)
                    ok = at < loss.steps.size
                    same = np.zeros_like(bad)
                    same[ok] = loss.steps[at[ok]] == series.steps[ok]
                    zero = np.zeros_like(bad)
                    zero[same] = loss.values[at[same]] == 0.0
                    hf_zero |= bad & zero
            first = int(np.flatnonzero(bad)[0])
            affected.append({
                "series": series, "first": first,
                "first_step": int(series.steps[first]),
                "nan": int(np.isnan(series.values).sum()),
                "inf": int(np.isinf(series.values).sum()),
                "share_after": float(bad[first:].mean()),
                "hf_zero_loss": int(hf_zero.sum()),
            })
        if not affected:
            return []
        order = {"train_loss": 0, "grad_norm": 1, "val_loss": 2}
        affected.sort(key=lambda a: (a["first_step"], order.get(a["series"].role.role, 3)))
        lead = affected[0]
        series = lead["series"]
        after = len(series.values) - lead["first"]
        what = "NaN" if lead["nan"] and not lead["inf"] else "inf" if lead["inf"] and \
            not lead["nan"] else "NaN/inf"
        unit = run.unit
        message = (f"{series.metric} is {what} from {unit} {lead['first_step']} on "
                   f"({round(lead['share_after'] * after)} of the {after} points since)")
        others = [f"{a['series'].metric} from {unit} {a['first_step']}" for a in affected[1:]]
        if others:
            message += "; also " + ", ".join(others)
        hf = [a for a in affected if a["hf_zero_loss"]]
        if hf:
            message += (f"; {hf[0]['series'].metric} is non-finite where the loss is logged "
                        "as 0.0: the HF Trainer hides a non-finite loss that way "
                        "(logging_nan_inf_filter)")
        lr = run.lr_context(lead["first_step"])
        message += describe_lr(lr, unit)
        evidence = {a["series"].metric: {k: a[k] for k in ("first_step", "nan", "inf",
                                                          "share_after", "hf_zero_loss")}
                    for a in affected}
        if lead["first"] > 0:
            evidence["last_finite_step"] = int(series.steps[lead["first"] - 1])
        evidence.update(lr)
        score = 0.9 + 0.1 * lead["share_after"]
        return [self.finding(series, score=score, start=lead["first_step"],
                             end=int(series.steps[-1]), message=message, evidence=evidence)]
