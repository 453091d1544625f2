"""L3 data in the backtest engine: the exact FIFO queue (``queue_model='fifo'``).

Hand-built streams check each rule (orders ahead vs behind, cancels, reductions, executions
continuing into our order, executions through our price, hidden executions); on the shipped
LOBSTER AAPL and AMZN days, orders entered with :class:`ScriptedOrders` are filled at exactly
the time and quantity computed independently from the raw LOBSTER messages with pandas (the
reference below never touches the engine or mmlab.book: it reads the message file's types 1-5 and
the vendor orderbook file).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmlab.backtest import GridStrategy, ScriptedOrders, run
from mmlab.backtest.engine._l3 import arrivals, arrivals_python, l3_stream
from mmlab.book import l3_to_l2
from mmlab.data import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    read_lobster,
    synthetic,
)
from mmlab.errors import ConfigError

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
BOTH = EXCH_EVENT | LOCAL_EVENT


def _stream(rows):
    """rows: (ms after T0, kind, side 'b'/'s', price, qty, order id)."""
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (ms, kind, side, px, q, oid) in enumerate(rows):
        flag = BUY_EVENT if side == "b" else SELL_EVENT
        ev[i] = (kind | BOTH | flag, T0 + ms * MS, T0 + ms * MS, px, q, oid, i, 0.0)
    return ev


# a two-sided book: anonymous 10 @ 9.99 (bids) and 10 @ 10.05 (asks), then A 5 and B 3 join
# the bid at 10.00 before our order (sent at 10 ms) and C 4 after it
BASE = [
    (0, DEPTH_SNAPSHOT_EVENT, "b", 9.99, 10.0, 0),
    (0, DEPTH_SNAPSHOT_EVENT, "s", 10.05, 10.0, 0),
    (1, ADD_ORDER_EVENT, "b", 10.00, 5.0, 1),  # A
    (2, ADD_ORDER_EVENT, "b", 10.00, 3.0, 2),  # B
    (15, ADD_ORDER_EVENT, "b", 10.00, 4.0, 3),  # C, behind us
]


def _ours(ev, qty=2.0, engine="numba", **kw):
    """Our buy of ``qty`` at 10.00 sent at T0 + 10 ms (a step), no latency."""
    kw.setdefault("partial_fills", True)
    return run(ev, ScriptedOrders([(T0 + 10 * MS, 1, 10.00, qty)]), queue_model="fifo",
               tick_size=0.01, lot_size=1.0, interval=MS, start=T0 + 9 * MS, engine=engine, **kw)


def _fills(res):
    f = res.fills
    return [((int(t) - T0) // MS, float(q)) for t, q in zip(f["ts"], f["qty"], strict=True)]


def test_fill_when_orders_ahead_are_consumed_and_execution_continues_into_us():
    ev = _stream(BASE + [
        (20, FILL_EVENT, "b", 10.00, 5.0, 1),  # A executed: 3 ahead (B)
        (25, CANCEL_ORDER_EVENT, "b", 10.00, 3.0, 2),  # B cancelled: nothing ahead
        (30, TRADE_EVENT, "s", 10.00, 3.0, 3),  # a visible execution of C (behind us) ...
        (30, FILL_EVENT, "b", 10.00, 3.0, 3),  # ... would have taken us first
    ])
    for engine in ("numba", "python"):
        res = _ours(ev, engine=engine)
        assert _fills(res) == [(30, 2.0)], engine
        assert res.params["fifo_l2_updates"] == 0


def test_cancels_behind_us_do_not_advance_and_partial_fills():
    ev = _stream(BASE + [
        (20, CANCEL_ORDER_EVENT, "b", 10.00, 4.0, 3),  # C (behind) cancelled: still 8 ahead
        (21, ADD_ORDER_EVENT, "b", 10.00, 6.0, 4),  # D, behind
        (22, MODIFY_ORDER_EVENT, "b", 10.00, 2.0, 1),  # A reduced 5 -> 2 in place: 5 ahead
        (23, MODIFY_ORDER_EVENT, "b", 10.00, 1.0, 4),  # D reduced (behind): 5 ahead
        (30, FILL_EVENT, "b", 10.00, 2.0, 1),  # A executed: 3 ahead
        (31, FILL_EVENT, "b", 10.00, 2.0, 2),  # B partly: 1 ahead
        (32, FILL_EVENT, "b", 10.00, 1.0, 2),  # B done: 0 ahead, nothing beyond
        (40, FILL_EVENT, "b", 10.00, 1.0, 4),  # D (behind) 1: reaches us, 1 of our 3
    ])
    assert _fills(_ours(ev, qty=3.0)) == [(40, 1.0)]
    # no partial fills (hftbacktest's NoPartialFillExchange): the whole order at that moment
    assert _fills(_ours(ev, qty=3.0, partial_fills=False)) == [(40, 3.0)]


def test_execution_of_an_order_ahead_beyond_the_queue_and_a_requeued_order():
    ev = _stream(BASE + [
        # A grows 5 -> 9: it loses its place and re-joins behind us; 3 ahead (B)
        (20, MODIFY_ORDER_EVENT, "b", 10.00, 9.0, 1),
        (21, FILL_EVENT, "b", 10.00, 3.0, 2),  # B executed: nothing ahead
        (22, FILL_EVENT, "b", 10.00, 2.0, 1),  # A, now behind us, executed: reaches us
    ])
    assert _fills(_ours(ev)) == [(22, 2.0)]
    # A moves to another price (9.99) and back: it re-joins behind us as well
    ev = _stream(BASE + [
        (20, MODIFY_ORDER_EVENT, "b", 9.99, 5.0, 1),
        (21, MODIFY_ORDER_EVENT, "b", 10.00, 5.0, 1),
        (22, FILL_EVENT, "b", 10.00, 3.0, 2),
        (23, FILL_EVENT, "b", 10.00, 1.0, 1),
    ])
    assert _fills(_ours(ev)) == [(23, 1.0)]


def test_execution_through_our_price_and_hidden_executions():
    # the whole 10.00 level leaves (cancels), then a seller takes 4 at 9.99: through our bid
    ev = _stream(BASE + [
        (20, CANCEL_ORDER_EVENT, "b", 10.00, 5.0, 1),
        (21, CANCEL_ORDER_EVENT, "b", 10.00, 3.0, 2),
        (22, CANCEL_ORDER_EVENT, "b", 10.00, 4.0, 3),
        (30, FILL_EVENT, "b", 9.99, 1.0, 99),  # anonymous quantity at 9.99
    ])
    assert _fills(_ours(ev)) == [(30, 1.0)]
    # a hidden execution at our price (a TRADE with no FILL) reaches us only when nothing
    # visible is ahead: not at 20 ms (8 ahead), yes at 30 ms
    ev = _stream(BASE + [
        (20, TRADE_EVENT, "s", 10.00, 7.0, 0),
        (25, CANCEL_ORDER_EVENT, "b", 10.00, 5.0, 1),
        (26, CANCEL_ORDER_EVENT, "b", 10.00, 3.0, 2),
        (30, TRADE_EVENT, "s", 10.00, 7.0, 0),
    ])
    assert _fills(_ours(ev)) == [(30, 2.0)]


def test_an_l2_update_at_our_level_falls_back_to_risk_averse_and_is_counted():
    ev = _stream(BASE + [
        (20, DEPTH_EVENT, "b", 10.00, 4.0, 0),  # an L2 view of our level: 12 -> 4
        (30, TRADE_EVENT, "s", 10.00, 5.0, 0),  # risk-averse: 4 ahead, 1 beyond
    ])
    res = _ours(ev)
    assert res.params["fifo_l2_updates"] == 1
    assert _fills(res) == []  # fifo: a hidden trade reaches us only with nothing ahead
    ev = _stream(BASE + [
        (20, DEPTH_EVENT, "b", 10.00, 4.0, 0),
        (30, CANCEL_ORDER_EVENT, "b", 10.00, 5.0, 1),  # 4 -> min(4 - 5, ...) = 0 ahead
        (31, TRADE_EVENT, "s", 10.00, 5.0, 0),
    ])
    assert _fills(_ours(ev)) == [(31, 2.0)]


def test_l2_models_see_the_l3_stream_as_its_levels():
    """Any other queue model on L3 data = the same model on mmlab.book.l3_to_l2 of it."""
    from mmlab._paths import shipped

    ev = read_lobster(shipped("lobster", "AAPL_2012-06-21_34200000_57600000_message_10.csv")).events
    kw = dict(tick_size=0.01, lot_size=1.0, queue_model="power", entry_latency=MS,
              response_latency=MS, interval=50 * MS, max_position=300.0)
    strat = GridStrategy(half_spread=0.02, order_qty=100.0)
    a = run(ev, strat, **kw)
    b = run(l3_to_l2(ev), strat, **kw)
    assert len(a.fills) > 5
    pd.testing.assert_frame_equal(a.fills, b.fills)
    assert a.pnl == b.pnl


def test_fifo_grid_on_lobster_same_in_every_mode(monkeypatch, data_dir):
    """A quoting strategy with the FIFO model on AAPL: compiled loop with the shared book, with
    two books, and the plain-Python twin give the same fills and PnL."""
    from mmlab.backtest.engine import _run

    ev = read_lobster(data_dir / "lobster" /
                      "AAPL_2012-06-21_34200000_57600000_message_10.csv").events
    kw = dict(tick_size=0.01, lot_size=1.0, queue_model="fifo", entry_latency=MS,
              response_latency=MS, interval=50 * MS, max_position=300.0)
    strat = GridStrategy(half_spread=0.02, order_qty=100.0)
    a = run(ev, strat, **kw)
    twin = run(ev, strat, engine="python", **kw)
    monkeypatch.setattr(_run, "_SHARED_BOOK", False)
    b = run(ev, strat, **kw)
    assert a.params["shared_book"] and not b.params["shared_book"] and len(a.fills) > 10
    for other in (b, twin):
        pd.testing.assert_frame_equal(a.fills, other.fills)
        assert a.pnl == other.pnl


def test_fifo_needs_l3_and_arrivals_twin():
    with pytest.raises(ConfigError, match="fifo"):
        run(synthetic.synthetic_l2_events(session_seconds=2), GridStrategy(0.01, 1.0),
            queue_model="fifo")
    ev = _stream(BASE + [(20, MODIFY_ORDER_EVENT, "b", 9.99, 5.0, 1),
                         (21, MODIFY_ORDER_EVENT, "b", 9.99, 2.0, 1),
                         (22, CANCEL_ORDER_EVENT, "b", 10.00, 3.0, 2)])
    k = (ev["ev"] & np.uint64(0xFF)).astype(np.int64)
    oid = np.where(k >= 10, ev["order_id"].astype(np.int64), -1)
    outs = []
    for f in (arrivals, arrivals_python):
        o = (np.empty(len(ev), np.int64), np.empty(len(ev), np.int64), np.empty(len(ev)))
        f(k, oid, ev["px"], ev["qty"], *o)
        outs.append(o)
    for x, y in zip(*outs, strict=True):
        np.testing.assert_array_equal(x, y)
    # A joined at 2, re-joined at 5 (new price), kept its place at 6; B joined at 3
    assert outs[0][0].tolist() == [-1, -1, 2, 3, 4, 2, 5, 3]
    s, kinds, l3a = l3_stream(ev)
    assert kinds.tolist() == [0, 0, 10, 10, 10, 11, 10, 11, 11]  # the move: leave + join
    assert l3a.tolist() == [-1, -1, 2, 3, 4, 2, 6, 6, 3]


_ACTIONS = st.lists(st.tuples(st.sampled_from(["add", "add", "cancel", "reduce", "exec", "exec",
                                               "exec"]),
                               st.integers(1, 6), st.integers(0, 5)), min_size=1, max_size=25)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=_ACTIONS, anon=st.integers(0, 8), m=st.integers(0, 12), qty=st.integers(1, 9))
def test_fifo_equals_a_queue_list_with_our_marker(actions, anon, m, qty):
    """Random FIFO-respecting L3 flows at one price (executions always take the data's front
    order, anonymous quantity first): the engine's fills equal a plain list model of the queue
    with a marker for our order, where an execution of an order queued behind the marker would
    have reached us first."""
    rows = [(0, DEPTH_SNAPSHOT_EVENT, "b", 9.99, 10.0, 0),
            (0, DEPTH_SNAPSHOT_EVENT, "s", 10.05, 10.0, 0),
            (0, ADD_ORDER_EVENT, "b", 9.98, 1.0, 5000)]  # L3 data even without actions
    if anon:
        rows.append((0, DEPTH_SNAPSHOT_EVENT, "b", 10.00, float(anon), 0))
    queue = [["anon", float(anon)]] if anon else []  # [id, qty] in time priority; "us": marker
    leaves = float(qty)
    expected = []
    next_id = 1
    m = min(m, len(actions))
    for j, (what, q, k) in enumerate(actions + [("end", 0, 0)]):
        if j == m:
            queue.append(["us", leaves])
        if what == "end":
            break
        ms = j + 0.5  # actions between the 1 ms steps; our order is sent at step m
        others = [e for e in queue if e[0] != "us"]
        if what == "add":
            queue.append([next_id, float(q)])
            rows.append((ms, ADD_ORDER_EVENT, "b", 10.00, float(q), next_id))
            next_id += 1
        elif not others:
            continue
        elif what in ("cancel", "reduce"):
            e = others[k % len(others)]
            if e[0] == "anon":
                cut = min(float(q), e[1])
                rows.append((ms, CANCEL_ORDER_EVENT, "b", 10.00, cut, 999))
                e[1] -= cut
            elif what == "cancel" or e[1] <= 1:
                rows.append((ms, CANCEL_ORDER_EVENT, "b", 10.00, e[1], e[0]))
                e[1] = 0.0
            else:
                e[1] -= 1
                rows.append((ms, MODIFY_ORDER_EVENT, "b", 10.00, e[1], e[0]))
        else:  # an execution of the data's front order
            e = others[0]
            x = min(float(q), e[1])
            oid = 999 if e[0] == "anon" else e[0]
            rows.append((ms, FILL_EVENT, "b", 10.00, x, oid))
            e[1] -= x
            ids = [f[0] for f in queue]
            if "us" in ids and ids.index("us") < ids.index(e[0]) and leaves > 0:
                got = min(leaves, x)  # it would have taken us first
                leaves -= got
                expected.append((j, got))
        queue = [e for e in queue if e[0] == "us" or e[1] > 0]
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (ms, kind, side, px, q, oid) in enumerate(rows):
        t = T0 + int(ms * MS)
        flag = BUY_EVENT if side == "b" else SELL_EVENT
        ev[i] = (kind | BOTH | flag, t, t, px, q, oid, i, 0.0)
    res = run(ev, ScriptedOrders([(T0 + m * MS, 1, 10.00, float(qty))]), queue_model="fifo",
              tick_size=0.01, lot_size=1.0, interval=MS, start=T0 - MS, partial_fills=True)
    got = [((int(t) - T0) // MS, float(x)) for t, x in zip(res.fills["ts"], res.fills["qty"], strict=True)]
    assert got == expected


# ---- LOBSTER: the engine against an independent pandas reference ----------------------------


def reference_fill(d, t_arrive, px, side, qty):
    """First fill of a resting order (``side`` +1 buy / -1 sell, ``qty`` at ``px``) that reached
    the exchange at ``t_arrive`` (after every message stamped <= it), from the raw LOBSTER
    files: the orderbook file gives the quantity at ``px`` then (all of it ahead of us); each
    later message at ``px`` of an order submitted before us (or before the file began) removes
    its size from the queue ahead; an execution (type 4) of an order submitted after us, or a
    hidden execution (type 5) with nothing visible ahead, fills us with what exceeds the queue
    ahead; an execution through our price fills us; a new order of the other side resting at or
    through our price crosses us: filled in full (hftbacktest's rule, kept by the engine).
    Returns ``(ts_ns, qty, queue_ahead_at_arrival, visible)`` or None; ``visible``: the level
    stayed inside the file's top N while the order waited.
    """
    m = d.messages
    ts = m["ts"].astype("int64").to_numpy()
    ob = d.orderbook
    n_lv = ob.shape[1] // 4
    col = 2 if side == 1 else 0  # bid or ask price column of level 1
    p4 = int(round(px * 10_000))
    r0 = int(np.flatnonzero(ts <= t_arrive)[-1])
    prices = ob[r0, col::4]
    sizes = ob[r0, col + 1::4]
    hit = np.flatnonzero(prices == p4)
    q_ahead = float(sizes[hit[0]]) if hit.size else 0.0
    q0 = q_ahead
    before = set(m["order_id"][(m["type"] == 1) & (ts <= t_arrive)])
    after = set(m["order_id"][(m["type"] == 1) & (ts > t_arrive)])
    dirn = m["direction"].to_numpy()
    typ_all = m["type"].to_numpy()
    rows = np.flatnonzero((ts > t_arrive) & (((dirn == side) & (typ_all <= 5))
                                            | ((dirn == -side) & (typ_all == 1))))
    price = (m["price"].to_numpy() * 10_000).round().astype(np.int64)
    fill = None
    for r in rows:
        t, typ, o, size, p = int(ts[r]), int(typ_all[r]), m["order_id"].iat[r], \
            float(m["size"].iat[r]), price[r]
        if dirn[r] == -side:  # a new order of the other side at or through our price rests:
            if (side == 1 and p <= p4) or (side == -1 and p >= p4):  # it crossed us (in full)
                fill = (t, qty, r)
                break
            continue
        through = (side == 1 and p < p4) or (side == -1 and p > p4)
        if p == p4 and typ in (2, 3, 4):
            if o in before or o not in after:  # ahead of us
                q_ahead -= size
                if typ == 4 and q_ahead < 0:
                    fill = (t, min(qty, -q_ahead), r)
                    break
                q_ahead = max(q_ahead, 0.0)
            elif typ == 4 and size > q_ahead:
                fill = (t, min(qty, size - q_ahead), r)
                break
        elif p == p4 and typ == 5 and q_ahead <= 0:
            fill = (t, min(qty, size), r)
            break
        elif typ in (4, 5) and through:
            fill = (t, min(qty, size), r)
            break
    if fill is None:
        return None
    # visible: on every orderbook row while we waited, our price is inside the listed levels
    # (or better than the best: an empty level at the top)
    seg = ob[r0:fill[2], col::4]
    full = np.all(np.abs(seg) < 9_999_999_999, axis=1)
    worst = seg[:, n_lv - 1]
    out = (side == 1) & full & (p4 < worst) | (side == -1) & full & (p4 > worst)
    return fill[0], fill[1], q0, not bool(np.any(out))


def _crosses(d, t_arrive, px, side):
    ts = d.messages["ts"].astype("int64").to_numpy()
    r0 = int(np.flatnonzero(ts <= t_arrive)[-1])
    opp = d.orderbook[r0, 0 if side == 1 else 2]
    p4 = int(round(px * 10_000))
    return abs(opp) < 9_999_999_999 and ((side == 1 and p4 >= opp) or (side == -1 and p4 <= opp))


def _cases(d, n):
    """Join times and prices: 1 ns before the submission of an order that is later executed, at
    its price and side (that order is behind ours), and 50 ms before each execution at its price
    (often with orders ahead)."""
    m = d.messages
    ts = m["ts"].astype("int64").to_numpy()
    sub = {o: int(ts[i]) for i, (o, t) in enumerate(zip(m["order_id"], m["type"], strict=True)) if t == 1}
    out = []
    for r in np.flatnonzero(m["type"].to_numpy() == 4)[:n]:
        o, px, side = m["order_id"].iat[r], float(m["price"].iat[r]), int(m["direction"].iat[r])
        if o in sub:
            out.append((sub[o] - 1, px, side))
        out.append((int(ts[r]) - 50 * MS, px, side))
    return out


@pytest.mark.parametrize("name, n_cases", [
    ("AAPL_2012-06-21_34200000_57600000_message_10.csv", 98),
    ("amzn_l1_full_day/AMZN_2012-06-21_34200000_57600000_message_1.csv", 10),
])
def test_lobster_fifo_fill_equals_raw_message_reference(data_dir, name, n_cases):
    d = read_lobster(data_dir / "lobster" / name)
    qty = 100.0
    checked = ahead_cases = 0
    for t_arr, px, side in _cases(d, n_cases):
        if _crosses(d, t_arr, px, side):
            continue  # a post-only order that would cross is rejected (not a queue case)
        ref = reference_fill(d, t_arr, px, side, qty)
        res = run(d.events, ScriptedOrders([(t_arr, side, px, qty)]), queue_model="fifo",
                  tick_size=0.01, lot_size=1.0, interval=1000 * MS, start=t_arr - 1000 * MS)
        if ref is None or not ref[3]:
            continue
        f = res.fills
        assert len(f) >= 1, (t_arr, px, side, ref)
        assert (int(f["ts"].iat[0]), float(f["qty"].iat[0])) == (ref[0], ref[1]), \
            (t_arr, px, side, ref)
        checked += 1
        ahead_cases += ref[2] > 0
    # enough cases, many with orders ahead that had to be consumed first (AAPL: 180 and 81;
    # AMZN's level-1 file hides a level as soon as a better price arrives: 6 and 2)
    assert checked >= (150 if "AAPL" in name else 5)
    assert ahead_cases >= (60 if "AAPL" in name else 2)
