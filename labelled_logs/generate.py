"""Regenerate labelled_logs/: small runs really trained with torch, each showing
one problem a practitioner sees at a glance, and their healthy twins.

Every run is a real optimisation of a small torch model on CPU (a second or
two each): the curves come from the optimiser, not from a formula.  Each run
is written by the writer its kind of user has: JSON lines of our own,
torch's ``SummaryWriter`` (TensorBoard event files), a Keras-style
``CSVLogger`` file (``epoch,loss,...``) and HF Trainer's ``trainer_state.json``
layout.  What each run shows, and what loss_doctor must say of it, is in
``labels.json``; ``benchmarks/score_detectors.py`` scores the detectors on it.

Needs (not project dependencies; only for regenerating)::

    pip install torch==2.13.0 tensorboard

Run from the repository root: ``python labelled_logs/generate.py [NAME ...]``
(about a minute for all).  Seeds are fixed; torch on another machine may still
differ in the last digits.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sys

import torch
from torch import nn

OUT = os.path.dirname(os.path.abspath(__file__))
JOBS = {}


def job(fn):
    JOBS[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- data, models

def blobs(n: int, k: int, d: int, seed: int, spread: float = 1.0, flip: float = 0.0):
    """k Gaussian clusters in d dimensions; ``flip`` of the labels random."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=torch.Generator().manual_seed(1234)) * 2.0
    y = torch.randint(0, k, (n,), generator=g)
    x = centres[y] + spread * torch.randn(n, d, generator=g)
    if flip:
        noisy = torch.rand(n, generator=g) < flip
        y = torch.where(noisy, torch.randint(0, k, (n,), generator=g), y)
    return x, y


def mlp(d: int, k: int, hidden: int = 64, out_bias: bool = True) -> nn.Module:
    return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, k, bias=out_bias))


def batches(x, y, size: int, seed: int, shuffle: bool = True):
    """Endless minibatches, reshuffled every epoch (or in file order)."""
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(x), generator=g) if shuffle else torch.arange(len(x))
        for i in range(0, len(x) - size + 1, size):
            idx = order[i:i + size]
            yield x[idx], y[idx]


def evaluate(model, x, y) -> float:
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(x), y))


def error_rate(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(-1) != y).float().mean())


def train_step(model, opt, xb, yb) -> tuple[float, float]:
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    norm = float(nn.utils.clip_grad_norm_(model.parameters(), float("inf")))
    opt.step()
    return float(loss.detach()), norm


def lr_of(opt) -> float:
    return float(opt.param_groups[0]["lr"])


def scheduled(model, opt, sched, data, steps: int):
    """``steps`` optimiser steps on ``data``, the scheduler stepped after each:
    (step from 1, the lr the step ran at, its loss, its gradient norm)."""
    for step in range(1, steps + 1):
        lr = lr_of(opt)
        loss, norm = train_step(model, opt, *next(data))
        sched.step()
        yield step, lr, loss, norm


# ---------------------------------------------------------------- writers

