"""Adaptive-spread quoting: spread = base x volatility x inventory skew x competition, fee-floored.

Per side, around the mid (our method, documented here; not from a paper)::

    m_vol  = clip(volatility / vol_ref, vol_mult_min, vol_mult_max)     (1 when vol_ref is None;
                                                                          vol_mult_max when the
                                                                          volatility is unknown)
    c      = clip((market_half / (base/2 * m_vol)) ** competition_weight, competition_min, 1)
             (market_half = (best_ask - best_bid) / 2; c = 1 when the book is unknown)
    u      = clip(q / Q, -1, 1)                                          (0 when Q is inf)
    half_b = max(base/2 * m_vol * c * (1 + inventory_skew * u), floor)
    half_a = max(base/2 * m_vol * c * (1 - inventory_skew * u), floor)
    floor  = max(mid * maker_fee + min_edge, 0)

so a long book widens the bid and tightens the ask (never inside the fee floor: each fill earns
at least the maker fee plus ``min_edge`` against the mid; a rebate, ``maker_fee < 0``, lowers the
floor), high volatility widens both sides, and a tighter market pulls the quotes in (down to
``competition_min`` of the uncompeted spread). Sides are bounded like the other strategies: no
bid when ``q + order_size > Q``, no ask when ``q - order_size < -Q``.

Units: prices and ``base_spread``, ``min_edge`` in P; ``maker_fee`` a fraction of notional;
``vol_ref`` and ``MarketState.volatility`` in the same unit (e.g. P / sqrt(s)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._checks import check_finite, check_nonnegative, check_positive
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "AdaptiveSpreadConfig",
    "AdaptiveSpreadStrategy",
    "adaptive_quote_kernel",
    "adaptive_quote_kernel_python",
]


def adaptive_quote_kernel_python(mid, q, time_left, best_bid, best_ask, volatility, p):
    """Adaptive-spread quote ``(bid, ask, bid_size, ask_size)`` (formulas: module docstring).

    ``p`` = [base_spread, maker_fee, min_edge, vol_ref (0: off), vol_mult_min, vol_mult_max,
    inventory_skew, competition_weight, competition_min, max_inventory, order_size].
    Nothing is quoted when mid or q is not finite.

    Examples
    --------
    >>> p = np.array([0.2, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, np.inf, 1.0])
    >>> b, a, _, _ = adaptive_quote_kernel_python(100.0, 0.0, 0.0, np.nan, np.nan, np.nan, p)
    >>> round(float(b), 6), round(float(a), 6)
    (99.9, 100.1)
    """
    if not (math.isfinite(mid) and math.isfinite(q)):
        return math.nan, math.nan, 0.0, 0.0  # bad state: quote nothing
    base = p[0]
    maker_fee = p[1]
    min_edge = p[2]
    vol_ref = p[3]
    vmin = p[4]
    vmax = p[5]
    kappa = p[6]
    w = p[7]
    cmin = p[8]
    qmax = p[9]
    size = p[10]
    half0 = 0.5 * base
    m_vol = 1.0
    if vol_ref > 0.0:
        if volatility == volatility:  # not NaN
            m_vol = volatility / vol_ref
            if m_vol < vmin:
                m_vol = vmin
            elif m_vol > vmax:
                m_vol = vmax
        else:
            m_vol = vmax  # unknown volatility: be conservative
    half = half0 * m_vol
    c = 1.0
    if w > 0.0 and best_bid == best_bid and best_ask == best_ask and best_ask > best_bid:
        c = (0.5 * (best_ask - best_bid) / half) ** w
        if c < cmin:
            c = cmin
        elif c > 1.0:
            c = 1.0
    half *= c
    u = 0.0
    if qmax < math.inf:
        u = q / qmax
        if u > 1.0:
            u = 1.0
        elif u < -1.0:
            u = -1.0
    floor = mid * maker_fee + min_edge
    if floor < 0.0:
        floor = 0.0
    hb = half * (1.0 + kappa * u)
    ha = half * (1.0 - kappa * u)
    if hb < floor:
        hb = floor
    if ha < floor:
        ha = floor
    bid = mid - hb
    ask = mid + ha
    bid_size = size
    ask_size = size
    if q + size > qmax:
        bid = math.nan
        bid_size = 0.0
    if q - size < -qmax:
        ask = math.nan
        ask_size = 0.0
    return bid, ask, bid_size, ask_size


adaptive_quote_kernel = njit(cache=True)(adaptive_quote_kernel_python)


@njit(cache=True)
def _adaptive_quote_many(p, mids, qs, taus, bbs, bas, vols):
    out = np.empty((mids.size, 4))
    for i in range(mids.size):
        b, a, bs, az = adaptive_quote_kernel(mids[i], qs[i], taus[i], bbs[i], bas[i], vols[i], p)
        out[i, 0] = b
        out[i, 1] = a
        out[i, 2] = bs
        out[i, 3] = az
    return out


@dataclass(frozen=True, slots=True)
class AdaptiveSpreadConfig:
    """Validated adaptive-spread parameters (formulas and units in the module docstring).

    Parameters
    ----------
    base_spread : float
        Full spread at reference conditions, P.
    maker_fee : float, default 0.0
        Maker fee as a fraction of notional (negative: rebate); part of the per-side floor.
    min_edge : float, default 0.0
        Edge per side required beyond the fee, P.
    vol_ref : float or None, default None
        Reference volatility; None: no volatility adaptation.
    vol_mult_min, vol_mult_max : float, default 0.5, 4.0
        Clip of the volatility multiplier (vol_mult_max also applies when volatility is NaN).
    inventory_skew : float, default 0.0
        kappa >= 0: per-side spread factor 1 +/- kappa q / Q.
    competition_weight : float, default 0.0
        w in [0, 1]: 0 ignores the book; 1 matches the market's spread when it is tighter.
    competition_min : float, default 0.5
        Floor of the competition factor, in (0, 1].
    max_inventory : float, default inf
        Bound Q.
    order_size : float, default 1.0
        Quote size.

    Examples
    --------
    >>> AdaptiveSpreadConfig(base_spread=0.2, competition_weight=2.0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: competition_weight must be in [0, 1], got 2.0
    """

    base_spread: float
    maker_fee: float = 0.0
    min_edge: float = 0.0
    vol_ref: float | None = None
    vol_mult_min: float = 0.5
    vol_mult_max: float = 4.0
    inventory_skew: float = 0.0
    competition_weight: float = 0.0
    competition_min: float = 0.5
    max_inventory: float = math.inf
    order_size: float = 1.0

    def __post_init__(self) -> None:
        check_positive("base_spread", self.base_spread)
        check_finite("maker_fee", self.maker_fee)
        if not -1.0 < self.maker_fee < 1.0:
            raise ConfigError(f"maker_fee is a fraction of notional in (-1, 1), got {self.maker_fee!r}")
        check_nonnegative("min_edge", self.min_edge)
        if self.vol_ref is not None:
            check_positive("vol_ref", self.vol_ref)
        check_positive("vol_mult_min", self.vol_mult_min)
        check_positive("vol_mult_max", self.vol_mult_max)
        if self.vol_mult_min > self.vol_mult_max:
            raise ConfigError(f"vol_mult_min {self.vol_mult_min!r} > vol_mult_max {self.vol_mult_max!r}")
        check_nonnegative("inventory_skew", self.inventory_skew)
        check_nonnegative("competition_weight", self.competition_weight)
        if self.competition_weight > 1.0:
            raise ConfigError(f"competition_weight must be in [0, 1], got {self.competition_weight!r}")
        check_positive("competition_min", self.competition_min)
        if self.competition_min > 1.0:
            raise ConfigError(f"competition_min must be in (0, 1], got {self.competition_min!r}")
        check_positive("max_inventory", self.max_inventory, allow_inf=True)
        check_positive("order_size", self.order_size)

    def params(self) -> np.ndarray:
        """The kernel's parameter array."""
        return np.array([self.base_spread, self.maker_fee, self.min_edge,
                         0.0 if self.vol_ref is None else self.vol_ref, self.vol_mult_min,
                         self.vol_mult_max, self.inventory_skew, self.competition_weight,
                         self.competition_min, self.max_inventory, self.order_size], dtype=float)


class AdaptiveSpreadStrategy:
    """Adaptive-spread quoting: ``quote(state) -> Quote``.

    Reads ``mid``, ``inventory``, ``best_bid``/``best_ask`` (competition) and ``volatility``.
    ``kernel``, ``params``, ``python_kernel`` and ``quote_many`` as in
    :class:`~mmlab.quoting.AvellanedaStoikovStrategy`.

    Examples
    --------
    >>> cfg = AdaptiveSpreadConfig(base_spread=0.2, vol_ref=1.0, inventory_skew=0.5,
    ...                            max_inventory=10)
    >>> strat = AdaptiveSpreadStrategy(cfg)
    >>> q = strat.quote(MarketState(mid=100.0, inventory=5.0, volatility=2.0))
    >>> round(100.0 - q.bid, 6), round(q.ask - 100.0, 6)   # 0.1 * 2 * (1 +/- 0.25)
    (0.25, 0.15)
    """

    __slots__ = ("config", "params")
    kernel = staticmethod(adaptive_quote_kernel)
    python_kernel = staticmethod(adaptive_quote_kernel_python)

    def __init__(self, config: AdaptiveSpreadConfig):
        if not isinstance(config, AdaptiveSpreadConfig):
            raise ConfigError(f"config must be an AdaptiveSpreadConfig, got {type(config).__name__}")
        self.config = config
        self.params = config.params()

    def quote(self, state: MarketState) -> Quote:
        """The quote for ``state``."""
        return Quote(*adaptive_quote_kernel(
            float(state.mid), float(state.inventory), float(state.time_left), float(state.best_bid),
            float(state.best_ask), float(state.volatility), self.params))

    def quote_many(self, mids, inventories, time_left=0.0, best_bid=math.nan, best_ask=math.nan,
                   volatility=math.nan) -> np.ndarray:
        """Quotes of many states in one compiled loop: (n, 4) array of bid, ask, sizes."""
        arrs = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in
                                     (mids, inventories, time_left, best_bid, best_ask, volatility)))
        if arrs[0].ndim != 1:
            raise ConfigError(f"quote_many takes 1-D arrays (or scalars), got shape {arrs[0].shape}")
        return _adaptive_quote_many(self.params, *(np.ascontiguousarray(a) for a in arrs))
