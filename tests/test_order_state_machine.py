"""The order state machine: every legal transition and race, and every impossible one.

The expected table below is written out by hand from the rules in ``mmlab/execution/_order.py``
(module notes), so a change of behaviour shows up as a failing cell.
"""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmlab.errors import ConfigError, InvalidTransitionError, OverfillError
from mmlab.execution import Order, OrderEventKind, OrderStatus, OrderType, Side, TimeInForce

K = OrderEventKind
S = OrderStatus


def _new() -> Order:
    return Order(7, Side.BUY, qty=10.0, price=100.0)


# Each named start state is built by a short path of legal events.
PATHS: dict[str, list[tuple]] = {
    "new": [],
    "pending_ack": [(K.SUBMIT,)],
    "working": [(K.SUBMIT,), (K.ACK,)],
    "partially_filled": [(K.SUBMIT,), (K.ACK,), (K.FILL, 100.0, 4.0)],
    "pending_modify": [(K.SUBMIT,), (K.ACK,), (K.MODIFY, 99.0, 8.0)],
    "pending_cancel": [(K.SUBMIT,), (K.ACK,), (K.CANCEL,)],
    "pending_cancel_unacked": [(K.SUBMIT,), (K.CANCEL,)],
    "filled": [(K.SUBMIT,), (K.ACK,), (K.FILL, 100.0, 10.0)],
    "filled_cancel_pending": [(K.SUBMIT,), (K.ACK,), (K.CANCEL,), (K.FILL, 100.0, 10.0)],
    "filled_modify_pending": [(K.SUBMIT,), (K.ACK,), (K.MODIFY, 99.0, 8.0), (K.FILL, 100.0, 10.0)],
    "filled_unacked": [(K.SUBMIT,), (K.FILL, 100.0, 10.0)],
    "cancelled": [(K.SUBMIT,), (K.ACK,), (K.CANCEL,), (K.CANCEL_ACK,)],
    "venue_cancelled_cancel_pending": [(K.SUBMIT,), (K.ACK,), (K.CANCEL,), (K.VENUE_CANCEL,)],
    "rejected": [(K.SUBMIT,), (K.REJECT,)],
    "expired": [(K.SUBMIT,), (K.ACK,), (K.EXPIRE,)],
}

STATUS_OF = {
    "new": S.NEW, "pending_ack": S.PENDING_ACK, "working": S.WORKING,
    "partially_filled": S.PARTIALLY_FILLED, "pending_modify": S.PENDING_MODIFY,
    "pending_cancel": S.PENDING_CANCEL, "pending_cancel_unacked": S.PENDING_CANCEL,
    "filled": S.FILLED, "filled_cancel_pending": S.FILLED, "filled_modify_pending": S.FILLED,
    "filled_unacked": S.FILLED, "cancelled": S.CANCELLED,
    "venue_cancelled_cancel_pending": S.CANCELLED, "rejected": S.REJECTED, "expired": S.EXPIRED,
}

# The event applied in each column, with its arguments.
EVENTS = {
    K.SUBMIT: (K.SUBMIT,),
    K.ACK: (K.ACK,),
    K.REJECT: (K.REJECT,),
    K.FILL: (K.FILL, 100.0, 1.0),
    K.MODIFY: (K.MODIFY, 98.0, 9.0),
    K.MODIFY_ACK: (K.MODIFY_ACK,),
    K.MODIFY_REJECT: (K.MODIFY_REJECT,),
    K.CANCEL: (K.CANCEL,),
    K.CANCEL_ACK: (K.CANCEL_ACK,),
    K.CANCEL_REJECT: (K.CANCEL_REJECT,),
    K.EXPIRE: (K.EXPIRE,),
    K.VENUE_CANCEL: (K.VENUE_CANCEL,),
}

