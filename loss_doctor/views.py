"""What the diagnosis, the plots and the inventory see of a run: its series,
cut once from the run's sorted columns, each with the role it was given.

:func:`view_of` builds the :class:`RunView` of one run as the reader returned it
(:class:`parsers.frame.RunData`), without a DataFrame; :func:`run_views` cuts a
parsers frame (the public API) into the same views.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from parsers.frame import RunData, iter_series

from . import roles as roles_mod
from . import stats
from .roles import Role, pairs, primary

if TYPE_CHECKING:  # pandas is imported only where a frame is asked for
    import pandas as pd


@dataclass(frozen=True)
class Series:
    """One metric of one run, sorted by step (values may hold NaN/inf)."""

    run: str
    metric: str
    role: Role
    steps: np.ndarray
    values: np.ndarray
    walls: np.ndarray | None = None  # wall times (seconds) where the reader had them

    def finite_prefix(self) -> "Series":
        """The points before the first non-finite value (what a curve detector
        should judge: after a NaN the rest is LD101's business).  Made once:
        every detector asks for it."""
        kept = self.__dict__.get("_finite")
        if kept is not None:
            return kept
        bad = np.flatnonzero(~np.isfinite(self.values))
        if not bad.size:
            kept = self
        else:
            end = int(bad[0])
            kept = Series(self.run, self.metric, self.role, self.steps[:end],
                          self.values[:end], None if self.walls is None else self.walls[:end])
        self.__dict__["_finite"] = kept  # a frozen dataclass: its cache goes round __setattr__
        return kept

    def logged(self) -> tuple[np.ndarray, bool]:
        """:func:`loss_doctor.stats.log_if_positive` of the values, made once
        (a 10M-point run's detectors would each hold their own 26 MB copy)."""
        kept = self.__dict__.get("_logged")
        if kept is None:
            z, logged = stats.log_if_positive(self.values)
            z.setflags(write=False)  # shared by the detectors: none may change it
            kept = self.__dict__["_logged"] = (z, logged)
        return kept

    def index_at(self, step: int) -> int:
        """The index of the last point at or before ``step`` (-1 before the first)."""
        return int(np.searchsorted(self.steps, step, side="right")) - 1

    def value_at(self, step: int) -> float:
        """The value at the last point at or before ``step`` (NaN before the first)."""
        i = self.index_at(step)
        return float(self.values[i]) if i >= 0 else math.nan

    def smoothed(self) -> np.ndarray:
        """The centred rolling median the detectors judge levels by (linear space)."""
        return stats.rolling_median(self.values, stats.smoothing_window(self.values.size))

    def smoothed_at(self, i: int) -> float:
        """``smoothed()[i]``, from the points around ``i`` alone."""
        n = self.values.size
        return stats.centred_median_at(self.values, stats.smoothing_window(n), i % n)


@dataclass
class RunView:
    """Everything a detector may look at for one run.  ``info``: what the
    reader knew of the run (``x_axis``; facts such as a Trainer's
    ``best_metric``), as in ``df.attrs["runs"][run]``."""

    run: str
    series: dict[str, Series]
    roles: dict[str, Role] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """What one x value is: ``step``, ``epoch``, ``iteration``, ``row``..."""
        return str(self.info.get("x_axis") or "step")

    def at(self, x) -> str:
        """``step 420``, ``epoch 21``: an x value as messages name it."""
        return f"{self.unit} {int(x)}"

    def of_role(self, *roles: str) -> list[Series]:
        return [s for s in self.series.values() if s.role.role in roles]

    def primary(self, role: str) -> Series | None:
        found = primary(self.roles, role)
        return self.series[found.name] if found else None

    def main_curve(self, *roles: str, min_points: int = 1) -> Series | None:
        """The finite part of the first role's main series that exists, if it
        has at least ``min_points`` points."""
        for role in roles:
            series = self.primary(role)
            if series is not None:
                series = series.finite_prefix()
                return series if series.values.size >= min_points else None
        return None

    def selection(self) -> dict | None:
        """The run's own model-selection metric and its best point:
        ``{"metric", "step", "value", "kept"}``.  A Trainer state's
        ``best_metric`` is matched to the validation metric that holds that
        value (``kept``: the checkpoint the run itself kept, by name); else the
        main validation metric (WER, accuracy ...) with a direction, at its
        best evaluation."""
        kept = self.info.get("trainer") or {}
        candidates = [s for s in self.of_role("val_metric", "val_loss")
                      if s.role.direction in ("down", "up")]
        target = kept.get("best_metric")
        if target is not None and math.isfinite(target):
            for s in candidates:
                close = np.flatnonzero(np.isclose(s.values, target, rtol=1e-9, atol=0))
                if close.size:
                    step = kept.get("best_step", int(s.steps[close[-1]]))
                    return {"metric": s.metric, "step": int(step), "value": float(target),
                            "kept": kept.get("best_model_checkpoint") or f"step {step}"}
        series = self.primary("val_metric")
        if series is None or series.role.direction not in ("down", "up"):
            return None
        values = series.values
        finite = np.isfinite(values)
        if finite.sum() < 3:
            return None
        masked = np.where(finite, values, np.nan)
        i = int(np.nanargmin(masked) if series.role.direction == "down"
                else np.nanargmax(masked))
        return {"metric": series.metric, "step": int(series.steps[i]),
                "value": float(values[i]), "kept": None}

    def pairs(self) -> list[tuple[Series, Series]]:
        return [(self.series[t.name], self.series[v.name]) for t, v in pairs(self.roles)]

    def lr_context(self, step: int, end: int | None = None) -> dict:
        """What the learning rate was doing at ``step`` (empty if not logged);
        with ``end``, over the span from ``step`` to ``end``: ``lr_end`` is
        added, and a span that holds both warmup and decay says so rather
        than naming one phase of it."""
        lr = self.primary("lr")
        if lr is None or lr.values.size < 3:
            return {}
        values = lr.values
        i = max(0, lr.index_at(step))
        peak_i = int(np.nanargmax(values))
        peak = float(values[peak_i])
        now = float(values[i])
        if peak <= 0 or not math.isfinite(peak):
            return {}
        out = {"lr": now, "lr_peak": peak, "lr_peak_step": int(lr.steps[peak_i])}
        if np.ptp(values[np.isfinite(values)]) <= 0.01 * peak:
            return {**out, "lr_phase": "constant"}
        if end is not None:
            j = max(i, lr.index_at(end))
            part = values[i:j + 1]
            finite = part[np.isfinite(part)]
            if finite.size >= 2 and np.ptp(finite) > 0.05 * peak:
                top = i + int(np.nanargmax(part))
                rose, fell = top > i and values[top] > 1.05 * now, \
                    top < j and values[top] > 1.05 * float(values[j])
                phase = ("warming up, then decaying" if rose and fell else
                         "warming up" if rose else "decaying")
                return {**out, "lr_end": float(values[j]), "lr_phase": phase}
        if now >= 0.95 * peak:
            phase = "at its peak"
        elif i < peak_i:
            phase = "warming up"
        else:
            phase = "decaying"
        return {**out, "lr_phase": phase}


def _view(run: str, raw: dict, overrides: dict | None, info: dict | None) -> RunView:
    roles = roles_mod.assign_all(raw, overrides)
    series = {m: Series(run, m, roles[m], *parts) for m, parts in raw.items()}
    return RunView(run, series, roles, dict(info or {}))


def view_of(data: RunData, role_overrides: dict[str, str] | None = None, *,
            walls: bool = True) -> RunView:
    """The view of one run's data (sorted by metric, then step); roles are
    assigned here, once.  A run with no points has no series.  ``walls=False``:
    without wall times (no detector reads them; only the plots do), so that
    they can be freed with the data."""
    n = len(data.step)
    metric = data.metric
    cuts = np.flatnonzero(metric[1:] != metric[:-1]) + 1 if n else np.empty(0, np.int64)
    raw = {}
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, n]) if n else ():
        raw[data.names[int(metric[a])]] = (data.step[a:b], data.value[a:b],
                                           data.wall_time[a:b] if walls else None)
    return _view(data.run, raw, role_overrides, data.info)


def run_views(df: pd.DataFrame, role_overrides: dict[str, str] | None = None):
    """One :class:`RunView` per run of a parsers frame (sorted by run, metric,
    step) that holds points; ``info`` from ``df.attrs["runs"]`` where the frame has it."""
    infos = df.attrs.get("runs", {}) if hasattr(df, "attrs") else {}
    current, series = None, {}
    for run, metric, steps, values in iter_series(df):
        if run != current:
            if current is not None:
                yield _view(current, series, role_overrides, infos.get(current))
            current, series = run, {}
        series[metric] = (steps, values)
    if current is not None:
        yield _view(current, series, role_overrides, infos.get(current))
