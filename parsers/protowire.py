"""The protobuf wire format, read field by field without generated classes:
enough to pick a few fields out of messages whose ``.proto`` we do not ship
(TensorBoard's scalar events, W&B's history records)."""

from __future__ import annotations


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def varint(buf: bytes, i: int) -> tuple[int, int]:
    """(value, next offset) of the varint at ``i``."""
    value = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise WireError
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        i += 1
        shift += 7
        if byte < 0x80:
            return value, i


def fields(buf: bytes, start: int = 0, end: int | None = None):
    """Yield (field, wire_type, value_start, value_end) over a message's bytes."""
    end = len(buf) if end is None else end
    i = start
    while i < end:
        key, i = varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, j = varint(buf, i)
        elif wire == 1:
            j = i + 8
        elif wire == 5:
            j = i + 4
        elif wire == 2:
            size, i = varint(buf, i)
            j = i + size
        else:
            raise WireError
        if j > end:
            raise WireError
        yield field, wire, i, j
        i = j
