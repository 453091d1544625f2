"""Risk: the inventory ladder, Greek and notional limits, breakers, kill switch and throttles."""

from __future__ import annotations

from mmlab.risk._adverse import ToxicityMonitor, markouts, one_sided_ratio, vpin, vpin_python
from mmlab.risk._breakers import (
    AbnormalSpreadBreaker,
    Breaker,
    DailyLossBreaker,
    DrawdownBreaker,
    KillSwitch,
    StaleDataBreaker,
    VolatilitySurgeBreaker,
    failure_gate,
)
from mmlab.risk._hedge import DeltaHedgeConfig, DeltaHedger, HedgeOrder
from mmlab.risk._ladder import RiskDecision, RiskLimits, Zone, side_usage, zone_of
from mmlab.risk._manager import RiskManager, ladder_decision
from mmlab.risk._portfolio import aggregate_greeks, allocate_capital, risk_contributions
from mmlab.risk._throttle import OrderThrottle

__all__ = [
    "AbnormalSpreadBreaker",
    "Breaker",
    "DailyLossBreaker",
    "DeltaHedgeConfig",
    "DeltaHedger",
    "DrawdownBreaker",
    "HedgeOrder",
    "KillSwitch",
    "OrderThrottle",
    "RiskDecision",
    "RiskLimits",
    "RiskManager",
    "StaleDataBreaker",
    "ToxicityMonitor",
    "VolatilitySurgeBreaker",
    "Zone",
    "aggregate_greeks",
    "allocate_capital",
    "failure_gate",
    "ladder_decision",
    "markouts",
    "one_sided_ratio",
    "risk_contributions",
    "side_usage",
    "vpin",
    "vpin_python",
    "zone_of",
]