def fresh(name: str) -> str:
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write_jsonl(name: str, rows: list[dict]) -> None:
    with open(os.path.join(fresh(name), "metrics.jsonl"), "w") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def write_keras(name: str, rows: list[dict]) -> None:
    """Keras' CSVLogger layout: ``epoch`` first, then the logs' keys sorted."""
    keys = sorted({k for r in rows for k in r if k != "epoch"})
    with open(os.path.join(fresh(name), "training.log"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", *keys])
        for r in rows:
            w.writerow([r["epoch"], *(repr(float(r[k])) if k in r else "" for k in keys)])


def write_tensorboard(name: str, rows: list[dict]) -> None:
    from torch.utils.tensorboard import SummaryWriter
    path = fresh(name)
    writer = SummaryWriter(path, filename_suffix=".labelled")
    for r in rows:
        for k, v in r.items():
            if k != "step":
                writer.add_scalar(k, v, r["step"])
    writer.close()


def write_trainer_state(name: str, history: list[dict], **extra) -> None:
    """HF Trainer's trainer_state.json layout (as ``TrainerState.save_to_json``)."""
    state = {"best_metric": None, "best_model_checkpoint": None, "epoch": history[-1]["epoch"],
             "eval_steps": extra.pop("eval_steps", None), "global_step": history[-1]["step"],
             "is_hyper_param_search": False, "is_local_process_zero": True,
             "is_world_process_zero": True, "log_history": history, "logging_steps": None,
             "max_steps": history[-1]["step"], "num_train_epochs": None,
             "save_steps": None, "total_flos": 0, "train_batch_size": None}
    state.update(extra)
    with open(os.path.join(fresh(name), "trainer_state.json"), "w") as fh:
        json.dump(state, fh, indent=2, sort_keys=True)


# ---------------------------------------------------------------- the runs

def pretrained_lm(vocab: int, seed: int):
    """A tiny next-token model (200 input tokens, ``vocab`` outputs) trained
    until its loss is about 1.6: the "pre-trained" model a smoke test starts from."""
    torch.manual_seed(seed)
    used = 200
    x = torch.randint(0, used, (4096,))
    rule = torch.randint(0, vocab, (used, 3))  # each token has three plausible successors
    y = rule[x, torch.randint(0, 3, (len(x),))]
    model = nn.Sequential(nn.Embedding(used, 64), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, vocab, bias=False))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for xb, yb in batches(x, y, 64, seed):
        loss, _ = train_step(model, opt, xb, yb)
        if loss < 1.65:
            break
    return model, x, y


@job
def short_smoke_blowup():
    """Ten steps of a fine-tuning smoke test with ``weight_decay=1000`` (meant:
    1e-3): AdamW's decoupled decay, lr * wd = 1, zeroes every weight at the
    first update, the logits go to zero and the loss sits at ln(vocab) =
    ln 32000 = 10.3735 to the last digit."""
    vocab = 32000
    model, x, y = pretrained_lm(vocab, seed=1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1000.0)
    rows = []
    data = batches(x, y, 64, seed=2)
    for step in range(1, 11):
        xb, yb = next(data)
        loss, norm = train_step(model, opt, xb, yb)
        rows.append({"step": step, "split": "train", "loss": loss, "grad_norm": norm,
                     "lr": lr_of(opt)})
    write_jsonl("short/smoke_blowup", rows)


@job
def short_healthy_15():
    """Fifteen logged points of a healthy run (loss logged every 20 steps)."""
    torch.manual_seed(3)
    x, y = blobs(4000, 8, 16, seed=3, spread=1.5)
    model = mlp(16, 8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rows = []
    data = batches(x, y, 32, seed=3)
    for step in range(1, 301):
        loss, _ = train_step(model, opt, *next(data))
        if step % 20 == 0:
            rows.append({"step": step, "split": "train", "loss": loss, "lr": lr_of(opt)})
    write_jsonl("short/healthy_15", rows)


def sparse_eval_run(name: str, peak_lr: float, seed: int):
    """HF-style: 2,500 steps, training loss logged every 500 steps (5 points),
    evaluation every 125 steps (20 points); the lr warms up linearly to
    ``peak_lr`` over the whole run (a schedule set for a run 100x longer)."""
    torch.manual_seed(seed)
    x, y = blobs(6000, 12, 24, seed=seed, spread=2.0, flip=0.05)
    xv, yv = blobs(600, 12, 24, seed=seed + 100, spread=2.0)
    model = mlp(24, 12, hidden=128)
    opt = torch.optim.Adam(model.parameters(), lr=peak_lr / 2500)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1))
    history, window = [], []
    data = batches(x, y, 32, seed=seed)
    for step, lr, loss, norm in scheduled(model, opt, sched, data, 2500):
        window.append(loss)
        epoch = round(step * 32 / len(x), 4)
        if step % 500 == 0:
            history.append({"epoch": epoch, "grad_norm": norm, "learning_rate": lr,
                            "loss": round(sum(window) / len(window), 4), "step": step})
            window = []
        if step % 125 == 0:
            history.append({"epoch": epoch, "eval_loss": evaluate(model, xv, yv),
                            "eval_runtime": 0.05, "eval_samples_per_second": 12000.0,
                            "step": step})
    write_trainer_state(name, history, eval_steps=125, logging_steps=500)


@job
def sparse_eval_diverging():
    sparse_eval_run("sparse_eval/diverging", peak_lr=0.2, seed=5)


@job
def sparse_eval_healthy():
    sparse_eval_run("sparse_eval/healthy", peak_lr=2e-3, seed=5)


