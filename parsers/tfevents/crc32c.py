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

from .columns import varying_columns

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


def crc32c_rows(rows: np.ndarray, varying: np.ndarray | None = None) -> np.ndarray:
    """CRC32C of every row of a 2-D ``uint8`` array (rows may be a strided
    view); ``varying``: which columns differ between the rows, if known."""
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
    if varying is None:
        varying = varying_columns(rows)
    fixed = np.flatnonzero(~varying)
    constant ^= np.bitwise_xor.reduce(tables[fixed, first[fixed]])
    acc = np.full(count, constant, dtype=np.uint32)
    for pos in np.flatnonzero(varying):
        acc ^= tables[pos][rows[:, pos]]
    return acc


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
