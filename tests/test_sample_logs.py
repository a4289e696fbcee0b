"""The bundled sample runs (sample_logs/README.md) read as labelled."""

from __future__ import annotations

import numpy as np
import pytest

import parsers

from .conftest import SAMPLE_LOGS
from .reference import assert_same_series, frame_series, last_write_series, reference_scalars


@pytest.fixture(scope="module")
def sample():
    return parsers.read_logdir(SAMPLE_LOGS)


def series(df, run, metric):
    part = df[(df.run == run) & (df.metric == metric)]
    return part.step.to_numpy(), part.value.to_numpy()


def test_every_run_reads_cleanly(sample):
    runs = sample.attrs["runs"]
    assert sample.attrs["errors"] == []
    assert {r: i["format"] for r, i in runs.items()} == {
        "hf/healthy": "hf_trainer",
        "hf/too_little_data": "hf_trainer",
        "jsonl/corrupted_batch": "jsonl",
        "keras/head_on_minilm": "keras",
        "lightning/lightning_logs/version_0": "lightning",
        "lightning/lightning_logs/version_1": "lightning",
        "tensorboard/healthy": "tensorboard",
        "tensorboard/lr_far_too_high": "tensorboard",
        "tensorboard/lr_too_high": "tensorboard",
        "tensorboard/resumed": "tensorboard",
    }
    loss_name = {"hf/healthy": "loss", "hf/too_little_data": "loss",
                 "keras/head_on_minilm": "loss"}
    for run in runs:
        steps, _ = series(sample, run, loss_name.get(
            run, "train_loss" if "lightning" in run else "train/loss"))
        last = 39 if "keras" in run else 240 if run.startswith("hf/") else 239
        assert steps[-1] == last, run  # every run logged its training loss to the end


def test_keras_csvlogger_training_log(sample):
    info = sample.attrs["runs"]["keras/head_on_minilm"]
    assert info["x_axis"] == "epoch" and info["files"][0].endswith("training.log")
    assert sorted(sample[sample.run == "keras/head_on_minilm"].metric.unique()) == [
        "accuracy", "loss", "val_accuracy", "val_loss"]


def test_resumed_run_two_files_and_replaced_steps(sample):
    info = sample.attrs["runs"]["tensorboard/resumed"]
    assert len(info["files"]) == 2
    # steps 140-169 logged twice: new values, except the schedule's lr and one
    # eval accuracy that came out the same
    assert info["replaced"] == {"train/grad_norm": 30, "train/loss": 30, "val/loss": 1}
    assert info["repeated"] == {"train/lr": 30, "val/accuracy": 1}
    steps, _ = series(sample, "tensorboard/resumed", "train/loss")
    assert steps.tolist() == list(range(240))


def test_nan_input_run(sample):
    steps, values = series(sample, "lightning/lightning_logs/version_1", "train_loss")
    bad = steps[~np.isfinite(values)]
    assert bad[0] == 150 and len(bad) == 90  # NaN from step 150 to the end
    steps, values = series(sample, "lightning/lightning_logs/version_1", "val_loss")
    assert steps[~np.isfinite(values)][0] == 159


def test_corrupted_batch_spike(sample):
    steps, values = series(sample, "jsonl/corrupted_batch", "train/loss")
    around = values[(steps >= 110) & (steps < 130)]
    assert values[steps == 130][0] > 4 * np.median(around)
    assert np.median(values[(steps > 131) & (steps < 150)]) < 2 * np.median(around)


def test_too_little_data_overfits(sample):
    steps, values = series(sample, "hf/too_little_data", "eval_loss")
    best = steps[np.argmin(values)]
    assert best == 60 and values[-1] > 1.3 * values.min()
    _, train = series(sample, "hf/too_little_data", "loss")
    assert train[-1] < 0.05


def test_lr_too_high_blows_up_after_learning(sample):
    steps, values = series(sample, "tensorboard/lr_too_high", "train/loss")
    low = values.min()
    assert low < 0.6
    assert values[steps > steps[np.argmin(values)]].max() > 3 * low


def test_event_files_match_the_reference_decoder(sample):
    for run_dir in (SAMPLE_LOGS / "tensorboard").iterdir():
        points = []
        for path in sorted(run_dir.iterdir()):  # file names order these by start time
            points += reference_scalars(str(path))
        assert_same_series(frame_series(sample, f"tensorboard/{run_dir.name}"),
                           last_write_series(points))