def constant_lr_run(name: str, lr: float, seed: int, opt_name: str = "adam", batch: int = 256):
    """1,200 steps at a constant lr, every step logged to TensorBoard."""
    torch.manual_seed(seed)
    x, y = blobs(20000, 10, 32, seed=seed, spread=2.5)
    model = mlp(32, 10, hidden=128)
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if opt_name == "adam"
           else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
    rows = []
    data = batches(x, y, batch, seed=seed)
    for step in range(1, 1201):
        loss, norm = train_step(model, opt, *next(data))
        rows.append({"step": step, "train/loss": loss, "train/grad_norm": norm,
                     "train/lr": lr})
    write_tensorboard(name, rows)


@job
def stuck_adam_lr_1e8():
    constant_lr_run("stuck/adam_lr_1e-8", 1e-8, seed=7)


@job
def stuck_sgd_lr_1e7():
    constant_lr_run("stuck/sgd_lr_1e-7", 1e-7, seed=8, opt_name="sgd")


@job
def stuck_adam_lr_1e7_big_batch():
    """Batch 2,048: little noise, so the 0.5% fall over 1,200 steps is a
    significant trend, and still no learning to speak of."""
    constant_lr_run("stuck/adam_lr_1e-7_batch_2048", 1e-7, seed=7, batch=2048)


@job
def stuck_healthy_twin():
    constant_lr_run("stuck/healthy_lr_1e-3", 1e-3, seed=7)


def sorted_data_run(name: str, shuffle: bool, seed: int):
    """Four classes; the data file sorted by class and (unless ``shuffle``)
    read in file order every epoch: each block of 25 batches teaches the
    model to predict one class, and the next block undoes it."""
    torch.manual_seed(seed)
    x, y = blobs(3200, 4, 8, seed=seed, spread=1.5)
    order = torch.argsort(y, stable=True)
    x, y = x[order], y[order]
    model = mlp(8, 4, hidden=32)
    opt = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    rows = []
    data = batches(x, y, 32, seed=seed, shuffle=shuffle)
    for step in range(1, 801):
        loss, norm = train_step(model, opt, *next(data))
        rows.append({"step": step, "split": "train", "loss": loss, "lr": lr_of(opt)})
    write_jsonl(name, rows)


@job
def unshuffled_sorted():
    sorted_data_run("periodic/sorted_not_shuffled", shuffle=False, seed=9)


@job
def unshuffled_healthy_twin():
    sorted_data_run("periodic/sorted_shuffled", shuffle=True, seed=9)


@job
def cyclic_lr():
    """Healthy: a triangular cyclic lr (period 200 steps); the loss breathes
    with the lr and still falls."""
    torch.manual_seed(10)
    x, y = blobs(8000, 10, 16, seed=10, spread=2.2)
    model = mlp(16, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.05,
                                              step_size_up=100)
    rows = []
    data = batches(x, y, 32, seed=10)
    for step, lr, loss, _ in scheduled(model, opt, sched, data, 1000):
        rows.append({"step": step, "split": "train", "loss": loss, "lr": lr})
    write_jsonl("healthy/cyclic_lr", rows)


@job
def warm_restarts():
    """Healthy: SGDR (cosine annealing with warm restarts every 150 steps,
    lr 0.05 at each restart): the loss jumps at each restart and ends lower."""
    torch.manual_seed(11)
    x, y = blobs(8000, 10, 16, seed=11, spread=2.2)
    model = mlp(16, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=150)
    rows = []
    data = batches(x, y, 32, seed=11)
    for step, lr, loss, _ in scheduled(model, opt, sched, data, 900):
        rows.append({"step": step, "split": "train", "loss": loss, "lr": lr})
    write_tensorboard("healthy/warm_restarts", [
        {"step": r["step"], "loss": r["loss"], "lr": r["lr"]} for r in rows])


@job
def batch_size_1():
    """Healthy: batch size 1, every step logged: per-example losses from 0 to 5."""
    torch.manual_seed(12)
    x, y = blobs(3000, 6, 12, seed=12, spread=2.0, flip=0.05)
    xv, yv = blobs(500, 6, 12, seed=112, spread=2.0)
    model = mlp(12, 6)
    opt = torch.optim.SGD(model.parameters(), lr=0.005)
    rows = []
    data = batches(x, y, 1, seed=12)
    for step in range(1, 1501):
        loss, _ = train_step(model, opt, *next(data))
        rows.append({"step": step, "split": "train", "loss": loss})
        if step % 100 == 0:
            rows.append({"step": step, "split": "val", "loss": evaluate(model, xv, yv)})
    write_jsonl("healthy/batch_size_1", rows)


