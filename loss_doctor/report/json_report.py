"""``--format json``: the versioned findings contract (DESIGN.md), exactly."""

from __future__ import annotations

from .base import Reporter
from .json_text import dumps

VERSION = 1


class JsonReporter(Reporter):
    name = "json"
    summary = "the versioned findings contract, for tools"

    def render(self, result, options) -> str:
        return dumps(document(result), allow_nan=False)


def document(result) -> dict:
    runs = [{"run": r.run, "path": r.path, "format": r.format,
             "metrics": {s.metric: {"points": s.points, "first_step": s.first_step,
                                    "last_step": s.last_step} for s in r.series},
             **({"not_checked": r.not_checked} if r.not_checked else {})}
            for r in result.runs]
    errors = [{"path": e.path, "message": e.located} for e in result.errors]
    return {"version": VERSION, "runs": runs,
            "findings": [f.to_dict() for f in result.findings], "errors": errors}
