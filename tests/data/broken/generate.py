"""Write the corpus of broken log files in this directory.

    python tests/data/broken/generate.py

Each case is a directory, so that the corpus is also one messy log directory
with one run per case; ``good/`` is an undamaged run beside them.  What each
case must give (points kept, error and where) is stated by hand in
``tests/test_broken_corpus.py``, not derived from what the readers do.

Event files are framed by tensorboard's own ``RecordWriter`` (the TFRecord
writer under ``SummaryWriter``), with fixed wall times so that the bytes are the
same on every run of this script.  The base event file holds a ``file_version``
record and then 12 scalar records, ``loss`` = 1 - 0.05 * step at steps 0..11;
record ``k`` (0-based, the ``file_version`` record is 0) holds step ``k - 1``.

Cases that git cannot hold (a symlink loop, an unreadable file, a file that
grows while it is read) are made at test time by :func:`make_special`.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EVENTS = "events.out.tfevents.1700000000.corpus"


def scalar_payloads(steps=range(12), tag="loss") -> list[bytes]:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    out = [event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()]
    for step in steps:
        value = summary_pb2.Summary.Value(tag=tag, simple_value=1.0 - 0.05 * step)
        out.append(event_pb2.Event(wall_time=1.7e9 + step, step=step,
                                   summary=summary_pb2.Summary(value=[value]))
                   .SerializeToString())
    return out


def frame(payloads: list[bytes]) -> bytes:
    """TFRecord framing by tensorboard's RecordWriter."""
    from tensorboard.summary.writer.record_writer import RecordWriter

    buf = io.BytesIO()
    writer = RecordWriter(buf)
    for payload in payloads:
        writer.write(payload)
    return buf.getvalue()


def record_offsets(data: bytes) -> list[int]:
    """Header offset of every record (and the end of the file last)."""
    offsets, at = [], 0
    while at < len(data):
        offsets.append(at)
        at += 12 + struct.unpack_from("<Q", data, at)[0] + 4
    return offsets + [at]


def flip(data: bytes, at: int, mask: int = 0x10) -> bytes:
    out = bytearray(data)
    out[at] ^= mask
    return bytes(out)


