"""The cache of decoded files: hits, invalidation on growth, concurrency, --no-cache."""

from __future__ import annotations

import multiprocessing
import os

import pandas as pd
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor.cli import cli
from parsers import cache
from parsers.tfevents import reader

from .conftest import scalar_event, write_events


@pytest.fixture
def logdir(tmp_path):
    write_events(tmp_path / "logs" / "run", [scalar_event("loss", 1.0 / (s + 1), s)
                                             for s in range(50)])
    return tmp_path / "logs"


def test_a_second_read_decodes_nothing(logdir, tmp_path, monkeypatch):
    store = tmp_path / "c"
    first = parsers.read_logdir(logdir, cache=str(store))
    assert len(list(store.glob("*.npz"))) == 1

    def refuse(*args):
        raise AssertionError("decoded again")
    monkeypatch.setattr(reader, "_decode_stream", refuse)
    again = parsers.read_logdir(logdir, cache=str(store))
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs == first.attrs


def test_a_file_that_grows_is_decoded_again(logdir, tmp_path):
    store = tmp_path / "c"
    assert len(parsers.read_logdir(logdir, cache=str(store))) == 50
    (path,) = (logdir / "run").iterdir()
    extra = tmp_path / "extra"
    more = write_events(extra, [scalar_event("loss", 0.01, s) for s in range(50, 60)])
    with open(path, "ab") as fh:  # a writer appending to a running job's file
        fh.write(more.read_bytes())
    assert len(parsers.read_logdir(logdir, cache=str(store))) == 60


def _hammer(args):
    store, path = args
    data = reader.read_event_file(path)
    for _ in range(30):
        cache.store(store, [path], data)
        assert cache.load(store, [path]) is not None
    return True


def test_concurrent_writers_never_leave_half_an_entry(logdir, tmp_path):
    (path,) = (logdir / "run").iterdir()
    store = str(tmp_path / "c")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert all(pool.map(_hammer, [(store, str(path))] * 4))
    assert not [n for n in os.listdir(store) if n.endswith(".tmp")]


def test_damaged_entry_is_a_miss(logdir, tmp_path):
    store = tmp_path / "c"
    parsers.read_logdir(logdir, cache=str(store))
    (entry,) = store.glob("*.npz")
    entry.write_bytes(b"not an npz")
    assert len(parsers.read_logdir(logdir, cache=str(store))) == 50


def test_cli_uses_the_cache_unless_told_not_to(logdir, tmp_path, monkeypatch):
    store = tmp_path / "cli-cache"
    monkeypatch.setenv("LOSS_DOCTOR_CACHE_DIR", str(store))
    runner = CliRunner()
    assert runner.invoke(cli, ["check", str(logdir), "--no-cache"]).exit_code == 0
    assert not store.exists()
    assert runner.invoke(cli, ["check", str(logdir), "--jobs", "1"]).exit_code == 0
    assert len(list(store.glob("*.npz"))) == 1
    assert cache.default_dir() == str(store)
