"""Random damage to valid event files: only ParseError, and what is kept is right.

Whatever bytes are flipped or cut, every point the reader returns must be a
point the writer wrote (the CRCs guarantee it), and with no damage reported the
result must equal the reference decoder's.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.errors import ParseError
from parsers.tfevents import decode_events

from .conftest import scalar_event, write_events
from .reference import reference_scalars

_CACHE = {}


def valid_file(tmp_path_factory):
    if "data" not in _CACHE:
        events = [scalar_event(tag, float(s * 10 + k), s, 1.7e9 + s)
                  for s in range(150) for k, tag in enumerate(("loss", "lr", "val/loss"))]
        path = write_events(tmp_path_factory.mktemp("mut") / "run", events)
        _CACHE["data"] = path.read_bytes()
        _CACHE["points"] = {(t, s, v) for t, s, v, _ in reference_scalars(str(path))}
    return _CACHE["data"], _CACHE["points"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 20_000), flips=st.lists(st.tuples(st.integers(0, 20_000),
                                                           st.integers(1, 255)), max_size=4))
def test_damaged_files_keep_only_true_points(tmp_path_factory, cut, flips):
    data, truth = valid_file(tmp_path_factory)
    buf = bytearray(data[:cut % (len(data) + 1)])
    for pos, mask in flips:
        if buf:
            buf[pos % len(buf)] ^= mask
    try:
        result = decode_events(bytes(buf), "f")
    except ParseError:
        return
    names = np.array(result.names, dtype=object)
    points = set(zip(names[result.metric], result.step.tolist(), result.value.tolist()))
    assert points <= truth
    if not flips:  # a cut file keeps exactly its complete records, without error
        assert not result.errors
        path = tmp_path_factory.mktemp("cut") / "events.out.tfevents.0.cut"
        path.write_bytes(bytes(buf))
        expected = [(t, s, v) for t, s, v, _ in reference_scalars(str(path))]
        assert len(result.step) == len(expected) and points == set(expected)
