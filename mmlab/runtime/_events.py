"""Typed events every pipeline step publishes (to the event bus, the journal and dashboards)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["FillEvent", "OrderEvent", "RiskEvent", "event_to_dict"]


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """Something happened to an order (a request we sent or an answer from the venue)."""

    ts: int
    kind: str
    order_id: int
    symbol: str
    side: int
    price: float
    qty: float
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FillEvent:
    """One of our orders traded; ``position`` is the position after the fill."""

    ts: int
    order_id: int
    symbol: str
    side: int
    qty: float
    price: float
    maker: bool
    fee: float
    position: float
    mid: float


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A risk state change: a halt, the kill switch, a breaker, toxicity."""

    ts: int
    symbol: str
    kind: str
    detail: str


def event_to_dict(event) -> dict:
    """A plain dict with the event's type name under ``type`` (for JSON and the journal)."""
    d = asdict(event)
    d["type"] = type(event).__name__
    return d
