"""The bar-level market-making rule: its settings, its kernels (numba, each with its plain twin)
and its inputs, for the adaptive-spread quoter on OHLCV bars.

The rule, bar by bar (bars ``i = 0 .. n-1``, no look-ahead: bar ``i``'s quotes use only bars
``< i``)::

    ref_i  = close_{i-1}                                   (no quote on bar 0)
    vol_i  = std(close_j - close_{j-1}, j = i-w .. i-1; ddof=1)   (P per sqrt(bar); NaN if < 2)
    q_i    = position at the end of bar i-1, in whole order sizes
    bb_i, ba_i = best bid/ask in force at bar i-1's close (columns best_bid/best_ask, e.g. from
                 the Binance bookTicker; NaN without them: competition factor 1)
    bid_i, ask_i = adaptive quote (mmlab.quoting.adaptive_quote_kernel) of
                   (ref_i, q_i, vol_i, bb_i, ba_i), rounded out to the tick (bid down, ask up)

so spread = base x volatility multiplier x inventory skew x competition factor, fee-floored, as
in :mod:`mmlab.quoting._adaptive`.

**Fill rule.** On a bar with at least one trade (``n_trades > 0``; every bar counts as traded
when the frame has no ``n_trades`` column, e.g. daily index bars) the bid fills in full at its
price when ``low <= bid`` (``fill_rule='touch'``, the default: a touch fills) or only when
``low < bid`` (``'through'``: the price must trade through); the ask when ``high >= ask``
(``high > ask``). **When both sides are reached in one bar both fill** (bid first, then ask).
Each fill pays ``fee x price x size`` (negative fee = rebate). The position never goes beyond
``max_inventory``: a side is not quoted when its fill could pass the limit (the quoter's rule),
and both quotes of a bar are set from the position at its start. The book is marked at each
bar's close. No queue, no latency, no partial fills, no market impact: a reached quote fills in
full as if first in the queue, so bar fills are optimistic per quote (see
:func:`compare_bar_vs_event` for the event engine on the same period).

The same rule runs in vectorbt (``vbt.Portfolio.from_order_func`` with a flexible order function:
up to two orders a bar, the quotes computed inside the simulation from vectorbt's position) and in
a plain Python/NumPy twin (:func:`bar_mm_python`); the tests check that their fills and quotes
are identical and that vectorbt's portfolio value is the twin's equity (to rounding). The
runner is :func:`~mmlab.backtest.bars._vbt_research.bar_market_making`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting import (
    AdaptiveSpreadConfig,
    adaptive_quote_kernel,
    adaptive_quote_kernel_python,
)

__all__ = [
    "BAR_FILL_RULES",
    "BarMarketMakingConfig",
    "bar_mm_python",
    "bar_quote",
    "bar_quote_python",
    "bar_reference",
    "touched",
    "touched_python",
]

#: ``'touch'``: a quote fills when the bar's low (high) reaches it; ``'through'``: only beyond it.
BAR_FILL_RULES = ("touch", "through")


@dataclass(frozen=True, slots=True)
class BarMarketMakingConfig:
    """The bar-level market maker: the adaptive quoter plus the bar simulation's settings.

    Parameters
    ----------
    quoting : AdaptiveSpreadConfig
        Quoting rule; ``vol_ref`` is in P per square root of one bar (the unit of ``vol_i``),
        ``max_inventory`` is the position limit and ``order_size`` the size of each fill.
    vol_window : int, default 20
        Bars in the rolling volatility of close-to-close changes.
    fee : float, optional
        Fee rate charged on each fill's notional (default ``quoting.maker_fee``; negative:
        rebate).
    tick_size : float, optional
        Quotes are rounded out to this tick (bid down, ask up); None: not rounded.
    fill_rule : {"touch", "through"}
        See the module docstring.
    init_cash : float, optional
        vectorbt's starting cash (its cash may not go negative); default: enough to pay for a
        buy on every bar at the highest high. The results are PnL from a flat start either way.

    Examples
    --------
    >>> cfg = BarMarketMakingConfig(AdaptiveSpreadConfig(base_spread=2.0), fill_rule="cross")
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: fill_rule: must be one of ('touch', 'through'), got 'cross'
    """

    quoting: AdaptiveSpreadConfig
    vol_window: int = 20
    fee: float | None = None
    tick_size: float | None = None
    fill_rule: str = "touch"
    init_cash: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.quoting, AdaptiveSpreadConfig):
            raise ConfigError(
                f"quoting: expected an AdaptiveSpreadConfig, got {type(self.quoting).__name__}")
        if int(self.vol_window) != self.vol_window or self.vol_window < 2:
            raise ConfigError(f"vol_window: must be an integer >= 2, got {self.vol_window!r}")
        if self.fee is not None and not (math.isfinite(self.fee) and -1 < self.fee < 1):
            raise ConfigError(f"fee: must be a finite rate in (-1, 1), got {self.fee!r}")
        if self.tick_size is not None and not (math.isfinite(self.tick_size)
                                               and self.tick_size > 0):
            raise ConfigError(f"tick_size: must be finite and > 0, got {self.tick_size!r}")
        if self.fill_rule not in BAR_FILL_RULES:
            raise ConfigError(f"fill_rule: must be one of {BAR_FILL_RULES}, got {self.fill_rule!r}")
        if self.init_cash is not None and not (math.isfinite(self.init_cash)
                                               and self.init_cash > 0):
            raise ConfigError(f"init_cash: must be finite and > 0, got {self.init_cash!r}")

    @property
    def fee_rate(self) -> float:
        """The fee rate charged on fills."""
        return self.quoting.maker_fee if self.fee is None else float(self.fee)


# ---------------------------------------------------------------------------------- kernels


def bar_quote_python(ref, q, vol, bb, ba, p, tick):
    """Bid and ask of one bar: the adaptive quote around ``ref`` (market best bid/ask ``bb``,
    ``ba``, NaN if unknown), rounded out to ``tick`` (``tick <= 0``: not rounded); NaN for a
    side not quoted.

    Examples
    --------
    >>> p = AdaptiveSpreadConfig(base_spread=1.0).params()
    >>> b, a = bar_quote_python(100.02, 0.0, np.nan, np.nan, np.nan, p, 0.1)  # 99.52, 100.52
    >>> round(float(b), 9), round(float(a), 9)
    (99.5, 100.6)
    """
    bid, ask, _, _ = adaptive_quote_kernel_python(ref, q, 0.0, bb, ba, vol, p)
    if tick > 0.0:
        bid = np.floor(bid / tick + 1e-9) * tick
        ask = np.ceil(ask / tick - 1e-9) * tick
    return bid, ask


@njit(cache=True)
def bar_quote(ref, q, vol, bb, ba, p, tick):
    """Compiled :func:`bar_quote_python` (calls the compiled adaptive kernel)."""
    bid, ask, _, _ = adaptive_quote_kernel(ref, q, 0.0, bb, ba, vol, p)
    if tick > 0.0:
        bid = np.floor(bid / tick + 1e-9) * tick
        ask = np.ceil(ask / tick - 1e-9) * tick
    return bid, ask


def touched_python(extreme, quote, side, through):
    """Whether a bar's low (``side`` +1, a bid) or high (-1, an ask) reaches ``quote`` under the
    fill rule (``through``: strictly beyond it); never for a NaN quote.

    Examples
    --------
    >>> touched_python(99.0, 99.0, 1, False), touched_python(99.0, 99.0, 1, True)
    (True, False)
    """
    if quote != quote:
        return False
    if side > 0:
        return extreme < quote or (not through and extreme == quote)
    return extreme > quote or (not through and extreme == quote)


touched = njit(cache=True)(touched_python)


def bar_mm_python(high, low, traded, ref, vol, bb, ba, p, tick, fee, through):
    """The bar-level fill rule in plain Python/NumPy (the twin of the vectorbt simulation).

    Parameters
    ----------
    high, low : ndarray
        Bar extremes.
    traded : ndarray of bool
        Whether each bar had a trade (no fill otherwise).
    ref, vol : ndarray
        Reference price and volatility of each bar (:func:`bar_reference`; NaN ref: no quote).
    bb, ba : ndarray
        Market best bid/ask known at each bar's open (NaN: unknown).
    p : ndarray
        Adaptive-quoter parameters (:meth:`AdaptiveSpreadConfig.params`).
    tick, fee : float
        Quote tick (<= 0: none) and fee rate.
    through : bool
        ``fill_rule == 'through'``.

    Returns
    -------
    quotes : ndarray (n, 2)
        Bid and ask of each bar (NaN: not quoted).
    fills : ndarray (m, 5)
        ``bar, side (+1 buy / -1 sell), price, size, fee`` in order.

    Examples
    --------
    >>> p = AdaptiveSpreadConfig(base_spread=2.0).params()
    >>> hi, lo = np.array([101.0, 101.0, 100.5]), np.array([99.0, 99.0, 99.5])
    >>> ref, vol = np.array([np.nan, 100.0, 100.0]), np.full(3, np.nan)
    >>> qu, f = bar_mm_python(hi, lo, np.ones(3, bool), ref, vol, vol, vol, p, 0.0, 0.0, False)
    >>> f.tolist()     # bar 1 touches both quotes (99 and 101); bar 2 neither
    [[1.0, 1.0, 99.0, 1.0, 0.0], [1.0, -1.0, 101.0, 1.0, 0.0]]
    """
    n = len(high)
    size = float(p[10])
    quotes = np.full((n, 2), np.nan)
    rows = []
    lots = 0
    for i in range(n):
        if i == 0 or not (ref[i] == ref[i]):
            continue
        q = float(np.round(float(lots))) * size
        bid, ask = bar_quote_python(ref[i], q, vol[i], bb[i], ba[i], p, tick)
        quotes[i, 0] = bid
        quotes[i, 1] = ask
        if not traded[i]:
            continue
        if touched_python(low[i], bid, 1, through):
            rows.append((i, 1.0, bid, size, size * bid * fee))
            lots += 1
        if touched_python(high[i], ask, -1, through):
            rows.append((i, -1.0, ask, size, size * ask * fee))
            lots -= 1
    fills = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return quotes, fills


# ---------------------------------------------------------------------------------- inputs


def bar_reference(close, window: int = 20):
    """Reference price and volatility of each bar from the closes *before* it.

    ``ref[i] = close[i-1]``; ``vol[i]`` = sample standard deviation (ddof 1) of the last
    ``window`` close-to-close changes ending at bar ``i-1`` (fewer at the start; NaN with fewer
    than 2). ``ref[0]`` and ``vol[0]`` are NaN.

    Examples
    --------
    >>> ref, vol = bar_reference(np.array([10.0, 11.0, 13.0, 12.0]), window=2)
    >>> ref.tolist()
    [nan, 10.0, 11.0, 13.0]
    >>> vol.round(6).tolist()   # std of (1, 2) = 0.707107 on bar 3
    [nan, nan, nan, 0.707107]
    """
    c = np.asarray(close, dtype=np.float64)
    n = c.size
    ref = np.full(n, np.nan)
    ref[1:] = c[:-1]
    vol = np.full(n, np.nan)
    d = np.diff(c)  # d[j-1] = close[j] - close[j-1]
    for i in range(3, n):  # bar i sees changes d[0 .. i-2]
        lo = max(0, i - 1 - window)
        vol[i] = np.std(d[lo:i - 1], ddof=1)
    return ref, vol
