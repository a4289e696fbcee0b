"""parsers.tfevents.plans: a file framed like the one before it is framed
exactly as a fresh walk frames it, or walked."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest

import parsers
from parsers.tfevents import framing, plans
from parsers.tfevents.crc32c import masked_crc32c

from .conftest import scalar_event, write_events


def _record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def _file(rng: random.Random, lengths: list[int]) -> bytearray:
    return bytearray(b"".join(_record(bytes(rng.getrandbits(8) for _ in range(n)))
                              for n in lengths))


def _framed(buf: bytes, *, plan: bool):
    """What read_records says of ``buf``: with the plans as they are, or none."""
    kept = dict(plans._PLANS)
    if not plan:
        plans._PLANS.clear()
    try:
        out = framing.read_records(bytes(buf), "f", final=True)
    finally:
        plans._PLANS.clear()
        plans._PLANS.update(kept)
    blocks = sorted((b.length, b.header_offsets().tolist(), b.offsets is None, b.start,
                     b.stride, b.count) for b in out.blocks)
    return (blocks, [(e.message, e.offset) for e in out.errors], out.notes, out.records,
            out.consumed, out.lost)


def _lengths(rng: random.Random) -> list[int]:
    """A training loop's chain: a few tags per step, an eval now and then,
    a first record of its own."""
    tags = [rng.choice([20, 24, 31, 31, 40]) for _ in range(rng.randint(1, 4))]
    every = rng.choice([0, 7, 50])
    out = [29]
    for step in range(rng.randint(1, 400)):
        out += [t + (step >= 128) for t in tags]
        if every and step % every == every - 1:
            out.append(35)
    return out


def _changes(rng: random.Random, buf: bytearray, lengths: list[int]) -> list[bytearray]:
    """Buffers of the same size as ``buf``: other values, a length field
    broken, two records of different lengths swapped, the tail cut where a
    record claims more than is left, or a record's length changed with the
    size kept."""
    offsets = np.cumsum([0] + [n + 16 for n in lengths])[:-1].tolist()
    out = []
    other = bytearray(buf)
    for at in offsets:  # new values: the payload bytes, checksums redone
        n = lengths[offsets.index(at)]
        payload = bytes(rng.getrandbits(8) for _ in range(n))
        other[at + 12:at + 12 + n] = payload
        other[at + 12 + n:at + 16 + n] = struct.pack("<I", masked_crc32c(payload))
    out.append(other)
    broken = bytearray(buf)
    at = rng.choice(offsets)
    broken[at + rng.randrange(8)] ^= 1 << rng.randrange(8)
    out.append(broken)
    for _ in range(3):
        i, j = rng.randrange(len(lengths)), rng.randrange(len(lengths))
        if lengths[i] != lengths[j]:
            swapped = list(lengths)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            out.append(_file(rng, swapped))
            break
    tail = bytearray(buf)
    if len(lengths) > 1:  # the last record's length claims bytes past the end
        at = offsets[-1]
        tail[at:at + 8] = struct.pack("<Q", lengths[-1] + 1000)
        tail[at + 8:at + 12] = struct.pack("<I", masked_crc32c(bytes(tail[at:at + 8])))
        out.append(tail)
    for i in (0, rng.randrange(len(lengths) - 1)) if len(lengths) > 1 else ():
        if lengths[i + 1] > 3:  # one record 3 bytes longer, the next 3 shorter (the
            moved = list(lengths)  # first is alone in its block: no other to differ from)
            moved[i] += 3
            moved[i + 1] -= 3
            out.append(_file(rng, moved))
    return [b for b in out if len(b) == len(buf)]


def _completed(rng: random.Random, lengths: list[int], cut: int) -> bytearray:
    """The chain of ``lengths`` and ``cut`` bytes more that make one whole record."""
    return _file(rng, lengths + [cut - 16])


@pytest.mark.parametrize("seed", range(12))
def test_a_plan_frames_a_file_as_a_walk_does(seed):
    rng = random.Random(seed)
    for _ in range(6):
        lengths = _lengths(rng)
        buf = _file(rng, lengths)
        cut = 0
        if rng.random() < 0.5:
            cut = rng.randrange(16, 40)
            buf += buf[:cut]  # a record cut short at the end: the walk stops before it
        plans._PLANS.clear()
        first = framing.read_records(bytes(buf), "f", final=True)
        assert len(buf) in plans._PLANS and first.records == len(lengths)
        changes = _changes(rng, buf, lengths)
        if cut:  # the same size, but the last bytes are a whole record: walked further
            changes.append(_completed(rng, lengths, cut))
        # the same chain with other values: the plan is taken
        assert plans.reuse(bytes(changes[0])) is not None
        for changed in [buf] + changes:
            assert _framed(changed, plan=True) == _framed(changed, plan=False)


def test_a_sweep_of_like_files_is_walked_once(tmp_path, monkeypatch):
    """Runs logging the same tags for the same steps: one walk, then plans,
    and the same frame as reading each file with no plan."""
    for i in range(4):
        events = [scalar_event(tag, float(np.exp(-s / 50) * (i + 1)), s, 1.7e9 + s + i)
                  for s in range(300) for tag in ("train/loss", "train/lr")]
        write_events(tmp_path / f"run_{i}", events)
    walks = []
    walk = framing._walk
    monkeypatch.setattr(framing, "_walk", lambda buf: walks.append(len(buf)) or walk(buf))
    plans._PLANS.clear()
    planned = parsers.read_logdir(tmp_path, cache=False)
    assert len(walks) == 1
    plans._PLANS.clear()
    monkeypatch.setattr(plans, "reuse", lambda *a: None)
    walked = parsers.read_logdir(tmp_path, cache=False)
    assert len(walks) == 5
    assert planned.equals(walked) and len(planned) == 4 * 600


@pytest.mark.parametrize("lengths,other", [([29, 40], [40, 29]), ([29, 40, 33], [33, 40, 29]),
                                           ([10], [10])])
def test_records_alone_in_their_blocks_are_checked_too(lengths, other):
    """Where each block holds one record, no record differs from another in
    its block: the first record's own length is what tells the chains apart."""
    rng = random.Random(0)
    plans._PLANS.clear()
    framing.read_records(bytes(_file(rng, lengths)), "f", final=True)
    changed = _file(rng, other)
    assert _framed(changed, plan=True) == _framed(changed, plan=False)
    assert _framed(changed, plan=True)[3] == len(other)
