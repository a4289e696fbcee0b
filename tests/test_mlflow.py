"""MLflow runs, in the file store (mlruns/) and the SQLite store (mlflow.db), as
the real ``mlflow`` package wrote them (tests/data/mlflow/generate.py), against
what MLflow's own client read back from them (expected.json)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor import datasets as ds
from loss_doctor.cli import cli
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame

from .conftest import ROOT, scalar_event, write_events

DATA = ROOT / "tests" / "data" / "mlflow"
EXPECTED = json.loads((DATA / "expected.json").read_text())
STORES = {"file_store": ("file_store", "mlruns/"), "sqlite": ("sqlite", "")}
DBL_MAX = np.finfo(np.float64).max


def _last_per_step(history):
    """MLflow keeps every write; the frame keeps the last write of a step."""
    out = {}
    for step, value, timestamp in sorted(history, key=lambda h: (h[0], h[2])):
        value = math.copysign(math.inf, value) if abs(value) == DBL_MAX else value
        out[step] = (value, timestamp / 1000.0)
    return out


@pytest.mark.parametrize("store", STORES)
def test_every_point_as_mlflow_reads_it(store):
    folder, prefix = STORES[store]
    df = parsers.read_logdir(DATA / folder)
    assert df.attrs["errors"] == []
    expected = EXPECTED[store]
    assert sorted(df.run.unique()) == sorted(prefix + name for name in expected)
    for name, metrics in expected.items():
        run = df[df.run == prefix + name]
        assert sorted(run.metric.unique()) == sorted(metrics), name
        for key, history in metrics.items():
            want = _last_per_step(history)
            got = run[run.metric == key]
            assert got.step.tolist() == sorted(want), (name, key)
            values = np.array([want[s][0] for s in got.step])
            np.testing.assert_array_equal(got.value.to_numpy(), values)
            np.testing.assert_allclose(got.wall_time.to_numpy(),
                                       [want[s][1] for s in got.step])
    info = df.attrs["runs"][prefix + "finetune/resumed"]
    assert info["replaced"] == {"train/loss": 40} and info["format"] == {
        "file_store": "mlflow", "sqlite": "mlflow-sqlite"}[store]
    nan = df[(df.run == prefix + "finetune/nan") & (df.metric == "train/loss")]
    assert np.isnan(nan.value.iloc[150]) and nan.value.iloc[-1] == math.inf


@pytest.mark.parametrize("store", STORES)
def test_run_facts_name_status_params_and_parent(store):
    folder, prefix = STORES[store]
    runs = parsers.read_logdir(DATA / folder).attrs["runs"]
    healthy = runs[prefix + "finetune/healthy"]["mlflow"]
    assert healthy["run_name"] == "healthy" and healthy["status"] == "finished"
    assert healthy["params"] == {"lr": "0.0003", "batch_size": "16", "epochs": "3"}
    search = runs[prefix + "sweep/search"]["mlflow"]
    for child in ("sweep/lr_1e-4", "sweep/lr_3e-3"):
        assert runs[prefix + child]["mlflow"]["parent_run_id"] == search["run_id"]
    assert search["parent_run_id"] is None


def test_both_stores_and_tensorboard_give_the_same_findings(tmp_path):
    def key(findings, prefix=""):
        return sorted((f.run.removeprefix(prefix), f.metric, f.code, f.step_start, f.step_end)
                      for f in findings if f.code < "LD5")
    files = diagnose_frame(parsers.read_logdir(DATA / "file_store"), Config())
    db = diagnose_frame(parsers.read_logdir(DATA / "sqlite"), Config())
    assert key(files, "mlruns/") == key(db)
    codes = {(f.run, f.code) for f in db}
    assert ("finetune/nan", "LD101") in codes and ("sweep/lr_3e-3", "LD102") in codes
    assert not [f for f in db if f.run == "finetune/healthy" and f.severity != "info"]
    # the same curves through tensorboard's own writer (float32, as torch writes them)
    curves = {"finetune/healthy": ds.healthy(n=240, seed=4, evals=8),
              "finetune/nan": ds.nan_at(n=240, seed=5, at=150)}
    for name, run in curves.items():
        events = [scalar_event(tag, float(v), int(s)) for tag, (steps, values)
                  in run.series.items() for s, v in zip(steps, values)]
        if name == "finetune/nan":  # as generate.py logs it
            events.append(scalar_event("train/loss", math.inf, 240))
        write_events(tmp_path / name, events)
    tb = diagnose_frame(parsers.read_logdir(tmp_path), Config())
    assert key(tb, tmp_path.name + "/") == [k for k in key(db) if k[0] in curves]


def _copy(tmp_path, folder):
    target = tmp_path / folder
    shutil.copytree(DATA / folder, target)
    return target


def test_damaged_metric_files_keep_every_readable_point(tmp_path):
    store = _copy(tmp_path, "file_store")
    (metric,) = [p for p in store.rglob("metrics/train/loss")
                 if (p.parent.parent.parent / "meta.yaml").read_text().count("healthy")]
    lines = metric.read_bytes().split(b"\n")
    lines.insert(10, b"garbage in the middle")
    metric.write_bytes(b"\n".join(lines) + b"1796000000000 0.12")  # last line cut
    df = parsers.read_logdir(store)
    (err,) = df.attrs["errors"]
    assert err["path"] == str(metric) and err["line"] == 11
    assert "not '<timestamp> <value> <step>'" in err["message"]
    run = df[(df.run == "mlruns/finetune/healthy") & (df.metric == "train/loss")]
    assert len(run) == 240  # the cut last line is left out, noted
    notes = df.attrs["runs"]["mlruns/finetune/healthy"]["notes"]
    assert any("last line incomplete" in n for n in notes)
    assert len(df.run.unique()) == 6


def test_a_damaged_database_is_one_line_and_the_rest_is_read(tmp_path):
    folder = _copy(tmp_path, "sqlite")
    (folder / "backup").mkdir()
    raw = (folder / "mlflow.db").read_bytes()
    (folder / "backup" / "mlflow.db").write_bytes(raw[:len(raw) // 3])  # a copy cut short
    (folder / "notes.db").write_bytes(b"not a database at all")
    result = CliRunner().invoke(cli, ["check", str(folder), "--format", "json"])
    doc = json.loads(result.stdout)
    assert sorted(r["run"] for r in doc["runs"]) == sorted(EXPECTED["sqlite"])
    (err,) = doc["errors"]
    assert err["path"] == str(folder / "backup" / "mlflow.db")
    assert err["message"].startswith("not a readable MLflow store: ")
    assert f"loss-doctor: {err['path']}: {err['message']}\n" in result.stderr
    assert result.exit_code == 1  # the NaN run


def test_the_database_is_never_written_not_even_its_wal_files(tmp_path):
    folder = _copy(tmp_path, "sqlite")
    db = folder / "mlflow.db"
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}
    parsers.read_logdir(folder)
    CliRunner().invoke(cli, ["ls", str(folder)])
    after = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert before == after  # no -shm, no -wal, no journal
    con = sqlite3.connect(db)  # a writer that has not checkpointed: its WAL is not read
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    shutil.copy(db, folder / "mlflow.db-wal")  # stands for an open writer's log
    info = parsers.read_logdir(folder).attrs["runs"]["finetune/healthy"]
    assert any("-wal is not read" in note for note in info["notes"])


def test_files_that_only_look_like_mlflow_are_not_runs(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "loss").write_text("1 2 3\n")  # no meta.yaml beside
    (tmp_path / "results.db").write_bytes(b"SQLite format 3\x00" + b"\0" * 100)
    con = sqlite3.connect(tmp_path / "other.db")
    con.execute("CREATE TABLE metrics (x)")
    con.close()
    assert parsers.discover(tmp_path) == []


def test_ls_and_check_name_runs_by_experiment_and_run(tmp_path):
    result = CliRunner().invoke(cli, ["ls", str(DATA)])
    assert result.exit_code == 0
    out = result.stdout
    assert "file_store/mlruns/finetune/healthy  mlflow" in out
    assert "sqlite/finetune/healthy  mlflow-sqlite" in out
    check = CliRunner().invoke(cli, ["check", str(DATA), "-q"])
    assert check.exit_code == 1 and "sqlite/finetune/nan" in check.stdout
    assert os.path.isdir(DATA / "file_store" / "mlruns")
