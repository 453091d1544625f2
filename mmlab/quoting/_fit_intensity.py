"""Calibrate A, k and sigma_px of the Avellaneda-Stoikov / GLFT models from an event data set.

The standard procedure (Avellaneda and Stoikov 2008, section 2.4; Gueant, Lehalle and
Fernandez-Tapia 2013; hftbacktest's GLFT tutorial), on ``EVENT_DTYPE`` events (L2 or L3 depth
plus trades):

1. rebuild the book (:func:`mmlab.book.rebuild`) and cut time into intervals of ``interval`` ns;
   the reference mid of an interval is the book's mid after every event stamped at or before
   its start (an interval whose book is then one-sided or crossed is left out);
2. a quote resting at distance delta from that mid (bid at mid - delta, ask at mid + delta) is
   hit in the interval when a trade on its side prints at or through it: a buyer-initiated
   trade at a price >= mid + delta, a seller-initiated one at a price <= mid - delta. For each
   delta of a grid and each side, p(delta) is the fraction of intervals with a hit;
3. hits are Poisson arrivals, so the fill intensity of a side is
   lambda(delta) = -ln(1 - p(delta)) / dt with dt the interval in time units (the plain
   p / dt of the tutorial underestimates lambda where lambda dt is not small); the two sides'
   intensities are averaged;
4. ln lambda(delta) = ln A - k delta is fitted by ordinary least squares
   (:class:`~mmlab.quoting.IntensityFit` ``method="loglinear"``), with its R^2;
5. sigma_px is the standard deviation of the change of the interval mids, per square root of the
   time unit: std(mid_{i+1} - mid_i) / sqrt(dt).

Units (one name per quantity; the unit of each is fixed here and in the result's docstring):
``A`` is the fill intensity at the mid, per side, per time unit (1/U, U = ``time_unit_ns`` ns,
seconds by default); ``k`` is per price unit (1/P); ``sigma_px`` is the mid's volatility in price
per square root of the time unit (P / sqrt(U)), not annualised: the unit the quoting models and
the backtest (``BacktestConfig.time_unit_ns``) use. Pricing's annualised volatility is another
quantity.

hftbacktest's tutorial pools both sides (one hit per interval when either side is reached);
here the two sides are counted apart and averaged, so ``A`` is the per-side intensity the
models' lambda(delta) = A exp(-k delta) means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError, DataError
from mmlab.quoting._checks import renamed_keywords
from mmlab.quoting._intensity import IntensityFit

__all__ = ["IntensityEstimate", "fit_intensity"]

_TRADE = 2  # mmlab.data.TRADE_EVENT (hftbacktest's value); kinds whose price must be finite:
_PRICED = (1, 2, 4, 5, 10, 12)  # depth, trade, snapshot, BBO, add order, modify order
_SIDE_FLAG = {"exch": 1 << 31, "local": 1 << 30}
_BUY, _SELL = 1 << 29, 1 << 28
_UNIT_NAMES = {1.0: "ns", 1e3: "us", 1e6: "ms", 1e9: "s", 6e10: "min", 3.6e12: "h", 8.64e13: "day"}


@dataclass(frozen=True, eq=False)
class IntensityEstimate:
    """A fitted lambda(delta) = A exp(-k delta) and the mid's sigma_px (:func:`fit_intensity`).

    Attributes
    ----------
    A : float
        Fill intensity of a quote at the mid, per side, per time unit (1/U, U = ``time_unit_ns``
        nanoseconds; 1/s by default).
    k : float
        Decay of the intensity per price unit (1/P).
    sigma_px : float
        Volatility of the mid in price per square root of the time unit (P / sqrt(U)); not
        annualised.
    r_squared : float
        R^2 of the log-linear fit over the grid points used.
    A_se, k_se : float
        Standard errors of the least-squares fit (A's by the delta method); the grid points
        share trades, so they understate the sampling error.
    deltas : ndarray
        The distance grid (price units).
    hits_bid, hits_ask : ndarray
        Intervals in which a seller-initiated (buyer-initiated) trade printed at or through
        mid - delta (mid + delta).
    rates : ndarray
        lambda(delta) per side, per time unit (the mean of the two sides' -ln(1 - p) / dt);
        NaN where no interval had a hit, inf where a side was hit in every interval.
    used : ndarray of bool
        Grid points in the fit (at least one hit, and no side hit in every interval).
    n_intervals : int
        Intervals with a two-sided book at their start (the exposure).
    n_trades : int
        Trades inside those intervals (the ones the depths were measured on).
    interval : int
        Interval length, nanoseconds (the name of :class:`mmlab.backtest.BacktestConfig`'s
        decision interval).
    time_unit_ns : float
        The time unit U, nanoseconds.
    side : str
        The event side and timestamps used ("local" or "exch").
    """

    A: float
    k: float
    sigma_px: float
    r_squared: float
    A_se: float
    k_se: float
    deltas: np.ndarray = field(repr=False)
    hits_bid: np.ndarray = field(repr=False)
    hits_ask: np.ndarray = field(repr=False)
    rates: np.ndarray = field(repr=False)
    used: np.ndarray = field(repr=False)
    n_intervals: int = 0
    n_trades: int = 0
    interval: int = 100_000_000
    time_unit_ns: float = 1e9
    side: str = "local"

    @property
    def duration(self) -> float:
        """Observed time (the intervals with a two-sided book), in time units."""
        return self.n_intervals * self.interval / self.time_unit_ns

    def _unit(self) -> str:
        return _UNIT_NAMES.get(float(self.time_unit_ns), f"({self.time_unit_ns:g} ns)")

    def to_params(self) -> dict[str, float]:
        """``{"A": ..., "k": ..., "sigma_px": ...}``: the keyword arguments of the quoting configs
        (GLFT, Avellaneda-Stoikov) in their documented units, given ``time_unit_ns``."""
        return {"A": float(self.A), "k": float(self.k), "sigma_px": float(self.sigma_px)}

    def summary(self) -> dict:
        """The estimates, their fit statistics and the units, as a flat dict."""
        u = self._unit()
        return {
            "A": float(self.A), "k": float(self.k), "sigma_px": float(self.sigma_px),
            "A_unit": f"1/{u} per side", "k_unit": "1/price",
            "sigma_px_unit": f"price/sqrt{u}" if u.startswith("(") else f"price/sqrt({u})",
            "time_unit": u,
            "r_squared": float(self.r_squared), "A_se": float(self.A_se), "k_se": float(self.k_se),
            "points_used": int(self.used.sum()), "max_delta": float(self.deltas[-1]),
            "n_intervals": int(self.n_intervals), "n_trades": int(self.n_trades),
            "duration": float(self.duration), "interval": int(self.interval),
            "time_unit_ns": float(self.time_unit_ns), "side": self.side,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per grid distance: ``delta, hits_bid, hits_ask, rate, fitted, used``."""
        return pd.DataFrame({
            "delta": self.deltas, "hits_bid": self.hits_bid, "hits_ask": self.hits_ask,
            "rate": self.rates, "fitted": self.A * np.exp(-self.k * self.deltas),
            "used": self.used,
        })

    def plot(self, ax=None):
        """The measured intensities and the fitted line on a log scale; the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        df = self.to_frame()
        u = df["used"]
        ax.semilogy(df.loc[u, "delta"], df.loc[u, "rate"], "o", label="measured")
        if (~u).any():
            ax.semilogy(df.loc[~u, "delta"], df.loc[~u, "rate"], "x", color="grey", label="not used")
        ax.semilogy(df["delta"], df["fitted"], "-",
                    label=f"A exp(-k delta): A={self.A:.4g}, k={self.k:.4g}, R2={self.r_squared:.3f}")
        ax.set_xlabel("distance from the mid (price units)")
        ax.set_ylabel(f"fills per {self._unit()} per side")
        unit = self.summary()["sigma_px_unit"]
        ax.set_title(f"fill intensity (sigma_px = {self.sigma_px:.4g} {unit})")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        u = self._unit()
        return (f"IntensityEstimate(A={self.A:.6g} /{u}, k={self.k:.6g} /price, "
                f"sigma_px={self.sigma_px:.6g} {self.summary()['sigma_px_unit']}, "
                f"R2={self.r_squared:.3f}, "
                f"{self.n_trades} trades over {self.duration:.6g} {u})")


def _check_args(time_unit_ns, max_depth, n_depths, interval, side, min_hits):
    for name, v in (("time_unit_ns", time_unit_ns), ("interval", interval)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) \
                or not math.isfinite(v) or v <= 0:
            raise ConfigError(f"{name}: must be a finite number > 0, got {v!r}")
    if float(interval) != int(interval) or int(interval) < 1:
        raise ConfigError(f"interval: must be a whole number of nanoseconds >= 1, got {interval!r}")
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(
            max_depth, int | float | np.integer | np.floating) or not math.isfinite(max_depth)
            or max_depth <= 0):
        raise ConfigError(f"max_depth: must be None or a finite price distance > 0, got {max_depth!r}")
    for name, v, lo in (("n_depths", n_depths, 3), ("min_hits", min_hits, 1)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            raise ConfigError(f"{name}: must be an integer >= {lo}, got {v!r}")
    if side not in _SIDE_FLAG:
        raise ConfigError(f"side: must be 'local' or 'exch', got {side!r}")


def _interval_state(events, side, interval, tick_size):
    """Interval mids and per-(interval, side) maximum trade depth; see :func:`fit_intensity`."""
    from mmlab.book import rebuild

    sub = events[(events["ev"] & np.uint64(_SIDE_FLAG[side])) != 0]
    kind = (sub["ev"] & np.uint64(0xFF)).astype(np.int64)
    priced = np.isin(kind, _PRICED)
    bad = np.flatnonzero(priced & ~np.isfinite(sub["px"]))
    if bad.size:
        r = bad[0]
        raise ConfigError(f"events: price {sub['px'][r]!r} is not finite (event kind {kind[r]}, "
                          f"vendor row {sub['ival'][r]})")
    trade = kind == _TRADE
    if not trade.any():
        raise ConfigError(f"events: no trades (TRADE events flagged {side!r}): the fill intensity "
                          "is not identified")
    try:
        top = rebuild(sub, levels=1, side=side, check_crossed=False, tick_size=tick_size)
    except DataError as exc:
        raise ConfigError(f"events: the book could not be rebuilt: {exc}") from None
    bid = top["bid_px_1"].to_numpy()
    ask = top["ask_px_1"].to_numpy()
    two_sided = np.isfinite(bid) & np.isfinite(ask) & (ask > bid)
    if not two_sided.any():
        raise ConfigError("events: the book is never two-sided (no depth on both sides): no mid")
    mid = np.where(two_sided, 0.5 * (bid + ask), np.nan)
    ts = np.maximum.accumulate(sub[f"{side}_ts"].astype(np.int64))  # a clock that never goes back
    t0 = int(ts[np.flatnonzero(two_sided)[0]])
    n = int((int(ts[-1]) - t0) // interval)
    if n < 2:
        raise ConfigError(f"events: {(int(ts[-1]) - t0) / 1e9:g} s with a two-sided book is shorter "
                          f"than two intervals of interval={interval}")
    starts = t0 + np.arange(n, dtype=np.int64) * interval
    mids = mid[np.searchsorted(ts, starts, side="right") - 1]  # the book at each start
    # trades inside interval i: start_i < t <= start_i + interval
    tt = ts[trade]
    keep = (tt > t0) & (tt <= t0 + n * interval)
    j = (tt[keep] - t0 - 1) // interval
    flags = sub["ev"][trade][keep]
    sign = np.where((flags & np.uint64(_BUY)) != 0, 1.0,
                    np.where((flags & np.uint64(_SELL)) != 0, -1.0, 0.0))
    m = mids[j]
    ok = (sign != 0.0) & np.isfinite(m)
    j, sign = j[ok], sign[ok]
    depth = sign * (sub["px"][trade][keep][ok] - m[ok])
    deep_ask = np.full(n, -np.inf)  # deepest buyer-initiated print beyond mid, per interval
    deep_bid = np.full(n, -np.inf)
    np.maximum.at(deep_ask, j[sign > 0], depth[sign > 0])
    np.maximum.at(deep_bid, j[sign < 0], depth[sign < 0])
    valid = np.isfinite(mids)
    scale = float(np.nanmax(np.abs(mids)))  # the price scale (for the "at" tolerance)
    return mids, deep_bid[valid], deep_ask[valid], int(valid.sum()), int(ok.sum()), scale


@renamed_keywords(interval_ns="renamed interval (ns, as BacktestConfig's interval)")
def fit_intensity(events, *, time_unit_ns: float = 1e9, max_depth: float | None = None,
                  n_depths: int = 20, interval: int = 100_000_000, side: str = "local",
                  min_hits: int = 50, tick_size: float | None = None) -> IntensityEstimate:
    """Estimate A and k of lambda(delta) = A exp(-k delta) and the mid's sigma_px from events.

    The method is described in the module docstring (:mod:`mmlab.quoting._fit_intensity`):
    per interval, does a trade print at or through mid +- delta; hit fractions turned into
    Poisson intensities; a log-linear least-squares fit; sigma_px from the interval mids.

    Parameters
    ----------
    events : numpy.ndarray
        ``EVENT_DTYPE`` events in stream order with depth (L2 or L3) and trades, e.g.
        ``mmlab.data.load_binance("data/binance/usdm_btcusdt_20240808.gz")``.
    time_unit_ns : float, default 1e9
        The time unit U of A and sigma_px, in nanoseconds (seconds by default; the backtest's
        ``time_unit_ns``).
    max_depth : float, optional
        Deepest distance of the grid, price units. Default: the ``min_hits``-th largest
        per-interval trade depth, so every grid point has at least ``min_hits`` hits.
    n_depths : int, default 20
        Grid points: ``max_depth * (1..n_depths) / n_depths`` (delta = 0, a quote at the mid,
        is left out).
    interval : int, default 100_000_000
        Interval length in nanoseconds (100 ms, as hftbacktest's tutorial; the name and unit of
        the backtest's decision ``interval``): the reference mid is refreshed every interval and
        a quote is hit at most once per interval. ``interval_ns=`` raises a ConfigError naming
        ``interval``.
    side : {"local", "exch"}, default "local"
        Events carrying this side's flag, timed by ``local_ts`` (what a strategy sees) or
        ``exch_ts``; a timestamp earlier than the one before it counts as the one before.
    min_hits : int, default 50
        Hits the default ``max_depth`` keeps at the deepest grid point; fewer (interval, side)
        pairs with a trade beyond the mid than this is a :class:`ConfigError` (too few trades).
    tick_size : float, optional
        The book's price grid (default: inferred by :func:`mmlab.book.rebuild`).

    Returns
    -------
    IntensityEstimate
        ``A`` (1/U per side), ``k`` (1/price), ``sigma_px`` (price/sqrt(U)), ``r_squared``, the
        grid and its counts (``to_frame()``), ``summary()``, ``plot()``.

    Raises
    ------
    ConfigError
        Not an ``EVENT_DTYPE`` array; a bad argument (named); a non-finite price (naming the
        vendor row); no trades, no two-sided book, fewer than two intervals, fewer than three
        grid points with hits, or too few trades to fit.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> from mmlab.data import load_binance
    >>> est = fit_intensity(load_binance(shipped("binance", "usdm_btcusdt_20240808.gz")))
    >>> est.A > 0 and est.k > 0 and est.sigma_px > 0 and 0 < est.r_squared <= 1
    True
    """
    from mmlab.data import EVENT_DTYPE

    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise ConfigError("events: expected an EVENT_DTYPE array (e.g. mmlab.data.load_binance(...))")
    _check_args(time_unit_ns, max_depth, n_depths, interval, side, min_hits)
    interval = int(interval)
    if len(events) == 0:
        raise ConfigError("events: empty")
    mids, deep_bid, deep_ask, n, n_trades, scale = _interval_state(events, side, interval,
                                                                   tick_size)
    dt = interval / float(time_unit_ns)
    deepest = np.concatenate([deep_bid, deep_ask])
    deepest = np.sort(deepest[np.isfinite(deepest) & (deepest > 0)])[::-1]
    if deepest.size < min_hits:
        raise ConfigError(f"events: too few trades beyond the mid ({deepest.size} interval-sides "
                          f"with one; need min_hits={min_hits}) to fit the intensity")
    top = float(deepest[min_hits - 1]) if max_depth is None else float(max_depth)
    deltas = top * np.arange(1, n_depths + 1) / n_depths
    # "at" mid +- delta up to float noise: px - mid carries ~1e-16 x the price of rounding
    at = deltas - 1e-9 * scale
    hits_bid = n - np.searchsorted(np.sort(deep_bid), at, side="left")  # intervals with deep >= at
    hits_ask = n - np.searchsorted(np.sort(deep_ask), at, side="left")
    p_bid, p_ask = hits_bid / n, hits_ask / n
    full = (p_bid >= 1) | (p_ask >= 1)  # a hit in every interval: lambda not resolved
    used = (hits_bid + hits_ask > 0) & ~full
    with np.errstate(divide="ignore"):  # per side, then the mean of the two sides
        rates = -0.5 * (np.log1p(-np.minimum(p_bid, 1.0)) + np.log1p(-np.minimum(p_ask, 1.0))) / dt
    rates = np.where(used, rates, np.where(full, np.inf, np.nan))
    if used.sum() < 3:
        why = ("a side was hit in every interval: shorten interval" if full.any()
               else "lower max_depth")
        raise ConfigError(f"events: only {int(used.sum())} of {n_depths} grid distances up to "
                          f"{top:g} have hits to fit (need 3; {why})")
    x, lam = deltas[used], rates[used]
    T = n * dt
    fit = IntensityFit(method="loglinear").fit(x, lam * T, exposure=T)
    y = np.log(lam)
    resid = y - (math.log(fit.A_) - fit.k_ * x)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else float("nan")
    dm = np.diff(mids)
    dm = dm[np.isfinite(dm)]
    if dm.size < 2:
        raise ConfigError("events: fewer than two consecutive intervals with a two-sided book: "
                          "sigma_px is not identified")
    sigma_px = float(np.std(dm, ddof=1) / math.sqrt(dt))
    for name, v in (("A", fit.A_), ("k", fit.k_), ("sigma_px", sigma_px)):
        if not math.isfinite(v):
            raise ConfigError(f"events: the fitted {name} is not finite ({v!r})")
    return IntensityEstimate(
        A=float(fit.A_), k=float(fit.k_), sigma_px=sigma_px, r_squared=r2, A_se=float(fit.A_se_),
        k_se=float(fit.k_se_), deltas=deltas, hits_bid=hits_bid, hits_ask=hits_ask, rates=rates,
        used=used, n_intervals=n, n_trades=n_trades, interval=interval,
        time_unit_ns=float(time_unit_ns), side=side,
    )
