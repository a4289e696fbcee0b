"""W&B runs written by the real ``wandb`` package, offline (no network).

    pip install wandb numpy pandas && python tests/data/wandb/generate.py

Writes ``wandb/offline-run-*/`` (the run directories, as ``wandb.init(mode=
"offline")`` leaves them; only ``run-<id>.wandb`` is kept: with the console
off, ``files/`` holds only this machine's requirements.txt) and
``expected.json``: every history row decoded with wandb's own protobuf classes
(``wandb.proto.wandb_internal_pb2.Record``), checked here against what was
logged, to compare the reader with.

* ``healthy`` (id ``healthy1``): a healthy curve (loss_doctor.datasets), lr and
  grad norm every step, nested ``{"train": {"loss": ...}}``, validation with
  ``commit=False`` on the step's row, config lr, batch size, epochs;
* ``nan`` (``nanrun01``): the loss goes NaN at step 150 (NaN, then inf), ints;
* ``resumed`` (``resume01``): steps 0-119, then ``wandb.init(id=...,
  resume="allow")`` logs 80-199 again with other values: two directories;
* ``media`` (``media001``): a histogram and a text value beside the loss.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))
os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=HERE,
                  WANDB_CONSOLE="off")

import numpy as np  # noqa: E402
import wandb  # noqa: E402
from wandb.proto import wandb_internal_pb2 as pb  # noqa: E402

from loss_doctor import datasets as ds  # noqa: E402


def write_runs() -> dict:
    logged: dict = {}

    def log(name, row, step, commit=True):
        wandb.log(row, step=step, commit=commit)
        flat = {}
        for k, v in row.items():
            if isinstance(v, dict):
                flat.update({f"{k}/{kk}": vv for kk, vv in v.items()})
            elif isinstance(v, (int, float)):
                flat[k] = v
        logged.setdefault(name, {}).update({(k, step): float(v) for k, v in flat.items()})

    healthy = ds.healthy(n=240, seed=11, evals=8)
    run = wandb.init(project="finetune", name="healthy", id="healthy1",
                     config={"lr": 3e-4, "batch_size": 16, "epochs": 3})
    tl, lr = healthy.series["train/loss"], healthy.series["train/lr"]
    val = dict(zip(*[a.tolist() for a in healthy.series["val/loss"]]))
    for i, s in enumerate(tl[0].tolist()):
        if s in val:
            log("healthy", {"val": {"loss": val[s]}}, s, commit=False)
        log("healthy", {"train": {"loss": float(tl[1][i])}, "lr": float(lr[1][i]),
                        "grad_norm": 1.0 + 0.1 * math.sin(s)}, s)
    run.finish()
    broken = ds.nan_at(n=240, seed=5, at=150)  # the curve of the MLflow fixtures too
    run = wandb.init(project="finetune", name="nan", id="nanrun01")
    steps, values = broken.series["train/loss"]
    for s, v in zip(steps.tolist(), values.tolist()):
        log("nan", {"train/loss": v, "epoch": s // 80}, s)
    log("nan", {"train/loss": math.inf}, 240)
    run.finish()
    resumed = ds.healthy(n=200, seed=13)
    steps, values = resumed.series["train/loss"]
    run = wandb.init(project="finetune", name="resumed", id="resume01")
    for s, v in zip(steps[:120].tolist(), values[:120].tolist()):
        log("resumed-first", {"train/loss": v}, s)
    run.finish()
    time.sleep(1.1)  # another second: another run directory
    run = wandb.init(project="finetune", name="resumed", id="resume01", resume="allow")
    for s, v in zip(steps[80:].tolist(), (values[80:] * 1.01).tolist()):
        log("resumed-second", {"train/loss": v}, s)
    run.finish()
    run = wandb.init(project="finetune", name="media", id="media001")
    for s in range(40):
        row = {"loss": 1.0 / (s + 1), "note": f"step {s}"}
        if s % 10 == 0:
            row["weights"] = wandb.Histogram(np.random.default_rng(s).normal(size=100))
        log("media", row, s)
    run.finish()
    return logged


def decode(path: str) -> list:
    """Every history row of a transaction log, through wandb's own Record class."""
    buf = open(path, "rb").read()
    pos, parts, rows = 7, [], []
    while pos + 7 <= len(buf):
        left = 32768 - pos % 32768
        if left < 7:
            pos += left
            continue
        _, length, kind = struct.unpack_from("<IHB", buf, pos)
        data = buf[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 2):
            parts = [data]
        elif kind in (3, 4):
            parts.append(data)
        if kind in (1, 4):
            record = pb.Record.FromString(b"".join(parts))
            if record.WhichOneof("record_type") == "history":
                row = {}
                for item in record.history.item:
                    name = item.key or "/".join(item.nested_key)
                    try:
                        value = json.loads(item.value_json)
                    except ValueError:
                        continue
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        row[name] = float(value)
                rows.append([record.history.step.num, row])
    return rows


def main() -> None:
    shutil.rmtree(os.path.join(HERE, "wandb"), ignore_errors=True)
    logged = write_runs()
    expected = {}
    for folder in sorted(glob.glob(os.path.join(HERE, "wandb", "offline-run-*"))):
        for extra in ("logs", "tmp", "files"):  # files/ holds only requirements.txt
            shutil.rmtree(os.path.join(folder, extra), ignore_errors=True)
        (log,) = glob.glob(os.path.join(folder, "run-*.wandb"))
        expected[os.path.relpath(folder, HERE)] = decode(log)
    for rel, rows in expected.items():  # what wandb read back is what was logged
        name = {"healthy1": "healthy", "nanrun01": "nan", "media001": "media"}.get(
            rel.rsplit("-", 1)[1])
        if name is None:
            continue
        got = {(k, step): v for step, row in rows for k, v in row.items()
               if not k.startswith("_")}
        want = logged[name]
        assert got.keys() == want.keys(), name
        assert all(got[k] == want[k] or (math.isnan(got[k]) and math.isnan(want[k]))
                   for k in want), name
    for folder in glob.glob(os.path.join(HERE, "wandb", "*")):
        if os.path.islink(folder) or not os.path.basename(folder).startswith("offline-run-"):
            os.remove(folder) if os.path.islink(folder) or os.path.isfile(folder) else None
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(expected, fh, allow_nan=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
