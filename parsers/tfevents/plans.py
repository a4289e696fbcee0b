"""The framing of a file like the last ones, reused once it is verified.

The runs of a sweep log the same tags for the same steps: their event files
have the same size and the same chain of record lengths, and only values and
wall times differ.  Walking the chain (:func:`framing._walk`) and merging its
blocks costs a tenth of a millisecond per thousand records, the same work for
every file.  A plan is what that gave for a buffer of one size: the merged
blocks (records of one length at a start and stride, or at offsets) and the
offset where the walk stopped.

A plan fits a new buffer of the same size if the length field of every record
it names holds that record's length (for each block, the first record's
does and no record's length bytes differ from the first's: the varying
columns the checksums need anyway) and the walk would stop where it stopped.
Then the new chain is the old one record by record (the first record is at
offset 0, and each next one where the verified length puts it), and the walk
would give the same blocks, since they follow from the chain of lengths and
the buffer's size alone.  Anything else, and the file is walked.
"""

from __future__ import annotations

import numpy as np

_PLANS: dict[int, tuple[list, int]] = {}  # buffer size -> (block shapes, stop)
_KEPT = 4  # plans kept, the latest (a worker reads the runs of one sweep after another)


def remember(size: int, blocks: list, stop: int) -> None:
    """Keep the blocks a walk gave for a buffer of ``size`` bytes."""
    shapes = []
    for b in blocks:
        offsets = b.offsets
        if offsets is not None:
            offsets = offsets.copy()
            offsets.setflags(write=False)  # shared by the files that reuse it
        shapes.append((b.length, b.start, b.stride, b.count, offsets))
    _PLANS.pop(size, None)
    while len(_PLANS) >= _KEPT:  # the oldest out (pop with a default: readers in
        _PLANS.pop(next(iter(_PLANS), None), None)  # threads may race to it)
    _PLANS[size] = (shapes, stop)


def reuse(buf: bytes):
    """(blocks, stop) of ``buf`` from a plan that fits it, or None."""
    from .framing import _U64, HEADER, OVERHEAD, Block  # framing calls this module

    plan = _PLANS.get(len(buf))
    if plan is None:
        return None
    shapes, stop = plan
    n = len(buf)
    if n - stop >= HEADER and stop + OVERHEAD + _U64(buf, stop)[0] <= n:
        return None  # the walk would go on past the plan's last record
    blocks = []
    for length, start, stride, count, offsets in shapes:
        block = Block(length, start=start, stride=stride, count=count, offsets=offsets)
        first = start if offsets is None else int(offsets[0])
        if _U64(buf, first)[0] != length or np.any(block.varying(buf, 0, 8)):
            return None
        blocks.append(block)
    return blocks, stop
