"""``--report DIR``: index.html, report.md (plots linked as PNG files) and the PNGs.

index.html is one self-contained file (no network, no CDN: it opens from disk
and as a CI artifact): the interactive charts are drawn by uPlot, shipped in
``assets/`` with its licence and inlined, from the chart data each worker
made beside the diagnosis (:mod:`loss_doctor.report.chart_data`).  Hover reads
step, value, smoothed value and wall time; drag zooms, double-click resets;
a smoothing slider (TensorBoard's debiased EMA), log/linear y, series
toggles; each finding's span shaded and labelled, the best checkpoint marked;
a click on a finding zooms its chart to its span.  With more than one run, a
sweep view overlays every run per role, with a filter box, and the runs
table sorts by final loss, best val loss and worst finding.  report.md and
the PNGs stay for places without JavaScript.

Every run id, metric name and message is data: it goes through
``html.escape`` into the page, and into the chart data as JSON (``<`` escaped),
which the script only ever sets as text.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources

from loss_doctor.findings import SEVERITY_ORDER, Finding

from . import markdown
from .base import Reporter
from .common import PALETTE


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def _badge(severity: str | None, not_checked: str | None = None) -> str:
    if severity is None and not_checked:
        return f'<span class="sev unchecked" title="{_e(not_checked)}">not checked</span>'
    if severity is None:
        return '<span class="sev ok">healthy</span>'
    return f'<span class="sev {severity}">{severity}</span>'


def _steps(f: Finding, unit: str) -> str:
    return f"{unit} {f.step_start}" if f.step_start == f.step_end else \
        f"{unit}s {f.step_start}–{f.step_end}"


def _finding_html(f: Finding, index: int | None, unit: str = "step") -> str:
    evidence = json.dumps(f.to_dict()["evidence"], indent=1)
    hint = f'<div class="hint"><b>hint:</b> {_e(f.hint)}</div>' if f.hint else ""
    data = f' data-finding="{index}" title="click: zoom its chart to the span"' \
        if index is not None else ""
    return (f'<div class="finding {f.severity}"{data}><div>{_badge(f.severity)} <b>#{f.rank} '
            f'{_e(f.code)} {_e(f.kind)}</b> · <a href="#run-{_e(slug(f.run))}">{_e(f.run)}</a>'
            f' · <code>{_e(f.metric)}</code> · {_steps(f, unit)} · score {f.score:.2f}</div>'
            f'<div>{_e(f.message)}</div>{hint}<details><summary>evidence</summary>'
            f'<pre>{_e(evidence)}</pre></details></div>')


EMBED_ALL = 50  # up to this many runs, every run gets its interactive charts
GROUPS = ("losses", "errors", "lr", "grad_norm")  # and "metrics" with --plot-metrics
SEVERITY_RGB = {"error": (214, 39, 40), "warning": (224, 123, 0), "info": (31, 119, 180)}
HEIGHTS = {"losses": 260, "errors": 200, "lr": 160, "grad_norm": 160}  # chart heights, px
SWEEP_HEIGHTS = {"loss": 280, "other": 150}
STYLE = {"palette": PALETTE, "severity": SEVERITY_RGB, "heights": HEIGHTS,
         "sweep_heights": SWEEP_HEIGHTS}  # what report.js draws with: one source
ROLE_TITLES = {"train_loss": "training loss", "val_loss": "validation loss",
               "lr": "learning rate", "grad_norm": "gradient norm"}


def asset(name: str) -> str:
    """A file shipped in ``loss_doctor/report/assets`` (uPlot and its licence,
    the report's script and stylesheet)."""
    return resources.files("loss_doctor.report").joinpath("assets", name).read_text("utf-8")


def script_json(value) -> str:
    """JSON safe inside ``<script>``: no ``</script>``, no ``<!--``."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).replace(
        "<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class HtmlReporter(Reporter):
    """``--report DIR``: index.html, report.md and ``plots/``.  The PNGs and the
    chart data are made in the workers (:func:`per_run`); PNGs are written to
    ``plots/`` as runs finish, and the chart data of healthy runs is dropped
    once a sweep has more than ``EMBED_ALL`` runs (their sweep curves and
    table row stay), so a report on thousands of runs stays small in memory
    and on disk."""

    name = "html"
    summary = "index.html with interactive charts, report.md and the PNGs"
    writes_files = True

    def __init__(self):
        self.plots: PlotFiles | None = None
        self.charts: dict[str, dict] = {}
        self.healthy_charts = 0

    @staticmethod
    def per_run(view, findings, options) -> dict:
        from .chart_data import run_data
        from .plots import plot_run

        groups = GROUPS + (("metrics",) if options.plot_metrics else ())
        problem = any(f.severity != "info" for f in findings)
        total = getattr(options, "runs_total", None)
        # past EMBED_ALL runs, the PNGs (for report.md) of healthy runs are not drawn:
        # a sweep's thousand healthy runs are in the sweep view
        drawn = problem or total is None or total <= EMBED_ALL
        return {"png": plot_run(view, findings, groups=groups) if drawn else {},
                "chart": run_data(view, findings), "problem": problem}

    def collect(self, run: str, payload: dict, options) -> None:
        if self.plots is None:
            self.plots = PlotFiles(options.report_dir)
        self.plots(run, payload["png"])
        chart = payload["chart"]
        if not payload["problem"]:
            self.healthy_charts += 1
            if self.healthy_charts > EMBED_ALL:
                chart = {**chart, "charts": []}
                for other in self.charts.values():
                    if not other.get("problem"):
                        other["charts"] = []
        self.charts[run] = {**chart, "problem": payload["problem"]}

    def render(self, result, options) -> dict[str, str]:
        plots = self.plots or PlotFiles(options.report_dir)
        return write_report(options.report_dir, plots, result, self.charts)


class PlotFiles:
    """Writes each run's PNGs into ``out_dir/plots`` as they arrive, keeping
    only their names."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.plots_dir = os.path.join(out_dir, "plots")
        os.makedirs(self.plots_dir, exist_ok=True)
        self.files: dict[str, dict[str, str]] = {}  # run -> group -> path in out_dir

    def __call__(self, run: str, pngs: dict[str, bytes]) -> None:
        for group, png in pngs.items():
            name = f"plots/{slug(run)}__{group}.png"
            with open(os.path.join(self.out_dir, name), "wb") as fh:
                fh.write(png)
            self.files.setdefault(run, {})[group] = name


def write_report(out_dir: str, plots: PlotFiles, result, charts: dict | None = None,
                 title: str = "loss-doctor report", intro: str = "",
                 overlay: dict | None = None) -> dict[str, str]:
    """Write index.html and report.md beside the plots; returns their paths."""
    index = os.path.join(out_dir, "index.html")
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(page(result, plots, charts or {}, title=title, intro=intro, overlay=overlay))
    md = os.path.join(out_dir, "report.md")
    with open(md, "w", encoding="utf-8") as fh:
        fh.write(markdown.document(result, images={
            run: list(groups.values()) for run, groups in plots.files.items()}))
    return {"html": index, "markdown": md, "plots": plots.plots_dir}


def _worst(findings) -> dict[str, Finding]:
    worst: dict[str, Finding] = {}
    for f in findings:
        if f.severity != "info" and (f.run not in worst or
                                     SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[
                                         worst[f.run].severity]):
            worst[f.run] = f
    return worst


def _number(value) -> str:
    return "" if value is None else f"{value:.4g}"


def page(result, plots: PlotFiles, charts: dict, *, title: str = "loss-doctor report",
         intro: str = "", overlay: dict | None = None) -> str:
    """The whole index.html; ``overlay``: a chart section drawn first (compare's
    two runs aligned on step), in the layout of a run's chart data."""
    runs, findings = result.runs, result.findings
    worst = _worst(findings)
    order = sorted(runs, key=lambda r: (SEVERITY_ORDER.get(
        getattr(worst.get(r.run), "severity", "info"), 3), r.run))
    index = {r.run: i for i, r in enumerate(order)}
    problems = [f for f in findings if f.severity != "info"]
    units = {r.run: charts.get(r.run, {}).get("unit", r.x_axis) for r in runs}
    js_runs = []
    for r in order:
        c = charts.get(r.run, {})
        w = worst.get(r.run)
        js_runs.append({"run": r.run, "unit": units[r.run], "charts": c.get("charts", []),
                        "sweep": c.get("sweep", {}), "best": c.get("best"),
                        "worst": w.severity if w else None})
    js_findings = [{"run_index": index.get(f.run, -1), "code": f.code, "severity": f.severity,
                    "start": f.step_start, "end": f.step_end,
                    "metrics": [f.metric, *(a["metric"] for a in f.evidence.get("also", ()))]}
                   for f in problems]
    sweep_order = sorted(range(len(order)), key=lambda i: (js_runs[i]["worst"] is not None,
                                                          -SEVERITY_ORDER.get(
                                                              js_runs[i]["worst"] or "", 9), i))
    from .chart_data import on_grid

    grids = {}
    for role in ROLE_TITLES:
        grid, values = on_grid([r["sweep"].get(role) for r in js_runs])
        if grid:
            grids[role] = grid
        for r, v in zip(js_runs, values):
            r.setdefault("grid", {})[role] = v
    for r in js_runs:
        r["has_sweep"] = sorted(r["sweep"])
        del r["sweep"]
    if overlay:
        js_runs.append({**overlay, "grid": {}, "has_sweep": []})
        overlay.pop("sweep", None)
    doc = {"runs": js_runs, "findings": js_findings, "sweep_order": sweep_order,
           "grids": grids, "style": STYLE}
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    out = ["<!doctype html><html lang=en><head><meta charset=utf-8>",
           "<meta name=viewport content='width=device-width,initial-scale=1'>",
           f"<title>{_e(title)}</title>",
           f"<style>{asset('uPlot.min.css')}\n{asset('report.css')}</style></head><body><main>",
           f"<h1>{_e(title)}</h1>",
           f"<div class=sub>{len(runs)} run{'s' if len(runs) != 1 else ''} · "
           f"{result.points:,} points · "
           + " · ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}"
                        for s, n in counts.items()) + "</div>", intro,
           "<noscript><p>The charts need JavaScript: <a href='report.md'>report.md</a> and "
           "<code>plots/</code> beside this file hold them as PNGs.</p></noscript>",
           "<div class=controls><label>smoothing <input type=range id=smoothing min=0 "
           "max=0.99 step=0.01 value=0.6> <b id=smoothing-value>0.60</b></label>"
           "<span class=meta>hover: values · drag: zoom · double-click: reset · legend: "
           "show/hide · a finding: zoom to it</span></div>"]
    if overlay:
        out.append(f"<h2>{_e(overlay['run'])}</h2>")
        out += _run_charts(len(js_runs) - 1, overlay)
    out += _runs_table(order, worst, charts, index)
    out.append(f"<h2>Findings ({len(problems)})</h2>")
    out += [_finding_html(f, i, units.get(f.run, "step")) for i, f in enumerate(problems)] \
        or ["<p>No warnings or errors.</p>"]
    if result.errors:
        out.append("<h2>Files that could not be read</h2><ul>")
        out += [f"<li><code>{_e(e.path)}</code>: {_e(e.message)}</li>" for e in result.errors]
        out.append("</ul>")
    if len(order) > 1:
        out += _sweep_section(order, js_runs, sweep_order)
    out.append("<h2>Runs in detail</h2>")
    if any(not js_runs[i]["charts"] for i in range(len(order))):
        out.append(f"<p class=meta>Past {EMBED_ALL} runs, the runs without warnings are drawn "
                   "in the sweep view only.</p>")
    for i, r in enumerate(order):
        out += _run_section(i, r, js_runs[i], worst.get(r.run), findings, plots)
    out.append(f"<script type='application/json' id=ld-data>{script_json(doc)}</script>")
    out.append(f"<script>{asset('uPlot.iife.min.js')}</script>")
    out.append(f"<script>{asset('report.js')}</script>")
    out.append("</main></body></html>")
    return "\n".join(out)


