"""Adverse-selection detectors: VPIN, fill markouts, one-sided fill ratio, and the toxicity response.

Notes
-----
**VPIN** (Easley, López de Prado and O'Hara, "Flow toxicity and liquidity in a high-frequency
world", Review of Financial Studies 25(5), 2012): trades are packed in order into buckets of equal
volume :math:`V` (a trade that straddles a boundary is split); with :math:`V^B_\\tau, V^S_\\tau` the
buy and sell volume of bucket :math:`\\tau`,

.. math:: \\mathrm{VPIN}_\\tau = \\frac{1}{nV}\\sum_{j=\\tau-n+1}^{\\tau} |V^S_j - V^B_j|.

Trades are classified by their aggressor flag where the feed has it (Binance, LOBSTER
executions): exact, rather than the paper's bulk classification from price changes.

**Markout** of a fill at horizon :math:`h`: :math:`s\\,(M_{t+h} - p)` with side :math:`s=\\pm1` of
our order, fill price :math:`p` and the mid :math:`M` prevailing at :math:`t+h` (last mid at or
before it). Positive is good for us; persistently negative markouts are adverse selection.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from mmlab.errors import ConfigError

__all__ = [
    "ToxicityMonitor",
    "markouts",
    "one_sided_ratio",
    "vpin",
    "vpin_python",
]


def vpin_python(qty: np.ndarray, side: np.ndarray, bucket_volume: float,
                n_buckets: int) -> np.ndarray:
    """VPIN after each completed bucket: the plain-Python kernel (:func:`vpin` runs it compiled).

    Parameters
    ----------
    qty : array of float
        Trade quantities (> 0), in time order.
    side : array of int
        Aggressor side of each trade: +1 buyer-initiated, -1 seller-initiated.
    bucket_volume : float
        Volume per bucket V.
    n_buckets : int
        Number of buckets n in the moving window.

    Returns
    -------
    ndarray
        One value per completed bucket; NaN until ``n_buckets`` buckets are complete.
    """
    cap = int(np.sum(qty) / bucket_volume) + 2
    imb = np.empty(cap)
    m = 0
    buy = 0.0
    sell = 0.0
    for i in range(qty.shape[0]):
        remaining = qty[i]
        while remaining > 0:
            room = bucket_volume - (buy + sell)
            take = remaining if remaining < room else room
            if side[i] > 0:
                buy += take
            else:
                sell += take
            remaining -= take
            if buy + sell >= bucket_volume * (1 - 1e-12):
                imb[m] = abs(buy - sell)
                m += 1
                buy = 0.0
                sell = 0.0
    out = np.full(m, np.nan)
    acc = 0.0
    for j in range(m):
        acc += imb[j]
        if j >= n_buckets:
            acc -= imb[j - n_buckets]
        if j >= n_buckets - 1:
            out[j] = acc / (n_buckets * bucket_volume)
    return out


_vpin_kernel = njit(cache=True)(vpin_python)


def vpin(qty, side, bucket_volume: float, n_buckets: int = 50) -> np.ndarray:
    """VPIN after each completed volume bucket (numba; see :func:`vpin_python`).

    Examples
    --------
    >>> vpin([1.0, 1.0, 1.0, 1.0], [1, 1, 1, -1], bucket_volume=2.0, n_buckets=1)
    array([1., 0.])
    """
    q = np.ascontiguousarray(qty, dtype=np.float64)
    s = np.ascontiguousarray(side, dtype=np.int64)
    if q.shape != s.shape or q.ndim != 1:
        raise ConfigError("qty, side: need two 1-d arrays of the same length")
    if np.any(~np.isfinite(q)) or np.any(q <= 0):
        raise ConfigError("qty: trade quantities must be finite and > 0")
    if not np.all(np.isin(s, (-1, 1))):
        raise ConfigError("side: aggressor sides must be +1 or -1")
    if not (bucket_volume > 0):
        raise ConfigError(f"bucket_volume: must be > 0, got {bucket_volume!r}")
    if not (isinstance(n_buckets, (int, np.integer)) and n_buckets >= 1):
        raise ConfigError(f"n_buckets: must be an integer >= 1, got {n_buckets!r}")
    return _vpin_kernel(q, s, float(bucket_volume), int(n_buckets))


def markouts(fill_ts, fill_side, fill_px, mid_ts, mid_px,
             horizons_ns=(1_000_000_000, 5_000_000_000, 30_000_000_000)) -> np.ndarray:
    """Markouts of fills at several horizons: ``side * (mid(t + h) - price)``.

    Returns an array of shape ``(n_fills, n_horizons)``; NaN where ``t + h`` is before the first
    mid or after the last one (the future is unknown there).

    Examples
    --------
    >>> markouts([0, 10], [1, -1], [99.0, 101.0], mid_ts=[0, 5, 12], mid_px=[100, 100.5, 101.5],
    ...          horizons_ns=(0, 2))
    array([[ 1. ,  1. ],
           [ 0.5, -0.5]])
    """
    ft = np.asarray(fill_ts, dtype=np.int64)
    fs = np.asarray(fill_side, dtype=np.float64)
    fp = np.asarray(fill_px, dtype=np.float64)
    mt = np.asarray(mid_ts, dtype=np.int64)
    mp = np.asarray(mid_px, dtype=np.float64)
    if not (ft.shape == fs.shape == fp.shape) or mt.shape != mp.shape:
        raise ConfigError("fill arrays must share a shape, and so must mid_ts and mid_px")
    if mt.size and np.any(np.diff(mt) < 0):
        raise ConfigError("mid_ts: must be non-decreasing")
    out = np.full((ft.size, len(horizons_ns)), np.nan)
    if mt.size == 0:
        return out
    for j, h in enumerate(horizons_ns):
        t = ft + np.int64(h)
        idx = np.searchsorted(mt, t, side="right") - 1
        ok = (idx >= 0) & (t <= mt[-1])
        out[ok, j] = fs[ok] * (mp[idx[ok]] - fp[ok])
    return out


def one_sided_ratio(sides) -> float:
    """Share of the larger side among fills: 0.5 balanced, 1.0 all on one side (NaN if none).

    Examples
    --------
    >>> one_sided_ratio([1, 1, 1, -1])
    0.75
    """
    s = np.asarray(sides)
    if s.size == 0:
        return float("nan")
    buys = int(np.sum(s > 0))
    return max(buys, s.size - buys) / s.size


@dataclass
class ToxicityMonitor:
    """The response to toxic flow: widen and shrink while fills are one-sided.

    Over the last ``window`` fills, when the one-sided ratio exceeds ``threshold`` the flow is
    *toxic*: the strategy's spread is multiplied by ``widen`` and its sizes by ``size_factor``.
    It recovers after ``recover_after`` consecutive *clean* fills: fills after which the
    window's one-sided ratio is at or below the threshold.

    Examples
    --------
    >>> m = ToxicityMonitor(window=10, threshold=0.8, recover_after=3)
    >>> for _ in range(10): m.on_fill(+1)
    >>> m.toxic, m.spread_mult, m.size_mult
    (True, 2.0, 0.5)
    """

    window: int = 50
    threshold: float = 0.80
    widen: float = 2.0
    size_factor: float = 0.5
    recover_after: int = 100
    toxic: bool = field(default=False, init=False)
    clean_streak: int = field(default=0, init=False)
    _sides: deque = field(default_factory=deque, init=False, repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.window, int) and self.window >= 2):
            raise ConfigError(f"window: must be an integer >= 2, got {self.window!r}")
        if not (0.5 <= self.threshold < 1.0):
            raise ConfigError(f"threshold: must be in [0.5, 1), got {self.threshold!r}")
        if not (self.widen >= 1.0 and 0.0 < self.size_factor <= 1.0):
            raise ConfigError("widen >= 1 and 0 < size_factor <= 1 required")
        if not (isinstance(self.recover_after, int) and self.recover_after >= 1):
            raise ConfigError(f"recover_after: must be an integer >= 1, got {self.recover_after!r}")
        self._sides = deque(maxlen=self.window)

    @property
    def ratio(self) -> float:
        """One-sided ratio of the current window."""
        return one_sided_ratio(list(self._sides))

    def on_fill(self, side: int) -> None:
        """Record one of our fills (+1 we bought, -1 we sold)."""
        self._sides.append(1 if side > 0 else -1)
        one_sided = len(self._sides) >= self.window and self.ratio > self.threshold
        if one_sided:
            self.toxic, self.clean_streak = True, 0
        elif self.toxic:
            self.clean_streak += 1
            if self.clean_streak >= self.recover_after:
                self.toxic, self.clean_streak = False, 0

    @property
    def spread_mult(self) -> float:
        """Multiplier on the spread (``widen`` while toxic, else 1)."""
        return self.widen if self.toxic else 1.0

    @property
    def size_mult(self) -> float:
        """Multiplier on sizes (``size_factor`` while toxic, else 1)."""
        return self.size_factor if self.toxic else 1.0
