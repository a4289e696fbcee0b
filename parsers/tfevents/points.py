"""A file's points, collected per tag as its chunks are decoded, into its
final columns: each tag's in the order written, grouped by tag in name order.

Each chunk's parts are put in file order per tag (:meth:`Points.flush`); past
the first chunk of a large file, each tag gets a region of one set of shared
columns sized from that chunk (:meth:`Points.plan`), and if every tag stays in
its region the gaps are closed in place (:meth:`Points.final`): the points are
never copied again.  Offsets of a regular block's records are a :class:`Span`,
never an array.
"""

from __future__ import annotations

import numpy as np


class Span:
    """The file offsets ``start + stride * i`` of a regular block's records,
    without an array of them (8 bytes a point on a 10M-point file); or, for
    merged parts, just the first and the last (``stride`` 0, ``last`` given)."""

    __slots__ = ("start", "stride", "count", "end")

    def __init__(self, start: int, stride: int, count: int, last: int | None = None):
        self.start, self.stride, self.count = start, stride, count
        self.end = start + stride * (count - 1) if last is None else last

    def __len__(self) -> int:
        return self.count

    def first(self) -> int:
        return self.start

    def last(self) -> int:
        return self.end

    def array(self) -> np.ndarray:
        assert self.stride or self.count == 1, "a merged part keeps no offsets"
        return self.start + self.stride * np.arange(self.count, dtype=np.int64)


def _first(where) -> int:
    return where.first() if isinstance(where, Span) else int(where[0])


def _last(where) -> int:
    return where.last() if isinstance(where, Span) else int(where[-1])


def _array(where) -> np.ndarray:
    return where.array() if isinstance(where, Span) else where


def _in_order(where: list) -> bool:
    """Whether parts' offsets, each in file order, follow each other without
    interleaving (``where`` sorted by first offset)."""
    return all(isinstance(w, Span) or len(w) < 2 or bool(np.all(w[1:] > w[:-1]))
               for w in where) and all(_last(a) < _first(b) for a, b in zip(where, where[1:]))


