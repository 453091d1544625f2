"""The instrument master: contract terms that every rounding, dollar Greek, fee and PnL reads.

An :class:`Instrument` holds one contract's terms (tick, lot, multiplier, currencies, linear or
inverse, exercise and settlement style, exact expiry instant and its time zone, trading calendar
and session, fees). :class:`InstrumentMaster` holds the shipped instruments (read from
``instruments.toml`` next to this module, where each figure's source is written down) and builds
option and futures contracts on the fly.

Conventions
-----------
* Keys are ``"VENUE:SYMBOL"`` (``"BINANCE_USDM:BTCUSDT"``); a bare symbol works when it is unique.
* **Linear vs inverse.** ``inverse=True`` marks contracts margined and settled in the coin
  (Deribit). Two cases follow from the currencies:

  - quote currency = settlement currency (Deribit options, premiums in BTC; every linear
    contract): value ``q * m * p`` and PnL ``q * m * (p1 - p0)`` in that currency;
  - quote USD, settlement coin (Deribit BTC-PERPETUAL, ``m`` = USD face per contract): value in
    coin ``q * m / p`` and PnL in coin ``q * m * (1/p0 - 1/p1)`` (:attr:`Instrument.inverse_pnl`).
* **Fees** (:class:`FeeSchedule`) are positive when paid, negative when received (rebates), in the
  settlement currency.
* **Calendars**: ``'24/7'`` (crypto), ``'XNYS'`` and ``'CMES'``: weekdays except the US market
  holidays of :func:`us_market_holidays` (New Year, Martin Luther King Jr. Day, Washington's
  Birthday, Good Friday, Memorial Day, Juneteenth from 2022, Independence Day, Labor Day,
  Thanksgiving, Christmas; a Sunday holiday moves to Monday, a Saturday one to Friday except New
  Year's Day). One-off closures (e.g. 2012-10-29/30, national days of mourning) are not included.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mmlab.data._options import OPTION_ROOTS
from mmlab.errors import ConfigError

__all__ = [
    "CALENDARS",
    "FeeSchedule",
    "Instrument",
    "InstrumentMaster",
    "add_business_days",
    "cl_contract_on",
    "cl_expiry",
    "cl_last_trade_date",
    "default_master",
    "get_instrument",
    "is_business_day",
    "us_market_holidays",
]

INSTRUMENTS_TOML = Path(__file__).with_name("instruments.toml")
CALENDARS = ("24/7", "XNYS", "CMES")
_KINDS = ("spot", "perpetual", "future", "option", "equity", "index")
_MONTH_CODES = "FGHJKMNQUVXZ"


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


# ---------------------------------------------------------------------------------------------
# fees


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Trading fees of one instrument, in its settlement currency (positive = paid).

    Parameters
    ----------
    maker_bps, taker_bps : float
        Rate in basis points of traded notional (or of the underlying amount with
        ``basis='underlying'``). A negative maker rate is a rebate.
    maker_fixed, taker_fixed : float
        Fixed amount per contract (share) traded; negative = rebate.
    basis : {'notional', 'underlying'}
        What the bps apply to: the traded notional (``qty * multiplier * price``, in coin
        ``qty * multiplier / price`` for inverse-PnL contracts) or the underlying amount
        ``qty * multiplier`` (Deribit options: 0.03 % of 1 BTC per contract).
    premium_cap : float, optional
        Cap on a positive fee as a fraction of the premium traded (Deribit options: 0.125).
    source : str
        Where the figures come from (tier, date).

    Examples
    --------
    >>> FeeSchedule(maker_bps=-1.0, taker_bps=5.0).maker_rate
    -0.0001
    """

    maker_bps: float = 0.0
    taker_bps: float = 0.0
    maker_fixed: float = 0.0
    taker_fixed: float = 0.0
    basis: str = "notional"
    premium_cap: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("maker_bps", "taker_bps", "maker_fixed", "taker_fixed"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"fees.{name}: must be a finite number, got {v!r}")
        if self.taker_bps < 0 or self.taker_fixed < 0:
            raise ConfigError("fees: taker fees must be >= 0 (only makers get rebates)")
        if self.basis not in ("notional", "underlying"):
            raise ConfigError(f"fees.basis: must be 'notional' or 'underlying', got {self.basis!r}")
        if self.premium_cap is not None and not (0 < self.premium_cap <= 1):
            raise ConfigError(f"fees.premium_cap: must be in (0, 1], got {self.premium_cap!r}")

    @property
    def maker_rate(self) -> float:
        """Maker rate as a decimal (``maker_bps / 1e4``)."""
        return self.maker_bps / 1e4

    @property
    def taker_rate(self) -> float:
        """Taker rate as a decimal (``taker_bps / 1e4``)."""
        return self.taker_bps / 1e4


