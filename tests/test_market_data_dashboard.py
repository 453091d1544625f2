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
    ev = synthetic_l2_events(days=1, session_seconds=600, seed=7, sigma=0.02, s0=100.0, levels=5)
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


def test_explorer_builds_without_a_browser(tmp_path):
    cat = Catalog(tmp_path / "cat")
    cat.add("syn-a", synthetic_l2_events(session_seconds=20, seed=1))
    cat.add("syn-b", synthetic_l2_events(session_seconds=20, seed=2))
    app = md.MarketDataExplorer(catalog=cat)
    assert app.param.dataset.objects == ["syn-a", "syn-b"] and app.dataset == "syn-a"
    rb, book, trades, iv = app.frames()
    assert iv == "50ms" and len(rb) > 0 and (book["spread"] > 0).all()
    app.dataset = "syn-b"
    assert app.frames()[1]["mid"].iloc[0] == pytest.approx(100.0, abs=0.02)
    view = app.__panel__()
    assert view is not None
