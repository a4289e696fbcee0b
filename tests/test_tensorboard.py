"""TensorBoard event files, written by tensorboard's own writers, checked against
a straightforward protobuf decoder (tests/reference.py)."""

from __future__ import annotations

import random

import google_crc32c
import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

import parsers
from parsers.tfevents import read_event_file
from parsers.tfevents.crc32c import crc32c_rows, masked_crc32c

from .conftest import scalar_event, write_events
from .reference import assert_same_series, frame_series, last_write_series, reference_scalars


def check_against_reference(path):
    df = parsers.read_file(path)
    assert_same_series(frame_series(df), last_write_series(reference_scalars(str(path))))
    return df


def test_crc_test_vector():
    assert masked_crc32c(b"\x1a\x11CRC test, one two") == 0x5794D08A


@pytest.mark.parametrize("length", [1, 7, 8, 52, 255, 256, 257, 1000])
@pytest.mark.parametrize("count", [1, 15, 16, 500])
def test_vectorised_crc_matches_google_crc32c(length, count):
    rng = np.random.default_rng(length * 1000 + count)
    rows = rng.integers(0, 256, (count, length), dtype=np.uint8)
    expected = [google_crc32c.value(r.tobytes()) for r in rows]
    assert crc32c_rows(rows).tolist() == expected


@pytest.mark.parametrize("varying", [[], [0], [3, 4, 40], list(range(0, 52, 2))])
def test_vectorised_crc_of_rows_alike_but_for_a_few_bytes(varying):
    """Event records of one tag differ in a few bytes: the bytes the same in
    every row are summed once, the rest looked up (a strided view, as framed)."""
    rng = np.random.default_rng(len(varying))
    rows = np.tile(rng.integers(0, 256, 52, dtype=np.uint8), (300, 1))
    rows[:, varying] = rng.integers(0, 256, (300, len(varying)), dtype=np.uint8)
    rows[7, 51] ^= 1  # one row differs in one more byte: that column is looked up
    framed = np.zeros((300, 60), dtype=np.uint8)
    framed[:, 4:56] = rows
    expected = [google_crc32c.value(r.tobytes()) for r in rows]
    assert crc32c_rows(framed[:, 4:56]).tolist() == expected



@pytest.mark.parametrize("seed", range(4))
def test_varying_columns_of_records_as_framed(seed):
    """The columns that differ between records, found by comparing the
    buffer with itself a record on, are those that differ from the first row:
    for blocks of 2 to 300 records (fewer and more than a group of pairs, and
    a multiple of it), gaps between records or none, a single byte differing
    in a single row, the first or the last; a view that is not rows of one
    buffer takes the plain comparison."""
    from parsers.tfevents.columns import _GROUP, varying_columns

    rng = np.random.default_rng(seed)
    counts = [2, 3, _GROUP, _GROUP + 1, _GROUP + 2, 2 * _GROUP + 1, 300]
    for trial in range(400):
        count = counts[trial % len(counts)] if trial < 70 else int(rng.integers(2, 300))
        length = int(rng.integers(1, 60))
        stride = length + int(rng.choice([0, 1, 4, 16]))
        offset = int(rng.integers(0, 9))
        buf = rng.integers(0, 256, count * stride + 16, dtype=np.uint8)
        rows = np.ndarray((count, length), dtype=np.uint8, buffer=buf, offset=offset,
                          strides=(stride, 1))
        same = np.flatnonzero(rng.random(length) < 0.8)
        rows[:, same] = rows[0, same]
        if trial % 3 == 0 and same.size:
            row = int(rng.choice([0, count - 1, int(rng.integers(count))]))
            rows[row, int(rng.choice(same))] ^= 0x10  # one byte of one row
        expected = (rows != rows[0]).any(axis=0)
        assert np.array_equal(varying_columns(rows), expected), (count, length, stride)
    columns = np.tile(np.arange(8, dtype=np.uint8), (50, 1)).T  # (8, 50), column-major
    columns[3, 7] = 99
    assert np.array_equal(varying_columns(columns.T[:, :8]),
                          (columns.T[:, :8] != columns.T[0, :8]).any(axis=0))

