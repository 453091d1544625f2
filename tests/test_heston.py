"""Heston calibration through QuantLib: round trip, bounds/Feller reporting, a real SPX fit.

Oracle: QuantLib's ``COSHestonEngine`` (Fang & Oosterlee's COS method) generates the reference
prices, a different numerical method from the ``AnalyticHestonEngine`` the calibration uses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import QuantLib as ql

from mmlab.data import load_option_chain, load_sofr
from mmlab.errors import ConfigError, DataError
from mmlab.pricing import black76_price, implied_vol
from mmlab.surface import analyze_chain
from mmlab.volatility import HESTON_PARAMS, HestonCalibration, heston_price_ql

SPOT, R, Q = 100.0, 0.03, 0.01
DAYS = (30, 91, 182, 365)


def _cos_prices(p, strikes, days, rights):
    """Discounted Heston prices of S=100, r=3 %, q=1 % options from QuantLib's COS engine."""
    today = ql.Date(3, 3, 2015)
    old = ql.Settings.instance().evaluationDate
    ql.Settings.instance().evaluationDate = today
    try:
        dc = ql.Actual365Fixed()
        rts = ql.YieldTermStructureHandle(ql.FlatForward(today, R, dc))
        qts = ql.YieldTermStructureHandle(ql.FlatForward(today, Q, dc))
        proc = ql.HestonProcess(rts, qts, ql.QuoteHandle(ql.SimpleQuote(SPOT)),
                                p["v0"], p["kappa"], p["theta"], p["sigma"], p["rho"])  # fmt: skip
        engine = ql.COSHestonEngine(ql.HestonModel(proc), 16, 256)
        out = []
        for K, d, rt in zip(strikes, days, rights, strict=True):
            typ = ql.Option.Call if rt == "c" else ql.Option.Put
            opt = ql.VanillaOption(ql.PlainVanillaPayoff(typ, float(K)), ql.EuropeanExercise(today + int(d)))
            opt.setPricingEngine(engine)
            out.append(opt.NPV())
        return np.array(out)
    finally:
        ql.Settings.instance().evaluationDate = old


def _synthetic_slices(p):
    rows = []
    for d in DAYS:
        t = d / 365
        F = SPOT * math.exp((R - Q) * t)
        K = F * np.exp(np.linspace(-0.35, 0.25, 13) * math.sqrt(t / 0.25))
        rights = np.where(K >= F, "c", "p")
        px = _cos_prices(p, K, [d] * len(K), rights)
        iv = implied_vol(px, rights, F, K, t, R, model="black76").iv
        assert np.isfinite(iv).all()
        rows.append(pd.DataFrame({"strike": K, "t": t, "forward": F, "mid_iv": iv}))
    return rows


TRUE_SKEW = {"v0": 0.025, "kappa": 1.8, "theta": 0.055, "sigma": 0.55, "rho": -0.7}  # Feller fails
TRUE_FELLER = {"v0": 0.05, "kappa": 3.0, "theta": 0.04, "sigma": 0.35, "rho": -0.4}  # 0.24 > 0.1225


@pytest.mark.parametrize("true", [TRUE_SKEW, TRUE_FELLER], ids=["feller_violated", "feller_ok"])
def test_round_trip_recovers_parameters(true):
    h = HestonCalibration().fit(_synthetic_slices(true))  # default start: ATM vols, kappa 2, sigma .6
    got = h.params_
    for n in HESTON_PARAMS:
        assert got[n] == pytest.approx(true[n], rel=2e-3, abs=2e-4), (n, got)
    assert h.rmse_ < 2e-5  # vol units: COS vs analytic engine differ far below a vol basis point
    ratio = 2 * true["kappa"] * true["theta"] / true["sigma"] ** 2
    assert h.feller_ratio_ == pytest.approx(ratio, rel=5e-3)
    assert h.feller_ is (ratio > 1.0)
    assert h.at_bound_ == ()
    assert h.n_points_ == 13 * len(DAYS)


def test_prices_match_the_cos_engine():
    p = TRUE_SKEW
    K = np.array([80.0, 95.0, 100.0, 110.0, 125.0])
    h = HestonCalibration().fit(_synthetic_slices(p))
    for d in (30, 365):
        t = d / 365
        F = SPOT * math.exp((R - Q) * t)
        ref_c = _cos_prices(p, K, [d] * 5, ["c"] * 5)
        ref_p = _cos_prices(p, K, [d] * 5, ["p"] * 5)
        unit = heston_price_ql(p, K / F, d, "c")  # undiscounted, unit forward, analytic engine
        np.testing.assert_allclose(math.exp(-R * t) * F * unit, ref_c, rtol=1e-7, atol=1e-9)
        # the fitted estimator: price() = exp(-rt) F C(1, K/F) at its own parameters ...
        own = math.exp(-R * t) * F * heston_price_ql(h.params_, K / F, d, "p")
        np.testing.assert_allclose(h.price(K, t, "p", F, rate=R), own, rtol=1e-12)
        # ... and those reproduce the generating prices (forward interpolated between the slices)
        np.testing.assert_allclose(h.price(K, t, "p", rate=R), ref_p, rtol=2e-4, atol=1e-5)


