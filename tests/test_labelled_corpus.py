"""The detectors on runs really trained with torch (``labelled_logs/``, made by
its ``generate.py``; labels in ``labels.json``), class by class of issue 12,
and on the public real logs where they show the same thing."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import parsers
from loss_doctor import stats
from loss_doctor.config import Config
from loss_doctor.detectors.spike import Spike
from loss_doctor.diagnosis import diagnose_frame
from loss_doctor.views import run_views

from .conftest import REAL_LOGS, load_script, requires_real_logs

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "labelled_logs"


def _scorer():
    return load_script(ROOT / "benchmarks" / "score_detectors.py", "score_detectors")


def findings(run, loud=True, path=CORPUS):
    out = diagnose_frame(parsers.read_logdir(path / run), Config())
    return [f for f in out if not loud or f.severity != "info"]


def one(run, code):
    (f,) = [f for f in findings(run, loud=False) if f.code == code]
    return f


def test_the_corpus_scores_every_problem_with_no_false_alarm():
    verdicts = _scorer().score(str(CORPUS))
    wrong = [(v.run, v.missed, v.false_alarms) for v in verdicts if not v.ok]
    assert not wrong
    assert sum(1 for v in verdicts if not v.label.get("expect")) >= 10  # healthy twins
    assert sum(len(v.met) for v in verdicts) >= 11


def test_the_scorer_counts_misses_and_false_alarms():
    """The scorer itself: a finding on the wrong series, a message without the
    labelled words, and a warning on a healthy run are all counted."""
    score = _scorer()
    (f,) = findings("keras/val_spikes")
    label = {"expect": ["LD201"], "metric": "val_loss", "says": ["epoch 21"]}
    assert score.judge("r", label, [f]).ok
    assert score.judge("r", {**label, "metric": "eval_loss"}, [f]).missed
    assert score.judge("r", {**label, "says": ["epoch 7"]}, [f]).missed
    assert score.judge("r", {"expect": []}, [f]).false_alarms


# 1. short runs --------------------------------------------------------------

def test_a_ten_step_smoke_test_frozen_at_ln_vocab_is_a_divergence():
    f = one("short/smoke_blowup", "LD102")
    assert f.severity == "error" and (f.step_start, f.step_end) == (2, 10)
    assert f.message.startswith("a short run (10 points): train/loss jumped from 1.599 "
                                "(step 1) to 10.3735 at step 2")
    assert "constant to the last digit (10.3735) over the last 9 points" in f.message
    assert "ln 32000 = 10.373, chance level for a 32000-token vocabulary" in f.message
    assert f.evidence["frozen"] and f.evidence["chance_classes"] == 32000


def test_a_healthy_fifteen_point_run_is_quiet():
    assert findings("short/healthy_15") == []


# 2. sparse train logging, dense evaluation ------------------------------------

def test_eval_loss_judges_divergence_when_the_train_loss_has_five_points():
    df = parsers.read_logdir(CORPUS / "sparse_eval/diverging")
    assert (df.metric == "loss").sum() == 5 and (df.metric == "eval_loss").sum() == 20
    (f,) = findings("sparse_eval/diverging")
    assert (f.code, f.metric, f.severity) == ("LD102", "eval_loss", "error")
    assert "judged on eval_loss: the training loss has too few points" in f.message
    # the five training points, judged as a short run, say the same: one finding
    assert f.message.endswith("The same on 1 more series: loss (steps 1000-2500)")
    assert findings("sparse_eval/healthy") == []


def test_eval_loss_rising_while_train_falls_stays_overfitting_not_divergence():
    codes = {f.code for f in findings("keras/overfit_small_data")}
    assert codes == {"LD401"}


# 3. practically no progress ----------------------------------------------------

@pytest.mark.parametrize("run,lr", [("stuck/adam_lr_1e-8", "1e-08"),
                                    ("stuck/sgd_lr_1e-7", "1e-07"),
                                    ("stuck/adam_lr_1e-7_batch_2048", "1e-07")])
def test_no_progress_at_a_tiny_lr_is_stuck_and_the_lr_is_named(run, lr):
    (f,) = findings(run)
    assert f.code == "LD301"
    assert f"the lr was constant at {lr}, far too low to move the weights" in f.message


def test_a_significant_but_tiny_fall_is_still_no_learning():
    """The big-batch run's 0.5% fall is a significant trend: stuck all the same."""
    (view,) = run_views(parsers.read_logdir(CORPUS / "stuck/adam_lr_1e-7_batch_2048"))
    loss = view.series["train/loss"].values
    tau, p = stats.trend(np.log(loss))
    assert tau < 0 and p < 0.05
    assert one("stuck/adam_lr_1e-7_batch_2048", "LD301").evidence["progress"] < 0.02
    assert findings("stuck/healthy_lr_1e-3") == []


# 4. periodic swings --------------------------------------------------------------

def test_unshuffled_sorted_data_swings_with_a_period_and_is_not_a_divergence():
    (f,) = findings("periodic/sorted_not_shuffled")
    assert f.code == "LD202" and f.evidence["period"] == 50
    assert "with a period of 50 steps" in f.message and "no net progress" in f.message
    assert "shuffle the training set" in f.hint
    assert findings("periodic/sorted_shuffled") == []


