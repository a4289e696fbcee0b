"""Detector x curve: planted faults are found with the right code, metric and
steps; healthy curves across many seeds raise nothing above info."""

from __future__ import annotations

import pytest

from loss_doctor import datasets as ds
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame


def problems(run, config=None):
    findings = diagnose_frame(ds.as_frame({"r": run}), config or Config())
    return [f for f in findings if f.severity != "info"]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("fault", sorted(ds.FAULTS))
def test_planted_fault_is_found(fault, seed):
    run = ds.FAULTS[fault](seed=seed)
    (truth,) = run.truth
    found = problems(run)
    assert [f.code for f in found] == [truth.code], [f.message for f in found]
    (f,) = found
    assert f.metric == truth.metric
    tolerance = 0.05 * 600
    assert abs(f.step_start - truth.step_start) <= tolerance
    assert abs(f.step_end - truth.step_end) <= tolerance
    assert 0 <= f.score <= 1


HEALTHY = [dict(), dict(noise=0.05), dict(noise=0.4), dict(bump=True),
           dict(schedule="step"), dict(schedule="cosine"), dict(n=80), dict(n=40),
           dict(n=3000, noise=0.3)]


@pytest.mark.parametrize("kwargs", HEALTHY, ids=[str(k) for k in HEALTHY])
def test_healthy_runs_are_quiet_over_many_seeds(kwargs):
    loud = {}
    for seed in range(40):
        found = problems(ds.healthy(seed=seed, **kwargs))
        if found:
            loud[seed] = [f.message for f in found]
    assert loud == {}


def test_healthy_runs_get_useful_info():
    findings = diagnose_frame(ds.as_frame({"r": ds.healthy(seed=1)}), Config())
    codes = {f.code for f in findings}
    assert {"LD501", "LD502", "LD504"} <= codes
    lr = next(f for f in findings if f.code == "LD504")
    assert "warmup" in lr.message and "linear decay" in lr.message


def test_spike_reports_height_and_recovery():
    (f,) = problems(ds.spike_at(seed=2, at=300, height=8.0))
    (spike,) = f.evidence["spikes"]
    assert spike["step"] == 300 and 6 < spike["height"] < 11
    assert spike["recovery_steps"] <= 2
    assert f.evidence["lr_phase"] == "decaying"


def test_divergence_settling_at_chance_is_still_divergence():
    (f,) = problems(ds.blowup_after_warmup(seed=0, classes=10))
    assert f.code == "LD102" and f.severity == "error"
    assert f.evidence["chance_classes"] == 10
    assert f.evidence["final_value"] < ds.blowup_after_warmup(seed=0).series[
        "train/loss"][1][0]  # below the start, yet diverged
    assert "at its peak" in f.message or "warming up" in f.message


def test_hf_nan_pattern_grad_norm_nan_with_zero_loss():
    import numpy as np

    run = ds.healthy(seed=0)
    steps, loss = run.series["train/loss"]
    loss = loss.copy()
    loss[400:] = 0.0
    grad = np.ones_like(loss)
    grad[400:] = np.nan
    run.series["train/loss"] = (steps, loss)
    run.series["grad_norm"] = (steps, grad)
    found = [f for f in problems(run) if f.code == "LD101"]
    (f,) = found
    assert f.metric == "grad_norm" and f.step_start == 400
    assert "logging_nan_inf_filter" in f.message


def test_parameters_tune_a_detector():
    run = ds.spike_at(seed=0, height=6.0)
    assert problems(run)
    assert not problems(run, Config.from_mapping({"spike": {"z": 100, "big-ratio": 50}}))


def test_one_finding_per_problem_on_several_series():
    """Train and val loss spiking on the same batch are one spike; two spikes
    far apart are two."""
    from loss_doctor.findings import Finding
    from loss_doctor.grouping import merge_related

    def spike(metric, at, score):
        return Finding(code="LD201", kind="spike", severity="warning", score=score, run="r",
                       metric=metric, step_start=at, step_end=at + 2, message=f"{metric} spiked.")
    merged = merge_related([spike("train/loss", 100, 0.6), spike("val/loss", 101, 0.8),
                            spike("train/loss", 400, 0.5)])
    assert sorted((f.metric, f.step_start, f.step_end) for f in merged) == [
        ("train/loss", 400, 402), ("val/loss", 100, 103)]
    (both,) = [f for f in merged if f.step_start == 100]
    assert both.message == "val/loss spiked. The same on 1 more series: train/loss (steps 100-102)"
    assert both.evidence["also"] == [{"metric": "train/loss", "step_start": 100,
                                      "step_end": 102, "score": 0.6}]


def test_a_step_decay_of_many_equal_steps_is_a_decay_not_a_cycle():
    # an lr lowered by 30% every 300 steps (ExponentialLR stepped per epoch,
    # logged per batch): its staircase repeats with a period, but it never rises
    run = ds.healthy(n=3000, seed=3)
    steps = run.series["train/lr"][0]
    run.series["train/lr"] = (steps, 3e-4 * 0.7 ** (steps // 300))
    findings = diagnose_frame(ds.as_frame({"r": run}), Config())
    lr = next(f for f in findings if f.code == "LD504")
    assert lr.evidence["shape"] == "step" and "cyclic" not in lr.message, lr.message
    assert "step decay to" in lr.message
