"""Interactive Brokers through ib_async (TWS or IB Gateway), behind the live-trading gate.

Implements the order manager's venue protocol. Requests go through ``IB.placeOrder`` /
``IB.cancelOrder`` (a modify re-places the same order with new terms, as the TWS API does);
answers arrive on ``orderStatusEvent`` and ``execDetailsEvent`` and are forwarded to the manager
(each execution id once). TWS does not say whether a fill added or took liquidity: fills of
resting limit orders are reported as maker fills, documented here. Nothing connects until a live
order is allowed; tests inject a fake ``IB`` and never reach the network.

Every ``placeOrder`` (new order or modify) passes :func:`~mmlab.broker.gate_order` first, at
order time; cancels are never gated. Client failures surface as a redacted
:class:`~mmlab.broker.VenueError`, and building the adapter turns on log redaction.
"""

from __future__ import annotations

import math
from typing import Any

from mmlab.broker._errors import VenueError, client_call
from mmlab.broker._gate import VenueConfig, gate_order, require_live
from mmlab.errors import ConfigError
from mmlab.redaction import install_log_redaction

__all__ = ["IbkrVenue"]

_TIF = {"gtc": "GTC", "gtx": "GTC", "ioc": "IOC", "fok": "FOK"}


class IbkrVenue:
    """An Interactive Brokers account as an mmlab venue (live only).

    Parameters
    ----------
    config : VenueConfig
        ``venue="ibkr"``, ``mode="live"``; host/port/client_id of TWS or the gateway
        (loopback by default).
    contract : ib_async.Contract
        What to trade (e.g. ``ib_async.Stock("SPY", "SMART", "USD")``).
    manager : OrderManager, optional
        Who gets the answers (or :meth:`attach` later).
    ib : ib_async.IB, optional
        A connected client (tests pass a fake); by default one is created and connected.

    Raises
    ------
    LiveTradingDisabled
        Unless ``config.mode == "live"`` and ``MMLAB_LIVE=1`` is in the process environment (checked
        here, before connecting, and again at every order).
    VenueError
        The connection to TWS / the gateway failed (message redacted).
    """

    def __init__(self, config: VenueConfig, contract: Any, manager=None, *, ib: Any = None):
        if config.venue != "ibkr":
            raise ConfigError(f"config.venue: expected 'ibkr', got {config.venue!r}")
        self.config, self.contract, self.manager = config, contract, manager
        require_live(config)
        install_log_redaction()
        if ib is None:
            from ib_async import IB  # imported only once live trading is allowed

            ib = IB()
            client_call(ib.connect, config.host, config.port, clientId=config.client_id)
        self.ib = ib
        self._trades: dict[int, Any] = {}
        self._ours: dict[int, int] = {}  # IB orderId -> our order id
        self._seen_exec: set[str] = set()
        ib.orderStatusEvent += self._on_status
        ib.execDetailsEvent += self._on_exec

    def __repr__(self) -> str:
        return f"IbkrVenue({self.config!r}, contract={self.contract!r})"

    def attach(self, manager) -> None:
        """Set the order manager that receives the venue's answers."""
        self.manager = manager

    def submit(self, order, now: int) -> None:
        """Place a new order.

        Raises
        ------
        LiveTradingDisabled
            Unless live trading is allowed right now; the manager has then been answered with
            a refusal (see :func:`~mmlab.broker.gate_order`) and nothing was sent.

        A failure of ib_async to send (e.g. not connected) is reported as a reject with its
        words redacted.
        """
        gate_order(self.config, order, "submit", now, symbol=str(self.contract),
                   manager=self.manager)
        from ib_async import LimitOrder, MarketOrder, Order

        action = "BUY" if order.side.value > 0 else "SELL"
        ib_order: Order
        if order.order_type.value == "market" or math.isnan(order.price):
            ib_order = MarketOrder(action, order.qty)
        else:
            ib_order = LimitOrder(action, order.qty, order.price, tif=_TIF[order.tif.value])
        ib_order.orderRef = f"mmlab-{order.order_id}"
        try:
            trade = client_call(self.ib.placeOrder, self.contract, ib_order)
        except VenueError as exc:
            self.manager.on_reject(order.order_id, now, str(exc))
            return
        self._trades[order.order_id] = trade
        self._ours[trade.order.orderId] = order.order_id

    def modify(self, order, price: float, qty: float, now: int) -> None:
        """Re-place the same IB order with new price and size; gated like :meth:`submit`."""
        gate_order(self.config, order, "modify", now, symbol=str(self.contract),
                   manager=self.manager, price=price, qty=qty)
        trade = self._trades[order.order_id]
        before = trade.order.lmtPrice, trade.order.totalQuantity
        trade.order.lmtPrice, trade.order.totalQuantity = price, qty
        try:
            client_call(self.ib.placeOrder, self.contract, trade.order)
        except VenueError as exc:
            trade.order.lmtPrice, trade.order.totalQuantity = before  # the old terms still stand
            self.manager.on_modify_reject(order.order_id, now, str(exc))
            return
        self.manager.on_modify_ack(order.order_id, now)

    def cancel(self, order, now: int) -> None:
        """Cancel (never gated: a cancel only ever reduces risk)."""
        trade = self._trades.get(order.order_id)
        if trade is None:
            self.manager.on_cancel_reject(order.order_id, now, "unknown at the venue")
            return
        try:
            client_call(self.ib.cancelOrder, trade.order)
        except VenueError as exc:
            self.manager.on_cancel_reject(order.order_id, now, str(exc))

    # -------------------------------------------------------------- answers
    def _on_status(self, trade) -> None:
        oid = self._ours.get(trade.order.orderId)
        if oid is None or self.manager is None:
            return
        o = self.manager.orders[oid]
        status = trade.orderStatus.status
        ts = 0
        if status in ("PreSubmitted", "Submitted") and not o.acked:
            self.manager.on_ack(oid, ts)
        elif status in ("Cancelled", "ApiCancelled") and o.is_live:
            if o.pending_cancel:
                self.manager.on_cancel_ack(oid, ts)
            else:
                self.manager.on_venue_cancel(oid, ts, status)
        elif status == "Inactive" and o.is_live and not o.acked:
            self.manager.on_reject(oid, ts, "Inactive (rejected by TWS)")

    def _on_exec(self, trade, fill) -> None:
        oid = self._ours.get(trade.order.orderId)
        ex = fill.execution
        if oid is None or self.manager is None or ex.execId in self._seen_exec:
            return
        self._seen_exec.add(ex.execId)
        ts = int(fill.time.timestamp() * 1e9) if hasattr(fill.time, "timestamp") else 0
        self.manager.on_fill(oid, float(ex.shares), float(ex.price), ts, maker=True)
