"""Score the detectors on the labelled corpus (``labelled_logs/``).

    pip install -e .
    python benchmarks/score_detectors.py [--verbose]

Every run of ``labelled_logs/`` is checked as ``loss-doctor check`` checks it
and compared with ``labelled_logs/labels.json``:

* **met**: each expected code is among the run's warnings and errors, on the
  labelled metric (the finding's own series or one it merges) and with the
  labelled words in its message;
* **missed**: an expected code absent, or present with the wrong series or
  message;
* **false alarm**: a warning or error whose code the label neither expects
  nor allows (on a healthy run: any warning or error).

Prints one line per run and the totals; exits 1 unless every problem is met
with no false alarm (the test suite runs :func:`score` too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), "labelled_logs")


@dataclass
class Verdict:
    run: str
    label: dict
    met: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missed and not self.false_alarms


def _names(finding) -> set[str]:
    return {finding.metric, *(a["metric"] for a in finding.evidence.get("also", ()))}


def judge(run: str, label: dict, findings) -> Verdict:
    verdict = Verdict(run, label)
    loud = [f for f in findings if f.severity in ("warning", "error")]
    for code in label.get("expect", []):
        hits = [f for f in loud if f.code == code]
        why = "absent"
        for f in hits:
            if label.get("metric") and label["metric"] not in _names(f):
                why = f"on {f.metric}, not {label['metric']}"
                continue
            lacking = [w for w in label.get("says", []) if w not in f.message]
            if lacking:
                why = f"message lacks {lacking}: {f.message}"
                continue
            verdict.met.append(code)
            break
        else:
            verdict.missed.append(f"{code} ({why})")
    allowed = set(label.get("expect", [])) | set(label.get("allow", []))
    verdict.false_alarms = [f"{f.code} on {f.metric}: {f.message}" for f in loud
                            if f.code not in allowed]
    return verdict


def score(corpus: str = CORPUS) -> list[Verdict]:
    from loss_doctor.check import CheckOptions, run_check

    with open(os.path.join(corpus, "labels.json"), encoding="utf-8") as fh:
        labels = {k: v for k, v in json.load(fh).items() if not k.startswith("_")}
    result = run_check([corpus], CheckOptions(jobs=1, isolated=True, no_cache=True))
    by_run: dict[str, list] = {}
    for f in result.findings:
        by_run.setdefault(f.run, []).append(f)
    unlabelled = sorted({r.run for r in result.runs} - set(labels))
    if unlabelled:
        raise SystemExit(f"runs without a label: {', '.join(unlabelled)}")
    return [judge(run, label, by_run.get(run, [])) for run, label in sorted(labels.items())]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verbose", action="store_true", help="print what each miss was")
    args = ap.parse_args(argv)
    verdicts = score()
    problems = sum(len(v.label.get("expect", [])) for v in verdicts)
    met = sum(len(v.met) for v in verdicts)
    alarms = sum(len(v.false_alarms) for v in verdicts)
    healthy = sum(1 for v in verdicts if not v.label.get("expect"))
    for v in verdicts:
        state = "ok  " if v.ok else "FAIL"
        print(f"{state} {v.run:38} {v.label.get('class', '')}")
        for line in v.missed:
            print(f"       missed {line}" if args.verbose else f"       missed {line[:100]}")
        for line in v.false_alarms:
            print(f"       false alarm {line}" if args.verbose else
                  f"       false alarm {line[:100]}")
    print(f"\n{len(verdicts)} runs ({healthy} healthy): {met}/{problems} problems met "
          f"({met / max(problems, 1):.0%}), {problems - met} missed, {alarms} false alarms")
    return 0 if met == problems and not alarms else 1


if __name__ == "__main__":
    sys.exit(main())
