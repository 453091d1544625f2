"""Order manager: reconciliation without churn, rounding, validation, the risk ladder, halts,
the kill switch, fills, and the hard-limit property over random order flows."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import QuoteValidationError
from mmlab.execution import DesiredOrder, Ledger, OrderManager, OrderStatus, RefreshRules
from mmlab.quoting import Quote
from mmlab.risk import DrawdownBreaker, OrderThrottle, RiskLimits, RiskManager
from mmlab.runtime import FillEvent, OrderEvent, RiskEvent

S = 1_000_000_000


class RecordingVenue:
    """A venue test double: records requests; the test answers them through the manager."""

    def __init__(self):
        self.requests = []
        self.log = []  # (time, kind, side, price, tif) of every order-carrying request

    def submit(self, order, now):
        self.requests.append(("submit", order.order_id, order.side.value, order.price, order.qty))
        self.log.append((now, "submit", order.side.value, order.price, order.tif.value))

    def modify(self, order, price, qty, now):
        self.requests.append(("modify", order.order_id, order.side.value, price, qty))
        self.log.append((now, "modify", order.side.value, price, order.tif.value))

    def cancel(self, order, now):
        self.requests.append(("cancel", order.order_id, order.side.value, order.price, order.qty))


def make(max_position=10.0, **kw):
    venue = RecordingVenue()
    risk = RiskManager(RiskLimits(max_position=max_position), **kw.pop("risk_kw", {}))
    om = OrderManager(venue, risk, Ledger(), symbol="TEST", tick_size=0.1, lot_size=0.001, **kw)
    events = []
    om.bus.subscribe(events.append)
    return om, venue, events


def ack_all(om, ts):
    for o in om.live_orders():
        if not o.acked and o.filled_qty == 0:
            om.on_ack(o.order_id, ts)


def test_places_rounded_quotes_and_does_not_churn():
    om, venue, events = make()
    om.update(Quote(99.96, 100.04, 1.0, 1.0), now=0, mid=100.0)
    # bids round down, asks round up to the 0.1 tick
    assert venue.requests == [("submit", 1, 1, pytest.approx(99.9), 1.0),
                              ("submit", 2, -1, pytest.approx(100.1), 1.0)]
    ack_all(om, 1)
    venue.requests.clear()
    om.update(Quote(99.96, 100.04, 1.0, 1.0), now=S, mid=100.0)
    om.update(Quote(99.95, 100.05, 1.0, 1.0), now=2 * S, mid=100.0)  # same ticks
    assert venue.requests == []
    assert any(isinstance(e, OrderEvent) and e.kind == "ack" for e in events)


def test_move_beyond_threshold_modifies_and_age_refreshes():
    om, venue, _ = make(refresh=RefreshRules(max_age_ns=5 * S, move_threshold=0.001))
    om.update(Quote(99.9, 100.1, 1.0, 1.0), now=0, mid=100.0)
    ack_all(om, 1)
    venue.requests.clear()
    om.update(Quote(99.5, 100.5, 1.0, 1.0), now=S, mid=100.0)  # 0.4 % away: re-quote
    assert [r[0] for r in venue.requests] == ["modify", "modify"]
    for o in om.live_orders():
        om.on_modify_ack(o.order_id, 2)
    venue.requests.clear()
    om.update(Quote(99.5, 100.5, 1.0, 1.0), now=S + 2, mid=100.0)
    assert venue.requests == []
    om.update(Quote(99.5, 100.5, 1.0, 1.0), now=10 * S, mid=100.0)  # older than 5 s
    assert [r[0] for r in venue.requests] == ["modify", "modify"]


def test_unacked_order_is_cancel_replaced():
    om, venue, _ = make()
    om.update(Quote(99.9, 100.1, 1.0, 1.0), now=0, mid=100.0)
    venue.requests.clear()
    om.update(Quote(99.0, 100.1, 1.0, 1.0), now=1, mid=100.0)
    assert [r[0] for r in venue.requests] == ["cancel", "submit"]


def test_validation_errors_send_nothing():
    om, venue, _ = make()
    with pytest.raises(QuoteValidationError, match="crossed"):
        om.update(Quote(100.2, 100.1, 1.0, 1.0), now=0, mid=100.0)
    with pytest.raises(QuoteValidationError, match="size"):
        om.update([DesiredOrder(+1, 99.0, -1.0)], now=0, mid=100.0)
    with pytest.raises(QuoteValidationError, match="band"):
        om.update(Quote(50.0, 100.1, 1.0, 1.0), now=0, mid=100.0)
    with pytest.raises(QuoteValidationError, match="non-finite"):
        om.update([DesiredOrder(+1, math.nan, 1.0)], now=0, mid=100.0)
    assert venue.requests == []


def test_post_only_never_crosses_the_market():
    om, venue, _ = make()
    om.update(Quote(100.3, 100.6, 1.0, 1.0), now=0, mid=100.25, best_bid=100.2, best_ask=100.3)
    bid = [r for r in venue.requests if r[2] == 1][0]
    assert bid[3] == pytest.approx(100.2)  # one tick behind the best ask


def test_ladder_yellow_shrinks_and_widens_red_is_reduce_only():
    om, venue, _ = make()
    om.ledger.on_fill(+1, 5.0, 100.0, maker=True, mid=100.0)  # long 5 of 10: yellow on the bid
    om.update(Quote(99.9, 100.1, 2.0, 2.0), now=0, mid=100.0)
    bid = [r for r in venue.requests if r[2] == 1][0]
    ask = [r for r in venue.requests if r[2] == -1][0]
    assert bid[4] == pytest.approx(1.5)                 # 2 x (1 - 0.5 x 0.5)
    assert bid[3] == pytest.approx(99.8)                # distance 0.1 x 1.5 = 0.15 -> floor 99.8
    assert ask[4] == pytest.approx(2.0) and ask[3] == pytest.approx(100.1)
    om2, venue2, _ = make()
    om2.ledger.on_fill(+1, 8.0, 100.0, maker=True, mid=100.0)  # red
    om2.update(Quote(99.9, 100.1, 2.0, 2.0), now=0, mid=100.0)
    assert [r[2] for r in venue2.requests] == [-1]


def test_hard_limit_cancels_and_flattens_to_red():
    om, venue, events = make()
    om.update(Quote(99.9, 100.1, 2.0, 2.0), now=0, mid=100.0)
    ack_all(om, 1)
    bid = om.live_orders(+1)[0]
    om.ledger.on_fill(+1, 9.0, 100.0, maker=True, mid=100.0)  # an earlier position of 9
    om.on_fill(bid.order_id, 1.0, 99.9, ts=2)                  # now 10: the hard limit
    venue.requests.clear()
    om.update(Quote(99.9, 100.1, 2.0, 2.0), now=3, mid=100.0, best_bid=99.9, best_ask=100.1)
    kinds = [r[0] for r in venue.requests]
    assert kinds.count("cancel") == 2
    flat = [r for r in venue.requests if r[0] == "submit"]
    assert flat == [("submit", 3, -1, 99.9, pytest.approx(3.0))]  # 10 -> 7 (red threshold)
    assert any(isinstance(e, RiskEvent) and e.kind == "halt" for e in events)


def test_kill_switch_cancels_and_nothing_after():
    om, venue, _ = make()
    om.update(Quote(99.9, 100.1, 1.0, 1.0), now=0, mid=100.0)
    om.kill(now=1, reason="desk")
    assert [r[0] for r in venue.requests[-2:]] == ["cancel", "cancel"]
    venue.requests.clear()
    for t in range(5):
        om.update(Quote(99.9, 100.1, 1.0, 1.0), now=2 + t, mid=100.0)
    assert venue.requests == []


def test_fill_books_ledger_and_breaker_halts():
    om, venue, events = make(risk_kw={"breakers": [DrawdownBreaker(capital=1_000.0)]})
    om.update(Quote(99.9, 100.1, 1.0, 1.0), now=0, mid=100.0)
    ack_all(om, 1)
    bid = om.live_orders(+1)[0]
    om.on_fill(bid.order_id, 1.0, 99.9, ts=2, mid=100.0)
    assert om.position == 1.0 and bid.status is OrderStatus.FILLED
    fe = [e for e in events if isinstance(e, FillEvent)][0]
    assert fe.position == 1.0 and fe.price == 99.9
    ask = om.live_orders(-1)[0]
    om.ledger.mark(50.0)  # the mid collapses: equity -49.85 + 0.5 x 50 = -24.85, drawdown 24.95 > 20
    om.on_fill(ask.order_id, 0.5, 100.1, ts=3)
    assert om.risk.halted
    assert ask.pending_cancel  # cancelled on the trip


def test_throttle_limits_new_orders():
    om, venue, _ = make(risk_kw={"throttle": OrderThrottle(max_orders_per_sec=3, max_in_flight=100)})
    levels = [DesiredOrder(+1, 99.0 - i * 0.1, 1.0) for i in range(5)]
    om.update(levels, now=0, mid=100.0)
    assert len(venue.requests) == 3


# ----------------------------------------------------------------------------- property
actions = st.lists(
    st.one_of(
        st.tuples(st.just("quote"), st.floats(-1.0, 1.0), st.floats(0.1, 2.0),
                  st.floats(0.0, 6.0), st.floats(0.0, 6.0)),
        st.tuples(st.just("ack"), st.integers(0, 50)),
        st.tuples(st.just("fill"), st.integers(0, 50), st.floats(0.05, 1.0)),
        st.tuples(st.just("cancel_ack"), st.integers(0, 50)),
        st.tuples(st.just("modify_ack"), st.integers(0, 50)),
        st.tuples(st.just("kill"),),
    ),
    max_size=60,
)


params = st.fixed_dictionaries({
    "max_position": st.floats(0.5, 20.0),
    "per_sec": st.integers(1, 40),
    "in_flight": st.integers(1, 12),
})


# The issue asks for >= 10k generated cases in the suite's profile for this property.
@settings(max_examples=10_000, deadline=None, derandomize=True)
@given(actions, params)
def test_no_emitted_order_breaches_hard_limit(acts, prm):
    lim = prm["max_position"]
    om, venue, _ = make(max_position=lim,
                        risk_kw={"throttle": OrderThrottle(max_orders_per_sec=prm["per_sec"],
                                                           max_in_flight=prm["in_flight"])})
    killed_at = None
    now = 0
    for a in acts:
        now += S // 10
        n_log = len(venue.log)
        if a[0] == "quote":
            _, skew, half, bs, as_ = a
            mid = 100.0 + skew
            bb, ba = mid - 0.05, mid + 0.05
            q = Quote(mid - half, mid + half, max(bs, 0.0), max(as_, 0.0))
            om.update(q, now=now, mid=mid, best_bid=bb, best_ask=ba)
            for (_, kind, side, px, tif) in venue.log[n_log:]:
                if tif != "ioc":  # post-only quotes never cross the book they were sent against
                    assert (px < ba) if side > 0 else (px > bb), (kind, side, px, bb, ba)
        elif a[0] == "kill":
            om.kill(now)
            killed_at = len(venue.log)
        else:
            live = om.live_orders()
            if not live:
                continue
            o = live[a[1] % len(live)]
            if a[0] == "ack" and not o.acked:
                om.on_ack(o.order_id, now)
            elif a[0] == "fill":
                qty = max(min(a[2], o.leaves_qty), 1e-9)
                om.on_fill(o.order_id, qty, o.price, now)
            elif a[0] == "cancel_ack" and o.pending_cancel:
                om.on_cancel_ack(o.order_id, now)
            elif a[0] == "modify_ack" and o.pending_modify is not None:
                if o.pending_modify[1] <= o.filled_qty + 1e-9:
                    om.on_modify_reject(o.order_id, now, "new size below filled")  # as a venue would
                else:
                    om.on_modify_ack(o.order_id, now)
        # hard limit counting position + working + in-flight, after every step
        for side in (+1, -1):
            working, in_flight = om.committed(side)
            flattening = any(o.tif.value == "ioc" for o in om.live_orders(side))
            if not flattening:
                assert side * om.position + working + in_flight <= lim + 1e-9
        assert abs(om.position) <= lim + 1e-9
        if killed_at is not None:
            assert len(venue.log) == killed_at, "an order was emitted after the kill switch"
    # the throttle: no 1-second window holds more order actions than allowed
    times = [t for (t, *_rest) in venue.log if _rest[3] != "ioc"]
    for i, t in enumerate(times):
        assert sum(1 for u in times[: i + 1] if u > t - S) <= prm["per_sec"]
