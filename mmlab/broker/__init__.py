"""Brokers: the live-trading gate, credentials from the environment, venue adapters, redaction.

Paper is the default; :class:`CcxtVenue` (crypto) and :class:`IbkrVenue` (Interactive Brokers)
send an order only when the configuration says ``mode="live"`` and ``MMLAB_LIVE=1`` is set in the
process environment at that moment (:func:`gate_order`, called first in every adapter's send
path). Secrets never leave in clear: :func:`redact` masks known keys and secret-looking fields in
journal rows, adapter errors and (once an adapter exists) every log record (the redaction
functions live in :mod:`mmlab.redaction`, which the journal uses too; re-exported here).
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
from mmlab.redaction import RedactingFilter, install_log_redaction, redact, register_secret

__all__ = [
    "CcxtVenue",
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
