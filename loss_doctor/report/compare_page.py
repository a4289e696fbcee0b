"""``loss-doctor compare RUN --against REF --report DIR``: the interactive page
with both runs' curves aligned on step, one chart per role group (the
candidate's and the reference's main series overlaid), the verdict on top,
then each run's own findings and charts as ``check --report`` draws them."""

from __future__ import annotations

import html
import os
from dataclasses import replace

from .chart_data import CHART_GROUPS, series_data
from .html import PlotFiles, write_report
from .plots import GROUPS


def _overlay(cand, ref) -> dict:
    charts = []
    for group in CHART_GROUPS:
        members = []
        for label, view in (("candidate", cand), ("reference", ref)):
            for role in GROUPS[group]:
                s = view.primary(role)
                if s is None or (group == "errors" and s.role.direction != "down"):
                    continue
                members.append(series_data(replace(s, metric=f"{label} · {s.metric}")))
        if members:
            charts.append({"group": group, "series": members, "more": 0})
    return {"run": f"{cand.run} vs {ref.run}", "unit": cand.unit, "charts": charts,
            "sweep": {}, "best": None, "worst": None}


def write_compare_report(out_dir: str, cand, ref, verdict_text: str, verdict: str) -> dict:
    """Diagnose both views, then write index.html and report.md into ``out_dir``."""
    from loss_doctor.check import CheckResult
    from loss_doctor.config import Config
    from loss_doctor.diagnosis import build_detectors, diagnose_view
    from loss_doctor.inventory import run_info
    from loss_doctor.ranking import rank

    from .chart_data import run_data
    from .plots import plot_run

    config = Config()
    detectors = build_detectors(config)
    findings, charts = [], {}
    os.makedirs(out_dir, exist_ok=True)
    plots = PlotFiles(out_dir)
    for view in (cand, ref):
        found = diagnose_view(view, detectors, config)
        findings += found
        charts[view.run] = run_data(view, found)
        plots(view.run, plot_run(view, found))
    ranked = rank(findings)
    result = CheckResult.of(ranked, runs=[run_info(v, v.info) for v in (cand, ref)],
                            config=config)
    badge = {"worse": "error", "better": "ok", "same": "info"}[verdict]
    intro = (f"<section class=run><h3>verdict <span class='sev {badge}'>{verdict}</span></h3>"
             f"<pre>{html.escape(verdict_text)}</pre></section>")
    return write_report(out_dir, plots, result, charts, title="loss-doctor compare",
                        intro=intro, overlay=_overlay(cand, ref))
