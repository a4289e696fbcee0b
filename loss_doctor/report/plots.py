"""Plots that show each finding on its curve.

One PNG per run and role group (losses: train and validation together; error
rates and perplexities, on their own axes; the learning rate; the gradient
norm; accuracy-like metrics on request).  As TensorBoard
draws them: the raw curve faded behind the smoothed one (debiased EMA, weight
0.6, non-finite points passed through); sparse series (30 points or fewer,
typically evaluations) are drawn unsmoothed with markers.  Log y-scale when a loss spans more
than a decade; NaN/inf steps marked along the bottom; each finding's step range
shaded and labelled with its code; the best checkpoint marked.

matplotlib's advice for servers: ``Figure`` objects, no pyplot state;
``metadata={"Software": None}`` for byte-stable PNGs.  Long series are reduced
for drawing only (min and max per pixel column keep spikes visible), never for
analysis.
"""

from __future__ import annotations

import io

import numpy as np

from loss_doctor import stats
from loss_doctor.findings import Finding

from .common import PALETTE

GROUPS = {"losses": ("train_loss", "val_loss"), "errors": ("train_metric", "val_metric"),
          "lr": ("lr",), "grad_norm": ("grad_norm",), "metrics": ("train_metric", "val_metric")}
DIRECTION = {"errors": "down", "metrics": "up"}  # error rates and perplexities apart
SEVERITY_COLOUR = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
COLUMNS = 1000  # pixel columns of the plot area, roughly
MAX_SERIES = 8
SPARSE = 30  # evaluations this few are drawn as they are: an EMA would lag them


def _reduce(steps: np.ndarray, values: np.ndarray, columns: int = COLUMNS):
    """Min and max of each of ``columns`` step bins (for drawing only)."""
    if steps.size <= 2 * columns:
        return steps, values, values
    edges = np.linspace(steps[0], steps[-1], columns + 1)
    idx = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, columns - 1)
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    finite = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(all="ignore"):
        lo = np.fmin.reduceat(finite, starts)
        hi = np.fmax.reduceat(finite, starts)
    return steps[starts], lo, hi


def _draw_series(ax, series, colour, weight):
    steps, values = series.steps, series.values
    x, lo, hi = _reduce(steps, values)
    if x.size == steps.size:
        ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
    else:
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
    sparse = steps.size <= SPARSE
    smooth = values if sparse else stats.ema_debiased(values, weight)
    xs, _, sm = _reduce(steps, smooth)
    ax.plot(xs, sm, color=colour, linewidth=1.6, label=series.metric,
            marker="o" if sparse else None, markersize=3)
    bad = steps[~np.isfinite(values)]
    if bad.size:
        ax.plot(bad, np.zeros(bad.size), transform=ax.get_xaxis_transform(), marker="|",
                linestyle="none", color="#d62728", markersize=10, clip_on=False,
                label=f"{series.metric}: NaN/inf ({bad.size})")


def plot_group(run, group: str, series: list, findings: list[Finding],
               weight: float = 0.6, unit: str = "step") -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.4), dpi=110)
    draw_group(fig.add_subplot(), run, group, series, findings, weight, unit)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def draw_group(ax, run, group: str, series: list, findings: list[Finding],
               weight: float = 0.6, unit: str = "step") -> None:
    """One role group's curves on ``ax``, each finding's span shaded and
    labelled, the best checkpoint starred."""
    for i, s in enumerate(series[:MAX_SERIES]):
        _draw_series(ax, s, PALETTE[i % len(PALETTE)], weight)
    values = np.concatenate([s.values for s in series])
    finite = values[np.isfinite(values)]
    if group in ("losses", "errors") and finite.size and finite.min() > 0 and \
            finite.max() / finite.min() > 10:
        ax.set_yscale("log")
    names = {s.metric for s in series}
    for f in findings:
        if f.metric not in names:
            continue
        colour = SEVERITY_COLOUR[f.severity]
        if f.code == "LD501":
            ax.axvline(f.step_start, color="#2ca02c", linestyle="--", linewidth=1)
            ax.plot([f.step_start], [f.evidence.get("best_value", np.nan)], marker="*",
                    color="#2ca02c", markersize=12, label=f"best checkpoint (step "
                                                          f"{f.step_start})")
            continue
        if f.severity == "info":
            continue
        width = max(f.step_end - f.step_start, 0)
        pad = max(1, 0.004 * (series[0].steps[-1] - series[0].steps[0] + 1))
        ax.axvspan(f.step_start - pad, f.step_start + width + pad, color=colour, alpha=0.15)
        ax.text(f.step_start, 1.0, f" {f.code} {f.kind}", transform=ax.get_xaxis_transform(),
                color=colour, fontsize=8, fontweight="bold", va="bottom", ha="left")
    ax.set_title(f"{run} · {group}", loc="left", fontsize=10)
    ax.set_xlabel(unit)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=7, loc="best", frameon=False)


def groups_of(view, groups, *, min_points: int = 2,
              main_first=("losses",)) -> dict[str, list]:
    """{group: its series of ``min_points`` or more} for the groups ``view``
    has; in the ``main_first`` groups the main series (the plainest name of
    each role) come first, then components."""
    out = {}
    for group in groups:
        series = [s for s in view.series.values()
                  if s.role.role in GROUPS[group] and s.values.size >= min_points
                  and DIRECTION.get(group, s.role.direction) == s.role.direction]
        if group in main_first:
            main = {getattr(view.primary(r), "metric", None) for r in GROUPS[group]}
            series.sort(key=lambda s: (s.metric not in main, s.role.role, s.metric))
        if series:
            out[group] = series
    return out


def figure(view, findings: list[Finding], *, groups=("losses", "errors", "lr", "grad_norm"),
           weight: float = 0.6):
    """One matplotlib ``Figure`` (no pyplot state) with a panel per role group
    of ``view``: what ``loss_doctor.plot`` returns in a notebook."""
    from matplotlib.figure import Figure

    panels = groups_of(view, groups)
    heights = [3 if g in ("losses", "errors") else 1.8 for g in panels] or [3]
    fig = Figure(figsize=(9, sum(heights) + 0.4), dpi=100)
    axes = fig.subplots(len(heights), 1, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (group, series) in zip(axes, panels.items()):
        draw_group(ax, view.run, group, series, findings, weight, view.unit)
    fig.tight_layout()
    return fig


def plot_run(view, findings: list[Finding], *, groups=("losses", "errors", "lr", "grad_norm"),
             weight: float = 0.6) -> dict[str, bytes]:
    """{group: PNG bytes} for one run's :class:`RunView`."""
    return {group: plot_group(view.run, group, series, findings, weight, view.unit)
            for group, series in groups_of(view, groups).items()}