X = None  # impossible: raises InvalidTransitionError
# expected status after the event, or X
TABLE: dict[str, dict[OrderEventKind, OrderStatus | None]] = {
    "new": {K.SUBMIT: S.PENDING_ACK},
    "pending_ack": {K.ACK: S.WORKING, K.REJECT: S.REJECTED, K.FILL: S.PARTIALLY_FILLED,
                    K.CANCEL: S.PENDING_CANCEL, K.EXPIRE: S.EXPIRED, K.VENUE_CANCEL: S.CANCELLED},
    "working": {K.FILL: S.PARTIALLY_FILLED, K.MODIFY: S.PENDING_MODIFY, K.CANCEL: S.PENDING_CANCEL,
                K.EXPIRE: S.EXPIRED, K.VENUE_CANCEL: S.CANCELLED},
    "partially_filled": {K.FILL: S.PARTIALLY_FILLED, K.MODIFY: S.PENDING_MODIFY,
                         K.CANCEL: S.PENDING_CANCEL, K.EXPIRE: S.EXPIRED,
                         K.VENUE_CANCEL: S.CANCELLED},
    "pending_modify": {K.FILL: S.PENDING_MODIFY, K.MODIFY_ACK: S.WORKING,
                       K.MODIFY_REJECT: S.WORKING, K.CANCEL: S.PENDING_CANCEL,
                       K.EXPIRE: S.EXPIRED, K.VENUE_CANCEL: S.CANCELLED},
    "pending_cancel": {K.FILL: S.PENDING_CANCEL, K.CANCEL_ACK: S.CANCELLED,
                       K.CANCEL_REJECT: S.WORKING, K.EXPIRE: S.EXPIRED,
                       K.VENUE_CANCEL: S.CANCELLED},
    "pending_cancel_unacked": {K.ACK: S.PENDING_CANCEL, K.REJECT: S.REJECTED,
                               K.FILL: S.PENDING_CANCEL, K.CANCEL_ACK: S.CANCELLED,
                               K.CANCEL_REJECT: S.PENDING_ACK, K.EXPIRE: S.EXPIRED,
                               K.VENUE_CANCEL: S.CANCELLED},
    "filled": {},
    "filled_cancel_pending": {K.CANCEL_REJECT: S.FILLED},  # "too late to cancel"
    "filled_modify_pending": {K.MODIFY_REJECT: S.FILLED},
    "filled_unacked": {K.ACK: S.FILLED},  # the fill overtook the ack
    "cancelled": {},
    "venue_cancelled_cancel_pending": {K.CANCEL_ACK: S.CANCELLED, K.CANCEL_REJECT: S.CANCELLED},
    "rejected": {},
    "expired": {K.ACK: X},
}


def _apply(o: Order, ev: tuple) -> None:
    kind = ev[0]
    if kind in (K.FILL,):
        o.apply(kind, price=ev[1], qty=ev[2])
    elif kind is K.MODIFY:
        o.apply(kind, price=ev[1], qty=ev[2])
    else:
        o.apply(kind)


def _build(name: str) -> Order:
    o = _new()
    for ev in PATHS[name]:
        _apply(o, ev)
    return o


@pytest.mark.parametrize("name", sorted(PATHS))
def test_start_states(name):
    assert _build(name).status is STATUS_OF[name]


def _snapshot(o: Order):
    return (o.sent, o.acked, o.filled_qty, o.fill_notional, o.terminal, o.pending_modify,
            o.pending_cancel, o.price, o.qty, len(o.history))


CASES = [(name, kind) for name in sorted(PATHS) for kind in EVENTS]


@pytest.mark.parametrize(("name", "kind"), CASES, ids=[f"{n}-{k.value}" for n, k in CASES])
def test_transition_table(name, kind):
    o = _build(name)
    # "expired": a late ack after expiry of an acked order is a duplicate ack
    expected = TABLE[name].get(kind, X)
    before = _snapshot(o)
    if expected is X:
        with pytest.raises(InvalidTransitionError):
            _apply(o, EVENTS[kind])
        assert _snapshot(o) == before, "a refused event must leave the order unchanged"
    else:
        _apply(o, EVENTS[kind])
        assert o.status is expected
        assert len(o.history) == before[-1] + 1


def test_every_status_has_a_start_state():
    assert {STATUS_OF[n] for n in PATHS} == set(OrderStatus)


def test_overfill_is_refused_and_state_kept():
    o = _build("partially_filled")  # 4 of 10 filled
    with pytest.raises(OverfillError):
        o.fill(6.5, 100.0)
    assert o.filled_qty == 4.0 and o.status is S.PARTIALLY_FILLED
    o.fill(6.0, 99.0)
    assert o.status is S.FILLED and o.leaves_qty == 0.0
    assert o.avg_fill_px == pytest.approx((4 * 100 + 6 * 99) / 10)  # 99.4


def test_fill_through_limit_is_refused():
    o = _build("working")  # buy limit 100
    with pytest.raises(InvalidTransitionError, match="through the limit"):
        o.fill(1.0, 100.5)
    s = Order(8, Side.SELL, qty=1.0, price=-5.0)  # negative futures prices are legal prices
    s.submit()
    s.ack()
    with pytest.raises(InvalidTransitionError):
        s.fill(1.0, -5.5)
    s.fill(1.0, -4.0)
    assert s.status is S.FILLED and s.signed_filled_qty == -1.0


