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

import csv
import io
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmlab.data._option_roots import NEW_YORK, OPTION_ROOTS, OptionRoot, _number
from mmlab.data._options_deribit import _load_deribit
from mmlab.data._validate import RULES, read_text
from mmlab.errors import ConfigError, DataError, DuplicateError, FormatError

__all__ = ["OPTION_CHAIN_COLUMNS", "OPTION_ROOTS", "OptionRoot", "load_option_chain"]


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
            (cp.to_numpy() != right, lambda i: f"symbol {sym.iloc[i]} in the {'Calls' if right == 'C' else 'Puts'} column"),  # noqa: B023 -- called within the iteration that binds it
            (sym_day.to_numpy() != exp_day.to_numpy(),
             lambda i: f"symbol {sym.iloc[i]} disagrees with expiration date {raw[0].iloc[i]!r}"),  # noqa: B023 -- called within the iteration that binds it
            (np.abs(k8.astype(np.int64).to_numpy() / 1000.0 - strike) > 1e-9,
             lambda i: f"symbol {sym.iloc[i]} disagrees with strike {strike[i]}"),  # noqa: B023 -- called within the iteration that binds it
            (~r.isin(list(OPTION_ROOTS)).to_numpy(),
             lambda i: f"unknown option root {r.iloc[i]!r} (known: {sorted(OPTION_ROOTS)})"),  # noqa: B023 -- called within the iteration that binds it
        ]  # fmt: skip
        if roots is not None:
            prev = roots  # narrowed to the calls' roots for the message below
            checks.append((r.to_numpy() != prev, lambda i: f"call and put roots differ: {prev[i]} vs {r.iloc[i]}"))  # noqa: B023 -- called within the iteration that binds it
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
