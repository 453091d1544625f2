"""Property tests: random valid L2/L3 event streams against a plain dict model of the book.

Each example is a random list of actions turned into a *valid* event stream (bids below a fixed
split price, asks at or above it; cancels/fills only of what rests), cut into vendor rows. The
properties: the book is never crossed nor negative, equals the dict model after every row, the
numba kernel equals its Python twin, and applying in chunks equals one pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mmlab.book import BookState, rebuild
from mmlab.data import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    FILL_EVENT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)

TICK = 0.25
SPLIT = 400  # bids at ticks < SPLIT, asks at ticks >= SPLIT
LEVELS = 4
FLAG = (BUY_EVENT, SELL_EVENT)


class Model:
    """The documented semantics in plain Python: per side {tick: [anonymous qty, [[id, qty]...]]}."""

    def __init__(self):
        self.side = ({}, {})
        self.where = {}  # id -> (side, tick)

    def total(self, s, t):
        lv = self.side[s].get(t)
        return 0 if lv is None else lv[0] + sum(q for _, q in lv[1])

    def wipe(self, s, t):
        for oid, _ in self.side[s].pop(t, [0, []])[1]:
            del self.where[oid]

    def depth(self, s, t, q):
        if q == 0:
            self.wipe(s, t)
            return
        lv = self.side[s].setdefault(t, [0, []])
        known = sum(x for _, x in lv[1])
        while known > q:  # the newest known orders shrink first
            oid, x = lv[1][-1]
            if x <= known - q:
                lv[1].pop()
                del self.where[oid]
                known -= x
            else:
                lv[1][-1][1] = x - (known - q)
                known = q
        lv[0] = q - known

    def clear(self, s, bound):
        for t in [t for t in self.side[s] if (t >= bound if s == 0 else t <= bound)]:
            self.wipe(s, t)

    def add(self, s, t, q, oid):
        self.side[s].setdefault(t, [0, []])[1].append([oid, q])
        self.where[oid] = (s, t)

    def reduce(self, oid, q):  # fill / cancel of q from a known order
        s, t = self.where[oid]
        lv = self.side[s][t]
        k = next(i for i, (o, _) in enumerate(lv[1]) if o == oid)
        lv[1][k][1] -= q
        if lv[1][k][1] == 0:
            lv[1].pop(k)
            del self.where[oid]
        if self.total(s, t) == 0:
            self.wipe(s, t)

    def modify(self, oid, t_new, q):
        s, t = self.where[oid]
        lv = self.side[s][t]
        k = next(i for i, (o, _) in enumerate(lv[1]) if o == oid)
        if t_new == t and q <= lv[1][k][1]:
            lv[1][k][1] = q
            return
        self.reduce(oid, lv[1][k][1])
        self.add(s, t_new, q, oid)

    def anon_take(self, s, t, q):
        self.side[s][t][0] -= q
        if self.total(s, t) == 0:
            self.wipe(s, t)

    def top(self):
        row = []
        tops = []
        for s in (1, 0):
            ts = sorted(self.side[s], reverse=(s == 0))[:LEVELS]
            tops.append([(t * TICK, float(self.total(s, t))) for t in ts])
        ask, bid = tops
        for k in range(LEVELS):
            for lv in (ask, bid):
                row += list(lv[k]) if k < len(lv) else [np.nan, 0.0]
        return row


action = st.tuples(
    st.sampled_from([0, 1, 1, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9]),  # what (adds, modifies likelier)
    st.integers(0, 1),  # side
    st.integers(0, 5),  # distance from the split, in ticks
    st.integers(0, 6),  # quantity
    st.integers(0, 10_000),  # which order / which row split
)


def build(actions):
    """A valid event stream and the model's top of book after each row."""
    m = Model()
    rows = []  # (kind, side flag, tick, qty, oid, ival)
    expected = []
    ival = 0
    in_row = 0  # events in the current row
    next_id = 1

    def emit(*r):
        rows.append((*r, ival))

    for what, s, dist, q, pick in actions:
        t = SPLIT - 1 - dist if s == 0 else SPLIT + dist
        live = sorted(m.where)
        n_before = len(rows)
        if what == 0:
            emit(DEPTH_EVENT, FLAG[s], t, q, 0)
            m.depth(s, t, q)
        elif what == 1 and q > 0:
            emit(ADD_ORDER_EVENT, FLAG[s], t, q, next_id)
            m.add(s, t, q, next_id)
            next_id += 1
        elif what == 2 and live:
            oid = live[pick % len(live)]
            so, to = m.where[oid]
            emit(CANCEL_ORDER_EVENT, FLAG[so], to, 0, oid)
            m.reduce(oid, next(x for o, x in m.side[so][to][1] if o == oid))
        elif what == 3 and live:
            oid = live[pick % len(live)]
            so, to = m.where[oid]
            have = next(x for o, x in m.side[so][to][1] if o == oid)
            f = 1 + pick % have
            emit(TRADE_EVENT, FLAG[1 - so], to, f, oid)
            emit(FILL_EVENT, FLAG[so], to, f, oid)
            m.reduce(oid, f)
        elif what == 4 and live and q > 0:
            oid = live[pick % len(live)]
            so, to = m.where[oid]
            tn = to if pick % 2 else (SPLIT - 1 - dist if so == 0 else SPLIT + dist)
            emit(MODIFY_ORDER_EVENT, FLAG[so], tn, q, oid)
            m.modify(oid, tn, q)
        elif what == 5 and m.side[s]:
            tt = sorted(m.side[s])[pick % len(m.side[s])]
            anon = m.side[s][tt][0]
            if anon > 0:
                take = 1 + pick % anon
                kind = FILL_EVENT if pick % 2 else CANCEL_ORDER_EVENT
                emit(kind, FLAG[s], tt, take, 10**9 + pick)  # an id never added
                m.anon_take(s, tt, take)
        elif what == 6:
            full = pick % 3 == 0
            emit(DEPTH_CLEAR_EVENT, FLAG[s], 0 if full else t, 0, 0)
            m.clear(s, (0 if s == 0 else 10**9) if full else t)
        elif what == 7:
            emit(DEPTH_SNAPSHOT_EVENT, FLAG[s], t, q, 0)
            m.depth(s, t, q)
        elif what == 8:
            emit(TRADE_EVENT, FLAG[s], t, q + 1, 0)
        elif in_row:  # 9: the vendor row ends here
            expected.append(m.top())
            ival += 1
            in_row = 0
        in_row += len(rows) - n_before
    if in_row:
        expected.append(m.top())
    ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, (kind, flag, t, q, oid, r) in enumerate(rows):
        ev[i]["ev"] = kind | flag | EXCH_EVENT | LOCAL_EVENT
        ev[i]["px"] = t * TICK
        ev[i]["qty"] = q
        ev[i]["order_id"] = oid
        ev[i]["ival"] = r
        ev[i]["exch_ts"] = ev[i]["local_ts"] = i
    return ev, expected, m


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(st.lists(action, max_size=150))
# two orders at one price, the first shrinks in place (keeps priority), a depth update trims
@example([(1, 0, 0, 3, 0), (1, 0, 0, 3, 0), (4, 0, 0, 2, 0), (9, 0, 0, 0, 0), (0, 0, 0, 4, 0)])
def test_random_streams_match_the_model_never_crossed_nor_negative(actions):
    ev, expected, model = build(actions)
    df = rebuild(ev, LEVELS, tick_size=TICK, per="row", check_crossed=True)
    assert len(df) == len(expected)
    book = df.drop(columns=["src_row", "exch_ts"]).to_numpy()
    np.testing.assert_array_equal(book, np.array(expected).reshape(book.shape))
    qty = book[:, 1::2]
    assert (qty >= 0).all()
    ask1, bid1 = book[:, 0], book[:, 2]
    both = ~np.isnan(ask1) & ~np.isnan(bid1)
    assert (bid1[both] < ask1[both]).all()
    for k in range(1, LEVELS):  # prices strictly ordered away from the touch
        a0, a1 = book[:, 4 * (k - 1)], book[:, 4 * k]
        b0, b1 = book[:, 4 * (k - 1) + 2], book[:, 4 * k + 2]
        assert (a1[~np.isnan(a1)] > a0[~np.isnan(a1)]).all()
        assert (b1[~np.isnan(b1)] < b0[~np.isnan(b1)]).all()
    # L3: every resting order, its remaining quantity and the quantity queued ahead of it
    final = BookState(tick_size=TICK).apply(ev)
    for oid, (s, t) in model.where.items():
        anon, queue = model.side[s][t]
        k = next(i for i, (o, _) in enumerate(queue) if o == oid)
        assert final.order(oid) == {"side": ("bid", "ask")[s], "px": t * TICK,
                                    "qty": float(queue[k][1])}
        assert final.queue_ahead(oid) == anon + sum(q for _, q in queue[:k])
    assert sum(final.order(int(o)) is not None for o in set(ev["order_id"].tolist())) == len(
        model.where
    )


