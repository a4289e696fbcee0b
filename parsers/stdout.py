"""What training scripts print: ``train.log``, ``slurm-123.out``, ``nohup.out``,
W&B's ``files/output.log``; often the only log there is.

Every line is read for ``name value`` pairs, in the spellings scripts use:

* HF Trainer's printed dicts: ``{'loss': 2.31, 'grad_norm': 1.2, 'learning_rate':
  5e-05, 'epoch': 0.1}``, ``{'eval_loss': 0.52, ...}``;
* Keras ``fit``: ``Epoch 3/10``, then ``375/375 [====] - 2s - loss: 0.52 -
  accuracy: 0.81 - val_loss: 0.60``;
* PyTorch examples: ``| epoch 1 | 200/2983 batches | lr 20.00 | ms/batch 45 |
  loss 7.63 | ppl 2057``, ``| end of epoch 1 | valid loss 5.80 |``;
* nanoGPT: ``iter 100: loss 2.3456, time 30.12ms``, ``step 250: train loss 2.10,
  val loss 2.20``; ``step:125/3200 val_loss:4.2 train_time:1234ms``;
* ``Epoch [1/10], Step [100/600], Loss: 0.2212``; tqdm's ``450/1000 [...,
  loss=0.52]``; and plain ``key=value`` / ``key: value`` lines.

Names are kept as printed (``valid loss``, ``Loss``).  Units after a number
(``30ms``, ``5%``) are dropped; ``nan``/``inf`` in any case are values (``nanms``
too: a NaN time is a NaN point of a timing series, which no detector reads as
a loss).  The x axis of a line: its step field (``step``, ``iter``,
``global_step``, ``Step [100/600]``); else its epoch and batch counter
(``epoch 2``, ``200/2983``: ``(2 - first epoch) * 2983 + 200``, so that epochs
and batches make one global step; a ``step`` printed with the epoch that
starts again each epoch is moved on likewise); else, for a line with an epoch
only, the
step of the line before it (an end-of-epoch validation) or, with no steps in
the file at all, the epoch; else the epoch of a preceding ``Epoch 3/10`` line.
A file where no line has any of these uses the order of its metric lines
(``x_axis`` says ``line``).

Lines are grouped by their shape (the line with its numbers masked): a shape
seen once is not a series (a config dump, a final summary) and is left out; a
name printed in several shapes is one series (HF's ``epoch`` on train and eval
lines).  Progress
bar redraws (``\\r``) keep the last one; ANSI colours are dropped; pasted
source code, tracebacks and warnings are skipped.  A text file with no such
lines is not a log, and not an error.
"""

from __future__ import annotations

import os

from . import storage
from .errors import ParseError
from .format import Format
from .frame import FileData
from .printed_lines import MASK, METRIC_WORDS, Skipper, clean, parse, physical_lines

SUFFIXES = (".log", ".txt", ".out")
_SNIFF = 256 << 10  # bytes read to decide whether a text file is a training log


class _Line:
    """One metric line: its shape, x (None: to be found), metrics."""

    __slots__ = ("shape", "x", "metrics", "epoch_only")

    def __init__(self, shape, x, metrics, epoch_only=False):
        self.shape, self.x, self.metrics, self.epoch_only = shape, x, metrics, epoch_only


def looks_like_stdout_log(path: str) -> bool:
    """Two lines in the first 256 KB that print a metric with a value."""
    found = 0
    skipper = Skipper()
    try:
        with storage.open_binary(path) as fh:
            for raw in physical_lines(fh, _SNIFF):
                text = clean(raw)
                if skipper.skip(text):
                    continue
                metrics, *_ = parse(text)
                if any(METRIC_WORDS.search(key) for key, _ in metrics):
                    found += 1
                    if found >= 2:
                        return True
    except OSError:
        return False
    return False


