"""Option-chain loader: CBOE delayed-quote exports and Deribit ticker dumps to one tidy table.

The vendor is detected from the file content, never from its name. Both vendors end up in the
same table, one row per contract (a CBOE row carries a call and a put and becomes two rows).

Columns of the result
---------------------
============================ ======================================================================
``ts``                       quote time, tz-aware UTC (CBOE: header time, see below; Deribit: the
                             row's ``timestamp``); ``quote_time=`` overrides both
``underlying``               ``'SPX'``, ``'NDX'``, ``'SPY'``, ``'BTC'``
``root``                     option root from the symbol: ``SPX``/``SPXW``, ``NDX``/``NDXP``,
                             ``SPY``, ``BTC``. SPX and SPXW (NDX and NDXP) share expiry dates, so
                             ``root`` and ``settlement`` are part of a contract's key
``underlying_px``            CBOE: the header's ``Last``; Deribit: ``underlying_price``, the future
                             (or Deribit's synthetic future) of that expiry, not the index
``underlying_px_source``     ``'header_last'``, ``'vendor_future'``, ``'user'`` or
                             ``'parity_required'`` (then ``underlying_px`` is NaN on purpose)
``expiry``                   exact expiry instant, tz-aware UTC: AM-settled 09:30 New York time,
                             PM-settled 16:00 New York time, Deribit 08:00 UTC (checked against the
                             file's ``expiration_timestamp``)
``settlement``               ``'AM'`` (SPX, NDX: special opening quotation), ``'PM'`` (SPXW, NDXP,
                             SPY: closing price), ``'TWAP'`` (Deribit: 30-minute TWAP of its index
                             up to 08:00 UTC)
``settlement_type``          ``'cash'`` or ``'physical'`` (SPY)
``exercise``                 ``'european'`` or ``'american'`` (SPY)
``strike``, ``right``        strike in underlying currency units; ``'C'`` or ``'P'``
``bid``, ``ask``, ``last``   in ``quote_ccy`` per unit of underlying. A bid or ask of 0 means the
                             vendor shows no quote on that side; it is kept as 0 (legitimate)
``vendor_iv``                vendor implied vol as a decimal (0.20 = 20 %). CBOE's ``IV`` column is
                             already decimal (the 2023-10-20 SPX 4500 call: 0.1088); Deribit's
                             ``mark_iv`` is in percent, divided by 100. Both vendors write an IV of 0
                             where they have none (expired or deep in-the-money series, a bid below
                             intrinsic): those become NaN, never a zero volatility
``bid_size``, ``ask_size``   Deribit best sizes (contracts of 1 BTC); CBOE exports carry no sizes:
                             NaN
``quote_ccy``                ``'USD'`` (CBOE) or ``'BTC'`` (Deribit: premiums are in BTC, the
                             contract is inverse: its USD value is ``price * underlying``)
``crossed``                  ``True`` where ``ask < bid`` with both > 0. Such rows are flagged, not
                             dropped and not an error (a chain filter drops them downstream)
extras                       ``symbol``, ``volume``, ``open_interest``, ``vendor_delta``,
                             ``vendor_gamma``; CBOE also ``net_change``; Deribit also
                             ``mark_price``, ``vendor_bid_iv``, ``vendor_ask_iv`` (decimals, NaN
                             where that side has no quote), ``vendor_vega``, ``vendor_theta``,
                             ``index_price``, ``underlying_index``; ``vendor`` and ``src_line``
                             (1-based line of the file the row came from)
============================ ======================================================================

CBOE quote time
---------------
The second header line carries the export time, e.g. ``Date: September 14, 2023 at 4:31 PM EDT``
(or ``Date: February 5 2022, 8:26 PM EST``), New York time. When that time falls on a Saturday or
Sunday (the 2022-02-04 files were exported on Saturday evening), the header's underlying quotes
are stale or meaningless: the quote time becomes the previous Friday's 16:00 New York close and
``underlying_px`` is left NaN with ``underlying_px_source = 'parity_required'`` (imply it from
put-call parity, or pass ``underlying_px=``). Exchange holidays are not detected.

Errors: structurally broken input (missing or renamed columns, a truncated file, a non-numeric or
missing number, a negative price, size or IV, a symbol that disagrees with its row, an unparseable
header date, duplicate contracts) raises :class:`~mmlab.errors.FormatError` or
:class:`~mmlab.errors.DataError` naming the file and its 1-based line.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mmlab.data._validate import RULES, read_text
from mmlab.errors import ConfigError, DataError, DuplicateError, FormatError, RangeError

__all__ = ["OPTION_CHAIN_COLUMNS", "OPTION_ROOTS", "OptionRoot", "load_option_chain"]

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class OptionRoot:
    """Contract terms shared by every option of one listed root.

    Parameters
    ----------
    root : str
        Option root as in the OCC symbol (``'SPXW'``).
    underlying : str
        Underlying symbol (``'SPX'``).
    settlement : {'AM', 'PM', 'TWAP'}
        When the settlement value is taken.
    settlement_type : {'cash', 'physical'}
    exercise : {'european', 'american'}
    expiry_time : datetime.time
        Local time of the expiry instant in ``expiry_tz``.
    expiry_tz : str
        IANA time zone of ``expiry_time``.

    Examples
    --------
    >>> OPTION_ROOTS["SPXW"].settlement, OPTION_ROOTS["SPX"].settlement
    ('PM', 'AM')
    """

    root: str
    underlying: str
    settlement: str
    settlement_type: str
    exercise: str
    expiry_time: time
    expiry_tz: str

    def __post_init__(self) -> None:
        if self.settlement not in ("AM", "PM", "TWAP"):
            raise ConfigError(f"settlement must be 'AM', 'PM' or 'TWAP', got {self.settlement!r}")
        if self.settlement_type not in ("cash", "physical"):
            raise ConfigError(f"settlement_type must be 'cash' or 'physical', got {self.settlement_type!r}")
        if self.exercise not in ("european", "american"):
            raise ConfigError(f"exercise must be 'european' or 'american', got {self.exercise!r}")
        ZoneInfo(self.expiry_tz)

    def expiry_instant(self, day: pd.Timestamp | str) -> pd.Timestamp:
        """Exact expiry instant (tz-aware UTC) of this root's options expiring on ``day``.

        Examples
        --------
        >>> str(OPTION_ROOTS["SPX"].expiry_instant("2023-09-15"))
        '2023-09-15 13:30:00+00:00'
        >>> str(OPTION_ROOTS["SPXW"].expiry_instant("2022-02-07"))
        '2022-02-07 21:00:00+00:00'
        """
        d = pd.Timestamp(day)
        local = datetime.combine(d.date(), self.expiry_time, tzinfo=ZoneInfo(self.expiry_tz))
        return pd.Timestamp(local).tz_convert("UTC")


_AM = time(9, 30)
_PM = time(16, 0)
#: Known option roots. AM-settled index options settle on the special opening quotation, so the
#: expiry instant is the 09:30 New York open; PM-settled ones at the 16:00 close.
OPTION_ROOTS: dict[str, OptionRoot] = {
    r.root: r
    for r in (
        OptionRoot("SPX", "SPX", "AM", "cash", "european", _AM, "America/New_York"),
        OptionRoot("SPXW", "SPX", "PM", "cash", "european", _PM, "America/New_York"),
        OptionRoot("NDX", "NDX", "AM", "cash", "european", _AM, "America/New_York"),
        OptionRoot("NDXP", "NDX", "PM", "cash", "european", _PM, "America/New_York"),
        OptionRoot("SPY", "SPY", "PM", "physical", "american", _PM, "America/New_York"),
        OptionRoot("BTC", "BTC", "TWAP", "cash", "european", time(8, 0), "UTC"),
    )
}

#: Columns every loaded chain has, in this order (extras follow).
OPTION_CHAIN_COLUMNS = [
    "ts",
    "underlying",
    "root",
    "underlying_px",
    "underlying_px_source",
    "expiry",
    "settlement",
    "settlement_type",
    "exercise",
    "strike",
    "right",
    "bid",
    "ask",
    "last",
    "vendor_iv",
    "bid_size",
    "ask_size",
    "quote_ccy",
    "crossed",
    "symbol",
    "volume",
    "open_interest",
    "vendor_delta",
    "vendor_gamma",
    "vendor",
    "src_line",
]

_CBOE_COLUMNS = [
    "Expiration Date", "Calls", "Last Sale", "Net", "Bid", "Ask", "Volume", "IV", "Delta",
    "Gamma", "Open Interest", "Strike", "Puts", "Last Sale", "Net", "Bid", "Ask", "Volume", "IV",
    "Delta", "Gamma", "Open Interest",
]  # fmt: skip
_OCC_SYMBOL = re.compile(r"^([A-Z]{1,6})(\d{6})([CP])(\d{8})$")
_HEADER_DATE = re.compile(
    r"Date:\s*([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{4}),?\s*(?:at\s+)?(\d{1,2}):(\d{2})\s*([AP]M)"
    r"\s*(EST|EDT|ET)?",
    re.IGNORECASE,
)
_DERIBIT_REQUIRED = [
    "expiration_timestamp", "option_type", "instrument_name", "strike", "underlying_price",
    "underlying_index", "timestamp", "stats", "open_interest", "mark_price", "mark_iv",
    "last_price", "index_price", "greeks", "bids", "bid_iv", "best_bid_price", "best_bid_amount",
    "best_ask_price", "best_ask_amount", "asks", "ask_iv",
]  # fmt: skip
_DERIBIT_NAME = re.compile(r"^([A-Z]+)-(\d{1,2}[A-Z]{3}\d{2})-(\d+(?:\.\d+)?)-([CP])$")


def load_option_chain(
    path: str | Path,
    quote_time: Any = None,
    underlying_px: float | None = None,
) -> pd.DataFrame:
    """Load a CBOE delayed-quote export or a Deribit ticker dump into one tidy chain table.

    Parameters
    ----------
    path : str or Path
        The vendor file (vendor detected from its content).
    quote_time : timestamp-like, optional
        Overrides the quote time of every row (tz-aware; a naive value is rejected).
    underlying_px : float, optional
        Overrides the underlying price of every row (``underlying_px_source = 'user'``).

    Returns
    -------
    pandas.DataFrame
        One row per contract, columns :data:`OPTION_CHAIN_COLUMNS` then vendor extras (see the
        module documentation for units), sorted by expiry, root, strike and right.

    Raises
    ------
    FormatError
        Unknown vendor layout, missing/renamed columns, truncated rows, non-numeric fields,
        unparseable header date.
    DataError
        Negative prices/sizes, symbols disagreeing with their row, duplicate contracts.
    ConfigError
        Bad ``quote_time`` or ``underlying_px``.

    Examples
    --------
    >>> from mmlab._paths import shipped
    >>> ch = load_option_chain(shipped("options", "cboe_spx_2023-09-14.csv"))
    >>> len(ch), float(ch["underlying_px"].iloc[0])
    (19920, 4505.1001)
    >>> ch.groupby("root")["settlement"].first().to_dict()
    {'SPX': 'AM', 'SPXW': 'PM'}
    """
    path = Path(path)
    qt = _parse_override_time(quote_time)
    upx = _parse_override_px(underlying_px)
    # both vendors end every line with a newline: a missing last newline is a truncated file
    text = read_text(path, final_newline=True, header_startswith="Expiration Date,")
    head = [ln for ln in text.splitlines()[:6]]
    if any(ln.startswith("Expiration Date,") for ln in head):
        df = _load_cboe(path, text)
    elif head and "instrument_name" in head[0] and "expiration_timestamp" in head[0]:
        df = _load_deribit(path, text)
    else:
        raise FormatError(
            "unknown option-chain layout: neither a CBOE delayed-quote export (an "
            "'Expiration Date,Calls,...' header) nor a Deribit ticker dump",
            path=path,
            row=1,
        )
    if qt is not None:
        df["ts"] = qt
    if upx is not None:
        df["underlying_px"] = upx
        df["underlying_px_source"] = "user"
    df = df.sort_values(["expiry", "root", "strike", "right"], kind="stable").reset_index(drop=True)
    extras = [c for c in df.columns if c not in OPTION_CHAIN_COLUMNS]
    return df[OPTION_CHAIN_COLUMNS + extras]


# ---------------------------------------------------------------------------------------------
# overrides


def _parse_override_time(quote_time: Any) -> pd.Timestamp | None:
    if quote_time is None:
        return None
    try:
        ts = pd.Timestamp(quote_time)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"quote_time: cannot parse {quote_time!r}") from exc
    if ts is pd.NaT:
        raise ConfigError("quote_time: NaT")
    if ts.tzinfo is None:
        raise ConfigError(f"quote_time: {quote_time!r} has no time zone (give e.g. '...-04:00' or UTC)")
    return ts.tz_convert("UTC").as_unit("ns")


def _parse_override_px(px: float | None) -> float | None:
    if px is None:
        return None
    try:
        v = float(px)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"underlying_px: not a number: {px!r}") from exc
    if not np.isfinite(v) or v <= 0:
        raise ConfigError(f"underlying_px: must be a positive finite number, got {px!r}")
    return v


# ---------------------------------------------------------------------------------------------
# CBOE


def _number(text: str, path: Path, line: int, what: str, *, allow_negative: bool = False,
            rule=None) -> float:
    """One number of a vendor field; ``rule`` (a declared FieldRule) bounds it."""
    s = text.strip().replace(",", "")
    try:
        v = float(s)
    except ValueError:
        raise FormatError(f"not a number: {text[:40]!r}", path=path, row=line, column=what) from None
    if not math.isfinite(v):
        raise FormatError(f"{text[:40]!r} is not a finite number", path=path, row=line, column=what)
    if v < 0 and not allow_negative:
        raise DataError(f"negative value {v}", path=path, row=line, column=what)
    if rule is not None:
        rule.check_scalar(v, path, line, column=what)
    return v


def _cboe_header(path: Path, lines: list[str], col_line: int) -> tuple[pd.Timestamp, float, bool]:
    """Parse the two header lines: returns (quote time UTC, header last, weekend flag)."""
    last = np.nan
    ts = None
    seen: set[str] = set()
    for i, raw in enumerate(lines[:col_line]):
        cells = [c.strip() for c in next(csv.reader([raw]))] if raw.strip() else []
        keys = [c.split(":", 1)[0] for c in cells if c.startswith(("Last:", "Date:"))]
        if cells and not keys:  # e.g. an option row moved above the column header
            raise FormatError("unexpected line before the column header (neither the 'Last:' nor "
                              "the 'Date:' header line)", path=path, row=i + 1)
        for k in keys:
            if k in seen:
                raise FormatError(f"header field {k!r} appears twice", path=path, row=i + 1, column=k)
            seen.add(k)
        for cell in cells:
            if cell.startswith("Last:"):
                last = _number(cell[5:], path, i + 1, "header Last", rule=RULES["cboe"]["header Last"])
            elif cell.startswith("Date:"):
                m = _HEADER_DATE.search(cell)
                if m is None:
                    raise FormatError(f"unparseable header date {cell!r}", path=path, row=i + 1)
                mon, day, year, hh, mm, ampm, zone = m.groups()
                try:
                    naive = datetime.strptime(f"{mon} {day} {year} {hh}:{mm} {ampm.upper()}", "%B %d %Y %I:%M %p")
                except ValueError:
                    raise FormatError(f"unparseable header date {cell!r}", path=path, row=i + 1) from None
                ts = (i + 1, naive, (zone or "").upper())
    if ts is None:
        raise FormatError("no 'Date: ...' quote time in the header", path=path, row=1)
    line, naive, zone = ts
    local = naive.replace(tzinfo=NEW_YORK)
    if zone in ("EST", "EDT") and local.tzname() != zone:
        raise FormatError(f"header time says {zone} but New York was on {local.tzname()} then", path=path, row=line)
    weekend = local.weekday() >= 5
    if weekend:
        friday = local.date() - timedelta(days=local.weekday() - 4)
        local = datetime.combine(friday, time(16, 0), tzinfo=NEW_YORK)
    return pd.Timestamp(local).tz_convert("UTC").as_unit("ns"), last, weekend


def _vector_number(
    col: pd.Series, what: str, path: Path, lines: np.ndarray, *, allow_negative: bool = False
) -> np.ndarray:
    """Strict float conversion of a string column; the first bad row is reported."""
    v = pd.to_numeric(col.str.strip().str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(f"not a number: {col.iloc[i][:40]!r}", path=path, row=int(lines[i]), column=what)
    if not allow_negative and (v < 0).any():
        i = int(np.flatnonzero(v < 0)[0])
        raise DataError(f"negative value {v[i]}", path=path, row=int(lines[i]), column=what)
    RULES["cboe"].check(what, v, path, lines)
    return v


def _load_cboe(path: Path, text: str) -> pd.DataFrame:
    lines = text.splitlines()
    col_line = next(i for i, ln in enumerate(lines[:6]) if ln.startswith("Expiration Date,"))
    header = next(csv.reader([lines[col_line]]))
    if [h.strip() for h in header] != _CBOE_COLUMNS:
        raise FormatError(
            f"CBOE columns differ from the expected {len(_CBOE_COLUMNS)}: got {header}",
            path=path,
            row=col_line + 1,
        )
    ts, last, weekend = _cboe_header(path, lines, col_line)

    # one pass of the csv module over the data block: field counts and line numbers
    n = len(_CBOE_COLUMNS)
    reader = csv.reader(io.StringIO("\n".join(lines[col_line + 1 :])), strict=True)
    rows: list[list[str]] = []
    where: list[int] = []
    try:
        for rec in reader:
            if not rec or not any(x.strip() for x in rec):
                continue
            line = col_line + 1 + reader.line_num
            if len(rec) != n:
                raise FormatError(f"{len(rec)} fields, expected {n} (truncated file?)", path=path, row=line)
            rows.append(rec)
            where.append(line)
    except csv.Error as exc:
        raise FormatError(f"malformed CSV row ({exc})", path=path, row=col_line + 1 + reader.line_num) from None
    if not rows:
        raise FormatError("no option rows after the header (truncated file?)", path=path, row=col_line + 1)
    raw = pd.DataFrame(rows, dtype=str)
    ln = np.asarray(where, dtype=np.int64)

    exp_day = pd.to_datetime(raw[0].str.strip(), format="%a %b %d %Y", errors="coerce")
    if exp_day.isna().any():
        i = int(np.flatnonzero(exp_day.isna().to_numpy())[0])
        raise FormatError(f"unparseable expiration date {raw[0].iloc[i][:40]!r}", path=path, row=int(ln[i]),
                          column="Expiration Date")
    strike = _vector_number(raw[11], "Strike", path, ln)
    if (strike <= 0).any():
        i = int(np.flatnonzero(strike <= 0)[0])
        raise DataError(f"Strike must be positive, got {strike[i]}", path=path, row=int(ln[i]), column="Strike")

    names = ["Last Sale", "Net", "Bid", "Ask", "Volume", "IV", "Delta", "Gamma", "Open Interest"]
    signed = {"Net", "Delta"}
    parts = []
    roots = None
    for right, sym_col, off in (("C", 1, 2), ("P", 12, 13)):
        sym = raw[sym_col].str.strip()
        m = sym.str.extract(_OCC_SYMBOL)
        bad = m[0].isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FormatError(f"bad option symbol {sym.iloc[i][:40]!r}", path=path, row=int(ln[i]),
                              column=header[sym_col])
        r, ymd, cp, k8 = m[0], m[1], m[2], m[3]
        sym_day = pd.to_datetime(ymd, format="%y%m%d", errors="coerce")
        bad = sym_day.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FormatError(f"option symbol {sym.iloc[i]} has an invalid date {ymd.iloc[i]!r} (YYMMDD)",
                              path=path, row=int(ln[i]), column=header[sym_col])
        checks = [
            (cp.to_numpy() != right, lambda i: f"symbol {sym.iloc[i]} in the {'Calls' if right == 'C' else 'Puts'} column"),
            (sym_day.to_numpy() != exp_day.to_numpy(),
             lambda i: f"symbol {sym.iloc[i]} disagrees with expiration date {raw[0].iloc[i]!r}"),
            (np.abs(k8.astype(np.int64).to_numpy() / 1000.0 - strike) > 1e-9,
             lambda i: f"symbol {sym.iloc[i]} disagrees with strike {strike[i]}"),
            (~r.isin(list(OPTION_ROOTS)).to_numpy(),
             lambda i: f"unknown option root {r.iloc[i]!r} (known: {sorted(OPTION_ROOTS)})"),
        ]  # fmt: skip
        if roots is not None:
            checks.append((r.to_numpy() != roots, lambda i: f"call and put roots differ: {roots[i]} vs {r.iloc[i]}"))
        for mask, msg in checks:
            if mask.any():
                i = int(np.flatnonzero(mask)[0])
                raise DataError(msg(i), path=path, row=int(ln[i]), column=header[sym_col])
        roots = r.to_numpy()
        vals = {
            nm: _vector_number(raw[off + j], nm, path, ln, allow_negative=nm in signed) for j, nm in enumerate(names)
        }
        parts.append(
            pd.DataFrame(
                {
                    "root": r.to_numpy(),
                    "exp_day": exp_day.to_numpy(),
                    "strike": strike,
                    "right": right,
                    "bid": vals["Bid"],
                    "ask": vals["Ask"],
                    "last": vals["Last Sale"],
                    "vendor_iv": vals["IV"],
                    "symbol": sym.to_numpy(),
                    "volume": vals["Volume"],
                    "open_interest": vals["Open Interest"],
                    "vendor_delta": vals["Delta"],
                    "vendor_gamma": vals["Gamma"],
                    "net_change": vals["Net"],
                    "src_line": ln,
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    dup = df.duplicated(["root", "exp_day", "strike", "right"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DuplicateError(f"duplicate contract {df['symbol'].iloc[i]}", path=path, row=int(df["src_line"].iloc[i]),
                             column="Calls" if df["right"].iloc[i] == "C" else "Puts")

    spec = {r: OPTION_ROOTS[r] for r in df["root"].unique()}
    df["underlying"] = df["root"].map({r: s.underlying for r, s in spec.items()})
    if df["underlying"].nunique() != 1:
        i = int(np.flatnonzero(df["underlying"].to_numpy() != df["underlying"].iloc[0])[0])
        raise DataError(f"several underlyings in one chain: {sorted(df['underlying'].unique())}", path=path,
                        row=int(df["src_line"].iloc[i]), column="Calls" if df["right"].iloc[i] == "C" else "Puts")
    df["settlement"] = df["root"].map({r: s.settlement for r, s in spec.items()})
    df["settlement_type"] = df["root"].map({r: s.settlement_type for r, s in spec.items()})
    df["exercise"] = df["root"].map({r: s.exercise for r, s in spec.items()})
    codes, uniq = pd.MultiIndex.from_arrays([df["root"], df["exp_day"]]).factorize()
    instants = pd.DatetimeIndex([spec[r].expiry_instant(d) for r, d in uniq]).as_unit("ns")
    df["expiry"] = instants[codes]
    df = df.drop(columns="exp_day")
    df["vendor_iv"] = df["vendor_iv"].where(df["vendor_iv"] > 0)
    df["ts"] = ts
    if weekend or not (last > 0):
        df["underlying_px"] = np.nan
        df["underlying_px_source"] = "parity_required"
    else:
        df["underlying_px"] = last
        df["underlying_px_source"] = "header_last"
    df["bid_size"] = np.nan
    df["ask_size"] = np.nan
    df["quote_ccy"] = "USD"
    df["crossed"] = (df["bid"] > 0) & (df["ask"] > 0) & (df["ask"] < df["bid"])
    df["vendor"] = "cboe"
    return df


# ---------------------------------------------------------------------------------------------
# Deribit


def _literal(text: str, path: Path, line: int, what: str, kind: type) -> Any:
    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        raise FormatError(f"not a Python literal: {text[:60]!r}", path=path, row=line, column=what) from None
    if not isinstance(v, kind):
        raise FormatError(f"expected a {kind.__name__}, got {type(v).__name__}", path=path, row=line, column=what)
    return v


# the declared rule each Deribit number column is checked against
_DERIBIT_RULE = {
    "timestamp": "timestamp", "expiration_timestamp": "expiration_timestamp", "strike": "strike",
    "underlying_price": "underlying_price", "index_price": "index_price",
    "best_bid_price": "price", "best_ask_price": "price", "mark_price": "price", "last_price": "price",
    "best_bid_amount": "amount", "best_ask_amount": "amount", "open_interest": "open_interest",
    "bid_iv": "iv", "ask_iv": "iv", "mark_iv": "iv",
}  # fmt: skip


def _literal_number(v: Any, path: Path, line: int, what: str, rule) -> float:
    """A number inside a Deribit dict/list literal: a real int or float, finite, within ``rule``."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise FormatError(f"not a number: {v!r}"[:80], path=path, row=line, column=what)
    if isinstance(v, int) and abs(v) > 2**53:
        raise RangeError(f"integer with {len(str(abs(v)))} digits is outside the plausible range",
                         path=path, row=line, column=what)
    x = float(v)
    if not math.isfinite(x):
        raise FormatError(f"{v!r} is not a finite number", path=path, row=line, column=what)
    rule.check_scalar(x, path, line, column=what)
    return x


