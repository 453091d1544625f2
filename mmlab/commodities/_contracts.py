"""NYMEX CL contract months of the roll-ranked WTI settles (CL01 = front on each date).

The expiry rule itself lives in the instrument master (:func:`mmlab.data.cl_last_trade_date`,
:func:`mmlab.data.cl_contract_on`); this module only names contracts (``'CLZ23'``), maps every
``(date, rank)`` of :func:`mmlab.data.load_wti_settles` to its delivery month, and fixes the
valuation instant of a settle: 14:30 New York, the close of the CL settlement window, which is
also the expiry instant :func:`mmlab.data.cl_expiry` uses (so a contract on its last trading day
has ``t = 0`` at that day's settle).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mmlab._paths import shipped
from mmlab.data import cl_contract_on, cl_expiry, cl_last_trade_date, load_wti_settles
from mmlab.errors import ConfigError

__all__ = [
    "MONTH_CODES",
    "WTI_FILE",
    "contract_code",
    "contract_months",
    "parse_contract",
    "settle_instant",
    "wti_settles",
]

WTI_FILE = ("commodities", "wti_cl01-cl36_settles_2007-2023.csv")
"""Shipped WTI settles (``shipped(*WTI_FILE)``), the default input of this package."""

MONTH_CODES = "FGHJKMNQUVXZ"
"""The futures month letters of CME/NYMEX, January (``F``) to December (``Z``)."""

_NY = ZoneInfo("America/New_York")
_CODE = re.compile(rf"^CL([{MONTH_CODES}])(\d{{2}}|\d{{4}})$")


@lru_cache(maxsize=1)
def _shipped_settles() -> pd.DataFrame:
    return load_wti_settles(shipped(*WTI_FILE))


def wti_settles(settles: pd.DataFrame | None = None) -> pd.DataFrame:
    """The wide roll-ranked settles: ``settles`` if given, else the shipped file (read once).

    Examples
    --------
    >>> wti_settles().shape
    (4233, 36)
    """
    if settles is None:
        return _shipped_settles()
    if not isinstance(settles, pd.DataFrame) or not isinstance(settles.index, pd.DatetimeIndex):
        raise ConfigError("settles: expected the wide DataFrame of load_wti_settles (DatetimeIndex, CL01..)")
    if len(settles.columns) == 0 or list(settles.columns) != [f"CL{i:02d}" for i in range(1, len(settles.columns) + 1)]:
        raise ConfigError("settles: columns must be CL01..CLnn in order (load_wti_settles layout='wide')")
    return settles


def contract_code(year: int, month: int) -> str:
    """Contract code ``'CL' + month letter + two-digit year``.

    Examples
    --------
    >>> contract_code(2020, 5), contract_code(2023, 12)
    ('CLK20', 'CLZ23')
    """
    if not 1 <= int(month) <= 12:
        raise ConfigError(f"month: must be 1..12, got {month!r}")
    return f"CL{MONTH_CODES[int(month) - 1]}{int(year) % 100:02d}"


def parse_contract(code: str) -> tuple[int, int]:
    """Delivery ``(year, month)`` of ``'CLK20'`` or ``'CLK2020'`` (two-digit years are 20xx).

    Examples
    --------
    >>> parse_contract("CLK20"), parse_contract("CLZ2023")
    ((2020, 5), (2023, 12))
    """
    m = _CODE.match(str(code).strip().upper())
    if m is None:
        raise ConfigError(f"contract: expected a CL code like 'CLZ23', got {code!r}")
    letter, yy = m.groups()
    year = int(yy) + 2000 if len(yy) == 2 else int(yy)
    return year, MONTH_CODES.index(letter) + 1


def settle_instant(day) -> pd.Timestamp:
    """Valuation instant of a day's settle: 14:30 America/New_York, as a UTC timestamp.

    Examples
    --------
    >>> str(settle_instant("2020-04-20"))
    '2020-04-20 18:30:00+00:00'
    """
    d = pd.Timestamp(day).date()
    return pd.Timestamp(datetime.combine(d, time(14, 30), tzinfo=_NY)).tz_convert("UTC")


@cache
def _front(d: date) -> tuple[int, int]:
    return cl_contract_on(d, 1)


@cache
def _last_trade(year: int, month: int) -> date:
    return cl_last_trade_date(year, month)


@cache
def _expiry_ns(year: int, month: int) -> int:
    return int(cl_expiry(year, month).value)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + (month - 1) + n
    return k // 12, k % 12 + 1


def contract_months(settles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every ``(date, rank)`` of the roll-ranked settles with its contract month.

    ``CL01`` on a date is the nearest contract whose last trading day is on or after that date
    (:func:`mmlab.data.cl_contract_on`); ``CLnn`` is ``nn - 1`` delivery months later (CL lists
    every calendar month).

    Returns
    -------
    pandas.DataFrame
        Long table: ``date, rank, symbol ('CL01'), contract ('CLK20'), year, month,
        last_trade (date), settle``.

    Examples
    --------
    >>> cm = contract_months()
    >>> row = cm[(cm["date"] == "2020-04-20") & (cm["rank"] == 1)].iloc[0]
    >>> row["contract"], str(row["last_trade"]), float(row["settle"])
    ('CLK20', '2020-04-21', -37.63)
    """
    wide = wti_settles(settles)
    dates = wide.index
    fronts = np.array([_front(d.date()) for d in dates], dtype=np.int64)  # (n, 2): year, month
    n, m = wide.shape
    k0 = fronts[:, 0] * 12 + fronts[:, 1] - 1
    k = (k0[:, None] + np.arange(m)[None, :]).ravel()
    years, months = k // 12, k % 12 + 1
    uk, inv = np.unique(k, return_inverse=True)
    codes = np.array([contract_code(int(u // 12), int(u % 12 + 1)) for u in uk], dtype=object)[inv]
    last = np.array([_last_trade(int(u // 12), int(u % 12 + 1)) for u in uk], dtype=object)[inv]
    out = pd.DataFrame({
        "date": np.repeat(dates.values, m),
        "rank": np.tile(np.arange(1, m + 1), n),
        "symbol": np.tile(np.asarray(wide.columns, dtype=object), n),
        "contract": codes,
        "year": years,
        "month": months,
        "last_trade": last,
        "settle": wide.to_numpy(dtype=float).ravel(),
    })  # fmt: skip
    return out
