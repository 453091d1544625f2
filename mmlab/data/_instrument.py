"""One contract's terms: :class:`Instrument`, which every rounding, dollar Greek, fee and PnL reads.

An :class:`Instrument` holds tick, lot, multiplier, currencies, linear or inverse, exercise and
settlement style, exact expiry instant and its time zone, trading calendar and session, and fees
(:class:`~mmlab.data._fees.FeeSchedule`). The shipped instruments and the option / futures
builders are in :mod:`mmlab.data._instrument_master`.

Conventions
-----------
* Keys are ``"VENUE:SYMBOL"`` (``"BINANCE_USDM:BTCUSDT"``).
* **Linear vs inverse.** ``inverse=True`` marks contracts margined and settled in the coin
  (Deribit). Two cases follow from the currencies:

  - quote currency = settlement currency (Deribit options, premiums in BTC; every linear
    contract): value ``q * m * p`` and PnL ``q * m * (p1 - p0)`` in that currency;
  - quote USD, settlement coin (Deribit BTC-PERPETUAL, ``m`` = USD face per contract): value in
    coin ``q * m / p`` and PnL in coin ``q * m * (1/p0 - 1/p1)`` (:attr:`Instrument.inverse_pnl`).
* **Fees** are positive when paid, negative when received (rebates), in the settlement currency.
* **Calendars** and sessions: see :mod:`mmlab.data._calendars`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mmlab.data._calendars import CALENDARS, is_business_day
from mmlab.data._fees import FeeSchedule
from mmlab.errors import ConfigError

if TYPE_CHECKING:
    from mmlab.data._instrument_master import InstrumentMaster

__all__ = ["Instrument"]

_KINDS = ("spot", "perpetual", "future", "option", "equity", "index")


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
    >>> from mmlab.data import get_instrument
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
        >>> from mmlab.data import default_master
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
        >>> from mmlab.data import default_master
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
        >>> from mmlab.data import get_instrument
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
        >>> from mmlab.data import get_instrument
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
        >>> from mmlab.data import default_master
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
        >>> from mmlab.data import get_instrument
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
        >>> from mmlab.data import default_master
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
        >>> from mmlab.data import default_master
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
        >>> from mmlab.data import get_instrument
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
        from mmlab.data._instrument_master import default_master

        m = master if master is not None else default_master()
        return m.option(str(row["root"]), row["expiry"], float(row["strike"]), str(row["right"]))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (fees flattened as ``fee_*``)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "fees"}
        for f in dataclasses.fields(self.fees):
            d[f"fee_{f.name}"] = getattr(self.fees, f.name)
        return d
