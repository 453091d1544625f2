"""Brokers: venue adapters of the trading core, the live-trading gate, credentials from the
environment, redaction.

:class:`CcxtVenue` (crypto) and :class:`IbkrVenue` (Interactive Brokers) are
:class:`~mmlab.backtest.VenueAdapter` s: the core's local side (a
:class:`~mmlab.backtest.LoopbackDriver`) hands them :data:`~mmlab.backtest.REQUEST_DTYPE` rows
and takes :data:`~mmlab.backtest.RESPONSE_DTYPE` rows back; a :class:`ContractSpec` (or an
:class:`~mmlab.data.Instrument`) gives the tick, lot, contract value and fees. Paper is the
default; an adapter sends an order only when the configuration says ``mode="live"`` and
``MMLAB_LIVE=1`` is set in the process environment at that moment (:func:`gate_order`, called
for every new order and modify, at order time). Secrets never leave in clear: :func:`redact`
masks known keys and secret-looking fields in journal rows, adapter errors and (once an adapter
exists) every log record (the redaction functions live in :mod:`mmlab.redaction`, which the
journal uses too; re-exported here).
"""

from __future__ import annotations

from mmlab.broker._ccxt import CcxtVenue
from mmlab.broker._credentials import Credentials, credentials_from_env
from mmlab.broker._errors import VenueError
from mmlab.broker._gate import (
    LIVE_ENV,
    LiveTradingDisabled,
    VenueConfig,
    gate_order,
    live_allowed,
    require_live,
)
from mmlab.broker._ibkr import IbkrVenue
from mmlab.broker._spec import ContractSpec
from mmlab.redaction import RedactingFilter, install_log_redaction, redact, register_secret

__all__ = [
    "CcxtVenue",
    "ContractSpec",
    "Credentials",
    "IbkrVenue",
    "LIVE_ENV",
    "LiveTradingDisabled",
    "RedactingFilter",
    "VenueConfig",
    "VenueError",
    "credentials_from_env",
    "gate_order",
    "install_log_redaction",
    "live_allowed",
    "redact",
    "register_secret",
    "require_live",
]
