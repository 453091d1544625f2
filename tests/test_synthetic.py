"""Synthetic data: determinism under a seed, statistics within sampling error, an uncrossed book."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmlab.data import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    TRADE_EVENT,
    event_kind,
    is_buy,
    synthetic,
)
from mmlab.errors import ConfigError


def replay_l2(events):
    """Plain reference replay of an L2 stream; yields (best_bid, best_ask) after every event."""
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    kinds = event_kind(events["ev"])
    buys = is_buy(events["ev"])
    for e, kind, buy in zip(events, kinds, buys, strict=True):
        book = bids if buy else asks
        if kind == DEPTH_CLEAR_EVENT:
            book.clear()
        elif kind in (DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT):
            if e["qty"] == 0:
                book.pop(e["px"], None)
            else:
                book[e["px"]] = e["qty"]
        yield (max(bids) if bids else math.nan, min(asks) if asks else math.nan, bids, asks, kind, e)


def test_deterministic_under_seed():
    a = synthetic.arithmetic_brownian(100, dt=0.1, sigma=1.0, seed=42)
    b = synthetic.arithmetic_brownian(100, dt=0.1, sigma=1.0, seed=42)
    c = synthetic.arithmetic_brownian(100, dt=0.1, sigma=1.0, seed=43)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    g1 = synthetic.geometric_brownian(100, dt=0.1, sigma=0.3, seed=5)
    assert np.array_equal(g1, synthetic.geometric_brownian(100, dt=0.1, sigma=0.3, seed=5))
    h1 = synthetic.market_order_hits(0.2, A=50, k=2, dt=0.01, n_steps=500, seed=9)
    assert np.array_equal(h1, synthetic.market_order_hits(0.2, A=50, k=2, dt=0.01, n_steps=500, seed=9))
    e1 = synthetic.synthetic_l2_events(days=2, session_seconds=20, seed=11)
    e2 = synthetic.synthetic_l2_events(days=2, session_seconds=20, seed=11)
    e3 = synthetic.synthetic_l2_events(days=2, session_seconds=20, seed=12)
    assert e1.tobytes() == e2.tobytes()
    assert e1.tobytes() != e3.tobytes()


def test_arithmetic_increments_variance_is_sigma2_dt():
    n, dt, sigma, mu = 200_000, 0.01, 2.0, 0.5
    p = synthetic.arithmetic_brownian(n, dt=dt, sigma=sigma, mu=mu, s0=10.0, seed=1)
    inc = np.diff(p)
    var = sigma**2 * dt  # 0.04: Var of a Brownian increment over dt
    # sampling error of a sample variance of n normals: var * sqrt(2 / (n - 1)); allow 5 SE
    assert abs(inc.var(ddof=1) - var) < 5 * var * math.sqrt(2 / (n - 1))
    assert abs(inc.mean() - mu * dt) < 5 * math.sqrt(var / n)
    assert p[0] == 10.0 and len(p) == n + 1


def test_geometric_log_increments_moments():
    n, dt, sigma, mu = 200_000, 1 / 252, 0.3, 0.1
    p = synthetic.geometric_brownian(n, dt=dt, sigma=sigma, mu=mu, s0=100.0, seed=2)
    r = np.diff(np.log(p))
    var = sigma**2 * dt
    # Ito: log-increments have mean (mu - sigma^2/2) dt and variance sigma^2 dt
    assert abs(r.var(ddof=1) - var) < 5 * var * math.sqrt(2 / (n - 1))
    assert abs(r.mean() - (mu - 0.5 * sigma**2) * dt) < 5 * math.sqrt(var / n)
    assert (p > 0).all()


def test_hit_frequency_matches_as_intensity():
    # Avellaneda & Stoikov (2008) section 3.3 simulation values: A = 140, k = 1.5, dt = 0.005
    A, k, dt, n = 140.0, 1.5, 0.005, 200_000
    for delta in (0.0, 0.5, 1.0, 2.0):
        p = A * math.exp(-k * delta) * dt
        freq = synthetic.market_order_hits(delta, A=A, k=k, dt=dt, n_steps=n, seed=int(delta * 10)).mean()
        assert abs(freq - p) < 5 * math.sqrt(p * (1 - p) / n), (delta, freq, p)
    # a (n, m) grid of quotes: the fitted decay of log-frequency in delta is k
    deltas = np.linspace(0.0, 2.0, 9)
    hits = synthetic.market_order_hits(np.tile(deltas, (n, 1)), A=A, k=k, dt=dt, seed=4)
    slope = np.polyfit(deltas, np.log(hits.mean(axis=0)), 1)[0]
    assert slope == pytest.approx(-k, abs=0.05)


def test_l2_stream_is_plausible_and_never_crossed():
    tick = 0.01
    ev = synthetic.synthetic_l2_events(days=2, session_seconds=60, seed=3, tick=tick, levels=5)
    assert ev.dtype == EVENT_DTYPE
    assert (np.diff(ev["exch_ts"]) > 0).all() and (np.diff(ev["local_ts"]) > 0).all()
    assert (ev["local_ts"] > ev["exch_ts"]).all()  # positive feed latency
    flags = ev["ev"].astype(np.uint64)
    assert ((flags & np.uint64(EXCH_EVENT | LOCAL_EVENT)) == np.uint64(EXCH_EVENT | LOCAL_EVENT)).all()
    assert np.array_equal(ev["ival"], np.arange(len(ev)))
    assert (ev["qty"] >= 0).all()
    kinds = event_kind(ev["ev"])
    assert (kinds == DEPTH_CLEAR_EVENT).sum() == 4  # one clear per side per day
    n_trades = 0
    step_spread: dict[int, float] = {}
    for bb, ba, bids, asks, kind, e in replay_l2(ev):
        if bids and asks:
            assert bb < ba, e
            assert ba - bb >= tick - 1e-9
            step_spread[int(e["exch_ts"]) // 100_000_000] = ba - bb  # last state of each 100 ms step
        if kind == TRADE_EVENT:
            n_trades += 1
            # a buy lifts the best ask, a sell hits the best bid; size never exceeds the level
            if e["ev"] & BUY_EVENT:
                assert e["px"] == ba and e["qty"] < asks[ba] + e["qty"] + 1e-9
            else:
                assert e["px"] == bb
    # after each step's updates the spread is back at spread_ticks = 1 tick
    assert np.allclose(list(step_spread.values()), tick)
    # end of day: full book of 5 levels a side, sizes positive
    assert len(bids) == 5 and len(asks) == 5 and min(bids.values()) > 0
    # Poisson(2/s per side) over 2 x 60 s: expect about 480 trades (fewer only when the touch has 1 lot)
    assert 300 < n_trades < 600


def test_l2_stream_with_book_rebuild():
    book = pytest.importorskip("mmlab.book")
    if not hasattr(book, "rebuild"):
        pytest.skip("mmlab.book.rebuild not available")
    ev = synthetic.synthetic_l2_events(days=2, session_seconds=30, seed=5, levels=5)
    df = book.rebuild(ev, levels=5)
    assert len(df) == len(ev)
    ok = df["bid_px_1"].notna() & df["ask_px_1"].notna()
    assert ok.sum() > 0.99 * len(df)
    assert (df.loc[ok, "ask_px_1"] > df.loc[ok, "bid_px_1"]).all()
    # the rebuilt top of book equals the plain reference replay after every event
    ref = np.array([(bb, ba) for bb, ba, *_ in replay_l2(ev)])
    assert np.allclose(df["bid_px_1"].to_numpy()[ok], ref[ok.to_numpy(), 0])
    assert np.allclose(df["ask_px_1"].to_numpy()[ok], ref[ok.to_numpy(), 1])


@pytest.mark.parametrize(
    "call",
    [
        lambda: synthetic.arithmetic_brownian(0, dt=1, sigma=1),
        lambda: synthetic.arithmetic_brownian(10, dt=-1, sigma=1),
        lambda: synthetic.geometric_brownian(10, dt=1, sigma=1, s0=-5),
        lambda: synthetic.market_order_hits(0.1, A=300, k=1, dt=0.01, n_steps=10),  # A dt > 1
        lambda: synthetic.market_order_hits(-0.1, A=1, k=1, dt=0.01, n_steps=10),
        lambda: synthetic.market_order_hits(0.1, A=1, k=1, dt=0.01),  # scalar delta, no n_steps
        lambda: synthetic.synthetic_l2_events(days=0),
        lambda: synthetic.synthetic_l2_events(start="not a date"),
        lambda: synthetic.synthetic_l2_events(update_prob=2.0),
        lambda: synthetic.synthetic_l2_events(spread_ticks=0),
    ],
)
def test_bad_arguments_raise_config_error(call):
    with pytest.raises(ConfigError):
        call()


def test_old_sigma_keyword_names_sigma_px():
    # issue 10: the mid's vol in price per sqrt(s) is sigma_px everywhere (quoting configs too)
    with pytest.raises(ConfigError, match=r"synthetic_l2_events\(sigma=\.\.\.\): renamed sigma_px"):
        synthetic.synthetic_l2_events(session_seconds=1, sigma=0.02)
    a = synthetic.synthetic_l2_events(session_seconds=5, seed=3, sigma_px=0.05)
    b = synthetic.synthetic_l2_events(session_seconds=5, seed=3, sigma_px=0.0)
    assert a.tobytes() != b.tobytes()  # the keyword drives the mid
    with pytest.raises(ConfigError, match="sigma_px"):
        synthetic.synthetic_l2_events(sigma_px=-1.0)
