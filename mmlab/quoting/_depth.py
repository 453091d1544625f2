"""Depth-based quoting: rest where the cumulative resting size in front reaches a target.

For the bid: walk the bid levels from the best, accumulate their sizes, and take the first level
whose cumulative size reaches ``target_depth``: the bid goes there, ``improve_ticks`` ticks in
front of it (towards the spread), then shifted by the inventory skew
``-round(skew_ticks * q)`` ticks (long inventory lowers both sides). The ask mirrors it. Then:

* post-only: a bid at or above the best ask is pulled to ``best_ask - tick`` and an ask at or
  below the best bid to ``best_bid + tick``; if the two quotes would cross each other the bid is
  pulled to ``ask - tick``;
* a side without ``target_depth`` of resting size in the book is not quoted;
* bounds as elsewhere: no bid when ``q + order_size > Q``, no ask when ``q - order_size < -Q``.

Units: prices and ``tick`` in P; sizes, ``target_depth`` and Q in quantity; ``skew_ticks`` in
ticks per quantity unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError, DataError
from mmlab.quoting._checks import check_nonnegative, check_positive
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "DepthConfig",
    "DepthStrategy",
    "depth_quote_kernel",
    "depth_quote_kernel_python",
]


def depth_quote_kernel_python(bid_px, bid_qty, ask_px, ask_qty, q, target_depth, tick,
                              improve_ticks, skew_ticks, max_inventory, order_size):
    """Depth-based quote ``(bid, ask, bid_size, ask_size)`` (rules: module docstring).

    Examples
    --------
    >>> bp, bq = np.array([99.9, 99.8, 99.7]), np.array([1.0, 2.0, 5.0])
    >>> ap, aq = np.array([100.1, 100.2, 100.3]), np.array([4.0, 1.0, 1.0])
    >>> b, a, _, _ = depth_quote_kernel_python(bp, bq, ap, aq, 0.0, 3.0, 0.1, 0, 0.0, np.inf, 1.0)
    >>> round(float(b), 6), round(float(a), 6)
    (99.8, 100.1)
    """
    if not math.isfinite(q):
        return math.nan, math.nan, 0.0, 0.0
    shift = -float(round(skew_ticks * q)) * tick
    bid = math.nan
    ask = math.nan
    cum = 0.0
    for i in range(bid_px.size):
        cum += bid_qty[i]
        if cum >= target_depth:
            bid = bid_px[i] + improve_ticks * tick + shift
            break
    cum = 0.0
    for i in range(ask_px.size):
        cum += ask_qty[i]
        if cum >= target_depth:
            ask = ask_px[i] - improve_ticks * tick + shift
            break
    if ask_px.size > 0 and bid == bid and bid >= ask_px[0]:
        bid = ask_px[0] - tick
    if bid_px.size > 0 and ask == ask and ask <= bid_px[0]:
        ask = bid_px[0] + tick
    if bid == bid and ask == ask and bid >= ask:
        bid = ask - tick
    bid_size = order_size if bid == bid else 0.0
    ask_size = order_size if ask == ask else 0.0
    if q + order_size > max_inventory:
        bid = math.nan
        bid_size = 0.0
    if q - order_size < -max_inventory:
        ask = math.nan
        ask_size = 0.0
    return bid, ask, bid_size, ask_size


depth_quote_kernel = njit(cache=True)(depth_quote_kernel_python)


@dataclass(frozen=True, slots=True)
class DepthConfig:
    """Validated depth-based quoting parameters (module docstring).

    Parameters
    ----------
    target_depth : float
        Cumulative resting size to stand behind, quantity units.
    tick : float
        Tick size, P.
    improve_ticks : int, default 0
        Ticks in front of the chosen level (>= 0).
    skew_ticks : float, default 0.0
        Inventory skew, ticks per quantity unit (>= 0).
    max_inventory : float, default inf
        Bound Q.
    order_size : float, default 1.0
        Quote size.

    Examples
    --------
    >>> DepthConfig(target_depth=5.0, tick=0.01).improve_ticks
    0
    """

    target_depth: float
    tick: float
    improve_ticks: int = 0
    skew_ticks: float = 0.0
    max_inventory: float = math.inf
    order_size: float = 1.0

    def __post_init__(self) -> None:
        check_positive("target_depth", self.target_depth)
        check_positive("tick", self.tick)
        if isinstance(self.improve_ticks, bool) or not isinstance(self.improve_ticks, (int, np.integer)) \
                or self.improve_ticks < 0:
            raise ConfigError(f"improve_ticks must be an integer >= 0, got {self.improve_ticks!r}")
        check_nonnegative("skew_ticks", self.skew_ticks)
        check_positive("max_inventory", self.max_inventory, allow_inf=True)
        check_positive("order_size", self.order_size)


def _side(arr, name):
    a = np.ascontiguousarray(arr, dtype=float)
    if a.ndim != 1:
        raise DataError(f"state.depth {name} must be 1-D, got shape {a.shape}")
    return a


class DepthStrategy:
    """Depth-based quoting: ``quote(state) -> Quote``; reads ``state.depth`` and ``inventory``.

    Examples
    --------
    >>> strat = DepthStrategy(DepthConfig(target_depth=3.0, tick=0.1, improve_ticks=1))
    >>> book = ([99.9, 99.8, 99.7], [1.0, 2.0, 5.0], [100.1, 100.2], [4.0, 1.0])
    >>> q = strat.quote(MarketState(mid=100.0, depth=book))
    >>> round(q.bid, 6), round(q.ask, 6)     # one tick in front of 99.8; 100.0 is inside the spread
    (99.9, 100.0)
    """

    __slots__ = ("config", "_args")

    def __init__(self, config: DepthConfig):
        if not isinstance(config, DepthConfig):
            raise ConfigError(f"config must be a DepthConfig, got {type(config).__name__}")
        self.config = c = config
        self._args = (float(c.target_depth), float(c.tick), int(c.improve_ticks),
                      float(c.skew_ticks), float(c.max_inventory), float(c.order_size))

    def quote(self, state: MarketState) -> Quote:
        """The quote for ``state`` (``state.depth`` required).

        Raises
        ------
        DataError
            When ``state.depth`` is missing or malformed (lengths, non-finite, negative sizes).
        """
        if state.depth is None:
            raise DataError("DepthStrategy needs state.depth = (bid_px, bid_qty, ask_px, ask_qty)")
        bp, bq, ap, aq = (_side(a, n) for a, n in zip(state.depth, ("bid_px", "bid_qty", "ask_px", "ask_qty"),
                                                       strict=True))
        if bp.size != bq.size or ap.size != aq.size:
            raise DataError(f"state.depth: bid_px/bid_qty lengths {bp.size}/{bq.size}, "
                            f"ask_px/ask_qty {ap.size}/{aq.size}")
        for name, a in (("bid_px", bp), ("bid_qty", bq), ("ask_px", ap), ("ask_qty", aq)):
            bad = np.flatnonzero(~np.isfinite(a) | ((a < 0) if name.endswith("qty") else False))
            if bad.size:
                raise DataError(f"state.depth {name} has an invalid value {a[bad[0]]!r}", row=int(bad[0]))
        return Quote(*depth_quote_kernel(bp, bq, ap, aq, float(state.inventory), *self._args))
