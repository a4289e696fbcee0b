"""One finding per problem: a run's warnings and errors of one code over
mostly the same steps (six eval sets overfitting together, train and val loss
spiking on the same batch) become one finding, on the series that shows it
most, listing the others."""

from __future__ import annotations

from dataclasses import replace

from .findings import Finding

OVERLAP = 0.5  # of the shorter span: how much two findings must share to be one problem


def _overlap(a: Finding, b: Finding) -> bool:
    shared = min(a.step_end, b.step_end) - max(a.step_start, b.step_start)
    shorter = min(a.step_end - a.step_start, b.step_end - b.step_start)
    return shared >= OVERLAP * shorter and shared >= 0


def merge_related(findings: list[Finding], unit: str = "step") -> list[Finding]:
    """The findings with each group of related ones made one (info findings,
    facts about each series, are left as they are); ``unit`` names the x axis
    in the merged message."""
    groups: dict[tuple[str, str, str], list[list[Finding]]] = {}
    out = []
    for f in sorted(findings, key=lambda f: (-f.score, f.metric, f.step_start)):
        if f.severity == "info":
            out.append(f)
            continue
        clusters = groups.setdefault((f.run, f.code, f.severity), [])
        home = next((c for c in clusters if _overlap(c[0], f)), None)
        if home is None:
            clusters.append([f])
        else:
            home.append(f)
    for clusters in groups.values():
        out += [_one(cluster, unit) for cluster in clusters]
    order = {id(f): i for i, f in enumerate(findings)}
    return sorted(out, key=lambda f: order.get(id(f), len(order)))


def _where(f: Finding, unit: str) -> str:
    spikes = f.evidence.get("spikes")
    if spikes and len(spikes) <= 5:
        return f"{unit}{'s' if len(spikes) > 1 else ''} " + ", ".join(
            str(s["step"]) for s in spikes)
    if f.step_start == f.step_end:
        return f"{unit} {f.step_start}"
    return f"{unit}s {f.step_start}-{f.step_end}"


def _one(cluster: list[Finding], unit: str = "step") -> Finding:
    base = cluster[0]
    if len(cluster) == 1:
        return base
    others = cluster[1:]
    names = ", ".join(
        f.metric if (f.step_start, f.step_end) == (base.step_start, base.step_end)
        else f"{f.metric} ({_where(f, unit)})" for f in others)
    message = (f"{base.message.rstrip('.')}. The same on {len(others)} more series: {names}")
    evidence = {**base.evidence, "also": [{"metric": f.metric, "step_start": f.step_start,
                                           "step_end": f.step_end, "score": f.score}
                                          for f in others]}
    return replace(base, message=message, evidence=evidence,
                   step_start=min(f.step_start for f in cluster),
                   step_end=max(f.step_end for f in cluster))
