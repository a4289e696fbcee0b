"""One printed line read for training metrics: ``name value`` pairs in the
spellings training scripts use, step fields, epoch and batch counters; and the
lines worth reading (progress-bar redraws keep the last drawing; tracebacks,
pasted code and warnings are not).  :mod:`parsers.stdout` reads files of them.

Every run of spaces in these patterns is matched by one quantifier only,
anchored by what follows it, so no pattern backtracks over a long line.
"""

from __future__ import annotations

import math
import re

from . import storage

MAX_RAW = 1 << 20  # a physical line: a progress bar redrawn a thousand times fits
MAX_LINE = 1 << 14  # its last drawing: longer is not a metrics line (an array, a blob)
STEP_KEYS = {"step", "steps", "global_step", "train_step", "iter", "iteration", "it"}
EPOCH_KEYS = {"epoch", "epochs"}
INNER_WORDS = {"", "batch", "batches", "it", "its", "step", "steps", "iter", "iters"}
# a line must name one of these to make a text file a training log
METRIC_WORDS = re.compile(r"loss|acc|accuracy|ppl|perplexity|\blr\b|learning.rate|grad.?norm|"
                          r"\bwer\b|\bcer\b|bleu|\bf1\b|\bauc\b|\bmse\b|\bmae\b", re.I)

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_WORD = r"(?!(?:nan|inf)[a-z%/]{0,8}\b)[A-Za-z][\w./-]*"  # nan, inf, nanms: values, not names
_KEY = rf"{_WORD}(?: {_WORD}){{0,2}}"
# every run of spaces below is matched by one quantifier only, anchored by what
# follows it: no pattern backtracks over a long line (tests/test_stdout.py times it)
_SEP = r"(?:[ \t]*[:=][ \t]*|[ \t]+)"
_PAIR = re.compile(rf"(?<![\w./'\"-])['\"]?(?P<key>{_KEY})['\"]?{_SEP}"
                   rf"(?P<value>{_NUMBER})(?P<unit>[A-Za-z%/]{{0,12}})(?![\w.])", re.I)
_COUNTER = re.compile(r"(?:(?<![\w.])(?P<key>[A-Za-z]\w*(?: \w+){0,2})"
                      r"(?:[ \t]*[:=][ \t]*|[ \t]*\[[ \t]*|[ \t]+))?"
                      r"(?<![\w./])(?P<n>\d+)[ \t]*/[ \t]*(?P<m>\d+)(?![\w./])"
                      r"(?:\]?[ \t]*(?P<word>[A-Za-z]+))?", re.I)
MASK = re.compile(_NUMBER, re.I)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CODE = re.compile(r"^[ \t]*(?:def |class |import |from \S+ import |for \w+(?:, ?\w+)* in |"
                   r"if [^\n]*:$|elif |else:|while |return\b|print\(|with |#|@\w)|"
                   r"\w\([^()=]*\w=")
_WARNING = re.compile(r"warnings?\b|warn\(|deprecat", re.I)



def _is_whole(value: float) -> bool:
    return math.isfinite(value) and value == int(value) and abs(value) < 2 ** 63


def clean(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    text = text.rstrip("\r\n")
    if "\r" in text:  # a progress bar redrawn in place: the last drawing
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    return "" if len(text) > MAX_LINE else _ANSI.sub("", text)


def parse(text: str):
    """(metrics [(key, value)], step, epoch, inner (n, m)) of one line."""
    counters, spans = [], []
    for m in _COUNTER.finditer(text):
        key = (m["key"] or "").strip().lower()
        counters.append((key, int(m["n"]), int(m["m"]), (m["word"] or "").lower()))
        spans.append(m.span())
    step = epoch = inner = None
    steps = []
    for key, n, total, word in counters:
        last = key.split(" ")[-1] if key else ""
        if last in STEP_KEYS:
            steps.append((n, total))
        elif last in EPOCH_KEYS:
            epoch = n
        elif last in INNER_WORDS or word in INNER_WORDS:
            inner = (n, total)
    for n, total in steps:  # "Epoch [2/10], Step [100/600]": a step within the epoch
        if epoch is not None and inner is None:
            inner = (n, total)
        else:
            step = n
    metrics = []
    for m in _PAIR.finditer(text):
        if any(a <= m.start("value") < b for a, b in spans):
            continue  # a number of a counter
        key = m["key"].strip()
        lower = key.lower()
        value = float(m["value"])
        whole = _is_whole(value) and not re.search(r"[.eE]", m["value"]) and not m["unit"]
        if lower.replace(" ", "_") in STEP_KEYS:
            if whole:
                step = int(value)
            continue
        if lower.split(" ")[-1] in EPOCH_KEYS and whole:  # "epoch 3"; HF's 'epoch': 1.0
            epoch = int(value)                              # is a metric (fractional epochs)
            continue
        metrics.append((key, value))
    return metrics, step, epoch, inner


def physical_lines(fh, limit: int | None = None):
    """The lines of a binary file object, over-long ones skipped; with
    ``limit``, only about the first ``limit`` bytes."""
    read = 0
    for raw in storage.bounded_lines(fh, MAX_RAW):
        read += MAX_RAW if raw is None else len(raw)  # a skipped line: at least that
        if raw is None:
            continue
        yield raw
        if limit is not None and read >= limit:
            return


class Skipper:
    """Tracebacks (until their last, unindented line), pasted code, warnings."""

    def __init__(self):
        self.in_traceback = False
        self.skipped = 0

    def skip(self, text: str) -> bool:
        if self.in_traceback:
            if text[:1].isspace() or not text.strip():
                return True
            self.in_traceback = False  # "ValueError: ...": the traceback's end
            return True
        if text.startswith("wandb: "):  # W&B's own console lines (its run summary)
            return True
        if text.startswith("Traceback (most recent call last)"):
            self.in_traceback = True
            self.skipped += 1
            return True
        if _CODE.search(text) or _WARNING.search(text):
            self.skipped += 1
            return True
        return False