def test_black_limit():
    # sigma -> 0 with v0 = theta: Black-76 with vol sqrt(theta) (Heston 1993, sec. 3)
    p = {"v0": 0.0625, "kappa": 1.0, "theta": 0.0625, "sigma": 1e-4, "rho": 0.0}
    m = np.array([0.8, 1.0, 1.25])
    np.testing.assert_allclose(heston_price_ql(p, m, 182, "c"), black76_price("c", 1.0, m, 182 / 365, 0.0, 0.25), rtol=1e-5)


def test_bounds_and_feller_reported():
    sl = _synthetic_slices(TRUE_SKEW)
    h = HestonCalibration(kappa=0.5, bounds={"kappa": (0.1, 1.0)}).fit(sl)  # true kappa 1.8 is outside
    assert "kappa" in h.at_bound_ and h.kappa_ == pytest.approx(1.0, abs=1e-3)
    assert h.bounds_["kappa"] == (0.1, 1.0) and h.bounds_["rho"] == (-0.999, 0.999)
    s = h.summary()
    assert "kappa" in s["at_bound"] and s["feller"] == h.feller_ and s["rmse_vol_pts"] == pytest.approx(100 * h.rmse_)
    with pytest.raises(ConfigError, match="kappa: start 2.0 outside"):
        HestonCalibration(bounds={"kappa": (0.1, 1.0)}).fit(sl)
    with pytest.raises(ConfigError, match="bounds: unknown"):
        HestonCalibration(bounds={"lambda": (0, 1)}).fit(sl)
    with pytest.raises(ConfigError, match="rho"):
        HestonCalibration(bounds={"rho": (-1.5, 0.5)}).fit(sl)


def test_bad_slices_are_typed():
    sl = pd.DataFrame({"strike": [90.0, 100.0, 110.0, 120.0], "t": 0.5, "forward": 100.0, "mid_iv": 0.2})
    with pytest.raises(DataError, match="need at least 5"):
        HestonCalibration().fit(sl)
    with pytest.raises(DataError, match="missing columns"):
        HestonCalibration().fit(sl.drop(columns="forward"))
    bad = pd.concat([sl, sl.iloc[:1].assign(mid_iv=np.nan)], ignore_index=True)
    with pytest.raises(DataError, match="'mid_iv' row 4"):
        HestonCalibration().fit(bad)
    with pytest.raises(ConfigError, match="half a day"):
        HestonCalibration().fit(pd.concat([sl, sl]).assign(t=0.001))
    with pytest.raises(ConfigError, match="fit"):
        HestonCalibration().iv(100.0, 0.5)


# ---------------------------------------------------------------- the real SPX chain


@pytest.fixture(scope="module")
def spx(data_dir):
    """SPX 2023-09-14 close, discounted at that day's SOFR fixing (shipped FRED file)."""
    sofr = load_sofr(data_dir / "rates" / "sofr_fixings_2018-2025.csv")
    r = float(sofr.loc["2023-09-14", "sofr"])
    assert r == pytest.approx(0.0531, abs=5e-4)  # SOFR 2023-09-14: 5.31 %
    ch = load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv")
    return analyze_chain(ch, discount=r)


def test_spx_one_expiry_slice(spx):
    # SPX AM monthly of 2023-12-15 (t = 0.2514), 10-delta put to 10-delta call: 138 quotes
    sm = spx.smile("SPX", "2023-12-15 14:30")
    h = HestonCalibration(min_abs_delta=0.1).fit(sm)
    assert h.n_points_ == int((sm["delta"].abs() >= 0.1).sum()) >= 100
    assert h.rmse_ < 0.005  # bound 0.5 vol points; measured 0.06
    assert h.max_abs_error_ < 0.01
    assert -0.9 < h.rho_ < -0.3  # the index skew
    # one slice barely identifies kappa: it runs to its bound, and says so
    assert set(h.at_bound_) <= {"kappa", "sigma"}
    # the model's iv() reproduces the fitted vols at the quotes (day-rounding mapped both ways)
    res = h.residuals_
    np.testing.assert_allclose(h.iv(res["strike"].to_numpy()), res["model_iv"], atol=1e-8)
    assert float(res["in_spread"].mean()) > 0.4  # measured 0.68 of mids inside bid/ask vols


def test_spx_several_monthlies(spx):
    exps = ["2023-10-20 13:30", "2023-11-17 14:30", "2023-12-15 14:30", "2024-03-15 13:30"]
    h = HestonCalibration(min_abs_delta=0.1).fit([spx.smile("SPX", e) for e in exps])
    assert h.rmse_ < 0.006  # 0.6 vol points over four expiries (measured 0.23)
    assert h.at_bound_ == ()  # an interior optimum once the term structure pins kappa, theta
    assert 0.5 < h.kappa_ < 10 and -0.9 < h.rho_ < -0.3
    assert not h.feller_  # as usual for index options: variance can touch 0
    # forwards interpolated between slices; prices are positive, calls decrease in strike
    c = h.price([4400.0, 4500.0, 4600.0], t=0.2)
    assert (c > 0).all() and (np.diff(c) < 0).all()


def test_quantlib_evaluation_date_restored():
    d = ql.Date(7, 7, 2017)
    ql.Settings.instance().evaluationDate = d
    HestonCalibration().fit(_synthetic_slices(TRUE_FELLER))
    assert ql.Settings.instance().evaluationDate == d
