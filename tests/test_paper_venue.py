"""The paper venue on hand-built books where the right fills are known, and a paper session on a
synthetic stream (accounting identities, no market impact, journal)."""

from __future__ import annotations

import numpy as np

from mmlab.book import BookState
from mmlab.data import (
    BUY_EVENT,
    DEPTH_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)
from mmlab.execution import Order, PaperVenue, Side, TimeInForce
from mmlab.quoting import Quote

F = EXCH_EVENT | LOCAL_EVENT
MS = 1_000_000


def ev(rows):
    """rows: (kind, side, px, qty, ts)."""
    out = np.zeros(len(rows), EVENT_DTYPE)
    for i, (kind, side, px, qty, ts) in enumerate(rows):
        flag = BUY_EVENT if side > 0 else SELL_EVENT
        out[i] = (kind | F | flag, ts, ts, px, qty, 0, i, 0.0)
    return out


class Recorder:
    """Stands in for the order manager: drives the real Order state machine, records answers."""

    def __init__(self):
        self.calls, self.orders = [], {}

    def add(self, o):
        self.orders[o.order_id] = o
        o.submit(0)
        return o

    def __getattr__(self, name):
        if not name.startswith("on_"):
            raise AttributeError(name)

        def record(oid, *args, **kw):
            self.calls.append((name, oid, *args, *kw.values()))
        return record


def setup(entry=0, response=0):
    book = BookState(tick_size=0.1)
    book.apply(ev([(DEPTH_EVENT, +1, 100.0, 5.0, 0), (DEPTH_EVENT, -1, 100.2, 5.0, 0)]))
    rec = Recorder()
    venue = PaperVenue(book, entry, response, manager=rec)
    return book, venue, rec


def market(book, venue, rows, t):
    batch = ev(rows)
    book.apply(batch, check_crossed=False)
    venue.on_market(batch, t)
    venue.advance(t)


def test_queue_position_fills_only_after_the_queue_ahead_trades():
    book, venue, rec = setup()
    o = rec.add(Order(1, Side.BUY, qty=1.0, price=100.0, tif=TimeInForce.GTX))
    venue.submit(o, 0)
    venue.advance(0)
    assert rec.calls == [("on_ack", 1, 0)]
    assert venue.resting[1].ahead == 5.0  # behind the 5 displayed at 100.0
    market(book, venue, [(TRADE_EVENT, -1, 100.0, 3.0, 1 * MS)], 1 * MS)
    assert venue.resting[1].ahead == 2.0 and len(rec.calls) == 1
    market(book, venue, [(TRADE_EVENT, -1, 100.0, 3.0, 2 * MS)], 2 * MS)
    assert rec.calls[-1] == ("on_fill", 1, 1.0, 100.0, 2 * MS, True)  # 3 - 2 ahead = 1 excess


def test_trade_through_and_opposite_cross_fill_in_full():
    book, venue, rec = setup()
    a = rec.add(Order(1, Side.BUY, qty=2.0, price=100.0))
    b = rec.add(Order(2, Side.SELL, qty=1.5, price=100.2))
    venue.submit(a, 0)
    venue.submit(b, 0)
    venue.advance(0)
    market(book, venue, [(TRADE_EVENT, -1, 99.9, 0.1, MS)], MS)       # prints through our bid
    assert ("on_fill", 1, 2.0, 100.0, MS, True) in rec.calls
    market(book, venue, [(DEPTH_EVENT, +1, 100.2, 1.0, 2 * MS)], 2 * MS)  # bid reaches our ask
    assert ("on_fill", 2, 1.5, 100.2, 2 * MS, True) in rec.calls
    assert venue.resting == {}


def test_post_only_reject_taker_fill_and_ioc_expiry():
    book, venue, rec = setup()
    venue.submit(rec.add(Order(1, Side.BUY, qty=1.0, price=100.2, tif=TimeInForce.GTX)), 0)
    venue.submit(rec.add(Order(2, Side.BUY, qty=1.0, price=100.3)), 0)
    venue.submit(rec.add(Order(3, Side.SELL, qty=1.0, price=100.5, tif=TimeInForce.IOC)), 0)
    venue.advance(0)
    assert ("on_reject", 1, 0, "post-only order would cross") in rec.calls
    assert ("on_fill", 2, 1.0, 100.2, 0, False) in rec.calls  # taker at the best ask
    assert ("on_expire", 3, 0, "IOC/FOK: nothing to take") in rec.calls


def test_entry_and_response_latency():
    book, venue, rec = setup(entry=10 * MS, response=3 * MS)
    venue.submit(rec.add(Order(1, Side.BUY, qty=1.0, price=100.0)), 0)
    # a trade through our price before the order reaches the exchange does not fill it
    market(book, venue, [(TRADE_EVENT, -1, 99.9, 1.0, 5 * MS)], 5 * MS)
    assert rec.calls == [] and venue.resting == {}
    market(book, venue, [(DEPTH_EVENT, +1, 100.0, 5.0, 10 * MS)], 10 * MS)
    assert 1 in venue.resting and rec.calls == []  # acked at 10 ms, heard at 13 ms
    venue.advance(13 * MS)
    assert rec.calls == [("on_ack", 1, 13 * MS)]


def test_cancel_that_arrives_after_the_fill_is_rejected():
    book, venue, rec = setup(entry=5 * MS)
    o = rec.add(Order(1, Side.BUY, qty=1.0, price=100.0))
    venue.submit(o, 0)
    venue.advance(5 * MS)
    venue.cancel(o, 6 * MS)                                              # reaches it at 11 ms
    market(book, venue, [(TRADE_EVENT, -1, 99.9, 1.0, 8 * MS)], 8 * MS)  # filled at 8 ms
    venue.advance(11 * MS)
    kinds = [c[0] for c in rec.calls]
    assert kinds == ["on_ack", "on_fill", "on_cancel_reject"]


def test_modify_keeps_queue_only_for_a_same_price_size_reduction():
    book, venue, rec = setup()
    o = rec.add(Order(1, Side.BUY, qty=2.0, price=100.0))
    venue.submit(o, 0)
    venue.advance(0)
    market(book, venue, [(TRADE_EVENT, -1, 100.0, 4.0, MS)], MS)
    assert venue.resting[1].ahead == 1.0
    o.ack(0)
    venue.modify(o, 100.0, 1.0, 2 * MS)
    venue.advance(2 * MS)
    assert venue.resting[1].ahead == 1.0 and venue.resting[1].leaves == 1.0
    venue.modify(o, 99.9, 1.0, 3 * MS)
    venue.advance(3 * MS)
    assert venue.resting[1].price == 99.9 and venue.resting[1].ahead == 0.0  # empty level


class FixedSpread:
    def __init__(self, half=0.02, size=1.0):
        self.half, self.size = half, size

    def quote(self, s):
        return Quote(s.mid - self.half, s.mid + self.half, self.size, self.size)