def read_stdout(path: str | os.PathLike) -> FileData:
    path = os.fspath(path)
    lines: list[_Line] = []
    skipper = Skipper()
    context_epoch = first_epoch = last_x = None
    has_steps = False
    cut = False
    restart = _Restarts()
    try:
        with storage.open_binary(path) as fh:
            for raw in physical_lines(fh):
                if not raw.endswith(b"\n"):
                    cut = bool(raw.strip())  # a line still being written: its number may be cut
                    break
                text = clean(raw)
                if not text.strip() or skipper.skip(text):
                    continue
                metrics, step, epoch, inner = parse(text)
                if epoch is not None and first_epoch is None:
                    first_epoch = epoch
                if not metrics:
                    if epoch is not None:
                        context_epoch = epoch  # "Epoch 3/10" before Keras' progress
                    continue
                epoch_only = False
                if step is not None:
                    x = restart.global_step(step, epoch)
                elif inner is not None and (epoch if epoch is not None else context_epoch) \
                        is not None:
                    e = epoch if epoch is not None else context_epoch
                    x = (e - (first_epoch or 0)) * inner[1] + inner[0]
                elif inner is not None:  # tqdm's 450/1000 with no epoch: the step
                    x = inner[0]
                elif epoch is not None:
                    x, epoch_only = (last_x if has_steps else epoch), not has_steps
                elif context_epoch is not None and not has_steps:
                    x, epoch_only = context_epoch, True
                else:
                    x = last_x
                if x is not None and not epoch_only and (step is not None or inner is not None):
                    has_steps = True
                if x is not None:
                    last_x = x
                lines.append(_Line(MASK.sub("#", text).strip(), x, metrics, epoch_only))
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    return _to_points(path, lines, has_steps, cut, skipper.skipped)


class _Restarts:
    """A step printed beside the epoch may count batches within the epoch
    (``epoch 2 step 0``): when the epoch goes up and the step goes down, later
    steps are moved on past the last one, by the printing interval."""

    def __init__(self):
        self.offset, self.interval, self.last = 0, 1, None  # last: (epoch, step, x)

    def global_step(self, step: int, epoch: int | None) -> int:
        if epoch is not None and self.last is not None:
            last_epoch, last_step, last_x = self.last
            if epoch > last_epoch and step < last_step:  # the counter restarted
                self.offset = last_x + self.interval - step
            elif epoch == last_epoch and step > last_step:
                self.interval = step - last_step
        x = self.offset + step
        if epoch is not None:
            self.last = (epoch, step, x)
        return x


def _to_points(path, lines, has_steps, cut, skipped) -> FileData:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.shape] = counts.get(line.shape, 0) + 1
    series = [line for line in lines if counts[line.shape] > 1]
    once = len(lines) - len(series)
    if not series:
        raise ParseError(path, "no metric printed on more than one line")
    any_x = any(line.x is not None for line in series)
    metric, step, value = [], [], []
    errors, dropped = [], 0
    for order, line in enumerate(series):
        x = line.x if any_x else order
        if x is None:  # metric lines before the first line with a step
            dropped += 1
            continue
        if not -2 ** 63 <= x < 2 ** 63:
            errors.append(ParseError(path, f"step {x} does not fit in 64 bits; line skipped"))
            continue
        for key, val in line.metrics:
            metric.append(key)
            step.append(x)
            value.append(val)
    axis = "step" if has_steps else "epoch" if any(line.epoch_only for line in series) \
        else "step" if any_x else "line"
    notes = []
    if cut:
        notes.append("last line incomplete (no line end): a run still being written? "
                     "kept the lines before it")
    if once:
        notes.append(f"{once} line(s) printed once (a config, a summary) are not series")
    if dropped:
        notes.append(f"{dropped} metric line(s) before the first step left out")
    if skipped:
        notes.append(f"{skipped} line(s) of code, tracebacks or warnings skipped")
    return FileData.from_points(path, "stdout", metric, step, value, x_axis=axis,
                                notes=notes, errors=errors)


NOT_LOGS = {"debug.log", "debug-internal.log", "debug-core.log"}  # W&B's own


def _in_wandb_run(path: str) -> bool:
    """``files/output.log`` of a W&B run with a transaction log: that log has the
    history (and falls back to this file if it cannot be read)."""
    folder = storage.dirname(path)
    if storage.basename(path) != "output.log" or storage.basename(folder) != "files":
        return False
    run = storage.dirname(folder)
    try:
        return any(n.startswith("run-") and n.endswith(".wandb") for n in os.listdir(run))
    except OSError:
        return False


def _classify(path: str) -> str | None:
    name = storage.basename(path).lower()
    if not name.endswith(SUFFIXES) or name in NOT_LOGS or _in_wandb_run(path):
        return None
    return "stdout" if looks_like_stdout_log(path) else None


FORMAT = Format(name="stdout", label="printed training logs",
                files="*.log, *.txt, *.out (slurm-123.out, nohup.out, output.log)",
                classify=_classify, read=read_stdout)
