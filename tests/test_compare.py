"""loss-doctor compare: tells a worse run from an equal one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from loss_doctor import datasets as ds
from loss_doctor.cli import cli
from loss_doctor.compare import compare
from loss_doctor.diagnosis import run_views

from .conftest import SAMPLE_LOGS


def tb(name):
    return str(SAMPLE_LOGS / "tensorboard" / name)


@pytest.mark.parametrize("run,reference,verdict,code", [
    (tb("resumed"), tb("healthy"), "same", 0),  # another seed, resumed: equal
    (str(SAMPLE_LOGS / "lightning/lightning_logs/version_0"), tb("healthy"), "same", 0),
    (tb("lr_too_high"), tb("healthy"), "worse", 1),
    (tb("healthy"), tb("lr_too_high"), "better", 0),
    (str(SAMPLE_LOGS / "lightning/lightning_logs/version_1"), tb("healthy"), "worse", 1),
])
def test_sample_runs(run, reference, verdict, code):
    result = CliRunner().invoke(cli, ["compare", run, "--against", reference, "--format",
                                      "json"], catch_exceptions=False)
    doc = json.loads(result.stdout)
    assert (doc["verdict"], result.exit_code) == (verdict, code)


def series_of(run):
    (view,) = run_views(ds.as_frame({"r": run}))
    return view.series["train/loss"]


def test_a_slightly_worse_quiet_run_is_worse_and_noise_is_not():
    ref = series_of(ds.healthy(seed=1, noise=0.05))
    worse_run = ds.healthy(seed=2, noise=0.05)
    steps, loss = worse_run.series["train/loss"]
    worse_run.series["train/loss"] = (steps, loss * np.linspace(1.0, 1.25, loss.size))
    result = compare(series_of(worse_run), ref)
    assert result.verdict == "worse" and 1.15 < result.tail_ratio < 1.35
    assert result.worse_segments
    reach = result.steps_to_reference_final
    assert reach["candidate"] is None or reach["candidate"] > reach["reference"]
    same = [compare(series_of(ds.healthy(seed=s, noise=0.3)), ref).verdict
            for s in range(3, 13)]
    assert same == ["same"] * 10


def test_text_output_and_usage_errors():
    runner = CliRunner()
    text = runner.invoke(cli, ["compare", tb("lr_too_high"), "--against", tb("healthy")])
    assert text.exit_code == 1 and "WORSE" in text.stdout and "steps 58-239" in text.stdout
    many = runner.invoke(cli, ["compare", str(SAMPLE_LOGS / "tensorboard"), "--against",
                               tb("healthy")])
    assert many.exit_code == 2 and "holds 4 runs" in many.output
    missing = runner.invoke(cli, ["compare", tb("healthy"), "--against", tb("resumed"),
                                  "--metric", "nope"])
    assert missing.exit_code == 2 and "no metric 'nope'" in missing.output
    zero = runner.invoke(cli, ["compare", tb("lr_too_high"), "--against", tb("healthy"),
                               "--exit-zero"])
    assert zero.exit_code == 0