def test_v1_simple_values_like_torch(tmp_path):
    events = [scalar_event(tag, float(np.exp(-s / 300) + k), s, 1.7e9 + s)
              for s in range(1000) for k, tag in enumerate(["train/loss", "lr", "val/acc"])]
    df = check_against_reference(write_events(tmp_path / "run", events))
    assert len(df) == 3000
    assert list(df.dtypes.astype(str)) == ["category", "category", "int64", "float64",
                                           "float64"]
    assert df.groupby("metric", observed=True).step.is_monotonic_increasing.all()


def test_v2_tensor_scalars_from_tensorboard_writer(v2_writer, tmp_path):
    writer = v2_writer()
    for step in range(600):
        writer.add_scalar("loss", 2.0 / (step + 1), step, wall_time=1.7e9 + step)
        if step % 50 == 0:
            writer.add_scalar("eval/loss", 1.0 + step / 1000, step, wall_time=1.7e9 + step)
    writer.close()
    (path,) = (tmp_path / "run").iterdir()
    df = check_against_reference(path)
    loss = df[df.metric == "loss"]
    assert len(loss) == 600 and loss.value.iloc[0] == 2.0
    assert loss.wall_time.iloc[-1] == 1.7e9 + 599
    assert (df.metric == "eval/loss").sum() == 12


def _tensor_event(tag, step, tensor, plugin="scalars", wall=1.7e9):
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if plugin is not None:
        value.metadata.plugin_data.plugin_name = plugin
    return event_pb2.Event(wall_time=wall, step=step,
                           summary=summary_pb2.Summary(value=[value]))


def test_every_scalar_layout(tmp_path):
    scalar_shape = tensor_shape_pb2.TensorShapeProto()
    events = [event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")]
    for step in range(40):
        events += [
            _tensor_event("double", step, tensor_pb2.TensorProto(
                dtype=2, tensor_shape=scalar_shape, double_val=[step / 3]),
                plugin="scalars" if step == 0 else None),
            _tensor_event("content", step, tensor_pb2.TensorProto(
                dtype=1, tensor_shape=scalar_shape,
                tensor_content=np.float32(step * 1.5).tobytes())),
            _tensor_event("text", step, tensor_pb2.TensorProto(
                dtype=7, tensor_shape=scalar_shape, string_val=[b"hello"]), plugin="text"),
            _tensor_event("hist_like", step, tensor_pb2.TensorProto(
                dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(
                    dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=3)]),
                float_val=[1, 2, 3]), plugin="histograms"),
            _tensor_event("pr_like", step, tensor_pb2.TensorProto(
                dtype=1, tensor_shape=scalar_shape, float_val=[9.0]), plugin="custom"),
            event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag="a", simple_value=step),
                       summary_pb2.Summary.Value(tag="b", simple_value=-step)])),
            event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(
                    tag="weights", histo=summary_pb2.HistogramProto(min=0, max=1, num=3))])),
        ]
    df = check_against_reference(write_events(tmp_path / "run", events))
    assert sorted(df.metric.unique()) == ["a", "b", "content", "double"]
    double = df[df.metric == "double"].value.to_numpy()
    np.testing.assert_array_equal(double, np.arange(40) / 3)  # float64 kept exactly
    assert (df.groupby("metric", observed=True).size() == 40).all()


@pytest.mark.parametrize("steps", [
    list(range(0, 3_000_000, 7919)),  # varints of 1, 2, 3 and 4 bytes
    [2 ** 40 + i for i in range(50)] + [-5, -1],  # huge and negative steps
    list(range(300)),
])
def test_steps_of_every_varint_length(tmp_path, steps):
    events = [scalar_event("loss", float(i), s) for i, s in enumerate(steps)]
    df = check_against_reference(write_events(tmp_path / "run", events))
    assert sorted(df.step.tolist()) == sorted(set(steps))


