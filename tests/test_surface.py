"""VolSurface: SVI surfaces of the shipped chains, fit report, arbitrage flags, interpolation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmlab.data import load_option_chain
from mmlab.errors import ConfigError
from mmlab.surface import SVIParams, VolSurface, analyze_chain, fit_surface
from mmlab.surface._surface import _Slice


@pytest.fixture(scope="module")
def spx_an(data_dir):
    ch = load_option_chain(data_dir / "options" / "cboe_spx_2023-09-14.csv")
    return analyze_chain(ch, discount=0.053)  # SOFR 5.31 % on 2023-09-14


@pytest.fixture(scope="module")
def spx_surface(spx_an):
    return fit_surface(spx_an)


@pytest.fixture(scope="module")
def btc_surface(data_dir):
    return fit_surface(load_option_chain(data_dir / "options" / "deribit_btc_2020-05-21.csv"))


def test_spx_surface_fits_inside_the_bid_ask(spx_surface):
    rep = spx_surface.report()
    print("\n" + rep[["root", "expiry", "T", "n", "rmse", "inside", "min_g", "min_calendar_gap", "repaired"]].to_string())
    print(spx_surface.summary())
    fitted = rep[rep["status"] == "fitted"]
    assert len(fitted) == 58  # every live expiry with >= 5 quotes in the 10-delta range
    big = fitted[fitted["n"] >= 10]
    # measured: min 98.3 % (SPX 2024-06-21), median 100 %; the acceptance bar is 80 %
    assert (big["inside"] >= 0.95).all()
    # vol RMSE in vol units: measured median 0.0001 (0.01 vol point), max 0.0005
    assert fitted["rmse"].median() < 3e-4
    assert fitted["rmse"].max() < 1e-3
    # the final surface is free of static arbitrage on each slice's domain
    assert fitted["butterfly_ok"].all() and fitted["calendar_ok"].all()
    assert (fitted["min_g"] >= 0).all()


def test_a_flattened_surface_fails_the_inside_share(spx_surface, spx_an):
    """The report's metric must punish an over-smoothed surface: flat ATM vol per expiry."""
    shares = []
    for s in spx_surface.slices:
        pts = spx_an.smile(s.root, s.expiry)
        pts = pts[pts["delta"].abs() >= 0.1]
        atm = float(np.sqrt(s.params.total_variance(0.0) / s.T))
        shares.append(np.mean((atm >= pts["bid_iv"]) & (atm <= pts["ask_iv"])))
    # measured: median 9 %, max 50 % (a 1-day expiry with 10 quotes); the bar is 80 %
    assert max(shares) < 0.8
    assert np.median(shares) < 0.2


def test_surface_interpolation_rules(spx_surface):
    s = spx_surface
    Ts = s.expiries
    i = 30
    sl = s.slices[i]
    k = np.linspace(-0.1, 0.05, 7)
    # on a fitted expiry the surface is the slice
    np.testing.assert_allclose(s.total_variance(k, Ts[i]), sl.params.total_variance(k), rtol=1e-12)
    # between two expiries: linear in T at fixed k
    Tm = 0.25 * Ts[i] + 0.75 * Ts[i + 1]
    expect = 0.25 * sl.params.total_variance(k) + 0.75 * s.slices[i + 1].params.total_variance(k)
    np.testing.assert_allclose(s.total_variance(k, Tm), expect, rtol=1e-12)
    # before the first and after the last expiry: constant vol at fixed k
    np.testing.assert_allclose(s.iv_k(k, Ts[0] / 2), s.iv_k(k, Ts[0]), rtol=1e-12)
    np.testing.assert_allclose(s.iv_k(k, Ts[-1] * 2), s.iv_k(k, Ts[-1]), rtol=1e-12)
    # total variance non-decreasing in T at fixed k across the fitted domain near the money
    grid_T = np.linspace(Ts[0], Ts[-1], 400)
    w = s.total_variance(np.zeros_like(grid_T), grid_T)
    assert np.all(np.diff(w) >= -1e-12)
    # iv(K, T) on arrays, through the forward: at the forward, the ATM vol
    F = s.forward(Ts[i])
    assert F == pytest.approx(sl.forward)
    assert s.iv(F, Ts[i]) == pytest.approx(np.sqrt(sl.params.total_variance(0.0) / Ts[i]))
    K = np.array([[4000.0], [4500.0], [5000.0]])
    out = s.iv(K, np.array([0.1, 0.5]))
    assert out.shape == (3, 2) and np.all((out > 0.05) & (out < 0.6))
    # SPX skew: lower strikes have higher vol
    assert out[0, 0] > out[1, 0] > out[2, 0]
    with pytest.raises(ConfigError):
        s.iv(-1.0, 0.1)
    with pytest.raises(ConfigError):
        s.iv(4500.0, 0.0)