def _ladder(levels: list, path: Path, line: int, what: str) -> list[tuple[float, float]]:
    """A Deribit order-book side: a list of ``[price, amount]`` pairs."""
    rules = RULES["deribit"]
    out = []
    for j, lv in enumerate(levels):
        if not isinstance(lv, (list, tuple)) or len(lv) != 2:
            raise FormatError(f"level {j} is not [price, amount]: {lv!r}"[:80], path=path, row=line, column=what)
        out.append((_literal_number(lv[0], path, line, f"{what}[{j}] price", rules["price"]),
                    _literal_number(lv[1], path, line, f"{what}[{j}] amount", rules["amount"])))
    return out


def _load_deribit(path: Path, text: str) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FormatError(f"unreadable header ({exc})", path=path, row=1) from None
    header = [h.strip() for h in header]
    dup = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if dup is not None:
        raise DuplicateError("column name appears twice in the header", path=path, row=1, column=dup)
    missing = [c for c in _DERIBIT_REQUIRED if c not in header]
    if missing:
        raise FormatError(f"missing Deribit columns {missing}", path=path, row=1)
    idx = {c: header.index(c) for c in _DERIBIT_REQUIRED}
    n = len(header)
    out: dict[str, list] = {k: [] for k in (
        "root", "expiry", "strike", "right", "bid", "ask", "last", "vendor_iv", "bid_size",
        "ask_size", "symbol", "volume", "open_interest", "vendor_delta", "vendor_gamma",
        "vendor_vega", "vendor_theta", "mark_price", "vendor_bid_iv", "vendor_ask_iv",
        "underlying_px", "index_price", "underlying_index", "ts", "src_line")}  # fmt: skip
    seen: set[str] = set()
    while True:
        try:
            f = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FormatError(f"malformed CSV ({exc}; truncated file?)", path=path, row=reader.line_num) from None
        line = reader.line_num
        if not f or not any(x.strip() for x in f):
            continue
        if len(f) != n:
            raise FormatError(f"{len(f)} fields, expected {n} (truncated file?)", path=path, row=line)

        def g(c: str) -> str:
            return f[idx[c]].strip()

        def num(c: str, *, allow_negative: bool = False, optional: bool = False) -> float:
            s = g(c)
            if s == "" and optional:
                return np.nan
            if s == "":
                raise FormatError("empty where a number is required", path=path, row=line, column=c)
            rule = RULES["deribit"][_DERIBIT_RULE[c]] if c in _DERIBIT_RULE else None
            return _number(s, path, line, c, allow_negative=allow_negative, rule=rule)

        name = g("instrument_name")
        m = _DERIBIT_NAME.match(name)
        if m is None:
            raise FormatError(f"bad instrument_name {name[:60]!r}", path=path, row=line, column="instrument_name")
        if name in seen:
            raise DuplicateError(f"duplicate instrument {name}", path=path, row=line, column="instrument_name")
        seen.add(name)
        base, dstr, kstr, cp = m.groups()
        root = OPTION_ROOTS.get(base)
        if root is None:
            raise DataError(f"unknown Deribit currency {base!r}", path=path, row=line, column="instrument_name")
        right = {"call": "C", "put": "P"}.get(g("option_type"))
        if right != cp:
            raise DataError(f"{g('option_type')[:20]!r} disagrees with {name}", path=path, row=line, column="option_type")
        strike = num("strike")
        if abs(strike - float(kstr)) > 1e-9:
            raise DataError(f"strike {strike} disagrees with {name}", path=path, row=line, column="strike")
        try:
            expiry = root.expiry_instant(datetime.strptime(dstr.title(), "%d%b%y"))
        except ValueError:
            raise FormatError(f"invalid expiry date {dstr!r} in {name}", path=path, row=line,
                              column="instrument_name") from None
        exp_ms = num("expiration_timestamp")
        if int(exp_ms) != expiry.value // 1_000_000:
            raise DataError(
                f"expiration_timestamp {int(exp_ms)} is not {name}'s 08:00 UTC expiry {expiry}",
                path=path,
                row=line,
                column="expiration_timestamp",
            )
        ts_ms = num("timestamp")
        greeks = _literal(g("greeks"), path, line, "greeks", dict)
        stats = _literal(g("stats"), path, line, "stats", dict)
        bids = _ladder(_literal(g("bids"), path, line, "bids", list), path, line, "bids")
        asks = _ladder(_literal(g("asks"), path, line, "asks", list), path, line, "asks")
        bid, ask = num("best_bid_price"), num("best_ask_price")
        for side, ladder, best in (("bids", bids, bid), ("asks", asks, ask)):
            top = ladder[0][0] if ladder else 0.0
            if abs(top - best) > 1e-12:
                raise DataError(f"best price {best} is not the top of {side} {top}", path=path, row=line,
                                column=f"best_{side[:-1]}_price")
        bid_iv, ask_iv = num("bid_iv") / 100.0, num("ask_iv") / 100.0
        mark_iv = num("mark_iv") / 100.0
        out["root"].append(base)
        out["expiry"].append(expiry)
        out["strike"].append(strike)
        out["right"].append(right)
        out["bid"].append(bid)
        out["ask"].append(ask)
        out["last"].append(num("last_price", optional=True))
        out["vendor_iv"].append(mark_iv if mark_iv > 0 else np.nan)
        out["bid_size"].append(num("best_bid_amount"))
        out["ask_size"].append(num("best_ask_amount"))
        out["symbol"].append(name)
        vol = stats.get("volume")
        out["volume"].append(
            np.nan if vol is None else _literal_number(vol, path, line, "stats volume", RULES["deribit"]["volume"]))
        out["open_interest"].append(num("open_interest"))
        for k in ("delta", "gamma", "vega", "theta"):
            if k not in greeks:
                raise FormatError(f"greeks has no {k!r}", path=path, row=line, column="greeks")
            rule = RULES["deribit"]["delta" if k == "delta" else "greek"]
            out[f"vendor_{k}"].append(_literal_number(greeks[k], path, line, f"greeks {k}", rule))
        out["mark_price"].append(num("mark_price"))
        out["vendor_bid_iv"].append(bid_iv if bid > 0 and bid_iv > 0 else np.nan)
        out["vendor_ask_iv"].append(ask_iv if ask > 0 and ask_iv > 0 else np.nan)
        out["underlying_px"].append(num("underlying_price"))
        out["index_price"].append(num("index_price"))
        out["underlying_index"].append(g("underlying_index"))
        out["ts"].append(int(ts_ms))
        out["src_line"].append(line)
    if not out["root"]:
        raise FormatError("no instrument rows after the header (truncated file?)", path=path, row=1)
    df = pd.DataFrame(out)
    df["ts"] = pd.to_datetime(df["ts"], unit="ms", utc=True).dt.as_unit("ns")
    df["expiry"] = pd.DatetimeIndex(df["expiry"]).as_unit("ns")
    df["underlying"] = df["root"].map({r: OPTION_ROOTS[r].underlying for r in df["root"].unique()})
    df["settlement"] = "TWAP"
    df["settlement_type"] = "cash"
    df["exercise"] = "european"
    df["underlying_px_source"] = "vendor_future"
    df["quote_ccy"] = df["root"]
    df["crossed"] = (df["bid"] > 0) & (df["ask"] > 0) & (df["ask"] < df["bid"])
    df["vendor"] = "deribit"
    return df
