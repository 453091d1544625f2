"""Queue-position models: the pure functions, and fill times on hand-built books.

Reference values are computed by hand from hftbacktest's definitions
(``hftbacktest/src/backtest/models/queue.rs``: ``ProbQueueModel::depth`` with
``PowerProbQueueFunc`` / ``LogProbQueueFunc``, ``RiskAdverseQueueModel``; ``is_filled`` =
``floor(-front / lot) * lot`` once ``round(front / lot) < 0``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmlab.backtest import (
    GridStrategy,
    queue_depth,
    queue_depth_python,
    queue_filled_qty,
    queue_filled_qty_python,
    queue_model_code,
    queue_prob,
    queue_prob_python,
    queue_trade,
    queue_trade_python,
    run,
)
from mmlab.backtest.engine._queue import QUEUE_LOG, QUEUE_POWER, QUEUE_RISK_AVERSE
from mmlab.data import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    empty_events,
)
from mmlab.errors import ConfigError

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def events(rows):
    """Rows (kind, side +1 bid/buy, -1 ask/sell, t_ms, px, qty) -> EXCH|LOCAL events, no feed
    latency."""
    ev = empty_events(len(rows))
    for i, (kind, side, t, px, qty) in enumerate(rows):
        flag = BUY_EVENT if side == 1 else SELL_EVENT
        ts = T0 + t * MS
        ev[i] = (kind | EXCH_EVENT | LOCAL_EVENT | flag, ts, ts, px, qty, 0, i, 0.0)
    return ev


def opening(bid_qty=6.0):
    return [
        (DEPTH_CLEAR_EVENT, 1, 0, 0.0, 0.0), (DEPTH_CLEAR_EVENT, -1, 0, 0.0, 0.0),
        (DEPTH_SNAPSHOT_EVENT, 1, 0, 99.99, bid_qty), (DEPTH_SNAPSHOT_EVENT, 1, 0, 99.98, 5.0),
        (DEPTH_SNAPSHOT_EVENT, -1, 0, 100.01, 6.0), (DEPTH_SNAPSHOT_EVENT, -1, 0, 100.02, 5.0),
    ]


def test_model_names():
    assert queue_model_code("power_prob_queue_model") == QUEUE_POWER
    assert queue_model_code("log_prob") == QUEUE_LOG
    assert queue_model_code("RiskAverse".replace("RiskAverse", "risk_averse")) == QUEUE_RISK_AVERSE
    assert queue_model_code("fifo") == queue_model_code("l3") == 6
    with pytest.raises(ConfigError, match="queue_model"):
        queue_model_code("lifo")


@pytest.mark.parametrize("prob, depth, trade, filled", [
    (queue_prob_python, queue_depth_python, queue_trade_python, queue_filled_qty_python),
    (queue_prob, queue_depth, queue_trade, queue_filled_qty),
])
def test_pure_functions(prob, depth, trade, filled):
    # power n=2: front 6, back 8 -> p = 64 / (64 + 36) = 0.64 (share behind us)
    assert prob(QUEUE_POWER, 2.0, 6.0, 8.0) == pytest.approx(0.64, abs=1e-15)
    # a cancel of 8 from a level of 14: front' = 6 - 0.36 * 8 + min(8 - 0.64 * 8, 0) = 3.12
    f, c = depth(QUEUE_POWER, 2.0, 6.0, 0.0, 14.0, 6.0)
    assert f == pytest.approx(3.12, abs=1e-12) and c == 0.0
    # log: p = ln 9 / (ln 9 + ln 7); front' = 6 - (1 - p) * 8
    p = math.log(9) / (math.log(9) + math.log(7))
    f, _ = depth(QUEUE_LOG, 0.0, 6.0, 0.0, 14.0, 6.0)
    assert f == pytest.approx(6 - (1 - p) * 8, abs=1e-12)
    # risk-averse: the cancel is behind us
    assert depth(QUEUE_RISK_AVERSE, 0.0, 6.0, 0.0, 14.0, 6.0)[0] == 6.0
    # a decrease fully explained by earlier trades does not move us (cum_trade = 4)
    f, c = trade(QUEUE_POWER, 6.0, 0.0, 4.0)
    assert (f, c) == (2.0, 4.0)
    assert depth(QUEUE_POWER, 2.0, f, c, 10.0, 6.0) == (2.0, 0.0)
    # an increase joins behind
    assert depth(QUEUE_POWER, 2.0, 2.0, 0.0, 6.0, 9.0) == (2.0, 0.0)
    # fill quantity: floor(-front / lot) * lot once round(front / lot) < 0
    assert filled(-0.77, 1.0) == 0.0 and filled(-1.77, 1.0) == 1.0 and filled(-0.4, 1.0) == 0.0
    assert filled(-0.0025, 0.001) == pytest.approx(0.002)


def run_queue(model, rows, qty=1.0, **kw):
    ev = events(rows)
    settings = dict(tick_size=0.01, lot_size=1.0, queue_model=model, queue_power=2.0,
                    interval=100 * MS, partial_fills=False)
    settings.update(kw)
    return run(ev, GridStrategy(half_spread=0.0, order_qty=qty, clip="touch"),
               **settings)


# our bid joins 99.99 at t = 100 ms behind 6; 8 join behind (t = 150) and 8 cancel (t = 250);
# sell trades of 1 at 99.99 every 100 ms from t = 300 ms.
QUEUE_ROWS = opening() + [(DEPTH_EVENT, 1, 150, 99.99, 14.0), (DEPTH_EVENT, 1, 250, 99.99, 6.0)] + [
    (TRADE_EVENT, -1, t, 99.99, 1.0) for t in range(300, 1300, 100)]


@pytest.mark.parametrize("model, fill_ms", [
    # front after the cancel: power 3.12 -> filled by the 5th trade (front -1.88), t = 700
    ("power", 700),
    # log: 6 - (1 - p) 8 = 2.2426 -> the 4th trade (front -1.76), t = 600
    ("log", 600),
    # risk-averse: 6 ahead -> the 7th trade (front -1), t = 900
    ("risk_averse", 900),
])
def test_fill_time_by_queue_model(model, fill_ms):
    res = run_queue(model, QUEUE_ROWS)
    bids = res.fills[res.fills["side"] == 1]
    assert len(bids) >= 1
    first = bids.iloc[0]
    assert int(first["ts"]) == T0 + fill_ms * MS
    assert first["price"] == pytest.approx(99.99) and first["qty"] == 1.0 and bool(first["maker"])


def test_trade_through_and_partial_fills():
    rows = opening() + [(TRADE_EVENT, -1, 350, 99.98, 1.0), (TRADE_EVENT, -1, 450, 99.98, 5.0)]
    # no partial fills: the whole order (2) fills on the first print through its price
    res = run_queue("risk_averse", rows, qty=2.0)
    b = res.fills[res.fills["side"] == 1]
    b = b[b["order_id"] == b["order_id"].iloc[0]]  # the first bid (a new one joins at 400 ms)
    assert list(b["ts"]) == [T0 + 350 * MS] and list(b["qty"]) == [2.0]
    # partial fills: 1 at 350 ms (the print's size), the other 1 at 450 ms
    res = run_queue("risk_averse", rows, qty=2.0, partial_fills=True)
    b = res.fills[res.fills["side"] == 1]
    b = b[b["order_id"] == b["order_id"].iloc[0]]
    assert list(b["ts"]) == [T0 + 350 * MS, T0 + 450 * MS] and list(b["qty"]) == [1.0, 1.0]
    np.testing.assert_allclose(b["price"], 99.99, rtol=1e-12)  # resting orders: their own price


def test_best_ask_crossing_fills_resting_bid():
    rows = opening() + [(DEPTH_EVENT, 1, 330, 99.99, 0.0), (DEPTH_EVENT, -1, 330, 99.99, 2.0)]
    res = run_queue("risk_averse", rows)
    b = res.fills[res.fills["side"] == 1]
    assert int(b.iloc[0]["ts"]) == T0 + 330 * MS and b.iloc[0]["price"] == pytest.approx(99.99)


def test_post_only_rejected_when_crossing_on_arrival():
    # the bid is sent at t = 100 ms for 99.99; by its arrival (50 ms later) the ask is at 99.99
    rows = opening() + [(DEPTH_EVENT, 1, 120, 99.99, 0.0), (DEPTH_EVENT, -1, 120, 99.99, 2.0),
                        (DEPTH_EVENT, 1, 140, 99.97, 3.0), (DEPTH_EVENT, 1, 200, 99.96, 3.0)]
    res = run_queue("risk_averse", rows, entry_latency=50 * MS, end=T0 + 150 * MS)
    assert res.counters["rejected"] == 1 and len(res.fills[res.fills["side"] == 1]) == 0
    # not post-only: it takes the ask at 99.99 as a taker, in full
    res = run_queue("risk_averse", rows, entry_latency=50 * MS, end=T0 + 150 * MS,
                    post_only=False, taker_fee=0.001)
    b = res.fills[res.fills["side"] == 1]
    assert len(b) == 1 and not bool(b.iloc[0]["maker"])
    assert int(b.iloc[0]["ts"]) == T0 + 150 * MS
    assert b.iloc[0]["fee"] == pytest.approx(0.001 * 99.99, rel=1e-12)


def test_latency_delays_the_ack_and_the_fill_report():
    res = run_queue("risk_averse", QUEUE_ROWS, entry_latency=20 * MS, response_latency=30 * MS)
    f = res.fills[res.fills["side"] == 1].iloc[0]
    # the order reaches the exchange at 120 ms, still behind 6 (risk-averse): filled at 900 ms,
    # reported 30 ms later
    assert int(f["ts"]) == T0 + 900 * MS
    assert int(f["local_ts"]) == T0 + 930 * MS
    s = res.steps
    assert np.all(s["local_position"].to_numpy() <= s["position"].to_numpy() + 1e-12)