def test_deribit_surface_with_inverse_pricing(btc_surface):
    rep = btc_surface.report()
    print("\n" + rep[["expiry", "T", "status", "n", "rmse", "inside", "butterfly_ok", "calendar_ok"]].to_string())
    fitted = rep[rep["status"] == "fitted"]
    assert len(fitted) == 6  # 2020-05-22 has 5 usable quotes in the 10-delta range: too few
    assert (rep.loc[rep["status"] != "fitted", "n"] < 5).all()
    big = fitted[fitted["n"] >= 10]
    # measured: min 81.2 % (2020-12-25, 16 quotes, 3 outside), others 100 %
    assert (big["inside"] >= 0.8).all()
    assert fitted["butterfly_ok"].all() and fitted["calendar_ok"].all()
    # BTC vols around 75-90 % in May 2020; forward is the vendor future
    assert 0.6 < float(btc_surface.iv(9000.0, 0.1)) < 1.0
    an = btc_surface.analytics
    assert (an.expiries["forward_method"] == "vendor_future").all()


def test_ssvi_surface_is_arbitrage_free_by_construction(spx_an):
    surf = fit_surface(spx_an, model="ssvi")
    rep = surf.to_frame()
    assert all(surf.ssvi.conditions().values())
    assert rep["butterfly_ok"].all() and rep["calendar_ok"].all()
    # one 3-parameter surface for 58 expiries cannot sit inside SPX's 0.05-vol-point spreads:
    # measured median vol RMSE 0.0035 vs 0.0001 for per-expiry SVI
    assert rep["rmse"].median() < 0.01
    w = surf.total_variance(0.0, np.linspace(0.01, 2.0, 50))
    assert np.all(np.diff(w) > 0)


def test_volsurface_and_fit_surface_bad_input(spx_an):
    with pytest.raises(ConfigError):
        fit_surface(spx_an, model="sabr")
    with pytest.raises(ConfigError):
        fit_surface(spx_an, min_abs_delta=0.7)
    from mmlab.errors import DataError

    with pytest.raises(DataError):
        VolSurface([], pd.DataFrame(), pd.Timestamp("2024-01-01", tz="UTC"))
    one = _Slice("X", pd.Timestamp("2024-02-01", tz="UTC"), 0.1, 100.0, SVIParams(0.004, 0.05, -0.5, 0.0, 0.1), -0.2, 0.2)
    s = VolSurface([one], pd.DataFrame(), pd.Timestamp("2024-01-01", tz="UTC"))
    assert s.iv(100.0, 0.1) == pytest.approx(np.sqrt((0.004 + 0.05 * 0.1) / 0.1))


def test_surface_report_checks_between_expiries(spx_surface, btc_surface):
    from mmlab.surface import g_from_total_variance, surface_report

    for surf in (spx_surface, btc_surface):
        rep = surface_report(surf)
        print("\n" + rep.summary())
        assert rep.arbitrage_free
        assert len(rep.between) == len(surf.slices) - 1
        assert (rep.between["min_g"].dropna() > 0).all()
    # the finite-difference g agrees with the analytic one on a fitted slice
    s = spx_surface.slices[10]
    k = np.linspace(s.k_lo, s.k_hi, 2001)
    g_fd = g_from_total_variance(k, s.params.total_variance(k))
    np.testing.assert_allclose(g_fd[1:-1], s.params.g(k)[1:-1], rtol=1e-4, atol=1e-6)


