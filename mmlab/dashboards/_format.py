"""Human text for the dashboards: durations, numbers and missing values (no Panel needed).

The pages show what a desk reads: ``10 min 50.4 s`` rather than ``0 days 00:10:50.401000``,
``1,234.5`` rather than ``1234.5000001``, and an em dash where a value is missing rather than
``NaN`` or ``<NA>``.
"""

from __future__ import annotations

import math
import numbers

import pandas as pd

__all__ = ["MISSING", "human_duration", "human_number", "human_time", "is_missing"]

#: What the dashboards print for a missing value.
MISSING = "\u2014"


def is_missing(value) -> bool:
    """True for None, NaN, NaT and ``pd.NA`` (never raises on other objects).

    Examples
    --------
    >>> is_missing(float("nan")), is_missing(pd.NA), is_missing(pd.NaT), is_missing(0.0)
    (True, True, True, False)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def human_duration(td) -> str:
    """A duration as a reader says it: ``'350 ms'``, ``'49.1 s'``, ``'10 min 50.4 s'``,
    ``'6 h 29 min'``, ``'2 d 3 h'``.

    Parameters
    ----------
    td : pandas.Timedelta, datetime.timedelta, str or float
        A duration; a float is taken as seconds.

    Examples
    --------
    >>> human_duration(pd.Timedelta("0 days 00:10:50.401000")), human_duration(599.999997)
    ('10 min 50.4 s', '10 min')
    >>> human_duration(0.35), human_duration(49.08), human_duration("5s"), human_duration(pd.Timedelta("6.5h"))
    ('350 ms', '49.1 s', '5 s', '6 h 30 min')
    >>> human_duration(pd.Timedelta("2 days 03:10:00")), human_duration(float("nan"))
    ('2 d 3 h', '—')
    """
    if is_missing(td):
        return MISSING
    secs = float(td) if isinstance(td, numbers.Real) else pd.Timedelta(td).total_seconds()
    sign = "-" if secs < 0 else ""
    s = abs(secs)
    if s >= 0.9995:
        s = round(s, 1)  # 599.999997 s reads '10 min', not '9 min 60 s'
    if s < 1.0:
        out = f"{s * 1e3:.3g} ms"
    elif s < 60.0:
        out = f"{_one_decimal(s)} s"
    elif s < 3600.0:
        m, r = divmod(s, 60.0)
        out = f"{int(m)} min {_one_decimal(r)} s" if r >= 0.05 else f"{int(m)} min"
    elif s < 86400.0:
        h, r = divmod(s, 3600.0)
        m = int(round(r / 60.0))
        if m == 60:
            h, m = h + 1, 0
        out = f"{int(h)} h {m} min" if m else f"{int(h)} h"
    else:
        d, r = divmod(s, 86400.0)
        h = int(round(r / 3600.0))
        out = f"{int(d)} d {h} h" if h else f"{int(d)} d"
    return sign + out


def _one_decimal(x: float) -> str:
    """``5`` for 5.0, ``50.4`` for 50.41."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def human_time(ts, unit: str = "ms") -> str:
    """A UTC instant to ``unit`` precision: ``'2024-08-08 23:54:16.313 UTC'``.

    Examples
    --------
    >>> human_time(pd.Timestamp("2012-06-21 13:30:00.004241176", tz="UTC"))
    '2012-06-21 13:30:00.004 UTC'
    >>> human_time(pd.Timestamp("2012-06-21 13:30:00", tz="UTC"), unit="s")
    '2012-06-21 13:30:00 UTC'
    """
    if is_missing(ts):
        return MISSING
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    t = t.floor(unit)
    text = t.strftime("%Y-%m-%d %H:%M:%S")
    if unit == "ms":
        text += f".{t.microsecond // 1000:03d}"
    return text + " UTC"


def human_number(value, digits: int = 4) -> str:
    """A number with thousands separators and ``digits`` significant digits (integers whole);
    missing values as an em dash; anything else as ``str``.

    Examples
    --------
    >>> human_number(21313), human_number(56123.456), human_number(0.119976), human_number(pd.NA)
    ('21,313', '56,123', '0.12', '—')
    >>> human_number(-0.00012345, 3), human_number(True), human_number("5 min")
    ('-0.000123', 'True', '5 min')
    """
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if is_missing(value):
        return MISSING
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            return MISSING
        if v == 0.0:
            return "0"
        mag = int(math.floor(math.log10(abs(v))))
        decimals = max(0, digits - 1 - mag)
        text = f"{v:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return str(value)