class Column:
    """One tag's steps, values and wall times, appended part by part, with each
    part's offsets.  The arrays grow by half when full (so that a 10M-point
    file is never held as thousands of small parts and a copy of them); in a
    large file they start as a region of the file's shared columns
    (:meth:`Points.plan`), and a column that outgrows its region moves out."""

    __slots__ = ("where", "size", "step", "value", "wall", "region")

    def __init__(self):
        self.where: list[Span] = []  # per part: its first and last file offsets
        self.size = 0
        self.step, self.value, self.wall = np.empty(0, np.int64), np.empty(0), np.empty(0)
        self.region: int | None = None  # where it starts in the shared columns, if there

    def append(self, where, step, value, wall) -> None:
        n = len(step)
        end = self.size + n
        if end > len(self.step):
            self.place(None, max(end, len(self.step) * 3 // 2, 1024))
        self.step[self.size:end] = step
        self.value[self.size:end] = value
        self.wall[self.size:end] = wall
        if not isinstance(where, Span):  # the first and last offsets are all kept
            where = Span(int(where[0]), 0, n, int(where[-1]))
        self.where.append(where)
        self.size = end

    def place(self, region, capacity: int, shared=None) -> None:
        """Move the points into new arrays of ``capacity`` (views of ``shared``
        columns from ``region`` on, or arrays of its own)."""
        for k, name in enumerate(("step", "value", "wall")):
            old = getattr(self, name)
            new = (np.empty(capacity, old.dtype) if shared is None
                   else shared[k][region:region + capacity])
            new[:self.size] = old[:self.size]
            setattr(self, name, new)
        self.region = region


class Points:
    """Columns collected from templates and the fallback, per tag, each part
    with the file offsets of its records (an array, or a :class:`Span`)."""

    def __init__(self):
        self.columns: dict[int, Column] = {}  # tag code -> its points
        self.pending: dict[int, list] = {}  # tag code -> parts of the chunk being decoded
        self.shared: tuple | None = None  # (step, value, wall) all regions live in
        self.tags: dict[str, int] = {}
        self.tensor_tags: set[str] = set()
        self.plugins: dict[str, str] = {}
        self.events_seen = False  # any record with an Event's content (file_version ...)

    def code(self, tag: str) -> int:
        return self.tags.setdefault(tag, len(self.tags))

    def add(self, order, tag, step, value, wall, tensor, plugin):
        """A part of one chunk (its values may be views of the chunk's bytes):
        kept aside until :meth:`flush` puts the chunk's parts in file order."""
        if tensor:
            self.tensor_tags.add(tag)
        if plugin is not None:
            self.plugins.setdefault(tag, plugin)
        self.pending.setdefault(self.code(tag), []).append((order, step, value, wall))

    def flush(self) -> None:
        """Append each tag's parts of the chunk just decoded to its column in
        the order they were written (the framing groups records by length, so
        a tag's parts may interleave: merged by offset then), copying them out
        of the chunk: every column is in file order, chunk after chunk."""
        for code, parts in self.pending.items():
            column = self.columns.get(code)
            if column is None:
                column = self.columns[code] = Column()
            parts.sort(key=lambda p: _first(p[0]))
            if _in_order([p[0] for p in parts]):
                for part in parts:
                    column.append(*part)
                continue
            order = np.concatenate([_array(p[0]) for p in parts])
            sort = np.argsort(order, kind="stable")  # a merge of the sorted parts
            merged = [np.concatenate([np.asarray(p[k], dtype=dt) for p in parts])[sort]
                      for k, dt in ((1, np.int64), (2, np.float64), (3, np.float64))]
            column.append(Span(int(order[sort[0]]), 0, len(order), int(order[sort[-1]])),
                          *merged)
        self.pending.clear()

    def in_name_order(self) -> list[int]:
        """The codes of the tags holding points, by tag name: the order of the
        shared columns' regions and of the final columns alike."""
        names = list(self.tags)
        return sorted(self.columns, key=names.__getitem__)

    def plan(self, size: int, framed: int) -> None:
        """After the first chunk of a large file: each tag's points in the whole
        file, estimated from the chunk (with 5% to spare), get a region of one
        set of shared columns, in name order.  If every tag stays in its region
        and in order, :meth:`final` closes the gaps in place: the final
        columns are these, and the points are never copied again."""
        if self.shared is not None or not self.columns or framed <= 0:
            return
        order = self.in_name_order()
        scale = size / framed * 1.05
        caps = {c: int(self.columns[c].size * scale) + 1024 for c in order}
        total = sum(caps.values())
        self.shared = (np.empty(total, np.int64), np.empty(total), np.empty(total))
        at = 0
        for c in order:
            self.columns[c].place(at, caps[c], self.shared)
            at += caps[c]

    def final(self, kept: list[int]) -> tuple:
        """(step, value, wall, [(column, where it starts)]): the final columns
        of the tags ``kept``, in that order; every column is let go."""
        starts = _starts([self.columns.pop(c) for c in kept])
        self.columns.clear()
        if self.shared is not None and all(c.region is not None for c, _ in starts):
            step, value, wall = _close_gaps(self.shared, starts)
        else:
            step, value, wall = _copy_out(starts)
        self.shared = None
        return step, value, wall, starts


def _starts(columns: list) -> list[tuple]:
    """(column, where it starts in the final columns)."""
    out, at = [], 0
    for column in columns:
        out.append((column, at))
        at += column.size
    return out


def _close_gaps(shared: tuple, starts: list) -> tuple:
    """Every tag's points, already in the shared columns in file order, moved
    left over the spare ends of the regions before them: the final columns,
    with no copy of the file's points."""
    total = sum(c.size for c, _ in starts)
    for column, at in starts:
        if column.region != at:
            for array in shared:
                array[at:at + column.size] = array[column.region:column.region + column.size]
    return tuple(array[:total] for array in shared)


def _copy_out(starts: list) -> tuple:
    """The final columns: each tag's points copied after the last's, its own
    arrays freed once copied."""
    total = sum(c.size for c, _ in starts)
    step, value, wall = np.empty(total, np.int64), np.empty(total), np.empty(total)
    for column, at in starts:
        for name, out in (("step", step), ("value", value), ("wall", wall)):
            out[at:at + column.size] = getattr(column, name)[:column.size]
            setattr(column, name, None)  # freed once copied: one array more at a time
    return step, value, wall