@SETTINGS
@given(st.lists(action, max_size=150), st.integers(1, 5))
def test_numba_kernel_equals_python_twin_and_chunks_equal_one_pass(actions, n_chunks):
    ev, _, _ = build(actions)
    a = rebuild(ev, LEVELS, tick_size=TICK, engine="numba")
    b = rebuild(ev, LEVELS, tick_size=TICK, engine="python")
    pd.testing.assert_frame_equal(a, b)
    one = BookState(tick_size=TICK).apply(ev)
    twin = BookState(tick_size=TICK, engine="python").apply(ev)
    for attr in ("lvl_q", "lvl_i", "ord_i", "ord_q", "ord_id", "hkey", "hval", "meta"):
        np.testing.assert_array_equal(getattr(one, attr), getattr(twin, attr), err_msg=attr)
    parts = BookState(tick_size=TICK)
    for chunk in np.array_split(ev, n_chunks):
        parts.apply(chunk)
    pd.testing.assert_series_equal(one.top(LEVELS), parts.top(LEVELS))
    for oid in set(ev["order_id"].tolist()):
        assert one.order(oid) == parts.order(oid)
        qa, qb = one.queue_ahead(oid), parts.queue_ahead(oid)
        assert (np.isnan(qa) and np.isnan(qb)) or qa == qb