# ---------------------------------------------------------------------------------------------
# the instrument


def _parse_time(v: Any, name: str) -> time | None:
    if v is None or isinstance(v, time):
        return v
    try:
        return datetime.strptime(str(v), "%H:%M").time()
    except ValueError:
        raise ConfigError(f"{name}: expected 'HH:MM', got {v!r}") from None


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable contract (or an option-root / futures template without an expiry).

    Parameters
    ----------
    venue, symbol : str
        Key ``"VENUE:SYMBOL"``.
    kind : {'spot', 'perpetual', 'future', 'option', 'equity', 'index'}
    underlying : str
    quote_ccy, settle_ccy : str
        Currency prices are quoted in; currency PnL, fees and margin are in.
    tick_size : float
        Minimum price increment (the smallest of ``tick_ladder`` if there is one).
    lot_size : float
        Minimum quantity increment, in contracts (shares, coins).
    multiplier : float
        Units of underlying per contract (USD face value for inverse perpetuals/futures).
    inverse : bool
        Margined and settled in the coin (see the module notes).
    tick_ladder : tuple of (price_from, tick)
        Price-dependent ticks, ascending (SPX options: ``((0, 0.05), (3, 0.10))``).
    exercise : {'european', 'american'}, optional
    settlement : {'AM', 'PM', 'TWAP'}, optional
        When an option's settlement value is taken.
    settlement_type : {'cash', 'physical'}, optional
    expiry : pandas.Timestamp, optional
        Exact expiry instant, tz-aware UTC.
    expiry_tz : str, optional
        Time zone the expiry is defined in (``'America/New_York'``, ``'UTC'``).
    expiry_rule : str
        The rule in words.
    strike : float, optional
    right : {'C', 'P'}, optional
    calendar : {'24/7', 'XNYS', 'CMES'}
    tz : str
        Time zone of the session hours.
    session_open, session_close : datetime.time, optional
        Regular session, local time; ``open > close`` is an overnight session (CME Globex
        18:00-17:00, belonging to the next trading day); ``None`` is around the clock.
    fees : FeeSchedule
    template : bool
        True for an option root or futures product without a specific expiry.

    Examples
    --------
    >>> perp = get_instrument("BINANCE_USDM:BTCUSDT")
    >>> perp.round_price(60000.07, "bid"), perp.round_price(60000.01, "ask"), perp.round_qty(0.0129)
    (60000.0, 60000.1, 0.012)
    >>> round(perp.fee(60000.0, 0.01, maker=False), 6)  # 5 bps of 600 USDT
    0.3
    """

    venue: str
    symbol: str
    kind: str
    underlying: str
    quote_ccy: str
    settle_ccy: str
    tick_size: float
    lot_size: float
    multiplier: float = 1.0
    inverse: bool = False
    tick_ladder: tuple[tuple[float, float], ...] = ()
    exercise: str | None = None
    settlement: str | None = None
    settlement_type: str | None = None
    expiry: pd.Timestamp | None = None
    expiry_tz: str | None = None
    expiry_rule: str = ""
    strike: float | None = None
    right: str | None = None
    calendar: str = "24/7"
    tz: str = "UTC"
    session_open: time | None = None
    session_close: time | None = None
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    template: bool = False

    def __post_init__(self) -> None:
        def bad(msg: str) -> ConfigError:
            return ConfigError(f"instrument {self.venue}:{self.symbol}: {msg}")

        if not self.venue or not self.symbol:
            raise bad("venue and symbol are required")
        if self.kind not in _KINDS:
            raise bad(f"kind must be one of {_KINDS}, got {self.kind!r}")
        for name in ("tick_size", "lot_size", "multiplier"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise bad(f"{name} must be a finite number > 0, got {v!r}")
        if not self.inverse and self.quote_ccy != self.settle_ccy:
            raise bad(f"a linear contract quotes and settles in one currency ({self.quote_ccy} vs {self.settle_ccy})")
        ladder = tuple((float(a), float(t)) for a, t in self.tick_ladder)
        if ladder:
            if any(t <= 0 or not math.isfinite(t) for _, t in ladder) or any(
                b[0] <= a[0] for a, b in zip(ladder, ladder[1:], strict=False)
            ):
                raise bad(f"tick_ladder must be ascending (price_from, tick > 0) pairs, got {self.tick_ladder!r}")
            if abs(min(t for _, t in ladder) - self.tick_size) > 1e-15:
                raise bad("tick_size must be the smallest tick of tick_ladder")
        object.__setattr__(self, "tick_ladder", ladder)
        if self.exercise not in (None, "european", "american"):
            raise bad(f"exercise must be 'european' or 'american', got {self.exercise!r}")
        if self.settlement not in (None, "AM", "PM", "TWAP"):
            raise bad(f"settlement must be 'AM', 'PM' or 'TWAP', got {self.settlement!r}")
        if self.settlement_type not in (None, "cash", "physical"):
            raise bad(f"settlement_type must be 'cash' or 'physical', got {self.settlement_type!r}")
        if self.right not in (None, "C", "P"):
            raise bad(f"right must be 'C' or 'P', got {self.right!r}")
        if self.calendar not in CALENDARS:
            raise bad(f"calendar must be one of {CALENDARS}, got {self.calendar!r}")
        for name in ("tz", "expiry_tz"):
            v = getattr(self, name)
            if v is not None:
                try:
                    ZoneInfo(v)
                except Exception:
                    raise bad(f"{name}: unknown time zone {v!r}") from None
        object.__setattr__(self, "session_open", _parse_time(self.session_open, "session_open"))
        object.__setattr__(self, "session_close", _parse_time(self.session_close, "session_close"))
        if (self.session_open is None) != (self.session_close is None):
            raise bad("give both session_open and session_close, or neither")
        if self.expiry is not None:
            ts = pd.Timestamp(self.expiry)
            if ts.tzinfo is None:
                raise bad("expiry must be tz-aware")
            object.__setattr__(self, "expiry", ts.tz_convert("UTC"))
        if self.kind == "option" and not self.template:
            if self.expiry is None or self.strike is None or self.right is None or self.exercise is None:
                raise bad("an option needs expiry, strike, right and exercise")
            if not (math.isfinite(self.strike) and self.strike > 0):
                raise bad(f"strike must be > 0, got {self.strike!r}")
        if not isinstance(self.fees, FeeSchedule):
            raise bad("fees must be a FeeSchedule")

    # ------------------------------------------------------------------ identity
    @property
    def key(self) -> str:
        """``"VENUE:SYMBOL"``."""
        return f"{self.venue}:{self.symbol}"

    @property
    def linear(self) -> bool:
        """``not inverse``."""
        return not self.inverse

    @property
    def inverse_pnl(self) -> bool:
        """True when PnL is ``q m (1/p0 - 1/p1)`` in coin (quoted in USD, settled in the coin)."""
        return self.inverse and self.quote_ccy != self.settle_ccy

    # ledger-facing aliases (decimal rates, fixed fee per contract)
    @property
    def maker_fee(self) -> float:
        """Maker fee rate as a decimal (negative = rebate)."""
        return self.fees.maker_rate

    @property
    def taker_fee(self) -> float:
        """Taker fee rate as a decimal."""
        return self.fees.taker_rate

    @property
    def fee_per_contract(self) -> float:
        """Taker fixed fee per contract (the maker one is ``fees.maker_fixed``)."""
        return self.fees.taker_fixed

    # ------------------------------------------------------------------ rounding
    def tick_at(self, price: float | np.ndarray) -> float | np.ndarray:
        """Tick size that applies at ``price`` (ladders compare the absolute price).

        Examples
        --------
        >>> spx = default_master().option("SPX", "2023-10-20", 4500, "C")
        >>> spx.tick_at(2.95), spx.tick_at(3.0), spx.tick_at(12.3)
        (0.05, 0.1, 0.1)
        """
        if not self.tick_ladder:
            return self.tick_size if np.ndim(price) == 0 else np.full(np.shape(price), self.tick_size)
        starts = np.array([a for a, _ in self.tick_ladder])
        ticks = np.array([t for _, t in self.tick_ladder])
        idx = np.searchsorted(starts, np.abs(np.asarray(price, dtype=float)), side="right") - 1
        out = ticks[np.clip(idx, 0, len(ticks) - 1)]
        return float(out) if np.ndim(price) == 0 else out

    def round_price(self, price: float | np.ndarray, side: str | None = None) -> float | np.ndarray:
        """Round to a valid tick: bids (``'bid'``/``'buy'``) down, asks (``'ask'``/``'sell'``) up,
        ``None`` to the nearest.

        With a tick ladder the tick is taken at the rounded side of the boundary: a bid of 3.03
        on SPX (0.10 from 3.00) becomes 3.00, an ask of 2.98 (0.05 below 3.00) becomes 3.00.

        Examples
        --------
        >>> spx = default_master().option("SPXW", "2023-09-15", 4500, "C")
        >>> spx.round_price(3.03, "bid"), spx.round_price(2.98, "ask"), spx.round_price(3.17, "ask")
        (3.0, 3.0, 3.2)
        """
        if side not in (None, "bid", "buy", "ask", "sell"):
            raise ConfigError(f"side: must be 'bid'/'buy', 'ask'/'sell' or None, got {side!r}")
        p = np.asarray(price, dtype=float)
        tick = np.asarray(self.tick_at(p), dtype=float)
        n = np.round(p / tick, 9)  # absorb binary noise (0.3 / 0.1 = 2.9999999999999996)
        if side in ("bid", "buy"):
            k = np.floor(n)
        elif side in ("ask", "sell"):
            k = np.ceil(n)
        else:
            k = np.round(n)
        out = k * tick
        if self.tick_ladder:  # a result on the finer side of a boundary must fit that finer tick
            t2 = np.asarray(self.tick_at(out), dtype=float)
            n2 = np.round(out / t2, 9)
            k2 = np.floor(n2) if side in ("bid", "buy") else np.ceil(n2) if side in ("ask", "sell") else np.round(n2)
            out = k2 * t2
        dec = max(0, -int(math.floor(math.log10(self.tick_size))) + 2)
        out = np.round(out, dec)
        return float(out) if np.ndim(price) == 0 else out

    def round_qty(self, qty: float | np.ndarray) -> float | np.ndarray:
        """Round a quantity toward zero to a whole number of lots.

        Examples
        --------
        >>> get_instrument("BINANCE:BTCUSDT").round_qty(-0.123456789)
        -0.12345
        """
        q = np.asarray(qty, dtype=float)
        n = np.trunc(np.round(q / self.lot_size, 9))
        dec = max(0, -int(math.floor(math.log10(self.lot_size))) + 2)
        out = np.round(n * self.lot_size, dec) + 0.0
        return float(out) if np.ndim(qty) == 0 else out

    # ------------------------------------------------------------------ value, PnL, fees
    def notional(self, price: float | np.ndarray, qty: float | np.ndarray) -> float | np.ndarray:
        """Value of ``qty`` contracts at ``price`` in the settlement currency.

        ``qty * multiplier * price``; for inverse-PnL contracts ``qty * multiplier / price`` coins.

        Examples
        --------
        >>> get_instrument("DERIBIT:BTC-PERPETUAL").notional(9000.0, 90)  # 900 USD face in BTC
        0.1
        """
        p = np.asarray(price, dtype=float)
        q = np.asarray(qty, dtype=float)
        out = q * self.multiplier / p if self.inverse_pnl else q * self.multiplier * p
        return float(out) if out.ndim == 0 else out

    def dollar_value(
        self, price: float | np.ndarray, qty: float | np.ndarray, coin_usd: float | np.ndarray | None = None
    ) -> float | np.ndarray:
        """Value in USD. USD-like settlement (USD, USDT, USDC: 1 USDT taken as 1 USD) needs
        nothing; coin settlement needs ``coin_usd``, the coin's USD price.

        Examples
        --------
        >>> deribit = default_master().option("BTC", "2020-05-22", 9250, "P")
        >>> deribit.dollar_value(0.02, 2.0, coin_usd=9095.83)  # 2 contracts at 0.02 BTC
        363.8332
        """
        v = np.asarray(self.notional(price, qty), dtype=float)
        if self.settle_ccy not in ("USD", "USDT", "USDC"):
            if coin_usd is None:
                raise ConfigError(f"coin_usd: {self.key} settles in {self.settle_ccy}; give its USD price")
            v = v * np.asarray(coin_usd, dtype=float)
        return float(v) if v.ndim == 0 else v

    def pnl(
        self, entry: float | np.ndarray, exit: float | np.ndarray, qty: float | np.ndarray
    ) -> float | np.ndarray:
        """PnL of ``qty`` contracts (signed: long > 0) from ``entry`` to ``exit``, settlement currency.

        Linear: ``qty * m * (exit - entry)``; inverse-PnL: ``qty * m * (1/entry - 1/exit)`` coins.

        Examples
        --------
        >>> perp = get_instrument("DERIBIT:BTC-PERPETUAL")
        >>> round(perp.pnl(8000.0, 10000.0, 100), 6)  # 1,000 USD face long: 0.125 - 0.1 BTC
        0.025
        >>> round(get_instrument("NYMEX:CL").pnl(18.27, -37.63, 1), 6)  # one CL, 2020-04-17 to 04-20
        -55900.0
        """
        e0 = np.asarray(entry, dtype=float)
        e1 = np.asarray(exit, dtype=float)
        q = np.asarray(qty, dtype=float)
        if self.inverse_pnl:
            if np.any(e0 <= 0) or np.any(e1 <= 0):
                raise ConfigError(f"{self.key}: inverse PnL needs positive prices")
            out = q * self.multiplier * (1.0 / e0 - 1.0 / e1)
        else:
            out = q * self.multiplier * (e1 - e0)
        return float(out) if out.ndim == 0 else out

    def fee(self, price: float, qty: float, *, maker: bool) -> float:
        """Fee for trading ``qty`` contracts at ``price`` (settlement currency, > 0 paid, < 0 rebate).

        Examples
        --------
        >>> deribit = default_master().option("BTC", "2020-05-22", 9250, "P")
        >>> deribit.fee(0.02, 10, maker=True)  # 0.03 % x 10 BTC = 0.003 BTC (cap 12.5 % = 0.025)
        0.003
        >>> deribit.fee(0.0005, 10, maker=False)  # capped: 12.5 % of 0.005 BTC of premium
        0.000625
        """
        f = self.fees
        q = abs(float(qty))
        bps = f.maker_bps if maker else f.taker_bps
        if f.basis == "underlying":
            variable = bps / 1e4 * q * self.multiplier
        else:
            variable = bps / 1e4 * abs(float(self.notional(price, q)))
        total = variable + (f.maker_fixed if maker else f.taker_fixed) * q
        if f.premium_cap is not None and total > 0:
            total = min(total, f.premium_cap * abs(float(price)) * q * self.multiplier)
        return round(total, 12) + 0.0

    def dollar_delta(self, delta: float | np.ndarray, underlying_px: float, qty: float = 1.0) -> float | np.ndarray:
        """USD exposure of ``qty`` options with unit ``delta``: ``qty * m * delta * S``.

        Examples
        --------
        >>> default_master().option("SPX", "2023-10-20", 4500, "C").dollar_delta(0.5, 4505.10)
        225255.0
        """
        out = np.asarray(qty * self.multiplier * np.asarray(delta, dtype=float) * underlying_px)
        return float(out) if out.ndim == 0 else out

    # ------------------------------------------------------------------ time
    def time_to_expiry(self, ts: Any) -> float:
        """Years (ACT/365, to the second) from ``ts`` to the expiry instant (negative once expired)."""
        if self.expiry is None:
            raise ConfigError(f"{self.key} has no expiry")
        t = pd.Timestamp(ts)
        if t.tzinfo is None:
            raise ConfigError("ts: must be tz-aware")
        return (self.expiry - t).total_seconds() / (365.0 * 86400.0)

    def is_open(self, ts: Any) -> bool:
        """Whether the regular session is open at ``ts`` (tz-aware).

        Examples
        --------
        >>> aapl = get_instrument("AAPL")
        >>> aapl.is_open("2023-09-14 13:30Z"), aapl.is_open("2023-09-14 13:29Z"), aapl.is_open("2023-09-16 15:00Z")
        (True, False, False)
        >>> cl = get_instrument("NYMEX:CL")
        >>> cl.is_open("2023-09-17 22:00Z"), cl.is_open("2023-09-15 21:30Z")  # Sun 18:00 ET; Fri 17:30 ET
        (True, False)
        """
        t = pd.Timestamp(ts)
        if t.tzinfo is None:
            raise ConfigError("ts: must be tz-aware")
        if self.session_open is None or self.session_close is None:
            return self.calendar == "24/7" or is_business_day(t.tz_convert(self.tz), self.calendar)
        local = t.tz_convert(self.tz)
        now = local.time()
        o, c = self.session_open, self.session_close
        if o < c:
            return is_business_day(local, self.calendar) and o <= now < c
        # overnight session: after `o` belongs to the next day's session
        if c <= now < o:
            return False
        trade_day = local.date() + timedelta(days=1) if now >= o else local.date()
        return is_business_day(trade_day, self.calendar)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_option_row(cls, row: Mapping[str, Any] | pd.Series, master: InstrumentMaster | None = None) -> Instrument:
        """The option contract of one row of :func:`mmlab.data.load_option_chain`.

        Examples
        --------
        >>> row = {"root": "SPXW", "expiry": pd.Timestamp("2023-09-14 20:00", tz="UTC"),
        ...        "strike": 1200.0, "right": "C"}
        >>> Instrument.from_option_row(row).symbol
        'SPXW230914C01200000'
        """
        m = master if master is not None else default_master()
        return m.option(str(row["root"]), row["expiry"], float(row["strike"]), str(row["right"]))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (fees flattened as ``fee_*``)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "fees"}
        for f in dataclasses.fields(self.fees):
            d[f"fee_{f.name}"] = getattr(self.fees, f.name)
        return d


# ---------------------------------------------------------------------------------------------
# the master


def _occ_symbol(root: str, day: date, right: str, strike: float) -> str:
    return f"{root}{day:%y%m%d}{right}{int(round(strike * 1000)):08d}"


def _deribit_symbol(root: str, day: date, right: str, strike: float) -> str:
    k = f"{strike:.0f}" if float(strike).is_integer() else f"{strike:g}"
    return f"{root}-{day.day}{day:%b%y}".upper() + f"-{k}-{right}"


class InstrumentMaster:
    """A set of instruments by ``"VENUE:SYMBOL"``, with builders for options and CL futures.

    Parameters
    ----------
    instruments : iterable of Instrument
        Keys must be unique.

    Examples
    --------
    >>> m = InstrumentMaster.from_toml()
    >>> m.get("BTCUSDT", venue="BINANCE_USDM").tick_size
    0.1
    >>> m.option("SPX", "2023-09-15", 4500, "P").expiry  # AM: 09:30 New York
    Timestamp('2023-09-15 13:30:00+0000', tz='UTC')
    >>> m.future("CLK20").expiry
    Timestamp('2020-04-21 18:30:00+0000', tz='UTC')
    """

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_key: dict[str, Instrument] = {}
        for inst in instruments:
            self.add(inst)

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> InstrumentMaster:
        """Read ``[[instrument]]`` tables (default: the shipped ``instruments.toml``)."""
        p = Path(path) if path is not None else INSTRUMENTS_TOML
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML ({exc})") from None
        items = doc.get("instrument")
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{p}: no [[instrument]] tables")
        names = {f.name for f in dataclasses.fields(Instrument)}
        out = []
        for i, raw in enumerate(items):
            raw = dict(raw)
            fees = raw.pop("fees", {})
            unknown = set(raw) - names
            if unknown:
                raise ConfigError(f"{p}: instrument #{i + 1}: unknown fields {sorted(unknown)}")
            try:
                fee = FeeSchedule(**fees)
            except TypeError as exc:
                raise ConfigError(f"{p}: instrument #{i + 1}: fees: {exc}") from None
            if "tick_ladder" in raw:
                raw["tick_ladder"] = tuple(tuple(x) for x in raw["tick_ladder"])
            is_template = raw.get("kind") in ("option", "future") and "expiry" not in raw
            raw.setdefault("template", is_template)
            try:
                out.append(Instrument(fees=fee, **raw))
            except TypeError as exc:
                raise ConfigError(f"{p}: instrument #{i + 1}: {exc}") from None
        return cls(out)

    # ------------------------------------------------------------------ mapping
    def add(self, inst: Instrument) -> None:
        """Add an instrument (its key must be new)."""
        if not isinstance(inst, Instrument):
            raise ConfigError(f"expected an Instrument, got {type(inst).__name__}")
        if inst.key in self._by_key:
            raise ConfigError(f"duplicate instrument {inst.key}")
        self._by_key[inst.key] = inst

    def get(self, symbol: str, venue: str | None = None) -> Instrument:
        """Look up by ``"VENUE:SYMBOL"``, by ``symbol`` + ``venue``, or by a unique bare symbol."""
        if venue is not None:
            symbol = f"{venue}:{symbol}"
        if symbol in self._by_key:
            return self._by_key[symbol]
        if ":" not in symbol:
            hits = [k for k, v in self._by_key.items() if v.symbol == symbol]
            if len(hits) == 1:
                return self._by_key[hits[0]]
            if len(hits) > 1:
                raise ConfigError(f"symbol: {symbol!r} is ambiguous, use one of {sorted(hits)}")
        raise ConfigError(f"symbol: unknown instrument {symbol!r} (known: {sorted(self._by_key)})")

    def __getitem__(self, key: str) -> Instrument:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._by_key

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def keys(self) -> list[str]:
        """Sorted ``"VENUE:SYMBOL"`` keys."""
        return sorted(self._by_key)

    def to_frame(self) -> pd.DataFrame:
        """One row per instrument, indexed by key."""
        return pd.DataFrame([i.to_dict() for i in self], index=pd.Index([i.key for i in self], name="key"))

    # ------------------------------------------------------------------ builders
    def _template(self, root: str, kind: str) -> Instrument:
        hits = [i for i in self if i.template and i.kind == kind and i.symbol == root]
        if not hits:
            known = sorted(i.symbol for i in self if i.template and i.kind == kind)
            raise ConfigError(f"root: no {kind} template {root!r} (known: {known})")
        return hits[0]

    def option(self, root: str, expiry: Any, strike: float, right: str) -> Instrument:
        """The option ``root`` ``expiry`` ``strike`` ``right`` with the root's terms.

        ``expiry`` may be a date (the root's expiry time is applied: 09:30 New York for AM
        roots, 16:00 for PM, 08:00 UTC for Deribit) or a tz-aware instant, which must match.
        """
        tpl = self._template(root, "option")
        if right not in ("C", "P"):
            raise ConfigError(f"right: must be 'C' or 'P', got {right!r}")
        spec = OPTION_ROOTS.get(root)
        if spec is None:
            raise ConfigError(f"root: {root!r} has a template but no expiry rule in OPTION_ROOTS")
        e = pd.Timestamp(expiry)
        if e.tzinfo is None:
            if e != e.normalize():
                raise ConfigError(f"expiry: a naive expiry must be a date, got {expiry!r}")
            inst = spec.expiry_instant(e)
        else:
            day = e.tz_convert(spec.expiry_tz).date()
            inst = spec.expiry_instant(pd.Timestamp(day))
            if inst != e.tz_convert("UTC"):
                raise ConfigError(f"expiry: {e} is not {root}'s expiry instant on {day} ({inst})")
        day = inst.tz_convert(spec.expiry_tz).date()
        sym = (_deribit_symbol if tpl.venue == "DERIBIT" else _occ_symbol)(root, day, right, float(strike))
        return dataclasses.replace(
            tpl, symbol=sym, expiry=inst, expiry_tz=spec.expiry_tz, strike=float(strike), right=right, template=False
        )

    def future(self, code: str) -> Instrument:
        """A CL futures contract by code ``'CLK20'``/``'CLK2020'`` (month letter + year)."""
        m = re.fullmatch(r"([A-Z]{2})([FGHJKMNQUVXZ])(\d{2}|\d{4})", code)
        if m is None:
            raise ConfigError(f"code: expected e.g. 'CLK20', got {code!r}")
        root, letter, yy = m.groups()
        tpl = self._template(root, "future")
        if root != "CL":
            raise ConfigError(f"code: only CL futures have an expiry rule, got {root!r}")
        year = int(yy) + 2000 if len(yy) == 2 else int(yy)
        month = _MONTH_CODES.index(letter) + 1
        return dataclasses.replace(
            tpl, symbol=f"CL{letter}{year % 100:02d}", expiry=cl_expiry(year, month),
            expiry_tz="America/New_York", template=False,
        )  # fmt: skip


@lru_cache(maxsize=1)
def default_master() -> InstrumentMaster:
    """The shipped instrument master (``mmlab/data/instruments.toml``), read once."""
    return InstrumentMaster.from_toml()


def get_instrument(symbol: str, venue: str | None = None) -> Instrument:
    """Look an instrument up in the shipped master (see :meth:`InstrumentMaster.get`).

    Examples
    --------
    >>> get_instrument("DERIBIT:BTC").tick_size, get_instrument("NYMEX:CL").multiplier
    (0.0005, 1000.0)
    """
    return default_master().get(symbol, venue)
