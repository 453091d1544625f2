"""Rates loaders: US Treasury par yields, SOFR fixings and USD swap-curve quotes.

All rates come out as **decimals** (0.0412 means 4.12 %), whatever the vendor's unit. Dates are
calendar dates (``datetime64[ns]``, no time zone): a fixing or a curve belongs to a day, not an
instant.

The small CSV helpers at the bottom (``_read_rows``, ``_numeric``, ``_dates``, ``_check_order``) are
shared by the commodity and equity loaders. Error rows are 1-based file lines (line 1 is the header).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mmlab.data._validate import RULES, decode_text, read_input, read_text
from mmlab.errors import (
    ConfigError,
    DuplicateError,
    FormatError,
    RangeError,
    TimestampOrderError,
)

__all__ = [
    "TREASURY_TENORS",
    "load_sofr",
    "load_swap_quotes",
    "load_treasury_par_yields",
]

#: Treasury column label -> (our label, tenor in years). Months are taken as 1/12 year.
TREASURY_TENORS: dict[str, tuple[str, float]] = {
    "1 Mo": ("1M", 1 / 12),
    "1.5 Mo": ("1.5M", 1.5 / 12),
    "2 Mo": ("2M", 2 / 12),
    "3 Mo": ("3M", 3 / 12),
    "4 Mo": ("4M", 4 / 12),
    "6 Mo": ("6M", 6 / 12),
    "1 Yr": ("1Y", 1.0),
    "2 Yr": ("2Y", 2.0),
    "3 Yr": ("3Y", 3.0),
    "5 Yr": ("5Y", 5.0),
    "7 Yr": ("7Y", 7.0),
    "10 Yr": ("10Y", 10.0),
    "20 Yr": ("20Y", 20.0),
    "30 Yr": ("30Y", 30.0),
}
_TREASURY_DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d")


def load_treasury_par_yields(
    path_or_paths: str | Path | Iterable[str | Path], *, layout: str = "wide"
) -> pd.DataFrame:
    """Load US Treasury daily par yield curve rates (one or several yearly files).

    Parameters
    ----------
    path_or_paths : path or iterable of paths
        Treasury CSV exports ``Date,1 Mo,2 Mo,...,30 Yr``; dates ``MM/DD/YY``, ``MM/DD/YYYY`` or
        ``YYYY-MM-DD`` (detected per file); rows may run newest first, as Treasury exports do.
        Several files are concatenated, their columns united (``1.5 Mo`` appears in 2025).
    layout : {'wide', 'long'}
        ``'wide'``: index ``date``, one column per tenor labelled ``'1M', '1.5M', ..., '30Y'``
        (ordered by maturity; :data:`TREASURY_TENORS` gives years). ``'long'``: columns ``date,
        tenor, tenor_years, par_yield``, NaN tenors left out.

    Returns
    -------
    pandas.DataFrame
        Par yields as **decimals** (the files are in percent), sorted by date. A tenor not
        published on a day (the 20-year in the early 1990s, the 4-month before 2022...) is NaN,
        which is legitimate. Rows with no yield at all (bond-market closures such as 2010-10-11)
        are dropped; their dates are listed in ``df.attrs['blank_dates']``.

    Raises
    ------
    FormatError
        Missing ``Date`` column, unknown tenor column, non-numeric value, bad date, wrong field count.
    TimestampOrderError
        Dates within a file neither strictly increasing nor strictly decreasing.
    DataError
        A date present twice (within or across files).

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> y = load_treasury_par_yields(shipped("rates", "ust_par_yields_2024.csv"))
    >>> float(y.loc["2024-12-31", "10Y"])  # 4.58 % in the file
    0.0458
    """
    if layout not in ("wide", "long"):
        raise ConfigError(f"layout must be 'wide' or 'long', got {layout!r}")
    paths = [Path(path_or_paths)] if isinstance(path_or_paths, (str, Path)) else [Path(p) for p in path_or_paths]
    if not paths:
        raise ConfigError("path_or_paths: no file given")
    frames = []
    blank_dates: list[pd.Timestamp] = []
    for path in paths:
        header, rows, lines = _read_rows(path)
        if not header or header[0].strip() != "Date":
            raise FormatError(f"first column must be 'Date', got {header[:1]}", path=path, row=1)
        cols = [h.strip() for h in header[1:]]
        unknown = [c for c in cols if c not in TREASURY_TENORS]
        if unknown or not cols:
            raise FormatError(
                f"unknown tenor columns {unknown} (known: {list(TREASURY_TENORS)})", path=path, row=1
            )
        raw = pd.DataFrame(rows, columns=["Date", *cols])
        dates = _dates(raw["Date"], _TREASURY_DATE_FORMATS, path, lines, "Date")
        _check_order(dates, path, lines, allow_descending=True)
        rule = RULES["treasury"]["yield"]
        vals = {}
        for c in cols:
            pct = _numeric(raw[c], c, path, lines, allow_blank=True)
            rule.check(pct, path, lines, column=c)
            vals[TREASURY_TENORS[c][0]] = pct / 100.0
        df = pd.DataFrame(vals, index=pd.DatetimeIndex(dates, name="date"))
        empty = df.isna().all(axis=1).to_numpy()
        blank_dates.extend(df.index[empty])
        df = df[~empty]
        df.attrs.clear()
        frames.append((path, df, np.asarray(lines)[~empty]))
    out = pd.concat([f for _, f, _ in frames], axis=0, sort=False)
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        where = [(str(p), int(ln[np.flatnonzero(f.index == dup)[0]])) for p, f, ln in frames if dup in f.index]
        raise DuplicateError(f"date {dup.date()} appears more than once: {where}", path=where[-1][0],
                             row=where[-1][1], column="Date")
    order = sorted(out.columns, key=lambda lab: next(y for l2, y in TREASURY_TENORS.values() if l2 == lab))
    out = out.sort_index()[order]
    out.attrs["units"] = "decimal par yield (0.0412 = 4.12 %)"
    out.attrs["blank_dates"] = sorted(blank_dates)
    if layout == "wide":
        return out
    years = {lab: y for lab, y in TREASURY_TENORS.values()}
    long = out.rename_axis(columns="tenor").stack().rename("par_yield").reset_index()
    long = long.dropna(subset=["par_yield"]).reset_index(drop=True)
    long.insert(2, "tenor_years", long["tenor"].map(years))
    long.attrs.update(out.attrs)
    return long


def load_sofr(path: str | Path) -> pd.DataFrame:
    """Load SOFR daily fixings in FRED's ``Date,SOFR`` format.

    Parameters
    ----------
    path : str or Path
        FRED CSV: dates ``M/D/YYYY`` or ``YYYY-MM-DD``, rates in percent.

    Returns
    -------
    pandas.DataFrame
        One column ``sofr``, a **decimal** (5.31 % -> 0.0531), indexed by ``date``, ascending. FRED
        keeps a row with an empty value (or ``.``) on US holidays when no fixing was published:
        those rows are legitimate and dropped; their dates are in ``df.attrs['blank_dates']``.

    Raises
    ------
    FormatError
        Header not ``Date,SOFR``, non-numeric rate, bad date, wrong field count.
    TimestampOrderError, DataError
        Dates going backwards; a duplicated date.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> s = load_sofr(shipped("rates", "sofr_fixings_2018-2025.csv"))
    >>> float(s["sofr"].iloc[0])  # 2018-04-03: 1.83 %
    0.0183
    >>> pd.Timestamp("2018-05-28") in s.attrs["blank_dates"]  # Memorial Day
    True
    """
    path = Path(path)
    header, rows, lines = _read_rows(path)
    if [h.strip() for h in header] != ["Date", "SOFR"]:
        raise FormatError(f"expected columns ['Date', 'SOFR'], got {header}", path=path, row=1)
    raw = pd.DataFrame(rows, columns=["Date", "SOFR"])
    dates = _dates(raw["Date"], ("%m/%d/%Y", "%Y-%m-%d"), path, lines, "Date")
    _check_order(dates, path, lines, allow_descending=False)
    v = _numeric(raw["SOFR"].str.strip().replace(".", ""), "SOFR", path, lines, allow_blank=True)
    RULES["sofr"].check("SOFR", v, path, lines)
    s = pd.Series(v / 100.0, index=pd.DatetimeIndex(dates, name="date"), name="sofr")
    blank = s.isna()
    out = s[~blank].to_frame()
    out.attrs["units"] = "decimal overnight rate (0.0531 = 5.31 %)"
    out.attrs["blank_dates"] = list(s.index[blank])
    return out


class _HugeInt:
    """Marker for a JSON integer with more digits than any quote can have (never built as an int)."""

    def __init__(self, digits: int):
        self.digits = digits


def _bounded_int(text: str) -> float | _HugeInt:
    digits = len(text.lstrip("-"))
    return _HugeInt(digits) if digits > 15 else float(text)


_SWAP_KEY = re.compile(r"^(?:d(\d+)([wmy])|s(\d+)y|fut(\d+))$")
_UNIT_YEARS = {"w": 1 / 52, "m": 1 / 12, "y": 1.0}


def load_swap_quotes(path: str | Path, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Load a USD curve-quote JSON (deposits, rate futures, par swaps) into a tidy table.

    Parameters
    ----------
    path : str or Path
        JSON object ``{"d1w": [0.053], ..., "s2y": [0.0496], ..., "fut1": [94.6625], ...}``: each
        value a one-element list. Keys: deposits ``d<n>w|m|y`` and swaps ``s<n>y`` quoted as
        decimal rates; quarterly rate futures ``fut1..futN`` quoted as prices (100 - rate in
        percent), numbered from the front contract.
    as_of : date-like, optional
        The curve date. The file does not carry it: by default it is read from a ``YYYY-MM-DD`` in
        the file name.

    Returns
    -------
    pandas.DataFrame
        Columns ``as_of, instrument ('deposit'|'future'|'swap'), name, tenor ('1W', '2Y', 'Q3'
        for the third future), tenor_years (NaN for futures: their dates follow from the
        contract calendar), quote (as in the file), rate`` (decimal: the quote itself for
        deposits and swaps, ``(100 - price) / 100`` for futures, before any convexity
        adjustment), ordered deposits, futures, swaps by maturity.

    Notes
    -----
    The conventions (day counts, fixed/float frequencies, index of the futures, settlement lags)
    are **not** in the file; the curve-building code states the ones it assumes.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> q = load_swap_quotes(shipped("rates", "usd_swap_curve_quotes_2023-10-19.json"))
    >>> q.loc[q["name"] == "s10y", "rate"].item()
    0.0457
    """
    path = Path(path)
    if as_of is None:
        m = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
        if m is None:
            raise ConfigError(f"as_of: not given and no YYYY-MM-DD in the file name {path.name!r}")
        as_of = m.group(1)
    try:
        as_of_ts = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"as_of: cannot parse {as_of!r}") from exc
    text = decode_text(read_input(path, final_newline=RULES["swap_quotes"].final_newline), path)

    def line_of(key: str, nth: int = 0) -> int:
        pos = -1
        for _ in range(nth + 1):
            pos = text.find(json.dumps(key), pos + 1)
        return text.count("\n", 0, max(pos, 0)) + 1

    def pairs(items: list[tuple[str, object]]) -> dict:
        seen: dict[str, int] = {}
        for k, _ in items:
            if k in seen:
                raise DuplicateError("key appears twice in the JSON object (the last would silently win)",
                                     path=path, row=line_of(k, 1), column=k)
            seen[k] = 1
        return dict(items)

    try:
        # integers are parsed as floats (never as unbounded Python ints); NaN/Infinity refused below
        obj = json.loads(text, object_pairs_hook=pairs, parse_int=_bounded_int, parse_constant=float)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON ({exc.msg}, truncated file?)", path=path, row=exc.lineno) from None
    except RecursionError:
        raise FormatError("JSON nested too deeply", path=path, row=1) from None
    if not isinstance(obj, dict) or not obj:
        raise FormatError("expected a non-empty JSON object of quotes", path=path, row=1)
    # (instrument, name, tenor, tenor_years, quote, rate, sort key)
    recs: list[tuple[str, str, str, float, float, float, tuple[int, float]]] = []
    futs = []
    seen_tenors: dict[tuple, str] = {}
    rules = RULES["swap_quotes"]
    for key, val in obj.items():
        row = line_of(key)
        m = _SWAP_KEY.match(key)
        if m is None:
            raise FormatError(f"unknown quote key {key!r} (expected d<n>w|m|y, s<n>y, fut<n>)", path=path, row=row)
        if not (isinstance(val, list) and len(val) == 1):
            raise FormatError(f"expected a one-element list, got {val!r}"[:120], path=path, row=row, column=key)
        q = val[0]
        if isinstance(q, _HugeInt):
            raise RangeError(f"a {q.digits}-digit integer is outside the plausible range", path=path, row=row,
                             column=key)
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not np.isfinite(q):
            raise FormatError(f"not a finite number: {q!r}"[:120], path=path, row=row, column=key)
        q = float(q)
        dn, du, sn, fn = m.groups()
        n = int(dn or sn or fn)
        if not 1 <= n <= 100:
            raise RangeError(f"tenor or contract number {n} outside [1, 100]", path=path, row=row, column=key)
        norm = (str(int(dn)) if dn else "", du or "", str(int(sn)) if sn else "", str(int(fn)) if fn else "")
        if norm in seen_tenors:
            raise DuplicateError(f"the same instrument as key {seen_tenors[norm]!r}", path=path, row=row, column=key)
        seen_tenors[norm] = key
        if fn is not None:
            if not 0.0 < q <= 110.0:
                raise RangeError(f"futures price {q} outside (0, 110]", path=path, row=row, column=key)
            futs.append(int(fn))
            recs.append(("future", key, f"Q{int(fn)}", np.nan, q, (100.0 - q) / 100.0, (1, int(fn))))
        else:
            rule = rules["rate"]
            if not rule.lo < q < rule.hi:
                raise RangeError(f"rate {q} is not a decimal rate in ({rule.lo:g}, {rule.hi:g}) (percent given?)",
                                 path=path, row=row, column=key)
            if dn is not None:
                years = int(dn) * _UNIT_YEARS[du]
                recs.append(("deposit", key, f"{dn}{du.upper()}", years, q, q, (0, years)))
            else:
                recs.append(("swap", key, f"{sn}Y", float(sn), q, q, (2, float(sn))))
    if futs and sorted(futs) != list(range(1, len(futs) + 1)):
        raise FormatError(f"futures must be numbered fut1..fut{len(futs)} without gaps: {sorted(futs)}", path=path,
                          row=1)
    recs.sort(key=lambda r: r[-1])
    df = pd.DataFrame(
        [r[:-1] for r in recs], columns=["instrument", "name", "tenor", "tenor_years", "quote", "rate"]
    )
    df.insert(0, "as_of", as_of_ts)
    return df