@job
def warmup_rise():
    """Healthy: a pre-trained model fine-tuned on new data with a warmup to a
    high lr: the loss rises while the lr climbs, then falls below where it began."""
    torch.manual_seed(13)
    x, y = blobs(6000, 8, 16, seed=13, spread=1.8, flip=0.1)
    model = mlp(16, 8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = batches(x, y, 64, seed=13)
    for _ in range(100):  # pre-training
        train_step(model, opt, *next(data))
    x2, y2 = blobs(6000, 8, 16, seed=14, spread=1.2, flip=0.1)
    warm, total, peak = 100, 800, 0.02
    opt = torch.optim.Adam(model.parameters(), lr=peak)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / (total - warm)))
    data = batches(x2, y2, 64, seed=14)
    rows = []
    for step, lr, loss, norm in scheduled(model, opt, sched, data, total):
        rows.append({"step": step, "split": "train", "loss": loss, "grad_norm": norm,
                     "lr": lr})
    write_jsonl("healthy/warmup_rise", rows)


@job
def converged_flat():
    """Healthy: cosine decay to zero; the loss falls and is flat for the last third."""
    torch.manual_seed(15)
    x, y = blobs(4000, 5, 10, seed=15, spread=1.6, flip=0.1)
    xv, yv = blobs(800, 5, 10, seed=115, spread=1.6)
    model = mlp(10, 5)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1200)
    rows = []
    data = batches(x, y, 64, seed=15)
    for step, lr, loss, _ in scheduled(model, opt, sched, data, 1200):
        rows.append({"step": step, "train/loss": loss, "train/lr": lr})
        if step % 50 == 0:
            rows.append({"step": step, "val/loss": evaluate(model, xv, yv)})
    write_tensorboard("healthy/converged_flat", rows)


def keras_run(name: str, seed: int, epochs: int = 60, val_n: int = 400,
              corrupt_epochs: tuple[int, ...] = (), train_n: int = 3000, flip: float = 0.05,
              lr: float = 1e-3, hidden: int = 32, corrupt_scale: float = 1e4):
    """Keras-style: one row per epoch (``epoch`` from 0), loss/accuracy on
    train and validation.  ``corrupt_epochs``: a batch whose features were
    written in the wrong unit (x ``corrupt_scale``) reaches the model once in
    that epoch."""
    torch.manual_seed(seed)
    x, y = blobs(train_n, 6, 12, seed=seed, spread=2.2, flip=flip)
    xv, yv = blobs(val_n, 6, 12, seed=seed + 100, spread=2.2)
    model = mlp(12, 6, hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rows = []
    for epoch in range(epochs):
        total = correct = 0.0
        data = batches(x, y, 32, seed=seed * 1000 + epoch)
        for i in range(len(x) // 32):
            xb, yb = next(data)
            if epoch in corrupt_epochs and i == len(x) // 32 - 1:
                xb = xb * corrupt_scale
            loss, _ = train_step(model, opt, xb, yb)
            total += loss
        with torch.no_grad():
            correct = float((model(x).argmax(-1) == y).float().mean())
        rows.append({"epoch": epoch, "loss": total / (len(x) // 32), "accuracy": correct,
                     "val_loss": evaluate(model, xv, yv),
                     "val_accuracy": 1 - error_rate(model, xv, yv)})
    write_keras(name, rows)


@job
def keras_val_spikes():
    keras_run("keras/val_spikes", seed=16, corrupt_epochs=(21, 42), val_n=150)


@job
def keras_tiny_val():
    """Healthy: the same recipe with a validation set of 24 examples: a noisy val curve."""
    keras_run("keras/tiny_noisy_val", seed=17, val_n=24)


@job
def keras_healthy_twin():
    keras_run("keras/healthy_60_epochs", seed=16, val_n=150)


@job
def keras_overfit_small_data():
    """Overfitting: 300 training examples, 30% of them mislabelled, a wide
    MLP, 80 epochs; val_loss rises from epoch 3 and val_accuracy falls with it."""
    keras_run("keras/overfit_small_data", seed=18, epochs=80, train_n=300, flip=0.3,
              hidden=256, val_n=400)


def sequences(n: int, seed: int, flip: float):
    """A toy transcription: 12 frames per utterance, each frame's word decided
    by the frame and its neighbour; ``flip`` of the reference words wrong."""
    g = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 40, (n, 12), generator=g)
    words = (frames * 7 + torch.roll(frames, 1, dims=1) * 3) % 30
    if flip:
        noisy = torch.rand(n, 12, generator=g) < flip
        words = torch.where(noisy, torch.randint(0, 30, (n, 12), generator=g), words)
    return frames, words


class Transcriber(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(40, 48)
        self.conv = nn.Conv1d(48, 128, 3, padding=1)
        self.out = nn.Linear(128, 30)

    def forward(self, frames):
        h = self.embed(frames).transpose(1, 2)
        return self.out(torch.relu(self.conv(h)).transpose(1, 2))


@job
def hf_wer_overfit():
    """HF Trainer layout, ``metric_for_best_model="wer"``: eval_loss reaches its
    minimum early and rises (the model grows over-confident on the frames it
    gets wrong) while the word error rate keeps improving; the Trainer kept
    the checkpoint with the best WER."""
    torch.manual_seed(19)
    frames, words = sequences(400, seed=19, flip=0.1)
    fv, wv = sequences(300, seed=119, flip=0.0)
    model = Transcriber()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    history = []
    best = (math.inf, None)
    g = torch.Generator().manual_seed(19)
    step = 0
    for epoch in range(1, 61):
        order = torch.randperm(len(frames), generator=g)
        for i in range(0, len(frames), 20):
            idx = order[i:i + 20]
            opt.zero_grad()
            logits = model(frames[idx])
            loss = nn.functional.cross_entropy(logits.reshape(-1, 30), words[idx].reshape(-1))
            loss.backward()
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), float("inf")))
            opt.step()
            step += 1
            if step % 10 == 0:
                history.append({"epoch": float(epoch), "grad_norm": norm,
                                "learning_rate": 3e-3, "loss": round(float(loss), 4),
                                "step": step})
        with torch.no_grad():  # evaluated every epoch
            logits = model(fv)
            eval_loss = float(nn.functional.cross_entropy(logits.reshape(-1, 30),
                                                          wv.reshape(-1)))
            wer = float((logits.argmax(-1) != wv).float().mean())
        history.append({"epoch": float(epoch), "eval_loss": eval_loss, "eval_wer": wer,
                        "eval_runtime": 0.02, "step": step})
        if wer < best[0]:
            best = (wer, step)
    write_trainer_state("hf/wer_improves_loss_rises", history, best_metric=best[0],
                        best_model_checkpoint=f"out/checkpoint-{best[1]}",
                        eval_steps=20, logging_steps=10)


