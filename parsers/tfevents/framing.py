"""TFRecord framing: find every record of a file and verify both checksums.

A record is ``uint64 length | uint32 masked_crc32c(length) | payload |
uint32 masked_crc32c(payload)``, little-endian.  Each record's position follows
from the previous record's length, so the chain is walked in order; but event
files written by a training loop repeat a short pattern of record lengths (one
record per tag per step), so once a period is seen the walk checks thousands of
the following length fields at once through a strided numpy view instead of
reading them one by one.  The result is the same chain either way: every
predicted length field is compared with the one in the file.

The records come out as :class:`Block` objects, each a set of records of one
length; checksums are verified per block with the vectorised CRC in
:mod:`parsers.tfevents.crc32c`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ParseError
from . import columns, plans
from .crc32c import crc32c, crc32c_rows, mask, masked_crc32c

HEADER = 12  # length + its CRC
OVERHEAD = 16  # header + payload CRC
_U64 = struct.Struct("<Q").unpack_from
_LENGTH = struct.Struct("<Q").pack
_FIRST_GALLOP = 64
_RECENT = 8  # records walked one by one before looking for a period
_MAX_PERIOD = 4
_MAX_CYCLE = 2048  # records in a repeating cycle of runs and breaks
_BIG_BLOCK = 4096  # regular blocks this long are not worth gathering
_FEW = 8  # patterns up to this long are checked a field at a time
_GATHER = 65536  # length fields read in one gather at most (past it, strided views win)


@dataclass
class Block:
    """Records of one payload ``length``, at header offsets ``start + stride*i``
    (a regular block) or at the explicit header ``offsets``."""

    length: int
    start: int = 0
    stride: int = 0
    count: int = 0
    offsets: np.ndarray | None = None
    _gathered: tuple | None = field(default=None, repr=False, compare=False)
    _varying: tuple | None = field(default=None, repr=False, compare=False)

    def header_offsets(self) -> np.ndarray:
        if self.offsets is not None:
            return self.offsets
        return self.start + self.stride * np.arange(self.count, dtype=np.int64)

    def records(self, buf: bytes) -> np.ndarray:
        """A ``(count, length + OVERHEAD)`` uint8 matrix of the whole records:
        a strided view of ``buf`` for a regular block; for one at explicit
        offsets, a gathered copy, kept (the checksums and the decoder all read
        it, and gathering once is cheaper than gathering each part)."""
        width = self.length + OVERHEAD
        if self.offsets is None:
            return np.ndarray((self.count, width), dtype=np.uint8, buffer=buf,
                              offset=self.start, strides=(self.stride, 1))
        if self._gathered is None or self._gathered[0] is not buf:
            # every window of ``width`` bytes, as a zero-copy view; taking rows
            # of it copies each record without a (count, width) index matrix
            windows = np.ndarray((len(buf) - width + 1, width), dtype=np.uint8, buffer=buf,
                                 strides=(1, 1))
            self._gathered = (buf, windows[self.offsets])
        return self._gathered[1]

    def rows(self, buf: bytes, skip: int, width: int) -> np.ndarray:
        """A ``(count, width)`` uint8 matrix of the bytes at ``header + skip``."""
        return self.records(buf)[:, skip:skip + width]

    def u32_at(self, buf: bytes, skip: int) -> np.ndarray:
        """The little-endian uint32 at ``header + skip`` of each record: read
        through a strided view of the rows (copying the (count, 4) bytes
        first costs ten times as much)."""
        return np.ascontiguousarray(self.rows(buf, skip, 4).view("<u4")[:, 0])

    def payload(self, buf: bytes) -> np.ndarray:
        """The payload bytes, one row per record."""
        return self.rows(buf, HEADER, self.length)

    def varying(self, buf: bytes, skip: int = HEADER, width: int | None = None) -> np.ndarray:
        """Which of the ``width`` bytes at ``header + skip`` (the payload, by
        default) differ between the records.  Found once for whole records
        and kept: the length checksums are read once where they are all
        alike, the payload checksums look up only the bytes that vary, and
        the decoder's template match compares only those row by row."""
        if self._varying is None or self._varying[0] is not buf:
            self._varying = (buf, columns.varying_columns(self.records(buf)))
        width = self.length if width is None else width
        return self._varying[1][skip:skip + width]

    def subset(self, keep: np.ndarray) -> "Block":
        return Block(self.length, offsets=self.header_offsets()[keep])


