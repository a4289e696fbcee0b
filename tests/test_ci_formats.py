"""The CI formats: GitHub workflow commands, SARIF 2.1.0, JUnit XML, Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from loss_doctor.check import CheckOptions, CheckResult
from loss_doctor.cli import cli
from loss_doctor.findings import Finding, step_bucket
from loss_doctor.report import github, markdown, sarif
from loss_doctor.report.common import fingerprint

from .conftest import SAMPLE_LOGS


def run_cli(*args, env=None):
    return CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), *args], env=env,
                              catch_exceptions=False)


def test_github_escaping():
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_github_commands_and_step_summary(tmp_path):
    summary = tmp_path / "summary.md"
    result = run_cli("--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith("::error file=sample_logs/lightning/lightning_logs/version_1/"
                               "metrics.csv,line=1,title=LD101 nan%3A ")
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    assert len(lines) == 5  # 2 errors, 3 warnings; the 32 info findings not listed
    assert "39%25 above its minimum" in result.stdout  # % escaped in the message
    text = summary.read_text()
    assert text.startswith("## loss-doctor") and text.count("\n| ") == 1 + 5  # header, 5 rows
    assert "2 errors, 3 warnings, 32 info" in text  # counted, not listed
    assert "32 info finding(s) not listed (--show-info)" in text
    summary.unlink()
    result = run_cli("--format", "github", "--show-info",
                     env={"GITHUB_STEP_SUMMARY": str(summary)})
    lines = result.stdout.splitlines()
    notices = [line for line in lines if line.startswith("::notice file=")]
    assert len(notices) == 10  # 32 info findings: 10 shown
    assert "22 more notice finding(s)" in lines[-1]
    assert summary.read_text().count("\n| ") >= 37


def _finding(i, severity="warning"):
    return Finding(code="LD201", kind="spike", severity=severity, score=0.5, run=f"r{i}",
                   metric="loss|x", step_start=i, step_end=i, message=f"m{i}\nline", rank=i)


def test_github_at_most_ten_per_level():
    result = CheckResult.of([_finding(i) for i in range(25)])
    out = github.GithubReporter().render(result, CheckOptions()).splitlines()
    assert sum(line.startswith("::warning") for line in out) == 10
    assert out[-1].startswith("::notice title=loss-doctor::15 more warning")


def test_markdown_escapes_cells():
    text = markdown.MarkdownReporter().render(CheckResult.of([_finding(1)]), CheckOptions())
    assert "<code>loss&#124;x</code>" in text and "m1 line" in text


def test_sarif_required_fields_and_stable_fingerprints():
    doc = json.loads(run_cli("--format", "sarif").stdout)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "loss-doctor"
    rule_ids = {r["id"] for r in driver["rules"]}
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert len(run["results"]) == 5  # info findings only with --show-info
    everything = json.loads(run_cli("--format", "sarif", "--show-info").stdout)["runs"][0]
    assert len(everything["results"]) == 37
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("sample_logs/")
        assert loc["region"]["startLine"] == 1
        assert len(result["partialFingerprints"]["lossDoctorFinding/v1"]) == 32
    again = json.loads(run_cli("--format", "sarif").stdout)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in again] == \
        [r["partialFingerprints"] for r in run["results"]]
    assert sarif.LEVEL["info"] == "note"


def test_junit_parses_one_case_per_run_and_detector():
    result = run_cli("--format", "junit", "--fail-on", "warning")
    suite = ET.fromstring(result.stdout)
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == 10 * 10  # 10 runs x 10 detectors
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) == 5
    assert {c.get("classname") for c in failed} == {
        "lightning/lightning_logs/version_1", "tensorboard/lr_too_high", "hf/too_little_data",
        "tensorboard/lr_far_too_high", "jsonl/corrupted_batch"}
    assert failed[0].find("failure").get("type").startswith("LD")


def test_step_bucket_tolerates_small_moves():
    assert step_bucket(130) == step_bucket(135) == 128
    assert step_bucket(0) == 0 and step_bucket(7) == 7
    from dataclasses import replace

    a = _finding(130)
    assert fingerprint(a) == fingerprint(replace(a, step_start=135, step_end=140))
    assert fingerprint(a) != fingerprint(replace(a, step_start=300))
    assert fingerprint(a) != fingerprint(replace(a, metric="other"))


def test_junit_and_markdown_list_info_findings_only_when_asked():
    plain = run_cli("--format", "junit", "--fail-on", "warning").stdout
    shown = run_cli("--format", "junit", "--fail-on", "warning", "--show-info").stdout
    assert "[info]" not in plain and "[info]" in shown
    md = run_cli("--format", "markdown").stdout
    assert "info" in md.splitlines()[2] and "🔵" not in md
    assert "🔵" in run_cli("--format", "markdown", "--show-info").stdout


def test_a_code_that_matches_no_detector_is_a_usage_error(tmp_path, monkeypatch):
    for args in (["--select", "LD9"], ["--ignore", "LD10l"], ["--select", "LD1,XY"]):
        result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--isolated", *args])
        assert result.exit_code == 2, args
        assert "no detector has such a code (codes: LD101, LD102" in result.stderr
        assert result.stderr.count("\n") == 1
    (tmp_path / "pyproject.toml").write_text('[tool.loss_doctor]\nignore = ["LD6"]\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS)])
    assert result.exit_code == 2 and "ignore LD6: no detector" in result.stderr
    import loss_doctor

    with pytest.raises(loss_doctor.errors.LossDoctorError, match="select LD7"):
        loss_doctor.diagnose(str(SAMPLE_LOGS / "tensorboard" / "healthy"), select=["LD7"])
