"""Decode many scalar ``Event`` records at once from one record's layout.

A training loop writes the same kind of record again and again: only the wall
time, the step and the value change.  :func:`build_template` walks the protobuf
wire format of one record and notes where those three live; every other byte of
the record (field keys, lengths, the tag, the metadata) is *structure*.  A record
of the same length whose structural bytes are identical, and whose step varint
has the same continuation bits, parses field for field exactly like the first,
so :func:`decode_rows` reads the three fields of thousands of records with a few
numpy operations and leaves the rest to the protobuf fallback.

Layouts understood here (anything else returns ``None``):

* Event: ``wall_time`` (1, double), ``step`` (2, varint), ``summary`` (5).
* Summary.Value: ``tag`` (1), ``simple_value`` (2, float; TF1/torch),
  ``metadata`` (9: plugin name, data class), ``tensor`` (8; TF2 scalars).
* TensorProto of rank 0: ``dtype`` DT_FLOAT/DT_DOUBLE, value in ``float_val``
  or ``double_val`` (packed or not) or ``tensor_content``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..protowire import WireError
from ..protowire import fields as _fields
from ..protowire import varint as _varint
from . import columns

DT_FLOAT, DT_DOUBLE = 1, 2
_WIDTH = {DT_FLOAT: 4, DT_DOUBLE: 8}
_FEW_COLUMNS = 3  # columns compared one at a time rather than in one gather
_DTYPE = {4: "<f4", 8: "<f8"}


@dataclass(frozen=True)
class Slot:
    """One scalar inside a record: its tag and where its value bytes are."""

    tag: str
    pos: int
    width: int
    tensor: bool
    plugin: str | None


@dataclass
class Template:
    reference: np.ndarray  # the record the layout was read from
    wall_pos: int | None
    step_pos: int | None
    step_len: int
    slots: list[Slot]
    structure: np.ndarray  # column indices that must equal the reference

    @cached_property
    def _spans(self) -> list[tuple[int, bytes]]:
        """The structural bytes as (offset, bytes) runs of adjacent positions."""
        cols = self.structure
        if not cols.size:
            return []
        breaks = np.flatnonzero(np.diff(cols) != 1) + 1
        ref = self.reference.tobytes()
        return [(int(run[0]), ref[run[0]:run[-1] + 1]) for run in np.split(cols, breaks)]

    def fits(self, record: bytes) -> bool:
        """:func:`match` of one record held as bytes (no numpy call a byte):
        the same length, the structural bytes and the step varint's
        continuation bits."""
        if len(record) != len(self.reference):
            return False
        if not all(record[a:a + len(part)] == part for a, part in self._spans):
            return False
        if self.step_pos is None:
            return True
        a, k = self.step_pos, self.step_len
        return all(record[a + i] >= 0x80 for i in range(k - 1)) and record[a + k - 1] < 0x80


_NotScalar = WireError  # a record this module does not decode: the protobuf path reads it


def build_template(record: bytes) -> Template | None:
    """The layout of one scalar event, or ``None`` if it is not one we know."""
    try:
        return _event(record)
    except (_NotScalar, UnicodeDecodeError):
        return None


_KNOWN: dict[int, list[Template]] = {}  # by record length, the latest first
_KNOWN_PER_LENGTH = 16  # layouts kept per record length (a run's tags of one length)


def template_for(record: bytes) -> Template | None:
    """The layout of ``record``: a layout seen before (in this file or an
    earlier one: the runs of a sweep log the same tags) that it fits, else
    :func:`build_template`'s.  A record that fits a layout parses field for
    field the same (see the module notes), so the layout is the one building
    it anew would give."""
    known = _KNOWN.setdefault(len(record), [])
    for template in known:
        if template.fits(record):
            return template
    template = build_template(record)
    if template is not None:
        known.insert(0, template)
        del known[_KNOWN_PER_LENGTH:]
    return template


def _event(buf: bytes) -> Template:
    wall_pos = step_pos = None
    step_len = 0
    slots: list[Slot] = []
    for field, wire, lo, hi in _fields(buf, 0, len(buf)):
        if field == 1 and wire == 1:
            wall_pos = lo
        elif field == 2 and wire == 0:
            step_pos, step_len = lo, hi - lo
        elif field == 5 and wire == 2:
            for f, w, vlo, vhi in _fields(buf, lo, hi):
                if f != 1 or w != 2:
                    raise _NotScalar
                slots.append(_value(buf, vlo, vhi))
        else:
            raise _NotScalar
    variable = np.zeros(len(buf), dtype=bool)
    if wall_pos is not None:
        variable[wall_pos:wall_pos + 8] = True
    if step_pos is not None:
        variable[step_pos:step_pos + step_len] = True
    for slot in slots:
        variable[slot.pos:slot.pos + slot.width] = True
    return Template(np.frombuffer(buf, dtype=np.uint8), wall_pos, step_pos, step_len,
                    slots, np.flatnonzero(~variable))


def _value(buf: bytes, lo: int, hi: int) -> Slot:
    tag = None
    pos = width = None
    tensor = False
    plugin = None
    for field, wire, a, b in _fields(buf, lo, hi):
        if field == 1 and wire == 2:
            tag = bytes(buf[a:b]).decode("utf-8")
        elif field == 2 and wire == 5:
            pos, width = a, 4
        elif field == 9 and wire == 2:
            plugin = _plugin(buf, a, b)
        elif field == 8 and wire == 2:
            pos, width = _tensor(buf, a, b)
            tensor = True
        else:
            raise _NotScalar
    if tag is None or pos is None:
        raise _NotScalar
    return Slot(tag, pos, width, tensor, plugin)


def _plugin(buf: bytes, lo: int, hi: int) -> str:
    name = ""
    for field, wire, a, b in _fields(buf, lo, hi):
        if field == 1 and wire == 2:  # plugin_data
            for f, w, pa, pb in _fields(buf, a, b):
                if f == 1 and w == 2:
                    name = bytes(buf[pa:pb]).decode("utf-8")
    return name


def _tensor(buf: bytes, lo: int, hi: int) -> tuple[int, int]:
    dtype = 0
    pos = width = None
    count = 0
    for field, wire, a, b in _fields(buf, lo, hi):
        if field == 1 and wire == 0:
            dtype, _ = _varint(buf, a)
        elif field == 2 and wire == 2:
            if b != a:  # a shape with dimensions: not a scalar
                raise _NotScalar
        elif field == 3 and wire == 0:
            pass  # version_number
        elif (field, wire) in ((4, 2), (5, 2), (6, 2), (5, 5), (6, 1)):
            # tensor_content, float_val, double_val: packed, or one fixed value
            pos, width = a, b - a
            count += 1
        else:
            raise _NotScalar
    expected = _WIDTH.get(dtype)
    if count != 1 or expected is None or width != expected:
        raise _NotScalar
    return pos, width


def _le_bytes(rows: np.ndarray, pos: int, width: int) -> np.ndarray:
    """The little-endian numbers at byte ``pos`` of every row, as a view of
    the rows (no copy: the caller copies them once, where they are kept)."""
    return rows[:, pos:pos + width].view(_DTYPE[width])[:, 0]


def match(template: Template, rows: np.ndarray, varying: np.ndarray | None = None
          ) -> np.ndarray:
    """Which rows share the template's structure (a boolean mask): the
    structural bytes and the step varint's continuation bits, as
    :meth:`Template.fits` checks one record.  ``varying``: which columns
    differ between the rows, if known (the checksums asked)."""
    ref = template.reference
    compare = template.structure
    if varying is None and len(rows) >= columns.LONG:
        varying = columns.varying_columns(rows)
    if varying is not None and len(rows):
        # a structural column the same in every row matches in all rows or
        # in none, as the first row does: only the columns that vary (two
        # tags of one length in one block) are compared row by row
        alike = compare[~varying[compare]]
        if not (rows[0, alike] == ref[alike]).all():
            return np.zeros(len(rows), dtype=bool)
        compare = compare[varying[compare]]
    if len(compare) <= _FEW_COLUMNS or len(rows) >= columns.LONG:
        ok = np.ones(len(rows), dtype=bool)  # a column at a time: no copy of a long block
        for col in compare:
            ok &= rows[:, col] == ref[col]
    else:  # one gather
        ok = (rows[:, compare] == ref[compare]).all(axis=1)
    if template.step_pos is not None:
        a, k = template.step_pos, template.step_len
        for i in range(k - 1):
            ok &= rows[:, a + i] >= 0x80
        ok &= rows[:, a + k - 1] < 0x80
    return ok


def decode_rows(template: Template, rows: np.ndarray):
    """Wall times, steps and one value array per slot for matching rows; wall
    times and values are views of ``rows`` (float32 values stay float32), to
    be copied by the caller before the rows' buffer changes."""
    count = len(rows)
    if template.wall_pos is None:
        wall = np.zeros(count)
    else:
        wall = _le_bytes(rows, template.wall_pos, 8)
    step = np.zeros(count, dtype=np.uint64)
    if template.step_pos is not None:
        for i in range(template.step_len):
            byte = rows[:, template.step_pos + i].astype(np.uint64) & np.uint64(0x7F)
            step |= byte << np.uint64(7 * i)
    values = [_le_bytes(rows, s.pos, s.width) for s in template.slots]
    return wall, step.view(np.int64), values
