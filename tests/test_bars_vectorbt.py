"""Bar-level research: klines from the shipped Binance trades (checked against pandas on the raw
vendor lines), the bar market maker in vectorbt against its plain twin, its fill rule, no
look-ahead, and the side-by-side comparison with the event backtest."""

from __future__ import annotations

import dataclasses
import gzip
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmlab.backtest import (
    BarMarketMakingConfig,
    bar_market_making,
    bar_mm_python,
    bar_reference,
    compare_bar_vs_event,
    klines,
    sp500_bars,
)
from mmlab.errors import ConfigError, DataError
from mmlab.quoting import AdaptiveSpreadConfig

BTC = ("binance", "usdm_btcusdt_20240808.gz")
FILL_COLS = ["bar", "side", "price", "qty", "fee"]


@pytest.fixture(scope="module")
def btc_path(data_dir):
    return data_dir.joinpath(*BTC)


@pytest.fixture(scope="module")
def btc_stream(btc_path):
    from mmlab.data import read_binance

    return read_binance(btc_path)


@pytest.fixture(scope="module")
def btc_bars(btc_stream):
    return klines(btc_stream, "1s")


def raw_trades(path) -> pd.DataFrame:
    """Trades straight from the vendor lines (``<local ns> <JSON>``), without mmlab's loader."""
    rows = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if "@trade" not in line:
                continue
            d = json.loads(line.split(" ", 1)[1])["data"]
            if d.get("X", "MARKET") != "MARKET":
                continue
            rows.append((int(d["T"]) * 1_000_000, float(d["p"]), float(d["q"])))
    return pd.DataFrame(rows, columns=["ts", "px", "qty"])


def adaptive_cfg(**kw):
    q = dict(base_spread=10.0, maker_fee=0.0002, vol_ref=5.0, inventory_skew=0.5,
             max_inventory=0.05, order_size=0.01)
    q.update(kw)
    return BarMarketMakingConfig(AdaptiveSpreadConfig(**q), tick_size=0.1)


# ------------------------------------------------------------------------------------ klines


