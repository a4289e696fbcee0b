"""loss_doctor.median_bounds: a bound that is certain, and tight enough to use."""

from __future__ import annotations

import math

import numpy as np
import pytest

from loss_doctor import median_bounds, stats


def _curves(seed: int):
    """Noisy decays, rises, flats, steps, plateaus with outliers, ties."""
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n = int(rng.integers(1, 900))
        t = np.arange(n) / max(n, 1)
        shape = rng.integers(5)
        level = [np.exp(-3 * t), t ** 2, np.zeros(n), (t > rng.random()).astype(float),
                 np.sin(t * rng.integers(1, 30))][shape]
        z = level + rng.normal(size=n) * rng.choice([0.0, 0.01, 0.3, 2.0])
        if rng.random() < 0.3:
            z[rng.integers(0, n, size=max(1, n // 50))] -= 50  # deep dips
        if rng.random() < 0.3:
            z = np.round(z, 1)  # many ties
        yield z


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window", [1, 2, 3, 4, 15, 51, 207])
def test_the_floor_is_never_above_the_rolling_medians_lowest_point(seed, window):
    tight = 0
    for z in _curves(seed * 100 + window):
        lowest = float(stats._centred_median(z, window).min()) if z.size else math.inf
        bound = median_bounds.floor(z, window)
        assert bound <= lowest, (z.size, window)
        if z.size >= 2 * window:
            # a quarter of the way up a stretch of two windows: never below
            # the series' own lowest point, and no lower than that
            assert bound >= z.min()
            tight += bound > np.quantile(z, 0.01)
        else:
            assert bound == lowest
    assert window < 15 or tight > 0  # a window of a few points: the bound is about the min


def test_the_floor_of_a_noisy_flat_series_is_close_to_its_median():
    z = np.random.default_rng(0).normal(size=3300) * 0.1
    bound = median_bounds.floor(z, 413)
    assert bound <= stats.rolling_median(z, 413).min()
    assert bound > -0.1  # a quarter of the way up 826 points: about -0.07


def test_no_floor_for_a_series_holding_nan_or_an_infinity():
    z = np.linspace(1, 0, 500)
    for bad in (np.nan, np.inf, -np.inf):
        held = z.copy()
        held[100] = bad
        assert median_bounds.floor(held, 51) == -math.inf
    assert median_bounds.floor(np.array([]), 5) == -math.inf
