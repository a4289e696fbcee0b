"""The Finding record: one problem (or fact) about one series of one run.

Its fields are the JSON contract of ``loss-doctor check --format json``
(``findings[]``), version 1; :meth:`Finding.to_dict` gives exactly that object.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

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
        return replace(self, rank=rank)

    def to_dict(self) -> dict:
        out = asdict(self)
        ordered = {"rank": out.pop("rank")}
        ordered.update(out)
        ordered["evidence"] = _jsonable(ordered["evidence"])
        return ordered


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
