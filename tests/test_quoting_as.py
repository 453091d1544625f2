"""Avellaneda–Stoikov quoting formulas, kernels and strategies.

Reference: Avellaneda & Stoikov (2008), Quantitative Finance 8(3) 217-224: reservation price
r = s - q gamma sigma_px^2 (T-t) (preprint eq. 29), spread
gamma sigma_px^2 (T-t) + (2/gamma) ln(1+gamma/k) (eq. 30); infinite-horizon agent, section 2.3.
sigma_px: the mid's volatility in price per sqrt(time unit).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError
from mmlab.quoting import (
    AvellanedaStoikovConfig,
    AvellanedaStoikovInfiniteConfig,
    AvellanedaStoikovInfiniteStrategy,
    AvellanedaStoikovStrategy,
    MarketState,
    Quote,
    QuotingStrategy,
    as_infinite_quote_kernel,
    as_infinite_quote_kernel_python,
    as_quote_kernel,
    as_quote_kernel_python,
    avellaneda_stoikov_infinite_quotes,
    avellaneda_stoikov_quotes,
)

pos = st.floats(1e-3, 10.0)


def test_paper_numbers_by_hand():
    # gamma=0.1, sigma_px=2, k=1.5 (the paper's section 4), T-t=0.5, q=3:
    # r = 100 - 3*0.1*4*0.5 = 99.4 ; spread = 0.1*4*0.5 + 20 ln(1 + 0.1/1.5) = 0.2 + 1.290770
    bid, ask = avellaneda_stoikov_quotes(100.0, 3.0, 0.5, 0.1, 2.0, 1.5)
    assert math.isclose((bid + ask) / 2, 99.4, rel_tol=0, abs_tol=1e-12)
    assert math.isclose(ask - bid, 0.2 + 20 * math.log(1 + 0.1 / 1.5), abs_tol=1e-12)
    assert math.isclose(ask - bid, 1.490770, abs_tol=1e-6)


def test_sigma_enters_squared():
    # doubling sigma_px multiplies the inventory skew and the risk part of the spread by 4, not 2
    b1, a1 = avellaneda_stoikov_quotes(100.0, 2.0, 1.0, 0.1, 1.0, 1.5)
    b2, a2 = avellaneda_stoikov_quotes(100.0, 2.0, 1.0, 0.1, 2.0, 1.5)
    liq = 2 / 0.1 * math.log(1 + 0.1 / 1.5)
    assert math.isclose((100 - (b2 + a2) / 2) / (100 - (b1 + a1) / 2), 4.0, rel_tol=1e-12)
    assert math.isclose((a2 - b2 - liq) / (a1 - b1 - liq), 4.0, rel_tol=1e-10)


def test_at_horizon_spread_is_liquidity_term_and_no_skew():
    bid, ask = avellaneda_stoikov_quotes(50.0, 7.0, 0.0, 0.5, 3.0, 2.0)
    assert math.isclose((bid + ask) / 2, 50.0, abs_tol=1e-12)
    assert math.isclose(ask - bid, 2 / 0.5 * math.log(1 + 0.5 / 2.0), rel_tol=1e-12)


def test_vectorised_broadcasts():
    tau = np.linspace(0, 1, 5)
    bid, ask = avellaneda_stoikov_quotes(100.0, np.array([[-1.0], [1.0]]), tau, 0.1, 2.0, 1.5)
    assert bid.shape == (2, 5)
    assert np.all(ask > bid)
    # spread independent of inventory (eq. 30)
    np.testing.assert_allclose((ask - bid)[0], (ask - bid)[1])


@settings(max_examples=200, deadline=None)
@given(mid=st.floats(1.0, 1e5), q=st.floats(-50, 50), tau=st.floats(0, 5), g=pos, s=pos, k=pos)
def test_kernel_twin_and_vector_function_agree(mid, q, tau, g, s, k):
    a = as_quote_kernel(mid, q, tau, g, s, k, math.inf, 1.0)
    b = as_quote_kernel_python(mid, q, tau, g, s, k, math.inf, 1.0)
    c = avellaneda_stoikov_quotes(mid, q, tau, g, s, k)
    scale = abs(mid) + abs(q) * g * s * s * tau + g * s * s * tau + 1.0 / g  # cancellation scale
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(a[:2], c, rtol=1e-12, atol=1e-13 * scale)
    assert a[1] - a[0] > 0


def test_inventory_bounds():
    strat = AvellanedaStoikovStrategy(AvellanedaStoikovConfig(0.1, 2.0, 1.5, order_size=2, max_inventory=10))
    assert isinstance(strat, QuotingStrategy)
    full = strat.quote(MarketState(100.0, 8.0, 0.5))
    assert full.has_bid and full.has_ask and full.bid_size == 2.0 == full.ask_size
    top = strat.quote(MarketState(100.0, 10.0, 0.5))
    assert not top.has_bid and math.isnan(top.bid) and top.has_ask
    bottom = strat.quote(MarketState(100.0, -10.0, 0.5))
    assert not bottom.has_ask and math.isnan(bottom.ask) and bottom.has_bid
    assert isinstance(full, Quote) and math.isnan(top.spread)


def test_strategy_matches_function():
    cfg = AvellanedaStoikovConfig(gamma=0.05, sigma_px=1.3, k=0.8)
    q = AvellanedaStoikovStrategy(cfg).quote(MarketState(mid=20.0, inventory=-4.0, time_left=2.0))
    bid, ask = avellaneda_stoikov_quotes(20.0, -4.0, 2.0, 0.05, 1.3, 0.8)
    assert math.isclose(q.bid, bid, rel_tol=1e-14) and math.isclose(q.ask, ask, rel_tol=1e-14)


@pytest.mark.parametrize("field,value", [("gamma", 0.0), ("sigma_px", -1.0), ("k", math.nan),
                                         ("order_size", 0.0), ("max_inventory", -1.0),
                                         ("gamma", "x"), ("k", math.inf)])
def test_config_validation(field, value):
    kw = dict(gamma=0.1, sigma_px=2.0, k=1.5)
    kw[field] = value
    with pytest.raises(ConfigError, match=field):
        AvellanedaStoikovConfig(**kw)


def test_config_is_frozen():
    cfg = AvellanedaStoikovConfig(0.1, 2.0, 1.5)
    with pytest.raises(AttributeError):
        cfg.gamma = 1.0  # type: ignore[misc]


def test_negative_time_left_rejected():
    with pytest.raises(ConfigError, match="time_left"):
        avellaneda_stoikov_quotes(100.0, 0.0, -0.1, 0.1, 2.0, 1.5)


# ---------------------------------------------------------------- infinite horizon (section 2.3)


def _vbar(x, s, q, gamma, sigma_px, omega):
    # the paper's infinite-horizon value function of the frozen-inventory agent
    return -math.exp(-gamma * (x + q * s)) / (omega - 0.5 * gamma**2 * sigma_px**2 * q**2)


@pytest.mark.parametrize("q", [-4.0, -1.0, 0.0, 2.0, 3.0])
def test_infinite_reservation_prices_are_indifference_prices(q):
    g, s, k, omega, mid, x = 0.1, 2.0, 1.5, 0.72, 100.0, 3.0
    bid, ask = avellaneda_stoikov_infinite_quotes(mid, q, g, s, k, omega)
    liq = math.log(1 + g / k) / g
    rb, ra = bid + liq, ask - liq
    v0 = _vbar(x, mid, q, g, s, omega)
    assert math.isclose(_vbar(x - rb, mid, q + 1, g, s, omega), v0, rel_tol=1e-10)
    assert math.isclose(_vbar(x + ra, mid, q - 1, g, s, omega), v0, rel_tol=1e-10)
    # the paper's printed reservation bid: s + (1/gamma) ln(1 + (-1-2q) g^2 s^2 / (2 omega - g^2 s^2 q^2))
    printed = mid + math.log(1 + (-1 - 2 * q) * g**2 * s**2 / (2 * omega - g**2 * s**2 * q**2)) / g
    assert math.isclose(rb, printed, rel_tol=1e-13)


def test_infinite_mirror_symmetry():
    for q in (-3.0, -1.0, 0.5, 2.0):
        b, a = avellaneda_stoikov_infinite_quotes(100.0, q, 0.2, 1.0, 1.0, 3.0)
        bm, am = avellaneda_stoikov_infinite_quotes(100.0, -q, 0.2, 1.0, 1.0, 3.0)
        assert math.isclose(a - 100.0, 100.0 - bm, rel_tol=1e-12)


def test_infinite_large_omega_matches_finite_horizon_with_tau_one_over_omega():
    # to first order in g^2 s^2 / omega the infinite-horizon reservation prices are the
    # finite-horizon ones with T - t = 1 / omega
    g, s, k, omega = 0.1, 2.0, 1.5, 400.0
    for q in (-3.0, 0.0, 2.0):
        bi, ai = avellaneda_stoikov_infinite_quotes(100.0, q, g, s, k, omega)
        bf, af = avellaneda_stoikov_quotes(100.0, q, 1.0 / omega, g, s, k)
        assert abs(bi - bf) < 1e-4 and abs(ai - af) < 1e-4


def test_infinite_paper_omega_bounds_inventory():
    cfg = AvellanedaStoikovInfiniteConfig(gamma=0.1, sigma_px=2.0, k=1.5, max_inventory=5)
    strat = AvellanedaStoikovInfiniteStrategy(cfg)
    assert math.isclose(cfg.effective_omega, 0.5 * 0.01 * 4 * 36)
    for q in range(-5, 6):
        quote = strat.quote(MarketState(mid=100.0, inventory=float(q)))
        assert quote.has_bid == (q < 5) and quote.has_ask == (q > -5)
        if quote.has_bid and quote.has_ask:
            assert quote.bid < quote.ask
    # the bid disappears at q_max even without the explicit bound: D(q_max + 1) = 0
    b, a = avellaneda_stoikov_infinite_quotes(100.0, 5.0, 0.1, 2.0, 1.5, cfg.effective_omega)
    assert math.isnan(b) and math.isfinite(a)
    # beyond the domain, the strategy still quotes the reducing side
    beyond = strat.quote(MarketState(mid=100.0, inventory=9.0))
    assert beyond.has_ask and not beyond.has_bid


@settings(max_examples=200, deadline=None)
@given(q=st.floats(-6, 6), g=st.floats(0.01, 1.0), s=st.floats(0.1, 3.0), k=pos)
def test_infinite_kernel_twin_agree(q, g, s, k):
    omega = 0.5 * g**2 * s**2 * 8.0**2
    a = as_infinite_quote_kernel(100.0, q, g, s, k, omega, 7.0, 1.0)
    b = as_infinite_quote_kernel_python(100.0, q, g, s, k, omega, 7.0, 1.0)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_infinite_config_validation():
    with pytest.raises(ConfigError, match="omega"):
        AvellanedaStoikovInfiniteConfig(0.1, 2.0, 1.5, max_inventory=5, omega=0.1)
    with pytest.raises(ConfigError, match="max_inventory"):
        AvellanedaStoikovInfiniteConfig(0.1, 2.0, 1.5, max_inventory=math.inf)
    with pytest.raises(ConfigError, match="domain"):
        avellaneda_stoikov_infinite_quotes(100.0, 6.0, 0.1, 2.0, 1.5, 0.72)


# ------------------------------------------------------------- uniform numba interface


def _strategies():
    from mmlab.quoting import GLFTConfig, GLFTStrategy

    return [
        AvellanedaStoikovStrategy(AvellanedaStoikovConfig(0.1, 2.0, 1.5, max_inventory=10)),
        AvellanedaStoikovInfiniteStrategy(AvellanedaStoikovInfiniteConfig(0.1, 2.0, 1.5, max_inventory=10)),
        GLFTStrategy(GLFTConfig(0.01, 0.3, 0.9, 0.3, max_inventory=10)),
    ]


@pytest.mark.parametrize("i", range(3))
def test_quote_many_kernel_and_twin_agree_with_quote(i):
    strat = _strategies()[i]
    rng = np.random.default_rng(i)
    n = 400
    mids = 100 + rng.normal(size=n)
    qs = rng.integers(-12, 13, n).astype(float)
    taus = rng.random(n)
    many = strat.quote_many(mids, qs, taus)
    one = np.array([tuple(strat.quote(MarketState(mids[j], qs[j], taus[j]))) for j in range(n)])
    kern = np.array([strat.kernel(mids[j], qs[j], taus[j], np.nan, np.nan, np.nan, strat.params) for j in range(n)])
    twin = np.array([strat.python_kernel(mids[j], qs[j], taus[j], np.nan, np.nan, np.nan, strat.params) for j in range(n)])
    for other in (one, kern, twin):
        np.testing.assert_allclose(many, other, rtol=1e-13, equal_nan=True)
    # sides disappear exactly where the bound says (|q| beyond 10 -> only the reducing side)
    assert np.all(many[qs >= 10, 2] == 0) and np.all(many[qs <= -10, 3] == 0)
    assert np.all(np.isnan(many[:, 0]) == (many[:, 2] == 0))


def test_quote_many_broadcasts_scalars_and_rejects_2d():
    strat = _strategies()[0]
    out = strat.quote_many(np.array([100.0, 101.0]), 0.0, 0.5)
    assert out.shape == (2, 4)
    with pytest.raises(ConfigError):
        strat.quote_many(np.ones((2, 2)), 0.0, 0.5)


@pytest.mark.parametrize("make", [
    lambda: AvellanedaStoikovConfig(gamma=0.1, sigma=2.0, k=1.5),
    lambda: AvellanedaStoikovInfiniteConfig(gamma=0.1, sigma=2.0, k=1.5, max_inventory=5),
    lambda: avellaneda_stoikov_quotes(100.0, 0.0, 1.0, gamma=0.1, sigma=2.0, k=1.5),
    lambda: avellaneda_stoikov_infinite_quotes(100.0, 0.0, gamma=0.1, sigma=2.0, k=1.5, omega=1.0),
])
def test_the_old_sigma_keyword_names_sigma_px(make):
    # issue 10: quoting's sigma (price per sqrt(time unit)) is sigma_px; pricing's is annualised
    with pytest.raises(ConfigError, match=r"\(sigma=\.\.\.\): renamed sigma_px .*pricing's sigma "
                                          r"is the annualised volatility"):
        make()