@dataclass
class Framing:
    """What :func:`read_records` found in one file."""

    blocks: list[Block] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    records: int = 0
    consumed: int = 0  # bytes of ``buf`` framed; the rest waits for more data
    lost: int | None = None  # where a length checksum failed: framing lost there


def _walk(buf: bytes) -> tuple[list[Block], int]:
    """Follow the length chain; returns blocks and the offset where it stopped.

    Records are read one by one until the last few lengths repeat with a
    period of up to four; then thousands of predicted length fields are checked
    at once.  When such a run ends (an evaluation record every N steps, say),
    the same pattern is tried again as soon as its lengths come back, and when
    runs and breaks repeat alike, the whole cycle becomes the pattern."""
    n = len(buf)
    blocks: list[Block] = []
    single_pos: list[int] = []
    single_len: list[int] = []
    recent: list[int] = []
    last: list[int] = []  # the pattern of the last run of repeats
    walked: list[int] = []  # lengths read one by one since that run
    cycles: list[tuple] = []  # (walked, pattern, repeats) between runs
    pos = 0
    while n - pos >= HEADER:
        length = _U64(buf, pos)[0]
        end = pos + OVERHEAD + length
        if end > n:
            break
        single_pos.append(pos)
        single_len.append(length)
        recent.append(length)
        walked.append(length)
        pos = end
        pattern = None
        if last and recent[-len(last):] == last:
            pattern = last
        elif len(recent) >= _RECENT:
            pattern = _period(recent)
        if pattern is None:
            continue
        matched = _repeats(buf, pos, pattern)
        if not matched:
            if len(recent) >= _RECENT:
                recent = recent[-_RECENT + 1:]
            continue
        pos = _add_blocks(blocks, pos, pattern, matched)
        cycles.append((tuple(walked), tuple(pattern), matched))
        last, recent, walked = pattern, [], []
        # the same break at the same distance twice (an eval record every N
        # steps): the whole cycle is one long pattern
        if len(cycles) >= 2 and cycles[-1] == cycles[-2]:
            head, body, times = cycles[-1]
            cycle = list(head) + list(body) * times
            if len(cycle) <= _MAX_CYCLE:
                repeats = _repeats(buf, pos, cycle)
                if repeats:
                    pos = _add_blocks(blocks, pos, cycle, repeats)
                    cycles.clear()
    if single_pos:
        _flush(blocks, single_pos, single_len)
    return blocks, pos


def _period(recent: list[int]) -> list[int] | None:
    for period in range(1, _MAX_PERIOD + 1):
        if recent[-period:] == recent[-2 * period:-period]:
            return recent[-period:]
    return None


def _repeats(buf: bytes, pos: int, lengths: list[int]) -> int:
    """How many times ``lengths`` repeats from ``pos`` on, checked through
    strided views: 64 periods, then 256, 1024 ... so a pattern that breaks soon
    costs little and a file of one long pattern costs a few numpy calls.  Each
    try reads the length fields of all of its periods at once (a cycle of 150
    records is one gather, not 150 comparisons, while that is cheaper; a
    pattern of a few, or a long try, is read through one strided view per
    field, without copying)."""
    deltas = [0]
    for ln in lengths:
        deltas.append(deltas[-1] + ln + OVERHEAD)
    stride = deltas[-1]
    expected = np.asarray(lengths, dtype="<u8")
    fields = (np.asarray(deltas[:-1])[:, None] + np.arange(8)).ravel()  # their bytes
    available = (len(buf) - pos) // stride
    matched = 0
    step = _FIRST_GALLOP
    while matched < available:
        step = min(step, available - matched)
        at = pos + matched * stride
        if len(lengths) <= _FEW or step * len(lengths) > _GATHER:  # a strided view
            # per length field, no copy (past _GATHER fields, a gather costs more)
            first_bad = step
            for delta, ln in zip(deltas, lengths):
                found = np.ndarray((step,), dtype="<u8", buffer=buf, offset=at + delta,
                                   strides=(stride,))
                bad = np.flatnonzero(found != ln)
                if bad.size:
                    first_bad = min(first_bad, int(bad[0]))
        else:
            periods = np.ndarray((step, stride), dtype=np.uint8, buffer=buf, offset=at,
                                 strides=(stride, 1))
            found = np.ascontiguousarray(periods[:, fields]).view("<u8")  # (step, fields)
            bad = np.flatnonzero((found != expected).any(axis=1))
            first_bad = int(bad[0]) if bad.size else step
        matched += first_bad
        if first_bad < step:
            break
        step *= 4
    return matched


