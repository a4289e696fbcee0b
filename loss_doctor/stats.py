"""Statistics the detectors share.  All O(n) or O(n log n) in the points.

* Noise scale robust to trends: sigma = 1.4826 * MAD(diff(y)) / sqrt(2)
  (the MAD of first differences; a smooth trend barely moves it).
* Smoothing for detection: a centred rolling median (robust to single bad
  batches); TensorBoard's debiased EMA for drawing, as TensorBoard does it:
  s_t = w*s_{t-1} + (1-w)*x_t from s_0 = 0, shown as s_t / (1 - w^k).
* Trend test valid under autocorrelated per-step noise: Mann-Kendall on the
  medians of at most 24 equal bins (binning breaks the short-range
  autocorrelation that makes a plain test overconfident): Kendall's tau-b
  against time and its two-sided p-value exactly as ``scipy.stats.kendalltau``
  gives them (the exact null distribution up to 33 points without ties, else
  the normal approximation with tie correction), computed here in numpy:
  importing ``scipy.stats`` costs half a second of every check's start-up.
  Longer series than :data:`KENDALL_MAX` points go to scipy.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np

from parsers.lazy import lazy

pd = lazy("pandas")  # only for a series holding an infinity, and the drawing EMA


def log_if_positive(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Log space for positive series (spikes and blow-ups are multiplicative)."""
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite > 0):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values), True
    return values.astype(np.float64), False


def median(x: np.ndarray) -> float:
    """``np.median`` of a 1-D array (NaN if it holds one), to the bit, without
    its 10 microseconds of overhead a call: the detectors take a dozen a run."""
    return float(_bottleneck().median(x))


def _bottleneck():
    import bottleneck  # imported on first use: `loss-doctor --version` never pays it

    return bottleneck


def noise_scale(z: np.ndarray) -> float:
    """Robust per-point noise from the MAD of first differences (kept for the
    last few series: the divergence and oscillation detectors both ask)."""
    return _remember(_NOISE, _key(z), lambda: _noise_scale(z))


def _noise_scale(z: np.ndarray) -> float:
    z = z[np.isfinite(z)]
    if z.size < 3:
        return 0.0
    d = np.diff(z)  # scipy.stats.median_abs_deviation(d, scale="normal"), without
    d -= median(d)  # its per-call overhead, and in place: one copy of a long series
    np.abs(d, out=d)
    return float(median(d) / _NORMAL_MAD / np.sqrt(2))


_NORMAL_MAD = 0.6744897501960817  # scipy.stats.norm.ppf(0.75)


