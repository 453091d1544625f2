"""py_vollib_vectorized as a reference: where we agree, and each documented difference.

py_vollib_vectorized (0.1, with py_vollib 1.0.1) is the project's named dependency.  Its
conventions differ from ours and some of its outputs are wrong; each test below pins one
difference down so that our conventions are explicit.
"""

from __future__ import annotations

import numpy as np
import pytest

pvv = pytest.importorskip("py_vollib_vectorized")

from mmlab.pricing import bsm_greeks, bsm_price, implied_vol  # noqa: E402

FLAGS = np.array(["c", "p", "c", "p", "c", "p"])
S = 100.0
K = np.array([80.0, 90.0, 100.0, 100.0, 115.0, 130.0])
T = np.array([0.1, 0.25, 0.5, 1.0, 1.5, 2.0])
R = 0.04
Q = 0.015
SIG = np.array([0.35, 0.3, 0.2, 0.22, 0.25, 0.4])


def _pvv_greeks():
    return pvv.get_all_greeks(FLAGS, S, K, T, R, SIG, Q, model="black_scholes_merton",
                              return_as="dict")


def test_prices_agree():
    ref = pvv.vectorized_black_scholes_merton(FLAGS, S, K, T, R, SIG, Q, return_as="numpy")
    np.testing.assert_allclose(bsm_price(FLAGS, S, K, T, R, SIG, Q), ref, rtol=1e-12)


def test_implied_vols_agree():
    p = bsm_price(FLAGS, S, K, T, R, SIG, Q)
    ref = pvv.vectorized_implied_volatility(p, S, K, T, R, FLAGS, q=Q,
                                            model="black_scholes_merton", return_as="numpy")
    iv, code = implied_vol(p, FLAGS, S, K, T, R, Q)
    assert np.all(code == 0)
    np.testing.assert_allclose(iv, ref, rtol=1e-12)
    np.testing.assert_allclose(iv, SIG, rtol=1e-12)


def test_delta_gamma_agree_to_finite_difference_accuracy():
    # theirs are central differences; ours analytic
    ref = _pvv_greeks()
    g = bsm_greeks(FLAGS, S, K, T, R, SIG, Q)
    np.testing.assert_allclose(g.delta, ref["delta"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g.gamma, ref["gamma"], rtol=1e-4)


def test_their_vega_is_per_one_percent():
    # theirs: (V(sigma + 0.01) - V(sigma - 0.01)) / 2  = vega per 1 vol point;
    # ours: dV/dsigma per 1.00 of vol.  Ours x 0.01 == theirs (up to their O(h^2) error).
    ref = np.asarray(_pvv_greeks()["vega"])
    g = bsm_greeks(FLAGS, S, K, T, R, SIG, Q)
    np.testing.assert_allclose(g.vega_per_pct(), ref, rtol=2e-3)
    assert np.all(np.abs(g.vega - ref) > 10 * ref)  # not the same unit


def test_their_theta_is_per_calendar_day():
    # theirs: V(t - 1/365) - V(t), a one-day forward difference; ours: -dV/dt per year.
    ref = np.asarray(_pvv_greeks()["theta"])
    g = bsm_greeks(FLAGS, S, K, T, R, SIG, Q)
    np.testing.assert_allclose(g.theta_per_day(), ref, rtol=2e-2)
    # and the exact meaning of theirs: the one-day decay of our own price
    one_day = bsm_price(FLAGS, S, K, T - 1 / 365, R, SIG, Q) - bsm_price(FLAGS, S, K, T, R, SIG, Q)
    np.testing.assert_allclose(ref, one_day, rtol=1e-8, atol=1e-12)


def test_their_bsm_rho_is_the_black76_rho():
    # py_vollib_vectorized bumps r *and* q together (b = r - q fixed), so its BSM "rho" holds
    # the forward fixed: it is -t V per 1 % (the Black-76 rho), not dV/dr at fixed q.
    ref = np.asarray(_pvv_greeks()["rho"])
    g = bsm_greeks(FLAGS, S, K, T, R, SIG, Q)
    np.testing.assert_allclose(ref, -T * g.price * 0.01, rtol=1e-3)
    # the correct BSM rho (q fixed) is ours, confirmed by a central difference in r alone
    h = 1e-6
    fd = (bsm_price(FLAGS, S, K, T, R + h, SIG, Q) - bsm_price(FLAGS, S, K, T, R - h, SIG, Q)) / (2 * h)
    np.testing.assert_allclose(g.rho, fd, rtol=1e-6)
    assert np.all(np.abs(g.rho_per_pct() - ref) > 1e-3)  # the two differ materially
    # ours = theirs + the carry term: rho_bsm = -t V + dV/db, dV/db = -dividend_rho
    np.testing.assert_allclose(g.rho, -T * g.price - g.dividend_rho, rtol=1e-12)


def test_their_implied_vol_raises_at_zero_time_ours_gives_a_reason():
    with pytest.raises(ZeroDivisionError):
        pvv.vectorized_implied_volatility(1.0, S, 100.0, 0.0, R, "c", q=Q,
                                          model="black_scholes_merton", return_as="numpy")
    res = implied_vol([1.0, 2.0], "c", S, 100.0, [0.0, 0.5], R, Q)
    assert np.isnan(res.iv[0]) and res.reason[0] == "NONPOSITIVE_TIME"
    assert res.code[1] == 0
