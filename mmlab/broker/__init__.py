"""Brokers: the live-trading gate, credentials from the environment, venue adapters.

Paper is the default; :class:`CcxtVenue` (crypto) and :class:`IbkrVenue` (Interactive Brokers)
place orders only when the configuration says ``mode="live"`` and ``MMLAB_LIVE=1`` is set.
"""

from __future__ import annotations

from mmlab.broker._ccxt import CcxtVenue
from mmlab.broker._credentials import Credentials, credentials_from_env
from mmlab.broker._gate import LIVE_ENV, LiveTradingDisabled, VenueConfig, live_allowed, require_live
from mmlab.broker._ibkr import IbkrVenue

__all__ = sorted(
    [
        "CcxtVenue",
        "Credentials",
        "IbkrVenue",
        "LIVE_ENV",
        "LiveTradingDisabled",
        "VenueConfig",
        "credentials_from_env",
        "live_allowed",
        "require_live",
    ]
)
