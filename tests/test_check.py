"""loss-doctor check: labelled sample runs, the JSON contract, exit codes, config."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import loss_doctor
from loss_doctor.cli import cli
from loss_doctor.findings import Finding

from .conftest import SAMPLE_LOGS, scalar_event, write_events

LABELS = {  # run -> (code, metric, first step within, last step) from sample_logs/README.md
    "lightning/lightning_logs/version_1": ("LD101", "train_loss", (150, 150), 239),
    "tensorboard/lr_too_high": ("LD102", "train/loss", (55, 80), 239),
    "hf/too_little_data": ("LD401", "eval_loss", (60, 60), 240),
    "tensorboard/lr_far_too_high": ("LD301", "train/loss", (0, 0), 239),
    "jsonl/corrupted_batch": ("LD201", "train/loss", (130, 130), 132),
}
HEALTHY = {"tensorboard/healthy", "tensorboard/resumed", "lightning/lightning_logs/version_0",
           "hf/healthy", "keras/head_on_minilm"}


@pytest.fixture(scope="module")
def sample_findings():
    return loss_doctor.diagnose(SAMPLE_LOGS)


def test_every_labelled_problem_is_found(sample_findings):
    problems = [f for f in sample_findings if f.severity != "info"]
    got = {f.run: f for f in problems}
    assert len(problems) == len(got) == len(LABELS)  # one finding per broken run
    for run, (code, metric, (lo, hi), end) in LABELS.items():
        f = got[run]
        assert (f.code, f.metric) == (code, metric), f.message
        assert lo <= f.step_start <= hi and f.step_end == end, f


def test_healthy_runs_get_no_warning(sample_findings):
    loud = [f for f in sample_findings if f.run in HEALTHY and f.severity != "info"]
    assert loud == []
    assert set(HEALTHY) | set(LABELS) == {f.run for f in sample_findings}


def test_ranking_errors_first_then_score(sample_findings):
    assert [f.rank for f in sample_findings] == list(range(1, len(sample_findings) + 1))
    order = {"error": 0, "warning": 1, "info": 2}
    keys = [(order[f.severity], -f.score) for f in sample_findings]
    assert keys == sorted(keys)
    assert sample_findings[0].severity == "error"


def test_finding_is_immutable_and_matches_the_contract(sample_findings):
    f = sample_findings[0]
    with pytest.raises(AttributeError):
        f.score = 0.0
    assert list(f.to_dict()) == ["rank", "code", "kind", "severity", "score", "run", "metric",
                                 "step_start", "step_end", "message", "evidence", "hint"]
    assert isinstance(f, Finding)



def test_numbering_a_finding_copies_it_as_dataclasses_replace_would(sample_findings):
    from dataclasses import replace

    for f in sample_findings:
        numbered = f.with_rank(f.rank + 100)
        assert numbered == replace(f, rank=f.rank + 100) and numbered is not f
        assert numbered.rank == f.rank + 100 and numbered.to_dict()["rank"] == f.rank + 100
        with pytest.raises(AttributeError):
            numbered.rank = 1  # still frozen

    class Noted(Finding):  # a plugin's subclass stays itself
        pass

    plain = sample_findings[0]
    noted = Noted(**{k: v for k, v in plain.__dict__.items()})
    assert type(noted.with_rank(3)) is Noted

CONTRACT = {"rank": int, "code": str, "kind": str, "severity": str, "score": float,
            "run": str, "metric": str, "step_start": int, "step_end": int, "message": str,
            "evidence": dict, "hint": str}


def test_json_output_validates_against_the_contract():
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 1  # errors found, default --fail-on error
    doc = json.loads(result.stdout)
    assert list(doc) == ["version", "runs", "findings", "errors"] and doc["version"] == 1
    for run in doc["runs"]:
        assert list(run) == ["run", "path", "format", "metrics"]
        for m in run["metrics"].values():
            assert list(m) == ["points", "first_step", "last_step"]
    kinds = {"LD101": "nan", "LD102": "divergence", "LD201": "spike", "LD202": "oscillation",
             "LD301": "plateau", "LD401": "overfitting"}
    for f in doc["findings"]:
        assert list(f) == list(CONTRACT)
        for key, typ in CONTRACT.items():
            assert isinstance(f[key], typ), (key, f)
        assert f["severity"] in ("error", "warning", "info") and 0 <= f["score"] <= 1
        assert kinds.get(f["code"], "info") == f["kind"]
        assert f["step_start"] <= f["step_end"]
    assert doc["errors"] == []


def test_exit_codes_fail_on_select_ignore(tmp_path):
    runner = CliRunner()
    base = ["check", str(SAMPLE_LOGS), "--format", "json"]
    assert runner.invoke(cli, base + ["--exit-zero"]).exit_code == 0
    assert runner.invoke(cli, base + ["--ignore", "LD1"]).exit_code == 0  # warnings only
    assert runner.invoke(cli, base + ["--ignore", "LD1", "--fail-on", "warning"]).exit_code == 1
    only = json.loads(runner.invoke(cli, base + ["--select", "LD4"]).stdout)["findings"]
    assert {f["code"] for f in only} == {"LD401"}
    # the longer prefix wins; on a tie ignore wins
    mixed = json.loads(runner.invoke(cli, base + ["--select", "LD5,LD502", "--ignore", "LD5"])
                       .stdout)["findings"]
    assert {f["code"] for f in mixed} == {"LD502"}
    healthy = runner.invoke(cli, ["check", str(SAMPLE_LOGS / "tensorboard" / "healthy")])
    assert healthy.exit_code == 0 and "no warnings or errors in 1 run" in healthy.stdout


def test_text_report_fits_80_columns_and_o_file(tmp_path):
    out = tmp_path / "report.txt"
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "-o", str(out)])
    assert result.exit_code == 1 and result.stdout == ""
    text = out.read_text()
    assert "LD102" in text and "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    quiet = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "-q"]).stdout
    assert "hint:" not in quiet and "LD101" in quiet


def test_config_from_pyproject_and_setup_cfg(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.loss_doctor]\nignore = ["LD1"]\nfail-on = "warning"\n'
        '[tool.loss_doctor.spike]\nbig-ratio = 50\nz = 100\n')
    monkeypatch.chdir(project / "sub")  # found by walking up
    runner = CliRunner()
    doc = json.loads(runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json"]).stdout)
    codes = {f["code"] for f in doc["findings"]}
    assert not codes & {"LD101", "LD102", "LD201"}
    assert runner.invoke(cli, ["check", str(SAMPLE_LOGS)]).exit_code == 1  # fail-on warning
    # the command line wins over the file
    assert runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--fail-on", "error"]).exit_code == 0
    assert runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--isolated"]).exit_code == 1
    (project / "pyproject.toml").unlink()
    (project / "setup.cfg").write_text("[loss_doctor]\nselect = LD2\n[loss_doctor.spike]\n"
                                       "z = 100\nbig_ratio = 50\n")
    doc = json.loads(runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json"]).stdout)
    assert doc["findings"] == []


def test_bad_config_is_exit_2_with_one_line(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.loss_doctor.spike]\nheight = 3\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS)])
    assert result.exit_code == 2
    assert "spike has no parameter 'height'" in result.output
    assert "Traceback" not in result.output


def test_role_override_from_config(tmp_path, monkeypatch):
    run = tmp_path / "logs" / "r"
    write_events(run, [scalar_event("score_x", float("nan") if s > 5 else 1.0, s)
                       for s in range(10)])
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["check", "logs"]).exit_code == 0  # "other": not checked
    (tmp_path / "pyproject.toml").write_text(
        '[tool.loss_doctor.roles]\n"score_x" = "train_loss"\n')
    result = runner.invoke(cli, ["check", "logs"])
    assert result.exit_code == 1 and "LD101" in result.stdout
    assert "train_loss" in runner.invoke(cli, ["ls", "logs"]).stdout


def test_unreadable_files_are_listed_and_the_rest_checked(tmp_path):
    write_events(tmp_path / "good", [scalar_event("loss", 1.0 / (s + 1), s) for s in range(30)])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "events.out.tfevents.1.x").write_bytes(b"\x07" * 50)
    result = CliRunner().invoke(cli, ["check", str(tmp_path), "--format", "json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and [r["run"] for r in doc["runs"]] == ["good"]
    assert doc["errors"][0]["path"].endswith("events.out.tfevents.1.x")
    assert "events.out.tfevents.1.x" in result.stderr


def test_in_a_sweep_the_run_that_blew_up_comes_first():
    from loss_doctor import datasets as ds
    from loss_doctor.config import Config
    from loss_doctor.diagnosis import diagnose_frame

    runs = {f"sweep/lr_{i}": ds.healthy(seed=i) for i in range(6)}
    runs["sweep/lr_9"] = ds.blowup_after_warmup(seed=9)
    runs["sweep/lr_7"] = ds.spike_at(seed=7)
    findings = diagnose_frame(ds.as_frame(runs), Config())
    assert (findings[0].run, findings[0].code) == ("sweep/lr_9", "LD102")
    assert (findings[1].run, findings[1].code) == ("sweep/lr_7", "LD201")
    assert all(f.severity == "info" for f in findings[2:])


def test_no_color_and_color_flags():
    runner = CliRunner()
    coloured = runner.invoke(cli, ["--color", "check", str(SAMPLE_LOGS)]).stdout
    assert "\x1b[" in coloured
    plain = runner.invoke(cli, ["check", str(SAMPLE_LOGS)], env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in plain
    forced = runner.invoke(cli, ["--color", "check", str(SAMPLE_LOGS)],
                           env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" in forced  # the flag overrides the environment


def test_parallel_check_gives_the_same_result_as_sequential(tmp_path):
    runner = CliRunner()
    base = ["check", str(SAMPLE_LOGS), "--format", "json"]
    one = runner.invoke(cli, base + ["--jobs", "1"]).stdout
    two = runner.invoke(cli, base + ["--jobs", "2"]).stdout
    assert one == two
    with_report = runner.invoke(cli, base + ["--report", str(tmp_path / "r")]).stdout
    assert json.loads(with_report)["findings"] == json.loads(one)["findings"]
    assert json.loads(with_report)["runs"] == json.loads(one)["runs"]
