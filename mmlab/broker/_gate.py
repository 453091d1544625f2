"""The live-trading gate and venue configuration.

Paper is the default everywhere. A live venue sends an order only when its configuration says
``mode="live"`` **and** the process environment says so too (``MMLAB_LIVE=1`` in ``os.environ``).
The decision is made in one place, :func:`gate_order`, which every venue adapter calls for each
new order and each modify request, at order time, before anything is built or sent: unsetting
the variable stops a running session's next order. No constructor argument can satisfy it: the
environment is always the process's own.

A refused order ends in a clean state. The live adapters (:mod:`mmlab.broker._wire_venue`)
answer the trading core's local side as a venue reject would (a ``rejected`` response for a new
order, ``modify_rejected`` for a modify), so no order is left pending, journal the refusal and
raise :class:`LiveTradingDisabled`. A caller with an order-manager style listener may pass it
as ``manager``: :func:`gate_order` then answers it (``on_refused(order_id, ts, reason, action)``
if it has one, otherwise ``on_reject`` / ``on_modify_reject``) before raising. The exception
carries the refused request; :meth:`LiveTradingDisabled.refused_event` turns it into an
``OrderEvent`` of kind ``"refused"`` (status ``"refused"``) for a caller that journals it itself.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, fields

from mmlab.errors import ConfigError, MMLabError
from mmlab.redaction import MASK, known_secrets

__all__ = ["LIVE_ENV", "LiveTradingDisabled", "VenueConfig", "gate_order", "live_allowed",
           "require_live"]

#: The environment variable that must be "1" for any live order.
LIVE_ENV = "MMLAB_LIVE"

_SECRET_WORDS = ("key", "secret", "password", "token", "passphrase", "signature")
_PATTERNS = {
    "exchange_id": re.compile(r"[a-z][a-z0-9_]{1,31}"),
    "host": re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}"),
    # IB account ids (U1234567, DU1234567, F1234567) or a short sub-account label
    "account": re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,31}"),
}


class LiveTradingDisabled(MMLabError, PermissionError):
    """A live order was refused by the safety gate, before anything was sent.

    Parameters
    ----------
    message : str
        What is missing (the configuration, the environment or both).
    action : str
        ``"submit"`` or ``"modify"`` (empty when raised outside an order).
    order_id : int, optional
        Our id of the refused order.
    ts : int
        When (ns, the caller's clock).
    symbol : str
        The venue's symbol (or contract) of the order.
    side : int
        +1 buy, -1 sell.
    price, qty : float
        The requested terms (the new terms of a refused modify).
    """

    def __init__(self, message: str, *, action: str = "", order_id: int | None = None,
                 ts: int = 0, symbol: str = "", side: int = 0, price: float = math.nan,
                 qty: float = math.nan):
        super().__init__(message)
        self.reason, self.action, self.order_id, self.ts = message, action, order_id, ts
        self.symbol, self.side, self.price, self.qty = symbol, side, price, qty

    def refused_event(self):
        """The refusal as an ``OrderEvent`` (kind and status ``"refused"``), for the journal.

        Examples
        --------
        >>> e = LiveTradingDisabled("live trading refused: ...", action="submit", order_id=7,
        ...                         ts=5, symbol="BTC/USDT:USDT", side=1, price=100.0, qty=0.1)
        >>> ev = e.refused_event(); (ev.kind, ev.status, ev.order_id)
        ('refused', 'refused', 7)
        """
        from mmlab.runtime import OrderEvent  # on use: sending orders needs no runtime

        return OrderEvent(self.ts, "refused", -1 if self.order_id is None else self.order_id,
                          self.symbol, self.side, self.price, self.qty, "refused",
                          f"{self.action}: {self.reason}" if self.action else self.reason)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """Where orders go. Holds no credentials (they come from the environment only).

    Parameters
    ----------
    venue : str
        ``"paper"`` (simulated, the default), ``"ccxt"`` (crypto) or ``"ibkr"`` (Interactive
        Brokers through ib_async).
    mode : str
        ``"paper"`` (default) or ``"live"``.
    exchange_id : str
        The ccxt exchange id (e.g. ``"binanceusdm"``).
    host, port, client_id : str, int, int
        TWS / IB Gateway connection (loopback by default; 7497 is TWS's paper port).
    account : str
        The IB account id (``U1234567``, ``DU1234567``) or a sub-account label: at most 32
        letters, digits, ``_.-``. A value that looks like a credential (a secret word, a long
        mixed-case alphanumeric token, or the value of a secret environment variable) is refused.

    Examples
    --------
    >>> VenueConfig("ccxt", exchange_id="binanceusdm").mode
    'paper'
    >>> VenueConfig("ibkr", mode="live", account="DU1234567").account
    'DU1234567'
    >>> VenueConfig("ibkr", account="hGt5Kq92LmXc0PzA7wRb")
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: account: looks like a credential (value not shown); credentials come from the environment only
    >>> VenueConfig("ccxt", mode="live", api_key="x")
    Traceback (most recent call last):
    ...
    TypeError: VenueConfig.__init__() got an unexpected keyword argument 'api_key'
    """

    venue: str = "paper"
    mode: str = "paper"
    exchange_id: str = ""
    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 1
    account: str = ""

    def __post_init__(self) -> None:
        if self.venue not in ("paper", "ccxt", "ibkr"):
            raise ConfigError(f"venue: expected 'paper', 'ccxt' or 'ibkr', got {self.venue!r}")
        if self.mode not in ("paper", "live"):
            raise ConfigError(f"mode: expected 'paper' or 'live', got {self.mode!r}")
        if self.venue == "paper" and self.mode == "live":
            raise ConfigError("mode: the paper venue cannot be live")
        if self.venue == "ccxt" and not self.exchange_id:
            raise ConfigError("exchange_id: required for a ccxt venue")
        secrets = known_secrets()
        for name, pattern in _PATTERNS.items():
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ConfigError(f"{name}: expected a string, got {type(value).__name__}")
            if value and (_looks_secret(value, words=name == "account")
                          or any(s in value for s in secrets)):
                raise ConfigError(f"{name}: looks like a credential (value not shown); "
                                  "credentials come from the environment only")
            if value and not pattern.fullmatch(value):
                shown = repr(value) if len(value) <= 32 else f"a {len(value)}-character value"
                raise ConfigError(f"{name}: expected {pattern.pattern!r}, got {shown}")
        for name in ("port", "client_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name}: expected an integer, got {value!r}")

    def __repr__(self) -> str:
        # values passed validation (no credential), masked again in case a secret is set later
        secrets = known_secrets()
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, str) and any(s in v for s in secrets):
                v = MASK
            parts.append(f"{f.name}={v!r}")
        return f"VenueConfig({', '.join(parts)})"


def _looks_secret(value: str, words: bool) -> bool:
    """A long token mixing upper case, lower case and digits (or, with ``words``, a secret word:
    not for host names and exchange ids, where ``hashkey`` or ``keystone`` are legitimate)."""
    if words and any(w in value.lower() for w in _SECRET_WORDS):
        return True
    mixed = (any(c.isupper() for c in value) and any(c.islower() for c in value)
             and any(c.isdigit() for c in value))
    return len(value) >= 16 and mixed


def _missing(config: VenueConfig) -> list[str]:
    missing = []
    if config.mode != "live":
        missing.append(f"the configuration says mode={config.mode!r}, not 'live'")
    if os.environ.get(LIVE_ENV, "") != "1":
        missing.append(f"the environment does not set {LIVE_ENV}=1")
    return missing


def live_allowed(config: VenueConfig) -> bool:
    """True only when the config is live and ``MMLAB_LIVE=1`` is in the process environment now.

    Examples
    --------
    >>> live_allowed(VenueConfig("ccxt", exchange_id="binanceusdm"))
    False
    """
    return not _missing(config)


def require_live(config: VenueConfig) -> None:
    """Raise :class:`LiveTradingDisabled` unless a live order is allowed now (says what is missing).

    Examples
    --------
    >>> require_live(VenueConfig("ccxt", exchange_id="binanceusdm"))
    Traceback (most recent call last):
    ...
    mmlab.broker._gate.LiveTradingDisabled: live trading refused: the configuration says mode='paper', not 'live'...
    """
    missing = _missing(config)
    if missing:
        raise LiveTradingDisabled("live trading refused: " + "; ".join(missing))


def gate_order(config: VenueConfig, order, action: str, now: int, *, symbol: str,
               manager=None, price: float | None = None, qty: float | None = None) -> None:
    """The gate at the adapter boundary: return if ``order`` may be sent now, else refuse it.

    Called by every adapter for each new order and modify, before any request is built.
    On refusal, ``manager`` (if any) is answered as by a venue reject (``on_refused`` if it
    has one, else ``on_reject`` / ``on_modify_reject``) so the order is not left pending, then
    :class:`LiveTradingDisabled` is raised carrying the refused request.

    Parameters
    ----------
    config : VenueConfig
        The adapter's configuration.
    order : Order
        The order to send (``order_id``, ``side``, ``price``, ``qty``).
    action : str
        ``"submit"`` or ``"modify"``.
    now : int
        The caller's clock (ns).
    symbol : str
        The venue symbol (journalled with the refusal).
    manager : object, optional
        A listener answered on refusal (the live adapters pass none: they answer the local
        side with a response themselves).
    price, qty : float, optional
        The requested terms of a modify (default: the order's own).

    Raises
    ------
    LiveTradingDisabled
        Unless the configuration is live and ``MMLAB_LIVE=1`` is set in ``os.environ`` now.
    """
    missing = _missing(config)
    if not missing:
        return
    side = getattr(order.side, "value", order.side)
    exc = LiveTradingDisabled(
        "live trading refused: " + "; ".join(missing), action=action, order_id=order.order_id,
        ts=now, symbol=str(symbol), side=int(side),
        price=float(order.price if price is None else price),
        qty=float(order.qty if qty is None else qty))
    if manager is not None:
        hook = getattr(manager, "on_refused", None)
        if hook is not None:
            hook(order.order_id, now, exc.reason, action)
        elif action == "modify":
            manager.on_modify_reject(order.order_id, now, exc.reason)
        else:
            manager.on_reject(order.order_id, now, exc.reason)
    raise exc
