"""Event-replay backtesting: a simulated venue and a fast numba loop over market events.

``run(data, strategy, **settings)`` replays an ``EVENT_DTYPE`` stream through a simulated
exchange (queue position, latency, partial fills, fees, post-only rejection) and returns a
:class:`BacktestResult`. Our fills have **no market impact**: they never consume or move the
replayed liquidity.

L3 data (LOBSTER, :func:`mmlab.data.load_lobster`) runs as level updates, and with
``queue_model='fifo'`` our order's place in the queue is tracked order by order (the exact size
of the orders that reached the exchange before it); :class:`ScriptedOrders` enters given orders
at given times; :func:`prepare_l3` rewrites an L3 day for the engine once (sweeps and repeated
runs then replay it directly). Memory: a run adds at most about its event array's size
(``bench/bench_memory.py``): the step table keeps every step unless it would outgrow 60 % of the
event array (``record_every="auto"``), while the Sharpe, Sortino and drawdown are kept by the
kernel over every step. Several instruments run together with :func:`run_portfolio` (or ``run({name:
data, ...}, ...)``): one strategy clock, per-instrument books and accounts, a shared notional
limit and drawdown breaker, a :class:`PortfolioResult`.

Option books: :func:`run_option_book` quotes an expiry with the chain quoter and delta-hedges it
on a synthetic option stream repriced from a fitted surface along an underlying path
(:func:`synthetic_option_stream`), with a PnL split and a per-step Greeks PnL explain.

Bar-level research: :func:`klines` (bars from trades), :func:`sp500_bars`,
:func:`bar_market_making` (the adaptive-spread quoter on bars, in vectorbt, with a plain twin)
and :func:`compare_bar_vs_event` (the same period through the event engine, side by side).

Research at scale, on Dask (a ``LocalCluster`` of single-threaded worker processes, or a running
scheduler's address): :func:`sweep` (a grid of strategy fields and engine settings, the data
scattered once), :func:`walk_forward` (choose in sample, judge out of sample, window by window)
and :func:`seed_campaign` (one configuration under N seeds); every run reports the
:class:`Gates` (positive PnL, positive Sharpe, drawdown within 40 % of the budget) and its
:data:`BUDGET_TIERS` tier.

Layout: ``core/`` the one trading core (compiled, both sides), ``engine/`` the settings,
strategies, drivers and results around it, ``research/`` the Dask sweeps, walk-forward and
campaigns, ``options/`` the option-book backtests, ``bars/`` the vectorbt bar research.
"""

from __future__ import annotations

