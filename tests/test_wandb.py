"""W&B run directories written by the real ``wandb`` (offline; tests/data/wandb/
generate.py), read without it and compared with what wandb's own protobuf
classes decode from the same logs (expected.json); damage; the fallback to
the printed output."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
from click.testing import CliRunner

import parsers
from loss_doctor import datasets as ds
from loss_doctor.cli import cli
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame

from .conftest import ROOT, scalar_event, write_events

DATA = ROOT / "tests" / "data" / "wandb"
EXPECTED = json.loads((DATA / "expected.json").read_text())


def _expected_run(folders):
    """Points of a run as wandb decodes its logs, the last write of a step kept."""
    out = {}
    for folder in folders:
        for step, row in EXPECTED[folder]:
            wall = row.get("_timestamp", math.nan)
            for key, value in row.items():
                if key not in ("_step", "_timestamp"):
                    out[(key, step)] = (value, wall)
    return out


def test_every_history_row_as_wandb_decodes_it():
    df = parsers.read_logdir(DATA)
    assert df.attrs["errors"] == []
    runs = {}
    for folder in EXPECTED:
        run_id = folder.rsplit("-", 1)[1]
        runs.setdefault(run_id, []).append(folder)
    assert len(df.run.unique()) == len(runs) == 4
    for run_id, folders in runs.items():
        name = sorted(folders)[0]
        part = df[df.run == name]
        want = _expected_run(sorted(folders))
        got = {(m, s): (v, w) for m, s, v, w in zip(part.metric.astype(str), part.step,
                                                      part.value, part.wall_time)}
        assert got.keys() == want.keys(), run_id
        keys = sorted(want)
        np.testing.assert_array_equal([got[k][0] for k in keys], [want[k][0] for k in keys])
        np.testing.assert_array_equal([got[k][1] for k in keys], [want[k][1] for k in keys])


def test_run_facts_resumed_runs_and_what_is_not_a_scalar():
    df = parsers.read_logdir(DATA)
    runs = df.attrs["runs"]
    (healthy,) = [r for r in runs if r.endswith("healthy1")]
    facts = runs[healthy]["wandb"]
    assert facts["config"] == {"lr": 3e-4, "batch_size": 16, "epochs": 3}
    assert (facts["name"], facts["run_id"], facts["project"]) == ("healthy", "healthy1",
                                                                  "finetune")
    (resumed,) = [r for r in runs if r.endswith("resume01")]
    assert runs[resumed]["replaced"] == {"_runtime": 40, "train/loss": 40}
    assert any("2 run directories" in n for n in runs[resumed]["notes"])
    (media,) = [r for r in runs if r.endswith("media001")]
    assert set(df[df.run == media].metric) == {"loss", "_runtime"}  # no histogram, no text
    nan = df[(df.run.astype(str).str.endswith("nanrun01")) & (df.metric == "train/loss")]
    assert np.isnan(nan.value.iloc[150]) and nan.value.iloc[-1] == math.inf


def _copy(tmp_path):
    shutil.copytree(DATA / "wandb", tmp_path / "wandb")
    return tmp_path / "wandb"


def test_a_cut_log_keeps_every_whole_record(tmp_path):
    runs = _copy(tmp_path)
    (log,) = runs.glob("*healthy1/run-healthy1.wandb")
    raw = log.read_bytes()
    log.write_bytes(raw[:len(raw) * 2 // 3])  # a run still being written
    df = parsers.read_logdir(tmp_path)
    assert df.attrs["errors"] == []
    part = df[(df.run.astype(str).str.endswith("healthy1")) & (df.metric == "train/loss")]
    assert 100 < len(part) < 240 and part.step.tolist() == list(range(len(part)))
    (info,) = [i for r, i in df.attrs["runs"].items() if r.endswith("healthy1")]
    assert any("still being written" in n for n in info["notes"])


def test_a_flipped_bit_loses_one_block_and_says_where(tmp_path):
    runs = _copy(tmp_path)
    (log,) = runs.glob("*healthy1/run-healthy1.wandb")
    raw = bytearray(log.read_bytes())
    assert len(raw) > 3 * 32768
    raw[40000] ^= 0x10  # in the second block
    log.write_bytes(bytes(raw))
    df = parsers.read_logdir(tmp_path)
    (err,) = df.attrs["errors"]
    assert err["path"] == str(log) and 32768 <= err["offset"] <= 40000
    assert "checksum mismatch" in err["message"] and "next block, at byte 65536" in err["message"]
    part = df[(df.run.astype(str).str.endswith("healthy1")) & (df.metric == "train/loss")]
    assert 150 < len(part) < 240 and part.step.max() == 239  # the blocks after it are read
    assert len(df.run.unique()) == 4


def test_an_unreadable_log_falls_back_to_the_printed_output(tmp_path):
    runs = _copy(tmp_path)
    (folder,) = runs.glob("*nanrun01")
    (folder / "run-nanrun01.wandb").write_bytes(b"garbage, not a transaction log")
    (folder / "files").mkdir()
    (folder / "files" / "output.log").write_text(
        "".join(f"step {s}: loss {1 / (s + 1):.4f}\n" for s in range(50)))
    result = CliRunner().invoke(cli, ["check", str(tmp_path), "--format", "json"])
    doc = json.loads(result.stdout)
    (run,) = [r for r in doc["runs"] if r["run"].endswith("nanrun01")]
    assert run["format"] == "stdout" and run["metrics"]["loss"]["points"] == 50
    (err,) = doc["errors"]
    assert err["path"].endswith("run-nanrun01.wandb") and "not a W&B transaction log" in \
        err["message"]
    info = parsers.read_logdir(tmp_path).attrs["runs"]
    (notes,) = [i["notes"] for r, i in info.items() if r.endswith("nanrun01")]
    assert any("read the printed output, files/output.log, instead" in n for n in notes)


def test_the_printed_output_of_a_readable_run_is_not_a_second_run(tmp_path):
    runs = _copy(tmp_path)
    (folder,) = runs.glob("*healthy1")
    (folder / "files").mkdir()
    (folder / "files" / "output.log").write_text(
        "".join(f"step {s}: loss {1 / (s + 1):.4f}\n" for s in range(50)))
    (folder / "logs").mkdir()
    (folder / "logs" / "debug.log").write_text("step 1 loss 0.5\nstep 2 loss 0.4\n")
    assert len({s.run for s in parsers.discover(tmp_path)}) == 4


def test_the_same_curves_in_wandb_and_tensorboard_give_the_same_findings(tmp_path):
    run = ds.nan_at(n=240, seed=5, at=150)
    steps, values = run.series["train/loss"]
    events = [scalar_event("train/loss", float(v), int(s)) for s, v in zip(steps, values)]
    events.append(scalar_event("train/loss", math.inf, 240))
    write_events(tmp_path / "tb", events)
    tb = diagnose_frame(parsers.read_logdir(tmp_path), Config())
    wb = diagnose_frame(parsers.read_logdir(DATA), Config())
    key = sorted((f.code, f.metric, f.step_start, f.step_end) for f in tb if f.code < "LD5")
    assert key == sorted((f.code, f.metric, f.step_start, f.step_end) for f in wb
                         if f.run.endswith("nanrun01") and f.code < "LD5")
    assert ("LD101", "train/loss", 150, 240) in key


def test_older_runs_history_jsonl_and_the_summary(tmp_path):
    """W&B before the transaction log wrote ``wandb-history.jsonl``: rows with
    ``_step``, ``_runtime``, ``_timestamp``, nested keys and media objects."""
    run = tmp_path / "wandb" / "run-20200101_000000-old00001"
    run.mkdir(parents=True)
    rows = [{"_step": s, "_runtime": 0.5 * s, "_timestamp": 1.6e9 + s, "loss": 1 / (s + 1),
             "val": {"loss": 2 / (s + 1)},
             "gradients/w": {"_type": "histogram", "packedBins": {"min": -1, "size": 0.1,
                                                                  "count": 20},
                             "values": [1, 2, 3]}} for s in range(30)]
    (run / "wandb-history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    df = parsers.read_logdir(tmp_path)
    assert set(df.metric) == {"_runtime", "loss", "val/loss"}
    assert df[df.metric == "loss"].step.tolist() == list(range(30))
    assert df.wall_time.iloc[0] == 1.6e9
    runs = _copy(tmp_path / "new")
    (folder,) = runs.glob("*healthy1")
    (folder / "files").mkdir()
    (folder / "files" / "wandb-summary.json").write_text(json.dumps(
        {"train/loss": 0.31, "_step": 239, "table": {"_type": "table"}}))
    info = parsers.read_logdir(tmp_path / "new").attrs["runs"]
    (facts,) = [i["wandb"] for r, i in info.items() if r.endswith("healthy1")]
    assert facts["summary"] == {"train/loss": 0.31, "_step": 239}