def _runs_table(order, worst, charts, index) -> list[str]:
    out = ["<h2>Runs</h2><div class=scroll><table id=runs><thead><tr>"
           "<th data-sort=name>run</th><th>format</th><th data-sort=points>points</th>"
           "<th data-sort=final>final train loss</th><th data-sort=best>best val loss</th>"
           "<th data-sort=worst>worst finding</th></tr></thead><tbody>"]
    for r in order:
        w = worst.get(r.run)
        summary = charts.get(r.run, {}).get("summary", {})
        what = f"{_badge(w.severity)} {_e(w.code)} {_e(w.kind)} on <code>{_e(w.metric)}</code>" \
            if w else _badge(None, r.not_checked) + (
                f" <span class=meta>{_e(r.not_checked)}</span>" if r.not_checked else "")
        rank = SEVERITY_ORDER[w.severity] * 1000 + w.rank if w else 9000 + index[r.run]
        final, best = summary.get("final_train"), summary.get("best_val")
        out.append(f"<tr data-run={index[r.run]} data-name='{_e(r.run.lower())}' "
                   f"data-points={r.points} data-final='{_number(final)}' "
                   f"data-best='{_number(best)}' data-worst={rank}>"
                   f"<td><a href='#run-{_e(slug(r.run))}'>{_e(r.run)}</a></td>"
                   f"<td>{_e(r.format)}</td><td class=num>{r.points:,}</td>"
                   f"<td class=num>{_number(final)}</td><td class=num>{_number(best)}</td>"
                   f"<td>{what}</td></tr>")
    out.append("</tbody></table></div>")
    return out


