"""The one quoting interface: a market state in, a two-sided quote out.

Every strategy in :mod:`mmlab.quoting` exposes ``quote(state) -> Quote``; the backtest, paper
and live runs build a :class:`MarketState` at each decision and call it the same way.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["MarketState", "Quote", "QuotingStrategy"]


class MarketState(NamedTuple):
    """What a strategy sees at a decision time.

    Parameters
    ----------
    mid : float
        Reference (mid) price, in price units.
    inventory : float, default 0.0
        Signed position q, in quantity units (shares, contracts, coins); long is positive.
    time_left : float, default 0.0
        Time to the strategy's horizon, T - t, in the time unit its parameters are quoted in
        (the unit of sigma_px's sqrt(time) and of A's 1/time). Ignored by stationary strategies.
    best_bid, best_ask : float, default NaN
        Top of book when known (NaN when not); used by strategies that read the book.
    volatility : float, default NaN
        Current short-term volatility estimate of the mid, in P / sqrt(U) (NaN when unknown);
        used by strategies that adapt to volatility.
    depth : tuple of 4 arrays or None, default None
        ``(bid_px, bid_qty, ask_px, ask_qty)``, best level first; used by strategies that read
        the book's depth (e.g. :class:`~mmlab.quoting.DepthStrategy`).

    Compiled single-level kernels take the scalar fields in this order, then a float64
    parameter array: ``kernel(mid, inventory, time_left, best_bid, best_ask, volatility, params)``.

    Examples
    --------
    >>> MarketState(mid=100.0, inventory=2.0, time_left=0.5)
    MarketState(mid=100.0, inventory=2.0, time_left=0.5, best_bid=nan, best_ask=nan, volatility=nan, depth=None)
    """

    mid: float
    inventory: float = 0.0
    time_left: float = 0.0
    best_bid: float = math.nan
    best_ask: float = math.nan
    volatility: float = math.nan
    depth: tuple | None = None


class Quote(NamedTuple):
    """A two-sided quote.

    A side that is not quoted has size 0 and price NaN (``has_bid`` / ``has_ask`` say which);
    a quoted side always has a finite price and a positive size.

    Examples
    --------
    >>> q = Quote(99.5, 100.5, 1.0, 0.0)
    >>> q.has_bid, q.has_ask, q.spread
    (True, False, nan)
    """

    bid: float
    ask: float
    bid_size: float
    ask_size: float

    @property
    def has_bid(self) -> bool:
        """True when the bid side is quoted."""
        return self.bid_size > 0.0

    @property
    def has_ask(self) -> bool:
        """True when the ask side is quoted."""
        return self.ask_size > 0.0

    @property
    def spread(self) -> float:
        """ask - bid when both sides are quoted, NaN otherwise."""
        if self.has_bid and self.has_ask:
            return self.ask - self.bid
        return math.nan


@runtime_checkable
class QuotingStrategy(Protocol):
    """Anything with ``quote(state: MarketState) -> Quote``."""

    def quote(self, state: MarketState) -> Quote:  # pragma: no cover - protocol
        ...
