"""Time to expiry from exact instants.

Day count: **ACT/365 Fixed on exact elapsed time**.  ``t = (expiry - now) / (365 * 86400 s)``
with both instants in int64 UTC nanoseconds, so minutes and seconds count (a 0DTE option at
14:00 ET with 2 hours left has ``t = 2 / 8760``).  Calendar time, not trading time: weekends and
holidays count (for a business-day clock, rescale theta with ``days_per_year=252``).  Theta per
calendar day is therefore ``theta / 365``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = ["NS_PER_YEAR", "to_ns", "year_fraction"]

NS_PER_YEAR = 365 * 86_400 * 1_000_000_000
"""Nanoseconds in one ACT/365F year."""


def to_ns(x, name: str = "timestamp") -> np.ndarray:
    """Convert instants to int64 UTC nanoseconds.

    Accepts int64 nanoseconds, ``numpy.datetime64``, ``pandas.Timestamp``/``DatetimeIndex``
    (tz-aware are converted to UTC; naive ones are taken as UTC) and ISO-8601 strings.

    Examples
    --------
    >>> int(to_ns("2023-09-15T20:00:00Z"))
    1694808000000000000
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "iu":
        return x.astype(np.int64)
    if isinstance(x, int | np.integer):
        return np.asarray(x, dtype=np.int64)
    try:
        ts = pd.to_datetime(x, utc=True)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot read as an instant ({exc})") from None
    if isinstance(ts, pd.Timestamp):
        if ts is pd.NaT:
            raise ConfigError(f"{name}: NaT")
        return np.asarray(ts.value, dtype=np.int64)
    arr = np.asarray(pd.DatetimeIndex(ts).as_unit("ns").asi8, dtype=np.int64)
    if pd.isna(ts).any():
        raise ConfigError(f"{name}: contains NaT")
    return arr.reshape(np.shape(x)) if np.ndim(x) > 1 else arr


def year_fraction(start, end):
    """Year fraction between instants, ACT/365F of exact elapsed nanoseconds.

    Parameters
    ----------
    start, end : int, str, datetime64, Timestamp or array-like
        Instants (int64 UTC nanoseconds or anything :func:`to_ns` reads); broadcast together.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``(end - start) / (365 * 86400e9)``; negative when ``end`` precedes ``start``
        (pricing functions reject negative times).

    Examples
    --------
    One hour before a 16:00 ET (20:00 UTC) expiry:

    >>> t = year_fraction("2023-09-15T19:00:00Z", "2023-09-15T20:00:00Z")
    >>> round(float(t) * 8760, 12)
    1.0
    """
    a = to_ns(start, "start")
    b = to_ns(end, "end")
    # split into whole seconds + remainder so large int64 differences stay exact in float64
    diff = np.subtract(b, a, dtype=np.int64)
    secs, rem = np.divmod(diff, 1_000_000_000)
    out = (secs.astype(np.float64) + rem.astype(np.float64) * 1e-9) / (365.0 * 86_400.0)
    return out[()] if np.ndim(out) == 0 else out
