"""Realised-volatility estimators: close-to-close, Parkinson, Garman-Klass, and from tick series.

All estimators return **annualised** volatilities (decimals) and accept either one estimate over
the whole sample (``window=None``) or a rolling one (``window=n`` bars, a pandas Series aligned
on the bar that closes each window).

Formulas (per bar, ``o, h, l, c`` the log open, high, low and close)
-------------------------------------------------------------------
* close-to-close: sample variance of ``r_t = ln(C_t / C_{t-1})`` (``demean=True``, ``n - 1`` in
  the denominator) or the mean of ``r_t^2`` (``demean=False``);
* Parkinson (1980): ``sigma^2 = mean((h - l)^2) / (4 ln 2)``;
* Garman & Klass (1980), their "best analytic" estimator ``sigma^2 = mean(0.5 (h - l)^2 -
  (2 ln 2 - 1)(c - o)^2)``.

The range estimators measure the trading session only: they miss the overnight move, so on a
daily index file they sit below close-to-close (about 0.8x on the S&P 500).  They also assume
continuous monitoring: a high/low read from a discrete path is biased low.

Annualisation multiplies the per-bar variance by ``periods_per_year`` (252 trading days by
default).  :func:`realized_vol` works on irregular tick or mid-price series with exact int64 UTC
nanosecond timestamps and annualises by elapsed ACT/365F time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = [
    "close_to_close_vol",
    "garman_klass_vol",
    "log_returns",
    "parkinson_vol",
    "realized_variance",
    "realized_vol",
]

_NS_PER_YEAR = 365 * 86_400 * 1_000_000_000


def _positive(name: str, x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ConfigError(f"{name}: expected a 1-D series, got shape {a.shape}")
    bad = ~(np.isfinite(a) & (a > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigError(f"{name}: prices must be finite and > 0 (element {i} is {a[i]!r})")
    return a


def _window_mean(values: np.ndarray, window: int | None, index, ddof: int = 0):
    if window is None:
        n = values.size
        if n - ddof <= 0:
            raise ConfigError("need more observations")
        return float(np.sum(values) / (n - ddof))
    if not (isinstance(window, int) and window >= 2):
        raise ConfigError(f"window: must be an int >= 2, got {window!r}")
    s = pd.Series(values, index=index)
    return s.rolling(window).sum() / (window - ddof)


def _annualise(var, periods_per_year: float):
    if not (periods_per_year > 0):
        raise ConfigError(f"periods_per_year: must be > 0, got {periods_per_year!r}")
    if isinstance(var, pd.Series):
        return np.sqrt(var.clip(lower=0.0) * periods_per_year)
    return math.sqrt(max(var, 0.0) * periods_per_year)


def log_returns(prices, *, skip_invalid: bool = False) -> np.ndarray:
    """Log-returns ``ln(P_t / P_{t-1})`` of a price series.

    Parameters
    ----------
    prices : array-like
        Prices, one per bar, 1-D.
    skip_invalid : bool, default False
        ``False``: every price must be finite and > 0 (:class:`~mmlab.errors.ConfigError`
        naming the first bad element otherwise). ``True``: a return touching a non-positive or
        non-finite price (a futures settle at -37.63) is NaN, never an error.

    Returns
    -------
    numpy.ndarray
        ``len(prices) - 1`` returns.

    Examples
    --------
    >>> log_returns([100.0, 110.0, -5.0, 100.0], skip_invalid=True).round(4).tolist()
    [0.0953, nan, nan]
    """
    if not skip_invalid:
        return np.diff(np.log(_positive("prices", prices)))
    p = np.asarray(prices, dtype=float)
    if p.ndim != 1:
        raise ConfigError(f"prices: expected a 1-D series, got shape {p.shape}")
    ok = np.isfinite(p) & (p > 0)
    return np.diff(np.log(np.where(ok, p, np.nan)))


def close_to_close_vol(close, window: int | None = None, periods_per_year: float = 252.0,
                       demean: bool = True, *, skip_invalid: bool = False):
    """Close-to-close volatility, annualised.

    Parameters
    ----------
    close : array-like or pandas.Series
        Closing prices (> 0), one per bar.
    window : int, optional
        Rolling window in returns; ``None`` uses the whole sample.
    periods_per_year : float, default 252
    demean : bool, default True
        Sample variance around the mean return (``n - 1`` denominator); ``False`` uses the mean
        squared return (zero-mean, the usual choice for short windows).
    skip_invalid : bool, default False
        Leave out the returns touching a non-positive or non-finite close (:func:`log_returns`)
        instead of raising; a rolling window holding one is NaN. With ``window=None`` the
        estimate needs two valid returns.

    Returns
    -------
    float or pandas.Series

    Examples
    --------
    >>> round(close_to_close_vol([100, 101, 100, 101, 100], demean=False), 4)  # |r| ~ 0.00995
    0.158
    >>> round(close_to_close_vol([100, 101, 100, 101, 100, -1], demean=False, skip_invalid=True), 4)
    0.158
    """
    idx = close.index[1:] if isinstance(close, pd.Series) else None
    r = log_returns(close if skip_invalid else _positive("close", close), skip_invalid=skip_invalid)
    if window is None:
        r = r[np.isfinite(r)]
        if r.size < 2:
            raise ConfigError("close: need at least 3 prices" if not skip_invalid
                              else "close: need at least 2 valid returns")
        var = float(np.var(r, ddof=1)) if demean else float(np.mean(r * r))
        return _annualise(var, periods_per_year)
    if demean:
        if not (isinstance(window, int) and window >= 2):
            raise ConfigError(f"window: must be an int >= 2, got {window!r}")
        var = pd.Series(r, index=idx).rolling(window).var(ddof=1)
    else:
        var = _window_mean(r * r, window, idx)
    return _annualise(var, periods_per_year)


def parkinson_vol(high, low, window: int | None = None, periods_per_year: float = 252.0):
    """Parkinson (1980) high-low range volatility, annualised (module notes).

    Examples
    --------
    >>> round(parkinson_vol([101.0, 102.0], [99.0, 100.0]), 4)
    0.1897
    """
    idx = high.index if isinstance(high, pd.Series) else None
    h = _positive("high", high)
    lo = _positive("low", low)
    if h.shape != lo.shape:
        raise ConfigError("high and low: different lengths")
    if np.any(h < lo):
        i = int(np.flatnonzero(h < lo)[0])
        raise ConfigError(f"high below low at element {i}")
    hl = np.log(h / lo)
    var = _window_mean(hl * hl / (4.0 * math.log(2.0)), window, idx)
    return _annualise(var, periods_per_year)


def garman_klass_vol(open_, high, low, close, window: int | None = None, periods_per_year: float = 252.0):
    """Garman & Klass (1980) OHLC volatility, annualised (module notes).

    Examples
    --------
    >>> round(garman_klass_vol([100.0], [101.0], [99.0], [100.5]), 4)
    0.219
    """
    idx = close.index if isinstance(close, pd.Series) else None
    o = _positive("open", open_)
    h = _positive("high", high)
    lo = _positive("low", low)
    c = _positive("close", close)
    if not (o.shape == h.shape == lo.shape == c.shape):
        raise ConfigError("open, high, low, close: different lengths")
    if np.any(h < np.maximum(o, c) * (1 - 1e-12)) or np.any(lo > np.minimum(o, c) * (1 + 1e-12)):
        i = int(np.flatnonzero((h < np.maximum(o, c) * (1 - 1e-12)) | (lo > np.minimum(o, c) * (1 + 1e-12)))[0])
        raise ConfigError(f"OHLC inconsistent at element {i}: high/low do not bracket open and close")
    hl = np.log(h / lo)
    co = np.log(c / o)
    per = 0.5 * hl * hl - (2.0 * math.log(2.0) - 1.0) * co * co
    var = _window_mean(per, window, idx)
    return _annualise(var, periods_per_year)


def _sample(prices: np.ndarray, ts: np.ndarray, every_ns: int) -> np.ndarray:
    """Previous-tick sampling of ``prices`` on a regular grid from the first to the last tick."""
    grid = np.arange(ts[0], ts[-1] + 1, every_ns, dtype=np.int64)
    pos = np.searchsorted(ts, grid, side="right") - 1
    return prices[pos]


def realized_variance(prices, ts=None, every=None) -> float:
    """Realised variance ``sum r_i^2`` of a trade or mid-price series (not annualised).

    Parameters
    ----------
    prices : array-like
        Trade prices or mids (> 0), in time order.
    ts : array-like of int64 ns, optional
        Timestamps (UTC nanoseconds, non-decreasing); needed with ``every``.
    every : str or pandas.Timedelta, optional
        Sample on a regular grid with previous-tick interpolation (``'5min'``): the usual guard
        against bid-ask bounce and other microstructure noise at tick frequency.

    Examples
    --------
    >>> round(realized_variance([100.0, 101.0, 100.0]), 8)
    0.00019802
    """
    p = _positive("prices", prices)
    if every is not None:
        if ts is None:
            raise ConfigError("every: needs ts")
        t = np.asarray(ts, dtype=np.int64)
        if t.shape != p.shape:
            raise ConfigError("ts and prices: different lengths")
        if np.any(np.diff(t) < 0):
            raise ConfigError("ts: timestamps must be non-decreasing")
        step = int(pd.Timedelta(every).value)
        if step <= 0:
            raise ConfigError(f"every: must be a positive duration, got {every!r}")
        p = _sample(p, t, step)
    r = np.diff(np.log(p))
    return float(np.sum(r * r))


def realized_vol(prices, ts, every=None) -> float:
    """Realised volatility of a tick or mid series, annualised by elapsed ACT/365F time.

    ``sqrt(realized_variance / years)`` with ``years = (ts[-1] - ts[0]) / (365 x 86400 s)``.
    Calendar-time annualisation: for a series covering only trading hours, scale by the
    share of variance you attribute to closed hours yourself.

    Examples
    --------
    >>> ts = np.arange(5) * 86_400 * 10**9  # daily ticks
    >>> round(realized_vol([100.0, 101.0, 100.0, 101.0, 100.0], ts), 4)
    0.1901
    """
    t = np.asarray(ts, dtype=np.int64)
    if t.size < 2 or t[-1] <= t[0]:
        raise ConfigError("ts: need at least two distinct timestamps")
    rv = realized_variance(prices, t, every)
    return math.sqrt(rv / ((t[-1] - t[0]) / _NS_PER_YEAR))
