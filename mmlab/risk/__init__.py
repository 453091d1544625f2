"""Risk: the inventory ladder's definition, Greek and notional limits, hedging, adverse selection
and portfolio aggregation.

The breakers (drawdown, daily loss, stale feed, vol surge, abnormal spread), the kill switch,
the throttle and the ladder's zones run inside the trading core, at every decision, in the
backtest, paper and live alike: see :class:`mmlab.backtest.BacktestConfig` (``max_position``,
``zones``, ``max_drawdown``, ``max_daily_loss``, ``stale_after``, ``max_spread``,
``max_mid_move``, ``max_order_rate``, ``toxicity_*``) and the drivers' ``kill`` / ``reset``.
:func:`ladder_decision` and :class:`ToxicityMonitor` state the ladder's and the toxicity
response's rules in plain Python.
"""

from __future__ import annotations

from mmlab.risk._adverse import ToxicityMonitor, markouts, one_sided_ratio, vpin, vpin_python
from mmlab.risk._hedge import DeltaHedgeConfig, DeltaHedger, HedgeOrder
from mmlab.risk._ladder import (
    RiskDecision,
    RiskLimits,
    Zone,
    ladder_decision,
    side_usage,
    zone_of,
)
from mmlab.risk._portfolio import aggregate_greeks, allocate_capital, risk_contributions

__all__ = [
    "DeltaHedgeConfig",
    "DeltaHedger",
    "HedgeOrder",
    "RiskDecision",
    "RiskLimits",
    "ToxicityMonitor",
    "Zone",
    "aggregate_greeks",
    "allocate_capital",
    "ladder_decision",
    "markouts",
    "one_sided_ratio",
    "risk_contributions",
    "side_usage",
    "vpin",
    "vpin_python",
    "zone_of",
]
