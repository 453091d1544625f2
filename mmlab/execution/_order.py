"""The order model and its state machine.

An :class:`Order` is driven by two kinds of event: requests the order manager sends
(``submit``, ``modify``, ``cancel``) and answers or reports from the venue (``ack``, ``reject``,
``fill``, ``modify_ack``, ``modify_reject``, ``cancel_ack``, ``cancel_reject``, ``expire``,
``venue_cancel``). Every event is checked before anything changes: an event that cannot happen in
the order's current state raises :class:`~mmlab.errors.InvalidTransitionError` and leaves the order
exactly as it was.

Notes
-----
The state is kept as a *base* state plus two outstanding-request flags, so that the races real
venues produce are legal without a combinatorial table:

* base: ``NEW`` (local only) -> ``PENDING_ACK`` (sent) -> ``WORKING`` (acked, nothing traded) ->
  ``PARTIALLY_FILLED``; terminal ``FILLED``, ``CANCELLED``, ``REJECTED``, ``EXPIRED``;
* ``pending_modify`` (the requested new price and size) and ``pending_cancel``.

:attr:`Order.status` reports the terminal state if there is one, else ``PENDING_CANCEL`` if a
cancel is outstanding, else ``PENDING_MODIFY`` if a modify is outstanding, else the base state.

Races that are legal:

* a fill while a cancel or modify is pending (the fill applies at the order's current terms; if
  it completes the order, the order is ``FILLED``);
* ``PENDING_ACK`` straight to ``FILLED`` or ``PARTIALLY_FILLED`` (the fill report overtakes the
  ack), or straight to ``REJECTED``; a late ack after such fills is recorded and changes nothing;
* the answer to a cancel or modify request arriving after the order became terminal: a
  ``cancel_reject`` for an order already filled ("too late to cancel"), a ``modify_reject`` for an
  order already filled or cancelled, a ``cancel_ack`` for an order the venue had already cancelled;
* a cancel requested before the ack (cancel by client order id).

Transitions that cannot happen (and raise): anything but ``submit`` on a ``NEW`` order; a second
submit; a duplicate ack; an ack after a reject; a reject after an ack or a fill; a fill, expiry or
venue cancel on a terminal order; a fill beyond the remaining size
(:class:`~mmlab.errors.OverfillError`); a fill through the order's limit price; a modify or cancel
request on a terminal order or while the same kind of request is outstanding; a modify before the
venue knows the order, of a market order, or to a size at or below the filled quantity; a
``modify_ack``/``cancel_ack`` with no such request outstanding; a ``modify_ack`` after the order
became terminal; a ``cancel_ack`` for a filled, rejected or expired order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mmlab.errors import ConfigError, InvalidTransitionError, OverfillError
from mmlab.execution._types import OrderEventKind, OrderStatus, OrderType, Side, TimeInForce

__all__ = ["Order", "OrderRecord"]

#: Relative tolerance on quantities (fills summing to the order size in floating point).
QTY_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One line of an order's history: what happened, when, and the status after it."""

    ts: int
    kind: OrderEventKind
    status: OrderStatus
    price: float = math.nan
    qty: float = math.nan
    note: str = ""


