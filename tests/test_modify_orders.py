"""Modify requests (``modify_orders=True``): one order re-priced or re-sized instead of cancel +
new, with the venue's queue-priority rule.

The rule (as exchanges state it, e.g. CME Globex and Binance's order amend: a price change or a
quantity increase loses time priority, a quantity decrease keeps it) is checked on the exchange
side's plain-Python twin with hand-built books; then whole runs: the same fills from the
backtest, the step driver (paper) and the local side alone against the venue (loopback), with
the modifies carried by the wire's records.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmlab.backtest import GridStrategy, run
from mmlab.backtest.engine import _engine as E
from mmlab.data import load_binance
from mmlab.errors import ConfigError
from mmlab.runtime import replay

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_step_driver import BTC  # noqa: E402


def _venue(post_only=1):
    """An exchange side with one resting bid of ours (order 1: tick 90, leaves 5, 7 ahead) in
    a book with best bid 95 (size 12), best ask 100; level 90 holds 20."""
    settings = E.record(E.SETTINGS_DTYPE)
    settings["maxord"], settings["nticks"], settings["interval"] = 4, 200, 1
    settings["sides"] = E.SIDES_BOTH
    settings["tick"], settings["itick"], settings["lot"], settings["mult"] = 0.01, 100.0, 1.0, 1.0
    st = E.new_state(settings)
    orders, live, rq, rs, sc, acc = st[:6]
    acc["mark"] = np.nan
    book = np.zeros((4, 200))
    book[0, 90], book[0, 95], book[1, 100] = 20.0, 12.0, 9.0
    best = np.array([95, 100, -1, 200], dtype=np.int64)
    o = orders[0]
    o["id"], o["side"], o["tick"], o["ex_state"], o["lo_state"] = 1, 1, 90, 1, E.LO_PMODIFY
    o["post_only"], o["ltick"] = post_only, 90
    o["qty"], o["leaves"], o["front"], o["lleaves"] = 5.0, 5.0, 7.0, 5.0
    live[0], sc["nlive"] = 0, 1
    fills = np.zeros(8, dtype=E.FILL_DTYPE)
    return dict(settings=settings, st=st, book=book, best=best, fills=fills)


def _modify(v, tick, qty, oid=1, t=1000, i_ex=42):
    orders, live, rq, rs, sc, acc = v["st"][:6]
    if orders[0]["id"] == oid:  # nothing filled yet: the new total quantity is the new leaves
        orders[0]["mtick"], orders[0]["mqty"], orders[0]["mtotal"] = tick, qty, qty
    rq[0] = (t, 0, E.R_MODIFY, oid, 0)
    sc["nreq"] = 1
    E._py["_ex_request"](0, rq, t, i_ex, orders, live, sc, acc, v["fills"], rs,
                         v["best"], v["book"], v["settings"],
                         np.array([5], dtype=np.int64))
    n = int(sc["nresp"])
    return [(int(rs[k]["kind"]), float(rs[k]["qty"])) for k in range(n)]


def test_a_smaller_size_keeps_its_place():
    v = _venue()
    assert _modify(v, 90, 3.0) == [(E.S_MODIFIED, 3.0)]
    orders = v["st"].orders
    assert orders[0]["leaves"] == 3.0 and orders[0]["front"] == 7.0  # still 7 ahead
    assert orders[0]["tick"] == 90


def test_a_larger_size_joins_the_back_of_the_queue():
    v = _venue()
    assert _modify(v, 90, 8.0) == [(E.S_MODIFIED, 8.0)]
    orders = v["st"].orders
    assert orders[0]["front"] == 20.0  # the whole level (20) now ahead
    assert orders[0]["arrival"] == 42  # a new FIFO arrival at the request's time


def test_a_new_price_joins_the_back_of_the_new_level():
    v = _venue()
    assert _modify(v, 95, 5.0) == [(E.S_MODIFIED, 5.0)]
    orders = v["st"].orders
    assert orders[0]["tick"] == 95 and orders[0]["front"] == 12.0
    assert orders[0]["ltick"] == 90  # the local side learns it from the response, not before


def test_post_only_cross_and_gone_orders_are_rejected_unchanged():
    v = _venue()
    assert _modify(v, 100, 5.0) == [(E.S_MODIFY_REJECTED, 0.0)]  # would take the ask
    orders = v["st"].orders
    assert orders[0]["tick"] == 90 and orders[0]["leaves"] == 5.0 and orders[0]["front"] == 7.0
    v = _venue()
    v["st"][0][0]["ex_state"] = 2  # filled meanwhile: a modify of a filled order
    assert _modify(v, 91, 5.0) == [(E.S_MODIFY_REJECTED, 0.0)]
    v = _venue()
    assert _modify(v, 91, 5.0, oid=77) == [(E.S_MODIFY_REJECTED, 0.0)]  # not ours here


def test_a_taker_modify_through_the_ask_fills_at_the_ask():
    v = _venue(post_only=0)
    got = _modify(v, 100, 2.0)
    assert [k for k, _ in got] == [E.S_MODIFIED, E.S_FILL]
    f = v["fills"][0]
    assert f["price"] == pytest.approx(1.00) and f["qty"] == 2.0
    assert f["maker"] == 0


def test_local_side_state_machine():
    """modified: the local side takes the new tick and leaves; modify_rejected: the order
    stays as it was; a fill while the modify is pending counts as any fill."""
    v = _venue()
    orders, live, rq, rs, sc, acc, rk = v["st"][:7]
    orders[0]["mtick"], orders[0]["mqty"] = 93, 4.0

    def resp(kind, qty):
        rs[0] = (5, 0, kind, 1, 0, qty, -qty * 0.9 if kind == E.S_FILL else 0.0)
        E._py["_lo_response"](0, rs, orders, acc, sc, v["settings"], rk)

    resp(E.S_FILL, 1.0)  # filled 1 of 5 while pending
    assert orders[0]["lo_state"] == E.LO_PMODIFY and orders[0]["lleaves"] == 4.0
    resp(E.S_MODIFIED, 4.0)
    assert orders[0]["lo_state"] == E.LO_WORK and orders[0]["ltick"] == 93 and orders[0]["lleaves"] == 4.0
    orders[0]["lo_state"] = E.LO_PMODIFY
    orders[0]["mtick"] = 80
    resp(E.S_MODIFY_REJECTED, 0.0)
    assert orders[0]["lo_state"] == E.LO_WORK and orders[0]["ltick"] == 93


@pytest.fixture(scope="module")
def btc(data_dir):
    return load_binance(data_dir / "binance" / "usdm_btcusdt_20240808.gz")


def test_modify_orders_replaces_cancel_and_new_on_btcusdt(btc):
    strat = GridStrategy(half_spread=1.0, order_qty=0.01, skew=100.0, levels=3, grid_step=5)
    plain = run(btc, strat, **BTC)
    ref = run(btc, strat, modify_orders=True, **BTC)
    c0, c = plain.counters, ref.counters
    # measured: 2,596 new + 1,828 cancels without; 742 new, 6 cancels, 1,910 modifies with
    assert c["modifies_sent"] > 1000 and c["cancelled"] < c0["cancelled"] / 10
    assert c["orders_sent"] < c0["orders_sent"] / 2
    assert c["modified"] <= c["modifies_sent"] and len(ref.fills) >= 50
    cols = [k for k in ref.fills.columns if k != "seq"]
    for venue in ("paper", "loopback"):
        for seed in (0, 1, 2):
            res = replay(btc, strat, modify_orders=True, venue=venue, batch_seed=seed, **BTC)
            pd.testing.assert_frame_equal(res.fills[cols], ref.fills[cols])
            assert res.pnl == ref.pnl and res.counters["modified"] == c["modified"]


def test_the_python_twin_modifies_alike(btc):
    strat = GridStrategy(half_spread=1.0, order_qty=0.01, skew=100.0, levels=2, grid_step=3)
    ev = btc[:60_000]
    a = run(ev, strat, modify_orders=True, **BTC)
    b = run(ev, strat, modify_orders=True, engine="python", **BTC)
    assert a.counters["modifies_sent"] > 20
    pd.testing.assert_frame_equal(a.fills, b.fills)


def test_modify_orders_is_a_boolean():
    with pytest.raises(ConfigError, match="modify_orders"):
        run(btc_small(), GridStrategy(0.01, 1.0), modify_orders="yes", tick_size=0.01,
            lot_size=1.0)


def btc_small():
    from mmlab.data import synthetic

    return synthetic.synthetic_l2_events(session_seconds=5, seed=1)


def test_what_fills_while_a_modify_is_in_flight_is_not_bought_again():
    """A modify carries the order's new total quantity (venues' rule): order 1 (5 at tick 90)
    is modified to tick 95 with leaves 5 (total 5, nothing heard filled); 2 fill before the
    modify arrives, so the exchange leaves 5 - 2 = 3, not 5 (position 2 + working 3 = 5, the
    size the local side counted against its hard limit)."""
    v = _venue()
    o = v["st"].orders[0]
    o["leaves"], o["filled"] = 3.0, 2.0  # filled 2 meanwhile (its fill response in flight)
    assert _modify(v, 95, 5.0) == [(E.S_MODIFIED, 3.0)]
    assert o["leaves"] == 3.0 and o["tick"] == 95


def test_a_modify_to_no_more_than_what_filled_is_rejected():
    """Total 2 when 2 have filled already: nothing would be left; the order stays as it was."""
    v = _venue()
    o = v["st"].orders[0]
    o["leaves"], o["filled"] = 3.0, 2.0
    assert _modify(v, 95, 2.0) == [(E.S_MODIFY_REJECTED, 0.0)]
    assert o["leaves"] == 3.0 and o["tick"] == 90
