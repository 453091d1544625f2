"""GLFT quotes: closed form ([G17] section 4; [GLFT13] section 4), exact solution ([GLFT13]
Theorems 1-2), their agreement far from the horizon, kernels and strategy.

[GLFT13] Guéant, Lehalle, Fernandez-Tapia, Math. Financ. Econ. 7(4) 477-507 (2013).
[G17]    Guéant, "Optimal market making", Appl. Math. Finance 24(2) 112-154 (2017).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from mmlab.errors import ConfigError
from mmlab.quoting import (
    GLFTConfig,
    GLFTStrategy,
    MarketState,
    QuotingStrategy,
    glft_exact_quotes,
    glft_quote_kernel,
    glft_quote_kernel_python,
    glft_quotes,
    glft_stationary_quotes,
)

# ticks and seconds: sigma_px 0.3 tick/sqrt(s), A 0.9 /s, k 0.3 /tick, gamma 0.01 /tick, Q 30
P13 = dict(gamma=0.01, sigma_px=0.3, A=0.9, k=0.3)


def test_closed_form_2013_by_hand():
    g, s, A, k = P13.values()
    c = math.sqrt(s**2 * g / (2 * k * A) * (1 + g / k) ** (1 + k / g))
    for q in (-3.0, 0.0, 2.0):
        db, da = glft_quotes(q, **P13)
        assert math.isclose(db, math.log(1 + g / k) / g + (2 * q + 1) / 2 * c, rel_tol=1e-13)
        assert math.isclose(da, math.log(1 + g / k) / g - (2 * q - 1) / 2 * c, rel_tol=1e-13)


def test_general_form_reduces_and_xi_zero_limit():
    # [G17] with xi = gamma and Delta = 1 is [GLFT13]
    assert np.allclose(glft_quotes(2.0, **P13, xi=0.01, delta=1.0), glft_quotes(2.0, **P13))
    # xi -> 0 is continuous: c1 -> 1/k, (1 + x/k)^(k/x + 1) -> e
    a = glft_quotes(1.0, **P13, xi=0.0, delta=2.0)
    b = glft_quotes(1.0, **P13, xi=1e-9, delta=2.0)
    assert np.allclose(a, b, rtol=1e-7)
    g, s, A, k = P13.values()
    c2 = math.sqrt(g * math.e / (2 * A * 2.0 * k))
    assert math.isclose(a[0], 1 / k + (2.0 / 2) * s * c2 + 1.0 * s * c2, rel_tol=1e-13)


def test_spread_independent_of_inventory_and_skew_linear():
    db, da = glft_quotes(np.arange(-5.0, 6.0), **P13, xi=0.005, delta=0.5)
    assert np.allclose(db + da, (db + da)[0])
    assert np.allclose(np.diff(db), np.diff(db)[0]) and np.all(np.diff(db) > 0)


def test_bounds_in_function():
    db, da = glft_quotes(np.array([-30.0, 0.0, 30.0]), **P13, max_inventory=30)
    assert np.isnan(db[2]) and np.isnan(da[0]) and np.isfinite(db[:2]).all() and np.isfinite(da[1:]).all()


@settings(max_examples=200, deadline=None)
@given(q=st.floats(-20, 20), g=st.floats(1e-3, 1.0), s=st.floats(1e-2, 5.0), A=st.floats(0.1, 100.0),
       k=st.floats(0.05, 10.0), xi=st.one_of(st.just(0.0), st.floats(1e-3, 1.0)), d=st.floats(0.1, 5.0))
def test_kernel_twin_and_function_agree(q, g, s, A, k, xi, d):
    a = glft_quote_kernel(100.0, q, g, s, A, k, xi, d, math.inf)
    b = glft_quote_kernel_python(100.0, q, g, s, A, k, xi, d, math.inf)
    db, da = glft_quotes(q, g, s, A, k, xi=xi, delta=d)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * (100 + abs(db) + abs(da)))
    np.testing.assert_allclose([100.0 - a[0], a[1] - 100.0], [db, da], rtol=1e-9, atol=1e-10 * (100 + abs(db)))


def test_strategy_bounds_and_protocol():
    strat = GLFTStrategy(GLFTConfig(**P13, order_size=2.0, max_inventory=10))
    assert isinstance(strat, QuotingStrategy)
    for q in np.arange(-10.0, 11.0, 2.0):
        quote = strat.quote(MarketState(mid=500.0, inventory=q))
        assert quote.has_bid == (q < 10) and quote.has_ask == (q > -10)
        if quote.has_bid:
            assert quote.bid_size == 2.0 and math.isclose(
                500.0 - quote.bid, glft_quotes(q, **P13, xi=0.01, delta=2.0)[0])


@pytest.mark.parametrize("kw", [dict(gamma=0.0), dict(A=-1.0), dict(k=math.nan), dict(xi=-0.1),
                                dict(order_size=0.0), dict(max_inventory=0.0)])
def test_config_validation(kw):
    args = dict(P13) | kw
    with pytest.raises(ConfigError):
        GLFTConfig(**args)


# ------------------------------------------------------------------------- exact solution


def test_exact_at_horizon_is_myopic():
    sol = glft_exact_quotes(0.0, **P13, max_inventory=30)
    myopic = math.log(1 + 0.01 / 0.3) / 0.01
    assert np.allclose(sol.bid[0, :-1], myopic) and np.allclose(sol.ask[0, 1:], myopic)
    assert np.isnan(sol.bid[0, -1]) and np.isnan(sol.ask[0, 0])  # no bid at Q, no ask at -Q


def _v(tau, g, s, A, k, Q):
    # independent reference: v = exp(-M tau) 1 via eigen-decomposition (no shift), [GLFT13] Thm 1
    n = np.arange(-Q, Q + 1.0)
    eta = A * (1 + g / k) ** (-(1 + k / g))
    M = np.diag(0.5 * k * g * s**2 * n**2) - eta * (np.eye(len(n), k=1) + np.eye(len(n), k=-1))
    w, U = np.linalg.eigh(M)
    return U @ (np.exp(-w * tau) * (U.T @ np.ones(len(n))))


@pytest.mark.parametrize("tau", [1.0, 30.0, 200.0])
def test_exact_matches_independent_eigendecomposition(tau):
    g, s, A, k = P13.values()
    v = _v(tau, g, s, A, k, 8)
    sol = glft_exact_quotes(tau, **P13, max_inventory=8)
    ref_bid = np.log(v[:-1] / v[1:]) / k + math.log(1 + g / k) / g
    np.testing.assert_allclose(sol.bid[0, :-1], ref_bid, rtol=1e-9)


def test_exact_solves_the_original_hjb():
    # [GLFT13] section 2: with u = -exp(-gamma (x + q s)) w_q(t), the HJB reads
    #   0 = w_q' + (1/2) gamma^2 sigma_px^2 q^2 w_q + inf_d A e^{-k d} (e^{-gamma d} w_{q+1} - w_q)
    #                                            + inf_d A e^{-k d} (e^{-gamma d} w_{q-1} - w_q)
    # with w_q = v_q^{-gamma/k}. Check by finite differences in t and numerical minimisation
    # over d, and check the minimisers are the exact quotes.
    g, s, A, k = 0.1, 0.5, 2.0, 1.0
    Q, tau, h = 4, 3.0, 1e-4
    w = lambda t: _v(t, g, s, A, k, Q) ** (-g / k)  # noqa: E731
    w0 = w(tau)
    dw_dt = -(w(tau + h) - w(tau - h)) / (2 * h)  # d/dt = -d/dtau
    sol = glft_exact_quotes(tau, g, s, A, k, max_inventory=Q)
    n = np.arange(-Q, Q + 1)
    for j, q in enumerate(n):
        res = dw_dt[j] + 0.5 * g**2 * s**2 * q**2 * w0[j]
        for nb, side in ((j + 1, "bid"), (j - 1, "ask")):
            if 0 <= nb < len(n):
                f = lambda d, nb=nb, j=j: A * math.exp(-k * d) * (math.exp(-g * d) * w0[nb] - w0[j])  # noqa: E731
                opt = minimize_scalar(f, bounds=(-20, 40), method="bounded",
                                      options=dict(xatol=1e-10))
                res += opt.fun
                exact = sol.bid[0, j] if side == "bid" else sol.ask[0, j]
                assert abs(opt.x - exact) < 1e-5
        assert abs(res) < 1e-6 * max(1.0, abs(dw_dt[j]))


@pytest.mark.parametrize(
    "params",
    [
        dict(gamma=0.01, sigma_px=0.3, A=0.9, k=0.3, xi=None, delta=1.0, max_inventory=30),
        dict(gamma=0.01, sigma_px=0.3, A=0.9, k=0.3, xi=0.0, delta=1.0, max_inventory=30),
        dict(gamma=0.01, sigma_px=0.3, A=0.9, k=0.3, xi=None, delta=2.0, max_inventory=60),
        dict(gamma=0.05, sigma_px=0.5, A=1.5, k=0.5, xi=0.02, delta=1.0, max_inventory=20),
    ],
)
def test_closed_form_matches_exact_far_from_horizon(params):
    # Stated accuracy of the closed-form approximation: for |q| <= Q/3 and T - t = 10 h, the
    # exact quotes ([GLFT13] Thm 2) and the closed form ([G17] s.4) agree within 1 % (relative)
    # when sqrt(alpha / eta) <= 0.08 (all cases here; measured max 0.51 %).
    sol = glft_exact_quotes([600.0, 36000.0], **params)
    p = dict(params)
    Q = p.pop("max_inventory")
    db, da = glft_quotes(sol.q, **p)
    m = np.abs(sol.q) <= Q / 3
    bid, ask = sol.bid[-1], sol.ask[-1]
    np.testing.assert_allclose(bid[m], db[m], rtol=0.01)
    np.testing.assert_allclose(ask[m], da[m], rtol=0.01)
    # and the exact quotes have converged: identical to the ground-state (T - t -> inf) quotes
    st_ = glft_stationary_quotes(**params)
    np.testing.assert_allclose(bid[m], st_.bid[0][m], rtol=1e-8)


def test_eigh_and_expm_methods_agree():
    taus = np.array([0.0, 5.0, 60.0, 600.0, 36000.0])
    a = glft_exact_quotes(taus, **P13, max_inventory=12)
    b = glft_exact_quotes(taus, **P13, max_inventory=12, method="eigh")
    np.testing.assert_allclose(a.bid, b.bid, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(a.ask, b.ask, rtol=1e-9, equal_nan=True)


def test_quotes_converge_monotonically_with_time_left():
    taus = np.array([0.0, 30.0, 120.0, 600.0, 3600.0])
    sol = glft_exact_quotes(taus, **P13, max_inventory=30)
    lim = glft_stationary_quotes(**P13, max_inventory=30)
    j = int(np.flatnonzero(sol.q == 5.0)[0])
    err = np.abs(sol.bid[:, j] - lim.bid[0, j])
    assert np.all(np.diff(err) <= 1e-12) and err[-1] < 1e-9 < err[0]


def test_exact_frame_and_at():
    sol = glft_exact_quotes([0.0, 10.0], **P13, max_inventory=3)
    df = sol.to_frame()
    assert list(df.columns) == ["time_left", "q", "bid_distance", "ask_distance"] and len(df) == 14
    assert sol.at(-3.0)[1] != sol.at(-3.0)[1]  # NaN: no ask at -Q
    with pytest.raises(ConfigError):
        sol.at(0.5)


def test_exact_validation():
    with pytest.raises(ConfigError, match="integer"):
        glft_exact_quotes(1.0, **P13, max_inventory=5, delta=2.0)
    with pytest.raises(ConfigError, match="time_left"):
        glft_exact_quotes(-1.0, **P13, max_inventory=5)


# ------------------------------------------------------------- exact solution as a strategy


@pytest.fixture(scope="module")
def exact_strategy():
    from mmlab.quoting import GLFTExactConfig, GLFTExactStrategy

    return GLFTExactStrategy(GLFTExactConfig(**P13, max_inventory=10))


def test_exact_strategy_interpolation_matches_direct_solution(exact_strategy):
    # linear interpolation on the 512-point T - t grid: within 1e-3 price units of the exact
    # quotes computed directly at off-grid times (max measured on a dense grid: 3.8e-4, at
    # q = -Q near T; 1.1e-4 at |q| <= 6)
    rng = np.random.default_rng(0)
    taus = np.sort(rng.uniform(0, exact_strategy.taus[-1], 25))
    direct = glft_exact_quotes(taus, **P13, max_inventory=10)
    for i, tau in enumerate(taus):
        for j, q in enumerate(direct.q):
            quote = exact_strategy.quote(MarketState(mid=100.0, inventory=q, time_left=tau))
            if quote.has_bid:
                assert abs((100.0 - quote.bid) - direct.bid[i, j]) < 1e-3
            else:
                assert q == 10.0
            if quote.has_ask:
                assert abs((quote.ask - 100.0) - direct.ask[i, j]) < 1e-3
            else:
                assert q == -10.0


def test_exact_strategy_limits(exact_strategy):
    lim = glft_stationary_quotes(**P13, max_inventory=10)
    for q in (-4.0, 0.0, 3.0):
        far = exact_strategy.quote(MarketState(mid=100.0, inventory=q, time_left=1e7))
        j = int(np.flatnonzero(lim.q == q)[0])
        assert abs((100.0 - far.bid) - lim.bid[0, j]) < 1e-4
    at_t = exact_strategy.quote(MarketState(mid=100.0, inventory=7.0, time_left=0.0))
    myopic = math.log(1 + 0.01 / 0.3) / 0.01
    assert math.isclose(100.0 - at_t.bid, myopic) and math.isclose(at_t.ask - 100.0, myopic)
    # off-grid inventory is quoted at the nearest grid point; beyond Q only the reducing side
    a = exact_strategy.quote(MarketState(100.0, 2.2, 30.0))
    b = exact_strategy.quote(MarketState(100.0, 2.0, 30.0))
    assert a.bid == b.bid and a.ask == b.ask
    beyond = exact_strategy.quote(MarketState(100.0, 12.0, 30.0))
    assert beyond.has_ask and not beyond.has_bid


def test_exact_strategy_kernel_twin_and_quote_many(exact_strategy):
    rng = np.random.default_rng(1)
    n = 300
    m, q = 100 + rng.normal(size=n), rng.integers(-11, 12, n).astype(float)
    t = rng.uniform(0, 1.2 * exact_strategy.taus[-1], n)
    many = exact_strategy.quote_many(m, q, t)
    p = exact_strategy.params
    twin = np.array([exact_strategy.python_kernel(m[i], q[i], t[i], np.nan, np.nan, np.nan, p)
                     for i in range(n)])
    kern = np.array([exact_strategy.kernel(m[i], q[i], t[i], np.nan, np.nan, np.nan, p)
                     for i in range(n)])
    np.testing.assert_allclose(many, twin, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(many, kern, rtol=1e-13, equal_nan=True)


# ---- issue 10: one name per quantity -------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: GLFTConfig(gamma=0.01, sigma=0.3, A=0.9, k=0.3),
    lambda: GLFTConfig(0.01, sigma=0.3, A=0.9, k=0.3),
    lambda: glft_quotes(0.0, gamma=0.01, sigma=0.3, A=0.9, k=0.3),
    lambda: glft_exact_quotes(1.0, gamma=0.01, sigma=0.3, A=0.9, k=0.3, max_inventory=5),
    lambda: glft_stationary_quotes(gamma=0.01, sigma=0.3, A=0.9, k=0.3, max_inventory=5),
])
def test_the_old_sigma_keyword_names_sigma_px(make):
    # quoting's sigma (price per sqrt(time unit)) is sigma_px: pricing's sigma is annualised
    with pytest.raises(ConfigError, match=r"\(sigma=\.\.\.\): renamed sigma_px \(the mid's "
                                          r"volatility in price per sqrt\(time unit\)\)"):
        make()


def test_the_renamed_config_stays_a_frozen_dataclass():
    import dataclasses
    import pickle

    cfg = GLFTConfig(gamma=0.01, sigma_px=0.3, A=0.9, k=0.3, max_inventory=30)
    assert GLFTConfig(0.01, 0.3, 0.9, 0.3, max_inventory=30) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.sigma_px = 1.0  # type: ignore[misc]
    assert dataclasses.replace(cfg, sigma_px=0.6).sigma_px == 0.6
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    with pytest.raises(ConfigError, match="sigma_px must be finite and > 0"):
        dataclasses.replace(cfg, sigma_px=-1.0)
