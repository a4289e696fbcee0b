"""The interactive report in a real headless browser: Debian's Chromium driven
by Playwright (``.ci/run`` installs Chromium; without it, or without the
``playwright`` package, these tests are skipped and say why).

The page must load from disk with no console error, hold the right number of
points, show a known point's value on hover, zoom to a finding's span when
the finding is clicked, hide runs by the sweep filter and stay within 390 px."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil

import pytest
from click.testing import CliRunner

from loss_doctor.cli import cli

from .conftest import SAMPLE_LOGS, write_sweep

BROWSER = next((p for p in (os.environ.get("LOSS_DOCTOR_CHROMIUM"), shutil.which("chromium"),
                            shutil.which("chromium-browser")) if p), None)
playwright = pytest.importorskip("playwright.sync_api",
                                 reason="the playwright package is not installed")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium: apt-get install chromium")


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, path, width=1400, scheme="light"):
    page = browser.new_page(viewport={"width": width, "height": 1000}, color_scheme=scheme)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("window.ldCharts !== undefined")
    return page, errors


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r"
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--report", str(out),
                                      "--exit-zero", "--isolated"])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    doc = json.loads(re.search(r"id=ld-data>(.*?)</script>", page).group(1))
    return out / "index.html", doc


def _hover(page, key, step):
    """The mouse over ``step`` of chart ``key``; the tooltip's text."""
    box = page.locator(f'[data-chart-key="{key}"] .u-over').bounding_box()
    left = page.evaluate(f"window.ldCharts[{key!r}].u.valToPos({step}, 'x')")
    page.mouse.move(box["x"] + left, box["y"] + box["height"] / 2)
    tip = page.locator(f'[data-chart-key="{key}"] .tip')
    tip.wait_for(state="visible")
    return tip.inner_text()


def _build(page, key):
    page.locator(f'[data-chart-key="{key}"]').scroll_into_view_if_needed()
    page.wait_for_function(f"window.ldCharts[{key!r}] !== undefined")
    page.locator(f'[data-chart-key="{key}"]').scroll_into_view_if_needed()


def _train_chart(page, doc, run_name: str):
    """(chart key, the train/loss series of the page's data) of a run's first
    chart, drawn."""
    run = next(i for i, r in enumerate(doc["runs"]) if r["run"] == run_name)
    key = f"{run}-0"
    _build(page, key)
    series = doc["runs"][run]["charts"][0]["series"]
    return key, next(s for s in series if s["name"] == "train/loss")


def test_loads_with_no_console_error_and_draws_every_run(browser, sample_report, tmp_path):
    path, doc = sample_report
    page, errors = _open(browser, path)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    for i, run in enumerate(doc["runs"]):
        for ci in range(len(run["charts"])):
            _build(page, f"{i}-{ci}")
    _build(page, "sweep-train_loss")
    assert errors == []
    assert page.evaluate("Object.keys(window.ldCharts).length") >= 30
    page.screenshot(path=str(tmp_path / "report_1400.png"))


def test_charts_hold_the_points_of_the_data(browser, sample_report):
    path, doc = sample_report
    page, _ = _open(browser, path)
    key, train = _train_chart(page, doc, "tensorboard/lr_too_high")
    assert train["points"] == 240 and len(train["x"]) == 240  # short: not reduced
    drawn = page.evaluate(f"""(() => {{ const c = window.ldCharts[{key!r}];
        const i = c.u.series.findIndex(s => s.label === 'train/loss (raw)');
        return c.u.data[i].filter(v => v != null).length; }})()""")
    assert drawn == 240


def test_hover_shows_the_value_of_a_known_point(browser, sample_report):
    path, doc = sample_report
    page, _ = _open(browser, path)
    key, train = _train_chart(page, doc, "jsonl/corrupted_batch")
    at = train["x"].index(130)
    value = train["y"][at]  # the corrupted batch: 2.62
    assert 2.5 < value < 2.7
    text = _hover(page, key, 130)
    assert "step 130" in text and f"{value:.5g}" in text and "smoothed" in text


