"""Run discovery, the read-only guarantee, and the ls/export commands."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor.cli import cli

from .conftest import SAMPLE_LOGS, scalar_event, write_events


@pytest.fixture
def logdir(tmp_path):
    root = tmp_path / "runs"
    write_events(root / "sweep" / "lr_10", [scalar_event("loss", 1.0, s) for s in range(5)])
    write_events(root / "sweep" / "lr_2", [scalar_event("loss", 2.0, s) for s in range(5)])
    (root / "csvs").mkdir()
    (root / "csvs" / "a.csv").write_text("step,loss\n0,1\n1,0.5\n")
    (root / "csvs" / "b.csv").write_text("step,loss\n0,3\n")
    (root / "csvs" / "notes.txt").write_text("not a log")
    (root / "csvs" / "model.ckpt").write_bytes(b"\x00" * 64)
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.csv").write_text("step,loss\n0,1\n")
    (root / "broken").mkdir()
    (root / "broken" / "events.out.tfevents.1.host").write_bytes(b"garbage!" * 4)
    return root


def test_discover_groups_runs(logdir):
    found = [(s.run, s.format, len(s.files)) for s in parsers.discover(logdir)]
    assert found == [("broken", "tensorboard", 1), ("csvs/a.csv", "csv", 1),
                     ("csvs/b.csv", "csv", 1), ("sweep/lr_2", "tensorboard", 1),
                     ("sweep/lr_10", "tensorboard", 1)]


def test_read_logdir_collects_errors_and_reads_the_rest(logdir):
    df = parsers.read_logdir(logdir)
    assert sorted(df.attrs["runs"]) == ["csvs/a.csv", "csvs/b.csv", "sweep/lr_10",
                                        "sweep/lr_2"]
    (err,) = df.attrs["errors"]
    assert err["path"].endswith("broken/events.out.tfevents.1.host")
    with pytest.raises(parsers.ParseError, match="broken"):
        parsers.read_logdir(logdir, strict=True)


def test_read_run_and_root_name(logdir):
    df = parsers.read_run(logdir / "sweep" / "lr_2")
    assert df.run.unique().tolist() == ["lr_2"]
    assert df.value.tolist() == [2.0] * 5


def snapshot(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_mtime_ns, st.st_size)
    return out


def test_nothing_is_written_into_the_log_directory(logdir, tmp_path):
    before = snapshot(logdir)
    parsers.read_logdir(logdir)
    runner = CliRunner()
    runner.invoke(cli, ["ls", str(logdir)])
    runner.invoke(cli, ["export", str(logdir), "-o", str(tmp_path / "out.csv")])
    assert snapshot(logdir) == before


def test_ls_text(logdir):
    result = CliRunner().invoke(cli, ["ls", str(logdir)], catch_exceptions=False)
    assert result.exit_code == 0
    out = result.output
    assert "4 runs, 13 points" in out
    assert out.index("sweep/lr_2") < out.index("sweep/lr_10")  # natural order
    assert "1 problem(s) reading files:" in out and "broken/events.out" in out
    assert all(len(line) <= 80 for line in out.splitlines() if str(logdir) not in line)


def test_ls_json(logdir):
    result = CliRunner().invoke(cli, ["ls", str(logdir), "--format", "json"],
                                catch_exceptions=False)
    doc = json.loads(result.output)
    assert doc["version"] == 1
    run = next(r for r in doc["runs"] if r["run"] == "csvs/a.csv")
    assert run["metrics"] == {"loss": {"points": 2, "first_step": 0, "last_step": 1,
                                       "non_finite": 0, "replaced": 0, "role": "train_loss"}}
    assert doc["errors"][0]["path"].endswith("events.out.tfevents.1.host")


def test_export_csv_roundtrip(logdir, tmp_path):
    out = tmp_path / "frame.csv"
    result = CliRunner().invoke(cli, ["export", str(logdir), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == list(parsers.COLUMNS) and len(frame) == 13


def test_export_refuses_to_write_into_the_logdir(logdir):
    result = CliRunner().invoke(cli, ["export", str(logdir), "-o", str(logdir / "f.csv")])
    assert result.exit_code == 2
    assert "never writes there" in result.output
    assert not (logdir / "f.csv").exists()


def test_exit_2_when_nothing_is_readable(tmp_path):
    (tmp_path / "events.out.tfevents.1.h").write_bytes(b"\x01" * 40)
    result = CliRunner().invoke(cli, ["ls", str(tmp_path)])
    assert result.exit_code == 2
    assert "no file could be read" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(cli, ["ls", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_every_command_has_help():
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help, name
        assert runner.invoke(cli, [name, "--help"]).exit_code == 0
    assert "loss-doctor, version" in runner.invoke(cli, ["--version"]).output


def test_ls_several_paths_with_the_same_run_ids(tmp_path):
    for root in ("a", "b"):
        write_events(tmp_path / root / "run", [scalar_event("loss", 1.0, s) for s in range(3)])
    result = CliRunner().invoke(cli, ["ls", str(tmp_path / "a"), str(tmp_path / "b"),
                                      "--format", "json"], catch_exceptions=False)
    runs = [r["run"] for r in json.loads(result.output)["runs"]]
    assert runs == [f"{tmp_path / 'a'}/run", f"{tmp_path / 'b'}/run"]


def test_huge_single_line_json_is_not_a_log(tmp_path):
    (tmp_path / "annotations.json").write_text('{"images": [' + "1," * 600_000 + '1]}')
    assert parsers.discover(tmp_path) == []


def test_parsers_imports_no_diagnosis_or_plotting():
    import subprocess
    import sys

    code = ("import sys, parsers; parsers.read_logdir(sys.argv[1]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'loss_doctor', 'matplotlib', 'scipy', 'click', 'tensorflow', 'torch'}))")
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLE_LOGS)], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_text_logs_are_not_runs_unless_keras_csv(tmp_path):
    (tmp_path / "log.txt").write_text("[INFO] epoch 1 loss 0.3\n")
    (tmp_path / "training.log").write_text("epoch,loss,val_loss\n0,1.0,1.1\n")
    assert [(s.run, s.format) for s in parsers.discover(tmp_path)] == [
        (tmp_path.name, "keras")]


def test_check_file_reads_that_file_only(tmp_path, monkeypatch):
    run = tmp_path / "runs" / "a"
    first = write_events(run, [scalar_event("loss", 1.0 / (s + 1), s) for s in range(40)])
    write_events(run, [scalar_event("loss", float("nan"), s) for s in range(40, 60)],
                 suffix=".second")
    (run / "other.jsonl").write_text('{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n')
    monkeypatch.chdir(tmp_path)
    rel = os.path.relpath(first, tmp_path)
    doc = json.loads(CliRunner().invoke(cli, ["check", rel, "--format", "json"]).stdout)
    (only,) = doc["runs"]
    assert only["run"] == "runs/a" and only["metrics"]["loss"]["points"] == 40
    assert not [f for f in doc["findings"] if f["code"] == "LD101"]  # the NaN file unread
    whole = CliRunner().invoke(cli, ["check", rel, "--whole-runs", "--format", "json"])
    doc = json.loads(whole.stdout)
    assert {r["run"] for r in doc["runs"]} == {"runs/a", "runs/a/other.jsonl"}
    assert any(f["code"] == "LD101" for f in doc["findings"]) and whole.exit_code == 1
    (tmp_path / "notes.md").write_text("# notes\n")
    bad = CliRunner().invoke(cli, ["check", "notes.md"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("loss-doctor: error: notes.md: not a log format loss-doctor "
                                 "reads (looked for TensorBoard event files")
    assert bad.stderr.count("\n") == 1
