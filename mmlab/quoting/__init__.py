"""Quoting strategies: where to quote and how much.

Every strategy is a frozen, validated config plus a pure quoting kernel (numba, with a plain
Python twin ``*_python``) behind one interface, ``strategy.quote(MarketState) -> Quote``:

* :class:`AvellanedaStoikovStrategy` / :class:`AvellanedaStoikovInfiniteStrategy` (2008 paper);
* :class:`GLFTStrategy` (closed form, 2013 / Guéant 2017 with xi and Delta) and
  :class:`GLFTExactStrategy` (the exact finite-horizon solution, tabulated in T - t);
* :class:`AdaptiveSpreadStrategy`, :class:`GridStrategy` (also ``ladder(state)``) and
  :class:`DepthStrategy` (reads ``state.depth``).

Single-level strategies also expose ``kernel`` / ``python_kernel`` (signature
``(mid, inventory, time_left, best_bid, best_ask, volatility, params)``), ``params`` and
``quote_many`` for compiled loops. A side that is not quoted has size 0 and price NaN.
Layers, skews, microstructure offsets, tick/lot rounding, the fee-aware edge filter and
validation: :class:`LayerConfig`, :class:`LayeredQuoter`, :class:`LayeredStrategy`,
:func:`validate_quotes`; the argument checks every config uses: :func:`check_positive`,
:func:`check_nonnegative`, :func:`check_finite`, and :func:`renamed_keywords` (an old keyword
raises a ConfigError naming its replacement). Options: :class:`ChainQuoter` (every strike
of an expiry from a vol surface, Greek-aware spreads and skews, dollar Greeks, delta hedge).
Calibration: :class:`IntensityFit`. Paper reproduction: :func:`simulate_avellaneda_stoikov`,
:func:`reproduce_as_table`.

Names and units: ``sigma_px`` is the mid's volatility in price per square root of the time unit
(seconds by default; the backtest's ``time_unit_ns``), not annualised; :mod:`mmlab.pricing`'s
``sigma`` is the annualised volatility of returns. The old quoting keyword ``sigma`` raises a
:class:`~mmlab.errors.ConfigError` naming ``sigma_px``.
"""

from __future__ import annotations

from mmlab.quoting._adaptive import (
    AdaptiveSpreadConfig,
    AdaptiveSpreadStrategy,
    adaptive_quote_kernel,
    adaptive_quote_kernel_python,
)
from mmlab.quoting._as_simulator import (
    AS_PAPER_TABLE,
    as_simulate_kernel,
    as_simulate_kernel_python,
    reproduce_as_table,
    simulate_avellaneda_stoikov,
    symmetric_expected_profit,
)
from mmlab.quoting._avellaneda_stoikov import (
    AvellanedaStoikovConfig,
    AvellanedaStoikovInfiniteConfig,
    AvellanedaStoikovInfiniteStrategy,
    AvellanedaStoikovStrategy,
    as_infinite_quote_kernel,
    as_infinite_quote_kernel_python,
    as_quote_kernel,
    as_quote_kernel_python,
    avellaneda_stoikov_infinite_quotes,
    avellaneda_stoikov_quotes,
)
from mmlab.quoting._chain_quoter import (
    ChainQuoter,
    ChainQuoterConfig,
    ChainQuotes,
    chain_quote_kernel,
    chain_quote_kernel_python,
    option_quote_kernel,
    option_quote_kernel_python,
    validate_chain_quotes,
)
from mmlab.quoting._checks import (
    check_finite,
    check_nonnegative,
    check_positive,
    renamed_keywords,
)
from mmlab.quoting._construction import (
    book_imbalance,
    edge_beats_fee,
    imbalance_offset,
    inventory_price_skew,
    inventory_size_factor,
    maker_fee_per_unit,
    maker_fee_terms,
    queue_offset,
    quote_violation,
    quote_violation_python,
    round_price_down,
    round_price_up,
    tick_arrays,
    validate_quotes,
    volatility_offset,
)
from mmlab.quoting._depth import (
    DepthConfig,
    DepthStrategy,
    depth_quote_kernel,
    depth_quote_kernel_python,
)
from mmlab.quoting._fit_intensity import IntensityEstimate, fit_intensity
from mmlab.quoting._glft import (
    GLFTConfig,
    GLFTExactQuotes,
    GLFTStrategy,
    glft_exact_quotes,
    glft_quote_kernel,
    glft_quote_kernel_python,
    glft_quotes,
    glft_stationary_quotes,
)
from mmlab.quoting._glft_exact import (
    GLFTExactConfig,
    GLFTExactStrategy,
    glft_exact_quote_kernel,
    glft_exact_quote_kernel_python,
)
from mmlab.quoting._grid import (
    GridConfig,
    GridStrategy,
    QuoteLadder,
    grid_ladder_kernel,
    grid_ladder_kernel_python,
)
from mmlab.quoting._intensity import IntensityFit, fill_counts, trade_depths
from mmlab.quoting._layers import (
    LayerConfig,
    LayeredQuoter,
    LayeredStrategy,
    build_ladder_kernel,
    build_ladder_kernel_python,
)
from mmlab.quoting._types import MarketState, Quote, QuotingStrategy

