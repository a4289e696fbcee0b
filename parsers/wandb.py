"""Weights & Biases run directories: ``wandb/run-*/`` and ``wandb/offline-run-*/``,
read from the run's transaction log ``run-<id>.wandb`` without the ``wandb``
package (its framing and records: :mod:`parsers.wandb_log`).  The fields used:

* ``history`` (field 2): one committed row, ``HistoryRecord`` with items (key or
  ``nested_key`` path, joined with ``/``; the value as ``value_json`` or in a typed
  field) and ``step``.  ``_step`` is the x axis, ``_timestamp`` the wall time;
  every other number is a metric (``_runtime`` too), NaN and inf included;
  media, histograms and text are not scalars.
* ``run`` (17): the run id, display name, project and the config, and
  ``config`` (5) records that update it: ``attrs["runs"][run]["wandb"]``, with
  the scalars of ``files/wandb-summary.json`` (written when a run finishes)
  under ``summary``.

A resumed run writes another run directory with the same run id: the run's
directories are one run, read in the order they were begun (the last write of
a step wins).  Damage: a chunk whose checksum does not match loses the rest of
its block (as LevelDB's reader does) and is reported with its byte; a log cut
short (a run still being written, a job killed) keeps every whole record and
is a note.  A log that cannot be read at all falls back to the run's printed
output, ``files/output.log``, and says so.  Older versions wrote
``files/wandb-history.jsonl``, which the JSON lines reader reads.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import struct

from . import storage
from . import wandb_log as log
from .errors import ParseError
from .format import Format
from .frame import FileData
from .protowire import WireError, fields

RUN_DIR = re.compile(r"^(?:offline-)?run-(?:\d{8}_\d{6}-)?(?P<id>[A-Za-z0-9]+)$")
LOG_NAME = re.compile(r"^run-(?P<id>[A-Za-z0-9]+)\.wandb$")


def _read_log(path: str, points: tuple[list, list, list, list], facts: dict,
              errors: list, notes: list) -> None:
    """The history rows of one transaction log into ``points``, its run facts
    into ``facts``."""
    try:
        with storage.open_binary(path) as fh:
            buf = fh.read()
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    rows = 0  # the x axis of rows without a step
    log_notes: list[str] = []
    try:
        for offset, record in log.records(buf, path, errors, log_notes):
            try:
                rows += _record(path, offset, record, points, facts, errors, rows)
            except (WireError, struct.error, OverflowError, ValueError):
                errors.append(ParseError(path, "a record that is not a W&B Record; skipped",
                                         offset=offset))
    except ParseError as err:  # no W&B header: the printed output may stand in
        errors.append(err)
    notes += [f"{storage.basename(path)}: {n}" for n in log_notes]


def _record(path, offset, record, points, facts, errors, row_index) -> int:
    """One Record: a history row into ``points`` (returns 1), or the run's
    facts (returns 0)."""
    names, steps, values, walls = points
    counted = 0
    for field, wire, i, j in fields(record):
        if wire != 2:
            continue
        if field == log.R_HISTORY:
            step, row = log.history(record[i:j])
            x = row.pop("_step", None)
            x = step if step is not None else x if x is not None else row_index
            wall = row.pop("_timestamp", math.nan)
            if not -2 ** 63 <= x < 2 ** 63 or x != int(x):
                errors.append(ParseError(path, f"a history row with step {x:.4g}, "
                                               "not a 64-bit whole number; skipped",
                                         offset=offset))
                continue
            for name, value in row.items():
                names.append(name)
                steps.append(int(x))
                values.append(value)
                walls.append(wall)
            counted = 1
        elif field == log.R_RUN:
            log.run_facts(record, i, j, facts)
        elif field == log.R_CONFIG:
            log.config_updates(record, i, j, facts.setdefault("config", {}))
    return counted


def read_wandb(paths) -> FileData:
    """The history of one run: its transaction logs (a resumed run has one per
    run directory), in the order the directories were begun."""
    paths = [os.fspath(p) for p in paths] if isinstance(paths, list) else [os.fspath(paths)]
    points: tuple[list, list, list, list] = ([], [], [], [])
    facts: dict = {}
    errors: list[ParseError] = []
    notes: list[str] = []
    ordered = sorted(paths, key=lambda p: storage.basename(storage.dirname(p)))
    for path in ordered:
        _read_log(path, points, facts, errors, notes)
    if not points[0] and errors:
        return _printed_instead(ordered, errors)
    if len(ordered) > 1:
        notes.append(f"a resumed run: {len(ordered)} run directories read in order")
    names, steps, values, walls = points
    summary = _summary(storage.dirname(ordered[-1]))
    if summary is not None:
        facts["summary"] = summary
    data = FileData.from_points(ordered[0], "wandb", names, steps, values, walls,
                                notes=notes, errors=errors, facts={"wandb": facts})
    data.start = min((w for w in walls if math.isfinite(w)), default=math.nan)
    return data


def _summary(run_dir: str) -> dict | None:
    """``files/wandb-summary.json``: the run's last (or chosen) values, as W&B
    wrote them when the run finished (media and tables left out)."""
    path = storage.join(storage.join(run_dir, "files"), "wandb-summary.json")
    try:
        with storage.open_text(path, encoding="utf-8", errors="replace") as fh:
            summary = json.loads(fh.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(summary, dict):
        return None
    return {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}


def _printed_instead(paths: list[str], errors: list[ParseError]) -> FileData:
    """A transaction log that cannot be read: the run's printed output
    (``files/output.log``), if it holds the losses, stands in for it."""
    from . import stdout

    for path in reversed(paths):
        printed = storage.join(storage.join(storage.dirname(path), "files"), "output.log")
        if storage.isfile(printed) and stdout.looks_like_stdout_log(printed):
            data = stdout.read_stdout(printed)
            data.errors[:0] = errors
            data.notes.insert(0, f"{storage.basename(path)} could not be read: read the "
                                 "printed output, files/output.log, instead")
            return data
    raise errors[0]


def _classify(path: str) -> str | None:
    match = LOG_NAME.match(storage.basename(path))
    if match is None:
        return None
    folder = RUN_DIR.match(storage.basename(storage.dirname(path)))
    return "wandb" if folder is not None else None


@functools.lru_cache(maxsize=1024)
def _siblings(parent: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(os.listdir(parent)))
    except OSError:
        return ()


def owner(dirpath: str, root: str | None = None) -> str:
    """A resumed run's directories belong to the first one with its run id."""
    match = RUN_DIR.match(storage.basename(dirpath))
    if match is None or storage.is_url(dirpath) or dirpath == root:
        return dirpath
    parent = storage.dirname(dirpath)
    for name in _siblings(parent):
        other = RUN_DIR.match(name)
        if other is not None and other["id"] == match["id"]:
            return storage.join(parent, name)
    return dirpath


FORMAT = Format(name="wandb", label="W&B run directories",
                files="wandb/run-*/run-<id>.wandb, wandb/offline-run-*/run-<id>.wandb",
                classify=_classify, read=read_wandb, grouping="owner", owner=owner,
                together=True)
