"""The order manager: turns the strategy's desired quotes into venue requests, under risk.

At each decision the manager gets the quote the strategy wants (one or more price levels per
side), rounds it to the instrument's tick and lot, validates it, and reconciles it with the orders
already working: an order close enough to what is wanted is left alone (no churn), one that is not
is modified (or cancelled and replaced), missing levels are placed, surplus orders cancelled.
Every size that could grow the position passes the :class:`~mmlab.risk.RiskManager` first,
counting position + working + in-flight quantity, so no burst of fills can carry the position
past its hard limit. Venue answers come back through the ``on_*`` methods, which drive the
:class:`~mmlab.execution.Order` state machine, book fills in the :class:`~mmlab.execution.Ledger`,
feed the breakers and the toxicity monitor, and publish typed events on the bus.

The manager does not know whether its venue is simulated, paper or live: that is the point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mmlab.errors import ConfigError, QuoteValidationError
from mmlab.execution._ledger import Ledger
from mmlab.execution._order import Order
from mmlab.execution._types import OrderType, Side, TimeInForce
from mmlab.risk import DailyLossBreaker, DrawdownBreaker, RiskManager, ToxicityMonitor
from mmlab.runtime import EventBus, FillEvent, OrderEvent, QuoteEvent, RiskEvent

__all__ = ["DesiredOrder", "OrderManager", "RefreshRules", "Venue"]


class Venue(Protocol):
    """What the order manager needs from a venue (simulated, paper or live).

    Calls are requests; the venue answers later through the manager's ``on_*`` methods.
    """

    def submit(self, order: Order, now: int) -> None:  # pragma: no cover - protocol
        ...

    def modify(self, order: Order, price: float, qty: float, now: int) -> None:  # pragma: no cover
        ...

    def cancel(self, order: Order, now: int) -> None:  # pragma: no cover - protocol
        ...


@dataclass(frozen=True, slots=True)
class RefreshRules:
    """When a working order is good enough to keep.

    Parameters
    ----------
    max_age_ns : int
        Re-quote an order older than this (default 5 s).
    move_threshold : float
        Keep an order whose price is within this relative distance of the wanted price
        (default 0.001 = 0.1 %); a price exactly on the wanted tick is always kept.
    size_tolerance : float
        Keep an order whose remaining size is within this relative distance of the wanted size.
    use_modify : bool
        Amend orders in place (keeps the order id) rather than cancel-replace.
    """

    max_age_ns: int = 5_000_000_000
    move_threshold: float = 0.001
    size_tolerance: float = 0.25
    use_modify: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.max_age_ns, int) and self.max_age_ns > 0):
            raise ConfigError(f"max_age_ns: must be an integer > 0, got {self.max_age_ns!r}")
        if not (0 <= self.move_threshold < 1):
            raise ConfigError(f"move_threshold: must be in [0, 1), got {self.move_threshold!r}")
        if not (0 <= self.size_tolerance < 1):
            raise ConfigError(f"size_tolerance: must be in [0, 1), got {self.size_tolerance!r}")


@dataclass(frozen=True, slots=True)
class DesiredOrder:
    """One price level the strategy wants to show: side (+1 bid, -1 ask), price, size."""

    side: int
    price: float
    size: float


def _floor_to(x: float, step: float) -> float:
    return math.floor(x / step + 1e-9) * step if step > 0 else x


def _ceil_to(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step if step > 0 else x


@dataclass
class OrderManager:
    """Reconcile desired quotes with working orders, under the risk manager.

    Parameters
    ----------
    venue : Venue
        Where requests go.
    risk : RiskManager
        The gate every growing order passes (ladder, limits, breakers, kill switch, throttle).
    ledger : Ledger
        Position and PnL accounting for the instrument.
    symbol : str
        Instrument symbol.
    tick_size, lot_size : float
        Price tick and size lot (0: no rounding). Bids round down, asks up; sizes round down.
    min_size : float
        Smallest size worth sending (after risk clipping and lot rounding).
    post_only : bool
        Quotes are post-only (GTX): a level that would cross the market is moved one tick
        behind the opposite best instead.
    price_band : float
        Largest allowed relative distance of a quote from the mid (default 10 %).
    refresh : RefreshRules
        Churn control.
    bus : EventBus, optional
        Where typed events are published.
    toxicity : ToxicityMonitor, optional
        Widens spreads and shrinks sizes while fills are one-sided.
    flatten_on_hard_limit : bool
        At a hard position limit, send a reduce-only IOC order at the opposite best to bring the
        position back to the red threshold.
    allow_nonpositive_prices : bool
        Allow prices <= 0 (futures spreads, negative oil); off by default as a fat-finger guard.
    """

    venue: Venue
    risk: RiskManager
    ledger: Ledger
    symbol: str = ""
    tick_size: float = 0.0
    lot_size: float = 0.0
    min_size: float = 0.0
    post_only: bool = True
    price_band: float = 0.10
    refresh: RefreshRules = field(default_factory=RefreshRules)
    bus: EventBus = field(default_factory=EventBus)
    toxicity: ToxicityMonitor | None = None
    flatten_on_hard_limit: bool = True
    allow_nonpositive_prices: bool = False
    orders: dict[int, Order] = field(default_factory=dict, init=False, repr=False)
    _placed_ts: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    _next_id: int = field(default=1, init=False, repr=False)
    _halted_reported: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "min_size"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"{name}: must be finite and >= 0, got {v!r}")
        if not (0 < self.price_band <= 1):
            raise ConfigError(f"price_band: must be in (0, 1], got {self.price_band!r}")

    # ------------------------------------------------------------------ book-keeping
    @property
    def position(self) -> float:
        """Current signed position (from the ledger)."""
        return self.ledger.position

    def live_orders(self, side: int | None = None) -> list[Order]:
        """Orders at the venue that may still trade (optionally one side's)."""
        return [o for o in self.orders.values()
                if o.is_live and (side is None or o.side.value == side)]

    def committed(self, side: int, exclude: int | None = None) -> tuple[float, float]:
        """(working, in-flight) quantity on ``side``: what could still trade there.

        An order with a pending modify counts with the larger of its current and requested size.
        """
        working = in_flight = 0.0
        for o in self.live_orders(side):
            if o.order_id == exclude:
                continue
            q = o.leaves_qty
            if o.pending_modify is not None:
                q = max(q, o.pending_modify[1] - o.filled_qty)
            if o.acked or o.filled_qty > 0:
                working += q
            else:
                in_flight += q
        return working, in_flight

    def unanswered(self) -> int:
        """Requests awaiting the venue's answer (pending ack, modify or cancel)."""
        return sum(1 for o in self.live_orders()
                   if not o.acked or o.pending_cancel or o.pending_modify is not None)

    # ------------------------------------------------------------------ quote normalisation
    def _desired(self, quote) -> dict[int, list[DesiredOrder]]:
        """Validate the strategy's levels (before any rounding) and sort them by side."""
        if hasattr(quote, "bid_size") and hasattr(quote, "ask_size"):
            levels = []
            if quote.bid_size > 0:
                levels.append(DesiredOrder(+1, quote.bid, quote.bid_size))
            if quote.ask_size > 0:
                levels.append(DesiredOrder(-1, quote.ask, quote.ask_size))
        else:
            levels = list(quote)
        out: dict[int, list[DesiredOrder]] = {+1: [], -1: []}
        for d in levels:
            if d.side not in (1, -1):
                raise QuoteValidationError(f"{self.symbol}: side must be +1 or -1, got {d.side!r}")
            if not (math.isfinite(d.price) and math.isfinite(d.size)):
                raise QuoteValidationError(f"{self.symbol}: non-finite quote {d}")
            if d.size <= 0:
                raise QuoteValidationError(f"{self.symbol}: quoted size must be > 0, got {d}")
            out[d.side].append(d)
        out[+1].sort(key=lambda d: -d.price)
        out[-1].sort(key=lambda d: d.price)
        if out[+1] and out[-1] and out[+1][0].price >= out[-1][0].price:
            raise QuoteValidationError(
                f"{self.symbol}: crossed quote, best bid {out[+1][0].price} >= best ask "
                f"{out[-1][0].price}")
        return out

    def _final_price(self, side: int, price: float, widen: float, mid: float,
                     best_bid: float, best_ask: float) -> float:
        """Widen away from the mid, round to tick (bids down, asks up), keep post-only passive,
        and check the price band."""
        if widen != 1.0 and math.isfinite(mid):
            price = mid + (price - mid) * widen
        tick = self.tick_size
        if side > 0:
            price = _floor_to(price, tick)
            if self.post_only and math.isfinite(best_ask) and price >= best_ask:
                price = best_ask - tick if tick > 0 else math.nextafter(best_ask, -math.inf)
        else:
            price = _ceil_to(price, tick)
            if self.post_only and math.isfinite(best_bid) and price <= best_bid:
                price = best_bid + tick if tick > 0 else math.nextafter(best_bid, math.inf)
        if not math.isfinite(price) or (price <= 0 and not self.allow_nonpositive_prices):
            raise QuoteValidationError(f"{self.symbol}: quoted price must be > 0, got {price}")
        if math.isfinite(mid) and abs(price - mid) > self.price_band * abs(mid):
            raise QuoteValidationError(
                f"{self.symbol}: price {price} outside the band of {self.price_band:.1%} "
                f"around mid {mid}")
        return price

    # ------------------------------------------------------------------ the decision step
    def update(self, quote, now: int, *, mid: float, best_bid: float = math.nan,
               best_ask: float = math.nan, greeks: Mapping[str, float] | None = None,
               notional: float = 0.0) -> None:
        """Show ``quote`` (a :class:`~mmlab.quoting.Quote` or a list of :class:`DesiredOrder`).

        Raises
        ------
        QuoteValidationError
            A crossed quote, a non-finite or non-positive price or size, a price outside the band.
            Nothing is sent for that decision.
        """
        desired = self._desired(quote)
        if math.isfinite(mid):
            self.ledger.mark(mid, now)
        probe = self.risk.decide(+1, 0.0, self.position, 0.0, 0.0, greeks=greeks,
                                 notional=notional)
        if probe.halt:
            self._halt(now, probe.reason, best_bid, best_ask)
            return
        if self._halted_reported:
            self._halted_reported = False
            self.bus.publish(RiskEvent(now, self.symbol, "resume", "quoting resumed"))
        ctx = (now, mid, best_bid, best_ask, greeks, notional)
        shown = {}
        for side in (+1, -1):
            shown[side] = self._reconcile_side(side, desired[side], ctx)
        self.bus.publish(QuoteEvent(now, self.symbol, shown[+1][0], shown[-1][0],
                                    shown[+1][1], shown[-1][1], shown[+1][2], shown[-1][2]))

    def _halt(self, now: int, reason: str, best_bid: float, best_ask: float) -> None:
        if not self._halted_reported:
            self._halted_reported = True
            self.bus.publish(RiskEvent(now, self.symbol, "halt", reason))
        self.cancel_all(now)
        if self.risk.halted or not self.flatten_on_hard_limit:
            return  # breakers and the kill switch: cancel only, emit nothing
        lim = self.risk.limits
        pos = self.position
        if abs(pos) < lim.max_position:
            return  # a Greek or notional breach: hedging is the hedger's job
        side = -1 if pos > 0 else +1
        target = lim.red * lim.max_position
        pending = sum(o.leaves_qty for o in self.live_orders(side) if o.tif is TimeInForce.IOC)
        qty = _floor_to(abs(pos) - target - pending, self.lot_size)
        px = best_bid if side < 0 else best_ask
        if qty <= 0 or not math.isfinite(px):
            return
        self._send_new(side, px, qty, now, tif=TimeInForce.IOC, note="flatten to the red zone")

    def _throttle_ok(self, now: int) -> bool:
        t = self.risk.throttle
        return t is None or t.try_send(now, self.unanswered())

    def _target(self, side: int, d: DesiredOrder, exclude: int | None, ctx):
        now, mid, best_bid, best_ask, greeks, notional = ctx
        working, in_flight = self.committed(side, exclude=exclude)
        dec = self.risk.decide(side, d.size, self.position, working, in_flight, greeks=greeks,
                               notional=notional)
        tox = self.toxicity
        size = _floor_to(dec.size * (tox.size_mult if tox else 1.0), self.lot_size)
        if size <= 0 or size < self.min_size or dec.halt:
            return 0.0, math.nan, dec
        widen = dec.spread_mult * (tox.spread_mult if tox else 1.0)
        return size, self._final_price(side, d.price, widen, mid, best_bid, best_ask), dec

    def _reconcile_side(self, side: int, desired: Sequence[DesiredOrder], ctx):
        now = ctx[0]
        live = [o for o in self.live_orders(side) if not o.pending_cancel
                and o.tif is not TimeInForce.IOC]
        live.sort(key=lambda o: -o.price * side)
        shown = (math.nan, 0.0, "")
        for i, d in enumerate(desired):
            o = live[i] if i < len(live) else None
            size, price, dec = self._target(side, d, o.order_id if o else None, ctx)
            if i == 0:
                shown = (price, size, dec.zone.name)
            if size <= 0:
                if o is not None:
                    self._cancel(o, now)
                continue
            if o is not None:
                if self._good_enough(o, price, size, now):
                    continue
                if (self.refresh.use_modify and o.pending_modify is None
                        and (o.acked or o.filled_qty > 0)):
                    if self._throttle_ok(now):
                        o.modify(price, o.filled_qty + size, now)
                        self._sent(lambda o=o, price=price, size=size: self.venue.modify(
                            o, price, o.filled_qty + size, now), o, now, "modify")
                    continue
                self._cancel(o, now)
                # the cancelled order may still fill: it keeps counting until the venue answers
                size, price, _ = self._target(side, d, None, ctx)
                if size <= 0:
                    continue
            if self._throttle_ok(now):
                self._send_new(side, price, size, now)
        for o in live[len(desired):]:
            self._cancel(o, now)
        return shown

    def _good_enough(self, o: Order, price: float, size: float, now: int) -> bool:
        if o.pending_modify is not None:
            return True  # wait for the venue's answer before touching it again
        if now - self._placed_ts.get(o.order_id, now) >= self.refresh.max_age_ns:
            return False
        same_price = abs(o.price - price) <= max(self.tick_size * 0.5, 1e-12) or (
            abs(o.price - price) <= self.refresh.move_threshold * max(abs(price), 1e-12))
        # keep a slightly smaller order, never a larger one than risk allows now
        same_size = size * (1.0 - self.refresh.size_tolerance) <= o.leaves_qty <= size * (1 + 1e-9)
        return same_price and same_size

    def _send_new(self, side: int, price: float, qty: float, now: int,
                  tif: TimeInForce | None = None, note: str = "") -> Order:
        o = Order(self._next_id, Side(side), qty=qty, price=price, order_type=OrderType.LIMIT,
                  tif=tif or (TimeInForce.GTX if self.post_only else TimeInForce.GTC),
                  instrument=self.symbol, created_ts=now)
        self._next_id += 1
        self.orders[o.order_id] = o
        o.submit(now)
        self._placed_ts[o.order_id] = now
        self._sent(lambda: self.venue.submit(o, now), o, now, "submit", note)
        return o

    def _sent(self, call, o: Order, now: int, kind: str, note: str = "") -> None:
        """Hand a request to the venue, then journal it as sent. A venue that refuses it before
        sending (the live gate) has already answered the order (rejected locally); the refusal
        is journalled as refused, never as sent, and raised to the caller."""
        try:
            call()
        except Exception as e:
            refused = getattr(e, "refused_event", None)
            if refused is not None:
                self.bus.publish(refused())
            raise
        self._publish(o, now, kind, note)

    def _cancel(self, o: Order, now: int) -> None:
        if o.pending_cancel or not o.is_live:
            return
        o.cancel(now)
        self._publish(o, now, "cancel")
        self.venue.cancel(o, now)

    def cancel_all(self, now: int) -> None:
        """Cancel every live order (cancels are never throttled)."""
        for o in self.live_orders():
            self._cancel(o, now)

    def kill(self, now: int, reason: str = "kill switch") -> None:
        """Engage the kill switch and cancel everything."""
        self.risk.kill_switch.engage(now, reason)
        self.bus.publish(RiskEvent(now, self.symbol, "kill", reason))
        self.cancel_all(now)

    def _publish(self, o: Order, now: int, kind: str, reason: str = "") -> None:
        self.bus.publish(OrderEvent(now, kind, o.order_id, self.symbol, o.side.value, o.price,
                                    o.qty, o.status.value, reason))

    # ------------------------------------------------------------------ venue answers
    def _get(self, order_id: int) -> Order:
        try:
            return self.orders[order_id]
        except KeyError:
            raise ConfigError(f"order_id: unknown order {order_id}") from None

    def on_ack(self, order_id: int, ts: int) -> None:
        """The venue accepted an order."""
        o = self._get(order_id)
        o.ack(ts)
        self._publish(o, ts, "ack")

    def on_reject(self, order_id: int, ts: int, reason: str = "") -> None:
        """The venue refused an order."""
        o = self._get(order_id)
        o.reject(ts, reason)
        self._publish(o, ts, "reject", reason)

    def on_modify_ack(self, order_id: int, ts: int) -> None:
        """The venue applied a modify."""
        o = self._get(order_id)
        o.modify_ack(ts)
        self._placed_ts[order_id] = ts
        self._publish(o, ts, "modify_ack")

    def on_modify_reject(self, order_id: int, ts: int, reason: str = "") -> None:
        """The venue refused a modify."""
        o = self._get(order_id)
        o.modify_reject(ts, reason)
        self._publish(o, ts, "modify_reject", reason)

    def on_cancel_ack(self, order_id: int, ts: int) -> None:
        """The venue cancelled an order at our request."""
        o = self._get(order_id)
        o.cancel_ack(ts)
        self._publish(o, ts, "cancel_ack")

    def on_cancel_reject(self, order_id: int, ts: int, reason: str = "") -> None:
        """The venue refused a cancel (e.g. the order had already filled)."""
        o = self._get(order_id)
        o.cancel_reject(ts, reason)
        self._publish(o, ts, "cancel_reject", reason)

    def on_expire(self, order_id: int, ts: int, reason: str = "") -> None:
        """The rest of an order expired (IOC remainder...)."""
        o = self._get(order_id)
        o.expire(ts, reason)
        self._publish(o, ts, "expire", reason)

    def on_venue_cancel(self, order_id: int, ts: int, reason: str = "") -> None:
        """The venue cancelled an order on its own."""
        o = self._get(order_id)
        o.venue_cancel(ts, reason)
        self._publish(o, ts, "venue_cancel", reason)

    def on_fill(self, order_id: int, qty: float, price: float, ts: int, *, maker: bool = True,
                mid: float | None = None) -> None:
        """One of our orders traded: state machine, ledger, breakers, toxicity, events."""
        o = self._get(order_id)
        o.fill(qty, price, ts)
        f = self.ledger.on_fill(o.side.value, qty, price, maker=maker, ts=ts, mid=mid,
                                order_id=order_id)
        self.bus.publish(FillEvent(ts, order_id, self.symbol, o.side.value, qty, price, maker,
                                   f.fee, self.ledger.position, f.mid))
        if self.toxicity is not None:
            was = self.toxicity.toxic
            self.toxicity.on_fill(o.side.value)
            if self.toxicity.toxic != was:
                self.bus.publish(RiskEvent(ts, self.symbol, "toxic" if self.toxicity.toxic
                                           else "clean", f"one-sided ratio {self.toxicity.ratio:.2f}"))
        equity = self.ledger.equity
        for b in self.risk.breakers:
            if isinstance(b, (DrawdownBreaker, DailyLossBreaker)):
                was = b.tripped
                b.update(equity, ts)
                if b.tripped and not was:
                    self.bus.publish(RiskEvent(ts, self.symbol, "breaker", b.reason))
                    self.cancel_all(ts)