@pytest.mark.parametrize("freq", ["1s", "1min"])
def test_klines_equal_pandas_resample_of_the_raw_vendor_trades(btc_path, btc_stream, freq):
    raw = raw_trades(btc_path)
    # 21,313 MARKET trade lines in usdm_btcusdt_20240808.gz (counted on the raw lines above)
    assert len(raw) == 21313
    k = klines(btc_stream, freq)
    s = raw.set_index(pd.to_datetime(raw["ts"], utc=True)).sort_index(kind="stable")
    r = s.resample(freq, label="left", closed="left")
    ref = pd.DataFrame({"open": r["px"].first(), "high": r["px"].max(), "low": r["px"].min(),
                        "close": r["px"].last(), "volume": r["qty"].sum(),
                        "n_trades": r["px"].count()})
    s_qv = (s["px"] * s["qty"]).resample(freq, label="left", closed="left").sum()
    assert list(k.index) == list(ref.index)
    full = ref["n_trades"].to_numpy() > 0
    for c in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(k[c].to_numpy()[full], ref[c].to_numpy()[full])
    np.testing.assert_array_equal(k["n_trades"].to_numpy(), ref["n_trades"].to_numpy())
    np.testing.assert_allclose(k["volume"].to_numpy(), ref["volume"].to_numpy(), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(k["quote_volume"].to_numpy(), s_qv.to_numpy(), rtol=1e-12)
    # empty bars are flat at the previous close, with no volume
    prev_close = ref["close"].ffill().to_numpy()
    for c in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(k[c].to_numpy()[~full], prev_close[~full])
    assert np.all(k["volume"].to_numpy()[~full] == 0)
    assert k.attrs["freq_ns"] == pd.Timedelta(freq).value
    assert k["volume"].sum() == pytest.approx(raw["qty"].sum(), rel=1e-12)


def test_klines_best_bid_ask_is_the_book_ticker_in_force_at_each_close(btc_stream, btc_bars):
    bt = btc_stream.book_ticker
    s = bt.set_index(pd.to_datetime(bt["exch_ts"], utc=True)).sort_index(kind="stable")
    # updates before the first bar are in force at its close too: fold them into bar 0
    t0 = btc_bars.index[0]
    s.index = s.index.where(s.index >= t0, t0)
    last = s[["bid_px", "ask_px"]].resample("1s").last().ffill()
    last = last.reindex(btc_bars.index)
    np.testing.assert_array_equal(btc_bars["best_bid"].to_numpy(), last["bid_px"].to_numpy())
    np.testing.assert_array_equal(btc_bars["best_ask"].to_numpy(), last["ask_px"].to_numpy())
    assert np.all(btc_bars["best_bid"] < btc_bars["best_ask"])


def test_competition_factor_narrows_bar_quotes_to_the_market(btc_bars):
    wide = adaptive_cfg(maker_fee=0.0, vol_ref=None)
    comp = adaptive_cfg(maker_fee=0.0, vol_ref=None, competition_weight=1.0,
                        competition_min=0.3)
    a = bar_market_making(btc_bars, wide, engine="numpy").bars
    b = bar_market_making(btc_bars, comp, engine="numpy").bars
    w_a = (a["ask"] - a["bid"]).to_numpy()[1:]
    w_b = (b["ask"] - b["bid"]).to_numpy()[1:]
    # BTC's book is one tick wide: the factor sits at its floor, 0.3 x 10 = 3 (+ tick rounding)
    assert np.nanmax(w_b) <= 3.0 + 0.2 + 1e-9 and np.nanmin(w_a) >= 10.0 - 1e-9
    vb = bar_market_making(btc_bars, comp)
    assert_same(vb, bar_market_making(btc_bars, comp, engine="numpy"))


def test_klines_first_bar_is_the_first_vendor_trades():
    # usdm_btcusdt_20240808.gz lines 3 and 9: the first two trades, T = ...256322 and ...256344
    # ms, both at 61800.30 (0.006 and 0.199 BTC) in the bar opening 2024-08-08 23:54:16 UTC
    from mmlab._paths import shipped

    k = klines(shipped(*BTC), "1s")
    assert k.index[0] == pd.Timestamp("2024-08-08 23:54:16", tz="UTC")
    assert k["open"].iloc[0] == 61800.30


def test_klines_bad_input():
    with pytest.raises(ConfigError, match="freq"):
        klines(pd.DataFrame({"exch_ts": [0], "px": [1.0], "qty": [1.0]}), "0s")
    with pytest.raises(ConfigError, match="missing column 'px'"):
        klines(pd.DataFrame({"exch_ts": [0], "qty": [1.0]}))
    bad = pd.DataFrame({"exch_ts": [0, 1], "px": [1.0, np.nan], "qty": [1.0, 1.0],
                        "line": [7, 9]})
    with pytest.raises(DataError, match="row 9"):
        klines(bad)


def test_sp500_bars_shipped_rows():
    spx = sp500_bars()
    # vendor file sp500_daily_1999-2018.csv.gz, first row 1/4/1999: close 1228.099976
    assert spx["close"].iloc[0] == pytest.approx(1228.099976, abs=1e-9)
    assert spx["ts"].iloc[0] == pd.Timestamp("1999-01-04", tz="UTC").value


# ------------------------------------------------------------------------------ fill rule


def toy_bars(high, low, close, n_trades=None):
    n = len(close)
    d = {"open": close, "high": high, "low": low, "close": close, "volume": np.ones(n)}
    if n_trades is not None:
        d["n_trades"] = n_trades
    return pd.DataFrame(d)


def test_fill_rule_touch_through_both_sides_and_untraded_bars():
    # quotes of bars 1..: 100 -/+ 1 (base spread 2, no rounding); hand-computed fills
    cfg = BarMarketMakingConfig(AdaptiveSpreadConfig(base_spread=2.0, order_size=1.0))
    close = [100.0, 100.0, 100.0, 100.0, 100.0]
    high = [100.0, 101.0, 102.0, 100.5, 103.0]
    low = [100.0, 99.0, 99.5, 98.0, 97.0]
    bars = toy_bars(high, low, close, n_trades=[1, 1, 1, 1, 0])
    t = bar_market_making(bars, cfg, engine="numpy").fills
    # bar 1 touches both (both fill), bar 2 the ask only, bar 3 the bid only, bar 4 no trade
    assert t[["bar", "side", "price"]].to_numpy().tolist() == [
        [1, 1, 99.0], [1, -1, 101.0], [2, -1, 101.0], [3, 1, 99.0]]
    th = bar_market_making(bars, dataclasses.replace(cfg, fill_rule="through"),
                           engine="numpy").fills
    # strictly through: bar 1's touches do not fill
    assert th[["bar", "side", "price"]].to_numpy().tolist() == [[2, -1, 101.0], [3, 1, 99.0]]


def test_inventory_limit_and_fees():
    cfg = BarMarketMakingConfig(AdaptiveSpreadConfig(base_spread=2.0, order_size=1.0,
                                                     max_inventory=2.0), fee=0.001)
    n = 8
    bars = toy_bars([100.0] * n, [90.0] * n, [100.0] * n)  # every bid is hit, no ask
    res = bar_market_making(bars, cfg, engine="numpy")
    f = res.fills
    assert len(f) == 2 and (f["side"] == 1).all()          # then the bid is withdrawn
    assert res.bars["position"].max() == 2.0
    assert np.isnan(res.bars["bid"].iloc[3]) and res.bars["ask"].iloc[3] == 101.0
    np.testing.assert_allclose(f["fee"], 0.001 * 99.0)     # fee x price x size
    # PnL: bought 2 at 99, marked at 100, fees 2 x 0.099
    assert res.pnl["total"] == pytest.approx(2.0 - 0.198, abs=1e-12)
    p = res.pnl
    assert p["spread"] + p["inventory"] + p["fees"] == pytest.approx(p["total"], abs=1e-12)


def test_bar_reference_uses_only_past_closes():
    c = np.array([10.0, 11.0, 13.0, 12.0, 15.0])
    ref, vol = bar_reference(c, window=3)
    assert ref.tolist()[1:] == [10.0, 11.0, 13.0, 12.0]
    # bar 4 sees changes (1, 2, -1) of bars 1..3: sample std
    assert vol[4] == pytest.approx(np.std([1.0, 2.0, -1.0], ddof=1), abs=1e-15)


def test_bad_bars_and_configs():
    with pytest.raises(DataError, match="bad bar 0"):
        bar_market_making(toy_bars([1.0, 1.0], [2.0, 0.5], [1.0, 1.0]),
                          adaptive_cfg(), engine="numpy")
    with pytest.raises(ConfigError, match="engine"):
        bar_market_making(toy_bars([1.0, 1.0], [1.0, 1.0], [1.0, 1.0]), adaptive_cfg(),
                          engine="pandas")
    with pytest.raises(ConfigError, match="vol_window"):
        BarMarketMakingConfig(AdaptiveSpreadConfig(base_spread=1.0), vol_window=1)


# ------------------------------------------------------------------------- no look-ahead


@pytest.mark.parametrize("engine", ["numpy", "vectorbt"])
def test_changing_future_bars_does_not_change_past_quotes_or_fills(btc_bars, engine):
    cfg = adaptive_cfg(maker_fee=0.0, competition_weight=1.0, competition_min=0.3)
    base = bar_market_making(btc_bars, cfg, engine=engine)
    k = 150
    fut = btc_bars.copy()
    rng = np.random.default_rng(5)
    shift = rng.normal(0.0, 20.0, len(fut) - k - 1).cumsum()
    for c in ("open", "high", "low", "close", "best_bid", "best_ask"):
        fut.loc[fut.index[k + 1:], c] += shift
    fut.loc[fut.index[k + 1:], "high"] += 7.0
    fut.loc[fut.index[k + 1:], "best_ask"] += 3.0
    alt = bar_market_making(fut, cfg, engine=engine)
    a = base.fills[base.fills["bar"] <= k][FILL_COLS].to_numpy()
    b = alt.fills[alt.fills["bar"] <= k][FILL_COLS].to_numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(base.bars[["bid", "ask"]].to_numpy()[: k + 1],
                                  alt.bars[["bid", "ask"]].to_numpy()[: k + 1])
    # the change does matter afterwards (the test can fail)
    assert not np.array_equal(base.bars["ask"].to_numpy()[k + 1:],
                              alt.bars["ask"].to_numpy()[k + 1:])


# ----------------------------------------------------------------------- vectorbt == twin


def assert_same(vb, tw):
    np.testing.assert_array_equal(vb.fills[FILL_COLS].to_numpy(), tw.fills[FILL_COLS].to_numpy())
    np.testing.assert_array_equal(vb.bars[["bid", "ask"]].to_numpy(),
                                  tw.bars[["bid", "ask"]].to_numpy())
    pf = vb.portfolio
    # vectorbt's own accounting: value - initial cash is the twin's equity curve
    v = pf.value().to_numpy() - vb.init_cash
    np.testing.assert_allclose(v, tw.bars["equity"].to_numpy(), rtol=0,
                               atol=1e-12 * vb.init_cash)
    np.testing.assert_allclose(pf.assets().to_numpy(), tw.bars["position"].to_numpy(), rtol=0,
                               atol=1e-12)
    assert float(pf.orders.fees.sum()) == pytest.approx(-tw.pnl["fees"], abs=1e-9)


@pytest.mark.parametrize("fill_rule", ["touch", "through"])
def test_vectorbt_equals_numpy_twin_on_binance_bars(btc_bars, fill_rule):
    cfg = dataclasses.replace(adaptive_cfg(), fill_rule=fill_rule)
    vb = bar_market_making(btc_bars, cfg)
    tw = bar_market_making(btc_bars, cfg, engine="numpy")
    # quotes sit at the fee floor (2 bp of ~61,700 = 12.3 a side): still > 20 fills in 344 bars
    assert len(tw.fills) > 20
    assert_same(vb, tw)
    assert vb.bars["position"].abs().max() <= cfg.quoting.max_inventory + 1e-12


def test_vectorbt_equals_numpy_twin_on_sp500_daily():
    spx = sp500_bars().iloc[-750:]
    cfg = BarMarketMakingConfig(
        AdaptiveSpreadConfig(base_spread=20.0, maker_fee=-0.0001, vol_ref=20.0,
                             inventory_skew=1.0, max_inventory=5.0), tick_size=0.01)
    vb = bar_market_making(spx, cfg)
    tw = bar_market_making(spx, cfg, engine="numpy")
    assert len(tw.fills) > 100
    assert_same(vb, tw)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), base=st.floats(0.2, 5.0), skew=st.floats(0.0, 2.0),
       qmax=st.integers(1, 6), rule=st.sampled_from(["touch", "through"]))
