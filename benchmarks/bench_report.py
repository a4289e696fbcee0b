"""The interactive report on big inputs: a 1M-point run and a 1,000-run sweep.

    pip install -e '.[test]'        # playwright; and Debian's chromium
    python benchmarks/bench_report.py [--old PATH_TO_OLD_CHECKOUT]

For each input: the wall time of ``loss-doctor check PATH --report DIR`` (2
jobs, no cache), the size of index.html and of the whole report directory;
then, in headless Chromium, the time from opening the file to the first chart
drawn, and for the sweep the time to draw the sweep's training-loss chart of
every run and to apply a name filter.  ``--old`` runs the same command from
another checkout (PYTHONPATH) in the same session, for the size and time of
the report before it became interactive.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def _bench_check():
    spec = importlib.util.spec_from_file_location("bench_check",
                                                  os.path.join(HERE, "bench_check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def million_point_run() -> str:
    out = os.path.join(DATA, "run_1m")
    path = os.path.join(out, "metrics.csv")
    if os.path.exists(path):
        return out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 1_000_000
    steps = np.arange(n)
    loss = 2.0 * np.exp(-steps / 2e5) + 0.3 + rng.normal(0, 0.05, n)
    loss[600_000] = 9.0  # one spike, so that the run has a finding to shade
    with open(path, "w") as fh:
        fh.write("step,train/loss\n")
        for s, v in zip(steps.tolist(), loss.tolist()):
            fh.write(f"{s},{v:.6f}\n")
    return out


def _dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def report(path: str, out: str, pythonpath: str | None = None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "NO_COLOR": "1"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "loss_doctor", "check", path, "--report", out,
                    "--exit-zero", "--no-cache", "-j", "2", "--quiet", "-o", os.devnull],
                   check=True, env=env, cwd=DATA)  # not the checkout: -m would import it
    return {"seconds": time.perf_counter() - began,
            "index_mb": os.path.getsize(os.path.join(out, "index.html")) / 1e6,
            "dir_mb": _dir_size(out) / 1e6}


def in_browser(index: str, sweep: bool) -> dict:
    from playwright.sync_api import sync_playwright

    browser = shutil.which("chromium")
    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        began = time.perf_counter()
        page.goto("file://" + os.path.abspath(index))
        page.locator("[data-chart-key]").first.scroll_into_view_if_needed()
        page.wait_for_function("window.ldCharts && Object.keys(window.ldCharts).length > 0",
                               timeout=120_000)
        out["first_chart_s"] = time.perf_counter() - began  # page open to one chart drawn
        if sweep:
            page.goto("file://" + os.path.abspath(index))
            began = time.perf_counter()
            page.locator("[data-chart-key='sweep-train_loss']").scroll_into_view_if_needed()
            page.wait_for_function("window.ldCharts['sweep-train_loss'] !== undefined",
                                   timeout=120_000)
            out["sweep_chart_s"] = time.perf_counter() - began
            out["sweep_series"] = page.evaluate(
                "window.ldCharts['sweep-train_loss'].u.series.length - 1")
            began = time.perf_counter()
            page.locator("#sweep-filter").fill("lr_00")
            page.wait_for_timeout(0)
            out["filter_s"] = time.perf_counter() - began
            out["shown_after_filter"] = page.evaluate(
                "window.ldCharts['sweep-train_loss'].u.series.slice(1)"
                ".filter(s => s.show).length")
        out["errors"] = errors
        b.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", help="another checkout to run the same commands from")
    args = ap.parse_args()
    cases = {"1M-point run": (million_point_run(), False),
             "1,000-run sweep (10M points)": (_bench_check().make_sweep(1000, 3300), True)}
    for name, (path, sweep) in cases.items():
        out = os.path.join(DATA, "report_" + ("sweep" if sweep else "1m"))
        new = report(path, out)
        new.update(in_browser(os.path.join(out, "index.html"), sweep))
        print(f"{name}: {new}")
        if args.old:
            old = report(path, out + "_old", pythonpath=os.path.abspath(args.old))
            print(f"{name}, old static report: {old}")


if __name__ == "__main__":
    main()
