"""Options chain quoter on the shipped CBOE SPX chain of 2023-09-14 (20:31 UTC snapshot).

Expiry: the SPX AM-settled monthly of 2023-10-20 (T = 0.0978 y, ACT/365F from the snapshot to
13:30 UTC), one raw-SVI slice fitted by :func:`mmlab.surface.fit_surface` (88 quotes, every fitted
vol inside its bid-ask vol interval: report column ``inside`` = 1.0) and its parity forward
(~4530.15). Reference values: Black-76 Greeks from the public :func:`mmlab.pricing.black76_greeks`
(itself tested against Haug and QuantLib), fees and multipliers from the instrument master
(SPX: multiplier 100, maker 0.65 USD/contract, ticks 0.05 below 3.00 and 0.10 above).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.data import default_master, load_option_chain
from mmlab.errors import ConfigError, QuoteValidationError
from mmlab.pricing import black76_greeks
from mmlab.quoting import (
    ChainQuoter,
    ChainQuoterConfig,
    chain_quote_kernel,
    chain_quote_kernel_python,
    validate_chain_quotes,
)
from mmlab.risk import DeltaHedgeConfig, DeltaHedger
from mmlab.surface import fit_surface

EXPIRY = pd.Timestamp("2023-10-20 13:30", tz="UTC")
SPX = default_master().option("SPX", "2023-10-20", 4500, "C")


@pytest.fixture(scope="module")
def market(data_dir):
    ch = load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv")
    sub = ch[(ch["root"] == "SPX") & (ch["expiry"] == EXPIRY)]
    surf = fit_surface(sub)
    T = float(surf.expiries[0])
    F = float(surf.forward(T))
    # a 50-strike window around the money, calls and puts: the quoted range of a desk
    near = sub[(sub["strike"] >= 4200) & (sub["strike"] <= 4800) & (sub["strike"] % 25 == 0)]
    return dict(chain=sub, surface=surf, T=T, F=F, near=near.sort_values(["right", "strike"]))


def _quoter(market, **kw):
    return ChainQuoter(ChainQuoterConfig(**kw), SPX, market["surface"])


def test_surface_and_forward_of_the_expiry(market):
    # parity forward of the 2023-10-20 SPX expiry vs the index at 4505.10 (header of the file):
    # carry of ~ +25 points over 36 days (rates 5.3 % minus dividends ~1.5 %)
    assert market["T"] == pytest.approx(0.09783, abs=1e-4)
    assert 4520 < market["F"] < 4540
    assert market["surface"].report()["inside"].iloc[0] == 1.0


def test_quotes_bracket_theo_and_theo_sits_in_the_market(market):
    near = market["near"]
    res = _quoter(market).quote(near["strike"], near["right"], market["F"], market["T"])
    q = (res.bid_size > 0) & (res.ask_size > 0)
    assert q.sum() >= 40
    assert np.all(res.bid[q] < res.theo[q]) and np.all(res.theo[q] < res.ask[q])
    # theo from the fitted surface lies within the market's bid-ask for the options the slice
    # was fitted to (out of the money, |delta| >= 0.1: fit_surface's defaults), as the fit
    # report's inside = 1.0 says (in-the-money ones differ by the undiscounted intrinsic: r = 0)
    mkt_b, mkt_a = near["bid"].to_numpy(), near["ask"].to_numpy()
    otm = np.where(res.flag > 0, res.strike > market["F"], res.strike < market["F"])
    fitted = otm & (np.abs(res.delta) >= 0.1)
    assert fitted.sum() >= 15
    inside = (res.theo >= mkt_b - 0.05) & (res.theo <= mkt_a + 0.05)
    assert inside[fitted].mean() >= 0.95


def test_theo_and_half_spread_match_black76_by_hand(market):
    F, T = market["F"], market["T"]
    K = np.array([4400.0, 4525.0, 4650.0])
    res = _quoter(market).quote(K, ["P", "C", "C"], F, T)
    sig = market["surface"].iv(K, T)
    g = black76_greeks(["p", "c", "c"], F, K, T, 0.0, sig)
    np.testing.assert_allclose(res.theo, g.price, rtol=1e-12)
    np.testing.assert_allclose(res.delta, g.delta, rtol=1e-12)
    # h = 0.05 + 0.005 vega + 0.5 gamma (0.002 F)^2 (module docstring)
    h = 0.05 + 0.005 * g.vega + 0.5 * g.gamma * (0.002 * F) ** 2
    np.testing.assert_allclose(res.half_spread, h, rtol=1e-12)
    # ATM (4525, F ~ 4530, vol ~ 11.6 %): vega = F phi(d1) sqrt(T) ~ 4530 * 0.399 * 0.3128 = 565
    assert res.vega[1] == pytest.approx(565, rel=0.01)
    # bid/ask: theo -/+ h rounded to the 0.10 tick (prices above 3.00) outward
    for i in range(3):
        assert res.bid[i] == SPX.round_price(res.theo[i] - h[i], "bid")
        assert res.ask[i] == SPX.round_price(res.theo[i] + h[i], "ask")


def test_atm_strikes_are_widest(market):
    near, F = market["near"], market["F"]
    res = _quoter(market).quote(near["strike"], near["right"], F, market["T"])
    for right in (1.0, -1.0):
        m = res.flag == right
        k_star = res.strike[m][np.argmax(res.half_spread[m])]
        # vega peaks at K = F exp(sigma^2 T / 2), gamma at F exp(3 sigma^2 T / 2): both within
        # a few points of F = 4530 for sigma^2 T ~ 0.0013, so the widest strike is the nearest one
        assert abs(k_star - F) <= 12.5
        spread = (res.ask - res.bid)[m]
        assert spread[np.argmin(np.abs(res.strike[m] - F))] == spread.max()
        # and wings are tighter: 4200/4800 half-spreads under half the ATM one
        assert res.half_spread[m][0] < 0.5 * res.half_spread[m].max()


def test_delta_skew_moves_calls_down_and_puts_up_when_long_delta(market):
    near, F, T = market["near"], market["F"], market["T"]
    K, R = near["strike"].to_numpy(), near["right"].to_numpy()
    cq = _quoter(market, delta_skew=0.01)
    flat = cq.quote(K, R, F, T)
    pos = np.where((K == 4525) & (R == "C"), 20.0, 0.0)  # long 20 ATM calls: ~ +1,000 index units
    longd = cq.quote(K, R, F, T, positions=pos)
    D = longd.portfolio_delta
    assert D == pytest.approx(20 * 100 * longd.delta[(K == 4525) & (R == "C")][0], rel=1e-12)
    # skew = delta_i * (-0.01 * D): for the ATM call (delta ~0.5) ~ -5 points
    np.testing.assert_allclose(longd.skew, -0.01 * D * longd.delta, rtol=1e-12)
    calls, puts = R == "C", R == "P"
    assert np.all(longd.skew[calls] < 0) and np.all(longd.skew[puts] > 0)
    q = (flat.bid_size > 0) & (longd.bid_size > 0)
    assert np.all(longd.bid[q & calls] <= flat.bid[q & calls])
    assert np.all(longd.bid[q & puts] >= flat.bid[q & puts])
    assert (longd.ask[calls] < flat.ask[calls]).sum() > 0.8 * calls.sum()
    # short delta: the reverse
    shortd = cq.quote(K, R, F, T, portfolio_delta=-D, portfolio_vega=0.0)
    assert np.all(shortd.skew[calls] > 0) and np.all(shortd.skew[puts] < 0)


def test_vega_skew_lowers_every_option_when_long_vega(market):
    near, F, T = market["near"], market["F"], market["T"]
    K, R = near["strike"].to_numpy(), near["right"].to_numpy()
    cq = _quoter(market, vega_skew=1e-6)
    atm = (K == 4525)
    longv = cq.quote(K, R, F, T, positions=np.where(atm, 10.0, 0.0))  # long 10 straddles
    # dollar vega per vol point = sum(pos m vega) / 100 = 10 * 100 * (vega_C + vega_P) / 100
    V = 10.0 * (longv.vega[atm & (R == "C")][0] + longv.vega[atm & (R == "P")][0])
    assert longv.greeks["dollar_vega"] == pytest.approx(V, rel=1e-12)
    assert longv.portfolio_vega == pytest.approx(V)
    # vol shift -1e-6 * V (~ -0.011 = 1.1 vol points) times vega, plus the (small) delta skew 0
    np.testing.assert_allclose(longv.skew, -1e-6 * V * longv.vega, rtol=1e-12)
    assert np.all(longv.skew < 0)
    flat = cq.quote(K, R, F, T)
    q = longv.ask_size > 0
    assert np.all(longv.ask[q] <= flat.ask[q]) and (longv.ask[q] < flat.ask[q]).sum() > 0.8 * q.sum()


def test_no_quote_crosses_itself_or_the_market(market):
    cq = _quoter(market, delta_skew=0.05, vega_skew=1e-5, base_half_spread=0.0, vega_width=0.0,
                 gamma_move=0.0)
    # the whole expiry (every listed strike, both rights), its quotes as the market
    res = cq.quote_expiry(market["chain"], "SPX", EXPIRY, market["F"], market["T"],
                          portfolio_delta=3000.0, portfolio_vega=2000.0)
    sub = market["chain"].sort_values(["right", "strike"])
    mkt_b = np.where(sub["bid"] > 0, sub["bid"], np.nan)
    mkt_a = np.where(sub["ask"] > 0, sub["ask"], np.nan)
    qb, qa = res.bid_size > 0, res.ask_size > 0
    assert len(res.strike) == len(sub) and qb.sum() > 100 and qa.sum() > 100
    assert np.all(res.bid[qb & qa] < res.ask[qb & qa])
    assert not np.any(res.bid[qb] >= mkt_a[qb])
    assert not np.any(res.ask[qa] <= mkt_b[qa])
    assert np.all(res.bid[qb] > 0)
    # the skewed quotes wanted to cross: the post-only clamp did bind somewhere
    assert np.any(np.isclose(res.ask[qa], mkt_b[qa] + 0.05) | np.isclose(res.ask[qa], mkt_b[qa] + 0.1))
    validate_chain_quotes(res.strike, res.bid, res.ask, res.bid_size, res.ask_size, mkt_b, mkt_a,
                          post_only=True)


def test_chain_greeks_in_dollars_through_the_multiplier(market):
    near, F, T = market["near"], market["F"], market["T"]
    K, R = near["strike"].to_numpy(), near["right"].to_numpy()
    pos = np.where(K == 4500, np.where(R == "C", 5.0, -3.0), 0.0)
    res = _quoter(market).quote(K, R, F, T, positions=pos, hedge_position=-100.0)
    m = 100.0  # SPX multiplier (instrument master)
    d = (pos * res.delta).sum() * m
    assert res.greeks["delta"] == pytest.approx(d - 100.0, rel=1e-12)
    assert res.greeks["dollar_delta"] == pytest.approx(d * F - 100.0 * F, rel=1e-12)
    assert res.greeks["dollar_gamma"] == pytest.approx((pos * res.gamma).sum() * m * F**2 / 100, rel=1e-12)
    assert res.greeks["dollar_theta"] == pytest.approx((pos * res.theta).sum() * m / 365, rel=1e-12)
    # per contract the master agrees: SPX.dollar_delta(0.5, 4505.10) = 225,255 USD (its doctest)
    assert SPX.dollar_delta(0.5, 4505.10) == pytest.approx(0.5 * 100 * 4505.10)
    assert "hedge: none" in res.summary()


def test_hedge_emitted_when_delta_exceeds_threshold(market):
    near, F, T = market["near"], market["F"], market["T"]
    K, R = near["strike"].to_numpy(), near["right"].to_numpy()
    atm_call = (K == 4525) & (R == "C")
    cq = ChainQuoter(ChainQuoterConfig(), SPX, market["surface"],
                     hedger=DeltaHedger(DeltaHedgeConfig(threshold=500.0)))
    # long 5 ATM calls: delta ~ 5 * 100 * 0.52 = 260 index units < 500: no hedge
    res = cq.quote(K, R, F, T, positions=np.where(atm_call, 5.0, 0.0))
    assert abs(res.greeks["delta"]) < 500 and res.hedge is None
    # long 20: ~1,040 > 500: sell the whole delta in index units, floored to the lot (1)
    res = cq.quote(K, R, F, T, positions=np.where(atm_call, 20.0, 0.0), now=1)
    D = res.greeks["delta"]
    assert D > 500
    assert res.hedge.side == -1 and res.hedge.qty == math.floor(D)
    # in E-mini futures (50 index units per contract, CME ES specification): floor(D / 50)
    es = ChainQuoter(ChainQuoterConfig(), SPX, market["surface"],
                     hedger=DeltaHedger(DeltaHedgeConfig(threshold=500.0, delta_per_unit=50.0)))
    res = es.quote(K, R, F, T, positions=np.where(atm_call, -20.0, 0.0))
    assert res.hedge.side == +1 and res.hedge.qty == math.floor(-res.greeks["delta"] / 50.0)


def test_position_limit_and_edge_filter(market):
    near, F, T = market["near"], market["F"], market["T"]
    K, R = near["strike"].to_numpy(), near["right"].to_numpy()
    cq = _quoter(market, size=10.0, max_position=10.0)
    pos = np.where(K == 4500, 4.0, 0.0)
    res = cq.quote(K, R, F, T, positions=pos)
    i = np.flatnonzero(K == 4500)
    # long 4 of 10: bids x (1 - 0.4) = 6 contracts, asks keep 10
    assert np.all(res.bid_size[i] == 6.0) and np.all(res.ask_size[i] == 10.0)
    res = cq.quote(K, R, F, T, positions=np.where(K == 4500, 10.0, 0.0))
    assert np.all(res.bid_size[i] == 0.0) and np.all(np.isnan(res.bid[i]))
    # an edge requirement above every half-spread quotes nothing
    res = _quoter(market, min_edge=100.0).quote(K, R, F, T)
    assert (res.bid_size > 0).sum() == 0 and (res.ask_size > 0).sum() == 0


def test_cheap_wing_has_no_bid_but_an_ask(market):
    F, T = market["F"], market["T"]
    res = _quoter(market).quote([3000.0], ["P"], F, T)
    # a 3000 put 34 % out of the money is worth a few cents: theo - h < 0 -> no bid
    assert res.theo[0] < res.half_spread[0]
    assert res.bid_size[0] == 0 and res.ask_size[0] == 1.0 and res.ask[0] > res.theo[0]


def test_kernel_and_python_twin_agree(market):
    near, F, T = market["near"], market["F"], market["T"]
    K = near["strike"].to_numpy(dtype=float)
    fl = np.where(near["right"].to_numpy() == "C", 1.0, -1.0)
    sig = np.asarray(market["surface"].iv(K, T), dtype=float)
    cq = _quoter(market, delta_skew=0.01, vega_skew=1e-6, max_position=5.0)
    rng = np.random.default_rng(2)
    pos = rng.integers(-6, 7, len(K)).astype(float)
    mb = near["bid"].to_numpy(dtype=float)
    ma = near["ask"].to_numpy(dtype=float)
    args = (fl, K, sig, F, T, 0.05, pos, 700.0, -300.0, mb, ma, cq._p, cq._tf, cq._tk)
    np.testing.assert_array_equal(chain_quote_kernel(*args), chain_quote_kernel_python(*args))


def test_one_option_fast_path_matches_the_chain(market):
    near, F, T = market["near"], market["F"], market["T"]
    K, R = near["strike"].to_numpy(dtype=float), near["right"].to_numpy()
    sig = np.asarray(market["surface"].iv(K, T), dtype=float)
    mb, ma = near["bid"].to_numpy(dtype=float), near["ask"].to_numpy(dtype=float)
    pos = np.arange(len(K), dtype=float) % 3 - 1
    cq = _quoter(market, delta_skew=0.01, vega_skew=1e-6, max_position=5.0)
    res = cq.quote(K, R, F, T, iv=sig, positions=pos, portfolio_delta=400.0, portfolio_vega=900.0,
                   market_bid=mb, market_ask=ma)
    for i in range(len(K)):
        q = cq.quote_option(K[i], R[i], F, T, sig[i], position=pos[i], portfolio_delta=400.0,
                            portfolio_vega=900.0, market_bid=mb[i], market_ask=ma[i])
        np.testing.assert_array_equal([q.bid, q.ask, q.bid_size, q.ask_size],
                                      [res.bid[i], res.ask[i], res.bid_size[i], res.ask_size[i]])


def test_bad_inputs_raise():
    with pytest.raises(ConfigError):
        ChainQuoterConfig(base_half_spread=-1.0)
    with pytest.raises(ConfigError):
        ChainQuoterConfig(post_only=1)
    cq = ChainQuoter(ChainQuoterConfig(), SPX, lambda K, T: np.full(np.shape(K), 0.2))
    with pytest.raises(ConfigError):
        cq.quote([4500.0, 4600.0], ["C"], 4500.0, 0.1)
    with pytest.raises(ConfigError):
        cq.quote([4500.0], ["C"], 4500.0, 0.0)
    with pytest.raises(ConfigError):
        cq.quote([4500.0], ["X"], 4500.0, 0.1)
    with pytest.raises(ConfigError):
        ChainQuoter(ChainQuoterConfig(), default_master().get("NASDAQ:AAPL"), lambda K, T: 0.2)
    with pytest.raises(ConfigError, match="coin-quoted"):
        ChainQuoter(ChainQuoterConfig(), default_master().option("BTC", "2020-05-22", 9250, "P"),
                    lambda K, T: 0.8)
    with pytest.raises(QuoteValidationError, match="strike 4500.0: crossed"):
        validate_chain_quotes([4500.0], [10.0], [9.0], [1.0], [1.0])
    with pytest.raises(QuoteValidationError, match="post-only"):
        validate_chain_quotes([4500.0], [10.0], [11.0], [1.0], [1.0], [9.0], [9.5], post_only=True)
