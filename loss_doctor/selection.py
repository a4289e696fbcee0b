"""Code selection like ruff/flake8: ``select``/``ignore`` take code prefixes
(``LD1`` is the whole family); the longest matching prefix decides, and on a
tie ``ignore`` wins."""

from __future__ import annotations

DEFAULT_SELECT = ("LD",)


def selected(code: str, select=DEFAULT_SELECT, ignore=()) -> bool:
    best_select = max((len(p) for p in select if code.startswith(p)), default=-1)
    best_ignore = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return best_select >= 0 and best_select > best_ignore
