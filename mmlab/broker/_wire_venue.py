"""The part every live venue adapter shares: wire records in and out, the gate at order time.

A live adapter is a :class:`~mmlab.backtest.VenueAdapter` of the one trading core: the local
side hands it :data:`~mmlab.backtest.REQUEST_DTYPE` rows (new, cancel, modify) and takes
:data:`~mmlab.backtest.RESPONSE_DTYPE` rows back (ack, fill, cancelled, rejected,
cancel_rejected, modified, modify_rejected). This base turns each request into one call of the
venue-specific subclass (``_new``, ``_cancel``, ``_modify``), passing every new order and every
modify through :func:`~mmlab.broker.gate_order` first, at order time: a refused request is
answered ``rejected`` (``modify_rejected`` for a modify) and journalled as ``refused``; nothing
reaches the venue. Cancels are never gated (a cancel only reduces risk).

Responses are stamped with the adapter's clock (``now``, ns, default :func:`time.time_ns`):
the time the local side heard of them. A fill's ``cash`` is ``-side x qty x value(price) - fee``
in the settlement currency (:class:`~mmlab.broker.ContractSpec`). An order's end (cancelled,
by us or by the venue) is answered only once every fill the venue reports for it before that
end has been answered, so the local side never hears of a fill of an order it thinks is gone.
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from mmlab.backtest import REQUEST_DTYPE, RESPONSE_DTYPE
from mmlab.broker._gate import LiveTradingDisabled, VenueConfig, gate_order
from mmlab.broker._spec import ContractSpec, as_spec
from mmlab.errors import ConfigError
from mmlab.redaction import redact

__all__ = ["ACK", "CANCELLED", "CANCEL_REJECTED", "FILL", "MODIFIED", "MODIFY_REJECTED",
           "REJECTED", "LiveOrder", "WireVenue"]

# request kinds (REQUEST_KINDS) and response kinds (RESPONSE_KINDS) of the wire
NEW, CANCEL, MODIFY = 1, 2, 3
ACK, FILL, CANCELLED, REJECTED, CANCEL_REJECTED, MODIFIED, MODIFY_REJECTED = 1, 2, 3, 4, 5, 6, 7
_NAMES = {ACK: "ack", FILL: "fill", CANCELLED: "cancelled", REJECTED: "rejected",
          CANCEL_REJECTED: "cancel_rejected", MODIFIED: "modified",
          MODIFY_REJECTED: "modify_rejected"}


@dataclass(slots=True)
class LiveOrder:
    """What the adapter knows of one of our orders at the venue.

    ``state``: ``"pending"`` (sent, not acknowledged), ``"working"``, ``"cancelling"`` (a
    cancel sent), ``"done"`` (its end answered). ``leaves`` is the quantity still working as the
    local side sees it (the new leaves after a modify); ``filled`` counts every fill answered.
    ``end``: an end heard of but not yet answered (kind, the venue's filled quantity then).
    """

    order_id: int
    side: int
    price: float
    leaves: float
    post_only: bool
    state: str = "pending"
    filled: float = 0.0
    end: tuple[int, float] | None = None
    venue: dict[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.state != "done"


class WireVenue(abc.ABC):
    """Base of the live adapters (see the module notes).

    Parameters
    ----------
    config : VenueConfig
        The adapter's venue configuration (live mode checked at every order).
    spec : ContractSpec or Instrument
        Tick, lot, contract value and fees.
    now : callable, optional
        The local clock (ns); :func:`time.time_ns` by default.
    journal : object, optional
        Anything with ``record(event)`` (:class:`mmlab.runtime.Journal`): every request sent,
        every refusal (kind ``"refused"``) and every answer is recorded, reasons redacted.
    """

    symbol: str = ""

    def __init__(self, config: VenueConfig, spec: Any, *, now: Callable[[], int] | None = None,
                 journal: Any = None) -> None:
        self.config = config
        self.spec: ContractSpec = as_spec(spec)
        if now is not None and not callable(now):
            raise ConfigError(f"now: expected a callable returning ns, got {now!r}")
        self._now: Callable[[], int] = now if now is not None else time.time_ns
        self.journal = journal
        self.orders: dict[int, LiveOrder] = {}
        #: the venue's last words (redacted) about an order, by order id
        self.reasons: dict[int, str] = {}
        #: every refusal of the gate, in order
        self.refused: list[LiveTradingDisabled] = []
        self._out: list[tuple[int, int, int, float, float, int]] = []
        self._seq = 0

    # ------------------------------------------------------------------ the adapter interface
    def submit(self, requests: np.ndarray) -> None:
        """Send ``requests`` (:data:`~mmlab.backtest.REQUEST_DTYPE` rows) to the venue, in
        ``(ts, seq)`` order.

        Raises
        ------
        ConfigError
            A row is malformed (named by index and order id); nothing of the batch was sent.
        LiveTradingDisabled
            The gate refused at least one new order or modify (the first refusal; all are in
            :attr:`refused`). The whole batch was handled first: each refused request has its
            ``rejected`` / ``modify_rejected`` response and nothing of it reached the venue;
            the other requests (cancels above all) went out.
        """
        rows = self._check(requests)
        first: LiveTradingDisabled | None = None
        for r in rows:
            kind, oid = int(r["kind"]), int(r["order_id"])
            if kind == CANCEL:
                o = self.orders.get(oid)
                if o is None or not o.live or o.state == "cancelling":
                    self._answer(CANCEL_REJECTED, oid, reason="not working at the venue")
                    continue
                self._journal_request("cancel", o, o.price, o.leaves)
                self._cancel(o)
                continue
            price, qty = self.spec.price(int(r["price_tick"])), self.spec.amount(float(r["qty"]))
            side = int(r["side"]) if kind == NEW else self.orders[oid].side
            try:
                gate_order(self.config, SimpleNamespace(order_id=oid, side=side, price=price,
                                                        qty=qty),
                           "submit" if kind == NEW else "modify", int(self._now()),
                           symbol=self.symbol)
            except LiveTradingDisabled as exc:
                self._refuse(exc, kind, oid, side)
                first = first or exc
                continue
            if kind == NEW:
                o = LiveOrder(oid, side, price, qty, bool(r["post_only"]))
                self.orders[oid] = o
                self._journal_request("submit", o, price, qty)
                self._new(o)
            else:
                o = self.orders[oid]
                if not o.live or o.state in ("pending", "cancelling") or o.end is not None:
                    self._answer(MODIFY_REJECTED, oid, reason=f"order is {o.state}")
                    continue
                self._journal_request("modify", o, price, qty)
                self._modify(o, price, qty)
        if first is not None:
            raise first

    def advance(self, until: int) -> None:
        """Hear what the venue has to say now (``until`` is only a hint: live, nothing waits)."""
        self._poll_due()

    def responses(self) -> np.ndarray:
        """The answers heard so far (:data:`~mmlab.backtest.RESPONSE_DTYPE` rows, each once)."""
        out = np.array(self._out, dtype=RESPONSE_DTYPE) if self._out else np.zeros(
            0, RESPONSE_DTYPE)
        self._out = []
        return out

    def horizon(self) -> int:
        """The adapter's clock now: a live venue may answer at any moment."""
        return int(self._now())

    # ------------------------------------------------------------------ for the subclasses
    @abc.abstractmethod
    def _new(self, o: LiveOrder) -> None:
        """Send order ``o`` to the venue."""

    @abc.abstractmethod
    def _cancel(self, o: LiveOrder) -> None:
        """Ask the venue to cancel ``o``."""

    @abc.abstractmethod
    def _modify(self, o: LiveOrder, price: float, qty: float) -> None:
        """Ask the venue to move ``o`` to ``price`` with the new total quantity ``qty`` (filled
        included, as venues take it); answer ``modified`` with the new leaves."""

    @abc.abstractmethod
    def _poll_due(self) -> None:
        """Poll the venue for answers when due (paced)."""

    def _answer(self, kind: int, oid: int, qty: float = 0.0, cash: float = 0.0,
                reason: str = "") -> None:
        """Queue one response, stamped with the local clock."""
        ts = int(self._now())
        self._seq += 1
        self._out.append((ts, kind, oid, qty, cash, self._seq))
        o = self.orders.get(oid)
        if reason:
            self.reasons[oid] = redact(reason)
        if o is not None:
            if kind == ACK and o.state == "pending":
                o.state = "working"
            elif kind in (CANCELLED, REJECTED):
                o.state = "done"
            elif kind == CANCEL_REJECTED and o.state == "cancelling":
                o.state = "working"
        if self.journal is not None and kind != FILL:
            from mmlab.runtime import OrderEvent  # on use: sending orders needs no runtime

            side = 0 if o is None else o.side
            price, leaves = (math.nan, math.nan) if o is None else (o.price, o.leaves)
            self.journal.record(OrderEvent(ts, _NAMES[kind], oid, self.symbol, side, price,
                                           leaves, _NAMES[kind], redact(reason)))

    def _ack(self, o: LiveOrder) -> None:
        if o.state == "pending":
            self._answer(ACK, o.order_id)

    def _fill(self, o: LiveOrder, qty: float, price: float, fee: float | None,
              maker: bool) -> None:
        """Answer one fill of ``o``: ``fee`` as the venue reported it in the settlement
        currency, or None for the modelled one."""
        if qty <= 0 or not math.isfinite(price) or price <= 0:
            return
        if o.state == "done":  # cannot happen with _end's ordering; kept visible if it does
            self.reasons[o.order_id] = redact(f"fill of {qty} after the order's end (not sent)")
            return
        if o.state == "pending":
            self._ack(o)  # a fill implies the venue accepted the order
        f = self.spec.fee(price, qty, maker) if fee is None or not math.isfinite(fee) else fee
        o.filled += qty
        o.leaves = max(o.leaves - qty, 0.0)
        self._answer(FILL, o.order_id, qty, self.spec.cash(o.side, qty, price, f))
        if self.journal is not None:
            from mmlab.runtime import OrderEvent

            self.journal.record(OrderEvent(int(self._now()), "fill", o.order_id, self.symbol,
                                           o.side, price, qty, "filled" if o.leaves <= 0 else
                                           "partially_filled", f"fee {f:.10g}"))
        if o.leaves <= self.spec.lot * 1e-6:
            o.state = "done"  # filled: the fill itself tells the local side
        self._settle(o)

    def _end(self, o: LiveOrder, venue_filled: float | None, reason: str = "") -> None:
        """The venue says ``o`` is gone (cancelled, expired) with ``venue_filled`` traded (None:
        it did not say; what was heard is all): the ``cancelled`` answer waits until the fills
        up to that quantity have been answered."""
        if not o.live:
            return
        o.end = (CANCELLED, o.filled if venue_filled is None else float(venue_filled))
        if reason:
            self.reasons[o.order_id] = redact(reason)
        self._settle(o)

    def _settle(self, o: LiveOrder) -> None:
        if o.end is None or not o.live:
            return
        kind, need = o.end
        if o.filled + 1e-12 * max(need, 1.0) >= need:
            o.end = None
            self._answer(kind, o.order_id, reason=self.reasons.get(o.order_id, ""))

    def _refuse(self, exc: LiveTradingDisabled, kind: int, oid: int, side: int) -> None:
        self.refused.append(exc)
        if self.journal is not None:
            self.journal.record(exc.refused_event())
        if kind == NEW:
            self.orders[oid] = LiveOrder(oid, side, exc.price, exc.qty, False, state="done")
            self._answer(REJECTED, oid, reason=exc.reason)
        else:
            self._answer(MODIFY_REJECTED, oid, reason=exc.reason)

    def _journal_request(self, kind: str, o: LiveOrder, price: float, qty: float) -> None:
        if self.journal is not None:
            from mmlab.runtime import OrderEvent

            self.journal.record(OrderEvent(int(self._now()), kind, o.order_id, self.symbol,
                                           o.side, price, qty, "sent"))

    def _check(self, requests: Any) -> np.ndarray:
        if not isinstance(requests, np.ndarray) or requests.dtype != REQUEST_DTYPE:
            raise ConfigError("requests: expected a numpy array of REQUEST_DTYPE rows, got "
                              f"{getattr(requests, 'dtype', type(requests).__name__)}")
        rows = np.sort(requests, order=["ts", "seq"]) if len(requests) > 1 else requests
        new_ids: set[int] = set()
        for i, r in enumerate(rows):
            kind, oid = int(r["kind"]), int(r["order_id"])
            where = f"requests row {i} (order {oid})"
            if kind not in (NEW, CANCEL, MODIFY):
                raise ConfigError(f"{where}: kind {kind} is not new (1), cancel (2) or "
                                  "modify (3)")
            if kind == CANCEL:
                continue
            qty = float(r["qty"])
            if not (math.isfinite(qty) and qty > 0) or self.spec.amount(qty) <= 0:
                raise ConfigError(f"{where}: qty must be at least one lot "
                                  f"({self.spec.lot}), got {qty!r}")
            if int(r["price_tick"]) <= 0:
                raise ConfigError(f"{where}: price_tick must be > 0, got {int(r['price_tick'])}")
            if kind == NEW:
                if int(r["side"]) not in (1, -1):
                    raise ConfigError(f"{where}: side must be +1 or -1, got {int(r['side'])}")
                if oid in self.orders or oid in new_ids:
                    raise ConfigError(f"{where}: order id {oid} was already used")
                new_ids.add(oid)
            elif oid not in self.orders and oid not in new_ids:
                raise ConfigError(f"{where}: modify of an order never sent")
        return rows
