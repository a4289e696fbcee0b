"""W&B's transaction log (``run-<id>.wandb``): its framing and the few
``Record`` fields the reader uses, decoded from the protobuf wire format
(:mod:`parsers.protowire`) without the ``wandb`` package.

The framing is LevelDB's log format as W&B writes it: a 7-byte header
(``:W&B``, magic ``0xBEE1``, version 0), then 32 KiB blocks of chunks, each
``crc32 (4 bytes, zlib's CRC-32 of the type byte and the data) | length (2) |
type (1: full, 2: first, 3: middle, 4: last)``; a record is one chunk or a
first, middles and a last.  Field numbers are those of ``wandb_internal.proto``.
"""

from __future__ import annotations

import json
import math
import struct
import zlib

from .errors import ParseError
from .protowire import fields, varint

HEADER = b":W&B\xe1\xbe\x00"
BLOCK = 32768
CHUNK = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
# Record fields, HistoryRecord / HistoryItem fields (wandb_internal.proto)
R_HISTORY, R_CONFIG, R_RUN = 2, 5, 17
H_ITEM, H_STEP = 1, 2
I_KEY, I_NESTED, I_INTEGER, I_NUMBER, I_VALUE_JSON = 1, 2, 5, 6, 16
RUN_ID, RUN_PROJECT, RUN_CONFIG, RUN_NAME = 1, 3, 4, 8
CONFIG_UPDATE = 1


def records(buf: bytes, path: str, errors: list, notes: list):
    """Yield (offset, record bytes) of every whole record of a transaction log;
    damage is appended to ``errors``, a cut tail to ``notes``.  No header at
    all is a :class:`ParseError`, raised before the first record."""
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


def history(buf: bytes):
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


def config_updates(buf: bytes, a: int, b: int, out: dict) -> None:
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


def run_facts(buf: bytes, a: int, b: int, facts: dict) -> None:
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
            config_updates(buf, i, j, facts.setdefault("config", {}))