# Acceptance figures on every shipped chain (issue 3), measured with the defaults of fit_surface:
# chain -> (flat rate, expiries with >= 10 quotes allowed below 80 % inside the bid-ask)
_ALL_CHAINS = {
    # (cboe_spx_2023-09-14.csv: min 97.8 %, covered by the tests above)
    "cboe_ndx_2022-02-04.csv": (0.0008, set()),  # min 100 %
    # SPXW 2022-02-07 (Monday PM, 3 calendar days over a weekend, 31 quotes): 64.5 %; a raw SVI
    # slice does not follow that smile's curvature within its 0.1-0.3 vol-point spreads: the put
    # side flattens below k = -0.015 (4410-4425 at 0.167-0.170) while 4430-4480 fall steeply.
    # Not a clock effect: a slice is fitted in total variance, which the Black-76 prices fix
    # whatever year fraction is used (trading time or the exact AM/PM instant rescale w and T
    # alike, discounting aside), and this first slice has no calendar constraint to move it.
    "cboe_spx_2022-02-04.csv": (0.0008, {"2022-02-07"}),
    # SPY options are American: de-Americanised (early-exercise premium of a BBS tree taken out,
    # SPY's dividends below) every expiry is inside; min 81.8 % (2023-09-18, 11 quotes), 2023-12-15
    # 87.7 %.  Plain European vols of the American premia had 5 expiries at 48-72 %.
    "cboe_spy_2023-09-14.csv": (0.053, set()),
    "deribit_btc_2020-05-21.csv": (0.0, set()),  # min 81.2 %
}

# SPY's dividends as a desk would have them on 2023-09-14: the declared USD 1.583 going ex on
# 2023-09-15 (State Street SPDR distribution history), then SPY's quarterly ex-dates (the third
# Friday of Dec/Mar/Jun/Sep) with a projected USD 1.75 each (about its 2023 run rate).  Without
# the later ones no dividend can be captured after 2023-09-14 and long-dated puts are valued on
# the escrowed price: their premium, and the parity forward, come out too high.
SPY_DIVIDENDS = [("2023-09-15", 1.583)] + [
    (d, 1.75)
    for d in ["2023-12-15", "2024-03-15", "2024-06-21", "2024-09-20", "2024-12-20", "2025-03-21", "2025-06-20",
              "2025-09-19", "2025-12-19"]
]  # fmt: skip
_CHAIN_KW = {"cboe_spy_2023-09-14.csv": {"dividends": SPY_DIVIDENDS}}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_ALL_CHAINS))
def test_every_shipped_chain_acceptance(data_dir, name):
    from mmlab.surface import surface_report

    rate, allowed = _ALL_CHAINS[name]
    surf = fit_surface(load_option_chain(data_dir / "options" / name), discount=rate, **_CHAIN_KW.get(name, {}))
    rep = surface_report(surf)
    print(f"\n{name}: {rep.summary()}")
    assert rep.arbitrage_free
    pe = rep.per_expiry
    low = pe[(pe["status"] == "fitted") & (pe["n"] >= 10) & (pe["inside"] < 0.8)]
    assert {str(e.date()) for e in low["expiry"]} == allowed


# ------------------------------------------------------------------------------ American quotes


