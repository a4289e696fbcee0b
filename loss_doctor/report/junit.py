"""``--format junit``: JUnit XML for CI test dashboards.

One testcase per (run, detector); ``classname`` is the run.  A testcase fails
when its detector reported something at or above ``--fail-on``; findings below
it are kept in ``system-out``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from loss_doctor.findings import SEVERITY_ORDER, Finding

from .base import Reporter
from .common import listed


class JunitReporter(Reporter):
    name = "junit"
    summary = "JUnit XML: a testcase per run and detector, failing at --fail-on"

    def render(self, result, options) -> str:
        return _suite(result, listed(result, options))


def _suite(result, findings) -> str:
    limit = SEVERITY_ORDER[result.config.fail_on]
    by_case: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        by_case.setdefault((f.run, f.code), []).append(f)
    suite = ET.Element("testsuite", name="loss-doctor")
    tests = failures = skipped = 0
    for run in result.runs:
        for det in result.detectors:
            tests += 1
            case = ET.SubElement(suite, "testcase", name=f"{det.code} {det.name}",
                                 classname=run.run)
            if run.not_checked:
                ET.SubElement(case, "skipped", message=f"not checked: {run.not_checked}")
                skipped += 1
                continue
            found = by_case.get((run.run, det.code), [])
            failing = [f for f in found if SEVERITY_ORDER[f.severity] <= limit]
            if failing:
                failures += 1
                first = failing[0]
                fail = ET.SubElement(case, "failure", type=f"{first.code} {first.severity}",
                                     message=first.message)
                fail.text = "\n".join(f"[{f.severity}] {f.metric} steps {f.step_start}-"
                                      f"{f.step_end}: {f.message}" for f in failing)
            rest = [f for f in found if f not in failing]
            if rest:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"[{f.severity}] {f.metric}: {f.message}" for f in rest)
    for err in result.errors:
        tests += 1
        case = ET.SubElement(suite, "testcase", name="read", classname=err.path)
        ET.SubElement(case, "error", type="unreadable", message=err.message)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", str(len(result.errors)))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")