def test_modify_applies_new_terms_and_keeps_fills():
    o = _build("partially_filled")
    o.modify(101.0, 12.0)
    o.fill(1.0, 100.0)  # fills at the old terms while the modify is pending
    o.modify_ack()
    assert (o.price, o.qty, o.filled_qty, o.leaves_qty) == (101.0, 12.0, 5.0, 7.0)
    assert o.status is S.PARTIALLY_FILLED


def test_modify_to_size_at_or_below_filled_is_an_argument_error():
    o = _build("partially_filled")
    with pytest.raises(ConfigError, match="qty"):
        o.modify(100.0, 4.0)


def test_modify_ack_refused_if_fills_overtook_the_new_size():
    o = _build("working")
    o.modify(100.0, 5.0)
    o.fill(6.0, 100.0)  # the venue traded 6 at the old terms before applying the modify
    with pytest.raises(InvalidTransitionError):
        o.modify_ack()
    o.modify_reject(reason="size below filled")
    assert o.status is S.PARTIALLY_FILLED and o.qty == 10.0


def test_market_orders_are_ioc_and_cannot_be_modified():
    o = Order(9, Side.SELL, qty=3.0, order_type=OrderType.MARKET)
    assert o.tif is TimeInForce.IOC and math.isnan(o.price)
    o.submit()
    o.ack()
    with pytest.raises(InvalidTransitionError, match="market"):
        o.modify(100.0, 3.0)
    o.fill(1.0, 50.0)
    o.expire(reason="IOC remainder")
    assert o.status is S.EXPIRED and o.filled_qty == 1.0 and o.leaves_qty == 0.0


def test_post_only_rejected_when_it_would_cross():
    o = Order(10, Side.BUY, qty=1.0, price=101.0, tif=TimeInForce.GTX)
    o.submit()
    o.reject(reason="post-only would cross")
    assert o.status is S.REJECTED and o.reason == "post-only would cross"


@pytest.mark.parametrize("kw", [dict(qty=0.0, price=1.0), dict(qty=-1.0, price=1.0),
                                dict(qty=math.nan, price=1.0), dict(qty=1.0, price=math.nan)])
def test_bad_constructor_arguments(kw):
    with pytest.raises(ConfigError):
        Order(1, Side.BUY, **kw)


def test_history_records_each_event():
    o = _build("filled_cancel_pending")
    o.cancel_reject(ts=99, reason="too late")
    kinds = [r.kind for r in o.history]
    assert kinds == [K.SUBMIT, K.ACK, K.CANCEL, K.FILL, K.CANCEL_REJECT]
    assert o.history[-1].ts == 99 and o.history[-1].status is S.FILLED


# ----------------------------------------------------------------------------- properties
event_st = st.one_of(
    st.tuples(st.sampled_from([K.SUBMIT, K.ACK, K.REJECT, K.MODIFY_ACK, K.MODIFY_REJECT,
                               K.CANCEL, K.CANCEL_ACK, K.CANCEL_REJECT, K.EXPIRE,
                               K.VENUE_CANCEL])),
    st.tuples(st.just(K.FILL), st.floats(95, 100), st.floats(0.01, 12)),
    st.tuples(st.just(K.MODIFY), st.floats(95, 105), st.floats(0.01, 15)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(event_st, max_size=25))
def test_random_event_streams_keep_invariants(events):
    o = _new()
    for ev in events:
        before = _snapshot(o)
        was_terminal = o.terminal
        try:
            _apply(o, ev)
        except (InvalidTransitionError, ConfigError):
            assert _snapshot(o) == before
            continue
        # terminal states are absorbing
        if was_terminal is not None:
            assert o.terminal is was_terminal
        # never filled beyond the size; fills add up
        assert 0.0 <= o.filled_qty <= o.qty + 1e-9
        fills = [r for r in o.history if r.kind is K.FILL]
        assert math.isclose(sum(r.qty for r in fills), o.filled_qty, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(sum(r.qty * r.price for r in fills), o.fill_notional,
                            rel_tol=1e-12, abs_tol=1e-9)
        assert o.leaves_qty >= 0.0
        if o.status is S.FILLED:
            assert o.filled_qty == o.qty


def test_copy_is_independent():
    o = _build("working")
    c = copy.deepcopy(o)
    c.fill(1.0, 100.0)
    assert o.filled_qty == 0.0