def rolling_median(z: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """Centred rolling median (partial windows at the ends; NaN is skipped),
    exactly pandas' ``rolling(window, center=True, min_periods=1).median()``,
    at the points from ``start`` on (computed from the points their windows
    reach, no others).  Several detectors smooth the same series with the
    same window: the last few results are kept, keyed by the window, the
    start and the values' bytes, and returned read-only."""
    def compute():
        values = np.asarray(z, dtype=np.float64)
        skip = max(0, start - window // 2)  # the first point a window from start reaches
        out = _centred_median(values[skip:], window)[start - skip:]
        out.setflags(write=False)
        return out

    return _remember(_MEDIANS, _key(z, window, start), compute)


def _centred_median(z: np.ndarray, window: int) -> np.ndarray:
    """bottleneck's double-heap moving median, O(n log window) in C, ten times
    pandas' skiplist: a trailing window ending ``(window - 1) // 2`` points
    ahead, on the values padded with NaN (bottleneck skips NaN, and the
    padding makes the partial windows at both ends).  bottleneck mishandles
    an infinity leaving the window, so a series holding one goes to pandas."""
    if np.isinf(z).any():
        return pd.Series(z).rolling(window, center=True, min_periods=1).median().to_numpy()
    ahead = (window - 1) // 2
    padded = np.concatenate([np.full(window - 1, np.nan), z, np.full(ahead, np.nan)])
    return _bottleneck().move_median(padded, window, min_count=1)[window - 1 + ahead:]


def centred_median_at(z: np.ndarray, window: int, i: int) -> float:
    """``rolling_median(z, window)[i]`` without the rest of the series: the
    median of the finite values in the window around ``i`` (pandas' rolling
    median leaves infinities out as it does NaN)."""
    part = z[max(0, i - window // 2):i + (window - 1) // 2 + 1]
    part = part[np.isfinite(part)]
    return median(part) if part.size else math.nan


def trailing(z: np.ndarray, window: int, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """The median and the maximum of the ``window`` finite points before each
    point of ``z`` (the point itself left out; NaN where fewer than
    ``min_count`` precede it): pandas' ``rolling(window, min_periods=min_count)
    .median().shift(1)``, and ``.max()``, in bottleneck."""
    bn = _bottleneck()
    padded = np.concatenate([np.full(window, np.nan), np.asarray(z, dtype=np.float64)])
    middle = bn.move_median(padded, window, min_count=min_count)[window - 1:-1]
    top = bn.move_max(padded, window, min_count=min_count)[window - 1:-1]
    return middle, top


def trailing_iqr(z: np.ndarray, window: int, at: np.ndarray) -> np.ndarray:
    """The interquartile range (linear interpolation) of the ``window`` points
    before each index in ``at`` (fewer at the start of the series), computed
    only there: a moving quantile has no O(n log w) kernel in bottleneck, and
    the spike detector needs it only where a point already stands out."""
    at = np.asarray(at, dtype=np.int64)
    out = np.full(at.size, np.nan)
    full = at >= window
    if full.any():
        rows = np.sort(z[at[full, None] - window + np.arange(window)], axis=1)
        q1, q3 = (quantile_of_sorted(rows, q) for q in (0.25, 0.75))
        out[full] = q3 - q1
    for k in np.flatnonzero(~full):
        if at[k] > 0:
            head = np.sort(z[:at[k]])
            out[k] = quantile_of_sorted(head, 0.75) - quantile_of_sorted(head, 0.25)
    return out


def quantiles(x: np.ndarray, qs) -> list[float]:
    """``np.quantile(x, qs)`` of a 1-D array, to the bit, without its 40
    microseconds of overhead a call: the order statistics it needs, by one
    partition, then :func:`quantile_of_sorted`'s interpolation."""
    n = x.size
    if n == 0:
        return [float(v) for v in np.quantile(x, qs)]  # numpy's own error
    kth = {0, n - 1}  # the last: where a NaN would be
    for q in qs:
        lo, hi, _ = _neighbours(n, q)
        kth.update((lo % n, hi % n))
    part = np.partition(x, sorted(kth))
    return [float(quantile_of_sorted(part, q)) for q in qs]


def _neighbours(n: int, q: float) -> tuple[int, int, float]:
    """numpy's 'linear' method: the virtual index (n - 1) * q, the order
    statistics either side of it (the last one past the end) and the weight."""
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return -1, -1, virtual + 1
    lo = math.floor(virtual)
    return lo, lo + 1, virtual - lo


def quantile_of_sorted(s: np.ndarray, q: float):
    """``np.quantile(x, q, axis=-1)`` where ``s`` holds x's order statistics
    along its last axis (sorted, or partitioned at the ones needed, NaN last):
    numpy's linear interpolation exactly as it computes it, from the
    smaller neighbour below a weight of 0.5 and from the larger one above."""
    lo, hi, gamma = _neighbours(s.shape[-1], q)
    a, b = s[..., lo], s[..., hi]
    diff = b - a
    value = b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma
    return np.where(np.isnan(s[..., -1]), np.nan, value)


def _key(z: np.ndarray, *args) -> tuple:
    """The memo's key of ``z``: a hash of its bytes (of a long series, a SHA-1
    read in place rather than a copy of its bytes)."""
    raw = np.ascontiguousarray(z)
    digest = hash(raw.tobytes()) if raw.nbytes < 1 << 20 else \
        hashlib.sha1(memoryview(raw).cast("B")).digest()
    return (*args, z.dtype.str, z.size, digest)


def _remember(store: dict, key: tuple, compute):
    """The last few results of one computation by key: several detectors ask
    the same of one series (its rolling median, its period).  At most
    :data:`MEMO_ENTRIES` results and :data:`MEMO_BYTES` of arrays are kept (a
    10M-point run's medians are 26 MB each: one is kept)."""
    if key in store:
        return store[key]
    value = compute()
    size = getattr(value, "nbytes", 0)
    if size > MEMO_BYTES:
        return value
    while store and (len(store) >= MEMO_ENTRIES or
                     sum(getattr(v, "nbytes", 0) for v in store.values()) + size > MEMO_BYTES):
        store.pop(next(iter(store)))
    store[key] = value
    return value


MEMO_ENTRIES, MEMO_BYTES = 8, 32 << 20


_MEDIANS: dict[tuple, np.ndarray] = {}
_NOISE: dict[tuple, float] = {}


def smoothing_window(n: int) -> int:
    """Odd window growing with the series: 5 for short series, up to 51."""
    w = int(min(51, max(5, n // 20)))
    return w if w % 2 else w + 1


def level_window(n: int, share: int = 8, low: int = 15, high: int = 501) -> int:
    """A wide odd window for levels: a median of many per-batch losses is stable
    even when batch losses are bimodal (small-batch fine-tuning)."""
    w = int(min(high, max(low, n // share)))
    return w if w % 2 else w + 1


def ema_debiased(values: np.ndarray, weight: float = 0.6) -> np.ndarray:
    """TensorBoard's smoothing; non-finite points pass through unchanged."""
    out = values.astype(np.float64).copy()
    finite = np.isfinite(out)
    if finite.any():
        s = pd.Series(out[finite]).ewm(alpha=1 - weight, adjust=True).mean().to_numpy()
        out[finite] = s
    return out


def binned_medians(z: np.ndarray, bins: int = 24) -> np.ndarray:
    """The medians of ``bins`` equal consecutive slices of the finite points
    (slice lengths differ by at most one: two vectorised medians, one per length)."""
    z = z[np.isfinite(z)]
    if z.size <= bins:
        return z
    edges = np.linspace(0, z.size, bins + 1).astype(int)
    starts, lengths = edges[:-1], np.diff(edges)
    out = np.empty(bins)
    for length in np.unique(lengths):
        which = lengths == length
        out[which] = _bottleneck().median(z[starts[which, None] + np.arange(length)], axis=1)
    return out


def trend(z: np.ndarray, bins: int = 24) -> tuple[float, float]:
    """(Kendall tau, two-sided p) of the binned medians against time."""
    m = binned_medians(z, bins)
    if m.size < 4 or np.all(m == m[0]):
        return 0.0, 1.0
    tau, p = kendall_time(m)
    return float(tau), float(p)


KENDALL_MAX = 2000  # points; O(n^2) pairs below it, scipy's O(n log n) above


def kendall_time(y: np.ndarray) -> tuple[float, float]:
    """(tau-b, two-sided p) of ``y`` against 0, 1, 2 ...: what
    ``scipy.stats.kendalltau(np.arange(n), y)`` returns (tested against it)."""
    n = y.size
    if n > KENDALL_MAX:
        from scipy import stats

        tau, p = stats.kendalltau(np.arange(n), y)
        return float(tau), float(p)
    diff = np.sign(y[None, :] - y[:, None])[_pairs(n)]  # y_j - y_i, i < j
    tot = n * (n - 1) // 2
    dis = int(np.count_nonzero(diff < 0))
    ties = _tie_counts(y)
    ytie = int((ties * (ties - 1) // 2).sum())
    if ytie == tot:
        return math.nan, math.nan
    con_minus_dis = int(np.count_nonzero(diff > 0)) - dis
    tau = max(-1.0, min(1.0, con_minus_dis / math.sqrt(tot) / math.sqrt(tot - ytie)))
    if ytie == 0 and (n <= 33 or min(dis, tot - dis) <= 1):
        return tau, _kendall_p_exact(n, tot - dis)
    m = n * (n - 1.0)
    y1 = float((ties * (ties - 1.0) * (2 * ties + 5)).sum())
    var = (m * (2 * n + 5) - y1) / 18
    z = con_minus_dis / math.sqrt(var)
    return tau, math.erfc(abs(z) / math.sqrt(2))


def _tie_counts(y: np.ndarray) -> np.ndarray:
    """How often each value of ``y`` held more than once occurs, in value order:
    ``np.unique(y, return_counts=True)``'s counts above one, from one sort."""
    ys = np.sort(y)
    if ys.size and np.isnan(ys[-1]):  # NaNs count as one value there
        _, counts = np.unique(y, return_counts=True)
    else:
        bounds = np.flatnonzero(np.concatenate(([True], ys[1:] != ys[:-1], [True])))
        counts = np.diff(bounds)
    return counts[counts > 1].astype(np.int64)


@lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, 1)``, made once a size (most trends have 24 bins)."""
    rows, cols = np.triu_indices(n, 1)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


@lru_cache(maxsize=4096)  # (n, c): at most 33 * 265 of them take the exact path
def _kendall_p_exact(n: int, c: int) -> float:
    """Two-sided p of ``c`` concordant pairs among n untied points (the
    permutation distribution of inversions, as scipy computes it)."""
    c = min(c, n * (n - 1) // 2 - c)
    if n <= 2:
        return 1.0
    if c == 0:
        return min(1.0, 2.0 / math.factorial(n)) if n < 171 else 0.0
    if c == 1:
        return min(1.0, 2.0 / math.factorial(n - 1)) if n < 172 else 0.0
    if 2 * c == n * (n - 1) // 2:
        return 1.0
    new = np.zeros(c + 1)
    new[0:2] = 1.0
    for j in range(3, n + 1):
        new = np.cumsum(new)
        if j <= c:
            new[j:] -= new[:c + 1 - j]
    return float(min(1.0, 2.0 * np.sum(new) / math.factorial(n)))


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges where ``mask`` is True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of ``x`` at lags 0..n-1 (FFT, O(n log n))."""
    x = x - x.mean()
    n = x.size
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n]
    return acf / acf[0] if acf[0] > 0 else np.zeros(n)


def detrend(z: np.ndarray) -> np.ndarray:
    """``z`` less its least-squares line against 0, 1, 2 ... (closed form)."""
    n = z.size
    t = np.arange(n) - (n - 1) / 2
    mean = z.mean()
    slope = float(t @ (z - mean)) / (n * (n * n - 1) / 12) if n > 1 else 0.0
    return z - mean - slope * t


def cyclic(lr: np.ndarray) -> tuple[int, float] | None:
    """(period, autocorrelation) of a positive learning rate that repeats (a
    triangular cycle, warm restarts), else None.  It must rise again after it
    first fell: a step decay's staircase repeats too, but it is a decay (and
    the period search is spared for the warmup-then-decay of most runs)."""
    if lr.size < 3 or not np.all(lr > 0):
        return None
    d = np.diff(lr)
    falls = np.flatnonzero(d < 0)
    if not falls.size or not np.any(d[falls[0]:] > 0):
        return None
    return periodic(np.log(lr))


def periodic(z: np.ndarray, *, min_points: int = 60, min_acf: float = 0.4,
             min_lag: int = 4, max_points: int = 20000) -> tuple[int, float] | None:
    """(period in points, autocorrelation there) if the linearly detrended
    ``z`` repeats with a period: the first lag ``L`` (``min_lag`` to n/4) where
    the autocorrelation peaks at ``min_acf`` or more, after dipping at least
    0.5 below that peak on the way (a smooth trend decays without a dip), and
    is high again near 2L.  None otherwise.  Series longer than ``max_points``
    are averaged in equal bins first (periods shorter than a bin are lost)."""
    return _remember(_PERIODS, _key(z, min_points, min_acf, min_lag, max_points),
                     lambda: _periodic(z, min_points, min_acf, min_lag, max_points))


_PERIODS: dict[tuple, tuple[int, float] | None] = {}


def _periodic(z, min_points, min_acf, min_lag, max_points):
    z = z[np.isfinite(z)]
    n = z.size
    if n < min_points:
        return None
    factor = 1
    if n > max_points:
        factor = -(-n // max_points)
        z = z[:n - n % factor].reshape(-1, factor).mean(axis=1)
        n = z.size
    resid = detrend(z)
    if not np.ptp(resid) > 0:
        return None
    acf = autocorrelation(resid)
    lags = np.arange(max(min_lag, 2), n // 4 + 1)
    if not lags.size:
        return None
    a = acf[lags]
    peaks = (a >= min_acf) & (a >= acf[lags - 1]) & (a >= acf[lags + 1])
    dips = np.minimum.accumulate(acf[1:])  # lowest autocorrelation below each lag
    for lag in lags[peaks & (dips[lags - 2] <= a - 0.5)]:
        again = acf[max(1, 2 * lag - 2):2 * lag + 3]
        if again.size and again.max() >= 0.5 * acf[lag]:
            return int(lag) * factor, float(acf[lag])
    return None