def _add_blocks(blocks: list[Block], pos: int, lengths: list[int], matched: int) -> int:
    """The records of ``matched`` repeats of ``lengths`` from ``pos``: a
    regular block per place in the pattern; or, for a long cycle repeated
    fewer than ``_BIG_BLOCK`` times (an eval every 50 steps), one block per
    length at explicit offsets, as :func:`_merge_by_length` would make of the
    hundreds of short regular blocks (each a Python object and a few numpy
    calls)."""
    stride = sum(ln + OVERHEAD for ln in lengths)
    if len(lengths) > _FEW and matched < _BIG_BLOCK:
        sizes = np.asarray(lengths, dtype=np.int64)
        deltas = np.cumsum(sizes + OVERHEAD) - (sizes + OVERHEAD)
        starts = pos + stride * np.arange(matched, dtype=np.int64)
        for ln in np.unique(sizes):  # in file order: repeat by repeat, place by place
            offsets = (starts[:, None] + deltas[sizes == ln]).ravel()
            blocks.append(Block(int(ln), offsets=offsets))
        return pos + matched * stride
    delta = 0
    for ln in lengths:
        blocks.append(Block(ln, start=pos + delta, stride=stride, count=matched))
        delta += ln + OVERHEAD
    return pos + matched * stride


def _flush(blocks, single_pos, single_len):
    pos = np.asarray(single_pos, dtype=np.int64)
    lens = np.asarray(single_len, dtype=np.int64)
    for ln in np.unique(lens):
        blocks.append(Block(int(ln), offsets=pos[lens == ln]))
    single_pos.clear()
    single_len.clear()


def read_records(buf: bytes, path: str, *, base: int = 0, final: bool = True) -> Framing:
    """Frame ``buf`` and verify its checksums.

    ``buf`` is the file from byte ``base`` on; offsets in errors are the file's.
    With ``final=False`` more data follows: an incomplete last record is left
    for the next call (``consumed`` says where it starts).  At the end of the
    file, a record cut short (a run still being written) is noted, not an
    error.  A length whose checksum fails ends the walk there (``lost``; the
    caller may :func:`resync`); everything before it is kept.  A payload whose
    checksum fails is skipped and reported; the records after it are kept.
    """
    out = Framing()
    planned = plans.reuse(buf)  # a file like the last ones
    if planned is None:
        blocks, stop = _walk(buf)
        blocks = _merge_by_length(blocks)
        plans.remember(len(buf), blocks, stop)
    else:
        blocks, stop = planned
    blocks, cut = _check_headers(buf, blocks)
    out.consumed = stop if cut is None else cut
    if cut is not None:
        out.lost = cut
    elif stop < len(buf) and not _header_ok(buf, stop):
        out.lost = stop
    elif final and stop < len(buf):
        _tail(buf, stop, out, base)
    for block in blocks:
        stored = block.u32_at(buf, HEADER + block.length)
        good = mask(crc32c_rows(block.payload(buf), block.varying(buf))) == stored
        if not good.all():
            bad = block.header_offsets()[~good]
            out.errors.append(ParseError(
                path, f"payload checksum mismatch in {bad.size} record(s) of "
                      f"{block.length} bytes; skipped them", offset=base + int(bad.min())))
            block = block.subset(good)
        if len(block.header_offsets()):
            out.blocks.append(block)
            out.records += len(block.header_offsets())
    return out


def _merge_by_length(blocks: list[Block]) -> list[Block]:
    """One block per record length.  A file whose pattern is broken now and
    then yields short blocks (the runs walked before a cycle is seen, the
    records walked one by one), and every block costs a few dozen numpy
    calls; a gathered block of all records of a length costs one.  Long
    regular blocks stay zero-copy strided views."""
    by_length: dict[int, list[Block]] = {}
    out = []
    for block in blocks:
        if block.offsets is None and block.count >= _BIG_BLOCK:
            out.append(block)  # long regular runs stay strided views
        else:
            by_length.setdefault(block.length, []).append(block)
    for length, group in by_length.items():
        if len(group) == 1:
            out.append(group[0])
        else:  # sorted: gathering in file order reads memory in order
            offsets = np.sort(_offsets_of(group), kind="stable")  # merges its sorted runs
            out.append(Block(length, offsets=offsets))
    return out


