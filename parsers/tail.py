"""One log file followed while a run writes it (``loss-doctor watch``).

:class:`Tail` keeps what it decoded and the byte offset up to which it did.
Event files, JSON lines and CSV are decoded only from that offset to the last
complete record or line (a record or line still being written is left for
the next pass); the new points are appended to the old ones.  A file that was
rewritten rather than appended (another inode, shorter than before, its first
bytes changed) and every other format are read again whole.  The bytes are
parsed by the format's own reader, from a temporary file outside the log
directory, so a tail is read exactly as the whole file would be.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from .errors import ParseError
from .frame import FileData, concat
from .tfevents.framing import HEADER

INCREMENTAL = ("tensorboard", "jsonl", "csv")
HEAD = 64  # bytes compared to tell a rewrite from an append


def merge(a: FileData, b: FileData) -> FileData:
    """``a``'s points, then ``b``'s (names united, codes remapped)."""
    names = sorted(set(a.names) | set(b.names))
    code = {n: i for i, n in enumerate(names)}

    def codes(d: FileData):
        table = np.asarray([code[n] for n in d.names], dtype=np.int32)
        return table[d.metric] if d.metric.size else np.empty(0, np.int32)

    return FileData(a.path, a.format, names, concat([codes(a), codes(b)], np.int32),
                    concat([a.step, b.step], np.int64), concat([a.value, b.value], np.float64),
                    concat([a.wall_time, b.wall_time], np.float64), x_axis=a.x_axis,
                    start=a.start, notes=list(dict.fromkeys(a.notes + b.notes)),
                    errors=a.errors + b.errors, facts={**a.facts, **b.facts})


def _event_boundary(buf: bytes, at: int) -> int:
    """The end of the last complete record from ``at`` (framing lengths only)."""
    end = at
    while end + HEADER <= len(buf):
        length = int.from_bytes(buf[end:end + 8], "little")
        nxt = end + HEADER + length + 4
        if nxt > len(buf):
            break
        end = nxt
    return end


class Tail:
    """One file, read again and again as it grows; ``bytes_decoded`` counts
    what was parsed (the test that appends while watching reads it)."""

    def __init__(self, path: str, fmt: str, read_whole):
        self.path, self.fmt, self.read_whole = path, fmt, read_whole
        self.data: FileData | None = None
        self.offset = 0
        self.lines = 0
        self.rows = 0
        self.ident = None
        self.head = b""
        self.header = b""
        self.seen = None
        self.bytes_decoded = 0

    def changed(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return self.seen is not None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != self.seen

    def read(self) -> FileData:
        """The file's data so far; raises :class:`ParseError` as its reader does."""
        st = os.stat(self.path)
        self.seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if self.fmt not in INCREMENTAL:
            self.bytes_decoded += st.st_size
            self.data = self.read_whole(self.path)
            return self.data
        with open(self.path, "rb") as fh:
            head = fh.read(min(HEAD, self.offset)) if self.offset else b""
            rewritten = (self.data is None or (st.st_dev, st.st_ino) != self.ident
                         or st.st_size < self.offset or head != self.head)
            if rewritten:
                self._reset(st)
            fh.seek(self.offset)
            new = fh.read(max(0, st.st_size - self.offset))
        if self.fmt == "tensorboard":
            end = _event_boundary(new, 0)
        else:
            end = new.rfind(b"\n") + 1
        if end == 0:
            if self.data is None:  # nothing complete yet: what the reader says of it
                self.data = self.read_whole(self.path)
            return self.data
        part = self._decode(new[:end])
        self.bytes_decoded += end
        if self.data is None or rewritten:
            self.data = part
            with open(self.path, "rb") as fh:
                self.head = fh.read(HEAD)
        elif part is not None:
            if part.x_axis != self.data.x_axis:  # the tail alone chose another x field
                self._reset(st)
                return self.read()
            self.data = merge(self.data, part)
        self.offset += end
        return self.data

    def _reset(self, st) -> None:
        self.data, self.offset, self.lines, self.rows = None, 0, 0, 0
        self.ident, self.header = (st.st_dev, st.st_ino), b""

    def _decode(self, chunk: bytes) -> FileData | None:
        if self.fmt == "tensorboard":
            from .tfevents.reader import decode_events

            return decode_events(chunk, self.path)
        first = self.offset == 0
        if self.fmt == "csv" and first:
            self.header = chunk[:chunk.find(b"\n") + 1]
        body = chunk if first or self.fmt != "csv" else self.header + chunk
        folder = tempfile.mkdtemp(prefix="loss-doctor-tail-")
        try:
            tmp = os.path.join(folder, os.path.basename(self.path))
            with open(tmp, "wb") as fh:
                fh.write(body)
            try:
                part = self.read_whole(tmp)
            except ParseError as err:
                if first:
                    raise ParseError(self.path, err.message, line=err.line) from None
                part = None  # new lines with no points (blank, chatter): nothing to add
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        shift = self.lines - (0 if first or self.fmt != "csv" else 1)
        if part is not None:
            part.path = self.path
            part.errors = [ParseError(self.path, e.message, offset=e.offset,
                                      line=None if e.line is None else e.line + shift)
                           for e in part.errors]
            if part.x_axis == "row":  # rows numbered in the tail alone: number them on
                part.step = part.step + self.rows
        self.rows += chunk.count(b"\n") - (1 if first and self.fmt == "csv" else 0)
        self.lines += chunk.count(b"\n")
        return part