def test_irregular_interleaving_matches_reference(tmp_path):
    rng = random.Random(0)
    tags = ["loss", "val/loss", "a/much/longer/tag/name", "lr", "x"]
    events = []
    for step in range(3000):
        for tag in rng.sample(tags, rng.randrange(1, len(tags) + 1)):
            events.append(scalar_event(tag, rng.random(), step, 1.7e9 + step))
    check_against_reference(write_events(tmp_path / "run", events))


def _file(tmp_path, n=200):
    events = [scalar_event(t, float(s), s) for s in range(n) for t in ("loss", "lr")]
    return write_events(tmp_path / "run", events)


def _record_offsets(data: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 16 + int.from_bytes(data[pos:pos + 8], "little")
    return offsets


def test_truncated_last_record_is_kept_and_noted(tmp_path):
    path = _file(tmp_path)
    data = path.read_bytes()
    last = _record_offsets(data)[-1]
    for cut in range(last + 1, len(data)):
        path.write_bytes(data[:cut])
        result = read_event_file(path)
        assert not result.errors
        assert len(result.step) == 399  # every record but the last
        assert any("incomplete" in n for n in result.notes)


def test_corrupt_payload_skips_that_record_only(tmp_path):
    path = _file(tmp_path)
    data = bytearray(path.read_bytes())
    victim = _record_offsets(bytes(data))[101]
    data[victim + 20] ^= 0x40
    path.write_bytes(bytes(data))
    result = read_event_file(path)
    assert len(result.step) == 399
    (err,) = result.errors
    assert err.offset == victim and "payload checksum" in err.reason
    with pytest.raises(parsers.ParseError, match=f"byte {victim}: payload checksum"):
        parsers.read_file(path)


def test_corrupt_length_keeps_everything_before_and_resynchronises(tmp_path):
    path = _file(tmp_path)
    data = bytearray(path.read_bytes())
    offsets = _record_offsets(bytes(data))
    scalars = len(offsets) - 1  # record 0 is the version
    data[offsets[201]] ^= 0x01
    path.write_bytes(bytes(data))
    result = read_event_file(path)
    # records 1..200 before the damage, and every record after the damaged one
    assert len(result.step) == scalars - 1
    (err,) = result.errors
    assert err.offset == offsets[201] and "length checksum" in err.reason
    assert f"reading resumed at byte {offsets[202]}" in err.reason


def test_an_empty_event_file_is_a_note_not_an_error(tmp_path):
    path = tmp_path / "events.out.tfevents.123.host"
    path.write_bytes(b"")
    result = read_event_file(path)
    assert len(result.step) == 0 and not result.errors
    assert result.notes == ["empty (0 bytes): a writer that had not flushed yet"]


@pytest.mark.parametrize("content", [b"\x00" * 5, bytes(range(256)) * 4])
def test_not_an_event_file(tmp_path, content):
    path = tmp_path / "events.out.tfevents.123.host"
    path.write_bytes(content)
    with pytest.raises(parsers.ParseError) as info:
        parsers.read_file(path)
    assert str(path) in str(info.value)


def test_resumed_run_keeps_the_last_write(tmp_path):
    run = tmp_path / "logs" / "resumed"
    first = [scalar_event("loss", 1.0, s, 1.7e9 + s) for s in range(100)]
    second = [scalar_event("loss", 2.0, s, 1.8e9 + s) for s in range(80, 150)]
    write_events(run, first, suffix=".a")
    write_events(run, second, suffix=".b")
    df = parsers.read_logdir(tmp_path / "logs")
    assert df.run.unique().tolist() == ["resumed"]
    loss = df[df.metric == "loss"]
    assert loss.step.tolist() == list(range(150))
    assert loss.value.tolist() == [1.0] * 80 + [2.0] * 70
    info = df.attrs["runs"]["resumed"]
    assert info["replaced"] == {"loss": 20} and len(info["files"]) == 2


def test_valid_records_that_are_not_events_are_counted_once(tmp_path):
    from tensorboard.summary.writer.record_writer import RecordWriter

    path = tmp_path / "run" / "events.out.tfevents.1.host"
    path.parent.mkdir()
    with open(path, "wb") as fh:
        writer = RecordWriter(fh)
        writer.write(scalar_event("loss", 1.0, 1).SerializeToString())
        for _ in range(5):
            writer.write(b"\xff\xff\xff")  # checksummed, but no protobuf message
        writer.write(scalar_event("loss", 0.5, 2).SerializeToString())
    result = read_event_file(path)
    assert result.step.tolist() == [1, 2]
    first_bad = 16 + len(scalar_event("loss", 1.0, 1).SerializeToString())
    assert result.notes == ["5 record(s) with valid checksums are not Events "
                            f"(first at byte {first_bad}); skipped"]


def _large_file_cases():
    steady = [("loss", s) for s in range(3000)] + [("lr", s) for s in range(3000)]
    late = [("loss", s) for s in range(3000)] + [("late", s) for s in range(2500, 3000)]
    shifting = [("loss", s) for s in range(3000)] + [("rare", s) for s in range(0, 3000, 60)] \
        + [("rare", s) for s in range(1000, 3000)]  # 1 in 60 at first, then every step
    twice = [("loss", s) for s in range(3000)] + [("loss", s) for s in range(100, 200)]
    return {"steady": steady, "tag appears late": late, "tag outgrows its share": shifting,
            "steps written twice": twice}


@pytest.mark.parametrize("case", sorted(_large_file_cases()))
def test_a_large_file_read_into_shared_columns_is_read_exactly(tmp_path, monkeypatch, case):
    # past two chunks each tag's points go to a region of shared columns sized
    # from the first chunk; a tag that turns up later, or outgrows its region,
    # takes columns of its own: the points are the same either way
    from parsers.tfevents import points
    from parsers.tfevents import reader as tensorboard

    rng = random.Random(case)
    order = sorted(_large_file_cases()[case], key=lambda ts: (ts[1], rng.random()))
    events = [scalar_event(tag, rng.random(), step, 1.7e9 + step) for tag, step in order]
    path = write_events(tmp_path / "run", events)
    whole = read_event_file(path)  # one chunk
    monkeypatch.setattr(tensorboard, "CHUNK", 8192)
    paths = []
    for name in ("_close_gaps", "_copy_out"):  # in place, or copied out of the regions
        real = getattr(points, name)
        monkeypatch.setattr(points, name,
                            lambda *a, real=real, name=name: (paths.append(name), real(*a))[1])
    parts = read_event_file(path)
    in_place = case in ("steady", "steps written twice")
    assert paths == ["_close_gaps" if in_place else "_copy_out"]
    assert parts.names == whole.names == sorted({tag for tag, _ in order})
    for attr in ("metric", "step", "value", "wall_time"):
        np.testing.assert_array_equal(getattr(parts, attr), getattr(whole, attr))
    assert parts.start == whole.start == 1.7e9
    written = sorted(((tag, step) for tag, step in order), key=lambda ts: ts[0])
    assert list(zip(np.array(parts.names)[parts.metric], parts.step.tolist())) == written


@pytest.mark.parametrize("chunk", [16, 100, 777, 4096])
def test_reading_in_chunks_gives_the_same_result(tmp_path, monkeypatch, chunk):
    from parsers.tfevents import reader as tensorboard

    rng = random.Random(chunk)
    events = [scalar_event(tag, rng.random(), step, 1.7e9 + step)
              for step in range(400) for tag in rng.sample(["a", "bb/ccc", "d"], 2)]
    path = write_events(tmp_path / "run", events)
    whole = read_event_file(path)
    monkeypatch.setattr(tensorboard, "CHUNK", chunk)
    parts = read_event_file(path)
    for attr in ("step", "value", "wall_time"):
        np.testing.assert_array_equal(getattr(parts, attr), getattr(whole, attr))
    np.testing.assert_array_equal(np.array(parts.names)[parts.metric],
                                  np.array(whole.names)[whole.metric])
    # damage keeps the file's own offsets, whichever chunk it falls in
    data = bytearray(path.read_bytes())
    offsets = _record_offsets(bytes(data))
    data[offsets[300] + 20] ^= 0x10
    data[offsets[500]] ^= 0x01
    path.write_bytes(bytes(data[:-7]))
    damaged = read_event_file(path)
    assert [e.offset for e in damaged.errors] == [offsets[300], offsets[500]]
    # every scalar record but the bad payload, the bad length and the cut last one
    assert len(damaged.step) == (len(offsets) - 1) - 3
    assert f"resumed at byte {offsets[501]}" in damaged.errors[1].reason
    assert damaged.notes and "last record incomplete" in damaged.notes[0]
    # the reader groups a file's points by tag (in name order), each tag's in
    # the order written: the lost records are scalar records 299, 499 and the last
    written = [(e.summary.value[0].tag, e.step) for e in events]
    lost = {299, 499, len(written) - 1}
    expected = sorted((p for i, p in enumerate(written) if i not in lost), key=lambda p: p[0])
    assert list(zip(np.array(damaged.names)[damaged.metric], damaged.step.tolist())) == expected


@pytest.mark.parametrize("seed", range(6))
def test_a_repeating_pattern_is_measured_alike_by_gather_and_by_strided_views(seed,
                                                                              monkeypatch):
    from parsers.tfevents import framing

    rng = random.Random(seed)
    pattern = [rng.randrange(20, 60) for _ in range(rng.choice([1, 3, 12, 151]))]
    times = rng.randrange(1, 400)
    records = [(n, bytes(n + 8)) for _ in range(times) for n in pattern]
    buf = bytearray(b"".join(n.to_bytes(8, "little") + payload for n, payload in records))
    if seed % 2:  # a length field that breaks the pattern somewhere
        at = rng.randrange(len(records))
        start = sum(n + framing.OVERHEAD for n, _ in records[:at])
        buf[start] ^= 0x01
    counts = []
    for few, gather in ((10 ** 9, 0), (0, 10 ** 9)):  # strided views only, gathers only
        monkeypatch.setattr(framing, "_FEW", few)
        monkeypatch.setattr(framing, "_GATHER", gather)
        counts.append(framing._repeats(bytes(buf), 0, pattern))
    expected = times if not seed % 2 else at // len(pattern)
    assert counts == [expected, expected]


@pytest.mark.parametrize("steps", [120, 400, 1500])
def test_a_cycle_framed_as_blocks_per_length_or_per_place_finds_the_same_records(
        steps, tmp_path, monkeypatch):
    """Train records every step and an eval every 50 (a cycle of 151 records):
    a cycle repeated fewer than _BIG_BLOCK times becomes one block per length
    at explicit offsets, as merging its per-place blocks would make."""
    from parsers.tfevents import framing

    events = [scalar_event(tag, 0.5, step, 1.7e9 + step) for step in range(steps)
              for tag in ["train/loss", "train/lr", "grad"] + ["val/loss"] * (step % 50 == 0)]
    buf = write_events(tmp_path / "run", events).read_bytes()
    found = []
    for big in (framing._BIG_BLOCK, 0):  # explicit blocks; per-place strided blocks only
        monkeypatch.setattr(framing, "_BIG_BLOCK", big)
        out = framing.read_records(buf, "run")
        assert not out.errors and out.records == len(events) + 1  # + the file version
        assert out.consumed == len(buf)
        by_length = {}
        for block in out.blocks:
            by_length.setdefault(block.length, []).extend(block.header_offsets().tolist())
        found.append({n: sorted(o) for n, o in by_length.items()})
        if big:  # one block per length: the 151 places of the cycle are not 151 blocks
            assert len(out.blocks) == len(by_length)
    assert found[0] == found[1]
    assert sum(map(len, found[0].values())) == len(events) + 1


def test_a_layout_seen_before_is_the_one_building_it_anew_gives(monkeypatch):
    """template_for reuses a layout a record fits; every field of it but the
    reference record must be what build_template makes of that record."""
    from parsers.tfevents import template

    monkeypatch.setattr(template, "_KNOWN", {})
    scalar_shape = tensor_shape_pb2.TensorShapeProto()
    rng = random.Random(0)
    records = []
    for step in [0, 1, 126, 127, 128, 129, 16383, 16384, 2 ** 35]:
        wall = 1.7e9 + rng.random() * 1e6
        for tag in ["train/lr", "val/loss", "val/acc", "a"]:  # three tags of one length
            records.append(scalar_event(tag, rng.random(), step, wall))
        records.append(_tensor_event("double", step, tensor_pb2.TensorProto(
            dtype=2, tensor_shape=scalar_shape, double_val=[step / 3]),
            plugin="scalars" if step % 2 else None))
        records.append(event_pb2.Event(wall_time=wall, step=step, file_version="brain.Event:2"))
    fields = ("wall_pos", "step_pos", "step_len", "slots")
    given = []
    for event in records * 2:
        record = event.SerializeToString()
        got, fresh = template.template_for(record), template.build_template(record)
        if fresh is None:
            assert got is None
            continue
        given.append(got)
        assert [getattr(got, f) for f in fields] == [getattr(fresh, f) for f in fields]
        np.testing.assert_array_equal(got.structure, fresh.structure)
        assert template.match(got, np.frombuffer(record, dtype=np.uint8)[None]).all()
    # a layout per tag and step varint length (0: no step field; 1, 2, 3 and 6
    # bytes): 5 x 4 of the simple values, and the doubles with their plugin
    # metadata (odd steps) or without: 1 + 2 + 2 + 1 + 1
    assert len({id(t) for t in given}) == 5 * 4 + 7 < len(given)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("count", [1, 2, 50, 500, 3000])
def test_template_matching_of_a_block_agrees_with_each_record(seed, count):
    """``match`` compares row by row only the structural columns that vary in
    the block; it must say what ``fits`` says of each record, and what the
    plain comparison of every structural byte says: bytes flipped here and
    there (structure or not), the first row among them, and records of
    another tag of the same length mixed in."""
    from parsers.tfevents import template

    rng = np.random.default_rng(seed * 10 + count)
    record = scalar_event("train/loss", 0.5, 123456, 1.7e9).SerializeToString()
    other = scalar_event("train/acc_", 0.5, 123456, 1.7e9).SerializeToString()
    assert len(other) == len(record)
    tmpl = template.build_template(record)
    rows = np.tile(np.frombuffer(record, dtype=np.uint8), (count, 1))
    if seed % 2:
        rows[rng.random(count) < 0.3] = np.frombuffer(other, dtype=np.uint8)
    hit = rng.random(rows.shape) < 0.002
    if seed == 2:
        hit[0, tmpl.structure[0]] = True  # the first row does not match
    rows[hit] ^= 0x5A
    framed = np.zeros((count, rows.shape[1] + 16), dtype=np.uint8)
    framed[:, 12:12 + rows.shape[1]] = rows  # a strided view, as a block's payloads
    got = template.match(tmpl, framed[:, 12:12 + rows.shape[1]])
    plain = (rows[:, tmpl.structure] == tmpl.reference[tmpl.structure]).all(axis=1)
    a, k = tmpl.step_pos, tmpl.step_len
    plain &= (rows[:, a:a + k - 1] >= 0x80).all(axis=1) & (rows[:, a + k - 1] < 0x80)
    np.testing.assert_array_equal(got, plain)
    assert [tmpl.fits(row.tobytes()) for row in rows] == got.tolist()  # one at a time
    if count >= 500:
        assert 0 < got.sum() < count
