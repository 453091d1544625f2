"""The vol-surface inspector's computations, without a browser (mmlab.dashboards.vol_surface)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mmlab.dashboards import vol_surface as vs
from mmlab.errors import ConfigError

DERIBIT = "deribit_btc_2020-05-21.csv"
SPX = "cboe_spx_2023-09-14.csv"


def test_chain_names_and_default_rates():
    names = vs.chain_names()
    assert names == sorted(names) and {DERIBIT, SPX, "cboe_spy_2023-09-14.csv", "cboe_ndx_2022-02-04.csv"} <= set(names)
    assert vs.DEFAULT_CHAIN == DERIBIT
    # SOFR fixings from the shipped FRED file: 5.30 % on 2023-09-14 and 0.05 % on 2022-02-04,
    # simple ACT/360 overnight -> continuous ACT/365F: r = 365 ln(1 + SOFR/360)
    assert vs.default_rate(SPX) == pytest.approx(365 * math.log1p(0.0530 / 360), abs=1e-12)
    assert vs.default_rate("cboe_ndx_2022-02-04.csv") == pytest.approx(365 * math.log1p(0.0005 / 360), abs=1e-12)
    assert vs.default_rate(DERIBIT) == 0.0  # Deribit marks undiscounted
    with pytest.raises(ConfigError, match="no shipped option chain"):
        vs.default_rate("nope.csv")


def test_fit_is_cached_per_chain_and_rate():
    a = vs.fitted_chain(DERIBIT)
    assert vs.fitted_chain(DERIBIT) is a and vs.fitted_chain(DERIBIT, 0.0) is a
    b = vs.fitted_chain(DERIBIT, 0.01)
    assert b is not a and b[0].expiries["discount_factor"].lt(1).all()


def test_expiry_labels_round_trip():
    labels = vs.expiry_labels(DERIBIT)
    # the 22 May 2020 daily has 8 usable quotes, too few inside 10-90 delta for a fit
    assert labels == ["BTC 2020-05-23 08:00", "BTC 2020-05-29 08:00", "BTC 2020-06-05 08:00",
                      "BTC 2020-06-26 08:00", "BTC 2020-09-25 08:00", "BTC 2020-12-25 08:00"]  # fmt: skip
    root, ts = vs.parse_expiry_label(labels[3])
    assert root == "BTC" and ts == pd.Timestamp("2020-06-26 08:00", tz="UTC")
    with pytest.raises(ConfigError, match="expiry"):
        vs.parse_expiry_label("BTC")
    with pytest.raises(ConfigError, match="not a fitted expiry"):
        vs.smile_frame(DERIBIT, "SPXW 2023-09-15 20:00")
    with pytest.raises(ConfigError, match="rate"):
        vs.smile_frame(DERIBIT, labels[0], rate=float("nan"))


@pytest.mark.parametrize("chain", [DERIBIT, SPX])
def test_smiles_mids_inside_quotes_and_fit_near_mids(chain):
    rep = vs.fit_report(chain).set_index("expiry_label")
    labels = vs.expiry_labels(chain)
    picks = labels if chain == DERIBIT else labels[:: max(1, len(labels) // 6)]
    for lab in picks:
        s = vs.smile_frame(chain, lab)
        assert len(s) >= 5 and s["strike"].is_monotonic_increasing
        assert (s["bid_iv"] > 0).all()
        assert (s["bid_iv"] <= s["mid_iv"] + 1e-12).all() and (s["mid_iv"] <= s["ask_iv"] + 1e-12).all()
        # out of the money only: puts below the forward, calls above
        assert (s.loc[s["right"] == "P", "k"] <= 1e-9).all() and (s.loc[s["right"] == "C", "k"] >= -1e-9).all()
        fit = s[s["in_fit"]]
        err = fit["fit_iv"] - fit["mid_iv"]
        # the fit report is about the same points: RMSE and inside share agree with our columns
        assert math.sqrt(float((err**2).mean())) == pytest.approx(rep.loc[lab, "rmse"], rel=1e-9)
        assert fit["inside"].mean() == pytest.approx(rep.loc[lab, "inside"], rel=1e-12)
        # fitted vols near the mids: within the quote's full bid-ask width (plus 1 vol point)
        assert (err.abs() <= (fit["ask_iv"] - fit["bid_iv"]) + 0.01).all(), lab
        # the acceptance: >= 80 % inside the bid-ask on expiries with >= 10 fitted quotes
        if len(fit) >= 10:
            assert fit["inside"].mean() >= 0.8, lab


def test_deribit_smile_vols_match_the_vendor_columns():
    # Deribit's own bid_iv/ask_iv columns of data/options/deribit_btc_2020-05-21.csv (rounded to
    # 1e-4 there; the vendor's forward and quote time differ slightly): within 0.1 vol point
    an, _ = vs.fitted_chain(DERIBIT)
    q = an.quotes
    for lab in vs.expiry_labels(DERIBIT):
        root, ts = vs.parse_expiry_label(lab)
        s = vs.smile_frame(DERIBIT, lab)
        v = q[(q["root"] == root) & (q["expiry"] == ts)].set_index(["strike", "right"])
        joined = s.join(v[["vendor_bid_iv", "vendor_ask_iv"]], on=["strike", "right"])
        np.testing.assert_allclose(joined["bid_iv"], joined["vendor_bid_iv"], atol=1e-3)
        np.testing.assert_allclose(joined["ask_iv"], joined["vendor_ask_iv"], atol=1e-3)


def test_fit_curve_and_density():
    lab = "BTC 2020-06-26 08:00"
    s = vs.smile_frame(DERIBIT, lab)
    c = vs.smile_fit_curve(DERIBIT, lab, n=401)
    fit = s[s["in_fit"]]
    # the curve's domain covers the fitted quotes; it is the same slice as the smile's fit_iv
    assert c["k"].min() <= fit["k"].min() and c["k"].max() >= fit["k"].max()
    np.testing.assert_allclose(np.interp(fit["k"], c["k"], c["fit_iv"]), fit["fit_iv"], atol=2e-4)
    np.testing.assert_allclose(c["strike"], fit["forward"].iloc[0] * np.exp(c["k"]), rtol=1e-3)
    d = vs.density_frame(DERIBIT, lab)
    assert (d["g"] >= 0).all()  # no butterfly arbitrage on the domain
    # g(k) from its definition with numerical derivatives of w = fit_iv^2 T
    T = float(s["t"].median())
    _, surf = vs.fitted_chain(DERIBIT)
    p = next(sl.params for sl in surf.slices if vs.parse_expiry_label(lab)[1] == sl.expiry)
    k = d["k"].to_numpy()[50:150]
    h = 1e-4
    w, wp, wm = p.total_variance(k), p.total_variance(k + h), p.total_variance(k - h)
    w1, w2 = (wp - wm) / (2 * h), (wp - 2 * w + wm) / h**2
    g = (1 - k * w1 / (2 * w)) ** 2 - w1**2 / 4 * (1 / w + 0.25) + w2 / 2
    np.testing.assert_allclose(d["g"].to_numpy()[50:150], g, atol=1e-5)
    assert T > 0


@pytest.mark.parametrize("chain, tol", [(DERIBIT, 0.015), (SPX, 0.005)])
def test_term_structure(chain, tol):
    ts = vs.term_structure(chain)
    assert len(ts) == len(vs.expiry_labels(chain)) and ts["T"].is_monotonic_increasing
    assert (ts["atm_iv_fit"] > 0).all() and (ts["atm_iv_market"] > 0).all() and (ts["forward"] > 0).all()
    # no calendar arbitrage at the money: total variance non-decreasing in T
    assert ts["atm_total_variance"].is_monotonic_increasing
    np.testing.assert_allclose(ts["atm_iv_fit"] ** 2 * ts["T"], ts["atm_total_variance"], rtol=1e-12)
    # the fitted ATM vol is near the market's ATM mid vol (Deribit's bid-ask is 2-10 vol points wide)
    assert (ts["atm_iv_fit"] - ts["atm_iv_market"]).abs().max() <= tol


def test_surface_grid_matches_the_slices():
    _, surf = vs.fitted_chain(DERIBIT)
    g = vs.surface_grid(DERIBIT, n_k=21)
    labels = vs.expiry_labels(DERIBIT)
    assert len(g) == 21 * len(labels) and list(g["expiry_label"].unique()) == labels
    for sl, (lab, part) in zip(surf.slices, g.groupby("expiry_label", sort=False), strict=True):
        k = part["k"].to_numpy()
        inside = (k >= sl.k_lo - 1e-12) & (k <= sl.k_hi + 1e-12)
        assert np.isnan(part["iv"].to_numpy()[~inside]).all(), lab
        # at a fitted expiry the surface is that slice: sqrt(w_i(k) / T_i)
        np.testing.assert_allclose(part["iv"].to_numpy()[inside], sl.params.implied_vol(k[inside], sl.T), rtol=1e-12)
    full = vs.surface_grid(DERIBIT, n_k=21, extrapolate=True)
    assert full["iv"].notna().all() and (full["iv"] > 0).all()
    with pytest.raises(ConfigError, match="n_k"):
        vs.surface_grid(DERIBIT, n_k=1)


def test_greeks_by_strike_black76_closed_form():
    lab = "SPXW 2023-09-22 20:00"
    an, _ = vs.fitted_chain(SPX)
    g = vs.greeks_by_strike(SPX, lab)
    root, ts = vs.parse_expiry_label(lab)
    e = an.expiries.set_index(["root", "expiry"]).loc[(root, ts)]
    F, T, D = float(e["forward"]), float(e["t"]), float(e["discount_factor"])
    # Black (1976) on the forward (Hull, Options, Futures and Other Derivatives, 10th ed., 18.8):
    # d1 = (ln(F/K) + s^2 T/2)/(s sqrt T); call delta dV/dF = D N(d1), put D (N(d1) - 1);
    # gamma = D n(d1)/(F s sqrt T); vega = D F n(d1) sqrt T (per 1.00 vol), independent arithmetic
    sig, K = g["mid_iv"].to_numpy(), g["strike"].to_numpy()
    d1 = (np.log(F / K) + 0.5 * sig**2 * T) / (sig * np.sqrt(T))
    call = (g["right"] == "C").to_numpy()
    delta = np.where(call, D * norm.cdf(d1), D * (norm.cdf(d1) - 1.0))
    np.testing.assert_allclose(g["delta"], delta, atol=1e-9)
    np.testing.assert_allclose(g["gamma"], D * norm.pdf(d1) / (F * sig * np.sqrt(T)), rtol=1e-7)
    np.testing.assert_allclose(g["vega"], D * F * norm.pdf(d1) * np.sqrt(T), rtol=1e-7)
    assert (g.loc[call, "delta"].between(0, D)).all() and (g.loc[~call, "delta"].between(-D, 0)).all()
    # by strike, call deltas fall (not strictly: each strike has its own mid vol)
    assert g.loc[call, ["strike", "delta"]].corr(method="spearman").iloc[0, 1] < -0.99
    # dollar Greeks per SPX contract (multiplier 100): delta x 100 x F, vega x 100 / 100
    np.testing.assert_allclose(g["dollar_delta"], g["delta"] * 100 * F, rtol=1e-12)
    np.testing.assert_allclose(g["dollar_vega"], g["vega"], rtol=1e-12)


@pytest.mark.parametrize("chain", [DERIBIT, SPX])
def test_fit_report_and_arbitrage_flags(chain):
    rep = vs.fit_report(chain)
    fitted = rep[rep["status"] == "fitted"]
    assert list(fitted["expiry_label"]) == vs.expiry_labels(chain)
    arb = vs.arbitrage_table(chain)
    assert len(arb) == len(fitted)
    # the acceptance: no butterfly or calendar arbitrage in the final surface
    assert arb["butterfly_ok"].all() and arb["calendar_ok"].all()
    assert (arb["min_g"] >= -1e-9).all()
    text = vs.smile_summary(chain, fitted["expiry_label"].iloc[0])
    assert text.startswith(f"**{fitted['expiry_label'].iloc[0]}** ({chain})")
    assert f"{int(fitted['n'].iloc[0])} quotes fitted" in text and "no butterfly arbitrage" in text


def test_ssvi_model_is_offered_and_the_acceptance_check_rejects_it_on_spx():
    with pytest.raises(ConfigError, match="model"):
        vs.fitted_chain(DERIBIT, model="heston")
    svi = vs.fit_report(SPX)
    ssvi = vs.fit_report(SPX, model="ssvi")
    assert vs.fitted_chain(SPX, model="ssvi")[1].model == "ssvi"
    assert vs.expiry_labels(SPX, model="ssvi") == vs.expiry_labels(SPX)
    # one global SSVI surface (a few parameters for 58 expiries) is arbitrage-free by construction
    # but far stiffer than a raw SVI slice per expiry: the 80 %-inside-the-bid-ask criterion must
    # reject it, or the criterion would not tell a fitted surface from an over-smoothed one
    big = ssvi[(ssvi["status"] == "fitted") & (ssvi["n"] >= 10)]
    assert big["butterfly_ok"].all() and big["calendar_ok"].all()
    assert (big["inside"] < 0.8).mean() > 0.5
    assert ssvi["rmse"].median() > 2 * svi["rmse"].median()
    lab = vs.expiry_labels(SPX)[10]
    s = vs.smile_frame(SPX, lab, model="ssvi")
    assert "SSVI fit:" in vs.smile_summary(SPX, lab, model="ssvi")
    assert not np.allclose(s["fit_iv"], vs.smile_frame(SPX, lab)["fit_iv"])


def test_inspector_parameters_follow_the_chain():
    app = vs.VolSurfaceInspector()
    assert app.chain == DERIBIT and app.expiry == "BTC 2020-05-23 08:00"
    assert app.param.expiry.objects == vs.expiry_labels(DERIBIT)
    app.expiry = "BTC 2020-06-26 08:00"
    assert "BTC 2020-06-26 08:00" in app._summary().object and "SVI fit:" in app._summary().object
    app.model = "ssvi"
    assert "SSVI fit:" in app._summary().object and app.expiry == "BTC 2020-06-26 08:00"
    app.model = "svi"
    app.chain = SPX
    assert app.expiry == vs.default_expiry(SPX) and app.param.expiry.objects == vs.expiry_labels(SPX)
    with pytest.raises(ValueError):
        app.n_k = 500  # bounded (11, 201)
    with pytest.raises(ValueError):
        app.chain = "nope.csv"


def test_default_expiry_skips_thin_and_same_day_smiles():
    # SPX 2023-09-14 (fit report of the shipped chain): the AM-settled SPX of the 15th has 10
    # quotes and 17 hours to go, the SPXW of the 15th 23.5 hours; the SPXW of the 18th is the
    # first with >= 10 quotes and >= 1 day
    rep = vs.fit_report(SPX).set_index("expiry_label")
    assert rep.loc["SPX 2023-09-15 13:30", "n"] == 10 and rep.loc["SPX 2023-09-15 13:30", "T"] * 365 * 24 < 18
    assert vs.expiry_labels(SPX)[0] == "SPX 2023-09-15 13:30"
    assert vs.default_expiry(SPX) == "SPXW 2023-09-18 20:00"
    # SPY: the first expiry has 7 quotes
    assert rep.index[0] != vs.default_expiry("cboe_spy_2023-09-14.csv") == "SPY 2023-09-18 20:00"
    assert vs.default_expiry(DERIBIT) == "BTC 2020-05-23 08:00"  # 11 quotes, 33 hours
    assert vs.smile_summary(SPX).startswith("**SPXW 2023-09-18 20:00**")  # expiry=None -> the default


def test_fits_at_a_bound_are_flagged():
    assert vs.bound_flags(0.001, 0.005, -1.0, 0.02, 0.01) == "rho = -1"
    assert vs.bound_flags(0.001, 0.005, 1.0 - 1e-9, 0.02, 0.01) == "rho = +1"
    assert vs.bound_flags(0.001, 0.0, 0.3, 0.02, 0.01) == "b = 0"
    assert vs.bound_flags(0.001, 0.005, -0.999, 0.02, 0.01) == ""  # near is not at
    assert vs.bound_flags(float("nan"), 0.005, -1.0, 0.02, 0.01) == ""
    ndx = "cboe_ndx_2022-02-04.csv"
    rep = vs.fit_report(ndx)
    fitted = rep[rep["status"] == "fitted"]
    at = fitted["rho"].abs() >= 1 - 1e-6
    # the NDXP fits of 2022-02-04 sit on rho = -1 from the 9 Feb expiry on (the 7 Feb one does not)
    assert at.sum() >= 20 and not at.iloc[0] and at.iloc[1]
    assert (fitted.loc[at, "at_bound"] == "rho = -1").all() and (fitted.loc[~at, "at_bound"] == "").all()
    lab = fitted["expiry_label"].iloc[1]
    assert "AT A PARAMETER BOUND: rho = -1" in vs.smile_summary(ndx, lab)
    app = vs.VolSurfaceInspector(chain=ndx)
    app.expiry = lab
    view = app._summary()
    assert "Fit at a parameter bound: rho = -1" in view[1].object and view[1].alert_type == "warning"


@pytest.mark.parametrize("chain", [DERIBIT, "cboe_ndx_2022-02-04.csv"])
def test_fit_report_table_shows_no_nan(chain):
    t = vs.fit_report_table(chain)
    rep = vs.fit_report(chain)
    assert len(t) == len(rep) and t.map(lambda v: isinstance(v, str)).all().all()
    text = t.to_string()
    assert "NaN" not in text and "<NA>" not in text and "nan" not in text
    if chain == DERIBIT:
        row = t.iloc[0]  # the 22 May daily: not fitted, its errors are an em dash
        assert row["status"] == "too few points" and row["RMSE (vol pts)"] == "\u2014"
        # 11 quotes, RMSE 0.0086 in vol units -> 0.86 vol points; T 0.003727 y -> 1.36 days
        assert t.iloc[1][["quotes", "RMSE (vol pts)", "days"]].tolist() == ["11", "0.86", "1.36"]


def test_svi_explorer_knobs():
    from mmlab.dashboards._svi_explorer import knob_fit

    lab = "BTC 2020-06-26 08:00"
    e = vs.SVIExplorer.from_chain(DERIBIT, lab)
    _, surf = vs.fitted_chain(DERIBIT)
    sl = next(s for s in surf.slices if vs.parse_expiry_label(lab)[1] == s.expiry)
    assert e.params().as_tuple() == pytest.approx(sl.params.as_tuple())
    smile = vs.smile_frame(DERIBIT, lab)
    smile = smile[smile["in_fit"]]
    r = knob_fit(smile, sl.T, *e.params().as_tuple())
    rep = vs.fit_report(DERIBIT).set_index("expiry_label").loc[lab]
    # at the start the knobs are the fit: the report's RMSE and inside share
    assert r["rmse"] == pytest.approx(rep["rmse"], rel=1e-9) and r["inside"] == pytest.approx(rep["inside"])
    assert r["butterfly_ok"]
    e.a = e.a + 0.01  # lift the smile: the error grows
    assert knob_fit(smile, sl.T, *e.params().as_tuple())["rmse"] > 2 * r["rmse"]
    assert "RMSE against the mids" in e._view()[0].object
    e.reset()
    assert e.a == pytest.approx(sl.params.a)
    with pytest.raises(ValueError):
        e.rho = 1.5  # the knob's bounds
    with pytest.raises(ConfigError, match="smile"):
        knob_fit(smile.drop(columns="bid_iv"), sl.T, *e.params().as_tuple())
    assert e.__panel__() is not None
