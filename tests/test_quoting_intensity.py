"""IntensityFit: recover known A, k of lambda(delta) = A exp(-k delta) from synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from mmlab.errors import ConfigError, DataError
from mmlab.quoting import IntensityFit, fill_counts, trade_depths

A_TRUE, K_TRUE = 140.0, 1.5  # the Avellaneda-Stoikov (2008) section-4 values


def _synthetic_counts(seed, T=50.0):
    rng = np.random.default_rng(seed)
    deltas = np.linspace(0.0, 3.0, 13)
    return deltas, rng.poisson(T * A_TRUE * np.exp(-K_TRUE * deltas)), T


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mle_recovers_known_parameters_from_counts(seed):
    deltas, counts, T = _synthetic_counts(seed)
    fit = IntensityFit().fit(deltas, counts, exposure=T)
    assert fit is not None and fit.n_iter_ >= 1
    # tolerance: 4 standard errors and 2 % (SEs here are ~0.3 % for A, ~0.3 % for k)
    assert abs(fit.A_ - A_TRUE) < min(4 * fit.A_se_, 0.02 * A_TRUE)
    assert abs(fit.k_ - K_TRUE) < min(4 * fit.k_se_, 0.02 * K_TRUE)


def test_loglinear_recovers_within_5_percent():
    deltas, counts, T = _synthetic_counts(3)
    fit = IntensityFit(method="loglinear").fit(deltas, counts, exposure=T)
    assert abs(fit.A_ / A_TRUE - 1) < 0.05 and abs(fit.k_ / K_TRUE - 1) < 0.05


def test_mle_from_trades_and_book():
    # market orders arrive at rate A_TRUE; each reaches a depth D ~ Exp(k) beyond the mid, so a
    # quote at delta is hit at rate A exp(-k delta): build trades, depths, counts, then fit
    rng = np.random.default_rng(11)
    T = 40.0
    n = rng.poisson(A_TRUE * T)
    mid = 100.0 + rng.normal(0, 0.5, n)
    side = rng.choice([-1.0, 1.0], n)
    depth = rng.exponential(1 / K_TRUE, n)
    px = mid + side * depth
    d = trade_depths(px, side, mid)
    np.testing.assert_allclose(d, depth, atol=1e-12)
    deltas = np.linspace(0.0, 2.5, 11)
    # each side sees half the orders: intensity per side is A/2; fit on both sides pooled
    fit = IntensityFit().fit(deltas, fill_counts(d, deltas), exposure=T)
    # counts at different deltas share trades (not independent), so the Poisson SE is too
    # small; state a plain relative tolerance of 6 % instead
    assert abs(fit.A_ / A_TRUE - 1) < 0.06 and abs(fit.k_ / K_TRUE - 1) < 0.06


def test_waiting_times_fit_as_exposure():
    # one fill after waiting w ~ Exp(lambda(delta)) at each distance: count 1, exposure w
    rng = np.random.default_rng(5)
    deltas = np.repeat(np.linspace(0, 2, 9), 400)
    waits = rng.exponential(1.0 / (A_TRUE * np.exp(-K_TRUE * deltas)))
    fit = IntensityFit().fit(deltas, np.ones_like(deltas), exposure=waits)
    assert abs(fit.A_ - A_TRUE) < 4 * fit.A_se_ and abs(fit.k_ - K_TRUE) < 4 * fit.k_se_


def test_mle_handles_zero_counts_and_predict():
    fit = IntensityFit().fit([0.0, 1.0, 5.0, 9.0], [200, 45, 0, 0], exposure=2.0)
    assert fit.k_ > 0 and np.isfinite(fit.log_likelihood_)
    assert np.isclose(fit.predict(0.0), fit.A_)
    with pytest.raises(ConfigError):
        IntensityFit().predict([0.0])


def test_fill_counts_and_depths():
    assert fill_counts([0.1, 0.5, 0.5, 2.0], [0.0, 0.5, 0.6]).tolist() == [4, 3, 1]
    with pytest.raises(DataError, match="row 1"):
        trade_depths([1.0, 2.0], [1, 0], [1.0, 1.0])


@pytest.mark.parametrize(
    "args,err,match",
    [
        (([0.0, 1.0], [1, -1]), DataError, "row 1"),
        (([0.0, 1.0], [1, 2], [1.0, 0.0]), DataError, "exposure"),
        (([0.0, np.nan], [1, 2]), DataError, "row 1"),
        (([1.0, 1.0], [1, 2]), DataError, "distinct"),
        (([0.0, 1.0], [0, 0]), DataError, "zero"),
        (([0.0, 1.0], [1]), DataError, "equal length"),
    ],
)
def test_bad_input(args, err, match):
    with pytest.raises(err, match=match):
        IntensityFit().fit(*args)


def test_bad_method():
    with pytest.raises(ConfigError, match="method"):
        IntensityFit(method="ols").fit([0, 1], [2, 1])