__all__ = [
    "AS_PAPER_TABLE",
    "AdaptiveSpreadConfig",
    "AdaptiveSpreadStrategy",
    "AvellanedaStoikovConfig",
    "AvellanedaStoikovInfiniteConfig",
    "AvellanedaStoikovInfiniteStrategy",
    "AvellanedaStoikovStrategy",
    "ChainQuoter",
    "ChainQuoterConfig",
    "ChainQuotes",
    "DepthConfig",
    "DepthStrategy",
    "GLFTConfig",
    "GLFTExactConfig",
    "GLFTExactQuotes",
    "GLFTExactStrategy",
    "GLFTStrategy",
    "GridConfig",
    "GridStrategy",
    "IntensityEstimate",
    "IntensityFit",
    "LayerConfig",
    "LayeredQuoter",
    "LayeredStrategy",
    "MarketState",
    "Quote",
    "QuoteLadder",
    "QuotingStrategy",
    "adaptive_quote_kernel",
    "adaptive_quote_kernel_python",
    "as_infinite_quote_kernel",
    "as_infinite_quote_kernel_python",
    "as_quote_kernel",
    "as_quote_kernel_python",
    "as_simulate_kernel",
    "as_simulate_kernel_python",
    "avellaneda_stoikov_infinite_quotes",
    "avellaneda_stoikov_quotes",
    "book_imbalance",
    "build_ladder_kernel",
    "build_ladder_kernel_python",
    "chain_quote_kernel",
    "chain_quote_kernel_python",
    "check_finite",
    "check_nonnegative",
    "check_positive",
    "depth_quote_kernel",
    "depth_quote_kernel_python",
    "edge_beats_fee",
    "fill_counts",
    "fit_intensity",
    "glft_exact_quote_kernel",
    "glft_exact_quote_kernel_python",
    "glft_exact_quotes",
    "glft_quote_kernel",
    "glft_quote_kernel_python",
    "glft_quotes",
    "glft_stationary_quotes",
    "grid_ladder_kernel",
    "grid_ladder_kernel_python",
    "imbalance_offset",
    "inventory_price_skew",
    "inventory_size_factor",
    "maker_fee_per_unit",
    "maker_fee_terms",
    "option_quote_kernel",
    "option_quote_kernel_python",
    "queue_offset",
    "quote_violation",
    "quote_violation_python",
    "renamed_keywords",
    "reproduce_as_table",
    "round_price_down",
    "round_price_up",
    "simulate_avellaneda_stoikov",
    "symmetric_expected_profit",
    "tick_arrays",
    "trade_depths",
    "validate_chain_quotes",
    "validate_quotes",
    "volatility_offset",
]
