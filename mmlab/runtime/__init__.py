"""Runtime: the event bus, typed events and the SQLite trading journal."""

from __future__ import annotations

from mmlab.runtime._bus import EventBus
from mmlab.runtime._events import FillEvent, OrderEvent, QuoteEvent, RiskEvent, event_to_dict
from mmlab.runtime._journal import Journal

__all__ = sorted(
    ["EventBus", "FillEvent", "Journal", "OrderEvent", "PaperSession", "QuoteEvent", "RiskEvent",
     "SessionResult", "event_to_dict"]
)


def __getattr__(name: str):
    # The session builds on mmlab.execution, which itself publishes on this package's bus:
    # import it lazily to keep the import graph acyclic.
    if name in ("PaperSession", "SessionResult"):
        from mmlab.runtime import _session

        return getattr(_session, name)
    raise AttributeError(name)
