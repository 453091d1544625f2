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
    # slice does not follow that smile's curvature within its 0.1-0.3 vol-point spreads
    "cboe_spx_2022-02-04.csv": (0.0008, {"2022-02-07"}),
    # SPY options are American and SPY goes ex-dividend the next day: European Black-76 vols on
    # a parity forward mix early-exercise premia into the smile, and calls and puts disagree
    # near the money (de-Americanise with an American pricer first); 5 expiries below 80 %
    "cboe_spy_2023-09-14.csv": (0.053, {"2023-10-20", "2023-11-17", "2023-12-15", "2023-12-29", "2024-01-19"}),
    "deribit_btc_2020-05-21.csv": (0.0, set()),  # min 81.2 %
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_ALL_CHAINS))
def test_every_shipped_chain_acceptance(data_dir, name):
    from mmlab.surface import surface_report

    rate, allowed = _ALL_CHAINS[name]
    surf = fit_surface(load_option_chain(data_dir / "options" / name), discount=rate)
    rep = surface_report(surf)
    print(f"\n{name}: {rep.summary()}")
    assert rep.arbitrage_free
    pe = rep.per_expiry
    low = pe[(pe["status"] == "fitted") & (pe["n"] >= 10) & (pe["inside"] < 0.8)]
    assert {str(e.date()) for e in low["expiry"]} == allowed
