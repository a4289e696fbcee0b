"""``--format json``: the versioned findings contract (DESIGN.md), exactly."""

from __future__ import annotations

import json

from loss_doctor.findings import Finding
from loss_doctor.inventory import error_message

VERSION = 1


def document(inventory: dict, findings: list[Finding]) -> dict:
    runs = [{"run": r["run"], "path": r["path"], "format": r["format"],
             "metrics": {name: {"points": m["points"], "first_step": m["first_step"],
                                "last_step": m["last_step"]}
                         for name, m in r["metrics"].items()}}
            for r in inventory["runs"]]
    errors = [{"path": e["path"], "message": error_message(e)}
              for e in inventory["errors"]]
    return {"version": VERSION, "runs": runs, "findings": [f.to_dict() for f in findings],
            "errors": errors}


def render(inventory: dict, findings: list[Finding]) -> str:
    return json.dumps(document(inventory, findings), indent=2, allow_nan=False)
