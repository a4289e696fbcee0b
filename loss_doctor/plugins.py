"""Built-ins and the classes installed packages add through an entry-point
group (``loss_doctor.detectors``, ``loss_doctor.reporters``), by name."""

from __future__ import annotations

import functools
from importlib.metadata import entry_points


@functools.cache
def by_name(group: str, builtin: tuple) -> dict[str, type]:
    """``builtin`` and the group's plugins, by their ``name`` (a plugin of a
    built-in's name replaces it).  Scanning the installed distributions takes
    milliseconds: once per process and group, not once per run."""
    found = {cls.name: cls for cls in builtin}
    for ep in entry_points(group=group):
        cls = ep.load()
        found[cls.name] = cls
    return found