@dataclass(slots=True)
class Order:
    """A single order and its life cycle.

    Parameters
    ----------
    order_id : int
        Our id for the order (client order id), unique per session.
    side : Side
        ``Side.BUY`` or ``Side.SELL``.
    qty : float
        Size, > 0.
    price : float
        Limit price (any finite number: futures prices can be negative); ignored (NaN) for market
        orders.
    order_type : OrderType
        ``LIMIT`` (default) or ``MARKET``.
    tif : TimeInForce
        ``GTC`` (default), ``GTX`` (post-only), ``IOC`` or ``FOK``. Market orders are IOC.
    instrument : str
        Instrument symbol (see the instrument master).
    created_ts : int
        Creation time, UTC ns.

    Examples
    --------
    >>> o = Order(1, Side.BUY, qty=2.0, price=100.0)
    >>> o.submit(ts=1); o.ack(ts=2); o.fill(0.5, 100.0, ts=3)
    >>> o.status.value, o.filled_qty, o.leaves_qty
    ('partially_filled', 0.5, 1.5)
    >>> o.cancel(ts=4); o.fill(1.5, 99.5, ts=5)   # the fill races the cancel and wins
    >>> o.status.value
    'filled'
    >>> o.cancel_reject(ts=6, reason="too late to cancel")   # legal: the answer to our cancel
    >>> o.status.value, o.avg_fill_px
    ('filled', 99.625)
    """

    order_id: int
    side: Side
    qty: float
    price: float = math.nan
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    instrument: str = ""
    created_ts: int = 0
    # --- state (not constructor arguments in normal use) ---
    sent: bool = field(default=False, init=False)
    acked: bool = field(default=False, init=False)
    filled_qty: float = field(default=0.0, init=False)
    fill_notional: float = field(default=0.0, init=False)
    n_fills: int = field(default=0, init=False)
    terminal: OrderStatus | None = field(default=None, init=False)
    pending_modify: tuple[float, float] | None = field(default=None, init=False)
    pending_cancel: bool = field(default=False, init=False)
    reason: str = field(default="", init=False)
    history: list[OrderRecord] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.side, Side):
            try:
                self.side = Side(self.side)
            except ValueError:
                raise ConfigError(f"side: expected Side.BUY or Side.SELL, got {self.side!r}") from None
        self.order_type = OrderType(self.order_type)
        self.tif = TimeInForce(self.tif)
        if not (isinstance(self.qty, (int, float)) and math.isfinite(self.qty) and self.qty > 0):
            raise ConfigError(f"qty: must be a finite number > 0, got {self.qty!r}")
        if self.order_type is OrderType.LIMIT:
            if not math.isfinite(self.price):
                raise ConfigError(f"price: a limit order needs a finite price, got {self.price!r}")
        else:
            self.price = math.nan
            if self.tif in (TimeInForce.GTC, TimeInForce.GTX):
                self.tif = TimeInForce.IOC
        self.qty = float(self.qty)

    # ------------------------------------------------------------------ derived state
    @property
    def status(self) -> OrderStatus:
        """The order's status (see the module notes for how it is derived)."""
        if self.terminal is not None:
            return self.terminal
        if not self.sent:
            return OrderStatus.NEW
        if self.pending_cancel:
            return OrderStatus.PENDING_CANCEL
        if self.pending_modify is not None:
            return OrderStatus.PENDING_MODIFY
        return self._base_live_status()

    def _base_live_status(self) -> OrderStatus:
        if self.filled_qty > 0:
            return OrderStatus.PARTIALLY_FILLED
        return OrderStatus.WORKING if self.acked else OrderStatus.PENDING_ACK

    @property
    def leaves_qty(self) -> float:
        """Quantity still able to trade (0 once terminal)."""
        if self.terminal is not None:
            return 0.0
        return max(self.qty - self.filled_qty, 0.0)

    @property
    def avg_fill_px(self) -> float:
        """Quantity-weighted average fill price (NaN before the first fill)."""
        return self.fill_notional / self.filled_qty if self.filled_qty > 0 else math.nan

    @property
    def signed_filled_qty(self) -> float:
        """Filled quantity with the side's sign (+ bought, - sold)."""
        return self.side.value * self.filled_qty

    @property
    def is_live(self) -> bool:
        """True when the order is at the venue and may still trade."""
        return self.sent and self.terminal is None

    # ------------------------------------------------------------------ helpers
    def _bad(self, kind: OrderEventKind, why: str) -> InvalidTransitionError:
        return InvalidTransitionError(
            f"order {self.order_id}: cannot apply {kind.value!r} in state "
            f"{self.status.value!r}: {why}"
        )

    def _record(self, ts: int, kind: OrderEventKind, price: float = math.nan,
                qty: float = math.nan, note: str = "") -> None:
        self.history.append(OrderRecord(int(ts), kind, self.status, price, qty, note))

    # ------------------------------------------------------------------ requests (ours)
    def submit(self, ts: int = 0) -> None:
        """Send the order: ``NEW -> PENDING_ACK``."""
        k = OrderEventKind.SUBMIT
        if self.sent:
            raise self._bad(k, "already submitted")
        self.sent = True
        self._record(ts, k, self.price, self.qty)

    def modify(self, price: float, qty: float, ts: int = 0) -> None:
        """Request new terms (price and total size); the order is ``PENDING_MODIFY`` until answered."""
        k = OrderEventKind.MODIFY
        if not self.sent:
            raise self._bad(k, "not submitted")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal")
        if self.order_type is OrderType.MARKET:
            raise self._bad(k, "a market order cannot be modified")
        if not self.acked and self.filled_qty == 0:
            raise self._bad(k, "the venue has not acknowledged the order yet")
        if self.pending_cancel:
            raise self._bad(k, "a cancel is pending")
        if self.pending_modify is not None:
            raise self._bad(k, "a modify is already pending")
        if not math.isfinite(price):
            raise ConfigError(f"price: must be finite, got {price!r}")
        if not (math.isfinite(qty) and qty > self.filled_qty + QTY_EPS * max(1.0, qty)):
            raise ConfigError(
                f"qty: the new size must exceed the filled quantity {self.filled_qty}, got {qty!r}"
            )
        self.pending_modify = (float(price), float(qty))
        self._record(ts, k, price, qty)

    def cancel(self, ts: int = 0) -> None:
        """Request cancellation; the order is ``PENDING_CANCEL`` until answered (fills may still come)."""
        k = OrderEventKind.CANCEL
        if not self.sent:
            raise self._bad(k, "not submitted (discard a NEW order instead)")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal")
        if self.pending_cancel:
            raise self._bad(k, "a cancel is already pending")
        self.pending_cancel = True
        self._record(ts, k)

    # ------------------------------------------------------------------ venue answers
    def ack(self, ts: int = 0) -> None:
        """The venue accepted the order. A late ack after the order traded or ended is a no-op."""
        k = OrderEventKind.ACK
        if not self.sent:
            raise self._bad(k, "not submitted")
        if self.acked:
            raise self._bad(k, "duplicate ack")
        if self.terminal is OrderStatus.REJECTED:
            raise self._bad(k, "the venue rejected this order")
        self.acked = True
        self._record(ts, k, note="late ack" if self.terminal or self.filled_qty else "")

    def reject(self, ts: int = 0, reason: str = "") -> None:
        """The venue refused the order (e.g. a post-only order that would cross)."""
        k = OrderEventKind.REJECT
        if not self.sent:
            raise self._bad(k, "not submitted")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal")
        if self.acked or self.filled_qty > 0:
            raise self._bad(k, "the venue already accepted the order")
        self.terminal = OrderStatus.REJECTED
        self.reason = reason
        self._record(ts, k, note=reason)

    def fill(self, qty: float, price: float, ts: int = 0) -> None:
        """A trade of ``qty`` at ``price`` against this order."""
        k = OrderEventKind.FILL
        if not self.sent:
            raise self._bad(k, "not submitted")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal")
        if not (math.isfinite(qty) and qty > 0):
            raise self._bad(k, f"fill quantity must be finite and > 0, got {qty!r}")
        if not math.isfinite(price):
            raise self._bad(k, f"fill price must be finite, got {price!r}")
        leaves = self.qty - self.filled_qty
        tol = QTY_EPS * max(1.0, self.qty)
        if qty > leaves + tol:
            raise OverfillError(
                f"order {self.order_id}: fill of {qty} exceeds the remaining {leaves} "
                f"(size {self.qty}, filled {self.filled_qty})"
            )
        if self.order_type is OrderType.LIMIT and self.pending_modify is None:
            through = price > self.price + 1e-12 * max(1.0, abs(self.price)) if self.side is Side.BUY \
                else price < self.price - 1e-12 * max(1.0, abs(self.price))
            if through:
                raise self._bad(k, f"fill price {price} is through the limit {self.price}")
        qty = min(qty, leaves)
        self.filled_qty += qty
        self.fill_notional += qty * price
        self.n_fills += 1
        if self.qty - self.filled_qty <= tol:
            self.filled_qty = self.qty
            self.terminal = OrderStatus.FILLED
        self._record(ts, k, price, qty)

    def modify_ack(self, ts: int = 0) -> None:
        """The venue applied the pending modify."""
        k = OrderEventKind.MODIFY_ACK
        if self.pending_modify is None:
            raise self._bad(k, "no modify is pending")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal (the venue must reject the modify)")
        price, qty = self.pending_modify
        if qty <= self.filled_qty + QTY_EPS * max(1.0, qty):
            raise self._bad(k, f"new size {qty} is not above the filled {self.filled_qty}")
        self.price, self.qty = price, qty
        self.pending_modify = None
        self._record(ts, k, price, qty)

    def modify_reject(self, ts: int = 0, reason: str = "") -> None:
        """The venue refused the pending modify; the order keeps its terms. Legal after terminal."""
        k = OrderEventKind.MODIFY_REJECT
        if self.pending_modify is None:
            raise self._bad(k, "no modify is pending")
        self.pending_modify = None
        self._record(ts, k, note=reason)

    def cancel_ack(self, ts: int = 0) -> None:
        """The venue cancelled the order at our request."""
        k = OrderEventKind.CANCEL_ACK
        if not self.pending_cancel:
            raise self._bad(k, "no cancel is pending")
        if self.terminal is not None and self.terminal is not OrderStatus.CANCELLED:
            raise self._bad(k, "order already ended otherwise")
        self.pending_cancel = False
        self.terminal = OrderStatus.CANCELLED
        self._record(ts, k)

    def cancel_reject(self, ts: int = 0, reason: str = "") -> None:
        """The venue refused the cancel (e.g. the order was already filled). Legal after terminal."""
        k = OrderEventKind.CANCEL_REJECT
        if not self.pending_cancel:
            raise self._bad(k, "no cancel is pending")
        self.pending_cancel = False
        self._record(ts, k, note=reason)

    def expire(self, ts: int = 0, reason: str = "") -> None:
        """The rest of the order expired (IOC/FOK remainder, end of day, GTD)."""
        k = OrderEventKind.EXPIRE
        if not self.sent:
            raise self._bad(k, "not submitted")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal")
        self.terminal = OrderStatus.EXPIRED
        self.reason = reason
        self._record(ts, k, note=reason)

    def venue_cancel(self, ts: int = 0, reason: str = "") -> None:
        """The venue cancelled the order on its own (self-trade prevention, session end, ...)."""
        k = OrderEventKind.VENUE_CANCEL
        if not self.sent:
            raise self._bad(k, "not submitted")
        if self.terminal is not None:
            raise self._bad(k, "order is terminal")
        self.terminal = OrderStatus.CANCELLED
        self.reason = reason
        self._record(ts, k, note=reason)

    # ------------------------------------------------------------------ generic dispatch
    def apply(self, kind: OrderEventKind | str, ts: int = 0, *, price: float = math.nan,
              qty: float = math.nan, reason: str = "") -> None:
        """Apply an event by kind (used by venues and journals replaying an order's history)."""
        kind = OrderEventKind(kind)
        if kind is OrderEventKind.SUBMIT:
            self.submit(ts)
        elif kind is OrderEventKind.MODIFY:
            self.modify(price, qty, ts)
        elif kind is OrderEventKind.CANCEL:
            self.cancel(ts)
        elif kind is OrderEventKind.ACK:
            self.ack(ts)
        elif kind is OrderEventKind.REJECT:
            self.reject(ts, reason)
        elif kind is OrderEventKind.FILL:
            self.fill(qty, price, ts)
        elif kind is OrderEventKind.MODIFY_ACK:
            self.modify_ack(ts)
        elif kind is OrderEventKind.MODIFY_REJECT:
            self.modify_reject(ts, reason)
        elif kind is OrderEventKind.CANCEL_ACK:
            self.cancel_ack(ts)
        elif kind is OrderEventKind.CANCEL_REJECT:
            self.cancel_reject(ts, reason)
        elif kind is OrderEventKind.EXPIRE:
            self.expire(ts, reason)
        else:
            self.venue_cancel(ts, reason)
