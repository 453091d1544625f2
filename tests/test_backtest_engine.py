"""The event-replay engine: accounting properties over random streams and strategies, the
numba loop against its plain-Python twin, agreement with an independent PnL oracle, no market impact,
and the results object (summary, frame, Parquet round trip)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _pnl_oracle import PnLOracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmlab.backtest import GridStrategy, read_result, run
from mmlab.book import rebuild
from mmlab.data import synthetic
from mmlab.errors import ConfigError, FormatError
from mmlab.quoting import AvellanedaStoikovConfig, GLFTConfig

MS = 1_000_000


def stream(seed, seconds=30.0, trade_rate=3.0, latency_ms=2.0):
    return synthetic.synthetic_l2_events(session_seconds=seconds, seed=seed, trade_rate=trade_rate,
                                         latency_ms=latency_ms, sigma_px=0.03)


def value(p, mult, inverse):
    return -mult / p if inverse else mult * p


def check_accounts(res, ev, *, mult, inverse, max_position, order_qty):
    f = res.fills
    s = res.steps
    side = f["side"].to_numpy().astype(float)
    q = f["qty"].to_numpy()
    x = value(f["price"].to_numpy(), mult, inverse)
    # position = signed sum of fills (at the end and at every step)
    assert res.counters["position"] == pytest.approx(float(np.sum(side * q)), abs=1e-9)
    seq = f["seq"].to_numpy()
    for k in range(0, len(s), max(1, len(s) // 50)):
        before = seq < s["seq"].iloc[k]
        assert s["position"].iloc[k] == pytest.approx(float(np.sum((side * q)[before])), abs=1e-9)
        bal = -np.sum((side * q * x)[before]) - np.sum(f["fee"].to_numpy()[before])
        bal += res.funding["amount"][res.funding["seq"] < s["seq"].iloc[k]].sum()
        assert s["balance"].iloc[k] == pytest.approx(bal, abs=1e-9 * (1 + abs(bal)))
    # balance = cash flows - fees (+ funding), at the end
    assert res.counters["cash"] == pytest.approx(-float(np.sum(side * q * x)),
                                                 abs=1e-9 * (1 + res.counters["volume"]))
    assert -res.pnl["fees"] == pytest.approx(float(f["fee"].sum()), abs=1e-12 + 1e-12 * len(f))
    # the PnL parts add up to the total, which is the equity at the last mark
    p = res.pnl
    assert p["spread"] + p["inventory"] + p["fees"] + p["funding"] == pytest.approx(
        p["total"], abs=1e-9 * (1 + abs(p["total"])))
    if math.isfinite(res.counters["last_mark"]):
        eq = (res.counters["cash"] + res.counters["position"]
              * value(res.counters["last_mark"], mult, inverse) + p["fees"] + p["funding"])
        assert eq == pytest.approx(p["total"], abs=1e-8 * (1 + res.counters["volume"]))
    # no order fills beyond its size; |position| within the limit
    if len(f):
        per_order = f.groupby("order_id")["qty"].sum()
        assert (per_order <= order_qty + 1e-9).all()
        assert np.max(np.abs(np.cumsum(side * q))) <= max_position + 1e-9
    # no market impact: the book the engine kept equals mmlab.book.rebuild of the same events
    book = rebuild(ev, levels=1, tick_size=0.01)
    applied = s["events_applied"].to_numpy()
    ok = applied > 0
    ref_bid = book["bid_px_1"].to_numpy()[applied[ok] - 1]
    ref_ask = book["ask_px_1"].to_numpy()[applied[ok] - 1]
    np.testing.assert_allclose(s["best_bid"].to_numpy()[ok], ref_bid, rtol=0, atol=1e-9)
    np.testing.assert_allclose(s["best_ask"].to_numpy()[ok], ref_ask, rtol=0, atol=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    half=st.sampled_from([0.0, 0.01, 0.02, 0.05]),
    qty=st.sampled_from([1.0, 2.0, 3.0]),
    skew=st.sampled_from([0.0, 0.002, 0.01]),
    levels=st.integers(1, 3),
    qmodel=st.sampled_from(["risk_averse", "power", "log"]),
    partial=st.booleans(),
    lat=st.sampled_from([0, 1 * MS, 30 * MS]),
    maxpos=st.sampled_from([2.0, 5.0, 50.0]),
    inverse=st.booleans(),
    maker=st.sampled_from([-0.0001, 0.0, 0.0002]),
    post_only=st.booleans(),
)
def test_accounting_properties(seed, half, qty, skew, levels, qmodel, partial, lat, maxpos,
                               inverse, maker, post_only):
    ev = stream(seed % 50, seconds=20.0)
    mult = 10.0 if inverse else 1.0
    res = run(ev, GridStrategy(half_spread=half, order_qty=qty, skew=skew, levels=levels,
                               clip="none" if not post_only else "touch"),
              tick_size=0.01, lot_size=1.0, queue_model=qmodel, partial_fills=partial,
              entry_latency=lat, response_latency=lat, max_position=maxpos, inverse=inverse,
              multiplier=mult, maker_fee=maker, taker_fee=0.0005, fee_per_contract=0.001,
              post_only=post_only,
              funding=([ev["exch_ts"][0] + 5_000_000_000, ev["exch_ts"][0] + 15_000_000_000],
                       [0.0001, -0.0002]))
    check_accounts(res, ev, mult=mult, inverse=inverse, max_position=maxpos, order_qty=qty)


def test_engine_matches_python_twin():
    ev = stream(7, seconds=6.0, trade_rate=6.0)
    kw = dict(tick_size=0.01, lot_size=1.0, queue_model="power",
              entry_latency=[1 * MS, 3 * MS, 7 * MS],
              response_latency=2 * MS, max_position=4.0, maker_fee=-0.0001, seed=11,
              partial_fills=True)
    strat = GridStrategy(half_spread=0.0, order_qty=2.0, skew=0.002, levels=2)
    a = run(ev, strat, engine="numba", **kw)
    b = run(ev, strat, engine="python", **kw)
    assert len(a.fills) > 0
    pd.testing.assert_frame_equal(a.fills, b.fills)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    assert a.pnl == b.pnl and a.counters == b.counters


@pytest.mark.parametrize("source", ["synthetic", "binance"])
def test_shared_book_equals_two_books(monkeypatch, data_dir, source):
    """The shared-book mode (one book, the strategy's view from its history) gives exactly the
    run with separate exchange and local books, with the numba loop and with the twin."""
    from mmlab.backtest.engine import _run
    from mmlab.data import load_binance

    if source == "synthetic":
        ev = stream(5, seconds=20.0, trade_rate=6.0, latency_ms=3.0)
        kw = dict(tick_size=0.01, lot_size=1.0, max_position=4.0)
        strat = GridStrategy(half_spread=0.01, order_qty=1.0, skew=0.002, levels=2)
    else:
        ev = load_binance(data_dir / "binance" / "usdm_ethusdt_20240808.gz")[:150_000]
        kw = dict(tick_size=0.01, lot_size=0.001, max_position=1.0, partial_fills=False)
        strat = GridStrategy(half_spread=0.2, order_qty=0.1, skew=1.0)
    kw.update(entry_latency=[1 * MS, 4 * MS, 9 * MS], response_latency=2 * MS, seed=3)
    shared = run(ev, strat, **kw)
    assert shared.params["shared_book"] and len(shared.fills) > 10
    if source == "binance":  # the exchange side runs > 1024 rows ahead: the history ring grew
        job = _run._prepare(ev, strat, "numba", dict(kw))
        _run._execute(job)
        assert job.bh.shape[0] > 1024
    monkeypatch.setattr(_run, "_SHARED_BOOK", False)
    two = run(ev, strat, **kw)
    assert not two.params["shared_book"]
    pd.testing.assert_frame_equal(shared.fills, two.fills)
    pd.testing.assert_frame_equal(shared.steps, two.steps)
    assert shared.pnl == two.pnl and shared.final_book == two.final_book
    if source == "synthetic":
        twin = run(ev, strat, engine="python", **kw)
        pd.testing.assert_frame_equal(twin.fills, two.fills)


def test_fills_replayed_through_the_ledger_agree():
    # inverse contract with a rebate, fixed fees and funding: the engine's PnL split equals an
    # independent oracle's (tests/_pnl_oracle.py) fed the same marks, fills and funding in order.
    ev = stream(3, seconds=30.0, trade_rate=4.0)
    t0 = int(ev["exch_ts"][0])
    fund = ([t0 + 10_000_000_000, t0 + 20_000_000_000], [0.0003, -0.0001])
    res = run(ev, GridStrategy(half_spread=0.01, order_qty=1.0, skew=0.003), tick_size=0.01,
              lot_size=1.0, inverse=True, multiplier=100.0, maker_fee=-0.00025, taker_fee=0.00075,
              fee_per_contract=0.0005, max_position=6.0, entry_latency=2 * MS,
              response_latency=2 * MS, funding=fund)
    assert len(res.fills) > 5
    led = PnLOracle(multiplier=100.0, inverse=True, maker_fee=-0.00025, taker_fee=0.00075,
                    fee_per_contract=0.0005)
    items = [(int(r.seq), "mark", r) for r in res.steps.itertuples() if math.isfinite(r.mid)]
    items += [(int(r.seq), "fill", r) for r in res.fills.itertuples()]
    items += [(int(r.seq), "fund", r) for r in res.funding.itertuples()]
    for _, kind, r in sorted(items, key=lambda i: i[0]):
        if kind == "mark":
            led.mark(r.mid)
        elif kind == "fill":
            led.fill(int(r.side), r.qty, r.price, maker=bool(r.maker), mid=r.mid)
        else:
            led.fund(r.rate, r.mark)
    ref = led.parts()
    for k in ("spread", "inventory", "fees", "funding", "total"):
        assert res.pnl[k] == pytest.approx(ref[k], rel=1e-9, abs=1e-12), k
    assert res.counters["position"] == pytest.approx(led.position, abs=1e-12)
    assert res.funding["amount"].abs().sum() > 0


@pytest.mark.parametrize("strategy", [
    AvellanedaStoikovConfig(gamma=0.5, sigma_px=0.03, k=50.0, order_size=1.0, max_inventory=5.0),
    GLFTConfig(gamma=0.05, sigma_px=0.03, A=2.0, k=50.0, order_size=1.0, max_inventory=5.0),
])
def test_model_strategies_run_as_kernels(strategy):
    ev = stream(5, seconds=20.0, trade_rate=5.0)
    res = run(ev, strategy, tick_size=0.01, lot_size=1.0, max_position=5.0)
    s = res.summary()
    assert s["orders_sent"] > 0
    q = res.steps.dropna(subset=["quote_bid", "quote_ask"])
    assert len(q) > 0 and (q["quote_bid"] < q["quote_ask"]).all()
    assert s["max_abs_position"] <= 5.0 + 1e-9


def test_results_object(tmp_path):
    ev = stream(2, seconds=20.0)
    res = run(ev, GridStrategy(half_spread=0.01, order_qty=1.0), tick_size=0.01, lot_size=1.0,
              max_position=3.0, maker_fee=-0.0001)
    s = res.summary()
    for key in ("total_pnl", "spread_pnl", "inventory_pnl", "fee_pnl", "funding_pnl", "sharpe",
                "sortino", "max_drawdown", "fill_rate", "turnover", "mean_markout_1s"):
        assert key in s
    assert s["no_market_impact"] is True
    assert any("no market impact" in a for a in res.assumptions)
    assert s["max_drawdown"] >= 0
    df = res.to_frame()
    assert len(df) == len(res.steps) and str(df["time"].dt.tz) == "UTC"
    assert res.inventory_distribution()["share"].sum() == pytest.approx(1.0)
    prov = res.provenance
    assert prov["git_sha"] and "events" in prov["data"] and prov["parameters"]["seed"] == 0
    path = res.to_parquet(tmp_path / "run.parquet")
    back = read_result(path)
    pd.testing.assert_frame_equal(back.steps, res.steps)
    pd.testing.assert_frame_equal(back.fills, res.fills)
    assert back.pnl == res.pnl and back.summary()["n_fills"] == s["n_fills"]
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(FormatError, match="not a saved backtest"):
        pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.parquet")
        read_result(tmp_path / "x.parquet")


def test_bad_settings_raise():
    ev = stream(1, seconds=2.0)
    with pytest.raises(ConfigError, match="queue_model"):
        run(ev, GridStrategy(0.01, 1.0), queue_model="fifo")
    with pytest.raises(ConfigError, match="entry_latency"):
        run(ev, GridStrategy(0.01, 1.0), entry_latency=-5)
    with pytest.raises(ConfigError, match="strategy"):
        run(ev, object())
    bad = ev.copy()
    bad["px"][10] = np.nan
    with pytest.raises(FormatError, match="row 10"):
        run(bad, GridStrategy(0.01, 1.0))