def test_vectorbt_equals_twin_random_walks(seed, base, skew, qmax, rule):
    rng = np.random.default_rng(seed)
    n = 200
    close = 100.0 + np.cumsum(rng.normal(0, 0.5, n)).round(2)
    close = np.maximum(close, 1.0)
    high = close + rng.exponential(0.6, n).round(2)
    low = np.maximum(close - rng.exponential(0.6, n).round(2), 0.5)
    bars = toy_bars(high, low, close, n_trades=rng.integers(0, 3, n))
    cfg = BarMarketMakingConfig(AdaptiveSpreadConfig(
        base_spread=base, vol_ref=0.5, inventory_skew=skew, max_inventory=float(qmax),
        maker_fee=0.0005), tick_size=0.01, fill_rule=rule)
    vb = bar_market_making(bars, cfg)
    tw = bar_market_making(bars, cfg, engine="numpy")
    assert_same(vb, tw)
    pos = tw.bars["position"].to_numpy()
    assert np.max(np.abs(pos)) <= qmax
    f = tw.fills
    b = f["bar"].to_numpy()
    # every fill is at its bar's quote, which the bar's range reached, on a traded bar
    bid, ask = tw.bars["bid"].to_numpy()[b], tw.bars["ask"].to_numpy()[b]
    buy = f["side"].to_numpy() > 0
    assert np.all(np.where(buy, f["price"] == bid, f["price"] == ask))
    assert np.all(np.where(buy, low[b] <= bid, high[b] >= ask))
    assert np.all(bars["n_trades"].to_numpy()[b] > 0)


