"""Crypto venues through ccxt: a venue adapter of the one trading core, behind the live gate.

Requests (:data:`~mmlab.backtest.REQUEST_DTYPE` rows) become ``create_order`` (a limit order at
``price_tick x tick``, ``postOnly`` when the request says so, ``clientOrderId`` =
``client_prefix + order_id``), ``cancel_order`` and ``edit_order`` (a modify: the new price and
the new total quantity the request carries, filled included, as exchanges' amend endpoints take
it; exchanges without a native amend cancel and re-place, ccxt's default).
``create_order`` answers at once (ack, or rejected with the venue's words, redacted);
``cancel_order`` answers cancelled once the fills the venue counts on the order have been
heard, ``edit_order`` modified (its new venue id is followed too). Fills come from
``fetch_my_trades`` (each trade id once) and venue-side ends (an order expired or cancelled by
the exchange) from ``fetch_open_orders`` / ``fetch_order``, both at most every ``poll_every``
ns of the adapter's clock when the local side advances, or at once with :meth:`CcxtVenue.poll`.

ccxt is imported and the exchange built only once live trading is allowed; tests inject a fake
exchange and never reach the network. Every new order and modify passes
:func:`~mmlab.broker.gate_order` first, at order time (see :mod:`mmlab.broker._wire_venue`);
cancels are never gated. Building the adapter turns on log redaction for the process (ccxt
prints request headers, the API key among them, at DEBUG).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mmlab.broker._credentials import credentials_from_env
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
from mmlab.redaction import install_log_redaction, redact

__all__ = ["CcxtVenue"]

_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{0,16}")


def _reason(exc: Exception) -> str:
    return redact(f"{type(exc).__name__}: {exc}")


def _quiet_log(*args) -> None:
    """ccxt's ``verbose`` printer, redacted (it prints request headers and signed URLs)."""
    print(redact(" ".join(str(a) for a in args)))  # noqa: T201 - ccxt's own verbose channel


def _num(x: Any) -> float | None:
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None


def _filled(o: LiveOrder, res: dict) -> float | None:
    """What the venue counts as filled on ``o`` (its current venue order's ``filled`` plus what
    filled before a cancel-and-replace modify gave it a new id); None if it does not say."""
    f = _num(res.get("filled"))
    return None if f is None else o.venue.get("base", 0.0) + f


