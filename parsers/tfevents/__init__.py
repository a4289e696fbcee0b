"""TensorBoard event files (``events.out.tfevents.*``), read without TensorFlow.

The fast path, in layers: :mod:`.crc32c` (CRC32C vectorised over many records),
:mod:`.framing` (TFRecord framing: find every record, verify both checksums,
resynchronise after damage), :mod:`.template` (decode thousands of scalar
records of one wire layout at once) and :mod:`.reader` (a file's scalars, with
the protobuf ``Event`` as the fallback for every record the template path does
not recognise).
"""

from __future__ import annotations

from .. import storage
from ..format import Format
from .reader import NAME, decode_events, is_event_file, read_event_file

__all__ = ["FORMAT", "NAME", "decode_events", "is_event_file", "read_event_file"]


def _classify(path: str) -> str | None:
    return NAME if is_event_file(storage.basename(path)) else None


FORMAT = Format(name=NAME, label="TensorBoard event files", files="events.out.tfevents.*",
                classify=_classify, read=read_event_file, grouping="directory")
