"""Grid quoting: fixed price levels and step, skewed by inventory.

The grid is the set of prices ``anchor + j * step`` (j integer). The strategy rests
``n_levels`` buy orders on the grid points strictly below the (skewed) centre and below the mid,
and ``n_levels`` sell orders strictly above both:

* centre = mid - skew * q * step (``skew``: grid steps per unit of inventory; long inventory
  lowers both sides, making the sells more aggressive and the buys more passive);
* size skew: every level on the side that grows |q| is scaled by ``max(0, 1 - |q| / Q)``;
* the bound: the buy levels' sizes are cut so that ``q + sum(bid sizes) <= Q`` and the sell
  levels' so that ``q - sum(ask sizes) >= -Q``: all resting orders filling at once cannot take
  the inventory beyond Q.

Units: prices in P; ``step`` in P; ``skew`` in steps per quantity unit; sizes and Q in quantity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mmlab.errors import ConfigError
from mmlab.quoting._checks import check_finite, check_nonnegative, check_positive, renamed_keywords
from mmlab.quoting._types import MarketState, Quote

__all__ = [
    "GridConfig",
    "GridStrategy",
    "QuoteLadder",
    "grid_ladder_kernel",
    "grid_ladder_kernel_python",
]


def grid_ladder_kernel_python(mid, q, step, n_levels, order_qty, anchor, skew, max_inventory):
    """Grid ladder as an (n_levels, 4) array of rows ``(bid, ask, bid_size, ask_size)``.

    Row i is the i-th level from the touch; a level with no size has price NaN. Nothing is
    quoted when mid or q is not finite.

    Examples
    --------
    >>> out = grid_ladder_kernel_python(100.03, 0.0, 0.1, 2, 1.0, 0.0, 0.0, math.inf)
    >>> out[:, 0].round(6).tolist(), out[:, 1].round(6).tolist()
    ([100.0, 99.9], [100.1, 100.2])
    """
    n = int(n_levels)
    out = np.empty((n, 4))
    if not (math.isfinite(mid) and math.isfinite(q)):  # bad state: quote nothing
        out[:, 0] = math.nan
        out[:, 1] = math.nan
        out[:, 2] = 0.0
        out[:, 3] = 0.0
        return out
    center = mid - skew * q * step
    lo = center if center < mid else mid
    hi = center if center > mid else mid
    jb = math.ceil((lo - anchor) / step) - 1.0
    b0 = anchor + jb * step
    if b0 >= lo:  # rounding guard: strictly below
        b0 -= step
        jb -= 1.0
    ja = math.floor((hi - anchor) / step) + 1.0
    a0 = anchor + ja * step
    if a0 <= hi:
        a0 += step
        ja += 1.0
    fb = 1.0
    fa = 1.0
    if math.isfinite(max_inventory):
        if q > 0.0:
            fb = max(0.0, 1.0 - q / max_inventory)
        elif q < 0.0:
            fa = max(0.0, 1.0 + q / max_inventory)
    room_b = max_inventory - q
    room_a = max_inventory + q
    for i in range(n):
        sb = min(order_qty * fb, room_b)
        sa = min(order_qty * fa, room_a)
        if sb < 0.0:
            sb = 0.0
        if sa < 0.0:
            sa = 0.0
        room_b -= sb
        room_a -= sa
        out[i, 0] = anchor + (jb - i) * step if sb > 0.0 else math.nan
        out[i, 1] = anchor + (ja + i) * step if sa > 0.0 else math.nan
        out[i, 2] = sb
        out[i, 3] = sa
    return out


grid_ladder_kernel = njit(cache=True)(grid_ladder_kernel_python)


@dataclass(frozen=True)
class QuoteLadder:
    """Several quote levels per side (level 0 nearest the mid).

    Attributes
    ----------
    bids, asks : ndarray
        Prices (NaN where a level has no size).
    bid_sizes, ask_sizes : ndarray
        Sizes (0 where not quoted).

    Examples
    --------
    >>> lad = QuoteLadder(np.array([99.0]), np.array([101.0]), np.array([1.0]), np.array([0.0]))
    >>> lad.levels()
    [(1, 99.0, 1.0)]
    """

    bids: np.ndarray
    asks: np.ndarray
    bid_sizes: np.ndarray
    ask_sizes: np.ndarray

    @classmethod
    def from_array(cls, out: np.ndarray) -> QuoteLadder:
        """From an (n, 4) kernel output (the ladder keeps views of ``out``: do not reuse it)."""
        return cls(out[:, 0], out[:, 1], out[:, 2], out[:, 3])

    def levels(self) -> list[tuple[int, float, float]]:
        """Quoted levels as ``(side, price, size)``: side +1 buy, -1 sell."""
        rows = [(1, float(p), float(s)) for p, s in zip(self.bids, self.bid_sizes, strict=True) if s > 0]
        rows += [(-1, float(p), float(s)) for p, s in zip(self.asks, self.ask_sizes, strict=True) if s > 0]
        return rows

    def top(self) -> Quote:
        """The level nearest the mid on each side as a :class:`Quote`."""
        return Quote(float(self.bids[0]), float(self.asks[0]), float(self.bid_sizes[0]),
                     float(self.ask_sizes[0]))


#: Why the grid's per-level quantity is ``order_qty`` (the name the engine's
#: :class:`mmlab.backtest.GridStrategy` gives the same quantity).
_ORDER_QTY = "renamed order_qty (the size of one level, in quantity units)"


@renamed_keywords(level_size=_ORDER_QTY, order_size=_ORDER_QTY)
@dataclass(frozen=True, slots=True)
class GridConfig:
    """Validated grid parameters (see the module docstring).

    Parameters
    ----------
    step : float
        Grid spacing, P (e.g. a multiple of the tick).
    n_levels : int, default 3
        Levels per side.
    order_qty : float, default 1.0
        Size per level before skew and bounds, in quantity units (the engine's
        :class:`mmlab.backtest.GridStrategy` names it the same; ``level_size=`` and
        ``order_size=`` raise a ConfigError naming ``order_qty``).
    anchor : float, default 0.0
        A price on the grid (the grid is ``anchor + j * step``).
    skew : float, default 0.0
        Centre shift in steps per unit of inventory (>= 0).
    max_inventory : float, default inf
        Bound Q on |q| including every resting level.

    Examples
    --------
    >>> GridConfig(step=0.5, n_levels=2).n_levels
    2
    >>> GridConfig(step=0.5, n_levels=0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: n_levels must be an integer >= 1, got 0
    >>> GridConfig(step=0.5, level_size=2.0)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: GridConfig(level_size=...): renamed order_qty (the size of one
    level, in quantity units)
    """

    step: float
    n_levels: int = 3
    order_qty: float = 1.0
    anchor: float = 0.0
    skew: float = 0.0
    max_inventory: float = math.inf

    def __post_init__(self) -> None:
        check_positive("step", self.step)
        if isinstance(self.n_levels, bool) or not isinstance(self.n_levels, (int, np.integer)) \
                or self.n_levels < 1:
            raise ConfigError(f"n_levels must be an integer >= 1, got {self.n_levels!r}")
        check_positive("order_qty", self.order_qty)
        check_finite("anchor", self.anchor)
        check_nonnegative("skew", self.skew)
        check_positive("max_inventory", self.max_inventory, allow_inf=True)


class GridStrategy:
    """Grid quoting: ``quote(state)`` gives the levels nearest the mid, ``ladder(state)`` all.

    Examples
    --------
    >>> cfg = GridConfig(step=0.1, n_levels=3, order_qty=2.0, skew=1.0, max_inventory=4)
    >>> strat = GridStrategy(cfg)
    >>> lad = strat.ladder(MarketState(mid=100.02, inventory=2.0))
    >>> lad.bids.round(2).tolist(), lad.bid_sizes.tolist()   # centre 99.82; 2 units of room
    ([99.8, 99.7, nan], [1.0, 1.0, 0.0])
    >>> round(strat.quote(MarketState(mid=100.02, inventory=2.0)).ask, 2)
    100.1
    """

    __slots__ = ("config", "_args")

    def __init__(self, config: GridConfig):
        if not isinstance(config, GridConfig):
            raise ConfigError(f"config must be a GridConfig, got {type(config).__name__}")
        self.config = config
        c = config
        self._args = (float(c.step), int(c.n_levels), float(c.order_qty), float(c.anchor),
                      float(c.skew), float(c.max_inventory))

    def ladder(self, state: MarketState) -> QuoteLadder:
        """All grid levels for ``state``."""
        return QuoteLadder.from_array(
            grid_ladder_kernel(float(state.mid), float(state.inventory), *self._args))

    def quote(self, state: MarketState) -> Quote:
        """The grid levels nearest the mid, as a :class:`Quote`."""
        out = grid_ladder_kernel(float(state.mid), float(state.inventory), *self._args)
        return Quote(float(out[0, 0]), float(out[0, 1]), float(out[0, 2]), float(out[0, 3]))
