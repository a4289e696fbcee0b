"""An unchanged run's record and findings come from the cache; anything they
depend on (the files, the run as named, the config, the code) changing, or an
entry that is damaged or holds more than our records, means a fresh check."""

from __future__ import annotations

import json
import os
import pickle

import pytest
from click.testing import CliRunner

from loss_doctor import findings_cache, parallel
from loss_doctor.cli import cli
from parsers import cache

from .conftest import scalar_event, write_events


@pytest.fixture
def store(tmp_path, monkeypatch):
    where = tmp_path / "store"
    monkeypatch.setenv("LOSS_DOCTOR_CACHE_DIR", str(where))
    return where


@pytest.fixture
def logs(tmp_path):
    root = tmp_path / "logs"
    write_events(root / "fine", [scalar_event("loss", 1.0 / (s + 1), s) for s in range(60)])
    write_events(root / "nan", [scalar_event("loss", 1.0 if s < 40 else float("nan"), s)
                                for s in range(60)])
    return root


def check(path, *args, cwd=None):
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        out = CliRunner().invoke(cli, ["check", str(path), "--format", "json", "--jobs", "1",
                                       "--exit-zero", *args])
    finally:
        os.chdir(old)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def refuse_reading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("read again")
    monkeypatch.setattr(parallel, "read_view", refuse)


def test_an_unchanged_run_is_neither_read_nor_diagnosed_again(logs, store, monkeypatch):
    fresh = check(logs, "--no-cache")
    assert check(logs) == fresh  # fills the cache
    assert len(list(store.glob("*" + cache.BYTES))) == 2
    refuse_reading(monkeypatch)
    assert check(logs) == fresh


def test_the_text_report_of_a_kept_run_is_the_fresh_one(logs, store):
    runner = CliRunner()
    fresh = runner.invoke(cli, ["check", str(logs), "--no-cache", "--jobs", "1"]).stdout
    assert runner.invoke(cli, ["check", str(logs), "--jobs", "1"]).stdout == fresh
    assert runner.invoke(cli, ["check", str(logs), "--jobs", "1"]).stdout == fresh


def test_a_grown_file_is_checked_again(logs, store):
    before = check(logs)
    assert [f["code"] for f in before["findings"] if f["run"] == "fine"] != ["LD101"]
    write_events(logs / "fine", [scalar_event("loss", float("nan"), s) for s in range(60, 80)],
                 suffix="2")
    after = check(logs)
    assert "LD101" in [f["code"] for f in after["findings"] if f["run"] == "fine"]
    assert after == check(logs, "--no-cache")


def test_the_config_and_the_code_are_part_of_the_key(logs, store, monkeypatch, tmp_path):
    check(logs)
    refuse_reading(monkeypatch)
    with pytest.raises(AssertionError, match="read again"):
        check(logs, "--ignore", "LD5")
    with pytest.raises(AssertionError, match="read again"):
        monkeypatch.setattr(findings_cache, "_CODE", "another version of the detectors")
        check(logs)


def test_a_run_named_from_another_directory_gets_its_own_entry(logs, store, tmp_path):
    here = check("logs", cwd=tmp_path)
    there = check(os.path.join("..", "logs"), cwd=logs)
    assert {r["run"] for r in here["runs"]} == {"fine", "nan"}
    assert here["runs"][0]["path"].startswith("logs")
    assert there["runs"][0]["path"].startswith(os.path.join("..", "logs"))
    assert there == check(os.path.join("..", "logs"), "--no-cache", cwd=logs)


def test_a_run_with_a_read_error_is_not_kept(tmp_path, store):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "metrics.jsonl").write_text('{"step": 1, "loss": 1}\n{"step": 2, "lo\n'
                                                    + "".join(f'{{"step": {s}, "loss": 1}}\n'
                                                              for s in range(3, 40)))
    doc = check(tmp_path / "bad")
    assert doc["errors"] and not list(store.glob("*" + cache.BYTES))


def test_a_damaged_or_foreign_entry_is_a_miss_and_runs_nothing(logs, store, tmp_path):
    fresh = check(logs)
    entries = sorted(store.glob("*" + cache.BYTES))
    entries[0].write_bytes(b"\x80\x05 not a pickle")
    marker = tmp_path / "pwned"
    entries[1].write_bytes(pickle.dumps(_Exploit(str(marker))))
    keys = [e.name[:-len(cache.BYTES)] for e in entries]
    assert [findings_cache.load(str(store), k) for k in keys] == [None, None]
    assert not marker.exists()
    assert check(logs) == fresh  # both checked afresh, and kept again
    assert not marker.exists()
    assert all(findings_cache.load(str(store), k) is not None for k in keys)


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_cache_info_counts_and_clear_removes_the_kept_findings(logs, store):
    check(logs)
    runner = CliRunner()
    doc = json.loads(runner.invoke(cli, ["cache", "info", "--format", "json"]).stdout)
    assert doc["entries"] == 2 and doc["derived"] == 2
    assert "2 decoded files, 2 runs' findings" in runner.invoke(cli, ["cache", "info"]).stdout
    out = runner.invoke(cli, ["cache", "clear"])
    assert out.stdout.startswith("removed 4 file(s)")
    assert not os.listdir(store)
