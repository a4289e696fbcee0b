"""What each metric name means: its role, its direction, and its train/val pair.

Names are split into words at ``/ _ - . :`` and spaces.  A split word (train,
val, eval, test ...) says which data the series is measured on; the other words
say what it measures:

* losses fall: loss, mse, mae, rmse, nll, cross_entropy, ce, objective, cost;
* error rates and perplexities fall too, but are metrics, not losses: error/err,
  wer, cer, perplexity/ppl (a model is selected by them; no loss detector
  reads them, and they are drawn on their own axes);
* accuracy-like metrics rise: acc, accuracy, f1, auc, bleu, map, ap, iou, dice,
  r2, precision, recall, rouge, top1/top5;
* lr/learning_rate (and Lightning's lr-AdamW) is the learning rate,
  grad_norm/gradnorm/total_norm the gradient norm; epoch, step, runtime,
  throughput, flos, timing and memory fields are bookkeeping and no detector
  looks at them.

Roles: ``train_loss`` (a falling metric on training data, or with no split),
``val_loss`` (on validation or test data), ``train_metric``/``val_metric``
(any other quality measure, with its direction: ``down`` for error rates and
perplexities, ``up`` for accuracy-like ones), ``lr``, ``grad_norm``,
``bookkeeping`` and ``other`` (still checked for NaN/inf).  Lightning's
``_step``/``_epoch`` suffixes are aggregation marks, not words of the name.
Any name can be given a role in config (``roles``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROLES = ("train_loss", "val_loss", "train_metric", "val_metric", "lr", "grad_norm",
         "bookkeeping", "other")
TRAIN_WORDS = {"train", "training", "tr"}
VAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "dev", "test", "testing"}
DOWN_WORDS = {"loss", "mse", "mae", "rmse", "nll", "crossentropy", "cross_entropy", "ce",
              "objective", "cost"}
ERROR_WORDS = {"perplexity", "ppl", "error", "err", "wer", "cer"}
UP_WORDS = {"acc", "accuracy", "f1", "auc", "auroc", "bleu", "map", "ap", "iou", "miou",
            "dice", "r2", "precision", "recall", "rouge", "top1", "top5", "rougel"}
LR_NAMES = {"lr", "learning rate", "learningrate", "learning_rate"}
GRAD_NAMES = {"grad norm", "gradnorm", "grad_norm", "total norm", "gnorm", "gradient norm",
              "grad l2 norm"}
BOOKKEEPING_WORDS = {"epoch", "step", "steps", "total", "global", "runtime", "time", "seconds",
                     "samples",
                     "per", "second", "flos", "eta", "memory", "mem", "throughput",
                     "tokens", "iteration", "iter", "timestamp", "wall", "batch",
                     "num", "data"}
AGGREGATION = {"step", "epoch"}  # Lightning's train_loss_step / train_loss_epoch


@dataclass(frozen=True)
class Role:
    name: str          # the metric as logged
    role: str          # one of ROLES
    split: str | None  # "train", "val" or None
    quantity: str      # the words that are not split or aggregation marks
    direction: str | None  # "down" (lower is better), "up" or None

    @property
    def is_loss(self) -> bool:
        return self.role in ("train_loss", "val_loss")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[/_\-.:\s]+", name.lower()) if w]


def assign(name: str, override: str | None = None) -> Role:
    """The role of one metric name (``override`` from config wins)."""
    words = _words(name)
    split = None
    rest = []
    for w in words:
        if w in TRAIN_WORDS and split is None:
            split = "train"
        elif w in VAL_WORDS and split is None:
            split = "val"
        else:
            rest.append(w)
    if len(rest) > 1 and rest[-1] in AGGREGATION:
        rest = rest[:-1]
    quantity = " ".join(rest)
    compact = quantity.replace(" ", "")
    if override:
        role = override
        direction = ("down" if role.endswith("loss") else "up" if role.endswith("metric")
                     else None)
        return Role(name, role, split, quantity, direction)
    if quantity in LR_NAMES or compact in LR_NAMES or (rest and "lr" in (rest[0], rest[-1])):
        return Role(name, "lr", split, quantity, None)
    if quantity in GRAD_NAMES or compact in GRAD_NAMES:
        return Role(name, "grad_norm", split, quantity, None)
    down = any(w in DOWN_WORDS for w in rest) or "crossentropy" in compact
    error = any(w in ERROR_WORDS for w in rest)
    up = any(w in UP_WORDS for w in rest)
    if down and not (up and rest[-1] in UP_WORDS):
        return Role(name, "val_loss" if split == "val" else "train_loss", split, quantity,
                    "down")
    if error and not (up and rest[-1] in UP_WORDS):
        return Role(name, "val_metric" if split == "val" else "train_metric", split, quantity,
                    "down")
    if up:
        return Role(name, "val_metric" if split == "val" else "train_metric", split, quantity,
                    "up")
    if not rest or all(w in BOOKKEEPING_WORDS or w.isdigit() for w in rest):
        return Role(name, "bookkeeping", split, quantity, None)
    return Role(name, "other", split, quantity, None)


def assign_all(names, overrides: dict[str, str] | None = None) -> dict[str, Role]:
    overrides = overrides or {}
    return {n: assign(n, overrides.get(n)) for n in names}


def pairs(roles: dict[str, Role]) -> list[tuple[Role, Role]]:
    """(train, val) pairs of the same quantity.

    A validation series pairs with the training series of the same quantity
    (``train/loss`` and ``val/loss``; HF's ``loss`` and ``eval_loss``), else with
    the training series of the same last word (``eval_g0_loss`` with ``loss``).
    Where several training series fit, the per-step one (no ``_epoch``) wins.
    """
    out = []
    train = [r for r in roles.values() if r.role in ("train_loss", "train_metric")]
    for val in roles.values():
        if val.role not in ("val_loss", "val_metric"):
            continue
        same = [t for t in train if t.quantity == val.quantity and t.direction == val.direction]
        if not same:
            last = val.quantity.split(" ")[-1] if val.quantity else ""
            same = [t for t in train if t.quantity == last and t.direction == val.direction]
        if same:
            same.sort(key=lambda t: (t.name.lower().endswith("epoch"), len(t.name), t.name))
            out.append((same[0], val))
    return out


def primary(roles: dict[str, Role], role: str) -> Role | None:
    """The main series of a role: the plainest name (``loss`` over ``loss_cls``)."""
    candidates = [r for r in roles.values() if r.role == role]
    if not candidates:
        return None
    plain = {"loss", "total loss", "loss total"}
    candidates.sort(key=lambda r: (r.quantity not in plain, r.name.lower().endswith("epoch"),
                                   len(r.name), r.name))
    return candidates[0]
