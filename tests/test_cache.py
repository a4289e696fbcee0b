"""The cache of decoded files: hits, invalidation on growth, concurrency, --no-cache."""

from __future__ import annotations

import json
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


def _data(path, n=1000):
    from parsers.errors import ParseError
    from parsers.frame import FileData

    return FileData.from_points(path, "jsonl", ["loss"] * n, list(range(n)),
                                [1.0 / (i + 1) for i in range(n)],
                                errors=[ParseError(path, "line 3: not JSON", line=3)])


def test_an_entry_holds_no_path_of_where_it_was_first_read(tmp_path, monkeypatch):
    """Filled through a relative path, read through the absolute one: the data
    and its messages name the path they are read by."""
    store = tmp_path / "store"
    log = tmp_path / "run" / "metrics.jsonl"
    log.parent.mkdir()
    log.write_text('{"step": 1, "loss": 1}\n')
    monkeypatch.chdir(tmp_path)
    cache.store(str(store), ["run/metrics.jsonl"], _data("run/metrics.jsonl"))
    (entry,) = store.glob("*.npz")
    assert b"run/metrics.jsonl" not in entry.read_bytes()
    got = cache.load(str(store), [str(log)])
    assert got.path == str(log) and got.errors[0].path == str(log)


def test_the_cache_is_capped_by_bytes_and_keeps_what_was_used(tmp_path, monkeypatch):
    store = tmp_path / "store"
    logs = []
    for i in range(12):
        log = tmp_path / f"m{i}.jsonl"
        log.write_text(f'{{"step": {i}, "loss": 1}}\n')
        logs.append(str(log))
    cache.store(str(store), [logs[0]], _data(logs[0], 20_000))
    size = cache.info(str(store))["bytes"]
    monkeypatch.setenv("LOSS_DOCTOR_CACHE_MB", str(4.5 * size / 1e6))
    monkeypatch.setattr(cache, "TRIM_EVERY", 1)
    for i, log in enumerate(logs):
        cache.store(str(store), [log], _data(log, 20_000))
        entry = store / (cache._key([log]) + ".npz")
        if entry.exists():
            os.utime(entry, (1000 + i, 1000 + i))  # written long ago, in this order
        assert cache.load(str(store), [logs[1]]) is not None or i < 1  # used: kept
        assert cache.info(str(store))["bytes"] <= 4.5 * size
    assert cache.load(str(store), [logs[1]]) is not None
    assert cache.load(str(store), [logs[2]]) is None  # the least recently used: gone
    assert cache.load(str(store), [logs[-1]]) is not None


def test_cache_info_and_clear(tmp_path, monkeypatch, logdir):
    store = tmp_path / "cli-cache"
    monkeypatch.setenv("LOSS_DOCTOR_CACHE_DIR", str(store))
    runner = CliRunner()
    assert runner.invoke(cli, ["check", str(logdir), "--exit-zero"]).exit_code == 0
    doc = json.loads(runner.invoke(cli, ["cache", "info", "--format", "json"]).stdout)
    assert doc["dir"] == str(store) and doc["entries"] >= 1 and doc["bytes"] > 0
    assert doc["max_bytes"] == cache.DEFAULT_MB * 1_000_000
    (store / "not_ours.txt").write_text("keep")
    out = runner.invoke(cli, ["cache", "clear"])
    assert out.exit_code == 0 and out.stdout.startswith(
        f"removed {doc['entries'] + doc['derived']} file(s)")
    assert sorted(os.listdir(store)) == ["not_ours.txt"]
    assert "0 decoded files, 0 runs' findings" in runner.invoke(cli, ["cache", "info"]).stdout
