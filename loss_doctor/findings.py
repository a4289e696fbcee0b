"""The Finding record: one problem (or fact) about one series of one run.

Its fields are the JSON contract of ``loss-doctor check --format json``
(``findings[]``), version 1; :meth:`Finding.to_dict` gives exactly that object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

SEVERITIES = ("error", "warning", "info")
SEVERITY_ORDER = {name: i for i, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    code: str
    kind: str
    severity: str
    score: float
    run: str
    metric: str
    step_start: int
    step_end: int
    message: str
    evidence: dict = field(default_factory=dict)
    hint: str = ""
    rank: int = 0

    def __post_init__(self):
        if self.severity not in SEVERITY_ORDER:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        object.__setattr__(self, "score", round(min(1.0, max(0.0, float(self.score))), 3))

    @property
    def identity(self) -> str:
        """Rule, run, metric and step bucket: what baselines and SARIF match on."""
        return f"{self.code}|{self.run}|{self.metric}|{step_bucket(self.step_start)}"

    def with_rank(self, rank: int) -> "Finding":
        """This finding numbered ``rank``: a copy of its fields (already
        checked and rounded), without ``dataclasses.replace``'s ``__init__``,
        5 us a finding of the thousands a sweep ranks."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        object.__setattr__(new, "rank", rank)
        return new

    def to_dict(self) -> dict:
        """The JSON contract's object: ``rank`` first, then the fields in
        order, the evidence as plain JSON (a copy)."""
        out = {"rank": self.rank}
        out.update((name, getattr(self, name)) for name in _FIELDS if name != "rank")
        out["evidence"] = _jsonable(self.evidence)
        return out


_FIELDS = tuple(f.name for f in fields(Finding))


def step_bucket(step: int) -> int:
    """``step`` rounded down to 4 significant bits (within ~6%): a finding that
    moves a little as a run grows keeps its bucket."""
    step = max(int(step), 0)
    shift = max(0, step.bit_length() - 4)
    return (step >> shift) << shift


def _jsonable(value):
    """Evidence as plain JSON: numpy scalars to Python, non-finite floats to strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(f"{value:.6g}")
    return value


class Findings(list):
    """What :func:`loss_doctor.diagnose` returns: a list of :class:`Finding`,
    ranked, that a notebook shows as a table and pandas takes whole."""

    COLUMNS = ("rank", "severity", "code", "kind", "run", "metric", "step_start", "step_end",
               "score", "message", "hint")

    def to_frame(self):
        """One row per finding: the JSON contract's fields, ``evidence`` as a dict."""
        import pandas as pd

        rows = [f.to_dict() for f in self]
        return pd.DataFrame(rows, columns=[*self.COLUMNS, "evidence"])

    def problems(self) -> "Findings":
        """The warnings and errors only."""
        return Findings(f for f in self if f.severity != "info")

    def _repr_html_(self) -> str:
        import html

        colour = {"error": "#d62728", "warning": "#e07b00", "info": "#1f77b4"}
        head = "".join(f"<th style='text-align:left'>{c}</th>" for c in
                       ("#", "severity", "code", "run", "metric", "steps", "finding"))
        rows = []
        for f in self:
            steps = f"{f.step_start}" if f.step_start == f.step_end else \
                f"{f.step_start}–{f.step_end}"
            rows.append(
                f"<tr><td>{f.rank}</td><td style='color:{colour[f.severity]};"
                f"font-weight:600'>{f.severity}</td><td><code>{html.escape(f.code)}</code></td>"
                f"<td>{html.escape(f.run)}</td><td><code>{html.escape(f.metric)}</code></td>"
                f"<td>{steps}</td><td style='text-align:left'>{html.escape(f.message)}</td>"
                "</tr>")
        counts = {s: sum(f.severity == s for f in self) for s in SEVERITIES}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
        return (f"<div><b>loss-doctor</b>: {len(self)} finding(s): {summary}</div>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
