"""US Treasury discount curve bootstrapped from the daily par yield curve (QuantLib).

How the published par yields are read (:class:`~mmlab.rates.TreasuryConventions`):

* tenors up to 6 months (1M, 1.5M, 2M, 3M, 4M, 6M) are **zero-coupon bills** whose published
  yield is a bond-equivalent yield, i.e. simple Act/365 interest: ``P(T) = 1 / (1 + y d / 365)``
  with ``d`` the days from the curve date to ``date + tenor`` (the 1.5-month point is taken as
  the six-week bill, 42 days);
* tenors of 1 year and more are **par bonds** issued on the curve date: coupon ``y`` paid as
  ``y / 2`` every six months on dates stepped back from the maturity ``date + n years`` (no
  business-day adjustment, no end-of-month rule), redeemed at 100, priced at 100:
  ``sum_i (y / 2) P(t_i) + P(T) = 1``.

Why: Treasury's methodology uses the on-the-run securities, which trade near par, as the knots of
the curve, so the curve is a *par* curve, and its bill inputs are bond-equivalent yields (Treasury,
"Treasury Yield Curve Methodology", home.treasury.gov; coupons are semi-annual, half the annual
rate). The bootstrap interpolates log-linearly in discount factors between the published
maturities, which is **not** Treasury's own spline (monotone convex since December 2021): every
published par yield is reproduced exactly, but par yields read off this curve between two
published tenors need not match what Treasury's spline would give there. Tenors not published on
a date (blank in the file) are left out.
"""

from __future__ import annotations

import functools
from datetime import datetime

import numpy as np
import pandas as pd
import QuantLib as ql

from mmlab._paths import shipped
from mmlab.data import TREASURY_TENORS, load_treasury_par_yields
from mmlab.errors import ConfigError, DataError
from mmlab.rates._conventions import (
    TreasuryConventions,
    evaluation_date,
    from_ql_date,
    to_ql_date,
    to_timestamp,
)
from mmlab.rates._curve import Curve, check_repriced

__all__ = ["treasury_curve"]

_YEARS = {label: years for label, years in TREASURY_TENORS.values()}


@functools.lru_cache(maxsize=8)
def _load(path: str) -> pd.DataFrame:
    return load_treasury_par_yields(path)


def _shipped_row(day: pd.Timestamp) -> tuple[pd.Series, str]:
    files = sorted(shipped("rates").glob("ust_par_yields_*.csv"))
    nearest = []
    for f in files:
        y = _load(str(f))
        if day in y.index:
            return y.loc[day], str(f)
        nearest.extend(y.index[[max(y.index.searchsorted(day) - 1, 0), min(y.index.searchsorted(day), len(y) - 1)]])
    before = [d for d in nearest if d < day]
    after = [d for d in nearest if d > day]
    near = ", ".join(str(d.date()) for d in ([max(before)] if before else []) + ([min(after)] if after else []))
    raise ConfigError(
        f"date: no Treasury par yields for {day.date()} in {[f.name for f in files]} "
        f"(weekend, holiday or out of range; nearest: {near})"
    )


def _line_of(path: str, day: pd.Timestamp) -> int | None:
    """1-based file line of ``day`` in a Treasury CSV (for error messages only).

    The file already loaded cleanly (:func:`mmlab.data.load_treasury_par_yields`), so each data
    line starts with a date in one of Treasury's formats.
    """
    formats = ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d")
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            field = line.split(",", 1)[0].strip()
            for fmt in formats:
                try:
                    if pd.Timestamp(datetime.strptime(field, fmt)) == day:
                        return number
                except ValueError:
                    continue
    return None


