"""Crypto venues through ccxt, behind the live-trading gate.

The adapter implements the order manager's venue protocol (``submit``, ``modify``, ``cancel``)
and reports answers back through the manager's ``on_*`` methods: ``create_order`` answers at once
(ack or reject), fills are collected by :meth:`CcxtVenue.poll` from ``fetch_my_trades`` (each
trade id once). ccxt is imported and the exchange built only once live trading is allowed; tests
inject a fake exchange object and never reach the network.

Every ``submit`` and ``modify`` passes :func:`~mmlab.broker.gate_order` first (see
:mod:`mmlab.broker._gate`); cancels are never gated (a cancel only reduces risk). The venue's
words (reject reasons, errors) are redacted before they reach the manager, the journal or an
exception, and building the adapter turns on log redaction for the process (ccxt prints request
headers, the API key among them, at DEBUG).
"""

from __future__ import annotations

import math
from typing import Any

from mmlab.broker._credentials import credentials_from_env
from mmlab.broker._errors import client_call
from mmlab.broker._gate import VenueConfig, gate_order, require_live
from mmlab.errors import ConfigError
from mmlab.redaction import install_log_redaction, redact

__all__ = ["CcxtVenue"]


def _reason(exc: Exception) -> str:
    return redact(f"{type(exc).__name__}: {exc}")


def _quiet_log(*args) -> None:
    """ccxt's ``verbose`` printer, redacted (it prints request headers and signed URLs)."""
    print(redact(" ".join(str(a) for a in args)))  # noqa: T201 - ccxt's own verbose channel


class CcxtVenue:
    """A ccxt exchange as an mmlab venue (live only).

    Parameters
    ----------
    config : VenueConfig
        ``venue="ccxt"``, ``mode="live"`` and the ccxt ``exchange_id``.
    symbol : str
        The ccxt market symbol, e.g. ``"BTC/USDT:USDT"`` for Binance's USD-M perpetual.
    manager : OrderManager, optional
        Who gets the answers (set later with :meth:`attach`).
    exchange : object, optional
        A ready ccxt exchange (tests pass a fake); by default one is built from the config with
        credentials from the environment (``MMLAB_<EXCHANGE_ID>_API_KEY`` / ``_API_SECRET``).

    Raises
    ------
    LiveTradingDisabled
        Unless ``config.mode == "live"`` and ``MMLAB_LIVE=1`` is in the process environment (checked
        here, before anything is imported or built, and again at every order).
    """

    def __init__(self, config: VenueConfig, symbol: str, manager=None, *, exchange: Any = None):
        if config.venue != "ccxt":
            raise ConfigError(f"config.venue: expected 'ccxt', got {config.venue!r}")
        self.config, self.symbol, self.manager = config, symbol, manager
        require_live(config)
        install_log_redaction()
        if exchange is None:
            import ccxt  # imported only once live trading is allowed

            creds = credentials_from_env(config.exchange_id)
            cls = getattr(ccxt, config.exchange_id, None)
            if cls is None:
                raise ConfigError(f"exchange_id: ccxt has no exchange {config.exchange_id!r}")
            exchange = client_call(cls, {"apiKey": creds.api_key, "secret": creds.secret,
                                         "password": creds.passphrase or None,
                                         "enableRateLimit": True})
        if hasattr(exchange, "log"):
            exchange.log = _quiet_log
        self.exchange = exchange
        self._venue_id: dict[int, str] = {}
        self._by_venue_id: dict[str, int] = {}
        self._seen_trades: set[str] = set()

    def __repr__(self) -> str:
        return f"CcxtVenue({self.config!r}, symbol={self.symbol!r})"

    def attach(self, manager) -> None:
        """Set the order manager that receives the venue's answers."""
        self.manager = manager

    # -------------------------------------------------------------- requests
    @staticmethod
    def _params(order) -> dict:
        params: dict[str, Any] = {"clientOrderId": f"mmlab-{order.order_id}"}
        tif = order.tif.value
        if tif == "gtx":
            params["postOnly"] = True
        elif tif in ("ioc", "fok"):
            params["timeInForce"] = tif.upper()
        return params

    def submit(self, order, now: int) -> None:
        """Send a new order.

        Raises
        ------
        LiveTradingDisabled
            Unless live trading is allowed right now; the manager has then been answered with
            a refusal (see :func:`~mmlab.broker.gate_order`) and nothing was sent.
        """
        gate_order(self.config, order, "submit", now, symbol=self.symbol, manager=self.manager)
        kind = "market" if order.order_type.value == "market" else "limit"
        side = "buy" if order.side.value > 0 else "sell"
        price = None if math.isnan(order.price) else order.price
        try:
            res = self.exchange.create_order(self.symbol, kind, side, order.qty, price,
                                             self._params(order))
        except Exception as exc:  # the venue said no: a reject, with its words (redacted)
            self.manager.on_reject(order.order_id, now, _reason(exc))
            return
        vid = str(res.get("id"))
        self._venue_id[order.order_id] = vid
        self._by_venue_id[vid] = order.order_id
        status = res.get("status")
        if status in ("rejected",):
            self.manager.on_reject(order.order_id, now, "rejected by the venue")
            return
        self.manager.on_ack(order.order_id, now)
        if status == "canceled":  # e.g. an IOC/post-only order that could not rest
            self.manager.on_expire(order.order_id, now, "cancelled by the venue on entry")

    def modify(self, order, price: float, qty: float, now: int) -> None:
        """Amend price and size (``edit_order``); gated like :meth:`submit`."""
        gate_order(self.config, order, "modify", now, symbol=self.symbol, manager=self.manager,
                   price=price, qty=qty)
        vid = self._venue_id.get(order.order_id)
        side = "buy" if order.side.value > 0 else "sell"
        try:
            res = self.exchange.edit_order(vid, self.symbol, "limit", side, qty, price,
                                           self._params(order))
        except Exception as exc:
            self.manager.on_modify_reject(order.order_id, now, _reason(exc))
            return
        new_vid = str(res.get("id", vid))
        self._venue_id[order.order_id] = new_vid
        self._by_venue_id[new_vid] = order.order_id
        self.manager.on_modify_ack(order.order_id, now)

    def cancel(self, order, now: int) -> None:
        """Cancel (never gated: a cancel only ever reduces risk)."""
        vid = self._venue_id.get(order.order_id)
        if vid is None:
            self.manager.on_cancel_reject(order.order_id, now, "unknown at the venue")
            return
        try:
            self.exchange.cancel_order(vid, self.symbol)
        except Exception as exc:
            self.manager.on_cancel_reject(order.order_id, now, _reason(exc))
            return
        self.manager.on_cancel_ack(order.order_id, now)

    # -------------------------------------------------------------- reports
    def poll(self, now: int, since: int | None = None) -> int:
        """Collect our fills since ``since`` (ms) and report each trade once; returns how many.

        Raises
        ------
        VenueError
            The exchange failed (its message redacted).
        """
        trades = client_call(self.exchange.fetch_my_trades, self.symbol, since)
        n = 0
        for t in trades:
            tid = str(t.get("id"))
            oid = self._by_venue_id.get(str(t.get("order")))
            if tid in self._seen_trades or oid is None:
                continue
            self._seen_trades.add(tid)
            maker = t.get("takerOrMaker", "maker") == "maker"
            ts = int(t.get("timestamp", now // 1_000_000)) * 1_000_000
            self.manager.on_fill(oid, float(t["amount"]), float(t["price"]), ts, maker=maker)
            n += 1
        return n

