"""Did my change make training worse?  A candidate run against a reference run.

Both runs' main loss (``train_loss`` role by default, or a named metric) are
smoothed as the divergence detector does (centred rolling median in log space,
window an eighth of the run, 15-501 points), the reference is interpolated
onto the candidate's steps over the steps both logged, and their log ratio is
compared with the noise both curves carry: each smoothed curve moves by about
``1.25 * sigma / sqrt(window)`` from per-batch noise alone (``sigma`` from the
MAD of first differences), so a gap counts only beyond ``k`` (3) combined noise
scales and beyond ``min_rel`` (2%).  The verdict is read over the last quarter
of the shared steps: ``worse``, ``better`` or ``same``; a candidate that went
NaN/inf is worse whatever came before.  Also: final and best values, and the
first step at which each run came within noise of the reference's final level.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

import parsers

from . import stats
from .errors import InputError, LossDoctorError
from .views import RunView, Series


class CompareError(LossDoctorError, ValueError):
    """Two runs that cannot be compared."""


@dataclass
class Comparison:
    metric: str
    reference_metric: str
    verdict: str  # "worse", "better" or "same"
    final_ratio: float  # candidate / reference, smoothed, at the last shared step
    tail_ratio: float  # median ratio over the last quarter of shared steps
    threshold_ratio: float
    candidate_final: float
    reference_final: float
    candidate_best: float
    reference_best: float
    steps_to_reference_final: dict = field(default_factory=dict)
    worse_segments: list = field(default_factory=list)
    shared_steps: tuple = (0, 0)
    candidate_non_finite_step: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _smooth(series: Series):
    s = series.finite_prefix()
    z, logged = s.logged()
    w = stats.level_window(s.values.size)
    sm = stats.rolling_median(z, w)
    noise = 1.25 * stats.noise_scale(z) / math.sqrt(w)
    return s.steps, sm, noise, logged


def _reach(steps, smooth, level):
    """The first step where the smoothed curve comes within noise of ``level``."""
    hit = np.flatnonzero(smooth <= level)
    return int(steps[hit[0]]) if hit.size else None


def compare(candidate: Series, reference: Series, *, k: float = 3.0,
            min_rel: float = 0.02) -> Comparison:
    c_steps, c_sm, c_noise, c_log = _smooth(candidate)
    r_steps, r_sm, r_noise, r_log = _smooth(reference)
    if not (c_log and r_log):
        raise CompareError("compare needs positive losses on both runs")
    lo, hi = max(c_steps[0], r_steps[0]), min(c_steps[-1], r_steps[-1])
    shared = (c_steps >= lo) & (c_steps <= hi)
    if shared.sum() < 5:
        raise CompareError(f"the runs share too few steps ({lo}-{hi}) to compare")
    steps = c_steps[shared]
    diff = c_sm[shared] - np.interp(steps, r_steps, r_sm)
    threshold = max(k * math.hypot(c_noise, r_noise), math.log(1 + min_rel))
    tail = diff[int(diff.size * 0.75):]
    tail_d = float(np.median(tail))
    verdict = "worse" if tail_d > threshold else "better" if tail_d < -threshold else "same"
    segments = [(int(steps[a]), int(steps[b - 1])) for a, b in stats.runs_of(diff > threshold)
                if b - a >= 3]
    ref_final = float(r_sm[-1])
    bad = np.flatnonzero(~np.isfinite(candidate.values))
    broke = int(candidate.steps[bad[0]]) if bad.size else None
    if broke is not None:
        verdict = "worse"  # it went NaN/inf: whatever came before
    return Comparison(
        metric=candidate.metric, reference_metric=reference.metric, verdict=verdict,
        final_ratio=math.exp(float(diff[-1])), tail_ratio=math.exp(tail_d),
        threshold_ratio=math.exp(threshold),
        candidate_final=math.exp(float(c_sm[-1])), reference_final=math.exp(ref_final),
        candidate_best=math.exp(float(c_sm.min())), reference_best=math.exp(float(r_sm.min())),
        steps_to_reference_final={"candidate": _reach(c_steps, c_sm, ref_final + threshold),
                                  "reference": _reach(r_steps, r_sm, ref_final + threshold)},
        worse_segments=segments, shared_steps=(int(lo), int(hi)),
        candidate_non_finite_step=broke)


def describe(c: Comparison, candidate: str, reference: str) -> str:
    head = {"worse": "WORSE", "better": "better", "same": "no significant difference"}[
        c.verdict]
    lines = [f"{candidate} vs {reference} on {c.metric}: {head}",
             f"  over the last quarter of steps {c.shared_steps[0]}-{c.shared_steps[1]}: "
             f"{c.tail_ratio:.3f}x the reference (noise allows {c.threshold_ratio:.3f}x)",
             f"  final (smoothed): {c.candidate_final:.4g} vs {c.reference_final:.4g}; "
             f"best: {c.candidate_best:.4g} vs {c.reference_best:.4g}"]
    if c.candidate_non_finite_step is not None:
        lines.insert(1, f"  {c.metric} is NaN/inf from step {c.candidate_non_finite_step}")
    reach = c.steps_to_reference_final
    cand = reach["candidate"]
    lines.append(f"  first step within noise of the reference's final {c.reference_final:.4g}"
                 f": {'never' if cand is None else cand} (reference: {reach['reference']})")
    if c.worse_segments:
        spans = ", ".join(f"{a}-{b}" for a, b in c.worse_segments[:5])
        lines.append(f"  worse beyond noise at steps {spans}")
    return "\n".join(lines)


def load_run(path: str, role_overrides: dict) -> RunView:
    """The view of the one run at ``path`` (a run directory or log file)."""
    from .inputs import nothing_read, sources_for
    from .inventory import read_view

    sources = sources_for((path,))
    if len(sources) > 1:
        raise InputError(f"{path} holds {len(sources)} runs; give one run's directory or file")
    view, errors = None, list(sources.skipped)
    if sources:
        view, _, errors = read_view(sources[0], role_overrides, parsers.cache_dir_of(True))
    nothing_read([view] if view else [], errors, (path,))
    return view


def pick(view: RunView, metric: str | None, path: str) -> Series:
    """The series to compare: ``metric``, else the run's main loss."""
    if metric:
        if metric not in view.series:
            raise InputError(f"{path} has no metric {metric!r} (it has: "
                             f"{', '.join(sorted(view.series))})")
        return view.series[metric]
    series = view.primary("train_loss") or view.primary("val_loss")
    if series is None:
        raise InputError(f"{path} has no loss series; name one with --metric")
    return series
