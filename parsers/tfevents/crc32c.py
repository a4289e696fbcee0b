"""CRC32C (Castagnoli) as TFRecord framing uses it, vectorised over many records.

TFRecord stores ``masked_crc32c`` of each length field and each payload.  A file
with a million scalars holds two million checksums, so checking them one call at
a time costs more than the whole rest of decoding.  CRC is affine over GF(2):
for messages of a fixed length ``L``,

    crc(m) = c0(L) xor T_0[m_0] xor T_1[m_1] xor ... xor T_{L-1}[m_{L-1}]

where ``T_i[b]`` is the contribution of byte value ``b`` at position ``i`` and
``c0(L)`` the CRC of ``L`` zero bytes.  The table lookups are independent, so
numpy computes the CRCs of all records of one length column by column, one
gather per byte position, with no per-record Python work; a byte position that
holds the same value in every record (a tag, a field key: most of a scalar
event) contributes one constant, summed once.  Long records (graphs,
images) and small batches go one at a time through ``google-crc32c``'s native code.
"""

from __future__ import annotations

from functools import lru_cache

import google_crc32c
import numpy as np
from numpy.lib.stride_tricks import as_strided

_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1)
    return table.astype(np.uint32)


_TABLE = _byte_table()


def _shift_zero_byte(state: np.ndarray) -> np.ndarray:
    """The CRC register after feeding one more zero byte."""
    return _TABLE[state & 0xFF] ^ (state >> 8)


# Records longer than this, or batches smaller than _MIN_BATCH, are checked one
# by one: a table costs 1 KiB per byte position.
MAX_VECTOR_LENGTH = 256
_MIN_BATCH = 16


@lru_cache(maxsize=64)
def _position_tables(length: int) -> tuple[np.ndarray, np.uint32]:
    """Per-position tables and the constant term for messages of ``length`` bytes."""
    tables = np.empty((length, 256), dtype=np.uint32)
    contribution = _TABLE.copy()  # a byte at the last position
    for pos in range(length - 1, -1, -1):
        tables[pos] = contribution
        contribution = _shift_zero_byte(contribution)
    state = np.array([0xFFFFFFFF], dtype=np.uint32)
    for _ in range(length):
        state = _shift_zero_byte(state)
    return tables, np.uint32(state[0] ^ 0xFFFFFFFF)


def crc32c_rows(rows: np.ndarray) -> np.ndarray:
    """CRC32C of every row of a 2-D ``uint8`` array (rows may be a strided view)."""
    count, length = rows.shape
    if length > MAX_VECTOR_LENGTH or count < _MIN_BATCH:
        value = google_crc32c.value
        return np.fromiter((value(row.tobytes()) for row in rows), dtype=np.uint32,
                           count=count)
    tables, constant = _position_tables(length)
    # records of one kind differ in a few bytes (wall time, step, value): a
    # byte that is the same in every row adds the same term to every CRC, so
    # those terms are summed once and only the varying columns are looked up
    first = rows[0]
    varying = _varying_columns(rows)
    fixed = np.flatnonzero(~varying)
    constant ^= np.bitwise_xor.reduce(tables[fixed, first[fixed]])
    acc = np.full(count, constant, dtype=np.uint32)
    for pos in np.flatnonzero(varying):
        acc ^= tables[pos][rows[:, pos]]
    return acc


_GROUP = 64  # record pairs side by side in one row of the reduction


def _varying_columns(rows: np.ndarray) -> np.ndarray:
    """Which columns of ``rows`` hold more than one value: ``(rows !=
    rows[0]).any(axis=0)``, three times as fast for records in a file.  A
    column is the same in every row if it is the same in every two rows in a
    row, and where rows lie ``S`` bytes apart in one buffer (a block's records,
    a gathered copy), those are one comparison of the buffer with itself ``S``
    bytes on; the flags of ``_GROUP`` pairs side by side make one long row, so
    that the reduction over the pairs runs along rows of thousands of flags,
    not of a record's few dozen."""
    count, length = rows.shape
    stride = rows.strides[0]
    if rows.strides[1] != 1 or stride < length or count < 2:
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


def mask(crc: np.ndarray | int):
    """TFRecord's masking: rotate right by 15 bits and add a constant, mod 2**32."""
    if isinstance(crc, np.ndarray):
        crc = crc.astype(np.uint32)
        return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(0xA282EAD8)
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def crc32c(data: bytes) -> int:
    """CRC32C of one byte string."""
    return google_crc32c.value(bytes(data))


def masked_crc32c(data: bytes) -> int:
    return mask(crc32c(data))
