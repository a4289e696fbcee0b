"""One curve, five ways in: TensorBoard (tensorboard's writer), printed lines,
W&B (written by wandb), MLflow's file store and its SQLite store (written by
mlflow).  Each format is only a way in: the findings are the same."""

from __future__ import annotations

import math
import shutil

import numpy as np

import parsers
from loss_doctor import datasets as ds
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame

from .conftest import ROOT, scalar_event, write_events

DATA = ROOT / "tests" / "data"


def test_the_same_curve_gives_the_same_findings_in_every_format(tmp_path):
    # the curve of the "nan" runs in tests/data/{wandb,mlflow}/generate.py
    steps, values = ds.nan_at(n=240, seed=5, at=150).series["train/loss"]
    steps, values = [*steps.tolist(), 240], [*values.tolist(), math.inf]
    write_events(tmp_path / "tensorboard",
                 [scalar_event("train/loss", float(v), s) for s, v in zip(steps, values)])
    (tmp_path / "printed").mkdir()
    (tmp_path / "printed" / "train.log").write_text(  # float32: as the event file holds it
        "".join(f"step {s}: train/loss {float(np.float32(v))!r}\n" for s, v in zip(steps, values)))
    (wandb_run,) = (DATA / "wandb" / "wandb").glob("*-nanrun01")
    shutil.copytree(wandb_run, tmp_path / "wandb" / wandb_run.name)
    shutil.copytree(DATA / "mlflow" / "file_store" / "mlruns", tmp_path / "mlruns")
    shutil.copytree(DATA / "mlflow" / "sqlite", tmp_path / "sqlite")
    df = parsers.read_logdir(tmp_path)
    formats = {run: info["format"] for run, info in df.attrs["runs"].items()}
    findings = diagnose_frame(df, Config())

    def of(run):
        return sorted((f.code, f.metric, f.step_start, f.step_end) for f in findings
                      if f.run == run and f.code < "LD5")

    runs = {"tensorboard": "tensorboard", "printed": "stdout",
            f"wandb/{wandb_run.name}": "wandb", "mlruns/finetune/nan": "mlflow",
            "sqlite/finetune/nan": "mlflow-sqlite"}
    assert {run: formats[run] for run in runs} == runs
    expected = of("tensorboard")
    assert ("LD101", "train/loss", 150, 240) in expected
    for run in runs:
        assert of(run) == expected, run