def test_clicking_a_finding_zooms_its_chart_to_the_span(browser, sample_report):
    path, doc = sample_report
    page, _ = _open(browser, path)
    k = next(i for i, f in enumerate(doc["findings"]) if f["code"] == "LD201")
    f = doc["findings"][k]
    page.locator(f"[data-finding='{k}'] > div").nth(1).click()
    key = f"{f['run_index']}-0"
    page.wait_for_function(f"window.ldCharts[{key!r}] !== undefined")
    lo, hi = page.evaluate(f"[window.ldCharts[{key!r}].u.scales.x.min, "
                           f"window.ldCharts[{key!r}].u.scales.x.max]")
    assert lo <= f["start"] and hi >= f["end"] and hi - lo < 30  # steps 130-132 of 0-239
    page.locator(f'[data-chart-key="{key}"] .u-over').dblclick()
    lo, hi = page.evaluate(f"[window.ldCharts[{key!r}].u.scales.x.min, "
                           f"window.ldCharts[{key!r}].u.scales.x.max]")
    assert hi - lo > 200  # double-click: the whole run again


def test_smoothing_slider_changes_the_smoothed_curve(browser, sample_report):
    path, doc = sample_report
    page, _ = _open(browser, path)
    _build(page, "0-0")
    read = ("(() => { const c = window.ldCharts['0-0']; const i = c.u.series.findIndex("
            "s => s.label && !s.raw && s.label !== c.run.unit); return c.u.data[i].slice(0, 50); "
            "})()")
    before = page.evaluate(read)
    page.locator("#smoothing").fill("0")
    after = page.evaluate(read)
    raw = page.evaluate("window.ldCharts['0-0'].u.data[1].slice(0, 50)")
    assert after != before and after == raw  # weight 0: the smoothed curve is the raw one


def test_the_sweep_filter_hides_runs(browser, tmp_path):
    logs = write_sweep(tmp_path / "sweep", 60, problem=7,
                       name=lambda i: f"lr_{i:02d}" if i % 2 else f"wd_{i:02d}")
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["check", str(logs), "--report", str(out), "--isolated",
                                      "--exit-zero", "-j", "2"])
    assert result.exit_code == 0, result.output
    page, errors = _open(browser, out / "index.html")
    _build(page, "sweep-train_loss")
    shown = ("window.ldCharts['sweep-train_loss'].u.series.slice(1)"
             ".filter(s => s.show).length")
    assert page.evaluate(shown) == 60
    first = page.locator("#sweep-legend li").first.inner_text()
    assert first == "lr_07"  # the run with a problem first in the legend
    page.locator("#sweep-filter").fill("lr_")
    assert page.evaluate(shown) == 30
    assert page.locator("#runs tbody tr:visible").count() == 30
    assert page.locator("#sweep-count").inner_text() == "30 of 60 runs"
    page.locator("#sweep-filter").fill("")
    assert page.evaluate(shown) == 60
    page.locator("#runs th[data-sort=final]").click()
    finals = [float(v) for v in page.locator("#runs tbody tr td:nth-child(4)").all_inner_texts()]
    assert finals == sorted(finals)
    assert errors == []


def test_readable_at_390_px_and_in_dark_mode(browser, sample_report, tmp_path):
    path, _ = sample_report
    page, errors = _open(browser, path, width=390, scheme="dark")
    _build(page, "0-0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls
    width = page.evaluate("window.ldCharts['0-0'].u.width")
    assert 300 <= width <= 390
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 24)"
    page.screenshot(path=str(tmp_path / "report_390.png"), full_page=False)
    assert errors == []


def test_hover_shows_the_wall_time_where_the_log_has_one(browser, sample_report):
    path, doc = sample_report
    page, _ = _open(browser, path)
    key, train = _train_chart(page, doc, "tensorboard/lr_too_high")
    wall = train["t0"] + train["t"][train["x"].index(96)]
    text = _hover(page, key, 96)
    stamp = datetime.datetime.fromtimestamp(wall, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert "step 96" in text and f"{stamp} UTC" in text
