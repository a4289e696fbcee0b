"""The formats :mod:`parsers` reads, in the order a file is tried against them.

Discovery (:mod:`parsers.discover`), reading (:mod:`parsers.read`), the error
for a file of no known format and the "no training logs found (looked for
...)" message all read this one list.  Adding a format is one reader module
that ends with a :class:`parsers.format.Format` and one line here.
"""

from __future__ import annotations

from . import (
    csvlog,
    hf_trainer,
    jsonl,
    mlflow,
    mlflow_sqlite,
    stdout,
    storage,
    tfevents,
    tidy,
    wandb,
)
from .format import Format

FORMATS: tuple[Format, ...] = (
    tfevents.FORMAT,
    hf_trainer.FORMAT,
    wandb.FORMAT,
    mlflow.FORMAT,  # before CSV and JSON lines: a metric's file may be named loss.csv
    mlflow_sqlite.FORMAT,
    tidy.FORMAT,  # before CSV and JSON lines: the frame written out, known by its columns
    csvlog.FORMAT,
    jsonl.FORMAT,
    stdout.FORMAT,  # last: a .log/.txt that no other format claims, if it prints metrics
)


def _by_name() -> dict[str, Format]:
    return {name: fmt for fmt in FORMATS for name in fmt.names}


_BY_NAME = _by_name()


def get(name: str) -> Format:
    """The format a ``RunSource.format`` names (a variant names its format)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no format {name!r}; known: {', '.join(_BY_NAME)}") from None


def classify(path: str) -> str | None:
    """The format name of one file (from its name, at most its first lines), or
    None if no format claims it.  Hidden files are never logs."""
    if storage.basename(path).startswith("."):
        return None
    for fmt in FORMATS:
        found = fmt.classify(path)
        if found is not None:
            return found
    return None


def looked_for() -> str:
    """The formats, as a user reads them: "TensorBoard event files, CSV, JSON
    lines and trainer_state.json"."""
    labels = [fmt.label for fmt in FORMATS]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