def test_eep_kernel_matches_python_twin_and_quantlib():
    from mmlab.pricing import american_price, black76_price
    from mmlab.surface import eep_crr, eep_crr_python

    th = np.array([-1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
    K = np.array([90.0, 100.0, 115.0, 100.0, 90.0, 100.0])
    T = np.array([0.25, 0.25, 0.5, 0.25, 0.25, 0.0])
    S = np.full(6, 100.0)
    r = np.full(6, 0.05)
    sig = np.array([0.2, 0.2, 0.3, 0.2, 0.2, 0.2])
    none = np.empty(0)
    a, b = np.empty(6), np.empty(6)
    eep_crr(th, S, K, T, r, sig, none, none, 64, a)
    eep_crr_python(th, S, K, T, r, sig, none, none, 64, b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert np.isnan(a[5])  # T = 0: no tree
    assert a[3] == 0.0 and a[4] == 0.0  # calls on a stock without capturable dividends
    # oracle: QuantLib's finite-difference American price (no dividends, 800 x 1600 grid) against
    # Black-76 on the forward plus our premium with 64 steps: measured 0.0001, 0.0005 and 0.0036
    # (the deep in-the-money 115 put worth 17.05: 2e-4 relative, 0.02 vol point)
    for i, tol in zip(range(3), (1e-3, 1e-3, 5e-3), strict=True):
        F = S[i] * np.exp(r[i] * T[i])
        ours = float(black76_price("p", F, K[i], T[i], r[i], sig[i])) + a[i]
        ql = float(american_price("p", S[i], K[i], T[i], r[i], sig[i], method="fd", grid=(800, 1600)))
        assert abs(ours - ql) < tol, (i, ours, ql)


def test_capturable_dividend_gives_calls_a_premium():
    from mmlab.surface import eep_crr

    one = lambda v: np.array([v])  # noqa: E731
    out = np.empty(1)
    # a deep in-the-money call, 5.0 dividend capturable at t = 0.1 of a 0.25-year option
    eep_crr(one(1.0), one(95.0), one(80.0), one(0.25), one(0.05), one(0.2), one(0.1), one(5.0), 64, out)
    with_div = out[0]
    eep_crr(one(1.0), one(95.0), one(80.0), one(0.25), one(0.05), one(0.2), one(0.3), one(5.0), 64, out)
    assert with_div > 1.0 and out[0] == 0.0  # after expiry: not capturable, no premium


def test_spy_deamericanised(data_dir):
    ch = load_option_chain(data_dir / "options" / "cboe_spy_2023-09-14.csv")
    an = analyze_chain(ch, discount=0.053, dividends=SPY_DIVIDENDS)
    eur = analyze_chain(ch, discount=0.053, american=False)
    q = an.quotes
    ok = q["reason"] == "ok"
    assert (q.loc[ok, "eep"] >= 0).all() and (eur.quotes["eep"] == 0).all()
    # the 2023-09-15 dividend can no longer be captured (exercise cut-off: the close of
    # 2023-09-14, before the 16:31 ET snapshot): calls of the expiries before the 2023-12-15
    # dividend carry no premium
    early = ok & (q["right"] == "C") & (q["expiry"] < pd.Timestamp("2023-12-14", tz="UTC"))
    assert (q.loc[early, "eep"] == 0).all()
    # in-the-money puts carry most of it (measured: median 1.5 USD, up to 37 USD deep in the
    # money at 2026-01-16)
    puts = ok & (q["right"] == "P") & ~q["otm"]
    assert q.loc[puts, "eep"].median() > 0.5
    # the put premium biases an American parity forward low: de-Americanised forwards are higher
    # for the long expiries (measured +0.16 to +9 USD from 2024-03-15 on)
    e1, e0 = an.expiries.set_index("expiry"), eur.expiries.set_index("expiry")
    far = e1.index > pd.Timestamp("2024-03-01", tz="UTC")
    assert ((e1.loc[far, "forward"] - e0.loc[far, "forward"]) > 0.1).all()
    rep = fit_surface(an).report()
    fitted = rep[(rep["status"] == "fitted") & (rep["n"] >= 10)]
    assert (fitted["inside"] >= 0.8).all()
    assert fitted["butterfly_ok"].all() and fitted["calendar_ok"].all()


def test_smile_arrays_match_smile_frames(spx_an):
    """The NumPy form used by fit_surface holds exactly the rows of smile() and smiles()."""
    frames = spx_an.smiles()
    arrays = spx_an.smile_arrays()
    assert list(frames) == list(arrays) and len(arrays) == 58  # the (root, expiry) pairs with fit-ready quotes
    for key in list(frames)[::7]:
        one = spx_an.smile(*key)
        pd.testing.assert_frame_equal(frames[key], one)
        for c, v in arrays[key].items():
            np.testing.assert_array_equal(v, one[c].to_numpy(dtype=float))


def test_american_arguments_are_checked(data_dir):
    ch = load_option_chain(data_dir / "options" / "cboe_spy_2023-09-14.csv").head(200)
    with pytest.raises(ConfigError, match="american"):
        analyze_chain(ch, american="yes")
    with pytest.raises(ConfigError, match="dividends"):
        analyze_chain(ch, dividends=[("not a date", 1.0)])
    with pytest.raises(ConfigError, match="amount must be >= 0"):
        analyze_chain(ch, dividends=[("2023-12-15", -1.0)])
