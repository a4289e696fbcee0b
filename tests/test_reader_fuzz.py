"""Property tests over every reader: random bytes and damaged copies of valid
files give data or a ParseError, never another exception, a hang or a huge
allocation.  (Event files have their own, stricter, mutation test:
``test_event_mutations.py``.)"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import parsers
from parsers.csvlog import read_csv
from parsers.hf_trainer import read_trainer_state
from parsers.jsonl import read_jsonl
from parsers.mlflow import read_mlflow
from parsers.stdout import read_stdout
from parsers.tfevents import read_event_file
from parsers.tfevents.crc32c import masked_crc32c
from parsers.wandb import read_wandb

from .conftest import ROOT

CORPUS = ROOT / "tests" / "data" / "broken"
READERS = {
    "events.out.tfevents.1700000000.fuzz": (read_event_file, CORPUS / "good"
                                            / "events.out.tfevents.1700000000.corpus"),
    "metrics.csv": (read_csv, ROOT / "sample_logs" / "keras" / "head_on_minilm"
                    / "training.log"),
    "metrics.jsonl": (read_jsonl, ROOT / "sample_logs" / "jsonl" / "corrupted_batch"
                      / "metrics.jsonl"),
    "trainer_state.json": (read_trainer_state, ROOT / "sample_logs" / "hf" / "too_little_data"
                           / "trainer_state.json"),
    "run-fuzz.wandb": (read_wandb, next((ROOT / "tests" / "data" / "wandb" / "wandb").glob(
        "*healthy1/run-healthy1.wandb"))),
    "train.log": (read_stdout, ROOT / "tests" / "data" / "stdout" / "word_language_model"
                  / "slurm-123.out"),
    "loss": (read_mlflow, next((ROOT / "tests" / "data" / "mlflow" / "file_store").glob(
        "mlruns/*/*/metrics/train/loss"))),
}
SETTINGS = settings(max_examples=150, deadline=5000, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _read(tmp_path, name: str, data: bytes):
    reader, _ = READERS[name]
    path = tmp_path / name
    path.write_bytes(data)
    try:
        return reader(str(path))
    except parsers.ParseError as err:
        assert err.path == str(path) and err.reason and "\n" not in str(err)
        return None


@SETTINGS
@given(name=st.sampled_from(sorted(READERS)), data=st.binary(max_size=4000))
def test_random_bytes(tmp_path, name, data):
    _read(tmp_path, name, data)


@SETTINGS
@given(name=st.sampled_from(sorted(READERS)), cut=st.integers(0, 1 << 16),
       edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255),
                                st.sampled_from(["flip", "insert", "delete"])), max_size=6))
def test_damaged_valid_files(tmp_path, name, cut, edits):
    data = bytearray(READERS[name][1].read_bytes()[:20000])
    data = data[:cut % (len(data) + 1)]
    for pos, byte, how in edits:
        if not data:
            break
        at = pos % len(data)
        if how == "flip":
            data[at] ^= byte or 1
        elif how == "insert":
            data.insert(at, byte)
        else:
            del data[at]
    result = _read(tmp_path, name, bytes(data))
    if result is not None:
        assert len(result.step) == len(result.value) == len(result.metric)


def _peak_mb(func) -> float:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def test_a_length_claiming_2gb_is_not_allocated(tmp_path):
    """A sound-looking header (its checksum matches) claiming 2 GB, followed by
    40 MB of bytes: the reader keeps what came before and never holds more than
    a chunk or two."""
    good = (CORPUS / "good" / "events.out.tfevents.1700000000.corpus").read_bytes()
    header = struct.pack("<Q", 2 ** 31)
    path = tmp_path / "events.out.tfevents.1.big"
    with open(path, "wb") as fh:
        fh.write(good + header + struct.pack("<I", masked_crc32c(header)))
        for _ in range(40):
            fh.write(b"\0" * (1 << 20))
    result = {}
    peak = _peak_mb(lambda: result.setdefault("data", read_event_file(str(path))))
    data = result["data"]
    assert len(data.step) == 12 and "of 2147483664 bytes" in data.notes[0]
    assert peak < 40, peak


def test_a_huge_json_line_is_skipped_without_holding_it(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with open(path, "wb") as fh:
        fh.write(b'{"step": 0, "loss": 1.0}\n{"step": 1, "blob": "')
        for _ in range(30):
            fh.write(b"x" * (1 << 20))
        fh.write(b'"}\n{"step": 2, "loss": 0.8}\n')
    result = {}
    peak = _peak_mb(lambda: result.setdefault("data", read_jsonl(str(path))))
    data = result["data"]
    assert data.step.tolist() == [0, 2]
    (err,) = data.errors
    assert err.line == 2 and "longer than 1 MB" in err.reason
    assert peak < 8, peak


def test_many_runs_under_a_low_open_file_limit(tmp_path):
    """600 runs of 3 files each read and checked with at most 64 open files:
    every file is closed as soon as it is read, in this process and in the
    pool's workers."""
    good = (CORPUS / "good" / "events.out.tfevents.1700000000.corpus").read_bytes()
    for run in range(600):
        folder = tmp_path / "logs" / f"run_{run:03d}"
        folder.mkdir(parents=True)
        (folder / "events.out.tfevents.1700000000.a").write_bytes(good)
        (folder / "events.out.tfevents.1700000100.b").write_bytes(good[:-5])
        (folder / "notes.txt").write_text("not a log")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, "
            "resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
            "from loss_doctor.cli import main; main(sys.argv[1:])")
    for jobs in ("1", "2"):
        result = subprocess.run([sys.executable, "-c", code, "check", str(tmp_path / "logs"),
                                 "--format", "json", "--exit-zero", "--no-cache", "-j", jobs],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        doc = json.loads(result.stdout)
        assert len(doc["runs"]) == 600 and doc["errors"] == []
