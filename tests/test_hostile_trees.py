"""Hostile trees: one bad file never stops the check of the rest (issue 14,
its second class): JSON nested 100,000 deep, numbers beyond a double or an
int64, a directory name that is not UTF-8, a tree 1,000 levels deep."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from loss_doctor.cli import cli

from .conftest import ROOT, load_script, scalar_event, write_events

HOSTILE = load_script(ROOT / "tests" / "data" / "hostile" / "generate.py", "hostile_generate")


def test_one_bad_file_never_stops_the_rest(tmp_path):
    """The hostile corpus's tree (tests/data/hostile/generate.py), checked in
    this process: each bad file one error, each good run diagnosed."""
    root = tmp_path / "logs"
    built = HOSTILE.build(str(root))
    try:
        _check_tree(root)
    finally:
        HOSTILE.remove(str(root), built)


def _check_tree(root):
    result = CliRunner().invoke(cli, ["check", str(root), "--format", "json", "--isolated"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    runs = {r["run"]: r["metrics"] for r in doc["runs"]}
    assert runs["good"]["loss"]["points"] == 40
    assert runs["bad_\\xff_name"]["loss"]["points"] == 40  # shown escaped, read from the raw name
    assert runs["/".join(["deep"] + ["d"] * 1000)]["loss"]["points"] == 40
    assert runs["deep_jsonl"]["loss"]["points"] == 2
    assert runs["big_numbers"]["loss"]["points"] == 3
    assert runs["big_steps"]["loss"]["points"] == 2
    assert runs["big_hf"]["loss"]["points"] == 2
    errors = {os.path.basename(os.path.dirname(e["path"])): e["message"] for e in doc["errors"]}
    assert errors["deep_jsonl"] == "line 2: nested deeper than a JSON parser goes; line skipped"
    assert errors["deep_hf"] == "nested deeper than a JSON parser goes"
    assert errors["big_steps"].startswith("line 1: step 1e+300 does not fit in 64 bits")
    assert "1 with a step beyond 64 bits" in errors["big_hf"]
    text = CliRunner().invoke(cli, ["check", str(root), "--isolated"])
    assert text.exit_code in (0, 1) and "internal error" not in text.output


def test_numbers_beyond_a_double_are_infinities(tmp_path):
    import parsers

    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 1' + "0" * 400 + '}\n'
                                            '{"step": 2, "loss": -1' + "0" * 400 + "}\n")
    df = parsers.read_logdir(tmp_path)
    assert df.value.tolist() == [float("inf"), float("-inf")]


def test_no_output_is_written_over_or_into_the_logs(tmp_path):
    """Class 6: -o onto the input, onto a hard link of it, into a file PATH's
    run directory, a baseline onto an input, -o into a missing directory."""
    run = tmp_path / "logs" / "run"
    log = write_events(run, [scalar_event("loss", 1.0 / (s + 1), s) for s in range(40)])
    before = log.read_bytes()
    link = tmp_path / "elsewhere.txt"
    os.link(log, link)
    cases = [["check", str(log), "-o", str(log)],
             ["check", str(tmp_path / "logs"), "-o", str(link)],
             ["check", str(log), "--report", str(run / "report")],
             ["check", str(log), "--write-baseline", str(log)],
             ["export", str(log), "-o", str(run / "frame.csv")],
             ["check", str(tmp_path / "logs"), "-o", str(tmp_path / "missing" / "out.txt")]]
    for args in cases:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("loss-doctor: error: "), args
    assert log.read_bytes() == before and sorted(os.listdir(run)) == [log.name]
    out = tmp_path / "report.txt"
    assert CliRunner().invoke(cli, ["check", str(log), "-o", str(out)]).exit_code == 0
    assert out.read_text().startswith("1 run, 40 points")
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_names_never_reach_the_terminal_raw(tmp_path):
    """Class 3: control characters, ANSI escapes, newlines and bidi overrides
    in run and metric names are shown escaped in text, ls and stderr."""
    evil = "loss\x1b[2J\x1b]0;owned\x07\nLD101 fake\u202e"
    run = tmp_path / "logs" / "run\x1b[31m"
    run.mkdir(parents=True)
    rows = [{"step": s, evil: 1.0 / (s + 1) if s != 30 else float("nan")} for s in range(60)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows)
                                       + "{not json \x1b[31m\n")
    for args in (["check", str(tmp_path / "logs")], ["ls", str(tmp_path / "logs")]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code in (0, 1), result.output
        for stream in (result.stdout, result.stderr):
            assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
            assert "\nLD101 fake" not in stream
        assert "\\x1b" in result.stdout


def test_one_odd_step_does_not_break_the_axis(tmp_path):
    """Class 4: a string or float step among integer steps is named and
    skipped; the other steps stay the x axis."""
    import parsers

    lines = [{"step": s, "loss": 1.0 / (s + 1)} for s in range(50)]
    lines[10]["step"] = "ten"
    lines[20]["step"] = 20.5
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    df = parsers.read_logdir(tmp_path)
    (info,) = df.attrs["runs"].values()
    assert info["x_axis"] == "step"
    assert df.step.tolist() == [s for s in range(50) if s not in (10, 20)]
    (err,) = df.attrs["errors"]
    assert err["line"] == 11 and "not a whole number" in err["message"]
    assert "1 more problem(s) at line 21" in err["message"]


def test_utf16_and_gzip_csvs_are_read_not_passed_as_empty(tmp_path):
    """Class 5: Excel's UTF-16 CSV and a gzip file named metrics.csv are read;
    a damaged gzip is named."""
    import gzip

    import parsers

    text = "step,loss\n" + "".join(f"{s},{1 / (s + 1)}\n" for s in range(30))
    for name, data in (("utf16", text.encode("utf-16")), ("utf16be", b"\xfe\xff"
                                                            + text.encode("utf-16-be")),
                       ("gzipped", gzip.compress(text.encode()))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.csv").write_bytes(data)
    (tmp_path / "bad_gzip").mkdir()
    (tmp_path / "bad_gzip" / "metrics.csv").write_bytes(gzip.compress(text.encode())[:40])
    df = parsers.read_logdir(tmp_path)
    for name in ("utf16", "utf16be", "gzipped"):
        part = df[df.run == name]
        assert part.step.tolist() == list(range(30)), name
    (err,) = df.attrs["errors"]
    assert err["path"].endswith("bad_gzip/metrics.csv")
    assert err["message"].startswith("gzip-compressed, and the compression is damaged")


def test_a_directory_nobody_may_read_is_named(tmp_path):
    """Class 7 (root may read any directory, so this runs as another user only)."""
    import pytest

    import parsers

    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    write_events(tmp_path / "good", [scalar_event("loss", 1.0 / (s + 1), s) for s in range(30)])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        df = parsers.read_logdir(tmp_path)
    finally:
        locked.chmod(0o755)
    assert set(df.run) == {"good"}
    (err,) = df.attrs["errors"]
    assert err["path"] == str(locked) and "cannot be read" in err["message"]
