"""The market-data statistics behind the report notebook and the explorer app (no browser)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmlab.dashboards import market_data as md
from mmlab.data import Catalog, synthetic_l2_events
from mmlab.errors import ConfigError


@pytest.fixture(scope="module")
def synthetic():
    # sigma = 0.02 price units per sqrt(s) around a mid of 100: 2 bps per sqrt(s)
    ev = synthetic_l2_events(days=1, session_seconds=600, seed=7, sigma_px=0.02, s0=100.0, levels=5)
    return ev, md.book_frame(ev, levels=5), md.trades_frame(ev)


def test_book_frame_columns_and_invariants(synthetic):
    ev, book, _ = synthetic
    assert book.index.is_monotonic_increasing and str(book.index.tz) == "UTC"
    assert (book["spread"] > 0).all()
    np.testing.assert_allclose(book["mid"], (book["ask_px_1"] + book["bid_px_1"]) / 2)
    np.testing.assert_allclose(book["bid_depth"], book[[f"bid_qty_{i}" for i in range(1, 6)]].sum(axis=1))
    assert book["imbalance_1"].between(-1, 1).all() and book["imbalance_depth"].between(-1, 1).all()
    # one row per vendor row that changed the book: trade-only rows are skipped
    assert len(book) < len(ev)


def test_trades_and_flow(synthetic):
    ev, _, trades = synthetic
    # the synthetic stream has Poisson(2/s per side) market orders over 600 s: about 2,400
    assert 1800 < len(trades) < 3000
    assert set(trades["side"].unique()) == {-1, 1}
    flow = md.trade_flow(trades, "10s")
    assert flow["buy_qty"].sum() == pytest.approx(trades.loc[trades["side"] > 0, "qty"].sum())
    assert flow["cum_net_qty"].iloc[-1] == pytest.approx(trades["signed_qty"].sum())
    assert flow["n_trades"].sum() == len(trades)


def test_realized_vol_recovers_the_synthetic_sigma(synthetic):
    _, book, trades = synthetic
    r = md.realized_vol(book, "1s")
    # mid moves by sigma * sqrt(dt) per 100 ms step; sampled per second: std = 0.02 / 100 per sqrt(s)
    # (log-returns, small moves); the half-tick quantisation of the mid adds a little noise
    assert 1e4 * r.std(ddof=1) == pytest.approx(2.0, rel=0.15)
    summary = md.market_summary(book, trades)
    assert summary.loc["trades", "value"] == len(trades)
    assert float(summary.loc["spread min", "value"]) == pytest.approx(0.01)
    vol = float(summary.loc["realised vol per sqrt(s) (bps, from 1s mids)", "value"])
    assert vol == pytest.approx(1e4 * r.std(ddof=1))
    assert float(summary.loc["realised vol per sqrt(hour) (bps)", "value"]) == pytest.approx(vol * math.sqrt(3600))


def test_window_and_interval(synthetic):
    _, book, _ = synthetic
    t0 = book.index[0]
    w = md.window(book, t0 + pd.Timedelta("10s"), (t0 + pd.Timedelta("20s")).tz_localize(None))
    assert w.index[0] >= t0 + pd.Timedelta("10s") and w.index[-1] < t0 + pd.Timedelta("20s")
    assert md.auto_interval(pd.Timedelta("49s")) == "100ms"
    assert md.auto_interval(pd.Timedelta("10D")) == "30min" and md.auto_interval(pd.Timedelta("60D")) == "1h"
    rb = md.resample_book(book, "1s")
    assert len(rb) == pytest.approx(600, abs=2) and rb.notna().all().all()
    with pytest.raises(ConfigError):
        md.book_frame(synthetic[0], levels=0)


def _hand_book(times_s, spreads, bid=100.0):
    """A hand-made book: best bid fixed, the spread (in price units) stepping at ``times_s``."""
    idx = pd.DatetimeIndex(pd.Timestamp("2024-01-02", tz="UTC") + pd.to_timedelta(times_s, unit="s"), name="ts")
    sp = np.asarray(spreads, dtype=float)
    b = pd.DataFrame({"bid_px_1": bid, "ask_px_1": bid + sp, "bid_qty_1": 1.0, "ask_qty_1": 3.0}, index=idx)
    b["mid"] = (b["bid_px_1"] + b["ask_px_1"]) / 2
    b["spread"] = sp
    b["spread_bps"] = 1e4 * sp / b["mid"]
    b["imbalance_1"] = -0.5
    b["imbalance_depth"] = -0.5
    return b


def test_book_bins_time_weighted_mean_and_max_by_hand():
    # spread 1 tick from 0 s, 3 ticks from 0.4 s, 2 ticks from 1.5 s, book ends at 2.0 s (tick 0.01)
    b = _hand_book([0.0, 0.4, 1.5, 2.0], [0.01, 0.03, 0.02, 0.02])
    bins = md.book_bins(b, "1s", tick=0.01, smooth_bins=1)
    # bin [0, 1): 0.4 s at 1 tick and 0.6 s at 3 ticks -> mean 2.2, max 3 (the last value, 3, hides nothing
    # here); bin [1, 2): 0.5 s at 3 ticks (carried in) and 0.5 s at 2 -> mean 2.5, max 3 although the
    # last value of the bin is 2 (the old chart plotted 2)
    assert list(bins.index - bins.index[0]) == [pd.Timedelta(0), pd.Timedelta("1s"), pd.Timedelta("2s")]
    np.testing.assert_allclose(bins["spread_ticks_mean"].iloc[:2], [2.2, 2.5], rtol=1e-12)
    np.testing.assert_allclose(bins["spread_ticks_max"].iloc[:2], [3.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(bins["bid_low"], 100.0)
    np.testing.assert_allclose(bins["ask_high"].iloc[:2], [100.03, 100.03])
    # bps: spread / mid * 1e4 at mid 100.015 (3 ticks) -> 2.99955 bps
    assert bins["spread_bps_max"].iloc[0] == pytest.approx(1e4 * 0.03 / 100.015, rel=1e-12)
    np.testing.assert_allclose(bins["imbalance_1"], -0.5)  # a constant survives the smoothing
    assert md.infer_tick(b) == pytest.approx(0.01)
    with pytest.raises(ConfigError, match="interval"):
        md.book_bins(b, "soon")
    with pytest.raises(ConfigError, match="smooth_bins"):
        md.book_bins(b, "1s", smooth_bins=0)
    with pytest.raises(ConfigError, match="tick"):
        md.infer_tick(_hand_book([0.0], [0.01]).assign(ask_px_1=100.0))


def test_book_bins_keep_the_peaks_of_a_real_like_book(synthetic):
    _, book, _ = synthetic
    bins = md.book_bins(book, "10s")
    tick = md.infer_tick(book)
    assert tick == pytest.approx(0.01)  # synthetic_l2_events' default tick
    last = md.resample_book(book, "10s")["spread"] / tick
    # every bin's maximum is at least its last value, and the widest spread of the day is on the chart
    assert (bins["spread_ticks_max"].to_numpy() >= last.to_numpy()[: len(bins)] - 1e-9).all()
    assert bins["spread_ticks_max"].max() == pytest.approx(book["spread"].max() / tick)
    assert (bins["spread_ticks_mean"] <= bins["spread_ticks_max"] + 1e-9).all()
    assert (bins["bid_low"] < bins["mid"]).all() and (bins["mid"] < bins["ask_high"]).all()
    # smoothing: the smoothed imbalance moves less from bin to bin than the binned means
    rough = md.book_bins(book, "10s", smooth_bins=1)["imbalance_1"].diff().abs().mean()
    assert bins["imbalance_1"].diff().abs().mean() < rough


def test_summary_reads_like_a_desk_report(synthetic):
    _, book, trades = synthetic
    s = md.market_summary(book, trades)
    # the synthetic book spans 599.999997 s (pandas: '0 days 00:09:59.999997')
    assert s.loc["span", "value"] == "10 min"
    assert "days" not in s.loc["span", "value"] and s.loc["first update (UTC)", "value"].endswith(" UTC")
    assert s.loc["spread max (ticks)", "value"] == pytest.approx(book["spread"].max() / 0.01)
    shown = md.format_summary(s)["value"]
    assert not shown.str.contains("nan|NaN|<NA>|days", regex=True).any()
    assert shown["trades"] == f"{len(trades):,}"


def test_explorer_builds_without_a_browser(tmp_path):
    cat = Catalog(tmp_path / "cat")
    cat.add("syn-a", synthetic_l2_events(session_seconds=20, seed=1))
    cat.add("syn-b", synthetic_l2_events(session_seconds=20, seed=2))
    app = md.MarketDataExplorer(catalog=cat)
    assert app.param.dataset.objects == ["syn-a", "syn-b"] and app.dataset == "syn-a"
    bins, book, trades, iv = app.frames()
    # 20 s of data and at most 600 bins: 50 ms bins
    assert iv == "50ms" and len(bins) == pytest.approx(400, abs=2) and (book["spread"] > 0).all()
    lo, hi = app.window
    assert hi - lo == pytest.approx(pd.Timedelta("20s").to_pytimedelta(), abs=pd.Timedelta("50ms").to_pytimedelta())
    app.window = (lo, lo + pd.Timedelta("5s").to_pytimedelta())  # a narrower window: finer bins
    bins, book, trades, iv = app.frames()
    assert iv == "10ms" and book.index[-1] < pd.Timestamp(lo, tz="UTC") + pd.Timedelta("5s")
    app.dataset = "syn-b"  # a new data set resets the window to its full span
    assert app.window[1] - app.window[0] > pd.Timedelta("19s").to_pytimedelta()
    assert app.frames()[1]["mid"].iloc[0] == pytest.approx(100.0, abs=0.02)
    view = app._view()
    text = repr(view)
    assert "bid_px_1" not in text and "0 days" not in text
    assert app.__panel__() is not None
