"""The order state machine of the one core, seen on the wire (issue 10; what
``tests/test_order_manager.py`` and ``tests/test_paper_venue.py`` checked on the retired
``OrderManager`` / ``PaperVenue``).

The local side runs alone (:class:`mmlab.backtest.LoopbackDriver`) against the core's exchange
side behind the venue-adapter interface (:class:`mmlab.backtest.SimulatedVenue`), here wrapped
to record every request and response record, so each race is visible as the records that
crossed: a fill during a cancel, a cancel reaching an order already filled
(``cancel_rejected``), a post-only reject, a late acknowledgement (overtaken by the order's
fill), a cancel of an order not yet acknowledged, and the hard limit counting position +
working + in-flight orders. The queue position, trade-through, book-cross, post-only and
latency cases of the exchange side are in ``tests/test_queue_models.py``.

Every expected record below is worked out by hand from the scenario's times: orders are sent
at strategy steps (every 100 ms from ``T0``), reach the venue ``entry_latency`` later, and
their answers reach the local side ``response_latency`` after the venue acted.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmlab.backtest import GridStrategy, LoopbackDriver, ScriptedOrders, SimulatedVenue, run
from mmlab.data import (
    BUY_EVENT,
    DEPTH_EVENT,
    EVENT_DTYPE,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
)

MS = 1_000_000
T0 = 1_700_000_000_000_000_000
BOTH = EXCH_EVENT | LOCAL_EVENT
NEW, CANCEL = 1, 2
ACK, FILL, CANCELLED, REJECTED, CANCEL_REJECTED = 1, 2, 3, 4, 5
KW = dict(tick_size=0.1, lot_size=1.0, interval=100 * MS, start=T0, queue_model="risk_averse",
          record_every=1, roi=(90.0, 110.0))


def stream(extra=(), until_ms=1000):
    """Bid 99.9 / ask 100.1 (5 each) refreshed every 100 ms up to ``until_ms``, plus ``extra``
    rows ``(kind, side, t_ms, px, qty)`` (side +1 bid / buy aggressor, -1 ask / sell)."""
    rows = []
    for t in range(0, until_ms + 1, 100):
        rows += [(DEPTH_EVENT, 1, t, 99.9, 5.0), (DEPTH_EVENT, -1, t, 100.1, 5.0)]
    rows += list(extra)
    rows.sort(key=lambda r: r[2])
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (kind, side, t, px, qty) in enumerate(rows):
        ts = T0 + t * MS
        ev[i] = (kind | BOTH | (BUY_EVENT if side > 0 else SELL_EVENT), ts, ts, px, qty, 0, i, 0.0)
    return ev


class RecordingVenue(SimulatedVenue):
    """The core's exchange side, keeping every record that crosses the wire; ``ack_delay``
    holds each acknowledgement back that long (a venue whose acks arrive late)."""

    def __init__(self, strategy, *, ack_delay=0, **kw):
        super().__init__(strategy, **kw)
        self.ack_delay = ack_delay
        self.sent: list[tuple] = []
        self.heard: list[tuple] = []

    def submit(self, requests):
        self.sent += [(int(r["ts"]) - T0, int(r["kind"]), int(r["order_id"]))
                      for r in requests]
        super().submit(requests)

    def responses(self):
        out = super().responses()
        out["ts"][out["kind"] == ACK] += self.ack_delay
        self.heard += [(int(r["ts"]) - T0, int(r["kind"]), int(r["order_id"]), float(r["qty"]))
                       for r in out]
        return out


def session(strategy, ev, *, ack_delay=0, **kw):
    """A loopback session over ``ev``; returns (driver, venue). Not yet finished."""
    kw = dict(KW, **kw)
    end = int(ev["local_ts"].max())
    venue = RecordingVenue(strategy, session_end=end, ack_delay=ack_delay, **kw)
    d = LoopbackDriver(strategy, session_end=end, venue=venue, **kw)
    return d, venue


def feed_until(d, ev, t_ms):
    """Feed the rows stamped at or before ``T0 + t_ms`` (ms) not fed yet, and say that no row
    to come is stamped before: the session acts up to ``t_ms`` included."""
    i = d.local.n_events
    j = int(np.searchsorted(ev["local_ts"], T0 + t_ms * MS, side="right"))
    if j > i:
        d.feed(ev[i:j].copy())
    d.advance_to(T0 + t_ms * MS + 1)


def finish(d, ev):
    """Feed what is left of ``ev`` and end the session: the result."""
    i = d.local.n_events
    if i < len(ev):
        d.feed(ev[i:].copy())
    return d.finish()


def ms(t):
    return t * MS


@pytest.mark.parametrize("fill_ms", [280, 320])
def test_a_cancel_that_meets_a_fill_is_cancel_rejected(fill_ms):
    """Buy 1 @ 100.0 sent at 100 ms (reaches the venue at 150 ms); its cancel is sent at 300 ms
    (reaches it at 350 ms). A sell prints through the bid at ``fill_ms``: at 280 ms the order
    is filled before the local side (30 ms response latency: it hears at 310 ms) sends its
    cancel; at 320 ms it fills while the cancel is in flight. Both ways the venue answers the
    cancel ``cancel_rejected``, the fill counts, and the late answer resurrects nothing."""
    script = ScriptedOrders([(T0 + ms(100), 1, 100.0, 1.0, T0 + ms(300))])
    ev = stream([(TRADE_EVENT, -1, fill_ms, 99.9, 1.0)])
    d, v = session(script, ev, entry_latency=ms(50), response_latency=ms(30))
    feed_until(d, ev, 300)
    s = d.local.snapshot()
    if fill_ms == 280:  # filled at the venue, not heard of yet: the local side cancels
        assert s["our_bids"] == [(100.0, 1.0, "pending_cancel")], s["our_bids"]
        assert s["local_position"] == 0.0
    else:  # the cancel is on its way
        assert s["our_bids"] == [(100.0, 1.0, "pending_cancel")]
    res = finish(d, ev)
    assert v.sent == [(150 * MS, NEW, 1), (350 * MS, CANCEL, 1)]
    assert v.heard == [(180 * MS, ACK, 1, 0.0), (ms(fill_ms + 30), FILL, 1, 1.0),
                       (380 * MS, CANCEL_REJECTED, 1, 0.0)]
    assert list(res.fills["price"]) == [100.0] and list(res.fills["ts"]) == [T0 + ms(fill_ms)]
    assert res.counters["position"] == 1.0 and res.counters["cancelled"] == 0
    assert res.steps["local_position"].iloc[-1] == 1.0
    assert d.local.snapshot()["our_bids"] == []


def test_a_cancel_that_arrives_first_cancels():
    script = ScriptedOrders([(T0 + ms(100), 1, 100.0, 1.0, T0 + ms(300))])
    ev = stream([(TRADE_EVENT, -1, 400, 99.9, 1.0)])  # prints through after the cancel
    d, v = session(script, ev, entry_latency=ms(50), response_latency=ms(30))
    res = finish(d, ev)
    assert v.heard == [(180 * MS, ACK, 1, 0.0), (380 * MS, CANCELLED, 1, 0.0)]
    assert res.fills.empty and res.counters["cancelled"] == 1
    assert res.counters["position"] == 0.0


def test_a_post_only_reject_frees_the_order_and_its_exposure():
    """Buy 1 @ 100.1 post-only meets the ask at 100.1: rejected. With a limit of 1, the second
    order (buy 1 @ 99.5 at 300 ms) can only go out once the reject is heard (it no longer
    counts as in flight)."""
    script = ScriptedOrders([(T0 + ms(100), 1, 100.1, 1.0), (T0 + ms(200), 1, 99.5, 1.0),
                             (T0 + ms(300), 1, 99.4, 1.0)])
    ev = stream()
    # the reject is heard at 100 + 20 + 150 = 270 ms: the 200 ms order is held by the limit
    d, v = session(script, ev, entry_latency=ms(20), response_latency=ms(150),
                   max_position=1.0, post_only=True)
    res = finish(d, ev)
    assert v.sent[:2] == [(120 * MS, NEW, 1), (320 * MS, NEW, 2)]
    assert v.heard[0] == (270 * MS, REJECTED, 1, 0.0)
    assert res.counters["rejected"] == 1 and res.counters["orders_sent"] == 2
    assert d.local.snapshot()["our_bids"] == [(99.4, 1.0, "working")]
    # not post-only: the same order takes the ask as a taker, in full
    d2, v2 = session(script, ev, entry_latency=ms(20), response_latency=ms(150),
                     max_position=1.0, post_only=False, taker_fee=0.001)
    res2 = finish(d2, ev)
    assert v2.heard[0] == (270 * MS, FILL, 1, 1.0)
    f = res2.fills.iloc[0]
    assert not bool(f["maker"]) and f["price"] == pytest.approx(100.1)
    assert f["fee"] == pytest.approx(0.001 * 100.1, rel=1e-12)
    assert res2.counters["orders_sent"] == 1  # position 1 = the limit: nothing more


@pytest.mark.parametrize("qty, left", [(1.0, []), (2.0, [(100.0, 1.0, "working")])])
def test_a_late_ack_overtaken_by_the_fill(qty, left):
    """The venue acknowledges at 100 ms but its ack reaches the local side 150 ms late (250
    ms); a sell of 1 prints through the bid at 150 ms and its fill is heard first. In full
    (qty 1) the order is done when the ack arrives: the ack is ignored; in part (qty 2) it is
    working with 1 left, and the late ack changes nothing."""
    script = ScriptedOrders([(T0 + ms(100), 1, 100.0, qty)])
    ev = stream([(TRADE_EVENT, -1, 150, 99.9, 1.0)])
    d, v = session(script, ev, ack_delay=ms(150), partial_fills=True)
    feed_until(d, ev, 200)
    s = d.local.snapshot()
    assert s["local_position"] == 1.0 and s["our_bids"] == left
    res = finish(d, ev)
    assert v.heard == [(250 * MS, ACK, 1, 0.0), (150 * MS, FILL, 1, 1.0)]  # as handed over
    assert d.local.snapshot()["our_bids"] == left
    assert res.counters["position"] == 1.0 and res.steps["local_position"].iloc[-1] == 1.0


def test_an_unacknowledged_order_is_cancelled_once_acknowledged():
    """Buy 1 @ 99.5 at 100 ms, cancel wanted at 200 ms; the ack arrives late (250 ms): an order
    still pending its ack is not cancellable yet, so the cancel goes out at the next step after
    the ack, 300 ms."""
    script = ScriptedOrders([(T0 + ms(100), 1, 99.5, 1.0, T0 + ms(200))])
    ev = stream()
    d, v = session(script, ev, ack_delay=ms(150))
    res = finish(d, ev)
    assert v.sent == [(100 * MS, NEW, 1), (300 * MS, CANCEL, 1)]
    assert v.heard == [(250 * MS, ACK, 1, 0.0), (300 * MS, CANCELLED, 1, 0.0)]
    assert res.counters["cancelled"] == 1 and d.local.snapshot()["our_bids"] == []


def test_the_hard_limit_counts_position_working_and_in_flight():
    """Limit 3. At 100 ms: buy 2 (in flight: 50 ms entry latency) then buy 2 (2 + 2 > 3: held)
    and buy 1 (2 + 1 = 3: sent). At 200 ms both are working: buy 1 held. At 300 ms a sell
    prints through 99.5 and fills the 2 @ 99.5; the position (2) + the working 1 = 3: buy 1 at
    400 ms still held. A sell order (the other side) goes out whatever the buys hold."""
    script = ScriptedOrders([
        (T0 + ms(100), 1, 99.5, 2.0), (T0 + ms(100), 1, 99.4, 2.0), (T0 + ms(100), 1, 99.3, 1.0),
        (T0 + ms(200), 1, 99.2, 1.0), (T0 + ms(400), 1, 99.1, 1.0),
        (T0 + ms(400), -1, 100.5, 3.0)])
    ev = stream([(TRADE_EVENT, -1, 300, 99.4, 2.0)])
    d, v = session(script, ev, entry_latency=ms(50), max_position=3.0)
    res = finish(d, ev)
    new = [(t, oid) for t, kind, oid in v.sent if kind == NEW]
    assert new == [(150 * MS, 1), (150 * MS, 2), (450 * MS, 3)]
    assert res.counters["orders_sent"] == 3
    assert list(res.fills["qty"]) == [2.0] and list(res.fills["price"]) == [99.5]
    s = d.local.snapshot()
    assert s["local_position"] == 2.0
    assert s["our_bids"] == [(99.3, 1.0, "working")]
    assert s["our_asks"] == [(100.5, 3.0, "working")]


def test_quotes_on_the_same_ticks_send_nothing_more():
    """A grid quoting 0.05 around a mid that never moves: one bid and one ask go out at the
    first decision, and the following nine decisions keep them (no churn)."""
    ev = stream()
    strat = GridStrategy(half_spread=0.05, order_qty=1.0)
    d, v = session(strat, ev, max_position=5.0)
    res = finish(d, ev)
    assert [(kind, oid) for _, kind, oid in v.sent] == [(NEW, 1), (NEW, 2)]
    assert res.counters["orders_sent"] == 2
    q = res.steps[["quote_bid", "quote_ask"]].dropna()
    assert len(q) >= 9
    np.testing.assert_allclose(q["quote_bid"], 99.9, rtol=1e-12)
    np.testing.assert_allclose(q["quote_ask"], 100.1, rtol=1e-12)
    # the merged backtest sends the same
    assert run(ev, strat, max_position=5.0, **KW).counters["orders_sent"] == 2
