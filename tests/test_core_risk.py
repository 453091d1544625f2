"""The daily-loss breaker of the one core across a UTC midnight (issue 10; what
``tests/test_risk.py`` checked on the retired Python ``DailyLossBreaker``): the loss counts from
the trading day's first decision, so a fall spread over two days trips only when one day's
share passes the limit, and a trip latches until the next day's start, which clears it.

Scenario (no fees): the book 99.8 / 99.9 three seconds before midnight; buy 10 @ 99.9 (taking
the ask) at -2.5 s; the local equity is then -999 + 10 x mid (worked by hand). The drivers: the
backtest, the step driver (paper) and the local side alone over the wire (loopback).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from mmlab.backtest import ScriptedOrders, run
from mmlab.data import BUY_EVENT, DEPTH_EVENT, EVENT_DTYPE, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT
from mmlab.errors import ConfigError
from mmlab.runtime import replay

S = 1_000_000_000
MS = 1_000_000
MIDNIGHT = 1_700_006_400 * S  # 2023-11-15 00:00:00 UTC
BOTH = EXCH_EVENT | LOCAL_EVENT
DRIVERS = {"backtest": run, "replay": replay,
           "loopback": functools.partial(replay, venue="loopback")}


def path(mids):
    """The top of book (bid = mid - 0.05, ask = mid + 0.05, 100 each) at ``(t_ms, mid)``
    points, relative to midnight; the old top is removed at each move."""
    rows = []
    prev = None
    for t, mid in mids:
        ts = MIDNIGHT + t * MS
        bid, ask = round(mid - 0.05, 2), round(mid + 0.05, 2)
        if prev is not None and prev != (bid, ask):
            rows += [(ts, 1, prev[0], 0.0), (ts, -1, prev[1], 0.0)]
        rows += [(ts, 1, bid, 100.0), (ts, -1, ask, 100.0)]
        prev = (bid, ask)
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (ts, side, px, q) in enumerate(rows):
        ev[i] = (DEPTH_EVENT | BOTH | (BUY_EVENT if side > 0 else SELL_EVENT), ts, ts, px, q, 0,
                 i, 0.0)
    return ev


def steady(t0, t1, mid):
    return [(t, mid) for t in range(t0, t1, 100)]


# buy 10 at 99.9 at -2.5 s; a sell resting at 120 from -2 s (what a halt cancels); a sell at
# 121 at +2 s (sent only if quoting is allowed then)
SCRIPT = ScriptedOrders([(MIDNIGHT - 2_500 * MS, 1, 99.9, 10.0),
                         (MIDNIGHT - 2_000 * MS, -1, 120.0, 1.0),
                         (MIDNIGHT + 2_000 * MS, -1, 121.0, 1.0)])
KW = dict(tick_size=0.01, lot_size=1.0, post_only=False, interval=100 * MS,
          start=MIDNIGHT - 3 * S, record_every=1, max_daily_loss=20.0, roi=(80.0, 120.0))


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_the_loss_counts_from_the_days_first_decision(driver):
    """Mid 99.85 (equity -0.5) falls to 98.35 before midnight (equity -15.5: 15 lost today);
    the decision at midnight starts the day at -15.5; the mid falls to 96.85 at +0.5 s (equity
    -30.5: 15 lost today, 30 in all: no trip), then to 96.25 at +1.5 s (equity -36.5: 21 today
    > 20: trips)."""
    mids = (steady(-3_000, -1_000, 99.85) + steady(-1_000, 500, 98.35)
            + steady(500, 1_500, 96.85) + steady(1_500, 3_000, 96.25))
    res = DRIVERS[driver](path(mids), SCRIPT, **KW)
    k = res.risk_events
    assert list(k["kind"]) == ["daily_loss"], k
    assert int(k["ts"].iloc[0]) == MIDNIGHT + 1_500 * MS
    assert k["value"].iloc[0] == pytest.approx(-999.0 + 10 * 96.25, abs=1e-9)
    assert res.counters["orders_sent"] == 2  # the +2 s sell is never sent
    assert res.counters["cancelled"] == 1  # the 120 sell is pulled at the trip


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_a_trip_latches_until_the_next_days_start(driver):
    """The mid falls to 97.75 at -1 s (equity -21.5: 21 lost today): trips at -1 s, the 120
    sell is cancelled; the first decision of the new day clears it (``daily_loss_reset``) and
    quoting resumes: the +2 s sell goes out."""
    mids = steady(-3_000, -1_000, 99.85) + steady(-1_000, 3_000, 97.75)
    res = DRIVERS[driver](path(mids), SCRIPT, **KW)
    k = res.risk_events
    assert list(k["kind"]) == ["daily_loss", "daily_loss_reset"], k
    assert list(k["ts"]) == [MIDNIGHT - 1_000 * MS, MIDNIGHT]
    assert res.counters["cancelled"] == 1
    assert res.counters["orders_sent"] == 3
    # with the drawdown breaker too (20 from the peak 0), the new day does not clear that one
    res = DRIVERS[driver](path(mids), SCRIPT, **dict(KW, max_drawdown=20.0))
    assert list(res.risk_events["kind"]) == ["drawdown", "daily_loss", "daily_loss_reset"]
    assert res.counters["orders_sent"] == 2


def test_the_price_band_holds_back_fat_finger_quotes():
    """A kernel quoting 20 % from the mid: nothing goes out under the default 10 % band (every
    attempt counted), everything with the band off; 0.5 % from the mid passes the band."""
    from mmlab.backtest import MS_MID, UserStrategy, quote_kernel
    from mmlab.data import synthetic

    def far(state, params, out):
        m = state[MS_MID]
        out[0], out[1] = m * params[0], 1.0
        out[2], out[3] = m * (2.0 - params[0]), 1.0

    ev = synthetic.synthetic_l2_events(session_seconds=30, seed=3)
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=5.0, roi=(40.0, 160.0))
    wild = run(ev, UserStrategy(quote_kernel(far), [0.8]), **kw)
    assert wild.counters["orders_sent"] == 0 and wild.counters["out_of_band"] > 100
    off = run(ev, UserStrategy(quote_kernel(far), [0.8]), price_band=float("inf"), **kw)
    assert off.counters["orders_sent"] > 100 and off.counters["out_of_band"] == 0
    near = run(ev, UserStrategy(quote_kernel(far), [0.995]), **kw)
    assert near.counters["orders_sent"] > 100 and near.counters["out_of_band"] == 0
    with pytest.raises(ConfigError, match="price_band"):
        run(ev, UserStrategy(quote_kernel(far), [0.8]), price_band=0.0, **kw)
