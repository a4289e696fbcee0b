"""Printed training logs, from real (tiny) torch training loops printing the way
popular scripts print.

    pip install torch numpy && python tests/data/stdout/generate.py

Each loop trains a small MLP on a synthetic classification task (seeded) and
prints as one well-known script does, to the file where such output usually
lands; ``expected.json`` records every point as the script printed it (the
printed text read back with ``float``), per file: what the reader must find.

* ``hf/train.log``: HF Trainer's printed dicts, tqdm redraws, a warning and
  the final summary dict;
* ``keras/nohup.out``: Keras ``fit`` with ``verbose=1`` (``Epoch 3/10``, ``\\r``
  progress redraws, the epoch's last line with ``val_loss``);
* ``word_language_model/slurm-123.out``: PyTorch examples' word language model
  (``| epoch 1 | 200/ 600 batches | ...``, ``| end of epoch 1 | valid loss``),
  its ``Namespace(...)`` config first and the traceback of a crash last;
* ``nanogpt/train.log``: nanoGPT (``iter 10: loss ...``, ``step 50: train loss
  ..., val loss ...``); the lr is raised tenfold at iter 150 and the loss goes
  to NaN;
* ``modded/output.log``: modded-nanogpt (``step:125/400 val_loss:... train_time:...ms``);
* ``mnist/train.txt``: ``Epoch [1/5], Step [100/300], Loss: 0.2212``;
* ``kv/run.log``: ``epoch=1 step=100 loss=0.52 lr=0.001``.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class Task:
    """A small MLP learning a noisy 4-class task: real losses, real NaNs."""

    def __init__(self, seed: int, lr: float = 0.05):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(2048, 16, generator=g)
        w = torch.randn(16, 4, generator=g)
        self.y = (self.x @ w + 0.8 * torch.randn(2048, 4, generator=g)).argmax(1)
        self.vx, self.vy = self.x[:256], self.y[:256]
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(),
                                         torch.nn.Linear(32, 4))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.g = g

    def set_lr(self, lr: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = lr

    def step(self, batch: int = 32) -> tuple[float, float]:
        idx = torch.randint(256, 2048, (batch,), generator=self.g)
        loss = torch.nn.functional.cross_entropy(self.model(self.x[idx]), self.y[idx])
        self.opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1e9)
        self.opt.step()
        return loss.item(), norm.item()

    def evaluate(self) -> tuple[float, float]:
        with torch.no_grad():
            out = self.model(self.vx)
            loss = torch.nn.functional.cross_entropy(out, self.vy)
            acc = (out.argmax(1) == self.vy).float().mean()
        return float(loss), float(acc)


class Log:
    """Writes the printed lines and records each printed point."""

    def __init__(self, rel: str):
        self.rel = rel
        self.lines: list[str] = []
        self.points: list[tuple[str, int, float]] = []

    def print(self, line: str, points=(), end="\n") -> None:
        self.lines.append(line + end)
        for name, step, text in points:
            self.points.append((name, step, float(text)))

    def save(self, expected: dict) -> None:
        path = os.path.join(HERE, self.rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write("".join(self.lines))
        expected[self.rel] = [list(p) for p in self.points]


def hf(expected):
    log, task = Log("hf/train.log"), Task(1)
    log.print("***** Running training *****")
    log.print("  Num examples = 2048")
    with warnings.catch_warnings(record=True):
        log.print("/usr/lib/python3/site-packages/transformers/trainer.py:1234: FutureWarning: "
                  "`evaluation_strategy` is deprecated")
    total, row = 300, 0
    for step in range(1, total + 1):
        loss, norm = task.step()
        if step % 10 == 0:
            lr = 5e-5 * (1 - step / total)
            epoch = round(step / 100, 2)
            bar = (f"{100 * step // total:3d}%|#####     | {step}/{total} "
                   f"[00:0{step // 100}<00:03, 95.{step % 10}it/s]")
            log.print("\r" + bar, end="")
            d = {"loss": round(loss, 4), "grad_norm": round(norm, 4),
                 "learning_rate": float(f"{lr:.3g}"), "epoch": epoch}
            log.print("\n" + str(d), [(k, row, str(v)) for k, v in d.items()])
            row += 1
        if step % 100 == 0:
            vl, va = task.evaluate()
            d = {"eval_loss": round(vl, 4), "eval_accuracy": round(va, 4),
                 "eval_runtime": 0.41, "eval_samples_per_second": 624.3, "epoch": step / 100}
            log.print(str(d), [(k, row, str(v)) for k, v in d.items()])
            row += 1
    log.print(str({"train_runtime": 3.2, "train_samples_per_second": 640.1,
                   "train_loss": 0.83, "epoch": 3.0}))
    log.save(expected)


def keras(expected):
    log, task = Log("keras/nohup.out"), Task(2)
    epochs, batches = 8, 40
    for epoch in range(1, epochs + 1):
        log.print(f"Epoch {epoch}/{epochs}")
        losses = []
        for b in range(1, batches + 1):
            loss, _ = task.step()
            losses.append(loss)
            mean = sum(losses) / len(losses)
            if b < batches:
                log.print(f"\r{b:2d}/{batches} [>.............] - ETA: 1s - loss: {mean:.4f}",
                          end="")
        vl, va = task.evaluate()
        x = (epoch - 1) * batches + batches
        text = (f"\r{batches}/{batches} [==============================] - 0s 2ms/step - "
                f"loss: {mean:.4f} - accuracy: {0.5 + epoch / 40:.4f} - val_loss: {vl:.4f} - "
                f"val_accuracy: {va:.4f}")
        log.print(text, [("loss", x, f"{mean:.4f}"), ("accuracy", x, f"{0.5 + epoch / 40:.4f}"),
                         ("val_loss", x, f"{vl:.4f}"), ("val_accuracy", x, f"{va:.4f}")])
    log.save(expected)


def word_language_model(expected):
    log, task = Log("word_language_model/slurm-123.out"), Task(3, lr=0.2)
    log.print("Namespace(batch_size=32, bptt=35, clip=0.25, cuda=False, data='./data/wikitext-2', "
              "dropout=0.2, epochs=3, lr=20, model='LSTM', seed=1111)")
    batches = 600
    step = 0
    for epoch in range(1, 4):
        for b in range(1, batches + 1):
            loss, _ = task.step()
            step = (epoch - 1) * batches + b
            if b % 100 == 0:
                log.print(f"| epoch {epoch:3d} | {b:5d}/{batches:5d} batches | lr 20.00 | "
                          f"ms/batch {40 + b % 7:5.2f} | loss {loss:5.2f} | ppl "
                          f"{math.exp(loss):8.2f}",
                          [("lr", step, "20.00"), ("ms/batch", step, f"{40 + b % 7:5.2f}"),
                           ("loss", step, f"{loss:5.2f}"), ("ppl", step, f"{math.exp(loss):8.2f}")])
        vl, _ = task.evaluate()
        log.print("-" * 89)
        log.print(f"| end of epoch {epoch:3d} | time: {12.5 + epoch:5.2f}s | "
                  f"valid loss {vl:5.2f} | valid ppl {math.exp(vl):8.2f}",
                  [("time", step, f"{12.5 + epoch:5.2f}"), ("valid loss", step, f"{vl:5.2f}"),
                   ("valid ppl", step, f"{math.exp(vl):8.2f}")])
        log.print("-" * 89)
    log.print("Traceback (most recent call last):")
    log.print('  File "main.py", line 243, in <module>')
    log.print("    test_loss = evaluate(test_data)")
    log.print("RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB (step 1800, loss 9.9)")
    log.save(expected)


def nanogpt(expected):
    log, task = Log("nanogpt/train.log"), Task(4, lr=0.1)
    log.print("tokens per iteration will be: 16,384")
    for it in range(0, 251):
        if it == 150:
            task.set_lr(1e12)  # far too high: the loss blows up, then NaN
        if it % 50 == 0:
            tl, _ = task.evaluate()
            vl, _ = task.evaluate()
            log.print(f"step {it}: train loss {tl:.4f}, val loss {vl:.4f}",
                      [("train loss", it, f"{tl:.4f}"), ("val loss", it, f"{vl:.4f}")])
        loss, _ = task.step()
        if it % 10 == 0:
            log.print(f"iter {it}: loss {loss:.4f}, time {30 + it % 3:.2f}ms, mfu {1.5:.2f}%",
                      [("loss", it, f"{loss:.4f}"), ("time", it, f"{30 + it % 3:.2f}"),
                       ("mfu", it, "1.50")])
    log.save(expected)


def modded(expected):
    log, task = Log("modded/output.log"), Task(5)
    total = 400
    for step in range(1, total + 1):
        task.step()
        if step % 25 == 0:
            vl, _ = task.evaluate()
            log.print(f"step:{step}/{total} val_loss:{vl:.4f} train_time:{step * 91}ms "
                      f"step_avg:{91.0 + step % 5:.2f}ms",
                      [("val_loss", step, f"{vl:.4f}"), ("train_time", step, str(step * 91)),
                       ("step_avg", step, f"{91.0 + step % 5:.2f}")])
    log.save(expected)


def mnist(expected):
    log, task = Log("mnist/train.txt"), Task(6)
    epochs, steps = 5, 300
    for epoch in range(1, epochs + 1):
        for s in range(1, steps + 1):
            loss, _ = task.step()
            if s % 100 == 0:
                x = (epoch - 1) * steps + s
                log.print(f"Epoch [{epoch}/{epochs}], Step [{s}/{steps}], Loss: {loss:.4f}",
                          [("Loss", x, f"{loss:.4f}")])
    log.save(expected)


def kv(expected):
    log, task = Log("kv/run.log"), Task(7)
    for step in range(1, 301):
        loss, _ = task.step()
        if step % 20 == 0:
            clock = f"10:{step // 60:02d}:{step % 60:02d},123"
            log.print(f"2026-12-02 {clock} INFO epoch={step // 100} step={step} "
                      f"loss={loss:.4f} lr=0.05",
                      [("loss", step, f"{loss:.4f}"), ("lr", step, "0.05")])
    log.save(expected)


def main() -> None:
    torch.set_num_threads(1)
    expected: dict = {}
    for make in (hf, keras, word_language_model, nanogpt, modded, mnist, kv):
        make(expected)
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=0, allow_nan=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
