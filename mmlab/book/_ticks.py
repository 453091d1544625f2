"""Tick-size inference and exact price <-> tick conversion."""

from __future__ import annotations

import math

import numpy as np

from mmlab.errors import ConfigError

__all__ = ["TickGrid", "infer_tick_size"]

_REL_TOL = 1e-6


def _fgcd(a: float, b: float, tol: float) -> float:
    while b > tol:
        a, b = b, math.fmod(a, b)
    return a


def infer_tick_size(prices: np.ndarray) -> float:
    """The coarsest grid every price lies on: a float GCD of the distinct prices.

    Starts from the smallest positive difference between distinct prices and refines it (float
    Euclid, tolerance 1e-9 of the price scale) until every price is a whole number of ticks; the
    result is snapped to ``1/k`` (or ``k``) for an integer ``k`` when within 1e-9 of one, so
    decimal ticks such as 0.01 come out exact.

    Parameters
    ----------
    prices : array_like
        Prices in currency units (NaN ignored).

    Returns
    -------
    float

    Examples
    --------
    >>> infer_tick_size([585.33, 585.32, 585.2, 586.0])
    0.01
    >>> infer_tick_size([100.0, 100.5, 99.0])
    0.5
    """
    p = np.asarray(prices, dtype=np.float64)
    p = np.unique(p[np.isfinite(p)])
    if p.size == 0:
        raise ConfigError("tick_size: no finite prices to infer it from; pass tick_size=")
    scale = max(float(np.max(np.abs(p))), 1e-300)
    tol = scale * 1e-12 * 1000
    cands = np.unique(np.concatenate([np.diff(p), np.abs(p[:1])]))
    cands = cands[cands > tol]
    if cands.size == 0:
        return 1.0
    t = float(cands[0])
    for c in cands[1:]:
        r = c / t
        if abs(r - round(r)) > _REL_TOL:
            t = _fgcd(float(c), t, tol)
    return _snap(t)


def _snap(t: float) -> float:
    if t < 1:
        k = round(1 / t)
        if k > 0 and abs(1 / t - k) < 1e-9 * k:
            return 1 / k
    else:
        k = round(t)
        if abs(t - k) < 1e-9 * k:
            return float(k)
    return t


class TickGrid:
    """Exact conversion between prices and integer ticks for one tick size.

    Prices are rebuilt as ``ticks / k`` when the tick is ``1/k`` (so 0.01 gives the correctly
    rounded decimal), else ``ticks * tick``.

    Examples
    --------
    >>> g = TickGrid(0.01)
    >>> int(g.to_ticks(np.array([585.33]))[0]), float(g.to_price(58533))
    (58533, 585.33)
    """

    __slots__ = ("tick", "mul", "div")

    def __init__(self, tick: float):
        if not (isinstance(tick, int | float) and math.isfinite(tick) and tick > 0):
            raise ConfigError(f"tick_size must be a positive number, got {tick!r}")
        self.tick = float(tick)
        k = round(1 / self.tick)
        if self.tick < 1 and k > 0 and abs(1 / self.tick - k) < 1e-9 * k:
            self.mul, self.div = 1.0, float(k)
        else:
            self.mul, self.div = self.tick, 1.0

    def to_ticks_float(self, px: np.ndarray) -> np.ndarray:
        """``px / tick`` (not rounded)."""
        return np.asarray(px, dtype=np.float64) * self.div / self.mul

    def to_ticks(self, px: np.ndarray) -> np.ndarray:
        """Nearest integer tick of each price."""
        return np.round(self.to_ticks_float(px)).astype(np.int64)

    def to_price(self, ticks):
        """Price of integer tick(s)."""
        return np.asarray(ticks, dtype=np.float64) * self.mul / self.div
