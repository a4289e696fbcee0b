"""Every file of the broken-input corpus gives its expected outcome.

The corpus is ``tests/data/broken/`` (made by its ``generate.py``): one run
per case.  The expectations below are written by hand from what the file holds
(which points survive the damage, which error is reported and where), not
from what the readers happen to do.  The event files hold ``loss`` at steps
0..11; their record 7 (the step-6 record) starts at byte 290 and is 42 bytes.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor.cli import cli

from .conftest import ROOT

CORPUS = ROOT / "tests" / "data" / "broken"
sys.path.insert(0, str(CORPUS))
import generate  # noqa: E402

EV = [float(np.float32(1 - 0.05 * s)) for s in range(12)]
R7, R8 = 290, 332  # byte offsets of the step-6 record and the next one


def ev(*steps):
    return {"loss": {s: EV[s] for s in steps}}


NAN, INF = math.nan, math.inf
CUT_NOTE = "last record incomplete"

# case: (points {metric: {step: value}}, error (message part, offset/line) or None,
#        note part or None)
EXPECTED = {
    "good": (ev(*range(12)), None, None),
    # a job killed mid-write: every complete record before the cut, noted, no error
    "ev_cut_at_record_end": (ev(*range(6)), None, None),
    "ev_cut_in_length": (ev(*range(6)), None, f"{CUT_NOTE} (5 bytes at byte {R7})"),
    "ev_cut_in_length_crc": (ev(*range(6)), None, f"{CUT_NOTE} (10 bytes at byte {R7})"),
    "ev_cut_in_payload": (ev(*range(6)), None, f"{CUT_NOTE} (25 of 42 bytes at byte {R7})"),
    "ev_cut_in_payload_crc": (ev(*range(6)), None, f"{CUT_NOTE} (40 of 42 bytes at byte {R7})"),
    # flipped bits: the damaged record is lost, and only it
    "ev_flip_length": (ev(0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
                       (f"length checksum mismatch: 42 bytes could not be framed and were "
                        f"skipped; reading resumed at byte {R8}", R7), None),
    "ev_flip_length_crc": (ev(0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
                           ("length checksum mismatch", R7), None),
    "ev_flip_payload": (ev(0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
                        ("payload checksum mismatch in 1 record(s)", R7), None),
    "ev_flip_payload_crc": (ev(0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11),
                            ("payload checksum mismatch in 1 record(s)", R7), None),
    "ev_zero_length": ({}, None, "empty (0 bytes)"),
    "ev_random_bytes": (None, ("not an event file: no sound TFRecord framing in its 4096 "
                               "bytes", 0), None),
    "ev_not_events": (None, ("6 record(s) with valid checksums, but none is a TensorBoard "
                             "Event", 0), None),
    # a length field claiming 2 GB in a 542-byte file: the rest is an unfinished record
    "ev_claims_2gb": (ev(*range(6)), None, f"{CUT_NOTE} (252 of 2147483664 bytes"),
    "ev_resumed_one_damaged": (ev(*range(11)), None, f"{CUT_NOTE} (33 of 42 bytes"),
    "csv_ragged_short": ({"loss": {0: 1.0, 1: 0.9, 2: 0.8}, "acc": {0: 0.1, 2: 0.3}},
                         None, None),
    "csv_ragged_long": ({"loss": {0: 1.0, 2: 0.8, 3: 0.7}},
                        ("4 cells where the header has 2; row skipped", 3), None),
    "csv_garbage_line": ({"loss": {0: 1.0, 1: 0.9, 2: 0.8}}, None,
                         "1 line(s) with no number in any cell skipped (print output?), "
                         "first at line 4: 'Epoch 2: saving checkpoint'"),
    "csv_repeated_header": ({"loss": {0: 1.0, 1: 0.9, 2: 0.8, 3: 0.7}}, None,
                            "header repeated 1 time(s), first at line 4"),
    "csv_bom": ({"loss": {0: 1.0, 1: 0.9}}, None, None),
    "csv_semicolon": ({"loss": {0: 1.0, 1: 0.9, 2: 0.8}}, None, None),
    "csv_non_numeric": ({"loss": {0: 1.0, 2: 0.8, 3: 0.7}, "acc": {1: 0.2}},
                        ("column 'loss': 'oops' is not a number (1 such cell(s) skipped)", 3),
                        None),
    "csv_quoted": ({"loss": {0: 1.0, 1: 0.9}}, None, None),
    "csv_enormous": ({"loss": {0: INF, 1: -INF, 2: 1e308, 3: 0.4}},
                     ("column 'step': '99999999999999999999' is not a step", 5), None),
    "csv_nan_spellings": ({"loss": {0: NAN, 1: NAN, 2: NAN, 3: NAN, 4: INF, 5: -INF, 6: INF,
                                    7: -INF, 8: INF, 9: INF, 10: INF, 11: NAN, 12: NAN,
                                    13: 0.5}}, None, None),
    "csv_header_only": ({}, None, "header only: no rows yet"),
    "csv_cut_mid_number": ({"loss": {0: 1.0, 1: 0.9}}, None,
                           "last row incomplete (no line end)"),
    "jsonl_broken_line": ({"loss": {0: 1.0, 2: 0.8}}, ("not JSON (", 2), None),
    "jsonl_print_interleaved": ({"loss": {0: 1.0, 1: 0.9, 2: 0.8}}, None,
                                "3 line(s) that are not JSON skipped (print output?), first "
                                "at line 1: 'loading data...'"),
    "jsonl_non_object": ({"loss": {0: 1.0, 1: 0.9}},
                         ("a JSON list, not an object; line skipped; 3 more problem(s) at "
                          "line 3, line 4, line 5", 2), None),
    "jsonl_nested": ({"train/loss": {0: 1.0, 1: 0.9}, "train/acc/top1": {0: 0.1, 1: 0.2}},
                     None, None),
    "jsonl_duplicate_keys": ({"loss": {0: 2.0, 1: 0.9}}, None, None),  # the last key wins
    "jsonl_non_utf8": ({"loss": {0: 1.0, 1: 0.9, 2: 0.8}},
                       ("bytes that are not UTF-8 (invalid start byte) at column 35", 2), None),
    "jsonl_nan_inf": ({"loss": {0: NAN, 1: INF, 2: -INF, 4: 0.5}}, None, None),
    "hf_no_log_history": (None, ("no 'log_history' list: not a Trainer state file", None),
                          None),
    "hf_log_history_not_list": (None, ("no 'log_history' list", None), None),
    "hf_entries_missing_step": ({"loss": {10: 1.0, 20: 0.8}},
                                ("3 log_history entries skipped: 2 without a numeric 'step', "
                                 "1 not an object", None), None),
    "hf_not_json": (None, ("not JSON: Expecting value", 1), None),
}


def _points(df, run):
    part = df[df.run == run]
    out: dict[str, dict[int, float]] = {}
    for metric, step, value in zip(part.metric.astype(str), part.step, part.value):
        out.setdefault(metric, {})[int(step)] = float(value)
    return out


def _same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for metric in a:
        if a[metric].keys() != b[metric].keys():
            return False
        for step, value in a[metric].items():
            other = b[metric][step]
            if not (value == other or (math.isnan(value) and math.isnan(other))):
                return False
    return True


@pytest.fixture(scope="module")
def frame():
    return parsers.read_logdir(CORPUS)


def test_every_case_has_an_expectation():
    cases = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert cases - {"looks_like_logs"} == set(EXPECTED)


def test_the_committed_corpus_is_what_the_generator_writes(tmp_path):
    generate.write_corpus(str(tmp_path))
    for folder in tmp_path.iterdir():
        for path in folder.iterdir():
            assert path.read_bytes() == (CORPUS / folder.name / path.name).read_bytes(), path


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case(frame, case):
    points, error, note = EXPECTED[case]
    runs = frame.attrs["runs"]
    errors = [e for e in frame.attrs["errors"] if f"/{case}/" in e["path"]]
    if points is None:  # nothing readable: the run is absent, the file reported
        assert case not in runs
    else:
        assert _same(_points(frame, case), points), _points(frame, case)
    if error is None:
        assert errors == []
    else:
        message, where = error
        (err,) = errors  # one line per bad file
        assert message in err["message"], err
        if where is not None:
            assert err.get("offset", err.get("line")) == where, err
    notes = " | ".join(runs[case]["notes"]) if case in runs else ""
    if note is None:
        assert notes == ""
    else:
        assert note in notes


def test_files_that_only_look_like_logs_are_not_runs(frame):
    assert not any(r.startswith("looks_like_logs") for r in frame.attrs["runs"])
    assert not any("looks_like_logs" in e["path"] for e in frame.attrs["errors"])


def test_check_on_the_corpus_reads_the_rest_and_never_tracebacks(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(CORPUS), "--format", "json", "--isolated",
                                      "--no-cache", "-j", "2"])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    doc = json.loads(result.stdout)
    with_errors = {e["path"] for e in doc["errors"]}
    assert len(with_errors) == len(doc["errors"])  # one per file
    stderr_lines = [line for line in result.stderr.splitlines() if line]
    assert len(stderr_lines) == len(doc["errors"])
    assert all(line.startswith("loss-doctor: ") and str(CORPUS) in line
               for line in stderr_lines)
    assert "good" in {r["run"] for r in doc["runs"]}


def test_only_unreadable_input_exits_2(tmp_path):
    for case in ("ev_random_bytes", "hf_not_json"):
        shutil.copytree(CORPUS / case, tmp_path / case)
    result = CliRunner().invoke(cli, ["check", str(tmp_path), "--isolated"])
    assert result.exit_code == 2
    assert "no file could be read" in result.stderr and "Traceback" not in result.output


def test_special_cases(tmp_path):
    """A directory symlink loop, a dangling event-file symlink and a file no one
    may read (skipped when running as root, who may read anything)."""
    special = generate.make_special(str(tmp_path))
    df = parsers.read_logdir(tmp_path)
    assert _same(_points(df, "symlink_loop/run"), ev(*range(12)))
    assert len(df.attrs["runs"]) == 1 + (os.geteuid() == 0)  # root reads the 000 file
    (dangling,) = [e for e in df.attrs["errors"] if "dangling" in e["path"]]
    assert "No such file or directory" in dangling["message"]
    if os.geteuid() != 0:
        (denied,) = [e for e in df.attrs["errors"] if "unreadable" in e["path"]]
        assert "Permission denied" in denied["message"]
    assert special


def test_a_file_that_grows_while_it_is_read(tmp_path, monkeypatch):
    """Bytes appended after the reader opened the file are not waited for: the
    file is read to the size it had, and a record cut there is noted."""
    from parsers.tfevents import reader as tensorboard

    data = generate.frame(generate.scalar_payloads())
    offsets = generate.record_offsets(data)
    path = tmp_path / generate.EVENTS
    path.write_bytes(data[:offsets[5] + 7])  # records 0..4 and 7 bytes of record 5
    monkeypatch.setattr(tensorboard, "CHUNK", 64)
    real_open = tensorboard.storage.open_binary

    class Growing:
        def __init__(self, p):
            self.fh, self.grown = real_open(p), False

        def read(self, n):
            out = self.fh.read(n)
            if not self.grown:  # the writer flushes the rest after the first read
                with open(path, "ab") as w:
                    w.write(data[offsets[5] + 7:])
                self.grown = True
            return out

        def fileno(self):
            return self.fh.fileno()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(tensorboard.storage, "open_binary", Growing)
    result = tensorboard.read_event_file(str(path))
    steps = result.step.tolist()
    # what was there when it was opened (steps 0..3), and at most the rest of the
    # last chunk read; never an error, never a wait for the writer
    assert steps == list(range(len(steps))) and 4 <= len(steps) <= 6
    assert not result.errors and all("last record incomplete" in n for n in result.notes)
    # read again once the writer is done: everything
    monkeypatch.setattr(tensorboard.storage, "open_binary", real_open)
    assert tensorboard.read_event_file(str(path)).step.tolist() == list(range(12))


def _snapshot(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_mtime_ns, st.st_size, st.st_mode)
    st = os.stat(root)
    out[str(root)] = (st.st_mtime_ns, st.st_size, st.st_mode)
    return out


def test_nothing_in_the_log_directory_is_written_or_touched(tmp_path, monkeypatch):
    """Every command, on the messy corpus and the sample logs, with the cache on
    and a report written elsewhere: the listing, sizes, modes and mtimes of the
    log directories are the same afterwards."""
    monkeypatch.chdir(tmp_path)
    roots = [CORPUS, ROOT / "sample_logs"]
    before = {str(r): _snapshot(r) for r in roots}
    runner = CliRunner()
    for args in (["ls"], ["check", "--exit-zero", "--report", str(tmp_path / "report"),
                          "-j", "2"],
                 ["check", "--exit-zero", "--format", "sarif", "-o", str(tmp_path / "x.sarif")],
                 ["export", "-o", str(tmp_path / "all.csv")]):
        result = runner.invoke(cli, [args[0], *map(str, roots), *args[1:]])
        assert result.exit_code == 0, result.output
    parsers.read_logdir(CORPUS, cache=True)
    assert {str(r): _snapshot(r) for r in roots} == before


def test_a_directory_without_logs_is_exit_2_not_a_clean_pass(tmp_path):
    (tmp_path / "looks").mkdir()
    shutil.copytree(CORPUS / "looks_like_logs", tmp_path / "looks", dirs_exist_ok=True)
    for command in ("check", "ls"):
        result = CliRunner().invoke(cli, [command, str(tmp_path)])
        assert result.exit_code == 2
        assert f"no training logs found in {tmp_path}" in result.stderr
