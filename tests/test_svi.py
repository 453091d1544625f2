"""Raw SVI, the quasi-explicit fit, Gatheral's g(k), the arbitrage checks and SSVI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mmlab.errors import ConfigError
from mmlab.surface import (
    SSVIFit,
    SVIParams,
    SVISlice,
    butterfly_check,
    calendar_check,
    qe_inner,
    qe_inner_python,
    repair_svi,
    ssvi_total_variance,
    svi_density_g,
)

# Gatheral & Jacquier (2014), "Arbitrage-free SVI volatility surfaces", eq. (3.4): the slice
# Axel Vogt posted as a counter-example, T = 1, with butterfly arbitrage (their fig. 2).
VOGT = SVIParams(-0.0410, 0.1331, 0.3060, 0.3586, 0.4153)


def test_qe_kernel_matches_python_twin():
    rng = np.random.default_rng(7)
    for _ in range(25):
        k = np.sort(rng.uniform(-0.6, 0.4, 30))
        wt = 0.02 + 0.1 * k * k - 0.03 * k + rng.normal(0, 1e-3, k.size)
        om = rng.uniform(0.5, 2.0, k.size)
        m, s = rng.uniform(-0.2, 0.2), rng.uniform(0.01, 0.5)
        a_lo = rng.choice([0.0, -wt.max()])
        x1, x2 = np.zeros(3), np.zeros(3)
        f1 = qe_inner(k, wt, om, m, s, a_lo, wt.max(), x1)
        f2 = qe_inner_python(k, wt, om, m, s, a_lo, wt.max(), x2)
        assert f1 == pytest.approx(f2, rel=1e-10, abs=1e-18)
        np.testing.assert_allclose(x1, x2, rtol=1e-9, atol=1e-14)


def test_qe_inner_is_the_box_constrained_optimum():
    # compare with SciPy's bounded linear least squares on the same (a, u, v) problem
    from scipy.optimize import lsq_linear

    rng = np.random.default_rng(3)
    k = np.linspace(-0.5, 0.3, 40)
    wt = 0.03 + 0.08 * (np.sqrt((k + 0.05) ** 2 + 0.01) - 0.3 * k) + rng.normal(0, 5e-4, k.size)
    om = rng.uniform(0.5, 2.0, k.size)
    m, s = -0.03, 0.12
    y = (k - m) / s
    sq = np.sqrt(1 + y * y)
    A = np.column_stack([np.ones_like(k), 0.5 * (sq + y), 0.5 * (sq - y)]) * np.sqrt(om)[:, None]
    ref = lsq_linear(A, wt * np.sqrt(om), bounds=([-wt.max(), 0, 0], [wt.max(), 4 * s, 4 * s]), tol=1e-14)
    x = np.zeros(3)
    f = qe_inner(k, wt, om, m, s, -wt.max(), wt.max(), x)
    np.testing.assert_allclose(x, ref.x, rtol=1e-6, atol=1e-10)
    assert f == pytest.approx(2 * ref.cost, rel=1e-8)


@pytest.mark.parametrize(
    "true, T",
    [
        (SVIParams(0.02, 0.15, -0.6, 0.02, 0.12), 0.5),
        (SVIParams(0.001, 0.02, -0.9, 0.005, 0.02), 0.02),  # short-dated, steep skew
        (SVIParams(0.05, 0.2, 0.3, -0.1, 0.3), 2.0),
    ],
)
def test_fit_recovers_known_parameters(true, T):
    k = np.linspace(-0.5, 0.35, 45) * math.sqrt(T / 0.5)
    iv = true.implied_vol(k, T)
    fit = SVISlice().fit(k, T, iv - 0.001, iv + 0.001, iv)
    p = fit.params_
    # exact data: parameters back to 1e-4 relative (measured: ~1e-6), vols to 1e-6
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(p, name) == pytest.approx(getattr(true, name), rel=1e-4, abs=1e-6), name
    assert fit.rmse_ < 1e-6
    assert fit.inside_ == 1.0


def test_fit_with_noise_stays_within_the_noise():
    rng = np.random.default_rng(11)
    true = SVIParams(0.02, 0.15, -0.6, 0.02, 0.12)
    T = 0.5
    k = np.linspace(-0.5, 0.35, 60)
    iv = true.implied_vol(k, T)
    noisy = iv + rng.normal(0, 0.002, k.size)
    fit = SVISlice().fit(k, T, noisy - 0.004, noisy + 0.004, noisy)
    dense = np.linspace(-0.5, 0.35, 200)
    err = np.abs(fit.params_.implied_vol(dense, T) - true.implied_vol(dense, T))
    assert err.max() < 0.002  # the fitted smile is closer to the truth than the noise (sd 0.002)
    assert fit.inside_ > 0.9


def test_fit_bad_input():
    with pytest.raises(ConfigError):
        SVISlice().fit([0.0, 0.1], 0.5, [0.2, 0.2], [0.21, 0.21])  # fewer than 5 points
    with pytest.raises(ConfigError):
        SVISlice(weights="price").fit(np.linspace(-0.1, 0.1, 9), 0.5, 0.2, 0.21)
    with pytest.raises(ConfigError):
        SVISlice().fit(np.linspace(-0.1, 0.1, 9), -1.0, 0.2, 0.21)
    with pytest.raises(ConfigError):
        SVIParams(0.01, -0.1, 0.0, 0.0, 0.1)
    with pytest.raises(ConfigError):
        SVIParams(0.01, 0.1, 1.5, 0.0, 0.1)


def _black_call_undiscounted(F, K, T, vol):
    s = vol * np.sqrt(T)
    d1 = np.log(F / K) / s + 0.5 * s
    return F * norm.cdf(d1) - K * norm.cdf(d1 - s)


def test_g_matches_breeden_litzenberger_density():
    """g(k)/sqrt(2 pi w) exp(-d_-^2/2) is the density of k (Gatheral & Jacquier 2014, sec. 2);
    the density of S_T is d2C/dK2 (Breeden-Litzenberger 1978) by finite differences."""
    p = SVIParams(0.02, 0.15, -0.6, 0.02, 0.12)
    T, F = 0.5, 100.0
    k = np.linspace(-0.6, 0.4, 41)
    K = F * np.exp(k)
    h = 1e-3 * K

    def call(KK):
        return _black_call_undiscounted(F, KK, T, p.implied_vol(np.log(KK / F), T))

    fd = (call(K + h) - 2 * call(K) + call(K - h)) / h**2
    w = p.total_variance(k)
    dm = -k / np.sqrt(w) - 0.5 * np.sqrt(w)
    dens_k = svi_density_g(k, *p.as_tuple()) / np.sqrt(2 * np.pi * w) * np.exp(-0.5 * dm * dm)
    dens_K = dens_k / K
    np.testing.assert_allclose(dens_K, fd, rtol=2e-5, atol=1e-9)


def test_vogt_slice_has_butterfly_arbitrage_and_repair_removes_it():
    grid = np.linspace(-1.5, 1.5, 301)
    ok, gmin, kmin = butterfly_check(VOGT, grid)
    assert not ok
    # GJ fig. 2: g dips below zero around k ~ 0.9; measured min g = -0.0329 at k = 0.88
    assert gmin == pytest.approx(-0.0329, abs=5e-4)
    assert 0.8 < kmin < 1.0
    neg = grid[svi_density_g(grid, *VOGT.as_tuple()) < 0]
    assert 0.6 < neg.min() and neg.max() < 1.3
    # a constrained re-fit to the slice's own vols removes the arbitrage, staying close
    k = np.linspace(-1.0, 1.0, 41)
    w = VOGT.total_variance(k)
    fixed, ok2 = repair_svi(VOGT, k, w, np.ones_like(k), np.linspace(-1.5, 1.5, 151))
    assert ok2
    assert butterfly_check(fixed, np.linspace(-1.5, 1.5, 1201))[0]
    assert np.max(np.abs(np.sqrt(fixed.total_variance(k)) - np.sqrt(w))) < 0.02  # measured 0.011


def test_calendar_check_and_repair_against_a_lower_slice():
    short = SVIParams(0.02, 0.1, -0.5, 0.0, 0.1)
    long_bad = SVIParams(0.015, 0.1, -0.5, 0.0, 0.1)  # below the short slice everywhere
    k = np.linspace(-0.5, 0.5, 51)
    ok, gap, _ = calendar_check(short.total_variance, long_bad.total_variance, k)
    assert not ok and gap == pytest.approx(-0.005)
    fixed, ok2 = repair_svi(long_bad, k, long_bad.total_variance(k), np.ones_like(k), k, w_lower=short.total_variance)
    assert ok2
    assert calendar_check(short.total_variance, fixed.total_variance, k)[0]


def test_ssvi_slice_is_raw_svi_and_fit_recovers_parameters():
    Ts = np.array([0.1, 0.25, 0.5, 1.0])
    thetas = np.array([0.004, 0.01, 0.02, 0.04])
    rho, eta, gamma = -0.7, 1.1, 0.35
    k = np.linspace(-0.48, 0.32, 21)  # contains k = 0: theta is read exactly
    pts = []
    for T, th in zip(Ts, thetas, strict=True):
        phi = eta / (th**gamma * (1 + th) ** (1 - gamma))
        iv = np.sqrt(ssvi_total_variance(k, th, rho, phi) / T)
        pts.append(pd.DataFrame({"k": k, "mid_iv": iv, "bid_iv": iv - 0.002, "ask_iv": iv + 0.002}))
    fit = SSVIFit().fit(Ts, pts)
    assert fit.rho_ == pytest.approx(rho, abs=1e-4)
    assert fit.eta_ == pytest.approx(eta, rel=1e-3)
    assert fit.gamma_ == pytest.approx(gamma, abs=1e-3)
    np.testing.assert_allclose(fit.theta(Ts), thetas, rtol=1e-12)
    cond = fit.conditions()
    assert all(cond.values()), cond
    # the SSVI slice equals its raw SVI representation (GJ 2014, sec. 4)
    p = fit.slice_params(0.5)
    np.testing.assert_allclose(p.total_variance(k), fit.total_variance(k, fit.theta(0.5)), rtol=1e-12)
    # and is butterfly-free on a wide grid
    assert butterfly_check(p, np.linspace(-3, 3, 601))[0]


def test_ssvi_heston_phi_satisfies_its_conditions():
    Ts = np.array([0.25, 1.0])
    k = np.linspace(-0.4, 0.3, 15)
    pts = []
    for T, th in zip(Ts, [0.01, 0.04], strict=True):
        lt = 2.0 * th
        phi = (1 - (1 - np.exp(-lt)) / lt) / lt
        iv = np.sqrt(ssvi_total_variance(k, th, -0.5, phi) / T)
        pts.append(pd.DataFrame({"k": k, "mid_iv": iv, "bid_iv": iv - 0.002, "ask_iv": iv + 0.002}))
    fit = SSVIFit(phi="heston").fit(Ts, pts)
    assert fit.lambda_ >= (1 + abs(fit.rho_)) / 4  # GJ Corollary 4.1
    assert fit.rho_ == pytest.approx(-0.5, abs=1e-3)
    assert fit.lambda_ == pytest.approx(2.0, rel=1e-2)
    assert all(fit.conditions().values())


def test_nelder_mead_kernel_matches_python_twin():
    from mmlab.surface import qe_nelder_mead, qe_nelder_mead_python

    true = SVIParams(0.02, 0.15, -0.6, 0.02, 0.12)
    k = np.linspace(-0.4, 0.3, 30)
    wt = true.total_variance(k) * 1.0
    om = np.ones_like(k)
    args = (k, wt, om, np.array([0.1, np.log(0.3)]), np.array([0.05, 0.3]),
            np.array([-0.8, np.log(1e-4)]), np.array([0.7, np.log(1.4)]), -wt.max(), wt.max(), 1e-9, 500)  # fmt: skip
    z1, z2 = np.zeros(2), np.zeros(2)
    f1, n1 = qe_nelder_mead(*args, z1)
    f2, n2 = qe_nelder_mead_python(*args, z2)
    assert n1 == n2
    np.testing.assert_allclose(z1, z2, rtol=1e-10)
    assert f1 == pytest.approx(f2, rel=1e-9, abs=1e-20)
    # and it finds the truth from a poor start: (m, sigma) = (0.02, 0.12)
    assert z1[0] == pytest.approx(0.02, abs=1e-5) and np.exp(z1[1]) == pytest.approx(0.12, rel=1e-4)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    m=st.floats(-0.3, 0.3),
    sigma=st.floats(0.005, 1.0),
    seed=st.integers(0, 10_000),
    a_free=st.booleans(),
)
def test_qe_inner_property_optimal_over_the_box(m, sigma, seed, a_free):
    """Property: the exact active-set solve matches SciPy's bounded least squares."""
    from scipy.optimize import lsq_linear

    rng = np.random.default_rng(seed)
    k = np.sort(rng.uniform(-0.5, 0.4, 25))
    wt = np.abs(0.03 + 0.1 * k * k - 0.04 * k + rng.normal(0, 2e-3, k.size))
    om = rng.uniform(0.2, 3.0, k.size)
    a_lo = -wt.max() if a_free else 0.0
    y = (k - m) / sigma
    sq = np.sqrt(1 + y * y)
    A = np.column_stack([np.ones_like(k), 0.5 * (sq + y), 0.5 * (sq - y)]) * np.sqrt(om)[:, None]
    ref = lsq_linear(A, wt * np.sqrt(om), bounds=([a_lo, 0, 0], [wt.max(), 4 * sigma, 4 * sigma]), tol=1e-14, method="bvls")
    x = np.zeros(3)
    f = qe_inner(k, wt, om, m, sigma, a_lo, wt.max(), x)
    assert f <= 2 * ref.cost * (1 + 1e-7) + 1e-16


@settings(max_examples=40, deadline=None)
@given(F=st.floats(50.0, 5000.0), D=st.floats(0.8, 1.0), vol=st.floats(0.05, 1.5), T=st.floats(0.01, 3.0))
def test_parity_forward_property(F, D, vol, T):
    from mmlab.pricing import black76_price
    from mmlab.surface import parity_forward

    r = -np.log(D) / T
    K = F * np.exp(np.linspace(-0.2, 0.2, 21))
    C = black76_price("c", F, K, T, r, vol)
    P = black76_price("p", F, K, T, r, vol)
    Fp, used, _ = parity_forward(K, C, P, 0.1, 0.1, D)
    assert Fp == pytest.approx(F, rel=1e-9)
    assert used >= 1