def _sweep_section(order, js_runs, sweep_order) -> list[str]:
    roles = [role for role in ROLE_TITLES if any(role in r["has_sweep"] for r in js_runs)]
    if not roles:
        return []
    out = ["<h2>Sweep</h2><section class=sweep id=sweep>",
           "<input type=search id=sweep-filter placeholder='filter runs by name' "
           "aria-label='filter runs by name'> <span class=meta id=sweep-count></span>",
           "<ul id=sweep-legend>"]
    for i in reversed(sweep_order):  # problem runs first in the legend
        r = js_runs[i]
        colour = f"rgba({','.join(map(str, SEVERITY_RGB[r['worst']]))},0.9)" if r["worst"] else \
            PALETTE[i % len(PALETTE)]
        out.append(f"<li data-run={i}><span class=sw style='background:{colour}'></span>"
                   f"<a href='#run-{_e(slug(r['run']))}'>{_e(r['run'])}</a></li>")
    out.append("</ul>")
    for role in roles:
        small = "" if "loss" in role else " small"
        height = SWEEP_HEIGHTS["loss" if "loss" in role else "other"]
        out.append(f"<div class='chart{small}' data-chart-key='sweep-{role}'><div class=bar>"
                   f"<b>{_e(ROLE_TITLES[role])}</b> every run's main series</div>"
                   f"<div class=plot style='--h:{height}px'></div></div>")
    out.append("</section>")
    return out


