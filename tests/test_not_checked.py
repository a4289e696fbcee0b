"""Nothing checked is not healthy: a run with no scalars, one row, or only
bookkeeping series is "not checked", with the reason, in every output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from loss_doctor.cli import cli

from .conftest import scalar_event, write_events


@pytest.fixture
def logs(tmp_path):
    tmp_path = tmp_path / "logs"
    write_events(tmp_path / "healthy", [scalar_event("loss", 2.0 / (s + 1), s)
                                        for s in range(60)])
    (tmp_path / "one_row").mkdir()
    (tmp_path / "one_row" / "trainer_state.json").write_text(json.dumps(
        {"global_step": 5, "log_history": [{"step": 5, "loss": 2.3, "epoch": 0.1}]}))
    (tmp_path / "bookkeeping").mkdir()
    (tmp_path / "bookkeeping" / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "epoch": s // 10, "samples_per_second": 100.0 + s}) + "\n"
        for s in range(30)))
    from tensorboard.compat.proto import event_pb2
    write_events(tmp_path / "no_scalars", [event_pb2.Event(wall_time=1.7e9,
                                                           file_version="brain.Event:2")])
    return tmp_path


REASONS = {"one_row": "one point per series: no curve to judge",
           "bookkeeping": "only bookkeeping series (epoch, samples_per_second)",
           "no_scalars": "no scalars"}


def _run(logs, *args):
    return CliRunner().invoke(cli, ["check", str(logs), "--isolated", *args])


def test_text_says_not_checked_and_never_healthy(logs):
    out = " ".join(_run(logs).stdout.split())
    assert "no warnings or errors in 1 run: healthy" in out
    assert "not checked, 3 runs:" in out
    for run, reason in REASONS.items():
        assert f"{run} ({reason})" in out


def test_json_ls_markdown_github_sarif_junit_html(logs, tmp_path):
    doc = json.loads(_run(logs, "--format", "json").stdout)
    assert {r["run"]: r.get("not_checked") for r in doc["runs"]} == {**REASONS, "healthy": None}
    ls = json.loads(CliRunner().invoke(cli, ["ls", str(logs), "--format", "json"]).stdout)
    assert {r["run"]: r.get("not_checked") for r in ls["runs"]} == {**REASONS, "healthy": None}
    md = _run(logs, "--format", "markdown").stdout
    assert "### Runs not checked" in md and "- one_row: one point per series" in md
    gh = _run(logs, "--format", "github").stdout
    assert "::notice title=loss-doctor: not checked::3 run(s) nothing could judge" in gh
    sarif = json.loads(_run(logs, "--format", "sarif").stdout)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert sorted(n["message"]["text"] for n in notes) == sorted(
        f"run {run} not checked: {reason}" for run, reason in REASONS.items())
    suite = ET.fromstring(_run(logs, "--format", "junit").stdout)
    skipped = [c for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert {c.get("classname") for c in skipped} == set(REASONS)
    assert int(suite.get("skipped")) == len(skipped) == 3 * 10
    report = tmp_path / "report"  # beside the logs, never inside
    _run(logs, "--report", str(report))
    page = (report / "index.html").read_text()
    assert page.count(">not checked</span>") == 2 * 3  # the table and each run's section
    assert page.count(">healthy</span>") == 2