def treasury_curve(date, yields=None, *, conventions: TreasuryConventions | None = None) -> Curve:
    """Bootstrap the US Treasury discount curve of ``date`` from its par yields.

    Parameters
    ----------
    date : date-like
        Curve date.
    yields : pandas.Series or dict, optional
        Par yields as decimals keyed by tenor label (``'1M', '1.5M', ..., '30Y'``, the columns of
        :func:`mmlab.data.load_treasury_par_yields`); NaN means "not published". Default: the
        row of ``date`` in the shipped ``data/rates/ust_par_yields_*.csv``.
    conventions : TreasuryConventions, optional

    Returns
    -------
    Curve
        Log-linear-in-discount curve from ``date`` to the longest published maturity.

    Raises
    ------
    ConfigError
        ``date`` not in the shipped files (names them and the nearest dates), an unknown tenor.
    DataError
        A negative or infinite yield (names the file and line, or ``yields[...]``), no yield at
        all, or a bootstrap that fails.

    Examples
    --------
    >>> c = treasury_curve("2024-12-31")
    >>> round(float(c.zero_rate("2034-12-31", "semiannual")), 5)  # 10Y par yield 4.58 %
    0.04609
    """
    conv = TreasuryConventions() if conventions is None else conventions
    if not isinstance(conv, TreasuryConventions):
        raise ConfigError(f"conventions must be a TreasuryConventions, got {type(conventions).__name__}")
    day = to_timestamp(date, "date")
    if yields is None:
        row, path = _shipped_row(day)
    else:
        row, path = pd.Series(yields, dtype=float), None
        unknown = [k for k in row.index if k not in _YEARS]
        if unknown:
            raise ConfigError(f"yields: unknown tenor labels {unknown} (known: {list(_YEARS)})")
    row = row.dropna()
    if row.empty:
        raise DataError(f"no par yield on {day.date()}", path=path)
    bad = row[~np.isfinite(row.to_numpy()) | (row.to_numpy() < 0) | (row.to_numpy() >= 0.5)]
    if not bad.empty:
        tenor, val = bad.index[0], float(bad.iloc[0])
        what = f"par yield {tenor} = {val!r} on {day.date()} (negative, infinite or not a decimal)"
        if path is None:
            raise DataError(f"yields[{tenor!r}]: {what}")
        raise DataError(what, path=path, row=_line_of(path, day))
    row = row.sort_index(key=lambda s: s.map(_YEARS))
    return _build(day, row, path, conv, 0.0)


def _tenor_period(label: str) -> ql.Period:
    if label == "1.5M":
        return ql.Period(6, ql.Weeks)
    n, unit = label[:-1], label[-1]
    return ql.Period(int(n), ql.Months if unit == "M" else ql.Years)


def _build(day: pd.Timestamp, row: pd.Series, path: str | None, conv: TreasuryConventions, bump_bp: float) -> Curve:
    qd = to_ql_date(day, "date")
    null = ql.NullCalendar()
    rows, helpers = [], []
    with evaluation_date(qd):
        for label, y in row.items():
            rate = float(y) + bump_bp / 1e4
            period = _tenor_period(label)
            months = _YEARS[label] * 12
            if months <= conv.bill_max_months + 1e-9:
                h = ql.DepositRateHelper(ql.QuoteHandle(ql.SimpleQuote(rate)), period, conv.settlement_days, null,
                                         ql.Unadjusted, False, ql.Actual365Fixed())
                kind, quote = "bill", rate
                start = h.earliestDate()
            else:
                issue = null.advance(qd, conv.settlement_days, ql.Days)
                sched = ql.Schedule(issue, issue + period, ql.Period(6, ql.Months), null, ql.Unadjusted, ql.Unadjusted,
                                    ql.DateGeneration.Backward, False)
                h = ql.FixedRateBondHelper(ql.QuoteHandle(ql.SimpleQuote(100.0)), conv.settlement_days, 100.0, sched,
                                           [rate], ql.ActualActual(ql.ActualActual.ISMA), ql.Unadjusted, 100.0, issue)
                kind, quote = "bond", 100.0
                start = issue
            helpers.append(h)
            rows.append({
                "kind": kind, "name": f"UST {label}", "tenor": label, "quote": quote, "rate": rate,
                "start": from_ql_date(start), "end": from_ql_date(h.maturityDate()),
                "pillar": from_ql_date(h.pillarDate()), "used": True, "note": "",
            })
        try:
            pw = ql.PiecewiseLogLinearDiscount(qd, helpers, ql.Actual365Fixed())
            nodes = pw.nodes()
            for r, h in zip(rows, helpers, strict=True):
                r["model_quote"] = h.impliedQuote()
        except RuntimeError as exc:
            raise DataError(f"bootstrap failed on {day.date()}: {exc}", path=path) from None
    ins = pd.DataFrame(rows)
    ins["error"] = ins["model_quote"] - ins["quote"]
    check_repriced(ins, day, path)

    def rebuild(bp: float) -> Curve:
        return _build(day, row, path, conv, bp)

    return Curve(
        day, [from_ql_date(d) for d, _ in nodes], [v for _, v in nodes], name="UST par",
        instruments=ins, conventions=conv, rebuild=rebuild, bump_bp=bump_bp,
    )
