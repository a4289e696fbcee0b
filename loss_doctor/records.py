"""The records that cross layers: what was read (:class:`RunInfo`,
:class:`SeriesInfo`, :class:`Inventory`) and what can check (:class:`Rule`).

Frozen dataclasses; ``to_dict`` gives each one's JSON form (``ls --format
json``; the ``runs`` of the findings contract are cut from it).  Read errors
are :class:`parsers.ReadError`; findings are :class:`loss_doctor.findings.Finding`.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers import ReadError


@dataclass(frozen=True)
class SeriesInfo:
    """One series of a run: its size, step range, damage and role."""

    metric: str
    points: int
    first_step: int
    last_step: int
    non_finite: int
    replaced: int
    role: str

    def to_dict(self) -> dict:
        return {"points": self.points, "first_step": self.first_step,
                "last_step": self.last_step, "non_finite": self.non_finite,
                "replaced": self.replaced, "role": self.role}


@dataclass(frozen=True)
class RunInfo:
    """One run as read: where it came from, its x axis, its series, the notes
    its reader left (a truncated tail, which checkpoint copy was read)."""

    run: str
    path: str
    format: str
    files: tuple[str, ...]
    x_axis: str
    points: int
    replaced: int
    series: tuple[SeriesInfo, ...]
    notes: tuple[str, ...] = ()
    not_checked: str | None = None  # why no detector could judge this run

    @property
    def metrics(self) -> dict[str, SeriesInfo]:
        return {s.metric: s for s in self.series}

    def to_dict(self) -> dict:
        out = {"run": self.run, "path": self.path, "format": self.format,
               "files": list(self.files), "x_axis": self.x_axis, "points": self.points,
               "replaced": self.replaced,
               "metrics": {s.metric: s.to_dict() for s in self.series},
               "notes": list(self.notes)}
        if self.not_checked:
            out["not_checked"] = self.not_checked
        return out


@dataclass(frozen=True)
class Inventory:
    """The runs found under the paths given, and the files that could not be
    read: what ``loss-doctor ls`` shows."""

    root: str
    runs: tuple[RunInfo, ...]
    errors: tuple[ReadError, ...]

    @property
    def points(self) -> int:
        return sum(r.points for r in self.runs)

    def to_dict(self) -> dict:
        return {"version": 1, "root": self.root, "runs": [r.to_dict() for r in self.runs],
                "errors": [e.to_dict() for e in self.errors]}


@dataclass(frozen=True)
class Rule:
    """What a detector reports, for reports that list rules (SARIF, JUnit):
    its code, name, kind, default severity, one-line summary, hint and the
    first paragraph of its module's docstring."""

    code: str
    name: str
    kind: str
    severity: str
    summary: str
    hint: str
    description: str
