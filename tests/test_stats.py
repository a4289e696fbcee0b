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


def test_kendall_of_a_constant_is_undefined_and_trend_says_no_trend():
    tau, p = stats.kendall_time(np.ones(10))
    assert np.isnan(tau) and np.isnan(p)
    assert stats.trend(np.ones(50)) == (0.0, 1.0)
