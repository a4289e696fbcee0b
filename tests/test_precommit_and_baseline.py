"""pre-commit hooks run as pre-commit runs them, from another repository; baselines."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from loss_doctor import datasets as ds
from loss_doctor.cli import cli

from .conftest import ROOT, SAMPLE_LOGS, scalar_event, write_events

HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def write_run(folder, run, suffix=""):
    steps, loss = run.series["train/loss"]
    events = [scalar_event("train/loss", float(v), int(s), 1.7e9 + s)
              for s, v in zip(steps, loss)]
    return write_events(folder, events, suffix=suffix)


@pytest.fixture
def other_repo(tmp_path):
    repo = tmp_path / "their_repo"
    write_run(repo / "runs" / "exp_a", ds.healthy(n=300, seed=1))
    first = write_run(repo / "runs" / "exp_b", ds.healthy(n=300, seed=2), suffix=".1")
    second = write_run(repo / "runs" / "exp_b", ds.healthy(n=300, seed=3), suffix=".2")
    write_run(repo / "runs" / "broken_c", ds.blowup_after_warmup(n=300, seed=4))
    (repo / "README.md").write_text("not a log")
    return repo, first, second


def hook_command(hook, args=(), filenames=()):
    """What pre-commit executes: entry, then args, then the matching filenames."""
    exe = shutil.which("loss-doctor") or shutil.which(
        "loss-doctor", path=os.path.dirname(sys.executable))
    entry = shlex.split(hook["entry"])
    assert entry[0] == "loss-doctor" and exe
    names = [f for f in filenames if re.search(hook.get("files", ""), f)] \
        if hook.get("pass_filenames", True) else []
    return [exe, *entry[1:], *args, *names]


def test_hook_definitions():
    assert set(HOOKS) == {"loss-doctor", "loss-doctor-files"}
    for hook in HOOKS.values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and hook["require_serial"] is True
    assert HOOKS["loss-doctor"]["pass_filenames"] is False
    assert HOOKS["loss-doctor"]["always_run"] is True


def test_directory_hook_from_another_repository(other_repo):
    repo, _, _ = other_repo
    cmd = hook_command(HOOKS["loss-doctor"], args=["runs/", "--format", "json"],
                       filenames=["README.md"])
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PRE_COMMIT": "1"})
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert [r["run"] for r in doc["runs"]] == ["broken_c", "exp_a", "exp_b"]
    assert {(f["run"], f["code"]) for f in doc["findings"] if f["severity"] != "info"} == {
        ("broken_c", "LD102")}


def test_files_hook_groups_staged_files_by_run(other_repo):
    repo, first, second = other_repo
    staged = [os.path.relpath(second, repo), "README.md",
              "runs/broken_c/" + os.listdir(repo / "runs" / "broken_c")[0]]
    cmd = hook_command(HOOKS["loss-doctor-files"], args=["--format", "json"],
                       filenames=staged)
    assert "README.md" not in cmd
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    doc = json.loads(done.stdout)
    runs = {r["run"]: r for r in doc["runs"]}
    assert set(runs) == {"runs/broken_c", "runs/exp_b"}  # exp_a was not staged
    assert done.returncode == 1
    # the staged file stands for its whole run: both event files, one run
    assert runs["runs/exp_b"]["metrics"]["train/loss"]["points"] == 300


def test_baseline_hides_known_findings_and_fails_on_new(tmp_path):
    logs = tmp_path / "logs"
    write_run(logs / "old", ds.blowup_after_warmup(n=300, seed=1))
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    wrote = runner.invoke(cli, ["check", str(logs), "--write-baseline", str(baseline)])
    assert wrote.exit_code == 0 and baseline.exists()
    assert json.loads(baseline.read_text())["findings"][0]["code"] == "LD102"
    known = runner.invoke(cli, ["check", str(logs), "--baseline", str(baseline)])
    assert known.exit_code == 0 and "known finding(s) hidden" in known.stderr
    write_run(logs / "new", ds.blowup_after_warmup(n=300, seed=2))
    fresh = runner.invoke(cli, ["check", str(logs), "--baseline", str(baseline),
                                "--format", "json"])
    assert fresh.exit_code == 1
    assert {f["run"] for f in json.loads(fresh.stdout)["findings"]} == {"new"}
    inside = runner.invoke(cli, ["check", str(logs), "--write-baseline", str(logs / "b.json")])
    assert inside.exit_code == 2 and not (logs / "b.json").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    broken = runner.invoke(cli, ["check", str(logs), "--baseline", str(bad)])
    assert broken.exit_code == 2 and "not a loss-doctor baseline" in broken.output


def test_no_progress_output_when_stderr_is_not_a_terminal():
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json"])
    assert result.stderr == ""
