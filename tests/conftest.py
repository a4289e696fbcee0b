"""Fixtures: event files written by tensorboard's own writers, paths to real logs."""

from __future__ import annotations

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"
REAL_LOGS = ROOT.parent / "shared" / "real_logs"


def write_events(logdir, events, suffix=""):
    """Write ``tensorboard.compat.proto.event_pb2.Event`` objects with
    tensorboard's EventFileWriter (TFRecord framing, real CRCs); returns the file."""
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    os.makedirs(logdir, exist_ok=True)
    before = set(os.listdir(logdir))
    writer = EventFileWriter(str(logdir), filename_suffix=suffix)
    for event in events:
        writer.add_event(event)
    writer.close()
    (new,) = set(os.listdir(logdir)) - before
    return pathlib.Path(logdir) / new


def scalar_event(tag, value, step, wall=1.7e9):
    """A v1 scalar as torch's SummaryWriter writes it (simple_value)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag,
                                                                   simple_value=value)])
    return event_pb2.Event(wall_time=wall, step=step, summary=summary)


@pytest.fixture
def v2_writer(tmp_path):
    """tensorboard.summary.Writer: v2 tensor scalars with plugin metadata."""
    from tensorboard.summary import Writer

    writers = []

    def make(sub="run"):
        writer = Writer(str(tmp_path / sub))
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        try:
            writer.close()
        except RuntimeError:
            pass


def requires_real_logs():
    return pytest.mark.skipif(not REAL_LOGS.is_dir(), reason="../shared/real_logs not present")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Tests never touch the user's cache of decoded files."""
    monkeypatch.setenv("LOSS_DOCTOR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
