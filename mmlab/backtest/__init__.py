"""Event-replay backtesting: a simulated venue and a fast numba loop over market events.

``run(data, strategy, **settings)`` replays an ``EVENT_DTYPE`` stream through a simulated
exchange (queue position, latency, partial fills, fees, post-only rejection) and returns a
:class:`BacktestResult`. Our fills have **no market impact**: they never consume or move the
replayed liquidity.
"""

from __future__ import annotations

from mmlab.backtest._fees import FeeModel
from mmlab.backtest._latency import latency_array
from mmlab.backtest._queue import (
    QUEUE_FIFO,
    QUEUE_LOG,
    QUEUE_MODELS,
    QUEUE_POWER,
    QUEUE_RISK_AVERSE,
    queue_depth,
    queue_depth_python,
    queue_filled_qty,
    queue_filled_qty_python,
    queue_model_code,
    queue_prob,
    queue_prob_python,
    queue_trade,
    queue_trade_python,
)
from mmlab.backtest._results import BacktestResult, read_result
from mmlab.backtest._run import ASSUMPTIONS, BacktestConfig, prepare_events, run
from mmlab.backtest._strategies import GridStrategy, ScriptedOrders, strategy_spec
from mmlab.backtest._campaign import CampaignResult, seed_campaign
from mmlab.backtest._cluster import research_client, warm_worker
from mmlab.backtest._gates import BUDGET_TIERS, BudgetTier, Gates, evaluate_gates, tier_for
from mmlab.backtest._sweep import SweepResult, expand_grid, sweep
from mmlab.backtest._walkforward import (
    WalkForwardResult,
    walk_forward,
    walk_forward_windows,
    window_events,
)

__all__ = sorted(
    [
        "ASSUMPTIONS",
        "BUDGET_TIERS",
        "BudgetTier",
        "CampaignResult",
        "Gates",
        "SweepResult",
        "WalkForwardResult",
        "evaluate_gates",
        "expand_grid",
        "research_client",
        "seed_campaign",
        "sweep",
        "tier_for",
        "walk_forward",
        "walk_forward_windows",
        "warm_worker",
        "window_events",
        "BacktestConfig",
        "BacktestResult",
        "FeeModel",
        "GridStrategy",
        "ScriptedOrders",
        "QUEUE_FIFO",
        "QUEUE_LOG",
        "QUEUE_MODELS",
        "QUEUE_POWER",
        "QUEUE_RISK_AVERSE",
        "latency_array",
        "prepare_events",
        "queue_depth",
        "queue_depth_python",
        "queue_filled_qty",
        "queue_filled_qty_python",
        "queue_model_code",
        "queue_prob",
        "queue_prob_python",
        "queue_trade",
        "queue_trade_python",
        "read_result",
        "run",
        "strategy_spec",
    ]
)
