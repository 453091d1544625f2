"""Interactive Brokers through ib_async (TWS or IB Gateway): a venue adapter of the one trading
core, behind the live gate.

Requests (:data:`~mmlab.backtest.REQUEST_DTYPE` rows) become ``IB.placeOrder`` (a GTC limit
order at ``price_tick x tick``, ``orderRef`` = ``client_prefix + order_id``; IB assigns its own
order id) and ``IB.cancelOrder``; a modify re-places the same IB order with the new price and
the new total quantity the request carries (filled included: TWS's ``totalQuantity``), and is
answered modified (with the new leaves) once ``placeOrder`` returns. TWS has no post-only order for most
destinations: the flag is not sent (documented, not emulated).

Answers arrive on ``orderStatusEvent`` (ack on ``PreSubmitted`` / ``Submitted``; cancelled on
``Cancelled`` / ``ApiCancelled``, or ``Inactive`` after an ack; rejected on ``Inactive`` before
one), ``execDetailsEvent`` (fills, each execution id once) and ``errorEvent`` (a refused cancel
is cancel_rejected; an error before the ack, rejected). They are turned into responses when
ib_async delivers them, which :meth:`IbkrVenue.advance` lets it do (``IB.sleep(0)``). TWS does
not say at execution time whether a fill added or took liquidity, nor (until its commission
report) what it cost: fills of resting limit orders are treated as maker fills and charged the
modelled fee unless a commission is already attached.

Nothing connects until a live order is allowed; tests inject a fake ``IB`` and never reach the
network. Every new order and modify passes :func:`~mmlab.broker.gate_order` first, at order
time; cancels are never gated. Client failures are redacted, and building the adapter turns on
log redaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mmlab.broker._errors import VenueError, client_call
from mmlab.broker._gate import VenueConfig, require_live
from mmlab.broker._wire_venue import (
    CANCEL_REJECTED,
    MODIFIED,
    MODIFY_REJECTED,
    REJECTED,
    LiveOrder,
    WireVenue,
)
from mmlab.errors import ConfigError
from mmlab.redaction import install_log_redaction

__all__ = ["IbkrVenue"]

# TWS error codes that are notices, not failures of the order (2100-2199: data farm and
# connection notices; 399: order held until the session opens; 202: the cancel's own echo)
_NOTICES = {202, 399}


class IbkrVenue(WireVenue):
    """An Interactive Brokers account as a venue adapter of the trading core (live only).

    Parameters
    ----------
    config : VenueConfig
        ``venue="ibkr"``, ``mode="live"``; host/port/client_id of TWS or the gateway
        (loopback by default).
    contract : ib_async.Contract
        What to trade (e.g. ``ib_async.Stock("SPY", "SMART", "USD")``).
    spec : ContractSpec or Instrument
        Tick and lot, contract value and fees.
    ib : ib_async.IB, optional
        A connected client (tests pass a fake); by default one is created and connected.
    now : callable, optional
        The local clock, ns (:func:`time.time_ns`); it stamps responses.
    journal : object, optional
        Records every request, refusal and answer (:class:`~mmlab.runtime.Journal`).
    client_prefix : str
        Put before our order id in ``orderRef``.

    Raises
    ------
    LiveTradingDisabled
        Unless ``config.mode == "live"`` and ``MMLAB_LIVE=1`` is in the process environment
        (checked here, before connecting, and again at every order).
    VenueError
        The connection to TWS / the gateway failed (message redacted).
    """

    def __init__(self, config: VenueConfig, contract: Any, spec: Any, *, ib: Any = None,
                 now: Callable[[], int] | None = None, journal: Any = None,
                 client_prefix: str = "mmlab-") -> None:
        if config.venue != "ibkr":
            raise ConfigError(f"config.venue: expected 'ibkr', got {config.venue!r}")
        super().__init__(config, spec, now=now, journal=journal)
        self.contract, self.symbol, self.client_prefix = contract, str(contract), client_prefix
        require_live(config)
        install_log_redaction()
        if ib is None:
            from ib_async import IB  # imported only once live trading is allowed

            ib = IB()
            client_call(ib.connect, config.host, config.port, clientId=config.client_id)
        self.ib = ib
        self._by_ib_id: dict[int, LiveOrder] = {}
        self._seen_exec: set[str] = set()
        #: the last failure of :meth:`advance` (redacted), None once one succeeds
        self.poll_error: str | None = None
        ib.orderStatusEvent += self._on_status
        ib.execDetailsEvent += self._on_exec
        if hasattr(ib, "errorEvent"):
            ib.errorEvent += self._on_error

    def __repr__(self) -> str:
        return f"IbkrVenue({self.config!r}, contract={self.contract!r})"

    # -------------------------------------------------------------- requests
    def _new(self, o: LiveOrder) -> None:
        from ib_async import LimitOrder

        ib_order = LimitOrder("BUY" if o.side > 0 else "SELL", o.leaves, o.price, tif="GTC")
        ib_order.orderRef = f"{self.client_prefix}{o.order_id}"
        try:
            trade = client_call(self.ib.placeOrder, self.contract, ib_order)
        except VenueError as exc:
            self._answer(REJECTED, o.order_id, reason=str(exc))
            return
        o.venue["trade"] = trade
        self._by_ib_id[int(trade.order.orderId)] = o

    def _cancel(self, o: LiveOrder) -> None:
        trade = o.venue.get("trade")
        if trade is None:
            self._answer(CANCEL_REJECTED, o.order_id, reason="unknown at the venue")
            return
        try:
            client_call(self.ib.cancelOrder, trade.order)
        except VenueError as exc:
            self._answer(CANCEL_REJECTED, o.order_id, reason=str(exc))
            return
        o.state = "cancelling"  # answered when TWS says Cancelled (or refuses: errorEvent)

    def _modify(self, o: LiveOrder, price: float, qty: float) -> None:
        trade = o.venue.get("trade")
        if trade is None:
            self._answer(MODIFY_REJECTED, o.order_id, reason="unknown at the venue")
            return
        before = trade.order.lmtPrice, trade.order.totalQuantity
        # qty: the order's new total quantity (filled included), IB's totalQuantity
        trade.order.lmtPrice, trade.order.totalQuantity = price, self.spec.amount(qty)
        try:
            client_call(self.ib.placeOrder, self.contract, trade.order)
        except VenueError as exc:
            trade.order.lmtPrice, trade.order.totalQuantity = before  # the old terms stand
            self._answer(MODIFY_REJECTED, o.order_id, reason=str(exc))
            return
        o.price, o.leaves = price, max(qty - o.filled, 0.0)
        self._answer(MODIFIED, o.order_id, o.leaves)

    # -------------------------------------------------------------- answers
    def _poll_due(self) -> None:
        sleep = getattr(self.ib, "sleep", None)
        if sleep is None:
            return
        try:  # lets ib_async deliver what TWS sent (its handlers run here)
            client_call(sleep, 0)
        except VenueError as exc:  # tried again at the next advance; the words kept, redacted
            self.poll_error = str(exc)
        else:
            self.poll_error = None

    def _on_status(self, trade) -> None:
        o = self._by_ib_id.get(int(trade.order.orderId))
        if o is None or not o.live:
            return
        status = trade.orderStatus.status
        filled = getattr(trade.orderStatus, "filled", None)
        if status in ("PreSubmitted", "Submitted"):
            self._ack(o)
        elif status in ("Cancelled", "ApiCancelled") or (status == "Inactive"
                                                         and o.state != "pending"):
            self._ack(o)
            self._end(o, None if filled is None else float(filled), status)
        elif status == "Inactive":
            self._answer(REJECTED, o.order_id, reason="Inactive (rejected by TWS)")

    def _on_exec(self, trade, fill) -> None:
        o = self._by_ib_id.get(int(trade.order.orderId))
        ex = fill.execution
        if o is None or ex.execId in self._seen_exec:
            return
        self._seen_exec.add(ex.execId)
        report = getattr(fill, "commissionReport", None)
        fee = getattr(report, "commission", None)
        known: float | None = None
        if (isinstance(fee, (int, float)) and math.isfinite(fee) and fee != 0
                and self.spec.settle_ccy and getattr(report, "currency", "") == self.spec.settle_ccy):
            known = float(fee)
        self._fill(o, float(ex.shares), float(ex.price), known, maker=True)

    def _on_error(self, req_id, code, message, *args) -> None:
        o = self._by_ib_id.get(int(req_id)) if isinstance(req_id, int) else None
        if o is None or not o.live or code in _NOTICES or 2100 <= int(code) < 2200:
            return
        reason = f"TWS error {code}: {message}"
        if o.state == "cancelling":
            self._answer(CANCEL_REJECTED, o.order_id, reason=reason)
        elif o.state == "pending":
            self._answer(REJECTED, o.order_id, reason=reason)
