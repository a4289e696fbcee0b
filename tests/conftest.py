"""Fixtures: event files written by tensorboard's own writers, paths to real logs."""

from __future__ import annotations

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"
REAL_LOGS = ROOT.parent / "shared" / "real_logs"


def load_script(path, name: str):
    """A script of the repository (a corpus generator, a benchmark) as a module
    under its own ``name``: several are called generate.py."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def write_sweep(root, count: int, *, problem: int, name=lambda i: f"lr_{i:02d}"):
    """``count`` CSV runs of loss_doctor.datasets' healthy curves, one of them
    (``problem``) with a spike, each in ``root/name(i)/metrics.csv``."""
    from loss_doctor import datasets as ds

    for i in range(count):
        run = ds.spike_at(seed=i) if i == problem else ds.healthy(seed=i)
        steps, loss = run.series["train/loss"]
        folder = pathlib.Path(root) / name(i)
        folder.mkdir(parents=True)
        rows = "\n".join(f"{s},{v!r}" for s, v in zip(steps.tolist(), loss.tolist()))
        (folder / "metrics.csv").write_text(f"step,train/loss\n{rows}\n")
    return pathlib.Path(root)


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
