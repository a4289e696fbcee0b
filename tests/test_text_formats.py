"""CSV, JSON lines and trainer_state.json, written by pandas, csv and json."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

import parsers
from parsers.csvlog import read_csv
from parsers.jsonl import read_jsonl


def series(df, metric):
    part = df[df.metric == metric]
    return dict(zip(part.step.tolist(), part.value.tolist()))


# ---------------------------------------------------------------- CSV

def test_plain_csv_from_pandas(tmp_path):
    path = tmp_path / "run" / "log.csv"
    path.parent.mkdir()
    frame = pd.DataFrame({"step": [0, 10, 20], "train/loss": [2.0, 1.5, np.nan],
                          "lr": [0.1, 0.1, 0.01]})
    frame.to_csv(path, index=False, na_rep="nan")
    df = parsers.read_file(path)
    assert series(df, "lr") == {0: 0.1, 10: 0.1, 20: 0.01}
    loss = series(df, "train/loss")
    assert loss[0] == 2.0 and math.isnan(loss[20])
    assert df.run.unique().tolist() == ["run"]
    # pandas' default writes NaN as an empty cell, which reads as "not logged"
    frame.to_csv(path, index=False)
    assert 20 not in series(parsers.read_file(path), "train/loss")


def test_keras_csvlogger_layout(tmp_path):
    path = tmp_path / "training.log.csv"
    with open(path, "w", newline="") as fh:  # what keras.callbacks.CSVLogger writes
        writer = csv.writer(fh)
        writer.writerow(["epoch", "accuracy", "loss", "val_accuracy", "val_loss"])
        for epoch in range(5):
            writer.writerow([epoch, 0.5 + epoch / 10, 1.0 / (epoch + 1), 0.4, 1.2])
    data = read_csv(path)
    assert data.format == "keras" and data.x_axis == "epoch"
    df = parsers.read_file(path)
    assert series(df, "val_loss") == {e: 1.2 for e in range(5)}
    assert "epoch" not in set(df.metric)


def test_tensorboard_csv_export(tmp_path):
    path = tmp_path / "run-train-tag-loss.csv"
    path.write_text("Wall time,Step,Value\n1700000000.5,0,2.5\n1700000001.5,5,2.0\n")
    df = parsers.read_file(path)
    assert df.metric.unique().tolist() == ["run-train-tag-loss"]
    assert df.wall_time.tolist() == [1700000000.5, 1700000001.5]
    assert df.step.tolist() == [0, 5]


def test_cells_nan_inf_empty_and_garbage(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss,note\n0,nan,hi\n1,inf,there\n2,-Infinity,x\n3,,y\n4,oops,z\n"
                    "5, 0.5 ,w\n")
    data = read_csv(path)
    df = parsers.read_logdir(tmp_path)
    loss = series(df, "loss")
    assert sorted(loss) == [0, 1, 2, 5]  # 3 empty, 4 garbage
    assert math.isnan(loss[0]) and loss[1] == math.inf and loss[2] == -math.inf
    assert loss[5] == 0.5
    assert "note" not in set(df.metric)  # a text column is not a metric
    (err,) = data.errors
    assert err.line == 6 and "'oops' is not a number" in err.reason
    assert df.attrs["errors"][0]["line"] == 6


def test_no_step_column_uses_row_number(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("val_loss,loss\n1.0,2.0\n0.9,1.5\n")
    df = parsers.read_file(path)
    assert series(df, "loss") == {0: 2.0, 1: 1.5}
    assert df.attrs["runs"][df.run.iloc[0]]["x_axis"] == "row"


def test_lightning_sparse_rows(tmp_path):
    run = tmp_path / "lightning_logs" / "version_0"
    run.mkdir(parents=True)
    (run / "hparams.yaml").write_text("lr: 0.1\n")
    (run / "metrics.csv").write_text(
        "epoch,step,train_loss,val_loss\n0,0,2.0,\n0,1,1.8,\n0,1,,1.9\n1,2,1.6,\n1,3,1.5,\n"
        "1,3,,1.7\n")
    df = parsers.read_logdir(tmp_path)
    assert df.run.unique().tolist() == ["lightning_logs/version_0"]
    assert series(df, "train_loss") == {0: 2.0, 1: 1.8, 2: 1.6, 3: 1.5}
    assert series(df, "val_loss") == {1: 1.9, 3: 1.7}
    info = df.attrs["runs"]["lightning_logs/version_0"]
    assert info["format"] == "lightning" and info["replaced"] == {}
    assert info["repeated"] == {"epoch": 2}  # the epoch column on train and val rows
    assert info["hparams"] == str(run / "hparams.yaml")


def test_ragged_csv_is_a_parse_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("step,loss\n0,1.0\n1,2.0,3.0,4.0\n")
    with pytest.raises(parsers.ParseError, match="bad.csv"):
        parsers.read_file(path)


# ---------------------------------------------------------------- JSON lines

def write_jsonl(path, rows, raw_lines=()):
    with open(path, "w") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
        for line in raw_lines:
            fh.write(line + "\n")


def test_split_field_prefixes_metrics(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_jsonl(path, [{"split": "train", "step": 1, "loss": 1.0},
                       {"split": "val", "step": 1, "loss": 0.5, "acc": 0.7},
                       {"split": "train", "step": 2, "loss": 0.9}])
    df = parsers.read_file(path)
    assert series(df, "train/loss") == {1: 1.0, 2: 0.9}
    assert series(df, "val/loss") == {1: 0.5}
    assert series(df, "val/acc") == {1: 0.7}
    assert "loss" not in set(df.metric)


def test_jsonl_values_nested_null_nan_bool(tmp_path):
    path = tmp_path / "log.ndjson"
    path.write_text('{"iteration": 0, "loss": NaN, "ok": true, "opt": {"lr": 0.1}, '
                    '"name": "x", "gap": null}\n'
                    '{"iteration": 20, "loss": Infinity, "opt": {"lr": 0.05}}\n')
    df = parsers.read_file(path)
    assert set(df.metric) == {"loss", "opt/lr"}
    assert math.isnan(series(df, "loss")[0]) and series(df, "loss")[20] == math.inf
    assert df.attrs["runs"][df.run.iloc[0]]["x_axis"] == "iteration"


def test_jsonl_bad_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "log.jsonl"
    write_jsonl(path, [{"step": 0, "loss": 1.0}], raw_lines=["{broken", "[1, 2]"])
    with open(path, "a") as fh:
        fh.write(json.dumps({"step": 1, "loss": 0.5}) + "\n")
    data = read_jsonl(path)
    assert [e.line for e in data.errors] == [2, 3]
    df = parsers.read_logdir(tmp_path)
    assert series(df, "loss") == {0: 1.0, 1: 0.5}
    (error,) = df.attrs["errors"]  # one line per bad file, saying where the others are
    assert error["line"] == 2 and error["message"].endswith("1 more problem(s) at line 3")


def test_fractional_epoch_is_not_the_x_axis(tmp_path):
    path = tmp_path / "log.jsonl"
    write_jsonl(path, [{"epoch": 0.5, "loss": 1.0}, {"epoch": 1.0, "loss": 0.8}])
    df = parsers.read_file(path)
    assert series(df, "epoch") == {0: 0.5, 1: 1.0}
    assert series(df, "loss") == {0: 1.0, 1: 0.8}


def test_json_file_detection(tmp_path):
    (tmp_path / "config.json").write_text('{"lr": 0.1, "step": 3}\n')
    (tmp_path / "pretty.json").write_text('{\n  "a": 1\n}\n')
    (tmp_path / "one.json").write_text('{"a": 1}\n')
    (tmp_path / "metrics.json").write_text('{"iteration": 19, "loss": 1}\n')
    sources = parsers.discover(tmp_path)
    assert [s.files[0].split("/")[-1] for s in sources] == ["metrics.json"]


# ---------------------------------------------------------------- trainer_state.json

def test_trainer_state_newest_copy_wins(tmp_path):
    run = tmp_path / "out"
    for sub, steps in (("", 10), ("checkpoint-5", 5), ("checkpoint-10", 10)):
        d = run / sub
        d.mkdir(parents=True, exist_ok=True)
        history = [{"step": s, "loss": 1.0 / s, "epoch": s / 10, "grad_norm": math.nan}
                   for s in range(1, steps + 1)]
        history.append({"step": steps, "eval_loss": 0.5, "epoch": steps / 10})
        (d / "trainer_state.json").write_text(json.dumps(
            {"global_step": steps, "log_history": history}))
    df = parsers.read_logdir(tmp_path)
    assert df.run.unique().tolist() == ["out"]
    assert series(df, "eval_loss") == {10: 0.5}
    assert len(series(df, "loss")) == 10 and math.isnan(series(df, "grad_norm")[1])
    info = df.attrs["runs"]["out"]
    assert info["files"] == [str(run / "trainer_state.json")]
    assert info["repeated"] == {"epoch": 1}


def test_trainer_state_without_log_history(tmp_path):
    (tmp_path / "trainer_state.json").write_text('{"global_step": 3}')
    df = parsers.read_logdir(tmp_path)
    assert len(df) == 0
    (err,) = df.attrs["errors"]
    assert "log_history" in err["message"]


def test_rows_and_lines_cut_by_a_writer_at_work(tmp_path):
    csv_path = tmp_path / "a" / "log.csv"
    csv_path.parent.mkdir()
    csv_path.write_text("step,loss,lr\n0,1.0,0.1\n1,0.9,0.1\n2,0.8")
    df = parsers.read_file(csv_path)
    assert series(df, "loss") == {0: 1.0, 1: 0.9}
    assert "incomplete" in df.attrs["runs"]["a"]["notes"][0]
    jsonl_path = tmp_path / "b" / "log.jsonl"
    jsonl_path.parent.mkdir()
    jsonl_path.write_text('{"step": 0, "loss": 1.0}\n{"step": 1, "loss": 0.9}\n{"step": 2, "lo')
    df = parsers.read_file(jsonl_path)  # a note, not an error: read_file does not raise
    assert series(df, "loss") == {0: 1.0, 1: 0.9}
    assert "incomplete" in df.attrs["runs"]["b"]["notes"][0]


def test_trainer_state_in_a_checkpoint_dir_given_as_root(tmp_path):
    ckpt = tmp_path / "checkpoint-10"
    ckpt.mkdir()
    (ckpt / "trainer_state.json").write_text(json.dumps(
        {"global_step": 2, "log_history": [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}]}))
    df = parsers.read_logdir(ckpt)
    assert df.run.unique().tolist() == ["checkpoint-10"]


def test_csv_line_numbers_stay_right_after_skipped_rows(tmp_path):
    """A repeated header, a blank line and a row with too many cells before a
    bad cell: the error still names the bad cell's own line."""
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n0,1.0\n1,0.9\nstep,loss\n\n2,0.8,7\n3,0.7\n4,oops\n5,0.5\n")
    data = read_csv(str(path))
    bad = [e for e in data.errors if "oops" in e.reason]
    assert [e.line for e in bad] == [8]
    assert [e.line for e in data.errors if "cells where" in e.reason] == [6]