@pytest.mark.parametrize("run", ["healthy/cyclic_lr", "healthy/warm_restarts"])
def test_swings_a_periodic_lr_explains_are_not_reported(run):
    assert findings(run) == []
    assert "cyclic" in one(run, "LD504").message


# 5. noisy validation on short epoch logs -------------------------------------------

def test_val_loss_spikes_on_a_sixty_epoch_log_are_named_by_epoch():
    (view,) = run_views(parsers.read_logdir(CORPUS / "keras/val_spikes"))
    assert view.unit == "epoch"
    f = Spike().check_series(view, view.series["val_loss"])
    assert [s["step"] for s in f.evidence["spikes"]] == [22, 43]
    assert "at epoch 22" in f.message and "at epoch 43" in f.message
    (merged,) = findings("keras/val_spikes")  # with the training loss's, one finding
    assert merged.message.endswith("The same on 1 more series: val_loss (epochs 22, 43)")


@pytest.mark.parametrize("run", ["keras/tiny_noisy_val", "keras/healthy_60_epochs",
                                 "healthy/batch_size_1"])
def test_noise_is_not_a_spike(run):
    assert findings(run) == []


# 6. what a metric means ----------------------------------------------------------

def test_wer_improving_after_the_eval_loss_minimum_is_said_with_both_checkpoints():
    f = one("hf/wer_improves_loss_rises", "LD401")
    assert "Best checkpoint by eval_loss: step 400" in f.message
    assert ("but eval_wer kept improving: best 0.2117 at step 1200 (0.2183 at step 400), the "
            "checkpoint the run itself kept (checkpoint-1200)") in f.message
    assert f.hint.startswith("two checkpoints: step 400 is best by eval_loss, step 1200 by "
                             "eval_wer (the one the run kept)")
    best = one("hf/wer_improves_loss_rises", "LD501")
    assert "best eval_wer: 0.2117 at step 1200, the checkpoint the run kept" in best.message


@requires_real_logs()
def test_the_whisper_run_keeps_the_checkpoint_its_wer_chose():
    """The public Whisper fine-tune: eval_loss best at step 1000, WER best at
    3000, and the Trainer kept checkpoint-3000."""
    df = parsers.read_logdir(REAL_LOGS / "hf_whisper_ja")
    assert df.attrs["runs"]["hf_whisper_ja"]["trainer"] == {
        "best_metric": 0.7431560204762965, "best_model_checkpoint": "checkpoint-3000",
        "best_step": 3000}
    (f,) = [f for f in diagnose_frame(df, Config()) if f.code == "LD401"]
    assert "eval_wer kept improving: best 0.7432 at step 3000 (0.7888 at step 1000)" \
        in f.message
    assert f.evidence["selection"]["kept"] == "checkpoint-3000"


def test_error_rates_are_drawn_on_their_own_axes():
    from loss_doctor.report.plots import plot_run

    (view,) = run_views(parsers.read_logdir(CORPUS / "hf/wer_improves_loss_rises"))
    assert view.series["eval_wer"].role.role == "val_metric"
    assert set(plot_run(view, [])) == {"losses", "errors", "lr", "grad_norm"}


# 9. messages true to the data ------------------------------------------------------

def test_the_best_evaluation_is_not_the_last_when_nan_ones_came_after():
    f = one("hf/nan_after_best", "LD501")
    assert f.message == ("best eval_loss: 0.1719 at step 600 (3 finite evaluation(s) came "
                         "after it, and 3 NaN/inf)")
    assert f.evidence["nonfinite_after"] == 3


def test_an_epoch_axis_is_called_epoch_in_the_text_too():
    for f in findings("keras/val_spikes", loud=False):
        assert " step" not in f.message, f.message


def test_no_ratio_against_a_loss_near_zero():
    f = one("divergence/memorised_then_diverged", "LD102")
    assert "x above" not in f.message and "x)" not in f.message
    assert "rose from its minimum 6.23e-05 (step 622, near zero:" in f.message
    gap = one("keras/overfit_small_data", "LD503")
    assert "x loss" not in gap.message and "no ratio is given" in gap.message


def test_the_lr_over_a_span_that_holds_warmup_and_decay_is_described_as_such():
    from .conftest import SAMPLE_LOGS

    (f,) = [f for f in findings("tensorboard/lr_far_too_high", path=SAMPLE_LOGS)
            if f.code == "LD301"]
    assert "at its peak" not in f.message
    assert "over this span the lr went from 0.0005 to 4.55e-05 (warming up, then decaying, " \
           "peak 0.01 at step 19)" in f.message


@requires_real_logs()
def test_what_the_new_rules_say_of_the_deepdiagnosis_logs():
    """Two warnings these rules add on the (unlabelled) DeepDiagnosis logs, both
    true of the curves: a run stuck at 1.061 with its accuracy constant for 120
    epochs after the first, and one 2.1x val_loss spike on a curve that moves
    by 15% elsewhere."""
    found = diagnose_frame(parsers.read_logdir(REAL_LOGS / "keras_deepdiagnosis"), Config())
    (stuck,) = [f for f in found if f.code == "LD301"
                and f.run.startswith("Blob_normal__config_random_22eb")]
    assert stuck.evidence["progress"] < 0.02
    (spike,) = [f for f in found if f.code == "LD201"]
    assert (spike.run.split("__")[1][:13], spike.metric, spike.step_start) == (
        "double_random", "val_loss", 359)