def _offsets_of(group: list[Block]) -> np.ndarray:
    """The header offsets of every record of ``group``, the regular blocks'
    made at once (a file broken by an eval every 50 steps has hundreds)."""
    regular = [b for b in group if b.offsets is None]
    parts = [b.offsets for b in group if b.offsets is not None]
    if regular:
        starts = np.array([b.start for b in regular], dtype=np.int64)
        strides = np.array([b.stride for b in regular], dtype=np.int64)
        counts = np.array([b.count for b in regular], dtype=np.int64)
        first = np.repeat(np.cumsum(counts) - counts, counts)  # each record's block's first
        index = np.arange(int(counts.sum()), dtype=np.int64) - first  # index in its block
        parts.append(np.repeat(starts, counts) + np.repeat(strides, counts) * index)
    return np.concatenate(parts)


def _check_headers(buf: bytes, blocks: list[Block]) -> tuple[list[Block], int | None]:
    """Verify every length checksum; cut everything from the first bad one.
    A block's records all have the block's length (the walk put them there by
    it), so their length checksum is one number, computed once a block."""
    cut = None
    for block in blocks:
        want = masked_crc32c(_LENGTH(block.length))
        if not block.varying(buf, 8, 4).any():  # one stored checksum: the first record's
            if int(block.rows(buf, 8, 4)[0].view("<u4")[0]) == want:
                continue
            bad = np.arange(len(block.header_offsets()))
        else:
            bad = np.flatnonzero(block.u32_at(buf, 8) != want)
        if bad.size:
            first = int(block.header_offsets()[bad].min())
            cut = first if cut is None else min(cut, first)
    if cut is None:
        return blocks, None
    kept = []
    for block in blocks:
        offsets = block.header_offsets()
        if offsets.min() < cut:
            kept.append(block.subset(offsets < cut))
    return kept, cut


def _header_ok(buf: bytes, at: int) -> bool:
    """Does the length at ``at`` match its checksum (True while incomplete)?"""
    if len(buf) - at < HEADER:
        return True
    header = np.frombuffer(buf, dtype=np.uint8, count=8, offset=at).reshape(1, 8)
    return int(mask(crc32c_rows(header))[0]) == struct.unpack_from("<I", buf, at + 8)[0]


def pending_record(buf: bytes) -> int | None:
    """The whole size of the record ``buf`` begins with, if its length can be
    read and trusted (its checksum matches); None otherwise."""
    if len(buf) < HEADER or not _header_ok(buf, 0):
        return None
    return _U64(buf, 0)[0] + OVERHEAD


def _tail(buf: bytes, stop: int, out: Framing, base: int) -> None:
    """Note the record cut short at the end of the file (its length is sound)."""
    left = len(buf) - stop
    want = f" of {_U64(buf, stop)[0] + OVERHEAD}" if left >= HEADER else ""
    out.notes.append(f"last record incomplete ({left}{want} bytes at byte {base + stop}): "
                     "a run still being written? kept the records before it")


_SCAN = 1 << 20  # candidate positions checked at once when resynchronising


def resync(buf: bytes, start: int) -> int | None:
    """The first offset at or after ``start`` where a record begins again: a
    length whose checksum matches and, where the whole record is in ``buf``, a
    payload whose checksum matches too (a false match is a 1 in 2**64 event).
    A record running past the end of ``buf`` is taken on its length checksum
    alone.  None if no such offset is in ``buf``."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    last = len(buf) - HEADER  # the last offset a header fits at
    for lo in range(start, last + 1, _SCAN):
        hi = min(lo + _SCAN, last + 1)
        heads = sliding_window_view(arr[lo:hi + HEADER - 1], HEADER)
        stored = heads[:, 8:12].copy().view("<u4").ravel()
        for at in np.flatnonzero(mask(crc32c_rows(heads[:, :8])) == stored) + lo:
            length = _U64(buf, int(at))[0]
            end = int(at) + HEADER + length + 4
            if end > len(buf):
                return int(at)
            payload = buf[int(at) + HEADER:end - 4]
            if mask(crc32c(payload)) == struct.unpack_from("<I", buf, end - 4)[0]:
                return int(at)
    return None
