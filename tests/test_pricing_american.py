"""American options via QuantLib engines: limits, engine agreement, discrete dividends, Greeks, IV."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from mmlab.errors import ConfigError
from mmlab.pricing import (
    AMERICAN_METHODS,
    IVCode,
    american_greeks,
    american_implied_vol,
    american_price,
    bsm_greeks,
    bsm_price,
    year_fraction,
)

# small grids keep the suite fast; tolerances below are stated for these settings
FAST = dict(steps=401, grid=(100, 200))


@pytest.mark.parametrize("method", AMERICAN_METHODS)
def test_call_without_dividends_equals_european(method):
    # Merton (1973): never exercise an American call early on a non-dividend-paying stock
    # (r >= 0, q = 0), so it is worth the European call.
    K = np.array([80.0, 100.0, 125.0])
    t = np.array([0.05, 0.5, 2.0])
    am = american_price("c", 100.0, K, t, 0.05, 0.3, method=method, **FAST)
    eu = bsm_price("c", 100.0, K, t, 0.05, 0.3)
    # BAW/BJS return the European formula exactly; CRR (401 steps) and FD (100x200) are within
    # their discretisation error
    tol = {"baw": 1e-10, "bjs": 1e-10, "crr": 1e-2, "fd": 5e-3}[method]
    np.testing.assert_allclose(am, eu, atol=tol)


@pytest.mark.parametrize("method", AMERICAN_METHODS)
def test_american_put_at_least_european_and_intrinsic(method):
    K = np.array([80.0, 100.0, 120.0, 150.0])
    am = american_price("p", 100.0, K, 1.0, 0.05, 0.25, q=0.01, method=method, **FAST)
    eu = bsm_price("p", 100.0, K, 1.0, 0.05, 0.25, q=0.01)
    assert np.all(am >= eu - 1e-3)
    assert np.all(am >= np.maximum(K - 100.0, 0.0) - 1e-9)
    assert am[3] == pytest.approx(50.0, abs=1e-2)  # deep ITM put: exercise now
    assert am[2] > eu[2] + 0.1  # the early-exercise premium is material here


def test_engines_agree_within_stated_tolerance():
    # Reference: FD (Crank-Nicolson/Douglas, 200 x 400).  Measured on this grid (S=100):
    # |CRR(801) - FD| <= 0.010, |BAW - FD| <= 0.07, |BJS - FD| <= 0.15; BJS (2002) is a lower
    # bound (a flat exercise boundary is a sub-optimal strategy), so BJS <= FD.
    rows = list(itertools.product("cp", [80.0, 100.0, 120.0], [0.1, 1.0], [0.0, 0.04], [0.15, 0.5]))
    f, K, t, q, s = (np.array(v) for v in zip(*rows, strict=True))
    fd = american_price(f, 100.0, K, t, 0.05, s, q, method="fd")
    crr = american_price(f, 100.0, K, t, 0.05, s, q, method="crr")
    baw = american_price(f, 100.0, K, t, 0.05, s, q, method="baw")
    bjs = american_price(f, 100.0, K, t, 0.05, s, q, method="bjs")
    assert np.max(np.abs(crr - fd)) <= 0.015
    assert np.max(np.abs(baw - fd)) <= 0.08
    assert np.max(np.abs(bjs - fd)) <= 0.16
    assert np.all(bjs <= fd + 2e-3)


def _spy_setup():
    # SPY on the shipped chain: 2023-09-14 16:31 EDT, bid 450.81 / ask 450.83
    # (data/options/cboe_spy_2023-09-14.csv, header).  SPY went ex-dividend on Friday
    # 2023-09-15 (cash dividend $1.583169, rounded $1.58 in issue 3); we take the ex-date as the
    # 09:30 EDT open.  Expiry: Friday 2023-09-22 16:00 EDT.
    now = pd.Timestamp("2023-09-14 16:31", tz="America/New_York")
    ex = pd.Timestamp("2023-09-15 09:30", tz="America/New_York")
    expiry = pd.Timestamp("2023-09-22 16:00", tz="America/New_York")
    return 450.82, year_fraction(now, expiry), year_fraction(now, ex)


def test_spy_discrete_dividend_direction():
    S, t, t_ex = _spy_setup()
    div = [(t_ex, 1.58)]
    K = [440.0, 450.0, 460.0]
    c0 = american_price("c", S, K, t, 0.053, 0.12, method="fd")
    c1 = american_price("c", S, K, t, 0.053, 0.12, method="fd", dividends=div)
    p0 = american_price("p", S, K, t, 0.053, 0.12, method="fd")
    p1 = american_price("p", S, K, t, 0.053, 0.12, method="fd", dividends=div)
    # the spot drops by 1.58 before expiry: calls lose, puts gain, by less than the dividend
    assert np.all(c1 < c0) and np.all(p1 > p0)
    assert np.all(c0 - c1 < 1.58) and np.all(p1 - p0 < 1.58)
    # roughly delta x dividend: the ATM call loses about half of it
    assert 0.4 * 1.58 < c0[1] - c1[1] < 0.75 * 1.58


def test_deep_itm_call_is_exercised_before_ex_date():
    # A deep ITM SPY call the evening before the ex-date: the dividend (1.58) exceeds the time
    # value, so the holder exercises just before the ex-date (09:30 tomorrow): the price is
    # S - K e^{-r t_ex} (the spot is a martingale up to the ex-date after discounting).
    S, t, t_ex = _spy_setup()
    am = american_price("c", S, 380.0, t, 0.053, 0.12, method="fd", dividends=[(t_ex, 1.58)])
    assert am == pytest.approx(S - 380.0 * np.exp(-0.053 * t_ex), abs=2e-3)
    # without early exercise the holder would get about S - D - K e^{-rt}
    assert S - 1.58 - 380.0 * np.exp(-0.053 * t) < am - 0.5


def test_dividend_after_expiry_is_ignored_and_bad_dividends_raise():
    a = american_price("p", 100.0, 100.0, 0.5, 0.03, 0.2, method="fd", dividends=[(0.9, 2.0)])
    b = american_price("p", 100.0, 100.0, 0.5, 0.03, 0.2, method="fd")
    assert a == pytest.approx(b, rel=1e-12)
    with pytest.raises(ConfigError, match="method='fd' only"):
        american_price("p", 100.0, 100.0, 0.5, 0.03, 0.2, method="baw", dividends=[(0.1, 1.0)])
    with pytest.raises(ConfigError, match="ex-date"):
        american_price("p", 100.0, 100.0, 0.5, 0.03, 0.2, method="fd", dividends=[(-0.1, 1.0)])
    with pytest.raises(ConfigError, match="method"):
        american_price("p", 100.0, 100.0, 0.5, 0.03, 0.2, method="lsm")
    with pytest.raises(ConfigError, match="sigma must be > 0"):
        american_price("p", 100.0, 100.0, 0.5, 0.03, 0.0)


def test_exact_year_fraction_is_used():
    # two hours vs three hours to expiry differ (QuantLib dates alone could not tell them apart)
    t2, t3 = 2 / 8760, 3 / 8760
    a2 = american_price("p", 100.0, 100.0, t2, 0.05, 0.2, method="baw")
    a3 = american_price("p", 100.0, 100.0, t3, 0.05, 0.2, method="baw")
    assert a3 > a2
    # ATM time value ~ 0.4 sigma S sqrt(t)
    assert a2 == pytest.approx(0.4 * 0.2 * 100 * np.sqrt(t2), rel=0.02)
    assert american_price("p", 100.0, 110.0, 0.0, 0.05, 0.2) == 10.0


def test_greeks_of_american_call_without_dividends_match_bsm():
    ours = american_greeks("c", 100.0, [90.0, 105.0], 0.75, 0.04, 0.3, method="baw")
    ref = bsm_greeks("c", 100.0, [90.0, 105.0], 0.75, 0.04, 0.3)
    for k in ("price", "delta", "gamma", "vega", "theta", "rho", "dividend_rho", "vanna", "volga"):
        np.testing.assert_allclose(getattr(ours, k), getattr(ref, k), rtol=2e-4, err_msg=k)


def test_fd_put_greeks_consistent_across_engines():
    fd = american_greeks("p", 100.0, 100.0, 0.5, 0.05, 0.2, method="fd")
    crr = american_greeks("p", 100.0, 100.0, 0.5, 0.05, 0.2, method="crr")
    assert fd.delta == pytest.approx(crr.delta, abs=2e-3)
    assert fd.gamma == pytest.approx(crr.gamma, rel=2e-2)
    assert fd.vega == pytest.approx(crr.vega, rel=1e-2)
    assert fd.theta == pytest.approx(crr.theta, rel=1e-2)
    assert fd.rho == pytest.approx(crr.rho, rel=1e-2)
    assert fd.model == "american_fd"
    # American put: delta in (-1, 0), rho negative, theta negative here
    assert -1 < fd.delta < 0 and fd.rho < 0 and fd.theta < 0


@pytest.mark.parametrize("method", ["baw", "fd"])
def test_implied_vol_round_trip(method):
    sig = np.array([0.15, 0.45])
    K = np.array([95.0, 110.0])
    p = american_price("p", 100.0, K, 0.5, 0.05, sig, method=method, **FAST)
    iv, code = american_implied_vol(p, "p", 100.0, K, 0.5, 0.05, method=method, **FAST)
    assert np.all(code == 0)
    np.testing.assert_allclose(iv, sig, atol=1e-8)


def test_implied_vol_reason_codes():
    res = american_implied_vol([1.0, 9.0, 0.0, 200.0, 10.0, 10.0 + 1e-9], "p", 100.0, 110.0,
                               [0.0, 0.5, 0.5, 0.5, 0.5, 0.5], 0.05, method="bjs",
                               vol_bounds=(0.3, 5.0))
    assert res.code.tolist() == [
        IVCode.NONPOSITIVE_TIME, IVCode.BELOW_INTRINSIC, IVCode.NONPOSITIVE_PRICE,
        IVCode.ABOVE_UPPER_BOUND, IVCode.AT_INTRINSIC, IVCode.AT_INTRINSIC,
    ]
    assert np.all(np.isnan(res.iv))


def test_quantlib_evaluation_date_is_restored():
    import QuantLib as ql

    settings = ql.Settings.instance()
    before = settings.evaluationDate
    settings.evaluationDate = ql.Date(14, 9, 2023)
    try:
        american_price("p", 100.0, 100.0, 0.5, 0.05, 0.2, method="crr", steps=50)
        assert settings.evaluationDate == ql.Date(14, 9, 2023)
    finally:
        settings.evaluationDate = before


def test_baw_implied_vol_out_of_the_money_put_is_solved_not_raised():
    # QuantLib's BAW engine raises at the 1e-3 lower vol bound for this OTM SPY-like put
    # ("forward + displacement (0 + 0) must be positive"); the solver must still bracket and solve.
    from mmlab.pricing import american_implied_vol, american_price

    iv, code = american_implied_vol(2.0, "p", 450.81, 400.0, 0.2521, 0.053, q=0.0208, method="baw")
    assert int(code) == 0
    back = american_price("p", 450.81, 400.0, 0.2521, 0.053, float(iv), q=0.0208, method="baw")
    assert float(back) == pytest.approx(2.0, abs=1e-8)