# ---------------------------------------------------------------------------------------------
# shared CSV helpers (also used by _commodities and _equity)


def _read_rows(path: str | Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Read a (possibly gzipped) CSV: header, data rows and their 1-based line numbers.

    The file goes through :func:`mmlab.data._validate.read_input` (gzip ratio, input size and
    line length limits; a last line without its newline is a truncated file). Empty lines are
    skipped; every data row must have as many fields as the header.
    """
    path = Path(path)
    text = read_text(path, final_newline=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for rec in reader:
            if not rec or not any(x.strip() for x in rec):
                continue
            if header is None:
                header = rec
                names = [h.strip() for h in rec]
                dup = next((h for i, h in enumerate(names) if h in names[:i]), None)
                if dup is not None:
                    raise DuplicateError("column name appears twice in the header", path=path,
                                         row=reader.line_num, column=dup)
                continue
            if len(rec) != len(header):
                raise FormatError(
                    f"{len(rec)} fields, expected {len(header)} (truncated file?)", path=path, row=reader.line_num
                )
            rows.append(rec)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise FormatError(f"malformed CSV ({exc})", path=path, row=reader.line_num) from None
    if header is None:
        raise FormatError("empty file", path=path, row=1)
    if not rows:
        raise FormatError("no data rows after the header", path=path, row=1)
    return header, rows, lines


def _numeric(col: pd.Series, name: str, path: Path, lines: Sequence[int], *, allow_blank: bool) -> np.ndarray:
    """Strict float conversion of a string column; blanks -> NaN only if ``allow_blank``."""
    s = col.astype(str).str.strip()
    blank = s.eq("").to_numpy()
    v = pd.to_numeric(s.where(~blank, None), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) & ~blank
    bad |= np.isinf(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(f"not a number: {col.iloc[i]!r}", path=path, row=lines[i], column=name)
    if blank.any() and not allow_blank:
        i = int(np.flatnonzero(blank)[0])
        raise FormatError("empty where a number is required", path=path, row=lines[i], column=name)
    return v


def _dates(col: pd.Series, formats: Sequence[str], path: Path, lines: Sequence[int], name: str) -> np.ndarray:
    """Parse a date column with the first of ``formats`` that fits every row."""
    s = col.astype(str).str.strip()
    best = None
    for fmt in formats:
        d = pd.to_datetime(s, format=fmt, errors="coerce")
        if not d.isna().any():
            return d.to_numpy(dtype="datetime64[ns]")
        if best is None or d.isna().sum() < best.isna().sum():
            best = d
    assert best is not None
    i = int(np.flatnonzero(best.isna().to_numpy())[0])
    raise FormatError(f"unparseable date {col.iloc[i]!r} (formats {list(formats)})", path=path, row=lines[i],
                      column=name)


def _check_order(dates: np.ndarray, path: Path, lines: Sequence[int], *, allow_descending: bool) -> None:
    """Dates must be strictly increasing (or, if allowed, strictly decreasing throughout)."""
    if len(dates) < 2:
        return
    step = np.diff(dates.astype("int64"))
    dup = np.flatnonzero(step == 0)
    if dup.size:
        i = int(dup[0]) + 1
        raise DuplicateError(f"duplicate date {pd.Timestamp(dates[i]).date()}", path=path, row=lines[i],
                             column="date")
    sign = 1 if step[0] > 0 or not allow_descending else -1
    wrong = np.flatnonzero(step * sign < 0)
    if wrong.size:
        i = int(wrong[0]) + 1
        raise TimestampOrderError(
            f"date {pd.Timestamp(dates[i]).date()} after {pd.Timestamp(dates[i - 1]).date()}: "
            f"dates go {'forwards' if sign < 0 else 'backwards'}",
            path=path,
            row=lines[i],
            column="date",
        )
