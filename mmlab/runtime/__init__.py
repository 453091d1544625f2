"""Runtime: the event bus, typed events, the SQLite trading journal and ``replay`` (the step
driver fed a recording in batches)."""

from __future__ import annotations

from mmlab.runtime._bus import EventBus
from mmlab.runtime._events import FillEvent, OrderEvent, RiskEvent, event_to_dict
from mmlab.runtime._journal import Journal

__all__ = [
    "EventBus",
    "FillEvent",
    "Journal",
    "OrderEvent",
    "PaperSession",
    "RiskEvent",
    "VENUES",
    "event_to_dict",
    "replay",
]


def __getattr__(name: str):
    # The session and replay drive the trading core (mmlab.backtest, compiled with numba):
    # imported on first use so that the bus and the journal stay light.
    if name in ("replay", "VENUES"):
        from mmlab.runtime import _replay

        return getattr(_replay, name)
    if name == "PaperSession":
        from mmlab.runtime import _session

        return getattr(_session, name)
    raise AttributeError(name)
