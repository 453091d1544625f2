"""Market conventions of the curves, stated once, and the QuantLib plumbing they map to.

The shipped USD quote file (``data/rates/usd_swap_curve_quotes_2023-10-19.json``) carries no
conventions. :class:`Conventions` states the ones :func:`~mmlab.rates.swap_curve` assumes: the
market standard for USD SOFR after the LIBOR cessation,

* **SOFR OIS** (CFTC made-available-to-trade specification, release 8745-23, July 2023): spot
  start T+2, fixed leg annual Act/360, floating leg annual compounded SOFR Act/360, New York
  (SOFR) business days, payments 2 business days after each period end, Modified Following;
* **three-month SOFR futures** (CME/ICE SR3): price = 100 - the compounded SOFR over the IMM
  quarter, third Wednesday of the contract month to the third Wednesday three months later;
* **deposits** ``d1w, d1m, d3m``: simple Act/360 from spot (T+2) to spot + tenor (Modified
  Following) - the same formula as a one-period OIS.

:class:`TreasuryConventions` states the ones :func:`~mmlab.rates.treasury_curve` assumes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import QuantLib as ql

from mmlab.errors import ConfigError

__all__ = ["Conventions", "TreasuryConventions"]

_CALENDARS = {
    "UnitedStates.SOFR": lambda: ql.UnitedStates(ql.UnitedStates.SOFR),
    "UnitedStates.GovernmentBond": lambda: ql.UnitedStates(ql.UnitedStates.GovernmentBond),
    "UnitedStates.FederalReserve": lambda: ql.UnitedStates(ql.UnitedStates.FederalReserve),
    "NullCalendar": ql.NullCalendar,
}
_DAY_COUNTS = {
    "Actual/360": ql.Actual360,
    "Actual/365F": ql.Actual365Fixed,
    "30/360": lambda: ql.Thirty360(ql.Thirty360.BondBasis),
}
_FREQUENCIES = {"annual": ql.Annual, "semiannual": ql.Semiannual, "quarterly": ql.Quarterly}
_ROLLS = {
    "ModifiedFollowing": ql.ModifiedFollowing,
    "Following": ql.Following,
    "Unadjusted": ql.Unadjusted,
}
_OVERLAP = ("swaps", "futures")
_TENOR = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)
_UNITS = {"D": ql.Days, "W": ql.Weeks, "M": ql.Months, "Y": ql.Years}


def _check_choice(name: str, value: object, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {sorted(choices)}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Conventions:
    """Conventions of the USD SOFR curve built from deposits, rate futures and OIS quotes.

    Parameters
    ----------
    calendar : str, default 'UnitedStates.SOFR'
        Business days for spot, roll and payment dates (QuantLib's SOFR calendar: US government
        securities business days).
    settlement_days : int, default 2
        Spot lag of deposits and swaps (T+2).
    day_count : {'Actual/360', 'Actual/365F', '30/360'}, default 'Actual/360'
        Accrual of deposits, the fixed leg and the SOFR leg.
    fixed_frequency : {'annual', 'semiannual', 'quarterly'}, default 'annual'
        Fixed-leg (and compounded-SOFR leg) payment frequency.
    payment_lag : int, default 2
        Business days from each accrual end to its payment.
    roll : {'ModifiedFollowing', 'Following', 'Unadjusted'}, default 'ModifiedFollowing'
        Business-day convention of accrual dates.
    first_future : str, optional
        ``'YYYY-MM'`` reference month of ``fut1``. Default: the first contract whose reference
        period starts on or after the spot date (the file does not say which contract ``fut1``
        is). A contract already in its reference period compounds the SOFR fixings published
        before the curve date (shipped ``data/rates/sofr_fixings_2018-2025.csv``) with the
        curve's forward for the rest of the quarter.
    futures_convexity_bp : float, default 0.0
        Convexity adjustment subtracted from each futures rate, in basis points (zero: futures
        rate = forward rate, as the file gives no volatility to estimate it).
    overlap : {'swaps', 'futures'}, default 'swaps'
        Who wins where futures and swaps overlap. ``'swaps'``: drop every future whose reference
        period ends after the first (shortest) swap's maturity, so the 2-year pillar is set by the
        2-year swap. ``'futures'``: drop every swap maturing on or before the last future's end.
        Deposits are dropped when they mature on or after the first kept future's end.
    allow_negative : bool, default False
        Accept negative rates (futures prices above 100). USD quotes are not negative, so by
        default a negative quote is treated as bad data.

    Examples
    --------
    >>> c = Conventions()
    >>> c.spot_date("2023-10-19")  # Thursday -> Monday
    Timestamp('2023-10-23 00:00:00')
    >>> Conventions(payment_lag=-1)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: payment_lag must be an integer in [0, 10], got -1
    """

    calendar: str = "UnitedStates.SOFR"
    settlement_days: int = 2
    day_count: str = "Actual/360"
    fixed_frequency: str = "annual"
    payment_lag: int = 2
    roll: str = "ModifiedFollowing"
    first_future: str | None = None
    futures_convexity_bp: float = 0.0
    overlap: str = "swaps"
    allow_negative: bool = False

    def __post_init__(self) -> None:
        _check_choice("calendar", self.calendar, _CALENDARS)
        _check_choice("day_count", self.day_count, _DAY_COUNTS)
        _check_choice("fixed_frequency", self.fixed_frequency, _FREQUENCIES)
        _check_choice("roll", self.roll, _ROLLS)
        _check_choice("overlap", self.overlap, _OVERLAP)
        for name in ("settlement_days", "payment_lag"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10:
                raise ConfigError(f"{name} must be an integer in [0, 10], got {v!r}")
        if self.first_future is not None and not re.fullmatch(r"\d{4}-\d{2}", str(self.first_future)):
            raise ConfigError(f"first_future must be 'YYYY-MM', got {self.first_future!r}")
        adj = self.futures_convexity_bp
        if isinstance(adj, bool) or not isinstance(adj, (int, float)) or not -100.0 <= adj <= 100.0:
            raise ConfigError(f"futures_convexity_bp must be a number in [-100, 100], got {adj!r}")
        if not isinstance(self.allow_negative, bool):
            raise ConfigError(f"allow_negative must be a bool, got {self.allow_negative!r}")

    # QuantLib objects -----------------------------------------------------------------------
    def ql_calendar(self) -> ql.Calendar:
        """The QuantLib calendar."""
        return _CALENDARS[self.calendar]()

    def ql_day_count(self) -> ql.DayCounter:
        """The QuantLib accrual day counter."""
        return _DAY_COUNTS[self.day_count]()

    def ql_frequency(self) -> int:
        """The QuantLib fixed-leg frequency."""
        return _FREQUENCIES[self.fixed_frequency]

    def ql_roll(self) -> int:
        """The QuantLib business-day convention of accrual dates."""
        return _ROLLS[self.roll]

    def spot_date(self, date) -> pd.Timestamp:
        """Spot (start) date of a trade on ``date``: ``settlement_days`` business days later."""
        d = to_ql_date(date, "date")
        cal = self.ql_calendar()
        return from_ql_date(cal.advance(cal.adjust(d), self.settlement_days, ql.Days))


@dataclass(frozen=True, slots=True)
class TreasuryConventions:
    """How :func:`~mmlab.rates.treasury_curve` reads the Treasury par yields.

    Facts relied on (US Treasury, "Treasury Yield Curve Methodology", home.treasury.gov): the
    curve's inputs are the on-the-run bills, notes and bonds, which trade close to par, so the
    published curve is a **par** curve read at fixed (constant) maturities; the bill inputs enter
    as **bond-equivalent yields**. Notes and bonds pay semi-annual coupons of exactly half the
    annual rate (Act/Act ICMA accrual).

    Parameters
    ----------
    bill_max_months : int, default 6
        Tenors up to this many months are **zero-coupon bills**: the bond-equivalent yield of a
        bill of at most half a year is simple interest on Act/365, ``P = 1 / (1 + y d / 365)``.
        Longer tenors (1Y and beyond) are **par bonds**: coupon ``y`` paid semi-annually
        (``y/2`` per period, dates stepped back from maturity in 6-month steps), price 100.
    settlement_days : int, default 0
        Settlement lag. 0: each constant-maturity security is issued on the curve date itself (the
        par curve describes hypothetical new issues, so there is no accrued interest).

    Examples
    --------
    >>> TreasuryConventions().bill_max_months
    6
    >>> TreasuryConventions(bill_max_months=13)
    Traceback (most recent call last):
    ...
    mmlab.errors.ConfigError: bill_max_months must be an integer in [1, 12], got 13
    """

    bill_max_months: int = 6
    settlement_days: int = 0

    def __post_init__(self) -> None:
        v = self.bill_max_months
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 12:
            raise ConfigError(f"bill_max_months must be an integer in [1, 12], got {v!r}")
        s = self.settlement_days
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= 5:
            raise ConfigError(f"settlement_days must be an integer in [0, 5], got {s!r}")


# ---------------------------------------------------------------------------------------------
# plumbing shared by the rates modules


def to_timestamp(value, name: str) -> pd.Timestamp:
    """A calendar date (midnight, no time zone) from anything pandas parses; ConfigError if not."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot parse {value!r} as a date") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"{name}: missing date (NaT)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize()


