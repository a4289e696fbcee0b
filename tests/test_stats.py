"""loss_doctor.stats against the libraries it stands in for."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from loss_doctor import stats


@pytest.mark.parametrize("seed", range(6))
def test_kendall_against_time_is_scipys_kendalltau(seed):
    """Tau-b and the two-sided p, exact (untied, up to 33 points) and
    asymptotic with ties, as scipy gives them: what the trend tests read."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(2, 400))
        y = rng.normal(size=n) + rng.normal() * np.arange(n) / n
        if rng.random() < 0.4:
            y = np.round(y, 1)  # ties
        if rng.random() < 0.1:
            y = np.sort(y)[::int(rng.choice([-1, 1]))]  # the extreme p-values
        tau, p = stats.kendall_time(y)
        ref = scipy_stats.kendalltau(np.arange(n), y)
        np.testing.assert_allclose([tau, p], [ref[0], ref[1]], rtol=1e-9, atol=1e-300)


def test_tie_counts_are_np_uniques_counts_above_one():
    rng = np.random.default_rng(1)
    for t in range(500):
        y = np.round(rng.normal(size=rng.integers(1, 40)), rng.integers(0, 3))
        if t % 7 == 0:
            y[rng.integers(y.size)] = np.nan
        if t % 11 == 0:
            y[rng.integers(y.size)], y[rng.integers(y.size)] = -0.0, 0.0
        _, counts = np.unique(y, return_counts=True)
        assert np.array_equal(stats._tie_counts(y), counts[counts > 1])


def test_kendall_of_a_constant_is_undefined_and_trend_says_no_trend():
    tau, p = stats.kendall_time(np.ones(10))
    assert np.isnan(tau) and np.isnan(p)
    assert stats.trend(np.ones(50)) == (0.0, 1.0)


def _series(seed: int, n: int, holes: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.normal(size=n)) + rng.standard_cauchy(n)
    z[rng.random(n) < holes] = np.nan
    return z


@pytest.mark.parametrize("n", [1, 2, 7, 60, 3300])
@pytest.mark.parametrize("window", [1, 2, 4, 5, 51, 400])
def test_rolling_median_is_pandas_centred_median_to_the_bit(n, window):
    import pandas as pd

    for z in (_series(n, n), _series(n, n, holes=0.1)):
        want = pd.Series(z).rolling(window, center=True, min_periods=1).median().to_numpy()
        got = stats._centred_median(z, window)
        assert np.array_equal(got, want, equal_nan=True)


def test_rolling_median_of_a_series_holding_an_infinity_is_still_pandas():
    import pandas as pd

    z = _series(0, 200)
    z[[50, 120]] = np.inf, -np.inf  # bottleneck's heaps get an infinity leaving wrong
    want = pd.Series(z).rolling(11, center=True, min_periods=1).median().to_numpy()
    assert np.array_equal(stats._centred_median(z, 11), want, equal_nan=True)


@pytest.mark.parametrize("n", [5, 30, 333, 3300])
@pytest.mark.parametrize("window,min_count", [(5, 5), (10, 10), (50, 10)])
def test_trailing_windows_are_pandas_rolling_shifted_by_one(n, window, min_count):
    import pandas as pd

    z = _series(window, n)
    roll = pd.Series(z).rolling(window, min_periods=min_count)
    median, top = stats.trailing(z, window, min_count)
    assert np.array_equal(median, roll.median().shift(1).to_numpy(), equal_nan=True)
    assert np.array_equal(top, roll.max().shift(1).to_numpy(), equal_nan=True)
    iqr = (roll.quantile(0.75) - roll.quantile(0.25)).shift(1).to_numpy()
    at = np.flatnonzero(np.isfinite(iqr))
    assert at.size == max(0, n - min_count)
    assert np.allclose(stats.trailing_iqr(z, window, at), iqr[at], rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.filterwarnings("ignore:invalid value")  # inf - inf, numpy's and ours alike
def test_quantiles_are_numpys_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    qs = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0, 1 / 3)
    for n in (1, 2, 3, 4, 5, 7, 49, 50, 51, 1650):
        x = rng.normal(size=n) * 10.0 ** rng.integers(-8, 8)
        if seed % 2:
            x = np.round(x, 1)  # ties
        if seed == 3 and n > 3:
            x[rng.integers(n)] = np.inf
        if seed == 5 and n > 3:
            x[rng.integers(n)] = np.nan
        expected = np.quantile(x, qs)
        assert np.array_equal(stats.quantiles(x, qs), expected, equal_nan=True), n
        for q, want in zip(qs, expected):
            got = stats.quantile_of_sorted(np.sort(x), q)
            assert np.array_equal(got, want, equal_nan=True), (n, q)


