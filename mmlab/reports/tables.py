"""Tables a desk reads: formatted columns, only the rows that matter, the full table as CSV.

:func:`table` turns a DataFrame into a :class:`Table` that a notebook displays as HTML: every
column through a formatter (vols in %, prices at the instrument's tick precision, counts and
large numbers with thousands separators, missing values as a dash, never ``NaN``), at most
``rows`` rows shown, and a link that downloads the full, unformatted table as CSV from a
``data:`` URI inside the page (no file beside the report, no network).

Formatters are callables ``value -> str``; :func:`table` also takes these names:

========== ============================================== ==================
name       what                                           ``0.085185`` gives
========== ============================================== ==================
``pct``    a fraction shown in percent (vols, shares)     ``8.52 %``
``int``    a count, thousands separators                  ``0``
``num``    4 significant digits, thousands separators     ``0.08519``
``bps``    basis points, 2 decimals                       ``0.09``
``text``   ``str(value)``                                 ``0.085185``
``bool``   yes / no                                       ``yes``
``time``   a UTC timestamp to the millisecond             (timestamps)
``duration`` a time span in words                         (timedeltas)
========== ============================================== ==================

:func:`price` gives the formatter of an instrument's prices from its tick size.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from mmlab.errors import ConfigError

__all__ = [
    "DASH",
    "Table",
    "csv_data_uri",
    "fmt_duration",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "fmt_time",
    "pct",
    "price",
    "table",
    "tick_decimals",
]

#: What a missing value (None, NaN, NaT, pd.NA) shows as.
DASH = "\u2013"

Formatter = Callable[[Any], str]


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _guard(fn: Callable[[Any], str]) -> Formatter:
    def f(x: Any) -> str:
        if _missing(x):
            return DASH
        if isinstance(x, float | np.floating) and not math.isfinite(float(x)):
            return "\u221e" if x > 0 else "-\u221e"
        return fn(x)

    f.__name__ = getattr(fn, "__name__", "formatter")
    return f


def tick_decimals(tick: float) -> int:
    """Decimals needed to write every multiple of ``tick`` exactly.

    Examples
    --------
    >>> [tick_decimals(t) for t in (0.01, 0.1, 0.5, 0.05, 0.0005, 1, 0.25)]
    [2, 1, 1, 2, 4, 0, 2]
    """
    if not (isinstance(tick, int | float) and math.isfinite(tick) and tick > 0):
        raise ConfigError(f"tick: expected a positive finite number, got {tick!r}")
    exp = Decimal(repr(float(tick))).normalize().as_tuple().exponent
    return max(0, -int(exp))


def price(tick: float) -> Formatter:
    """The formatter of prices quoted in steps of ``tick``: that many decimals, thousands separators.

    Examples
    --------
    >>> price(0.1)(61234.56), price(0.05)(3.1), price(0.0005)(0.0123)
    ('61,234.6', '3.10', '0.0123')
    """
    d = tick_decimals(tick)
    return _guard(lambda x: f"{float(x):,.{d}f}")


def pct(decimals: int = 2) -> Formatter:
    """A fraction in percent: ``pct(1)(0.085185) == '8.5 %'``."""
    return _guard(lambda x: f"{100 * float(x):,.{decimals}f} %")


def fmt_pct(x: Any, decimals: int = 2) -> str:
    """A fraction in percent.

    Examples
    --------
    >>> fmt_pct(0.085185), fmt_pct(0.315085, 1), fmt_pct(None)
    ('8.52 %', '31.5 %', '–')
    """
    return pct(decimals)(x)


@_guard
def fmt_int(x: Any) -> str:
    """A count with thousands separators (rounded to an integer).

    Examples
    --------
    >>> fmt_int(1234567), fmt_int(float("nan"))
    ('1,234,567', '–')
    """
    return f"{round(float(x)):,d}"


def fmt_num(x: Any, sig: int = 4) -> str:
    """A number to ``sig`` significant digits with thousands separators (no exponent between
    1e-4 and 1e15).

    Examples
    --------
    >>> [fmt_num(v) for v in (1584.875524, -25.288107, 0.0165612, 3e-07, 0.0, None)]
    ['1,585', '-25.29', '0.01656', '3.000e-07', '0', '–']
    """
    if _missing(x):
        return DASH
    v = float(x)
    if not math.isfinite(v):
        return "\u221e" if v > 0 else "-\u221e"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag < -4 or mag >= 15:
        return f"{v:.{sig - 1}e}"
    decimals = max(0, sig - 1 - mag)
    return f"{v:,.{decimals}f}"


def fmt_duration(x: Any) -> str:
    """A time span in words: a ``Timedelta``, or nanoseconds.

    Examples
    --------
    >>> fmt_duration(pd.Timedelta("0 days 00:10:50.401")), fmt_duration(5 * 60 * 10**9 + 45 * 10**9)
    ('10 min 50.4 s', '5 min 45 s')
    >>> fmt_duration(pd.Timedelta(hours=6, minutes=30)), fmt_duration(0.25e9), fmt_duration(3 * 86400e9)
    ('6 h 30 min', '250 ms', '3 d 0 h')
    """
    if _missing(x):
        return DASH
    ns = x.value if isinstance(x, pd.Timedelta) else float(x)
    s = ns / 1e9
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s < 1e-3:
        return f"{sign}{s * 1e6:.3g} \u00b5s"
    if s < 1:
        return f"{sign}{s * 1e3:.3g} ms"
    if s < 60:
        return f"{sign}{s:.3g} s"
    if s < 3600:
        m, r = divmod(s, 60)
        r = round(r, 1)
        rs = f"{r:.0f}" if r == int(r) else f"{r:.1f}"
        return f"{sign}{int(m)} min {rs} s"
    if s < 86400:
        h, r = divmod(round(s / 60), 60)
        return f"{sign}{int(h)} h {int(r)} min"
    d, r = divmod(round(s / 3600), 24)
    return f"{sign}{int(d)} d {int(r)} h"


def fmt_time(x: Any) -> str:
    """A timestamp (UTC when naive) to the millisecond, without trailing zero fractions.

    Examples
    --------
    >>> fmt_time(pd.Timestamp("2024-08-08 23:54:16.313401", tz="UTC")), fmt_time(pd.Timestamp("2023-09-14"))
    ('2024-08-08 23:54:16.313 UTC', '2023-09-14 00:00 UTC')
    """
    if _missing(x):
        return DASH
    t = pd.Timestamp(x)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    if t.microsecond == 0 and t.nanosecond == 0 and t.second == 0:
        return t.strftime("%Y-%m-%d %H:%M UTC")
    if t.microsecond == 0 and t.nanosecond == 0:
        return t.strftime("%Y-%m-%d %H:%M:%S UTC")
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} UTC"


_NAMED: dict[str, Formatter] = {
    "pct": pct(),
    "int": fmt_int,
    "num": _guard(fmt_num),
    "bps": _guard(lambda x: f"{float(x):,.2f}"),
    "text": _guard(str),
    "bool": _guard(lambda x: "yes" if bool(x) else "no"),
    "time": fmt_time,
    "duration": fmt_duration,
}


def _formatter(spec: str | Formatter, column: str) -> Formatter:
    if callable(spec):
        return _guard(spec)
    if spec not in _NAMED:
        raise ConfigError(f"formats[{column!r}]: expected a callable or one of {', '.join(_NAMED)}, got {spec!r}")
    return _NAMED[spec]


def _auto(s: pd.Series) -> Formatter:
    if pd.api.types.is_bool_dtype(s):
        return _NAMED["bool"]
    if pd.api.types.is_integer_dtype(s):
        return fmt_int
    if pd.api.types.is_float_dtype(s):
        return _NAMED["num"]
    if pd.api.types.is_datetime64_any_dtype(s):
        return fmt_time
    if pd.api.types.is_timedelta64_dtype(s):
        return fmt_duration
    return _NAMED["text"]


def csv_data_uri(df: pd.DataFrame, index: bool = False) -> str:
    """The table as a ``data:text/csv`` URI (UTF-8, base64): full precision, ISO times."""
    text = df.to_csv(index=index, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def _csv_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "table"
    return stem if stem.endswith(".csv") else f"{stem}.csv"


_NUMERIC = re.compile(r"^[-+\u2212]?[\d,]*\.?\d+(e[-+]?\d+)?( %| bps)?$|^\u2013$|^-?\u221e$")


def _align(values: list[str]) -> str:
    """``right`` for a column of numbers (dashes allowed), else ``left``."""
    real = [v for v in values if v != DASH]
    return "right" if real and all(_NUMERIC.match(v.strip()) for v in real) else "left"


def _html_table(shown: pd.DataFrame, index: bool) -> str:
    """A plain ``<table>``: numbers right-aligned, text left-aligned, everything escaped."""
    cols = list(shown.columns)
    aligns = [_align([str(v) for v in shown[c].tolist()]) for c in cols]
    esc = html.escape
    head = "".join(f'<th style="text-align:{a}">{esc(str(c))}</th>' for c, a in zip(cols, aligns, strict=True))
    if index:
        head = f'<th style="text-align:left">{esc(str(shown.index.name or ""))}</th>' + head
    body = []
    for i, row in zip(shown.index, shown.itertuples(index=False), strict=True):
        cells = "".join(f'<td style="text-align:{a}">{esc(str(v))}</td>' for v, a in zip(row, aligns, strict=True))
        if index:
            cells = f'<th style="text-align:left">{esc(str(i))}</th>' + cells
        body.append(f"<tr>{cells}</tr>")
    return f'<table border="0"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


class Table:
    """A formatted table with a CSV download of the full data (see :func:`table`)."""

    def __init__(self, shown: pd.DataFrame, full: pd.DataFrame, csv: str | None, caption: str | None,
                 index: bool, note: str | None, total_rows: int | None = None):
        self.shown, self.full, self.csv, self.caption, self.index, self.note = shown, full, csv, caption, index, note
        self.total_rows = len(full) if total_rows is None else total_rows

    def _repr_html_(self) -> str:
        parts = ['<div class="mmlab-table">']
        if self.caption:
            parts.append(f'<p class="mmlab-table-caption" style="margin:0.6em 0 0.3em 0"><b>{html.escape(self.caption)}</b></p>')
        parts.append(_html_table(self.shown, self.index))
        bits = []
        n, m = self.full.shape
        if len(self.shown) < self.total_rows:
            bits.append(f"Showing {len(self.shown):,} of {self.total_rows:,} rows.")
        if self.note:
            bits.append(html.escape(self.note))
        if self.csv:
            bits.append(
                f'<a class="mmlab-csv" download="{html.escape(self.csv)}" href="{csv_data_uri(self.full, self.index)}">'
                f"Download the full table (CSV, {n:,} rows \u00d7 {m + (1 if self.index else 0):,} columns)</a>"
            )
        if bits:
            parts.append(f'<p class="mmlab-table-note" style="font-size:90%;margin:0.3em 0 1em 0">{" ".join(bits)}</p>')
        parts.append("</div>")
        return "".join(parts)

    def __repr__(self) -> str:
        return self.shown.to_string(index=self.index)


def table(
    df: pd.DataFrame | pd.Series,
    formats: Mapping[str, str | Formatter] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
    rows: int | None = 20,
    csv: str | None = "table.csv",
    caption: str | None = None,
    index: bool = False,
    note: str | None = None,
    full: pd.DataFrame | pd.Series | None = None,
) -> Table:
    """A DataFrame as a formatted :class:`Table` (displayed as HTML in a notebook).

    Parameters
    ----------
    df : DataFrame or Series
        The full data (what the CSV link downloads, unformatted).
    formats : mapping, optional
        Column -> formatter (a callable or a name of the module's table); other columns are
        formatted by dtype (counts, 4 significant digits, yes/no, times, durations).
    labels : mapping, optional
        Column -> header shown (the CSV keeps the original names).
    columns : list of str, optional
        The columns shown (default: all); the CSV has every column.
    rows : int or None
        At most this many rows shown (the first ones); None: all.
    csv : str or None
        File name offered for the CSV download; None: no link.
    caption, note : str, optional
        A bold line above, a sentence below.
    index : bool
        Show (and export) the index.
    full : DataFrame or Series, optional
        What the CSV link downloads when it differs from ``df`` (e.g. raw figures behind a table
        of pre-formatted ones).

    Examples
    --------
    >>> t = table(pd.DataFrame({"vol": [0.085185, float("nan")], "n": [1234, 5]}), {"vol": "pct"})
    >>> t.shown.to_dict("list")
    {'vol': ['8.52 %', '–'], 'n': ['1,234', '5']}
    >>> "data:text/csv;charset=utf-8;base64," in t._repr_html_()
    True
    """
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"df: expected a DataFrame or Series, got {type(df).__name__}")
    formats = dict(formats or {})
    cols = list(columns) if columns is not None else list(frame.columns)
    missing = [c for c in [*cols, *formats] if c not in frame.columns]
    if missing:
        raise ConfigError(f"columns: not in the table: {missing} (it has {list(frame.columns)})")
    if rows is not None and rows < 1:
        raise ConfigError(f"rows: expected a positive count or None, got {rows!r}")
    part = frame[cols] if rows is None else frame[cols].head(rows)
    shown = pd.DataFrame(index=part.index)
    for c in cols:
        f = _formatter(formats[c], c) if c in formats else _auto(frame[c])
        shown[c] = [f(v) for v in part[c].tolist()]
    if index:
        shown.index = [str(i) if not _missing(i) else DASH for i in part.index]
        shown.index.name = frame.index.name
    if labels:
        shown = shown.rename(columns=dict(labels))
    export = full if full is not None else frame
    export = export.to_frame() if isinstance(export, pd.Series) else export
    return Table(shown, export, _csv_name(csv) if csv else None, caption, index, note, len(frame))
