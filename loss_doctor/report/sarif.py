"""``--format sarif``: SARIF 2.1.0 for code-scanning dashboards.

One rule per detector code (descriptions from the detector's summary and
docstring, help from its hint, default level error/warning/note); one result
per finding, located at the run's first log file, with our own
``partialFingerprints`` (rule, run, metric, step bucket): line-based hashing
means nothing for a binary event file.
"""

from __future__ import annotations

from loss_doctor import __version__

from .base import Reporter
from .common import fingerprint, listed, location_of, run_files
from .json_text import dumps

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


class SarifReporter(Reporter):
    name = "sarif"
    summary = "SARIF 2.1.0, for code-scanning dashboards"

    def render(self, result, options) -> str:
        return dumps(document(result, listed(result, options)))


def _rule(rule) -> dict:
    short = rule.summary or rule.name
    return {"id": rule.code, "name": rule.name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": rule.description or short},
            "help": {"text": rule.hint or short},
            "defaultConfiguration": {"level": LEVEL[rule.severity]}}


def document(result, findings=None) -> dict:
    files = run_files(result.runs)
    results = []
    for f in result.findings if findings is None else findings:
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
    notifications = [{"level": "error", "message": {"text": e.message},
                      "locations": [{"physicalLocation": {"artifactLocation":
                                                          {"uri": e.path}}}]}
                     for e in result.errors]
    notifications += [{"level": "warning",
                       "message": {"text": f"run {r.run} not checked: {r.not_checked}"},
                       "locations": [{"physicalLocation": {"artifactLocation":
                                                           {"uri": files.get(r.run, r.run)}}}]}
                      for r in result.runs if r.not_checked]
    run = {"tool": {"driver": {"name": "loss-doctor", "version": __version__,
                               "informationUri": "https://pypi.org/project/loss-doctor/",
                               "rules": [_rule(r) for r in result.rules]}},
           "results": results}
    if notifications:
        run["invocations"] = [{"executionSuccessful": True,
                               "toolExecutionNotifications": notifications}]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}

