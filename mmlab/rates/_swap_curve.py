"""USD SOFR curve bootstrapped from deposit, rate-futures and OIS quotes (QuantLib).

Conventions are those of :class:`~mmlab.rates.Conventions` (SOFR OIS annual Act/360, T+2,
2-day payment lag; quarterly IMM SOFR futures without convexity adjustment; Act/360 deposits).
Single curve: SOFR is projected and discounted on the same curve.

Instruments that overlap: the futures strip and the swaps both reach the 2-year pillar. With the
default ``overlap='swaps'`` every future whose reference quarter ends after the first swap's
maturity is dropped (on 2023-10-19: ``fut8``, 2025-09-17 to 2025-12-17, ends after the 2Y swap's
2025-10-23), so the 2Y swap sets the curve from the last kept future to the 2-year pillar; a
deposit maturing on or after the first kept future's end would be dropped likewise (none is).
Dropped instruments stay in :attr:`Curve.instruments` with ``used=False`` and the reason.

Which contract is ``fut1``: by default the first quarterly contract whose IMM quarter starts on or
after spot (December 2023 for 2023-10-19). ``Conventions(first_future="2023-09")`` reads it as the
September contract instead, a month into its quarter: its rate then compounds the published SOFR
fixings (shipped FRED file) up to the curve date and the curve's forward after it.

Data caveat (2023-10-19 file): the futures imply about 5.4 % out to September 2025 while the 2Y
swap is 4.96 %, so the forward between the last kept future (2025-09-17) and the 2Y swap's
payment date (2025-10-27) comes out strongly negative (about -5.3 %). The bootstrap honours the
quotes; the quotes are not mutually consistent (the file records neither the futures' index nor
their contract months).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import QuantLib as ql

from mmlab._paths import shipped
from mmlab.data import load_sofr, load_swap_quotes
from mmlab.errors import ConfigError, DataError
from mmlab.rates._conventions import (
    Conventions,
    evaluation_date,
    from_ql_date,
    parse_tenor,
    to_ql_date,
    to_timestamp,
)
from mmlab.rates._curve import Curve, check_repriced

__all__ = ["swap_curve"]

_QUOTE_FILE = "usd_swap_curve_quotes_{date}.json"
_SOFR_FILE = "sofr_fixings_2018-2025.csv"
_COLUMNS = ("instrument", "name", "quote")


def swap_curve(date, quotes=None, *, conventions: Conventions | None = None) -> Curve:
    """Bootstrap the USD SOFR discount curve of ``date``.

    Parameters
    ----------
    date : date-like
        Curve (trade) date.
    quotes : path or pandas.DataFrame, optional
        A quote JSON (see :func:`mmlab.data.load_swap_quotes`) or its table (columns
        ``instrument, name, quote`` and ``tenor`` for deposits and swaps). Default: the shipped
        file ``data/rates/usd_swap_curve_quotes_<date>.json``.
    conventions : Conventions, optional
        Default ``Conventions()``.

    Returns
    -------
    Curve
        Log-linear-in-discount curve from ``date`` to the last pillar (the 30Y swap's payment
        date), Act/365F times.

    Raises
    ------
    ConfigError
        No shipped quotes for ``date``; a bad argument.
    DataError
        A NaN, infinite or negative quote (names the file and key, or ``quotes`` and the 0-based
        row of the table), a futures
        price above 100 without ``allow_negative``, or a bootstrap that fails.

    Examples
    --------
    >>> c = swap_curve("2023-10-19")
    >>> c.instruments.loc[~c.instruments["used"], "name"].tolist()
    ['fut8']
    >>> round(float(c.zero_rate(2.0)), 5)
    0.04967
    """
    conv = Conventions() if conventions is None else conventions
    if not isinstance(conv, Conventions):
        raise ConfigError(f"conventions must be a Conventions, got {type(conventions).__name__}")
    day = to_timestamp(date, "date")
    table, source = _quote_table(day, quotes)
    _validate(table, source, conv)
    return _build(day, table, source, conv, 0.0)


def _quote_table(day: pd.Timestamp, quotes) -> tuple[pd.DataFrame, str]:
    if quotes is None:
        path = shipped("rates", _QUOTE_FILE.format(date=day.date().isoformat()))
        if not path.exists():
            have = sorted(p.name for p in shipped("rates").glob(_QUOTE_FILE.format(date="*")))
            raise ConfigError(f"date: no shipped swap quotes for {day.date()} (shipped: {have}); pass quotes=")
        return load_swap_quotes(path, as_of=day), str(path)
    if isinstance(quotes, (str, Path)):
        return load_swap_quotes(quotes, as_of=day), str(quotes)
    if isinstance(quotes, pd.DataFrame):
        missing = [c for c in _COLUMNS if c not in quotes.columns]
        if missing:
            raise ConfigError(f"quotes: missing columns {missing}")
        return quotes.reset_index(drop=True), "quotes"
    raise ConfigError(f"quotes must be a path or a DataFrame, got {type(quotes).__name__}")


def _validate(table: pd.DataFrame, source: str, conv: Conventions) -> None:
    path = source  # a file, or the argument name 'quotes' for a table (then rows are 0-based)
    if table.empty:
        raise DataError("no quotes", path=path)
    for i, r in table.iterrows():
        where = str(r["name"])
        row = int(i) if source == "quotes" else None
        kind = r["instrument"]
        if kind not in ("deposit", "future", "swap"):
            raise DataError(f"{where}: unknown instrument {kind!r}", path=path, row=row)
        if kind == "future" and not re.fullmatch(r"\D*\d+", where):
            raise DataError(f"{where}: a future's name must end with its number (fut1, fut2...)", path=path, row=row)
        q = r["quote"]
        if isinstance(q, bool) or not isinstance(q, (int, float, np.floating, np.integer)) or not np.isfinite(q):
            raise DataError(f"{where}: quote is not a finite number: {q!r}", path=path, row=row)
        q = float(q)
        if kind == "future":
            if q <= 0.0:
                raise DataError(f"{where}: futures price {q} is not positive", path=path, row=row)
            if q > 100.0 and not conv.allow_negative:
                raise DataError(f"{where}: futures price {q} above 100 (negative rate)", path=path, row=row)
        else:
            if q < 0.0 and not conv.allow_negative:
                raise DataError(f"{where}: negative rate {q}", path=path, row=row)
            if abs(q) >= 0.5:
                raise DataError(f"{where}: rate {q} is not a decimal rate (percent given?)", path=path, row=row)
            parse_tenor(r["tenor"], f"{where} tenor")
    if not (table["instrument"] == "swap").any():
        raise DataError("no swap quotes: the curve needs at least one swap", path=path)


@functools.lru_cache(maxsize=1)
def _sofr_fixings() -> pd.Series:
    return load_sofr(shipped("rates", _SOFR_FILE))["sofr"]


def _publish_fixings(since: pd.Timestamp, day: pd.Timestamp, conv: Conventions) -> None:
    """Give QuantLib the SOFR fixings of every business day in ``[since, day)``.

    Needed by a future whose reference period has started (``first_future`` in the past). The
    fixing of ``day`` itself is published the next morning, so it is forecast from the curve.
    QuantLib keeps fixings globally: the SOFR history is reset to exactly these fixings.
    """
    path = shipped("rates", _SOFR_FILE)
    fix = _sofr_fixings()
    cal = conv.ql_calendar()
    days = [from_ql_date(d) for d in cal.businessDayList(to_ql_date(since, "since"), to_ql_date(day, "date") - 1)]
    missing = [d for d in days if d not in fix.index]
    if missing:
        raise DataError(f"no SOFR fixing for {missing[0].date()}, needed by a future that started "
                        f"{since.date()}", path=path)
    index = ql.Sofr()
    index.clearFixings()
    index.addFixings([to_ql_date(d, "fixing date") for d in days], [float(fix.loc[d]) for d in days])


def _future_months(spot: pd.Timestamp, n: int, conv: Conventions) -> list[tuple[int, int]]:
    """(month, year) of the reference periods of fut1..futN."""
    step = 3
    if conv.first_future is not None:
        y, m = (int(v) for v in conv.first_future.split("-"))
        if m % 3:
            raise ConfigError(f"first_future: quarterly contracts are Mar/Jun/Sep/Dec, got {conv.first_future!r}")
    else:
        imm = ql.IMM.nextDate(to_ql_date(spot, "spot") - 1, True)  # first IMM date >= spot
        y, m = imm.year(), imm.month()
    out = []
    for _ in range(n):
        out.append((m, y))
        m += step
        if m > 12:
            m -= 12
            y += 1
    return out


def _helpers(day: pd.Timestamp, table: pd.DataFrame, conv: Conventions, bump_bp: float):
    """QuantLib rate helpers, one per quote row, with their dates (evaluation date = ``day``)."""
    cal, dc, roll = conv.ql_calendar(), conv.ql_day_count(), conv.ql_roll()
    spot = conv.spot_date(day)
    futs = table[table["instrument"] == "future"]
    order = futs["name"].str.extract(r"(\d+)$")[0].astype(int)
    months = dict(zip(futs.index[np.argsort(order.to_numpy())], _future_months(spot, len(futs), conv), strict=True))
    sofr = ql.Sofr()
    out = []
    for i, r in table.iterrows():
        kind = r["instrument"]
        if kind == "future":
            price = float(r["quote"]) - bump_bp / 100.0
            m, y = months[i]
            h = ql.SofrFutureRateHelper(price, m, y, ql.Quarterly, conv.futures_convexity_bp / 1e4)
            rate = (100.0 - price) / 100.0 - conv.futures_convexity_bp / 1e4
            out.append((i, h, price, rate))
            continue
        rate = float(r["quote"]) + bump_bp / 1e4
        q = ql.QuoteHandle(ql.SimpleQuote(rate))
        tenor = parse_tenor(r["tenor"], f"{r['name']} tenor")
        if kind == "deposit":
            h = ql.DepositRateHelper(q, tenor, conv.settlement_days, cal, roll, False, dc)
        else:
            h = ql.OISRateHelper(
                conv.settlement_days, tenor, q, sofr, ql.YieldTermStructureHandle(), False,
                conv.payment_lag, ql.Following, conv.ql_frequency(), cal,
                convention=roll, fixedDayCount=dc,
            )
        out.append((i, h, rate, rate))
    return out


def _overlaps(rows: list[dict], conv: Conventions) -> None:
    """Mark dropped instruments in place (``used``/``note``) by the documented overlap rules."""
    futs = [r for r in rows if r["kind"] == "future"]
    swaps = [r for r in rows if r["kind"] == "swap"]
    if futs and swaps:
        if conv.overlap == "swaps":
            first = min(swaps, key=lambda r: r["end"])
            for r in futs:
                if r["end"] > first["end"]:
                    r["used"] = False
                    r["note"] = f"ends {r['end'].date()} after the first swap {first['name']} ({first['end'].date()})"
        else:
            last = max(futs, key=lambda r: r["end"])
            for r in swaps:
                if r["end"] <= last["end"]:
                    r["used"] = False
                    r["note"] = f"matures by the last future {last['name']} ({last['end'].date()})"
    kept_f = [r for r in futs if r["used"]]
    if kept_f:
        first_f = min(kept_f, key=lambda r: r["end"])
        for r in rows:
            if r["kind"] == "deposit" and r["end"] >= first_f["end"]:
                r["used"] = False
                r["note"] = f"matures after the first future {first_f['name']} ends ({first_f['end'].date()})"
    # any remaining clash of pillar dates: keep the first in (deposit, future, swap) order
    seen: dict[pd.Timestamp, str] = {}
    for r in rows:
        if r["used"]:
            if r["pillar"] in seen:
                r["used"], r["note"] = False, f"same pillar date {r['pillar'].date()} as {seen[r['pillar']]}"
            else:
                seen[r["pillar"]] = r["name"]


def _build(day: pd.Timestamp, table: pd.DataFrame, source: str, conv: Conventions, bump_bp: float) -> Curve:
    qd = to_ql_date(day, "date")
    path = None if source == "quotes" else source
    with evaluation_date(qd):
        hs = _helpers(day, table, conv, bump_bp)
        rows = []
        for i, h, quote, rate in hs:
            r = table.loc[i]
            rows.append({
                "kind": r["instrument"], "name": r["name"], "tenor": r.get("tenor", ""), "quote": quote, "rate": rate,
                "start": from_ql_date(h.earliestDate()), "end": from_ql_date(h.maturityDate()),
                "pillar": from_ql_date(h.pillarDate()), "used": True, "note": "", "_h": h,
            })
        started = [r["start"] for r in rows if r["kind"] == "future" and r["start"] < day]
        if started:
            _publish_fixings(min(started), day, conv)
        _overlaps(rows, conv)
        used = sorted((r for r in rows if r["used"]), key=lambda r: r["pillar"])
        try:
            pw = ql.PiecewiseLogLinearDiscount(qd, [r["_h"] for r in used], ql.Actual365Fixed())
            nodes = pw.nodes()
            for r in rows:
                r["model_quote"] = r["_h"].impliedQuote() if r["used"] else np.nan
        except RuntimeError as exc:
            raise DataError(f"bootstrap failed on {day.date()}: {exc}", path=path) from None
    for r in rows:
        del r["_h"]
    ins = pd.DataFrame(rows)
    ins["error"] = ins["model_quote"] - ins["quote"]
    check_repriced(ins, day, path)

    def rebuild(bp: float) -> Curve:
        return _build(day, table, source, conv, bp)

    return Curve(
        day, [from_ql_date(d) for d, _ in nodes], [v for _, v in nodes], name="USD SOFR",
        instruments=ins, conventions=conv, rebuild=rebuild, bump_bp=bump_bp,
    )
