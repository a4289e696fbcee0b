"""The hostile-tree corpus (``tests/data/hostile/generate.py``) through the
real command, as a user's shell runs it: each output format in a subprocess
with a timeout and an address-space limit, its peak memory measured.

Every run must: finish (no hang), exit 0 or 1 (no traceback, no usage
error), stay within the memory bound, diagnose the good runs beside the bad
files, name every bad file, print no raw control character in any text
output, keep the CI formats well-formed, and leave every input byte as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from .conftest import load_script

HERE = os.path.dirname(os.path.abspath(__file__))


generate = load_script(os.path.join(HERE, "data", "hostile", "generate.py"), "hostile_generate")

ADDRESS_SPACE = 4 << 30  # the child may map 4 GiB (numpy, pandas and a pool of workers fit)
PEAK_RSS = 400 << 20  # and its resident peak, or any worker's, stays under 400 MiB
TIMEOUT = 120
CONTROL = [chr(c) for c in range(32) if chr(c) not in "\n\t"] + ["\x7f", "\u202e"]

RUNNER = """
import os, resource, sys
limit = int(os.environ["LD_TEST_AS"])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from loss_doctor.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    with open(os.environ["LD_TEST_PEAK"], "w") as fh:
        fh.write(str(peak * 1024))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile") / "logs")
    built = generate.build(root)
    before = generate.snapshot(root)
    yield root, built, before
    generate.remove(root, built)
    shutil.rmtree(root, ignore_errors=True)


def run_cli(args, tmp_path):
    peak_file = tmp_path / "peak"
    env = {**os.environ, "NO_COLOR": "1", "LD_TEST_AS": str(ADDRESS_SPACE),
           "LD_TEST_PEAK": str(peak_file), "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True,
                            timeout=TIMEOUT, env=env, cwd=tmp_path)
    peak = int(peak_file.read_text())
    return result, peak


def assert_clean(result, peak):
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert peak < PEAK_RSS, f"peak RSS {peak >> 20} MiB"


def assert_no_control(text: str, what: str):
    found = sorted({repr(c) for c in text if c in CONTROL})
    assert not found, f"{what} holds raw {found}"


def test_json_names_every_bad_file_and_diagnoses_the_good_runs(corpus, tmp_path):
    root, built, before = corpus
    result, peak = run_cli(["check", root, "--format", "json", "--isolated"], tmp_path)
    assert_clean(result, peak)
    doc = json.loads(result.stdout)
    runs = {r["run"]: r["metrics"] for r in doc["runs"]}
    for run, points in built["runs"].items():
        assert runs[run]["loss"]["points"] == points, run
    assert any("good" == f["run"] for f in doc["findings"]) or runs["good"]
    messages = {}
    for e in doc["errors"]:
        path = e["path"]
        messages.setdefault(os.path.basename(path), []).append(e["message"])
        messages.setdefault(os.path.basename(os.path.dirname(path)), []).append(e["message"])
        if path.endswith("locked"):
            messages.setdefault("locked", []).append(e["message"])
    for name, words in built["errors"].items():
        assert any(words in m for m in messages.get(name, [])), (name, messages.get(name))
    assert generate.snapshot(root) == before


@pytest.mark.parametrize("fmt", ["text", "markdown", "github"])
def test_text_outputs_hold_no_raw_control_character(corpus, tmp_path, fmt):
    root, built, before = corpus
    result, peak = run_cli(["check", root, "--format", fmt, "--isolated", "--show-info"],
                           tmp_path)
    assert_clean(result, peak)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert_no_control(out, f"{fmt} stdout")
    assert_no_control(err, f"{fmt} stderr")
    assert "\nLD101 fake" not in out
    assert "\\x1b" in out  # the names are there, escaped
    assert generate.snapshot(root) == before


def test_ls_holds_no_raw_control_character(corpus, tmp_path):
    root, _, before = corpus
    result, peak = run_cli(["ls", root], tmp_path)
    assert_clean(result, peak)
    assert_no_control(result.stdout.decode(), "ls stdout")
    assert_no_control(result.stderr.decode(), "ls stderr")
    assert "bad_\\xff_name" in result.stdout.decode()
    assert generate.snapshot(root) == before


def test_ci_formats_stay_well_formed(corpus, tmp_path):
    root, _, before = corpus
    result, peak = run_cli(["check", root, "--format", "sarif", "--isolated"], tmp_path)
    assert_clean(result, peak)
    sarif = json.loads(result.stdout)
    assert sarif["runs"][0]["results"]
    result, peak = run_cli(["check", root, "--format", "junit", "--isolated"], tmp_path)
    assert_clean(result, peak)
    cases = list(ET.fromstring(result.stdout).iter("testcase"))
    assert cases
    assert generate.snapshot(root) == before


def test_outputs_aimed_at_the_logs_are_refused_before_any_work(corpus, tmp_path):
    root, _, before = corpus
    log = os.path.join(root, "good", generate.EVENTS)
    for args in generate.aimed_outputs(root, log):
        result, _ = run_cli(args, tmp_path)
        stderr = result.stderr.decode()
        assert result.returncode == 2, (args, stderr)
        assert stderr.startswith("loss-doctor: error: ") and stderr.count("\n") == 1, stderr
    assert generate.snapshot(root) == before
    assert not [n for n in os.listdir(os.path.dirname(root)) if n.endswith(".tmp")]


def test_markdown_cells_escape_markup_and_control_characters():
    """Names and messages in a Markdown table: no column break, link, emphasis,
    strike-through or code span of their own; control characters and bidi
    overrides escaped as in the text output."""
    from loss_doctor.report.markdown import cell, code

    assert cell("a|b ~~x~~ [l](javascript:x) *e* `c`\nnext\x1b[2J\u202e") == (
        "a\\|b \\~\\~x\\~\\~ \\[l\\](javascript:x) \\*e\\* \\`c\\` next\\\\x1b\\[2J\\\\u202e")
    assert code("m|x\x07<b>") == "<code>m&#124;x\\x07&lt;b&gt;</code>"


def test_read_logdir_lists_the_bad_files_on_the_frame(corpus, tmp_path):
    """The same tree through ``parsers.read_logdir`` (the notebook's way in):
    the good points in the frame, every bad file in ``df.attrs["errors"]``,
    never a RecursionError or OverflowError."""
    root, built, before = corpus
    code = ("import json, sys, parsers; df = parsers.read_logdir(sys.argv[1]); "
            "print(json.dumps({'points': df.groupby('run', observed=True).size().to_dict(), "
            "'errors': df.attrs['errors']}))")
    out = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True).stdout
    doc = json.loads(out)
    for run, points in built["runs"].items():
        assert doc["points"][run] >= points, run
    named = " ".join(e["path"] + " " + (f"line {e['line']}: " if e.get("line") else "")
                     + e["message"] for e in doc["errors"])
    for name, words in built["errors"].items():
        assert name in named and words in named, name
    assert generate.snapshot(root) == before