def _run_section(i, r, js_run, w, findings, plots) -> list[str]:
    run = r.run
    out = [f"<section class=run id='run-{_e(slug(run))}'><h3>{_e(run)} "
           f"{_badge(getattr(w, 'severity', None), r.not_checked)}</h3>"
           f"<div class=meta>{_e(r.format)} · {r.points:,} points · "
           f"x axis: {_e(r.x_axis)} · {_e(r.path)}</div>"]
    for f in [f for f in findings if f.run == run and f.severity == "info"]:
        out.append(f"<div class=meta><b>{_e(f.code)}</b> {_e(f.message)}</div>")
    if js_run["charts"]:
        out += _run_charts(i, js_run)
    else:
        out.append("<div class=meta>drawn in the <a href='#sweep'>sweep view</a></div>")
    out.append("</section>")
    return out


def _run_charts(i: int, js_run: dict) -> list[str]:
    out = []
    for ci, chart in enumerate(js_run["charts"]):
        small = " small" if chart["group"] in ("lr", "grad_norm") else ""
        more = f" (and {chart['more']} more)" if chart.get("more") else ""
        out.append(f"<div class='chart{small}' data-chart-key='{i}-{ci}' data-run={i} "
                   f"data-chart={ci}><div class=bar><b>{_e(chart['group'])}</b>{more}"
                   f"<button class=log type=button>log y</button></div>"
                   f"<div class=plot style='--h:{HEIGHTS.get(chart['group'], 200) + 40}px'>"
                   f"</div></div>")
    return out
