"""fsspec URLs: the same runs, the same frame and the same findings as from disk.

fsspec's in-memory filesystem stands in for an object store (its paths have no
inodes, no symlinks and no directories of their own, like S3's); ``file://``
exercises the URL path through a process pool."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor.cli import cli

from .conftest import SAMPLE_LOGS, scalar_event, write_events

fsspec = pytest.importorskip("fsspec")


@pytest.fixture
def memfs():
    """A fresh in-memory filesystem, emptied afterwards."""
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    yield fs
    fs.store.clear()


def upload(fs, src, dest: str) -> None:
    for dirpath, _, filenames in os.walk(src):
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            fs.pipe(f"{dest}/{rel}", open(path, "rb").read())


def test_a_url_reads_to_the_same_frame_as_the_directory(memfs):
    upload(memfs, SAMPLE_LOGS, "/bucket/logs")
    local = parsers.read_logdir(SAMPLE_LOGS)
    remote = parsers.read_logdir("memory://bucket/logs")
    assert remote.attrs["errors"] == []
    assert sorted(remote.attrs["runs"]) == sorted(local.attrs["runs"])
    pd.testing.assert_frame_equal(remote.reset_index(drop=True),
                                  local.reset_index(drop=True))
    info = remote.attrs["runs"]["hf/healthy"]
    assert info["format"] == "hf_trainer"
    assert info["files"] == ["memory:///bucket/logs/hf/healthy/trainer_state.json"]
    lightning = remote.attrs["runs"]["lightning/lightning_logs/version_0"]
    assert lightning["hparams"].startswith("memory://") and lightning["hparams"].endswith(
        "version_0/hparams.yaml")


def test_url_discovery_skips_hidden_and_groups_checkpoints(memfs, tmp_path):
    event = write_events(tmp_path / "ev", [scalar_event("loss", 1.0, 1)])
    memfs.pipe("/r/run_a/" + event.name, event.read_bytes())
    memfs.pipe("/r/.hidden/x/metrics.jsonl", b'{"step": 1, "loss": 1}\n')
    memfs.pipe("/r/run_b/log.jsonl", b'{"step": 1, "loss": 1}\n{"step": 2, "loss": 0.5}\n')
    state = json.dumps({"global_step": 2, "log_history": [{"step": 2, "loss": 1.0}]})
    memfs.pipe("/r/hf/checkpoint-2/trainer_state.json", state.encode())
    sources = parsers.discover("memory://r/")
    assert [(s.run, s.format) for s in sources] == [
        ("hf", "hf_trainer"), ("run_a", "tensorboard"), ("run_b", "jsonl")]
    only_here = parsers.discover("memory://r/hf", recursive=False)
    assert [s.run for s in only_here] == ["hf"]
    assert parsers.read_file("memory://r/run_b/log.jsonl").value.tolist() == [1.0, 0.5]


def test_damaged_and_missing_remote_files_are_reported_not_raised(memfs, tmp_path):
    event = write_events(tmp_path / "ev", [scalar_event("loss", float(i), i)
                                           for i in range(100)])
    data = event.read_bytes()
    memfs.pipe("/d/cut/" + event.name, data[: len(data) - 7])
    memfs.pipe("/d/bad/metrics.csv", b"step,loss\n1,2\n\xff\xfe,3\n")
    df = parsers.read_logdir("memory://d")
    assert df[df.run == "cut"].step.max() == 98
    (error,) = df.attrs["errors"]
    assert error["path"] == "memory:///d/bad/metrics.csv" and "UTF-8" in error["message"]
    with pytest.raises(parsers.ParseError, match="no such file or directory"):
        parsers.read_logdir("memory://nothing/here")
    with pytest.raises(parsers.ParseError, match="Protocol not known"):
        parsers.read_logdir("nosuchproto://x")


def test_remote_files_are_cached_by_size_and_modification(memfs, tmp_path, monkeypatch):
    upload(memfs, SAMPLE_LOGS / "tensorboard", "/c")
    cache = tmp_path / "cache"
    first = parsers.read_logdir("memory://c", cache=str(cache))
    assert len(os.listdir(cache)) > 0
    from parsers.tfevents import reader as tensorboard

    def fail(*a, **k):
        raise AssertionError("decoded again")
    monkeypatch.setattr(tensorboard, "_decode_stream", fail)
    again = parsers.read_logdir("memory://c", cache=str(cache))
    pd.testing.assert_frame_equal(first, again)


def test_check_on_a_url_gives_the_same_findings(memfs):
    upload(memfs, SAMPLE_LOGS, "/logs")
    runner = CliRunner()
    local = runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json", "-j", "1",
                                "--isolated", "--no-cache"])
    remote = runner.invoke(cli, ["check", "memory://logs", "--format", "json", "-j", "1",
                                 "--isolated", "--no-cache"])
    assert local.exit_code == remote.exit_code == 1
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    assert a["findings"] == b["findings"] and b["errors"] == []
    assert [(r["run"], r["metrics"]) for r in a["runs"]] == [
        (r["run"], r["metrics"]) for r in b["runs"]]


def test_file_urls_through_the_process_pool():
    runner = CliRunner()
    url = SAMPLE_LOGS.as_uri()
    out = runner.invoke(cli, ["check", url, "--format", "json", "-j", "2", "--isolated"])
    local = runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json", "-j", "2",
                                "--isolated"])
    assert out.exit_code == 1, out.output
    assert json.loads(out.stdout)["findings"] == json.loads(local.stdout)["findings"]


def test_url_errors_are_one_line_exit_2(memfs):
    runner = CliRunner()
    for url, message in [("memory://absent", "memory://absent: no such file or directory"),
                         ("nosuchproto://x", "Protocol not known: nosuchproto")]:
        result = runner.invoke(cli, ["check", url])
        assert result.exit_code == 2
        assert message in result.stderr and "Traceback" not in result.output
