"""A straightforward event-file decoder to check the fast one against.

One record at a time: struct for the framing, the protobuf ``Event`` for the
payload, tensorboard's ``make_ndarray`` for tensors.  Slow and obviously right.
"""

from __future__ import annotations

import struct

import numpy as np
from tensorboard.compat.proto import event_pb2
from tensorboard.util import tensor_util


def reference_scalars(path: str) -> list[tuple[str, int, float, float]]:
    """(tag, step, value, wall_time) for every scalar, in file order."""
    with open(path, "rb") as fh:
        data = fh.read()
    out, plugins, tensor_tags = [], {}, set()
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        if pos + 16 + length > len(data):
            break
        event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
        pos += 16 + length
        for val in event.summary.value:
            if val.HasField("metadata"):
                plugins.setdefault(val.tag, val.metadata.plugin_data.plugin_name)
            kind = val.WhichOneof("value")
            if kind == "simple_value":
                out.append((val.tag, event.step, float(val.simple_value), event.wall_time))
            elif kind == "tensor" and not val.tensor.tensor_shape.dim:
                arr = tensor_util.make_ndarray(val.tensor)
                if arr.size == 1 and arr.dtype.kind in "fiub":
                    tensor_tags.add(val.tag)
                    out.append((val.tag, event.step, float(arr.reshape(())), event.wall_time))
    drop = {t for t in tensor_tags if plugins.get(t, "scalars") not in ("scalars", "")}
    return [p for p in out if p[0] not in drop]


def last_write_series(points):
    """{tag: {step: (value, wall)}} keeping the last write of each step."""
    series: dict[str, dict[int, tuple[float, float]]] = {}
    for tag, step, value, wall in points:
        series.setdefault(tag, {})[step] = (value, wall)
    return series


def frame_series(df, run=None):
    """The same shape from a parsers frame."""
    if run is not None:
        df = df[df.run == run]
    series: dict[str, dict[int, tuple[float, float]]] = {}
    for metric, step, value, wall in zip(df.metric.astype(str), df.step, df.value,
                                         df.wall_time):
        series.setdefault(metric, {})[int(step)] = (float(value), float(wall))
    return series


def assert_same_series(a, b):
    assert a.keys() == b.keys()
    for tag in a:
        assert a[tag].keys() == b[tag].keys(), tag
        va = np.array([a[tag][s] for s in sorted(a[tag])])
        vb = np.array([b[tag][s] for s in sorted(b[tag])])
        np.testing.assert_array_equal(va, vb)
