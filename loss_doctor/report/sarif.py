"""``--format sarif``: SARIF 2.1.0 for code-scanning dashboards.

One rule per detector code (descriptions from the detector's summary and
docstring, help from its hint, default level error/warning/note); one result
per finding, located at the run's first log file, with our own
``partialFingerprints`` (rule, run, metric, step bucket): line-based hashing
means nothing for a binary event file.
"""

from __future__ import annotations

import inspect
import json

from loss_doctor import __version__
from loss_doctor.detectors import registry
from loss_doctor.findings import Finding

from .common import fingerprint, location_of, run_files

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def rules() -> list[dict]:
    out = []
    for name, cls in registry().items():
        doc = inspect.getmodule(cls).__doc__ or ""
        full = " ".join(doc.strip().split("\n\n")[0].split())
        out.append({"id": cls.code, "name": name,
                    "shortDescription": {"text": cls.summary or name},
                    "fullDescription": {"text": full or cls.summary or name},
                    "help": {"text": cls.hint or cls.summary or name},
                    "defaultConfiguration": {"level": LEVEL[cls.severity]}})
    return sorted(out, key=lambda r: r["id"])


def document(inventory: dict, findings: list[Finding]) -> dict:
    files = run_files(inventory)
    results = []
    for f in findings:
        results.append({
            "ruleId": f.code, "level": LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": location_of(f, files)},
                "region": {"startLine": 1}}}],
            "partialFingerprints": {"lossDoctorFinding/v1": fingerprint(f)},
            "properties": {"run": f.run, "metric": f.metric, "step_start": f.step_start,
                           "step_end": f.step_end, "score": f.score, "rank": f.rank},
        })
    notifications = [{"level": "error", "message": {"text": e["message"]},
                      "locations": [{"physicalLocation": {"artifactLocation":
                                                          {"uri": e["path"]}}}]}
                     for e in inventory["errors"]]
    run = {"tool": {"driver": {"name": "loss-doctor", "version": __version__,
                               "informationUri": "https://pypi.org/project/loss-doctor/",
                               "rules": rules()}},
           "results": results}
    if notifications:
        run["invocations"] = [{"executionSuccessful": True,
                               "toolExecutionNotifications": notifications}]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(inventory: dict, findings: list[Finding]) -> str:
    return json.dumps(document(inventory, findings), indent=2)
