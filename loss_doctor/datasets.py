"""Synthetic training curves with planted faults and their known truth.

Like ruptures' datasets: each function returns a :class:`Run` (metric ->
(steps, values)) and the truth (``Truth``: which code should fire, on which
metric, around which steps).  Healthy curves return no truth.  Noise is
multiplicative (log-normal, as per-batch losses are) and seeded.

    >>> run = spike_at(seed=3)
    >>> df = as_frame({"r": run})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Truth:
    code: str
    metric: str
    step_start: int
    step_end: int


@dataclass
class Run:
    series: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    truth: list[Truth] = field(default_factory=list)


def _decay(n, rng, start=2.3, floor=0.3, tau=None, noise=0.15, bump=False):
    t = np.arange(n, dtype=float)
    tau = tau or n / 8
    level = floor + (start - floor) * np.exp(-t / tau)
    if bump:  # the ordinary early bump of fine-tuning: +25% over the first steps
        k = max(3, n // 40)
        level[:k] *= 1 + 0.25 * np.sin(np.linspace(0, np.pi, k))
    return level * np.exp(rng.normal(0, noise, n))


def _lr(n, peak=3e-4, warmup=None, schedule="linear"):
    warmup = warmup if warmup is not None else max(1, n // 20)
    t = np.arange(n, dtype=float)
    lr = np.where(t < warmup, peak * (t + 1) / warmup, peak)
    after = np.clip((t - warmup) / max(1, n - warmup), 0, 1)
    if schedule == "linear":
        lr = np.where(t < warmup, lr, peak * (1 - after))
    elif schedule == "cosine":
        lr = np.where(t < warmup, lr, peak * 0.5 * (1 + np.cos(np.pi * after)))
    elif schedule == "step":
        lr = np.where(t < warmup, lr, peak * 0.1 ** np.floor(after * 3))
    return lr


def healthy(n=600, seed=0, noise=0.15, bump=False, schedule="linear", evals=20) -> Run:
    """A healthy fine-tuning run: train loss decays with per-batch noise, the
    lr warms up and decays, val loss follows train and flattens."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    train = _decay(n, rng, noise=noise, bump=bump)
    lr = _lr(n, schedule=schedule)
    if schedule == "step":  # a step decay lowers the loss at once
        drops = np.flatnonzero(np.diff(lr) < -1e-12) + 1
        for d in drops[drops > n // 20]:
            train[d:] *= 0.8
    ev = np.linspace(n // evals, n - 1, evals).astype(int)
    val = _decay(n, rng, start=2.2, floor=0.35, noise=0.0)[ev] * np.exp(
        rng.normal(0, 0.02, ev.size))
    return Run({"train/loss": (steps, train), "train/lr": (steps, lr), "val/loss": (ev, val)})


def spike_at(n=600, seed=0, at=None, height=6.0, noise=0.15) -> Run:
    run = healthy(n, seed, noise=noise)
    at = at if at is not None else int(n * 0.55)
    steps, train = run.series["train/loss"]
    train = train.copy()
    train[at] *= height
    run.series["train/loss"] = (steps, train)
    run.truth.append(Truth("LD201", "train/loss", at, at))
    return run


def nan_at(n=600, seed=0, at=None) -> Run:
    run = healthy(n, seed)
    at = at if at is not None else int(n * 0.6)
    steps, train = run.series["train/loss"]
    train = train.copy()
    train[at:] = np.nan
    run.series["train/loss"] = (steps, train)
    run.truth.append(Truth("LD101", "train/loss", at, n - 1))
    return run


def u_shaped_val(n=600, seed=0, best_frac=0.35, evals=24) -> Run:
    """Overfitting: train keeps falling, val falls to a minimum then rises."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    train = _decay(n, rng, start=2.3, floor=0.02, tau=n / 4, noise=0.1)
    ev = np.linspace(n // evals, n - 1, evals).astype(int)
    best = int(n * best_frac)
    t = ev / n
    val = 0.6 + 1.6 * np.exp(-ev / (n / 8)) + 0.9 * np.clip(t - best / n, 0, None) ** 1.3
    val *= np.exp(rng.normal(0, 0.01, ev.size))
    best_eval = int(ev[np.argmin(val)])
    return Run({"train/loss": (steps, train), "val/loss": (ev, val),
                "train/lr": (steps, _lr(n))},
               [Truth("LD401", "val/loss", best_eval, int(ev[-1]))])


def blowup_after_warmup(n=600, seed=0, at=None, peak_ratio=60.0, classes=10) -> Run:
    """Learns during warmup, blows up as the lr peaks, settles at chance level
    ln(classes): below the starting loss, far above the minimum."""
    rng = np.random.default_rng(seed)
    at = at if at is not None else int(n * 0.3)
    steps = np.arange(n)
    start = math.log(classes) * 1.05
    train = _decay(n, rng, start=start, floor=0.05, tau=n / 12, noise=0.1)
    low = float(np.median(train[at - 10:at]))
    rise = np.minimum(1.0, (steps[at:] - at) / 8)
    spike_part = low * peak_ratio * np.exp(-(steps[at:] - at) / 10)
    chance = math.log(classes) * np.exp(rng.normal(0, 0.02, n - at))
    train[at:] = np.maximum(chance * rise + low * (1 - rise), spike_part)
    return Run({"train/loss": (steps, train), "train/lr": (steps, _lr(n, warmup=at))},
               [Truth("LD102", "train/loss", at, n - 1)])


def flat(n=600, seed=0, classes=10, noise=0.05) -> Run:
    """Not learning: the loss sits at chance level from the start."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    train = math.log(classes) * np.exp(rng.normal(0, noise, n))
    return Run({"train/loss": (steps, train), "train/lr": (steps, _lr(n))},
               [Truth("LD301", "train/loss", 0, n - 1)])


def oscillating(n=600, seed=0, swing=2.5, period=None) -> Run:
    """The smoothed loss swings by ``swing``x with no net progress in the
    second half (an lr too high for the batch size)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    period = period or n / 6
    train = _decay(n, rng, noise=0.1)
    half = n // 2
    phase = np.sin(2 * np.pi * (steps[half:] - half) / period)
    train[half:] = train[half] * np.exp(phase * math.log(swing) / 2)
    return Run({"train/loss": (steps, train), "train/lr": (steps, _lr(n))},
               [Truth("LD202", "train/loss", half, n - 1)])


FAULTS = {"spike": spike_at, "nan": nan_at, "overfitting": u_shaped_val,
          "divergence": blowup_after_warmup, "plateau": flat, "oscillation": oscillating}


def as_frame(runs: dict[str, Run]) -> pd.DataFrame:
    """A frame in the parsers schema (run, metric, step, value, wall_time)."""
    rows = []
    for name, run in runs.items():
        for metric, (steps, values) in run.series.items():
            rows.append(pd.DataFrame({"run": name, "metric": metric,
                                      "step": np.asarray(steps, dtype=np.int64),
                                      "value": np.asarray(values, dtype=np.float64),
                                      "wall_time": np.nan}))
    df = pd.concat(rows, ignore_index=True).sort_values(["run", "metric", "step"],
                                                        kind="stable", ignore_index=True)
    df["run"] = df["run"].astype("category")
    df["metric"] = df["metric"].astype("category")
    df.attrs["runs"] = {name: {"path": name, "format": "synthetic", "files": [],
                               "x_axis": "step", "points": int((df.run == name).sum()),
                               "replaced": {}, "repeated": {}, "notes": []}
                        for name in runs}
    df.attrs["errors"] = []
    return df
