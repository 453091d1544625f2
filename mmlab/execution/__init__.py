"""Execution: the order model and its state machine (order manager and simulated venue build on it)."""

from __future__ import annotations

from mmlab.execution._ledger import Fill, Ledger
from mmlab.execution._manager import DesiredOrder, OrderManager, RefreshRules, Venue
from mmlab.execution._order import Order, OrderRecord
from mmlab.execution._paper_venue import PaperVenue
from mmlab.execution._types import OrderEventKind, OrderStatus, OrderType, Side, TimeInForce

__all__ = [
    "DesiredOrder",
    "Fill",
    "Ledger",
    "Order",
    "OrderEventKind",
    "OrderManager",
    "OrderRecord",
    "OrderStatus",
    "OrderType",
    "PaperVenue",
    "RefreshRules",
    "Side",
    "TimeInForce",
    "Venue",
]
