"""The notebook API: ``diagnose`` returns ``Findings``; ``plot`` a Figure."""

from __future__ import annotations

import subprocess
import sys

import pytest

import loss_doctor
import parsers
from loss_doctor import datasets as ds
from loss_doctor.errors import InputError

from .conftest import SAMPLE_LOGS


def test_findings_are_a_list_with_a_frame_and_a_table():
    found = loss_doctor.diagnose(SAMPLE_LOGS)
    assert isinstance(found, list) and isinstance(found, loss_doctor.Findings)
    frame = found.to_frame()
    assert len(frame) == len(found) and list(frame.columns[:5]) == [
        "rank", "severity", "code", "kind", "run"]
    assert frame.iloc[0].code == found[0].code == "LD101"
    assert [f.code for f in found.problems()] == ["LD101", "LD102", "LD401", "LD301", "LD201"]
    table = found._repr_html_()
    assert table.count("<tr>") == len(found) + 1 and "2 error, 3 warning" in table


def test_the_notebook_table_escapes_names():
    run = ds.spike_at(seed=1)
    run.series["<img src=x onerror=alert(1)>"] = run.series.pop("train/loss")
    frame = ds.as_frame({"<script>x</script>": run})
    found = loss_doctor.diagnose(frame, roles={"<img src=x onerror=alert(1)>": "train_loss"})
    html = found._repr_html_()
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_plot_returns_a_figure_with_the_findings_shaded():
    fig = loss_doctor.plot(SAMPLE_LOGS, run="tensorboard/lr_too_high")
    assert type(fig).__name__ == "Figure" and len(fig.axes) == 3  # losses, lr, grad_norm
    losses = fig.axes[0]
    assert any("LD102" in t.get_text() for t in losses.texts)
    assert losses.patches  # the divergence's span
    frame = parsers.read_logdir(SAMPLE_LOGS / "jsonl")
    one = loss_doctor.plot(frame)  # the frame's only run
    assert any("LD201" in t.get_text() for t in one.axes[0].texts)


def test_plot_asks_which_run_when_there_are_several():
    with pytest.raises(InputError, match="holds 10 runs: say which with run="):
        loss_doctor.plot(SAMPLE_LOGS)
    with pytest.raises(InputError, match="no run 'nope'"):
        loss_doctor.plot(SAMPLE_LOGS, run="nope")


def test_plot_leaves_pyplot_alone():
    code = ("import sys, loss_doctor; loss_doctor.plot(sys.argv[1], run='hf/healthy'); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLE_LOGS)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False"