def to_ql_date(value, name: str) -> ql.Date:
    """QuantLib date of a date-like value."""
    if isinstance(value, ql.Date):
        return value
    ts = to_timestamp(value, name)
    return ql.Date(ts.day, ts.month, ts.year)


def from_ql_date(d: ql.Date) -> pd.Timestamp:
    """pandas Timestamp of a QuantLib date."""
    return pd.Timestamp(d.year(), d.month(), d.dayOfMonth())


def parse_tenor(tenor, name: str) -> ql.Period:
    """``'1W'``, ``'3M'``, ``'10Y'`` (or a QuantLib Period) as a Period; ConfigError if not."""
    if isinstance(tenor, ql.Period):
        return tenor
    m = _TENOR.match(str(tenor))
    if m is None or int(m.group(1)) == 0:
        raise ConfigError(f"{name}: expected a tenor like '3M' or '10Y', got {tenor!r}")
    return ql.Period(int(m.group(1)), _UNITS[m.group(2).upper()])


@contextmanager
def evaluation_date(date: ql.Date) -> Iterator[None]:
    """Set QuantLib's global evaluation date for the block, then restore it."""
    settings = ql.Settings.instance()
    old = settings.evaluationDate
    settings.evaluationDate = date
    try:
        yield
    finally:
        settings.evaluationDate = old