@pytest.mark.parametrize("window", [5, 50, 51])
def test_trailing_iqr_is_numpys_quantiles_of_each_window(window):
    rng = np.random.default_rng(window)
    z = rng.normal(size=400)
    z[[17, 300]] = np.nan
    at = np.array([1, 2, 3, window - 1, window, window + 1, 160, 301, 399])
    expected = [np.subtract(*np.quantile(z[max(0, i - window):i], [0.75, 0.25])) for i in at]
    assert np.array_equal(stats.trailing_iqr(z, window, at), expected, equal_nan=True)


def test_binned_medians_are_the_medians_of_equal_slices():
    for n in (10, 24, 25, 47, 3301):
        z = _series(n, n)
        got = stats.binned_medians(z)
        if n <= 24:
            assert np.array_equal(got, z)
            continue
        edges = np.linspace(0, n, 25).astype(int)
        assert np.array_equal(got, [np.median(z[a:b]) for a, b in zip(edges[:-1], edges[1:])])


def test_detrend_removes_the_least_squares_line():
    for n in (2, 5, 3300):
        z = _series(n, n)
        t = np.arange(n)
        want = z - np.polyval(np.polyfit(t, z, 1), t)
        assert np.allclose(stats.detrend(z), want, atol=1e-9 * np.ptp(z))


def test_an_lr_is_cyclic_only_if_it_rises_again_after_falling():
    t = np.arange(3000)
    triangle = 1e-4 + 9e-4 * np.abs((t % 400) / 200 - 1)
    assert abs(stats.cyclic(triangle)[0] - 400) <= 5
    assert stats.cyclic(1e-3 * 0.7 ** (t // 300)) is None  # a staircase repeats, never rises
    assert stats.periodic(np.log(1e-3 * 0.7 ** (t // 300))) is not None
    warm_then_cosine = np.r_[np.linspace(1e-5, 1e-3, 100),
                             1e-3 * 0.5 * (1 + np.cos(np.linspace(0, np.pi, 2900)))[:-1] + 1e-6]
    assert stats.cyclic(warm_then_cosine) is None


@pytest.mark.parametrize("n", [1, 2, 7, 60, 333])
@pytest.mark.parametrize("window", [1, 2, 4, 5, 51])
def test_the_median_at_one_point_is_the_rolling_medians(n, window):
    z = _series(n + window, n, holes=0.1)
    if n > 3:
        z[n // 2], z[n // 3] = np.inf, -np.inf
    whole = stats._centred_median(z, window)
    at = [stats.centred_median_at(z, window, i) for i in range(n)]
    assert np.array_equal(np.array(at), whole, equal_nan=True)


@pytest.mark.parametrize("n", [1, 7, 60, 3300])
@pytest.mark.parametrize("window", [1, 2, 5, 51, 207])
def test_the_rolling_median_from_a_start_is_the_whole_ones_tail(n, window):
    z = _series(n + 7 * window, n, holes=0.1)
    whole = stats._centred_median(z, window)
    for start in sorted({0, 1, window // 2, window, n // 2, n - 1}):
        if 0 <= start < n:
            tail = stats.rolling_median(z, window, start)
            assert np.array_equal(tail, whole[start:], equal_nan=True), start
