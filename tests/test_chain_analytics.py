"""Chain analytics: parity forwards, Black-76 vols on bid/mid/ask, Greeks, ATM, filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.data import load_option_chain
from mmlab.errors import ConfigError, DataError
from mmlab.pricing import black76_price
from mmlab.surface import ChainFilter, analyze_chain, parity_forward

SPX_SPOT = 4505.1001  # header "Last" of data/options/cboe_spx_2023-09-14.csv


@pytest.fixture(scope="module")
def spx(data_dir):
    return load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv")


@pytest.fixture(scope="module")
def spx_an(spx):
    # SOFR fixed at 5.31 % on 2023-09-14 (data/rates/sofr_fixings_2018-2025.csv); a flat 5.3 %
    return analyze_chain(spx, discount=0.053)


@pytest.fixture(scope="module")
def btc(data_dir):
    return load_option_chain(data_dir / "options" / "deribit_btc_2020-05-21.csv")


def _synthetic_chain(F=100.0, r=0.03, vol=0.25, T_days=(30, 90)):
    ts = pd.Timestamp("2024-01-02 15:00", tz="UTC")
    rows = []
    for d in T_days:
        exp = ts + pd.Timedelta(days=d)
        t = d / 365.0
        for K in np.arange(70.0, 131.0, 5.0):
            for right in ("C", "P"):
                px = float(black76_price(right.lower(), F, K, t, r, vol))
                rows.append(dict(ts=ts, root="SPX", expiry=exp, strike=K, right=right,
                                 bid=px - 0.05, ask=px + 0.05, underlying_px=np.nan, quote_ccy="USD"))
    return pd.DataFrame(rows)


def test_parity_forward_exact_on_black76_prices():
    F, D = 4512.3, 0.987
    K = np.arange(4300.0, 4700.0, 25.0)
    t = 0.25
    r = -np.log(D) / t
    C = black76_price("c", F, K, t, r, 0.15)
    P = black76_price("p", F, K, t, r, 0.15)
    Fp, used, d_reg = parity_forward(K, C, P, 0.2, 0.2, D)
    assert Fp == pytest.approx(F, rel=1e-12)
    assert used == 8
    assert d_reg == pytest.approx(D, rel=1e-10)


def test_synthetic_chain_recovers_forward_vols_and_dollar_greeks():
    ch = _synthetic_chain()
    an = analyze_chain(ch, discount=0.03)
    assert np.allclose(an.expiries["forward"], 100.0, rtol=1e-10)
    q = an.quotes
    ok = q["reason"] == "ok"
    assert ok.sum() > 40
    np.testing.assert_allclose(q.loc[ok, "mid_iv"], 0.25, atol=1e-9)
    both = ok & q["bid_iv"].notna()  # deep ITM bids sit below intrinsic: no bid vol (NaN)
    assert both.sum() > 30
    assert (q.loc[both, "bid_iv"] < 0.25).all() and (q.loc[ok, "ask_iv"] > 0.25).all()
    # SPX multiplier 100 from the instrument master; dollar conventions of the module notes
    row = q[ok & (q["strike"] == 100.0) & (q["right"] == "C")].iloc[0]
    assert row["multiplier"] == 100.0
    assert row["dollar_delta"] == pytest.approx(row["delta"] * 100 * 100.0)
    assert row["dollar_gamma"] == pytest.approx(row["gamma"] * 100 * 100.0**2 / 100)
    assert row["dollar_vega"] == pytest.approx(row["vega"] * 100 / 100)
    assert row["dollar_theta"] == pytest.approx(row["theta"] * 100 / 365)
    assert row["price_contract"] == pytest.approx(row["mid_usd"] * 100)
    assert q.loc[q["atm"], "strike"].unique().tolist() == [100.0]
    # a discount curve callable gives the same result as the flat rate
    an2 = analyze_chain(ch, discount=lambda t: np.exp(-0.03 * t))
    np.testing.assert_allclose(an2.quotes["mid_iv"], q["mid_iv"], rtol=1e-12, equal_nan=True)


def test_filters_give_reasons_not_drops():
    ch = _synthetic_chain(T_days=(30,))
    atm = ch.index[ch["strike"].between(95.0, 105.0)][:4]  # 95 C, 95 P, 100 C, 100 P
    ch.loc[atm[0], ["bid", "ask"]] = [0.0, 0.10]  # no bid
    ch.loc[atm[1], ["bid", "ask"]] = [2.0, 1.0]  # crossed
    ch.loc[atm[2], ["bid", "ask"]] = [0.5, 9.0]  # wide
    ch.loc[atm[3], "ts"] = ch.loc[atm[3], "ts"] - pd.Timedelta(hours=1)  # stale
    an = analyze_chain(ch, discount=0.03, filters=ChainFilter(max_age_seconds=600))
    assert len(an.quotes) == len(ch)
    assert an.quotes.loc[atm, "reason"].tolist() == ["no_bid", "crossed", "wide", "stale"]
    assert (an.quotes.drop(index=atm)["reason"].isin(["ok", "no_bid"])).all()
    with pytest.raises(ConfigError):
        ChainFilter(max_rel_spread=0)
    with pytest.raises(ConfigError):
        analyze_chain(ch, discount="five percent")
    with pytest.raises(ConfigError):
        analyze_chain(ch, forward="spot")
    with pytest.raises(DataError):
        analyze_chain(ch.drop(columns=["bid"]))


def test_spx_forwards_are_sensible(spx_an):
    ex = spx_an.expiries
    live = ex[ex["t"] > 0]
    assert (live["forward_method"] == "parity").all()
    # every forward within 0.5 % + 6 % x T of the 4505.10 close (carry ~ r - q ~ 4.5 %/y;
    # the 1-day forwards sit 5 points above the close: the 16:31 ET export saw futures move)
    dev = (live["forward"] / SPX_SPOT - 1).abs()
    assert (dev < 0.005 + 0.06 * live["t"]).all()
    assert dev.max() < 0.1
    # positive carry below the rate: implied dividend yield between 0 and 3 % from 3 months on
    # (measured 0.4 %-1.5 %; S&P 500 dividend yield about 1.5 % in Sep 2023)
    longer = live[live["t"] > 0.25]
    assert ((longer["carry"] > 0) & (longer["carry"] < 0.053)).all()
    assert longer["div_yield"].between(0.0, 0.03).all()
    # forwards increase with maturity (positive carry) beyond one month
    fwd = live[live["t"] > 0.08].sort_values("t")["forward"].to_numpy()
    assert np.all(np.diff(fwd) > -0.5)
    # the expired 2023-09-14 PM series (quote time 16:31 ET) are flagged, not dropped
    exp = spx_an.quotes[spx_an.quotes["expiry"] == pd.Timestamp("2023-09-14 20:00", tz="UTC")]
    assert len(exp) == 296 and (exp["reason"] == "expired").all()
    # ATM strike is the listed strike nearest the forward
    for _, e in live.head(5).iterrows():
        strikes = spx_an.quotes.loc[(spx_an.quotes["root"] == e["root"]) & (spx_an.quotes["expiry"] == e["expiry"]), "strike"]
        assert e["atm_strike"] == strikes.iloc[(strikes - e["forward"]).abs().argmin()]


def test_spx_mid_vols_agree_with_cboe(spx_an):
    q = spx_an.quotes
    ok = q[(q["reason"] == "ok") & q["otm"] & (q["t"] > 0.02) & q["vendor_iv"].notna()]
    d = (ok["mid_iv"] - ok["vendor_iv"]).abs()
    # CBOE's IV column vs our Black-76 mid vols on the parity forward: median 0.03 vol point
    assert d.median() < 0.001
    assert (d < 0.01).mean() > 0.95


def test_weekend_files_use_parity_forwards(data_dir):
    ch = load_option_chain(data_dir / "options" / "cboe_spx_2022-02-04.csv")
    assert ch["underlying_px"].isna().all()  # by design: exported on a Saturday
    an = analyze_chain(ch, discount=0.0008)  # SOFR 0.05 % in Feb 2022
    ex = an.expiries
    assert np.isfinite(ex["forward"]).all()
    assert ex["spot"].isna().all() and ex["carry"].isna().all()
    # S&P 500 closed at 4500.53 on Fri 2022-02-04 (a fact, not in the file)
    assert ((ex["forward"] / 4500.53 - 1).abs() < 0.01 + 0.02 * ex["t"]).all()
    assert (an.quotes["reason"] == "ok").mean() > 0.8


def test_deribit_inverse_pricing(btc):
    an = analyze_chain(btc)
    q = an.quotes
    assert (an.expiries["forward_method"] == "vendor_future").all()
    np.testing.assert_allclose(q["forward"], q["underlying_px"])
    np.testing.assert_allclose(q["bid_usd"], q["bid"] * q["underlying_px"])
    ok = q[(q["reason"] == "ok") & q["vendor_bid_iv"].notna()]
    # Deribit's own bid vols: Black-76 on its future, USD premium = BTC premium x future;
    # measured max difference 4e-4 (Deribit rounds its vols to 0.01 %)
    assert (ok["bid_iv"] - ok["vendor_bid_iv"]).abs().max() < 1e-3
    ok = q[(q["reason"] == "ok") & (q["vendor_ask_iv"] < 4.99)]  # Deribit caps ask vols at 500 %
    assert (ok["ask_iv"] - ok["vendor_ask_iv"]).abs().max() < 1e-3
    # contract units: 1 BTC per contract, premium and vega in BTC; dollar delta = delta x F
    row = q[q["reason"] == "ok"].iloc[0]
    assert row["multiplier"] == 1.0
    assert row["price_contract"] == pytest.approx(0.5 * (row["bid"] + row["ask"]), rel=1e-12)
    assert row["dollar_delta"] == pytest.approx(row["delta"] * row["forward"])
    # the parity forward agrees with the vendor future within 0.15 % (measured max 0.11 %)
    ex = an.expiries
    assert ((ex["forward_parity"] / ex["forward_vendor"] - 1).abs() < 1.5e-3).all()
