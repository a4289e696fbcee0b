"""Metric names to roles, directions and train/val pairs."""

from __future__ import annotations

import pytest

from loss_doctor.roles import assign, assign_all, pairs, primary


@pytest.mark.parametrize("name,role,direction", [
    ("train/loss", "train_loss", "down"), ("train_loss", "train_loss", "down"),
    ("loss", "train_loss", "down"), ("total_loss", "train_loss", "down"),
    ("train_loss_step", "train_loss", "down"), ("train/ppl", "train_metric", "down"),
    ("val/loss", "val_loss", "down"), ("val_loss", "val_loss", "down"),
    ("eval_loss", "val_loss", "down"), ("validation/loss", "val_loss", "down"),
    ("valid_loss", "val_loss", "down"), ("test/loss", "val_loss", "down"),
    ("test/mse", "val_loss", "down"), ("val/cross_entropy", "val_loss", "down"),
    # error rates and perplexities are metrics with a direction, never losses (issue 12)
    ("eval_wer", "val_metric", "down"), ("cer", "train_metric", "down"),
    ("val_perplexity", "val_metric", "down"), ("val/top1_error", "val_metric", "down"),
    ("eval_bleu", "val_metric", "up"), ("accuracy", "train_metric", "up"),
    ("val_acc", "val_metric", "up"), ("val/accuracy", "val_metric", "up"),
    ("eval_f1", "val_metric", "up"), ("test/AP", "val_metric", "up"),
    ("val/iou", "val_metric", "up"), ("val_dice", "val_metric", "up"),
    ("accuracy", "train_metric", "up"), ("train/bleu", "train_metric", "up"),
    ("lr", "lr", None), ("learning_rate", "lr", None), ("train/lr", "lr", None),
    ("lr-AdamW", "lr", None),
    ("grad_norm", "grad_norm", None), ("train/grad_norm", "grad_norm", None),
    ("epoch", "bookkeeping", None), ("eval_runtime", "bookkeeping", None),
    ("eval_samples_per_second", "bookkeeping", None), ("total_flos", "bookkeeping", None),
    ("data_time", "bookkeeping", None), ("rpn/num_pos_anchors", "other", None),
])
def test_assign(name, role, direction):
    r = assign(name)
    assert (r.role, r.direction) == (role, direction)


def test_override_wins():
    assert assign("my/score_x").role == "other"
    assert assign("my/score_x", "train_loss").role == "train_loss"
    assert assign("my/score_x", "train_loss").direction == "down"


@pytest.mark.parametrize("names,expected", [
    (["train/loss", "val/loss", "lr"], [("train/loss", "val/loss")]),
    (["train_loss", "val_loss", "val_acc", "train_acc"],
     [("train_loss", "val_loss"), ("train_acc", "val_acc")]),
    (["loss", "eval_loss", "learning_rate"], [("loss", "eval_loss")]),
    (["loss", "eval_g0_loss", "eval_g1_loss"], [("loss", "eval_g0_loss"),
                                                ("loss", "eval_g1_loss")]),
    (["train_loss_step", "train_loss_epoch", "val_loss"], [("train_loss_step", "val_loss")]),
    (["val_loss"], []),
])
def test_pairs(names, expected):
    got = [(t.name, v.name) for t, v in pairs(assign_all(names))]
    assert sorted(got) == sorted(expected)


def test_primary_prefers_the_plain_loss():
    roles = assign_all(["loss_box_reg", "loss_cls", "total_loss", "loss"])
    assert primary(roles, "train_loss").name == "loss"
    roles = assign_all(["loss_box_reg", "total_loss"])
    assert primary(roles, "train_loss").name == "total_loss"
