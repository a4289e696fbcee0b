"""TensorBoard event files (``events.out.tfevents.*``), without TensorFlow.

Framing and checksums: :mod:`parsers.tfevents.framing`.  Scalar records are decoded in
bulk by :mod:`parsers.tfevents.template`; every record it does not recognise
(file version, graphs, histograms, images, unusual layouts) goes through the
``Event`` protobuf compiled into the ``tensorboard`` package, so nothing the
template path skips is lost.

Scalars: v1 ``simple_value`` and v2 rank-0 float/double tensors.  A v2 tensor
counts as a scalar unless its tag's metadata names a plugin other than
``scalars`` (the metadata is written with a tag's first value only).
"""

from __future__ import annotations

import io
import os
import re

import numpy as np

from .. import storage
from ..errors import ParseError
from ..frame import FileData
from . import template as et
from .framing import HEADER, pending_record, read_records, resync
from .points import Points, Span

NAME = "tensorboard"  # the format name in frames and run sources
NAME_RE = re.compile(r"events\.out\.tfevents\.")
_MAX_TEMPLATES = 64  # layouts tried per block before the rest goes to protobuf


def is_event_file(name: str) -> bool:
    return NAME_RE.match(name) is not None


CHUNK = 4 << 20  # bytes read at a time: memory stays bounded on multi-GB files;
# and 4 MB stays in cache: of 2, 4 and 8 MB, 4 MB read the 10M-point file fastest


def read_event_file(path: str | os.PathLike) -> FileData:
    """All scalars of one event file, in the order they were written.

    The file is read ``CHUNK`` bytes at a time; a record longer than that is
    read whole, in one read.  Bytes appended while the file is read (a run
    still being written) are not waited for: the file is read to the size it
    had when it was opened, and a record cut there is noted.  A length that
    claims more bytes than the file has is never allocated."""
    path = os.fspath(path)
    try:
        with storage.open_binary(path) as fh:
            return _decode_stream(fh, path, _size(fh))
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None


def _size(fh) -> int | None:
    try:
        return os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return getattr(fh, "size", None)  # storage.open_binary sets it for URLs


def decode_events(buf: bytes, path: str) -> FileData:
    """All scalars of an event file held in memory."""
    return _decode_stream(io.BytesIO(buf), path, len(buf))


def _decode_stream(fh, path: str, size: int | None) -> FileData:
    points = Points()
    notes: list[str] = []
    errors: list[ParseError] = []
    leftovers: list[int] = []
    carry, base, records, read = b"", 0, 0, 0
    want = CHUNK
    lost = None  # file offset where framing was lost, while no record is found again
    while True:
        chunk = fh.read(want)
        read += len(chunk)
        final = len(chunk) < want or (size is not None and read >= size)
        buf = carry + chunk if carry else chunk
        want = CHUNK
        if lost is not None:  # still looking for the next sound record
            again = resync(buf, 0)
            if again is None:
                if final:
                    errors.append(_lost(path, lost, None, base + len(buf)))
                    break
                carry, base = _keep_tail(buf, base)
                continue
            errors.append(_lost(path, lost, base + again))
            lost, buf, base = None, buf[again:], base + again
        framing = read_records(buf, path, base=base, final=final)
        notes += framing.notes
        errors += framing.errors
        records += framing.records
        for block in framing.blocks:
            _decode_block(buf, block, points, leftovers, base)
        _decode_leftovers(buf, leftovers, points, notes, base)
        points.flush()
        if size is not None and size > 2 * CHUNK:
            points.plan(size, base + framing.consumed)
        if framing.lost is not None:  # look for the next sound record from the byte after
            lost = base + framing.lost
            carry, base = buf[framing.lost + 1:], lost + 1
            continue
        if final:
            break
        carry = buf[framing.consumed:]
        base += framing.consumed
        pending = pending_record(carry)
        if pending is not None and size is not None and base + pending > size:
            # the record runs past the end of the file: the tail of a cut file
            tail = read_records(carry, path, base=base, final=True)
            notes += tail.notes
            break
        want = max(CHUNK, (pending or 0) - len(carry))
    if read == 0:
        notes.append("empty (0 bytes): a writer that had not flushed yet")
        return _finish(points, path, errors, notes)
    if records == 0:
        raise ParseError(path, f"not an event file: no sound TFRecord framing in its {read} "
                               "bytes (or one cut short before its first record)", offset=0)
    if not points.columns and not points.events_seen:
        raise ParseError(path, f"{records} record(s) with valid checksums, but none is a "
                               "TensorBoard Event: a TFRecord file, not an event file",
                         offset=0)
    return _finish(points, path, errors, notes)


def _keep_tail(buf: bytes, base: int) -> tuple[bytes, int]:
    """The last bytes of ``buf`` that may begin a header completed by the next read."""
    keep = min(len(buf), HEADER - 1)
    return buf[len(buf) - keep:], base + len(buf) - keep


