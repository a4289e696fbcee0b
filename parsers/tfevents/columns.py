"""Byte columns of records: which of them differ from record to record.

A block's records are rows of one buffer, ``S`` bytes apart (or a gathered
copy, rows of its own).  The checksums look up only the bytes that differ
between records, and the decoder checks only once that the structural bytes of
a template are the same in every record; both ask which columns vary.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

_GROUP = 64  # record pairs side by side in one row of the reduction
LONG = 400  # rows from which comparing the buffer with itself is the faster


def varying_columns(rows: np.ndarray) -> np.ndarray:
    """Which columns of ``rows`` hold more than one value: ``(rows !=
    rows[0]).any(axis=0)``, four times as fast for a few thousand records.  A
    column is the same in every row if it is the same in every two rows in a
    row, and where rows lie ``S`` bytes apart in one buffer (a block's records,
    a gathered copy), those are one comparison of the buffer with itself ``S``
    bytes on; the flags of ``_GROUP`` pairs side by side make one long row, so
    that the reduction over the pairs runs along rows of thousands of flags,
    not of a record's few dozen."""
    count, length = rows.shape
    stride = rows.strides[0]
    if count < LONG or rows.strides[1] != 1 or stride < length:
        return (rows != rows[0]).any(axis=0)
    span = as_strided(rows, shape=((count - 1) * stride + length,), strides=(1,),
                      writeable=False)
    differ = span[stride:] != span[:-stride]  # pair r's column c at r * stride + c
    grouped = (count - 2) // _GROUP * _GROUP * stride  # whole pairs (the last is cut)
    out = np.zeros(stride, dtype=bool)
    if grouped:
        wide = differ[:grouped].reshape(-1, _GROUP * stride).any(axis=0)
        out |= wide.reshape(_GROUP, stride).any(axis=0)
    rest = differ[grouped:]  # fewer than _GROUP pairs, the last one cut at `length`
    if rest.size:
        padded = np.zeros(-(-rest.size // stride) * stride, dtype=bool)
        padded[:rest.size] = rest
        out |= padded.reshape(-1, stride).any(axis=0)
    return out[:length]
