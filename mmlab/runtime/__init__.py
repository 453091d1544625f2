"""Runtime: the event bus, typed events and the SQLite trading journal."""

from __future__ import annotations

from mmlab.runtime._bus import EventBus
from mmlab.runtime._events import FillEvent, OrderEvent, QuoteEvent, RiskEvent, event_to_dict
from mmlab.runtime._journal import Journal

__all__ = sorted(
    ["EventBus", "FillEvent", "Journal", "OrderEvent", "QuoteEvent", "RiskEvent", "event_to_dict"]
)
