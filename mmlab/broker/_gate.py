"""The live-trading gate and venue configuration.

Paper is the default everywhere. A live venue places an order only when its configuration says
``mode="live"`` **and** the environment says so too (``MMLAB_LIVE=1``); otherwise it refuses with
:class:`LiveTradingDisabled`, naming what is missing. The check runs when the venue is built and
again before every order, so unsetting the variable stops a running session's next order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mmlab.errors import ConfigError, MMLabError

__all__ = ["LIVE_ENV", "LiveTradingDisabled", "VenueConfig", "live_allowed", "require_live"]

#: The environment variable that must be "1" for any live order.
LIVE_ENV = "MMLAB_LIVE"

_SECRET_WORDS = ("key", "secret", "password", "token", "passphrase")


class LiveTradingDisabled(MMLabError, PermissionError):
    """A live order was refused by the safety gate."""


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

    Examples
    --------
    >>> VenueConfig("ccxt", exchange_id="binanceusdm").mode
    'paper'
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
        for name in ("exchange_id", "account", "host"):
            value = getattr(self, name)
            if any(w in value.lower() for w in _SECRET_WORDS) and len(value) > 24:
                raise ConfigError(f"{name}: looks like a credential; credentials come from the "
                                  "environment only")


def live_allowed(config: VenueConfig, environ: Mapping[str, str] | None = None) -> bool:
    """True only when the config is live and ``MMLAB_LIVE=1`` is set."""
    env = os.environ if environ is None else environ
    return config.mode == "live" and env.get(LIVE_ENV, "") == "1"


def require_live(config: VenueConfig, environ: Mapping[str, str] | None = None) -> None:
    """Raise :class:`LiveTradingDisabled` unless a live order is allowed (says what is missing).

    Examples
    --------
    >>> require_live(VenueConfig("ccxt", mode="live", exchange_id="binanceusdm"), environ={})
    Traceback (most recent call last):
    ...
    mmlab.broker._gate.LiveTradingDisabled: live trading refused: the environment does not set MMLAB_LIVE=1
    """
    env = os.environ if environ is None else environ
    missing = []
    if config.mode != "live":
        missing.append(f"the configuration says mode={config.mode!r}, not 'live'")
    if env.get(LIVE_ENV, "") != "1":
        missing.append(f"the environment does not set {LIVE_ENV}=1")
    if missing:
        raise LiveTradingDisabled("live trading refused: " + "; ".join(missing))