class CcxtVenue(WireVenue):
    """A ccxt exchange as a venue adapter of the trading core (live only).

    Parameters
    ----------
    config : VenueConfig
        ``venue="ccxt"``, ``mode="live"`` and the ccxt ``exchange_id``.
    symbol : str
        The ccxt market symbol, e.g. ``"BTC/USDT:USDT"`` for Binance's USD-M perpetual.
    spec : ContractSpec or Instrument
        Tick and lot (a request's price is ``price_tick x tick``), contract value and fees.
    exchange : object, optional
        A ready ccxt exchange (tests pass a fake); by default one is built from the config with
        credentials from the environment (``MMLAB_<EXCHANGE_ID>_API_KEY`` / ``_API_SECRET``).
    now : callable, optional
        The local clock, ns (:func:`time.time_ns`); it stamps responses and paces polling.
    journal : object, optional
        Records every request, refusal and answer (:class:`~mmlab.runtime.Journal`).
    poll_every : int
        Least time (ns of ``now``) between two polls of the venue from :meth:`advance`.
    client_prefix : str
        Put before our order id in ``clientOrderId`` (order ids restart with each session: a
        per-session prefix keeps client ids unique on the account). At most 16 of
        ``A-Za-z0-9_.:-``.
    watch_orders : bool
        Also poll open orders to hear of orders the venue ended itself.

    Raises
    ------
    LiveTradingDisabled
        Unless ``config.mode == "live"`` and ``MMLAB_LIVE=1`` is in the process environment
        (checked here, before anything is imported or built, and again at every order).
    """

    def __init__(self, config: VenueConfig, symbol: str, spec: Any, *, exchange: Any = None,
                 now: Callable[[], int] | None = None, journal: Any = None,
                 poll_every: int = 1_000_000_000, client_prefix: str = "mmlab-",
                 watch_orders: bool = True) -> None:
        if config.venue != "ccxt":
            raise ConfigError(f"config.venue: expected 'ccxt', got {config.venue!r}")
        if not isinstance(client_prefix, str) or not _PREFIX.fullmatch(client_prefix):
            raise ConfigError(f"client_prefix: expected {_PREFIX.pattern}, got {client_prefix!r}")
        if isinstance(poll_every, bool) or not isinstance(poll_every, int) or poll_every < 0:
            raise ConfigError(f"poll_every: expected an integer >= 0 (ns), got {poll_every!r}")
        super().__init__(config, spec, now=now, journal=journal)
        self.symbol = symbol
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
        self.poll_every, self.client_prefix, self.watch_orders = (
            poll_every, client_prefix, watch_orders)
        self._by_venue_id: dict[str, LiveOrder] = {}
        self._seen_trades: set[str] = set()
        self._last_poll: int | None = None
        self._since_ms = int(self._now()) // 1_000_000 - 60_000
        #: the last failure of a poll from :meth:`advance` (redacted), None once one succeeds
        self.poll_error: str | None = None

    def __repr__(self) -> str:
        return f"CcxtVenue({self.config!r}, symbol={self.symbol!r})"

    # -------------------------------------------------------------- requests
    def _new(self, o: LiveOrder) -> None:
        params: dict[str, Any] = {"clientOrderId": f"{self.client_prefix}{o.order_id}"}
        if o.post_only:
            params["postOnly"] = True
        side = "buy" if o.side > 0 else "sell"
        try:
            res = self.exchange.create_order(self.symbol, "limit", side, o.leaves, o.price, params)
        except Exception as exc:  # the venue said no: a reject, with its words (redacted)
            self._answer(REJECTED, o.order_id, reason=_reason(exc))
            return
        res = res or {}
        self._follow(o, res.get("id"))
        status = res.get("status")
        if status == "rejected":
            self._answer(REJECTED, o.order_id, reason="rejected by the venue")
            return
        self._ack(o)
        if status in ("canceled", "expired"):  # e.g. a post-only order that would have crossed
            self._end(o, _filled(o, res), f"{status} by the venue on entry")

    def _cancel(self, o: LiveOrder) -> None:
        vid = o.venue.get("id")
        if vid is None:
            self._answer(CANCEL_REJECTED, o.order_id, reason="unknown at the venue")
            return
        o.state = "cancelling"
        try:
            res = self.exchange.cancel_order(vid, self.symbol)
        except Exception as exc:  # gone already (filled, cancelled): its fills are on the way
            self._answer(CANCEL_REJECTED, o.order_id, reason=_reason(exc))
            return
        filled = _filled(o, res or {})
        if filled is None or filled > o.filled:  # fills not heard yet: hear them first
            self._safe_poll()
        self._end(o, filled, "cancelled")

    def _modify(self, o: LiveOrder, price: float, qty: float) -> None:
        vid = o.venue.get("id")
        side = "buy" if o.side > 0 else "sell"
        params: dict[str, Any] = {"postOnly": True} if o.post_only else {}
        try:
            res = self.exchange.edit_order(vid, self.symbol, "limit", side, qty, price, params)
        except Exception as exc:
            self._answer(MODIFY_REJECTED, o.order_id, reason=_reason(exc))
            return
        self._follow(o, (res or {}).get("id", vid))
        o.price, o.leaves = price, max(qty - o.filled, 0.0)  # qty: the new total quantity
        self._answer(MODIFIED, o.order_id, o.leaves)

    def _follow(self, o: LiveOrder, vid: Any) -> None:
        if vid is None:
            return
        if "id" in o.venue and o.venue["id"] != str(vid):  # a new venue order from here on
            o.venue["base"] = o.filled
        o.venue["id"] = str(vid)
        self._by_venue_id[str(vid)] = o  # an old id stays followed: its late trades are ours

    # -------------------------------------------------------------- answers
    def _poll_due(self) -> None:
        t = int(self._now())
        if self._last_poll is not None and t - self._last_poll < self.poll_every:
            return
        if not any(o.live for o in self.orders.values()):
            return
        self._safe_poll()

    def _safe_poll(self) -> None:
        try:
            self.poll()
        except VenueError as exc:  # retried at the next advance; the words kept, redacted
            self.poll_error = str(exc)
        else:
            self.poll_error = None

    def poll(self) -> int:
        """Hear the venue now: our fills (each trade once) and the orders it ended itself.

        Returns
        -------
        int
            How many responses this produced.

        Raises
        ------
        VenueError
            The exchange failed (its message redacted).
        """
        before = self._seq
        self._last_poll = int(self._now())
        trades = client_call(self.exchange.fetch_my_trades, self.symbol, self._since_ms)
        for t in trades or ():
            tid = str(t.get("id"))
            o = self._by_venue_id.get(str(t.get("order")))
            if tid in self._seen_trades or o is None:
                continue
            self._seen_trades.add(tid)
            maker = t.get("takerOrMaker", "maker") == "maker"
            fee = t.get("fee") or {}
            cost = _num(fee.get("cost"))
            same_ccy = bool(self.spec.settle_ccy) and fee.get("currency") == self.spec.settle_ccy
            self._fill(o, float(t["amount"]), float(t["price"]), cost if same_ccy else None, maker)
        if self.watch_orders and hasattr(self.exchange, "fetch_open_orders"):
            self._sync_open()
        return self._seq - before

    def _sync_open(self) -> None:
        live = [o for o in self.orders.values()
                if o.live and o.end is None and o.state == "working" and "id" in o.venue]
        if not live:
            return
        still = {str(x.get("id")) for x in
                 client_call(self.exchange.fetch_open_orders, self.symbol) or ()}
        for o in live:
            if o.venue["id"] in still:
                continue
            res = client_call(self.exchange.fetch_order, o.venue["id"], self.symbol) or {}
            status = res.get("status")
            if status in ("canceled", "expired", "rejected"):
                self._end(o, _filled(o, res), f"{status} by the venue")
