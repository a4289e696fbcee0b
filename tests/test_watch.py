"""``loss-doctor watch``: a writer thread appends to runs while the watch runs."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import numpy as np
from click.testing import CliRunner

from loss_doctor.cli import cli
from loss_doctor.watch import Watcher, watch
from parsers import formats
from parsers.tail import Tail

from .conftest import scalar_event


def _loss(step: int) -> float:
    return 2.0 * np.exp(-step / 80) + 0.3 + 0.01 * np.sin(step)


def test_new_findings_appear_as_a_writer_appends(tmp_path):
    """A JSON-lines run goes NaN, a CSV run starts healthy and stays so, a new
    run appears mid-watch: the NaN is printed once, after the writer wrote it;
    the appended files are decoded once each, not again on every pass."""
    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    (logs / "b").mkdir()
    jsonl, csv = logs / "a" / "metrics.jsonl", logs / "b" / "metrics.csv"
    jsonl.write_text("".join(json.dumps({"step": s, "loss": _loss(s)}) + "\n"
                             for s in range(50)))
    csv.write_text("step,loss\n" + "".join(f"{s},{_loss(s)}\n" for s in range(50)))
    nan_at = []

    def writer():
        for s in range(50, 200):
            value = float("nan") if s >= 150 else _loss(s)
            if s == 150:
                nan_at.append(time.monotonic())
            with open(jsonl, "a") as fh:  # a partial line now and then: finished next time
                line = json.dumps({"step": s, "loss": value}) + "\n"
                fh.write(line[:5]) if s % 7 == 0 else fh.write(line)
                fh.flush()
                if s % 7 == 0:
                    time.sleep(0.01)
                    fh.write(line[5:])
            with open(csv, "a") as fh:
                fh.write(f"{s},{_loss(s)}\n")
            if s == 120:
                (logs / "c").mkdir()
                (logs / "c" / "metrics.jsonl").write_text(
                    "".join(json.dumps({"step": k, "loss": 1.0}) + "\n" for k in range(40)))
            time.sleep(0.005)

    watcher_thread = threading.Thread(target=writer)
    printed = []

    class Out(io.StringIO):
        def write(self, text):
            if text.strip():
                printed.append((time.monotonic(), text))
            return super().write(text)

    out = Out()
    watcher_thread.start()
    code = watch([str(logs)], interval=0.05, until_idle=1.0, fmt="jsonl", out=out)
    watcher_thread.join()
    found = [(t, json.loads(line)) for t, line in printed]
    nan = [(t, f) for t, f in found if f["code"] == "LD101"]
    assert len(nan) == 1 and code == 1
    (t, f), = nan
    assert f["run"] == "a" and f["step_start"] == 150 and t >= nan_at[0]
    assert [f for _, f in found if f["run"] == "b"] == []  # healthy: nothing said
    # the run that appeared mid-watch, constant at 1.0: picked up and judged
    assert [f["code"] for _, f in found if f["run"] == "c"] == ["LD301"]


def test_a_tail_decodes_only_what_was_appended(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = Tail(str(path), "jsonl", formats.get("jsonl").read)
    total = 0
    for k in range(20):
        with open(path, "a") as fh:
            fh.write("".join(json.dumps({"step": s, "loss": 1.0 / (s + 1)}) + "\n"
                             for s in range(k * 50, (k + 1) * 50)))
        data = tail.read()
        total = os.path.getsize(path)
    assert len(data.step) == 1000 and list(data.step[:3]) == [0, 1, 2]
    assert tail.bytes_decoded == total  # each byte once, not 20 times over


def test_a_rewritten_file_is_read_again_whole(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n" + "".join(f"{s},{1 / (s + 1)}\n" for s in range(30)))
    tail = Tail(str(path), "csv", formats.get("csv").read)
    assert len(tail.read().step) == 30
    path.write_text("step,loss\n" + "".join(f"{s},{2 / (s + 1)}\n" for s in range(10)))
    data = tail.read()
    assert len(data.step) == 10 and data.value[0] == 2.0


def test_event_files_are_followed_record_by_record(tmp_path):
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    path = tmp_path / "events.out.tfevents.1.host"
    fh = open(path, "wb")
    writer = RecordWriter(fh)
    writer.write(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2")
                 .SerializeToString())
    tail = Tail(str(path), "tensorboard", formats.get("tensorboard").read)
    for step in range(60):
        writer.write(scalar_event("loss", 1.0 / (step + 1), step).SerializeToString())
        writer.flush()
        if step % 10 == 9:
            fh.write(b"\x05\x00")  # half a record header: waits for the rest
            fh.flush()
            tail.read()
            fh.seek(-2, os.SEEK_END)
            fh.truncate()
    writer.flush()
    data = tail.read()
    fh.close()
    assert list(data.step) == list(range(60))


def test_the_watch_command_stops_when_idle(tmp_path):
    run = tmp_path / "logs" / "r"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "loss": 1.0 if s < 30 else float("nan")}) + "\n"
        for s in range(40)))
    result = CliRunner().invoke(cli, ["watch", str(tmp_path / "logs"), "--interval", "0.05",
                                      "--until-idle", "0.3", "--format", "github"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error title=LD101 nan%3A r loss::loss is NaN from step 30")
    assert lines[1].startswith("::warning title=LD301 plateau%3A r loss::loss is constant")
    watcher = Watcher([str(tmp_path / "logs")])
    assert [f.code for f in watcher.poll()[0]] == ["LD101", "LD301"]
    assert watcher.poll() == ([], [])  # said once
