"""A lower bound on a centred rolling median's lowest point, from a partition.

Several detectors ask only whether the end of a smoothed curve is near its
lowest point ("did the loss rise far above its best?"), and for most runs the
answer is a plain no: the end *is* near the best.  The rolling median itself
(bottleneck's double heap, O(n log w)) costs a tenth of a millisecond to a
quarter for a few thousand points, most of a detector's time; a bound that is
certain answers the plain no from two partitions, and the median is computed
only when the bound cannot decide.

The bound: a window ``W`` of ``s`` points has its median at or above its
``ceil(s/2)``-th smallest value (for even ``s`` the mean of two values, the
lower one that one), and that is at or above the same order statistic of any
set holding ``W``.  Cut the series into aligned blocks of ``w`` points: every
full window lies within two neighbouring blocks, every window clipped at the
start within the first ``w`` points and every one clipped at the end within
the last ``w``.  The least of those order statistics (a quarter of the way
up each set) is at or below every point of the rolling median.
"""

from __future__ import annotations

import math

import numpy as np

from . import stats


def floor(z: np.ndarray, window: int) -> float:
    """A number no greater than ``stats.rolling_median(z, window).min()``.
    A series holding NaN or an infinity gets ``-inf`` (no bound: the caller
    computes the median); a series shorter than two windows gets the exact
    minimum (its median is cheap)."""
    z = np.asarray(z, dtype=np.float64)
    n = z.size
    if n == 0 or not np.isfinite(z).all():
        return -math.inf
    if n < 2 * window:
        return float(stats.rolling_median(z, window).min())
    behind, ahead = window // 2, (window - 1) // 2
    # windows clipped at the start: [0, i + ahead] for i < behind, at least
    # ahead + 1 points, all within the first `window`; at the end alike
    start = _kth(z[:window], math.ceil((ahead + 1) / 2))
    end = _kth(z[n - window:], math.ceil((behind + 1) / 2))
    # full windows: the one starting at a lies within blocks a // w and the next
    blocks = -(-n // window) + 1
    padded = np.full(blocks * window, np.inf)  # +inf never lowers an order statistic
    padded[:n] = z
    rows = padded.reshape(blocks, window)
    pairs = np.concatenate([rows[:-1], rows[1:]], axis=1)
    k = math.ceil(window / 2)
    full = float(np.partition(pairs, k - 1, axis=1)[:, k - 1].min())
    return min(start, end, full)


def _kth(x: np.ndarray, k: int) -> float:
    """The ``k``-th smallest value of ``x`` (1-based)."""
    return float(np.partition(x, k - 1)[k - 1])