@job
def nan_after_best():
    """HF layout: healthy for 900 steps, then an lr restart at 100x blows the
    weights to NaN; the evaluations after it are NaN."""
    torch.manual_seed(20)
    x, y = blobs(6000, 8, 16, seed=20, spread=2.0)
    xv, yv = blobs(600, 8, 16, seed=120, spread=2.0)
    model = mlp(16, 8)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    history = []
    data = batches(x, y, 32, seed=20)
    for step in range(1, 1201):
        if step == 901:
            for group in opt.param_groups:
                group["lr"] = 2000.0
        loss, norm = train_step(model, opt, *next(data))
        if step % 25 == 0:
            history.append({"epoch": round(step * 32 / 6000, 3), "grad_norm": norm,
                            "learning_rate": lr_of(opt), "loss": loss, "step": step})
        if step % 100 == 0:
            history.append({"epoch": round(step * 32 / 6000, 3),
                            "eval_loss": evaluate(model, xv, yv), "step": step})
    write_trainer_state("hf/nan_after_best", history, eval_steps=100, logging_steps=25)


@job
def memorised_then_diverged():
    """A tiny training set memorised to a loss near zero, then the lr is
    raised 50x (a resumed run with the wrong config) and the loss climbs to 0.4."""
    torch.manual_seed(21)
    x, y = blobs(64, 4, 8, seed=21, spread=1.0)
    model = mlp(8, 4, hidden=128)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    rows = []
    data = batches(x, y, 16, seed=21)
    for step in range(1, 1201):
        if step == 700:
            for group in opt.param_groups:
                group["lr"] = 0.15
        loss, _ = train_step(model, opt, *next(data))
        rows.append({"step": step, "split": "train", "loss": loss, "lr": lr_of(opt)})
    write_jsonl("divergence/memorised_then_diverged", rows)


def main(names: list[str]) -> None:
    for name in names or list(JOBS):
        print(name, file=sys.stderr)
        JOBS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