from mmlab.backtest.bars._bar_rule import (
    BAR_FILL_RULES,
    BarMarketMakingConfig,
    bar_mm_python,
    bar_reference,
)
from mmlab.backtest.bars._bar_vs_event import BarEventComparison, compare_bar_vs_event
from mmlab.backtest.bars._bars import BAR_COLUMNS, klines, sp500_bars
from mmlab.backtest.bars._vbt_research import BarResult, bar_market_making
from mmlab.backtest.engine._driver import StepDriver
from mmlab.backtest.engine._fees import FeeModel
from mmlab.backtest.engine._gates import BUDGET_TIERS, BudgetTier, Gates, evaluate_gates, tier_for
from mmlab.backtest.engine._l3 import L3Events, prepare_l3
from mmlab.backtest.engine._latency import latency_array
from mmlab.backtest.engine._loopback import LoopbackDriver, SimulatedVenue
from mmlab.backtest.engine._portfolio import PortfolioLimits, PortfolioResult, run_portfolio
from mmlab.backtest.engine._portfolio_driver import PortfolioDriver
from mmlab.backtest.engine._queue import (
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
from mmlab.backtest.engine._results import BacktestResult, read_result
from mmlab.backtest.engine._run import ASSUMPTIONS, BacktestConfig, load_events, prepare_events, run
from mmlab.backtest.engine._strategies import (
    ADAPTIVE_VOL_HALFLIFE,
    ADAPTIVE_VOL_MIN_STEPS,
    STRATEGY_CLASSES,
    GridStrategy,
    ScriptedOrders,
    strategy_class,
    strategy_spec,
)
from mmlab.backtest.engine._user import (
    DEPTH_LEVELS,
    MARKET_STATE_FIELDS,
    MAX_LEVELS,
    MAX_PARAMS,
    MS_ASK_DEPTH,
    MS_ASK_QTY,
    MS_BEST_ASK,
    MS_BEST_BID,
    MS_BID_DEPTH,
    MS_BID_QTY,
    MS_EQUITY,
    MS_ERROR,
    MS_LOT,
    MS_MAX_POSITION,
    MS_MID,
    MS_POSITION,
    MS_STEP,
    MS_TICK,
    MS_TIME,
    MS_TIME_LEFT,
    N_OUT,
    N_STATE,
    QUOTE_SIGNATURE,
    QuoteKernel,
    UserStrategy,
    quote_kernel,
)
from mmlab.backtest.engine._wire import REQUEST_DTYPE, RESPONSE_DTYPE, VenueAdapter
from mmlab.backtest.options._greeks_explain import EXPLAIN_TERMS, greeks_pnl_explain
from mmlab.backtest.options._option_stream import (
    OptionStream,
    OptionStreamConfig,
    synthetic_option_stream,
    synthetic_underlying_path,
    underlying_path_from_lobster,
    underlying_path_from_prices,
)
from mmlab.backtest.options._options_book import OptionBookConfig, OptionBookResult, run_option_book
from mmlab.backtest.research._campaign import CampaignResult, seed_campaign
from mmlab.backtest.research._cluster import research_client, warm_worker
from mmlab.backtest.research._sweep import SweepResult, expand_grid, sweep
from mmlab.backtest.research._walkforward import (
    WalkForwardResult,
    walk_forward,
    walk_forward_windows,
    window_events,
)

__all__ = [
    "ADAPTIVE_VOL_HALFLIFE",
    "ADAPTIVE_VOL_MIN_STEPS",
    "ASSUMPTIONS",
    "BAR_COLUMNS",
    "BAR_FILL_RULES",
    "BUDGET_TIERS",
    "BacktestConfig",
    "BacktestResult",
    "BarEventComparison",
    "BarMarketMakingConfig",
    "BarResult",
    "BudgetTier",
    "CampaignResult",
    "EXPLAIN_TERMS",
    "FeeModel",
    "Gates",
    "GridStrategy",
    "L3Events",
    "DEPTH_LEVELS",
    "MARKET_STATE_FIELDS",
    "MAX_LEVELS",
    "MAX_PARAMS",
    "MS_ASK_DEPTH",
    "MS_ASK_QTY",
    "MS_BEST_ASK",
    "MS_BEST_BID",
    "MS_BID_DEPTH",
    "MS_BID_QTY",
    "MS_EQUITY",
    "MS_ERROR",
    "MS_LOT",
    "MS_MAX_POSITION",
    "MS_MID",
    "MS_POSITION",
    "MS_STEP",
    "MS_TICK",
    "MS_TIME",
    "MS_TIME_LEFT",
    "N_OUT",
    "N_STATE",
    "OptionBookConfig",
    "OptionBookResult",
    "OptionStream",
    "OptionStreamConfig",
    "PortfolioDriver",
    "PortfolioLimits",
    "PortfolioResult",
    "QUEUE_FIFO",
    "QUEUE_LOG",
    "QUEUE_MODELS",
    "QUEUE_POWER",
    "QUEUE_RISK_AVERSE",
    "QUOTE_SIGNATURE",
    "QuoteKernel",
    "STRATEGY_CLASSES",
    "ScriptedOrders",
    "StepDriver",
    "LoopbackDriver",
    "SimulatedVenue",
    "REQUEST_DTYPE",
    "RESPONSE_DTYPE",
    "VenueAdapter",
    "SweepResult",
    "UserStrategy",
    "WalkForwardResult",
    "bar_market_making",
    "bar_mm_python",
    "bar_reference",
    "compare_bar_vs_event",
    "evaluate_gates",
    "expand_grid",
    "greeks_pnl_explain",
    "klines",
    "latency_array",
    "load_events",
    "prepare_events",
    "prepare_l3",
    "queue_depth",
    "queue_depth_python",
    "queue_filled_qty",
    "queue_filled_qty_python",
    "queue_model_code",
    "queue_prob",
    "queue_prob_python",
    "queue_trade",
    "queue_trade_python",
    "quote_kernel",
    "read_result",
    "research_client",
    "run",
    "run_option_book",
    "run_portfolio",
    "seed_campaign",
    "sp500_bars",
    "strategy_class",
    "strategy_spec",
    "sweep",
    "synthetic_option_stream",
    "synthetic_underlying_path",
    "tier_for",
    "underlying_path_from_lobster",
    "underlying_path_from_prices",
    "walk_forward",
    "walk_forward_windows",
    "warm_worker",
    "window_events",
]