def event_cases() -> dict[str, bytes]:
    from tensorboard.compat.proto import summary_pb2

    from parsers.tfevents.crc32c import masked_crc32c

    base = frame(scalar_payloads())
    off = record_offsets(base)
    r7 = off[7]  # the record of step 6
    payload_len = off[8] - r7 - 16
    huge = struct.pack("<Q", 2 ** 31)
    claims_2gb = base[:r7] + huge + struct.pack("<I", masked_crc32c(huge)) + base[r7 + 12:]
    not_events = [summary_pb2.SummaryMetadata(
        display_name=f"x{i}", plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="images")).SerializeToString() for i in range(6)]
    rng = random.Random(6)
    return {
        "ev_cut_at_record_end": base[:r7],
        "ev_cut_in_length": base[:r7 + 5],
        "ev_cut_in_length_crc": base[:r7 + 10],
        "ev_cut_in_payload": base[:r7 + 12 + payload_len // 2],
        "ev_cut_in_payload_crc": base[:off[8] - 2],
        "ev_flip_length": flip(base, r7 + 1),
        "ev_flip_length_crc": flip(base, r7 + 9),
        "ev_flip_payload": flip(base, r7 + 12 + payload_len - 3),
        "ev_flip_payload_crc": flip(base, off[8] - 3),
        "ev_zero_length": b"",
        "ev_random_bytes": bytes(rng.getrandbits(8) for _ in range(4096)),
        "ev_not_events": frame(not_events),
        "ev_claims_2gb": claims_2gb,
    }


CSV = {
    # a row with too few cells: the missing cells were not logged
    "csv_ragged_short": "step,loss,acc\n0,1.0,0.1\n1,0.9\n2,0.8,0.3\n",
    # a row with too many cells: that row is skipped and reported, the rest kept
    "csv_ragged_long": "step,loss\n0,1.0\n1,0.9,7,7\n2,0.8\n3,0.7\n",
    # print output that landed in the file
    "csv_garbage_line": "step,loss\n0,1.0\n1,0.9\nEpoch 2: saving checkpoint\n2,0.8\n",
    # a resumed CSV writer appends its header again
    "csv_repeated_header": "step,loss\n0,1.0\n1,0.9\nstep,loss\n2,0.8\n3,0.7\n",
    "csv_bom": "\ufeffstep,loss\n0,1.0\n1,0.9\n",
    # European spreadsheets: semicolons, decimal commas
    "csv_semicolon": "step;loss\n0;1,0\n1;0,9\n2;0,8\n",
    "csv_non_numeric": "step,loss,acc\n0,1.0,n/a\n1,oops,0.2\n2,0.8,None\n3,0.7,-\n",
    "csv_quoted": 'step,loss\n"0","1.0"\n"1","0.9"\n',
    "csv_enormous": "step,loss\n0,1e400\n1,-1e400\n2,1e308\n99999999999999999999,0.5\n3,0.4\n",
    "csv_nan_spellings": ("step,loss\n0,nan\n1,NaN\n2,NAN\n3,-nan\n4,inf\n5,-inf\n6,Infinity\n"
                          "7,-Infinity\n8,+inf\n9,INF\n10,1.#INF\n11,-1.#IND\n12,1.#QNAN\n"
                          "13,0.5\n"),
    "csv_header_only": "step,loss\n",
    # a buffered writer flushed mid-row, mid-number ("0.0123" so far "0.0")
    "csv_cut_mid_number": "step,loss\n0,1.0\n1,0.9\n2,0.0",
}

JSONL = {
    "jsonl_broken_line": (b'{"step": 0, "loss": 1.0}\n{"step": 1, "loss": 0.\n'
                          b'{"step": 2, "loss": 0.8}\n'),
    "jsonl_print_interleaved": (b'loading data...\n{"step": 0, "loss": 1.0}\nEpoch 1/3\n'
                                b'{"step": 1, "loss": 0.9}\n100%|#####| 10/10\n'
                                b'{"step": 2, "loss": 0.8}\n'),
    "jsonl_non_object": (b'{"step": 0, "loss": 1.0}\n[1, 2]\n42\n"text"\nnull\n'
                         b'{"step": 1, "loss": 0.9}\n'),
    "jsonl_nested": (b'{"step": 0, "train": {"loss": 1.0, "acc": {"top1": 0.1}}, "tag": "x"}\n'
                     b'{"step": 1, "train": {"loss": 0.9, "acc": {"top1": 0.2}}, "flag": true}\n'),
    "jsonl_duplicate_keys": b'{"step": 0, "loss": 1.0, "loss": 2.0}\n{"step": 1, "loss": 0.9}\n',
    "jsonl_non_utf8": (b'{"step": 0, "loss": 1.0}\n{"step": 1, "loss": 0.9, "note": "\xff\xfe"}\n'
                       b'{"step": 2, "loss": 0.8}\n'),
    "jsonl_nan_inf": (b'{"step": 0, "loss": NaN}\n{"step": 1, "loss": Infinity}\n'
                      b'{"step": 2, "loss": -Infinity}\n{"step": 3, "loss": null}\n'
                      b'{"step": 4, "loss": 0.5}\n'),
}

TRAINER = {
    "hf_no_log_history": {"global_step": 20, "epoch": 1.0},
    "hf_entries_missing_step": {"global_step": 20, "log_history": [
        {"loss": 1.0, "step": 10}, {"loss": 0.9}, {"eval_loss": 0.95, "step": "20"},
        "not an entry", {"loss": 0.8, "step": 20}]},
    "hf_log_history_not_list": {"global_step": 20, "log_history": {"loss": 1.0}},
}


def write_corpus(out: str = HERE) -> None:
    for name in os.listdir(out):
        if os.path.isdir(os.path.join(out, name)) and name != "__pycache__":
            shutil.rmtree(os.path.join(out, name))

    def put(case: str, filename: str, data: bytes) -> None:
        os.makedirs(os.path.join(out, case), exist_ok=True)
        with open(os.path.join(out, case, filename), "wb") as fh:
            fh.write(data)

    put("good", EVENTS, frame(scalar_payloads()))
    for case, data in event_cases().items():
        put(case, EVENTS, data)
    # a resumed run: a good file and a damaged one in the same directory
    put("ev_resumed_one_damaged", EVENTS, frame(scalar_payloads(range(6))))
    put("ev_resumed_one_damaged", EVENTS.replace("1700000000", "1700000100"),
        frame(scalar_payloads(range(6, 12)))[:-9])
    for case, text in CSV.items():
        put(case, "metrics.csv", text.encode("utf-8"))
    for case, data in JSONL.items():
        put(case, "metrics.jsonl", data)
    for case, state in TRAINER.items():
        put(case, "trainer_state.json", json.dumps(state, indent=1).encode())
    put("hf_not_json", "trainer_state.json", b'{"global_step": 20, "log_history": [{"loss":')
    # files that merely look like logs: not runs at all
    put("looks_like_logs", "config.json", b'{"lr": 0.1, "layers": 4}\n')
    put("looks_like_logs", "notes.txt", b"epoch 1 went fine\n")
    put("looks_like_logs", "model.ckpt", bytes(range(256)))
    put("looks_like_logs", "events.png", b"\x89PNG\r\n\x1a\n")


def make_special(out: str) -> dict[str, str]:
    """Cases git cannot hold, made in ``out``: a directory symlink loop beside a
    good run, a dangling event-file symlink, and a file no one may read.
    Returns their paths by case name."""
    loop = os.path.join(out, "symlink_loop")
    os.makedirs(os.path.join(loop, "run"), exist_ok=True)
    with open(os.path.join(loop, "run", EVENTS), "wb") as fh:
        fh.write(frame(scalar_payloads()))
    os.symlink("..", os.path.join(loop, "run", "back_up"))
    dangling = os.path.join(out, "dangling")
    os.makedirs(dangling, exist_ok=True)
    os.symlink(os.path.join(out, "nowhere"), os.path.join(dangling, EVENTS))
    unreadable = os.path.join(out, "unreadable")
    os.makedirs(unreadable, exist_ok=True)
    path = os.path.join(unreadable, "metrics.csv")
    with open(path, "w") as fh:
        fh.write("step,loss\n0,1.0\n")
    os.chmod(path, 0)
    return {"symlink_loop": loop, "dangling": dangling, "unreadable": unreadable}


if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..", "..")))
    write_corpus()
    print(f"wrote {sum(os.path.isdir(os.path.join(HERE, d)) for d in os.listdir(HERE))} "
          f"cases in {HERE}")
