"""Known findings: adopt the check on an old log directory, fail only on new ones.

``--write-baseline FILE`` records today's findings; ``--baseline FILE`` hides
the findings already recorded.  A finding matches by run, metric, code and step
bucket (its first step rounded down to 4 significant bits), so a problem that
shifts a few steps as a run grows is still the same problem.
"""

from __future__ import annotations

import json

from . import atomic
from .errors import LossDoctorError
from .findings import Finding, step_bucket
from .ranking import rank

VERSION = 1


class BaselineError(LossDoctorError):
    """A baseline file that cannot be read."""


def write(path: str, findings: list[Finding]) -> int:
    entries = [{"code": f.code, "run": f.run, "metric": f.metric,
                "step_bucket": step_bucket(f.step_start), "message": f.message}
               for f in findings]
    atomic.write_text(path, json.dumps({"version": VERSION, "tool": "loss-doctor",
                                        "findings": entries}, indent=2) + "\n")
    return len(entries)


def load(path: str) -> set[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return {f"{e['code']}|{e['run']}|{e['metric']}|{e['step_bucket']}"
                for e in data["findings"]}
    except OSError as exc:
        raise BaselineError(f"{path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"{path}: not a loss-doctor baseline ({exc})") from None


def apply(findings: list[Finding], known: set[str]) -> tuple[list[Finding], int]:
    """The findings not in the baseline (ranked again) and how many were hidden."""
    new = [f for f in findings if f.identity not in known]
    return rank(new), len(findings) - len(new)
