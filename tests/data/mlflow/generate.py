"""Write the MLflow fixtures with the real ``mlflow`` package, in both stores.

    pip install mlflow-skinny sqlalchemy alembic numpy pandas
    MLFLOW_ALLOW_FILE_STORE=true python tests/data/mlflow/generate.py

Writes ``file_store/mlruns/`` (the file store: MLflow 2's default, in
maintenance mode in MLflow 3, hence the variable) and ``sqlite/mlflow.db``
(MLflow 3's default; VACUUMed afterwards to drop the empty pages of its schema
migrations, rows untouched), the same runs in each:

* ``finetune/healthy``: a healthy fine-tuning curve (loss_doctor.datasets),
  lr, val loss every 30 steps, params;
* ``finetune/nan``: the loss goes NaN at step 150 (NaN logged, then inf);
* ``finetune/resumed``: steps 0-119, then a restart from the step-80
  checkpoint re-logs 80-199 with other values;
* ``sweep/search`` with two nested runs ``sweep/lr_1e-4`` and ``sweep/lr_3e-3``
  (``nested=True``; the second one blows up after warmup), ints (``epoch``)
  and a nested key (``train/loss``).

and ``expected.json``: every metric's history as MLflow's own client returns
it (``MlflowClient.get_metric_history``), per store, to compare against.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))

import mlflow  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from loss_doctor import datasets as ds  # noqa: E402


def log_series(steps, values, key, every=1):
    for s, v in zip(steps.tolist()[::every], values.tolist()[::every]):
        mlflow.log_metric(key, float(v), step=int(s))


def write(uri: str) -> dict:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("finetune")
    healthy = ds.healthy(n=240, seed=4, evals=8)
    with mlflow.start_run(run_name="healthy"):
        mlflow.log_params({"lr": 3e-4, "batch_size": 16, "epochs": 3})
        for key, (steps, values) in healthy.series.items():
            log_series(steps, values, key)
    broken = ds.nan_at(n=240, seed=5, at=150)
    with mlflow.start_run(run_name="nan"):
        for key, (steps, values) in broken.series.items():
            log_series(steps, values, key)
        mlflow.log_metric("train/loss", math.inf, step=240)
    resumed = ds.healthy(n=200, seed=6)
    steps, values = resumed.series["train/loss"]
    with mlflow.start_run(run_name="resumed"):
        log_series(steps[:120], values[:120], "train/loss")
        time.sleep(0.01)  # the restart: a later timestamp for the steps logged again
        log_series(steps[80:], values[80:] * 1.01, "train/loss")
    mlflow.set_experiment("sweep")
    with mlflow.start_run(run_name="search"):
        mlflow.log_metric("best_val_loss", 0.41, step=0)
        for name, run in (("lr_1e-4", ds.healthy(n=160, seed=7)),
                          ("lr_3e-3", ds.blowup_after_warmup(n=160, seed=8))):
            with mlflow.start_run(run_name=name, nested=True):
                mlflow.log_param("lr", name.split("_")[1])
                for key, (s, v) in run.series.items():
                    log_series(s, v, key)
                for epoch in range(4):
                    mlflow.log_metric("epoch", epoch, step=epoch * 40)
    client = MlflowClient()
    out = {}
    for exp in client.search_experiments():
        for run in client.search_runs([exp.experiment_id]):
            name = f"{exp.name}/{run.info.run_name}"
            out[name] = {key: [[m.step, m.value, m.timestamp]
                               for m in client.get_metric_history(run.info.run_id, key)]
                         for key in run.data.metrics}
    return out


def main() -> None:
    expected = {}
    store = os.path.join(HERE, "file_store")
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(store)
    expected["file_store"] = write("file:" + os.path.join(store, "mlruns"))
    db_dir = os.path.join(HERE, "sqlite")
    shutil.rmtree(db_dir, ignore_errors=True)
    os.makedirs(db_dir)
    db = os.path.join(db_dir, "mlflow.db")
    expected["sqlite"] = write("sqlite:///" + db)
    con = sqlite3.connect(db)
    con.execute("VACUUM")
    con.close()
    shutil.rmtree(os.path.join(HERE, "mlruns"), ignore_errors=True)  # sqlite's artifacts
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1, allow_nan=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
