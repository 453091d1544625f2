"""Trading calendars and the NYMEX WTI (CL) expiry rule built on them.

* **Calendars**: ``'24/7'`` (crypto), ``'XNYS'`` and ``'CMES'``: weekdays except the US market
  holidays of :func:`us_market_holidays` (New Year, Martin Luther King Jr. Day, Washington's
  Birthday, Good Friday, Memorial Day, Juneteenth from 2022, Independence Day, Labor Day,
  Thanksgiving, Christmas; a Sunday holiday moves to Monday, a Saturday one to Friday except New
  Year's Day). One-off closures (e.g. 2012-10-29/30, national days of mourning) are not included.
* **CL expiry**: :func:`cl_last_trade_date` (the CME rule), :func:`cl_expiry` (the exact instant)
  and :func:`cl_contract_on` (the roll-ranked contract trading on a day).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd

from mmlab.errors import ConfigError

__all__ = [
    "CALENDARS",
    "add_business_days",
    "cl_contract_on",
    "cl_expiry",
    "cl_last_trade_date",
    "is_business_day",
    "us_market_holidays",
]

CALENDARS = ("24/7", "XNYS", "CMES")


# ---------------------------------------------------------------------------------------------
# calendars


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _observed(d: date, *, saturday_to_friday: bool = True) -> date | None:
    if d.weekday() == 6:
        return d + timedelta(days=1)
    if d.weekday() == 5:
        return d - timedelta(days=1) if saturday_to_friday else None
    return d


@lru_cache(maxsize=256)
def us_market_holidays(year: int) -> frozenset[date]:
    """US exchange holidays of ``year`` (NYSE/CME full-day closures, rules in the module notes).

    Examples
    --------
    >>> sorted(us_market_holidays(2025))[:3]
    [datetime.date(2025, 1, 1), datetime.date(2025, 1, 20), datetime.date(2025, 2, 17)]
    >>> date(2022, 4, 15) in us_market_holidays(2022)  # Good Friday
    True
    """
    out = {
        _observed(date(year, 1, 1), saturday_to_friday=False),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    if year >= 2022:
        out.add(_observed(date(year, 6, 19)))  # Juneteenth
    out.discard(None)
    return frozenset(d for d in out if d is not None)


def is_business_day(day: date | pd.Timestamp | str, calendar: str = "XNYS") -> bool:
    """Whether ``day`` is a trading day of ``calendar`` (``'24/7'``, ``'XNYS'``, ``'CMES'``).

    Examples
    --------
    >>> is_business_day("2023-07-04"), is_business_day("2023-07-05"), is_business_day("2023-07-08", "24/7")
    (False, True, True)
    """
    if calendar not in CALENDARS:
        raise ConfigError(f"calendar: unknown {calendar!r} (known: {CALENDARS})")
    d = pd.Timestamp(day).date()
    if calendar == "24/7":
        return True
    return d.weekday() < 5 and d not in us_market_holidays(d.year)


def add_business_days(day: date | pd.Timestamp | str, n: int, calendar: str = "XNYS") -> date:
    """The ``n``-th business day after (``n > 0``) or before (``n < 0``) ``day``.

    Examples
    --------
    >>> add_business_days("2025-06-23", -2, "CMES")  # skips Juneteenth (Thu 2025-06-19)
    datetime.date(2025, 6, 18)
    """
    d = pd.Timestamp(day).date()
    step = 1 if n >= 0 else -1
    left = abs(int(n))
    while left:
        d += timedelta(days=step)
        if is_business_day(d, calendar):
            left -= 1
    return d


# ---------------------------------------------------------------------------------------------
# NYMEX WTI (CL) expiry


def cl_last_trade_date(year: int, month: int) -> date:
    """Last trading day of the NYMEX CL contract for delivery in ``year``-``month``.

    Rule implemented (CME contract specification, "Termination of Trading"): take the 25th
    calendar day of the month *before* the delivery month. If it is a business day (CME
    calendar, :func:`us_market_holidays`), trading terminates 3 business days before it; if not,
    4 business days before it. (The exchange's rule that a listed expiry later declared a
    holiday moves to the prior business day is not modelled.)

    Examples
    --------
    >>> cl_last_trade_date(2020, 5)  # May 2020: the 25th of April was a Saturday
    datetime.date(2020, 4, 21)
    >>> cl_last_trade_date(2023, 11)  # Nov 2023: Wed 2023-10-25 is a business day
    datetime.date(2023, 10, 20)
    """
    if not (1 <= int(month) <= 12):
        raise ConfigError(f"month: must be 1..12, got {month!r}")
    y, m = (year, month - 1) if month > 1 else (year - 1, 12)
    d25 = date(y, m, 25)
    back = 3 if is_business_day(d25, "CMES") else 4
    return add_business_days(d25, -back, "CMES")


def cl_expiry(year: int, month: int) -> pd.Timestamp:
    """Exact expiry instant (UTC) of CL ``year``-``month``: 14:30 New York on the last trading day.

    Examples
    --------
    >>> str(cl_expiry(2020, 5))
    '2020-04-21 18:30:00+00:00'
    """
    d = cl_last_trade_date(year, month)
    return pd.Timestamp(datetime.combine(d, time(14, 30), tzinfo=ZoneInfo("America/New_York"))).tz_convert("UTC")


def cl_contract_on(day: date | pd.Timestamp | str, rank: int = 1) -> tuple[int, int]:
    """Delivery (year, month) of the roll-ranked contract ``CL<rank>`` trading on ``day``.

    ``CL01`` is the nearest contract whose last trading day is on or after ``day``: the ranks in
    ``load_wti_settles`` follow this rule.

    Examples
    --------
    >>> cl_contract_on("2020-04-20"), cl_contract_on("2020-04-22"), cl_contract_on("2020-04-22", 2)
    ((2020, 5), (2020, 6), (2020, 7))
    """
    if int(rank) < 1:
        raise ConfigError(f"rank: must be >= 1, got {rank!r}")
    d = pd.Timestamp(day).date()
    y, m = d.year, d.month
    while cl_last_trade_date(y, m) < d:
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    for _ in range(int(rank) - 1):
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return y, m
