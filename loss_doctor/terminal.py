"""What the command line shows on a terminal beside its output: progress bars
on stderr, only on a terminal, never with ``--quiet``."""

from __future__ import annotations

import sys

import click


def progress_bar(quiet: bool):
    """A wrapper that shows a progress bar over many items; None when quiet or
    not on a terminal."""
    stream = sys.stderr
    if quiet or not stream.isatty():
        return None

    def wrap(items, length=None, label="reading"):
        length = len(items) if length is None else length
        if length < 20:
            yield from items
            return
        with click.progressbar(items, length=length, label=label, file=stream,
                               item_show_func=lambda s: getattr(s, "run", "") if s else ""
                               ) as bar:
            yield from bar
    return wrap
