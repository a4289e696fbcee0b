"""``--report DIR``: index.html (one self-contained file, plots embedded as data
URIs, no network, no JavaScript), report.md (plots linked as files) and the PNGs.

Every run id, metric name and message is data and goes through
``html.escape``.
"""

from __future__ import annotations

import base64
import html
import os
import re

from loss_doctor.findings import SEVERITY_ORDER, Finding

from . import markdown
from .base import Reporter

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:15px;margin:18px 0 6px}
.sub{color:#5b6474;margin-bottom:18px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e3e6eb}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{background:#fafbfc;font-weight:600;color:#3b4352}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
color:#fff}
.error{background:#d62728}.warning{background:#e07b00}.info{background:#1f77b4}
.ok{background:#2a9d3f}.unchecked{background:#7a8291}
.finding{background:#fff;border:1px solid #e3e6eb;border-left:5px solid #ccc;
border-radius:6px;padding:10px 14px;margin:10px 0}
.finding.error{border-left-color:#d62728;background:#fff}
.finding.warning{border-left-color:#e07b00;background:#fff}
.finding.info{border-left-color:#1f77b4;background:#fff}
.meta{color:#5b6474;font-size:13px}.hint{color:#3b4352;font-size:13px;margin-top:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f2f5;padding:1px 4px;
border-radius:3px}
details{margin-top:6px}summary{cursor:pointer;color:#5b6474;font-size:13px}
pre{font:12px ui-monospace,Menlo,monospace;background:#f6f7f9;padding:8px;overflow:auto}
img{max-width:100%;background:#fff;border:1px solid #e3e6eb;border-radius:4px;margin:6px 0}
section.run{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:6px 16px 12px;
margin:16px 0}
"""


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


def _finding_html(f: Finding) -> str:
    import json

    steps = f"step {f.step_start}" if f.step_start == f.step_end else \
        f"steps {f.step_start}–{f.step_end}"
    evidence = json.dumps(f.to_dict()["evidence"], indent=1)
    hint = f'<div class="hint"><b>hint:</b> {_e(f.hint)}</div>' if f.hint else ""
    return (f'<div class="finding {f.severity}"><div>{_badge(f.severity)} <b>#{f.rank} '
            f'{_e(f.code)} {_e(f.kind)}</b> · <a href="#run-{_e(slug(f.run))}">{_e(f.run)}</a>'
            f' · <code>{_e(f.metric)}</code> · {steps} · score {f.score:.2f}</div>'
            f'<div>{_e(f.message)}</div>{hint}<details><summary>evidence</summary>'
            f'<pre>{_e(evidence)}</pre></details></div>')


EMBED_ALL = 50  # up to this many runs, every plot is embedded in index.html
GROUPS = ("losses", "errors", "lr", "grad_norm")  # and "metrics" with --plot-metrics


class HtmlReporter(Reporter):
    """``--report DIR``: index.html, report.md and ``plots/``.  The plots are
    drawn in the workers (:func:`per_run`) and written to ``plots/`` as runs
    finish, so a report on thousands of runs holds no images in memory."""

    name = "html"
    summary = "index.html with plots, report.md and the PNGs"
    writes_files = True

    def __init__(self):
        self.plots: PlotFiles | None = None

    @staticmethod
    def per_run(view, findings, options) -> dict[str, bytes]:
        from .plots import plot_run

        groups = GROUPS + (("metrics",) if options.plot_metrics else ())
        return plot_run(view, findings, groups=groups)

    def collect(self, run: str, payload: dict[str, bytes], options) -> None:
        if self.plots is None:
            self.plots = PlotFiles(options.report_dir)
        self.plots(run, payload)

    def render(self, result, options) -> dict[str, str]:
        plots = self.plots or PlotFiles(options.report_dir)
        return write_report(options.report_dir, plots, result)


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


def write_report(out_dir: str, plots: PlotFiles, result) -> dict[str, str]:
    """Write index.html and report.md beside the plots; returns their paths.
    The plots of runs with a warning or error are embedded in index.html (all
    of them, up to ``EMBED_ALL`` runs); the others are linked to ``plots/``."""
    index = os.path.join(out_dir, "index.html")
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(_page(result, plots))
    md = os.path.join(out_dir, "report.md")
    with open(md, "w", encoding="utf-8") as fh:
        fh.write(markdown.document(result, images={
            run: list(groups.values()) for run, groups in plots.files.items()}))
    return {"html": index, "markdown": md, "plots": plots.plots_dir}


def _page(result, plots: PlotFiles) -> str:
    runs, findings = result.runs, result.findings
    worst: dict[str, Finding] = {}
    for f in findings:
        if f.severity != "info" and (f.run not in worst or
                                     SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[
                                         worst[f.run].severity]):
            worst[f.run] = f
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    out = ["<!doctype html><html lang=en><head><meta charset=utf-8>",
           "<meta name=viewport content='width=device-width,initial-scale=1'>",
           "<title>loss-doctor report</title><style>", CSS, "</style></head><body><main>",
           "<h1>loss-doctor report</h1>",
           f"<div class=sub>{len(runs)} runs · {result.points:,} points · "
           + " · ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}"
                        for s, n in counts.items()) + "</div>",
           "<h2>Runs</h2><table><tr><th>run</th><th>format</th><th>points</th>"
           "<th>worst finding</th></tr>"]
    order = sorted(runs, key=lambda r: (SEVERITY_ORDER.get(
        getattr(worst.get(r.run), "severity", "info"), 3), r.run))
    for r in order:
        w = worst.get(r.run)
        what = f"{_badge(w.severity)} {_e(w.code)} {_e(w.kind)} on <code>{_e(w.metric)}</code>" \
            if w else _badge(None, r.not_checked) + (
                f" <span class=meta>{_e(r.not_checked)}</span>" if r.not_checked else "")
        out.append(f"<tr><td><a href='#run-{_e(slug(r.run))}'>{_e(r.run)}</a></td>"
                   f"<td>{_e(r.format)}</td><td>{r.points:,}</td><td>{what}</td></tr>")
    out.append("</table>")
    problems = [f for f in findings if f.severity != "info"]
    out.append(f"<h2>Findings ({len(problems)})</h2>")
    out += [_finding_html(f) for f in problems] or ["<p>No warnings or errors.</p>"]
    if result.errors:
        out.append("<h2>Files that could not be read</h2><ul>")
        out += [f"<li><code>{_e(e.path)}</code>: {_e(e.message)}</li>"
                for e in result.errors]
        out.append("</ul>")
    out.append("<h2>Runs in detail</h2>")
    if len(runs) > EMBED_ALL:
        out.append("<p class=meta>The plots of runs without warnings are linked, not "
                   "embedded: keep <code>plots/</code> beside this file.</p>")
    for r in order:
        run = r.run
        out.append(f"<section class=run id='run-{_e(slug(run))}'><h3>{_e(run)} "
                   f"{_badge(getattr(worst.get(run), 'severity', None), r.not_checked)}</h3>"
                   f"<div class=meta>{_e(r.format)} · {r.points:,} points · "
                   f"x axis: {_e(r.x_axis)} · {_e(r.path)}</div>")
        for f in [f for f in findings if f.run == run and f.severity == "info"]:
            out.append(f"<div class=meta><b>{_e(f.code)}</b> {_e(f.message)}</div>")
        embed = len(runs) <= EMBED_ALL or run in worst
        for group, name in plots.files.get(run, {}).items():
            if embed:
                with open(os.path.join(plots.out_dir, name), "rb") as fh:
                    src = "data:image/png;base64," + base64.b64encode(fh.read()).decode()
            else:
                src = _e(name)
            out.append(f"<img alt='{_e(run)} {group}' loading=lazy src='{src}'>")
        out.append("</section>")
    out.append("</main></body></html>")
    return "\n".join(out)