def test_twin_direct_call_matches_result(btc_bars):
    cfg = adaptive_cfg()
    ref, vol = bar_reference(btc_bars["close"].to_numpy(), cfg.vol_window)
    bb = np.r_[np.nan, btc_bars["best_bid"].to_numpy()[:-1]]
    ba = np.r_[np.nan, btc_bars["best_ask"].to_numpy()[:-1]]
    q, f = bar_mm_python(btc_bars["high"].to_numpy(), btc_bars["low"].to_numpy(),
                         btc_bars["n_trades"].to_numpy() > 0, ref, vol, bb, ba,
                         cfg.quoting.params(), 0.1, cfg.fee_rate, False)
    res = bar_market_making(btc_bars, cfg, engine="numpy")
    np.testing.assert_array_equal(f, res.fills[FILL_COLS].to_numpy())
    df = res.to_frame()
    assert {"bid", "ask", "position", "equity"} <= set(df.columns)
    import holoviews as hv

    assert isinstance(res.plot(), hv.Layout)


# ----------------------------------------------------------------------- bar vs event


def test_compare_bar_vs_event_table_and_bar_pnl_from_fills(btc_stream):
    cfg = adaptive_cfg(max_inventory=0.2)
    cmp = compare_bar_vs_event(btc_stream, cfg, freq="1s", instrument="BINANCE_USDM:BTCUSDT")
    t = cmp.to_frame()
    assert list(t.columns) == ["fills", "orders_filled", "buys", "sells", "volume", "notional",
                               "final_position", "max_abs_position", "fees", "pnl"]
    assert list(t.index) == ["event", "bar_fixed_touch", "bar_fixed_through", "bar_adaptive"]
    es = cmp.event.summary()
    assert t.loc["event", "pnl"] == es["total_pnl"]
    assert t.loc["event", "fills"] == es["n_fills"]
    assert t.loc["event", "final_position"] == es["final_position"]
    last_close = None
    for name, r in cmp.runs.items():
        f = r.fills
        bars = r.bars
        last_close = bars["close"].iloc[-1]
        side, qty, px = f["side"].to_numpy(), f["qty"].to_numpy(), f["price"].to_numpy()
        pos = float(np.sum(side * qty))
        pnl = -np.sum(side * qty * px) - f["fee"].sum() + pos * last_close
        assert t.loc[name, "pnl"] == pytest.approx(pnl, rel=1e-12, abs=1e-9)
        assert t.loc[name, "final_position"] == pytest.approx(pos, abs=1e-12)
        assert t.loc[name, "volume"] == pytest.approx(qty.sum(), rel=1e-12)
        assert t.loc[name, "fees"] == pytest.approx(-f["fee"].sum(), abs=1e-12)
        assert t.loc[name, "fills"] == len(f) == t.loc[name, "buys"] + t.loc[name, "sells"]
        # the vectorbt portfolio agrees with the fills
        assert r.portfolio.total_profit() == pytest.approx(pnl, abs=1e-9 * r.init_cash)
    assert last_close == cmp.runs["bar_fixed_touch"].bars["close"].iloc[-1]
    # the same period for both: the event strategy runs from the first bar's open
    assert cmp.event.steps["ts"].iloc[0] == int(cmp.runs["bar_adaptive"].bars["ts"].iloc[0]) \
        + 1_000_000_000
    s = cmp.summary()
    assert s["bar_fills"] == t.loc["bar_fixed_touch", "fills"]
    assert s["bar_to_event_volume_ratio"] == pytest.approx(
        t.loc["bar_fixed_touch", "volume"] / t.loc["event", "volume"], rel=1e-12)
    assert cmp.plot() is not None
    assert len(cmp.notes) >= 5 and "queue" in " ".join(cmp.notes)
    # the event engine's maker fee is the bar fee: same sign of fees
    assert t.loc["event", "fees"] <= 0 and t.loc["bar_fixed_touch", "fees"] <= 0
