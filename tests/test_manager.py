"""MarketMakingProjectManager on the shipped data: configuration errors, data readiness, the
pricing cycle against mmlab.surface and the loaders directly, dollar Greeks of a small book,
run_backtest against mmlab.backtest.run on the same events, and one paper trading cycle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import mmlab
from mmlab._paths import shipped
from mmlab.backtest import GridStrategy, run
from mmlab.data import (
    load_option_chain,
    load_swap_quotes,
    load_treasury_par_yields,
    load_wti_settles,
)
from mmlab.errors import ConfigError, DataError
from mmlab.manager import (
    PRODUCTS,
    ManagerConfig,
    MarketMakingProjectManager,
    strategy_from_parameters,
)
from mmlab.rates import par_bond_duration
from mmlab.risk import RiskLimits
from mmlab.runtime import Journal
from mmlab.surface import analyze_chain, fit_surface

# SOFR fixed at 5.30 % on 2023-09-14 (FRED series SOFR, data/rates/sofr_fixings_2018-2025.csv);
# ACT/360 simple -> continuous: 365 ln(1 + 0.053 / 360)
SOFR_20230914 = 365.0 * math.log1p(0.053 / 360.0)


@pytest.fixture(scope="module")
def mgr(tmp_path_factory):
    cat = tmp_path_factory.mktemp("mgr-catalog")
    return MarketMakingProjectManager(
        universe=("SPY", "BTC", "CL", "UST", "SOFR", "AAPL"), data_dir=cat,
        limits={"AAPL": RiskLimits(max_position=300.0)})


@pytest.fixture(scope="module")
def cycle(mgr):
    book = pd.DataFrame([
        {"symbol": "SPY", "qty": 10, "expiry": "2023-10-20", "strike": 450.0, "right": "C"},
        {"symbol": "SPY", "qty": -4, "expiry": "2023-10-20", "strike": 440.0, "right": "P"},
        {"symbol": "CL", "qty": -3, "contract": "CLX23"},  # = CL02 on 2023-09-14
        {"symbol": "UST", "qty": 1_000_000, "tenor": "10Y"},
    ])
    return mgr.run_pricing_cycle("2023-09-14", ("SPY", "CL", "UST", "SOFR"), positions=book)


# ------------------------------------------------------------------------------ configuration


def test_config_is_validated_and_frozen():
    with pytest.raises(ConfigError, match="unknown product"):
        ManagerConfig(universe=("SPX", "NOPE"))
    with pytest.raises(ConfigError, match="paper"):
        ManagerConfig(venue="live")
    with pytest.raises(ConfigError, match="RiskLimits"):
        ManagerConfig(limits={"SPX": 5.0})
    with pytest.raises(ConfigError, match="unknown product"):
        ManagerConfig(limits={"XYZ": RiskLimits(max_position=1.0)})
    with pytest.raises(ConfigError, match="surface_model"):
        ManagerConfig(surface_model="sabr")
    cfg = ManagerConfig(universe="CL")
    assert cfg.universe == ("CL",)
    with pytest.raises(AttributeError):
        cfg.venue = "live"  # frozen
    with pytest.raises(ConfigError, match="either"):
        MarketMakingProjectManager(cfg, universe=("SPX",))
    assert mmlab.MarketMakingProjectManager is MarketMakingProjectManager  # lazy re-export
    # every product names shipped data sets and, where it trades, an instrument of the master
    from mmlab.data import SHIPPED_SOURCES, get_instrument

    for p in PRODUCTS.values():
        assert set(p.datasets) <= set(SHIPPED_SOURCES), p.symbol
        if p.instrument:
            get_instrument(p.instrument)


def test_strategy_from_parameters():
    s, st = strategy_from_parameters({"strategy": "glft", "gamma": 0.1, "sigma_px": 2.0, "A": 1.0,
                                      "k": 0.5, "settings": {"entry_latency": 5}})
    assert type(s).__name__ == "GLFTConfig" and s.A == 1.0 and st == {"entry_latency": 5}
    g = GridStrategy(0.5, 1.0)
    assert strategy_from_parameters({"strategy": g}) == (g, {})
    with pytest.raises(ConfigError, match="beside a strategy object"):
        strategy_from_parameters({"strategy": g, "half_spread": 1.0})
    with pytest.raises(ConfigError, match="'as'"):
        strategy_from_parameters({"strategy": "as", "gamma": 0.1, "sigma_px": 2.0, "kappa": 1.0})
    with pytest.raises(ConfigError, match="needs a 'strategy'"):
        strategy_from_parameters({"half_spread": 1.0})
    # issue 10: quoting's sigma (price per sqrt(time unit)) is sigma_px; the old key says so
    with pytest.raises(ConfigError, match=r"GLFTConfig\(sigma=\.\.\.\): renamed sigma_px"):
        strategy_from_parameters({"strategy": "glft", "gamma": 0.1, "sigma": 2.0, "A": 1.0,
                                  "k": 0.5})


def test_ensure_data_ready_registers_the_universe(mgr):
    reg = mgr.ensure_data_ready(("SPY", "BTC"))
    # SOFR comes along: the SPY chain takes its rate from it
    assert sorted(reg["name"]) == ["cboe-spy-20230914", "deribit-btc-20200521", "sofr-2018-2025"]
    rows = dict(zip(reg["name"], reg["rows"], strict=True))
    # 7,292 contracts in the CBOE SPY file, 326 in the Deribit file (their data rows)
    assert rows["cboe-spy-20230914"] == 7292 and rows["deribit-btc-20200521"] == 326
    with pytest.raises(ConfigError, match="unknown product"):
        mgr.ensure_data_ready(["SPX500"])


# ------------------------------------------------------------------------------ pricing


def test_pricing_cycle_matches_mmlab_surface(cycle):
    assert list(cycle.products["symbol"]) == ["SPY", "CL", "UST", "SOFR"]
    spy = cycle.products.set_index("symbol").loc["SPY"]
    assert spy["rate"] == pytest.approx(SOFR_20230914, abs=1e-12)
    assert spy["data_time"] == pd.Timestamp("2023-09-14 20:31", tz="UTC")  # the file's quote time
    # the same chain through mmlab.surface directly, with the same rate
    an = analyze_chain(load_option_chain(shipped("options", "cboe_spy_2023-09-14.csv")),
                       discount=SOFR_20230914)
    surf = fit_surface(an)
    c = cycle.curves["SPY"]
    ex = an.expiries[(an.expiries["t"] > 0) & np.isfinite(an.expiries["forward"])]
    np.testing.assert_allclose(c["forward"].to_numpy(), ex["forward"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(c["atm_vol_market"].to_numpy(), ex["atm_iv"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(c["atm_vol_fit"].to_numpy(),
                               surf.iv_k(np.zeros(len(ex)), ex["t"].to_numpy()), rtol=1e-9)
    assert cycle.surfaces["SPY"].iv(450.0, 0.1) == pytest.approx(surf.iv(450.0, 0.1), rel=1e-9)
    # SPY closed at 450.36 on 2023-09-14: the parity forwards sit within a dollar of it
    assert c["forward"].iloc[:5].between(449.0, 451.5).all()
    fitted = c[c["status"] == "fitted"]
    assert (fitted["atm_vol_fit"] - fitted["atm_vol_market"]).abs().median() < 0.01
    assert cycle.to_frame()["symbol"].iloc[0] == "SPY"
    assert len(cycle.plot()) == 1  # one option product: one ATM term-structure curve


def test_pricing_cycle_futures_and_par_curve(cycle, mgr):
    wti = load_wti_settles(shipped("commodities", "wti_cl01-cl36_settles_2007-2023.csv"))
    cl = cycle.curves["CL"].set_index("contract")
    row = wti.loc["2023-09-14"]
    np.testing.assert_allclose(cl["forward"].to_numpy(), row.to_numpy(dtype=float))
    # CL01 on 2023-09-14 is the Oct 2023 contract, last trade 2023-09-20 (CME rule, 25th - 3 bd)
    assert cl.loc["CL01", "delivery"] == "2023-10" and cl.loc["CL02", "code"] == "CLX23"
    assert cl.loc["CL01", "expiry"] == pd.Timestamp("2023-09-20 18:30", tz="UTC")
    assert (cl["realised_vol"].between(0.05, 1.0)).all()
    # the day WTI went negative: CL01 (May 2020) settled at -37.63 on 2020-04-20 (NYMEX); its
    # log-return that day is undefined and left out of the realised vol, never a NaN vol
    neg = mgr.run_pricing_cycle("2020-04-20", ("CL",)).curves["CL"].set_index("contract")
    assert neg.loc["CL01", "forward"] == -37.63 and neg.loc["CL01", "delivery"] == "2020-05"
    assert np.isfinite(neg.loc["CL01", "realised_vol"]) and neg.loc["CL01", "n_returns"] == 59
    ust = cycle.curves["UST"].set_index("tenor")
    par = load_treasury_par_yields(shipped("rates", "ust_par_yields_1990-2023.csv"))
    # Treasury daily par yield curve, 2023-09-14: 10Y 4.29 % (the shipped file's row)
    assert ust.loc["10Y", "par_yield"] == par.loc["2023-09-14", "10Y"] == pytest.approx(0.0429)
    assert cycle.curves["SOFR"]["fixing"].iloc[0] == pytest.approx(0.053)
    # the bootstrapped Treasury curve (mmlab.rates) discounts the 10-year near its par yield
    assert ust.loc["10Y", "zero_rate"] == pytest.approx(0.0429, abs=0.0015)
    assert cycle.yield_curves["UST"].discount(0.0) == pytest.approx(1.0)


def test_pricing_cycle_order_book_top_at_asof(mgr):
    from mmlab.book import replay

    t = "2012-06-21 13:30:30"
    cyc = mgr.run_pricing_cycle(t, ("AAPL",), positions=pd.DataFrame(
        [{"symbol": "AAPL", "qty": -200}]))
    top = cyc.curves["AAPL"].iloc[0]
    hi = pd.Timestamp(t, tz="UTC").value
    ref = replay(mgr.catalog.load("lobster-aapl-20120621-l10", end=hi + 1), tick_size=0.01)
    assert (top["best_bid"], top["best_ask"]) == (ref.best_bid, ref.best_ask)
    assert 585.0 < top["forward"] < 586.5  # AAPL near $585.6 half a minute after the open
    assert cyc.greeks.loc["AAPL", "dollar_delta"] == pytest.approx(-200 * top["forward"])


def test_pricing_cycle_sofr_swap_curve(mgr):
    cyc = mgr.run_pricing_cycle("2023-10-19", ("USD-SOFR-SWAP",), positions=pd.DataFrame(
        [{"symbol": "USD-SOFR-SWAP", "qty": 1_000_000, "tenor": "10Y"}]))
    sw = cyc.curves["USD-SOFR-SWAP"].set_index("tenor")
    quotes = load_swap_quotes(shipped("rates", "usd_swap_curve_quotes_2023-10-19.json"))
    q = quotes[quotes["instrument"] == "swap"].set_index("tenor")["rate"]
    # pillar swaps reprice their quotes (the file's s10y = 4.57 %, s2y = 4.96 %)
    for tenor in ("2Y", "5Y", "10Y", "30Y"):
        assert sw.loc[tenor, "par_rate"] == pytest.approx(q[tenor], abs=1e-8), tenor
    # DV01 of a $1mm payer = notional x annuity x 1e-4
    assert cyc.greeks.loc["USD-SOFR-SWAP", "dv01"] == pytest.approx(1e6 * sw.loc["10Y", "annuity"] * 1e-4)
    assert 750 < cyc.greeks.loc["USD-SOFR-SWAP", "dv01"] < 850


def test_par_bond_duration_against_quantlib():
    ql = pytest.importorskip("QuantLib")
    day = ql.Date(15, 9, 2023)
    ql.Settings.instance().evaluationDate = day
    for y, n in [(0.0429, 10), (0.05, 2), (0.0442, 30), (0.01, 5)]:
        sched = ql.Schedule(day, day + ql.Period(n, ql.Years), ql.Period(ql.Semiannual),
                            ql.NullCalendar(), ql.Unadjusted, ql.Unadjusted,
                            ql.DateGeneration.Backward, False)
        bond = ql.FixedRateBond(0, 100.0, sched, [y], ql.Thirty360(ql.Thirty360.BondBasis))
        rate = ql.InterestRate(y, ql.Thirty360(ql.Thirty360.BondBasis), ql.Compounded, ql.Semiannual)
        ref = ql.BondFunctions.duration(bond, rate, ql.Duration.Modified)
        assert par_bond_duration(y, float(n)) == pytest.approx(ref, rel=1e-10), (y, n)


def test_dollar_greeks_of_the_book(cycle):
    q = cycle.chains["SPY"].quotes
    sel = (q["expiry"].dt.date == pd.Timestamp("2023-10-20").date()) & (q["strike"] == 450.0) \
        & (q["right"] == "C")
    c450 = q[sel].iloc[0]
    sel = (q["expiry"].dt.date == pd.Timestamp("2023-10-20").date()) & (q["strike"] == 440.0) \
        & (q["right"] == "P")
    p440 = q[sel].iloc[0]
    g = cycle.greeks
    # aggregate_greeks' definitions: q m delta F; q m gamma F^2 / 100; q m vega / 100
    dd = 100.0 * (10 * c450["delta"] * c450["forward"] - 4 * p440["delta"] * p440["forward"])
    assert g.loc["SPY", "dollar_delta"] == pytest.approx(dd, rel=1e-12)
    assert g.loc["SPY", "vega_per_point"] == pytest.approx(10 * c450["vega"] - 4 * p440["vega"],
                                                           rel=1e-12)
    assert c450["delta"] == pytest.approx(0.54, abs=0.05)  # a one-month call near the money
    # short 3 CL02 (1,000 bbl each) at the 2023-09-14 settle 89.61
    assert g.loc["CL", "dollar_delta"] == pytest.approx(-3 * 1000 * 89.61, rel=1e-12)
    # $1mm 10-year par bond at 4.29 %: DV01 = D x 1e-4 x 1e6
    assert g.loc["UST", "dv01"] == pytest.approx(1e6 * 1e-4 * par_bond_duration(0.0429, 10.0))
    assert 780 < g.loc["UST", "dv01"] < 830
    total = g.loc["TOTAL"]
    assert total["dollar_delta"] == pytest.approx(g.drop("TOTAL")["dollar_delta"].sum())
    assert total["dv01"] == pytest.approx(g.loc["UST", "dv01"])


def test_pricing_cycle_errors(mgr):
    # the Deribit chain is from 2020: too old on 2023-09-14, absent before 2020-05-21
    with pytest.raises(DataError, match="days before asof"):
        mgr.run_pricing_cycle("2023-09-14", ("BTC",))
    with pytest.raises(DataError, match="no data at or before"):
        mgr.run_pricing_cycle("2019-01-01", ("BTC",))
    with pytest.raises(DataError, match="no data at or before"):
        mgr.run_pricing_cycle("2012-06-20", ("AAPL",))
    with pytest.raises(ConfigError, match="unknown product"):
        mgr.run_pricing_cycle("2023-09-14", ("SPX", "GOLD"))
    book = pd.DataFrame([{"symbol": "CL", "qty": 1, "contract": "CL99"}])
    with pytest.raises(ConfigError, match="CL99"):
        mgr.run_pricing_cycle("2023-09-14", ("CL",), positions=book)
    # the Deribit chain priced on its own day: the vendor future of the last expiry (file rows)
    btc = mgr.run_pricing_cycle("2020-05-21", ("BTC",))
    assert btc.products["rate"].iloc[0] == 0.0
    assert btc.curves["BTC"]["forward"].iloc[-1] == pytest.approx(9262.01, abs=0.005)


# ------------------------------------------------------------------------------ backtest


PARAMS = {"strategy": "grid", "half_spread": 0.02, "order_qty": 100.0, "skew": 0.1,
          "settings": {"entry_latency": 1_000_000, "response_latency": 1_000_000}}


def test_run_backtest_equals_engine_on_the_same_events(mgr):
    start, end = "2012-06-21 13:30:10", "2012-06-21 13:30:40"
    res = mgr.run_backtest(start, end, "AAPL", PARAMS)
    lo, hi = pd.Timestamp(start, tz="UTC").value, pd.Timestamp(end, tz="UTC").value
    events = mgr.catalog.load("lobster-aapl-20120621-l10", end=hi)
    assert events["exch_ts"].max() < hi and events["exch_ts"].min() < lo  # the book from the open
    ref = run(events, GridStrategy(0.02, 100.0, skew=0.1), instrument="NASDAQ:AAPL",
              max_position=300.0, entry_latency=1_000_000, response_latency=1_000_000,
              start=lo, end=hi)
    assert res.pnl == ref.pnl and res.counters == ref.counters
    pd.testing.assert_frame_equal(res.fills, ref.fills)
    pd.testing.assert_frame_equal(res.steps, ref.steps)
    assert res.params["dataset"] == "lobster-aapl-20120621-l10" and res.params["symbol"] == "AAPL"
    # the strategy acted inside the window only, every 100 ms, and it traded
    assert res.steps["ts"].min() == lo + 100_000_000 and res.steps["ts"].max() <= hi
    assert len(res.fills) > 0 and res.fills["ts"].max() < hi
    assert np.abs(res.steps["position"]).max() <= 300.0  # the configured limit
    s = res.summary()
    assert s["spread_pnl"] + s["inventory_pnl"] + s["fee_pnl"] + s["funding_pnl"] == \
        pytest.approx(s["total_pnl"], abs=1e-9)


def test_run_backtest_selection_errors(mgr):
    with pytest.raises(DataError, match="no data in"):
        mgr.run_backtest("2013-01-01", "2013-01-02", "AAPL", PARAMS)
    with pytest.raises(ConfigError, match="no order-book events"):
        mgr.run_backtest("2023-09-14", "2023-09-15", ["SPY"], PARAMS)
    with pytest.raises(ConfigError, match="end: must be after start"):
        mgr.run_backtest("2012-06-21 13:31", "2012-06-21 13:30", "AAPL", PARAMS)
    with pytest.raises(ConfigError, match="unknown product"):
        mgr.run_backtest("2012-06-21", "2012-06-22", "AAPL-X", PARAMS)
    # AAPL and AMZN were both recorded on 2012-06-21: the window does not pick one for us
    with pytest.raises(ConfigError, match="2 data sets in the window"):
        mgr.run_backtest("2012-06-21 13:30", "2012-06-21 13:31", ["AAPL", "AMZN"], PARAMS)


# ------------------------------------------------------------------------------ trading


def test_trading_cycle_is_a_paper_session_under_the_limits(mgr, tmp_path):
    params = {"strategy": "grid", "half_spread": 0.01, "order_qty": 100.0}
    res = mgr.run_trading_cycle("AAPL", params, start="2012-06-21 13:30:05",
                                end="2012-06-21 13:30:45", journal_path=tmp_path / "j.sqlite")
    s = res.summary()
    assert s["steps"] > 100 and s["n_fills"] > 0
    f = res.fills
    assert float((f["side"] * f["qty"]).sum()) == pytest.approx(s["final_position"], abs=1e-9)
    assert s["max_abs_position"] <= 300.0 + 1e-9  # the configured hard limit
    p = res.pnl
    assert p["spread"] + p["inventory"] + p["fees"] + p["funding"] == pytest.approx(p["total"])
    # decisions start at the window, on a book warmed by the earlier events
    st = res.steps
    assert st["ts"].iloc[0] >= pd.Timestamp("2012-06-21 13:30:05", tz="UTC").value
    assert st["mid"].between(570.0, 590.0).all()  # AAPL traded near $580 that morning
    j = Journal(tmp_path / "j.sqlite")
    df = j.read()
    j.close()
    assert (df["type"] == "FillEvent").sum() == len(f)
    # the session is the backtest's core: the same fills as a backtest of the same window
    ref = mgr.run_backtest("2012-06-21 13:30:05", "2012-06-21 13:30:45", "AAPL",
                           {**params, "settings": {}})
    assert len(ref.fills) > 0
    with pytest.raises(ConfigError, match="strategy"):
        mgr.run_trading_cycle("AAPL", object())


def test_trading_cycle_takes_the_engine_settings_in_ns(mgr):
    # BacktestConfig's names: interval, entry_latency, response_latency (ns)
    params = {"strategy": "grid", "half_spread": 0.01, "order_qty": 100.0}
    res = mgr.run_trading_cycle("AAPL", params, start="2012-06-21 13:30:05",
                                end="2012-06-21 13:30:15", interval=500_000_000,
                                entry_latency=2_000_000, response_latency=3_000_000)
    # one decision every 0.5 s of a 10 s window (the first at or after the start)
    assert 15 <= res.summary()["steps"] <= 21
    assert (res.params["interval"], res.params["entry_latency"],
            res.params["response_latency"]) == (500_000_000, 2_000_000, 3_000_000)
    for old, new in (("interval_ns", "interval"), ("entry_latency_ns", "entry_latency"),
                     ("response_latency_ns", "response_latency")):
        with pytest.raises(ConfigError, match=rf"run_trading_cycle\({old}=\.\.\.\): renamed {new}"):
            mgr.run_trading_cycle("AAPL", params, **{old: 1})


def test_presets_and_the_configured_limit_caps_them(mgr):
    from mmlab.manager import preset_parameters

    tight = MarketMakingProjectManager(universe=("AAPL",), data_dir=mgr.config.data_dir,
                                       limits={"AAPL": RiskLimits(max_position=200.0)})
    res = tight.run_backtest("2012-06-21 13:30:05", "2012-06-21 13:30:45", "AAPL", "glft")
    assert res.params["strategy"] == "glft" and res.params["max_position"] == 200.0  # not 300
    assert res.steps["position"].abs().max() <= 200.0
    assert preset_parameters("AAPL", "glft")["settings"]["max_position"] == 300.0
    with pytest.raises(ConfigError, match="no preset 'as-inf'"):
        preset_parameters("AAPL", "as-inf")


# ------------------------------------------------------------------------------ options on CL


def test_option_on_a_cl_future_is_black76_at_the_contract_realised_vol(mgr, cycle):
    cl = cycle.curves["CL"].set_index("code").loc["CLX23"]
    book = pd.DataFrame([
        {"symbol": "CL", "qty": 2, "contract": "CLX23", "strike": 90.0, "right": "C"},
        {"symbol": "CL", "qty": -1, "contract": "CL02", "strike": 85.0, "right": "P", "vol": 0.40},
    ])
    cyc = mgr.run_pricing_cycle("2023-09-14", ("CL",), positions=book)
    pos = cyc.positions
    # reference by hand: CLX23 expires 2023-10-20 14:30 New York (CME: 3 business days before the
    # 25th of the month before delivery), the settle is 2023-09-14 14:30 New York: T = 36 / 365;
    # r = SOFR 5.30 % on 2023-09-14 (FRED) made continuous; F = 89.61 (the shipped CL02 settle)
    T, F = 36.0 / 365.0, 89.61
    assert cl["forward"] == F and cl["expiry"] == pd.Timestamp("2023-10-20 18:30", tz="UTC")

    def n(x):
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    for row, (K, vol, sign) in enumerate([(90.0, cl["realised_vol"], 1.0), (85.0, 0.40, -1.0)]):
        d1 = (math.log(F / K) + 0.5 * vol * vol * T) / (vol * math.sqrt(T))
        disc = math.exp(-SOFR_20230914 * T)
        delta = disc * (n(d1) if sign > 0 else n(d1) - 1.0)
        vega = disc * F * math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi) * math.sqrt(T)
        assert pos.loc[row, "delta"] == pytest.approx(delta, rel=1e-9)
        assert pos.loc[row, "vega"] == pytest.approx(vega, rel=1e-9)
        assert pos.loc[row, "multiplier"] == 1000.0 and pos.loc[row, "underlying_px"] == F
    dd = 1000.0 * F * (2 * pos.loc[0, "delta"] - pos.loc[1, "delta"])
    assert cyc.greeks.loc["CL", "dollar_delta"] == pytest.approx(dd, rel=1e-12)


def test_option_on_a_cl_future_refuses_what_black76_cannot_price(mgr):
    # CLK20 settled at -37.63 on 2020-04-20 (NYMEX): the lognormal model has no price there
    neg = pd.DataFrame([{"symbol": "CL", "qty": 1, "contract": "CL01", "strike": 10.0, "right": "C"}])
    with pytest.raises(ConfigError, match="bachelier"):
        mgr.run_pricing_cycle("2020-04-20", ("CL",), positions=neg)
    late = pd.DataFrame([{"symbol": "CL", "qty": 1, "contract": "CLX23", "strike": 90.0,
                          "right": "C", "expiry": "2023-11-30"}])
    with pytest.raises(ConfigError, match="expiry"):
        mgr.run_pricing_cycle("2023-09-14", ("CL",), positions=late)
    no_right = pd.DataFrame([{"symbol": "CL", "qty": 1, "contract": "CLX23", "strike": 90.0}])
    with pytest.raises(ConfigError, match="needs 'right'"):
        mgr.run_pricing_cycle("2023-09-14", ("CL",), positions=no_right)


# ------------------------------------------------------------------------------ products, presets


def test_every_kind_has_its_pricer_and_every_preset_builds():
    from mmlab.backtest.engine._strategies import STRATEGY_CLASSES  # the engine's own table
    from mmlab.manager import (
        BACKTEST_PRESETS,
        KINDS,
        PRICERS,
        STRATEGY_NAMES,
        CommodityPricer,
        OptionChainPricer,
        RatesPricer,
        preset_parameters,
    )

    assert set(PRICERS) == set(KINDS)
    assert isinstance(PRICERS["options"], OptionChainPricer)
    assert isinstance(PRICERS["futures_curve"], CommodityPricer)
    assert {type(PRICERS[k]) for k in ("par_curve", "swap_curve", "fixings")} == {RatesPricer}
    assert set(STRATEGY_CLASSES) <= set(STRATEGY_NAMES)  # the manager knows every engine name
    for symbol, pre in BACKTEST_PRESETS.items():
        for name in pre:
            if name != "settings":
                strategy_from_parameters(preset_parameters(symbol, name))
    with pytest.raises(TypeError):
        BACKTEST_PRESETS["AAPL"]["grid"]["half_spread"] = 1.0  # read-only


def test_products_and_presets_files_are_validated(tmp_path):
    from mmlab.manager import load_presets, load_products

    def write(text):
        p = tmp_path / "f.toml"
        p.write_text(text)
        return p

    good = '[X]\nasset_class = "equity"\nkind = "options"\ndatasets = ["d"]\n'
    assert load_products(write(good))["X"].datasets == ("d",)
    cases = [
        ('[X]\nasset_class = "fx"\nkind = "options"\ndatasets = ["d"]\n', r"line 1: \[X\] product 'X': asset_class"),
        ('\n\n[Y]\nasset_class = "equity"\nkind = "options"\ndatasets = []\n', r"line 3: \[Y\] product 'Y': datasets"),
        (good + 'colour = "red"\n', "colour: Extra inputs are not permitted"),
        ('[S]\nasset_class = "rates"\nkind = "swap_curve"\ndatasets = ["d"]\n', "tenors: required"),
        ("[X\n", "not valid TOML"),
        ('X = 1\n', "must be a table"),
    ]
    for text, msg in cases:
        with pytest.raises(ConfigError, match=msg) as err:
            load_products(write(text))
        assert "f.toml" in str(err.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_products(tmp_path / "missing.toml")
    base = '[AAPL]\nsettings = { max_position = 3.0 }\n'
    assert load_presets(write(base + 'grid = { half_spread = 0.01 }\n'))["AAPL"]["grid"] == \
        {"half_spread": 0.01}
    for text, msg in [
        (base + 'magic = { x = 1.0 }\n', "unknown strategy name"),
        (base + 'grid = { half_spread = "wide" }\n', r"grid\.half_spread"),
        ('[AAPL]\ngrid = { half_spread = 0.01 }\n', "settings: required"),
        ('[SPX]\nsettings = {}\ngrid = {}\n', "not an order-book product"),
    ]:
        with pytest.raises(ConfigError, match=msg):
            load_presets(write(text))


# ------------------------------------------------------------------------------ domain maths used


def test_sofr_conversion_and_realised_vol_with_a_negative_settle():
    from mmlab.rates import sofr_to_continuous
    from mmlab.volatility import close_to_close_vol, log_returns

    # 365 ln(1 + s/360): s = 5.30 % gives 5.3732 %; one day of it grows 1 by s/360 exactly
    assert sofr_to_continuous(0.053) == pytest.approx(SOFR_20230914, abs=1e-15)
    assert math.exp(sofr_to_continuous(0.053) / 365.0) == pytest.approx(1.0 + 0.053 / 360.0, rel=1e-15)
    with pytest.raises(ConfigError, match="fixing"):
        sofr_to_continuous(float("nan"))
    p = np.array([50.0, 51.0, 49.0, -37.63, 10.0, 11.0, 12.0])
    r = log_returns(p, skip_invalid=True)
    assert np.isnan(r[2:4]).all() and np.isfinite(r[[0, 1, 4, 5]]).all()
    valid = np.log([51 / 50, 49 / 51, 11 / 10, 12 / 11])
    assert close_to_close_vol(p, skip_invalid=True) == pytest.approx(
        np.std(valid, ddof=1) * math.sqrt(252.0), rel=1e-12)
    with pytest.raises(ConfigError, match="element 3"):
        close_to_close_vol(p)  # without skip_invalid a negative price is an error


def test_manager_modules_stay_small():
    from pathlib import Path

    import mmlab.manager

    pkg = Path(mmlab.manager.__file__).parent
    assert len((pkg / "_manager.py").read_text().splitlines()) <= 250  # the facade
    for room in ("manager", "pricing", "surface", "rates", "commodities", "volatility"):
        for f in (pkg.parent / room).glob("*.py"):
            assert len(f.read_text().splitlines()) <= 600, f


def test_treasury_error_names_the_file_line_of_a_bad_yield(tmp_path, monkeypatch):
    import mmlab.rates._treasury as tr
    from mmlab.rates import treasury_curve

    d = tmp_path / "rates"
    d.mkdir()
    # Treasury's own layout, newest row first; the 2023-09-14 10-year yield made negative
    (d / "ust_par_yields_2023.csv").write_text(
        "Date,1 Yr,10 Yr\n09/15/23,5.43,4.33\n09/14/23,5.42,-4.29\n09/13/23,5.40,4.25\n")
    monkeypatch.setattr(tr, "shipped", lambda *parts: tmp_path.joinpath(*parts))
    with pytest.raises(DataError, match="par yield 10Y") as err:
        treasury_curve("2023-09-14")
    assert err.value.row == 3 and err.value.path.endswith("ust_par_yields_2023.csv")


def test_option_on_a_cl_future_before_sofr_needs_a_configured_rate(mgr):
    book = pd.DataFrame([{"symbol": "CL", "qty": 1, "contract": "CL02", "strike": 60.0, "right": "C"}])
    # SOFR was first published for 2018-04-02 (New York Fed): a 2015 option has no default rate
    with pytest.raises(DataError, match=r"ManagerConfig\(rate"):
        mgr.run_pricing_cycle("2015-06-15", ("CL",), positions=book)
    fixed = MarketMakingProjectManager(universe=("CL",), data_dir=mgr.config.data_dir, rate=0.001)
    pos = fixed.run_pricing_cycle("2015-06-15", ("CL",), positions=book).positions
    assert 0.0 < pos.loc[0, "delta"] < 1.0 and pos.loc[0, "vega"] > 0.0
