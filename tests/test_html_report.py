"""--report DIR: a self-contained HTML file, Markdown with linked PNGs, stable plots."""

from __future__ import annotations

import json
import re

import numpy as np
from click.testing import CliRunner

from loss_doctor import datasets as ds
from loss_doctor.check import CheckOptions, CheckResult
from loss_doctor.cli import cli
from loss_doctor.config import Config
from loss_doctor.diagnosis import diagnose_frame, run_views
from loss_doctor.inventory import inventory
from loss_doctor.report.html import HtmlReporter
from loss_doctor.report.plots import _reduce, plot_run

from .conftest import SAMPLE_LOGS, write_sweep


def test_report_on_sample_logs(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--report", str(out)])
    assert result.exit_code == 1 and "report in" in result.stderr
    page = (out / "index.html").read_text()
    assert len(list((out / "plots").glob("*.png"))) >= 25  # for report.md
    assert not re.search(r"(src|href)=['\"]?https?:", page)  # nothing from the network
    assert "<img " not in page  # ten runs: every one drawn interactively
    assert "/*! https://github.com/leeoniya/uPlot (v1.6.32) */" in page  # inlined, not fetched
    doc = json.loads(re.search(r"<script type='application/json' id=ld-data>(.*?)</script>",
                               page).group(1))
    assert len(doc["runs"]) == 10 and all(r["charts"] for r in doc["runs"])
    assert sorted(f["code"] for f in doc["findings"]) == ["LD101", "LD102", "LD201", "LD301",
                                                          "LD401"]
    assert len(page) < 600_000  # a few hundred KB, not 2 MB of PNGs
    for code in ("LD101", "LD102", "LD201", "LD301", "LD401"):
        assert code in page
    md = (out / "report.md").read_text()
    assert "![tensorboard/lr_too_high](plots/tensorboard_lr_too_high__losses.png)" in md


def test_hostile_names_are_escaped(tmp_path):
    run = ds.spike_at(seed=1)
    run.series['<img src=x onerror=alert(1)>'] = run.series.pop("train/loss")
    frame = ds.as_frame({"<script>alert(1)</script>": run})
    config = Config(roles={'<img src=x onerror=alert(1)>': "train_loss"})
    findings = diagnose_frame(frame, config)
    assert any(f.code == "LD201" for f in findings)
    options = CheckOptions(report_dir=str(tmp_path))
    html = HtmlReporter()
    for view in run_views(frame, config.roles):  # what the workers do, run by run
        html.collect(view.run, HtmlReporter.per_run(view, findings, options), options)
    html.render(CheckResult.of(findings, runs=inventory(frame, config.roles).runs,
                               config=config), options)
    page = (tmp_path / "index.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_plots_are_deterministic_and_long_series_are_reduced():
    frame = ds.as_frame({"r": ds.nan_at(n=200_000, seed=0)})
    (view,) = run_views(frame)
    findings = diagnose_frame(frame, Config())
    first = plot_run(view, findings)
    assert set(first) == {"losses", "lr"}
    assert plot_run(view, findings) == first  # byte-identical PNGs
    steps = np.arange(200_000)
    values = np.ones(200_000)
    values[123_456] = 50.0  # a one-point spike survives the reduction
    x, lo, hi = _reduce(steps, values)
    assert x.size <= 1000 and hi.max() == 50.0 and lo.min() == 1.0


def test_report_renders_in_headless_chromium(tmp_path):
    import shutil
    import subprocess

    import pytest

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed")
    out = tmp_path / "report"
    CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--report", str(out)])
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
                    f"--screenshot={shot}", (out / "index.html").as_uri()],
                   capture_output=True, timeout=120, check=False)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100_000  # a rendered page


def test_large_sweeps_draw_only_the_runs_with_problems(tmp_path):
    """Over EMBED_ALL runs, the runs without a problem are drawn in the sweep
    view only: no charts and no PNGs of their own, so that a sweep's thousand
    healthy runs cost neither memory, nor page size, nor matplotlib time."""
    from loss_doctor.report.html import EMBED_ALL

    logs = write_sweep(tmp_path / "sweep", EMBED_ALL + 5, problem=3)
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["check", str(logs), "--report", str(out), "--isolated",
                                      "-j", "2", "--exit-zero"])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    doc = json.loads(re.search(r"<script type='application/json' id=ld-data>(.*?)</script>",
                               page).group(1))
    drawn = [r["run"] for r in doc["runs"] if r["charts"]]
    assert drawn == ["lr_03"]  # the one run with a problem gets its interactive charts
    assert doc["grids"]["train_loss"]["n"] == 200
    assert all(len(r["grid"]["train_loss"]) == 200 for r in doc["runs"])  # all in the sweep
    assert "<img" not in page and "drawn in the sweep view only" in page
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["lr_03__losses.png"]
    assert "![lr_03](plots/lr_03__losses.png)" in (out / "report.md").read_text()
