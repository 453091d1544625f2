"""Execution: the order model and its state machine.

The trading core's own order handling (the local side's order states, reconciliation, the hard
limit, the throttle) and account are in :mod:`mmlab.backtest` (``core/local_orders.py``,
``core/primitives.py``), driven by :func:`mmlab.backtest.run`, :class:`mmlab.backtest.StepDriver`
and :class:`mmlab.backtest.LoopbackDriver`; live venues plug into it as venue adapters
(:mod:`mmlab.broker`).
"""

from __future__ import annotations

from mmlab.execution._order import Order, OrderRecord
from mmlab.execution._types import OrderEventKind, OrderStatus, OrderType, Side, TimeInForce

__all__ = [
    "Order",
    "OrderEventKind",
    "OrderRecord",
    "OrderStatus",
    "OrderType",
    "Side",
    "TimeInForce",
]