def _lost(path: str, at: int, again: int | None, end: int | None = None) -> ParseError:
    if again is None:
        return ParseError(path, f"length checksum mismatch: the last {end - at} bytes could "
                                "not be framed and were not read", offset=at)
    return ParseError(path, f"length checksum mismatch: {again - at} bytes could not be "
                            f"framed and were skipped; reading resumed at byte {again}",
                      offset=at)


def _decode_leftovers(buf, leftovers: list[int], points, notes, base: int) -> None:
    undecodable = [offset for offset in sorted(leftovers)
                   if not _decode_one(buf, offset, points, notes, base)]
    leftovers.clear()
    if undecodable:
        notes.append(f"{len(undecodable)} record(s) with valid checksums are not Events "
                     f"(first at byte {base + undecodable[0]}); skipped")


def _decode_block(buf, block, points: Points, leftovers: list[int], base: int) -> None:
    rows = block.payload(buf)
    offsets = block.header_offsets()
    todo = np.arange(len(rows))
    for _ in range(_MAX_TEMPLATES):
        if todo.size == 0:
            return
        first = int(todo[0])
        template = et.template_for(rows[first].tobytes())
        if template is None:
            leftovers.append(int(offsets[first]))
            todo = todo[1:]
            continue
        whole = todo.size == len(rows)
        sub = rows if whole else rows[todo]
        ok = et.match(template, sub, block.varying(buf) if whole else None)
        every = bool(ok.all())
        wall, step, values = et.decode_rows(template, sub if every else sub[ok])
        if whole and every and block.offsets is None:  # a regular block, all of it
            where = Span(base + block.start, block.stride, block.count)
        else:
            where = offsets[todo[ok]] + base
        for slot, value in zip(template.slots, values):
            points.add(where, slot.tag, step, value, wall, slot.tensor, slot.plugin)
        todo = todo[~ok]
    leftovers.extend(int(o) for o in offsets[todo])


def _decode_one(buf, offset, points: Points, notes, base: int = 0) -> bool:
    """The protobuf path, for records the templates do not cover; False if the
    record does not decode as an Event."""
    from tensorboard.compat.proto import event_pb2

    length = int.from_bytes(buf[offset:offset + 8], "little")
    payload = buf[offset + HEADER:offset + HEADER + length]
    try:
        event = event_pb2.Event.FromString(payload)
    except Exception:  # protobuf raises its own DecodeError
        return False
    kind = event.WhichOneof("what")
    if kind is None:  # another message read as an Event: all its fields unknown
        return False
    points.events_seen = True
    if kind == "session_log" and event.session_log.status == 1:  # START
        notes.append(f"restart (SessionLog START) at step {event.step}")
    if kind != "summary":
        return True
    for val in event.summary.value:
        plugin = val.metadata.plugin_data.plugin_name if val.HasField("metadata") else None
        number = _scalar_of(val)
        if number is None or not val.tag:
            if plugin is not None and val.tag:
                points.plugins.setdefault(val.tag, plugin)
            continue
        points.add(np.array([base + offset]), val.tag, np.array([event.step], dtype=np.int64),
                   np.array([number], dtype=np.float64), np.array([event.wall_time]),
                   val.WhichOneof("value") == "tensor", plugin)
    return True


def _scalar_of(val) -> float | None:
    kind = val.WhichOneof("value")
    if kind == "simple_value":
        return val.simple_value
    if kind != "tensor":
        return None
    tensor = val.tensor
    if tensor.tensor_shape.dim or tensor.tensor_shape.unknown_rank:
        return None
    from tensorboard.util import tensor_util

    try:
        array = tensor_util.make_ndarray(tensor)
    except Exception:  # unsupported dtype or malformed content
        return None
    if array.size != 1 or array.dtype.kind not in "fiub":
        return None
    return float(array.reshape(()))


def _finish(points: Points, path: str, errors, notes) -> FileData:
    """The file's points grouped by tag (in name order: a run's series come out
    sorted without a sort), each tag's in the order written (all a run needs:
    a step written twice keeps its last write).  ``start``: the wall time of
    the first record written."""
    names = list(points.tags)
    dropped = {points.tags[t] for t in points.tensor_tags
               if points.plugins.get(t, "scalars") not in ("scalars", "")}
    kept = [c for c in points.in_name_order() if c not in dropped]
    names = [names[c] for c in kept]  # codes 0, 1 ... in name order: a run of this one
    # file maps them onto its own codes without a copy
    step, value, wall, starts = points.final(kept)
    tag = np.empty(len(step), np.int32)
    for code, (column, at) in enumerate(starts):
        tag[at:at + column.size] = code
    # each column in file order (see Points.flush): its first part holds its first record
    heads = [(column.where[0].first(), at) for column, at in starts]
    start = float(wall[min(heads)[1]]) if heads else _name_time(path)
    return FileData(path, NAME, names, tag, step, value, wall, x_axis="step",
                    start=start, notes=notes, errors=list(errors))


def _name_time(path: str) -> float:
    """The creation time TensorBoard writers put in the file name."""
    match = re.match(r"events\.out\.tfevents\.(\d+(?:\.\d+)?)", storage.basename(path))
    return float(match.group(1)) if match else float("nan")
