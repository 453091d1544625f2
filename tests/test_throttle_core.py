"""The order throttle in the one core (issue 10): a token bucket refilled at
``max_order_rate`` per second up to ``order_burst``, on new orders only.

Reference values by hand: 10 scripted orders due at one decision with a burst of 3 send 3;
on a day, no more than ``burst + rate x duration`` orders go out in all.
"""

from __future__ import annotations

import pytest

from mmlab.backtest import GridStrategy, ScriptedOrders, run
from mmlab.data import load_binance, synthetic
from mmlab.errors import ConfigError
from mmlab.runtime import replay

MS = 1_000_000


def test_a_burst_is_cut_to_the_bucket():
    ev = synthetic.synthetic_l2_events(session_seconds=5, seed=2)
    t0 = int(ev["local_ts"][0])
    orders = ScriptedOrders([(t0 + 1000 * MS, 1, 90.0 + 0.01 * i, 1.0) for i in range(10)])
    kw = dict(tick_size=0.01, lot_size=1.0, max_position=100.0, start=t0, interval=100 * MS)
    free = run(ev, orders, **kw)
    cut = run(ev, orders, max_order_rate=2.0, order_burst=3.0, **kw)
    assert free.counters["orders_sent"] == 10 and free.counters["throttled"] == 0
    assert cut.counters["orders_sent"] == 3 and cut.counters["throttled"] == 7


def test_a_day_never_exceeds_the_rate(data_dir):
    ev = load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")
    kw = dict(tick_size=0.1, lot_size=0.001, max_position=0.1, entry_latency=10 * MS,
              response_latency=10 * MS)
    strat = GridStrategy(half_spread=1.0, order_qty=0.01)
    free = run(ev, strat, **kw)
    res = run(ev, strat, max_order_rate=0.5, order_burst=2.0, **kw)
    span = (int(ev["local_ts"].max()) - int(ev["local_ts"].min())) / 1e9
    assert free.counters["orders_sent"] > 0.5 * span + 2  # the limit binds
    assert res.counters["throttled"] > 0
    assert res.counters["orders_sent"] <= 2.0 + 0.5 * span
    got = replay(ev, strat, max_order_rate=0.5, order_burst=2.0, batch_seed=1, **kw)
    assert got.fills.equals(res.fills) and got.counters["throttled"] == res.counters["throttled"]


def test_bad_settings():
    ev = synthetic.synthetic_l2_events(session_seconds=1, seed=2)
    with pytest.raises(ConfigError, match="max_order_rate"):
        run(ev, GridStrategy(0.01, 1.0), max_order_rate=0.0, tick_size=0.01)
    with pytest.raises(ConfigError, match="order_burst"):
        run(ev, GridStrategy(0.01, 1.0), max_order_rate=1.0, order_burst=0.5, tick_size=0.01)
