"""Printed training logs: real torch training loops printing as popular scripts
print (tests/data/stdout/generate.py), read point for point against what each
script printed (expected.json); the printed shapes one by one; damage."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor import datasets as ds
from loss_doctor.cli import cli
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame

from .conftest import ROOT, scalar_event, write_events

DATA = ROOT / "tests" / "data" / "stdout"
EXPECTED = json.loads((DATA / "expected.json").read_text())
AXES = {"hf/train.log": "line", "keras/nohup.out": "step", "kv/run.log": "step",
        "mnist/train.txt": "step", "modded/output.log": "step", "nanogpt/train.log": "step",
        "word_language_model/slurm-123.out": "step"}


def points(df) -> list[tuple[str, int, float]]:
    return sorted(zip(df.metric.astype(str), df.step.tolist(), df.value.tolist()),
                  key=lambda p: (p[0], p[1]))


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_every_printed_point_is_read(rel):
    df = parsers.read_file(DATA / rel)
    want = sorted(((m, s, v) for m, s, v in EXPECTED[rel]), key=lambda p: (p[0], p[1]))
    got = points(df)
    assert [(m, s) for m, s, _ in got] == [(m, s) for m, s, _ in want]
    np.testing.assert_array_equal([v for *_, v in got], [v for *_, v in want])
    (info,) = df.attrs["runs"].values()
    assert info["format"] == "stdout" and info["x_axis"] == AXES[rel]
    assert df.wall_time.isna().all()


def test_discovered_beside_other_logs_and_named_by_their_directory():
    sources = {s.run: s.format for s in parsers.discover(DATA)}
    assert sources == {rel.rsplit("/", 1)[0]: "stdout" for rel in EXPECTED}


def test_what_is_skipped_is_said():
    notes = parsers.read_file(DATA / "word_language_model" / "slurm-123.out"
                              ).attrs["runs"]
    (info,) = notes.values()
    assert any("code, tracebacks or warnings skipped" in n for n in info["notes"])
    hf = parsers.read_file(DATA / "hf" / "train.log")
    (info,) = hf.attrs["runs"].values()
    assert any("printed once" in n for n in info["notes"])  # the summary, "Num examples"
    assert "train_runtime" not in set(hf.metric)


def test_findings_on_printed_logs():
    df = parsers.read_logdir(DATA)
    found = {(f.run, f.code, f.metric) for f in diagnose_frame(df, Config())}
    assert ("nanogpt", "LD101", "loss") in found  # lr raised 1e12x at iter 150: NaN at 160
    nan = [f for f in diagnose_frame(df, Config()) if f.code == "LD101" and f.run == "nanogpt"]
    assert nan[0].step_start == 160
    problems = {(r, c) for r, c, _ in found if c < "LD5" and r != "nanogpt"}
    assert not problems, problems  # the other loops train fine


LINES = {
    "hf": ["{'loss': 0.9, 'learning_rate': 5e-05, 'epoch': 0.1}",
           "{'loss': 0.7, 'learning_rate': 4e-05, 'epoch': 0.2}",
           "{'eval_loss': 0.8, 'epoch': 1.0}", "{'eval_loss': 0.6, 'epoch': 2.0}"],
    "pytorch": ["| epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch 45 | loss  7.63 "
                "| ppl 2057",
                "| epoch   1 |   400/ 2983 batches | lr 20.00 | ms/batch 44 | loss  6.63 | ppl 757",
                "| end of epoch   1 | time: 10.2s | valid loss  5.80 | valid ppl   330.30",
                "| epoch   2 |   200/ 2983 batches | lr 20.00 | ms/batch 45 | loss  5.63 | ppl 278",
                "| end of epoch   2 | time: 10.1s | valid loss  5.50 | valid ppl   244.69"],
    "keras": ["Epoch 1/2", "\r1/3 [=>..] - ETA: 1s - loss: 0.9\r3/3 [====] - 0s 2ms/step - loss: "
              "0.8000 - accuracy: 0.5 - val_loss: 0.7000", "Epoch 2/2",
              "3/3 [====] - 0s 2ms/step - loss: 0.6000 - accuracy: 0.6 - val_loss: 0.6500"],
    "counters": ["Epoch [1/10], Step [100/600], Loss: 0.2212",
                 "Epoch [1/10], Step [200/600], Loss: 0.2012",
                 "Epoch [2/10], Step [100/600], Loss: 0.1812"],
    "tqdm": [" 45%|####      | 450/1000 [00:10<00:12, 44.1it/s, loss=0.52, lr=1e-4]",
             " 46%|####      | 460/1000 [00:10<00:12, 44.1it/s, loss=0.50, lr=1e-4]"],
    "nan": ["step 1 loss 0.5 time 30ms", "step 2 loss NaN time nanms",
            "step 3 loss inf time 31ms"],
}
WANT = {
    "hf": [("epoch", 0, 0.1), ("epoch", 1, 0.2), ("epoch", 2, 1.0), ("epoch", 3, 2.0),
           ("eval_loss", 2, 0.8), ("eval_loss", 3, 0.6), ("learning_rate", 0, 5e-05),
           ("learning_rate", 1, 4e-05), ("loss", 0, 0.9), ("loss", 1, 0.7)],
    "pytorch": [("loss", 200, 7.63), ("loss", 400, 6.63), ("loss", 3183, 5.63),
                ("valid loss", 400, 5.8), ("valid loss", 3183, 5.5)],
    "keras": [("accuracy", 3, 0.5), ("accuracy", 6, 0.6), ("loss", 3, 0.8), ("loss", 6, 0.6),
              ("val_loss", 3, 0.7), ("val_loss", 6, 0.65)],
    "counters": [("Loss", 100, 0.2212), ("Loss", 200, 0.2012), ("Loss", 700, 0.1812)],
    "tqdm": [("loss", 450, 0.52), ("loss", 460, 0.5), ("lr", 450, 1e-4), ("lr", 460, 1e-4)],
    "nan": [("loss", 1, 0.5), ("loss", 2, math.nan), ("loss", 3, math.inf), ("time", 1, 30.0),
            ("time", 2, math.nan), ("time", 3, 31.0)],
}


@pytest.mark.parametrize("name", LINES)
def test_printed_shapes(tmp_path, name):
    path = tmp_path / "train.log"
    path.write_text("\n".join(LINES[name]) + "\n")
    got = points(parsers.read_file(path))
    keep = {m for m, _, _ in WANT[name]}
    got = [p for p in got if p[0] in keep]
    assert [(m, s) for m, s, _ in got] == [(m, s) for m, s, _ in WANT[name]]
    np.testing.assert_array_equal([v for *_, v in got], [v for *_, v in WANT[name]])


def test_text_that_prints_no_metrics_is_not_a_log(tmp_path):
    (tmp_path / "requirements.txt").write_text("torch==2.1\nnumpy>=1.24\n")
    (tmp_path / "notes.txt").write_text("we tried lr 3e-4 and it was fine\nthen 1e-3\n")
    (tmp_path / "build.log").write_text("gcc -O2 -o x x.c\nok\n" * 50)
    assert parsers.discover(tmp_path) == []
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "no training logs found" in result.stderr


def test_a_line_still_being_written_is_left_out(tmp_path):
    path = tmp_path / "train.log"
    path.write_bytes(b"step 1 loss 0.5\nstep 2 loss 0.4\nstep 3 loss 0.0")  # cut mid-number
    df = parsers.read_file(path)
    assert df.step.tolist() == [1, 2]
    (info,) = df.attrs["runs"].values()
    assert any("last line incomplete" in n for n in info["notes"])


def test_hostile_text_does_not_stop_the_rest(tmp_path):
    good = tmp_path / "good"
    write_events(good, [scalar_event("loss", 1.0 / (s + 1), s) for s in range(30)])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.log").write_bytes(b"step 1 loss 0.5\nstep 2 loss 0.4\n" + b"x" * 5_000_000
                                    + b"\xff\xfe step 3 loss 0.3\n" + b"loss " * 20000 + b"\n")
    df = parsers.read_logdir(tmp_path)
    assert set(df.run) == {"good", "bad"}
    assert df[df.run == "bad"].step.tolist() == [1, 2]


def test_the_same_curve_printed_or_in_tensorboard_gives_the_same_findings(tmp_path):
    run = ds.nan_at(n=240, seed=5, at=150)
    steps, values = run.series["train/loss"]
    write_events(tmp_path / "tb", [scalar_event("train/loss", float(v), int(s))
                                   for s, v in zip(steps, values)])
    (tmp_path / "printed").mkdir()
    (tmp_path / "printed" / "train.log").write_text(
        "".join(f"step {s}: train/loss {float(np.float32(v))!r}\n" for s, v in zip(steps, values)))
    findings = diagnose_frame(parsers.read_logdir(tmp_path), Config())
    by_run = {r: sorted((f.code, f.metric, f.step_start, f.step_end) for f in findings
                        if f.run == r) for r in ("tb", "printed")}
    assert by_run["tb"] == by_run["printed"] and ("LD101", "train/loss", 150, 239) in by_run["tb"]


def test_no_line_makes_the_patterns_backtrack(tmp_path):
    """Lines built to make regular expressions backtrack (runs of spaces,
    slashes, quotes, nan/inf words) are read in linear time: a hang guard, with
    a bound two orders of magnitude above what it takes (about 0.3 s)."""
    import time

    from parsers.printed_lines import MAX_LINE

    pieces = ["a" + " " * 50, "loss ", "1/", "1 / ", "loss: 1.0 - ", "'a': '", "a/", "a.",
              "f(", "a:", "a [", "x in ", "ab cd ef      ", "inf%", "nan/", "e-", "[1/"]
    lines = [(p * (MAX_LINE // len(p)))[:MAX_LINE - 1] for p in pieces]
    path = tmp_path / "train.log"
    path.write_text("step 1 loss 0.5\nstep 2 loss 0.4\n" + "\n".join(lines) + "\n")
    began = time.perf_counter()
    df = parsers.read_file(path)
    assert time.perf_counter() - began < 30
    assert df[df.metric == "loss"].step.tolist()[:2] == [1, 2]


def test_source_pasted_above_the_output_is_not_read(tmp_path):
    source = ["import torch", "lr = 1e-3", "model = Net()",
              "optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)",
              "for epoch in range(3):", "    for step, (x, y) in enumerate(loader):",
              "        loss = criterion(model(x), y)",
              "        print(f'epoch {epoch} step {step} loss {loss.item():.4f}')",
              "        if step % 100 == 0:", "            print(f'lr {lr} loss {loss:.3f}')",
              "# loss 0.5 at step 3, said a comment", ""]
    printed = [f"epoch {e} step {3 * e + s} loss {1 / (1 + s + 3 * e):.4f}" for e in range(3)
               for s in range(3)]
    path = tmp_path / "train.log"
    path.write_text("\n".join(source + printed) + "\n")
    df = parsers.read_file(path)
    assert set(df.metric) == {"loss"}
    assert df.step.tolist() == list(range(9))


def test_a_step_counter_that_restarts_every_epoch_becomes_one_global_step(tmp_path):
    lines = []
    for e in (1, 2, 3):
        lines += [f"epoch {e} step {s} loss {1 / (1 + s + 10 * e):.4f}" for s in range(0, 10, 2)]
        lines.append(f"epoch {e} valid loss {0.5 / e}")  # end of epoch: the step before it
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    df = parsers.read_file(path)
    loss = df[df.metric == "loss"]
    assert loss.step.tolist() == list(range(0, 30, 2))
    assert df[df.metric == "valid loss"].step.tolist() == [8, 18, 28]
    (info,) = df.attrs["runs"].values()
    assert info["replaced"] == {}
