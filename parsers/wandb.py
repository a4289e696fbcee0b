"""Weights & Biases run directories: ``wandb/run-*/`` and ``wandb/offline-run-*/``,
read from the run's transaction log ``run-<id>.wandb`` without the ``wandb``
package.

The log is LevelDB's log format as W&B writes it: a 7-byte header (``:W&B``,
magic ``0xBEE1``, version 0), then 32 KiB blocks of chunks, each ``crc32
(4 bytes, zlib's CRC-32 of the type byte and the data) | length (2) | type (1:
full, 2: first, 3: middle, 4: last)``; a record is one chunk or a first, middles
and a last.  Records are protobuf ``Record`` messages (``wandb_internal.proto``);
the wire format is read directly (:mod:`parsers.protowire`) for the fields used:

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
import zlib

from . import storage
from .errors import ParseError
from .format import Format
from .frame import FileData
from .protowire import WireError, fields, varint

HEADER = b":W&B\xe1\xbe\x00"
BLOCK = 32768
CHUNK = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
RUN_DIR = re.compile(r"^(?:offline-)?run-(?:\d{8}_\d{6}-)?(?P<id>[A-Za-z0-9]+)$")
LOG_NAME = re.compile(r"^run-(?P<id>[A-Za-z0-9]+)\.wandb$")
# Record fields, HistoryRecord / HistoryItem fields (wandb_internal.proto)
R_HISTORY, R_CONFIG, R_RUN = 2, 5, 17
H_ITEM, H_STEP = 1, 2
I_KEY, I_NESTED, I_INTEGER, I_NUMBER, I_VALUE_JSON = 1, 2, 5, 6, 16
RUN_ID, RUN_PROJECT, RUN_CONFIG, RUN_NAME = 1, 3, 4, 8
CONFIG_UPDATE = 1


def records(buf: bytes, path: str):
    """Yield (offset, record bytes) of every whole record; problems go to the
    ``errors`` and ``notes`` lists returned at the end (a generator's return)."""
    errors, notes = [], []
    if not buf.startswith(HEADER):
        raise ParseError(path, "not a W&B transaction log (no ':W&B' header)", offset=0)
    pos, parts, start = len(HEADER), [], None
    while pos < len(buf):
        left = BLOCK - pos % BLOCK
        if left < CHUNK:  # the block's tail is padding
            pos += left
            continue
        if pos + CHUNK > len(buf):
            notes.append(f"cut {len(buf) - pos} bytes into a chunk header at byte {pos}: a "
                         "run still being written? kept the records before it")
            break
        crc, length, kind = struct.unpack_from("<IHB", buf, pos)
        if kind == 0 and length == 0 and crc == 0:  # zero padding a writer left
            pos += left
            continue
        end = pos + CHUNK + length
        if end > len(buf):
            notes.append(f"last record cut at byte {len(buf)} (it needed {end}): a run "
                         "still being written? kept the records before it")
            break
        data = buf[pos + CHUNK:end]
        if length > left - CHUNK or zlib.crc32(data, zlib.crc32(bytes([kind]))) != crc \
                or kind not in (FULL, FIRST, MIDDLE, LAST):
            skip = pos + left
            errors.append(ParseError(path, f"chunk checksum mismatch; {skip - pos} bytes "
                                           f"skipped to the next block, at byte {skip}",
                                     offset=pos))
            pos, parts, start = skip, [], None
            continue
        if kind == FULL:
            yield pos, data
            parts, start = [], None
        elif kind == FIRST:
            parts, start = [data], pos
        elif start is not None:
            parts.append(data)
            if kind == LAST:
                yield start, b"".join(parts)
                parts, start = [], None
        pos = end
    return errors, notes


def _text(buf: bytes, a: int, b: int) -> str:
    return buf[a:b].decode("utf-8", errors="replace")


def _keyed(buf: bytes, a: int, b: int):
    """(name, value_json text or None, typed number or None) of a HistoryItem or
    a ConfigItem, which share these fields: the name is ``key`` or the
    ``nested_key`` path joined with ``/``."""
    key, nested, text, number = "", [], None, None
    for field, wire, i, j in fields(buf, a, b):
        if field == I_KEY and wire == 2:
            key = _text(buf, i, j)
        elif field == I_NESTED and wire == 2:
            nested.append(_text(buf, i, j))
        elif field == I_VALUE_JSON and wire == 2:
            text = _text(buf, i, j)
        elif field == I_NUMBER and wire == 1:
            number = struct.unpack_from("<d", buf, i)[0]
        elif field == I_INTEGER and wire == 0:
            raw, _ = varint(buf, i)
            number = float((raw >> 1) ^ -(raw & 1))  # sint64: zigzag
    return key or "/".join(nested), text, number


def _item(buf: bytes, a: int, b: int):
    """(name, value) of a HistoryItem; value None if it is not a number."""
    name, text, number = _keyed(buf, a, b)
    if number is None and text is not None:
        number = _json_number(text)
    return name, number


def _json_number(text: str) -> float | None:
    try:
        value = json.loads(text)  # NaN, Infinity, -Infinity are read as floats
    except ValueError:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # media, histograms, text, tables
    try:
        return float(value)
    except OverflowError:  # an int beyond a double
        return math.inf if value > 0 else -math.inf


def _history(buf: bytes):
    """(step or None, {name: value}) of a HistoryRecord."""
    step, row = None, {}
    for field, wire, i, j in fields(buf):
        if field == H_ITEM and wire == 2:
            name, value = _item(buf, i, j)
            if value is not None:
                row[name] = value
        elif field == H_STEP and wire == 2:
            for f, w, a, _ in fields(buf, i, j):
                if f == 1 and w == 0:
                    step = varint(buf, a)[0]
    return step, row


def _config(buf: bytes, a: int, b: int, out: dict) -> None:
    """ConfigRecord updates (ConfigItem: key or nested_key, value_json) into ``out``."""
    for field, wire, i, j in fields(buf, a, b):
        if field == CONFIG_UPDATE and wire == 2:
            name, text, _ = _keyed(buf, i, j)
            if not name or name == "_wandb":
                continue
            try:
                out[name] = None if text is None else json.loads(text)
            except ValueError:
                out[name] = text


def _run(buf: bytes, a: int, b: int, facts: dict) -> None:
    for field, wire, i, j in fields(buf, a, b):
        if wire != 2:
            continue
        if field == RUN_ID:
            facts["run_id"] = _text(buf, i, j)
        elif field == RUN_NAME:
            facts["name"] = _text(buf, i, j)
        elif field == RUN_PROJECT:
            facts["project"] = _text(buf, i, j)
        elif field == RUN_CONFIG:
            _config(buf, i, j, facts.setdefault("config", {}))


def _read_log(path: str, points: tuple[list, list, list, list], facts: dict,
              errors: list, notes: list) -> None:
    names, steps, values, walls = points
    try:
        with storage.open_binary(path) as fh:
            buf = fh.read()
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    walk = records(buf, path)
    row_index = 0
    while True:
        try:
            offset, record = next(walk)
        except StopIteration as done:
            errs, nts = done.value
            errors += errs
            notes += [f"{storage.basename(path)}: {n}" for n in nts]
            return
        except ParseError as err:  # no W&B header: the printed output may stand in
            errors.append(err)
            return
        try:
            for field, wire, i, j in fields(record):
                if wire != 2:
                    continue
                if field == R_HISTORY:
                    step, row = _history(record[i:j])
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
                    row_index += 1
                elif field == R_RUN:
                    _run(record, i, j, facts)
                elif field == R_CONFIG:
                    _config(record, i, j, facts.setdefault("config", {}))
        except (WireError, struct.error, OverflowError, ValueError):
            errors.append(ParseError(path, "a record that is not a W&B Record; skipped",
                                     offset=offset))


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
