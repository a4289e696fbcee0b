"""Public logs from other projects (../shared/real_logs), read by path.

Expected counts were checked by hand with json/csv/EventAccumulator:
whisper trainer_state 636 numeric fields = 630 points + 6 repeated epochs;
multi-eval 1236 = 1051 + 185 repeated epochs; Lightning version_0 has 8532
filled cells besides step = 8522 + 10 repeated epochs; detectron2 5 lines x 20
numeric fields; tensorboard-reducer's duplicate_steps logs steps 90-99 twice
(EventAccumulator returns 210 points per tag).
"""

from __future__ import annotations

import pytest

import parsers
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame

from .conftest import REAL_LOGS, requires_real_logs
from .reference import assert_same_series, frame_series, last_write_series, reference_scalars

pytestmark = requires_real_logs()


@pytest.fixture(scope="module")
def real():
    return parsers.read_logdir(REAL_LOGS)


def points(df, run):
    return int((df.run == run).sum())


def test_every_file_parses(real):
    assert real.attrs["errors"] == []
    assert len(real.attrs["runs"]) == 33
    counted = {f for info in real.attrs["runs"].values() for f in info["files"]}
    logs = [p for p in REAL_LOGS.rglob("*") if p.is_file()
            and p.suffix not in (".md", ".yaml")]
    # every log file is read, except the older checkpoint copy of a trainer state
    assert len(counted) == len(logs) - 1


@pytest.mark.parametrize("run,count,metrics", [
    ("hf_whisper_ja", 630, 13),
    ("hf_multi_eval", 1051, 34),
    ("lightning_slm/lightning_logs/version_0", 8522, 10),
    ("detectron2/output", 100, 20),
    ("tb_reducer_tests/duplicate_steps/run_1", 400, 2),
    ("tb_reducer_tests/strict/run_1", 100, 1),
    ("tb_reducer_tests/lax/run_3", 390, 3),
    ("keras_deepdiagnosis/Blob_normal__model_random_953b07b0-9126-4363-8613-2426e4224dc4",
     289 * 4, 4),
    ("keras_deepdiagnosis/MOTIVATING_EXAMPLE__31880720__demo_case__Gradient_Vanish_Case", 4, 4),
])
def test_counts_checked_by_hand(real, run, count, metrics):
    assert points(real, run) == count
    assert real[real.run == run].metric.nunique() == metrics


def test_trainer_state_reads_the_newest_copy_and_counts_repeats(real):
    info = real.attrs["runs"]["hf_whisper_ja"]
    assert info["files"] == [str(REAL_LOGS / "hf_whisper_ja" / "trainer_state.json")]
    assert info["repeated"] == {"epoch": 6} and info["replaced"] == {}
    assert real.attrs["runs"]["hf_multi_eval"]["repeated"] == {"epoch": 185}
    eval_loss = real[(real.run == "hf_whisper_ja") & (real.metric == "eval_loss")]
    assert eval_loss.step.tolist() == [1000, 2000, 3000, 4000, 5000]


def test_duplicate_steps_keep_the_last_write(real):
    run = "tb_reducer_tests/duplicate_steps/run_1"
    assert real.attrs["runs"][run]["replaced"] == {"dup_steps/bar": 10, "dup_steps/foo": 10}
    foo = real[(real.run == run) & (real.metric == "dup_steps/foo")]
    assert foo.step.tolist() == list(range(200))
    # EventAccumulator keeps both writes of step 90: 1.5536525249481201, then this one
    assert foo[foo.step == 90].value.item() == pytest.approx(1.5210340023040771, abs=0)


def test_event_files_match_the_reference_decoder(real):
    for path in (REAL_LOGS / "tb_reducer_tests").rglob("events.out.tfevents.*"):
        run = str(path.parent.relative_to(REAL_LOGS)).replace("\\", "/")
        assert_same_series(frame_series(real, run),
                           last_write_series(reference_scalars(str(path))))


def test_formats_and_axes(real):
    runs = real.attrs["runs"]
    assert runs["detectron2/output"]["format"] == "jsonl"
    assert runs["detectron2/output"]["x_axis"] == "iteration"
    assert runs["lightning_slm/lightning_logs/version_12"]["format"] == "lightning"
    keras = [i for r, i in runs.items() if r.startswith("keras_deepdiagnosis/")]
    assert {i["x_axis"] for i in keras} == {"row"} and len(keras) == 17


@requires_real_logs()
def test_six_eval_sets_overfitting_together_are_one_finding():
    df = parsers.read_logdir(REAL_LOGS / "hf_multi_eval")
    (f,) = [f for f in diagnose_frame(df, Config()) if f.code == "LD401"]
    assert f.metric == "eval_g0_loss" and (f.step_start, f.step_end) == (401, 12030)
    assert [a["metric"] for a in f.evidence["also"]] == [f"eval_g{i}_loss" for i in range(1, 6)]
    assert f.message.endswith("The same on 5 more series: eval_g1_loss, eval_g2_loss, "
                              "eval_g3_loss, eval_g4_loss, eval_g5_loss (steps 802-12030)")


def test_a_trailing_slash_reads_the_same_runs():
    """``runs/`` and ``runs`` are one tree: a Trainer run and its
    ``last-checkpoint/`` copy stay one run either way."""
    plain = parsers.discover(str(REAL_LOGS / "hf_whisper_ja"))
    slashed = parsers.discover(str(REAL_LOGS / "hf_whisper_ja") + "/")
    assert [s.run for s in slashed] == [s.run for s in plain] == ["hf_whisper_ja"]
