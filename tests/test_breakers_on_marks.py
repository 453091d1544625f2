"""Breakers on marked equity, in the backtest and in the step driver alike (issue 10).

The scenario of the issue: capital 1,000, long 10 @ 99.9, a 2 % drawdown limit (20), and the
mid falls to 80 with no fill. The equity the local side sees (its cash and position marked at
its own mid) falls through the limit at mid 97.9; the breaker must trip at the first decision
past it, cancel the working order, stop quoting, and write a ``risk_events`` row. The same for
the daily-loss breaker; the stale-feed, abnormal-spread and vol-surge breakers pull the quotes
and resume after their cooldown.

Reference values are computed by hand from the scenario (no fees): equity = -999 + 10 mid.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import ScriptedOrders, StepDriver, run
from mmlab.data import EVENT_DTYPE
from mmlab.data._events import BUY_EVENT, DEPTH_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT
from mmlab.runtime import replay

S = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000 * S  # 2023-11-14 22:13:20 UTC
BOTH = EXCH_EVENT | LOCAL_EVENT


def depth(t, side, px, qty):
    return (DEPTH_EVENT | BOTH | (BUY_EVENT if side > 0 else SELL_EVENT), t, t, px, qty, 0, 0, 0.0)


def falling_market(n_down=100, gap=None, quiet_from=None):
    """Bid 99.8 / ask 99.9 for 2 s, then the book steps down 0.2 every 100 ms (no trade)
    to 79.8 / 79.9, then stays. ``gap``: (t, seconds) with no event at all."""
    rows = []
    bid, ask = 99.8, 99.9
    for j in range(20):  # the top refreshed every 100 ms
        rows += [depth(T0 + j * 100 * MS, 1, bid, 100.0), depth(T0 + j * 100 * MS, -1, ask, 100.0)]
    t = T0 + 2 * S
    for _ in range(n_down):
        nb, na = round(bid - 0.2, 1), round(ask - 0.2, 1)
        rows += [depth(t, 1, nb, 100.0), depth(t, 1, bid, 0.0),
                 depth(t, -1, na, 100.0), depth(t, -1, ask, 0.0)]
        bid, ask = nb, na
        t += 100 * MS
    for _ in range(100):  # quiet afterwards: a refresh of the top every 100 ms
        rows += [depth(t, 1, bid, 100.0), depth(t, -1, ask, 100.0)]
        t += 100 * MS
    ev = np.array(rows, dtype=EVENT_DTYPE)
    ev["ival"] = np.arange(len(ev))
    return ev


# buy 10 at 99.9 (crossing: a taker fill at the ask), and a sell resting far away at 120 that
# the halt must cancel; a last order at 15 s that must never be sent
SCRIPT = ScriptedOrders([(T0 + 500 * MS, 1, 99.9, 10.0), (T0 + 1000 * MS, -1, 120.0, 1.0),
                         (T0 + 15 * S, -1, 121.0, 1.0)])
KW = dict(tick_size=0.1, lot_size=1.0, post_only=False, interval=100 * MS, start=T0,
          record_every=1)


# the backtest, the step driver with its exchange side (paper) and the local side alone against
# the exchange side behind the venue-adapter interface (loopback)
DRIVERS = {"backtest": run, "replay": replay,
           "loopback": functools.partial(replay, venue="loopback")}


def _check_loss_breaker(res, kind, limit):
    ev = res.risk_events
    assert list(ev["kind"]) == [kind]
    t_trip = int(ev["ts"].iloc[0])
    steps = res.steps.set_index("ts")
    # the local side's marked equity: flat (0) before the buy's fill is heard of, then
    # -999 + 10 mid; its peak is 0 (the start of the day too)
    eq = (-999.0 + 10.0 * steps["local_mid"]).where(steps["local_position"] == 10.0, 0.0)
    past = steps.index[(0.0 - eq) > limit]
    assert t_trip == past[0]
    assert ev["value"].iloc[0] == pytest.approx(eq.loc[t_trip], abs=1e-9)
    assert eq.loc[t_trip] == pytest.approx(-999.0 + 10.0 * 97.85, abs=1e-9)  # mid 97.85
    assert t_trip == T0 + 2_900 * MS  # the tenth 0.2 step down (t0 + 2.0 s + 9 x 100 ms)
    # quoting stops: the 120 sell is cancelled, the 15 s order never sent
    assert res.counters["orders_sent"] == 2
    assert res.counters["cancelled"] == 1
    assert res.summary()["final_position"] == 10.0
    assert res.pnl["total"] == pytest.approx(-999.0 + 10.0 * 79.85, abs=1e-9)


@pytest.mark.parametrize("driver", ["backtest", "replay", "loopback"])
def test_drawdown_trips_on_marks_without_a_fill(driver):
    ev = falling_market()
    f = DRIVERS[driver]
    res = f(ev, SCRIPT, max_drawdown=20.0, **KW)
    assert len(res.fills) == 1  # the buy only: the mid falls with no fill
    _check_loss_breaker(res, "drawdown", 20.0)


@pytest.mark.parametrize("driver", ["backtest", "replay", "loopback"])
def test_daily_loss_trips_and_latches(driver):
    ev = falling_market()
    f = DRIVERS[driver]
    res = f(ev, SCRIPT, max_daily_loss=20.0, **KW)
    _check_loss_breaker(res, "daily_loss", 20.0)


def test_no_breaker_no_halt():
    res = run(falling_market(), SCRIPT, **KW)
    assert res.risk_events.empty
    assert res.counters["orders_sent"] == 3


def test_vol_surge_and_spread_pull_quotes_and_resume():
    """A 0.2 move every 100 ms is above a 0.15 vol-surge limit: quotes pulled at the first
    move (t0 + 2.0 s, seen by the decision at that time) and resumed 1 s after the last
    (t0 + 11.9 s)."""
    ev = falling_market()
    for f in DRIVERS.values():
        _vol_surge(f(ev, SCRIPT, max_mid_move=0.15, breaker_cooldown=1 * S, **KW))
    wide = run(ev, SCRIPT, max_spread=0.05, breaker_cooldown=1 * S, **KW)
    assert list(wide.risk_events["kind"][:1]) == ["abnormal_spread"]
    assert wide.counters["orders_sent"] == 0  # spread 0.1 > 0.05 from the first decision


def _vol_surge(res):
    k = res.risk_events
    assert list(k["kind"]) == ["vol_surge", "cooldown_end"]
    assert int(k["ts"].iloc[0]) == T0 + 2 * S
    assert k["value"].iloc[0] == pytest.approx(0.2, abs=1e-9)
    assert int(k["ts"].iloc[1]) == T0 + 12_900 * MS
    assert res.counters["cancelled"] == 1  # the resting sell pulled
    assert res.counters["orders_sent"] == 3  # the 15 s order is sent after the resume


def test_stale_feed_pulls_quotes_and_resumes():
    ev = falling_market(n_down=10)
    t_gap = int(ev["local_ts"][-1]) + 3 * S  # 3 s of silence, then the feed comes back
    back = ev[-2:].copy()
    back["exch_ts"] = back["local_ts"] = t_gap
    tail = [back]
    for j in range(1, 60):
        b = ev[-2:].copy()
        b["exch_ts"] = b["local_ts"] = t_gap + j * 100 * MS
        tail.append(b)
    ev2 = np.concatenate([ev] + tail)
    ev2["ival"] = np.arange(len(ev2))
    for f in DRIVERS.values():
        res = f(ev2, SCRIPT, stale_after=500 * MS, breaker_cooldown=1 * S, **KW)
        k = res.risk_events
        assert list(k["kind"]) == ["stale_feed", "cooldown_end"], k
        t_last = int(ev["local_ts"][-1])
        # first decision more than 0.5 s after the last event (decisions every 100 ms)
        assert int(k["ts"].iloc[0]) == t_last + 600 * MS
        # resumes 1 s after the last decision at which it held (100 ms before the feed returns)
        assert int(k["ts"].iloc[1]) == t_gap - 100 * MS + 1 * S


def test_driver_kill_switch_latches_and_reset_resumes():
    ev = falling_market(n_down=5)
    d = StepDriver(SCRIPT, session_end=int(ev["local_ts"].max()), **KW)
    cut = int(np.searchsorted(ev["local_ts"], T0 + 1_500 * MS, side="right"))
    d.feed(ev[:cut].copy())
    d.advance_to(T0 + 1_500 * MS)  # both scripted orders are out by now
    assert d.n_fills == 1
    d.kill()
    assert d.halted
    d.feed(ev[cut:].copy())
    res = d.finish()
    k = res.risk_events
    assert list(k["kind"]) == ["kill_switch"]
    assert res.counters["orders_sent"] == 2  # nothing sent after the kill switch
    assert res.counters["cancelled"] == 1
    d2 = StepDriver(SCRIPT, session_end=int(ev["local_ts"].max()) + 20 * S, **KW)
    d2.feed(ev.copy())
    d2.advance_to(T0 + 1_500 * MS)
    d2.kill()
    d2.advance_to(T0 + 2_000 * MS)
    d2.reset()
    assert not d2.halted
    d2.advance_to(T0 + 16 * S)
    r2 = d2.risk_events
    assert list(r2["kind"]) == ["kill_switch", "reset"]
    assert isinstance(r2, pd.DataFrame)


@pytest.mark.parametrize("venue", ["paper", "loopback"])
def test_a_hard_limit_lowered_below_the_position_flattens_it(venue):
    """Long 10 (the scripted buy at t0 + 0.5 s), the desk lowers the hard limit to 4 at
    t0 + 3 s: at the next decision the breach is a risk event, the resting 120 sell is
    cancelled, and once it is gone one marketable sell of 10 takes the bid; quoting halts."""
    from mmlab.backtest import LoopbackDriver

    ev = falling_market(n_down=20)
    end = int(ev["local_ts"].max())
    cls = StepDriver if venue == "paper" else LoopbackDriver
    d = cls(SCRIPT, session_end=end, max_position=20.0, **KW)
    cut = int(np.searchsorted(ev["local_ts"], T0 + 3 * S))
    d.feed(ev[:cut])
    d.advance_to(T0 + 3 * S)  # every decision before 3 s taken
    d.set_max_position(4.0)
    d.feed(ev[cut:])
    res = d.finish()
    k = res.risk_events
    assert list(k["kind"]) == ["hard_limit"]
    t_trip = int(k["ts"].iloc[0])
    assert t_trip == T0 + 3 * S  # the first decision at or after the change (every 100 ms)
    assert k["value"].iloc[0] == 10.0  # the position that breached
    f = res.fills
    assert list(f["side"]) == [1, -1] and list(f["qty"]) == [10.0, 10.0]
    sell = f.iloc[1]
    assert not sell["maker"]  # a taker: it took the bid
    # sent at the decision after the cancel's answer (t0 + 3.1 s; no latency here), it meets
    # the book after that time's step: bid 99.8 - 0.2 x 12 = 97.4 (a step every 100 ms from 2 s)
    assert int(sell["ts"]) == T0 + 3_100 * MS
    assert sell["price"] == pytest.approx(97.4, abs=1e-9)
    assert res.summary()["final_position"] == 0.0
    assert res.counters["cancelled"] == 1  # the 120 sell
    assert d.halted
